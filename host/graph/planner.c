/* The planner: ONNX nodes to steps for one batch size, fusion, then activation buffers by
 * liveness. */
#include "graph/import.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int plan_new_value(plan *pl, int rank, const int64_t *dims) {
    if (pl->nvalues == pl->capacity)
        return -1;
    plan_value *v = &pl->values[pl->nvalues];
    memset(v, 0, sizeof *v);
    v->rank = rank;
    if (rank)
        memcpy(v->dims, dims, (size_t)rank * sizeof *dims);
    v->root = pl->nvalues;
    v->producer = -1;
    v->buffer = -1;
    return pl->nvalues++;
}

static const import_entry *find_translator(const char *op_type) {
    const import_entry *tables[2] = {import_nn_table, import_tensor_table};
    for (int t = 0; t < 2; t++)
        for (const import_entry *e = tables[t]; e->op_type; e++)
            if (strcmp(e->op_type, op_type) == 0)
                return e;
    return NULL;
}

static sv_status init_values(const graph *g, int64_t batch, plan *pl, sv_message *err) {
    pl->capacity = g->nvalues + 8 * g->nnodes + 64;
    pl->values = calloc((size_t)pl->capacity, sizeof *pl->values);
    if (!pl->values)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "plan: out of host memory");
    for (int i = 0; i < g->nvalues; i++) {
        plan_new_value(pl, 0, NULL);
        plan_value *v = &pl->values[i];
        const graph_value *gv = &g->values[i];
        if (gv->initializer) {
            v->constant = gv->initializer;
            v->borrowed = 1;
            v->rank = gv->initializer->rank;
            memcpy(v->dims, gv->initializer->dims, sizeof v->dims);
        } else if (gv->is_input) {
            v->rank = gv->rank;
            memcpy(v->dims, gv->dims, sizeof v->dims);
            if (gv->batch_symbolic)
                v->dims[0] = batch;
            v->device = 1;
            const int64_t count = hc_product(v->rank, v->dims);
            if (count < 0 || count > PLAN_MAX_ELEMENTS) {
                char shape[256];
                sv_dims_format(shape, sizeof shape, v->rank, v->dims);
                return sv_fail_message(err, SV_OUT_OF_MEMORY,
                                       "graph input '%s' of shape %s has more than %lld elements, "
                                       "the limit for a tensor of a model",
                                       gv->name, shape, (long long)PLAN_MAX_ELEMENTS);
            }
        }
    }
    return SV_OK;
}

/* Each value's root: itself, or for a view the root of what it views. */
static void resolve_roots(plan *pl) {
    for (int i = 0; i < pl->nvalues; i++)
        pl->values[i].root = i;
    for (int k = 0; k < pl->nsteps; k++) {
        const step *s = &pl->steps[k];
        if (s->kind == STEP_VIEW)
            pl->values[s->output].root = pl->values[s->inputs[0]].root;
    }
}

/* Drops the steps the passes removed and renumbers producers. */
static void compact_steps(plan *pl) {
    int kept = 0;
    for (int k = 0; k < pl->nsteps; k++) {
        if (pl->steps[k].removed) {
            free(pl->steps[k].inputs);
            continue;
        }
        pl->steps[kept] = pl->steps[k];
        pl->values[pl->steps[kept].output].producer = kept;
        if (pl->steps[kept].indices >= 0)
            pl->values[pl->steps[kept].indices].producer = kept;
        kept++;
    }
    pl->nsteps = kept;
}

/* Assigns every device root a buffer: walking the steps in order, a root takes a free buffer
 * (the smallest that fits, else the largest, grown) when it is produced and gives it back after
 * its last reader. Buffer sizes are recorded in elements; tensors are made by the model. */
static sv_status assign_buffers(plan *pl, int keep_intermediates, int64_t **sizes_out,
                                sv_message *err) {
    const int n = pl->nvalues;
    for (int i = 0; i < n; i++)
        pl->values[i].last_use = -1;
    for (int k = 0; k < pl->nsteps; k++)
        for (int j = 0; j < pl->steps[k].ninputs; j++)
            if (pl->steps[k].inputs[j] >= 0) {
                plan_value *r = &pl->values[pl->values[pl->steps[k].inputs[j]].root];
                if (r->last_use < k)
                    r->last_use = k;
            }
    for (int i = 0; i < n; i++)
        if (pl->values[i].graph_output || keep_intermediates)
            pl->values[pl->values[i].root].last_use = INT_MAX;
    int64_t *sizes = calloc((size_t)n + 1, sizeof *sizes);
    char *busy = calloc((size_t)n + 1, 1);
    if (!sizes || !busy) {
        free(sizes);
        free(busy);
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "plan: out of host memory");
    }
    int nbuffers = 0;
    /* step -1 places the graph inputs */
    for (int k = -1; k < pl->nsteps; k++) {
        for (int i = 0; i < n; i++) {
            plan_value *v = &pl->values[i];
            if (!v->device || v->root != i || v->producer != k || v->buffer >= 0)
                continue;
            if (k == -1 && v->constant)
                continue;
            const int64_t need = hc_product(v->rank, v->dims);
            int fits = -1, largest = -1;
            for (int b = 0; b < nbuffers; b++) {
                if (busy[b])
                    continue;
                if (sizes[b] >= need && (fits < 0 || sizes[b] < sizes[fits]))
                    fits = b;
                if (largest < 0 || sizes[b] > sizes[largest])
                    largest = b;
            }
            int best = fits >= 0 ? fits : largest >= 0 ? largest : nbuffers++;
            if (sizes[best] < need)
                sizes[best] = need;
            busy[best] = 1;
            v->buffer = best;
        }
        for (int i = 0; i < n; i++) {
            plan_value *v = &pl->values[i];
            if (v->device && v->root == i && v->buffer >= 0 &&
                (v->last_use == k || (v->last_use < 0 && v->producer == k)))
                busy[v->buffer] = 0;
        }
    }
    free(busy);
    pl->nbuffers = nbuffers;
    pl->peak_activation_bytes = 0;
    for (int b = 0; b < nbuffers; b++)
        pl->peak_activation_bytes += sizes[b] * (int64_t)sizeof(float);
    *sizes_out = sizes;
    return SV_OK;
}

