/* Transposed convolution: the default OpenCL device, with each algorithm (gather, GEMM +
 * col2im), against the reference path on randomized sweeps over every parameter; both against
 * the adjoint identity <conv(x), y> = <x, conv_T(y)>; hand-computed examples and the ONNX backend
 * tests' values; invalid parameters against the errors they must give. */
#include "ops/conv_transpose.h"
#include "test_support.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- tolerances ---------------------------------------------------------------------------
 * fp32 summation of T terms (in any order, fused or not) is off from the exact sum by at most
 * gamma_T * sum|terms|, gamma_T = T*u/(1 - T*u), u = 2^-24 (Higham, "Accuracy and Stability of
 * Numerical Algorithms", 2nd ed., section 4.2). An output of a transposed convolution sums at
 * most (C_in / groups) * kH * kW products plus the bias; the test computes sum|terms| per element
 * exactly, as the reference transposed convolution of |x| and |w| plus |b|. The activations are
 * at most 1-Lipschitz (leaky relu, elu and hard sigmoid slopes are drawn in [0, 1)), so the bound
 * carries through them. CT_RTOL covers the rounding of both results to fp32 and the device's
 * exp/tanh (OpenCL allows 3 and 5 ulp, hence 8 ulp). */
#define CT_RTOL (8 * FLT_EPSILON)

typedef struct ct_case {
    sv_conv_transpose_params p;
    int rank;
    int64_t x_dims[4], w_dims[4], y_dims[4];
    int has_bias;
} ct_case;

/* Most products an output sums: every input channel of its group times every tap. */
static long terms_of(const ct_case *c) {
    long terms = (long)(c->x_dims[1] / c->p.groups);
    for (int i = 2; i < c->rank; i++)
        terms *= (long)c->w_dims[i];
    return terms;
}

/* Output size of one axis with output_padding 0 (may be < 1 when the pads crop everything). */
static int64_t natural_size(int64_t n, int64_t k, int s, int d, int pb, int pe) {
    return (int64_t)s * (n - 1) + (int64_t)d * (k - 1) + 1 - pb - pe;
}

/* Draws a valid case: odd and even sizes, batch 1..3, 1..3 groups or depthwise (with a channel
 * multiplier of 1 or 2), kernel 1..5, stride and dilation 1..3, asymmetric pads 0..3, output
 * padding below max(stride, dilation) or, one axis in four, anything in 0..3, and one axis in
 * four an explicit output size (output_padding is then ignored). */
static ct_case random_case(test_rng *rng, int spatial_dims, sv_activation_kind act) {
    ct_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_transpose_params_default(spatial_dims);
    c.p.activation = test_lipschitz_activation(rng, act);
    c.rank = spatial_dims + 2;
    const int depthwise = test_int(rng, 0, 3) == 0;
    const int groups = depthwise ? test_int(rng, 1, 6) : test_int(rng, 1, 3);
    const int in_per_group = depthwise ? 1 : test_int(rng, 1, 4);
    const int out_per_group = depthwise ? test_int(rng, 1, 2) : test_int(rng, 1, 9);
    c.p.groups = groups;
    c.x_dims[0] = test_int(rng, 1, 3);
    c.x_dims[1] = groups * in_per_group;
    c.w_dims[0] = groups * in_per_group;
    c.w_dims[1] = out_per_group;
    c.has_bias = test_int(rng, 0, 1);
    for (int i = 0; i < spatial_dims; i++) {
        const int k = test_int(rng, 1, 5), s = test_int(rng, 1, 3), d = test_int(rng, 1, 3);
        const int pb = test_int(rng, 0, 3), pe = test_int(rng, 0, 3);
        const int wide_padding = test_int(rng, 0, 3) == 0;
        const int op = wide_padding ? test_int(rng, 0, 3) : test_int(rng, 0, (s > d ? s : d) - 1);
        const int explicit_size = test_int(rng, 0, 3) == 0;
        int n = test_int(rng, 1, spatial_dims == 1 ? 24 : 9);
        /* grow the input until the pads leave an output */
        while (!explicit_size && natural_size(n, k, s, d, pb, pe) + op < 1)
            n++;
        c.p.stride[i] = s;
        c.p.dilation[i] = d;
        c.p.pad_begin[i] = pb;
        c.p.pad_end[i] = pe;
        c.p.output_padding[i] = op;
        if (explicit_size) {
            const int64_t natural = natural_size(n, k, s, d, pb, pe);
            c.p.output_size[i] = (natural > 1 ? natural : 1) + test_int(rng, 0, s);
        }
        c.x_dims[2 + i] = n;
        c.w_dims[2 + i] = k;
    }
    const int64_t bias_len = (int64_t)groups * out_per_group;
    sv_message msg;
    sv_status st = sv_conv_transpose_output_shape(&c.p, c.rank, c.x_dims, c.w_dims,
                                                  c.has_bias ? &bias_len : NULL, c.y_dims, &msg);
    ck_assert_msg(st == SV_OK, "generated case rejected: %s", msg.text);
    return c;
}

static void describe(const ct_case *c, char *buf, size_t size) {
    const sv_conv_transpose_params *p = &c->p;
    char x[96], w[96], y[96];
    test_format_dims(x, sizeof x, c->rank, c->x_dims);
    test_format_dims(w, sizeof w, c->rank, c->w_dims);
    test_format_dims(y, sizeof y, c->rank, c->y_dims);
    snprintf(buf, size,
             "conv_transpose%dd x[%s] w[%s] y[%s] stride %d,%d dil %d,%d pad %d,%d/%d,%d "
             "out_pad %d,%d out_size %lld,%lld groups %d act %d (alpha %g beta %g) bias %d",
             p->spatial_dims, x, w, y, p->stride[0], p->stride[1], p->dilation[0], p->dilation[1],
             p->pad_begin[0], p->pad_begin[1], p->pad_end[0], p->pad_end[1], p->output_padding[0],
             p->output_padding[1], (long long)p->output_size[0], (long long)p->output_size[1],
             p->groups, (int)p->activation.kind, (double)p->activation.alpha,
             (double)p->activation.beta, c->has_bias);
}

/* The algorithms every device comparison runs, each forced through the parameters. */
static const sv_conv_transpose_algorithm algorithms[] = {SV_CONV_TRANSPOSE_GATHER,
                                                         SV_CONV_TRANSPOSE_GEMM};
static const char *const algorithm_names[] = {"gather", "GEMM + col2im"};

/* The GEMM algorithm's workspace in sv_conv_transpose. */
#define DEFAULT_WORKSPACE_BYTES ((uint64_t)256 << 20)

/* Runs the case on ctx with a GEMM workspace of at most workspace_bytes; returns the downloaded
 * output (caller frees). */
static float *run_case_in(sv_context *ctx, const ct_case *c, const sv_conv_transpose_params *p,
                          float *x, float *w, float *b, uint64_t workspace_bytes) {
    const int64_t bias_dims[1] = {c->y_dims[1]};
    sv_tensor *xt = test_tensor_from(ctx, x, c->rank, c->x_dims);
    sv_tensor *wt = test_tensor_from(ctx, w, c->rank, c->w_dims);
    sv_tensor *bt = b ? test_tensor_from(ctx, b, 1, bias_dims) : NULL;
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->y_dims);
    sv_status st = sv_conv_transpose_with_workspace(ctx, p, xt, wt, bt, yt, workspace_bytes);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt);
    sv_tensor_release(wt);
    sv_tensor_release(bt);
    sv_tensor_release(yt);
    return y;
}

