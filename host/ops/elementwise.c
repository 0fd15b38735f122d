/* Element-wise operations: activations, binary ops with NumPy broadcasting, and copies. Shape
 * validation (pure), then dispatch to the reference path or the OpenCL kernels in
 * kernels_cl/elementwise.cl.
 *
 * A binary op reaches the kernel as at most five axes: the host right-aligns both operands to the
 * output, gives every operand a stride of 0 on the axes it broadcasts along, and merges adjacent
 * axes that are contiguous in the output and in both operands (so same-shape operands become one
 * axis, and [N, C, H, W] with [C, 1, 1] becomes [N, C, H*W]). */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Work-items per work-group of the 1-D element-wise kernels. */
#define ELEMENTWISE_LOCAL 64

static const char *binary_op_name(sv_binary_op op) {
    switch (op) {
    case SV_BINARY_ADD: return "add";
    case SV_BINARY_SUB: return "sub";
    case SV_BINARY_MUL: return "mul";
    case SV_BINARY_DIV: return "div";
    case SV_BINARY_PRELU: return "prelu";
    }
    return NULL;
}

sv_status sv_broadcast_shape(int a_rank, const int64_t *a_dims, int b_rank, const int64_t *b_dims,
                             int *out_rank, int64_t *out_dims, sv_message *err) {
    if (!a_dims || !b_dims || !out_rank || !out_dims)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "broadcast: NULL shapes or outputs");
    if (a_rank < 1 || a_rank > SV_MAX_RANK || b_rank < 1 || b_rank > SV_MAX_RANK)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "broadcast: ranks %d and %d must both be in 1..%d", a_rank, b_rank,
                               SV_MAX_RANK);
    for (int i = 0; i < a_rank + b_rank; i++) {
        const int64_t d = i < a_rank ? a_dims[i] : b_dims[i - a_rank];
        if (d < 1)
            return sv_fail_message(
                err, SV_INVALID_ARGUMENT, "broadcast: dimension %d of %s is %lld, must be >= 1",
                i < a_rank ? i : i - a_rank, i < a_rank ? "a" : "b", (long long)d);
    }
    const int rank = a_rank > b_rank ? a_rank : b_rank;
    int64_t dims[SV_MAX_RANK];
    /* axes are aligned from the last one; a missing leading axis counts as 1 */
    for (int i = 0; i < rank; i++) {
        const int ai = i - (rank - a_rank), bi = i - (rank - b_rank);
        const int64_t da = ai >= 0 ? a_dims[ai] : 1, db = bi >= 0 ? b_dims[bi] : 1;
        if (da != db && da != 1 && db != 1) {
            char as[256], bs[256];
            sv_dims_format(as, sizeof as, a_rank, a_dims);
            sv_dims_format(bs, sizeof bs, b_rank, b_dims);
            return sv_fail_message(err, SV_SHAPE_MISMATCH,
                                   "broadcast: shapes %s and %s do not broadcast: output axis %d "
                                   "has sizes %lld and %lld (must be equal or 1)",
                                   as, bs, i, (long long)da, (long long)db);
        }
        dims[i] = da == 1 ? db : da;
    }
    *out_rank = rank;
    for (int i = 0; i < rank; i++)
        out_dims[i] = dims[i];
    return SV_OK;
}

/* Options that make "/" correctly rounded where the device can do it: OpenCL 1.2 otherwise lets
 * single-precision division be off by 2.5 ulp, and div promises results identical to the
 * reference. */
static const char *division_option(sv_context *ctx) {
    cl_device_fp_config config = 0;
    if (clGetDeviceInfo(ctx->cl_device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof config, &config, NULL) ==
            CL_SUCCESS &&
        (config & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT))
        return " -cl-fp32-correctly-rounded-divide-sqrt";
    return "";
}

static sv_status activation_cl(sv_context *ctx, const sv_activation *act, const sv_tensor *x,
                               sv_tensor *y) {
    if (x->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "activation: tensors of more than %d elements are not supported on OpenCL "
                       "devices",
                       INT_MAX);
    char options[128];
    snprintf(options, sizeof options, "-DSV_ACT=%d", (int)act->kind);
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "elementwise", options, "activation", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, x->buffer);
    sv_arg_mem(&args, y->buffer);
    sv_arg_int(&args, (int)x->count);
    sv_arg_float(&args, act->alpha);
    sv_arg_float(&args, act->beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(activation)");
    const size_t local[1] = {ELEMENTWISE_LOCAL};
    const size_t global[1] = {sv_round_up((size_t)x->count, local[0])};
    return sv_enqueue(ctx, kernel, 1, global, local, "activation");
}

sv_status sv_activation_apply(sv_context *ctx, const sv_activation *act, const sv_tensor *x,
                              sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "activation", 2, (const sv_tensor *[]){x, y}, 0);
    if (st != SV_OK)
        return st;
    if (!act)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "activation: NULL parameters");
    sv_message msg;
    st = sv_validate_activation(act, "activation", &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "activation", y, x->rank, x->dims);
    if (st != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), yv = sv_tensor_host_view(y);
        sv_ref_activation(act, &xv, &yv);
        return SV_OK;
    }
    return activation_cl(ctx, act, x, y);
}

/* The iteration space of a broadcast binary op as the kernel takes it: SV_MAX_RANK axes (leading
 * ones of size 1 where fewer are needed) with each operand's element stride per axis. */
typedef struct broadcast_geometry {
    int dims[SV_MAX_RANK];
    int a_strides[SV_MAX_RANK];
    int b_strides[SV_MAX_RANK];
} broadcast_geometry;

