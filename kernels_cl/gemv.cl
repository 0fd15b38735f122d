/* Gemm with few rows (host/ops/gemv.c): y[m, n] = act(alpha * sum over k of opA[m, k] * opB[k, n]
 * + beta * C[m, n]) in one pass over B. The product is bound by reading B, so every kernel keeps
 * the partial sums of all GEMV_ROWS rows of op(A) in registers and reads each element of B once
 * for all of them; A is small and stays in cache.
 *
 * Two shapes, by device type:
 *  - CPU devices (gemv_cpu_*): no local memory, no barriers; each work-item computes whole
 *    outputs with explicit GEMV_VEC-wide vector loads (float8/float16);
 *  - GPUs (gemv_gpu_*): a work-group shares each output among several work-items, which read
 *    neighbouring addresses together, and adds their partial sums in local memory.
 * And two layouts of B:
 *  - B transposed ([N, K], *_bt): output n is the dot product with row n of B, contiguous along K;
 *  - B plain ([K, N], *_bn): consecutive outputs read consecutive columns of each row of B.
 *
 * Build options: SV_ACT (activation), GEMV_ROWS (rows of op(A), M), GEMV_TRANS_A (A stored [K, M]),
 * GEMV_VEC (8 or 16); for gemv_cpu_bt GEMV_CPU_OUTS (outputs per work-item), GEMV_CPU_PAIR (of
 * them in registers at a time) and GEMV_CPU_KBLOCK (terms of K per block, a multiple of
 * GEMV_VEC); for gemv_cpu_bn GEMV_CPU_VECS (vectors of columns per work-item); for gemv_gpu_bt
 * GEMV_GPU_LANES and GEMV_GPU_OUTS (work-items per output, outputs per work-group); for
 * gemv_gpu_bn GEMV_GPU_COLS and GEMV_GPU_SPLIT (columns per work-group, slices of K per column);
 * GEMV_UNROLL_HINT (1 on CPU devices: see GEMV_UNROLL).
 *
 * Every kernel takes the same arguments: A, B, C (B's buffer, never read, when has_c is 0),
 * has_c, C's strides broadcast to [M, N] (0 along an axis C has size 1 in), alpha, beta, the
 * activation's parameters, y ([M, N], row-major), N and K. */

/* Loops over the private arrays that hold partial sums must unroll for the arrays to live in
 * registers: pocl's compiler keeps them in memory otherwise, and it ignores #pragma unroll there,
 * so CPU devices (GEMV_UNROLL_HINT) get OpenCL C 2.0's hint, which clang takes in OpenCL C 1.x
 * too; other compilers (GPU drivers) get the pragma every OpenCL C compiler knows. */
#if GEMV_UNROLL_HINT
#define GEMV_UNROLL __attribute__((opencl_unroll_hint))
#else
#define GEMV_UNROLL _Pragma("unroll")
#endif

#define GEMV_CAT(a, b) a##b
#define GEMV_XCAT(a, b) GEMV_CAT(a, b)
#define floatV GEMV_XCAT(float, GEMV_VEC)
#define vloadV GEMV_XCAT(vload, GEMV_VEC)
#define vstoreV GEMV_XCAT(vstore, GEMV_VEC)

/* opA[m, k] */
#if GEMV_TRANS_A
#define A_AT(m, k) a[(k)*GEMV_ROWS + (m)]
#else
#define A_AT(m, k) a[(m)*K + (k)]
#endif

/* y[m, n] = act(alpha * sum + beta * C[m, n]); C is read right before y is written, so that C
 * may be y itself. */
inline void gemv_store(__global float *y, __global const float *c, int has_c, int c_row_stride,
                       int c_col_stride, float alpha, float beta, float act_alpha, float act_beta,
                       int N, int m, int n, float sum) {
    float v = alpha * sum;
    /* the formula taken literally: beta = 0 still multiplies C, so a NaN in C shows */
    if (has_c)
        v += beta * c[m * c_row_stride + n * c_col_stride];
    y[m * N + n] = sv_activate(v, act_alpha, act_beta);
}

#define GEMV_PARAMS                                                                                \
    __global const float *a, __global const float *b, __global const float *c, int has_c,         \
        int c_row_stride, int c_col_stride, float alpha, float beta, float act_alpha,              \
        float act_beta, __global float *y, int N, int K
