/* Failure injection: a device allocation or a program build that fails anywhere in loading a
 * model, re-planning it, running it or running one op gives the right status and a message,
 * leaks nothing, and leaves the context and the model usable: what runs next gives the same bits
 * as a fresh context. On OpenCL devices guard mode counts the live device buffers, so a buffer
 * a failure leaked would show; AddressSanitizer's leak check covers host memory. */
#include "core/internal.h"
#include "io/io.h"
#include "test_support.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SVERTKA_SOURCE_DIR
#error "SVERTKA_SOURCE_DIR must name the source tree"
#endif
#define LENET SVERTKA_SOURCE_DIR "/tests/data/models/lenet_digits.onnx"
#define LENET_X SVERTKA_SOURCE_DIR "/tests/data/models/lenet_digits_test_x.npy"
enum { LENET_SAMPLE = 256, LENET_CLASSES = 10, MAX_BATCH = 2 };

/* A context on spec, in guard mode where it is an OpenCL device (to count live buffers). */
static sv_context *counted_context(const char *spec) {
    sv_context *ctx = test_context(spec);
    if (!sv_context_is_ref(ctx))
        TEST_ASSERT_STATUS(sv_debug_guard_enable(ctx), SV_OK, ctx);
    return ctx;
}

/* Device buffers alive on ctx (0 on the reference path, which has none). */
static size_t live_buffers(const sv_context *ctx) {
    return ctx->guard.count;
}

/* Counting the events of a kind: an injection that never comes due. */
static void count_from_here(sv_context *ctx, unsigned kind) {
    sv_debug_inject_failure(ctx, kind, INT_MAX);
}
static int counted(sv_context *ctx) {
    const int n = INT_MAX - ctx->inject_countdown;
    sv_debug_inject_failure(ctx, 0, 0);
    return n;
}

static float *lenet_inputs(void) {
    sv_io_array x;
    sv_message msg;
    ck_assert_msg(sv_npy_read_file(LENET_X, &x, &msg) == SV_OK, "%s", msg.text);
    float *first = malloc(MAX_BATCH * LENET_SAMPLE * sizeof *first);
    ck_assert_ptr_nonnull(first);
    memcpy(first, x.data, MAX_BATCH * LENET_SAMPLE * sizeof *first);
    sv_io_array_free(&x);
    return first;
}

static sv_model *load(sv_context *ctx) {
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, LENET, NULL, &m), SV_OK, ctx);
    return m;
}

/* Runs m at its batch size into y; returns the status. */
static sv_status run(sv_model *m, const float *x, float *y) {
    const float *inputs[1] = {x};
    float *outputs[1] = {y};
    return sv_model_run(m, inputs, outputs);
}

/* Fails unless a run of m gives exactly `expected` (batch samples). */
static void assert_run_matches(sv_context *ctx, sv_model *m, const float *x, const float *expected,
                               const char *what) {
    float y[MAX_BATCH * LENET_CLASSES];
    const int64_t batch = sv_model_batch(m);
    TEST_ASSERT_STATUS(run(m, x, y), SV_OK, ctx);
    ck_assert_msg(memcmp(y, expected, (size_t)batch * LENET_CLASSES * sizeof *y) == 0,
                  "%s: the outputs differ from a fresh context's", what);
}

/* LeNet's outputs at batch 1 and 2 on a fresh context. */
static void fresh_outputs(const char *spec, const float *x, float *y1, float *y2) {
    sv_context *ctx = test_context(spec);
    sv_model *m = load(ctx);
    TEST_ASSERT_STATUS(run(m, x, y1), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_model_set_batch(m, 2), SV_OK, ctx);
    TEST_ASSERT_STATUS(run(m, x, y2), SV_OK, ctx);
    sv_model_release(m);
    sv_context_release(ctx);
}

