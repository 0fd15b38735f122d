/* Transpose (ONNX Transpose, numpy.transpose): validation, then dispatch to the reference path or
 * the OpenCL kernels in kernels_cl/transpose.cl.
 *
 * On OpenCL the permutation is first simplified: unit axes are dropped and input axes that stay
 * adjacent and in order in the output are merged (NCHW -> NHWC becomes [N, C, HW] -> [N, HW, C]).
 * What is left is an identity (a plain buffer copy), a permutation that keeps the innermost axis
 * (one gather kernel; reads and writes both contiguous along it), or one that moves it (a kernel
 * that transposes 32 x 32 tiles through local memory, so that both reads and writes stay
 * contiguous). */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <stdio.h>

/* Checks that perm is a permutation of 0..rank-1. */
static sv_status check_permutation(sv_context *ctx, const int *perm, int rank) {
    if (!perm)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "transpose: the permutation is NULL");
    int seen[SV_MAX_RANK] = {0};
    for (int i = 0; i < rank; i++) {
        if (perm[i] < 0 || perm[i] >= rank)
            return sv_fail(ctx, SV_INVALID_ARGUMENT,
                           "transpose: perm[%d] = %d is outside 0..%d for rank %d", i, perm[i],
                           rank - 1, rank);
        if (seen[perm[i]])
            return sv_fail(ctx, SV_INVALID_ARGUMENT,
                           "transpose: perm is not a permutation: axis %d appears twice", perm[i]);
        seen[perm[i]] = 1;
    }
    return SV_OK;
}

/* A transpose of `rank` input axes of sizes dims: output axis i is input axis perm[i]. */
typedef struct transpose_plan {
    int rank;
    int64_t dims[SV_MAX_RANK];
    int perm[SV_MAX_RANK];
} transpose_plan;

/* Drops unit axes and merges input axes that stay adjacent and in order in the output. */
static transpose_plan simplify(int rank, const int64_t *dims, const int *perm) {
    /* without unit axes: input axis a becomes kept[a] (or -1) */
    int kept[SV_MAX_RANK], r = 0, p[SV_MAX_RANK], pr = 0;
    int64_t d[SV_MAX_RANK];
    for (int a = 0; a < rank; a++) {
        kept[a] = dims[a] == 1 ? -1 : r;
        if (dims[a] != 1)
            d[r++] = dims[a];
    }
    for (int i = 0; i < rank; i++)
        if (kept[perm[i]] >= 0)
            p[pr++] = kept[perm[i]];
    /* runs of output axes whose input axes are consecutive: run g starts at input axis first[g] */
    int first[SV_MAX_RANK], groups = 0;
    int64_t size[SV_MAX_RANK];
    for (int i = 0; i < r; i++) {
        if (i > 0 && p[i] == p[i - 1] + 1) {
            size[groups - 1] *= d[p[i]];
        } else {
            first[groups] = p[i];
            size[groups] = d[p[i]];
            groups++;
        }
    }
    /* the runs, renumbered in input order */
    transpose_plan plan;
    plan.rank = groups;
    for (int g = 0; g < groups; g++) {
        int index = 0;
        for (int h = 0; h < groups; h++)
            index += first[h] < first[g];
        plan.perm[g] = index;
        plan.dims[index] = size[g];
    }
    return plan;
}