/* Runs the case on ctx as sv_conv_transpose does. */
static float *run_case(sv_context *ctx, const ct_case *c, const sv_conv_transpose_params *p,
                       float *x, float *w, float *b) {
    return run_case_in(ctx, c, p, x, w, b, DEFAULT_WORKSPACE_BYTES);
}

/* Inputs and weights uniform in [-1, 1). */
static float *random_array(test_rng *rng, size_t n) {
    return test_random_array(rng, n, -1.0f, 1.0f);
}

/* Compares the device, with every algorithm, with the reference on one case, element by element;
 * the GEMM algorithm's workspace holds at most workspace_bytes. */
static void check_case_in(sv_context *dev, sv_context *ref, const ct_case *c, test_rng *rng,
                          uint64_t workspace_bytes) {
    const size_t nx = (size_t)test_count(c->rank, c->x_dims),
                 nw = (size_t)test_count(c->rank, c->w_dims);
    const size_t ny = (size_t)test_count(c->rank, c->y_dims), nb = (size_t)c->y_dims[1];
    float *x = random_array(rng, nx), *w = random_array(rng, nw), *b = random_array(rng, nb);
    float *ax = test_absolute_copy(x, nx), *aw = test_absolute_copy(w, nw),
          *ab = test_absolute_copy(b, nb);

    float *r = run_case(ref, c, &c->p, x, w, c->has_bias ? b : NULL);
    sv_conv_transpose_params plain = c->p;
    plain.activation.kind = SV_ACT_NONE;
    float *magnitude = run_case(ref, c, &plain, ax, aw, c->has_bias ? ab : NULL);

    /* GEMM + col2im sums each output's products in two stages, the gather kernel in one: the
     * bound holds for any order */
    const double gamma = test_summation_gamma(TEST_UNIT_ROUNDOFF, terms_of(c) + 1);
    for (int a = 0; a < TEST_COUNT_OF(algorithms); a++) {
        sv_conv_transpose_params forced = c->p;
        forced.algorithm = algorithms[a];
        float *y = run_case_in(dev, c, &forced, x, w, c->has_bias ? b : NULL, workspace_bytes);
        char what[640];
        describe(c, what, sizeof what);
        snprintf(what + strlen(what), sizeof what - strlen(what), " algorithm %s",
                 algorithm_names[a]);
        test_assert_summation(y, r, magnitude, ny, gamma, CT_RTOL, what);
        free(y);
    }
    free(x), free(w), free(b), free(ax), free(aw), free(ab), free(r), free(magnitude);
}

static void check_case(sv_context *dev, sv_context *ref, const ct_case *c, test_rng *rng) {
    check_case_in(dev, ref, c, rng, DEFAULT_WORKSPACE_BYTES);
}

enum { CASES_PER_ACTIVATION = 6, ACTIVATIONS = SV_ACT_HARD_SIGMOID + 1 };

/* Loop index i: spatial dims (i / ACTIVATIONS + 1) and activation (i % ACTIVATIONS), with a few
 * random shapes each. */
