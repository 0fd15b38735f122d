/* Device memory limits of models: a batch size or a model whose buffers exceed the device's
 * largest allocation, or whose weights and activations together exceed its global memory, is
 * refused by sv_model_set_batch or sv_model_load before anything is allocated, with the numbers
 * in the message; the model keeps its plan and the context stays usable. Batch sizes beyond what
 * a tensor dimension holds are refused, not wrapped. */
#include "core/internal.h"
#include "io/io.h"
#include "onnx/onnx.pb-c.h"
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SVERTKA_SOURCE_DIR
#error "SVERTKA_SOURCE_DIR must name the source tree"
#endif
#define MODELS SVERTKA_SOURCE_DIR "/tests/data/models/"

/* The largest tensor of a model: 2^31 - 1 elements (PLAN_MAX_ELEMENTS). */
#define MAX_ELEMENTS INT64_C(2147483647)

static sv_io_array load_npy(const char *name) {
    sv_io_array a;
    sv_message msg;
    ck_assert_msg(sv_npy_read_file(name, &a, &msg) == SV_OK, "%s", msg.text);
    return a;
}

static void assert_message_has(sv_context *ctx, const char *phrase) {
    ck_assert_msg(strstr(sv_last_error(ctx), phrase), "the message lacks '%s': %s", phrase,
                  sv_last_error(ctx));
}

/* Elements of the largest layer output or input of one sample (the model at batch 1). */
static int64_t largest_per_sample(const sv_model *m) {
    ck_assert_int_eq(sv_model_batch(m), 1);
    sv_value_info in;
    ck_assert_int_eq(sv_model_input(m, 0, &in), SV_OK);
    int64_t most = test_count(in.rank, in.dims);
    for (int k = 0; k < sv_model_layer_count(m); k++) {
        sv_layer_info l;
        ck_assert_int_eq(sv_model_layer(m, k, &l), SV_OK);
        const int64_t n = test_count(l.rank, l.dims);
        most = n > most ? n : most;
    }
    return most;
}

/* segnet (one input, one output) on its committed input: a run at the model's batch, which
 * must be the input's. Returns the output (caller frees). */
static float *run_segnet(sv_context *ctx, sv_model *m, const float *x) {
    sv_value_info out;
    ck_assert_int_eq(sv_model_output(m, 0, &out), SV_OK);
    float *y = malloc((size_t)test_count(out.rank, out.dims) * sizeof *y);
    ck_assert_ptr_nonnull(y);
    const float *inputs[1] = {x};
    float *outputs[1] = {y};
    TEST_ASSERT_STATUS(sv_model_run(m, inputs, outputs), SV_OK, ctx);
    return y;
}

/* y, segnet's output at batch 1, against PyTorch's for the first of the committed input's two
 * images (within the models suite's 1e-4 of the largest output). */
static void assert_first_image_as_pytorch(const float *y, const sv_io_array *expected,
                                          const char *what) {
    const size_t count = (size_t)expected->count / 2;
    double max_ref = 0.0;
    for (size_t k = 0; k < count; k++)
        max_ref = fmax(max_ref, fabs((double)expected->data[k]));
    test_assert_close(y, expected->data, count, 1e-4 * max_ref, 0.0, what);
}

/* After a refused set_batch: the model still runs at its batch (2) with the same result, then
 * at batch 1 with PyTorch's. */
static void assert_still_usable(sv_context *ctx, sv_model *m, const sv_io_array *x,
                                const float *y_before, const sv_io_array *expected) {
    ck_assert_int_eq(sv_model_batch(m), 2);
    const size_t count = (size_t)expected->count;
    float *y = run_segnet(ctx, m, x->data);
    ck_assert_msg(memcmp(y, y_before, count * sizeof *y) == 0,
                  "the run after the refusal differs from the one before");
    free(y);
    TEST_ASSERT_STATUS(sv_model_set_batch(m, 1), SV_OK, ctx);
    y = run_segnet(ctx, m, x->data);
    assert_first_image_as_pytorch(y, expected, "segnet at batch 1");
    free(y);
}

