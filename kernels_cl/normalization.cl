/* Batch normalisation (inference) and local response normalisation across channels, NC...
 * layout with S = the product of the spatial dims: element i is at channel (i / S) % C.
 * One output per work-item; neighbouring work-items take neighbouring spatial positions, so
 * every load is coalesced. Build option: SV_ACT (batch_norm's activation). */

/* y = act(scale[c] * (x - mean[c]) / sqrt(var[c] + epsilon) + bias[c]) */
__kernel void batch_norm(__global const float *x, __global const float *scale,
                         __global const float *bias, __global const float *mean,
                         __global const float *var, __global float *y, int count, int C, int S,
                         float epsilon, float alpha, float beta) {
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const int c = (i / S) % C;
    const float factor = scale[c] * rsqrt(var[c] + epsilon);
    y[i] = sv_activate((x[i] - mean[c]) * factor + bias[c], alpha, beta);
}

/* y = x / (bias + alpha_over_size * sum of x[c']^2 over c' in [c - before, c + after] clipped to
 * 0..C-1)^beta, with before = floor((size - 1) / 2) and after = ceil((size - 1) / 2). */
__kernel void lrn(__global const float *x, __global float *y, int count, int C, int S, int before,
                  int after, float alpha_over_size, float beta, float bias) {
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const int plane = i / S; /* n * C + c */
    const int c = plane % C;
    __global const float *x0 = x + (size_t)(plane - c) * S + (i - plane * S); /* channel 0 */
    const int first = max(c - before, 0);
    const int last = (int)min((long)c + after, (long)C - 1);
    float sum = 0.0f;
    for (int k = first; k <= last; k++) {
        const float v = x0[(size_t)k * S];
        sum += v * v;
    }
    y[i] = x[i] / pow(bias + alpha_over_size * sum, beta);
}
