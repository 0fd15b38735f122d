/* Direct convolution, NCHW (1-D runs with H = 1), any stride, dilation, groups and padding mode.
 *
 * Work-item (ow, oh, z) computes OC_BLOCK consecutive output channels of one output pixel, so
 * every input value loaded is used OC_BLOCK times; z enumerates (batch, group, channel block).
 * Build options: SV_ACT (activation), SV_PAD_MODE, SV_MAX_POOL, OC_BLOCK (1 or 4). */

/* Pooling window side: with a fused 2x2 max pool, a work-item computes the four convolution
 * pixels of one pooled pixel and writes their maximum. */
#define POOL (SV_MAX_POOL ? 2 : 1)

__kernel void conv2d_direct(__global const float *x, __global const float *w,
                            __global const float *bias, int has_bias, __global float *y,
                            int N, int C, int H, int W, int K, int OH, int OW,
                            int KH, int KW, int SH, int SW, int DH, int DW, int PH, int PW,
                            int groups, float alpha, float beta) {
    const int ow = get_global_id(0); /* of y */
    const int oh = get_global_id(1);
    const int z = get_global_id(2);
    const int in_per_group = C / groups;
    const int out_per_group = K / groups;
    const int blocks = (out_per_group + OC_BLOCK - 1) / OC_BLOCK;
    const int n = z / (groups * blocks);
    const int group = (z / blocks) % groups;
    const int block = z % blocks;
    if (ow >= OW / POOL || oh >= OH / POOL || n >= N)
        return;

    const int oc0 = group * out_per_group + block * OC_BLOCK;
    const int oc_last = group * out_per_group + out_per_group - 1;
    int oc[OC_BLOCK];
    float best[OC_BLOCK];
    for (int o = 0; o < OC_BLOCK; o++)
        oc[o] = min(oc0 + o, oc_last); /* channels past the group's end repeat its last one and
                                           are not stored */

    for (int d = 0; d < POOL * POOL; d++) {
        float acc[OC_BLOCK];
        for (int o = 0; o < OC_BLOCK; o++)
            acc[o] = 0.0f;
        const int row0 = (oh * POOL + d / POOL) * SH - PH;
        const int col0 = (ow * POOL + d % POOL) * SW - PW;
        for (int c = 0; c < in_per_group; c++) {
            __global const float *xc = x + ((size_t)n * C + group * in_per_group + c) * H * W;
            for (int r = 0; r < KH; r++) {
                const int row = sv_pad_source(row0 + r * DH, H);
                if (row < 0)
                    continue;
                for (int s = 0; s < KW; s++) {
                    const int col = sv_pad_source(col0 + s * DW, W);
                    if (col < 0)
                        continue;
                    const float v = xc[row * W + col];
                    const int tap = (c * KH + r) * KW + s;
                    for (int o = 0; o < OC_BLOCK; o++)
                        acc[o] += v * w[oc[o] * in_per_group * KH * KW + tap];
                }
            }
        }
        for (int o = 0; o < OC_BLOCK; o++) {
            const float v = sv_activate(acc[o] + (has_bias ? bias[oc[o]] : 0.0f), alpha, beta);
            best[o] = d == 0 ? v : sv_pool_max(best[o], v);
        }
    }

    for (int o = 0; o < OC_BLOCK; o++) {
        if (oc0 + o > oc_last)
            break;
        y[(((size_t)n * K + oc0 + o) * (OH / POOL) + oh) * (OW / POOL) + ow] = best[o];
    }
}
