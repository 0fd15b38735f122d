/* Library-internal definitions shared by host/core, host/cl, host/ops and host/ref. */
#ifndef SV_INTERNAL_H
#define SV_INTERNAL_H

#include "cl/opencl.h"
#include "cl/program.h"
#include "svertka.h"

#include <stdarg.h>

struct sv_context {
    sv_device_info device;
    /* OpenCL objects; all NULL on the reference device. */
    cl_context cl;
    cl_device_id cl_device;
    cl_command_queue queue;
    sv_program_cache programs;
    struct sv_tuning_db *tuning; /* loaded on first use (ops/conv_tuning.h) */
    int tuning_loaded;
    char last_error[4096];
};

/* Device memory shared by a tensor and its reshaped views; freed with its last user. Counted
 * without atomics: a context, and so its tensors, is used by one thread at a time. */
typedef struct sv_storage {
    long users;
    int64_t capacity; /* elements */
    cl_mem buffer; /* OpenCL devices */
    float *host;   /* the reference device */
} sv_storage;

struct sv_tensor {
    sv_context *ctx;
    int rank;
    int64_t dims[SV_MAX_RANK];
    int64_t count;
    sv_storage *storage;
    cl_mem buffer; /* = storage->buffer */
    float *host;   /* = storage->host */
};

static inline int sv_context_is_ref(const sv_context *ctx) {
    return ctx->device.kind == SV_DEVICE_REF;
}

/* Records a formatted message on the context and returns `status`, so that error paths read
 * `return sv_fail(ctx, SV_INVALID_ARGUMENT, "...", ...);`. */
sv_status sv_fail(sv_context *ctx, sv_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a caller-supplied message buffer (which may be NULL). */
sv_status sv_fail_message(sv_message *msg, sv_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records an OpenCL failure: "<what>: <CL_ERROR_NAME> (<code>)". */
sv_status sv_fail_cl(sv_context *ctx, cl_int code, const char *what);
/* Puts a formatted prefix in front of the context's last error (what a caller adds to a
 * callee's message: the file, the layer); returns `status`. */
sv_status sv_fail_prefix(sv_context *ctx, sv_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copies a message that a context-free helper wrote into the context's last error. */
sv_status sv_fail_from_message(sv_context *ctx, sv_status status, const sv_message *msg);
/* Clears the context's last error at the start of a public call. */
void sv_clear_error(sv_context *ctx);

/* A tensor of `rank`/`dims` over the first elements of t's storage (which must hold them): how
 * the planner places activations in shared buffers. */
sv_status sv_tensor_alias(const sv_tensor *t, int rank, const int64_t *dims, sv_tensor **out);

/* Frees a context's tuning database (ops/conv_tuning.h); NULL is ignored. */
void sv_tuning_db_release(struct sv_tuning_db *db);

/* The directory `sub` of the user's cache ($SVERTKA_CACHE_DIR, else $XDG_CACHE_HOME/svertka,
 * else $HOME/.cache/svertka), created (mode 0700) when missing; 0 when there is none. */
int sv_cache_dir(const char *sub, char *out, size_t size);

/* Copies the first `count` (<= the tensor's count) elements to the host, waiting for them. */
sv_status sv_tensor_read_prefix(const sv_tensor *t, float *host, int64_t count);

/* A host view of a reference-device tensor's storage. */
sv_host_view sv_tensor_host_view(const sv_tensor *t);
/* Writes "[d0, d1, ...]" into buf. */
void sv_dims_format(char *buf, size_t size, int rank, const int64_t *dims);

#endif
