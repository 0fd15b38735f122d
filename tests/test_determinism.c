/* Determinism: the same input on the same device with the same convolution algorithm and batch
 * size gives bit-identical outputs, run after run, after re-planning, and on a fresh context.
 * Every algorithm the library accepts is run (a new one is included without a change here);
 * one that does not support a model's shapes is counted and reported, not hidden. */
#include "io/io.h"
#include "ops/conv_algorithm.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SVERTKA_SOURCE_DIR
#error "SVERTKA_SOURCE_DIR must name the source tree"
#endif
#define MODELS SVERTKA_SOURCE_DIR "/tests/data/models/"

enum { RUNS = 3 };

/* The committed models on their inputs; LeNet on its first 4 test images. */
static const struct {
    const char *model, *input;
    int64_t batch;
} cases[] = {
    {"lenet_digits.onnx", "lenet_digits_test_x.npy", 4},
    {"segnet.onnx", "segnet_input.npy", 2},
    {"seq1d.onnx", "seq1d_input.npy", 2},
    {"padnet.onnx", "padnet_input.npy", 2},
};

/* Loads the model on ctx with the algorithm at the batch; runs it once into y (count floats).
 * Returns the run's status (SV_UNSUPPORTED where the algorithm cannot run a layer). */
static sv_status load_and_run(sv_context *ctx, const char *path, sv_conv_algorithm algorithm,
                              int64_t batch, const float *x, float *y, size_t count,
                              sv_model **out) {
    const sv_model_options options = {0, algorithm};
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, path, &options, &m), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_model_set_batch(m, batch), SV_OK, ctx);
    sv_value_info info;
    ck_assert_int_eq(sv_model_output(m, 0, &info), SV_OK);
    ck_assert_uint_eq((size_t)test_count(info.rank, info.dims), count);
    const float *inputs[1] = {x};
    float *outputs[1] = {y};
    *out = m;
    return sv_model_run(m, inputs, outputs);
}

/* Runs m again into a NaN-poisoned y and requires first's bits. */
static void assert_run_identical(sv_context *ctx, sv_model *m, const float *x, const float *first,
                                 float *y, size_t count, const char *what) {
    memset(y, 0xff, count * sizeof *y);
    const float *inputs[1] = {x};
    float *outputs[1] = {y};
    TEST_ASSERT_STATUS(sv_model_run(m, inputs, outputs), SV_OK, ctx);
    for (size_t k = 0; k < count; k++)
        ck_assert_msg(memcmp(&y[k], &first[k], sizeof *y) == 0,
                      "%s: element %zu is %.9g, the first run gave %.9g", what, k, (double)y[k],
                      (double)first[k]);
}

