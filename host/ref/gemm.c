/* Reference matrix products: the triple loop of the definition, accumulated in double.
 *
 *   Gemm:   y[m, n] = act(alpha * sum over k of opA[m, k] * opB[k, n] + beta * C[m, n])
 *           with opA[m, k] = trans_a ? a[k, m] : a[m, k], opB likewise, and C broadcast to
 *           [M, N] (an axis of size 1 repeats); the C term is absent when C is.
 *   MatMul: NumPy matmul. A 1-D A is the row [1, K], a 1-D B the column [K, 1]; the dimensions
 *           before the last two are batch dimensions, aligned from the right and broadcast
 *           (size 1 repeats, a missing dimension counts as 1). y holds the [M, N] products one
 *           batch after another, whichever size-1 axes its shape dropped. */
#include "ref/ref.h"

/* C[m, n] of a C of rank 1 ([N] or [1]) or 2 ([M or 1, N or 1]) broadcast to [M, N]. */
static double broadcast_c(const sv_host_view *c, long long m, long long n) {
    const long long rows = c->rank == 2 ? c->dims[0] : 1;
    const long long cols = c->dims[c->rank - 1];
    const long long row = rows == 1 ? 0 : m;
    const long long col = cols == 1 ? 0 : n;
    return c->data[row * cols + col];
}

void sv_ref_gemm(const sv_gemm_params *p, const sv_host_view *a, const sv_host_view *b,
                 const sv_host_view *c, sv_host_view *y) {
    const long long rows = y->dims[0], cols = y->dims[1];
    const long long inner = p->trans_a ? a->dims[0] : a->dims[1];
    for (long long m = 0; m < rows; m++)
        for (long long n = 0; n < cols; n++) {
            double sum = 0.0;
            for (long long k = 0; k < inner; k++) {
                const double av = p->trans_a ? a->data[k * rows + m] : a->data[m * inner + k];
                const double bv = p->trans_b ? b->data[n * inner + k] : b->data[k * cols + n];
                sum += av * bv;
            }
            /* the formula taken literally: beta = 0 still multiplies C, so a NaN in C shows */
            double v = (double)p->alpha * sum;
            if (c)
                v += (double)p->beta * broadcast_c(c, m, n);
            y->data[m * cols + n] = (float)sv_ref_activate(&p->activation, v);
        }
}

void sv_ref_matmul(const sv_host_view *a, const sv_host_view *b, sv_host_view *y) {
    const long long rows = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
    const long long inner = a->dims[a->rank - 1];
    const long long cols = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
    const int a_batch_rank = a->rank >= 2 ? a->rank - 2 : 0;
    const int b_batch_rank = b->rank >= 2 ? b->rank - 2 : 0;
    const int batch_rank = a_batch_rank > b_batch_rank ? a_batch_rank : b_batch_rank;

    /* The batch dimensions of A, B and the result, right-aligned to batch_rank; 1 = missing. */
    long long a_batch[SV_MAX_RANK], b_batch[SV_MAX_RANK], batch[SV_MAX_RANK];
    long long batches = 1;
    for (int i = 0; i < batch_rank; i++) {
        const int ai = i - (batch_rank - a_batch_rank), bi = i - (batch_rank - b_batch_rank);
        a_batch[i] = ai >= 0 ? a->dims[ai] : 1;
        b_batch[i] = bi >= 0 ? b->dims[bi] : 1;
        batch[i] = a_batch[i] > b_batch[i] ? a_batch[i] : b_batch[i];
        batches *= batch[i];
    }

    for (long long t = 0; t < batches; t++) {
        /* Split batch number t into its multi-index and find the A and B matrices it reads. */
        long long rest = t, a_index = 0, b_index = 0, a_scale = 1, b_scale = 1;
        for (int i = batch_rank - 1; i >= 0; i--) {
            const long long idx = rest % batch[i];
            rest /= batch[i];
            a_index += (a_batch[i] == 1 ? 0 : idx) * a_scale;
            b_index += (b_batch[i] == 1 ? 0 : idx) * b_scale;
            a_scale *= a_batch[i];
            b_scale *= b_batch[i];
        }
        const float *am = a->data + a_index * rows * inner;
        const float *bm = b->data + b_index * inner * cols;
        float *ym = y->data + t * rows * cols;
        for (long long m = 0; m < rows; m++)
            for (long long n = 0; n < cols; n++) {
                double sum = 0.0;
                for (long long k = 0; k < inner; k++)
                    sum += (double)am[m * inner + k] * (double)bm[k * cols + n];
                ym[m * cols + n] = (float)sum;
            }
    }
}
