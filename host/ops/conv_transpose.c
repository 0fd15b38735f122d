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
    if (p->spatial_dims != 1 && p->spatial_dims != 2)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "conv_transpose: %d spatial dimensions requested; 1 (NCW) and 2 "
                               "(NCHW) are supported",
                               p->spatial_dims);
    const int sd = p->spatial_dims;
    if (rank != sd + 2)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "conv_transpose%dd: input has rank %d, expected %d (N, C, %s)", sd,
                               rank, sd + 2, sd == 2 ? "H, W" : "W");
    sv_status st = sv_validate_activation(&p->activation, "conv_transpose", err);
    if (st != SV_OK)
        return st;
    if (p->groups < 1)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "conv_transpose: groups = %d, must be >= 1", p->groups);
    for (int i = 0; i < rank; i++) {
        if (x_dims[i] < 1 || x_dims[i] > INT_MAX || w_dims[i] < 1 || w_dims[i] > INT_MAX)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: dimension %d of the input (%lld) or weight "
                                   "(%lld) is outside 1..%d",
                                   i, (long long)x_dims[i], (long long)w_dims[i], INT_MAX);
    }
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
        if (s < 1 || d < 1)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: stride (%d) and dilation (%d) of spatial axis "
                                   "%d must be >= 1",
                                   s, d, i);
        if (pb < 0 || pe < 0)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: padding (%d, %d) of spatial axis %d must be "
                                   ">= 0",
                                   pb, pe, i);
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

/* The geometry the OpenCL kernel takes: always 2-D, int-sized. */
typedef struct conv_transpose_geometry {
    int n, c, h, w, k, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, groups;
} conv_transpose_geometry;

static conv_transpose_geometry geometry_of(const sv_conv_transpose_params *p, const sv_tensor *x,
                                           const sv_tensor *w, const sv_tensor *y) {
    const int two_d = p->spatial_dims == 2;
    conv_transpose_geometry g;
    g.n = (int)x->dims[0];
    g.c = (int)x->dims[1];
    g.h = two_d ? (int)x->dims[2] : 1;
    g.w = (int)x->dims[x->rank - 1];
    g.k = (int)y->dims[1];
    g.kh = two_d ? (int)w->dims[2] : 1;
    g.kw = (int)w->dims[w->rank - 1];
    g.oh = two_d ? (int)y->dims[2] : 1;
    g.ow = (int)y->dims[y->rank - 1];
    const int a = two_d ? 1 : 0; /* index of the W axis in the params arrays */
    g.sh = two_d ? p->stride[0] : 1;
    g.dh = two_d ? p->dilation[0] : 1;
    g.ph = two_d ? p->pad_begin[0] : 0;
    g.sw = p->stride[a];
    g.dw = p->dilation[a];
    g.pw = p->pad_begin[a];
    g.groups = p->groups;
    return g;
}

/* Output channels each work-item computes: 4 share every input load, unless a group has fewer. */
static int channel_block(const conv_transpose_geometry *g) {
    return (g->k / g->groups) >= 4 ? 4 : 1;
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
    const conv_transpose_geometry g = geometry_of(p, x, w, y);
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
    const int block = channel_block(&g);
    char options[256];
    snprintf(options, sizeof options, "-DSV_ACT=%d -DOC_BLOCK=%d", (int)p->activation.kind, block);
    cl_kernel kernel;
    sv_status st =
        sv_program_kernel(ctx, "conv_transpose", options, "conv_transpose2d_gather", &kernel);
    if (st != SV_OK)
        return st;
    const int has_bias = b != NULL;
    const cl_mem bias = has_bias ? b->buffer : w->buffer; /* never read without has_bias */
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, x->buffer);
    sv_arg_mem(&args, w->buffer);
    sv_arg_mem(&args, bias);
    sv_arg_int(&args, has_bias);
    sv_arg_mem(&args, y->buffer);
    const int geometry[] = {g.n,  g.c,  g.h,  g.w,  g.k,  g.oh, g.ow,     g.kh,        g.kw,
                            g.sh, g.sw, g.dh, g.dw, g.ph, g.pw, g.groups, per_phase_h, per_phase_w};
    for (size_t i = 0; i < sizeof geometry / sizeof geometry[0]; i++)
        sv_arg_int(&args, geometry[i]);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(conv_transpose2d_gather)");
    const int blocks_per_group = (g.k / g.groups + block - 1) / block;
    const size_t global[3] = {global0, global1,
                              (size_t)g.n * (size_t)g.groups * (size_t)blocks_per_group};
    return sv_enqueue(ctx, kernel, 3, global, local, "conv_transpose2d_gather");
}

sv_status sv_conv_transpose(sv_context *ctx, const sv_conv_transpose_params *p, const sv_tensor *x,
                            const sv_tensor *w, const sv_tensor *b, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st =
        sv_check_tensors(ctx, "conv_transpose", 4, (const sv_tensor *[]){x, w, b, y}, 0x4);
    if (st != SV_OK)
        return st;
    sv_message msg;
    int64_t out_dims[SV_MAX_RANK];
    if (x->rank != w->rank)
        return sv_fail(ctx, SV_SHAPE_MISMATCH,
                       "conv_transpose: input has rank %d but weight has rank %d", x->rank,
                       w->rank);
    if (b && b->rank != 1)
        return sv_fail(ctx, SV_SHAPE_MISMATCH, "conv_transpose: bias must have rank 1, got rank %d",
                       b->rank);
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
