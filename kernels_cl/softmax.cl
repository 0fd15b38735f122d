/* Softmax and log-softmax along one axis, the tensor seen as [outer, L, inner]: row (o, i) is
 * x[(o * L + l) * inner + i] for l in 0..L-1. Three passes over each row: its maximum, the sum of
 * exp(x - max), then the output
 *   softmax:     exp(x - max) / sum
 *   log-softmax: (x - max) - log(sum)
 * fmax ignores NaN, so the maximum is never NaN; a NaN or +inf entry, or a row of -inf only, makes
 * the sum NaN and with it the whole row, as the reference does.
 * Build option: SV_LOG_SOFTMAX (0 or 1). */

#ifndef SV_LOG_SOFTMAX
#define SV_LOG_SOFTMAX 0
#endif

inline float softmax_output(float v, float row_max, float row_sum, float log_sum) {
#if SV_LOG_SOFTMAX
    return (v - row_max) - log_sum;
#else
    return exp(v - row_max) / row_sum;
#endif
}

/* One work-item per row. Neighbouring work-items take neighbouring i, so when the axis is not
 * the last one (inner > 1) every pass reads consecutive addresses across the work-items. */
__kernel void softmax_row_per_item(__global const float *x, __global float *y, int outer, int L,
                                   int inner) {
    const int r = get_global_id(0);
    if (r >= outer * inner)
        return;
    const int o = r / inner;
    const int i = r - o * inner;
    __global const float *xr = x + (size_t)o * L * inner + i;
    __global float *yr = y + (size_t)o * L * inner + i;

    float row_max = -INFINITY;
    for (int l = 0; l < L; l++)
        row_max = fmax(row_max, xr[(size_t)l * inner]);
    float row_sum = 0.0f;
    for (int l = 0; l < L; l++)
        row_sum += exp(xr[(size_t)l * inner] - row_max);
    const float log_sum = SV_LOG_SOFTMAX ? log(row_sum) : 0.0f;
    for (int l = 0; l < L; l++)
        yr[(size_t)l * inner] = softmax_output(xr[(size_t)l * inner], row_max, row_sum, log_sum);
}

/* Tree reduction over the work-group (its size a power of two) of each work-item's `v`; every
 * work-item gets the result. All work-items of the group must call it: the barriers are reached
 * in uniform control flow, the `if` around the combining step holds none. */
inline float group_reduce(float v, __local float *scratch, int is_max) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = get_local_size(0) / 2; step > 0; step /= 2) {
        if (lid < step)
            scratch[lid] = is_max ? fmax(scratch[lid], scratch[lid + step])
                                  : scratch[lid] + scratch[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float result = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* everyone has read scratch[0] before it is reused */
    return result;
}

/* One work-group per contiguous row (inner == 1): the work-items stride through the row together,
 * so each pass reads consecutive addresses, and combine their partial maximum and sum in local
 * memory. The host launches exactly `outer` groups; the row test is uniform across a group. */
__kernel void softmax_row_per_group(__global const float *x, __global float *y, int outer, int L,
                                    int inner, __local float *scratch) {
    const int row = get_group_id(0);
    const int lid = get_local_id(0);
    const int size = get_local_size(0);
    if (row >= outer || inner != 1)
        return;
    __global const float *xr = x + (size_t)row * L;
    __global float *yr = y + (size_t)row * L;

    float row_max = -INFINITY;
    for (int l = lid; l < L; l += size)
        row_max = fmax(row_max, xr[l]);
    row_max = group_reduce(row_max, scratch, 1);
    float row_sum = 0.0f;
    for (int l = lid; l < L; l += size)
        row_sum += exp(xr[l] - row_max);
    row_sum = group_reduce(row_sum, scratch, 0);
    const float log_sum = SV_LOG_SOFTMAX ? log(row_sum) : 0.0f;
    for (int l = lid; l < L; l += size)
        yr[l] = softmax_output(xr[l], row_max, row_sum, log_sum);
}
