/* The direct convolution (kernels_cl/conv.cl, conv2d_direct): one output pixel and a block of
 * output channels per work-item, reading the OIHW weights as they are. Computes every
 * convolution; the fallback of the automatic choice. */
#include "ops/conv_algorithm.h"

#include <stdio.h>

static sv_status direct_run(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                            int variant, const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                            sv_tensor *y, cl_mem workspace) {
    (void)variant;
    (void)workspace;
    const int block = sv_conv_channel_block(g);
    char extra[64], options[256];
    snprintf(extra, sizeof extra, "-DOC_BLOCK=%d", block);
    sv_conv_build_options(options, sizeof options, p, extra);
    cl_kernel kernel;
    sv_status st = sv_conv_plain_kernel(ctx, "conv", options, "conv2d_direct", p, g, x, weights, b,
                                        y, &kernel);
    if (st != SV_OK)
        return st;
    /* one work-item per pixel of y: of the 2x2 max pool, when fused */
    const int pool = p->max_pool_2x2 ? 2 : 1, out_w = g->ow / pool, out_h = g->oh / pool;
    const size_t local[3] = {out_w >= 16 ? 16 : 8, out_h >= 4 ? 4 : 1, 1};
    const size_t global[3] = {sv_round_up((size_t)out_w, local[0]),
                              sv_round_up((size_t)out_h, local[1]),
                              sv_conv_channel_items(g, block)};
    return sv_enqueue(ctx, kernel, 3, global, local, "conv2d_direct");
}

const sv_conv_impl sv_conv_direct_impl = {
    .algorithm = SV_CONV_DIRECT,
    .name = "direct",
    .variants = 1,
    .fuses_max_pool = 1,
    .run = direct_run,
};
