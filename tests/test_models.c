/* The reference models end to end (scripts/models/ made them; PyTorch computed the expected
 * outputs): on the default OpenCL device and on the reference path, each reproduces PyTorch's
 * outputs, and the trained LeNet-5 reproduces its test accuracy exactly. */
#include "io/io.h"
#include "ops/conv_algorithm.h"
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SVERTKA_SOURCE_DIR
#error "SVERTKA_SOURCE_DIR must name the source tree"
#endif
#define MODELS SVERTKA_SOURCE_DIR "/tests/data/models/"

/* PyTorch and svertka sum in different orders: each fp32 sum of K <= 400 terms (LeNet's second
 * conv) differs by ~sqrt(K) ulp of its magnitude, and a few layers compound it; 1e-4 of the
 * output's largest magnitude bounds that with room, while any wrong weight, index or operator
 * moves outputs by percents. */
#define MODEL_RTOL 1e-4

static sv_io_array load_npy(const char *name) {
    sv_io_array a;
    sv_message msg;
    ck_assert_msg(sv_npy_read_file(name, &a, &msg) == SV_OK, "%s", msg.text);
    return a;
}

/* Convolution layers that ran the preferred algorithm, over the models a test runs. */
static int preferred_layers;

/* Runs model on one input at the input's batch size; returns the output (caller frees). */
static float *run_model(sv_context *ctx, const char *model, const sv_model_options *options,
                        const sv_io_array *x, sv_value_info *out_info) {
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, model, options, &m), SV_OK, ctx);
    /* every convolution runs the preferred algorithm unless it cannot compute that layer (only
     * an algorithm with shape limits, such as Winograd's 3x3 stride 1, declines any) */
    const sv_conv_algorithm preferred = options ? options->conv_algorithm : SV_CONV_AUTO;
    const sv_conv_impl *impl = sv_conv_impl_of(preferred);
    for (int k = 0; preferred != SV_CONV_AUTO && k < sv_model_layer_count(m); k++) {
        sv_layer_info layer;
        ck_assert_int_eq(sv_model_layer(m, k, &layer), SV_OK);
        if (strncmp(layer.op, "Conv", 4) != 0 || strncmp(layer.op, "ConvTranspose", 13) == 0)
            continue;
        const int ran = strcmp(layer.algorithm, sv_conv_algorithm_name(preferred)) == 0;
        preferred_layers += ran;
        ck_assert_msg(ran || (impl && impl->unsupported) ||
                          sv_context_device(ctx)->kind == SV_DEVICE_REF,
                      "layer %d runs %s, %s preferred", k, layer.algorithm,
                      sv_conv_algorithm_name(preferred));
    }
    TEST_ASSERT_STATUS(sv_model_set_batch(m, x->dims[0]), SV_OK, ctx);
    sv_value_info in;
    ck_assert_int_eq(sv_model_input(m, 0, &in), SV_OK);
    int64_t n = 1;
    for (int i = 0; i < in.rank; i++)
        n *= in.dims[i];
    ck_assert_int_eq(n, x->count);
    ck_assert_int_eq(sv_model_output(m, 0, out_info), SV_OK);
    int64_t count = 1;
    for (int i = 0; i < out_info->rank; i++)
        count *= out_info->dims[i];
    float *y = malloc((size_t)count * sizeof *y);
    ck_assert_ptr_nonnull(y);
    const float *inputs[1] = {x->data};
    float *outputs[1] = {y};
    TEST_ASSERT_STATUS(sv_model_run(m, inputs, outputs), SV_OK, ctx);
    sv_model_release(m);
    return y;
}

static void assert_matches(const float *y, const sv_io_array *expected, const char *what) {
    double max_ref = 0.0;
    for (int64_t k = 0; k < expected->count; k++)
        max_ref = fmax(max_ref, fabs((double)expected->data[k]));
    test_assert_close(y, expected->data, (size_t)expected->count, MODEL_RTOL * max_ref, 0.0, what);
}

