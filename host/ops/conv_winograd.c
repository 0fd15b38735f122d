/* Winograd convolution F(2x2, 3x3) and F(4x4, 3x3) (kernels_cl/conv_winograd.cl for the
 * transforms, kernels_cl/conv_winograd_gemm.cl for the batched matrix product), for 2-D 3x3
 * convolutions of stride 1 and dilation 1 with any groups and padding mode. F(m x m, 3 x 3) turns
 * 9 m^2 multiplications per tile of m x m outputs into (m + 2)^2: 2.25x fewer for m = 2, 4x fewer
 * for m = 4, at the price of larger rounding errors (the transforms' coefficients grow with m).
 *
 * The filter transform U runs once per model at load (prepare_weights). A run processes the batch
 * in chunks of images whose transformed inputs V and products M fit the workspace budget: input
 * transform into V, the ALPHA^2 x groups matrix products M = U^T V, output transform with bias and
 * activation into y, and with a fused 2x2 max pool the maxima of each tile's windows. */
#include "ops/conv_algorithm.h"

#include <limits.h>
#include <stdio.h>

/* Workspace budget in elements: 256 MiB of floats, or the device's largest allocation if that is
 * smaller. A VGG-16 layer at batch 64 would need gigabytes for V and M at once, so the batch runs
 * in chunks that fit; a single image larger than the budget runs alone (and the model's memory
 * check refuses a workspace the device cannot allocate). */
static size_t workspace_budget(const sv_device_info *dev) {
    const size_t most = (size_t)64 << 20;
    const uint64_t device = dev->max_alloc_bytes / sizeof(float);
    return dev->max_alloc_bytes && device < most ? (size_t)device : most;
}

/* The variants are the matrix product's blocks (conv_winograd_gemm.cl): a work-group computes a
 * tm x tn block of M (output channels x tiles) in steps of tk input channels, each work-item a
 * wm x wn register block. */
typedef struct gemm_block {
    int tm, tn, tk, wm, wn;
} gemm_block;

enum { GEMM_DEFAULT, GEMM_SMALL, GEMM_LARGE, GEMM_VARIANTS };

static const gemm_block GEMM_BLOCKS[GEMM_VARIANTS] = {
    /* 64x64, 256 work-items of 4x4, 16 deep: each value loaded into local memory feeds 4
     * multiply-adds, and the block is small enough to fill a GPU from a few thousand tiles */
    [GEMM_DEFAULT] = {64, 64, 16, 4, 4},
    /* 32x32, 64 work-items of 4x4: small products (batch 1 on the deep layers: a 14 x 14 image
     * has 16 tiles of 4 x 4), where larger blocks would leave most work-items idle and too few
     * work-groups to fill the device; also the fallback of devices that cannot run 256 */
    [GEMM_SMALL] = {32, 32, 16, 4, 4},
    /* 128x128, 256 work-items of 8x8, 8 deep: twice the default's multiply-adds per local load
     * and half its global loads per multiply-add, the shape of a near-peak SGEMM; for large
     * batches of layers with 128 or more output channels */
    [GEMM_LARGE] = {128, 128, 8, 8, 8},
};

/* The chosen variant's block, or the small one where the device cannot run its work-group. */
static const gemm_block *gemm_block_for(const sv_context *ctx, int variant) {
    const gemm_block *block = &GEMM_BLOCKS[variant];
    const size_t items = (size_t)(block->tm / block->wm) * (size_t)(block->tn / block->wn);
    return items <= ctx->device.max_work_group_size ? block : &GEMM_BLOCKS[GEMM_SMALL];
}

/* The shape of one Winograd run: output tile size m, the transformed tile's ALPHA^2 points, tiles
 * per image, and images per chunk. */
typedef struct winograd_shape {
    int m, points, tiles_w, tiles_per_image, chunk;
} winograd_shape;

static size_t image_workspace(const sv_conv_geometry *g, int m, size_t tiles_per_image) {
    return (size_t)((m + 2) * (m + 2)) * ((size_t)g->c + (size_t)g->k) * tiles_per_image;
}

/* The run's shape on a device (NULL: the chunk is one image, for the checks that need only a
 * single image's shape). */
