/* Tuning one convolution: every algorithm and variant that computes it is prepared, checked
 * against the reference output and timed with OpenCL profiling markers; the fastest correct one
 * wins. */
#include "ops/conv_tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double sv_tune_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int compare_doubles(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Device milliseconds between two markers' completions. */
static sv_status marker_span(sv_context *ctx, cl_event begin, cl_event end, double *ms) {
    cl_ulong t0 = 0, t1 = 0;
    cl_int rc = clGetEventProfilingInfo(begin, CL_PROFILING_COMMAND_END, sizeof t0, &t0, NULL);
    if (rc == CL_SUCCESS)
        rc = clGetEventProfilingInfo(end, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
    if (rc != CL_SUCCESS)
        return sv_fail_cl(ctx, rc, "clGetEventProfilingInfo(tune)");
    *ms = (double)(t1 - t0) * 1e-6;
    return SV_OK;
}

/* One run between two markers, waited for. */
static sv_status timed_run(sv_context *ctx, const sv_conv_params *p, const sv_conv_prepared *prep,
                           const sv_conv_tune_operands *o, cl_mem workspace, double *ms) {
    cl_event begin = NULL, end = NULL;
    cl_int rc = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &begin);
    sv_status st = rc == CL_SUCCESS
                       ? sv_conv_run_prepared(ctx, p, prep, o->x, o->w, o->b, o->y, workspace)
                       : sv_fail_cl(ctx, rc, "clEnqueueMarkerWithWaitList(tune)");
    if (st == SV_OK && (rc = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &end)) != CL_SUCCESS)
        st = sv_fail_cl(ctx, rc, "clEnqueueMarkerWithWaitList(tune)");
    if (st == SV_OK && (rc = clFinish(ctx->queue)) != CL_SUCCESS)
        st = sv_fail_cl(ctx, rc, "clFinish(tune)");
    if (st == SV_OK)
        st = marker_span(ctx, begin, end, ms);
    if (begin)
        clReleaseEvent(begin);
    if (end)
        clReleaseEvent(end);
    return st;
}

/* max |y - ref| / max |ref| over the first image (NaN anywhere makes it infinite). */
static double first_image_error(const float *y, const float *ref, size_t count) {
    double worst = 0.0, scale = 0.0;
    for (size_t i = 0; i < count; i++) {
        const double d = fabs((double)y[i] - (double)ref[i]);
        if (!(d == d))
            return INFINITY;
        worst = d > worst ? d : worst;
        scale = fabs((double)ref[i]) > scale ? fabs((double)ref[i]) : scale;
    }
    return scale > 0.0 ? worst / scale : worst;
}

/* Prepares, checks and times one candidate into r. The context's error holds the reason for
 * a failure, which only ends the candidate. */
static void try_candidate(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                          const sv_conv_tune_operands *o, int iterations, float *y_first,
                          sv_conv_tune_result *r) {
    const sv_conv_impl *impl = sv_conv_impl_of(r->choice.algorithm);
    sv_conv_prepared prep;
    cl_mem workspace = NULL;
    sv_status st = sv_conv_prepare_choice(ctx, p, g, r->choice, o->w, &prep);
    if (st == SV_OK && prep.workspace_count)
        st = sv_device_buffer_create(ctx, CL_MEM_READ_WRITE, prep.workspace_count * sizeof(float),
                                     NULL, "tune workspace", &workspace);
    double first = 0.0;
    const size_t per_image = (size_t)(o->y->count / o->y->dims[0]);
    if (st == SV_OK) /* the first run also builds the programs: checked, not timed */
        st = timed_run(ctx, p, &prep, o, workspace, &first);
    if (st == SV_OK)
        st = sv_tensor_read_prefix(o->y, y_first, (int64_t)per_image);
    if (st != SV_OK) {
        r->status = st;
        snprintf(r->outcome, sizeof r->outcome, "failed: %s", sv_last_error(ctx));
    } else {
        const double tolerance = impl->tolerance > 0 ? impl->tolerance : SV_CONV_TUNE_TOLERANCE;
        r->error = first_image_error(y_first, o->ref_first, per_image);
        if (!(r->error <= tolerance)) {
            r->status = SV_UNSUPPORTED;
            snprintf(r->outcome, sizeof r->outcome,
                     "rejected: max |err| %.3g x max |ref| > tolerance %.3g", r->error, tolerance);
        }
    }
    double times[64];
    const int runs = iterations < 64 ? iterations : 64;
    for (int i = 0; r->status == SV_OK && i < runs; i++) {
        st = timed_run(ctx, p, &prep, o, workspace, &times[i]);
        if (st != SV_OK) {
            r->status = st;
            snprintf(r->outcome, sizeof r->outcome, "failed: %s", sv_last_error(ctx));
        }
    }
    if (r->status == SV_OK) {
        qsort(times, (size_t)runs, sizeof times[0], compare_doubles);
        r->ms = times[runs / 2];
        snprintf(r->outcome, sizeof r->outcome, "ok");
    }
    if (workspace)
        sv_device_buffer_release(ctx, workspace);
    sv_conv_prepared_release(ctx, &prep);
}

sv_status sv_conv_tune(sv_context *ctx, const sv_conv_params *p, const sv_conv_tune_operands *o,
                       int iterations, double deadline_ms, sv_conv_tune_report report, void *user,
                       sv_conv_tune_result *best) {
    const sv_conv_geometry g = sv_conv_geometry_for(p, o->x, o->w, o->y);
    float *y_first = malloc((size_t)(o->y->count / o->y->dims[0]) * sizeof *y_first);
    if (!y_first)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "tune: out of host memory");
    memset(best, 0, sizeof *best);
    best->ms = -1.0;
    for (int a = SV_CONV_AUTO + 1; a < SV_CONV_ALGORITHM_END; a++) {
        const sv_conv_impl *impl = sv_conv_impl_of((sv_conv_algorithm)a);
        for (int v = 0; v < impl->variants; v++) {
            sv_conv_tune_result r;
            memset(&r, 0, sizeof r);
            r.choice = (sv_conv_choice){(sv_conv_algorithm)a, v};
            r.ms = r.error = -1.0;
            const char *why = sv_conv_unsupported_reason(impl, p, &g);
            if (why) {
                r.status = SV_UNSUPPORTED;
                snprintf(r.outcome, sizeof r.outcome, "unsupported: %s", why);
            } else if (sv_tune_now_ms() > deadline_ms) {
                r.status = SV_UNSUPPORTED;
                snprintf(r.outcome, sizeof r.outcome, "skipped: time budget spent");
            } else {
                try_candidate(ctx, p, &g, o, iterations, y_first, &r);
            }
            if (r.status == SV_OK && (best->ms < 0 || r.ms < best->ms))
                *best = r;
            if (report)
                report(user, &r);
        }
    }
    free(y_first);
    sv_clear_error(ctx); /* a rejected or failed candidate is not the call's failure */
    return best->ms < 0 ? sv_fail(ctx, SV_UNSUPPORTED, "tune: no algorithm ran correctly") : SV_OK;
}
