/* The batched matrix product of Winograd convolution shaped for CPU devices (pocl): the product
 * of conv_winograd_gemm.cl, transposed,
 *     M[b] (P x K_g) = V[b]^T U[b],   V[b]: C_g x P at work + b * C_g * P,
 *                                     M[b]: P x K_g at work + m_offset + b * P * K_g,
 * without local memory or barriers. M is tile-major, so that a tile's channels are contiguous
 * (the CPU-shaped output transform reads them as vectors, conv_winograd.cl). U comes in its own
 * layout, each row padded from K_g to K_pad (K_g rounded up to 16) with zeros: U[b] is
 * C_g x K_pad at u + b * C_g * K_pad, so that every weight vector is whole.
 *
 * A work-item computes WC_VECS vectors of 16 output channels (k) times WC_TILES tiles (p), its
 * accumulators in registers (a last block of fewer than WC_VECS vectors multiplies zeros in the
 * others): per input channel it loads WC_VECS weight vectors and broadcasts
 * WC_TILES values of V, WC_VECS * WC_TILES multiply-adds. Work-items next to each other along p
 * read the same weights, which stay in cache. Tiles past P read V's last column (their sums are
 * never stored). Build options: WC_VECS, WC_TILES, CPU_WIDE_VECTORS (common.clh says why). */

#define WC_BLOCK (16 * WC_VECS) /* output channels per work-item */

__kernel CPU_KERNEL_ATTRIBUTES void winograd_gemm_cpu(__global const float *u, __global float *work,
                                                      int m_offset, int K_g, int C_g, int P) {
    const int p0 = get_global_id(0) * WC_TILES;
    const int k0 = get_global_id(1) * WC_BLOCK;
    const int b = get_global_id(2);
    if (p0 >= P || k0 >= K_g)
        return;
    const int K_pad = (K_g + 15) / 16 * 16, vecs = min(WC_VECS, (K_pad - k0) / 16);
    __global const float *ub = u + (size_t)b * C_g * K_pad + k0;
    __global const float *vb = work + (size_t)b * C_g * P;
    int col[WC_TILES];
    #pragma unroll
    for (int j = 0; j < WC_TILES; j++)
        col[j] = min(p0 + j, P - 1);

    float16 acc[WC_TILES][WC_VECS];
    #pragma unroll
    for (int j = 0; j < WC_TILES; j++)
        #pragma unroll
        for (int v = 0; v < WC_VECS; v++)
            acc[j][v] = (float16)(0.0f);
    for (int c = 0; c < C_g; c++) {
        float16 uv[WC_VECS];
        #pragma unroll
        for (int v = 0; v < WC_VECS; v++)
            uv[v] = v < vecs ? vload16(v, ub + (size_t)c * K_pad) : (float16)(0.0f);
        __global const float *vc = vb + (size_t)c * P;
        #pragma unroll
        for (int j = 0; j < WC_TILES; j++) {
            const float16 s = (float16)(vc[col[j]]);
            #pragma unroll
            for (int v = 0; v < WC_VECS; v++)
                acc[j][v] = fma(uv[v], s, acc[j][v]);
        }
    }

    /* each accumulator is 16 channels of one tile, contiguous in M but for the last channels */
    __global float *mb = work + m_offset + (size_t)b * P * K_g;
    #pragma unroll
    for (int j = 0; j < WC_TILES; j++) {
        if (p0 + j >= P)
            break;
        __global float *mt = mb + (size_t)(p0 + j) * K_g + k0;
        #pragma unroll
        for (int v = 0; v < WC_VECS; v++) {
            const int k = k0 + 16 * v;
            if (k + 16 <= K_g) {
                vstore16(acc[j][v], v, mt);
            } else if (k < K_g) {
                float lane[16];
                vstore16(acc[j][v], 0, lane);
                for (int l = 0; l < K_g - k; l++)
                    mt[16 * v + l] = lane[l];
            }
        }
    }
}