static winograd_shape shape_of(const sv_device_info *dev, const sv_conv_geometry *g, int m) {
    winograd_shape s;
    s.m = m;
    s.points = (m + 2) * (m + 2);
    s.tiles_w = (g->ow + m - 1) / m;
    s.tiles_per_image = ((g->oh + m - 1) / m) * s.tiles_w;
    const size_t per_image = image_workspace(g, m, (size_t)s.tiles_per_image);
    const size_t fit = dev ? workspace_budget(dev) / per_image : 1;
    s.chunk = fit < 1 ? 1 : fit > (size_t)g->n ? g->n : (int)fit;
    return s;
}

/* U: ALPHA^2 matrices of C_g x K_g per group. */
static size_t weight_count(const sv_conv_geometry *g, int m) {
    return (size_t)((m + 2) * (m + 2)) * (size_t)g->k * (size_t)(g->c / g->groups);
}

static const char *unsupported(const sv_conv_params *p, const sv_conv_geometry *g, int m) {
    if (p->spatial_dims != 2)
        return "needs a 2-D convolution (1-D ones are not supported)";
    if (g->kh != 3 || g->kw != 3)
        return "needs a 3x3 kernel";
    if (g->sh != 1 || g->sw != 1)
        return "needs stride 1";
    if (g->dh != 1 || g->dw != 1)
        return "needs dilation 1";
    /* the kernels index the transformed weights and one image's V and M with int */
    const winograd_shape s = shape_of(NULL, g, m);
    if (weight_count(g, m) > INT_MAX || image_workspace(g, m, (size_t)s.tiles_per_image) > INT_MAX)
        return "needs fewer than 2^31 transformed weights and per-image scratch elements";
    return NULL;
}

/* The product blocks by the products' sizes and the device's compute units: 128x128 where a group
 * has 128 or more output channels (fewer waste half the block) and the blocks make two
 * work-groups for every compute unit (fewer leave the last wave idling much of the GPU); 32x32
 * when a chunk has fewer than 256 tiles and 64-wide blocks would not fill the device; else
 * 64x64. */
static int default_variant(const sv_context *ctx, const sv_conv_geometry *g, int m) {
    const winograd_shape s = shape_of(&ctx->device, g, m);
    const size_t tiles = (size_t)s.chunk * (size_t)s.tiles_per_image;
    const size_t out_per_group = (size_t)(g->k / g->groups);
    const size_t units = ctx->device.compute_units ? ctx->device.compute_units : 1;
    const size_t large_groups = (size_t)s.points * (size_t)g->groups *
                                ((out_per_group + 127) / 128) * ((tiles + 127) / 128);
    if (out_per_group >= 128 && large_groups >= 2 * units)
        return GEMM_LARGE;
    return tiles < 256 ? GEMM_SMALL : GEMM_DEFAULT;
}

static size_t workspace_count(const sv_device_info *dev, const sv_conv_geometry *g, int m) {
    const winograd_shape s = shape_of(dev, g, m);
    return (size_t)s.chunk * image_workspace(g, m, (size_t)s.tiles_per_image);
}

/* A transform's kernel, built alone with the options it depends on (conv_winograd.cl). */
typedef enum transform { FILTER, INPUT, OUTPUT } transform;

static sv_status transform_kernel(sv_context *ctx, const sv_conv_params *p, int m, transform t,
                                  cl_kernel *out) {
    static const char *const names[] = {"winograd_filter", "winograd_input", "winograd_output"};
    char options[96];
    if (t == FILTER)
        snprintf(options, sizeof options, "-DWINO_M=%d -DWINO_FILTER", m);
    else if (t == INPUT)
        snprintf(options, sizeof options, "-DWINO_M=%d -DWINO_INPUT -DSV_PAD_MODE=%d", m,
                 (int)p->pad_mode);
    else
        snprintf(options, sizeof options, "-DWINO_M=%d -DWINO_OUTPUT -DSV_ACT=%d -DSV_MAX_POOL=%d",
                 m, (int)p->activation.kind, p->max_pool_2x2);
    return sv_program_kernel(ctx, "conv_winograd", options, names[t], out);
}

