/* Matrix products, Gemm and MatMul: shape validation (pure), then dispatch to the reference path
 * or, on OpenCL devices, to the matrix-vector kernel (host/ops/gemv.h) or CLBlast.
 *
 * Gemm on OpenCL with at most SV_GEMV_MAX_ROWS rows of op(A): the matrix-vector kernel, C and
 * the activation included. With more rows: gemm_fill_c (kernels_cl/gemm.cl) writes the broadcast
 * beta * C into y, CLBlastSgemm adds alpha * op(A) * op(B) with beta = 1 (without C it writes y
 * with beta = 0, which by the BLAS contract never reads y, so no fill is needed), and gemm_activate
 * applies the fused activation. The formula is taken literally: beta = 0 with a C holding NaN or
 * infinity gives NaN, as NumPy's alpha * A @ B + beta * C does.
 *
 * MatMul on OpenCL, by how the batch dimensions broadcast:
 *  - B is one matrix and A's batches are the result's: one product of all A's rows at once
 *    (A's batches are contiguous rows of one [batches * M, K] matrix), by the matrix-vector
 *    kernel when they are at most SV_GEMV_MAX_ROWS, else by Sgemm;
 *  - A and B have the same batch dimensions: CLBlastSgemmStridedBatched;
 *  - otherwise: CLBlastSgemmBatched with one A, B and y offset per result batch.
 * All enqueue on the context's queue without waiting; CLBlast's batched routine itself copies
 * its offset arrays to the device with a blocking write. */
#include "ops/gemm.h"
#include "core/internal.h"
#include "ops/clblast_status.h"
#include "ops/gemv.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- shared checks ------------------------------------------------------------------------ */

/* Fails unless every dimension is in 1..INT_MAX (the kernels index with int). */
static sv_status check_dims(const char *op, const char *name, int rank, const int64_t *dims,
                            sv_message *err) {
    for (int i = 0; i < rank; i++)
        if (dims[i] < 1 || dims[i] > INT_MAX)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "%s: dimension %d of %s (%lld) is outside 1..%d", op, i, name,
                                   (long long)dims[i], INT_MAX);
    return SV_OK;
}

/* The output may not share storage with an operand that the product reads while it writes. */
static sv_status check_no_alias(sv_context *ctx, const char *op, const sv_tensor *a,
                                const sv_tensor *b, const sv_tensor *y) {
    if (y->storage == a->storage || y->storage == b->storage)
        return sv_fail(ctx, SV_INVALID_ARGUMENT,
                       "%s: the output shares storage with an input matrix (A or B)", op);
    return SV_OK;
}

static sv_status check_int_sized(sv_context *ctx, const char *op, int count,
                                 const sv_tensor **tensors) {
    for (int i = 0; i < count; i++)
        if (tensors[i] && tensors[i]->count > INT_MAX)
            return sv_fail(ctx, SV_UNSUPPORTED,
                           "%s: tensors of more than %d elements are not supported on OpenCL "
                           "devices",
                           op, INT_MAX);
    return SV_OK;
}

/* --- Gemm --------------------------------------------------------------------------------- */

sv_gemm_params sv_gemm_params_default(void) {
    sv_gemm_params p;
    memset(&p, 0, sizeof p);
    p.alpha = 1.0f;
    p.beta = 1.0f;
    p.trans_a = 0;
    p.trans_b = 0;
    p.activation.kind = SV_ACT_NONE;
    return p;
}

