/* The convolution shaped for CPU devices (kernels_cl/conv_cpu.cl, conv2d_cpu): each work-item keeps
 * a register block of output channels x output pixels, with no local memory and no barriers, and
 * reads the weights as one contiguous run per tap (arranged once by conv_weights_to_blocks). */
#include "ops/conv_algorithm.h"

#include <stdio.h>

/* The register blocks: channel vectors of 8 or 16 lanes, how many of them, and pixels per
 * work-item. Two 16-lane vectors by 7 or 8 pixels keep 14 or 16 accumulators, two weight vectors
 * and the broadcast inputs within AVX-512's 32 registers, every weight vector loaded feeding 7 or
 * 8 multiply-adds and every input broadcast 2; on VGG-16 at batch 1 on a 2-core AVX-512 host they
 * ran its 3x3 layers at 280-320 GFLOP/s where one 8-lane vector by 8 pixels ran 35-70. Four
 * vectors by 6 pixels (24 accumulators, 4 weight vectors) load 10 values per 24 multiply-adds
 * instead of 10 per 16, and ran the same layers 6-20% faster again, where a group's output
 * channels fill 64 lanes; 7 pixels of them no longer fit the registers and ran 50% slower. The
 * narrower blocks are for groups with few output channels (fewer idle lanes) and rows narrower
 * than 7 pixels (the last block of a row slides left to stay whole, recomputing the overlap). */
typedef struct cpu_shape {
    int lanes, vecs, pixels;
    /* with a fused 2x2 max pool, how many of a work-item's two rows keep their accumulators in
       registers at once (pixels rounded down to even, so blocks start on even columns): one where
       a row's block fills the registers (both rows at half the pixels ran VGG-16's pooled layers
       20-30% slower), both where it leaves half of them free */
    int pooled_rows;
} cpu_shape;

static const cpu_shape shapes[] = {
    {16, 2, 8, 1}, /* the default */
    {16, 2, 7, 1}, /* rows a multiple of 7 wide (VGG-16's 224, 112, 56, 28 and 14) */
    {16, 2, 4, 1}, /* rows narrower than 7 */
    {16, 1, 8, 2}, /* 9 to 16 output channels per group */
    {8, 1, 8, 2},  /* up to 8 output channels per group */
    {16, 4, 6, 1}, /* 64 channels, where they leave no more lanes idle than 32 would */
};
#define CPU_VARIANTS ((int)(sizeof shapes / sizeof shapes[0]))

static int cpu_block(int variant) {
    return shapes[variant].lanes * shapes[variant].vecs;
}

static int cpu_pixels(const sv_conv_params *p, int variant) {
    return p->max_pool_2x2 ? shapes[variant].pixels / 2 * 2 : shapes[variant].pixels;
}

/* The wide-vector attribute only on CPU devices: GPU compilers need not know it. */
static void cpu_options(char *buf, size_t size, const sv_context *ctx, const sv_conv_params *p,
                        int variant) {
    char extra[128];
    snprintf(extra, sizeof extra,
             "-DCPU_LANES=%d -DCPU_VECS=%d -DCPU_PIXELS=%d -DCPU_REG_ROWS=%d%s",
             shapes[variant].lanes, shapes[variant].vecs, cpu_pixels(p, variant),
             p->max_pool_2x2 ? shapes[variant].pooled_rows : 1,
             ctx->device.kind == SV_DEVICE_CPU ? " -DCPU_WIDE_VECTORS" : "");
    sv_conv_build_options(buf, size, p, extra);
}

/* The fewest idle lanes for the group's output channels, then the fewest recomputed pixels per
 * row. The 64-lane block where it idles no more lanes than 32 would, and where it measured
 * faster: without a pool where its 6-pixel blocks recompute at most an eighth of a row (so not
 * for 14-pixel rows), with a fused pool everywhere (on VGG-16's 14-pixel rows it ran 25% faster
 * than the 32-lane block). A pooled work-item takes its 7-pixel rows 8 pixels at a time, since
 * 6 (the even count) ran a quarter slower. */
static int cpu_default_variant(const sv_context *ctx, const sv_conv_params *p,
                               const sv_conv_geometry *g) {
    (void)ctx;
    const int out_per_group = g->k / g->groups;
    if (out_per_group <= 8)
        return 4;
    if (out_per_group <= 16)
        return 3;
    if (g->ow < 7)
        return 2;
    const int idle_64 = (64 - out_per_group % 64) % 64, idle_32 = (32 - out_per_group % 32) % 32;
    const int recomputed = (6 - g->ow % 6) % 6;
    if (idle_64 <= idle_32 && (p->max_pool_2x2 || recomputed * 8 <= g->ow))
        return 5;
    return !p->max_pool_2x2 && g->ow % 8 != 0 && g->ow % 7 == 0 ? 1 : 0;
}

/* groups x channel blocks x input channels per group x taps x block lanes */
static size_t cpu_weight_count(const sv_conv_geometry *g, int variant) {
    const int block = cpu_block(variant);
    const size_t blocks = (size_t)(g->k / g->groups + block - 1) / block;
    return (size_t)g->groups * blocks * (size_t)(g->c / g->groups) * (size_t)(g->kh * g->kw) *
           (size_t)block;
}

static sv_status cpu_prepare(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                             int variant, cl_mem w, cl_mem out) {
    char options[256];
    cpu_options(options, sizeof options, ctx, p, variant);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "conv_cpu", options, "conv_weights_to_blocks", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, w);
    sv_arg_mem(&args, out);
    sv_arg_int(&args, g->k);
    sv_arg_int(&args, g->c / g->groups);
    sv_arg_int(&args, g->kh * g->kw);
    sv_arg_int(&args, g->groups);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(conv_weights_to_blocks)");
    const size_t local = 64, global = sv_round_up(cpu_weight_count(g, variant), local);
    return sv_enqueue(ctx, kernel, 1, &global, &local, "conv_weights_to_blocks");
}

static sv_status cpu_run(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                         int variant, const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                         sv_tensor *y, cl_mem workspace) {
    (void)workspace;
    char options[256];
    cpu_options(options, sizeof options, ctx, p, variant);
    cl_kernel kernel;
    sv_status st = sv_conv_plain_kernel(ctx, "conv_cpu", options, "conv2d_cpu", p, g, x, weights, b,
                                        y, &kernel);
    if (st != SV_OK)
        return st;
    /* with pooling, each work-item computes two rows of the convolution, dropping a last odd row
     * or column */
    const int pixels = cpu_pixels(p, variant), pooled = p->max_pool_2x2;
    const int cols = pooled ? g->ow / 2 * 2 : g->ow;
    const size_t local[3] = {1, 1, 1};
    const size_t global[3] = {(size_t)(cols + pixels - 1) / pixels,
                              (size_t)(pooled ? g->oh / 2 : g->oh),
                              sv_conv_channel_items(g, cpu_block(variant))};
    return sv_enqueue(ctx, kernel, 3, global, local, "conv2d_cpu");
}

const sv_conv_impl sv_conv_cpu_blocked_impl = {
    .algorithm = SV_CONV_CPU_BLOCKED,
    .name = "cpu-blocked",
    .variants = CPU_VARIANTS,
    .fuses_max_pool = 1,
    .default_variant = cpu_default_variant,
    .prepared_weight_count = cpu_weight_count,
    .prepare_weights = cpu_prepare,
    .run = cpu_run,
};
