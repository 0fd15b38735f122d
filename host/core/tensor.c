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

static sv_status allocate_storage(sv_context *ctx, size_t bytes, sv_storage **out) {
    if (!sv_context_is_ref(ctx) && bytes > ctx->device.max_alloc_bytes)
        return sv_fail(ctx, SV_OUT_OF_MEMORY,
                       "tensor of %zu bytes exceeds the device's largest allocation (%llu bytes)",
                       bytes, (unsigned long long)ctx->device.max_alloc_bytes);
    sv_storage *s = calloc(1, sizeof *s);
    if (!s)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "tensor: out of host memory");
    s->ctx = ctx;
    s->users = 1;
    s->capacity = (int64_t)(bytes / sizeof(float));
    if (sv_context_is_ref(ctx)) {
        s->host = sv_injected_failure(ctx, SV_INJECT_ALLOC) ? NULL : malloc(bytes);
        if (!s->host) {
            free(s);
            return sv_fail(ctx, SV_OUT_OF_MEMORY, "tensor of %zu bytes: out of host memory", bytes);
        }
    } else {
        sv_status st =
            sv_device_buffer_create(ctx, CL_MEM_READ_WRITE, bytes, NULL, "tensor", &s->buffer);
        if (st != SV_OK) {
            free(s);
            return st;
        }
    }
    *out = s;
    return SV_OK;
}

static void release_storage(sv_storage *s) {
    if (--s->users > 0)
        return;
    sv_device_buffer_release(s->ctx, s->buffer);
    free(s->host);
    free(s);
}

/* A tensor record of the given (validated) shape over `storage`, which it takes a use of. */
static sv_status wrap_storage(sv_context *ctx, sv_storage *storage, int rank, const int64_t *dims,
                              int64_t count, sv_tensor **out) {
    sv_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "tensor: out of host memory");
    t->ctx = ctx;
    t->rank = rank;
    memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    t->count = count;
    t->storage = storage;
    t->buffer = storage->buffer;
    t->host = storage->host;
    storage->users++;
    *out = t;
    return SV_OK;
}

sv_status sv_tensor_create(sv_context *ctx, int rank, const int64_t *dims, sv_tensor **out) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    if (!out)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "sv_tensor_create: NULL output");
    int64_t count;
    sv_status st = checked_count(ctx, rank, dims, &count);
    if (st != SV_OK)
        return st;
    sv_storage *storage = NULL;
    st = allocate_storage(ctx, (size_t)count * sizeof(float), &storage);
    if (st != SV_OK)
        return st;
    st = wrap_storage(ctx, storage, rank, dims, count, out);
    release_storage(storage); /* the tensor holds the only use now, or none on failure */
    return st;
}

/* A new tensor over t's storage; `exact` demands the same element count (a reshape), otherwise
 * the storage must merely hold it (an alias). */
static sv_status view_of(const sv_tensor *t, int rank, const int64_t *dims, int exact,
                         sv_tensor **out) {
    if (!t)
        return SV_INVALID_ARGUMENT;
    sv_context *ctx = t->ctx;
    sv_clear_error(ctx);
    if (!out)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "tensor view: NULL output");
    int64_t count = 0; /* set by checked_count on success (which -O3 cannot see) */
    sv_status st = checked_count(ctx, rank, dims, &count);
    if (st != SV_OK)
        return st;
    if (exact ? count != t->count : count > t->storage->capacity) {
        char from[256], to[256];
        sv_dims_format(from, sizeof from, t->rank, t->dims);
        sv_dims_format(to, sizeof to, rank, dims);
        return sv_fail(ctx, SV_SHAPE_MISMATCH,
                       "cannot reshape %s (%lld elements) to %s (%lld elements)", from,
                       (long long)(exact ? t->count : t->storage->capacity), to, (long long)count);
    }
    return wrap_storage(ctx, t->storage, rank, dims, count, out);
}

sv_status sv_tensor_reshape(const sv_tensor *t, int rank, const int64_t *dims, sv_tensor **out) {
    return view_of(t, rank, dims, 1, out);
}

sv_status sv_tensor_alias(const sv_tensor *t, int rank, const int64_t *dims, sv_tensor **out) {
    return view_of(t, rank, dims, 0, out);
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
    release_storage(t->storage);
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

sv_status sv_tensor_read_prefix(const sv_tensor *t, float *host, int64_t count) {
    const size_t bytes = (size_t)count * sizeof(float);
    if (t->host) {
        memcpy(host, t->host, bytes);
        return SV_OK;
    }
    cl_int rc =
        clEnqueueReadBuffer(t->ctx->queue, t->buffer, CL_TRUE, 0, bytes, host, 0, NULL, NULL);
    return rc == CL_SUCCESS ? SV_OK : sv_fail_cl(t->ctx, rc, "clEnqueueReadBuffer(tensor prefix)");
}

sv_host_view sv_tensor_host_view(const sv_tensor *t) {
    return sv_host_view_make(t->host, t->rank, t->dims);
}
