/* Padding of any axis (ONNX Pad, torch.nn.functional.pad): validation and output shape (pure),
 * then dispatch to the reference path or the OpenCL kernel in kernels_cl/pad.cl.
 *
 * Output position o of an axis is position o - pad_begin of the input; positions outside the
 * input are filled by the mode (constant value, or a reflection, repetition or wrap of the
 * input). A negative pad starts or ends the output inside the input: it crops. */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <stdio.h>

/* Pads beyond this magnitude cannot describe a tensor (whose dims are below INT64_MAX / 4) and
 * would overflow the output size. */
#define PAD_LIMIT (INT64_MAX / 4)

sv_status sv_pad_output_shape(const sv_pad_params *p, int rank, const int64_t *x_dims,
                              int64_t *out_dims, sv_message *err) {
    if (!p || !x_dims || !out_dims)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "pad: NULL parameters or shapes");
    if (rank < 1 || rank > SV_MAX_RANK)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "pad: input rank %d is outside 1..%d",
                               rank, SV_MAX_RANK);
    if (p->mode < SV_PAD_ZERO || p->mode > SV_PAD_CIRCULAR)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "pad: unknown padding mode %d",
                               (int)p->mode);
    int64_t dims[SV_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        const int64_t n = x_dims[i], pb = p->pad_begin[i], pe = p->pad_end[i];
        if (n < 1 || n > PAD_LIMIT)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "pad: dimension %d of the input is %lld, must be >= 1", i,
                                   (long long)n);
        if (pb < -PAD_LIMIT || pb > PAD_LIMIT || pe < -PAD_LIMIT || pe > PAD_LIMIT)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "pad: pads (%lld, %lld) of axis %d are out of range",
                                   (long long)pb, (long long)pe, i);
        const int64_t max_pad = sv_max_pad_for_mode(p->mode, n);
        if (pb > max_pad || pe > max_pad)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "pad: %s padding (%lld, %lld) of axis %d needs pads %s the "
                                   "input size %lld",
                                   sv_pad_mode_name(p->mode), (long long)pb, (long long)pe, i,
                                   p->mode == SV_PAD_REFLECT ? "<" : "<=", (long long)n);
        dims[i] = n + pb + pe;
        if (dims[i] < 1)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "pad: pads (%lld, %lld) crop axis %d of size %lld to %lld, "
                                   "must leave >= 1",
                                   (long long)pb, (long long)pe, i, (long long)n,
                                   (long long)dims[i]);
    }
    for (int i = 0; i < rank; i++)
        out_dims[i] = dims[i];
    return SV_OK;
}

static sv_status pad_cl(sv_context *ctx, const sv_pad_params *p, const sv_tensor *x, sv_tensor *y) {
    if (x->count > INT_MAX || y->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "pad: tensors of more than %d elements are not supported on OpenCL devices",
                       INT_MAX);
    /* rank 5, unit axes in front; every position the kernel forms (down to -pad_begin, up to
     * twice the input size) must fit an int */
    int in[SV_MAX_RANK], out[SV_MAX_RANK], begin[SV_MAX_RANK];
    const int lead = SV_MAX_RANK - x->rank;
    for (int i = 0; i < SV_MAX_RANK; i++) {
        const int a = i - lead;
        const int64_t n = a >= 0 ? x->dims[a] : 1, pb = a >= 0 ? p->pad_begin[a] : 0,
                      pe = a >= 0 ? p->pad_end[a] : 0;
        if (n + (pb < 0 ? -pb : pb) + (pe < 0 ? -pe : pe) > INT_MAX / 2)
            return sv_fail(ctx, SV_UNSUPPORTED,
                           "pad: pads (%lld, %lld) of axis %d are too large for OpenCL devices",
                           (long long)pb, (long long)pe, a);
        in[i] = (int)n;
        out[i] = (int)(n + pb + pe);
        begin[i] = (int)pb;
    }
    char options[64];
    snprintf(options, sizeof options, "-DSV_PAD_MODE=%d", (int)p->mode);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "pad", options, "pad_nd", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, x->buffer);
    sv_arg_mem(&args, y->buffer);
    sv_arg_int(&args, (int)y->count);
    for (int i = 0; i < SV_MAX_RANK; i++)
        sv_arg_int(&args, in[i]);
    for (int i = 0; i < SV_MAX_RANK; i++)
        sv_arg_int(&args, out[i]);
    for (int i = 0; i < SV_MAX_RANK; i++)
        sv_arg_int(&args, begin[i]);
    sv_arg_float(&args, p->value);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(pad_nd)");
    const size_t local = 64, global = sv_round_up((size_t)y->count, local);
    return sv_enqueue(ctx, kernel, 1, &global, &local, "pad_nd");
}

sv_status sv_pad(sv_context *ctx, const sv_pad_params *p, const sv_tensor *x, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "pad", 2, (const sv_tensor *[]){x, y}, 0);
    if (st != SV_OK)
        return st;
    if (x->storage == y->storage)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "pad: the output shares storage with the input");
    sv_message msg;
    int64_t out_dims[SV_MAX_RANK];
    st = sv_pad_output_shape(p, x->rank, x->dims, out_dims, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "pad", y, x->rank, out_dims);
    if (st != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), yv = sv_tensor_host_view(y);
        sv_ref_pad(p, &xv, &yv);
        return SV_OK;
    }
    return pad_cl(ctx, p, x, y);
}
