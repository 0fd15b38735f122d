/* Convolution, 1-D and 2-D: parameter validation and output shape (pure), then dispatch to the
 * reference path or the OpenCL kernel in kernels_cl/conv.cl. A 1-D convolution runs as a 2-D one
 * with a height of 1. */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

sv_conv_params sv_conv_params_default(int spatial_dims) {
    sv_conv_params p;
    memset(&p, 0, sizeof p);
    p.spatial_dims = spatial_dims;
    for (int i = 0; i < 2; i++) {
        p.stride[i] = 1;
        p.dilation[i] = 1;
    }
    p.groups = 1;
    p.pad_mode = SV_PAD_ZERO;
    p.activation.kind = SV_ACT_NONE;
    return p;
}

sv_status sv_conv_output_shape(const sv_conv_params *p, int rank, const int64_t *x_dims,
                               const int64_t *w_dims, const int64_t *bias_len, int64_t *out_dims,
                               sv_message *err) {
    if (!p || !x_dims || !w_dims || !out_dims)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "conv: NULL parameters or shapes");
    sv_status st = sv_check_spatial_layout("conv", p->spatial_dims, rank, err);
    if (st != SV_OK)
        return st;
    const int sd = p->spatial_dims;
    st = sv_validate_activation(&p->activation, "conv", err);
    if (st != SV_OK)
        return st;
    if (p->algorithm < SV_CONV_AUTO || p->algorithm >= SV_CONV_ALGORITHM_COUNT)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "conv: unknown algorithm %d",
                               (int)p->algorithm);
    if (p->pad_mode < SV_PAD_ZERO || p->pad_mode > SV_PAD_CIRCULAR)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "conv: unknown padding mode %d",
                               (int)p->pad_mode);
    st = sv_check_conv_extents("conv", p->groups, rank, x_dims, w_dims, err);
    if (st != SV_OK)
        return st;
    const int64_t channels = x_dims[1], out_channels = w_dims[0];
    if (channels % p->groups != 0 || out_channels % p->groups != 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "conv: input channels (%lld) and output channels (%lld) must both "
                               "be divisible by groups (%d)",
                               (long long)channels, (long long)out_channels, p->groups);
    if (w_dims[1] != channels / p->groups)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "conv: weight has %lld input channels per group, the input gives "
                               "%lld / %d groups = %lld",
                               (long long)w_dims[1], (long long)channels, p->groups,
                               (long long)(channels / p->groups));
    if (bias_len && *bias_len != out_channels)
        return sv_fail_message(
            err, SV_SHAPE_MISMATCH,
            "conv: bias has %lld elements, expected one per output channel (%lld)",
            (long long)*bias_len, (long long)out_channels);
    int64_t dims[4] = {x_dims[0], out_channels, 1, 1};
    for (int i = 0; i < sd; i++) {
        const int64_t n = x_dims[2 + i], k = w_dims[2 + i];
        const int s = p->stride[i], d = p->dilation[i], pb = p->pad_begin[i], pe = p->pad_end[i];
        st = sv_check_window_axis("conv", i, s, d, pb, pe, err);
        if (st != SV_OK)
            return st;
        const int64_t max_pad = sv_max_pad_for_mode(p->pad_mode, n);
        if (pb > max_pad || pe > max_pad)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv: %s padding (%d, %d) of spatial axis %d needs pad %s the "
                                   "input size %lld",
                                   sv_pad_mode_name(p->pad_mode), pb, pe, i,
                                   p->pad_mode == SV_PAD_REFLECT ? "<" : "<=", (long long)n);
        const int64_t span = (int64_t)d * (k - 1) + 1, padded = n + pb + pe;
        if (span > padded)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv: kernel extent %lld (size %lld, dilation %d) on spatial "
                                   "axis %d is larger than the padded input %lld",
                                   (long long)span, (long long)k, d, i, (long long)padded);
        dims[2 + i] = (padded - span) / s + 1;
    }
    for (int i = 0; i < rank; i++)
        out_dims[i] = dims[i];
    return SV_OK;
}

/* Pixels per work-item of the CPU kernel: 8 float8 accumulators fill 64 registers' worth of
 * lanes without spilling on AVX2/AVX-512 hosts. */
#define CPU_PIXELS 8

/* The CPU kernel wants the weights as contiguous float8 per tap: arranges them into a scratch
 * buffer (released once the queue is done with it). */