static sv_status prepare(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g, int m,
                         cl_mem w, cl_mem out) {
    cl_kernel kernel;
    sv_status st = transform_kernel(ctx, p, m, FILTER, &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, w);
    sv_arg_mem(&args, out);
    sv_arg_int(&args, g->k);
    sv_arg_int(&args, g->c / g->groups);
    sv_arg_int(&args, g->groups);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(winograd_filter)");
    const size_t local = 64, global = sv_round_up((size_t)g->k * (size_t)(g->c / g->groups), local);
    return sv_enqueue(ctx, kernel, 1, &global, &local, "winograd_filter");
}

/* One chunk of a run: images n0 .. n0 + images - 1 through the three kernels, V at the
 * workspace's start and M right after it. */
static sv_status run_chunk(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                           const winograd_shape *s, const gemm_block *block, int n0,
                           const sv_tensor *x, cl_mem weights, const sv_tensor *b, sv_tensor *y,
                           cl_mem workspace) {
    char options[96];
    snprintf(options, sizeof options, "-DWG_TM=%d -DWG_TN=%d -DWG_TK=%d -DWG_WM=%d -DWG_WN=%d",
             block->tm, block->tn, block->tk, block->wm, block->wn);
    cl_kernel input, gemm, output;
    sv_status st = transform_kernel(ctx, p, s->m, INPUT, &input);
    if (st == SV_OK)
        st = sv_program_kernel(ctx, "conv_winograd_gemm", options, "winograd_gemm", &gemm);
    if (st == SV_OK)
        st = transform_kernel(ctx, p, s->m, OUTPUT, &output);
    if (st != SV_OK)
        return st;
    const int images = g->n - n0 < s->chunk ? g->n - n0 : s->chunk;
    const int tiles = images * s->tiles_per_image;
    const int m_offset = s->points * g->c * tiles; /* fits: shape_of's chunk, unsupported() */
    const int in_per_group = g->c / g->groups, out_per_group = g->k / g->groups;

    sv_kernel_args in = {input, 0, CL_SUCCESS};
    sv_arg_mem(&in, x->buffer);
    sv_arg_mem(&in, workspace);
    const int in_ints[] = {
        g->c, g->h, g->w, g->oh, g->ow, g->ph, g->pw, s->tiles_w, s->tiles_per_image, n0, images};
    for (size_t i = 0; i < sizeof in_ints / sizeof in_ints[0]; i++)
        sv_arg_int(&in, in_ints[i]);
    sv_kernel_args mm = {gemm, 0, CL_SUCCESS};
    sv_arg_mem(&mm, weights);
    sv_arg_mem(&mm, workspace);
    sv_arg_int(&mm, m_offset);
    sv_arg_int(&mm, out_per_group);
    sv_arg_int(&mm, in_per_group);
    sv_arg_int(&mm, tiles);
    sv_kernel_args out = {output, 0, CL_SUCCESS};
    sv_arg_mem(&out, workspace);
    sv_arg_int(&out, m_offset);
    sv_arg_mem(&out, b ? b->buffer : weights); /* never read without a bias */
    sv_arg_int(&out, b != NULL);
    sv_arg_mem(&out, y->buffer);
    const int out_ints[] = {g->k, g->oh, g->ow, s->tiles_w, s->tiles_per_image, n0, images};
    for (size_t i = 0; i < sizeof out_ints / sizeof out_ints[0]; i++)
        sv_arg_int(&out, out_ints[i]);
    sv_arg_float(&out, p->activation.alpha);
    sv_arg_float(&out, p->activation.beta);
    const cl_int rc = in.rc != CL_SUCCESS ? in.rc : mm.rc != CL_SUCCESS ? mm.rc : out.rc;
    if (rc != CL_SUCCESS)
        return sv_fail_cl(ctx, rc, "clSetKernelArg(winograd)");

    const size_t local[2] = {64, 1};
    const size_t in_global[2] = {sv_round_up((size_t)tiles, 64), (size_t)g->c};
    st = sv_enqueue(ctx, input, 2, in_global, local, "winograd_input");
    const size_t gemm_local[3] = {(size_t)(block->tn / block->wn), (size_t)(block->tm / block->wm),
                                  1};
    const size_t gemm_global[3] = {
        sv_round_up((size_t)tiles, (size_t)block->tn) / (size_t)block->wn,
        sv_round_up((size_t)out_per_group, (size_t)block->tm) / (size_t)block->wm,
        (size_t)s->points * (size_t)g->groups};
    if (st == SV_OK)
        st = sv_enqueue(ctx, gemm, 3, gemm_global, gemm_local, "winograd_gemm");
    const size_t out_global[2] = {sv_round_up((size_t)tiles, 64), (size_t)g->k};
    if (st == SV_OK)
        st = sv_enqueue(ctx, output, 2, out_global, local, "winograd_output");
    return st;
}

