/* Library-internal definitions shared by host/core, host/cl, host/ops and host/ref. */
#ifndef SV_INTERNAL_H
#define SV_INTERNAL_H

#include "cl/opencl.h"
#include "cl/program.h"
#include "svertka.h"

#include <stdarg.h>

/* A device buffer of guard mode: the sub-buffer the library uses, at `head` bytes into a larger
 * buffer whose bytes before and after it hold a sentinel pattern. */
typedef struct sv_guarded_buffer {
    cl_mem user;
    cl_mem whole;
    size_t bytes;     /* the sub-buffer's */
    const char *what; /* a static name: "tensor", "conv weight blocks", ... */
    unsigned serial;  /* numbers its guards' sentinel */
} sv_guarded_buffer;

/* Guard mode (SVERTKA_GUARD=1 at context creation, or sv_debug_guard_enable): every device
 * buffer the library allocates is guarded, and every kernel is followed by a wait and a check of
 * every live buffer's guards. */
typedef struct sv_guard_state {
    int enabled;
    size_t head, tail;      /* guard bytes before (a multiple of the base-address alignment)
                               and after each buffer */
    unsigned char *pattern; /* max(head, tail) bytes: a guard's sentinel, to write it */
    unsigned char *scratch; /* where the guards are read back */
    size_t scratch_bytes;
    sv_guarded_buffer *live;
    size_t count, capacity;
    unsigned serial;    /* of the next buffer */
    char pending[1024]; /* a violation found while releasing, reported by the next check */
} sv_guard_state;

/* Kinds of failure sv_debug_inject_failure can inject. */
enum { SV_INJECT_ALLOC = 1, SV_INJECT_BUILD = 2 };

struct sv_context {
    sv_device_info device;
    /* OpenCL objects; all NULL on the reference device. */
    cl_context cl;
    cl_device_id cl_device;
    cl_command_queue queue;
    sv_program_cache programs;
    struct sv_tuning_db *tuning; /* loaded on first use (ops/conv_tuning.h) */
    int tuning_loaded;
    sv_guard_state guard;
    unsigned inject_kinds; /* a pending injected failure: of these kinds, */
    int inject_countdown;  /* after this many more events of them succeed */
    char last_error[4096];
};

/* Device memory shared by a tensor and its reshaped views; freed with its last user. Counted
 * without atomics: a context, and so its tensors, is used by one thread at a time. */
typedef struct sv_storage {
    sv_context *ctx;
    long users;
    int64_t capacity; /* elements */
    cl_mem buffer;    /* OpenCL devices */
    float *host;      /* the reference device */
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

/* Allocates device memory for the library (every clCreateBuffer of the library goes through
 * here): `flags` are clCreateBuffer's (access flags, optionally CL_MEM_COPY_HOST_PTR with
 * host_ptr); `what` (a static string) names it in messages. In guard mode the buffer is a
 * sub-buffer between two guard regions. */
sv_status sv_device_buffer_create(sv_context *ctx, cl_mem_flags flags, size_t bytes,
                                  const void *host_ptr, const char *what, cl_mem *out);
/* Releases what sv_device_buffer_create made (NULL is ignored); in guard mode checks its guards
 * first, once the queue is idle, and keeps a violation for the next check to report. */
void sv_device_buffer_release(sv_context *ctx, cl_mem mem);

/* Switches guard mode on for a context on an OpenCL device (SV_UNSUPPORTED on the reference
 * path); buffers allocated earlier stay unguarded. For tests; SVERTKA_GUARD=1 does the same for
 * every context. */
sv_status sv_debug_guard_enable(sv_context *ctx);
/* Waits for the queue and checks the guards of every live buffer (and any violation found while
 * releasing one): SV_INTERNAL_ERROR names `after` (the kernel or routine that ran last), the
 * buffer, its size and the first changed byte. The guards are restored. */
sv_status sv_guard_check(sv_context *ctx, const char *after);
/* What follows every kernel enqueue: nothing unless guard mode is on. */
static inline sv_status sv_guard_after(sv_context *ctx, const char *after) {
    return ctx->guard.enabled ? sv_guard_check(ctx, after) : SV_OK;
}
void sv_guard_release(sv_guard_state *guard);

/* Failure injection for tests: of the events of `kinds` (SV_INJECT_ALLOC: a device allocation,
 * host memory of a reference-path tensor included; SV_INJECT_BUILD: a program build) on ctx,
 * the first `after_n` from now succeed and the next fails as if the driver had said
 * CL_MEM_OBJECT_ALLOCATION_FAILURE or CL_BUILD_PROGRAM_FAILURE; then injection is off again.
 * kinds 0 switches a pending injection off. */
void sv_debug_inject_failure(sv_context *ctx, unsigned kinds, int after_n);
/* Counts an event of `kind` (one SV_INJECT_ bit) about to happen; 1 when it must fail. */
int sv_injected_failure(sv_context *ctx, unsigned kind);

/* A tensor of `rank`/`dims` over the first elements of t's storage (which must hold them): how
 * the planner places activations in shared buffers. */
sv_status sv_tensor_alias(const sv_tensor *t, int rank, const int64_t *dims, sv_tensor **out);

/* Frees a context's tuning database (ops/conv_tuning.h); NULL is ignored. */
void sv_tuning_db_release(struct sv_tuning_db *db);

/* Copies the first `count` (<= the tensor's count) elements to the host, waiting for them. */
sv_status sv_tensor_read_prefix(const sv_tensor *t, float *host, int64_t count);

/* A host view of a reference-device tensor's storage. */
sv_host_view sv_tensor_host_view(const sv_tensor *t);
/* Writes "[d0, d1, ...]" into buf. */
void sv_dims_format(char *buf, size_t size, int rank, const int64_t *dims);

#endif
