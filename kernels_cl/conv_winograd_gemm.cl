/* The batched matrix product of Winograd convolution (conv_winograd.cl): for every batch entry
 * b = xi * groups + group,
 *     M[b] (K_g x P) = U[b]^T V[b],   U[b]: C_g x K_g,  V[b]: C_g x P,   all row-major,
 * U[b] at u + b * C_g * K_g; V[b] at work + b * C_g * P and M[b] at work + m_offset + b * K_g * P
 * (V and M share the run's workspace).
 *
 * Shaped for GPUs like the implicit GEMM (conv_igemm.cl): a work-group computes a WG_TM x WG_TN
 * block of M (rows k, columns p) with WG_TX x WG_TY work-items, each keeping a WG_WM x WG_WN
 * register block: rows ty + i * WG_TY, columns tx + j * WG_TX, strided by the work-group's extent
 * so that neighbouring work-items read neighbouring local-memory words (no bank conflicts) and
 * store neighbouring words of M (coalesced). Both operands stream through local memory in slices
 * of WG_TK input channels, each slice read from global memory along its contiguous axis (k for U,
 * p for V: the reason U is stored transposed), double-buffered: the next slice is fetched into
 * registers while the current one is multiplied, one barrier a step. K_g, C_g and P need not be
 * multiples of anything: the loads past the ends read zeros and the stores past them are
 * skipped. Build options: WG_TM, WG_TN, WG_TK, WG_WM, WG_WN (the tile). */

#define WG_TX (WG_TN / WG_WN) /* work-items along p */
#define WG_TY (WG_TM / WG_WM) /* work-items along k */
#define WG_THREADS (WG_TX * WG_TY)
#define WG_U_LOADS (WG_TK * WG_TM / WG_THREADS) /* elements of U per work-item and step */
#define WG_V_LOADS (WG_TK * WG_TN / WG_THREADS) /* elements of V per work-item and step */

#if (WG_TK * WG_TM) % WG_THREADS != 0 || (WG_TK * WG_TN) % WG_THREADS != 0
#error "tile shape: every work-item must load as many elements of each slice"
#endif

__kernel __attribute__((reqd_work_group_size(WG_TX, WG_TY, 1))) void
winograd_gemm(__global const float *u, __global float *work, int m_offset, int K_g, int C_g,
              int P) {
    __local float u_tile[2 * WG_TK * WG_TM], v_tile[2 * WG_TK * WG_TN];
    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * WG_TX + tx;
    const int p0 = get_group_id(0) * WG_TN, k0 = get_group_id(1) * WG_TM;
    const int b = get_group_id(2);
    __global const float *ub = u + (size_t)b * C_g * K_g;
    __global const float *vb = work + (size_t)b * C_g * P;
    const int steps = (C_g + WG_TK - 1) / WG_TK;

    float acc[WG_WM * WG_WN];
    for (int i = 0; i < WG_WM * WG_WN; i++)
        acc[i] = 0.0f;
    float u_next[WG_U_LOADS], v_next[WG_V_LOADS];
    /* Iteration s fetches slice s into registers while it multiplies slice s - 1 out of local
     * buffer (s - 1) & 1, then stores slice s into buffer s & 1, whose last reader was the
     * product of iteration s - 1 (the barrier between them ends that iteration). A load's index e
     * within the slice is its place in the local buffer: row e / width, column e % width. */
    for (int s = 0; s <= steps; s++) {
        const int c0 = s * WG_TK;
        if (s < steps) {
            for (int i = 0; i < WG_U_LOADS; i++) {
                const int e = lid + i * WG_THREADS, c = c0 + e / WG_TM, k = k0 + e % WG_TM;
                u_next[i] = c < C_g && k < K_g ? ub[c * K_g + k] : 0.0f;
            }
            for (int i = 0; i < WG_V_LOADS; i++) {
                const int e = lid + i * WG_THREADS, c = c0 + e / WG_TN, p = p0 + e % WG_TN;
                v_next[i] = c < C_g && p < P ? vb[c * P + p] : 0.0f;
            }
        }
        if (s > 0)
            SV_TILE_PRODUCT(acc, u_tile + ((s - 1) & 1) * WG_TK * WG_TM + ty,
                            v_tile + ((s - 1) & 1) * WG_TK * WG_TN + tx, WG_TK, WG_TM, WG_TN,
                            WG_WM, WG_WN, WG_TY, WG_TX);
        if (s < steps) {
            for (int i = 0; i < WG_U_LOADS; i++)
                u_tile[(s & 1) * WG_TK * WG_TM + lid + i * WG_THREADS] = u_next[i];
            for (int i = 0; i < WG_V_LOADS; i++)
                v_tile[(s & 1) * WG_TK * WG_TN + lid + i * WG_THREADS] = v_next[i];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    __global float *mb = work + m_offset + (size_t)b * K_g * P;
    for (int i = 0; i < WG_WM; i++) {
        const int k = k0 + ty + i * WG_TY;
        for (int j = 0; j < WG_WN; j++) {
            const int p = p0 + tx + j * WG_TX;
            if (k < K_g && p < P)
                mb[k * P + p] = acc[i * WG_WN + j];
        }
    }
}
