/* Batch normalisation (inference) and local response normalisation: parameter and shape
 * validation (pure), then dispatch to the reference path or the OpenCL kernels in
 * kernels_cl/normalization.cl.
 *
 * Batch normalisation accepts epsilon = 0, as ONNX and PyTorch do (neither forbids it); epsilon
 * must be finite and >= 0. The variance is data and is not checked: where var + epsilon <= 0 the
 * result is what IEEE arithmetic gives (NaN, or +-inf for var + epsilon = 0), as in ONNX Runtime.
 * LRN takes any finite alpha, beta and bias; a window whose base bias + alpha / size * sum x^2 is
 * <= 0 likewise gives what pow() gives. */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

/* Work-group size of both element-wise kernels. */
#define NORM_LOCAL_SIZE 64

/* Checks the batch-norm parameters against the shapes of x and of the four per-channel tensors
 * (param_ranks / param_lens, in the order scale, bias, mean, var). */
static sv_status batch_norm_validate(const sv_batch_norm_params *p, int rank, const int64_t *x_dims,
                                     const int *param_ranks, const int64_t *param_lens,
                                     sv_message *err) {
    static const char *const names[4] = {"scale", "bias", "mean", "var"};
    if (!p)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "batch_norm: NULL parameters");
    if (!(p->epsilon >= 0.0f) || !isfinite(p->epsilon))
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "batch_norm: epsilon = %g, must be finite and >= 0",
                               (double)p->epsilon);
    sv_status st = sv_validate_activation(&p->activation, "batch_norm", err);
    if (st != SV_OK)
        return st;
    if (rank < 2 || rank > 5)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "batch_norm: input has rank %d, expected 2..5 (N, C, ...)", rank);
    const int64_t channels = x_dims[1];
    for (int i = 0; i < 4; i++) {
        if (param_ranks[i] != 1 || param_lens[i] != channels)
            return sv_fail_message(err, SV_SHAPE_MISMATCH,
                                   "batch_norm: %s must have shape [%lld] (one value per channel), "
                                   "got rank %d with %lld elements",
                                   names[i], (long long)channels, param_ranks[i],
                                   (long long)param_lens[i]);
    }
    return SV_OK;
}

/* Checks the LRN parameters against the shape of x. */
static sv_status lrn_validate(const sv_lrn_params *p, int rank, sv_message *err) {
    if (!p)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "lrn: NULL parameters");
    if (p->size < 1)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "lrn: size = %d, must be >= 1", p->size);
    if (!isfinite(p->alpha) || !isfinite(p->beta) || !isfinite(p->bias))
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "lrn: alpha (%g), beta (%g) and bias (%g) must be finite",
                               (double)p->alpha, (double)p->beta, (double)p->bias);
    if (rank < 3 || rank > 5)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "lrn: input has rank %d, expected 3..5 (N, C, spatial...)", rank);
    return SV_OK;
}

/* Product of the dims after the channel axis. */
static int64_t spatial_count(const sv_tensor *x) {
    int64_t n = 1;
    for (int i = 2; i < x->rank; i++)
        n *= x->dims[i];
    return n;
}

static size_t local_size(const sv_context *ctx) {
    size_t local = NORM_LOCAL_SIZE;
    while (local > ctx->device.max_work_group_size)
        local /= 2;
    return local;
}

