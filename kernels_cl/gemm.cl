/* The parts of Gemm around CLBlast's Sgemm: the broadcast C term that Sgemm then accumulates
 * alpha * op(A) * op(B) onto (without C, Sgemm runs with beta = 0 and never reads y, the BLAS
 * contract, so nothing is filled), and the fused activation applied afterwards.
 * Build option: SV_ACT (activation). Both kernels are one-dimensional, one element per work-item,
 * so that neighbouring work-items touch neighbouring elements of y. */

/* y[m, n] = beta * C[m, n] with C broadcast to [M, N]: c_row_stride and c_col_stride are 0 along
 * an axis C has size 1 in. */
__kernel void gemm_fill_c(__global const float *c, int c_row_stride, int c_col_stride, float beta,
                          __global float *y, int M, int N) {
    const int i = get_global_id(0);
    if (i >= M * N)
        return;
    const int m = i / N;
    const int n = i - m * N;
    y[i] = beta * c[m * c_row_stride + n * c_col_stride];
}

/* y = sv_activate(y) in place; alpha and beta are the activation's parameters. */
__kernel void gemm_activate(__global float *y, int count, float alpha, float beta) {
    const int i = get_global_id(0);
    if (i < count)
        y[i] = sv_activate(y[i], alpha, beta);
}
