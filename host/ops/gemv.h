/* Gemm and MatMul with few rows: one kernel (kernels_cl/gemv.cl) that reads each element of B
 * once for all rows of op(A), for products bound by reading B, where CLBlast's SGEMM is starved
 * (a fully connected layer at a small batch). */
#ifndef SV_GEMV_H
#define SV_GEMV_H

#include "core/internal.h"

/* The most rows of op(A) the kernel takes; products with more go to CLBlast. The limit is the
 * kernel's, not where CLBlast starts winning: on pocl (2 cores, AVX-512) CLBlast's SGEMM is the
 * slower at every row count tried. On VGG-16's first classifier layer (K 25088, N 4096, B
 * transposed; medians of 5) it takes 540 ms at 8 rows, 930 ms at 16 and 1.5 s at 64; this
 * kernel 17 ms at 8 rows and 20 ms at 12, but 49 ms at 16, where its accumulators (rows x 4
 * float16) overflow the 32 vector registers, and each row count is a program build of its own.
 * At 8 rows they nearly fit (on GPUs: 8 float4 per work-item). */
#define SV_GEMV_MAX_ROWS 8

/* The kernel's two shapes: whole outputs per work-item with wide vector loads (CPU devices), or
 * outputs shared by a work-group and reduced in local memory (GPUs and other devices). */
typedef enum sv_gemv_shape { SV_GEMV_CPU, SV_GEMV_GPU } sv_gemv_shape;

/* The shape for ctx's device. */
sv_gemv_shape sv_gemv_shape_of(const sv_context *ctx);

/* A product with `rows` rows of op(A) runs here: 1 <= rows <= SV_GEMV_MAX_ROWS. */
int sv_gemv_takes(int64_t rows);

/* y = act(alpha * op(A) * op(B) + beta * C) with p's alpha, beta, transposes and activation on
 * an OpenCL device: op(A) is [m, k], op(B) [k, n], y [m, n] (all row-major, int-sized); C (may
 * be NULL) broadcasts from c_rows x c_cols, each m or 1 and n or 1, and may be y itself. Every
 * element of y is written; C is not read when absent. m <= SV_GEMV_MAX_ROWS. */
sv_status sv_gemv(sv_context *ctx, sv_gemv_shape shape, const sv_gemm_params *p, int m, int n,
                  int k, cl_mem a, cl_mem b, cl_mem c, int c_rows, int c_cols, cl_mem y);

#endif
