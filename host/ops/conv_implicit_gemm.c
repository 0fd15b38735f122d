/* The implicit-GEMM convolution (kernels_cl/conv_igemm.cl), shaped for GPUs: per group a matrix
 * product of the weights (gm output channels x gk = input channels x taps) with the input's
 * im2col matrix (gk x gn output pixels of the batch), tiled through local memory with a register
 * block per work-item; the im2col matrix is gathered while tiles load, never stored. Computes
 * every convolution. The weights are arranged once into [group][k_pad][m_pad] (k-major, zero
 * padding), the same layout for every variant. */
#include "ops/conv_algorithm.h"

#include <limits.h>
#include <stdio.h>

/* The arranged weights' padding: depth to a multiple of every tile's depth, so that no tile
 * reads past a group; output channels to whole float4s. */
#define K_ALIGN 16
#define M_ALIGN 4

typedef struct igemm_tile {
    int tm, tn, tk; /* the work-group's tile of Y and the depth of a step */
    int wm, wn;     /* each work-item's register block */
    int split;      /* 1: split-K over the third axis of the grid, then igemm_reduce */
} igemm_tile;

enum { IGEMM_DEFAULT, IGEMM_LARGE, IGEMM_SMALL, IGEMM_SPLIT_K, IGEMM_VARIANTS };

static const igemm_tile tiles[IGEMM_VARIANTS] = {
    /* 64x64, 64 work-items of 8x8, 16 deep (16 KiB of local memory): 64 multiply-adds per 16
     * local loads, and small enough a tile to fill a GPU from a few thousand output pixels on
     * with little waste on the edges */
    [IGEMM_DEFAULT] = {64, 64, 16, 8, 8, 0},
    /* 128x128, 256 work-items of 8x8, 8 deep (16 KiB): a quarter of the default's global loads
     * per multiply-add, the shape of a near-peak SGEMM; wins once there are enough tiles for
     * every multiprocessor (large batches, 128 or more output channels) */
    [IGEMM_LARGE] = {128, 128, 8, 8, 8, 0},
    /* 32x32, 64 work-items of 4x4, 16 deep (8 KiB): four times the default's work-groups, for
     * the few output pixels of batch 1; also the fallback of devices that cannot run the others'
     * work-groups */
    [IGEMM_SMALL] = {32, 32, 16, 4, 4, 0},
    /* the default tile, with the depth split into slices (split_depth) whose partial sums go to
     * the workspace and a second kernel adds them: deep layers whose output tiles are too few to
     * fill a GPU (VGG-16's conv5 at batch 1: gm 512, gn 196, gk 4608) */
    [IGEMM_SPLIT_K] = {64, 64, 16, 8, 8, 1},
};

static int gemm_m(const sv_conv_geometry *g) {
    return g->k / g->groups;
}
static int gemm_n(const sv_conv_geometry *g) {
    return g->n * g->oh * g->ow;
}
static int gemm_k(const sv_conv_geometry *g) {
    return g->c / g->groups * g->kh * g->kw;
}
static int m_pad(const sv_conv_geometry *g) {
    return (int)sv_round_up((size_t)gemm_m(g), M_ALIGN);
}
static int k_pad(const sv_conv_geometry *g) {
    return (int)sv_round_up((size_t)gemm_k(g), K_ALIGN);
}
static size_t tile_count(const sv_conv_geometry *g, int tm, int tn) {
    return (size_t)g->groups * ((size_t)(gemm_m(g) + tm - 1) / tm) *
           ((size_t)(gemm_n(g) + tn - 1) / tn);
}

/* Split-K's slices: enough for about 256 work-groups in all (two per multiprocessor of a
 * 132-multiprocessor H100; the workspace size may not depend on the device), at least 256 deep
 * each so that the partial sums' traffic stays small next to the products, at most 16. Returns
 * the depth of a slice, a multiple of K_ALIGN; the slice count follows (split_slices). */
enum { SPLIT_TARGET_GROUPS = 256, SPLIT_MIN_DEPTH = 256, SPLIT_MAX_SLICES = 16 };

