/* Pooling, 1-D and 2-D (max, average, Lp, RMS; windowed or global): parameter validation and
 * output shape (pure), then dispatch to the reference path or the OpenCL kernels in
 * kernels_cl/pool.cl. A 1-D pooling runs as a 2-D one with a height of 1. */
#include "core/internal.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Positions within a plane are stored as floats, exact up to 2^24. */
#define MAX_INDEXED_PLANE (INT64_C(1) << 24)

/* Work-group size of the global-pooling kernel; pool.cl's GLOBAL_GROUP must match. */
#define GLOBAL_GROUP 64

sv_pool_params sv_pool_params_default(int spatial_dims, sv_pool_kind kind) {
    sv_pool_params p;
    memset(&p, 0, sizeof p);
    p.spatial_dims = spatial_dims;
    p.kind = kind;
    for (int i = 0; i < 2; i++) {
        p.kernel[i] = 2;
        p.stride[i] = 2;
        p.dilation[i] = 1;
    }
    p.p = 2.0f;
    return p;
}

static const char *kind_name(sv_pool_kind kind) {
    switch (kind) {
    case SV_POOL_MAX: return "max";
    case SV_POOL_AVERAGE: return "average";
    case SV_POOL_LP: return "lp";
    case SV_POOL_RMS: return "rms";
    }
    return "unknown";
}

/* Output size of one windowed axis, or a failure naming the axis. n: input size. */
static sv_status axis_output(const sv_pool_params *p, int i, int64_t n, int64_t *out,
                             sv_message *err) {
    const int k = p->kernel[i], s = p->stride[i], d = p->dilation[i];
    const int pb = p->pad_begin[i], pe = p->pad_end[i];
    if (k < 1)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "pool: kernel (%d) of spatial axis %d must be >= 1", k, i);
    sv_status st = sv_check_window_axis("pool", i, s, d, pb, pe, err);
    if (st != SV_OK)
        return st;
    const int64_t extent = (int64_t)d * (k - 1) + 1, padded = n + pb + pe;
    /* ONNX's rule (onnxruntime: "Pad should be smaller than kernel"), on the dilated extent */
    if (pb >= extent || pe >= extent)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "pool: padding (%d, %d) of spatial axis %d must be smaller than the "
                               "kernel extent %lld (size %d, dilation %d)",
                               pb, pe, i, (long long)extent, k, d);
    if (extent > padded)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "pool: kernel extent %lld (size %d, dilation %d) on spatial axis %d "
                               "is larger than the padded input %lld",
                               (long long)extent, k, d, i, (long long)padded);
    int64_t size = (p->ceil_mode ? (padded - extent + s - 1) / s : (padded - extent) / s) + 1;
    /* ceil mode: a last window starting in the end padding is dropped */
    if (p->ceil_mode && (size - 1) * s >= n + pb)
        size--;
    /* Every window now starts before the input's end, so it holds an input cell unless it starts
     * in the begin padding and its dilated taps step over the whole input (possible only when
     * d > n). Its first tap at or after 0 is tap ceil(-start / d), which is within the kernel
     * because -start <= pb < extent, and lies in [0, d). */
    if (d > n)
        for (int64_t o = 0; o < size && o * s < pb; o++) {
            const int64_t start = o * s - pb;
            const int64_t first = start + (-start + d - 1) / d * d;
            if (first >= n)
                return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                       "pool: window %lld of spatial axis %d covers only padding "
                                       "(input %lld, kernel %d, dilation %d, padding %d, %d)",
                                       (long long)o, i, (long long)n, k, d, pb, pe);
        }
    *out = size;
    return SV_OK;
}