/* Fails unless the context's message names an allocation failure. */
static void assert_allocation_message(sv_context *ctx, const char *what) {
    const char *msg = sv_last_error(ctx);
    const char *want =
        sv_context_is_ref(ctx) ? "out of host memory" : "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    ck_assert_msg(strstr(msg, want) && strstr(msg, what), "message lacks '%s' and '%s': %s", want,
                  what, msg);
}

/* The k-th allocation of sv_model_load fails, for every k: SV_OUT_OF_MEMORY, no model, no
 * buffer left behind; then the same context loads and runs the model as a fresh one does. */
START_TEST(test_model_load) {
    const char *spec = test_spec(_i);
    float *x = lenet_inputs(), y1[LENET_CLASSES], y2[MAX_BATCH * LENET_CLASSES];
    fresh_outputs(spec, x, y1, y2);
    sv_context *ctx = counted_context(spec);
    count_from_here(ctx, SV_INJECT_ALLOC);
    sv_model_release(load(ctx));
    const int allocations = counted(ctx);
    ck_assert_int_gt(allocations, 5); /* the weights, the activations */
    for (int k = 0; k < allocations; k++) {
        sv_debug_inject_failure(ctx, SV_INJECT_ALLOC, k);
        sv_model *m = NULL;
        TEST_ASSERT_STATUS(sv_model_load(ctx, LENET, NULL, &m), SV_OUT_OF_MEMORY, ctx);
        ck_assert_ptr_null(m);
        ck_assert_msg(ctx->inject_kinds == 0, "allocation %d was never made", k);
        assert_allocation_message(ctx, "lenet_digits.onnx: ");
        ck_assert_int_eq(live_buffers(ctx), 0);
        m = load(ctx);
        char what[64];
        snprintf(what, sizeof what, "load after allocation %d failed", k);
        assert_run_matches(ctx, m, x, y1, what);
        sv_model_release(m);
    }
    ck_assert_int_eq(live_buffers(ctx), 0);
    sv_context_release(ctx);
    free(x);
}
END_TEST

/* The k-th allocation of a re-plan for batch 2 fails, for every k: the model keeps batch 1 and
 * its buffers, runs as before, and re-plans once nothing fails. A batch whose plan is refused
 * (too many elements) leaves it usable the same way. */
START_TEST(test_model_set_batch) {
    const char *spec = test_spec(_i);
    float *x = lenet_inputs(), y1[LENET_CLASSES], y2[MAX_BATCH * LENET_CLASSES];
    fresh_outputs(spec, x, y1, y2);
    sv_context *ctx = counted_context(spec);
    sv_model *m = load(ctx);
    const size_t live = live_buffers(ctx);
    count_from_here(ctx, SV_INJECT_ALLOC);
    TEST_ASSERT_STATUS(sv_model_set_batch(m, 2), SV_OK, ctx);
    const int allocations = counted(ctx);
    ck_assert_int_gt(allocations, 0);
    TEST_ASSERT_STATUS(sv_model_set_batch(m, 1), SV_OK, ctx);
    for (int k = 0; k < allocations; k++) {
        sv_debug_inject_failure(ctx, SV_INJECT_ALLOC, k);
        TEST_ASSERT_STATUS(sv_model_set_batch(m, 2), SV_OUT_OF_MEMORY, ctx);
        /* a tensor, or a convolution's weights in its algorithm's layout */
        assert_allocation_message(ctx, "");
        ck_assert_int_eq(sv_model_batch(m), 1);
        ck_assert_int_eq(live_buffers(ctx), live);
        char what[64];
        snprintf(what, sizeof what, "batch 1 after allocation %d failed", k);
        assert_run_matches(ctx, m, x, y1, what);
        TEST_ASSERT_STATUS(sv_model_set_batch(m, 2), SV_OK, ctx);
        snprintf(what, sizeof what, "batch 2 after allocation %d failed", k);
        assert_run_matches(ctx, m, x, y2, what);
        TEST_ASSERT_STATUS(sv_model_set_batch(m, 1), SV_OK, ctx);
    }
    ck_assert_int_ne(sv_model_set_batch(m, (int64_t)1 << 40), SV_OK);
    ck_assert_int_eq(sv_model_batch(m), 1);
    sv_value_info in;
    ck_assert_int_eq(sv_model_input(m, 0, &in), SV_OK);
    ck_assert_int_eq(in.dims[0], 1);
    assert_run_matches(ctx, m, x, y1, "batch 1 after a refused batch size");
    sv_model_release(m);
    ck_assert_int_eq(live_buffers(ctx), 0);
    sv_context_release(ctx);
    free(x);
}
END_TEST

