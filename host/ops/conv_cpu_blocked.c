/* The convolution shaped for CPU devices (kernels_cl/conv_cpu.cl, conv2d_cpu): each work-item keeps
 * a register block of 8 output channels x CPU_PIXELS output pixels, with no local memory and no
 * barriers, and reads the weights as contiguous float8 per tap (arranged once by
 * conv_weights_to_blocks). */
#include "ops/conv_algorithm.h"

#include <stdio.h>

/* Pixels per work-item: 8 float8 accumulators fill 64 registers' worth of lanes without spilling
 * on AVX2/AVX-512 hosts. */
#define CPU_PIXELS 8

static void cpu_options(char *buf, size_t size, const sv_conv_params *p) {
    char extra[64];
    snprintf(extra, sizeof extra, "-DCPU_PIXELS=%d", CPU_PIXELS);
    sv_conv_build_options(buf, size, p, extra);
}

/* groups x channel blocks x input channels per group x taps x 8 lanes */
static size_t cpu_weight_count(const sv_conv_geometry *g, int variant) {
    (void)variant;
    const size_t blocks = (size_t)(g->k / g->groups + 7) / 8;
    return (size_t)g->groups * blocks * (size_t)(g->c / g->groups) * (size_t)(g->kh * g->kw) * 8;
}

static sv_status cpu_prepare(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                             int variant, cl_mem w, cl_mem out) {
    char options[256];
    cpu_options(options, sizeof options, p);
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
    (void)variant;
    (void)workspace;
    char options[256];
    cpu_options(options, sizeof options, p);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "conv_cpu", options, "conv2d_cpu", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_conv_args(&args, x, weights, b, y, g);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(conv2d_cpu)");
    const size_t local[3] = {1, 1, 1};
    const size_t global[3] = {(size_t)(g->ow + CPU_PIXELS - 1) / CPU_PIXELS, (size_t)g->oh,
                              sv_conv_channel_items(g, 8)};
    return sv_enqueue(ctx, kernel, 3, global, local, "conv2d_cpu");
}

const sv_conv_impl sv_conv_cpu_blocked_impl = {
    .algorithm = SV_CONV_CPU_BLOCKED,
    .name = "cpu-blocked",
    .variants = 1,
    .prepared_weight_count = cpu_weight_count,
    .prepare_weights = cpu_prepare,
    .run = cpu_run,
};
