/* Convolution: the default OpenCL device against the reference path on randomized sweeps over
 * every parameter and every algorithm's tile configurations; the automatic choice by device and
 * shape; the classic image kernels against hand-computed values; invalid parameters against the
 * errors they must give. */
#include "ops/conv_algorithm.h"
#include "test_support.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- tolerances ---------------------------------------------------------------------------
 * fp32 summation of T terms (in any order, fused or not) is off from the exact sum by at most
 * gamma_T * sum|terms|, gamma_T = T*u/(1 - T*u), u = 2^-24 (Higham, "Accuracy and Stability of
 * Numerical Algorithms", 2nd ed., section 4.2). Each output sums taps + 1 (bias) terms; the test
 * computes sum|terms| per element exactly, as the reference convolution of |x| and |w| plus |b|.
 * The activations are at most 1-Lipschitz (leaky relu, elu and hard sigmoid slopes are drawn in
 * [0, 1)), so the bound carries through them. CONV_RTOL covers the rounding of both results to fp32
 * and the device's exp/tanh (OpenCL allows 3 and 5 ulp, hence 8 ulp). */
#define CONV_RTOL (8 * FLT_EPSILON)

typedef struct conv_case {
    sv_conv_params p;
    int rank;
    int64_t x_dims[4], w_dims[4], y_dims[4];
    int has_bias;
} conv_case;

static long taps_of(const conv_case *c) {
    long taps = (long)c->w_dims[1];
    for (int i = 2; i < c->rank; i++)
        taps *= (long)c->w_dims[i];
    return taps;
}

/* Draws a valid case: odd and even sizes, batch 1..3, 1..3 groups or depthwise, kernel 1..5,
 * stride and dilation 1..3, asymmetric pads allowed by the mode. */
static conv_case random_case(test_rng *rng, int spatial_dims, sv_pad_mode mode,
                             sv_activation_kind act) {
    conv_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_params_default(spatial_dims);
    c.p.pad_mode = mode;
    c.p.activation = test_lipschitz_activation(rng, act);
    c.rank = spatial_dims + 2;
    const int depthwise = test_int(rng, 0, 3) == 0;
    const int groups = depthwise ? test_int(rng, 1, 6) : test_int(rng, 1, 3);
    const int in_per_group = depthwise ? 1 : test_int(rng, 1, 4);
    const int out_per_group = depthwise ? test_int(rng, 1, 2) : test_int(rng, 1, 9);
    c.p.groups = groups;
    c.x_dims[0] = test_int(rng, 1, 3);
    c.x_dims[1] = groups * in_per_group;
    c.w_dims[0] = groups * out_per_group;
    c.w_dims[1] = in_per_group;
    c.has_bias = test_int(rng, 0, 1);
    for (int i = 0; i < spatial_dims; i++) {
        const int k = test_int(rng, 1, 5), d = test_int(rng, 1, 3);
        int n = test_int(rng, 1, spatial_dims == 1 ? 40 : 17);
        c.p.stride[i] = test_int(rng, 1, 3);
        c.p.dilation[i] = d;
        c.p.pad_begin[i] = test_int(rng, 0, 3);
        c.p.pad_end[i] = test_int(rng, 0, 3);
        /* grow the input until the pads fit the mode and the dilated kernel fits the input */
        while (c.p.pad_begin[i] > test_max_pad(mode, n) || c.p.pad_end[i] > test_max_pad(mode, n) ||
               d * (k - 1) + 1 > n + c.p.pad_begin[i] + c.p.pad_end[i])
            n++;
        c.x_dims[2 + i] = n;
        c.w_dims[2 + i] = k;
    }
    const int64_t bias_len = c.w_dims[0];
    sv_message msg;
    sv_status st = sv_conv_output_shape(&c.p, c.rank, c.x_dims, c.w_dims,
                                        c.has_bias ? &bias_len : NULL, c.y_dims, &msg);
    ck_assert_msg(st == SV_OK, "generated case rejected: %s", msg.text);
    return c;
}

static void describe(const conv_case *c, char *buf, size_t size) {
    const sv_conv_params *p = &c->p;
    char x[96], w[96];
    test_format_dims(x, sizeof x, c->rank, c->x_dims);
    test_format_dims(w, sizeof w, c->rank, c->w_dims);
    snprintf(buf, size,
             "conv%dd x[%s] w[%s] stride %d,%d dil %d,%d pad %d,%d/%d,%d groups %d mode %d act %d "
             "(alpha %g beta %g) bias %d",
             p->spatial_dims, x, w, p->stride[0], p->stride[1], p->dilation[0], p->dilation[1],
             p->pad_begin[0], p->pad_begin[1], p->pad_end[0], p->pad_end[1], p->groups,
             (int)p->pad_mode, (int)p->activation.kind, (double)p->activation.alpha,
             (double)p->activation.beta, c->has_bias);
}

/* Runs the case on ctx, with the given algorithm and variant (NULL: as p asks); returns the
 * downloaded output (caller frees). */
static float *run_case_with(sv_context *ctx, const conv_case *c, const sv_conv_params *p,
                            const sv_conv_choice *choice, float *x, float *w, float *b) {
    const int64_t bias_dims[1] = {c->w_dims[0]};
    sv_tensor *xt = test_tensor_from(ctx, x, c->rank, c->x_dims);
    sv_tensor *wt = test_tensor_from(ctx, w, c->rank, c->w_dims);
    sv_tensor *bt = b ? test_tensor_from(ctx, b, 1, bias_dims) : NULL;
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->y_dims);
    sv_status st = choice ? sv_conv_with_choice(ctx, p, *choice, xt, wt, bt, yt)
                          : sv_conv(ctx, p, xt, wt, bt, yt);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt);
    sv_tensor_release(wt);
    sv_tensor_release(bt);
    sv_tensor_release(yt);
    return y;
}