static sv_status run(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g, int m,
                     int variant, const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                     sv_tensor *y, cl_mem workspace) {
    const winograd_shape s = shape_of(&ctx->device, g, m);
    const gemm_block *block = gemm_block_for(ctx, variant);
    sv_status st = SV_OK;
    for (int n0 = 0; n0 < g->n && st == SV_OK; n0 += s.chunk)
        st = run_chunk(ctx, p, g, &s, block, n0, x, weights, b, y, workspace);
    return st;
}

/* An algorithm of the interface: the functions above with m = M. */
#define WINOGRAD_ALGORITHM(M, ALGORITHM, NAME)                                                     \
    static const char *unsupported_##M(const sv_conv_params *p, const sv_conv_geometry *g) {       \
        return unsupported(p, g, M);                                                               \
    }                                                                                              \
    static int default_variant_##M(const sv_context *ctx, const sv_conv_params *p,                 \
                                   const sv_conv_geometry *g) {                                    \
        (void)p;                                                                                   \
        return default_variant(ctx, g, M);                                                         \
    }                                                                                              \
    static size_t weight_count_##M(const sv_conv_geometry *g, int variant) {                       \
        (void)variant;                                                                             \
        return weight_count(g, M);                                                                 \
    }                                                                                              \
    static sv_status prepare_##M(sv_context *ctx, const sv_conv_params *p,                         \
                                 const sv_conv_geometry *g, int variant, cl_mem w, cl_mem out) {   \
        (void)variant;                                                                             \
        return prepare(ctx, p, g, M, w, out);                                                      \
    }                                                                                              \
    static size_t workspace_count_##M(const sv_device_info *dev, const sv_conv_geometry *g,        \
                                      int variant) {                                               \
        (void)variant;                                                                             \
        return workspace_count(dev, g, M);                                                         \
    }                                                                                              \
    static sv_status run_##M(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,  \
                             int variant, const sv_tensor *x, cl_mem weights, const sv_tensor *b,  \
                             sv_tensor *y, cl_mem workspace) {                                     \
        return run(ctx, p, g, M, variant, x, weights, b, y, workspace);                            \
    }                                                                                              \
    const sv_conv_impl sv_conv_winograd_##M##x##M##_impl = {                                       \
        .algorithm = ALGORITHM,                                                                    \
        .name = NAME,                                                                              \
        .variants = GEMM_VARIANTS,                                                                 \
        .default_variant = default_variant_##M,                                                    \
        .unsupported = unsupported_##M,                                                            \
        .fuses_max_pool = 1,                                                                       \
        .prepared_weight_count = weight_count_##M,                                                 \
        .prepare_weights = prepare_##M,                                                            \
        .workspace_count = workspace_count_##M,                                                    \
        .run = run_##M,                                                                            \
    };

WINOGRAD_ALGORITHM(2, SV_CONV_WINOGRAD_2X2, "winograd-2x2")
WINOGRAD_ALGORITHM(4, SV_CONV_WINOGRAD_4X4, "winograd-4x4")

/* The automatic choice on GPUs: F(4x4, 3x3) for 3x3 stride-1 layers with at least 16 input and
 * 16 output channels per group (fewer leave the matrix products too thin to pay for the
 * transforms; VGG-16's first layer, 3 channels, stays direct), with its default product blocks.
 * CPU devices keep their register-blocked kernel. */
int sv_conv_winograd_choice(const sv_context *ctx, const sv_conv_params *p,
                            const sv_conv_geometry *g, sv_conv_choice *out) {
    if (ctx->device.kind != SV_DEVICE_GPU || g->c / g->groups < 16 || g->k / g->groups < 16 ||
        unsupported(p, g, 4))
        return 0;
    *out = (sv_conv_choice){SV_CONV_WINOGRAD_4X4, default_variant(ctx, g, 4)};
    return 1;
}