static sv_status arrange_weights(sv_context *ctx, const char *options, const sv_conv_geometry *g,
                                 const sv_tensor *w, cl_mem *out) {
    const int in_per_group = g->c / g->groups, taps = g->kh * g->kw;
    const int blocks = (g->k / g->groups + 7) / 8;
    const size_t count = (size_t)g->groups * blocks * in_per_group * taps * 8;
    cl_mem blocked;
    sv_status st = sv_device_buffer_create(ctx, CL_MEM_READ_WRITE, count * sizeof(float), NULL,
                                           "conv weight blocks", &blocked);
    if (st != SV_OK)
        return st;
    cl_kernel kernel;
    st = sv_program_kernel(ctx, "conv", options, "conv_weights_to_blocks", &kernel);
    if (st == SV_OK) {
        sv_kernel_args args = {kernel, 0, CL_SUCCESS};
        sv_arg_mem(&args, w->buffer);
        sv_arg_mem(&args, blocked);
        sv_arg_int(&args, g->k);
        sv_arg_int(&args, in_per_group);
        sv_arg_int(&args, taps);
        sv_arg_int(&args, g->groups);
        const size_t local = 64, global = sv_round_up(count, local);
        st = args.rc != CL_SUCCESS
                 ? sv_fail_cl(ctx, args.rc, "clSetKernelArg(conv_weights_to_blocks)")
                 : sv_enqueue(ctx, kernel, 1, &global, &local, "conv_weights_to_blocks");
    }
    if (st != SV_OK) {
        sv_device_buffer_release(ctx, blocked);
        return st;
    }
    *out = blocked;
    return SV_OK;
}

sv_conv_algorithm sv_conv_resolve_algorithm(const sv_context *ctx, const sv_conv_params *p,
                                            int64_t out_per_group) {
    if (p->algorithm != SV_CONV_AUTO)
        return p->algorithm;
    return ctx->device.kind == SV_DEVICE_CPU && out_per_group >= 8 ? SV_CONV_CPU_BLOCKED
                                                                   : SV_CONV_DIRECT;
}

static sv_status conv_cl(sv_context *ctx, const sv_conv_params *p, const sv_tensor *x,
                         const sv_tensor *w, const sv_tensor *b, sv_tensor *y) {
    if (x->count > INT_MAX || w->count > INT_MAX || y->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv: tensors of more than %d elements are not supported on OpenCL devices",
                       INT_MAX);
    const sv_conv_geometry g = sv_conv_geometry_of(p->spatial_dims, p->stride, p->dilation,
                                                   p->pad_begin, p->groups, x, w, y);
    const sv_conv_algorithm algorithm = sv_conv_resolve_algorithm(ctx, p, g.k / g.groups);
    const int cpu = algorithm == SV_CONV_CPU_BLOCKED;
    const int block = cpu ? 8 : sv_conv_channel_block(&g);
    const char *name = cpu ? "conv2d_cpu" : "conv2d_direct";
    char options[256];
    snprintf(options, sizeof options, "-DSV_ACT=%d -DSV_PAD_MODE=%d -DOC_BLOCK=%d -DCPU_PIXELS=%d",
             (int)p->activation.kind, (int)p->pad_mode, block, CPU_PIXELS);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "conv", options, name, &kernel);
    if (st != SV_OK)
        return st;
    cl_mem weights = w->buffer;
    if (cpu && (st = arrange_weights(ctx, options, &g, w, &weights)) != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_conv_args(&args, x, weights, b, y, &g);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    const size_t columns = cpu ? (size_t)(g.ow + CPU_PIXELS - 1) / CPU_PIXELS : (size_t)g.ow;
    const size_t local[3] = {cpu ? 1 : (g.ow >= 16 ? 16 : 8), cpu ? 1 : (g.oh >= 4 ? 4 : 1), 1};
    const size_t global[3] = {sv_round_up(columns, local[0]), sv_round_up((size_t)g.oh, local[1]),
                              sv_conv_channel_items(&g, block)};
    st = args.rc != CL_SUCCESS ? sv_fail_cl(ctx, args.rc, "clSetKernelArg(conv)")
                               : sv_enqueue(ctx, kernel, 3, global, local, name);
    if (cpu)
        sv_device_buffer_release(ctx, weights); /* freed once the queued kernels are done with it */
    return st;
}

sv_status sv_conv(sv_context *ctx, const sv_conv_params *p, const sv_tensor *x, const sv_tensor *w,
                  const sv_tensor *b, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_conv_tensors(ctx, "conv", x, w, b, y);
    if (st != SV_OK)
        return st;
    sv_message msg;
    int64_t out_dims[SV_MAX_RANK];
    st = sv_conv_output_shape(p, x->rank, x->dims, w->dims, b ? &b->dims[0] : NULL, out_dims, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "conv", y, x->rank, out_dims);
    if (st != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), wv = sv_tensor_host_view(w),
                     yv = sv_tensor_host_view(y);
        sv_host_view bv = b ? sv_tensor_host_view(b) : sv_host_view_make(NULL, 0, NULL);
        sv_ref_conv(p, &xv, &wv, b ? &bv : NULL, &yv);
        return SV_OK;
    }
    return conv_cl(ctx, p, x, w, b, y);
}