sv_status plan_build(const graph *g, int64_t batch, sv_context *host, int keep_intermediates,
                     const plan_hooks *hooks, plan *pl, sv_message *err) {
    memset(pl, 0, sizeof *pl);
    pl->batch = batch;
    if (batch < 1 || batch > INT32_MAX) /* a tensor dimension, which kernels index with int */
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "batch %lld is outside 1..%d",
                               (long long)batch, INT32_MAX);
    int64_t weights = 0; /* the fold limit: twice the initializers' elements, or the minimum */
    for (int i = 0; i < g->nvalues; i++)
        if (g->values[i].initializer)
            weights += g->values[i].initializer->count;
    pl->fold_limit = weights > PLAN_FOLD_MIN_ELEMENTS / 2 ? 2 * weights : PLAN_FOLD_MIN_ELEMENTS;
    sv_status st = init_values(g, batch, pl, err);
    importer im = {g, pl, host, NULL, err};
    for (int n = 0; st == SV_OK && n < g->nnodes; n++) {
        im.node = &g->nodes[n];
        const Onnx__NodeProto *node = im.node->proto;
        const import_entry *e = find_translator(node->op_type);
        if (!e)
            st = sv_fail_message(err, SV_UNSUPPORTED, "node '%s': op '%s' is not supported",
                                 graph_node_label(node), node->op_type);
        else if ((st = attr_check_known(node, e->attributes, err)) == SV_OK)
            st = e->translate(&im);
    }
    for (int k = 0; st == SV_OK && k < g->noutputs; k++) {
        plan_value *v = &pl->values[g->outputs[k]];
        v->graph_output = 1;
        if (!v->device && !v->constant)
            st = sv_fail_message(err, SV_INVALID_ARGUMENT, "graph output '%s' is never computed",
                                 g->values[g->outputs[k]].name);
        /* like a graph input with a 0 dimension, which the loader refuses: the API's callers
         * size their output buffers from these dimensions (a Shape sliced past its rank, say) */
        for (int d = 0; st == SV_OK && d < v->rank; d++)
            if (v->dims[d] < 1)
                st = sv_fail_message(err, SV_UNSUPPORTED,
                                     "graph output '%s': dimension %d is %lld (empty tensors are "
                                     "not supported)",
                                     g->values[g->outputs[k]].name, d, (long long)v->dims[d]);
    }
    if (st == SV_OK)
        st = plan_fuse(pl, hooks, err);
    if (st == SV_OK) {
        compact_steps(pl);
        resolve_roots(pl);
        int64_t *sizes = NULL;
        st = assign_buffers(pl, keep_intermediates, &sizes, err);
        if (st == SV_OK) {
            pl->buffers = calloc((size_t)pl->nbuffers + 1, sizeof *pl->buffers);
            pl->buffer_sizes = sizes;
            if (!pl->buffers)
                st = sv_fail_message(err, SV_OUT_OF_MEMORY, "plan: out of host memory");
        }
    }
    if (st != SV_OK)
        plan_free(pl);
    return st;
}

void plan_free(plan *pl) {
    for (int i = 0; i < pl->nvalues; i++) {
        if (!pl->values[i].borrowed)
            hc_free(pl->values[i].constant);
        if (pl->values[i].owns_tensor)
            sv_tensor_release(pl->values[i].tensor);
    }
    for (int k = 0; k < pl->nsteps; k++)
        free(pl->steps[k].inputs);
    for (int b = 0; b < pl->nbuffers && pl->buffers; b++)
        sv_tensor_release(pl->buffers[b]);
    free(pl->buffers);
    free(pl->buffer_sizes);
    free(pl->values);
    free(pl->steps);
    memset(pl, 0, sizeof *pl);
}
