/* Convolution, 1-D and 2-D: parameter validation and output shape (pure), then dispatch to the
 * reference path or one of the OpenCL algorithms (conv_algorithm.h): chosen, weights prepared,
 * run. A 1-D convolution runs as a 2-D one with a height of 1. */
#include "core/internal.h"
#include "ops/conv_tuning.h"
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

/* The convolution's output extent along an axis of n inputs (validated: the dilated kernel fits
 * the padded input). */
static int64_t conv_extent(int64_t n, int64_t k, int stride, int dilation, int pad_begin,
                           int pad_end) {
    return (n + pad_begin + pad_end - ((int64_t)dilation * (k - 1) + 1)) / stride + 1;
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
    if (p->algorithm < SV_CONV_AUTO || p->algorithm >= SV_CONV_ALGORITHM_END)
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
        dims[2 + i] = conv_extent(n, k, s, d, pb, pe);
    }
    if (p->max_pool_2x2 != 0 && p->max_pool_2x2 != 1)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "conv: max_pool_2x2 is %d; it must be 0 or 1", p->max_pool_2x2);
    if (p->max_pool_2x2) {
        if (sd != 2)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv: a fused 2x2 max pool needs a 2-D convolution");
        if (dims[2] < 2 || dims[3] < 2)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv: a fused 2x2 max pool needs a convolution output of at "
                                   "least 2x2, not %lldx%lld",
                                   (long long)dims[2], (long long)dims[3]);
        dims[2] /= 2;
        dims[3] /= 2;
    }
    for (int i = 0; i < rank; i++)
        out_dims[i] = dims[i];
    return SV_OK;
}

sv_conv_geometry sv_conv_geometry_for(const sv_conv_params *p, const sv_tensor *x,
                                      const sv_tensor *w, const sv_tensor *y) {
    return sv_conv_geometry_for_dims(p, x->dims, w->dims, y->dims);
}

sv_conv_geometry sv_conv_geometry_for_dims(const sv_conv_params *p, const int64_t *x_dims,
                                           const int64_t *w_dims, const int64_t *y_dims) {
    sv_conv_geometry g = sv_conv_geometry_of_dims(p->spatial_dims, p->stride, p->dilation,
                                                  p->pad_begin, p->groups, x_dims, w_dims, y_dims);
    if (p->max_pool_2x2) { /* the convolution's own output, not y's pooled one */
        g.oh = (int)conv_extent(g.h, g.kh, g.sh, g.dh, p->pad_begin[0], p->pad_end[0]);
        g.ow = (int)conv_extent(g.w, g.kw, g.sw, g.dw, p->pad_begin[1], p->pad_end[1]);
    }
    return g;
}

static const sv_conv_impl *const implementations[] = {
    &sv_conv_direct_impl, &sv_conv_cpu_blocked_impl, &sv_conv_implicit_gemm_impl,
    &sv_conv_winograd_2x2_impl, &sv_conv_winograd_4x4_impl};

const sv_conv_impl *sv_conv_impl_of(sv_conv_algorithm algorithm) {
    for (size_t i = 0; i < sizeof implementations / sizeof implementations[0]; i++)
        if (implementations[i]->algorithm == algorithm)
            return implementations[i];
    return NULL;
}

const char *sv_conv_algorithm_name(sv_conv_algorithm algorithm) {
    if (algorithm == SV_CONV_AUTO)
        return "auto";
    const sv_conv_impl *impl = sv_conv_impl_of(algorithm);
    return impl ? impl->name : NULL;
}

void sv_conv_build_options(char *buf, size_t size, const sv_conv_params *p, const char *extra) {
    snprintf(buf, size, "-DSV_ACT=%d -DSV_PAD_MODE=%d -DSV_MAX_POOL=%d %s", (int)p->activation.kind,
             (int)p->pad_mode, p->max_pool_2x2, extra);
}

const char *sv_conv_unsupported_reason(const sv_conv_impl *impl, const sv_conv_params *p,
                                       const sv_conv_geometry *g) {
    if (p->max_pool_2x2 && !impl->fuses_max_pool)
        return "cannot fuse a 2x2 max pool";
    return impl->unsupported ? impl->unsupported(p, g) : NULL;
}

sv_status sv_conv_plain_kernel(sv_context *ctx, const char *program, const char *options,
                               const char *name, const sv_conv_params *p, const sv_conv_geometry *g,
                               const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                               const sv_tensor *y, cl_kernel *out) {
    sv_status st = sv_program_kernel(ctx, program, options, name, out);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {*out, 0, CL_SUCCESS};
    sv_conv_args(&args, x, weights, b, y, g);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clSetKernelArg(%s)", name);
        return sv_fail_cl(ctx, args.rc, what);
    }
    return SV_OK;
}