sv_status sv_gemm_output_shape(const sv_gemm_params *p, const int64_t *a_dims,
                               const int64_t *b_dims, int c_rank, const int64_t *c_dims,
                               int64_t *out_dims, sv_message *err) {
    if (!p || !a_dims || !b_dims || !out_dims || (c_rank > 0 && !c_dims))
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "gemm: NULL parameters or shapes");
    sv_status st = sv_validate_activation(&p->activation, "gemm", err);
    if (st != SV_OK)
        return st;
    if ((p->trans_a != 0 && p->trans_a != 1) || (p->trans_b != 0 && p->trans_b != 1))
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "gemm: trans_a = %d, trans_b = %d; each must be 0 or 1", p->trans_a,
                               p->trans_b);
    if ((st = check_dims("gemm", "A", 2, a_dims, err)) != SV_OK ||
        (st = check_dims("gemm", "B", 2, b_dims, err)) != SV_OK)
        return st;
    const int64_t m = p->trans_a ? a_dims[1] : a_dims[0];
    const int64_t k = p->trans_a ? a_dims[0] : a_dims[1];
    const int64_t k_b = p->trans_b ? b_dims[1] : b_dims[0];
    const int64_t n = p->trans_b ? b_dims[0] : b_dims[1];
    if (k != k_b)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "gemm: inner dimensions differ: op(A) is [%lld, %lld] but op(B) is "
                               "[%lld, %lld]",
                               (long long)m, (long long)k, (long long)k_b, (long long)n);
    if (c_rank < 0 || c_rank > 2)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "gemm: C has rank %d; it must have rank 1 or 2 (or be absent)",
                               c_rank);
    if (c_rank > 0) {
        if ((st = check_dims("gemm", "C", c_rank, c_dims, err)) != SV_OK)
            return st;
        const int64_t c_rows = c_rank == 2 ? c_dims[0] : 1, c_cols = c_dims[c_rank - 1];
        if ((c_rows != 1 && c_rows != m) || (c_cols != 1 && c_cols != n)) {
            char shape[128];
            sv_dims_format(shape, sizeof shape, c_rank, c_dims);
            return sv_fail_message(err, SV_SHAPE_MISMATCH,
                                   "gemm: C of shape %s does not broadcast to [%lld, %lld]", shape,
                                   (long long)m, (long long)n);
        }
    }
    out_dims[0] = m;
    out_dims[1] = n;
    return SV_OK;
}

const char *sv_gemm_algorithm_label(const sv_gemm_params *p, const int64_t *a_dims) {
    return sv_gemv_takes(p->trans_a ? a_dims[1] : a_dims[0]) ? "matrix-vector" : "CLBlast SGEMM";
}

static sv_status gemm_cl(sv_context *ctx, const sv_gemm_params *p, const sv_tensor *a,
                         const sv_tensor *b, const sv_tensor *c, sv_tensor *y) {
    sv_status st = check_int_sized(ctx, "gemm", 4, (const sv_tensor *[]){a, b, c, y});
    if (st != SV_OK)
        return st;
    const int m = (int)y->dims[0], n = (int)y->dims[1];
    const int k = (int)(p->trans_a ? a->dims[0] : a->dims[1]);
    if (sv_gemv_takes(m)) {
        const int c_rows = c && c->rank == 2 ? (int)c->dims[0] : 1;
        const int c_cols = c ? (int)c->dims[c->rank - 1] : 1;
        return sv_gemv(ctx, sv_gemv_shape_of(ctx), p, m, n, k, a->buffer, b->buffer,
                       c ? c->buffer : NULL, c_rows, c_cols, y->buffer);
    }
    char options[64];
    snprintf(options, sizeof options, "-DSV_ACT=%d", (int)p->activation.kind);
    const size_t local = 64;
    const size_t global = sv_round_up((size_t)y->count, local);

    if (c) {
        /* y = beta * C broadcast to [M, N] */
        cl_kernel fill;
        if ((st = sv_program_kernel(ctx, "gemm", options, "gemm_fill_c", &fill)) != SV_OK)
            return st;
        const int c_rows = c->rank == 2 ? (int)c->dims[0] : 1, c_cols = (int)c->dims[c->rank - 1];
        sv_kernel_args args = {fill, 0, CL_SUCCESS};
        sv_arg_mem(&args, c->buffer);
        sv_arg_int(&args, c_rows == 1 ? 0 : c_cols);
        sv_arg_int(&args, c_cols == 1 ? 0 : 1);
        sv_arg_float(&args, p->beta);
        sv_arg_mem(&args, y->buffer);
        sv_arg_int(&args, m);
        sv_arg_int(&args, n);
        if (args.rc != CL_SUCCESS)
            return sv_fail_cl(ctx, args.rc, "clSetKernelArg(gemm_fill_c)");
        if ((st = sv_enqueue(ctx, fill, 1, &global, &local, "gemm_fill_c")) != SV_OK)
            return st;
    }

    /* y = alpha * op(A) * op(B) + (C ? 1 : 0) * y; row-major leading dimensions are the stored
     * row lengths. With beta = 0 Sgemm does not read y (the BLAS contract). */
    const CLBlastStatusCode rc = CLBlastSgemm(
        CLBlastLayoutRowMajor, p->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        p->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)m, (size_t)n, (size_t)k,
        p->alpha, a->buffer, 0, (size_t)a->dims[1], b->buffer, 0, (size_t)b->dims[1],
        c ? 1.0f : 0.0f, y->buffer, 0, (size_t)n, &ctx->queue, NULL);
    if ((st = sv_clblast_result(ctx, "gemm", "CLBlastSgemm", rc)) != SV_OK)
        return st;

    if (p->activation.kind == SV_ACT_NONE)
        return SV_OK;
    cl_kernel activate;
    if ((st = sv_program_kernel(ctx, "gemm", options, "gemm_activate", &activate)) != SV_OK)
        return st;
    sv_kernel_args args = {activate, 0, CL_SUCCESS};
    sv_arg_mem(&args, y->buffer);
    sv_arg_int(&args, (int)y->count);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(gemm_activate)");
    return sv_enqueue(ctx, activate, 1, &global, &local, "gemm_activate");
}