/* A batch whose largest activation buffer is one sample more than the device's largest
 * allocation. */
START_TEST(test_batch_beyond_max_alloc_refused) {
    sv_context *ctx = test_context(NULL);
    const sv_device_info *dev = sv_context_device(ctx);
    sv_io_array x = load_npy(MODELS "segnet_input.npy"),
                expected = load_npy(MODELS "segnet_output.npy");
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", NULL, &m), SV_OK, ctx);
    const int64_t sample = largest_per_sample(m);
    const int64_t batch =
        dev->max_alloc_bytes ? (int64_t)(dev->max_alloc_bytes / ((uint64_t)sample * 4)) + 1 : 0;
    if (!batch || batch * sample > MAX_ELEMENTS) {
        printf("limits: %s: no batch exceeds the largest allocation (%llu bytes) within the "
               "%lld-element tensor limit; skipped\n",
               dev->name, (unsigned long long)dev->max_alloc_bytes, (long long)MAX_ELEMENTS);
    } else {
        TEST_ASSERT_STATUS(sv_model_set_batch(m, 2), SV_OK, ctx);
        float *y = run_segnet(ctx, m, x.data);
        TEST_ASSERT_STATUS(sv_model_set_batch(m, batch), SV_OUT_OF_MEMORY, ctx);
        char phrase[128];
        snprintf(phrase, sizeof phrase, "batch %lld: activation buffer", (long long)batch);
        assert_message_has(ctx, phrase);
        snprintf(phrase, sizeof phrase,
                 "the device allows at most %.1f GiB per allocation "
                 "(max_alloc %llu bytes)",
                 (double)dev->max_alloc_bytes / (1 << 30),
                 (unsigned long long)dev->max_alloc_bytes);
        assert_message_has(ctx, phrase);
        printf("limits: %s\n", sv_last_error(ctx));
        assert_still_usable(ctx, m, &x, y, &expected);
        free(y);
    }
    sv_model_release(m);
    sv_io_array_free(&x), sv_io_array_free(&expected);
    sv_context_release(ctx);
}
END_TEST

/* With keep_intermediates every layer output has a buffer of its own: a batch at which each
 * fits in one allocation but all of them together exceed the device's global memory. */
START_TEST(test_batch_beyond_global_memory_refused) {
    sv_context *ctx = test_context(NULL);
    const sv_device_info *dev = sv_context_device(ctx);
    sv_io_array x = load_npy(MODELS "segnet_input.npy"),
                expected = load_npy(MODELS "segnet_output.npy");
    const sv_model_options keep = {1, SV_CONV_AUTO};
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", &keep, &m), SV_OK, ctx);
    const int64_t sample = largest_per_sample(m);
    const int64_t all = sv_model_peak_activation_bytes(m); /* every value of one sample */
    const int64_t batch =
        dev->max_alloc_bytes ? (int64_t)(dev->max_alloc_bytes / ((uint64_t)sample * 4)) : 0;
    if (!batch || batch * sample > MAX_ELEMENTS ||
        (uint64_t)(batch * all) <= dev->global_mem_bytes) {
        printf("limits: %s: no batch of segnet exceeds the global memory (%llu bytes) with "
               "every buffer within the largest allocation; skipped\n",
               dev->name, (unsigned long long)dev->global_mem_bytes);
    } else {
        TEST_ASSERT_STATUS(sv_model_set_batch(m, 2), SV_OK, ctx);
        float *y = run_segnet(ctx, m, x.data);
        TEST_ASSERT_STATUS(sv_model_set_batch(m, batch), SV_OUT_OF_MEMORY, ctx);
        /* the total adds the weights and the layers' scratch, which depends on the algorithms
         * the device runs (at this batch a transposed convolution's columns or Winograd's tiles
         * fill the scratch's 256 MiB) */
        char phrase[128];
        snprintf(phrase, sizeof phrase, "batch %lld: the model needs ", (long long)batch);
        assert_message_has(ctx, phrase);
        snprintf(phrase, sizeof phrase,
                 "activations %.1f GiB); the device has %.1f GiB "
                 "(global_mem %llu bytes)",
                 (double)(batch * all) / (1 << 30), (double)dev->global_mem_bytes / (1 << 30),
                 (unsigned long long)dev->global_mem_bytes);
        assert_message_has(ctx, phrase);
        printf("limits: %s\n", sv_last_error(ctx));
        assert_still_usable(ctx, m, &x, y, &expected);
        free(y);
    }
    sv_model_release(m);
    sv_io_array_free(&x), sv_io_array_free(&expected);
    sv_context_release(ctx);
}
END_TEST