sv_status sv_pool_output_shape(const sv_pool_params *p, int rank, const int64_t *x_dims,
                               int64_t *out_dims, sv_message *err) {
    if (!p || !x_dims || !out_dims)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "pool: NULL parameters or shapes");
    sv_status st = sv_check_spatial_layout("pool", p->spatial_dims, rank, err);
    if (st != SV_OK)
        return st;
    const int sd = p->spatial_dims;
    if (p->kind < SV_POOL_MAX || p->kind > SV_POOL_RMS)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "pool: unknown pooling kind %d",
                               (int)p->kind);
    const struct {
        const char *name;
        int value;
    } flags[] = {
        {"global", p->global},
        {"ceil_mode", p->ceil_mode},
        {"count_include_pad", p->count_include_pad},
    };
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++)
        if (flags[f].value != 0 && flags[f].value != 1)
            return sv_fail_message(err, SV_INVALID_ARGUMENT, "pool: %s = %d, must be 0 or 1",
                                   flags[f].name, flags[f].value);
    if (p->kind == SV_POOL_LP && !(p->p > 0.0f && isfinite(p->p)))
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "pool: lp pooling needs a finite order p > 0, got p = %g",
                               (double)p->p);
    for (int i = 0; i < rank; i++)
        if (x_dims[i] < 1 || x_dims[i] > INT_MAX)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "pool: dimension %d of the input (%lld) is outside 1..%d", i,
                                   (long long)x_dims[i], INT_MAX);
    int64_t dims[4] = {x_dims[0], x_dims[1], 1, 1};
    if (!p->global)
        for (int i = 0; i < sd; i++) {
            st = axis_output(p, i, x_dims[2 + i], &dims[2 + i], err);
            if (st != SV_OK)
                return st;
        }
    for (int i = 0; i < rank; i++)
        out_dims[i] = dims[i];
    return SV_OK;
}

/* The geometry the OpenCL kernels take: always 2-D, int-sized; global pooling as one window. */
typedef struct pool_geometry {
    int planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, phe, pwe;
} pool_geometry;

static pool_geometry geometry_of(const sv_pool_params *p, const sv_tensor *x, const sv_tensor *y) {
    const int two_d = p->spatial_dims == 2;
    pool_geometry g;
    g.planes = (int)(x->dims[0] * x->dims[1]);
    g.h = two_d ? (int)x->dims[2] : 1;
    g.w = (int)x->dims[x->rank - 1];
    g.oh = two_d ? (int)y->dims[2] : 1;
    g.ow = (int)y->dims[y->rank - 1];
    const int a = two_d ? 1 : 0; /* index of the W axis in the params arrays */
    if (p->global) {
        g.kh = g.h, g.kw = g.w;
        g.sh = g.sw = g.dh = g.dw = 1;
        g.ph = g.pw = g.phe = g.pwe = 0;
        return g;
    }
    g.kh = two_d ? p->kernel[0] : 1;
    g.sh = two_d ? p->stride[0] : 1;
    g.dh = two_d ? p->dilation[0] : 1;
    g.ph = two_d ? p->pad_begin[0] : 0;
    g.phe = two_d ? p->pad_end[0] : 0;
    g.kw = p->kernel[a];
    g.sw = p->stride[a];
    g.dw = p->dilation[a];
    g.pw = p->pad_begin[a];
    g.pwe = p->pad_end[a];
    return g;
}

/* Builds pool.cl's kernel `name` for p's kind and sets the arguments both pooling kernels begin
 * with: x, y, the indices (y's buffer, never written, when there are none) and whether there are
 * indices. */
static sv_status pool_kernel(sv_context *ctx, const sv_pool_params *p, const char *name,
                             const sv_tensor *x, const sv_tensor *y, const sv_tensor *indices,
                             sv_kernel_args *args) {
    char options[64];
    snprintf(options, sizeof options, "-DPOOL_KIND=%d", (int)p->kind);
    sv_status st = sv_program_kernel(ctx, "pool", options, name, &args->kernel);
    if (st != SV_OK)
        return st;
    args->next = 0;
    args->rc = CL_SUCCESS;
    sv_arg_mem(args, x->buffer);
    sv_arg_mem(args, y->buffer);
    sv_arg_mem(args, indices ? indices->buffer : y->buffer);
    sv_arg_int(args, indices != NULL);
    return SV_OK;
}

/* The arguments both pooling kernels end with: the Lp order p and its reciprocal. */
static void order_args(sv_kernel_args *args, const sv_pool_params *p) {
    sv_arg_float(args, p->p);
    sv_arg_float(args, (float)(1.0 / (double)p->p));
}

