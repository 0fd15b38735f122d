/* Tensors: fp32, dense, row-major, rank 1..SV_MAX_RANK, on the context's device. */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

sv_host_view sv_host_view_make(float *data, int rank, const int64_t *dims) {
    sv_host_view v;
    v.data = data;
    v.rank = rank;
    for (int i = 0; i < SV_MAX_RANK; i++)
        v.dims[i] = (i < rank && dims) ? dims[i] : 1;
    return v;
}

int64_t sv_host_view_count(const sv_host_view *view) {
    int64_t n = 1;
    for (int i = 0; i < view->rank; i++)
        n *= view->dims[i];
    return n;
}

/* Validates a shape and computes its element count without overflowing the byte size. */
static sv_status checked_count(sv_context *ctx, int rank, const int64_t *dims, int64_t *count) {
    if (rank < 1 || rank > SV_MAX_RANK)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "tensor rank %d is outside 1..%d", rank,
                       SV_MAX_RANK);
    if (!dims)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "tensor dims are NULL");
    int64_t n = 1;
    const int64_t limit = INT64_MAX / (int64_t)sizeof(float);
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 1) {
            char shape[256];
            sv_dims_format(shape, sizeof shape, rank, dims);
            return sv_fail(ctx, SV_INVALID_ARGUMENT, "tensor shape %s has a dimension < 1", shape);
        }
        if (n > limit / dims[i]) {
            char shape[256];
            sv_dims_format(shape, sizeof shape, rank, dims);
            return sv_fail(ctx, SV_INVALID_ARGUMENT, "tensor shape %s is too large to address",
                           shape);
        }
        n *= dims[i];
    }
    *count = n;
    return SV_OK;
}

sv_status sv_tensor_create(sv_context *ctx, int rank, const int64_t *dims, sv_tensor **out) {
    if (!ctx || !out)
        return ctx ? sv_fail(ctx, SV_INVALID_ARGUMENT, "sv_tensor_create: NULL output")
                   : SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    int64_t count;
    sv_status st = checked_count(ctx, rank, dims, &count);
    if (st != SV_OK)
        return st;
    size_t bytes = (size_t)count * sizeof(float);
    if (!sv_context_is_ref(ctx) && bytes > ctx->device.max_alloc_bytes)
        return sv_fail(ctx, SV_OUT_OF_MEMORY,
                       "tensor of %zu bytes exceeds the device's largest allocation (%llu bytes)",
                       bytes, (unsigned long long)ctx->device.max_alloc_bytes);
    sv_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "sv_tensor_create: out of host memory");
    t->ctx = ctx;
    t->rank = rank;
    memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    t->count = count;
    if (sv_context_is_ref(ctx)) {
        t->host = malloc(bytes);
        if (!t->host) {
            free(t);
            return sv_fail(ctx, SV_OUT_OF_MEMORY, "tensor of %zu bytes: out of host memory", bytes);
        }
    } else {
        cl_int rc;
        t->buffer = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, &rc);
        if (rc != CL_SUCCESS) {
            free(t);
            return sv_fail_cl(ctx, rc, "clCreateBuffer(tensor)");
        }
    }
    *out = t;
    return SV_OK;
}

sv_status sv_tensor_from_host(sv_context *ctx, const sv_host_view *view, sv_tensor **out) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    if (!view || !view->data || !out)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "sv_tensor_from_host: NULL view, data or output");
    sv_tensor *t;
    sv_status st = sv_tensor_create(ctx, view->rank, view->dims, &t);
    if (st != SV_OK)
        return st;
    st = sv_tensor_upload(t, view->data, t->count);
    if (st != SV_OK) {
        sv_tensor_release(t);
        return st;
    }
    *out = t;
    return SV_OK;
}

void sv_tensor_release(sv_tensor *t) {
    if (!t)
        return;
    if (t->buffer)
        clReleaseMemObject(t->buffer);
    free(t->host);
    free(t);
}

int sv_tensor_rank(const sv_tensor *t) {
    return t ? t->rank : 0;
}

int64_t sv_tensor_dim(const sv_tensor *t, int i) {
    return (t && i >= 0 && i < t->rank) ? t->dims[i] : 0;
}

int64_t sv_tensor_count(const sv_tensor *t) {
    return t ? t->count : 0;
}

static sv_status check_transfer(const sv_tensor *t, const float *host, int64_t count,
                                const char *what) {
    if (!t)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(t->ctx);
    if (!host)
        return sv_fail(t->ctx, SV_INVALID_ARGUMENT, "%s: NULL host pointer", what);
    if (count != t->count)
        return sv_fail(t->ctx, SV_SHAPE_MISMATCH, "%s: %lld floats given for a tensor of %lld",
                       what, (long long)count, (long long)t->count);
    return SV_OK;
}

sv_status sv_tensor_upload(sv_tensor *t, const float *host, int64_t count) {
    sv_status st = check_transfer(t, host, count, "sv_tensor_upload");
    if (st != SV_OK)
        return st;
    size_t bytes = (size_t)count * sizeof(float);
    if (t->host) {
        memcpy(t->host, host, bytes);
        return SV_OK;
    }
    cl_int rc =
        clEnqueueWriteBuffer(t->ctx->queue, t->buffer, CL_TRUE, 0, bytes, host, 0, NULL, NULL);
    return rc == CL_SUCCESS ? SV_OK : sv_fail_cl(t->ctx, rc, "clEnqueueWriteBuffer(tensor upload)");
}

sv_status sv_tensor_download(const sv_tensor *t, float *host, int64_t count) {
    sv_status st = check_transfer(t, host, count, "sv_tensor_download");
    if (st != SV_OK)
        return st;
    size_t bytes = (size_t)count * sizeof(float);
    if (t->host) {
        memcpy(host, t->host, bytes);
        return SV_OK;
    }
    cl_int rc =
        clEnqueueReadBuffer(t->ctx->queue, t->buffer, CL_TRUE, 0, bytes, host, 0, NULL, NULL);
    return rc == CL_SUCCESS ? SV_OK
                            : sv_fail_cl(t->ctx, rc, "clEnqueueReadBuffer(tensor download)");
}

sv_host_view sv_tensor_host_view(const sv_tensor *t) {
    return sv_host_view_make(t->host, t->rank, t->dims);
}
