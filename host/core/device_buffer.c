/* Device buffers the library allocates, and guard mode: each buffer a sub-buffer between two
 * regions of a sentinel pattern that a kernel writing out of bounds changes. The checks wait
 * for the queue, so guard mode is for testing kernels, not for production runs. */
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Guard bytes on each side: room for a kernel that overruns by a row, not only by an element.
 * The head is rounded up to the device's base-address alignment, which sub-buffers need. */
#define GUARD_BYTES 4096
/* The sentinel: signalling-NaN bit patterns, which no kernel computes (arithmetic on a signalling
 * NaN gives a quiet one), with the low 16 bits numbering each guard, so that a kernel copying
 * from past the end of one buffer to past the end of another still changes a guard. */
#define SENTINEL_BITS 0x7fa50000u

static uint32_t guard_word(const sv_guarded_buffer *b, int after) {
    return SENTINEL_BITS | (uint32_t)((2 * b->serial + (unsigned)after) & 0xffffu);
}

/* The byte a guard holds at offset i (in the device's byte order, taken to be the host's). */
static unsigned char guard_byte(uint32_t word, size_t i) {
    unsigned char bytes[4];
    memcpy(bytes, &word, sizeof bytes);
    return bytes[i % 4];
}

#define ACCESS_FLAGS (CL_MEM_READ_WRITE | CL_MEM_READ_ONLY | CL_MEM_WRITE_ONLY)

sv_status sv_debug_guard_enable(sv_context *ctx) {
    sv_guard_state *g = &ctx->guard;
    if (sv_context_is_ref(ctx))
        return sv_fail(ctx, SV_UNSUPPORTED, "guard mode needs an OpenCL device, not '%s'",
                       ctx->device.name);
    if (g->enabled)
        return SV_OK;
    cl_uint align_bits = 0;
    cl_int rc = clGetDeviceInfo(ctx->cl_device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits,
                                &align_bits, NULL);
    if (rc != CL_SUCCESS)
        return sv_fail_cl(ctx, rc, "clGetDeviceInfo(CL_DEVICE_MEM_BASE_ADDR_ALIGN)");
    const size_t align = align_bits >= 8 ? align_bits / 8 : 1;
    g->head = (GUARD_BYTES + align - 1) / align * align;
    g->tail = GUARD_BYTES;
    g->pattern = malloc(g->head > g->tail ? g->head : g->tail);
    if (!g->pattern)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "guard mode: out of host memory");
    g->enabled = 1;
    return SV_OK;
}

void sv_guard_release(sv_guard_state *g) {
    free(g->pattern);
    free(g->scratch);
    free(g->live);
    memset(g, 0, sizeof *g);
}

/* Writes b's guard before (after = 0) or after it (blocking: the pattern buffer is reused). */
static cl_int write_guard(sv_context *ctx, const sv_guarded_buffer *b, int after) {
    const sv_guard_state *g = &ctx->guard;
    const size_t n = after ? g->tail : g->head;
    const uint32_t word = guard_word(b, after);
    for (size_t i = 0; i < n; i++)
        g->pattern[i] = guard_byte(word, i);
    return clEnqueueWriteBuffer(ctx->queue, b->whole, CL_TRUE, after ? g->head + b->bytes : 0, n,
                                g->pattern, 0, NULL, NULL);
}

static cl_int write_guards(sv_context *ctx, const sv_guarded_buffer *b) {
    const cl_int rc = write_guard(ctx, b, 0);
    return rc == CL_SUCCESS ? write_guard(ctx, b, 1) : rc;
}

static sv_status create_failed(sv_context *ctx, cl_int rc, const char *what) {
    char call[128];
    snprintf(call, sizeof call, "clCreateBuffer(%s)", what);
    return sv_fail_cl(ctx, rc, call);
}

static sv_status create_guarded(sv_context *ctx, cl_mem_flags flags, size_t bytes,
                                const void *host_ptr, const char *what, cl_mem *out) {
    sv_guard_state *g = &ctx->guard;
    if (g->count == g->capacity) {
        const size_t cap = g->capacity ? 2 * g->capacity : 16;
        sv_guarded_buffer *bigger = realloc(g->live, cap * sizeof *bigger);
        if (!bigger)
            return sv_fail(ctx, SV_OUT_OF_MEMORY, "guard mode: out of host memory");
        g->live = bigger;
        g->capacity = cap;
    }
    cl_int rc;
    sv_guarded_buffer b = {NULL, NULL, bytes, what, g->serial++};
    b.whole = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, g->head + bytes + g->tail, NULL, &rc);
    if (rc != CL_SUCCESS)
        return create_failed(ctx, rc, what);
    rc = write_guards(ctx, &b);
    if (rc == CL_SUCCESS && (flags & CL_MEM_COPY_HOST_PTR))
        rc = clEnqueueWriteBuffer(ctx->queue, b.whole, CL_TRUE, g->head, bytes, host_ptr, 0, NULL,
                                  NULL);
    if (rc != CL_SUCCESS) {
        clReleaseMemObject(b.whole);
        return sv_fail_cl(ctx, rc, "clEnqueueWriteBuffer(guard mode)");
    }
    const cl_buffer_region region = {g->head, bytes};
    b.user = clCreateSubBuffer(b.whole, flags & ACCESS_FLAGS, CL_BUFFER_CREATE_TYPE_REGION, &region,
                               &rc);
    if (rc != CL_SUCCESS) {
        clReleaseMemObject(b.whole);
        return sv_fail_cl(ctx, rc, "clCreateSubBuffer(guard mode)");
    }
    g->live[g->count++] = b;
    *out = b.user;
    return SV_OK;
}

