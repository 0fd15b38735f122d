/* Transposed convolution, 1-D and 2-D: parameter validation and output shape (pure), then
 * dispatch to the reference path or the OpenCL kernel in kernels_cl/conv_transpose.cl. A 1-D
 * transposed convolution runs as a 2-D one with a height of 1.
 *
 * Output position o of an axis is position o + pad_begin of the full (uncropped) output, which
 * input position i reaches through kernel tap k when o + pad_begin = i * stride + k * dilation.
 * output_padding (or output_size) only lengthens the axis at its end. */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

sv_conv_transpose_params sv_conv_transpose_params_default(int spatial_dims) {
    sv_conv_transpose_params p;
    memset(&p, 0, sizeof p);
    p.spatial_dims = spatial_dims;
    for (int i = 0; i < 2; i++) {
        p.stride[i] = 1;
        p.dilation[i] = 1;
    }
    p.groups = 1;
    p.activation.kind = SV_ACT_NONE;
    return p;
}

sv_status sv_conv_transpose_output_shape(const sv_conv_transpose_params *p, int rank,
                                         const int64_t *x_dims, const int64_t *w_dims,
                                         const int64_t *bias_len, int64_t *out_dims,
                                         sv_message *err) {
    if (!p || !x_dims || !w_dims || !out_dims)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "conv_transpose: NULL parameters or shapes");
    sv_status st = sv_check_spatial_layout("conv_transpose", p->spatial_dims, rank, err);
    if (st != SV_OK)
        return st;
    const int sd = p->spatial_dims;
    st = sv_validate_activation(&p->activation, "conv_transpose", err);
    if (st != SV_OK)
        return st;
    st = sv_check_conv_extents("conv_transpose", p->groups, rank, x_dims, w_dims, err);
    if (st != SV_OK)
        return st;
    const int64_t channels = x_dims[1];
    if (channels % p->groups != 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "conv_transpose: input channels (%lld) must be divisible by groups "
                               "(%d)",
                               (long long)channels, p->groups);
    if (w_dims[0] != channels)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "conv_transpose: weight [C_in, C_out / groups, ...] has %lld input "
                               "channels, the input has %lld",
                               (long long)w_dims[0], (long long)channels);
    const int64_t out_channels = w_dims[1] * p->groups;
    if (out_channels > INT_MAX)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "conv_transpose: %lld output channels (%lld per group x %d groups) "
                               "exceed %d",
                               (long long)out_channels, (long long)w_dims[1], p->groups, INT_MAX);
    if (bias_len && *bias_len != out_channels)
        return sv_fail_message(
            err, SV_SHAPE_MISMATCH,
            "conv_transpose: bias has %lld elements, expected one per output channel (%lld)",
            (long long)*bias_len, (long long)out_channels);
    int64_t dims[4] = {x_dims[0], out_channels, 1, 1};
    for (int i = 0; i < sd; i++) {
        const int64_t n = x_dims[2 + i], k = w_dims[2 + i];
        const int s = p->stride[i], d = p->dilation[i], pb = p->pad_begin[i], pe = p->pad_end[i];
        const int op = p->output_padding[i];
        const int64_t size = p->output_size[i];
        st = sv_check_window_axis("conv_transpose", i, s, d, pb, pe, err);
        if (st != SV_OK)
            return st;
        if (op < 0)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: output_padding (%d) of spatial axis %d must be "
                                   ">= 0",
                                   op, i);
        if (size < 0)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: output_size (%lld) of spatial axis %d must be "
                                   ">= 0 (0: derived from output_padding)",
                                   (long long)size, i);
        /* at most 2^31 * 2^31 + 2^31 * 2^31: no overflow in 64 bits */
        const int64_t full = (int64_t)s * (n - 1) + (int64_t)d * (k - 1) + 1;
        const int64_t natural = full - pb - pe;
        int64_t out;
        if (size > 0) {
            if (size < natural)
                return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                       "conv_transpose: output_size %lld of spatial axis %d is "
                                       "smaller than %lld, the size with output_padding 0",
                                       (long long)size, i, (long long)natural);
            out = size;
        } else {
            out = natural + op;
        }
        if (out < 1)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: padding (%d, %d) of spatial axis %d leaves no "
                                   "output: the full output has %lld positions, output_padding "
                                   "%d",
                                   pb, pe, i, (long long)full, op);
        if (out > INT_MAX)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: output size %lld of spatial axis %d is outside "
                                   "1..%d",
                                   (long long)out, i, INT_MAX);
        dims[2 + i] = out;
    }
    for (int i = 0; i < rank; i++)
        out_dims[i] = dims[i];
    return SV_OK;
}