#define GEMV_STORE(m, n, sum)                                                                      \
    gemv_store(y, c, has_c, c_row_stride, c_col_stride, alpha, beta, act_alpha, act_beta, N, m, n, \
               sum)

/* --- CPU devices ------------------------------------------------------------------------- */

/* opA[m, k .. k + GEMV_VEC - 1] */
inline floatV gemv_a_vec(__global const float *a, int m, int k, int K) {
#if GEMV_TRANS_A
    float lanes[GEMV_VEC];
    GEMV_UNROLL
    for (int i = 0; i < GEMV_VEC; i++)
        lanes[i] = A_AT(m, k + i);
    return vloadV(0, lanes);
#else
    return vloadV(0, a + m * K + k);
#endif
}

inline float gemv_sum_lanes(floatV v) {
#if GEMV_VEC == 16
    const float8 h = v.lo + v.hi;
#else
    const float8 h = v;
#endif
    const float4 q = h.lo + h.hi;
    const float2 d = q.lo + q.hi;
    return d.x + d.y;
}

/* B [N, K]: each work-item computes GEMV_CPU_OUTS consecutive outputs, all rows. It walks K in
 * blocks of GEMV_CPU_KBLOCK, so that the block of A stays in the core's cache while the
 * work-item's rows of B stream past it, GEMV_CPU_PAIR rows at a time held in vector registers,
 * GEMV_VEC terms per load; the last K % GEMV_VEC terms are added one by one. */
__kernel void gemv_cpu_bt(GEMV_PARAMS) {
    const int n0 = get_global_id(0) * GEMV_CPU_OUTS;
    if (n0 >= N)
        return;
    float sum[GEMV_ROWS][GEMV_CPU_OUTS];
    for (int m = 0; m < GEMV_ROWS; m++)
        for (int o = 0; o < GEMV_CPU_OUTS; o++)
            sum[m][o] = 0.0f;
    const int k_vec = K - K % GEMV_VEC;
    for (int k0 = 0; k0 < k_vec; k0 += GEMV_CPU_KBLOCK) {
        const int k1 = min(k0 + GEMV_CPU_KBLOCK, k_vec);
        for (int o0 = 0; o0 < GEMV_CPU_OUTS && n0 + o0 < N; o0 += GEMV_CPU_PAIR) {
            /* past the last output the work-item re-reads row N - 1 and stores nothing, so
             * that the loop below has no branches */
            int row[GEMV_CPU_PAIR];
            GEMV_UNROLL
            for (int o = 0; o < GEMV_CPU_PAIR; o++)
                row[o] = min(n0 + o0 + o, N - 1) * K;
            floatV acc[GEMV_ROWS][GEMV_CPU_PAIR];
            GEMV_UNROLL
            for (int m = 0; m < GEMV_ROWS; m++)
                GEMV_UNROLL
                for (int o = 0; o < GEMV_CPU_PAIR; o++)
                    acc[m][o] = (floatV)(0.0f);
            for (int k = k0; k < k1; k += GEMV_VEC) {
                floatV bv[GEMV_CPU_PAIR];
                GEMV_UNROLL
                for (int o = 0; o < GEMV_CPU_PAIR; o++)
                    bv[o] = vloadV(0, b + row[o] + k);
                GEMV_UNROLL
                for (int m = 0; m < GEMV_ROWS; m++) {
                    const floatV av = gemv_a_vec(a, m, k, K);
                    GEMV_UNROLL
                    for (int o = 0; o < GEMV_CPU_PAIR; o++)
                        acc[m][o] = fma(av, bv[o], acc[m][o]);
                }
            }
            GEMV_UNROLL
            for (int m = 0; m < GEMV_ROWS; m++)
                GEMV_UNROLL
                for (int o = 0; o < GEMV_CPU_PAIR; o++)
                    sum[m][o0 + o] += gemv_sum_lanes(acc[m][o]);
        }
    }
    for (int o = 0; o < GEMV_CPU_OUTS && n0 + o < N; o++)
        for (int m = 0; m < GEMV_ROWS; m++) {
            __global const float *brow = b + (n0 + o) * K;
            float total = sum[m][o];
            for (int k = k_vec; k < K; k++)
                total = fma(A_AT(m, k), brow[k], total);
            GEMV_STORE(m, n0 + o, total);
        }
}

