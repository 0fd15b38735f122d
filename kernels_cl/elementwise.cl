/* Element-wise kernels: one work-item per output element, consecutive work-items on consecutive
 * elements (coalesced). Build options: SV_ACT (activation) for `activation`; SV_BINARY_OP for
 * `binary_broadcast`, numbered as sv_binary_op in svertka.h. */

#define SV_BINARY_ADD 0
#define SV_BINARY_SUB 1
#define SV_BINARY_MUL 2
#define SV_BINARY_DIV 3
#define SV_BINARY_PRELU 4

#ifndef SV_BINARY_OP
#define SV_BINARY_OP SV_BINARY_ADD
#endif

__kernel void activation(__global const float *x, __global float *y, int count, float alpha,
                         float beta) {
    const size_t id = get_global_id(0); /* size_t: the rounded-up range may pass INT_MAX */
    if (id >= (size_t)count)
        return;
    const int i = (int)id;
    y[i] = sv_activate(x[i], alpha, beta);
}

inline float sv_binary_apply(float a, float b) {
#if SV_BINARY_OP == SV_BINARY_ADD
    return a + b;
#elif SV_BINARY_OP == SV_BINARY_SUB
    return a - b;
#elif SV_BINARY_OP == SV_BINARY_MUL
    return a * b;
#elif SV_BINARY_OP == SV_BINARY_DIV
    return a / b;
#elif SV_BINARY_OP == SV_BINARY_PRELU
    return a >= 0.0f ? a : b * a;
#else
#error "unknown SV_BINARY_OP"
#endif
}

/* y = a (op) b over five output axes D0..D4 (D0 = count / (D1 * D2 * D3 * D4)); operand element
 * strides per axis are 0 where the operand broadcasts. The host merges axes, so most calls use
 * one to three of them. */
__kernel void binary_broadcast(__global const float *a, __global const float *b,
                               __global float *y, int count, int D1, int D2, int D3, int D4,
                               int sa0, int sa1, int sa2, int sa3, int sa4,
                               int sb0, int sb1, int sb2, int sb3, int sb4) {
    const size_t id = get_global_id(0); /* size_t: the rounded-up range may pass INT_MAX */
    if (id >= (size_t)count)
        return;
    const int i = (int)id;
    int rest = i;
    const int i4 = rest % D4;
    rest /= D4;
    const int i3 = rest % D3;
    rest /= D3;
    const int i2 = rest % D2;
    rest /= D2;
    const int i1 = rest % D1;
    const int i0 = rest / D1;
    const int oa = i0 * sa0 + i1 * sa1 + i2 * sa2 + i3 * sa3 + i4 * sa4;
    const int ob = i0 * sb0 + i1 * sb1 + i2 * sb2 + i3 * sb3 + i4 * sb4;
    y[i] = sv_binary_apply(a[oa], b[ob]);
}