/* The kernel computes positions as int: the full output extent (stride * (n - 1) + dilation *
 * (k - 1) + 1) and the output size plus pad_begin must both fit. */
static int fits_int(int64_t n, int64_t k, int stride, int dilation, int64_t out, int pad_begin) {
    const int64_t full = (int64_t)stride * (n - 1) + (int64_t)dilation * (k - 1) + 1;
    return full <= INT_MAX && out + pad_begin <= INT_MAX;
}

/* Work-items along an output axis of size `out` with stride `stride`: outputs of the same phase
 * (out position mod stride) form one contiguous run of `per_phase` work-items (rounded up to the
 * work-group size), so a work-group shares one set of contributing kernel taps and reads
 * consecutive inputs. There are min(stride, out) phases holding outputs. */
static size_t phase_major_size(int out, int stride, size_t local, int *per_phase) {
    const size_t runs = (size_t)(stride < out ? stride : out);
    const size_t rounded = sv_round_up(((size_t)out + (size_t)stride - 1) / (size_t)stride, local);
    *per_phase = (int)rounded;
    return runs * rounded;
}

static sv_status conv_transpose_cl(sv_context *ctx, const sv_conv_transpose_params *p,
                                   const sv_tensor *x, const sv_tensor *w, const sv_tensor *b,
                                   sv_tensor *y) {
    if (x->count > INT_MAX || w->count > INT_MAX || y->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv_transpose: tensors of more than %d elements are not supported on "
                       "OpenCL devices",
                       INT_MAX);
    const sv_conv_geometry g = sv_conv_geometry_of(p->spatial_dims, p->stride, p->dilation,
                                                   p->pad_begin, p->groups, x, w, y);
    if (!fits_int(g.h, g.kh, g.sh, g.dh, g.oh, g.ph) ||
        !fits_int(g.w, g.kw, g.sw, g.dw, g.ow, g.pw))
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv_transpose: output positions beyond %d are not supported on OpenCL "
                       "devices",
                       INT_MAX);
    const size_t local[3] = {g.ow / g.sw >= 16 ? 16 : 8, g.oh / g.sh >= 4 ? 4 : 1, 1};
    int per_phase_w, per_phase_h;
    const size_t global0 = phase_major_size(g.ow, g.sw, local[0], &per_phase_w);
    const size_t global1 = phase_major_size(g.oh, g.sh, local[1], &per_phase_h);
    if (global0 > INT_MAX || global1 > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv_transpose: output of %d x %d with strides %d, %d needs more than %d "
                       "work-items per axis",
                       g.oh, g.ow, g.sh, g.sw, INT_MAX);
    const int block = sv_conv_channel_block(&g);
    char options[256];
    snprintf(options, sizeof options, "-DSV_ACT=%d -DOC_BLOCK=%d", (int)p->activation.kind, block);
    cl_kernel kernel;
    sv_status st =
        sv_program_kernel(ctx, "conv_transpose", options, "conv_transpose2d_gather", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_conv_args(&args, x, w->buffer, b, y, &g);
    sv_arg_int(&args, per_phase_h);
    sv_arg_int(&args, per_phase_w);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(conv_transpose2d_gather)");
    const size_t global[3] = {global0, global1, sv_conv_channel_items(&g, block)};
    return sv_enqueue(ctx, kernel, 3, global, local, "conv_transpose2d_gather");
}

sv_status sv_conv_transpose(sv_context *ctx, const sv_conv_transpose_params *p, const sv_tensor *x,
                            const sv_tensor *w, const sv_tensor *b, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_conv_tensors(ctx, "conv_transpose", x, w, b, y);
    if (st != SV_OK)
        return st;
    sv_message msg;
    int64_t out_dims[SV_MAX_RANK];
    st = sv_conv_transpose_output_shape(p, x->rank, x->dims, w->dims, b ? &b->dims[0] : NULL,
                                        out_dims, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "conv_transpose", y, x->rank, out_dims);
    if (st != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), wv = sv_tensor_host_view(w),
                     yv = sv_tensor_host_view(y);
        sv_host_view bv = b ? sv_tensor_host_view(b) : sv_host_view_make(NULL, 0, NULL);
        sv_ref_conv_transpose(p, &xv, &wv, b ? &bv : NULL, &yv);
        return SV_OK;
    }
    return conv_transpose_cl(ctx, p, x, w, b, y);
}