#define GEMV_CPU_STRIP (GEMV_CPU_VECS * GEMV_VEC)

/* B [K, N]: each work-item computes a strip of GEMV_CPU_STRIP consecutive outputs, all rows,
 * reading the strip of every row of B as GEMV_CPU_VECS vectors (whole cache lines). The last
 * strip slides left to end at column N, so that every strip is a full one; it stores only its
 * own columns (the others are its neighbour's, which may already have overwritten C when C is
 * y). With fewer columns than a strip, one work-item sums them in memory, row by row. */
__kernel void gemv_cpu_bn(GEMV_PARAMS) {
    const int own = get_global_id(0) * GEMV_CPU_STRIP;
    if (own >= N)
        return;
    const int n0 = max(min(own, N - GEMV_CPU_STRIP), 0);
    const int width = min(N, GEMV_CPU_STRIP);
    float sum[GEMV_ROWS * GEMV_CPU_STRIP];
    if (N < GEMV_CPU_STRIP) {
        for (int i = 0; i < GEMV_ROWS * GEMV_CPU_STRIP; i++)
            sum[i] = 0.0f;
        for (int k = 0; k < K; k++)
            for (int m = 0; m < GEMV_ROWS; m++) {
                const float av = A_AT(m, k);
                for (int n = 0; n < N; n++)
                    sum[m * GEMV_CPU_STRIP + n] =
                        fma(av, b[k * N + n], sum[m * GEMV_CPU_STRIP + n]);
            }
    } else {
        floatV acc[GEMV_ROWS][GEMV_CPU_VECS];
        GEMV_UNROLL
        for (int m = 0; m < GEMV_ROWS; m++)
            GEMV_UNROLL
            for (int v = 0; v < GEMV_CPU_VECS; v++)
                acc[m][v] = (floatV)(0.0f);
        for (int k = 0; k < K; k++) {
            floatV bv[GEMV_CPU_VECS];
            GEMV_UNROLL
            for (int v = 0; v < GEMV_CPU_VECS; v++)
                bv[v] = vloadV(v, b + k * N + n0);
            GEMV_UNROLL
            for (int m = 0; m < GEMV_ROWS; m++) {
                const floatV av = (floatV)(A_AT(m, k));
                GEMV_UNROLL
                for (int v = 0; v < GEMV_CPU_VECS; v++)
                    acc[m][v] = fma(av, bv[v], acc[m][v]);
            }
        }
        GEMV_UNROLL
        for (int m = 0; m < GEMV_ROWS; m++)
            GEMV_UNROLL
            for (int v = 0; v < GEMV_CPU_VECS; v++)
                vstoreV(acc[m][v], m * GEMV_CPU_VECS + v, sum);
    }
    for (int m = 0; m < GEMV_ROWS; m++)
        for (int j = own - n0; j < width; j++)
            GEMV_STORE(m, n0 + j, sum[m * GEMV_CPU_STRIP + j]);
}

/* --- GPUs ---------------------------------------------------------------------------------- */

/* Adds the GEMV_ROWS partial sums of `count` work-items `stride` apart in part (GEMV_ROWS
 * blocks of `size`), halving the distance each step; `index` is the work-item's place among
 * them, and the first of them ends with the totals. count is a power of two. */