static float *run_case(sv_context *ctx, const conv_case *c, const sv_conv_params *p, float *x,
                       float *w, float *b) {
    return run_case_with(ctx, c, p, NULL, x, w, b);
}

/* Compares the device with the reference on one case, element by element: every algorithm the
 * device has, asked for by name as sv_conv_params.algorithm (whatever the automatic choice would
 * be), or with `variants_of`, every variant of that one. Split-K variants sum the same terms in
 * another order: the bound by gamma of the term count holds for any order. */
static void check_case(sv_context *dev, sv_context *ref, const conv_case *c, test_rng *rng,
                       const sv_conv_impl *variants_of) {
    const size_t nx = (size_t)test_count(c->rank, c->x_dims),
                 nw = (size_t)test_count(c->rank, c->w_dims);
    const size_t ny = (size_t)test_count(c->rank, c->y_dims), nb = (size_t)c->w_dims[0];
    float *x = test_random_array(rng, nx, -1.0f, 1.0f),
          *w = test_random_array(rng, nw, -1.0f, 1.0f),
          *b = test_random_array(rng, nb, -1.0f, 1.0f);
    float *ax = test_absolute_copy(x, nx), *aw = test_absolute_copy(w, nw),
          *ab = test_absolute_copy(b, nb);

    float *r = run_case(ref, c, &c->p, x, w, c->has_bias ? b : NULL);
    sv_conv_params plain = c->p;
    plain.activation.kind = SV_ACT_NONE;
    float *magnitude = run_case(ref, c, &plain, ax, aw, c->has_bias ? ab : NULL);

    const double gamma = test_summation_gamma(TEST_UNIT_ROUNDOFF, taps_of(c) + 1);
    char what[512];
    describe(c, what, sizeof what);
    const int runs = variants_of ? variants_of->variants : SV_CONV_ALGORITHM_END - SV_CONV_DIRECT;
    for (int i = 0; i < runs; i++) {
        sv_conv_params on_device = c->p;
        const sv_conv_choice choice = {variants_of ? variants_of->algorithm
                                                   : (sv_conv_algorithm)(SV_CONV_DIRECT + i),
                                       variants_of ? i : 0};
        on_device.algorithm = choice.algorithm;
        float *y = run_case_with(dev, c, &on_device, variants_of ? &choice : NULL, x, w,
                                 c->has_bias ? b : NULL);
        char with_algorithm[600];
        snprintf(with_algorithm, sizeof with_algorithm, "%s, algorithm %s variant %d", what,
                 sv_conv_algorithm_name(choice.algorithm), choice.variant);
        test_assert_summation(y, r, magnitude, ny, gamma, CONV_RTOL, with_algorithm);
        free(y);
    }
    free(x), free(w), free(b), free(ax), free(aw), free(ab), free(r), free(magnitude);
}

