/* Batch normalisation and local response normalisation: the default OpenCL device against the
 * reference path on randomized sweeps over ranks, activations and window sizes; hand-computed
 * examples; invalid parameters against the errors they must give. */
#include "test_support.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- tolerances ---------------------------------------------------------------------------
 * u = 2^-24; OpenCL 1.2 allows rsqrt 2 ulp, pow 16 ulp and division 2.5 ulp, an ulp being at
 * most 2u of the value.
 *
 * Batch norm: the device's (x - mean) * (scale * rsqrt(var + eps)) + bias rounds x - mean (u),
 * var + eps (u, halved by the square root), rsqrt (4u), the two products (2u), the sum with the
 * bias (u) and, for hard sigmoid, its affine step (u): 9.5u, rounded up to BN_ERR = 10u, of
 * magnitude = |scale| (|x| + |mean|) / sqrt(var + eps) + |bias|, which bounds every intermediate.
 * The activations are at most 1-Lipschitz (slopes drawn in [0, 1)), so the bound carries through
 * them; BN_RTOL covers the rounding of both results to fp32 and the device's exp/tanh inside the
 * activation (3 and 5 ulp), as in test_conv.c.
 *
 * LRN: the device's base b = bias + (alpha / size) * S, S the sum of W <= size squares, rounds
 * alpha / size, each square and the product (3u) and sums W positive terms (gamma_W, Higham,
 * "Accuracy and Stability of Numerical Algorithms", 2nd ed., section 4.2), then adds the bias
 * (u): relative error rel_b = |alpha / size| S (gamma_W + 3u) / |b| + u. pow(b, beta) multiplies
 * that by |beta| and adds its own 32u; the division adds 5u and the reference's rounding u, so
 * |y - r| <= (|beta| rel_b + LRN_FIXED_ERR) |r| with LRN_FIXED_ERR = 38u, rounded up to 40u. */
#define BN_ERR (10 * TEST_UNIT_ROUNDOFF)
#define BN_RTOL (8 * FLT_EPSILON)
#define LRN_FIXED_ERR (40 * TEST_UNIT_ROUNDOFF)

/* Random dims [N, C, spatial...]: batch 2..3, channels 1..max_c, spatial sizes shrinking with the
 * rank. */
static void random_dims(test_rng *rng, int rank, int max_c, int64_t *dims) {
    const int max_spatial = rank == 3 ? 9 : rank == 4 ? 6 : 4;
    dims[0] = test_int(rng, 2, 3);
    dims[1] = test_int(rng, 1, max_c);
    for (int i = 2; i < rank; i++)
        dims[i] = test_int(rng, 1, max_spatial);
}

/* ============================== batch normalisation ====================================== */

typedef struct bn_case {
    sv_batch_norm_params p;
    int rank;
    int64_t dims[SV_MAX_RANK];
} bn_case;

/* The input and the per-channel parameters of one case. */
typedef struct bn_data {
    float *x, *scale, *bias, *mean, *var;
} bn_data;

/* Runs the case on ctx; returns the downloaded output (caller frees). */
static float *bn_run(sv_context *ctx, const bn_case *c, const bn_data *d) {
    const int64_t channels = c->dims[1];
    sv_tensor *xt = test_tensor_from(ctx, d->x, c->rank, c->dims);
    sv_tensor *st = test_tensor_from(ctx, d->scale, 1, &channels);
    sv_tensor *bt = test_tensor_from(ctx, d->bias, 1, &channels);
    sv_tensor *mt = test_tensor_from(ctx, d->mean, 1, &channels);
    sv_tensor *vt = test_tensor_from(ctx, d->var, 1, &channels);
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->dims);
    TEST_ASSERT_STATUS(sv_batch_norm(ctx, &c->p, xt, st, bt, mt, vt, yt), SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt), sv_tensor_release(st), sv_tensor_release(bt);
    sv_tensor_release(mt), sv_tensor_release(vt), sv_tensor_release(yt);
    return y;
}

