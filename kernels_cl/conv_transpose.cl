/* Transposed convolution, NCHW (1-D runs with H = 1), any stride, dilation, groups, pads and
 * output padding, in gather form: each work-item finds the inputs that reach its output instead
 * of scattering inputs, so no two work-items write the same element and no atomics are needed.
 *
 * Output (oh, ow) is position (oh + PH, ow + PW) of the full output, reached from input (i, j)
 * through tap (r, s) when oh + PH - r*DH = i*SH and ow + PW - s*DW = j*SW.
 *
 * Work-item (gx, gy, z) computes OC_BLOCK consecutive output channels of one output pixel, so
 * every input value loaded is used OC_BLOCK times; z enumerates (batch, group, channel block).
 * Along each axis the work-items run phase-major: gx = phase * QW + q holds ow = phase + q * SW,
 * so a work-group shares one phase (the same contributing taps) and reads consecutive inputs.
 * Build options: SV_ACT (activation), OC_BLOCK (1 or 4; the gather kernel only). */

__kernel void conv_transpose2d_gather(__global const float *x, __global const float *w,
                                      __global const float *bias, int has_bias,
                                      __global float *y, int N, int C, int H, int W, int K, int OH,
                                      int OW, int KH, int KW, int SH, int SW, int DH, int DW,
                                      int PH, int PW, int groups, int QH, int QW, float alpha,
                                      float beta) {
    const int gx = get_global_id(0);
    const int gy = get_global_id(1);
    const int z = get_global_id(2);
    const long ow_wide = gx / QW + (long)(gx % QW) * SW;
    const long oh_wide = gy / QH + (long)(gy % QH) * SH;
    const int in_per_group = C / groups;
    const int out_per_group = K / groups;
    const int blocks = (out_per_group + OC_BLOCK - 1) / OC_BLOCK;
    const int n = z / (groups * blocks);
    const int group = (z / blocks) % groups;
    const int block = z % blocks;
    if (ow_wide >= OW || oh_wide >= OH || n >= N)
        return;
    const int ow = (int)ow_wide;
    const int oh = (int)oh_wide;

    const int o0 = block * OC_BLOCK; /* first output channel within the group */
    int o_in_group[OC_BLOCK];
    float acc[OC_BLOCK];
    for (int o = 0; o < OC_BLOCK; o++) {
        /* channels past the group's end repeat its last one and are not stored */
        o_in_group[o] = min(o0 + o, out_per_group - 1);
        acc[o] = 0.0f;
    }

    const int taps = KH * KW;
    for (int r = 0; r < KH; r++) {
        const int row_full = oh + PH - r * DH;
        if (row_full < 0)
            break; /* only decreases with r */
        if (row_full % SH != 0)
            continue;
        const int i = row_full / SH;
        if (i >= H)
            continue;
        for (int s = 0; s < KW; s++) {
            const int col_full = ow + PW - s * DW;
            if (col_full < 0)
                break;
            if (col_full % SW != 0)
                continue;
            const int j = col_full / SW;
            if (j >= W)
                continue;
            for (int c = 0; c < in_per_group; c++) {
                const int in_c = group * in_per_group + c;
                const float v = x[(((size_t)n * C + in_c) * H + i) * W + j];
                __global const float *wc = w + (in_c * out_per_group * KH + r) * KW + s;
                for (int o = 0; o < OC_BLOCK; o++)
                    acc[o] += v * wc[o_in_group[o] * taps];
            }
        }
    }

    const int oc0 = group * out_per_group + o0;
    for (int o = 0; o < OC_BLOCK; o++) {
        if (o0 + o >= out_per_group)
            break;
        float v = acc[o] + (has_bias ? bias[oc0 + o] : 0.0f);
        y[(((size_t)n * K + oc0 + o) * OH + oh) * OW + ow] = sv_activate(v, alpha, beta);
    }
}

/* col2im of the GEMM algorithm (host/ops/conv_transpose.c). cols holds, for each image t of the
 * chunk starting at image n0 and each output channel k (group-major, as y orders them), the
 * KH * KW rows of H * W columns of W_g^T x X_{n,g}: row r * KW + s, column i * W + j is what input
 * (i, j) sends to channel k through tap (r, s). Work-item (ow, oh, t * K + k) sums the entries of
 * the taps that reach its output (the rule of conv_transpose2d_gather), so each output is written
 * once, without atomics; then it adds the bias and applies the activation. */
__kernel void conv_transpose2d_col2im(__global const float *cols, __global const float *bias,
                                      int has_bias, __global float *y, int n0, int K, int OH,
                                      int OW, int H, int W, int KH, int KW, int SH, int SW, int DH,
                                      int DW, int PH, int PW, float alpha, float beta) {
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int z = get_global_id(2);
    if (ow >= OW || oh >= OH)
        return;
    const size_t plane = (size_t)H * W;
    __global const float *c = cols + (size_t)z * KH * KW * plane;
    float acc = 0.0f;
    for (int r = 0; r < KH; r++) {
        const int row_full = oh + PH - r * DH;
        if (row_full < 0)
            break; /* only decreases with r */
        if (row_full % SH != 0)
            continue;
        const int i = row_full / SH;
        if (i >= H)
            continue;
        __global const float *c_row = c + (size_t)r * KW * plane + (size_t)i * W;
        for (int s = 0; s < KW; s++) {
            const int col_full = ow + PW - s * DW;
            if (col_full < 0)
                break;
            if (col_full % SW != 0)
                continue;
            const int j = col_full / SW;
            if (j >= W)
                continue;
            acc += c_row[(size_t)s * plane + j];
        }
    }
    const int k = z % K;
    const float v = acc + (has_bias ? bias[k] : 0.0f);
    y[(((size_t)n0 * K + z) * OH + oh) * OW + ow] = sv_activate(v, alpha, beta);
}
