/* Concatenation along one axis: validation and output shape (pure), then dispatch to the
 * reference path or to one copy per input on the OpenCL queue (kernels_cl/concat.cl).
 *
 * Seen around the axis, every tensor is [outer, inner]: outer = product of the dims before the
 * axis, inner = dims[axis] * product of the dims after it. Input k fills columns
 * [offset_k, offset_k + inner_k) of every output row, offset_k being the sum of the inner sizes
 * of the inputs before it. */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <stdlib.h>

sv_status sv_concat_output_shape(int axis, int count, const int *ranks, const int64_t *const *dims,
                                 int64_t *out_dims, sv_message *err) {
    if (count < 1)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "concat: %d inputs, needs at least 1",
                               count);
    if (!ranks || !dims || !out_dims)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "concat: NULL ranks, shapes or output");
    const int rank = ranks[0];
    if (rank < 1 || rank > SV_MAX_RANK)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "concat: input rank %d is outside 1..%d",
                               rank, SV_MAX_RANK);
    if (axis < -rank || axis >= rank)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "concat: axis %d is outside -%d..%d for rank %d", axis, rank,
                               rank - 1, rank);
    const int a = axis < 0 ? axis + rank : axis;
    int64_t dims_out[SV_MAX_RANK];
    for (int k = 0; k < count; k++) {
        if (!dims[k])
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "concat: shape of input %d is NULL",
                                   k);
        if (ranks[k] != rank)
            return sv_fail_message(err, SV_SHAPE_MISMATCH,
                                   "concat: input %d has rank %d, input 0 has rank %d", k, ranks[k],
                                   rank);
        for (int i = 0; i < rank; i++) {
            if (dims[k][i] < 1)
                return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                       "concat: dimension %d of input %d is %lld, must be >= 1", i,
                                       k, (long long)dims[k][i]);
            if (k == 0) {
                dims_out[i] = dims[0][i];
            } else if (i == a) {
                if (dims_out[i] > INT64_MAX / 4 - dims[k][i])
                    return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                           "concat: the sum of the axis dimensions overflows");
                dims_out[i] += dims[k][i];
            } else if (dims[k][i] != dims[0][i]) {
                return sv_fail_message(err, SV_SHAPE_MISMATCH,
                                       "concat: dimension %d of input %d is %lld, input 0 has "
                                       "%lld (only axis %d may differ)",
                                       i, k, (long long)dims[k][i], (long long)dims[0][i], a);
            }
        }
    }
    for (int i = 0; i < rank; i++)
        out_dims[i] = dims_out[i];
    return SV_OK;
}

static int64_t product(const int64_t *dims, int from, int to) {
    int64_t n = 1;
    for (int i = from; i < to; i++)
        n *= dims[i];
    return n;
}

/* One input's slab: a contiguous copy when there is a single row, else the copy kernel. */
static sv_status copy_slab(sv_context *ctx, const sv_tensor *x, sv_tensor *y, int64_t outer,
                           int64_t inner_in, int64_t inner_out, int64_t offset) {
    if (outer == 1) {
        const cl_int rc =
            clEnqueueCopyBuffer(ctx->queue, x->buffer, y->buffer, 0, (size_t)offset * sizeof(float),
                                (size_t)inner_in * sizeof(float), 0, NULL, NULL);
        return rc == CL_SUCCESS ? SV_OK : sv_fail_cl(ctx, rc, "clEnqueueCopyBuffer(concat)");
    }
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "concat", "", "concat_copy", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, x->buffer);
    sv_arg_mem(&args, y->buffer);
    sv_arg_int(&args, (int)x->count);
    sv_arg_int(&args, (int)inner_in);
    sv_arg_int(&args, (int)inner_out);
    sv_arg_int(&args, (int)offset);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(concat_copy)");
    const size_t local = 64, global = sv_round_up((size_t)x->count, local);
    return sv_enqueue(ctx, kernel, 1, &global, &local, "concat_copy");
}

static sv_status concat_cl(sv_context *ctx, int axis, int count, const sv_tensor *const *inputs,
                           sv_tensor *y) {
    if (y->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "concat: tensors of more than %d elements are not supported on OpenCL "
                       "devices",
                       INT_MAX);
    const int64_t outer = product(y->dims, 0, axis);
    const int64_t inner_out = product(y->dims, axis, y->rank);
    int64_t offset = 0;
    for (int k = 0; k < count; k++) {
        const int64_t inner_in = product(inputs[k]->dims, axis, inputs[k]->rank);
        sv_status st = copy_slab(ctx, inputs[k], y, outer, inner_in, inner_out, offset);
        if (st != SV_OK)
            return st;
        offset += inner_in;
    }
    return SV_OK;
}

sv_status sv_concat(sv_context *ctx, int axis, int count, const sv_tensor *const *inputs,
                    sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    if (count < 1)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "concat: %d inputs, needs at least 1", count);
    if (!inputs)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "concat: the input array is NULL");
    for (int k = 0; k < count; k++) {
        if (!inputs[k])
            return sv_fail(ctx, SV_INVALID_ARGUMENT, "concat: input %d is NULL", k);
        if (inputs[k]->ctx != ctx)
            return sv_fail(ctx, SV_WRONG_CONTEXT, "concat: input %d was created on another context",
                           k);
    }
    if (!y)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "concat: the output tensor is NULL");
    if (y->ctx != ctx)
        return sv_fail(ctx, SV_WRONG_CONTEXT, "concat: the output was created on another context");
    for (int k = 0; k < count; k++)
        if (inputs[k]->storage == y->storage)
            return sv_fail(ctx, SV_INVALID_ARGUMENT,
                           "concat: the output shares storage with input %d", k);
    int *ranks = malloc((size_t)count * sizeof *ranks);
    const int64_t **dims = malloc((size_t)count * sizeof *dims);
    if (!ranks || !dims) {
        free(ranks);
        free(dims);
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "concat: out of host memory");
    }
    for (int k = 0; k < count; k++) {
        ranks[k] = inputs[k]->rank;
        dims[k] = inputs[k]->dims;
    }
    sv_message msg;
    int64_t out_dims[SV_MAX_RANK];
    sv_status st = sv_concat_output_shape(axis, count, ranks, dims, out_dims, &msg);
    free(ranks);
    free(dims);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "concat", y, inputs[0]->rank, out_dims);
    if (st != SV_OK)
        return st;
    const int a = axis < 0 ? axis + y->rank : axis;
    if (sv_context_is_ref(ctx)) {
        sv_host_view *views = malloc((size_t)count * sizeof *views);
        if (!views)
            return sv_fail(ctx, SV_OUT_OF_MEMORY, "concat: out of host memory");
        for (int k = 0; k < count; k++)
            views[k] = sv_tensor_host_view(inputs[k]);
        sv_host_view yv = sv_tensor_host_view(y);
        sv_ref_concat(a, count, views, &yv);
        free(views);
        return SV_OK;
    }
    return concat_cl(ctx, a, count, inputs, y);
}