/* Per-element bound BN_ERR * magnitude + BN_RTOL * |r| (see the tolerances above). */
static double *bn_bounds(const bn_case *c, const bn_data *d, const float *r) {
    const size_t n = (size_t)test_count(c->rank, c->dims);
    const int64_t channels = c->dims[1], spatial = (int64_t)n / (c->dims[0] * channels);
    double *bound = malloc(n * sizeof *bound);
    ck_assert_ptr_nonnull(bound);
    for (size_t i = 0; i < n; i++) {
        const int64_t ch = ((int64_t)i / spatial) % channels;
        const double magnitude = fabs((double)d->scale[ch]) *
                                     (fabs((double)d->x[i]) + fabs((double)d->mean[ch])) /
                                     sqrt((double)d->var[ch] + (double)c->p.epsilon) +
                                 fabs((double)d->bias[ch]);
        bound[i] = BN_ERR * magnitude + BN_RTOL * fabs((double)r[i]);
    }
    return bound;
}

static void bn_describe(const bn_case *c, char *buf, size_t size) {
    char dims[96];
    test_format_dims(dims, sizeof dims, c->rank, c->dims);
    snprintf(buf, size, "batch_norm x[%s] epsilon %g act %d (alpha %g beta %g)", dims,
             (double)c->p.epsilon, (int)c->p.activation.kind, (double)c->p.activation.alpha,
             (double)c->p.activation.beta);
}

enum { BN_CASES_PER_COMBINATION = 3, ACTIVATIONS = SV_ACT_HARD_SIGMOID + 1 };

/* Loop index: rank - 2. Every activation, with epsilon 1e-5 (the ONNX default), a random one in
 * [1e-3, 0.5] and 0; variances in [0.05, 2] so that var + epsilon > 0. */