START_TEST(test_lenet_reproduces_accuracy) {
    sv_context *ctx = test_context(test_spec(_i));
    sv_io_array x = load_npy(MODELS "lenet_digits_test_x.npy");
    sv_io_array labels = load_npy(MODELS "lenet_digits_test_labels.npy");
    sv_io_array logits = load_npy(MODELS "lenet_digits_test_logits.npy");
    sv_value_info out;
    float *y = run_model(ctx, MODELS "lenet_digits.onnx", NULL, &x, &out);
    ck_assert_int_eq(out.dims[0], 540);
    ck_assert_int_eq(out.dims[1], 10);
    assert_matches(y, &logits, "LeNet-5 logits");
    int correct = 0, torch_correct = 0;
    for (int s = 0; s < 540; s++) {
        int best = 0, torch_best = 0;
        for (int c = 1; c < 10; c++) {
            if (y[s * 10 + c] > y[s * 10 + best])
                best = c;
            if (logits.data[s * 10 + c] > logits.data[s * 10 + torch_best])
                torch_best = c;
        }
        ck_assert_msg(best == torch_best, "sample %d: predicted %d, PyTorch %d", s, best,
                      torch_best);
        correct += best == (int)labels.data[s];
        torch_correct += torch_best == (int)labels.data[s];
    }
    /* the recorded test accuracy (lenet_digits.json): 529 of 540 */
    ck_assert_int_eq(torch_correct, 529);
    ck_assert_int_eq(correct, 529);
    free(y);
    sv_io_array_free(&x), sv_io_array_free(&labels), sv_io_array_free(&logits);
    sv_context_release(ctx);
}
END_TEST

static void check_model(const char *spec, const char *name, const sv_model_options *options) {
    char model[512], input[512], output[512];
    snprintf(model, sizeof model, MODELS "%s.onnx", name);
    snprintf(input, sizeof input, MODELS "%s_input.npy", name);
    snprintf(output, sizeof output, MODELS "%s_output.npy", name);
    sv_context *ctx = test_context(spec);
    sv_io_array x = load_npy(input), expected = load_npy(output);
    sv_value_info out;
    float *y = run_model(ctx, model, options, &x, &out);
    ck_assert_int_eq(out.rank, expected.rank);
    for (int i = 0; i < out.rank; i++)
        ck_assert_int_eq(out.dims[i], expected.dims[i]);
    assert_matches(y, &expected, name);
    free(y);
    sv_io_array_free(&x), sv_io_array_free(&expected);
    sv_context_release(ctx);
}

START_TEST(test_segnet_matches_pytorch) {
    check_model(test_spec(_i), "segnet", NULL);
}
END_TEST

/* torch.onnx.export's shape subgraphs (reflect and replicate padding, view(size(0), -1)) fold
 * away at planning; the pads become the convolutions' index math. */
START_TEST(test_padnet_matches_pytorch) {
    check_model(test_spec(_i), "padnet", NULL);
}
END_TEST

START_TEST(test_seq1d_matches_pytorch) {
    check_model(test_spec(_i), "seq1d", NULL);
}
END_TEST

/* Each model with every convolution algorithm preferred, on the default OpenCL device; each
 * algorithm computes some of their layers. */
START_TEST(test_models_with_every_algorithm) {
    const sv_model_options options = {0, (sv_conv_algorithm)(SV_CONV_DIRECT + _i)};
    preferred_layers = 0;
    check_model(NULL, "segnet", &options);
    check_model(NULL, "padnet", &options);
    check_model(NULL, "seq1d", &options);
    ck_assert_msg(preferred_layers > 0, "no layer ran %s",
                  sv_conv_algorithm_name(options.conv_algorithm));
}
END_TEST