static sv_status transpose_cl(sv_context *ctx, const int *perm, const sv_tensor *x, sv_tensor *y) {
    if (x->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "transpose: tensors of more than %d elements are not supported on OpenCL "
                       "devices",
                       INT_MAX);
    const transpose_plan plan = simplify(x->rank, x->dims, perm);
    int identity = 1;
    for (int i = 0; i < plan.rank; i++)
        identity = identity && plan.perm[i] == i;
    if (identity) {
        const cl_int rc = clEnqueueCopyBuffer(ctx->queue, x->buffer, y->buffer, 0, 0,
                                              (size_t)x->count * sizeof(float), 0, NULL, NULL);
        return rc == CL_SUCCESS ? SV_OK : sv_fail_cl(ctx, rc, "clEnqueueCopyBuffer(transpose)");
    }
    /* rank 5 with unit axes in front; out[i]: output dims, stride[i]: the input stride of the
     * input axis that output axis i reads */
    const int lead = SV_MAX_RANK - plan.rank;
    int in_dims[SV_MAX_RANK], p5[SV_MAX_RANK], in_stride[SV_MAX_RANK];
    int out[SV_MAX_RANK], stride[SV_MAX_RANK];
    for (int i = 0; i < SV_MAX_RANK; i++) {
        in_dims[i] = i < lead ? 1 : (int)plan.dims[i - lead];
        p5[i] = i < lead ? i : lead + plan.perm[i - lead];
    }
    in_stride[SV_MAX_RANK - 1] = 1;
    for (int i = SV_MAX_RANK - 2; i >= 0; i--)
        in_stride[i] = in_stride[i + 1] * in_dims[i + 1];
    int moved = -1; /* output axis that the input's innermost axis goes to */
    for (int i = 0; i < SV_MAX_RANK; i++) {
        out[i] = in_dims[p5[i]];
        stride[i] = in_stride[p5[i]];
        if (p5[i] == SV_MAX_RANK - 1)
            moved = i;
    }
    enum { TILE = 32, TILE_ROWS = 8 }; /* as in transpose.cl */
    int tiled = 0;
    cl_kernel kernel;
    sv_status st;
    if (moved != SV_MAX_RANK - 1) {
        st = sv_program_kernel(ctx, "transpose", "", "transpose_tiled", &kernel);
        if (st != SV_OK)
            return st;
        /* the tiled kernel needs its whole work-group; a device that cannot run it gathers */
        size_t group = 0;
        tiled = clGetKernelWorkGroupInfo(kernel, ctx->cl_device, CL_KERNEL_WORK_GROUP_SIZE,
                                         sizeof group, &group, NULL) == CL_SUCCESS &&
                group >= TILE * TILE_ROWS;
    }
    const char *name = tiled ? "transpose_tiled" : "transpose_gather";
    if (!tiled) {
        st = sv_program_kernel(ctx, "transpose", "", name, &kernel);
        if (st != SV_OK)
            return st;
    }
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, x->buffer);
    sv_arg_mem(&args, y->buffer);
    if (!tiled)
        sv_arg_int(&args, (int)x->count);
    for (int i = 0; i < SV_MAX_RANK; i++)
        sv_arg_int(&args, out[i]);
    for (int i = 0; i < SV_MAX_RANK; i++)
        sv_arg_int(&args, stride[i]);
    if (tiled)
        sv_arg_int(&args, moved);
    if (args.rc != CL_SUCCESS) {
        char what[64];
        snprintf(what, sizeof what, "clSetKernelArg(%s)", name);
        return sv_fail_cl(ctx, args.rc, what);
    }
    if (!tiled) {
        const size_t local = 64, global = sv_round_up((size_t)x->count, local);
        return sv_enqueue(ctx, kernel, 1, &global, &local, name);
    }
    size_t others = 1; /* the output axes besides the two of the tile */
    for (int i = 0; i < SV_MAX_RANK - 1; i++)
        if (i != moved)
            others *= (size_t)out[i];
    const size_t local[3] = {TILE, TILE_ROWS, 1};
    const size_t global[3] = {sv_round_up((size_t)out[SV_MAX_RANK - 1], TILE),
                              sv_round_up((size_t)out[moved], TILE) / TILE * TILE_ROWS, others};
    return sv_enqueue(ctx, kernel, 3, global, local, name);
}

sv_status sv_transpose(sv_context *ctx, const int *perm, const sv_tensor *x, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "transpose", 2, (const sv_tensor *[]){x, y}, 0);
    if (st != SV_OK)
        return st;
    if (x->storage == y->storage)
        return sv_fail(ctx, SV_INVALID_ARGUMENT,
                       "transpose: the output shares storage with the input");
    st = check_permutation(ctx, perm, x->rank);
    if (st != SV_OK)
        return st;
    int64_t out_dims[SV_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        out_dims[i] = x->dims[perm[i]];
    st = sv_check_output_shape(ctx, "transpose", y, x->rank, out_dims);
    if (st != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), yv = sv_tensor_host_view(y);
        sv_ref_transpose(perm, &xv, &yv);
        return SV_OK;
    }
    return transpose_cl(ctx, perm, x, y);
}
