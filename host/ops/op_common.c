/* Helpers every op's host side uses. */
#include "ops/op_common.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

sv_status sv_validate_activation(const sv_activation *act, const char *op, sv_message *err) {
    switch (act->kind) {
    case SV_ACT_NONE:
    case SV_ACT_RELU:
    case SV_ACT_SIGMOID:
    case SV_ACT_TANH: return SV_OK;
    case SV_ACT_LEAKY_RELU:
    case SV_ACT_ELU:
        if (!isfinite(act->alpha))
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "%s: %s alpha must be finite", op,
                                   act->kind == SV_ACT_ELU ? "elu" : "leaky relu");
        return SV_OK;
    case SV_ACT_HARD_SIGMOID:
        if (!isfinite(act->alpha) || !isfinite(act->beta))
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "%s: hard sigmoid alpha and beta must be finite", op);
        return SV_OK;
    case SV_ACT_CLIP:
        if (isnan(act->alpha) || isnan(act->beta) || act->alpha > act->beta)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "%s: clip needs min <= max, got min %g, max %g", op,
                                   (double)act->alpha, (double)act->beta);
        return SV_OK;
    }
    return sv_fail_message(err, SV_INVALID_ARGUMENT, "%s: unknown activation kind %d", op,
                           (int)act->kind);
}

const char *sv_pad_mode_name(sv_pad_mode mode) {
    switch (mode) {
    case SV_PAD_ZERO: return "zero";
    case SV_PAD_REFLECT: return "reflect";
    case SV_PAD_SYMMETRIC: return "symmetric";
    case SV_PAD_REPLICATE: return "replicate";
    case SV_PAD_CIRCULAR: return "circular";
    }
    return "unknown";
}

int64_t sv_max_pad_for_mode(sv_pad_mode mode, int64_t n) {
    switch (mode) {
    case SV_PAD_REFLECT: return n - 1;
    case SV_PAD_SYMMETRIC:
    case SV_PAD_CIRCULAR: return n;
    default: return INT64_MAX;
    }
}

sv_status sv_check_tensors(sv_context *ctx, const char *op, int count, const sv_tensor **tensors,
                           unsigned optional_mask) {
    for (int i = 0; i < count; i++) {
        if (!tensors[i]) {
            if (optional_mask & (1u << i))
                continue;
            return sv_fail(ctx, SV_INVALID_ARGUMENT, "%s: tensor argument %d is NULL", op, i + 1);
        }
        if (tensors[i]->ctx != ctx)
            return sv_fail(ctx, SV_WRONG_CONTEXT,
                           "%s: tensor argument %d was created on another context", op, i + 1);
    }
    return SV_OK;
}

sv_status sv_check_output_shape(sv_context *ctx, const char *op, const sv_tensor *y, int rank,
                                const int64_t *dims) {
    int same = y->rank == rank;
    for (int i = 0; same && i < rank; i++)
        same = y->dims[i] == dims[i];
    if (same)
        return SV_OK;
    char want[256], got[256];
    sv_dims_format(want, sizeof want, rank, dims);
    sv_dims_format(got, sizeof got, y->rank, y->dims);
    return sv_fail(ctx, SV_SHAPE_MISMATCH, "%s: output tensor has shape %s, expected %s", op, got,
                   want);
}

void sv_arg(sv_kernel_args *a, size_t size, const void *value) {
    if (a->rc == CL_SUCCESS)
        a->rc = clSetKernelArg(a->kernel, a->next, size, value);
    a->next++;
}

sv_status sv_check_spatial_layout(const char *op, int spatial_dims, int rank, sv_message *err) {
    if (spatial_dims != 1 && spatial_dims != 2)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "%s: %d spatial dimensions requested; 1 (NCW) and 2 (NCHW) are "
                               "supported",
                               op, spatial_dims);
    if (rank != spatial_dims + 2)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "%s%dd: input has rank %d, expected %d (N, C, %s)", op, spatial_dims,
                               rank, spatial_dims + 2, spatial_dims == 2 ? "H, W" : "W");
    return SV_OK;
}

sv_status sv_check_window_axis(const char *op, int axis, int stride, int dilation, int pad_begin,
                               int pad_end, sv_message *err) {
    if (stride < 1 || dilation < 1)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "%s: stride (%d) and dilation (%d) of spatial axis %d must be >= 1",
                               op, stride, dilation, axis);
    if (pad_begin < 0 || pad_end < 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "%s: padding (%d, %d) of spatial axis %d must be >= 0", op,
                               pad_begin, pad_end, axis);
    return SV_OK;
}