enum { CASES_PER_COMBINATION = 3, PAD_MODES = 5, ACTIVATIONS = SV_ACT_HARD_SIGMOID + 1 };

/* Loop index i: spatial dims (i / PAD_MODES + 1) and padding mode (i % PAD_MODES); inside, every
 * activation with a few random shapes each. */
START_TEST(test_random_sweep_matches_reference) {
    const int spatial_dims = _i / PAD_MODES + 1;
    const sv_pad_mode mode = (sv_pad_mode)(_i % PAD_MODES);
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int act = 0; act < ACTIVATIONS; act++)
        for (int k = 0; k < CASES_PER_COMBINATION; k++) {
            test_rng rng = test_rng_for((uint64_t)((_i * ACTIVATIONS + act) * 100 + k));
            conv_case c = random_case(&rng, spatial_dims, mode, (sv_activation_kind)act);
            check_case(dev, ref, &c, &rng, NULL);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* A VGG-sized layer: 64 -> 64 channels, 3x3, pad 1, ReLU, batch 2, so that long reductions
 * (576 taps) and many work-groups are covered too. */
START_TEST(test_vgg_layer_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for(7777);
    conv_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_params_default(2);
    c.p.activation.kind = SV_ACT_RELU;
    for (int i = 0; i < 2; i++)
        c.p.pad_begin[i] = c.p.pad_end[i] = 1;
    c.rank = 4;
    const int64_t x_dims[4] = {2, 64, 28, 28}, w_dims[4] = {64, 64, 3, 3},
                  y_dims[4] = {2, 64, 28, 28};
    memcpy(c.x_dims, x_dims, sizeof x_dims);
    memcpy(c.w_dims, w_dims, sizeof w_dims);
    memcpy(c.y_dims, y_dims, sizeof y_dims);
    c.has_bias = 1;
    check_case(dev, ref, &c, &rng, NULL);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- every variant of the implicit GEMM. Case shapes by kind (index % 3), each on every padding
 * mode (index / 3) with one of three activations by mode (the split-K variant applies them in a
 * kernel of its own):
 *   0  any 1-D or 2-D convolution, grouped (the groups along the grid's third axis) or
 *      depthwise half the time, output channels across the 32- and 64-wide tile edges
 *   1  1x1, stride 1, no padding (the pointwise build: no index math), output channels and
 *      pixels across the 128-wide tile's edges, batch 1 or 3; on every other padding mode
 *      H x W is a multiple of 4 (the build that reads the input as float4s)
 *   2  a deep reduction (up to 160 channels x 3x3 = 1440, not a multiple of any tile's depth) at
 *      batch 1: the split-K variant takes several slices */
enum { VARIANT_KINDS = 3, VARIANT_CASES = VARIANT_KINDS * PAD_MODES };

static conv_case variant_case(test_rng *rng, int index) {
    static const sv_activation_kind acts[] = {SV_ACT_RELU, SV_ACT_NONE, SV_ACT_ELU};
    const int kind = index % VARIANT_KINDS;
    const sv_pad_mode mode = (sv_pad_mode)(index / VARIANT_KINDS);
    const int spatial_dims = kind == 0 ? test_int(rng, 1, 2) : 2;
    conv_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_params_default(spatial_dims);
    c.p.pad_mode = mode;
    c.p.activation = test_lipschitz_activation(rng, acts[(int)mode % TEST_COUNT_OF(acts)]);
    c.rank = spatial_dims + 2;
    c.has_bias = test_int(rng, 0, 1);
    const int grouped = kind == 0 && test_int(rng, 0, 1);
    const int depthwise = grouped && test_int(rng, 0, 1);
    c.p.groups = grouped ? test_int(rng, 2, 5) : 1;
    const int in_per_group = kind == 2   ? test_int(rng, 64, 160)
                             : depthwise ? 1
                                         : test_int(rng, 1, 12);
    const int out_per_group =
        kind == 1 ? test_int(rng, 1, 140) : test_int(rng, 1, grouped ? 20 : 70);
    c.x_dims[0] = kind == 2 ? 1 : test_int(rng, 0, 1) ? 3 : 1;
    c.x_dims[1] = c.p.groups * in_per_group;
    c.w_dims[0] = c.p.groups * out_per_group;
    c.w_dims[1] = in_per_group;
    for (int i = 0; i < spatial_dims; i++) {
        const int k = kind == 1 ? 1 : kind == 2 ? 3 : test_int(rng, 1, 3);
        const int d = kind == 0 ? test_int(rng, 1, 2) : 1;
        int n = test_int(rng, 1, kind == 2 ? 6 : 9);
        if (kind == 1 && i == spatial_dims - 1 && index / VARIANT_KINDS % 2 == 0)
            n = 4 * test_int(rng, 1, 2); /* H x W a multiple of 4: float4 loads */
        c.p.stride[i] = kind == 0 ? test_int(rng, 1, 2) : 1;
        c.p.dilation[i] = d;
        c.p.pad_begin[i] = kind == 1 ? 0 : test_int(rng, 0, 2);
        c.p.pad_end[i] = kind == 1 ? 0 : test_int(rng, 0, 2);
        while (c.p.pad_begin[i] > test_max_pad(mode, n) || c.p.pad_end[i] > test_max_pad(mode, n) ||
               d * (k - 1) + 1 > n + c.p.pad_begin[i] + c.p.pad_end[i])
            n++;
        c.x_dims[2 + i] = n;
        c.w_dims[2 + i] = k;
    }
    const int64_t bias_len = c.w_dims[0];
    sv_message msg;
    sv_status st = sv_conv_output_shape(&c.p, c.rank, c.x_dims, c.w_dims,
                                        c.has_bias ? &bias_len : NULL, c.y_dims, &msg);
    ck_assert_msg(st == SV_OK, "generated case rejected: %s", msg.text);
    return c;
}

START_TEST(test_every_igemm_variant_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for((uint64_t)(5000 + _i));
    const conv_case c = variant_case(&rng, _i);
    check_case(dev, ref, &c, &rng, sv_conv_impl_of(SV_CONV_IMPLICIT_GEMM));
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* The automatic choice on made-up devices (only the device description is read): VGG-16's layers
 * on a 132-unit GPU take the implicit GEMM, with the large tile once the batch gives enough
 * 128x128 tiles, the default tile where 64x64 ones fill the units, split-K for the deep layers
 * at batch 1 whose tiles are too few, the small tile for shallow ones; a depthwise layer takes
 * the direct kernel; a CPU keeps the CPU-shaped kernel. Asked for by name, an algorithm runs the
 * same variant. */
START_TEST(test_automatic_choice_by_device_and_shape) {
    static const struct {
        sv_device_kind kind;
        int n, c, k, size, groups;
        sv_conv_choice expected;
    } rows[] = {
        {SV_DEVICE_GPU, 1, 64, 64, 224, 1, {SV_CONV_IMPLICIT_GEMM, 0}},   /* conv1_2: 784 tiles */
        {SV_DEVICE_GPU, 1, 256, 256, 56, 1, {SV_CONV_IMPLICIT_GEMM, 0}},  /* conv3_2: 50 large */
        {SV_DEVICE_GPU, 32, 256, 256, 56, 1, {SV_CONV_IMPLICIT_GEMM, 1}}, /* 1568 large tiles */
        {SV_DEVICE_GPU, 1, 512, 512, 14, 1, {SV_CONV_IMPLICIT_GEMM, 3}},  /* conv5: 32 tiles */
        {SV_DEVICE_GPU, 1, 32, 32, 14, 1, {SV_CONV_IMPLICIT_GEMM, 2}},    /* 4 tiles, depth 288 */
        {SV_DEVICE_GPU, 1, 256, 256, 56, 256, {SV_CONV_DIRECT, 0}},       /* depthwise */
        {SV_DEVICE_CPU, 1, 64, 64, 224, 1, {SV_CONV_CPU_BLOCKED, 0}},
    };
    for (int i = 0; i < TEST_COUNT_OF(rows); i++) {
        sv_context ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.device.kind = rows[i].kind;
        ctx.device.compute_units = 132;
        const sv_conv_params p = sv_conv_params_default(2);
        const sv_conv_geometry g = {rows[i].n,
                                    rows[i].c,
                                    rows[i].size,
                                    rows[i].size,
                                    rows[i].k,
                                    rows[i].size,
                                    rows[i].size,
                                    3,
                                    3,
                                    1,
                                    1,
                                    1,
                                    1,
                                    1,
                                    1,
                                    rows[i].groups};
        sv_conv_choice choice;
        ck_assert_int_eq(sv_conv_choose(&ctx, &p, &g, &choice), SV_OK);
        ck_assert_msg(choice.algorithm == rows[i].expected.algorithm &&
                          choice.variant == rows[i].expected.variant,
                      "row %d: chose %s variant %d, expected %s variant %d", i,
                      sv_conv_algorithm_name(choice.algorithm), choice.variant,
                      sv_conv_algorithm_name(rows[i].expected.algorithm), rows[i].expected.variant);
        /* asked for by name, the algorithm runs the variant the automatic choice would */
        sv_conv_params named = p;
        named.algorithm = rows[i].expected.algorithm;
        ck_assert_int_eq(sv_conv_choose(&ctx, &named, &g, &choice), SV_OK);
        ck_assert_int_eq(choice.variant, rows[i].expected.variant);
    }
}
END_TEST

/* A choice outside the algorithm's variants is refused before anything runs. */
START_TEST(test_unknown_variant_is_refused) {
    sv_context *ctx = test_context(NULL);
    const int64_t x_dims[4] = {1, 2, 4, 4}, w_dims[4] = {3, 2, 3, 3}, y_dims[4] = {1, 3, 2, 2};
    sv_tensor *x, *w, *y;
    ck_assert_int_eq(sv_tensor_create(ctx, 4, x_dims, &x), SV_OK);
    ck_assert_int_eq(sv_tensor_create(ctx, 4, w_dims, &w), SV_OK);
    ck_assert_int_eq(sv_tensor_create(ctx, 4, y_dims, &y), SV_OK);
    const sv_conv_params p = sv_conv_params_default(2);
    const sv_conv_impl *impl = sv_conv_impl_of(SV_CONV_IMPLICIT_GEMM);
    const sv_conv_choice past_end = {SV_CONV_IMPLICIT_GEMM, impl->variants};
    TEST_ASSERT_STATUS(sv_conv_with_choice(ctx, &p, past_end, x, w, NULL, y), SV_INVALID_ARGUMENT,
                       ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "no algorithm"));
    sv_tensor_release(x), sv_tensor_release(w), sv_tensor_release(y);
    sv_context_release(ctx);
}
END_TEST

/* --- the classic image kernels on a 4x4 image with zero padding 1, against values computed by
 * hand. Example: edges at (0,0) = 8*3 - (0 + 1 + 5) = 18; gaussian at (0,0) =
 * (4*3 + 2*0 + 2*1 + 1*5) / 16 = 19/16. */
static float classic_image[16] = {3, 0, 1, 2, 1, 5, 0, 4, 2, 2, 7, 1, 0, 3, 1, 6};

typedef struct classic_kernel {
    const char *name;
    float taps[9];
    float scale;
    float expected[16]; /* times scale */
} classic_kernel;

static const classic_kernel classic[] = {
    {"identity", {0, 0, 0, 0, 1, 0, 0, 0, 0}, 1, {3, 0, 1, 2, 1, 5, 0, 4, 2, 2, 7, 1, 0, 3, 1, 6}},
    {"edge detection",
     {-1, -1, -1, -1, 8, -1, -1, -1, -1},
     1,
     {18, -10, -3, 11, -4, 24, -22, 21, 5, -3, 34, -10, -7, 12, -11, 39}},
    {"sharpen",
     {0, -1, 0, -1, 5, -1, 0, -1, 0},
     1,
     {14, -9, 3, 5, -5, 22, -17, 17, 7, -7, 31, -12, -5, 12, -11, 28}},
    {"box blur",
     {1, 1, 1, 1, 1, 1, 1, 1, 1},
     9,
     {9, 10, 12, 7, 13, 21, 22, 15, 13, 21, 29, 19, 7, 15, 20, 15}},
    {"gaussian blur",
     {1, 2, 1, 2, 4, 2, 1, 2, 1},
     16,
     {19, 19, 17, 18, 26, 39, 39, 30, 22, 44, 54, 39, 12, 27, 39, 35}},
};

static void check_classic(const char *spec, int index) {
    const classic_kernel *k = &classic[index];
    sv_context *ctx = test_context(spec);
    conv_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_params_default(2);
    for (int i = 0; i < 2; i++)
        c.p.pad_begin[i] = c.p.pad_end[i] = 1;
    c.rank = 4;
    const int64_t x_dims[4] = {1, 1, 4, 4}, w_dims[4] = {1, 1, 3, 3};
    memcpy(c.x_dims, x_dims, sizeof x_dims);
    memcpy(c.w_dims, w_dims, sizeof w_dims);
    memcpy(c.y_dims, x_dims, sizeof x_dims);
    float w[9], expected[16];
    for (int i = 0; i < 9; i++)
        w[i] = k->taps[i] / k->scale;
    for (int i = 0; i < 16; i++)
        expected[i] = k->expected[i] / k->scale;
    float *y = run_case(ctx, &c, &c.p, classic_image, w, NULL);
    /* 9 products of small integers scaled by 1/9 or 1/16: a few ulp of values below 60 */
    test_assert_close(y, expected, 16, 1e-5, 1e-6, k->name);
    free(y);
    sv_context_release(ctx);
}

START_TEST(test_classic_kernels_on_reference) {
    check_classic("ref", _i);
}
END_TEST

START_TEST(test_classic_kernels_on_device) {
    check_classic(NULL, _i);
}
END_TEST

/* --- each padding mode on A B C with two cells each side, seen through an identity kernel of
 * width 1: the output is the padded row itself. */
START_TEST(test_padding_modes_on_abc) {
    static const struct {
        sv_pad_mode mode;
        float expected[7];
    } rows[] = {
        {SV_PAD_ZERO, {0, 0, 1, 2, 3, 0, 0}},      {SV_PAD_REFLECT, {3, 2, 1, 2, 3, 2, 1}},
        {SV_PAD_SYMMETRIC, {2, 1, 1, 2, 3, 3, 2}}, {SV_PAD_REPLICATE, {1, 1, 1, 2, 3, 3, 3}},
        {SV_PAD_CIRCULAR, {2, 3, 1, 2, 3, 1, 2}},
    };
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        for (size_t m = 0; m < sizeof rows / sizeof rows[0]; m++) {
            conv_case c;
            memset(&c, 0, sizeof c);
            c.p = sv_conv_params_default(1);
            c.p.pad_mode = rows[m].mode;
            c.p.pad_begin[0] = c.p.pad_end[0] = 2;
            c.rank = 3;
            const int64_t x_dims[3] = {1, 1, 3}, w_dims[3] = {1, 1, 1}, y_dims[3] = {1, 1, 7};
            memcpy(c.x_dims, x_dims, sizeof x_dims);
            memcpy(c.w_dims, w_dims, sizeof w_dims);
            memcpy(c.y_dims, y_dims, sizeof y_dims);
            float abc[3] = {1, 2, 3}, one = 1;
            float *y = run_case(ctx, &c, &c.p, abc, &one, NULL);
            for (int i = 0; i < 7; i++)
                ck_assert_msg(y[i] == rows[m].expected[i],
                              "%s padding on %s, cell %d: got %g, want %g", "ABC",
                              test_spec_name(test_spec(s)), i, (double)y[i],
                              (double)rows[m].expected[i]);
            free(y);
        }
        sv_context_release(ctx);
    }
}
END_TEST

/* --- invalid parameters: each row breaks one rule of a valid 2-D case (x [1,4,5,5], w [6,2,3,3],
 * groups 2, bias 6) and names the status and a phrase the message must contain. */
static const test_invalid_row invalid_rows[] = {
    {"channels not divisible by groups", SV_INVALID_ARGUMENT, "divisible by groups"},
    {"zero groups", SV_INVALID_ARGUMENT, "groups = 0"},
    {"weight channels per group", SV_SHAPE_MISMATCH, "input channels per group"},
    {"kernel larger than padded input", SV_INVALID_ARGUMENT, "larger than the padded input"},
    {"dilated kernel larger than input", SV_INVALID_ARGUMENT, "larger than the padded input"},
    {"reflect pad >= input", SV_INVALID_ARGUMENT, "reflect padding"},
    {"circular pad > input", SV_INVALID_ARGUMENT, "circular padding"},
    {"negative pad", SV_INVALID_ARGUMENT, "must be >= 0"},
    {"zero stride", SV_INVALID_ARGUMENT, "stride (0)"},
    {"zero dilation", SV_INVALID_ARGUMENT, "dilation (0)"},
    {"bias length", SV_SHAPE_MISMATCH, "bias has 5 elements"},
    {"3-D convolution", SV_UNSUPPORTED, "3 spatial dimensions"},
    {"rank does not match spatial dims", SV_SHAPE_MISMATCH, "expected 3"},
    {"unknown padding mode", SV_INVALID_ARGUMENT, "unknown padding mode"},
    {"unknown activation", SV_INVALID_ARGUMENT, "unknown activation"},
    {"clip min > max", SV_INVALID_ARGUMENT, "min <= max"},
    {"zero-sized input dimension", SV_INVALID_ARGUMENT, "outside 1.."},
};

/* Breaks the rule of invalid_rows[row] in a valid case. */
static void break_rule(int row, sv_conv_params *p, int *rank, int64_t *x, int64_t *w,
                       int64_t *bias) {
    switch (row) {
    case 0: p->groups = 3; break;
    case 1: p->groups = 0; break;
    case 2: w[1] = 4; break;
    case 3: w[2] = 6; break;
    case 4: p->dilation[1] = 3; break;
    case 5: p->pad_mode = SV_PAD_REFLECT, p->pad_end[0] = 5; break;
    case 6: p->pad_mode = SV_PAD_CIRCULAR, p->pad_begin[1] = 6; break;
    case 7: p->pad_begin[0] = -1; break;
    case 8: p->stride[1] = 0; break;
    case 9: p->dilation[0] = 0; break;
    case 10: *bias = 5; break;
    case 11: p->spatial_dims = 3; break;
    case 12: p->spatial_dims = 1, *rank = 4; break;
    case 13: p->pad_mode = (sv_pad_mode)9; break;
    case 14: p->activation.kind = (sv_activation_kind)42; break;
    case 15:
        p->activation.kind = SV_ACT_CLIP, p->activation.alpha = 1, p->activation.beta = -1;
        break;
    case 16: x[2] = 0; break;
    default: ck_abort_msg("no rule %d", row);
    }
}

START_TEST(test_invalid_parameters_are_rejected) {
    const test_invalid_row *row = &invalid_rows[_i];
    sv_conv_params p = sv_conv_params_default(2);
    p.groups = 2;
    int rank = 4;
    int64_t x[4] = {1, 4, 5, 5}, w[4] = {6, 2, 3, 3}, bias = 6, y[4];
    sv_message msg = {{0}};
    ck_assert_int_eq(sv_conv_output_shape(&p, rank, x, w, &bias, y, &msg), SV_OK);
    break_rule(_i, &p, &rank, x, w, &bias);
    test_poison_dims(y, 4);
    sv_status st = sv_conv_output_shape(&p, rank, x, w, &bias, y, &msg);
    test_assert_shape_rejected(row, st, msg.text, y, 4);
}
END_TEST

/* The same validation guards sv_conv on a context, and the message reaches sv_last_error. */
START_TEST(test_invalid_call_reports_through_context) {
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t x_dims[4] = {1, 4, 5, 5}, w_dims[4] = {6, 2, 3, 3}, y_dims[4] = {1, 6, 3, 3};
        const int64_t wrong_y[4] = {1, 6, 5, 5};
        sv_tensor *x, *w, *y, *y_wrong, *foreign;
        ck_assert_int_eq(sv_tensor_create(ctx, 4, x_dims, &x), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 4, w_dims, &w), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 4, y_dims, &y), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 4, wrong_y, &y_wrong), SV_OK);
        ck_assert_int_eq(sv_tensor_create(other, 4, y_dims, &foreign), SV_OK);
        sv_conv_params p = sv_conv_params_default(2);
        TEST_ASSERT_STATUS(sv_conv(ctx, &p, x, w, NULL, y), SV_SHAPE_MISMATCH, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "input channels per group"));
        p.groups = 2;
        TEST_ASSERT_STATUS(sv_conv(ctx, &p, x, w, NULL, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        TEST_ASSERT_STATUS(sv_conv(ctx, &p, x, w, NULL, y_wrong), SV_SHAPE_MISMATCH, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "expected [1, 6, 3, 3]"));
        TEST_ASSERT_STATUS(sv_conv(ctx, &p, x, w, NULL, NULL), SV_INVALID_ARGUMENT, ctx);
        TEST_ASSERT_STATUS(sv_conv(ctx, &p, x, w, NULL, foreign), SV_WRONG_CONTEXT, ctx);
        TEST_ASSERT_STATUS(sv_conv(ctx, NULL, x, w, NULL, y), SV_INVALID_ARGUMENT, ctx);
        sv_tensor_release(x), sv_tensor_release(w), sv_tensor_release(y);
        sv_tensor_release(y_wrong), sv_tensor_release(foreign);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

static Suite *conv_suite(void) {
    Suite *s = suite_create("conv");
    TCase *sweep = test_add_case(s, "random sweep against ref", 600);
    tcase_add_loop_test(sweep, test_random_sweep_matches_reference, 0, 2 * PAD_MODES);
    tcase_add_test(sweep, test_vgg_layer_matches_reference);
    TCase *variants = test_add_case(s, "implicit GEMM variants against ref", 600);
    tcase_add_loop_test(variants, test_every_igemm_variant_matches_reference, 0, VARIANT_CASES);
    tcase_add_test(variants, test_automatic_choice_by_device_and_shape);
    tcase_add_test(variants, test_unknown_variant_is_refused);
    TCase *known = test_add_case(s, "hand-computed", 120);
    tcase_add_loop_test(known, test_classic_kernels_on_reference, 0, TEST_COUNT_OF(classic));
    tcase_add_loop_test(known, test_classic_kernels_on_device, 0, TEST_COUNT_OF(classic));
    tcase_add_test(known, test_padding_modes_on_abc);
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_invalid_parameters_are_rejected, 0,
                        TEST_COUNT_OF(invalid_rows));
    tcase_add_test(invalid, test_invalid_call_reports_through_context);
    return s;
}

TEST_MAIN(conv_suite)
