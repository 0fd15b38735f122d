/* Convolution shaped for CPU devices (pocl): no local memory, no barriers; each work-item keeps
 * a register block of CPU_PIXELS consecutive output pixels of one row times 8 output channels
 * (one float8 per pixel), so every weight vector loaded feeds CPU_PIXELS fused multiply-adds and
 * every input value 8. The weights come pre-arranged by conv_weights_to_blocks as
 * [group][block of 8 output channels][C_in per group][KH][KW][8], one contiguous float8 per
 * tap. Build options: SV_ACT, SV_PAD_MODE, CPU_PIXELS. */

__kernel void conv_weights_to_blocks(__global const float *w, __global float *blocked, int K,
                                     int in_per_group, int taps, int groups) {
    const int i = get_global_id(0); /* one blocked element */
    const int out_per_group = K / groups;
    const int blocks = (out_per_group + 7) / 8;
    const int total = groups * blocks * in_per_group * taps * 8;
    if (i >= total)
        return;
    const int o = i % 8;
    const int tap = (i / 8) % taps;
    const int c = (i / (8 * taps)) % in_per_group;
    const int block = (i / (8 * taps * in_per_group)) % blocks;
    const int group = i / (8 * taps * in_per_group * blocks);
    const int within = block * 8 + o;
    blocked[i] = within < out_per_group
                     ? w[((group * out_per_group + within) * in_per_group + c) * taps + tap]
                     : 0.0f;
}

__kernel void conv2d_cpu(__global const float *x, __global const float *blocked,
                         __global const float *bias, int has_bias, __global float *y, int N, int C,
                         int H, int W, int K, int OH, int OW, int KH, int KW, int SH, int SW,
                         int DH, int DW, int PH, int PW, int groups, float alpha, float beta) {
    /* the last block of a row slides left to end at the row's end (recomputing a few pixels
     * its neighbour also writes, with the same values), so every block is a full one */
    const int ow0 = min((int)get_global_id(0) * CPU_PIXELS, max(OW - CPU_PIXELS, 0));
    const int oh = get_global_id(1);
    const int z = get_global_id(2);
    const int in_per_group = C / groups;
    const int out_per_group = K / groups;
    const int blocks = (out_per_group + 7) / 8;
    const int n = z / (groups * blocks);
    const int group = (z / blocks) % groups;
    const int block = z % blocks;
    if (ow0 >= OW || oh >= OH || n >= N)
        return;

    float8 acc[CPU_PIXELS];
    for (int p = 0; p < CPU_PIXELS; p++)
        acc[p] = (float8)(0.0f);
    const int row0 = oh * SH - PH;
    /* the vector path below is written for 8 pixels at stride 1, all of them outputs */
    const int interior = CPU_PIXELS == 8 && SW == 1 && ow0 + CPU_PIXELS <= OW;
    __global const float *wb =
        blocked + (size_t)(group * blocks + block) * in_per_group * KH * KW * 8;
    for (int c = 0; c < in_per_group; c++) {
        __global const float *xc = x + ((size_t)n * C + group * in_per_group + c) * H * W;
        for (int r = 0; r < KH; r++) {
            const int row = sv_pad_source(row0 + r * DH, H);
            if (row < 0)
                continue;
            __global const float *xr = xc + row * W;
            __global const float *wr = wb + ((c * KH + r) * KW) * 8;
            for (int s = 0; s < KW; s++) {
                const float8 wv = vload8(s, wr);
                const int col0 = ow0 * SW - PW + s * DW;
                if (interior && col0 >= 0 && col0 + CPU_PIXELS <= W) {
                    /* stride 1, all 8 pixels inside the row: one vector load, no index maps */
                    const float8 xv = vload8(0, xr + col0);
                    acc[0] = fma((float8)(xv.s0), wv, acc[0]);
                    acc[1] = fma((float8)(xv.s1), wv, acc[1]);
                    acc[2] = fma((float8)(xv.s2), wv, acc[2]);
                    acc[3] = fma((float8)(xv.s3), wv, acc[3]);
                    acc[4] = fma((float8)(xv.s4), wv, acc[4]);
                    acc[5] = fma((float8)(xv.s5), wv, acc[5]);
                    acc[6] = fma((float8)(xv.s6), wv, acc[6]);
                    acc[7] = fma((float8)(xv.s7), wv, acc[7]);
                    continue;
                }
                for (int p = 0; p < CPU_PIXELS; p++) {
                    const int col = sv_pad_source((ow0 + p) * SW - PW + s * DW, W);
                    const float v = (col >= 0 && ow0 + p < OW) ? xr[col] : 0.0f;
                    acc[p] = fma((float8)(v), wv, acc[p]);
                }
            }
        }
    }

    const int oc0 = group * out_per_group + block * 8;
    const int valid = min(8, out_per_group - block * 8);
    for (int p = 0; p < CPU_PIXELS; p++) {
        if (ow0 + p >= OW)
            break;
        float lanes[8];
        vstore8(acc[p], 0, lanes);
        for (int o = 0; o < valid; o++) {
            const float v = lanes[o] + (has_bias ? bias[oc0 + o] : 0.0f);
            y[(((size_t)n * K + oc0 + o) * OH + oh) * OW + ow0 + p] = sv_activate(v, alpha, beta);
        }
    }
}
