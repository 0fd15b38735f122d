/* Resize (ONNX Resize / Upsample, torch.nn.functional.interpolate): validation, then dispatch to
 * the reference path or the OpenCL kernels in kernels_cl/resize.cl.
 *
 * Along one axis of in -> out cells, output position o maps to an input coordinate c(o) by the
 * coordinate transformation; with the scale s (the parameter, or out / in when it is 0) and the
 * resized length L = in * s (= out when the scale comes from the sizes, as ONNX defines it):
 *   half_pixel           (o + 0.5) / s - 0.5
 *   asymmetric           o / s
 *   align_corners        o * (in - 1) / (L - 1), 0 when L == 1
 *   pytorch_half_pixel   half_pixel when L > 1, else 0
 * Nearest takes the input cell the rounding rule picks from c(o), clamped to the input. Linear
 * clamps c(o) to [0, in - 1] and blends the two cells around it (ONNX pads the input with its
 * edge values, which is the same).
 *
 * On OpenCL the host computes, per axis, the cell index (nearest) or the two cells and the weight
 * (linear) of every output position in double precision, each coordinate as one rounded division
 * of exact integers or floats, so that a coordinate that is exactly on a rounding boundary is
 * seen on it; the kernels gather through these small tables. */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Checks the parameters against the shapes of x and y (same rank). */
static sv_status check_resize(const sv_resize_params *p, int rank, const int64_t *x_dims,
                              const int64_t *y_dims, sv_message *err) {
    if (!p)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "resize: NULL parameters");
    if (p->mode != SV_RESIZE_NEAREST && p->mode != SV_RESIZE_LINEAR)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "resize: unknown mode %d", (int)p->mode);
    if (p->coordinates < SV_COORD_HALF_PIXEL || p->coordinates > SV_COORD_PYTORCH_HALF_PIXEL)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "resize: unknown coordinate transformation %d", (int)p->coordinates);
    if (p->rounding < SV_NEAREST_ROUND_PREFER_FLOOR || p->rounding > SV_NEAREST_CEIL)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "resize: unknown nearest rounding %d",
                               (int)p->rounding);
    for (int i = 0; i < rank; i++) {
        const float s = p->scales[i];
        if (!(s >= 0.0f) || isinf(s))
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "resize: scale %g of axis %d must be > 0, or 0 for output size "
                                   "/ input size",
                                   (double)s, i);
    }
    if (p->mode == SV_RESIZE_LINEAR)
        for (int i = 0; i < rank - 2; i++)
            if (x_dims[i] != y_dims[i] || (p->scales[i] != 0.0f && p->scales[i] != 1.0f))
                return sv_fail_message(err, SV_UNSUPPORTED,
                                       "resize: linear mode interpolates the last two axes only; "
                                       "axis %d goes from %lld to %lld with scale %g",
                                       i, (long long)x_dims[i], (long long)y_dims[i],
                                       (double)p->scales[i]);
    return SV_OK;
}

/* The input coordinate of output position o along an axis of in -> out cells with scale
 * parameter s. The scale is num / den: s / 1, or out / in when s is 0. */
static double input_coordinate(sv_resize_coordinates mode, float s, int64_t in, int64_t out,
                               int64_t o) {
    const double num = s > 0.0f ? (double)s : (double)out, den = s > 0.0f ? 1.0 : (double)in;
    const double resized = s > 0.0f ? (double)in * (double)s : (double)out;
    switch (mode) {
    case SV_COORD_HALF_PIXEL: return ((double)(2 * o + 1) * den - num) / (2.0 * num);
    case SV_COORD_ASYMMETRIC: return (double)o * den / num;
    case SV_COORD_ALIGN_CORNERS:
        return resized == 1.0 ? 0.0 : (double)o * (double)(in - 1) / (resized - 1.0);
    case SV_COORD_PYTORCH_HALF_PIXEL:
        return resized > 1.0 ? ((double)(2 * o + 1) * den - num) / (2.0 * num) : 0.0;
    }
    return 0.0;
}

static int64_t nearest_cell(double c, sv_nearest_rounding rounding, int64_t in) {
    const double f = floor(c);
    double cell = f;
    switch (rounding) {
    case SV_NEAREST_ROUND_PREFER_FLOOR: cell = c - f > 0.5 ? f + 1.0 : f; break;
    case SV_NEAREST_ROUND_PREFER_CEIL: cell = c - f >= 0.5 ? f + 1.0 : f; break;
    case SV_NEAREST_FLOOR: cell = f; break;
    case SV_NEAREST_CEIL: cell = ceil(c); break;
    }
    return cell < 0.0 ? 0 : cell > (double)(in - 1) ? in - 1 : (int64_t)cell;
}

/* Runs `name` over count work-items with the table as its third argument, after x and y. */
static sv_status enqueue_with_table(sv_context *ctx, const char *name, const sv_tensor *x,
                                    sv_tensor *y, const void *table, size_t table_bytes,
                                    const int *ints, int nints) {
    cl_kernel kernel;
    sv_status st = sv_program_kernel(ctx, "resize", "", name, &kernel);
    if (st != SV_OK)
        return st;
    cl_mem buffer;
    st = sv_device_buffer_create(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, table_bytes, table,
                                 "resize table", &buffer);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, x->buffer);
    sv_arg_mem(&args, y->buffer);
    sv_arg_mem(&args, buffer);
    sv_arg_int(&args, (int)y->count);
    for (int i = 0; i < nints; i++)
        sv_arg_int(&args, ints[i]);
    if (args.rc != CL_SUCCESS) {
        sv_device_buffer_release(ctx, buffer);
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(resize)");
    }
    const size_t local = 64, global = sv_round_up((size_t)y->count, local);
    st = sv_enqueue(ctx, kernel, 1, &global, &local, name);
    /* the buffer lives on until the kernel that uses it has finished */
    sv_device_buffer_release(ctx, buffer);
    return st;
}