/* Allocations a run makes (scratch buffers, e.g. a transposed convolution's columns): the k-th
 * fails, for every k, and the next run gives the same bits as before. */
START_TEST(test_model_run_allocations) {
    float *x = lenet_inputs(), y1[LENET_CLASSES], y2[MAX_BATCH * LENET_CLASSES];
    fresh_outputs(NULL, x, y1, y2);
    sv_context *ctx = counted_context(NULL);
    sv_model *m = load(ctx);
    assert_run_matches(ctx, m, x, y1, "the first run"); /* programs built */
    const size_t live = live_buffers(ctx);
    count_from_here(ctx, SV_INJECT_ALLOC);
    assert_run_matches(ctx, m, x, y1, "a counted run");
    const int allocations = counted(ctx);
    if (allocations == 0)
        printf("failures: runs on %s allocate nothing\n", sv_context_device(ctx)->name);
    for (int k = 0; k < allocations; k++) {
        sv_debug_inject_failure(ctx, SV_INJECT_ALLOC, k);
        float y[LENET_CLASSES];
        TEST_ASSERT_STATUS(run(m, x, y), SV_OUT_OF_MEMORY, ctx);
        assert_allocation_message(ctx, "layer ");
        ck_assert_int_eq(live_buffers(ctx), live);
        char what[64];
        snprintf(what, sizeof what, "the run after allocation %d failed", k);
        assert_run_matches(ctx, m, x, y1, what);
    }
    sv_model_release(m);
    sv_context_release(ctx);
    free(x);
}
END_TEST

/* Programs build lazily, in the first run (what prepares convolution weights, at load): the k-th
 * build fails (the first and the last): SV_BUILD_FAILED, the programs built before it stay cached
 * and no entry for the failed one, and the next run builds the rest and gives a fresh context's
 * bits. */
START_TEST(test_model_run_builds) {
    /* programs compiled from source, not loaded from the on-disk cache, whose builds this counts */
    setenv("SVERTKA_CACHE", "off", 1);
    float *x = lenet_inputs(), y1[LENET_CLASSES], y2[MAX_BATCH * LENET_CLASSES];
    fresh_outputs(NULL, x, y1, y2);
    sv_context *ctx = test_context(NULL);
    if (sv_context_is_ref(ctx)) {
        sv_context_release(ctx);
        free(x);
        return; /* the reference path builds nothing */
    }
    sv_model *m = load(ctx);
    /* loading builds what prepares convolution weights; the run builds the rest */
    const int at_load = (int)ctx->programs.program_count;
    count_from_here(ctx, SV_INJECT_BUILD);
    assert_run_matches(ctx, m, x, y1, "a counted first run");
    const int builds = counted(ctx);
    ck_assert_int_gt(builds, 1);
    ck_assert_int_eq((int)ctx->programs.program_count, at_load + builds);
    sv_model_release(m);
    sv_context_release(ctx);
    const int ks[2] = {0, builds - 1};
    for (int j = 0; j < 2; j++) {
        ctx = test_context(NULL);
        m = load(ctx);
        sv_debug_inject_failure(ctx, SV_INJECT_BUILD, ks[j]);
        float y[LENET_CLASSES];
        TEST_ASSERT_STATUS(run(m, x, y), SV_BUILD_FAILED, ctx);
        ck_assert_msg(strstr(sv_last_error(ctx), "CL_BUILD_PROGRAM_FAILURE"), "%s",
                      sv_last_error(ctx));
        ck_assert_int_eq((int)ctx->programs.program_count, at_load + ks[j]);
        char what[64];
        snprintf(what, sizeof what, "the run after build %d failed", ks[j]);
        assert_run_matches(ctx, m, x, y1, what);
        ck_assert_int_eq((int)ctx->programs.program_count, at_load + builds);
        sv_model_release(m);
        sv_context_release(ctx);
    }
    free(x);
}
END_TEST

