/* Error messages: recorded on the context or in a caller's sv_message, never printed. */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

sv_status sv_fail(sv_context *ctx, sv_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
    va_end(ap);
    return status;
}

sv_status sv_fail_prefix(sv_context *ctx, sv_status status, const char *fmt, ...) {
    char prefix[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    const size_t room = sizeof ctx->last_error - 1;
    size_t p = strlen(prefix), n = strlen(ctx->last_error);
    if (p > room)
        p = room;
    if (p + n > room)
        n = room - p;
    memmove(ctx->last_error + p, ctx->last_error, n);
    memcpy(ctx->last_error + 0, prefix, p);
    ctx->last_error[p + n] = '\0';
    return status;
}

sv_status sv_fail_message(sv_message *msg, sv_status status, const char *fmt, ...) {
    if (msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg->text, sizeof msg->text, fmt, ap);
        va_end(ap);
    }
    return status;
}

sv_status sv_fail_cl(sv_context *ctx, cl_int code, const char *what) {
    sv_status status = SV_OPENCL;
    if (code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_HOST_MEMORY)
        status = SV_OUT_OF_MEMORY;
    return sv_fail(ctx, status, "%s: %s (%d)", what, sv_cl_error_name(code), (int)code);
}

sv_status sv_fail_from_message(sv_context *ctx, sv_status status, const sv_message *msg) {
    return sv_fail(ctx, status, "%s", msg->text);
}

void sv_clear_error(sv_context *ctx) {
    ctx->last_error[0] = '\0';
}

void sv_dims_format(char *buf, size_t size, int rank, const int64_t *dims) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && used < size; i++)
        used +=
            (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}
