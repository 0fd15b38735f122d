/* Implicit-GEMM convolution shaped for GPUs, NCHW (1-D runs with H = 1), any stride, dilation,
 * groups and padding mode. Per group the convolution is the matrix product
 *     Y[m][n] = sum_k A[m][k] B[k][n]
 * m: output channel of the group (gm = K / groups), n: output pixel over the batch
 * (gn = N x OH x OW), k: input channel of the group, kernel row, kernel column
 * (gk = C / groups x KH x KW). A is the weight, arranged once by igemm_arrange_weights as
 * [group][k_pad][m_pad] (k-major, zero-padded) so that a tile's rows are contiguous float4s;
 * B is the input's im2col matrix, never stored: tiles of it are gathered with the convolution's
 * index math (padding modes through sv_pad_source) as they are loaded.
 *
 * A work-group computes an IG_TM x IG_TN tile of Y with IG_TX x IG_TY work-items. Work-item
 * (tx, ty) keeps an IG_WM x IG_WN register block: rows ty + i * IG_TY, columns tx + j * IG_TX,
 * strided by the work-group's extent so that a warp's local reads hit consecutive words or one
 * broadcast word (no bank conflicts) and its stores to Y are consecutive pixels (coalesced). Each
 * step brings an IG_TK-deep slice of A and B into local memory, double-buffered: the next slice is
 * fetched into registers while the current one is multiplied, one barrier a step. Decoding a row
 * index k of B into (channel, kernel row, kernel column) takes two divisions; IG_TK work-items do
 * it once per row into a small local table, a step ahead, instead of every work-item for every
 * element it loads.
 *
 * Build options: SV_ACT, SV_PAD_MODE; IG_TM, IG_TN, IG_TK, IG_WM, IG_WN (the tile); IG_SPLIT (1:
 * the work-groups along the third axis are (group, K slice) pairs that store raw partial sums of
 * their slice into `partial`, igemm_reduce finishes); IG_POINTWISE (1: 1x1 kernel, stride 1, no
 * padding, so B is the input itself, read with no index math); IG_VEC_B (1, pointwise with
 * H x W a multiple of 4 only: B is read as aligned float4s, four pixels of one image). */

#define IG_TX (IG_TN / IG_WN) /* work-items along n */
#define IG_TY (IG_TM / IG_WM) /* work-items along m */
#define IG_THREADS (IG_TX * IG_TY)
#define IG_A_LOADS (IG_TK * IG_TM / 4 / IG_THREADS) /* float4s of A per work-item and step */
#if IG_VEC_B
#define IG_B_VEC 4
typedef float4 ig_b_load;
#else
#define IG_B_VEC 1
typedef float ig_b_load;
#endif
#define IG_B_LOADS (IG_TK * IG_TN / IG_B_VEC / IG_THREADS) /* B loads per work-item and step */
#define IG_B_ROWS (IG_THREADS * IG_B_VEC / IG_TN)        /* rows of B the work-group loads at once */

#if IG_THREADS * IG_B_VEC % IG_TN != 0 || (IG_TK * IG_TM / 4) % IG_THREADS != 0 ||            \
    (IG_TK * IG_TN / IG_B_VEC) % IG_THREADS != 0 || IG_TM % 4 != 0 || (IG_VEC_B && !IG_POINTWISE)
#error "tile shape: every work-item must load whole float4s of A and fixed columns of B"
#endif

/* One element per work-item: out[group][k][m] = w[group * gm + m][k], zero past gm and gk. */
__kernel void igemm_arrange_weights(__global const float *w, __global float *out, int gm, int gk,
                                    int m_pad, int k_pad, int groups) {
    const size_t i = get_global_id(0);
    if (i >= (size_t)groups * k_pad * m_pad)
        return;
    const int m = i % m_pad;
    const int k = (i / m_pad) % k_pad;
    const size_t group = i / ((size_t)m_pad * k_pad);
    out[i] = m < gm && k < gk ? w[(group * gm + m) * gk + k] : 0.0f;
}