sv_status sv_check_conv_extents(const char *op, int groups, int rank, const int64_t *x_dims,
                                const int64_t *w_dims, sv_message *err) {
    if (groups < 1)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "%s: groups = %d, must be >= 1", op,
                               groups);
    for (int i = 0; i < rank; i++) {
        if (x_dims[i] < 1 || x_dims[i] > INT_MAX || w_dims[i] < 1 || w_dims[i] > INT_MAX)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "%s: dimension %d of the input (%lld) or weight (%lld) is "
                                   "outside 1..%d",
                                   op, i, (long long)x_dims[i], (long long)w_dims[i], INT_MAX);
    }
    return SV_OK;
}

sv_status sv_check_conv_tensors(sv_context *ctx, const char *op, const sv_tensor *x,
                                const sv_tensor *w, const sv_tensor *b, const sv_tensor *y) {
    sv_status st = sv_check_tensors(ctx, op, 4, (const sv_tensor *[]){x, w, b, y}, 0x4);
    if (st != SV_OK)
        return st;
    if (x->rank != w->rank)
        return sv_fail(ctx, SV_SHAPE_MISMATCH, "%s: input has rank %d but weight has rank %d", op,
                       x->rank, w->rank);
    if (b && b->rank != 1)
        return sv_fail(ctx, SV_SHAPE_MISMATCH, "%s: bias must have rank 1, got rank %d", op,
                       b->rank);
    return SV_OK;
}

sv_conv_geometry sv_conv_geometry_of_dims(int spatial_dims, const int *stride, const int *dilation,
                                          const int *pad_begin, int groups, const int64_t *x_dims,
                                          const int64_t *w_dims, const int64_t *y_dims) {
    const int two_d = spatial_dims == 2, last = spatial_dims + 1;
    sv_conv_geometry g;
    g.n = (int)x_dims[0];
    g.c = (int)x_dims[1];
    g.h = two_d ? (int)x_dims[2] : 1;
    g.w = (int)x_dims[last];
    g.k = (int)y_dims[1];
    g.kh = two_d ? (int)w_dims[2] : 1;
    g.kw = (int)w_dims[last];
    g.oh = two_d ? (int)y_dims[2] : 1;
    g.ow = (int)y_dims[last];
    const int a = two_d ? 1 : 0; /* index of the W axis in the params arrays */
    g.sh = two_d ? stride[0] : 1;
    g.dh = two_d ? dilation[0] : 1;
    g.ph = two_d ? pad_begin[0] : 0;
    g.sw = stride[a];
    g.dw = dilation[a];
    g.pw = pad_begin[a];
    g.groups = groups;
    return g;
}

sv_conv_geometry sv_conv_geometry_of(int spatial_dims, const int *stride, const int *dilation,
                                     const int *pad_begin, int groups, const sv_tensor *x,
                                     const sv_tensor *w, const sv_tensor *y) {
    return sv_conv_geometry_of_dims(spatial_dims, stride, dilation, pad_begin, groups, x->dims,
                                    w->dims, y->dims);
}

int sv_conv_channel_block(const sv_conv_geometry *g) {
    return (g->k / g->groups) >= 4 ? 4 : 1;
}

size_t sv_conv_channel_items(const sv_conv_geometry *g, int block) {
    const int blocks_per_group = (g->k / g->groups + block - 1) / block;
    return (size_t)g->n * (size_t)g->groups * (size_t)blocks_per_group;
}

void sv_conv_args(sv_kernel_args *a, const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                  const sv_tensor *y, const sv_conv_geometry *g) {
    sv_arg_mem(a, x->buffer);
    sv_arg_mem(a, weights);
    sv_arg_mem(a, b ? b->buffer : weights); /* never read without a bias */
    sv_arg_int(a, b != NULL);
    sv_arg_mem(a, y->buffer);
    const int geometry[] = {g->n,  g->c,  g->h,  g->w,  g->k,  g->oh, g->ow, g->kh,
                            g->kw, g->sh, g->sw, g->dh, g->dw, g->ph, g->pw, g->groups};
    for (size_t i = 0; i < sizeof geometry / sizeof geometry[0]; i++)
        sv_arg_int(a, geometry[i]);
}

sv_status sv_enqueue(sv_context *ctx, cl_kernel kernel, cl_uint dims, const size_t *global,
                     const size_t *local, const char *name) {
    cl_int rc =
        clEnqueueNDRangeKernel(ctx->queue, kernel, dims, NULL, global, local, 0, NULL, NULL);
    if (rc == CL_SUCCESS)
        return sv_guard_after(ctx, name);
    char what[128];
    snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", name);
    return sv_fail_cl(ctx, rc, what);
}