START_TEST(test_runs_bit_identical) {
    const char *spec = test_spec(_i);
    sv_context *ctx = test_context(spec);
    const int algorithms = test_conv_algorithm_count();
    ck_assert_int_gt(algorithms, 1); /* automatic and at least one explicit */
    int checked = 0, unsupported = 0;
    for (int c = 0; c < TEST_COUNT_OF(cases); c++) {
        char path[512], input[512];
        snprintf(path, sizeof path, MODELS "%s", cases[c].model);
        snprintf(input, sizeof input, MODELS "%s", cases[c].input);
        sv_io_array x;
        sv_message msg;
        ck_assert_msg(sv_npy_read_file(input, &x, &msg) == SV_OK, "%s", msg.text);
        sv_model *probe = NULL;
        TEST_ASSERT_STATUS(sv_model_load(ctx, path, NULL, &probe), SV_OK, ctx);
        TEST_ASSERT_STATUS(sv_model_set_batch(probe, cases[c].batch), SV_OK, ctx);
        sv_value_info info;
        ck_assert_int_eq(sv_model_output(probe, 0, &info), SV_OK);
        sv_model_release(probe);
        const size_t count = (size_t)test_count(info.rank, info.dims);
        float *first = malloc(count * sizeof *first), *y = malloc(count * sizeof *y);
        ck_assert(first && y);
        for (int a = 0; a < algorithms; a++) {
            char what[256];
            snprintf(what, sizeof what, "%s, %s, algorithm %d", test_spec_name(spec),
                     cases[c].model, a);
            sv_model *m = NULL;
            sv_status st = load_and_run(ctx, path, (sv_conv_algorithm)a, cases[c].batch, x.data,
                                        first, count, &m);
            if (st == SV_UNSUPPORTED) {
                printf("determinism: %s: unsupported (%s); skipped\n", what, sv_last_error(ctx));
                unsupported++;
                sv_model_release(m);
                continue;
            }
            TEST_ASSERT_STATUS(st, SV_OK, ctx);
            for (int r = 1; r < RUNS; r++)
                assert_run_identical(ctx, m, x.data, first, y, count, what);
            /* planned for another batch and back: new buffers, the same bits */
            TEST_ASSERT_STATUS(sv_model_set_batch(m, cases[c].batch + 1), SV_OK, ctx);
            TEST_ASSERT_STATUS(sv_model_set_batch(m, cases[c].batch), SV_OK, ctx);
            assert_run_identical(ctx, m, x.data, first, y, count, what);
            sv_model_release(m);
            /* a fresh context builds its programs anew: the same bits */
            sv_context *fresh = test_context(spec);
            TEST_ASSERT_STATUS(load_and_run(fresh, path, (sv_conv_algorithm)a, cases[c].batch,
                                            x.data, y, count, &m),
                               SV_OK, fresh);
            ck_assert_msg(memcmp(y, first, count * sizeof *y) == 0,
                          "%s: a fresh context gives other bits", what);
            sv_model_release(m);
            sv_context_release(fresh);
            checked++;
        }
        free(first);
        free(y);
        sv_io_array_free(&x);
    }
    printf("determinism: %s: %d model and algorithm combinations bit-identical over %d runs, %d "
           "unsupported (%d algorithms)\n",
           test_spec_name(spec), checked, RUNS, unsupported, algorithms);
    ck_assert_int_gt(checked, 0);
    sv_context_release(ctx);
}
END_TEST

/* The option reaches every convolution of the plan it can compute: on a device, each forced
 * algorithm runs on segnet's convolutions (an algorithm limited to some shapes, Winograd's 3x3
 * stride 1, on those at least; the others choose automatically), a different name per value; an
 * unknown value is refused at load. */
START_TEST(test_algorithm_option_reaches_every_conv) {
    sv_context *ctx = test_context(NULL);
    const int algorithms = test_conv_algorithm_count();
    for (int a = 1; a < algorithms && sv_context_device(ctx)->kind != SV_DEVICE_REF; a++) {
        const sv_model_options options = {0, (sv_conv_algorithm)a};
        const char *name = sv_conv_algorithm_name((sv_conv_algorithm)a);
        const int limited = sv_conv_impl_of((sv_conv_algorithm)a)->unsupported != NULL;
        sv_model *m = NULL;
        TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", &options, &m), SV_OK, ctx);
        int convs = 0, running = 0;
        for (int k = 0; k < sv_model_layer_count(m); k++) {
            sv_layer_info l;
            ck_assert_int_eq(sv_model_layer(m, k, &l), SV_OK);
            if (strncmp(l.op, "Conv", 4) != 0 || strncmp(l.op, "ConvTranspose", 13) == 0)
                continue;
            convs++;
            running += strcmp(l.algorithm, name) == 0;
            ck_assert_msg(limited || strcmp(l.algorithm, name) == 0,
                          "algorithm %s: layer %d runs '%s'", name, k, l.algorithm);
        }
        ck_assert_msg(running > 0, "algorithm %s runs on none of %d convolutions", name, convs);
        sv_model_release(m);
    }
    const sv_model_options unknown = {0, (sv_conv_algorithm)algorithms};
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", &unknown, &m), SV_INVALID_ARGUMENT,
                       ctx);
    ck_assert_ptr_null(m);
    char phrase[64];
    snprintf(phrase, sizeof phrase, "unknown algorithm %d", algorithms);
    ck_assert_msg(strstr(sv_last_error(ctx), phrase), "%s", sv_last_error(ctx));
    sv_context_release(ctx);
}
END_TEST

static Suite *determinism_suite(void) {
    Suite *s = suite_create("determinism");
    TCase *tc = test_add_case(s, "repeated runs", 300);
    tcase_add_loop_test(tc, test_runs_bit_identical, 0, TEST_SPEC_COUNT);
    tcase_add_test(tc, test_algorithm_option_reaches_every_conv);
    return s;
}

TEST_MAIN(determinism_suite)
