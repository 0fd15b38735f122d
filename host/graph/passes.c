/* Fusion passes over a plan: BatchNorm folded into the preceding Conv's weights, a pure spatial
 * Pad folded into the following Conv's index math, an activation fused into the Conv,
 * ConvTranspose, Gemm or BatchNorm before it, and a 2x2 max pool into the Conv before it (where
 * the device computes the fused Conv with the algorithm it would take for the Conv alone). Each
 * applies only where the intermediate value has no other reader and is not a graph output. */
#include "graph/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int *count_uses(const plan *pl) {
    int *uses = calloc((size_t)pl->nvalues + 1, sizeof *uses);
    if (!uses)
        return NULL;
    for (int k = 0; k < pl->nsteps; k++) {
        if (pl->steps[k].removed)
            continue;
        for (int j = 0; j < pl->steps[k].ninputs; j++)
            if (pl->steps[k].inputs[j] >= 0)
                uses[pl->steps[k].inputs[j]]++;
    }
    for (int i = 0; i < pl->nvalues; i++)
        if (pl->values[i].graph_output)
            uses[i]++;
    return uses;
}

/* The only step reading value v, or NULL. */
static step *sole_reader(plan *pl, const int *uses, int v) {
    if (v < 0 || uses[v] != 1)
        return NULL;
    for (int k = 0; k < pl->nsteps; k++) {
        step *s = &pl->steps[k];
        if (s->removed)
            continue;
        for (int j = 0; j < s->ninputs; j++)
            if (s->inputs[j] == v)
                return s;
    }
    return NULL;
}

static const hostconst *f32_const(const plan *pl, int v) {
    const hostconst *c = v >= 0 ? pl->values[v].constant : NULL;
    return c && c->type == HC_F32 ? c : NULL;
}

/* The consumer takes over the producer's output. */
static void absorb(plan *pl, step *producer, step *consumer, const char *suffix) {
    producer->output = consumer->output;
    pl->values[consumer->output].producer = (int)(producer - pl->steps);
    consumer->removed = 1;
    char op[sizeof producer->op];
    snprintf(op, sizeof op, "%.23s+%.23s", producer->op, suffix);
    memcpy(producer->op, op, sizeof op);
}

/* w'[o] = w[o] * k[o], b'[o] = (b[o] - mean[o]) * k[o] + beta[o], k = gamma / sqrt(var + eps). */
static sv_status fold_batch_norm(plan *pl, step *conv, step *bn, sv_message *err) {
    const hostconst *w = f32_const(pl, conv->inputs[1]);
    const hostconst *b = conv->inputs[2] >= 0 ? f32_const(pl, conv->inputs[2]) : NULL;
    const hostconst *gamma = f32_const(pl, bn->inputs[1]), *beta = f32_const(pl, bn->inputs[2]);
    const hostconst *mean = f32_const(pl, bn->inputs[3]), *var = f32_const(pl, bn->inputs[4]);
    if (!w || (conv->inputs[2] >= 0 && !b) || !gamma || !beta || !mean || !var)
        return SV_OK; /* something is computed at run time: leave both steps */
    const int64_t outs = w->dims[0], per_out = w->count / outs;
    int wid = plan_new_value(pl, w->rank, w->dims), bid = plan_new_value(pl, 1, &outs);
    if (wid < 0 || bid < 0)
        return SV_OK;
    hostconst *nw = hc_new(HC_F32, w->rank, w->dims), *nb = hc_new(HC_F32, 1, &outs);
    if (!nw || !nb) {
        hc_free(nw);
        hc_free(nb);
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "plan: out of host memory");
    }
    for (int64_t o = 0; o < outs; o++) {
        const double k = gamma->f[o] / sqrt((double)var->f[o] + bn->p.batch_norm.epsilon);
        for (int64_t j = 0; j < per_out; j++)
            nw->f[o * per_out + j] = (float)(w->f[o * per_out + j] * k);
        nb->f[o] = (float)(((b ? b->f[o] : 0.0) - mean->f[o]) * k + beta->f[o]);
    }
    pl->values[wid].constant = nw;
    pl->values[bid].constant = nb;
    conv->inputs[1] = wid;
    conv->inputs[2] = bid;
    absorb(pl, conv, bn, "BatchNormalization");
    return SV_OK;
}

