/* Helpers every op's host side uses. */
#include "ops/op_common.h"

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

sv_status sv_enqueue(sv_context *ctx, cl_kernel kernel, cl_uint dims, const size_t *global,
                     const size_t *local, const char *name) {
    cl_int rc =
        clEnqueueNDRangeKernel(ctx->queue, kernel, dims, NULL, global, local, 0, NULL, NULL);
    if (rc == CL_SUCCESS)
        return SV_OK;
    char what[128];
    snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", name);
    return sv_fail_cl(ctx, rc, what);
}