START_TEST(test_random_sweep_matches_reference) {
    const int spatial_dims = _i / ACTIVATIONS + 1;
    const sv_activation_kind act = (sv_activation_kind)(_i % ACTIVATIONS);
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int k = 0; k < CASES_PER_ACTIVATION; k++) {
        test_rng rng = test_rng_for((uint64_t)(_i * 100 + k));
        ct_case c = random_case(&rng, spatial_dims, act);
        check_case(dev, ref, &c, &rng);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Layers of realistic size: a DCGAN-style 2-D upsampling (32 -> 16 channels, 4x4, stride 2,
 * pad 1, 33x33 -> 66x66, batch 2, ReLU) and a long 1-D one (stride 3, dilation 2, 2 groups,
 * 4505 outputs). Both planes exceed the reference's 4096-output chunk, and the 2-D one covers
 * many work-groups and long reductions. */
START_TEST(test_large_layers_match_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for(7777);
    ct_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_transpose_params_default(2);
    c.p.activation.kind = SV_ACT_RELU;
    for (int i = 0; i < 2; i++) {
        c.p.stride[i] = 2;
        c.p.pad_begin[i] = c.p.pad_end[i] = 1;
    }
    c.rank = 4;
    const int64_t x2[4] = {2, 32, 33, 33}, w2[4] = {32, 16, 4, 4}, y2[4] = {2, 16, 66, 66};
    memcpy(c.x_dims, x2, sizeof x2);
    memcpy(c.w_dims, w2, sizeof w2);
    memcpy(c.y_dims, y2, sizeof y2);
    c.has_bias = 1;
    check_case(dev, ref, &c, &rng);

    memset(&c, 0, sizeof c);
    c.p = sv_conv_transpose_params_default(1);
    c.p.stride[0] = 3;
    c.p.dilation[0] = 2;
    c.p.groups = 2;
    c.p.pad_begin[0] = 2;
    c.p.output_padding[0] = 1;
    c.rank = 3;
    /* 3 * 1499 + 2 * 4 + 1 - 2 + 1 = 4505 */
    const int64_t x1[3] = {2, 6, 1500}, w1[3] = {6, 5, 5}, y1[3] = {2, 10, 4505};
    memcpy(c.x_dims, x1, sizeof x1);
    memcpy(c.w_dims, w1, sizeof w1);
    memcpy(c.y_dims, y1, sizeof y1);
    check_case(dev, ref, &c, &rng);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- fixed shapes: where the GEMM's column layout and col2im's tap arithmetic are easiest to get
 * wrong, each with bias and an activation, on both algorithms. */
typedef struct fixed_shape {
    const char *name;
    int spatial_dims;
    int64_t x_dims[4], w_dims[4];
    int groups, stride[2], dilation[2], pad_begin[2], pad_end[2], output_padding[2];
} fixed_shape;

static const fixed_shape fixed_shapes[] = {
    {"2-D, batch 3, 2 groups, stride 3 > kernel 2, dilation 2, output_padding, odd sizes",
     2,
     {3, 16, 7, 5},
     {16, 5, 2, 2},
     2,
     {3, 3},
     {2, 1},
     {1, 0},
     {0, 2},
     {2, 1}},
    {"2-D, depthwise with a channel multiplier of 3, kernel 5, stride 2, asymmetric pads",
     2,
     {3, 4, 6, 9},
     {4, 3, 5, 5},
     4,
     {2, 2},
     {1, 1},
     {2, 0},
     {1, 3},
     {1, 0}},
    {"1-D, batch 3, 3 groups, stride 4 > kernel 3, dilation 3, output_padding 3",
     1,
     {3, 24, 11},
     {24, 6, 3},
     3,
     {4},
     {3},
     {0},
     {2},
     {3}},
    {"1-D, kernel 1, stride 2: every other output only has the bias",
     1,
     {3, 8, 13},
     {8, 16, 1},
     1,
     {2},
     {1},
     {1},
     {0},
     {1}},
    {"2-D, 1x1 kernel, stride 1: the GEMM alone",
     2,
     {3, 8, 5, 7},
     {8, 16, 1, 1},
     1,
     {1, 1},
     {1, 1},
     {0, 0},
     {0, 0},
     {0, 0}},
};

static ct_case fixed_case(int index) {
    const fixed_shape *f = &fixed_shapes[index];
    ct_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_transpose_params_default(f->spatial_dims);
    for (int i = 0; i < f->spatial_dims; i++) {
        c.p.stride[i] = f->stride[i];
        c.p.dilation[i] = f->dilation[i];
        c.p.pad_begin[i] = f->pad_begin[i];
        c.p.pad_end[i] = f->pad_end[i];
        c.p.output_padding[i] = f->output_padding[i];
    }
    c.p.groups = f->groups;
    c.p.activation.kind = index % 2 ? SV_ACT_RELU : SV_ACT_LEAKY_RELU;
    c.p.activation.alpha = 0.25f;
    c.rank = f->spatial_dims + 2;
    memcpy(c.x_dims, f->x_dims, sizeof c.x_dims);
    memcpy(c.w_dims, f->w_dims, sizeof c.w_dims);
    c.has_bias = 1;
    const int64_t bias_len = c.w_dims[1] * c.p.groups;
    sv_message msg;
    ck_assert_msg(sv_conv_transpose_output_shape(&c.p, c.rank, c.x_dims, c.w_dims, &bias_len,
                                                 c.y_dims, &msg) == SV_OK,
                  "%s: %s", f->name, msg.text);
    return c;
}

/* Bytes of the GEMM's columns for one image: C_out * kernel taps rows of input-plane columns. */
static uint64_t image_column_bytes(const ct_case *c) {
    uint64_t n = (uint64_t)c->y_dims[1] * sizeof(float);
    for (int i = 2; i < c->rank; i++)
        n *= (uint64_t)(c->w_dims[i] * c->x_dims[i]);
    return n;
}

START_TEST(test_fixed_shapes_match_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for((uint64_t)(9000 + _i));
    const ct_case c = fixed_case(_i);
    check_case(dev, ref, &c, &rng);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* A workspace for two of the three images, then for exactly one: the GEMM runs in chunks of 2 + 1
 * and of 1 + 1 + 1 images, each chunk's columns reusing the buffer; the results must not change. */
START_TEST(test_gemm_in_chunks_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for((uint64_t)(9100 + _i));
    const ct_case c = fixed_case(_i);
    ck_assert_int_eq(c.x_dims[0], 3);
    const uint64_t image = image_column_bytes(&c);
    check_case_in(dev, ref, &c, &rng, 2 * image + sizeof(float));
    check_case_in(dev, ref, &c, &rng, image);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* A workspace smaller than one image's columns: the GEMM declines with the sizes, the automatic
 * choice never picks it. */
START_TEST(test_gemm_without_room_is_unsupported) {
    sv_context *ctx = test_context(NULL);
    ct_case c = fixed_case(0);
    c.p.algorithm = SV_CONV_TRANSPOSE_GEMM;
    sv_tensor *x = test_tensor_poisoned(ctx, c.rank, c.x_dims);
    sv_tensor *w = test_tensor_poisoned(ctx, c.rank, c.w_dims);
    sv_tensor *y = test_tensor_poisoned(ctx, c.rank, c.y_dims);
    const uint64_t image = image_column_bytes(&c);
    TEST_ASSERT_STATUS(sv_conv_transpose_with_workspace(ctx, &c.p, x, w, NULL, y, image - 1),
                       SV_UNSUPPORTED, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "columns for one image"));
    sv_tensor_release(x), sv_tensor_release(w), sv_tensor_release(y);
    sv_context_release(ctx);
}
END_TEST

/* The automatic rule: GEMM + col2im from 16 rows (C_out/g * taps) and 8 input channels per group
 * on; an algorithm asked for is kept; columns beyond the workspace fall back to gather. */
START_TEST(test_automatic_choice) {
    sv_context *ctx = test_context(NULL);
    sv_conv_transpose_params p = sv_conv_transpose_params_default(2);
    p.groups = 2;
    const int64_t x[4] = {1, 16, 9, 9};
    const int64_t w_large[4] = {16, 4, 2, 2}, w_few_rows[4] = {16, 5, 3, 1};
    const int64_t x_shallow[4] = {1, 14, 9, 9}, w_shallow[4] = {14, 4, 2, 2};
    const int64_t x_huge[4] = {1, 16, 4096, 4096}, w_huge[4] = {16, 64, 2, 2};
    ck_assert_int_eq(sv_conv_transpose_algorithm_of(ctx, &p, x, w_large), SV_CONV_TRANSPOSE_GEMM);
    ck_assert_int_eq(sv_conv_transpose_algorithm_of(ctx, &p, x, w_few_rows),
                     SV_CONV_TRANSPOSE_GATHER);
    ck_assert_int_eq(sv_conv_transpose_algorithm_of(ctx, &p, x_shallow, w_shallow),
                     SV_CONV_TRANSPOSE_GATHER);
    /* 128 x 4 rows of 2^24 columns: 32 GiB */
    ck_assert_int_eq(sv_conv_transpose_algorithm_of(ctx, &p, x_huge, w_huge),
                     SV_CONV_TRANSPOSE_GATHER);
    p.algorithm = SV_CONV_TRANSPOSE_GATHER;
    ck_assert_int_eq(sv_conv_transpose_algorithm_of(ctx, &p, x, w_large), SV_CONV_TRANSPOSE_GATHER);
    p.algorithm = SV_CONV_TRANSPOSE_GEMM;
    ck_assert_int_eq(sv_conv_transpose_algorithm_of(ctx, &p, x_shallow, w_shallow),
                     SV_CONV_TRANSPOSE_GEMM);
    ck_assert_str_eq(sv_conv_transpose_algorithm_label(SV_CONV_TRANSPOSE_GEMM),
                     "CLBlast SGEMM + col2im");
    ck_assert_str_eq(sv_conv_transpose_algorithm_label(SV_CONV_TRANSPOSE_GATHER),
                     "direct (gather)");
    sv_context_release(ctx);
}
END_TEST

/* --- the adjoint identity: with the same stride, dilation, pads and groups, a convolution with
 * weight w [C_out, C_in / g, k] maps [N, C_in, H] to [N, C_out, H_out], and the transposed
 * convolution with the same tensor w, read as [C_in' = C_out, C_out' / g = C_in / g, k], maps
 * [N, C_out, H_out] back to [N, C_in, H'], where H' = H once output_padding restores the
 * (H + pads - dilated kernel) mod stride positions the convolution's floor dropped (or
 * output_size = H says so). Then <conv(x), y> = <x, conv_transpose(y)> exactly; in fp32 each
 * side is off by at most gamma_T * S, S = sum over all (x, w, y) triples of |x w y| = <conv(|x|,
 * |w|), |y|> (T: the terms per output of that side), plus the double-precision dot products'
 * own error, gamma_len(double) * S per side (with a factor 2 for the fp32 error they carry). */
typedef struct adjoint_case {
    sv_conv_params conv;
    sv_conv_transpose_params transpose;
    int rank;
    int64_t x_dims[4], w_dims[4], y_dims[4];
} adjoint_case;

static adjoint_case random_adjoint_case(test_rng *rng, int spatial_dims, int long_axis) {
    adjoint_case a;
    memset(&a, 0, sizeof a);
    a.conv = sv_conv_params_default(spatial_dims);
    a.transpose = sv_conv_transpose_params_default(spatial_dims);
    a.rank = spatial_dims + 2;
    const int depthwise = test_int(rng, 0, 3) == 0;
    const int groups = depthwise ? test_int(rng, 1, 5) : test_int(rng, 1, 3);
    const int in_per_group = depthwise ? 1 : test_int(rng, 1, 4);
    const int out_per_group = test_int(rng, 1, 6);
    a.conv.groups = a.transpose.groups = groups;
    a.x_dims[0] = test_int(rng, 1, 3);
    a.x_dims[1] = groups * in_per_group;
    a.w_dims[0] = groups * out_per_group;
    a.w_dims[1] = in_per_group;
    const int use_output_size = test_int(rng, 0, 1);
    for (int i = 0; i < spatial_dims; i++) {
        const int k = test_int(rng, 1, 5), s = test_int(rng, 1, 3), d = test_int(rng, 1, 3);
        const int pb = test_int(rng, 0, 3), pe = test_int(rng, 0, 3);
        int n =
            long_axis ? test_int(rng, 4500, 5000) : test_int(rng, 1, spatial_dims == 1 ? 30 : 12);
        while (d * (k - 1) + 1 > n + pb + pe)
            n++;
        a.conv.stride[i] = a.transpose.stride[i] = s;
        a.conv.dilation[i] = a.transpose.dilation[i] = d;
        a.conv.pad_begin[i] = a.transpose.pad_begin[i] = pb;
        a.conv.pad_end[i] = a.transpose.pad_end[i] = pe;
        /* the positions conv's floor division left out, which the transpose must give back */
        a.transpose.output_padding[i] = (n + pb + pe - (d * (k - 1) + 1)) % s;
        if (use_output_size)
            a.transpose.output_size[i] = n;
        a.x_dims[2 + i] = n;
        a.w_dims[2 + i] = k;
    }
    sv_message msg;
    sv_status st = sv_conv_output_shape(&a.conv, a.rank, a.x_dims, a.w_dims, NULL, a.y_dims, &msg);
    ck_assert_msg(st == SV_OK, "generated conv rejected: %s", msg.text);
    int64_t back[4];
    st = sv_conv_transpose_output_shape(&a.transpose, a.rank, a.y_dims, a.w_dims, NULL, back, &msg);
    ck_assert_msg(st == SV_OK, "generated transpose rejected: %s", msg.text);
    ck_assert_msg(memcmp(back, a.x_dims, sizeof(int64_t) * (size_t)a.rank) == 0,
                  "transpose of the conv output does not give the conv input shape");
    return a;
}

static float *run_conv(sv_context *ctx, const adjoint_case *a, float *x, float *w) {
    sv_tensor *xt = test_tensor_from(ctx, x, a->rank, a->x_dims);
    sv_tensor *wt = test_tensor_from(ctx, w, a->rank, a->w_dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, a->rank, a->y_dims);
    TEST_ASSERT_STATUS(sv_conv(ctx, &a->conv, xt, wt, NULL, yt), SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt), sv_tensor_release(wt), sv_tensor_release(yt);
    return y;
}

static float *run_transpose(sv_context *ctx, const adjoint_case *a, float *y, float *w) {
    sv_tensor *yt = test_tensor_from(ctx, y, a->rank, a->y_dims);
    sv_tensor *wt = test_tensor_from(ctx, w, a->rank, a->w_dims);
    sv_tensor *xt = test_tensor_poisoned(ctx, a->rank, a->x_dims);
    TEST_ASSERT_STATUS(sv_conv_transpose(ctx, &a->transpose, yt, wt, NULL, xt), SV_OK, ctx);
    float *x = test_download(xt);
    sv_tensor_release(xt), sv_tensor_release(wt), sv_tensor_release(yt);
    return x;
}

static double dot(const float *a, const float *b, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)a[i] * (double)b[i];
    return sum;
}

static void check_adjoint(sv_context *ctx, sv_context *ref, const adjoint_case *a, test_rng *rng,
                          const char *where) {
    const size_t nx = (size_t)test_count(a->rank, a->x_dims),
                 nw = (size_t)test_count(a->rank, a->w_dims),
                 ny = (size_t)test_count(a->rank, a->y_dims);
    float *x = random_array(rng, nx), *w = random_array(rng, nw), *y = random_array(rng, ny);
    float *conv_x = run_conv(ctx, a, x, w);
    float *transpose_y = run_transpose(ctx, a, y, w);
    const double lhs = dot(conv_x, y, ny), rhs = dot(x, transpose_y, nx);

    float *ax = test_absolute_copy(x, nx), *aw = test_absolute_copy(w, nw),
          *ay = test_absolute_copy(y, ny);
    float *conv_abs = run_conv(ref, a, ax, aw);
    const double magnitude = dot(conv_abs, ay, ny);
    long taps = 1;
    for (int i = 2; i < a->rank; i++)
        taps *= (long)a->w_dims[i];
    const long conv_terms = (long)a->w_dims[1] * taps;                         /* C_in / g */
    const long transpose_terms = (long)(a->w_dims[0] / a->conv.groups) * taps; /* C_out / g */
    const double bound = (test_summation_gamma(TEST_UNIT_ROUNDOFF, conv_terms) +
                          test_summation_gamma(TEST_UNIT_ROUNDOFF, transpose_terms) +
                          2 * test_summation_gamma(TEST_DOUBLE_ROUNDOFF, (long)ny) +
                          2 * test_summation_gamma(TEST_DOUBLE_ROUNDOFF, (long)nx)) *
                         magnitude;
    char xs[96], ws[96], ys[96];
    test_format_dims(xs, sizeof xs, a->rank, a->x_dims);
    test_format_dims(ws, sizeof ws, a->rank, a->w_dims);
    test_format_dims(ys, sizeof ys, a->rank, a->y_dims);
    ck_assert_msg(fabs(lhs - rhs) <= bound,
                  "%s: <conv(x), y> = %.12g but <x, conv_transpose(y)> = %.12g (bound %.3g) for "
                  "x[%s] w[%s] y[%s] stride %d,%d dil %d,%d pad %d,%d/%d,%d out_pad %d,%d "
                  "out_size %lld,%lld groups %d",
                  where, lhs, rhs, bound, xs, ws, ys, a->conv.stride[0], a->conv.stride[1],
                  a->conv.dilation[0], a->conv.dilation[1], a->conv.pad_begin[0],
                  a->conv.pad_begin[1], a->conv.pad_end[0], a->conv.pad_end[1],
                  a->transpose.output_padding[0], a->transpose.output_padding[1],
                  (long long)a->transpose.output_size[0], (long long)a->transpose.output_size[1],
                  a->conv.groups);
    free(x), free(w), free(y), free(conv_x), free(transpose_y), free(ax), free(aw), free(ay);
    free(conv_abs);
}

enum { ADJOINT_CASES = 8 };

/* Loop index i: spatial dims (i / 2 + 1) on the reference (i even) or the device (i odd); the
 * last case of each 1-D run has a long axis, past the reference's chunk. */
START_TEST(test_adjoint_of_conv) {
    const int spatial_dims = _i / 2 + 1;
    const char *spec = test_spec(_i % 2);
    sv_context *ctx = test_context(spec), *ref = test_context("ref");
    for (int k = 0; k < ADJOINT_CASES; k++) {
        test_rng rng = test_rng_for((uint64_t)(5000 + _i * 100 + k));
        const int long_axis = spatial_dims == 1 && k == ADJOINT_CASES - 1;
        adjoint_case a = random_adjoint_case(&rng, spatial_dims, long_axis);
        check_adjoint(ctx, ref, &a, &rng, test_spec_name(spec));
    }
    sv_context_release(ctx);
    sv_context_release(ref);
}
END_TEST

/* --- worked examples. Every input and weight is a small integer, so every sum is an integer
 * below 2^24, exact in fp32 in any order: the outputs are compared with ==.
 *
 * 1-D, x = [1, 2, 3], w = [1, 1, 1], stride 2: input i lands on full positions 2i, 2i+1, 2i+2:
 *   position  0  1  2    3  4    5  6
 *   x[0]      1  1  1
 *   x[1]            2    2  2
 *   x[2]                    3    3  3
 *   sum       1  1  3    2  5    3  3
 * Pads (1, 2) keep positions 1..4 = [1, 3, 2, 5]; output_padding 1 then appends position 5 (3);
 * with a bias of 10: [11, 13, 12, 15, 13]. With no pads, output_padding 1 (or output_size 8)
 * appends position 7, which no input reaches: 0. Pads (3, 4) leave 7 - 7 = 0 positions and
 * output_padding 1 brings back position 3: [2].
 * Dilation 2, w = [1, 2], stride 1: x[i] lands on i (times 1) and i + 2 (times 2):
 *   [1, 2, 3 + 2, 4, 6] = [1, 2, 5, 4, 6].
 * 2-D, x = [[1, 2], [3, 4]], w = [[1, 0], [0, 1]]: stride 2 places each x on the diagonal of its
 * own 2x2 block; stride 1 overlaps them: y[i][j] = x[i][j] + x[i-1][j-1].
 * Groups 2 (depthwise), x = [[1, 2], [3, 4]] (two channels), w = [[[1, 1]], [[1, -1]]]: channel
 * 0 gives [1, 1+2, 2] = [1, 3, 2], channel 1 gives [3, -3+4, -4] = [3, 1, -4]. The same tensors
 * read as one group (w: 2 input channels x 1 output channel) sum the two: [4, 4, -2], and ReLU
 * makes that [4, 4, 0]. A depthwise multiplier of 2 (groups 1, C_in 1, w = [[2], [-1]] as
 * [1, 2, 1]) on x = [1, 2] gives the channels [2, 4] and [-1, -2].
 * The ONNX backend tests' cases (all-ones weights with two identical output channels, listed
 * once) follow the same rule; their values are those of the ONNX test data. */
typedef struct worked_example {
    const char *name;
    int spatial_dims;
    int64_t x_dims[4], w_dims[4], y_dims[4];
    const float *x, *w, *b;
    int stride[2], dilation[2], pad_begin[2], pad_end[2], output_padding[2];
    int64_t output_size[2];
    int groups;
    sv_activation_kind act;
    size_t expected_len; /* the expected values repeat with this period */
    const float *expected;
} worked_example;

static const float ones[18] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static const float x123[3] = {1, 2, 3};
static const float ramp9[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
static const float bias10[1] = {10};
static const float x1234[4] = {1, 2, 3, 4};
static const float w1001[4] = {1, 0, 0, 1};
static const float w12[2] = {1, 2};
static const float w11_1m1[4] = {1, 1, 1, -1};
static const float w2m1[2] = {2, -1};
/* test_convtranspose_pad and test_convtranspose_output_shape: the same [1, 2, 10, 8] output, one
 * channel listed */
static const float onnx_10x8[80] = {
    0, 0, 1, 1, 3,  2, 2,  0, 0, 0, 1, 1, 3,  2, 2,  0, 0, 0, 1, 1, 3, 2, 2, 0,  3, 3,  7,
    4, 9, 5, 5, 0,  3, 3,  7, 4, 9, 5, 5, 0,  3, 3,  7, 4, 9, 5, 5, 0, 6, 6, 13, 7, 15, 8,
    8, 0, 6, 6, 13, 7, 15, 8, 8, 0, 6, 6, 13, 7, 15, 8, 8, 0, 0, 0, 0, 0, 0, 0,  0, 0};

static const worked_example worked[] = {
    {"1-D stride 2",
     1,
     {1, 1, 3},
     {1, 1, 3},
     {1, 1, 7},
     x123,
     ones,
     NULL,
     {2},
     {1},
     {0},
     {0},
     {0},
     {0},
     1,
     SV_ACT_NONE,
     7,
     (const float[]){1, 1, 3, 2, 5, 3, 3}},
    {"1-D stride 2, pads (1, 2), output_padding 1, bias 10",
     1,
     {1, 1, 3},
     {1, 1, 3},
     {1, 1, 5},
     x123,
     ones,
     bias10,
     {2},
     {1},
     {1},
     {2},
     {1},
     {0},
     1,
     SV_ACT_NONE,
     5,
     (const float[]){11, 13, 12, 15, 13}},
    {"1-D stride 2, output_padding 1",
     1,
     {1, 1, 3},
     {1, 1, 3},
     {1, 1, 8},
     x123,
     ones,
     NULL,
     {2},
     {1},
     {0},
     {0},
     {1},
     {0},
     1,
     SV_ACT_NONE,
     8,
     (const float[]){1, 1, 3, 2, 5, 3, 3, 0}},
    {"1-D stride 2, output_size 8",
     1,
     {1, 1, 3},
     {1, 1, 3},
     {1, 1, 8},
     x123,
     ones,
     NULL,
     {2},
     {1},
     {0},
     {0},
     {0},
     {8},
     1,
     SV_ACT_NONE,
     8,
     (const float[]){1, 1, 3, 2, 5, 3, 3, 0}},
    {"1-D stride 2, pads (3, 4) crop everything, output_padding 1",
     1,
     {1, 1, 3},
     {1, 1, 3},
     {1, 1, 1},
     x123,
     ones,
     NULL,
     {2},
     {1},
     {3},
     {4},
     {1},
     {0},
     1,
     SV_ACT_NONE,
     1,
     (const float[]){2}},
    {"1-D dilation 2",
     1,
     {1, 1, 3},
     {1, 1, 2},
     {1, 1, 5},
     x123,
     w12,
     NULL,
     {1},
     {2},
     {0},
     {0},
     {0},
     {0},
     1,
     SV_ACT_NONE,
     5,
     (const float[]){1, 2, 5, 4, 6}},
    {"2-D stride 2",
     2,
     {1, 1, 2, 2},
     {1, 1, 2, 2},
     {1, 1, 4, 4},
     x1234,
     w1001,
     NULL,
     {2, 2},
     {1, 1},
     {0, 0},
     {0, 0},
     {0, 0},
     {0, 0},
     1,
     SV_ACT_NONE,
     16,
     (const float[]){1, 0, 2, 0, 0, 1, 0, 2, 3, 0, 4, 0, 0, 3, 0, 4}},
    {"2-D stride 1",
     2,
     {1, 1, 2, 2},
     {1, 1, 2, 2},
     {1, 1, 3, 3},
     x1234,
     w1001,
     NULL,
     {1, 1},
     {1, 1},
     {0, 0},
     {0, 0},
     {0, 0},
     {0, 0},
     1,
     SV_ACT_NONE,
     9,
     (const float[]){1, 2, 0, 3, 5, 2, 0, 3, 4}},
    {"1-D depthwise, 2 groups",
     1,
     {1, 2, 2},
     {2, 1, 2},
     {1, 2, 3},
     x1234,
     w11_1m1,
     NULL,
     {1},
     {1},
     {0},
     {0},
     {0},
     {0},
     2,
     SV_ACT_NONE,
     6,
     (const float[]){1, 3, 2, 3, 1, -4}},
    {"1-D one group, 2 input channels",
     1,
     {1, 2, 2},
     {2, 1, 2},
     {1, 1, 3},
     x1234,
     w11_1m1,
     NULL,
     {1},
     {1},
     {0},
     {0},
     {0},
     {0},
     1,
     SV_ACT_NONE,
     3,
     (const float[]){4, 4, -2}},
    {"1-D one group, ReLU",
     1,
     {1, 2, 2},
     {2, 1, 2},
     {1, 1, 3},
     x1234,
     w11_1m1,
     NULL,
     {1},
     {1},
     {0},
     {0},
     {0},
     {0},
     1,
     SV_ACT_RELU,
     3,
     (const float[]){4, 4, 0}},
    {"1-D channel multiplier 2",
     1,
     {1, 1, 2},
     {1, 2, 1},
     {1, 2, 2},
     x1234,
     w2m1,
     NULL,
     {1},
     {1},
     {0},
     {0},
     {0},
     {0},
     1,
     SV_ACT_NONE,
     4,
     (const float[]){2, 4, -1, -2}},
    {"ONNX test_convtranspose_1d",
     1,
     {1, 1, 3},
     {1, 2, 3},
     {1, 2, 5},
     ramp9,
     ones,
     NULL,
     {1},
     {1},
     {0},
     {0},
     {0},
     {0},
     1,
     SV_ACT_NONE,
     5,
     (const float[]){0, 1, 3, 3, 2}},
    {"ONNX test_convtranspose",
     2,
     {1, 1, 3, 3},
     {1, 2, 3, 3},
     {1, 2, 5, 5},
     ramp9,
     ones,
     NULL,
     {1, 1},
     {1, 1},
     {0, 0},
     {0, 0},
     {0, 0},
     {0, 0},
     1,
     SV_ACT_NONE,
     25,
     (const float[]){0,  1,  3, 3,  2,  3,  8,  15, 12, 7,  9,  21, 36,
                     27, 15, 9, 20, 33, 24, 13, 6,  13, 21, 15, 8}},
    {"ONNX test_convtranspose_dilations",
     2,
     {1, 1, 3, 3},
     {1, 1, 2, 2},
     {1, 1, 5, 5},
     (const float[]){3, 8, 1, 9, 5, 7, 3, 2, 6},
     (const float[]){7, 2, 1, 9},
     NULL,
     {1, 1},
     {2, 2},
     {0, 0},
     {0, 0},
     {0, 0},
     {0, 0},
     1,
     SV_ACT_NONE,
     25,
     (const float[]){21, 56, 13, 16, 2,  63, 35, 67, 10, 14, 24, 22, 76,
                     76, 21, 9,  5,  88, 45, 63, 3,  2,  33, 18, 54}},
    {"ONNX test_convtranspose_pads",
     2,
     {1, 1, 3, 3},
     {1, 2, 3, 3},
     {1, 2, 7, 3},
     ramp9,
     ones,
     NULL,
     {3, 2},
     {1, 1},
     {1, 2},
     {1, 2},
     {0, 0},
     {0, 0},
     1,
     SV_ACT_NONE,
     21,
     (const float[]){1, 1, 3, 1, 1, 3, 7, 4, 9, 7, 4, 9, 7, 4, 9, 13, 7, 15, 13, 7, 15}},
    {"ONNX test_convtranspose_pad (output_padding)",
     2,
     {1, 1, 3, 3},
     {1, 2, 3, 3},
     {1, 2, 10, 8},
     ramp9,
     ones,
     NULL,
     {3, 2},
     {1, 1},
     {0, 0},
     {0, 0},
     {1, 1},
     {0, 0},
     1,
     SV_ACT_NONE,
     80,
     onnx_10x8},
    {"ONNX test_convtranspose_output_shape",
     2,
     {1, 1, 3, 3},
     {1, 2, 3, 3},
     {1, 2, 10, 8},
     ramp9,
     ones,
     NULL,
     {3, 2},
     {1, 1},
     {0, 0},
     {0, 0},
     {0, 0},
     {10, 8},
     1,
     SV_ACT_NONE,
     80,
     onnx_10x8},
    {"ONNX test_convtranspose_autopad_same (SAME_UPPER: pads (0, 1))",
     2,
     {1, 1, 3, 3},
     {1, 2, 3, 3},
     {1, 2, 6, 6},
     ramp9,
     ones,
     NULL,
     {2, 2},
     {1, 1},
     {0, 0},
     {1, 1},
     {0, 0},
     {0, 0},
     1,
     SV_ACT_NONE,
     36,
     (const float[]){0, 0, 1, 1, 3, 2, 0, 0, 1,  1,  3,  2,  3, 3, 8,  5, 12, 7,
                     3, 3, 7, 4, 9, 5, 9, 9, 20, 11, 24, 13, 6, 6, 13, 7, 15, 8}},
};

static void check_worked(const char *spec, int index) {
    const worked_example *e = &worked[index];
    sv_context *ctx = test_context(spec);
    ct_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_transpose_params_default(e->spatial_dims);
    for (int i = 0; i < e->spatial_dims; i++) {
        c.p.stride[i] = e->stride[i];
        c.p.dilation[i] = e->dilation[i];
        c.p.pad_begin[i] = e->pad_begin[i];
        c.p.pad_end[i] = e->pad_end[i];
        c.p.output_padding[i] = e->output_padding[i];
        c.p.output_size[i] = e->output_size[i];
    }
    c.p.groups = e->groups;
    c.p.activation.kind = e->act;
    c.rank = e->spatial_dims + 2;
    memcpy(c.x_dims, e->x_dims, sizeof e->x_dims);
    memcpy(c.w_dims, e->w_dims, sizeof e->w_dims);
    memcpy(c.y_dims, e->y_dims, sizeof e->y_dims);
    const int64_t bias_len = e->y_dims[1];
    int64_t shape[4];
    sv_message msg = {{0}};
    ck_assert_msg(sv_conv_transpose_output_shape(&c.p, c.rank, c.x_dims, c.w_dims,
                                                 e->b ? &bias_len : NULL, shape, &msg) == SV_OK,
                  "%s: %s", e->name, msg.text);
    for (int i = 0; i < c.rank; i++)
        ck_assert_msg(shape[i] == e->y_dims[i], "%s: output dim %d is %lld, want %lld", e->name, i,
                      (long long)shape[i], (long long)e->y_dims[i]);
    /* the API takes non-const host data; the tables are copied */
    const size_t nx = (size_t)test_count(c.rank, c.x_dims),
                 nw = (size_t)test_count(c.rank, c.w_dims);
    float x[16], w[32], b[8];
    ck_assert(nx <= 16 && nw <= 32 && (size_t)bias_len <= 8);
    memcpy(x, e->x, nx * sizeof *x);
    memcpy(w, e->w, nw * sizeof *w);
    if (e->b)
        memcpy(b, e->b, (size_t)bias_len * sizeof *b);
    const size_t ny = (size_t)test_count(c.rank, c.y_dims);
    for (int a = 0; a < TEST_COUNT_OF(algorithms); a++) { /* the reference ignores them */
        c.p.algorithm = algorithms[a];
        float *y = run_case(ctx, &c, &c.p, x, w, e->b ? b : NULL);
        for (size_t i = 0; i < ny; i++)
            ck_assert_msg(y[i] == e->expected[i % e->expected_len],
                          "%s on %s (%s), element %zu: got %g, want %g", e->name,
                          test_spec_name(spec), algorithm_names[a], i, (double)y[i],
                          (double)e->expected[i % e->expected_len]);
        free(y);
    }
    sv_context_release(ctx);
}

START_TEST(test_worked_examples_on_reference) {
    check_worked("ref", _i);
}
END_TEST

START_TEST(test_worked_examples_on_device) {
    check_worked(NULL, _i);
}
END_TEST

/* --- invalid parameters: each row breaks one rule of a valid 2-D case (x [1,4,5,5],
 * w [4,3,3,3], groups 2, stride 2, pads 1: y [1,6,9,9], bias 6) and names the status and a
 * phrase the message must contain. */
static const test_invalid_row invalid_rows[] = {
    {"channels not divisible by groups", SV_INVALID_ARGUMENT, "divisible by groups (3)"},
    {"zero groups", SV_INVALID_ARGUMENT, "groups = 0"},
    {"negative groups", SV_INVALID_ARGUMENT, "groups = -2"},
    {"weight input channels", SV_SHAPE_MISMATCH, "has 6 input channels, the input has 4"},
    {"bias length", SV_SHAPE_MISMATCH, "bias has 5 elements"},
    {"zero stride", SV_INVALID_ARGUMENT, "stride (0)"},
    {"negative stride", SV_INVALID_ARGUMENT, "stride (-1)"},
    {"zero dilation", SV_INVALID_ARGUMENT, "dilation (0)"},
    {"negative pad begin", SV_INVALID_ARGUMENT, "padding (-1, 1)"},
    {"negative pad end", SV_INVALID_ARGUMENT, "padding (1, -2)"},
    {"negative output_padding", SV_INVALID_ARGUMENT, "output_padding (-1)"},
    {"pads larger than the full output", SV_INVALID_ARGUMENT, "leaves no output"},
    {"output_size below the size with output_padding 0", SV_INVALID_ARGUMENT,
     "output_size 8 of spatial axis 1 is smaller than 9"},
    {"negative output_size", SV_INVALID_ARGUMENT, "output_size (-1)"},
    {"output_size beyond INT_MAX", SV_INVALID_ARGUMENT, "output size 2147483648"},
    {"3-D transposed convolution", SV_UNSUPPORTED, "3 spatial dimensions"},
    {"rank does not match spatial dims", SV_SHAPE_MISMATCH, "expected 3"},
    {"unknown activation", SV_INVALID_ARGUMENT, "unknown activation"},
    {"clip min > max", SV_INVALID_ARGUMENT, "min <= max"},
    {"leaky relu alpha not finite", SV_INVALID_ARGUMENT, "alpha must be finite"},
    {"zero-sized input dimension", SV_INVALID_ARGUMENT, "outside 1.."},
    {"zero-sized kernel dimension", SV_INVALID_ARGUMENT, "outside 1.."},
    {"unknown algorithm", SV_INVALID_ARGUMENT, "unknown algorithm 3"},
};

/* Breaks the rule of invalid_rows[row] in a valid case. */
static void break_rule(int row, sv_conv_transpose_params *p, int *rank, int64_t *x, int64_t *w,
                       int64_t *bias) {
    switch (row) {
    case 0: p->groups = 3; break;
    case 1: p->groups = 0; break;
    case 2: p->groups = -2; break;
    case 3: w[0] = 6; break;
    case 4: *bias = 5; break;
    case 5: p->stride[1] = 0; break;
    case 6: p->stride[0] = -1; break;
    case 7: p->dilation[0] = 0; break;
    case 8: p->pad_begin[0] = -1; break;
    case 9: p->pad_end[1] = -2; break;
    case 10: p->output_padding[1] = -1; break;
    case 11: p->pad_begin[0] = 6, p->pad_end[0] = 5; break; /* full output 11 */
    case 12: p->output_size[1] = 8; break;
    case 13: p->output_size[0] = -1; break;
    case 14: p->output_size[0] = (int64_t)INT_MAX + 1; break;
    case 15: p->spatial_dims = 3; break;
    case 16: p->spatial_dims = 1, *rank = 4; break;
    case 17: p->activation.kind = (sv_activation_kind)42; break;
    case 18:
        p->activation.kind = SV_ACT_CLIP, p->activation.alpha = 1, p->activation.beta = -1;
        break;
    case 19: p->activation.kind = SV_ACT_LEAKY_RELU, p->activation.alpha = INFINITY; break;
    case 20: x[2] = 0; break;
    case 21: w[3] = 0; break;
    case 22: p->algorithm = SV_CONV_TRANSPOSE_ALGORITHM_END; break;
    default: ck_abort_msg("no rule %d", row);
    }
}

static sv_conv_transpose_params valid_params(void) {
    sv_conv_transpose_params p = sv_conv_transpose_params_default(2);
    p.groups = 2;
    for (int i = 0; i < 2; i++) {
        p.stride[i] = 2;
        p.pad_begin[i] = p.pad_end[i] = 1;
    }
    return p;
}

START_TEST(test_invalid_parameters_are_rejected) {
    const test_invalid_row *row = &invalid_rows[_i];
    sv_conv_transpose_params p = valid_params();
    int rank = 4;
    int64_t x[4] = {1, 4, 5, 5}, w[4] = {4, 3, 3, 3}, bias = 6, y[4];
    sv_message msg = {{0}};
    ck_assert_int_eq(sv_conv_transpose_output_shape(&p, rank, x, w, &bias, y, &msg), SV_OK);
    const int64_t want[4] = {1, 6, 9, 9};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(y[i], want[i]);
    break_rule(_i, &p, &rank, x, w, &bias);
    test_poison_dims(y, 4);
    sv_status st = sv_conv_transpose_output_shape(&p, rank, x, w, &bias, y, &msg);
    test_assert_shape_rejected(row, st, msg.text, y, 4);
    ck_assert_msg(strstr(msg.text, "conv_transpose") != NULL, "%s: message '%s' names no op",
                  row->what, msg.text);
}
END_TEST

/* The defaults: stride and dilation 1, no pads, no output padding or size, one group, no
 * activation. */
START_TEST(test_default_parameters) {
    for (int sd = 1; sd <= 2; sd++) {
        sv_conv_transpose_params p = sv_conv_transpose_params_default(sd);
        ck_assert_int_eq(p.spatial_dims, sd);
        ck_assert_int_eq(p.groups, 1);
        ck_assert_int_eq(p.activation.kind, SV_ACT_NONE);
        for (int i = 0; i < 2; i++) {
            ck_assert_int_eq(p.stride[i], 1);
            ck_assert_int_eq(p.dilation[i], 1);
            ck_assert_int_eq(p.pad_begin[i], 0);
            ck_assert_int_eq(p.pad_end[i], 0);
            ck_assert_int_eq(p.output_padding[i], 0);
            ck_assert_int_eq(p.output_size[i], 0);
        }
    }
}
END_TEST

/* The same validation guards sv_conv_transpose on a context, and the message reaches
 * sv_last_error. */
START_TEST(test_invalid_call_reports_through_context) {
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t x_dims[4] = {1, 4, 5, 5}, w_dims[4] = {4, 3, 3, 3}, y_dims[4] = {1, 6, 9, 9};
        const int64_t wrong_y[4] = {1, 6, 10, 10}, w3_dims[3] = {4, 3, 3}, b2_dims[2] = {2, 3};
        sv_tensor *x, *w, *w3, *b2, *y, *y_wrong, *foreign;
        ck_assert_int_eq(sv_tensor_create(ctx, 4, x_dims, &x), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 4, w_dims, &w), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 3, w3_dims, &w3), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 2, b2_dims, &b2), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 4, y_dims, &y), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 4, wrong_y, &y_wrong), SV_OK);
        ck_assert_int_eq(sv_tensor_create(other, 4, y_dims, &foreign), SV_OK);
        sv_conv_transpose_params p = valid_params();
        p.groups = 3;
        TEST_ASSERT_STATUS(sv_conv_transpose(ctx, &p, x, w, NULL, y), SV_INVALID_ARGUMENT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "divisible by groups"));
        p.groups = 2;
        TEST_ASSERT_STATUS(sv_conv_transpose(ctx, &p, x, w, NULL, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        TEST_ASSERT_STATUS(sv_conv_transpose(ctx, &p, x, w, NULL, y_wrong), SV_SHAPE_MISMATCH, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "expected [1, 6, 9, 9]"));
        TEST_ASSERT_STATUS(sv_conv_transpose(ctx, &p, x, w3, NULL, y), SV_SHAPE_MISMATCH, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "weight has rank 3"));
        TEST_ASSERT_STATUS(sv_conv_transpose(ctx, &p, x, w, b2, y), SV_SHAPE_MISMATCH, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "bias must have rank 1"));
        TEST_ASSERT_STATUS(sv_conv_transpose(ctx, &p, x, w, NULL, NULL), SV_INVALID_ARGUMENT, ctx);
        TEST_ASSERT_STATUS(sv_conv_transpose(ctx, &p, x, w, NULL, foreign), SV_WRONG_CONTEXT, ctx);
        TEST_ASSERT_STATUS(sv_conv_transpose(ctx, NULL, x, w, NULL, y), SV_INVALID_ARGUMENT, ctx);
        sv_tensor_release(x), sv_tensor_release(w), sv_tensor_release(w3);
        sv_tensor_release(b2), sv_tensor_release(y), sv_tensor_release(y_wrong);
        sv_tensor_release(foreign);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

