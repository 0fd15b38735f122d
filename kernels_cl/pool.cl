/* Pooling, NCHW (1-D runs with H = 1): max, average, Lp and RMS over dilated, padded windows.
 *
 * pool2d: work-item (ow, oh, plane) computes one output cell. The taps that land inside the input
 * form a rectangle of the window, computed up front, so the inner loops read only input cells.
 * pool_global: one work-group of GLOBAL_GROUP work-items reduces one whole plane.
 * Build option: POOL_KIND (the sv_pool_kind number). */

#define POOL_MAX 0
#define POOL_AVERAGE 1
#define POOL_LP 2
#define POOL_RMS 3

/* Must match GLOBAL_GROUP in host/ops/pool.c. */
#define GLOBAL_GROUP 64

/* Whether candidate (v, at) replaces the maximum so far (best, best_at); best_at < 0 means none
 * yet, and at < 0 means no candidate. The first position wins ties; a NaN beats any number and
 * the first NaN wins. */
inline int max_beats(float v, int at, float best, int best_at) {
    if (at < 0)
        return 0;
    if (best_at < 0)
        return 1;
    if (isnan(v) || isnan(best))
        return isnan(v) && (!isnan(best) || at < best_at);
    return v > best || (v == best && at < best_at);
}

/* The summand of each kind; Lp's common orders avoid pow. */
inline float pool_term(float v, float p) {
#if POOL_KIND == POOL_LP
    return p == 2.0f ? v * v : p == 1.0f ? fabs(v) : pow(fabs(v), p);
#elif POOL_KIND == POOL_RMS
    return v * v;
#else
    return v;
#endif
}

/* The result from the sum of terms and the divisor. */
inline float pool_finish(float sum, float count, float p, float inv_p) {
#if POOL_KIND == POOL_LP
    return p == 2.0f ? sqrt(sum) : p == 1.0f ? sum : pow(sum, inv_p);
#elif POOL_KIND == POOL_RMS
    return sqrt(sum / count);
#else
    return sum / count;
#endif
}

__kernel void pool2d(__global const float *x, __global float *y, __global float *indices,
                     int has_indices, int planes, int H, int W, int OH, int OW, int KH, int KW,
                     int SH, int SW, int DH, int DW, int PH, int PW, int PHE, int PWE,
                     int count_include_pad, float p, float inv_p) {
    const int ow = get_global_id(0);
    const int oh = get_global_id(1);
    const int plane = get_global_id(2);
    if (ow >= OW || oh >= OH || plane >= planes)
        return;

    /* The window starts at (row0, col0), at or after -pad and before the input's end (the host
     * guarantees it). Taps r in [r_lo, r_hi) satisfy 0 <= row0 + r * DH < H; likewise s. */
    const int row0 = oh * SH - PH;
    const int col0 = ow * SW - PW;
    const int r_lo = row0 < 0 ? (-row0 - 1) / DH + 1 : 0;
    const int r_hi = min(KH, (H - row0 - 1) / DH + 1);
    const int s_lo = col0 < 0 ? (-col0 - 1) / DW + 1 : 0;
    const int s_hi = min(KW, (W - col0 - 1) / DW + 1);
    __global const float *xp = x + (size_t)plane * H * W;
    const size_t out = ((size_t)plane * OH + oh) * OW + ow;

#if POOL_KIND == POOL_MAX
    float best = 0.0f;
    int best_at = -1;
    for (int r = r_lo; r < r_hi; r++) {
        const int row_at = (row0 + r * DH) * W;
        for (int s = s_lo; s < s_hi; s++) {
            const int at = row_at + col0 + s * DW;
            const float v = xp[at];
            if (max_beats(v, at, best, best_at)) {
                best = v;
                best_at = at;
            }
        }
    }
    y[out] = best;
    if (has_indices)
        indices[out] = (float)best_at;
#else
    float sum = 0.0f;
    for (int r = r_lo; r < r_hi; r++) {
        const int row_at = (row0 + r * DH) * W + col0;
        for (int s = s_lo; s < s_hi; s++)
            sum += pool_term(xp[row_at + s * DW], p);
    }
    float count;
    if (count_include_pad) {
        /* taps inside [-pad_begin, size + pad_end): every tap from 0 on the begin side */
        const int r_end = min(KH, (H + PHE - row0 - 1) / DH + 1);
        const int s_end = min(KW, (W + PWE - col0 - 1) / DW + 1);
        count = (float)r_end * (float)s_end;
    } else {
        count = (float)(r_hi - r_lo) * (float)(s_hi - s_lo);
    }
    y[out] = pool_finish(sum, count, p, inv_p);
#endif
}

__kernel __attribute__((reqd_work_group_size(GLOBAL_GROUP, 1, 1))) void
pool_global(__global const float *x, __global float *y, __global float *indices, int has_indices,
            int count, float p, float inv_p) {
    const int lid = get_local_id(0);
    const int plane = get_group_id(0);
    __global const float *xp = x + (size_t)plane * count;
    __local float values[GLOBAL_GROUP];

#if POOL_KIND == POOL_MAX
    __local int positions[GLOBAL_GROUP];
    float best = 0.0f;
    int best_at = -1;
    for (uint i = lid; i < (uint)count; i += GLOBAL_GROUP) {
        const float v = xp[i];
        if (max_beats(v, (int)i, best, best_at)) {
            best = v;
            best_at = (int)i;
        }
    }
    values[lid] = best;
    positions[lid] = best_at;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = GLOBAL_GROUP / 2; span > 0; span >>= 1) {
        if (lid < span && max_beats(values[lid + span], positions[lid + span], values[lid],
                                    positions[lid])) {
            values[lid] = values[lid + span];
            positions[lid] = positions[lid + span];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        y[plane] = values[0];
        if (has_indices)
            indices[plane] = (float)positions[0];
    }
#else
    float sum = 0.0f;
    for (uint i = lid; i < (uint)count; i += GLOBAL_GROUP)
        sum += pool_term(xp[i], p);
    values[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = GLOBAL_GROUP / 2; span > 0; span >>= 1) {
        if (lid < span)
            values[lid] += values[lid + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        y[plane] = pool_finish(values[0], (float)count, p, inv_p);
#endif
}