sv_status sv_gemm(sv_context *ctx, const sv_gemm_params *p, const sv_tensor *a, const sv_tensor *b,
                  const sv_tensor *c, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "gemm", 4, (const sv_tensor *[]){a, b, c, y}, 0x4);
    if (st != SV_OK)
        return st;
    if (a->rank != 2 || b->rank != 2)
        return sv_fail(ctx, SV_SHAPE_MISMATCH,
                       "gemm: A and B must be matrices (rank 2), got ranks %d and %d", a->rank,
                       b->rank);
    sv_message msg;
    int64_t out_dims[2];
    st = sv_gemm_output_shape(p, a->dims, b->dims, c ? c->rank : 0, c ? c->dims : NULL, out_dims,
                              &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    if ((st = sv_check_output_shape(ctx, "gemm", y, 2, out_dims)) != SV_OK ||
        (st = check_no_alias(ctx, "gemm", a, b, y)) != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view av = sv_tensor_host_view(a), bv = sv_tensor_host_view(b),
                     yv = sv_tensor_host_view(y);
        sv_host_view cv = c ? sv_tensor_host_view(c) : sv_host_view_make(NULL, 0, NULL);
        sv_ref_gemm(p, &av, &bv, c ? &cv : NULL, &yv);
        return SV_OK;
    }
    return gemm_cl(ctx, p, a, b, c, y);
}

/* --- MatMul ------------------------------------------------------------------------------- */

/* How a MatMul decomposes: batches of [M, K] x [K, N] products. The batch dimensions of A, B
 * and the result are right-aligned to batch_rank, with 1 where an operand has none. */
typedef struct matmul_plan {
    int64_t m, k, n;
    int batch_rank;
    int64_t batch[SV_MAX_RANK], a_batch[SV_MAX_RANK], b_batch[SV_MAX_RANK];
    int64_t batches, a_batches, b_batches;
    int out_rank;
    int64_t out_dims[SV_MAX_RANK];
} matmul_plan;

enum { MATMUL_MAX_OPERAND_RANK = 4 };