sv_status sv_device_buffer_create(sv_context *ctx, cl_mem_flags flags, size_t bytes,
                                  const void *host_ptr, const char *what, cl_mem *out) {
    if (sv_injected_failure(ctx, SV_INJECT_ALLOC))
        return create_failed(ctx, CL_MEM_OBJECT_ALLOCATION_FAILURE, what);
    if (ctx->guard.enabled)
        return create_guarded(ctx, flags, bytes, host_ptr, what, out);
    cl_int rc;
    cl_mem mem = clCreateBuffer(ctx->cl, flags, bytes, (void *)(uintptr_t)host_ptr, &rc);
    if (rc != CL_SUCCESS)
        return create_failed(ctx, rc, what);
    *out = mem;
    return SV_OK;
}

/* Room for the guards of n buffers, read back. */
static unsigned char *scratch_for(sv_guard_state *g, size_t n) {
    const size_t need = n * (g->head + g->tail);
    if (need > g->scratch_bytes) {
        unsigned char *bigger = realloc(g->scratch, need);
        if (!bigger)
            return NULL;
        g->scratch = bigger;
        g->scratch_bytes = need;
    }
    return g->scratch;
}

/* Queues the reads of b's guards into at[0, head + tail). */
static cl_int read_guards(sv_context *ctx, const sv_guarded_buffer *b, unsigned char *at) {
    const sv_guard_state *g = &ctx->guard;
    cl_int rc = clEnqueueReadBuffer(ctx->queue, b->whole, CL_FALSE, 0, g->head, at, 0, NULL, NULL);
    if (rc == CL_SUCCESS)
        rc = clEnqueueReadBuffer(ctx->queue, b->whole, CL_FALSE, g->head + b->bytes, g->tail,
                                 at + g->head, 0, NULL, NULL);
    return rc;
}

/* Compares b's guards as read into at[] with the pattern. On a difference writes where it is
 * into `where` and restores the guards, so that one stray write is reported once; returns
 * whether they were intact. */
static int guards_intact(sv_context *ctx, const sv_guarded_buffer *b, const unsigned char *at,
                         char *where, size_t size) {
    const sv_guard_state *g = &ctx->guard;
    const uint32_t before_word = guard_word(b, 0), after_word = guard_word(b, 1);
    long long offset = 0;
    int changed = 0;
    for (size_t i = 0; i < g->head && !changed; i++)
        if (at[i] != guard_byte(before_word, i)) {
            offset = (long long)i - (long long)g->head;
            changed = 1;
        }
    for (size_t i = 0; i < g->tail && !changed; i++)
        if (at[g->head + i] != guard_byte(after_word, i)) {
            offset = (long long)(b->bytes + i);
            changed = 1;
        }
    if (!changed)
        return 1;
    snprintf(where, size,
             "outside a %s buffer of %zu bytes: the first changed byte is at offset %lld, in the "
             "guard %s it",
             b->what, b->bytes, offset, offset < 0 ? "before" : "after");
    write_guards(ctx, b);
    return 0;
}

sv_status sv_guard_check(sv_context *ctx, const char *after) {
    sv_guard_state *g = &ctx->guard;
    cl_int rc = clFinish(ctx->queue);
    if (rc != CL_SUCCESS)
        return sv_fail_cl(ctx, rc, "clFinish(guard check)");
    if (g->pending[0]) {
        sv_fail(ctx, SV_INTERNAL_ERROR, "%s", g->pending);
        g->pending[0] = '\0';
        return SV_INTERNAL_ERROR;
    }
    unsigned char *scratch = scratch_for(g, g->count);
    if (!scratch && g->count)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "guard check: out of host memory");
    const size_t per = g->head + g->tail;
    for (size_t i = 0; i < g->count && rc == CL_SUCCESS; i++) /* all queued, one wait */
        rc = read_guards(ctx, &g->live[i], scratch + i * per);
    const cl_int done = clFinish(ctx->queue);
    if (rc != CL_SUCCESS || done != CL_SUCCESS)
        return sv_fail_cl(ctx, rc != CL_SUCCESS ? rc : done, "clEnqueueReadBuffer(guard check)");
    for (size_t i = 0; i < g->count; i++) {
        char where[512];
        if (!guards_intact(ctx, &g->live[i], scratch + i * per, where, sizeof where))
            return sv_fail(ctx, SV_INTERNAL_ERROR, "guard mode: %s wrote %s", after, where);
    }
    return SV_OK;
}

/* Checks the guards of live buffer i before it goes. A kernel's stray write was caught when it
 * ran; this catches any other (a routine that bypassed the checks), and keeps it for the next
 * check to report, as a release cannot fail. */
static void check_on_release(sv_context *ctx, size_t i) {
    sv_guard_state *g = &ctx->guard;
    unsigned char *at = scratch_for(g, 1);
    if (!at)
        return; /* the check is lost, not the release */
    cl_int rc = read_guards(ctx, &g->live[i], at);
    if (rc == CL_SUCCESS)
        rc = clFinish(ctx->queue);
    char where[512];
    if (rc == CL_SUCCESS && !guards_intact(ctx, &g->live[i], at, where, sizeof where) &&
        !g->pending[0])
        snprintf(g->pending, sizeof g->pending,
                 "guard mode: a write %s, found when the buffer was released", where);
}

void sv_device_buffer_release(sv_context *ctx, cl_mem mem) {
    if (!mem)
        return;
    sv_guard_state *g = &ctx->guard;
    for (size_t i = 0; g->enabled && i < g->count; i++) {
        if (g->live[i].user != mem)
            continue;
        check_on_release(ctx, i);
        clReleaseMemObject(g->live[i].user);
        clReleaseMemObject(g->live[i].whole);
        g->live[i] = g->live[--g->count];
        return;
    }
    clReleaseMemObject(mem); /* unguarded: allocated before guard mode was on */
}