START_TEST(test_unknown_algorithm_option_is_refused) {
    sv_context *ctx = test_context(NULL);
    const sv_model_options options = {0, SV_CONV_ALGORITHM_END};
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", &options, &m), SV_INVALID_ARGUMENT,
                       ctx);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "unknown algorithm"));
    sv_context_release(ctx);
}
END_TEST

/* The layer ops of a model loaded on ctx with the options, joined by spaces; fails unless every
 * fused pool runs with an algorithm that computes it. */
static void layer_ops(sv_context *ctx, const char *model, const sv_model_options *options,
                      char *buf, size_t size) {
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, model, options, &m), SV_OK, ctx);
    buf[0] = '\0';
    for (int k = 0; k < sv_model_layer_count(m); k++) {
        sv_layer_info l;
        TEST_ASSERT_STATUS(sv_model_layer(m, k, &l), SV_OK, ctx);
        snprintf(buf + strlen(buf), size - strlen(buf), "%s ", l.op);
        if (strstr(l.op, "+MaxPool") && strcmp(l.algorithm, "reference") != 0) {
            int fuses = 0;
            for (int a = SV_CONV_DIRECT; a < SV_CONV_ALGORITHM_END; a++) {
                const sv_conv_impl *impl = sv_conv_impl_of((sv_conv_algorithm)a);
                fuses |= impl->fuses_max_pool && strcmp(impl->name, l.algorithm) == 0;
            }
            ck_assert_msg(fuses, "%s: layer %d pools with %s", model, k, l.algorithm);
        }
    }
    sv_model_release(m);
}

/* LeNet's Conv -> ReLU -> MaxPool(2) pairs become one layer each where the device runs the fused
 * convolution with the algorithm it takes for the convolution alone: both on the reference path
 * and on CPU devices (the CPU kernel), on GPUs only where that algorithm pools (Winograd, never
 * implicit GEMM); they stay apart when every layer keeps its output. SegNet's pools read
 * convolutions that its skip connections read too, and stay apart everywhere. The fused models'
 * results are the unfused ones' (test_lenet_reproduces_accuracy runs the fused plan). */
START_TEST(test_max_pool_fuses_into_convolution) {
    sv_context *ctx = test_context(test_spec(_i));
    char ops[1024];
    const sv_device_kind kind = sv_context_device(ctx)->kind;
    layer_ops(ctx, MODELS "lenet_digits.onnx", NULL, ops, sizeof ops);
    if (kind == SV_DEVICE_REF || kind == SV_DEVICE_CPU)
        ck_assert_msg(strstr(ops, "Conv+Relu+MaxPool Conv+Relu+MaxPool ") != NULL,
                      "lenet on %s: %s", sv_context_device(ctx)->name, ops);
    const sv_model_options keep = {1, SV_CONV_AUTO};
    layer_ops(ctx, MODELS "lenet_digits.onnx", &keep, ops, sizeof ops);
    ck_assert_msg(!strstr(ops, "+MaxPool"), "kept intermediates: %s", ops);
    layer_ops(ctx, MODELS "segnet.onnx", NULL, ops, sizeof ops);
    ck_assert_msg(strstr(ops, "MaxPool") && !strstr(ops, "+MaxPool"), "segnet: %s", ops);
    sv_context_release(ctx);
}
END_TEST

static Suite *models_suite(void) {
    Suite *s = suite_create("models");
    TCase *tc = test_add_case(s, "reference models", 300);
    tcase_add_loop_test(tc, test_lenet_reproduces_accuracy, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(tc, test_segnet_matches_pytorch, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(tc, test_seq1d_matches_pytorch, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(tc, test_padnet_matches_pytorch, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(tc, test_models_with_every_algorithm, 0,
                        SV_CONV_ALGORITHM_END - SV_CONV_DIRECT);
    tcase_add_test(tc, test_unknown_algorithm_option_is_refused);
    tcase_add_loop_test(tc, test_max_pool_fuses_into_convolution, 0, TEST_SPEC_COUNT);
    return s;
}

TEST_MAIN(models_suite)
