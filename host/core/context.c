/* Contexts: one device, its OpenCL context and in-order queue, and the program cache. */
#include "cl/device.h"
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

static sv_status open_cl(sv_context *ctx, cl_device_id device, sv_message *err) {
    cl_int rc;
    ctx->cl_device = device;
    ctx->cl = clCreateContext(NULL, 1, &device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return sv_fail_message(err, rc == CL_OUT_OF_HOST_MEMORY ? SV_OUT_OF_MEMORY : SV_OPENCL,
                               "clCreateContext(%s): %s (%d)", ctx->device.name,
                               sv_cl_error_name(rc), (int)rc);
    /* profiling on: timestamps cost nothing until a run asks for markers (sv_model_run_timed) */
    ctx->queue = clCreateCommandQueue(ctx->cl, device, CL_QUEUE_PROFILING_ENABLE, &rc);
    if (rc != CL_SUCCESS)
        return sv_fail_message(err, SV_OPENCL, "clCreateCommandQueue(%s): %s (%d)",
                               ctx->device.name, sv_cl_error_name(rc), (int)rc);
    return SV_OK;
}

sv_status sv_context_create(const char *device_spec, sv_context **out, sv_message *err) {
    if (!out)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "sv_context_create: NULL output");
    sv_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "sv_context_create: out of host memory");
    cl_device_id device;
    sv_status st = sv_device_find(device_spec, &ctx->device, &device, err);
    if (st == SV_OK && !sv_context_is_ref(ctx))
        st = open_cl(ctx, device, err);
    const char *guard = getenv("SVERTKA_GUARD");
    if (st == SV_OK && !sv_context_is_ref(ctx) && guard && *guard && strcmp(guard, "0") != 0 &&
        (st = sv_debug_guard_enable(ctx)) != SV_OK)
        sv_fail_message(err, st, "%s", ctx->last_error);
    if (st != SV_OK) {
        sv_context_release(ctx);
        return st;
    }
    *out = ctx;
    return SV_OK;
}

void sv_context_release(sv_context *ctx) {
    if (!ctx)
        return;
    if (ctx->queue)
        clFinish(ctx->queue);
    sv_program_cache_release(&ctx->programs);
    sv_tuning_db_release(ctx->tuning);
    sv_guard_release(&ctx->guard);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->cl)
        clReleaseContext(ctx->cl);
    free(ctx);
}

const sv_device_info *sv_context_device(const sv_context *ctx) {
    return ctx ? &ctx->device : NULL;
}

const char *sv_last_error(const sv_context *ctx) {
    return ctx ? ctx->last_error : "no context";
}

sv_status sv_context_finish(sv_context *ctx) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    if (sv_context_is_ref(ctx))
        return SV_OK;
    cl_int rc = clFinish(ctx->queue);
    return rc == CL_SUCCESS ? sv_guard_after(ctx, "an earlier call")
                            : sv_fail_cl(ctx, rc, "clFinish");
}