/* SV_UNSUPPORTED, with the algorithm's reason, when it cannot compute this convolution. */
static sv_status check_supported(sv_context *ctx, const sv_conv_impl *impl, const sv_conv_params *p,
                                 const sv_conv_geometry *g) {
    const char *why = sv_conv_unsupported_reason(impl, p, g);
    return why ? sv_fail(ctx, SV_UNSUPPORTED, "conv: algorithm %s %s", impl->name, why) : SV_OK;
}

/* The algorithm without tuning, Winograd aside: the CPU-shaped kernel on CPU devices (unless a
 * group has too few output channels to fill its 8 lanes), implicit GEMM on GPUs (unless a group
 * has too few output channels for a quarter of its smallest tile), else direct. A fused max pool
 * keeps to the algorithms that fuse it: the CPU-shaped kernel where it has lanes, else direct. */
static sv_conv_algorithm heuristic_algorithm(const sv_context *ctx, const sv_conv_params *p,
                                             const sv_conv_geometry *g) {
    const int out_per_group = g->k / g->groups;
    if ((ctx->device.kind == SV_DEVICE_CPU || p->max_pool_2x2) && out_per_group >= 8)
        return SV_CONV_CPU_BLOCKED;
    if (ctx->device.kind == SV_DEVICE_GPU && out_per_group >= 16)
        return SV_CONV_IMPLICIT_GEMM;
    return SV_CONV_DIRECT;
}

static sv_conv_choice default_choice(const sv_context *ctx, sv_conv_algorithm algorithm,
                                     const sv_conv_params *p, const sv_conv_geometry *g) {
    const sv_conv_impl *impl = sv_conv_impl_of(algorithm);
    return (sv_conv_choice){algorithm,
                            impl->default_variant ? impl->default_variant(ctx, p, g) : 0};
}

/* The choice without tuning: Winograd where its rule takes the layer (GPUs, 3x3 stride 1, enough
 * channels), else the heuristic algorithm at its default variant. */
static sv_conv_choice heuristic_choice(const sv_context *ctx, const sv_conv_params *p,
                                       const sv_conv_geometry *g) {
    sv_conv_choice winograd;
    if (sv_conv_winograd_choice(ctx, p, g, &winograd))
        return winograd;
    return default_choice(ctx, heuristic_algorithm(ctx, p, g), p, g);
}

/* The tuning database's choice, where it has one that still computes this convolution. */
static int tuned_choice(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                        sv_conv_choice *out) {
    const sv_tuning_db *db = sv_context_tuning(ctx);
    const sv_conv_tuning_key key = sv_conv_tuning_key_of(p, g);
    const sv_tuning_entry *e = db ? sv_tuning_db_find(db, &key) : NULL;
    const sv_conv_impl *impl = e ? sv_conv_impl_of(e->choice.algorithm) : NULL;
    if (!impl || sv_conv_unsupported_reason(impl, p, g))
        return 0;
    *out = e->choice;
    return 1;
}

sv_status sv_conv_choose(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                         sv_conv_choice *out) {
    if (p->algorithm == SV_CONV_AUTO) {
        if (!tuned_choice(ctx, p, g, out))
            *out = heuristic_choice(ctx, p, g);
        return SV_OK;
    }
    sv_status st = check_supported(ctx, sv_conv_impl_of(p->algorithm), p, g);
    if (st == SV_OK)
        *out = default_choice(ctx, p->algorithm, p, g);
    return st;
}

static sv_status create_buffer(sv_context *ctx, size_t count, const char *what, cl_mem *out) {
    return sv_device_buffer_create(ctx, CL_MEM_READ_WRITE, count * sizeof(float), NULL, what, out);
}

sv_status sv_conv_prepare(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                          const sv_tensor *w, sv_conv_prepared *out) {
    memset(out, 0, sizeof *out);
    sv_conv_choice choice;
    sv_status st = sv_conv_choose(ctx, p, g, &choice);
    return st == SV_OK ? sv_conv_prepare_choice(ctx, p, g, choice, w, out) : st;
}