inline void gemv_reduce(__local float *part, int size, int lid, int index, int count,
                        int stride) {
    for (int s = count / 2; s > 0; s /= 2) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (index < s)
            for (int m = 0; m < GEMV_ROWS; m++)
                part[m * size + lid] += part[m * size + lid + s * stride];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* Four consecutive floats from i * 4 on: one aligned float4 load where the address allows it
 * (rows of a length divisible by 4 in a buffer aligned as OpenCL's are), else vload4. */
inline float4 gemv_load4(__global const float *p, int i, int aligned) {
    return aligned ? ((__global const float4 *)p)[i] : vload4(i, p);
}

#define GEMV_GPU_BT_SIZE (GEMV_GPU_LANES * GEMV_GPU_OUTS)

/* B [N, K]: GEMV_GPU_LANES work-items share each output and stride along its row of B together,
 * float4 by float4 (neighbouring work-items, neighbouring addresses); their sums meet in local
 * memory. A work-group computes GEMV_GPU_OUTS outputs. */
__kernel __attribute__((reqd_work_group_size(GEMV_GPU_BT_SIZE, 1, 1))) void
gemv_gpu_bt(GEMV_PARAMS) {
    __local float part[GEMV_ROWS * GEMV_GPU_BT_SIZE];
    const int lid = get_local_id(0);
    const int lane = lid % GEMV_GPU_LANES;
    const int n = get_group_id(0) * GEMV_GPU_OUTS + lid / GEMV_GPU_LANES;
    /* past the last output the work-items re-read row N - 1 and store nothing: every work-item
     * must reach the barriers */
    __global const float *brow = b + min(n, N - 1) * K;
    const int aligned = K % 4 == 0;
    const int k4 = K / 4;
    float4 acc[GEMV_ROWS];
    GEMV_UNROLL
    for (int m = 0; m < GEMV_ROWS; m++)
        acc[m] = (float4)(0.0f);
    for (int i = lane; i < k4; i += GEMV_GPU_LANES) {
        const float4 bv = gemv_load4(brow, i, aligned);
        GEMV_UNROLL
        for (int m = 0; m < GEMV_ROWS; m++) {
#if GEMV_TRANS_A
            const float4 av = (float4)(A_AT(m, 4 * i), A_AT(m, 4 * i + 1), A_AT(m, 4 * i + 2),
                                       A_AT(m, 4 * i + 3));
#else
            const float4 av = gemv_load4(a + m * K, i, aligned);
#endif
            acc[m] = fma(av, bv, acc[m]);
        }
    }
    /* the last K % 4 terms, one per work-item */
    const int k = 4 * k4 + lane;
    if (lane < K % 4)
        GEMV_UNROLL
        for (int m = 0; m < GEMV_ROWS; m++)
            acc[m].x = fma(A_AT(m, k), brow[k], acc[m].x);
    GEMV_UNROLL
    for (int m = 0; m < GEMV_ROWS; m++)
        part[m * GEMV_GPU_BT_SIZE + lid] = (acc[m].x + acc[m].y) + (acc[m].z + acc[m].w);
    gemv_reduce(part, GEMV_GPU_BT_SIZE, lid, lane, GEMV_GPU_LANES, 1);
    /* the output's first GEMV_ROWS work-items store a row each */
    if (lane < GEMV_ROWS && n < N)
        GEMV_STORE(lane, n, part[lane * GEMV_GPU_BT_SIZE + lid - lane]);
}

#define GEMV_GPU_BN_SIZE (GEMV_GPU_COLS * GEMV_GPU_SPLIT)

/* B [K, N]: a work-group computes GEMV_GPU_COLS consecutive outputs, each summed over
 * GEMV_GPU_SPLIT interleaved slices of K by as many work-items; at each step the work-items of a
 * slice read consecutive columns of one row of B. The slices' sums meet in local memory. */
__kernel __attribute__((reqd_work_group_size(GEMV_GPU_BN_SIZE, 1, 1))) void
gemv_gpu_bn(GEMV_PARAMS) {
    __local float part[GEMV_ROWS * GEMV_GPU_BN_SIZE];
    const int lid = get_local_id(0);
    const int col = lid % GEMV_GPU_COLS, slice = lid / GEMV_GPU_COLS;
    const int n = get_group_id(0) * GEMV_GPU_COLS + col;
    const int column = min(n, N - 1); /* past the last output: read, store nothing */
    float acc[GEMV_ROWS];
    GEMV_UNROLL
    for (int m = 0; m < GEMV_ROWS; m++)
        acc[m] = 0.0f;
    for (int k = slice; k < K; k += GEMV_GPU_SPLIT) {
        const float bv = b[k * N + column];
        GEMV_UNROLL
        for (int m = 0; m < GEMV_ROWS; m++)
            acc[m] = fma(A_AT(m, k), bv, acc[m]);
    }
    GEMV_UNROLL
    for (int m = 0; m < GEMV_ROWS; m++)
        part[m * GEMV_GPU_BN_SIZE + lid] = acc[m];
    gemv_reduce(part, GEMV_GPU_BN_SIZE, lid, slice, GEMV_GPU_SPLIT, GEMV_GPU_COLS);
    if (slice == 0 && n < N)
        for (int m = 0; m < GEMV_ROWS; m++)
            GEMV_STORE(m, n, part[m * GEMV_GPU_BN_SIZE + col]);
}