/* Row-major strides of an operand right-aligned to `rank` output axes, 0 where it broadcasts. */
static void operand_strides(const sv_tensor *t, int rank, const int64_t *out_dims,
                            int64_t *strides) {
    int64_t stride = 1;
    for (int i = rank - 1; i >= 0; i--) {
        const int ti = i - (rank - t->rank);
        const int64_t d = ti >= 0 ? t->dims[ti] : 1;
        strides[i] = (d == out_dims[i] && d > 1) ? stride : 0;
        stride *= d;
    }
}

static broadcast_geometry geometry_of(const sv_tensor *a, const sv_tensor *b, const sv_tensor *y) {
    const int rank = y->rank;
    int64_t sa[SV_MAX_RANK], sb[SV_MAX_RANK];
    operand_strides(a, rank, y->dims, sa);
    operand_strides(b, rank, y->dims, sb);
    /* Merged axes, innermost first: an axis joins the one inside it when both operands continue
     * contiguously across the boundary (a stride of 0 on both sides continues too). */
    int64_t dims[SV_MAX_RANK], ma[SV_MAX_RANK], mb[SV_MAX_RANK];
    int n = 0;
    for (int i = rank - 1; i >= 0; i--) {
        if (y->dims[i] == 1)
            continue;
        if (n > 0 && sa[i] == ma[n - 1] * dims[n - 1] && sb[i] == mb[n - 1] * dims[n - 1]) {
            dims[n - 1] *= y->dims[i];
            continue;
        }
        dims[n] = y->dims[i];
        ma[n] = sa[i];
        mb[n] = sb[i];
        n++;
    }
    broadcast_geometry g;
    for (int k = 0; k < SV_MAX_RANK; k++) {
        const int i = SV_MAX_RANK - 1 - k; /* kernel axis i holds merged axis k */
        g.dims[i] = k < n ? (int)dims[k] : 1;
        g.a_strides[i] = k < n ? (int)ma[k] : 0;
        g.b_strides[i] = k < n ? (int)mb[k] : 0;
    }
    return g;
}

static sv_status binary_cl(sv_context *ctx, sv_binary_op op, const sv_tensor *a, const sv_tensor *b,
                           sv_tensor *y) {
    if (a->count > INT_MAX || b->count > INT_MAX || y->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "%s: tensors of more than %d elements are not supported on OpenCL devices",
                       binary_op_name(op), INT_MAX);
    const broadcast_geometry g = geometry_of(a, b, y);
    char options[128];
    snprintf(options, sizeof options, "-DSV_BINARY_OP=%d%s", (int)op,
             op == SV_BINARY_DIV ? division_option(ctx) : "");
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "elementwise", options, "binary_broadcast", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, a->buffer);
    sv_arg_mem(&args, b->buffer);
    sv_arg_mem(&args, y->buffer);
    sv_arg_int(&args, (int)y->count);
    for (int i = 1; i < SV_MAX_RANK; i++) /* the outermost size follows from the count */
        sv_arg_int(&args, g.dims[i]);
    for (int i = 0; i < SV_MAX_RANK; i++)
        sv_arg_int(&args, g.a_strides[i]);
    for (int i = 0; i < SV_MAX_RANK; i++)
        sv_arg_int(&args, g.b_strides[i]);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(binary_broadcast)");
    const size_t local[1] = {ELEMENTWISE_LOCAL};
    const size_t global[1] = {sv_round_up((size_t)y->count, local[0])};
    return sv_enqueue(ctx, kernel, 1, global, local, "binary_broadcast");
}

sv_status sv_binary(sv_context *ctx, sv_binary_op op, const sv_tensor *a, const sv_tensor *b,
                    sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    const char *name = binary_op_name(op);
    if (!name)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "binary: unknown op %d", (int)op);
    sv_status st = sv_check_tensors(ctx, name, 3, (const sv_tensor *[]){a, b, y}, 0);
    if (st != SV_OK)
        return st;
    sv_message msg;
    int out_rank;
    int64_t out_dims[SV_MAX_RANK];
    st = sv_broadcast_shape(a->rank, a->dims, b->rank, b->dims, &out_rank, out_dims, &msg);
    if (st != SV_OK)
        return sv_fail(ctx, st, "%s: %s", name, msg.text);
    st = sv_check_output_shape(ctx, name, y, out_rank, out_dims);
    if (st != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view av = sv_tensor_host_view(a), bv = sv_tensor_host_view(b),
                     yv = sv_tensor_host_view(y);
        sv_ref_binary(op, &av, &bv, &yv);
        return SV_OK;
    }
    return binary_cl(ctx, op, a, b, y);
}

sv_status sv_copy(sv_context *ctx, const sv_tensor *x, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "copy", 2, (const sv_tensor *[]){x, y}, 0);
    if (st != SV_OK)
        return st;
    if (x->count != y->count) {
        char xs[256], ys[256];
        sv_dims_format(xs, sizeof xs, x->rank, x->dims);
        sv_dims_format(ys, sizeof ys, y->rank, y->dims);
        return sv_fail(ctx, SV_SHAPE_MISMATCH,
                       "copy: input %s has %lld elements but output %s has %lld", xs,
                       (long long)x->count, ys, (long long)y->count);
    }
    /* A tensor and its reshaped views share one storage of equal size: the data is there. */
    if (x->storage == y->storage)
        return SV_OK;
    const size_t bytes = (size_t)x->count * sizeof(float);
    if (sv_context_is_ref(ctx)) {
        memcpy(y->host, x->host, bytes);
        return SV_OK;
    }
    cl_int rc = clEnqueueCopyBuffer(ctx->queue, x->buffer, y->buffer, 0, 0, bytes, 0, NULL, NULL);
    return rc == CL_SUCCESS ? SV_OK : sv_fail_cl(ctx, rc, "clEnqueueCopyBuffer(copy)");
}