sv_status sv_conv_prepare_choice(sv_context *ctx, const sv_conv_params *p,
                                 const sv_conv_geometry *g, sv_conv_choice choice,
                                 const sv_tensor *w, sv_conv_prepared *out) {
    memset(out, 0, sizeof *out);
    const sv_conv_impl *impl = sv_conv_impl_of(choice.algorithm);
    sv_status st = check_supported(ctx, impl, p, g);
    if (st != SV_OK)
        return st;
    size_t count, workspace;
    sv_conv_prepared_counts(&ctx->device, g, choice, &count, &workspace);
    cl_mem weights = NULL;
    if (count) {
        st = create_buffer(ctx, count, "conv prepared weights", &weights);
        if (st == SV_OK)
            st = impl->prepare_weights(ctx, p, g, choice.variant, w->buffer, weights);
        if (st != SV_OK) {
            if (weights)
                sv_device_buffer_release(ctx, weights);
            return st;
        }
    }
    out->choice = choice;
    out->weights = weights;
    out->workspace_count = workspace;
    return SV_OK;
}

void sv_conv_prepared_counts(const sv_device_info *dev, const sv_conv_geometry *g,
                             sv_conv_choice choice, size_t *weights, size_t *workspace) {
    const sv_conv_impl *impl = sv_conv_impl_of(choice.algorithm);
    *weights = impl->prepared_weight_count ? impl->prepared_weight_count(g, choice.variant) : 0;
    *workspace = impl->workspace_count ? impl->workspace_count(dev, g, choice.variant) : 0;
}

sv_status sv_conv_run_prepared(sv_context *ctx, const sv_conv_params *p,
                               const sv_conv_prepared *prep, const sv_tensor *x, const sv_tensor *w,
                               const sv_tensor *b, sv_tensor *y, cl_mem workspace) {
    const sv_conv_geometry g = sv_conv_geometry_for(p, x, w, y);
    const sv_conv_impl *impl = sv_conv_impl_of(prep->choice.algorithm);
    return impl->run(ctx, p, &g, prep->choice.variant, x, prep->weights ? prep->weights : w->buffer,
                     b, y, workspace);
}

void sv_conv_prepared_release(sv_context *ctx, sv_conv_prepared *prep) {
    if (prep->weights)
        sv_device_buffer_release(ctx, prep->weights);
    memset(prep, 0, sizeof *prep);
}

/* One convolution with the given choice (NULL: the automatic one): prepares, runs and releases
 * what it prepared (OpenCL keeps buffers alive until the queued kernels that use them are done). */
static sv_status conv_cl(sv_context *ctx, const sv_conv_params *p, const sv_conv_choice *choice,
                         const sv_tensor *x, const sv_tensor *w, const sv_tensor *b, sv_tensor *y) {
    if (x->count > INT_MAX || w->count > INT_MAX || y->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv: tensors of more than %d elements are not supported on OpenCL devices",
                       INT_MAX);
    const sv_conv_geometry g = sv_conv_geometry_for(p, x, w, y);
    sv_conv_prepared prep;
    sv_status st = choice ? sv_conv_prepare_choice(ctx, p, &g, *choice, w, &prep)
                          : sv_conv_prepare(ctx, p, &g, w, &prep);
    if (st != SV_OK)
        return st;
    cl_mem workspace = NULL;
    if (prep.workspace_count)
        st = create_buffer(ctx, prep.workspace_count, "conv workspace", &workspace);
    if (st == SV_OK)
        st = sv_conv_run_prepared(ctx, p, &prep, x, w, b, y, workspace);
    if (workspace)
        sv_device_buffer_release(ctx, workspace);
    sv_conv_prepared_release(ctx, &prep);
    return st;
}

/* sv_conv, with the choice conv_cl takes. */
static sv_status conv_checked(sv_context *ctx, const sv_conv_params *p,
                              const sv_conv_choice *choice, const sv_tensor *x, const sv_tensor *w,
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
    return conv_cl(ctx, p, choice, x, w, b, y);
}

sv_status sv_conv(sv_context *ctx, const sv_conv_params *p, const sv_tensor *x, const sv_tensor *w,
                  const sv_tensor *b, sv_tensor *y) {
    return conv_checked(ctx, p, NULL, x, w, b, y);
}

sv_status sv_conv_with_choice(sv_context *ctx, const sv_conv_params *p, sv_conv_choice choice,
                              const sv_tensor *x, const sv_tensor *w, const sv_tensor *b,
                              sv_tensor *y) {
    const sv_conv_impl *impl = sv_conv_impl_of(choice.algorithm);
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    if (!impl)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "conv: no algorithm %d", (int)choice.algorithm);
    if (choice.variant < 0 || choice.variant >= impl->variants)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "conv: algorithm %s has variants 0..%d, not %d",
                       impl->name, impl->variants - 1, choice.variant);
    return conv_checked(ctx, p, &choice, x, w, b, y);
}