static int split_depth(const sv_conv_geometry *g) {
    const size_t depth = (size_t)k_pad(g);
    const size_t tiles_default = tile_count(g, tiles[IGEMM_SPLIT_K].tm, tiles[IGEMM_SPLIT_K].tn);
    size_t slices = (SPLIT_TARGET_GROUPS + tiles_default - 1) / tiles_default;
    if (slices > depth / SPLIT_MIN_DEPTH)
        slices = depth / SPLIT_MIN_DEPTH;
    if (slices > SPLIT_MAX_SLICES)
        slices = SPLIT_MAX_SLICES;
    if (slices < 1)
        slices = 1;
    return (int)sv_round_up((depth + slices - 1) / slices, K_ALIGN);
}

static int split_slices(const sv_conv_geometry *g) {
    const int depth = split_depth(g);
    return (k_pad(g) + depth - 1) / depth;
}

/* 1x1 kernel, stride 1, no padding on either side (the output is as large as the input): the
 * input already is the im2col matrix. */
static int pointwise(const sv_conv_geometry *g) {
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 &&
           g->oh == g->h && g->ow == g->w;
}

static void igemm_options(char *buf, size_t size, const sv_conv_params *p,
                          const sv_conv_geometry *g, const igemm_tile *t) {
    char extra[160];
    snprintf(extra, sizeof extra,
             "-DIG_TM=%d -DIG_TN=%d -DIG_TK=%d -DIG_WM=%d -DIG_WN=%d -DIG_SPLIT=%d "
             "-DIG_POINTWISE=%d -DIG_VEC_B=%d",
             t->tm, t->tn, t->tk, t->wm, t->wn, t->split, pointwise(g),
             pointwise(g) && g->h * g->w % 4 == 0);
    sv_conv_build_options(buf, size, p, extra);
}

/* The tile by the GEMM's sizes and the device's compute units. */
static int igemm_default_variant(const sv_context *ctx, const sv_conv_params *p,
                                 const sv_conv_geometry *g) {
    (void)p;
    const size_t units = ctx->device.compute_units ? ctx->device.compute_units : 1;
    /* two 128x128 work-groups for every multiprocessor, or the tail wave idles a large share of
     * the GPU; fewer than 128 output channels waste half the tile */
    if (gemm_m(g) >= 128 && tile_count(g, 128, 128) >= 2 * units)
        return IGEMM_LARGE;
    if (tile_count(g, 64, 64) >= units)
        return IGEMM_DEFAULT;
    /* too few tiles: split a deep reduction, else shrink the tile */
    return gemm_k(g) >= 1024 ? IGEMM_SPLIT_K : IGEMM_SMALL;
}

static size_t igemm_weight_count(const sv_conv_geometry *g, int variant) {
    (void)variant;
    return (size_t)g->groups * (size_t)k_pad(g) * (size_t)m_pad(g);
}

static sv_status igemm_prepare(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                               int variant, cl_mem w, cl_mem out) {
    const size_t count = igemm_weight_count(g, variant);
    /* the kernels index the arranged weights with int */
    if (count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv: implicit-gemm's padded weights would have %zu elements, more than %d",
                       count, INT_MAX);
    char options[384];
    igemm_options(options, sizeof options, p, g, &tiles[variant]);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "conv_igemm", options, "igemm_arrange_weights", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, w);
    sv_arg_mem(&args, out);
    sv_arg_int(&args, gemm_m(g));
    sv_arg_int(&args, gemm_k(g));
    sv_arg_int(&args, m_pad(g));
    sv_arg_int(&args, k_pad(g));
    sv_arg_int(&args, g->groups);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(igemm_arrange_weights)");
    const size_t local = 64, global = sv_round_up(count, local);
    return sv_enqueue(ctx, kernel, 1, &global, &local, "igemm_arrange_weights");
}

static size_t igemm_workspace_count(const sv_device_info *dev, const sv_conv_geometry *g,
                                    int variant) {
    (void)dev;
    if (!tiles[variant].split)
        return 0;
    return (size_t)split_slices(g) * (size_t)g->n * (size_t)g->k * (size_t)g->oh * (size_t)g->ow;
}

/* Whether the device runs the kernel with the tile's work-group size and local memory (a GPU
 * always does; a small embedded one may not). */
