/* The importer's shared machinery: node inputs and outputs, steps, views and folding. */
#include "graph/executor.h"
#include "graph/import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sv_status im_fail(importer *im, sv_status status, const char *fmt, ...) {
    char text[sizeof im->err->text];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const Onnx__NodeProto *n = im->node->proto;
    return sv_fail_message(im->err, status, "node '%s' (%s): %s", graph_node_label(n), n->op_type,
                           text);
}

int im_input_count(const importer *im) {
    return im->node->ninputs;
}

int im_input_id(importer *im, int k) {
    return k < im->node->ninputs ? im->node->inputs[k] : -1;
}

plan_value *im_input(importer *im, int k) {
    int id = im_input_id(im, k);
    return id >= 0 ? &im->pl->values[id] : NULL;
}

sv_status im_require(importer *im, int k, plan_value **out) {
    plan_value *v = im_input(im, k);
    if (!v)
        return im_fail(im, SV_INVALID_ARGUMENT, "input %d is missing", k + 1);
    *out = v;
    return SV_OK;
}

sv_status im_require_const(importer *im, int k, const hostconst **out) {
    plan_value *v = NULL;
    sv_status st = im_require(im, k, &v);
    if (st != SV_OK)
        return st;
    if (!v->constant)
        return im_fail(im, SV_UNSUPPORTED,
                       "input %d ('%s') must be a constant (an initializer or computed from "
                       "shapes), not a tensor computed at run time",
                       k + 1, im->g->values[im_input_id(im, k)].name);
    *out = v->constant;
    return SV_OK;
}

int im_output_id(const importer *im, int k) {
    return k < im->node->noutputs ? im->node->outputs[k] : -1;
}

sv_status im_unused_outputs_from(importer *im, int k) {
    for (int j = k; j < im->node->noutputs; j++)
        if (im->node->outputs[j] >= 0)
            return im_fail(im, SV_UNSUPPORTED, "output %d ('%s') is not supported", j + 1,
                           im->g->values[im->node->outputs[j]].name);
    return SV_OK;
}

/* Whether `count` more computed elements stay within the plan's fold limit; counts them if so. */
static int fold_budget_take(plan *pl, int64_t count) {
    if (count < 0 || count > pl->fold_limit - pl->folded_elements)
        return 0;
    pl->folded_elements += count;
    return 1;
}

sv_status im_const_new(importer *im, hc_type type, int rank, const int64_t *dims, hostconst **out) {
    const int64_t count = hc_product(rank, dims);
    if (!fold_budget_take(im->pl, count)) {
        char shape[256];
        sv_dims_format(shape, sizeof shape, rank, dims);
        return im_fail(im, SV_UNSUPPORTED,
                       "it would compute a constant of shape %s while loading, past the limit of "
                       "%lld elements for such constants",
                       shape, (long long)im->pl->fold_limit);
    }
    hostconst *c = hc_new(type, rank, dims);
    if (!c)
        return im_fail(im, SV_OUT_OF_MEMORY, "out of host memory");
    *out = c;
    return SV_OK;
}

sv_status im_set_const(importer *im, int k, hostconst *c) {
    int id = im_output_id(im, k);
    if (!c)
        return im_fail(im, SV_OUT_OF_MEMORY, "out of host memory (or a size overflow) folding it");
    if (id < 0) {
        hc_free(c);
        return SV_OK;
    }
    plan_value *v = &im->pl->values[id];
    v->constant = c;
    v->borrowed = 0;
    v->rank = c->rank;
    memcpy(v->dims, c->dims, sizeof v->dims);
    return SV_OK;
}

int im_new_value(importer *im, int rank, const int64_t *dims) {
    return plan_new_value(im->pl, rank, dims);
}

