/* Winograd convolution F(2x2, 3x3) and F(4x4, 3x3) (kernels_cl/conv_winograd.cl for the
 * transforms, kernels_cl/conv_winograd_gemm.cl for the batched matrix product on GPUs and
 * conv_winograd_gemm_cpu.cl for the one shaped for CPUs), for 2-D 3x3
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
#include <string.h>

/* Workspace budget in elements: 256 MiB of floats, or the device's largest allocation if that is
 * smaller. A VGG-16 layer at batch 64 would need gigabytes for V and M at once, so the batch runs
 * in chunks that fit; a single image larger than the budget runs alone (and the model's memory
 * check refuses a workspace the device cannot allocate). */
static size_t workspace_budget(const sv_device_info *dev) {
    const size_t most = (size_t)64 << 20;
    const uint64_t device = dev->max_alloc_bytes / sizeof(float);
    return dev->max_alloc_bytes && device < most ? (size_t)device : most;
}

/* The variants are the matrix product's blocks. The GPU-shaped ones (conv_winograd_gemm.cl): a
 * work-group computes a tm x tn block of M (output channels x tiles) in steps of tk input
 * channels, each work-item a wm x wn register block. The CPU-shaped one
 * (conv_winograd_gemm_cpu.cl): a work-item computes CPU_VECS vectors of 16 output channels by
 * CPU_TILES tiles in registers, with no local memory. */
typedef struct gemm_block {
    int tm, tn, tk, wm, wn;
} gemm_block;

enum { GEMM_DEFAULT, GEMM_SMALL, GEMM_LARGE, GEMM_CPU, GEMM_VARIANTS };

/* 4 x 16 channels by 6 tiles: 24 accumulators, 4 weight vectors and a broadcast within
 * AVX-512's 32 registers, 10 loads per 24 multiply-adds (the CPU convolution's best block,
 * conv_cpu_blocked.c) */
enum { CPU_VECS = 4, CPU_TILES = 6, CPU_BLOCK = 16 * CPU_VECS };

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

/* The chosen GPU-shaped variant's block, or the small one where the device cannot run its
 * work-group. */
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

/* The length of U's rows: K_g, or for the CPU-shaped product K_g rounded up to its 16-lane
 * vectors (the padding zeros), so that every weight vector it loads is whole. */
static int u_row_length(const sv_conv_geometry *g, int variant) {
    const int out_per_group = g->k / g->groups;
    return variant == GEMM_CPU ? (out_per_group + 15) / 16 * 16 : out_per_group;
}

/* U: ALPHA^2 matrices of C_g rows per group. */
static size_t weight_count(const sv_conv_geometry *g, int m, int variant) {
    return (size_t)((m + 2) * (m + 2)) * (size_t)g->groups * (size_t)u_row_length(g, variant) *
           (size_t)(g->c / g->groups);
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
    if (weight_count(g, m, GEMM_CPU) > INT_MAX ||
        image_workspace(g, m, (size_t)s.tiles_per_image) > INT_MAX)
        return "needs fewer than 2^31 transformed weights and per-image scratch elements";
    return NULL;
}

/* The product blocks by the device, the products' sizes and the device's compute units: the
 * CPU-shaped product on CPU devices; on others 128x128 where a group has 128 or more output
 * channels (fewer waste half the block) and the blocks make two work-groups for every compute
 * unit (fewer leave the last wave idling much of the GPU); 32x32 when a chunk has fewer than 256
 * tiles and 64-wide blocks would not fill the device; else 64x64. */