static Suite *conv_transpose_suite(void) {
    Suite *s = suite_create("conv_transpose");
    TCase *sweep = test_add_case(s, "random sweep against ref", 600);
    tcase_add_loop_test(sweep, test_random_sweep_matches_reference, 0, 2 * ACTIVATIONS);
    tcase_add_test(sweep, test_large_layers_match_reference);
    TCase *fixed = test_add_case(s, "fixed shapes on both algorithms", 300);
    tcase_add_loop_test(fixed, test_fixed_shapes_match_reference, 0, TEST_COUNT_OF(fixed_shapes));
    tcase_add_loop_test(fixed, test_gemm_in_chunks_matches_reference, 0,
                        TEST_COUNT_OF(fixed_shapes));
    tcase_add_test(fixed, test_gemm_without_room_is_unsupported);
    tcase_add_test(fixed, test_automatic_choice);
    TCase *adjoint = test_add_case(s, "adjoint of conv", 300);
    tcase_add_loop_test(adjoint, test_adjoint_of_conv, 0, 4);
    TCase *known = test_add_case(s, "worked examples", 120);
    tcase_add_loop_test(known, test_worked_examples_on_reference, 0, TEST_COUNT_OF(worked));
    tcase_add_loop_test(known, test_worked_examples_on_device, 0, TEST_COUNT_OF(worked));
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_invalid_parameters_are_rejected, 0,
                        TEST_COUNT_OF(invalid_rows));
    tcase_add_test(invalid, test_default_parameters);
    tcase_add_test(invalid, test_invalid_call_reports_through_context);
    return s;
}

TEST_MAIN(conv_transpose_suite)
