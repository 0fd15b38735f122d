/* Convolution shaped for CPU devices (pocl): no local memory, no barriers. Each work-item keeps
 * a register block of CPU_PIXELS consecutive output pixels of one row times CPU_BLOCK output
 * channels (CPU_VECS vectors of CPU_LANES lanes per pixel), so every weight vector loaded feeds
 * CPU_PIXELS fused multiply-adds and every input value broadcast feeds CPU_VECS. The weights come
 * pre-arranged by conv_weights_to_blocks as
 * [group][block of CPU_BLOCK output channels][C_in per group][KH][KW][CPU_BLOCK], one contiguous
 * run of CPU_BLOCK floats per tap. With SV_MAX_POOL, a work-item computes two rows of
 * CPU_PIXELS (even) pixels and writes their 2x2 maxima; it takes the rows one after the other
 * (CPU_REG_ROWS 1) where one row's block fills the registers, else both at once (CPU_REG_ROWS 2).
 * Build options: SV_ACT, SV_PAD_MODE, SV_MAX_POOL, CPU_LANES (8 or 16), CPU_VECS, CPU_PIXELS,
 * CPU_REG_ROWS, and CPU_WIDE_VECTORS on CPU devices.
 *
 * The register block lives in registers only if every loop over it is unrolled (an indexed
 * private array spills to the stack), hence the unroll pragmas. */

#define CPU_BLOCK (CPU_LANES * CPU_VECS)
/* output rows per work-item: the two that one pooled row reads, with a fused 2x2 max pool */
#define CPU_ROWS (SV_MAX_POOL ? 2 : 1)
#if CPU_LANES == 16
#define floatV float16
#define vloadV vload16
#define vstoreV vstore16
#else
#define floatV float8
#define vloadV vload8
#define vstoreV vstore8
#endif

__kernel void conv_weights_to_blocks(__global const float *w, __global float *blocked, int K,
                                     int in_per_group, int taps, int groups) {
    const int i = get_global_id(0); /* one blocked element */
    const int out_per_group = K / groups;
    const int blocks = (out_per_group + CPU_BLOCK - 1) / CPU_BLOCK;
    const int total = groups * blocks * in_per_group * taps * CPU_BLOCK;
    if (i >= total)
        return;
    const int o = i % CPU_BLOCK;
    const int tap = (i / CPU_BLOCK) % taps;
    const int c = (i / (CPU_BLOCK * taps)) % in_per_group;
    const int block = (i / (CPU_BLOCK * taps * in_per_group)) % blocks;
    const int group = i / (CPU_BLOCK * taps * in_per_group * blocks);
    const int within = block * CPU_BLOCK + o;
    blocked[i] = within < out_per_group
                     ? w[((group * out_per_group + within) * in_per_group + c) * taps + tap]
                     : 0.0f;
}