/* Nearest: per axis (rank 5, unit axes in front), the offset of the chosen input cell. */
static sv_status resize_nearest_cl(sv_context *ctx, const sv_resize_params *p, const sv_tensor *x,
                                   sv_tensor *y) {
    const int lead = SV_MAX_RANK - x->rank;
    int64_t in[SV_MAX_RANK], out[SV_MAX_RANK], stride[SV_MAX_RANK];
    float scale[SV_MAX_RANK];
    size_t entries = 0;
    for (int i = 0; i < SV_MAX_RANK; i++) {
        in[i] = i < lead ? 1 : x->dims[i - lead];
        out[i] = i < lead ? 1 : y->dims[i - lead];
        scale[i] = i < lead ? 0.0f : p->scales[i - lead];
        entries += (size_t)out[i];
    }
    stride[SV_MAX_RANK - 1] = 1;
    for (int i = SV_MAX_RANK - 2; i >= 0; i--)
        stride[i] = stride[i + 1] * in[i + 1];
    cl_int *table = malloc(entries * sizeof *table);
    if (!table)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "resize: out of host memory");
    cl_int *t = table;
    for (int i = 0; i < SV_MAX_RANK; i++)
        for (int64_t o = 0; o < out[i]; o++) {
            const double c = input_coordinate(p->coordinates, scale[i], in[i], out[i], o);
            *t++ = (cl_int)(nearest_cell(c, p->rounding, in[i]) * stride[i]);
        }
    const int dims[SV_MAX_RANK] = {(int)out[0], (int)out[1], (int)out[2], (int)out[3], (int)out[4]};
    sv_status st = enqueue_with_table(ctx, "resize_nearest", x, y, table, entries * sizeof *table,
                                      dims, SV_MAX_RANK);
    free(table);
    return st;
}

/* Linear: per output row and column, the two input cells (as offsets) and the weight of the
 * second, in an int4 whose z holds the float's bits. */
static sv_status resize_linear_cl(sv_context *ctx, const sv_resize_params *p, const sv_tensor *x,
                                  sv_tensor *y) {
    const int r = x->rank;
    const int64_t ih = r >= 2 ? x->dims[r - 2] : 1, iw = x->dims[r - 1];
    const int64_t oh = r >= 2 ? y->dims[r - 2] : 1, ow = y->dims[r - 1];
    const int64_t in[2] = {ih, iw}, out[2] = {oh, ow}, stride[2] = {iw, 1};
    const float scale[2] = {r >= 2 ? p->scales[r - 2] : 0.0f, p->scales[r - 1]};
    const size_t entries = (size_t)(oh + ow);
    cl_int4 *table = malloc(entries * sizeof *table);
    if (!table)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "resize: out of host memory");
    cl_int4 *t = table;
    for (int a = 0; a < 2; a++)
        for (int64_t o = 0; o < out[a]; o++) {
            double c = input_coordinate(p->coordinates, scale[a], in[a], out[a], o);
            c = c < 0.0 ? 0.0 : c > (double)(in[a] - 1) ? (double)(in[a] - 1) : c;
            const int64_t first = (int64_t)floor(c);
            const int64_t second = first + 1 < in[a] ? first + 1 : first;
            const float weight = (float)(c - (double)first);
            cl_int4 e;
            e.s[0] = (cl_int)(first * stride[a]);
            e.s[1] = (cl_int)(second * stride[a]);
            memcpy(&e.s[2], &weight, sizeof weight);
            e.s[3] = 0;
            *t++ = e;
        }
    const int dims[4] = {(int)oh, (int)ow, (int)ih, (int)iw};
    sv_status st =
        enqueue_with_table(ctx, "resize_linear", x, y, table, entries * sizeof *table, dims, 4);
    free(table);
    return st;
}

sv_status sv_resize(sv_context *ctx, const sv_resize_params *p, const sv_tensor *x, sv_tensor *y) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "resize", 2, (const sv_tensor *[]){x, y}, 0);
    if (st != SV_OK)
        return st;
    if (x->storage == y->storage)
        return sv_fail(ctx, SV_INVALID_ARGUMENT,
                       "resize: the output shares storage with the input");
    if (x->rank != y->rank)
        return sv_fail(ctx, SV_SHAPE_MISMATCH, "resize: input has rank %d but output has rank %d",
                       x->rank, y->rank);
    sv_message msg;
    st = check_resize(p, x->rank, x->dims, y->dims, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), yv = sv_tensor_host_view(y);
        sv_ref_resize(p, &xv, &yv);
        return SV_OK;
    }
    int64_t table_entries = 0;
    for (int i = 0; i < y->rank; i++)
        table_entries += y->dims[i];
    if (x->count > INT_MAX || y->count > INT_MAX || table_entries > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "resize: tensors of more than %d elements are not supported on OpenCL "
                       "devices",
                       INT_MAX);
    return p->mode == SV_RESIZE_NEAREST ? resize_nearest_cl(ctx, p, x, y)
                                        : resize_linear_cl(ctx, p, x, y);
}