/* Global pooling of a large plane: one work-group per plane reduces it cooperatively. */
static sv_status pool_global_cl(sv_context *ctx, const sv_pool_params *p, const pool_geometry *g,
                                const sv_tensor *x, sv_tensor *y, sv_tensor *indices) {
    sv_kernel_args args;
    sv_status st = pool_kernel(ctx, p, "pool_global", x, y, indices, &args);
    if (st != SV_OK)
        return st;
    sv_arg_int(&args, g->h * g->w);
    order_args(&args, p);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(pool_global)");
    const size_t local[1] = {GLOBAL_GROUP};
    const size_t global[1] = {(size_t)g->planes * GLOBAL_GROUP};
    return sv_enqueue(ctx, args.kernel, 1, global, local, "pool_global");
}

static sv_status pool_cl(sv_context *ctx, const sv_pool_params *p, const sv_tensor *x, sv_tensor *y,
                         sv_tensor *indices) {
    if (x->count > INT_MAX || y->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "pool: tensors of more than %d elements are not supported on OpenCL devices",
                       INT_MAX);
    /* the kernel's window arithmetic stays within the padded extent of each axis */
    for (int i = 0; i < p->spatial_dims && !p->global; i++)
        if (x->dims[2 + i] + p->pad_begin[i] + p->pad_end[i] > INT_MAX)
            return sv_fail(ctx, SV_UNSUPPORTED,
                           "pool: padded spatial axis %d exceeds %d cells on OpenCL devices", i,
                           INT_MAX);
    const pool_geometry g = geometry_of(p, x, y);
    /* a window much larger than the work-group is worth reducing cooperatively */
    if (p->global && g.h * g.w >= 4 * GLOBAL_GROUP)
        return pool_global_cl(ctx, p, &g, x, y, indices);
    sv_kernel_args args;
    sv_status st = pool_kernel(ctx, p, "pool2d", x, y, indices, &args);
    if (st != SV_OK)
        return st;
    const int geometry[] = {g.planes, g.h,  g.w,  g.oh, g.ow, g.kh,  g.kw, g.sh,
                            g.sw,     g.dh, g.dw, g.ph, g.pw, g.phe, g.pwe};
    for (size_t i = 0; i < sizeof geometry / sizeof geometry[0]; i++)
        sv_arg_int(&args, geometry[i]);
    sv_arg_int(&args, p->count_include_pad);
    order_args(&args, p);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(pool2d)");
    const size_t local[3] = {g.ow >= 16 ? 16 : 8, g.oh >= 4 ? 4 : 1, 1};
    const size_t global[3] = {sv_round_up((size_t)g.ow, local[0]),
                              sv_round_up((size_t)g.oh, local[1]), (size_t)g.planes};
    return sv_enqueue(ctx, args.kernel, 3, global, local, "pool2d");
}

sv_status sv_pool(sv_context *ctx, const sv_pool_params *p, const sv_tensor *x, sv_tensor *y,
                  sv_tensor *indices) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_tensors(ctx, "pool", 3, (const sv_tensor *[]){x, y, indices}, 0x4);
    if (st != SV_OK)
        return st;
    sv_message msg;
    int64_t out_dims[SV_MAX_RANK];
    st = sv_pool_output_shape(p, x->rank, x->dims, out_dims, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "pool", y, x->rank, out_dims);
    if (st != SV_OK)
        return st;
    if (indices) {
        if (p->kind != SV_POOL_MAX)
            return sv_fail(ctx, SV_INVALID_ARGUMENT,
                           "pool: indices are produced by max pooling only, not by %s pooling",
                           kind_name(p->kind));
        if (indices->storage == y->storage)
            return sv_fail(ctx, SV_INVALID_ARGUMENT,
                           "pool: indices must not share the output tensor's storage");
        st = sv_check_output_shape(ctx, "pool (indices)", indices, x->rank, out_dims);
        if (st != SV_OK)
            return st;
        const int64_t plane = x->rank == 4 ? x->dims[2] * x->dims[3] : x->dims[2];
        if (plane > MAX_INDEXED_PLANE)
            return sv_fail(ctx, SV_UNSUPPORTED,
                           "pool: indices of a plane of %lld elements cannot be stored exactly as "
                           "floats (at most 2^24 = %lld)",
                           (long long)plane, (long long)MAX_INDEXED_PLANE);
    }
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), yv = sv_tensor_host_view(y);
        sv_host_view iv = indices ? sv_tensor_host_view(indices) : sv_host_view_make(NULL, 0, NULL);
        sv_ref_pool(p, &xv, &yv, indices ? &iv : NULL);
        return SV_OK;
    }
    return pool_cl(ctx, p, x, y, indices);
}