START_TEST(test_batch_norm_sweep_matches_reference) {
    const int rank = _i + 2;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int act = 0; act < ACTIVATIONS; act++)
        for (int k = 0; k < BN_CASES_PER_COMBINATION; k++) {
            test_rng rng = test_rng_for((uint64_t)((rank * ACTIVATIONS + act) * 10 + k));
            bn_case c;
            memset(&c, 0, sizeof c);
            c.rank = rank;
            random_dims(&rng, rank, 9, c.dims);
            c.p.epsilon = k == 0 ? 1e-5f : k == 1 ? test_float(&rng, 1e-3f, 0.5f) : 0.0f;
            c.p.activation = test_lipschitz_activation(&rng, (sv_activation_kind)act);
            const size_t n = (size_t)test_count(rank, c.dims), nc = (size_t)c.dims[1];
            bn_data d = {malloc(n * sizeof(float)), malloc(nc * sizeof(float)),
                         malloc(nc * sizeof(float)), malloc(nc * sizeof(float)),
                         malloc(nc * sizeof(float))};
            ck_assert(d.x && d.scale && d.bias && d.mean && d.var);
            test_fill_uniform(&rng, d.x, n, -2.0f, 2.0f);
            test_fill_uniform(&rng, d.scale, nc, -2.0f, 2.0f);
            test_fill_uniform(&rng, d.bias, nc, -1.0f, 1.0f);
            test_fill_uniform(&rng, d.mean, nc, -1.0f, 1.0f);
            test_fill_uniform(&rng, d.var, nc, 0.05f, 2.0f);
            float *y = bn_run(dev, &c, &d), *r = bn_run(ref, &c, &d);
            double *bound = bn_bounds(&c, &d, r);
            char what[256];
            bn_describe(&c, what, sizeof what);
            test_assert_bounded_specials(y, r, bound, n, what);
            free(y), free(r), free(bound);
            free(d.x), free(d.scale), free(d.bias), free(d.mean), free(d.var);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* By hand, x [1, 2, 2] = channel 0 {1, 3}, channel 1 {-2, 6}; scale {2, -1}, bias {0.5, 0},
 * mean {2, 2}, var {3.75, 15.75}, epsilon 0.25, so sqrt(var + epsilon) = {2, 4}:
 *   channel 0: 2 * (x - 2) / 2 + 0.5 = {-0.5, 1.5};  channel 1: -(x - 2) / 4 = {1, -1}.
 * The same as x [2, 2] (rank 2: channel = column) = {1, -2, 3, 6} gives {-0.5, 1, 1.5, -1}; with
 * var {4, 16} and epsilon 0 the results are unchanged; ReLU zeroes the negative ones. */
START_TEST(test_batch_norm_worked_example) {
    static float x3[4] = {1, 3, -2, 6}, x2[4] = {1, -2, 3, 6};
    static float scale[2] = {2, -1}, bias[2] = {0.5f, 0}, mean[2] = {2, 2};
    static float var[2] = {3.75f, 15.75f}, var_no_eps[2] = {4, 16};
    static const float want3[4] = {-0.5f, 1.5f, 1, -1}, want2[4] = {-0.5f, 1, 1.5f, -1};
    sv_context *ctx = test_context(test_spec(_i));
    for (int relu = 0; relu < 2; relu++)
        for (int form = 0; form < 3; form++) {
            bn_case c;
            memset(&c, 0, sizeof c);
            c.rank = form == 1 ? 2 : 3;
            const int64_t dims3[3] = {1, 2, 2}, dims2[2] = {2, 2};
            memcpy(c.dims, form == 1 ? dims2 : dims3, (size_t)c.rank * sizeof(int64_t));
            c.p.epsilon = form == 2 ? 0.0f : 0.25f;
            c.p.activation.kind = relu ? SV_ACT_RELU : SV_ACT_NONE;
            bn_data d = {form == 1 ? x2 : x3, scale, bias, mean, form == 2 ? var_no_eps : var};
            float *y = bn_run(ctx, &c, &d);
            float want[4];
            for (int i = 0; i < 4; i++) {
                const float v = form == 1 ? want2[i] : want3[i];
                want[i] = relu && v < 0 ? 0.0f : v;
            }
            char what[256];
            bn_describe(&c, what, sizeof what);
            /* small integers and halves through a few roundings and the rsqrt: a few ulp */
            test_assert_close(y, want, 4, 1e-7, 1e-6, what);
            free(y);
        }
    sv_context_release(ctx);
}
END_TEST

/* var + epsilon <= 0 is data, not an error: IEEE arithmetic decides, on both paths. x [1, 3, 2]:
 * channel 0 has var -1 (NaN), channel 1 var 0 with epsilon 0 and x - mean = {0, 2} (0/0 = NaN,
 * 2/0 = +inf), channel 2 var 0 with scale -2, x {5, -1} and bias 1 (-inf, +inf). */
START_TEST(test_batch_norm_nonpositive_variance) {
    static float x[6] = {1, 3, 2, 4, 5, -1};
    static float scale[3] = {1, 1, -2}, bias[3] = {0, 0, 1}, mean[3] = {0, 2, 0},
                 var[3] = {-1, 0, 0};
    const float want[6] = {NAN, NAN, NAN, INFINITY, -INFINITY, INFINITY};
    const double no_bound[6] = {0};
    sv_context *ctx = test_context(test_spec(_i));
    bn_case c;
    memset(&c, 0, sizeof c);
    c.rank = 3;
    c.dims[0] = 1, c.dims[1] = 3, c.dims[2] = 2;
    bn_data d = {x, scale, bias, mean, var};
    float *y = bn_run(ctx, &c, &d);
    test_assert_bounded_specials(y, want, no_bound, 6, "batch_norm with var + epsilon <= 0");
    free(y);
    sv_context_release(ctx);
}
END_TEST

/* ================================ local response normalisation =========================== */

typedef struct lrn_case {
    sv_lrn_params p;
    int rank;
    int64_t dims[SV_MAX_RANK];
} lrn_case;

static float *lrn_run(sv_context *ctx, const lrn_case *c, float *x) {
    sv_tensor *xt = test_tensor_from(ctx, x, c->rank, c->dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->dims);
    TEST_ASSERT_STATUS(sv_lrn(ctx, &c->p, xt, yt), SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt);
    sv_tensor_release(yt);
    return y;
}

/* Per-element bound (|beta| rel_b + LRN_FIXED_ERR) |r| (see the tolerances above), with the
 * window's sum of squares S computed here in double. */
static double *lrn_bounds(const lrn_case *c, const float *x, const float *r) {
    const size_t n = (size_t)test_count(c->rank, c->dims);
    const int64_t channels = c->dims[1], spatial = (int64_t)n / (c->dims[0] * channels);
    const int64_t before = (c->p.size - 1) / 2, after = c->p.size / 2;
    const double k = fabs((double)c->p.alpha / c->p.size);
    double *bound = malloc(n * sizeof *bound);
    ck_assert_ptr_nonnull(bound);
    for (size_t i = 0; i < n; i++) {
        const int64_t plane = (int64_t)i / spatial, ch = plane % channels;
        const int64_t at0 = (int64_t)i - ch * spatial;
        double sum = 0.0;
        long terms = 0;
        for (int64_t j = ch - before; j <= ch + after; j++)
            if (j >= 0 && j < channels) {
                const double v = x[at0 + j * spatial];
                sum += v * v;
                terms++;
            }
        const double base = (double)c->p.bias + (double)c->p.alpha / c->p.size * sum;
        const double rel_b =
            k * sum * (test_summation_gamma(TEST_UNIT_ROUNDOFF, terms) + 3 * TEST_UNIT_ROUNDOFF) /
                fabs(base) +
            TEST_UNIT_ROUNDOFF;
        bound[i] = (fabs((double)c->p.beta) * rel_b + LRN_FIXED_ERR) * fabs((double)r[i]);
    }
    return bound;
}

static void lrn_describe(const lrn_case *c, char *buf, size_t size) {
    char dims[96];
    test_format_dims(dims, sizeof dims, c->rank, c->dims);
    snprintf(buf, size, "lrn x[%s] size %d alpha %g beta %g bias %g", dims, c->p.size,
             (double)c->p.alpha, (double)c->p.beta, (double)c->p.bias);
}

enum { LRN_SIZES = 8, LRN_CASES_PER_SIZE = 2 };

/* Loop index: rank - 3. Window sizes 1..7 (odd and even) and one larger than the channel count;
 * alpha either ONNX's default 1e-4 or in [0, 3], where the window matters; beta in [-1, 1.5] or
 * 0.75; bias in [0.5, 3]. */
START_TEST(test_lrn_sweep_matches_reference) {
    const int rank = _i + 3;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int s = 0; s < LRN_SIZES; s++)
        for (int k = 0; k < LRN_CASES_PER_SIZE; k++) {
            test_rng rng = test_rng_for((uint64_t)((rank * LRN_SIZES + s) * 10 + k) + 5000);
            lrn_case c;
            memset(&c, 0, sizeof c);
            c.rank = rank;
            random_dims(&rng, rank, 12, c.dims);
            c.p.size = s < 7 ? s + 1 : (int)c.dims[1] * 2 + test_int(&rng, 0, 1);
            c.p.alpha = k == 0 ? 1e-4f : test_float(&rng, 0.0f, 3.0f);
            c.p.beta = k == 0 ? 0.75f : test_float(&rng, -1.0f, 1.5f);
            c.p.bias = test_float(&rng, 0.5f, 3.0f);
            const size_t n = (size_t)test_count(rank, c.dims);
            float *x = test_random_array(&rng, n, -2.0f, 2.0f);
            float *y = lrn_run(dev, &c, x), *r = lrn_run(ref, &c, x);
            double *bound = lrn_bounds(&c, x, r);
            char what[256];
            lrn_describe(&c, what, sizeof what);
            test_assert_bounded_specials(y, r, bound, n, what);
            free(x), free(y), free(r), free(bound);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* By hand; the window of channel c is [c - floor((size-1)/2), c + ceil((size-1)/2)].
 *  x [1, 3, 2]: channel 0 {1, 3}, channel 1 {2, 2}, channel 2 {3, 1}; size 3, alpha 3 (so
 *    alpha / size = 1), beta 1, bias 1: position 0 sums 1+4, 1+4+9, 4+9, giving 1/6, 2/15, 3/14;
 *    position 1 sums 9+4, 9+4+1, 4+1, giving 3/14, 2/15, 1/6.
 *  x [1, 4, 1] = {1, 2, 3, 4}; size 2 (window [c, c+1]), alpha 2, beta 0.5, bias 0:
 *    1/sqrt(5), 2/sqrt(13), 3/sqrt(25), 4/sqrt(16) = 0.4472135955, 0.5547001962, 0.6, 1.
 *  The same x, size 4 (window [c-1, c+2]), alpha 4, beta 1, bias 1: sums 1+4+9, 1+4+9+16, 4+9+16,
 *    9+16, giving 1/15, 2/31, 3/30, 4/26. */
START_TEST(test_lrn_worked_examples) {
    static float x3[6] = {1, 3, 2, 2, 3, 1}, x4[4] = {1, 2, 3, 4};
    static const struct {
        int form; /* 0: x3, 1: x4 */
        sv_lrn_params p;
        float want[6];
    } examples[] = {
        {0, {3, 3, 1, 1}, {1.0f / 6, 3.0f / 14, 2.0f / 15, 2.0f / 15, 3.0f / 14, 1.0f / 6}},
        {1, {2, 2, 0.5f, 0}, {0.4472135955f, 0.5547001962f, 0.6f, 1}},
        {1, {4, 4, 1, 1}, {1.0f / 15, 2.0f / 31, 3.0f / 30, 4.0f / 26}},
    };
    sv_context *ctx = test_context(test_spec(_i));
    for (size_t e = 0; e < sizeof examples / sizeof examples[0]; e++) {
        lrn_case c;
        memset(&c, 0, sizeof c);
        c.p = examples[e].p;
        c.rank = 3;
        c.dims[0] = 1;
        c.dims[1] = examples[e].form ? 4 : 3;
        c.dims[2] = examples[e].form ? 1 : 2;
        float *y = lrn_run(ctx, &c, examples[e].form ? x4 : x3);
        char what[256];
        lrn_describe(&c, what, sizeof what);
        /* a short sum of small integers, a pow and a division: well within 1e-6 relative */
        test_assert_close(y, examples[e].want, (size_t)(c.dims[1] * c.dims[2]), 1e-7, 1e-6, what);
        free(y);
    }
    sv_context_release(ctx);
}
END_TEST

/* ================================ invalid parameters ===================================== */

/* Each row breaks one rule of a valid call: x [2, 3, 4, 4], parameters [3], epsilon 1e-5. */
static const test_invalid_row bn_invalid_rows[] = {
    {"negative epsilon", SV_INVALID_ARGUMENT, "epsilon = -0.001"},
    {"NaN epsilon", SV_INVALID_ARGUMENT, "must be finite and >= 0"},
    {"infinite epsilon", SV_INVALID_ARGUMENT, "epsilon = inf"},
    {"unknown activation", SV_INVALID_ARGUMENT, "unknown activation"},
    {"clip min > max", SV_INVALID_ARGUMENT, "min <= max"},
    {"rank-1 input", SV_SHAPE_MISMATCH, "rank 1, expected 2..5"},
    {"scale of the wrong length", SV_SHAPE_MISMATCH, "scale must have shape [3]"},
    {"bias of rank 2", SV_SHAPE_MISMATCH,
     "bias must have shape [3] (one value per channel), got rank 2"},
    {"mean of the wrong length", SV_SHAPE_MISMATCH, "mean must have shape [3]"},
    {"var of the wrong length", SV_SHAPE_MISMATCH, "var must have shape [3]"},
    {"output of another shape", SV_SHAPE_MISMATCH, "expected [2, 3, 4, 4]"},
    {"NULL parameters", SV_INVALID_ARGUMENT, "NULL parameters"},
    {"NULL var", SV_INVALID_ARGUMENT, "tensor argument 5 is NULL"},
    {"mean on another context", SV_WRONG_CONTEXT, "argument 4 was created on another context"},
};

START_TEST(test_batch_norm_invalid_parameters) {
    const test_invalid_row *row = &bn_invalid_rows[_i];
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t dims[4] = {2, 3, 4, 4}, other_dims[4] = {2, 3, 4, 5};
        const int64_t three = 3, four = 4, two = 2, six = 6, row_of_three[2] = {1, 3};
        sv_tensor *x = test_tensor_poisoned(ctx, 4, dims),
                  *x1 = test_tensor_poisoned(ctx, 1, &three);
        sv_tensor *per_channel[4];
        for (int i = 0; i < 4; i++)
            per_channel[i] = test_tensor_poisoned(ctx, 1, &three);
        sv_tensor *y = test_tensor_poisoned(ctx, 4, dims),
                  *y1 = test_tensor_poisoned(ctx, 1, &three);
        sv_batch_norm_params p = {1e-5f, {SV_ACT_NONE, 0, 0}};
        TEST_ASSERT_STATUS(sv_batch_norm(ctx, &p, x, per_channel[0], per_channel[1], per_channel[2],
                                         per_channel[3], y),
                           SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        sv_tensor *out = test_tensor_poisoned(ctx, 4, dims), *in = x, *made = NULL;
        const sv_tensor *args[4] = {per_channel[0], per_channel[1], per_channel[2], per_channel[3]};
        const sv_batch_norm_params *pp = &p;
        switch (_i) {
        case 0: p.epsilon = -1e-3f; break;
        case 1: p.epsilon = NAN; break;
        case 2: p.epsilon = INFINITY; break;
        case 3: p.activation.kind = (sv_activation_kind)42; break;
        case 4: p.activation = (sv_activation){SV_ACT_CLIP, 1, -1}; break;
        case 5: in = x1, sv_tensor_release(out), out = y1, y1 = NULL; break;
        case 6: args[0] = made = test_tensor_poisoned(ctx, 1, &four); break;
        case 7: args[1] = made = test_tensor_poisoned(ctx, 2, row_of_three); break;
        case 8: args[2] = made = test_tensor_poisoned(ctx, 1, &two); break;
        case 9: args[3] = made = test_tensor_poisoned(ctx, 1, &six); break;
        case 10: sv_tensor_release(out), out = test_tensor_poisoned(ctx, 4, other_dims); break;
        case 11: pp = NULL; break;
        case 12: args[3] = NULL; break;
        case 13: args[2] = made = test_tensor_poisoned(other, 1, &three); break;
        default: ck_abort_msg("no rule %d", _i);
        }
        const sv_status st = sv_batch_norm(ctx, pp, in, args[0], args[1], args[2], args[3], out);
        test_assert_call_rejected(row, ctx, test_spec(s), st, out);
        sv_tensor_release(made), sv_tensor_release(out), sv_tensor_release(y1);
        sv_tensor_release(y), sv_tensor_release(x), sv_tensor_release(x1);
        for (int i = 0; i < 4; i++)
            sv_tensor_release(per_channel[i]);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

/* Each row breaks one rule of a valid call: x [2, 5, 3, 3], size 3, alpha 1e-4, beta 0.75,
 * bias 1. */
static const test_invalid_row lrn_invalid_rows[] = {
    {"size 0", SV_INVALID_ARGUMENT, "size = 0, must be >= 1"},
    {"negative size", SV_INVALID_ARGUMENT, "size = -2"},
    {"NaN alpha", SV_INVALID_ARGUMENT, "must be finite"},
    {"infinite beta", SV_INVALID_ARGUMENT, "beta (inf)"},
    {"infinite bias", SV_INVALID_ARGUMENT, "bias (-inf)"},
    {"rank-2 input", SV_SHAPE_MISMATCH, "rank 2, expected 3..5"},
    {"output of another shape", SV_SHAPE_MISMATCH, "expected [2, 5, 3, 3]"},
    {"output is the input", SV_INVALID_ARGUMENT, "must not share storage"},
    {"output is a view of the input", SV_INVALID_ARGUMENT, "must not share storage"},
    {"NULL parameters", SV_INVALID_ARGUMENT, "NULL parameters"},
    {"NULL input", SV_INVALID_ARGUMENT, "tensor argument 1 is NULL"},
    {"output on another context", SV_WRONG_CONTEXT, "argument 2 was created on another context"},
};

START_TEST(test_lrn_invalid_parameters) {
    const test_invalid_row *row = &lrn_invalid_rows[_i];
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t dims[4] = {2, 5, 3, 3}, other_dims[4] = {2, 5, 3, 4}, flat[2] = {10, 9};
        sv_tensor *x = test_tensor_poisoned(ctx, 4, dims), *y = test_tensor_poisoned(ctx, 4, dims);
        sv_lrn_params p = {3, 1e-4f, 0.75f, 1.0f};
        TEST_ASSERT_STATUS(sv_lrn(ctx, &p, x, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        sv_tensor *in = x, *out = test_tensor_poisoned(ctx, 4, dims), *made = NULL;
        const sv_lrn_params *pp = &p;
        switch (_i) {
        case 0: p.size = 0; break;
        case 1: p.size = -2; break;
        case 2: p.alpha = NAN; break;
        case 3: p.beta = INFINITY; break;
        case 4: p.bias = -INFINITY; break;
        case 5:
            in = made = test_tensor_poisoned(ctx, 2, flat);
            sv_tensor_release(out), out = test_tensor_poisoned(ctx, 2, flat);
            break;
        case 6: sv_tensor_release(out), out = test_tensor_poisoned(ctx, 4, other_dims); break;
        case 7: in = out; break;
        case 8:
            ck_assert_int_eq(sv_tensor_reshape(out, 4, dims, &made), SV_OK);
            in = made;
            break;
        case 9: pp = NULL; break;
        case 10: in = NULL; break;
        case 11: sv_tensor_release(out), out = test_tensor_poisoned(other, 4, dims); break;
        default: ck_abort_msg("no rule %d", _i);
        }
        const sv_status st = sv_lrn(ctx, pp, in, out);
        test_assert_call_rejected(row, ctx, test_spec(s), st, out);
        sv_tensor_release(made), sv_tensor_release(out);
        sv_tensor_release(x), sv_tensor_release(y);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

static Suite *normalization_suite(void) {
    Suite *s = suite_create("normalization");
    TCase *sweep = test_add_case(s, "random sweep against ref", 300);
    tcase_add_loop_test(sweep, test_batch_norm_sweep_matches_reference, 0, 4);
    tcase_add_loop_test(sweep, test_lrn_sweep_matches_reference, 0, 3);
    TCase *known = test_add_case(s, "hand-computed", 120);
    tcase_add_loop_test(known, test_batch_norm_worked_example, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(known, test_batch_norm_nonpositive_variance, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(known, test_lrn_worked_examples, 0, TEST_SPEC_COUNT);
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_batch_norm_invalid_parameters, 0,
                        TEST_COUNT_OF(bn_invalid_rows));
    tcase_add_loop_test(invalid, test_lrn_invalid_parameters, 0, TEST_COUNT_OF(lrn_invalid_rows));
    return s;
}

TEST_MAIN(normalization_suite)