__kernel CPU_KERNEL_ATTRIBUTES void conv2d_cpu(__global const float *x, __global const float *blocked,
                         __global const float *bias, int has_bias, __global float *y, int N, int C,
                         int H, int W, int K, int OH, int OW, int KH, int KW, int SH, int SW,
                         int DH, int DW, int PH, int PW, int groups, float alpha, float beta) {
    /* the convolution's rows and columns that reach y: with a fused 2x2 max pool, all but a last
     * odd one */
    const int rows = SV_MAX_POOL ? OH / 2 * 2 : OH, cols = SV_MAX_POOL ? OW / 2 * 2 : OW;
    /* the last block of a row slides left to end at the row's end (recomputing a few pixels
     * its neighbour also writes, with the same values), so every block is a full one; with
     * pooling CPU_PIXELS is even, so blocks start on even columns */
    const int ow0 = min((int)get_global_id(0) * CPU_PIXELS, max(cols - CPU_PIXELS, 0));
    const int oh0 = get_global_id(1) * CPU_ROWS;
    const int z = get_global_id(2);
    const int in_per_group = C / groups;
    const int out_per_group = K / groups;
    const int blocks = (out_per_group + CPU_BLOCK - 1) / CPU_BLOCK;
    const int n = z / (groups * blocks);
    const int group = (z / blocks) % groups;
    const int block = z % blocks;
    if (ow0 >= cols || oh0 + CPU_ROWS > rows || n >= N)
        return;

    const int col_first = ow0 * SW - PW;
    /* every pixel of the block is an output (true but in rows narrower than a block) */
    const int full = ow0 + CPU_PIXELS <= cols;
    __global const float *wb =
        blocked + (size_t)(group * blocks + block) * in_per_group * KH * KW * CPU_BLOCK;
    __global const float *xg = x + ((size_t)n * C + group * in_per_group) * H * W;
    /* the block's sums before bias and activation, row by row: CPU_REG_ROWS rows a pass keep
     * their accumulators in registers together, sharing each weight vector loaded */
    float lanes[CPU_ROWS][CPU_PIXELS][CPU_BLOCK];
    for (int pass = 0; pass < CPU_ROWS; pass += CPU_REG_ROWS) {
        floatV acc[CPU_REG_ROWS][CPU_PIXELS][CPU_VECS];
        #pragma unroll
        for (int q = 0; q < CPU_REG_ROWS; q++)
            #pragma unroll
            for (int p = 0; p < CPU_PIXELS; p++)
                #pragma unroll
                for (int v = 0; v < CPU_VECS; v++)
                    acc[q][p][v] = (floatV)(0.0f);
        for (int c = 0; c < in_per_group; c++) {
            __global const float *xc = xg + (size_t)c * H * W;
            for (int r = 0; r < KH; r++) {
                /* the input row each output row of the block reads with this kernel row */
                __global const float *xr[CPU_REG_ROWS];
                int row_in[CPU_REG_ROWS], any_row = 0;
                #pragma unroll
                for (int q = 0; q < CPU_REG_ROWS; q++) {
                    const int row = sv_pad_source((oh0 + pass + q) * SH - PH + r * DH, H);
                    row_in[q] = row >= 0;
                    any_row |= row_in[q];
                    xr[q] = xc + max(row, 0) * W;
                }
                if (!any_row)
                    continue;
                __global const float *wr = wb + ((c * KH + r) * KW) * CPU_BLOCK;
                for (int s = 0; s < KW; s++) {
                    floatV wv[CPU_VECS];
                    #pragma unroll
                    for (int v = 0; v < CPU_VECS; v++)
                        wv[v] = vloadV(s * CPU_VECS + v, wr);
                    /* the columns this tap reads for the block's pixels all lie inside the row:
                     * no padding arithmetic (only taps over a padded border take the path below) */
                    const int col_s = col_first + s * DW;
                    if (full && col_s >= 0 && col_s + (CPU_PIXELS - 1) * SW < W) {
                        #pragma unroll
                        for (int q = 0; q < CPU_REG_ROWS; q++) {
                            if (!row_in[q])
                                continue;
                            __global const float *xs = xr[q] + col_s;
                            #pragma unroll
                            for (int p = 0; p < CPU_PIXELS; p++) {
                                const floatV xv = (floatV)(xs[p * SW]);
                                #pragma unroll
                                for (int v = 0; v < CPU_VECS; v++)
                                    acc[q][p][v] = fma(xv, wv[v], acc[q][p][v]);
                            }
                        }
                        continue;
                    }
#if SV_PAD_MODE == SV_PAD_ZERO
                    /* a padded column adds nothing: only pixels p_lo..p_hi-1 read inside the row
                     * (p_lo the first with col_s + p * SW >= 0, p_hi - 1 the last with < W) */
                    const int p_lo = col_s < 0 ? (SW - 1 - col_s) / SW : 0;
                    const int p_hi = min(cols - ow0, (W - 1 - col_s + SW) / SW);
#endif
                    #pragma unroll
                    for (int q = 0; q < CPU_REG_ROWS; q++) {
                        if (!row_in[q])
                            continue;
                        #pragma unroll
                        for (int p = 0; p < CPU_PIXELS; p++) {
#if SV_PAD_MODE == SV_PAD_ZERO
                            if (p < p_lo || p >= p_hi)
                                continue;
                            const floatV xv = (floatV)(xr[q][col_s + p * SW]);
#else
                            const int col = sv_pad_source(col_s + p * SW, W);
                            const floatV xv =
                                (floatV)((col >= 0 && ow0 + p < cols) ? xr[q][col] : 0.0f);
#endif
                            #pragma unroll
                            for (int v = 0; v < CPU_VECS; v++)
                                acc[q][p][v] = fma(xv, wv[v], acc[q][p][v]);
                        }
                    }
                }
            }
        }

        #pragma unroll
        for (int q = 0; q < CPU_REG_ROWS; q++)
            #pragma unroll
            for (int p = 0; p < CPU_PIXELS; p++)
                #pragma unroll
                for (int v = 0; v < CPU_VECS; v++)
                    vstoreV(acc[q][p][v], v, lanes[pass + q][p]);
    }

    const int oc0 = group * out_per_group + block * CPU_BLOCK;
    const int valid = min(CPU_BLOCK, out_per_group - block * CPU_BLOCK);
    const int pixels = min(CPU_PIXELS, cols - ow0);
    for (int o = 0; o < valid; o++) {
        const float b = has_bias ? bias[oc0 + o] : 0.0f;
#if SV_MAX_POOL
        /* each 2x2 window of activated values, into y's row oh0 / 2 from column ow0 / 2 */
        __global float *yo = y + (((size_t)n * K + oc0 + o) * (OH / 2) + oh0 / 2) * (OW / 2) +
                             ow0 / 2;
        for (int p = 0; p < pixels; p += 2) {
            float best = sv_activate(lanes[0][p][o] + b, alpha, beta);
            best = sv_pool_max(best, sv_activate(lanes[0][p + 1][o] + b, alpha, beta));
            best = sv_pool_max(best, sv_activate(lanes[1][p][o] + b, alpha, beta));
            best = sv_pool_max(best, sv_activate(lanes[1][p + 1][o] + b, alpha, beta));
            yo[p / 2] = best;
        }
#else
        __global float *yo = y + (((size_t)n * K + oc0 + o) * OH + oh0) * OW + ow0;
        for (int p = 0; p < pixels; p++)
            yo[p] = sv_activate(lanes[0][p][o] + b, alpha, beta);
#endif
    }
}