#if !IG_POINTWISE
/* Where row k of B reads: the channel plane's offset, the kernel row's and column's offsets into
 * the (dilated) window; a channel offset of -1 past gk. */
inline int4 ig_row_source(int k, int gk, int KH, int KW, int H, int W, int DH, int DW) {
    if (k >= gk)
        return (int4)(-1, 0, 0, 0);
    const int c = k / (KH * KW), rs = k - c * KH * KW;
    const int r = rs / KW, s = rs - r * KW;
    return (int4)(c * H * W, r * DH, s * DW, 0);
}
#endif

__kernel __attribute__((reqd_work_group_size(IG_TX, IG_TY, 1))) void
conv2d_igemm(__global const float *x, __global const float *wt, __global const float *bias,
             int has_bias, __global float *y, int N, int C, int H, int W, int K, int OH, int OW,
             int KH, int KW, int SH, int SW, int DH, int DW, int PH, int PW, int groups,
             int m_pad, int k_pad, __global float *partial, int k_per_slice, int slices,
             float alpha, float beta) {
    __local float a_tile[2 * IG_TK * IG_TM];
    __local float b_tile[2 * IG_TK * IG_TN];

    const int gm = K / groups, gn = N * OH * OW, cg = C / groups, gk = cg * KH * KW;
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int lid = ty * IG_TX + tx;
    const int m0 = get_group_id(1) * IG_TM, n0 = get_group_id(0) * IG_TN;
    const int group = get_group_id(2) / slices, slice = get_group_id(2) % slices;
    const int k_begin = slice * k_per_slice;
    const int steps = (min(k_begin + k_per_slice, k_pad) - k_begin) / IG_TK;
    __global const float *wg = wt + (size_t)group * k_pad * m_pad;

    /* the columns of B this work-item loads (IG_B_VEC from b_col), its first row within a step */
    const int b_col = lid % (IG_TN / IG_B_VEC) * IG_B_VEC, b_row = lid / (IG_TN / IG_B_VEC);
    const int n_load = n0 + b_col, n_ok = n_load < gn;
    const int ohw = OH * OW;
    const int img = n_ok ? n_load / ohw : 0, pix = n_ok ? n_load - img * ohw : 0;
    const int x_img = (img * C + group * cg) * H * W;
#if IG_POINTWISE
    const int hw = H * W; /* = ohw */
#else
    __local int4 rows[2 * IG_TK];
    const int oh = pix / OW, ow = pix - oh * OW;
    const int row0 = oh * SH - PH, col0 = ow * SW - PW;
    if (lid < IG_TK)
        rows[lid] = ig_row_source(k_begin + lid, gk, KH, KW, H, W, DH, DW);
    barrier(CLK_LOCAL_MEM_FENCE);
#endif

    float acc[IG_WM * IG_WN];
    for (int i = 0; i < IG_WM * IG_WN; i++)
        acc[i] = 0.0f;
    float4 a_next[IG_A_LOADS];
    ig_b_load b_next[IG_B_LOADS];
    /* Iteration s fetches step s's slices into registers while it multiplies step s - 1's out of
     * local buffer (s - 1) & 1, then stores them into buffer s & 1, whose last reader was the
     * product of iteration s - 1: double buffering with one barrier a step. */
    for (int s = 0; s <= steps; s++) {
        const int k0 = k_begin + s * IG_TK;
        if (s < steps) {
            for (int i = 0; i < IG_A_LOADS; i++) {
                const int e = lid + i * IG_THREADS, m = m0 + 4 * (e % (IG_TM / 4));
                const int k = k0 + e / (IG_TM / 4);
                a_next[i] =
                    m < m_pad ? *(__global const float4 *)(wg + k * m_pad + m) : (float4)(0.0f);
            }
            for (int i = 0; i < IG_B_LOADS; i++) {
#if IG_POINTWISE
                const int k = k0 + b_row + i * IG_B_ROWS;
                __global const float *src = x + x_img + k * hw + pix;
#if IG_VEC_B
                /* gn is a multiple of 4 too: the 4 pixels are all outputs or none */
                b_next[i] = n_ok && k < gk ? *(__global const float4 *)src : (float4)(0.0f);
#else
                b_next[i] = n_ok && k < gk ? *src : 0.0f;
#endif
#else
                const int4 src = rows[(s & 1) * IG_TK + b_row + i * IG_B_ROWS];
                const int row = sv_pad_source(row0 + src.y, H);
                const int col = sv_pad_source(col0 + src.z, W);
                b_next[i] = n_ok && src.x >= 0 && row >= 0 && col >= 0
                                ? x[x_img + src.x + row * W + col]
                                : 0.0f;
#endif
            }
        }
#if !IG_POINTWISE
        /* step s + 1's table replaces step s - 1's, whose last reader was iteration s - 1 */
        if (lid < IG_TK)
            rows[((s + 1) & 1) * IG_TK + lid] =
                ig_row_source(k0 + IG_TK + lid, gk, KH, KW, H, W, DH, DW);
#endif
        if (s > 0)
            SV_TILE_PRODUCT(acc, a_tile + ((s - 1) & 1) * IG_TK * IG_TM + ty,
                            b_tile + ((s - 1) & 1) * IG_TK * IG_TN + tx, IG_TK, IG_TM, IG_TN,
                            IG_WM, IG_WN, IG_TY, IG_TX);
        if (s < steps) {
            __local float *at = a_tile + (s & 1) * IG_TK * IG_TM;
            for (int i = 0; i < IG_A_LOADS; i++) {
                const int e = lid + i * IG_THREADS;
                vstore4(a_next[i], 0, at + e / (IG_TM / 4) * IG_TM + 4 * (e % (IG_TM / 4)));
            }
            __local float *bt = b_tile + (s & 1) * IG_TK * IG_TN + b_col;
            for (int i = 0; i < IG_B_LOADS; i++)
#if IG_VEC_B
                vstore4(b_next[i], 0, bt + (b_row + i * IG_B_ROWS) * IG_TN);
#else
                bt[(b_row + i * IG_B_ROWS) * IG_TN] = b_next[i];
#endif
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

#if IG_SPLIT
    const size_t y_count = (size_t)N * K * ohw;
#endif
    for (int j = 0; j < IG_WN; j++) {
        const int n = n0 + tx + j * IG_TX;
        if (n >= gn)
            break;
        const int n_img = n / ohw;
        const int y_pix = n_img * K * ohw + (n - n_img * ohw);
        for (int i = 0; i < IG_WM; i++) {
            const int m = m0 + ty + i * IG_TY;
            if (m >= gm)
                break;
            const int oc = group * gm + m;
#if IG_SPLIT
            partial[slice * y_count + y_pix + oc * ohw] = acc[i * IG_WN + j];
#else
            const float v = acc[i * IG_WN + j] + (has_bias ? bias[oc] : 0.0f);
            y[y_pix + oc * ohw] = sv_activate(v, alpha, beta);
#endif
        }
    }
}

/* Split-K's second pass: y = activation(sum of the slices' partial sums + bias), one element per
 * work-item; `partial` holds `slices` arrays shaped like y. */
__kernel void igemm_reduce(__global const float *partial, int slices, __global const float *bias,
                           int has_bias, __global float *y, int count, int K, int ohw,
                           float alpha, float beta) {
    const int i = get_global_id(0);
    if (i >= count)
        return;
    float v = has_bias ? bias[i / ohw % K] : 0.0f;
    for (int s = 0; s < slices; s++)
        v += partial[(size_t)s * count + i];
    y[i] = sv_activate(v, alpha, beta);
}
