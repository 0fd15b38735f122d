/* Threads: models on contexts of their own run in parallel threads with results bit-identical
 * to running one after another, on the default device and on the reference path; threads
 * sharing one model take turns on its lock and get the bit-identical results too. */
#include "io/io.h"
#include "test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SVERTKA_SOURCE_DIR
#error "SVERTKA_SOURCE_DIR must name the source tree"
#endif
#define MODELS SVERTKA_SOURCE_DIR "/tests/data/models/"

enum { WHY_SIZE = 2048, ITERATIONS = 4, THREADS_PER_MODEL = 2, SHARING_THREADS = 4 };

/* The committed models, each with the input the models suite uses; LeNet runs its first 4 test
 * images. */
static const struct {
    const char *model, *input;
    int64_t batch;
} cases[] = {
    {"lenet_digits.onnx", "lenet_digits_test_x.npy", 4},
    {"segnet.onnx", "segnet_input.npy", 2},
    {"seq1d.onnx", "seq1d_input.npy", 2},
    {"padnet.onnx", "padnet_input.npy", 2},
};
enum { MODEL_COUNT = TEST_COUNT_OF(cases) };

/* What one thread does: on a context and model of its own (or the shared model when `shared` is
 * set), runs `iterations` times and compares every output with `expected` bit for bit. */
typedef struct job {
    const char *spec;
    const char *model;
    sv_model *shared;
    int64_t batch;
    const float *x;
    const float *expected;
    size_t count;
    int ok;
    char why[WHY_SIZE];
} job;

static int job_failed(job *j, const char *what, sv_status st, sv_context *ctx) {
    snprintf(j->why, sizeof j->why, "%s: %s: %s", what, sv_status_name(st),
             ctx ? sv_last_error(ctx) : "");
    return 0;
}

/* Runs the model `ITERATIONS` times; 1 when every output equals expected bit for bit. */
static int run_and_compare(job *j, sv_context *ctx, sv_model *m) {
    float *y = malloc(j->count * sizeof *y);
    if (!y)
        return job_failed(j, "out of memory", SV_OUT_OF_MEMORY, NULL);
    int ok = 1;
    for (int it = 0; it < ITERATIONS && ok; it++) {
        memset(y, 0xff, j->count * sizeof *y); /* NaN: an output never written differs */
        const float *inputs[1] = {j->x};
        float *outputs[1] = {y};
        sv_status st = sv_model_run(m, inputs, outputs);
        if (st != SV_OK)
            ok = job_failed(j, "run", st, j->shared ? NULL : ctx);
        else if (memcmp(y, j->expected, j->count * sizeof *y) != 0) {
            size_t k = 0;
            while (memcmp(&y[k], &j->expected[k], sizeof *y) == 0)
                k++;
            snprintf(j->why, sizeof j->why, "run %d: element %zu is %.9g, sequentially %.9g", it, k,
                     (double)y[k], (double)j->expected[k]);
            ok = 0;
        }
    }
    free(y);
    return ok;
}

static void *work(void *arg) {
    job *j = arg;
    if (j->shared) {
        j->ok = run_and_compare(j, NULL, j->shared);
        return NULL;
    }
    sv_context *ctx = NULL;
    sv_model *m = NULL;
    sv_message msg;
    sv_status st = sv_context_create(j->spec, &ctx, &msg);
    if (st != SV_OK) {
        snprintf(j->why, sizeof j->why, "context: %s", msg.text);
        return NULL;
    }
    if ((st = sv_model_load(ctx, j->model, NULL, &m)) != SV_OK)
        job_failed(j, "load", st, ctx);
    else if ((st = sv_model_set_batch(m, j->batch)) != SV_OK)
        job_failed(j, "set_batch", st, ctx);
    else
        j->ok = run_and_compare(j, ctx, m);
    sv_model_release(m);
    sv_context_release(ctx);
    return NULL;
}

/* A model's output on its input, run alone: the reference for the concurrent runs. */
static float *run_alone(sv_context *ctx, sv_model *m, const float *x, size_t *count) {
    sv_value_info out;
    ck_assert_int_eq(sv_model_output(m, 0, &out), SV_OK);
    *count = (size_t)test_count(out.rank, out.dims);
    float *y = malloc(*count * sizeof *y);
    ck_assert_ptr_nonnull(y);
    const float *inputs[1] = {x};
    float *outputs[1] = {y};
    TEST_ASSERT_STATUS(sv_model_run(m, inputs, outputs), SV_OK, ctx);
    return y;
}