static int default_variant(const sv_context *ctx, const sv_conv_geometry *g, int m) {
    if (ctx->device.kind == SV_DEVICE_CPU)
        return GEMM_CPU;
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

/* A transform's kernel, built alone with the options it depends on (conv_winograd.cl): the
 * GPU-shaped one, or with `cpu` the input or output transform shaped for CPUs. */
typedef enum transform { FILTER, INPUT, OUTPUT } transform;

static sv_status transform_kernel(sv_context *ctx, const sv_conv_params *p, int m, transform t,
                                  int cpu, const char **name, cl_kernel *out) {
    static const char *const names[] = {"winograd_filter", "winograd_input", "winograd_output"};
    static const char *const cpu_names[] = {NULL, "winograd_input_cpu", "winograd_output_cpu"};
    char options[128];
    int used = 0;
    if (t == FILTER)
        used = snprintf(options, sizeof options, "-DWINO_M=%d -DWINO_FILTER", m);
    else if (t == INPUT)
        used = snprintf(options, sizeof options, "-DWINO_M=%d -DWINO_INPUT -DSV_PAD_MODE=%d", m,
                        (int)p->pad_mode);
    else
        used = snprintf(options, sizeof options,
                        "-DWINO_M=%d -DWINO_OUTPUT -DSV_ACT=%d -DSV_MAX_POOL=%d", m,
                        (int)p->activation.kind, p->max_pool_2x2);
    if (cpu)
        snprintf(options + used, sizeof options - (size_t)used, " -DWINO_CPU%s",
                 ctx->device.kind == SV_DEVICE_CPU ? " -DCPU_WIDE_VECTORS" : "");
    *name = cpu ? cpu_names[t] : names[t];
    return sv_program_kernel(ctx, "conv_winograd", options, *name, out);
}

static sv_status prepare(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g, int m,
                         int variant, cl_mem w, cl_mem out) {
    cl_kernel kernel;
    const char *name;
    sv_status st = transform_kernel(ctx, p, m, FILTER, 0, &name, &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, w);
    sv_arg_mem(&args, out);
    sv_arg_int(&args, g->k);
    sv_arg_int(&args, g->c / g->groups);
    sv_arg_int(&args, g->groups);
    const int row_length = u_row_length(g, variant);
    sv_arg_int(&args, row_length);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(winograd_filter)");
    const size_t local = 64,
                 global = sv_round_up(
                     (size_t)g->groups * (size_t)row_length * (size_t)(g->c / g->groups), local);
    return sv_enqueue(ctx, kernel, 1, &global, &local, "winograd_filter");
}

/* A kernel of a run with its work sizes. */
typedef struct launch {
    cl_kernel kernel;
    const char *name;
    size_t global[3], local[3];
} launch;

static void set_sizes(launch *l, size_t g0, size_t g1, size_t g2, size_t l0, size_t l1) {
    const size_t global[3] = {g0, g1, g2}, local[3] = {l0, l1, 1};
    memcpy(l->global, global, sizeof global);
    memcpy(l->local, local, sizeof local);
}

/* The input or output transform of a chunk's `tiles` tiles for `channels` channels (C or K):
 * GPU-shaped, a tile per work-item; CPU-shaped (conv_winograd.cl), the input transform takes 16
 * tiles of a row of tiles per work-item, the output transform 16 channels of a group. */
static sv_status transform_launch(sv_context *ctx, const sv_conv_params *p,
                                  const sv_conv_geometry *g, const winograd_shape *s, int variant,
                                  transform t, int images, launch *out) {
    const int cpu = variant == GEMM_CPU;
    const size_t tiles = (size_t)images * (size_t)s->tiles_per_image;
    const size_t channels = (size_t)(t == INPUT ? g->c : g->k);
    if (cpu && t == INPUT)
        set_sizes(out, (size_t)(s->tiles_w + 15) / 16,
                  (size_t)images * (size_t)(s->tiles_per_image / s->tiles_w), channels, 1, 1);
    else if (cpu)
        set_sizes(out, tiles, (size_t)g->groups * (size_t)((g->k / g->groups + 15) / 16), 1, 1, 1);
    else
        set_sizes(out, sv_round_up(tiles, 64), channels, 1, 64, 1);
    return transform_kernel(ctx, p, s->m, t, cpu, &out->name, &out->kernel);
}

/* The matrix product's kernel for a variant, for the products' `tiles` columns, K_g rows and
 * `batches` matrices. */
static sv_status gemm_launch(sv_context *ctx, const sv_conv_geometry *g, int variant, int tiles,
                             int batches, launch *out) {
    char options[96];
    const size_t out_per_group = (size_t)(g->k / g->groups);
    if (variant == GEMM_CPU) {
        snprintf(options, sizeof options, "-DWC_VECS=%d -DWC_TILES=%d%s", CPU_VECS, CPU_TILES,
                 ctx->device.kind == SV_DEVICE_CPU ? " -DCPU_WIDE_VECTORS" : "");
        out->name = "winograd_gemm_cpu";
        set_sizes(out, (size_t)(tiles + CPU_TILES - 1) / CPU_TILES,
                  (out_per_group + CPU_BLOCK - 1) / CPU_BLOCK, (size_t)batches, 1, 1);
        return sv_program_kernel(ctx, "conv_winograd_gemm_cpu", options, out->name, &out->kernel);
    }
    const gemm_block *block = gemm_block_for(ctx, variant);
    snprintf(options, sizeof options, "-DWG_TM=%d -DWG_TN=%d -DWG_TK=%d -DWG_WM=%d -DWG_WN=%d",
             block->tm, block->tn, block->tk, block->wm, block->wn);
    out->name = "winograd_gemm";
    set_sizes(out, sv_round_up((size_t)tiles, (size_t)block->tn) / (size_t)block->wn,
              sv_round_up(out_per_group, (size_t)block->tm) / (size_t)block->wm, (size_t)batches,
              (size_t)(block->tn / block->wn), (size_t)(block->tm / block->wm));
    return sv_program_kernel(ctx, "conv_winograd_gemm", options, out->name, &out->kernel);
}

/* One chunk of a run: images n0 .. n0 + images - 1 through the three kernels, V at the
 * workspace's start and M right after it. */
static sv_status run_chunk(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                           const winograd_shape *s, int variant, int n0, const sv_tensor *x,
                           cl_mem weights, const sv_tensor *b, sv_tensor *y, cl_mem workspace) {
    const int images = g->n - n0 < s->chunk ? g->n - n0 : s->chunk;
    const int tiles = images * s->tiles_per_image;
    launch steps[3]; /* input transform, product, output transform */
    sv_status st = transform_launch(ctx, p, g, s, variant, INPUT, images, &steps[0]);
    if (st == SV_OK)
        st = gemm_launch(ctx, g, variant, tiles, s->points * g->groups, &steps[1]);
    if (st == SV_OK)
        st = transform_launch(ctx, p, g, s, variant, OUTPUT, images, &steps[2]);
    if (st != SV_OK)
        return st;
    const int m_offset = s->points * g->c * tiles; /* fits: shape_of's chunk, unsupported() */
    const int in_per_group = g->c / g->groups, out_per_group = g->k / g->groups;

    sv_kernel_args in = {steps[0].kernel, 0, CL_SUCCESS};
    sv_arg_mem(&in, x->buffer);
    sv_arg_mem(&in, workspace);
    const int in_ints[] = {
        g->c, g->h, g->w, g->oh, g->ow, g->ph, g->pw, s->tiles_w, s->tiles_per_image, n0, images};
    for (size_t i = 0; i < sizeof in_ints / sizeof in_ints[0]; i++)
        sv_arg_int(&in, in_ints[i]);
    sv_kernel_args mm = {steps[1].kernel, 0, CL_SUCCESS};
    sv_arg_mem(&mm, weights);
    sv_arg_mem(&mm, workspace);
    sv_arg_int(&mm, m_offset);
    sv_arg_int(&mm, out_per_group);
    sv_arg_int(&mm, in_per_group);
    sv_arg_int(&mm, tiles);
    sv_kernel_args out = {steps[2].kernel, 0, CL_SUCCESS};
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
    if (variant == GEMM_CPU) /* its M holds the groups one after the other */
        sv_arg_int(&out, g->groups);
    const cl_int rc = in.rc != CL_SUCCESS ? in.rc : mm.rc != CL_SUCCESS ? mm.rc : out.rc;
    if (rc != CL_SUCCESS)
        return sv_fail_cl(ctx, rc, "clSetKernelArg(winograd)");
    for (int i = 0; i < 3 && st == SV_OK; i++)
        st = sv_enqueue(ctx, steps[i].kernel, 3, steps[i].global, steps[i].local, steps[i].name);
    return st;
}

static sv_status run(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g, int m,
                     int variant, const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                     sv_tensor *y, cl_mem workspace) {
    const winograd_shape s = shape_of(&ctx->device, g, m);
    sv_status st = SV_OK;
    for (int n0 = 0; n0 < g->n && st == SV_OK; n0 += s.chunk)
        st = run_chunk(ctx, p, g, &s, variant, n0, x, weights, b, y, workspace);
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
        return weight_count(g, M, variant);                                                        \
    }                                                                                              \
    static sv_status prepare_##M(sv_context *ctx, const sv_conv_params *p,                         \
                                 const sv_conv_geometry *g, int variant, cl_mem w, cl_mem out) {   \
        return prepare(ctx, p, g, M, variant, w, out);                                             \
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

/* The automatic choice. On GPUs: F(4x4, 3x3) for 3x3 stride-1 layers with at least 16 input and
 * 16 output channels per group (fewer leave the matrix products too thin to pay for the
 * transforms; VGG-16's first layer, 3 channels, stays direct), with its default product blocks.
 * On CPU devices, with the CPU-shaped kernels: only from 128 input and 128 output channels per
 * group. On VGG-16 at batch 1 on a 2-core AVX-512 host, F(4x4) ran its 56- and 28-pixel layers of
 * 256 and 512 channels 1.3-2.3x faster than the register-blocked direct kernel, its 112-pixel
 * layer of 128 channels as fast, and its layers of 64 input channels 1.1-1.9x slower (their
 * transforms cost more than the products). F(2x2) where F(4x4)'s products would have fewer than
 * 32 tiles: each transformed weight then serves too few tiles, and F(4x4)'s 2.25x more of them
 * (36 points per pair of channels against 16) cost more to stream from memory than its fewer
 * multiplications save; VGG-16's 14-pixel layers (16 tiles) ran 1.2-1.4x faster with F(2x2). */
int sv_conv_winograd_choice(const sv_context *ctx, const sv_conv_params *p,
                            const sv_conv_geometry *g, sv_conv_choice *out) {
    const int in_per_group = g->c / g->groups, out_per_group = g->k / g->groups;
    if (unsupported(p, g, 4))
        return 0;
    if (ctx->device.kind == SV_DEVICE_GPU && in_per_group >= 16 && out_per_group >= 16) {
        *out = (sv_conv_choice){SV_CONV_WINOGRAD_4X4, default_variant(ctx, g, 4)};
        return 1;
    }
    if (ctx->device.kind == SV_DEVICE_CPU && in_per_group >= 128 && out_per_group >= 128) {
        const winograd_shape s4 = shape_of(&ctx->device, g, 4);
        const int few_tiles = (size_t)s4.chunk * (size_t)s4.tiles_per_image < 32;
        *out = (sv_conv_choice){few_tiles ? SV_CONV_WINOGRAD_2X2 : SV_CONV_WINOGRAD_4X4, GEMM_CPU};
        return 1;
    }
    return 0;
}