/* A Pad on the spatial axes only, read only by a Conv, becomes the Conv's padding. */
static void fold_pad(plan *pl, step *pad, step *conv) {
    const sv_pad_params *pp = &pad->p.pad;
    const plan_value *x = &pl->values[pad->inputs[0]];
    sv_conv_params cp = conv->p.conv;
    if (x->rank != cp.spatial_dims + 2 || conv->inputs[0] != pad->output)
        return;
    for (int a = 0; a < 2; a++)
        if (pp->pad_begin[a] != 0 || pp->pad_end[a] != 0)
            return;
    const int zero_fill = pp->mode == SV_PAD_CONSTANT && pp->value == 0.0f;
    if (!zero_fill && pp->mode == SV_PAD_CONSTANT)
        return;
    int conv_padded = 0;
    for (int i = 0; i < cp.spatial_dims; i++)
        conv_padded |= cp.pad_begin[i] || cp.pad_end[i];
    if (!zero_fill && conv_padded)
        return; /* a reflecting pad then zeros: two modes, one index map cannot do both */
    for (int i = 0; i < cp.spatial_dims; i++) {
        const int64_t b = cp.pad_begin[i] + pp->pad_begin[2 + i],
                      e = cp.pad_end[i] + pp->pad_end[2 + i];
        if (pp->pad_begin[2 + i] < 0 || pp->pad_end[2 + i] < 0 || b > INT32_MAX || e > INT32_MAX)
            return;
        cp.pad_begin[i] = (int)b;
        cp.pad_end[i] = (int)e;
    }
    cp.pad_mode = zero_fill ? SV_PAD_ZERO : pp->mode;
    const plan_value *w = &pl->values[conv->inputs[1]];
    int64_t out[SV_MAX_RANK];
    if (sv_conv_output_shape(&cp, x->rank, x->dims, w->dims, NULL, out, NULL) != SV_OK)
        return; /* e.g. a reflection wider than the input: keep the Pad */
    conv->p.conv = cp;
    conv->inputs[0] = pad->inputs[0];
    pad->removed = 1;
    char op[sizeof conv->op];
    snprintf(op, sizeof op, "Pad+%.43s", conv->op);
    memcpy(conv->op, op, sizeof op);
}

static sv_activation *fusable_activation(step *s) {
    switch (s->kind) {
    case STEP_CONV: return &s->p.conv.activation;
    case STEP_CONV_TRANSPOSE: return &s->p.conv_transpose.activation;
    case STEP_GEMM: return &s->p.gemm.activation;
    case STEP_BATCH_NORM: return &s->p.batch_norm.activation;
    default: return NULL;
    }
}

/* A 2x2 stride-2 max pool (floor mode, no padding or dilation, no indices), read only from the
 * Conv before it, becomes the Conv's fused pool where the hook agrees. */
static void fuse_max_pool(plan *pl, step *conv, step *pool, const plan_hooks *hooks) {
    const sv_pool_params *pp = &pool->p.pool;
    sv_conv_params cp = conv->p.conv;
    if (!hooks || !hooks->fuse_max_pool || cp.spatial_dims != 2 || pool->kind != STEP_POOL ||
        pool->inputs[0] != conv->output || pool->indices >= 0 || pp->kind != SV_POOL_MAX ||
        pp->global || pp->ceil_mode)
        return;
    for (int a = 0; a < 2; a++)
        if (pp->kernel[a] != 2 || pp->stride[a] != 2 || pp->dilation[a] != 1 ||
            pp->pad_begin[a] != 0 || pp->pad_end[a] != 0)
            return;
    const plan_value *x = &pl->values[conv->inputs[0]], *w = &pl->values[conv->inputs[1]],
                     *y = &pl->values[conv->output];
    if (y->dims[2] < 2 || y->dims[3] < 2)
        return;
    if (!hooks->fuse_max_pool(hooks->user, &cp, x->dims, w->dims, y->dims))
        return;
    conv->p.conv.max_pool_2x2 = 1;
    conv->macs += pool->macs; /* the model's work is the same, in fewer passes */
    absorb(pl, conv, pool, pool->op);
}

sv_status plan_fuse(plan *pl, const plan_hooks *hooks, sv_message *err) {
    int *uses = count_uses(pl);
    if (!uses)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "plan: out of host memory");
    sv_status st = SV_OK;
    for (int k = 0; k < pl->nsteps && st == SV_OK; k++) {
        step *s = &pl->steps[k];
        if (s->removed)
            continue;
        if (s->kind == STEP_PAD) {
            step *reader = sole_reader(pl, uses, s->output);
            if (reader && reader->kind == STEP_CONV)
                fold_pad(pl, s, reader);
            continue;
        }
        if (s->kind == STEP_CONV && s->p.conv.activation.kind == SV_ACT_NONE) {
            step *reader = sole_reader(pl, uses, s->output);
            if (reader && reader->kind == STEP_BATCH_NORM && reader->inputs[0] == s->output &&
                reader->p.batch_norm.activation.kind == SV_ACT_NONE)
                st = fold_batch_norm(pl, s, reader, err);
        }
        sv_activation *act = fusable_activation(s);
        while (st == SV_OK && act && act->kind == SV_ACT_NONE) {
            step *reader = sole_reader(pl, uses, s->output);
            if (!reader || reader->kind != STEP_ACTIVATION)
                break;
            *act = reader->p.activation;
            absorb(pl, s, reader, reader->op);
        }
        if (st == SV_OK && s->kind == STEP_CONV) {
            step *reader = sole_reader(pl, uses, s->output);
            if (reader)
                fuse_max_pool(pl, s, reader, hooks);
        }
    }
    free(uses);
    return st;
}