step *im_add_step(importer *im, step_kind kind, const char *op, const int *inputs, int ninputs,
                  int output, int rank, const int64_t *dims) {
    plan *pl = im->pl;
    const int64_t count = hc_product(rank, dims);
    if (count < 0 || count > PLAN_MAX_ELEMENTS) {
        char shape[256];
        sv_dims_format(shape, sizeof shape, rank, dims);
        im_fail(im, SV_OUT_OF_MEMORY, /* callers return SV_OUT_OF_MEMORY for a NULL step */
                "its output of shape %s has more than %lld elements, the limit for a tensor of a "
                "model",
                shape, (long long)PLAN_MAX_ELEMENTS);
        return NULL;
    }
    if (pl->nsteps == pl->step_capacity) {
        int cap = pl->step_capacity ? pl->step_capacity * 2 : 64;
        step *bigger = realloc(pl->steps, (size_t)cap * sizeof *bigger);
        if (!bigger) {
            im_fail(im, SV_OUT_OF_MEMORY, "out of host memory");
            return NULL;
        }
        pl->steps = bigger;
        pl->step_capacity = cap;
    }
    step *s = &pl->steps[pl->nsteps];
    memset(s, 0, sizeof *s);
    s->inputs = malloc((size_t)(ninputs ? ninputs : 1) * sizeof *s->inputs);
    if (!s->inputs) {
        im_fail(im, SV_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    memcpy(s->inputs, inputs, (size_t)ninputs * sizeof *inputs);
    if (output < 0 && (output = im_new_value(im, rank, dims)) < 0) { /* an unused output */
        free(s->inputs);
        im_fail(im, SV_OUT_OF_MEMORY, "too many intermediate values");
        return NULL;
    }
    s->ninputs = ninputs;
    s->kind = kind;
    s->output = output;
    s->indices = -1;
    snprintf(s->op, sizeof s->op, "%s", op);
    const Onnx__NodeProto *n = im->node->proto;
    snprintf(s->name, sizeof s->name, "%s", graph_node_label(n));
    plan_value *out = &pl->values[output];
    out->rank = rank;
    memcpy(out->dims, dims, (size_t)rank * sizeof *dims);
    out->device = 1;
    out->producer = pl->nsteps;
    pl->nsteps++;
    return s;
}

step *im_add_node_step(importer *im, step_kind kind, const char *op, int ninputs, int rank,
                       const int64_t *dims) {
    int *inputs = malloc((size_t)(ninputs ? ninputs : 1) * sizeof *inputs);
    if (!inputs) {
        im_fail(im, SV_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    for (int k = 0; k < ninputs; k++)
        inputs[k] = im_input_id(im, k);
    step *s = im_add_step(im, kind, op, inputs, ninputs, im_output_id(im, 0), rank, dims);
    free(inputs);
    return s;
}

/* Uploads a constant to a reference-context tensor (a scalar becomes [1]). */
static sv_status const_tensor(sv_context *ctx, const hostconst *c, sv_tensor **out) {
    const int64_t one = 1;
    sv_host_view view = sv_host_view_make(c->f, c->rank ? c->rank : 1, c->rank ? c->dims : &one);
    return sv_tensor_from_host(ctx, &view, out);
}

sv_status im_fold_if_constant(importer *im, step *s) {
    plan *pl = im->pl;
    for (int k = 0; k < s->ninputs; k++) {
        if (s->inputs[k] < 0)
            continue;
        const hostconst *c = pl->values[s->inputs[k]].constant;
        if (!c)
            return SV_OK; /* a real step */
        if (c->type != HC_F32)
            return im_fail(im, SV_UNSUPPORTED,
                           "input %d is an integer tensor; this op computes on floats", k + 1);
    }
    /* every input is a float constant: evaluate now, on the host, unless that is too much work
     * or memory for loading (then the step stays and runs with the model) */
    plan_value *ov = &pl->values[s->output];
    if (s->macs < 0 || s->macs > PLAN_FOLD_MAX_MACS ||
        !fold_budget_take(pl, hc_product(ov->rank, ov->dims)))
        return SV_OK;
    int n = s->ninputs;
    sv_tensor **in = calloc((size_t)(n ? n : 1), sizeof *in), *out = NULL;
    hostconst *result = hc_new(HC_F32, ov->rank, ov->dims);
    sv_status st = in && result ? SV_OK : SV_OUT_OF_MEMORY;
    for (int k = 0; st == SV_OK && k < n; k++)
        if (s->inputs[k] >= 0)
            st = const_tensor(im->host, pl->values[s->inputs[k]].constant, &in[k]);
    if (st == SV_OK)
        st = sv_tensor_create(im->host, ov->rank, ov->dims, &out);
    if (st == SV_OK)
        st = step_run(im->host, s, in, out, NULL, NULL);
    if (st == SV_OK)
        st = sv_tensor_download(out, result->f, result->count);
    if (st != SV_OK)
        st = im_fail(im, st, "folding it on constants failed: %s", sv_last_error(im->host));
    for (int k = 0; in && k < n; k++)
        sv_tensor_release(in[k]);
    free(in);
    sv_tensor_release(out);
    if (st != SV_OK) {
        hc_free(result);
        return st;
    }
    /* drop the step (it is the last one) and keep the value as a constant */
    free(s->inputs);
    pl->nsteps--;
    ov->device = 0;
    ov->producer = -1;
    ov->constant = result;
    ov->borrowed = 0;
    return SV_OK;
}

sv_status im_view(importer *im, int input, int output, int rank, const int64_t *dims) {
    if (output < 0)
        return SV_OK;
    plan_value *in = &im->pl->values[input];
    if (hc_product(rank, dims) != hc_product(in->rank, in->dims))
        return im_fail(im, SV_SHAPE_MISMATCH, "cannot view %lld elements as %lld",
                       (long long)hc_product(in->rank, in->dims),
                       (long long)hc_product(rank, dims));
    if (in->constant) {
        hostconst *c = NULL;
        sv_status st = im_const_new(im, in->constant->type, rank, dims, &c);
        if (st != SV_OK)
            return st;
        if (c->type == HC_F32)
            memcpy(c->f, in->constant->f, (size_t)c->count * sizeof *c->f);
        else
            memcpy(c->i, in->constant->i, (size_t)c->count * sizeof *c->i);
        plan_value *out = &im->pl->values[output];
        out->constant = c;
        out->borrowed = 0;
        out->rank = rank;
        memcpy(out->dims, dims, (size_t)rank * sizeof *dims);
        return SV_OK;
    }
    if (rank < 1)
        return im_fail(im, SV_UNSUPPORTED, "a computed tensor cannot become a scalar");
    const Onnx__NodeProto *n = im->node->proto;
    return im_add_step(im, STEP_VIEW, n->op_type, &input, 1, output, rank, dims) ? SV_OK
                                                                                 : SV_OUT_OF_MEMORY;
}

int im_axis(importer *im, int64_t axis, int rank, const char *what) {
    if (axis < -rank || axis >= rank) {
        im_fail(im, SV_INVALID_ARGUMENT, "%s %lld is out of range for rank %d", what,
                (long long)axis, rank);
        return -1;
    }
    return (int)(axis < 0 ? axis + rank : axis);
}