static sv_status tile_fits(sv_context *ctx, cl_kernel kernel, const igemm_tile *t, int *fits) {
    size_t group_size = 0;
    cl_ulong local_bytes = 0;
    cl_int rc = clGetKernelWorkGroupInfo(kernel, ctx->cl_device, CL_KERNEL_WORK_GROUP_SIZE,
                                         sizeof group_size, &group_size, NULL);
    if (rc == CL_SUCCESS)
        rc = clGetKernelWorkGroupInfo(kernel, ctx->cl_device, CL_KERNEL_LOCAL_MEM_SIZE,
                                      sizeof local_bytes, &local_bytes, NULL);
    if (rc != CL_SUCCESS)
        return sv_fail_cl(ctx, rc, "clGetKernelWorkGroupInfo(conv2d_igemm)");
    *fits = group_size >= (size_t)(t->tm / t->wm) * (size_t)(t->tn / t->wn) &&
            local_bytes <= ctx->device.local_mem_bytes;
    return SV_OK;
}

/* The convolution kernel of the variant's tile, or of the small tile where the device cannot run
 * that one. */
static sv_status igemm_kernel(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                              int variant, const igemm_tile **tile, cl_kernel *kernel) {
    for (const igemm_tile *t = &tiles[variant];; t = &tiles[IGEMM_SMALL]) {
        char options[384];
        igemm_options(options, sizeof options, p, g, t);
        int fits = 0;
        sv_status st = sv_program_kernel(ctx, "conv_igemm", options, "conv2d_igemm", kernel);
        if (st == SV_OK)
            st = tile_fits(ctx, *kernel, t, &fits);
        if (st != SV_OK || fits) {
            *tile = t;
            return st;
        }
        if (t == &tiles[IGEMM_SMALL])
            return sv_fail(ctx, SV_UNSUPPORTED,
                           "conv: implicit-gemm needs work-groups of %d work-items and %llu bytes "
                           "of local memory, more than the device runs",
                           (t->tm / t->wm) * (t->tn / t->wn),
                           (unsigned long long)ctx->device.local_mem_bytes);
    }
}

static sv_status reduce_slices(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                               const igemm_tile *t, cl_mem partial, const sv_tensor *b,
                               sv_tensor *y) {
    char options[384];
    igemm_options(options, sizeof options, p, g, t);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "conv_igemm", options, "igemm_reduce", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, partial);
    sv_arg_int(&args, split_slices(g));
    sv_arg_mem(&args, b ? b->buffer : partial); /* never read without a bias */
    sv_arg_int(&args, b != NULL);
    sv_arg_mem(&args, y->buffer);
    sv_arg_int(&args, (int)y->count);
    sv_arg_int(&args, g->k);
    sv_arg_int(&args, g->oh * g->ow);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(igemm_reduce)");
    const size_t local = 256, global = sv_round_up((size_t)y->count, local);
    return sv_enqueue(ctx, kernel, 1, &global, &local, "igemm_reduce");
}

static sv_status igemm_run(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                           int variant, const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                           sv_tensor *y, cl_mem workspace) {
    const igemm_tile *t = NULL;
    cl_kernel kernel;
    sv_status st = igemm_kernel(ctx, p, g, variant, &t, &kernel);
    if (st != SV_OK)
        return st;
    const int slices = t->split ? split_slices(g) : 1;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_conv_args(&args, x, weights, b, y, g);
    sv_arg_int(&args, m_pad(g));
    sv_arg_int(&args, k_pad(g));
    sv_arg_mem(&args, t->split ? workspace : y->buffer); /* never written without a split */
    sv_arg_int(&args, t->split ? split_depth(g) : k_pad(g));
    sv_arg_int(&args, slices);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(conv2d_igemm)");
    const size_t local[3] = {(size_t)(t->tn / t->wn), (size_t)(t->tm / t->wm), 1};
    const size_t global[3] = {(size_t)(gemm_n(g) + t->tn - 1) / (size_t)t->tn * local[0],
                              (size_t)(gemm_m(g) + t->tm - 1) / (size_t)t->tm * local[1],
                              (size_t)g->groups * (size_t)slices};
    st = sv_enqueue(ctx, kernel, 3, global, local, "conv2d_igemm");
    if (st == SV_OK && t->split)
        st = reduce_slices(ctx, p, g, t, workspace, b, y);
    return st;
}

const sv_conv_impl sv_conv_implicit_gemm_impl = {
    .algorithm = SV_CONV_IMPLICIT_GEMM,
    .name = "implicit-gemm",
    .variants = IGEMM_VARIANTS,
    .default_variant = igemm_default_variant,
    .prepared_weight_count = igemm_weight_count,
    .prepare_weights = igemm_prepare,
    .workspace_count = igemm_workspace_count,
    .run = igemm_run,
};