static sv_status plan_matmul(int a_rank, const int64_t *a_dims, int b_rank, const int64_t *b_dims,
                             matmul_plan *plan, sv_message *err) {
    if (!a_dims || !b_dims)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "matmul: NULL shapes");
    if (a_rank < 1 || a_rank > MATMUL_MAX_OPERAND_RANK || b_rank < 1 ||
        b_rank > MATMUL_MAX_OPERAND_RANK)
        return sv_fail_message(err, SV_UNSUPPORTED,
                               "matmul: operands of rank %d and %d; ranks 1 to %d are supported",
                               a_rank, b_rank, MATMUL_MAX_OPERAND_RANK);
    sv_status st;
    if ((st = check_dims("matmul", "A", a_rank, a_dims, err)) != SV_OK ||
        (st = check_dims("matmul", "B", b_rank, b_dims, err)) != SV_OK)
        return st;
    char a_shape[128], b_shape[128];
    sv_dims_format(a_shape, sizeof a_shape, a_rank, a_dims);
    sv_dims_format(b_shape, sizeof b_shape, b_rank, b_dims);

    matmul_plan q;
    memset(&q, 0, sizeof q);
    /* a 1-D A is the row [1, K], a 1-D B the column [K, 1] */
    q.m = a_rank >= 2 ? a_dims[a_rank - 2] : 1;
    q.k = a_dims[a_rank - 1];
    const int64_t k_b = b_rank >= 2 ? b_dims[b_rank - 2] : b_dims[0];
    q.n = b_rank >= 2 ? b_dims[b_rank - 1] : 1;
    if (q.k != k_b)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "matmul: inner dimensions differ: A %s has %lld columns but B %s "
                               "has %lld rows",
                               a_shape, (long long)q.k, b_shape, (long long)k_b);

    const int a_batch_rank = a_rank >= 2 ? a_rank - 2 : 0;
    const int b_batch_rank = b_rank >= 2 ? b_rank - 2 : 0;
    q.batch_rank = a_batch_rank > b_batch_rank ? a_batch_rank : b_batch_rank;
    q.batches = q.a_batches = q.b_batches = 1;
    for (int i = 0; i < q.batch_rank; i++) {
        const int ai = i - (q.batch_rank - a_batch_rank), bi = i - (q.batch_rank - b_batch_rank);
        const int64_t ad = ai >= 0 ? a_dims[ai] : 1, bd = bi >= 0 ? b_dims[bi] : 1;
        if (ad != bd && ad != 1 && bd != 1)
            return sv_fail_message(err, SV_SHAPE_MISMATCH,
                                   "matmul: batch dimensions of A %s and B %s do not broadcast "
                                   "(%lld against %lld)",
                                   a_shape, b_shape, (long long)ad, (long long)bd);
        q.a_batch[i] = ad;
        q.b_batch[i] = bd;
        q.batch[i] = ad > bd ? ad : bd;
        q.batches *= q.batch[i];
        q.a_batches *= ad;
        q.b_batches *= bd;
    }

    /* NumPy's result: the batch, then M unless A was 1-D, then N unless B was 1-D. Both 1-D
     * gives NumPy's scalar, which is [1] here (tensors have rank >= 1). Operands of rank <= 4
     * give a result of rank <= 4 <= SV_MAX_RANK, and at most 2 batch dimensions of at most
     * INT_MAX each, so batch counts fit in int64_t. */
    for (int i = 0; i < q.batch_rank; i++)
        q.out_dims[q.out_rank++] = q.batch[i];
    if (a_rank >= 2)
        q.out_dims[q.out_rank++] = q.m;
    if (b_rank >= 2)
        q.out_dims[q.out_rank++] = q.n;
    if (q.out_rank == 0)
        q.out_dims[q.out_rank++] = 1;
    *plan = q;
    return SV_OK;
}

sv_status sv_matmul_output_shape(int a_rank, const int64_t *a_dims, int b_rank,
                                 const int64_t *b_dims, int *out_rank, int64_t *out_dims,
                                 sv_message *err) {
    if (!out_rank || !out_dims)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "matmul: NULL output shape");
    matmul_plan plan;
    const sv_status st = plan_matmul(a_rank, a_dims, b_rank, b_dims, &plan, err);
    if (st != SV_OK)
        return st;
    *out_rank = plan.out_rank;
    for (int i = 0; i < plan.out_rank; i++)
        out_dims[i] = plan.out_dims[i];
    return SV_OK;
}

/* Batch t's matrix in an operand with the given (broadcast) batch dimensions. */
static size_t operand_batch(const matmul_plan *q, const int64_t *operand_batch, int64_t t) {
    int64_t index = 0, scale = 1;
    for (int i = q->batch_rank - 1; i >= 0; i--) {
        const int64_t idx = t % q->batch[i];
        t /= q->batch[i];
        index += (operand_batch[i] == 1 ? 0 : idx) * scale;
        scale *= operand_batch[i];
    }
    return (size_t)index;
}

/* One B for every batch (A's batches are then the result's), and few rows in all. */
static int matmul_takes_gemv(const matmul_plan *q) {
    return q->b_batches == 1 && sv_gemv_takes(q->batches * q->m);
}

const char *sv_matmul_algorithm_label(int a_rank, const int64_t *a_dims, int b_rank,
                                      const int64_t *b_dims) {
    matmul_plan plan;
    if (plan_matmul(a_rank, a_dims, b_rank, b_dims, &plan, NULL) != SV_OK)
        return NULL;
    return matmul_takes_gemv(&plan) ? "matrix-vector" : "CLBlast SGEMM";
}