/* Batch sizes outside 1..2^31 - 1 are refused as such, and one whose input would exceed the
 * tensor limit by the element count, on every device; the model keeps its batch. */
START_TEST(test_batch_out_of_range_refused) {
    sv_context *ctx = test_context(test_spec(_i));
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", NULL, &m), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_model_set_batch(m, 2), SV_OK, ctx);
    const int64_t bad[] = {INT64_C(1) << 40, INT64_MAX, INT64_C(2147483648), 0, -1, INT64_MIN};
    for (int i = 0; i < TEST_COUNT_OF(bad); i++) {
        TEST_ASSERT_STATUS(sv_model_set_batch(m, bad[i]), SV_INVALID_ARGUMENT, ctx);
        char phrase[64];
        snprintf(phrase, sizeof phrase, "batch %lld is outside 1..2147483647", (long long)bad[i]);
        assert_message_has(ctx, phrase);
        ck_assert_int_eq(sv_model_batch(m), 2);
    }
    /* [2^31 - 1, 3, 32, 32]: a valid batch, an input far beyond the tensor limit */
    TEST_ASSERT_STATUS(sv_model_set_batch(m, MAX_ELEMENTS), SV_OUT_OF_MEMORY, ctx);
    assert_message_has(ctx, "graph input 'input' of shape [2147483647, 3, 32, 32] has more than "
                            "2147483647 elements");
    ck_assert_int_eq(sv_model_batch(m), 2);
    sv_value_info in;
    ck_assert_int_eq(sv_model_input(m, 0, &in), SV_OK);
    ck_assert_int_eq(in.dims[0], 2);
    sv_model_release(m);
    sv_context_release(ctx);
}
END_TEST

/* ---- models made here: Relu chains over a fixed input, to be refused at load ---- */

/* A serialized ONNX model (opset 13): a fixed float input "x" of shape [1, 1, 1, width] through
 * `relus` Relu nodes to the output. It has no weights: its device memory is its activations.
 * Returns the bytes (caller frees). */