static sv_status batch_norm_cl(sv_context *ctx, const sv_batch_norm_params *p, const sv_tensor *x,
                               const sv_tensor *scale, const sv_tensor *bias, const sv_tensor *mean,
                               const sv_tensor *var, sv_tensor *y) {
    if (x->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "batch_norm: tensors of more than %d elements are not supported on OpenCL "
                       "devices",
                       INT_MAX);
    char options[64];
    snprintf(options, sizeof options, "-DSV_ACT=%d", (int)p->activation.kind);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "normalization", options, "batch_norm", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, x->buffer);
    sv_arg_mem(&args, scale->buffer);
    sv_arg_mem(&args, bias->buffer);
    sv_arg_mem(&args, mean->buffer);
    sv_arg_mem(&args, var->buffer);
    sv_arg_mem(&args, y->buffer);
    sv_arg_int(&args, (int)x->count);
    sv_arg_int(&args, (int)x->dims[1]);
    sv_arg_int(&args, (int)spatial_count(x));
    sv_arg_float(&args, p->epsilon);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(batch_norm)");
    const size_t local = local_size(ctx);
    const size_t global = sv_round_up((size_t)x->count, local);
    return sv_enqueue(ctx, kernel, 1, &global, &local, "batch_norm");
}

sv_status sv_batch_norm(sv_context *ctx, const sv_batch_norm_params *p, const sv_tensor *x,
                        const sv_tensor *scale, const sv_tensor *bias, const sv_tensor *mean,
                        const sv_tensor *var, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "batch_norm", 6,
                                    (const sv_tensor *[]){x, scale, bias, mean, var, y}, 0);
    if (st != SV_OK)
        return st;
    const sv_tensor *params[4] = {scale, bias, mean, var};
    int ranks[4];
    int64_t lens[4];
    for (int i = 0; i < 4; i++) {
        ranks[i] = params[i]->rank;
        lens[i] = params[i]->count;
    }
    sv_message msg;
    st = batch_norm_validate(p, x->rank, x->dims, ranks, lens, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "batch_norm", y, x->rank, x->dims);
    if (st != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), yv = sv_tensor_host_view(y);
        sv_host_view sc = sv_tensor_host_view(scale), bi = sv_tensor_host_view(bias),
                     mv = sv_tensor_host_view(mean), vv = sv_tensor_host_view(var);
        sv_ref_batch_norm(p, &xv, &sc, &bi, &mv, &vv, &yv);
        return SV_OK;
    }
    return batch_norm_cl(ctx, p, x, scale, bias, mean, var, y);
}

static sv_status lrn_cl(sv_context *ctx, const sv_lrn_params *p, const sv_tensor *x, sv_tensor *y) {
    if (x->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "lrn: tensors of more than %d elements are not supported on OpenCL devices",
                       INT_MAX);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "normalization", "", "lrn", &kernel);
    if (st != SV_OK)
        return st;
    /* the window [c - before, c + after]; size is at most INT_MAX, so these fit an int */
    const int before = (p->size - 1) / 2, after = p->size / 2;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, x->buffer);
    sv_arg_mem(&args, y->buffer);
    sv_arg_int(&args, (int)x->count);
    sv_arg_int(&args, (int)x->dims[1]);
    sv_arg_int(&args, (int)spatial_count(x));
    sv_arg_int(&args, before);
    sv_arg_int(&args, after);
    sv_arg_float(&args, p->alpha / (float)p->size);
    sv_arg_float(&args, p->beta);
    sv_arg_float(&args, p->bias);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(lrn)");
    const size_t local = local_size(ctx);
    const size_t global = sv_round_up((size_t)x->count, local);
    return sv_enqueue(ctx, kernel, 1, &global, &local, "lrn");
}

sv_status sv_lrn(sv_context *ctx, const sv_lrn_params *p, const sv_tensor *x, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "lrn", 2, (const sv_tensor *[]){x, y}, 0);
    if (st != SV_OK)
        return st;
    sv_message msg;
    st = lrn_validate(p, x->rank, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "lrn", y, x->rank, x->dims);
    if (st != SV_OK)
        return st;
    if (x->storage == y->storage) /* each output reads its neighbours' inputs */
        return sv_fail(ctx, SV_INVALID_ARGUMENT,
                       "lrn: the output must not share storage with the input");
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), yv = sv_tensor_host_view(y);
        sv_ref_lrn(p, &xv, &yv);
        return SV_OK;
    }
    return lrn_cl(ctx, p, x, y);
}
