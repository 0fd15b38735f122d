/* The batched matrix product of Winograd convolution (conv_winograd.cl): for every batch entry
 * b = xi * groups + group,
 *     M[b] (K_g x P) = U[b]^T V[b],   U[b]: C_g x K_g,  V[b]: C_g x P,   all row-major,
 * U[b] at u + b * C_g * K_g; V[b] at work + b * C_g * P and M[b] at work + m_offset + b * K_g * P
 * (V and M share the run's workspace).
 *
 * Shaped for GPUs: a work-group computes a TILE x TILE block of M (rows k, columns p) with
 * (TILE / 4)^2 work-items of 4 x 4 results each, kept in registers. Both operands stream through
 * local memory in slices of TK input channels, each slice read from global memory along its
 * contiguous axis (k for U, p for V: the reason U is stored transposed). A work-item's results
 * are strided by TILE / 4 rows and columns, so that neighbouring work-items read neighbouring
 * local-memory words (no bank conflicts) and store neighbouring words of M (coalesced). K_g, C_g
 * and P need not be multiples of anything: the loads past the ends read zeros and the stores past
 * them are skipped. Build options: TILE (a multiple of 4). */

#define TK 16
#define STEP (TILE / 4) /* work-items along each axis of the work-group */

__kernel __attribute__((reqd_work_group_size(STEP, STEP, 1))) void
winograd_gemm(__global const float *u, __global float *work, int m_offset, int K_g, int C_g,
              int P) {
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int p0 = get_group_id(0) * TILE, k0 = get_group_id(1) * TILE;
    const int b = get_group_id(2);
    __global const float *ub = u + (size_t)b * C_g * K_g;
    __global const float *vb = work + (size_t)b * C_g * P;
    __local float ul[TK][TILE], vl[TK][TILE];
    float acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            acc[i][j] = 0.0f;
    const int lid = ty * STEP + tx;
    for (int c0 = 0; c0 < C_g; c0 += TK) {
        for (int e = lid; e < TK * TILE; e += STEP * STEP) {
            const int r = e / TILE, col = e % TILE, c = c0 + r;
            ul[r][col] = c < C_g && k0 + col < K_g ? ub[c * K_g + k0 + col] : 0.0f;
            vl[r][col] = c < C_g && p0 + col < P ? vb[c * P + p0 + col] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TK; kk++) {
            float a[4], bv[4];
            for (int i = 0; i < 4; i++)
                a[i] = ul[kk][ty + i * STEP];
            for (int j = 0; j < 4; j++)
                bv[j] = vl[kk][tx + j * STEP];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    acc[i][j] = fma(a[i], bv[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global float *mb = work + m_offset + (size_t)b * K_g * P;
    for (int i = 0; i < 4; i++) {
        const int k = k0 + ty + i * STEP;
        for (int j = 0; j < 4; j++) {
            const int p = p0 + tx + j * STEP;
            if (k < K_g && p < P)
                mb[k * P + p] = acc[i][j];
        }
    }
}