/* One op: a convolution whose program build fails, then one whose scratch allocation fails (the
 * CPU algorithm's weights in its layout), then a linear resize whose coordinate table cannot be
 * allocated: each fails cleanly, writes nothing, and the same call then succeeds with the
 * reference path's result. */
START_TEST(test_single_ops) {
    /* programs compiled from source, not loaded from the on-disk cache, whose builds this counts */
    setenv("SVERTKA_CACHE", "off", 1);
    sv_context *ctx = counted_context(NULL), *ref = test_context("ref");
    if (sv_context_is_ref(ctx)) {
        sv_context_release(ctx);
        sv_context_release(ref);
        return;
    }
    test_rng rng = test_rng_for(1);
    const int64_t x_dims[4] = {2, 3, 9, 7}, w_dims[4] = {16, 3, 3, 3}, y_dims[4] = {2, 16, 7, 5};
    float *x = test_random_array(&rng, 2 * 3 * 9 * 7, -1.0f, 1.0f);
    float *w = test_random_array(&rng, 16 * 3 * 3 * 3, -1.0f, 1.0f);
    sv_tensor *xr = test_tensor_from(ref, x, 4, x_dims), *wr = test_tensor_from(ref, w, 4, w_dims);
    sv_tensor *yr = test_tensor_poisoned(ref, 4, y_dims);
    sv_conv_params p = sv_conv_params_default(2);
    TEST_ASSERT_STATUS(sv_conv(ref, &p, xr, wr, NULL, yr), SV_OK, ref);
    float *expected = test_download(yr);

    sv_tensor *xt = test_tensor_from(ctx, x, 4, x_dims), *wt = test_tensor_from(ctx, w, 4, w_dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, 4, y_dims);
    const size_t live = live_buffers(ctx);
    sv_debug_inject_failure(ctx, SV_INJECT_BUILD, 0);
    TEST_ASSERT_STATUS(sv_conv(ctx, &p, xt, wt, NULL, yt), SV_BUILD_FAILED, ctx);
    ck_assert_msg(strstr(sv_last_error(ctx), "kernels_cl/conv") &&
                      strstr(sv_last_error(ctx), "CL_BUILD_PROGRAM_FAILURE"),
                  "%s", sv_last_error(ctx));
    ck_assert_int_eq((int)ctx->programs.program_count, 0);
    test_assert_untouched(yt, "the output of a conv whose build failed");
    TEST_ASSERT_STATUS(sv_conv(ctx, &p, xt, wt, NULL, yt), SV_OK, ctx);
    float *y = test_download(yt);
    test_assert_close(y, expected, 2 * 16 * 7 * 5, 1e-5, 1e-5, "conv after a failed build");
    free(y);

    p.algorithm = SV_CONV_CPU_BLOCKED;
    sv_tensor_release(yt);
    yt = test_tensor_poisoned(ctx, 4, y_dims);
    sv_debug_inject_failure(ctx, SV_INJECT_ALLOC, 0);
    TEST_ASSERT_STATUS(sv_conv(ctx, &p, xt, wt, NULL, yt), SV_OUT_OF_MEMORY, ctx);
    assert_allocation_message(ctx, "conv prepared weights");
    test_assert_untouched(yt, "the output of a conv whose scratch allocation failed");
    ck_assert_int_eq(live_buffers(ctx), live);
    TEST_ASSERT_STATUS(sv_conv(ctx, &p, xt, wt, NULL, yt), SV_OK, ctx);
    y = test_download(yt);
    test_assert_close(y, expected, 2 * 16 * 7 * 5, 1e-5, 1e-5, "conv after a failed allocation");
    free(y);

    const sv_resize_params rp = {
        SV_RESIZE_LINEAR, SV_COORD_HALF_PIXEL, SV_NEAREST_ROUND_PREFER_FLOOR, {0}};
    const int64_t r_dims[4] = {2, 3, 13, 4};
    sv_tensor *rt = test_tensor_poisoned(ctx, 4, r_dims),
              *rr = test_tensor_poisoned(ref, 4, r_dims);
    TEST_ASSERT_STATUS(sv_resize(ref, &rp, xr, rr), SV_OK, ref);
    sv_debug_inject_failure(ctx, SV_INJECT_ALLOC, 0);
    TEST_ASSERT_STATUS(sv_resize(ctx, &rp, xt, rt), SV_OUT_OF_MEMORY, ctx);
    assert_allocation_message(ctx, "resize table");
    test_assert_untouched(rt, "the output of a resize whose table allocation failed");
    TEST_ASSERT_STATUS(sv_resize(ctx, &rp, xt, rt), SV_OK, ctx);
    float *r = test_download(rt), *r_expected = test_download(rr);
    test_assert_close(r, r_expected, 2 * 3 * 13 * 4, 1e-6, 1e-6,
                      "resize after a failed allocation");
    free(r);
    free(r_expected);

    sv_tensor *all[] = {xt, wt, yt, rt, xr, wr, yr, rr};
    for (int i = 0; i < TEST_COUNT_OF(all); i++)
        sv_tensor_release(all[i]);
    ck_assert_int_eq(live_buffers(ctx), 0);
    free(expected);
    free(x);
    free(w);
    sv_context_release(ref);
    sv_context_release(ctx);
}
END_TEST