static uint8_t *relu_chain(int64_t width, int relus, size_t *size) {
    Onnx__TensorShapeProto__Dimension dims[4];
    Onnx__TensorShapeProto__Dimension *dim_list[4];
    for (int i = 0; i < 4; i++) {
        onnx__tensor_shape_proto__dimension__init(&dims[i]);
        dims[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        dims[i].dim_value = i == 3 ? width : 1;
        dim_list[i] = &dims[i];
    }
    Onnx__TensorShapeProto shape;
    onnx__tensor_shape_proto__init(&shape);
    shape.n_dim = 4;
    shape.dim = dim_list;
    Onnx__TypeProto__Tensor tensor;
    onnx__type_proto__tensor__init(&tensor);
    tensor.has_elem_type = 1;
    tensor.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tensor.shape = &shape;
    Onnx__TypeProto type;
    onnx__type_proto__init(&type);
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tensor;

    enum { MAX_RELUS = 16 };
    ck_assert_int_le(relus, MAX_RELUS);
    char names[MAX_RELUS + 1][16];
    char *inputs[MAX_RELUS], *outputs[MAX_RELUS];
    Onnx__NodeProto nodes[MAX_RELUS], *node_list[MAX_RELUS];
    snprintf(names[0], sizeof names[0], "x");
    for (int k = 0; k < relus; k++) {
        snprintf(names[k + 1], sizeof names[k + 1], "y%d", k + 1);
        onnx__node_proto__init(&nodes[k]);
        inputs[k] = names[k];
        outputs[k] = names[k + 1];
        nodes[k].n_input = 1;
        nodes[k].input = &inputs[k];
        nodes[k].n_output = 1;
        nodes[k].output = &outputs[k];
        nodes[k].name = names[k + 1];
        nodes[k].op_type = (char *)(uintptr_t) "Relu";
        node_list[k] = &nodes[k];
    }
    Onnx__ValueInfoProto in, out, *in_list[1] = {&in}, *out_list[1] = {&out};
    onnx__value_info_proto__init(&in);
    in.name = names[0];
    in.type = &type;
    onnx__value_info_proto__init(&out);
    out.name = names[relus];
    out.type = &type;
    Onnx__GraphProto graph;
    onnx__graph_proto__init(&graph);
    graph.name = names[0];
    graph.n_node = (size_t)relus;
    graph.node = node_list;
    graph.n_input = 1;
    graph.input = in_list;
    graph.n_output = 1;
    graph.output = out_list;
    Onnx__OperatorSetIdProto opset, *opset_list[1] = {&opset};
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = (char *)(uintptr_t) "";
    opset.has_version = 1;
    opset.version = 13;
    Onnx__ModelProto model;
    onnx__model_proto__init(&model);
    model.has_ir_version = 1;
    model.ir_version = 7;
    model.n_opset_import = 1;
    model.opset_import = opset_list;
    model.graph = &graph;
    *size = onnx__model_proto__get_packed_size(&model);
    uint8_t *bytes = malloc(*size);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(onnx__model_proto__pack(&model, bytes), *size);
    return bytes;
}

/* After a refused load the context still loads and runs a model. */
static void assert_context_usable(sv_context *ctx) {
    size_t size;
    uint8_t *bytes = relu_chain(4, 2, &size);
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(sv_model_load_memory(ctx, bytes, size, NULL, &m), SV_OK, ctx);
    const float x[4] = {-1.5f, 2.0f, -0.0f, 3.25f}, relu[4] = {0.0f, 2.0f, 0.0f, 3.25f};
    float y[4];
    const float *inputs[1] = {x};
    float *outputs[1] = {y};
    TEST_ASSERT_STATUS(sv_model_run(m, inputs, outputs), SV_OK, ctx);
    test_assert_equal(y, relu, 4, "Relu chain after a refused load");
    sv_model_release(m);
    free(bytes);
}

/* A model whose input alone is one element more than the largest allocation. */
START_TEST(test_load_beyond_max_alloc_refused) {
    sv_context *ctx = test_context(NULL);
    const sv_device_info *dev = sv_context_device(ctx);
    const int64_t width = (int64_t)(dev->max_alloc_bytes / 4) + 1;
    if (!dev->max_alloc_bytes || width > MAX_ELEMENTS) {
        printf("limits: %s: no tensor within the %lld-element limit exceeds the largest "
               "allocation (%llu bytes); skipped\n",
               dev->name, (long long)MAX_ELEMENTS, (unsigned long long)dev->max_alloc_bytes);
    } else {
        size_t size;
        uint8_t *bytes = relu_chain(width, 1, &size);
        sv_model *m = NULL;
        TEST_ASSERT_STATUS(sv_model_load_memory(ctx, bytes, size, NULL, &m), SV_OUT_OF_MEMORY, ctx);
        ck_assert_ptr_null(m);
        char phrase[160];
        snprintf(phrase, sizeof phrase,
                 "batch 1: activation buffer 0 (graph input 'x' [1, 1, 1, %lld]) needs",
                 (long long)width);
        assert_message_has(ctx, phrase);
        snprintf(phrase, sizeof phrase, "(max_alloc %llu bytes)",
                 (unsigned long long)dev->max_alloc_bytes);
        assert_message_has(ctx, phrase);
        printf("limits: %s\n", sv_last_error(ctx));
        free(bytes);
        assert_context_usable(ctx);
    }
    sv_context_release(ctx);
}
END_TEST

/* A chain of Relus each within one allocation, all kept (keep_intermediates), more than the
 * global memory together. */
START_TEST(test_load_beyond_global_memory_refused) {
    sv_context *ctx = test_context(NULL);
    const sv_device_info *dev = sv_context_device(ctx);
    int64_t width = (int64_t)(dev->max_alloc_bytes / 4);
    width = width < MAX_ELEMENTS ? width : MAX_ELEMENTS;
    const uint64_t tensor_bytes = (uint64_t)width * 4;
    const int relus = width ? (int)(dev->global_mem_bytes / tensor_bytes) + 1 : 0;
    if (!dev->global_mem_bytes || !width || relus > 15) {
        printf("limits: %s: global memory %llu bytes, largest allocation %llu bytes: no short "
               "chain of tensors exceeds it; skipped\n",
               dev->name, (unsigned long long)dev->global_mem_bytes,
               (unsigned long long)dev->max_alloc_bytes);
    } else {
        size_t size;
        uint8_t *bytes = relu_chain(width, relus, &size);
        const sv_model_options keep = {1, SV_CONV_AUTO};
        sv_model *m = NULL;
        TEST_ASSERT_STATUS(sv_model_load_memory(ctx, bytes, size, &keep, &m), SV_OUT_OF_MEMORY,
                           ctx);
        ck_assert_ptr_null(m);
        char phrase[160];
        snprintf(phrase, sizeof phrase, "(global_mem %llu bytes)",
                 (unsigned long long)dev->global_mem_bytes);
        assert_message_has(ctx, phrase);
        assert_message_has(ctx, "batch 1: the model needs");
        printf("limits: %s\n", sv_last_error(ctx));
        free(bytes);
        assert_context_usable(ctx);
    }
    sv_context_release(ctx);
}
END_TEST

/* What the convolutions keep on the device beyond the model's tensors counts too: segnet with
 * Winograd F(4x4) keeps its transformed weights (36 x (3x8 + 8x16 + 32x16) floats, 93.4 KiB; on
 * CPU devices, whose product pads each layer's output channels to 16, 36 x (3x16 + 8x16 + 32x16),
 * 96.8 KiB) and a scratch buffer for the largest layer's transformed tiles (dec2: 36 x (32 + 16)
 * channels x 16 tiles, 108.0 KiB at batch 1, which no device limit can split further). The device's
 * limits are rewritten on a context of the default device: a largest allocation of 100 KiB (more
 * than any tensor of segnet at batch 1) refuses that scratch by name and accepts the model with its
 * automatic choice; a global memory smaller than everything lists the parts. */
START_TEST(test_convolution_memory_counted) {
    sv_context *ctx = test_context(NULL);
    const sv_device_info device = ctx->device;
    const sv_model_options winograd = {0, SV_CONV_WINOGRAD_4X4};
    sv_model *m = NULL;
    if (device.kind == SV_DEVICE_REF) {
        printf("limits: the reference device keeps no convolution memory; skipped\n");
        sv_context_release(ctx);
        return;
    }
    ctx->device.max_alloc_bytes = 100 << 10;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", &winograd, &m), SV_OUT_OF_MEMORY,
                       ctx);
    ck_assert_ptr_null(m);
    assert_message_has(ctx, "batch 1: the winograd-4x4 scratch of layer '/dec2/Conv' needs "
                            "108.0 KiB (110592 bytes); the device allows at most 100.0 KiB");
    printf("limits: %s\n", sv_last_error(ctx));
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", NULL, &m), SV_OK, ctx);
    sv_model_release(m);

    ctx->device = device;
    ctx->device.global_mem_bytes = 1 << 10;
    TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", &winograd, &m), SV_OUT_OF_MEMORY,
                       ctx);
    assert_message_has(ctx, device.kind == SV_DEVICE_CPU
                                ? "weights in their algorithms' layouts 96.8"
                                : "weights in their algorithms' layouts 93.4");
    assert_message_has(ctx, "scratch 108.0 KiB, activations");
    printf("limits: %s\n", sv_last_error(ctx));
    ctx->device = device;
    assert_context_usable(ctx);
    sv_context_release(ctx);
}
END_TEST

