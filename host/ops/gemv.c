/* Gemm with few rows on OpenCL devices: kernels_cl/gemv.cl, built per activation, row count and
 * layout of A, with the kernel picked by the layout of B and the device's shape. */
#include "ops/gemv.h"
#include "ops/op_common.h"

#include <stdio.h>

/* CPU devices, measured on pocl (2 cores of an AVX-512 EPYC) with VGG-16's classifier shapes at
 * 1 to 8 rows. A transposed B: float16 loads along K; 16 outputs per work-item, taken 4 rows of
 * B at a time (each A vector loaded feeds 4 fused multiply-adds), in blocks of 1024 terms of K
 * (4 KiB of each row of A) so that A's block stays in L1 while they stream past; 4 rows beat 2
 * at every row count though 8 rows x 4 spill a few accumulators. A plain B: strips of 8 float16
 * (128 columns, 512 bytes of each row of B): narrower strips read B at 40 to 60% of the speed. */
#define GEMV_VEC 16
#define GEMV_CPU_OUTS 16
#define GEMV_CPU_PAIR 4
#define GEMV_CPU_KBLOCK 1024
#define GEMV_CPU_VECS 8
/* GPUs, by reasoning (not yet measured on one): 64 work-items per output of a transposed B
 * (1 KiB of float4 loads per step), 4 outputs per work-group of 256; a plain B in work-groups
 * of 32 columns (128 bytes of each row) x 16 slices of K, 512 work-items, enough loads in
 * flight with only N / 32 work-groups. */
#define GEMV_GPU_LANES 64
#define GEMV_GPU_OUTS 4
#define GEMV_GPU_COLS 32
#define GEMV_GPU_SPLIT 16

sv_gemv_shape sv_gemv_shape_of(const sv_context *ctx) {
    return ctx->device.kind == SV_DEVICE_CPU ? SV_GEMV_CPU : SV_GEMV_GPU;
}

int sv_gemv_takes(int64_t rows) {
    return rows >= 1 && rows <= SV_GEMV_MAX_ROWS;
}

/* The kernel, its work-group size and the outputs one work-group computes. */
static void gemv_geometry(sv_gemv_shape shape, int trans_b, const char **name, size_t *local,
                          int *outputs) {
    if (shape == SV_GEMV_CPU) {
        *name = trans_b ? "gemv_cpu_bt" : "gemv_cpu_bn";
        *local = 1;
        *outputs = trans_b ? GEMV_CPU_OUTS : GEMV_CPU_VECS * GEMV_VEC;
    } else {
        *name = trans_b ? "gemv_gpu_bt" : "gemv_gpu_bn";
        *local = trans_b ? GEMV_GPU_LANES * GEMV_GPU_OUTS : GEMV_GPU_COLS * GEMV_GPU_SPLIT;
        *outputs = trans_b ? GEMV_GPU_OUTS : GEMV_GPU_COLS;
    }
}

sv_status sv_gemv(sv_context *ctx, sv_gemv_shape shape, const sv_gemm_params *p, int m, int n,
                  int k, cl_mem a, cl_mem b, cl_mem c, int c_rows, int c_cols, cl_mem y) {
    if (!sv_gemv_takes(m))
        return sv_fail(ctx, SV_INTERNAL_ERROR, "gemm: %d rows for the matrix-vector kernel (1..%d)",
                       m, SV_GEMV_MAX_ROWS);
    char options[256];
    snprintf(options, sizeof options,
             "-DSV_ACT=%d -DGEMV_ROWS=%d -DGEMV_TRANS_A=%d -DGEMV_VEC=%d -DGEMV_CPU_OUTS=%d "
             "-DGEMV_CPU_VECS=%d -DGEMV_CPU_PAIR=%d -DGEMV_CPU_KBLOCK=%d -DGEMV_GPU_LANES=%d "
             "-DGEMV_GPU_OUTS=%d -DGEMV_GPU_COLS=%d "
             "-DGEMV_GPU_SPLIT=%d -DGEMV_UNROLL_HINT=%d",
             (int)p->activation.kind, m, p->trans_a, GEMV_VEC, GEMV_CPU_OUTS, GEMV_CPU_VECS,
             GEMV_CPU_PAIR, GEMV_CPU_KBLOCK, GEMV_GPU_LANES, GEMV_GPU_OUTS, GEMV_GPU_COLS,
             GEMV_GPU_SPLIT, ctx->device.kind == SV_DEVICE_CPU);
    const char *name;
    size_t local;
    int outputs;
    gemv_geometry(shape, p->trans_b, &name, &local, &outputs);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "gemv", options, name, &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, a);
    sv_arg_mem(&args, b);
    sv_arg_mem(&args, c ? c : b); /* never read without C */
    sv_arg_int(&args, c != NULL);
    sv_arg_int(&args, c_rows == 1 ? 0 : c_cols);
    sv_arg_int(&args, c_cols == 1 ? 0 : 1);
    sv_arg_float(&args, p->alpha);
    sv_arg_float(&args, p->beta);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    sv_arg_mem(&args, y);
    sv_arg_int(&args, n);
    sv_arg_int(&args, k);
    if (args.rc != CL_SUCCESS) {
        char what[64];
        snprintf(what, sizeof what, "clSetKernelArg(%s)", name);
        return sv_fail_cl(ctx, args.rc, what);
    }
    const size_t groups = ((size_t)n + (size_t)outputs - 1) / (size_t)outputs;
    const size_t global = groups * local;
    return sv_enqueue(ctx, kernel, 1, &global, &local, name);
}