static sv_status matmul_batched_offsets(sv_context *ctx, const matmul_plan *q, const sv_tensor *a,
                                        const sv_tensor *b, sv_tensor *y) {
    const size_t batches = (size_t)q->batches;
    size_t *offsets = malloc(3 * batches * sizeof *offsets);
    float *scalars = malloc(2 * batches * sizeof *scalars);
    if (!offsets || !scalars) {
        free(offsets);
        free(scalars);
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "matmul: cannot allocate %zu batch offsets",
                       3 * batches);
    }
    size_t *a_offsets = offsets, *b_offsets = offsets + batches, *y_offsets = offsets + 2 * batches;
    float *alphas = scalars, *betas = scalars + batches;
    const size_t m = (size_t)q->m, k = (size_t)q->k, n = (size_t)q->n;
    for (size_t t = 0; t < batches; t++) {
        a_offsets[t] = operand_batch(q, q->a_batch, (int64_t)t) * m * k;
        b_offsets[t] = operand_batch(q, q->b_batch, (int64_t)t) * k * n;
        y_offsets[t] = t * m * n;
        alphas[t] = 1.0f;
        betas[t] = 0.0f;
    }
    const CLBlastStatusCode rc =
        CLBlastSgemmBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k,
                            alphas, a->buffer, a_offsets, k, b->buffer, b_offsets, n, betas,
                            y->buffer, y_offsets, n, batches, &ctx->queue, NULL);
    free(offsets);
    free(scalars);
    return sv_clblast_result(ctx, "matmul", "CLBlastSgemmBatched", rc);
}

static sv_status matmul_cl(sv_context *ctx, const matmul_plan *q, const sv_tensor *a,
                           const sv_tensor *b, sv_tensor *y) {
    const sv_status st = check_int_sized(ctx, "matmul", 3, (const sv_tensor *[]){a, b, y});
    if (st != SV_OK)
        return st;
    const size_t m = (size_t)q->m, k = (size_t)q->k, n = (size_t)q->n;
    CLBlastStatusCode rc;
    if (matmul_takes_gemv(q)) {
        const sv_gemm_params p = sv_gemm_params_default();
        return sv_gemv(ctx, sv_gemv_shape_of(ctx), &p, (int)(q->batches * q->m), (int)q->n,
                       (int)q->k, a->buffer, b->buffer, NULL, 1, 1, y->buffer);
    }
    if (q->b_batches == 1) {
        /* one B for every batch (A's batches are then the result's): A's batches stacked are one
         * [batches * M, K] matrix */
        rc = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
                          (size_t)q->batches * m, n, k, 1.0f, a->buffer, 0, k, b->buffer, 0, n,
                          0.0f, y->buffer, 0, n, &ctx->queue, NULL);
        return sv_clblast_result(ctx, "matmul", "CLBlastSgemm", rc);
    }
    if (q->a_batches == q->batches && q->b_batches == q->batches) {
        /* no broadcasting: batch t reads matrix t of A and of B */
        rc = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                        CLBlastTransposeNo, m, n, k, 1.0f, a->buffer, 0, k, m * k,
                                        b->buffer, 0, n, k * n, 0.0f, y->buffer, 0, n, m * n,
                                        (size_t)q->batches, &ctx->queue, NULL);
        return sv_clblast_result(ctx, "matmul", "CLBlastSgemmStridedBatched", rc);
    }
    return matmul_batched_offsets(ctx, q, a, b, y);
}

sv_status sv_matmul(sv_context *ctx, const sv_tensor *a, const sv_tensor *b, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "matmul", 3, (const sv_tensor *[]){a, b, y}, 0);
    if (st != SV_OK)
        return st;
    sv_message msg;
    matmul_plan plan;
    st = plan_matmul(a->rank, a->dims, b->rank, b->dims, &plan, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    if ((st = sv_check_output_shape(ctx, "matmul", y, plan.out_rank, plan.out_dims)) != SV_OK ||
        (st = check_no_alias(ctx, "matmul", a, b, y)) != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view av = sv_tensor_host_view(a), bv = sv_tensor_host_view(b),
                     yv = sv_tensor_host_view(y);
        sv_ref_matmul(&av, &bv, &yv);
        return SV_OK;
    }
    return matmul_cl(ctx, &plan, a, b, y);
}