/* A transposed convolution's columns are scratch in the same count: segnet with direct
 * convolutions (which keep nothing beyond the model's tensors) keeps the columns of
 * /up1/ConvTranspose (8 channels x 3x3 taps x 16x16 inputs, 72.0 KiB at batch 1). With a largest
 * allocation of 64 KiB, up1 runs the gather algorithm and only /up2/ConvTranspose's 16.0 KiB of
 * columns (16 x 2x2 x 8x8) remain; either way the model runs in the scratch it counted and gives
 * PyTorch's output. */
START_TEST(test_transposed_convolution_columns_counted) {
    sv_context *ctx = test_context(NULL);
    const sv_device_info device = ctx->device;
    if (device.kind == SV_DEVICE_REF) {
        printf("limits: the reference device keeps no column scratch; skipped\n");
        sv_context_release(ctx);
        return;
    }
    sv_io_array x = load_npy(MODELS "segnet_input.npy"),
                expected = load_npy(MODELS "segnet_output.npy");
    const sv_model_options direct = {0, SV_CONV_DIRECT};
    static const struct {
        uint64_t max_alloc;
        const char *scratch;
    } limits[] = {{0, "scratch 72.0 KiB, activations"},
                  {64 << 10, "scratch 16.0 KiB, activations"}};
    for (int i = 0; i < TEST_COUNT_OF(limits); i++) {
        ctx->device = device;
        if (limits[i].max_alloc)
            ctx->device.max_alloc_bytes = limits[i].max_alloc;
        sv_model *m = NULL;
        TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", &direct, &m), SV_OK, ctx);
        float *y = run_segnet(ctx, m, x.data);
        assert_first_image_as_pytorch(y, &expected, limits[i].scratch);
        free(y);
        sv_model_release(m);
        ctx->device.global_mem_bytes = 1 << 10;
        TEST_ASSERT_STATUS(sv_model_load(ctx, MODELS "segnet.onnx", &direct, &m), SV_OUT_OF_MEMORY,
                           ctx);
        assert_message_has(ctx, limits[i].scratch);
        printf("limits: %s\n", sv_last_error(ctx));
    }
    ctx->device = device;
    assert_context_usable(ctx);
    sv_io_array_free(&x), sv_io_array_free(&expected);
    sv_context_release(ctx);
}
END_TEST

static Suite *limits_suite(void) {
    Suite *s = suite_create("limits");
    TCase *tc = test_add_case(s, "device memory", 300);
    tcase_add_test(tc, test_batch_beyond_max_alloc_refused);
    tcase_add_test(tc, test_batch_beyond_global_memory_refused);
    tcase_add_loop_test(tc, test_batch_out_of_range_refused, 0, TEST_SPEC_COUNT);
    tcase_add_test(tc, test_load_beyond_max_alloc_refused);
    tcase_add_test(tc, test_load_beyond_global_memory_refused);
    tcase_add_test(tc, test_convolution_memory_counted);
    tcase_add_test(tc, test_transposed_convolution_columns_counted);
    return s;
}

TEST_MAIN(limits_suite)
