/* Softmax and log-softmax along one axis: parameter validation (pure), then dispatch to the
 * reference path or the OpenCL kernels in kernels_cl/softmax.cl.
 *
 * The tensor is seen as [outer, L, inner] around the axis of length L; every (outer, inner) pair
 * is one row of L elements, inner apart in memory. Each row is shifted by its maximum before the
 * exponential, so no finite input overflows:
 *   softmax:     y = exp(x - max) / sum exp(x - max)
 *   log-softmax: y = (x - max) - log(sum exp(x - max))
 * -inf entries give 0 (softmax) and -inf (log-softmax). A row that is entirely -inf, or that holds
 * a NaN or +inf, gives NaN throughout, as ONNX Runtime and PyTorch do. */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <stdio.h>

/* Rows of at least this length with inner == 1 run one work-group per row, the group striding
 * through the contiguous row; shorter or strided rows run one work-item per row. */
#define GROUP_ROW_MIN_LENGTH 64
/* Largest work-group of the row-per-group kernel (a power of two). */
#define GROUP_ROW_MAX_SIZE 256
/* Work-group size of the row-per-work-item kernel. */
#define ITEM_LOCAL_SIZE 64

/* Checks the parameters against the input shape and writes the axis counted from the front.
 * Writes *axis only on success. */
static sv_status softmax_validate(const sv_softmax_params *p, int rank, int *axis,
                                  sv_message *err) {
    if (!p)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "softmax: NULL parameters");
    if (p->log != 0 && p->log != 1)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "softmax: log = %d, must be 0 (softmax) or 1 (log-softmax)", p->log);
    if (p->axis < -rank || p->axis >= rank)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "softmax: axis %d is out of range for rank %d (-%d..%d)", p->axis,
                               rank, rank, rank - 1);
    *axis = p->axis < 0 ? p->axis + rank : p->axis;
    return SV_OK;
}

/* Largest power of two <= n (n >= 1). */
static size_t floor_pow2(size_t n) {
    size_t p = 1;
    while (p * 2 <= n)
        p *= 2;
    return p;
}

static sv_status softmax_cl(sv_context *ctx, const sv_softmax_params *p, int axis,
                            const sv_tensor *x, sv_tensor *y) {
    if (x->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "softmax: tensors of more than %d elements are not supported on OpenCL "
                       "devices",
                       INT_MAX);
    int outer = 1, inner = 1;
    for (int i = 0; i < axis; i++)
        outer *= (int)x->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        inner *= (int)x->dims[i];
    const int length = (int)x->dims[axis];
    const int by_group = inner == 1 && length >= GROUP_ROW_MIN_LENGTH;
    const char *name = by_group ? "softmax_row_per_group" : "softmax_row_per_item";
    char options[64];
    snprintf(options, sizeof options, "-DSV_LOG_SOFTMAX=%d", p->log);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "softmax", options, name, &kernel);
    if (st != SV_OK)
        return st;

    size_t local = ITEM_LOCAL_SIZE, global;
    if (by_group) {
        size_t kernel_max = 0;
        cl_int rc = clGetKernelWorkGroupInfo(kernel, ctx->cl_device, CL_KERNEL_WORK_GROUP_SIZE,
                                             sizeof kernel_max, &kernel_max, NULL);
        if (rc != CL_SUCCESS)
            return sv_fail_cl(ctx, rc, "clGetKernelWorkGroupInfo(softmax_row_per_group)");
        size_t limit = GROUP_ROW_MAX_SIZE;
        if (kernel_max < limit)
            limit = kernel_max;
        if ((size_t)length < limit)
            limit = (size_t)length;
        local = floor_pow2(limit);
        global = (size_t)outer * local;
    } else {
        if (ctx->device.max_work_group_size < local)
            local = floor_pow2(ctx->device.max_work_group_size);
        global = sv_round_up((size_t)outer * (size_t)inner, local);
    }

    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, x->buffer);
    sv_arg_mem(&args, y->buffer);
    sv_arg_int(&args, outer);
    sv_arg_int(&args, length);
    sv_arg_int(&args, inner);
    if (by_group)
        sv_arg(&args, local * sizeof(cl_float), NULL); /* the group's reduction scratch */
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc,
                          by_group ? "clSetKernelArg(softmax_row_per_group)"
                                   : "clSetKernelArg(softmax_row_per_item)");
    return sv_enqueue(ctx, kernel, 1, &global, &local, name);
}

sv_status sv_softmax(sv_context *ctx, const sv_softmax_params *p, const sv_tensor *x,
                     sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "softmax", 2, (const sv_tensor *[]){x, y}, 0);
    if (st != SV_OK)
        return st;
    sv_message msg;
    int axis = 0;
    st = softmax_validate(p, x->rank, &axis, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "softmax", y, x->rank, x->dims);
    if (st != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), yv = sv_tensor_host_view(y);
        sv_ref_softmax(p, &xv, &yv);
        return SV_OK;
    }
    return softmax_cl(ctx, p, axis, x, y);
}