/* An injection counts only its own kinds, fires once and is then off; kinds 0 cancels it. */
START_TEST(test_injection_counts) {
    sv_context *ctx = test_context("ref");
    sv_debug_inject_failure(ctx, SV_INJECT_BUILD, 0);
    ck_assert_int_eq(sv_injected_failure(ctx, SV_INJECT_ALLOC), 0);
    sv_debug_inject_failure(ctx, SV_INJECT_ALLOC | SV_INJECT_BUILD, 2);
    ck_assert_int_eq(sv_injected_failure(ctx, SV_INJECT_ALLOC), 0);
    ck_assert_int_eq(sv_injected_failure(ctx, SV_INJECT_BUILD), 0);
    ck_assert_int_eq(sv_injected_failure(ctx, SV_INJECT_BUILD), 1);
    ck_assert_int_eq(sv_injected_failure(ctx, SV_INJECT_ALLOC), 0);
    sv_debug_inject_failure(ctx, SV_INJECT_ALLOC, 0);
    sv_debug_inject_failure(ctx, 0, 0);
    ck_assert_int_eq(sv_injected_failure(ctx, SV_INJECT_ALLOC), 0);
    const int64_t dims[1] = {4};
    sv_tensor *t = NULL;
    sv_debug_inject_failure(ctx, SV_INJECT_ALLOC, 0);
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, 1, dims, &t), SV_OUT_OF_MEMORY, ctx);
    ck_assert_ptr_null(t);
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, 1, dims, &t), SV_OK, ctx);
    sv_tensor_release(t);
    sv_context_release(ctx);
}
END_TEST

static Suite *failures_suite(void) {
    Suite *s = suite_create("failures");
    TCase *models = test_add_case(s, "models", 120);
    tcase_add_loop_test(models, test_model_load, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(models, test_model_set_batch, 0, TEST_SPEC_COUNT);
    tcase_add_test(models, test_model_run_allocations);
    tcase_add_test(models, test_model_run_builds);
    TCase *ops = test_add_case(s, "ops", 60);
    tcase_add_test(ops, test_single_ops);
    tcase_add_test(ops, test_injection_counts);
    return s;
}

TEST_MAIN(failures_suite)