static void run_jobs(job *jobs, int count) {
    pthread_t threads[MODEL_COUNT * THREADS_PER_MODEL];
    ck_assert_int_le(count, TEST_COUNT_OF(threads));
    for (int t = 0; t < count; t++)
        ck_assert_int_eq(pthread_create(&threads[t], NULL, work, &jobs[t]), 0);
    for (int t = 0; t < count; t++)
        ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
    for (int t = 0; t < count; t++)
        ck_assert_msg(jobs[t].ok, "%s, thread %d (%s): %s", test_spec_name(jobs[t].spec), t,
                      jobs[t].model, jobs[t].why);
}

/* Every model on a context of its own, two threads per model, all at once. */
START_TEST(test_contexts_in_parallel_match_sequential) {
    const char *spec = test_spec(_i);
    sv_io_array inputs[MODEL_COUNT];
    float *expected[MODEL_COUNT];
    size_t counts[MODEL_COUNT];
    char paths[MODEL_COUNT][512];
    for (int k = 0; k < MODEL_COUNT; k++) {
        char input[512];
        snprintf(paths[k], sizeof paths[k], MODELS "%s", cases[k].model);
        snprintf(input, sizeof input, MODELS "%s", cases[k].input);
        sv_message msg;
        ck_assert_msg(sv_npy_read_file(input, &inputs[k], &msg) == SV_OK, "%s", msg.text);
        sv_context *ctx = test_context(spec);
        sv_model *m = NULL;
        TEST_ASSERT_STATUS(sv_model_load(ctx, paths[k], NULL, &m), SV_OK, ctx);
        TEST_ASSERT_STATUS(sv_model_set_batch(m, cases[k].batch), SV_OK, ctx);
        expected[k] = run_alone(ctx, m, inputs[k].data, &counts[k]);
        sv_model_release(m);
        sv_context_release(ctx);
    }
    job jobs[MODEL_COUNT * THREADS_PER_MODEL];
    memset(jobs, 0, sizeof jobs);
    for (int t = 0; t < TEST_COUNT_OF(jobs); t++) {
        const int k = t % MODEL_COUNT;
        jobs[t].spec = spec;
        jobs[t].model = paths[k];
        jobs[t].batch = cases[k].batch;
        jobs[t].x = inputs[k].data;
        jobs[t].expected = expected[k];
        jobs[t].count = counts[k];
    }
    run_jobs(jobs, TEST_COUNT_OF(jobs));
    for (int k = 0; k < MODEL_COUNT; k++) {
        free(expected[k]);
        sv_io_array_free(&inputs[k]);
    }
}
END_TEST

/* Threads sharing one model, each with an input of its own: the model's lock gives each run the
 * buffers to itself, so every thread gets what its input gives alone. */
START_TEST(test_shared_model_matches_sequential) {
    const char *spec = test_spec(_i);
    sv_context *ctx = test_context(spec);
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", NULL, &m), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_model_set_batch(m, 2), SV_OK, ctx);
    sv_value_info in;
    ck_assert_int_eq(sv_model_input(m, 0, &in), SV_OK);
    const size_t n = (size_t)test_count(in.rank, in.dims);
    job jobs[SHARING_THREADS];
    memset(jobs, 0, sizeof jobs);
    float *x[SHARING_THREADS], *expected[SHARING_THREADS];
    for (int t = 0; t < SHARING_THREADS; t++) {
        test_rng rng = test_rng_for((uint64_t)t);
        x[t] = test_random_array(&rng, n, -1.0f, 1.0f);
        expected[t] = run_alone(ctx, m, x[t], &jobs[t].count);
        jobs[t].spec = spec;
        jobs[t].model = "segnet.onnx (shared)";
        jobs[t].shared = m;
        jobs[t].x = x[t];
        jobs[t].expected = expected[t];
    }
    run_jobs(jobs, SHARING_THREADS);
    for (int t = 0; t < SHARING_THREADS; t++) {
        free(x[t]);
        free(expected[t]);
    }
    sv_model_release(m);
    sv_context_release(ctx);
}
END_TEST

static Suite *concurrency_suite(void) {
    Suite *s = suite_create("concurrency");
    TCase *tc = test_add_case(s, "threads", 300);
    tcase_add_loop_test(tc, test_contexts_in_parallel_match_sequential, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(tc, test_shared_model_matches_sequential, 0, TEST_SPEC_COUNT);
    return s;
}

TEST_MAIN(concurrency_suite)
