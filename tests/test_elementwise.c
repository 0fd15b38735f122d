/* Element-wise operations: the default OpenCL device against the reference path on randomized
 * sweeps over every activation and every binary op with random broadcast patterns of ranks 1..5;
 * IEEE special values; hand-computed examples; broadcast shapes; copies between shapes and onto
 * views; invalid parameters against the errors they must give. */
#include "test_support.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- tolerances ---------------------------------------------------------------------------
 * Exact (compared with ==; for binary ops and copies the sign of a zero must match too, and a
 * NaN must meet a NaN):
 *  - add, sub, mul, div, prelu: the device rounds the one fp32 operation, the reference computes
 *    it in double and rounds to fp32. A double product of two floats is exact (48 <= 53 bits);
 *    for +, - and / the double result is rounded twice, which is innocuous when the wider format
 *    has at least 2p + 2 bits for p-bit operands (53 >= 2 * 24 + 2; S. Figueroa, "When is double
 *    rounding innocuous?", SIGNUM Newsletter 30(3), 1995): rounding the double result to float
 *    gives the correctly rounded float result, overflow to inf, nan and signed zeros included.
 *    The device's division is correctly rounded because the op builds it with
 *    -cl-fp32-correctly-rounded-divide-sqrt where the device offers it (without it, OpenCL
 *    allows 2.5 ulp and div would need that tolerance).
 *  - none, relu, leaky relu (one product), clip: the same argument, or no arithmetic at all.
 * Sigmoid, tanh, elu: |y - r| <= TRANSCENDENTAL_ATOL + TRANSCENDENTAL_RTOL * |r|. With
 * u = 2^-24 (an ulp is at most 2u relative): sigmoid on the device is 1 / (1 + exp(-x)) with
 * exp within 3 ulp (6u), the sum adding u, the division within 2.5 ulp (5u): 12u; tanh is
 * within 5 ulp (10u); elu is alpha * expm1(x) with expm1 within 3 ulp and one product: 7u (the
 * OpenCL 1.2 full-profile limits). The reference's own rounding adds u: at most 13u < 16u =
 * 8 FLT_EPSILON. Results below the normal range lose relative precision and may be flushed to
 * zero by devices without denormals; their absolute error stays below FLT_MIN.
 * Hard sigmoid: alpha * x + beta rounds up to twice on the device (product and sum, or once if
 * fused) and once in the reference; each rounding is at most u times a value no larger than
 * |alpha x| + |beta|, and the clamp does not increase errors: 3u (|alpha x| + |beta|); at an
 * infinite x the clamp gives exactly 0 or 1. The ulp limits above hold at infinite inputs too
 * (the OpenCL edge cases promise tanh(+-inf) = +-1 exactly, but pocl returns 0.99999994). */
#define TRANSCENDENTAL_RTOL (8 * FLT_EPSILON)
#define TRANSCENDENTAL_ATOL FLT_MIN

enum { ACTIVATIONS = SV_ACT_HARD_SIGMOID + 1, BINARY_OPS = SV_BINARY_PRELU + 1 };

static const char *const activation_names[ACTIVATIONS] = {
    "none", "relu", "leaky relu", "sigmoid", "tanh", "clip", "elu", "hard sigmoid"};
static const char *const binary_names[BINARY_OPS] = {"add", "sub", "mul", "div", "prelu"};

/* Largest |device - reference| allowed for the activation at input x with reference r; 0 where
 * the results must be equal. */
static double activation_tolerance(const sv_activation *act, float x, float r) {
    switch (act->kind) {
    case SV_ACT_SIGMOID:
    case SV_ACT_TANH:
    case SV_ACT_ELU: return TRANSCENDENTAL_ATOL + TRANSCENDENTAL_RTOL * fabs((double)r);
    case SV_ACT_HARD_SIGMOID:
        if (!isfinite(x))
            return 0.0;
        return TRANSCENDENTAL_ATOL +
               3 * TEST_UNIT_ROUNDOFF *
                   (fabs((double)act->alpha * (double)x) + fabs((double)act->beta));
    default: return 0.0;
    }
}

static int activation_matches(const sv_activation *act, float x, float y, float r) {
    if (isnan(r) || isnan(y))
        return isnan(r) && isnan(y);
    if (isinf(r) || isinf(y))
        return y == r;
    return fabs((double)y - (double)r) <= activation_tolerance(act, x, r);
}

/* A random shape: the first axis a batch of 1..3, the others sized so the tensor stays small,
 * odd and even sizes alike; ranks 1 and 2 reach several work-groups. */
static void random_shape(test_rng *rng, int rank, int64_t *dims) {
    static const int max_dim[SV_MAX_RANK + 1] = {0, 300, 40, 13, 9, 6};
    for (int i = 0; i < rank; i++)
        dims[i] = test_int(rng, 1, i == 0 && rank > 2 ? 3 : max_dim[rank]);
}

/* Replaces about one element in `period` with 0, -0, +-inf or nan. */
static void sprinkle_specials(test_rng *rng, float *data, size_t count, int period) {
    static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < count; i++)
        if (test_int(rng, 1, period) == 1)
            data[i] = specials[test_int(rng, 0, (int)(sizeof specials / sizeof specials[0]) - 1)];
}

/* ---------------------------------------------------------------------------------------------
 * Activations
 * ------------------------------------------------------------------------------------------- */
static float *run_activation(sv_context *ctx, const sv_activation *act, int rank,
                             const int64_t *dims, float *x) {
    sv_tensor *xt = test_tensor_from(ctx, x, rank, dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, rank, dims);
    TEST_ASSERT_STATUS(sv_activation_apply(ctx, act, xt, yt), SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt);
    sv_tensor_release(yt);
    return y;
}

/* Valid random parameters for the kind: leaky relu and elu slopes of either sign and above 1,
 * clip bounds anywhere in [-2, 3] (equal at times), hard sigmoid slopes of either sign. */
static sv_activation random_activation(test_rng *rng, sv_activation_kind kind) {
    sv_activation act = {kind, test_float(rng, -1.0f, 2.0f), test_float(rng, -1.0f, 1.0f)};
    if (kind == SV_ACT_CLIP) {
        act.alpha = test_float(rng, -2.0f, 1.0f);
        act.beta = test_int(rng, 0, 4) == 0 ? act.alpha : act.alpha + test_float(rng, 0.0f, 2.0f);
    }
    return act;
}

/* Compares every element of the device's output with the reference's. */
static void check_activation(const sv_activation *act, int rank, const int64_t *dims,
                             const float *x, const float *y, const float *r, const char *where) {
    const size_t n = (size_t)test_count(rank, dims);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (!activation_matches(act, x[i], y[i], r[i]) && !bad++)
            first = i;
    char shape[128];
    test_format_dims(shape, sizeof shape, rank, dims);
    ck_assert_msg(bad == 0,
                  "%s: %s (alpha %g, beta %g) on [%s]: %zu of %zu elements differ; first at %zu: "
                  "x %.9g, got %.9g, reference %.9g, tolerance %.3g",
                  where, activation_names[act->kind], (double)act->alpha, (double)act->beta, shape,
                  bad, n, first, (double)x[first], (double)y[first], (double)r[first],
                  activation_tolerance(act, x[first], r[first]));
}

enum { ACTIVATION_CASES = 12 };

/* Loop index: the activation kind; random ranks 1..5, shapes, parameters and input ranges. */
START_TEST(test_activation_sweep_matches_reference) {
    const sv_activation_kind kind = (sv_activation_kind)_i;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int k = 0; k < ACTIVATION_CASES; k++) {
        test_rng rng = test_rng_for((uint64_t)(_i * 100 + k));
        const int rank = k % SV_MAX_RANK + 1;
        int64_t dims[SV_MAX_RANK];
        random_shape(&rng, rank, dims);
        const sv_activation act = random_activation(&rng, kind);
        /* every other case reaches saturation, exp overflow and results below FLT_MIN */
        const float range = k % 2 ? 100.0f : 6.0f;
        float *x = test_random_array(&rng, (size_t)test_count(rank, dims), -range, range);
        float *y = run_activation(dev, &act, rank, dims, x);
        float *r = run_activation(ref, &act, rank, dims, x);
        check_activation(&act, rank, dims, x, y, r, "sweep");
        free(x), free(y), free(r);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Hand-computed activations of x = -2, -0.5, 0, 1.5 (decimal values from the definitions,
 * rounded to float; hard sigmoid 0.25 x + 0.5 is exact in binary). */
static const struct {
    sv_activation act;
    float expected[4];
} activation_examples[] = {
    {{SV_ACT_NONE, 0, 0}, {-2.0f, -0.5f, 0.0f, 1.5f}},
    {{SV_ACT_RELU, 0, 0}, {0.0f, 0.0f, 0.0f, 1.5f}},
    {{SV_ACT_LEAKY_RELU, 0.25f, 0}, {-0.5f, -0.125f, 0.0f, 1.5f}},
    {{SV_ACT_SIGMOID, 0, 0}, {0.11920292202f, 0.37754066880f, 0.5f, 0.81757447619f}},
    {{SV_ACT_TANH, 0, 0}, {-0.96402758008f, -0.46211715726f, 0.0f, 0.90514825364f}},
    {{SV_ACT_CLIP, -1.0f, 1.0f}, {-1.0f, -0.5f, 0.0f, 1.0f}},
    {{SV_ACT_ELU, 1.0f, 0}, {-0.86466471676f, -0.39346934029f, 0.0f, 1.5f}},
    {{SV_ACT_HARD_SIGMOID, 0.25f, 0.5f}, {0.0f, 0.375f, 0.5f, 0.875f}},
};

START_TEST(test_activation_examples) {
    const int64_t dims[1] = {4};
    float x[4] = {-2.0f, -0.5f, 0.0f, 1.5f};
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        for (size_t k = 0; k < sizeof activation_examples / sizeof activation_examples[0]; k++) {
            const sv_activation *act = &activation_examples[k].act;
            float *y = run_activation(ctx, act, 1, dims, x);
            check_activation(act, 1, dims, x, y, activation_examples[k].expected,
                             test_spec(s) ? "example on ref" : "example on device");
            free(y);
        }
        sv_context_release(ctx);
    }
}
END_TEST

/* Special inputs with hand-derived outputs (leaky relu 0.1, clip [-1, 2], elu 1.5, hard sigmoid
 * 0.2 x + 0.5), on both paths and compared between them. NaN must propagate where the definition
 * computes with x. Relu, clip and hard sigmoid are not checked at NaN: the reference's
 * comparisons give 0, NaN and NaN there, the prelude's fmax, fmin and clamp drop the NaN, and
 * NumPy (so ONNX) and PyTorch propagate it; that needs settling in the shared activation code. */
#define SPECIAL_INPUTS 9
static const float special_inputs[SPECIAL_INPUTS] = {0.0f,    -0.0f,    1.0f,      -1.0f, 100.0f,
                                                     -100.0f, INFINITY, -INFINITY, NAN};

static const struct {
    sv_activation act;
    int nan_defined;
    float expected[SPECIAL_INPUTS];
} special_activations[] = {
    {{SV_ACT_NONE, 0, 0}, 1, {0, -0.0f, 1, -1, 100, -100, INFINITY, -INFINITY, NAN}},
    {{SV_ACT_RELU, 0, 0}, 0, {0, 0, 1, 0, 100, 0, INFINITY, 0}},
    {{SV_ACT_LEAKY_RELU, 0.1f, 0}, 1, {0, -0.0f, 1, -0.1f, 100, -10.0f, INFINITY, -INFINITY, NAN}},
    /* sigmoid(-100) = 3.72e-44 is below the normal range */
    {{SV_ACT_SIGMOID, 0, 0},
     1,
     {0.5f, 0.5f, 0.73105857863f, 0.26894142137f, 1.0f, 3.7200760e-44f, 1.0f, 0.0f, NAN}},
    {{SV_ACT_TANH, 0, 0},
     1,
     {0, -0.0f, 0.76159415596f, -0.76159415596f, 1.0f, -1.0f, 1.0f, -1.0f, NAN}},
    {{SV_ACT_CLIP, -1.0f, 2.0f}, 0, {0, 0, 1, -1, 2, -1, 2, -1}},
    {{SV_ACT_ELU, 1.5f, 0}, 1, {0, -0.0f, 1, -0.94818083824f, 100, -1.5f, INFINITY, -1.5f, NAN}},
    {{SV_ACT_HARD_SIGMOID, 0.2f, 0.5f}, 0, {0.5f, 0.5f, 0.7f, 0.3f, 1.0f, 0.0f, 1.0f, 0.0f}},
};

START_TEST(test_activation_special_values) {
    const int64_t dims[1] = {SPECIAL_INPUTS};
    float x[SPECIAL_INPUTS];
    memcpy(x, special_inputs, sizeof x);
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (size_t k = 0; k < sizeof special_activations / sizeof special_activations[0]; k++) {
        const sv_activation *act = &special_activations[k].act;
        /* the NaN input is the last one: leave it out where NaN is not defined */
        const int64_t n[1] = {special_activations[k].nan_defined ? dims[0] : dims[0] - 1};
        float *y = run_activation(dev, act, 1, n, x);
        float *r = run_activation(ref, act, 1, n, x);
        check_activation(act, 1, n, x, r, special_activations[k].expected, "special on ref");
        check_activation(act, 1, n, x, y, special_activations[k].expected, "special on device");
        check_activation(act, 1, n, x, y, r, "special, device against ref");
        free(y), free(r);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Binary operations
 * ------------------------------------------------------------------------------------------- */
typedef struct binary_case {
    int a_rank, b_rank, y_rank;
    int64_t a_dims[SV_MAX_RANK], b_dims[SV_MAX_RANK], y_dims[SV_MAX_RANK];
} binary_case;

static float *run_binary(sv_context *ctx, sv_binary_op op, const binary_case *c, float *a,
                         float *b) {
    sv_tensor *at = test_tensor_from(ctx, a, c->a_rank, c->a_dims);
    sv_tensor *bt = test_tensor_from(ctx, b, c->b_rank, c->b_dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, c->y_rank, c->y_dims);
    TEST_ASSERT_STATUS(sv_binary(ctx, op, at, bt, yt), SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(at);
    sv_tensor_release(bt);
    sv_tensor_release(yt);
    return y;
}

/* Fills y_dims with the broadcast shape of the case's operands. */
static void finish_case(binary_case *c) {
    sv_message msg;
    sv_status st =
        sv_broadcast_shape(c->a_rank, c->a_dims, c->b_rank, c->b_dims, &c->y_rank, c->y_dims, &msg);
    ck_assert_msg(st == SV_OK, "generated case rejected: %s", msg.text);
}

/* Operands of an output of the given rank: one of them has the full rank, the other the full
 * rank or less (either way round); each of their axes is 1 with probability 1/3. */
static binary_case random_binary_case(test_rng *rng, int rank) {
    binary_case c;
    memset(&c, 0, sizeof c);
    int64_t full[SV_MAX_RANK];
    random_shape(rng, rank, full);
    const int shorter = test_int(rng, 1, rank);
    switch (test_int(rng, 0, 2)) {
    case 0: c.a_rank = rank, c.b_rank = rank; break;
    case 1: c.a_rank = rank, c.b_rank = shorter; break;
    default: c.a_rank = shorter, c.b_rank = rank; break;
    }
    for (int i = 0; i < c.a_rank; i++)
        c.a_dims[i] = test_int(rng, 0, 2) == 0 ? 1 : full[rank - c.a_rank + i];
    for (int i = 0; i < c.b_rank; i++)
        c.b_dims[i] = test_int(rng, 0, 2) == 0 ? 1 : full[rank - c.b_rank + i];
    finish_case(&c);
    return c;
}

/* The pattern that no axes can merge: a is 1 on every other axis and b on the rest, all output
 * axes of size 2..5, so the kernel sees `rank` separate axes of mixed sizes. b sometimes drops
 * its leading 1. */
static binary_case alternating_case(test_rng *rng, int rank) {
    binary_case c;
    memset(&c, 0, sizeof c);
    const int parity = test_int(rng, 0, 1);
    c.a_rank = c.b_rank = rank;
    for (int i = 0; i < rank; i++) {
        const int64_t d = test_int(rng, 2, 5);
        c.a_dims[i] = i % 2 == parity ? 1 : d;
        c.b_dims[i] = i % 2 == parity ? d : 1;
    }
    if (rank > 1 && c.b_dims[0] == 1 && test_int(rng, 0, 1)) {
        c.b_rank = rank - 1;
        memmove(c.b_dims, c.b_dims + 1, (size_t)c.b_rank * sizeof c.b_dims[0]);
    }
    finish_case(&c);
    return c;
}

static void check_binary(sv_binary_op op, const binary_case *c, const float *y, const float *r,
                         const char *where) {
    const size_t n = (size_t)test_count(c->y_rank, c->y_dims);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (!test_same_value(y[i], r[i]) && !bad++)
            first = i;
    if (bad == 0)
        return;
    char as[128], bs[128], ys[128];
    test_format_dims(as, sizeof as, c->a_rank, c->a_dims);
    test_format_dims(bs, sizeof bs, c->b_rank, c->b_dims);
    test_format_dims(ys, sizeof ys, c->y_rank, c->y_dims);
    ck_abort_msg("%s: %s a[%s] b[%s] -> y[%s]: %zu of %zu elements differ; first at %zu: got %.9g, "
                 "expected %.9g",
                 where, binary_names[op], as, bs, ys, bad, n, first, (double)y[first],
                 (double)r[first]);
}

static void check_binary_case(sv_context *dev, sv_context *ref, sv_binary_op op,
                              const binary_case *c, test_rng *rng, int with_specials) {
    const size_t na = (size_t)test_count(c->a_rank, c->a_dims),
                 nb = (size_t)test_count(c->b_rank, c->b_dims);
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    ck_assert(a && b);
    test_fill_uniform(rng, a, na, -4.0f, 4.0f);
    /* prelu slopes in [-1, 1); divisors anywhere in [-4, 4), near zero at times */
    test_fill_uniform(rng, b, nb, op == SV_BINARY_PRELU ? -1.0f : -4.0f,
                      op == SV_BINARY_PRELU ? 1.0f : 4.0f);
    if (with_specials) {
        sprinkle_specials(rng, a, na, 8);
        sprinkle_specials(rng, b, nb, 8);
    }
    float *y = run_binary(dev, op, c, a, b);
    float *r = run_binary(ref, op, c, a, b);
    check_binary(op, c, y, r, with_specials ? "sweep with specials" : "sweep");
    free(a), free(b), free(y), free(r);
}

enum { BINARY_CASES = 8 };

/* Loop index: op (i / SV_MAX_RANK) and output rank (i % SV_MAX_RANK + 1); random broadcast
 * patterns and one that keeps every axis apart, every other case with special values. */
START_TEST(test_binary_sweep_matches_reference) {
    const sv_binary_op op = (sv_binary_op)(_i / SV_MAX_RANK);
    const int rank = _i % SV_MAX_RANK + 1;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int k = 0; k < BINARY_CASES; k++) {
        test_rng rng = test_rng_for((uint64_t)(10000 + _i * 100 + k));
        const binary_case c =
            k == 0 ? alternating_case(&rng, rank) : random_binary_case(&rng, rank);
        check_binary_case(dev, ref, op, &c, &rng, k % 2);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Layer-sized operands: a per-channel [64, 1, 1] operand on a [2, 64, 56, 56] activation map (a
 * bias, a scale, PReLU slopes), a [2, 1, 56, 56] spatial mask, and same-shape operands, so that
 * many work-groups and the merged-axis paths run. */
START_TEST(test_binary_layer_sized) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    static const int64_t x_dims[4] = {2, 64, 56, 56}, channel[3] = {64, 1, 1},
                         mask[4] = {2, 1, 56, 56};
    for (int op = 0; op < BINARY_OPS; op++)
        for (int form = 0; form < 3; form++) {
            test_rng rng = test_rng_for((uint64_t)(20000 + op * 10 + form));
            binary_case c;
            memset(&c, 0, sizeof c);
            c.a_rank = 4;
            memcpy(c.a_dims, x_dims, sizeof x_dims);
            c.b_rank = form == 0 ? 3 : 4;
            memcpy(c.b_dims,
                   form == 0   ? channel
                   : form == 1 ? mask
                               : x_dims,
                   (size_t)c.b_rank * sizeof(int64_t));
            finish_case(&c);
            check_binary_case(dev, ref, (sv_binary_op)op, &c, &rng, 0);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Every pair of special and ordinary values, by broadcasting a column [K, 1] against a row
 * [1, K]: both paths must agree bit for bit (NaN payloads aside), and a few entries are checked
 * against IEEE 754 by hand. No pair leaves the normal range except through overflow. */
#define SPECIAL_PAIRS 11
static const float pair_values[SPECIAL_PAIRS] = {0.0f,  -0.0f,  1.0f,     -1.0f,     3.5f, -0.75f,
                                                 1e30f, -1e30f, INFINITY, -INFINITY, NAN};
enum {
    V_ZERO,
    V_NEG_ZERO,
    V_ONE,
    V_NEG_ONE,
    V_3_5,
    V_NEG_0_75,
    V_1E30,
    V_NEG_1E30,
    V_INF,
    V_NEG_INF,
    V_NAN
};

static const struct {
    sv_binary_op op;
    int a, b;
    float expected;
} special_pairs[] = {
    {SV_BINARY_DIV, V_ONE, V_ZERO, INFINITY},
    {SV_BINARY_DIV, V_NEG_ONE, V_ZERO, -INFINITY},
    {SV_BINARY_DIV, V_ONE, V_NEG_ZERO, -INFINITY},
    {SV_BINARY_DIV, V_ZERO, V_ZERO, NAN},
    {SV_BINARY_DIV, V_INF, V_INF, NAN},
    {SV_BINARY_DIV, V_NEG_0_75, V_INF, -0.0f},
    {SV_BINARY_DIV, V_1E30, V_NEG_0_75, -1.33333333e30f},
    {SV_BINARY_ADD, V_NEG_ZERO, V_NEG_ZERO, -0.0f},
    {SV_BINARY_ADD, V_NEG_ZERO, V_ZERO, 0.0f},
    {SV_BINARY_ADD, V_INF, V_NEG_INF, NAN},
    {SV_BINARY_ADD, V_1E30, V_ONE, 1e30f},
    {SV_BINARY_SUB, V_ZERO, V_ZERO, 0.0f},
    {SV_BINARY_SUB, V_NEG_ZERO, V_ZERO, -0.0f},
    {SV_BINARY_SUB, V_INF, V_INF, NAN},
    {SV_BINARY_MUL, V_ZERO, V_INF, NAN},
    {SV_BINARY_MUL, V_NEG_ZERO, V_ONE, -0.0f},
    {SV_BINARY_MUL, V_1E30, V_1E30, INFINITY},
    {SV_BINARY_MUL, V_NEG_1E30, V_1E30, -INFINITY},
    {SV_BINARY_MUL, V_NAN, V_ZERO, NAN},
    {SV_BINARY_PRELU, V_NEG_ZERO, V_3_5, -0.0f}, /* -0 >= 0: passes through */
    {SV_BINARY_PRELU, V_NEG_ONE, V_3_5, -3.5f},
    {SV_BINARY_PRELU, V_NEG_INF, V_NEG_0_75, INFINITY},
    {SV_BINARY_PRELU, V_NEG_INF, V_ZERO, NAN}, /* 0 * -inf */
    {SV_BINARY_PRELU, V_INF, V_NAN, INFINITY},
    {SV_BINARY_PRELU, V_NAN, V_ONE, NAN},
};

START_TEST(test_binary_special_values) {
    const sv_binary_op op = (sv_binary_op)_i;
    binary_case c;
    memset(&c, 0, sizeof c);
    c.a_rank = c.b_rank = 2;
    c.a_dims[0] = SPECIAL_PAIRS, c.a_dims[1] = 1;
    c.b_dims[0] = 1, c.b_dims[1] = SPECIAL_PAIRS;
    finish_case(&c);
    float a[SPECIAL_PAIRS], b[SPECIAL_PAIRS];
    memcpy(a, pair_values, sizeof a);
    memcpy(b, pair_values, sizeof b);
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    float *y = run_binary(dev, op, &c, a, b);
    float *r = run_binary(ref, op, &c, a, b);
    check_binary(op, &c, y, r, "special pairs");
    for (size_t k = 0; k < sizeof special_pairs / sizeof special_pairs[0]; k++) {
        if (special_pairs[k].op != op)
            continue;
        const size_t i = (size_t)special_pairs[k].a * SPECIAL_PAIRS + (size_t)special_pairs[k].b;
        ck_assert_msg(test_same_value(r[i], special_pairs[k].expected) &&
                          test_same_value(y[i], special_pairs[k].expected),
                      "%s(%g, %g): reference %g, device %g, expected %g", binary_names[op],
                      (double)a[special_pairs[k].a], (double)b[special_pairs[k].b], (double)r[i],
                      (double)y[i], (double)special_pairs[k].expected);
    }
    free(y), free(r);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Hand-computed broadcasts on both paths. */
static const struct {
    const char *what;
    sv_binary_op op;
    int a_rank, b_rank;
    int64_t a_dims[SV_MAX_RANK], b_dims[SV_MAX_RANK];
    float a[8], b[8];
    float expected[40];
} binary_examples[] = {
    {"row vector added to a matrix",
     SV_BINARY_ADD,
     2,
     1,
     {2, 3},
     {3},
     {1, 2, 3, 4, 5, 6},
     {10, 20, 30},
     {11, 22, 33, 14, 25, 36}},
    {"column minus row",
     SV_BINARY_SUB,
     2,
     2,
     {2, 1},
     {1, 3},
     {1, 2},
     {0.5f, 1, 1.5f},
     {0.5f, 0, -0.5f, 1.5f, 1, 0.5f}},
    {"per-channel scale",
     SV_BINARY_MUL,
     3,
     3,
     {2, 2, 2},
     {2, 1, 1},
     {1, 2, 3, 4, 5, 6, 7, 8},
     {2, -1},
     {2, 4, 6, 8, -5, -6, -7, -8}},
    {"vector divided by a column",
     SV_BINARY_DIV,
     1,
     2,
     {4},
     {2, 1},
     {1, -3, 7, 0.5f},
     {4, -2},
     {0.25f, -0.75f, 1.75f, 0.125f, -0.5f, 1.5f, -3.5f, -0.25f}},
    {"scalar divisor",
     SV_BINARY_DIV,
     3,
     1,
     {1, 1, 3},
     {1},
     {3, -6, 1},
     {-8},
     {-0.375f, 0.75f, -0.125f}},
    {"prelu with per-channel slopes [C, 1, 1] on NCHW",
     SV_BINARY_PRELU,
     4,
     3,
     {1, 2, 2, 2},
     {2, 1, 1},
     {-1, 2, -3, 4, -1, 2, -3, 4},
     {0.5f, 0.25f},
     {-0.5f, 2, -1.5f, 4, -0.25f, 2, -0.75f, 4}},
    {"prelu with slopes along the last axis (ONNX unidirectional)",
     SV_BINARY_PRELU,
     2,
     1,
     {2, 3},
     {3},
     {-2, -2, -2, 1, -1, 0},
     {0.5f, 0, -1},
     {-1, -0.0f, 2, 1, -0.0f, 0}}, /* a zero slope times a negative a is -0 */
    /* rank 5, both operands broadcast: y[i, j, 0, k, l] = a[i, l] + b[j, k] */
    {"rank 5, both sides broadcast",
     SV_BINARY_ADD,
     5,
     5,
     {2, 1, 1, 1, 3},
     {1, 2, 1, 3, 1},
     {1, 2, 3, 10, 20, 30},
     {100, 200, 300, 400, 500, 600},
     {101, 102, 103, 201, 202, 203, 301, 302, 303, 401, 402, 403, 501, 502, 503, 601, 602, 603,
      110, 120, 130, 210, 220, 230, 310, 320, 330, 410, 420, 430, 510, 520, 530, 610, 620, 630}},
};

START_TEST(test_binary_examples) {
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        for (size_t k = 0; k < sizeof binary_examples / sizeof binary_examples[0]; k++) {
            binary_case c;
            memset(&c, 0, sizeof c);
            c.a_rank = binary_examples[k].a_rank;
            c.b_rank = binary_examples[k].b_rank;
            memcpy(c.a_dims, binary_examples[k].a_dims, sizeof c.a_dims);
            memcpy(c.b_dims, binary_examples[k].b_dims, sizeof c.b_dims);
            finish_case(&c);
            float a[8], b[8];
            memcpy(a, binary_examples[k].a, sizeof a);
            memcpy(b, binary_examples[k].b, sizeof b);
            float *y = run_binary(ctx, binary_examples[k].op, &c, a, b);
            check_binary(binary_examples[k].op, &c, y, binary_examples[k].expected,
                         binary_examples[k].what);
            free(y);
        }
        sv_context_release(ctx);
    }
}
END_TEST

/* In place: y may be the operand a or b itself, or a view of its storage, when it has the
 * output's shape; every element is read before its own position is written. Compared with the
 * reference computed out of place. */
START_TEST(test_in_place_matches_out_of_place) {
    const int64_t dims[3] = {3, 5, 7}, channel[2] = {5, 1};
    float x[105], c[5];
    test_rng rng = test_rng_for(30000);
    test_fill_uniform(&rng, x, 105, -2.0f, 2.0f);
    test_fill_uniform(&rng, c, 5, -2.0f, 2.0f);
    const sv_activation act = {SV_ACT_LEAKY_RELU, 0.125f, 0.0f};
    binary_case ab, ba; /* x - c and c - x */
    memset(&ab, 0, sizeof ab);
    ab.a_rank = 3, ab.b_rank = 2;
    memcpy(ab.a_dims, dims, sizeof dims);
    memcpy(ab.b_dims, channel, sizeof channel);
    finish_case(&ab);
    memset(&ba, 0, sizeof ba);
    ba.a_rank = 2, ba.b_rank = 3;
    memcpy(ba.a_dims, channel, sizeof channel);
    memcpy(ba.b_dims, dims, sizeof dims);
    finish_case(&ba);
    sv_context *ref = test_context("ref");
    float *r_ab = run_binary(ref, SV_BINARY_SUB, &ab, x, c);
    float *r_ba = run_binary(ref, SV_BINARY_SUB, &ba, c, x);
    float *r_act = run_activation(ref, &act, 3, dims, x);
    sv_context_release(ref);
    for (int s = 0; s < TEST_SPEC_COUNT; s++)
        for (int through_view = 0; through_view < 2; through_view++) {
            sv_context *ctx = test_context(test_spec(s));
            sv_tensor *xt = test_tensor_from(ctx, x, 3, dims);
            sv_tensor *ct = test_tensor_from(ctx, c, 2, channel);
            sv_tensor *view = NULL;
            TEST_ASSERT_STATUS(sv_tensor_reshape(xt, 3, dims, &view), SV_OK, ctx);
            sv_tensor *target = through_view ? view : xt;
            const char *where = through_view ? "into a view of the operand" : "into the operand";

            TEST_ASSERT_STATUS(sv_binary(ctx, SV_BINARY_SUB, xt, ct, target), SV_OK, ctx);
            float *y = test_download(xt);
            check_binary(SV_BINARY_SUB, &ab, y, r_ab, where);
            free(y);

            TEST_ASSERT_STATUS(sv_tensor_upload(xt, x, 105), SV_OK, ctx);
            TEST_ASSERT_STATUS(sv_binary(ctx, SV_BINARY_SUB, ct, xt, target), SV_OK, ctx);
            y = test_download(xt);
            check_binary(SV_BINARY_SUB, &ba, y, r_ba, where);
            free(y);

            TEST_ASSERT_STATUS(sv_tensor_upload(xt, x, 105), SV_OK, ctx);
            TEST_ASSERT_STATUS(sv_activation_apply(ctx, &act, xt, target), SV_OK, ctx);
            y = test_download(xt);
            check_activation(&act, 3, dims, x, y, r_act, where);
            free(y);
            sv_tensor_release(view), sv_tensor_release(xt), sv_tensor_release(ct);
            sv_context_release(ctx);
        }
    free(r_ab), free(r_ba), free(r_act);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Broadcast shapes
 * ------------------------------------------------------------------------------------------- */
static const struct {
    int a_rank, b_rank;
    int64_t a[SV_MAX_RANK], b[SV_MAX_RANK];
    int rank;
    int64_t expected[SV_MAX_RANK];
} broadcast_rows[] = {
    {1, 1, {3}, {3}, 1, {3}},
    {1, 1, {1}, {5}, 1, {5}},
    {2, 1, {2, 3}, {3}, 2, {2, 3}},
    {2, 1, {2, 3}, {1}, 2, {2, 3}},
    {2, 2, {2, 1}, {1, 3}, 2, {2, 3}},
    {1, 2, {1}, {4, 5}, 2, {4, 5}},
    {3, 2, {5, 1, 4}, {3, 1}, 3, {5, 3, 4}},
    {4, 3, {8, 1, 6, 1}, {7, 1, 5}, 4, {8, 7, 6, 5}}, /* NumPy's documentation */
    {4, 1, {2, 3, 4, 5}, {5}, 4, {2, 3, 4, 5}},
    {4, 3, {2, 3, 1, 1}, {1, 4, 5}, 4, {2, 3, 4, 5}},
    {5, 1, {1, 1, 1, 1, 1}, {7}, 5, {1, 1, 1, 1, 7}},
    {5, 5, {6, 1, 4, 1, 2}, {1, 5, 1, 3, 1}, 5, {6, 5, 4, 3, 2}},
    {2, 5, {3, 1}, {2, 1, 1, 1, 4}, 5, {2, 1, 1, 3, 4}},
};

START_TEST(test_broadcast_shapes) {
    for (int swap = 0; swap < 2; swap++)
        for (size_t k = 0; k < sizeof broadcast_rows / sizeof broadcast_rows[0]; k++) {
            int rank = -1;
            int64_t dims[SV_MAX_RANK];
            sv_message msg = {{0}};
            const int ra = swap ? broadcast_rows[k].b_rank : broadcast_rows[k].a_rank;
            const int rb = swap ? broadcast_rows[k].a_rank : broadcast_rows[k].b_rank;
            const int64_t *da = swap ? broadcast_rows[k].b : broadcast_rows[k].a;
            const int64_t *db = swap ? broadcast_rows[k].a : broadcast_rows[k].b;
            sv_status st = sv_broadcast_shape(ra, da, rb, db, &rank, dims, &msg);
            ck_assert_msg(st == SV_OK, "row %zu: %s", k, msg.text);
            ck_assert_int_eq(rank, broadcast_rows[k].rank);
            for (int i = 0; i < rank; i++)
                ck_assert_msg(dims[i] == broadcast_rows[k].expected[i],
                              "row %zu (swap %d), axis %d: got %lld, want %lld", k, swap, i,
                              (long long)dims[i], (long long)broadcast_rows[k].expected[i]);
        }
}
END_TEST

static const struct {
    test_invalid_row row;
    int a_rank, b_rank;
    int64_t a[SV_MAX_RANK + 1], b[SV_MAX_RANK + 1];
} broadcast_invalid[] = {
    {{"3 against 4", SV_SHAPE_MISMATCH, "sizes 3 and 4"}, 1, 1, {3}, {4}},
    {{"trailing axes differ", SV_SHAPE_MISMATCH, "do not broadcast"}, 2, 1, {2, 3}, {2}},
    {{"middle axis differs", SV_SHAPE_MISMATCH, "output axis 1"}, 2, 3, {2, 1}, {8, 4, 3}},
    {{"rank 5 leading axis", SV_SHAPE_MISMATCH, "axis 0"}, 5, 5, {2, 1, 1, 1, 1}, {3, 1, 1, 1, 1}},
    {{"rank 0", SV_INVALID_ARGUMENT, "ranks 0 and 1"}, 0, 1, {1}, {3}},
    {{"rank 6", SV_INVALID_ARGUMENT, "must both be in 1..5"}, 6, 1, {1, 1, 1, 1, 1, 1}, {3}},
    {{"zero-sized axis", SV_INVALID_ARGUMENT, "dimension 1 of a is 0"}, 2, 1, {2, 0}, {3}},
    {{"negative axis", SV_INVALID_ARGUMENT, "dimension 1 of b is -1"}, 1, 2, {3}, {3, -1}},
    {{"NULL shape", SV_INVALID_ARGUMENT, "NULL"}, 1, 1, {3}, {3}},
};

START_TEST(test_broadcast_invalid) {
    const int k = _i;
    const test_invalid_row *row = &broadcast_invalid[k].row;
    const int null_row = k == TEST_COUNT_OF(broadcast_invalid) - 1;
    int rank = TEST_POISON_DIM;
    int64_t dims[SV_MAX_RANK];
    test_poison_dims(dims, SV_MAX_RANK);
    sv_message msg = {{0}};
    sv_status st = sv_broadcast_shape(broadcast_invalid[k].a_rank, broadcast_invalid[k].a,
                                      broadcast_invalid[k].b_rank,
                                      null_row ? NULL : broadcast_invalid[k].b, &rank, dims, &msg);
    test_assert_shape_rejected(row, st, msg.text, dims, SV_MAX_RANK);
    ck_assert_msg(rank == TEST_POISON_DIM, "%s: rank written on failure", row->what);
    /* the message buffer is optional */
    ck_assert_int_eq(sv_broadcast_shape(broadcast_invalid[k].a_rank, broadcast_invalid[k].a,
                                        broadcast_invalid[k].b_rank,
                                        null_row ? NULL : broadcast_invalid[k].b, &rank, dims,
                                        NULL),
                     row->status);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Copies
 * ------------------------------------------------------------------------------------------- */
/* Bit patterns a copy must keep: a NaN with a payload, -0, infinities, a subnormal. */
static void fill_copy_source(float *x, int n) {
    for (int i = 0; i < n; i++)
        x[i] = (float)i * 0.5f - 3.0f;
    const uint32_t nan_payload = 0x7fc01234u;
    memcpy(&x[1], &nan_payload, sizeof nan_payload);
    x[2] = -0.0f;
    x[3] = INFINITY;
    x[4] = -INFINITY;
    x[5] = FLT_MIN / 8.0f;
}

START_TEST(test_copy) {
    const char *where = test_spec_name(test_spec(_i));
    sv_context *ctx = test_context(test_spec(_i));
    const int64_t x_dims[3] = {2, 3, 4}, y_dims[2] = {4, 6}, flat[1] = {24};
    float x[24];
    fill_copy_source(x, 24);
    sv_tensor *xt = test_tensor_from(ctx, x, 3, x_dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, 2, y_dims);

    /* another shape with the same count */
    TEST_ASSERT_STATUS(sv_copy(ctx, xt, yt), SV_OK, ctx);
    ck_assert_str_eq(sv_last_error(ctx), "");
    float *y = test_download(yt);
    ck_assert_msg(memcmp(y, x, sizeof x) == 0, "%s: copy between shapes changed bits", where);
    free(y);

    /* onto itself and onto a view of the same storage: nothing moves, nothing is lost */
    sv_tensor *view = NULL;
    TEST_ASSERT_STATUS(sv_tensor_reshape(xt, 1, flat, &view), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_copy(ctx, xt, xt), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_copy(ctx, xt, view), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_copy(ctx, view, xt), SV_OK, ctx);
    y = test_download(xt);
    ck_assert_msg(memcmp(y, x, sizeof x) == 0, "%s: copy onto its own storage changed it", where);
    free(y);

    /* from a view into a separate tensor, and into a view of a separate tensor */
    sv_tensor *zt = test_tensor_poisoned(ctx, 3, x_dims), *zview = NULL;
    TEST_ASSERT_STATUS(sv_tensor_reshape(zt, 2, y_dims, &zview), SV_OK, ctx);
    TEST_ASSERT_STATUS(sv_copy(ctx, view, zview), SV_OK, ctx);
    y = test_download(zt);
    ck_assert_msg(memcmp(y, x, sizeof x) == 0, "%s: copy from a view into a view", where);
    free(y);

    /* a large copy: many pages, then a change to the source must not show in the copy */
    const int64_t big[2] = {513, 1001};
    const size_t nbig = 513 * 1001;
    float *data = malloc(nbig * sizeof *data);
    ck_assert_ptr_nonnull(data);
    test_rng rng = test_rng_for(40000);
    test_fill_uniform(&rng, data, nbig, -1.0f, 1.0f);
    sv_tensor *bt = test_tensor_from(ctx, data, 2, big);
    sv_tensor *ct = test_tensor_poisoned(ctx, 1, (const int64_t[]){(int64_t)nbig});
    TEST_ASSERT_STATUS(sv_copy(ctx, bt, ct), SV_OK, ctx);
    y = test_download(ct);
    ck_assert_msg(memcmp(y, data, nbig * sizeof *data) == 0, "%s: large copy", where);
    free(y);
    float *changed = malloc(nbig * sizeof *changed);
    ck_assert_ptr_nonnull(changed);
    for (size_t i = 0; i < nbig; i++)
        changed[i] = 1.0f;
    TEST_ASSERT_STATUS(sv_tensor_upload(bt, changed, (int64_t)nbig), SV_OK, ctx);
    y = test_download(ct);
    ck_assert_msg(memcmp(y, data, nbig * sizeof *data) == 0, "%s: copy shares its source", where);
    free(y), free(changed), free(data);

    sv_tensor_release(bt), sv_tensor_release(ct);
    sv_tensor_release(zview), sv_tensor_release(zt), sv_tensor_release(view);
    sv_tensor_release(xt), sv_tensor_release(yt);
    sv_context_release(ctx);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Invalid calls: each row breaks one rule of a valid call and names the status and a phrase the
 * context's message must contain; the output keeps its contents.
 * ------------------------------------------------------------------------------------------- */
typedef enum call_kind { CALL_BINARY, CALL_ACTIVATION, CALL_COPY } call_kind;

typedef struct invalid_call {
    test_invalid_row row;
    call_kind kind;
} invalid_call;

static const invalid_call invalid_calls[] = {
    {{"shapes that do not broadcast", SV_SHAPE_MISMATCH, "do not broadcast"}, CALL_BINARY},
    {{"output of the wrong shape", SV_SHAPE_MISMATCH, "expected [2, 3]"}, CALL_BINARY},
    {{"output with the count but not the shape", SV_SHAPE_MISMATCH,
      "has shape [6], expected [2, 3]"},
     CALL_BINARY},
    {{"output of an operand's shape, not the broadcast", SV_SHAPE_MISMATCH, "expected [2, 3]"},
     CALL_BINARY},
    {{"unknown binary op", SV_INVALID_ARGUMENT, "unknown op 7"}, CALL_BINARY},
    {{"NULL operand", SV_INVALID_ARGUMENT, "tensor argument 2 is NULL"}, CALL_BINARY},
    {{"operand from another context", SV_WRONG_CONTEXT, "another context"}, CALL_BINARY},
    {{"unknown activation", SV_INVALID_ARGUMENT, "unknown activation kind 42"}, CALL_ACTIVATION},
    {{"clip min > max", SV_INVALID_ARGUMENT, "min <= max"}, CALL_ACTIVATION},
    {{"infinite leaky relu slope", SV_INVALID_ARGUMENT, "alpha must be finite"}, CALL_ACTIVATION},
    {{"NaN hard sigmoid offset", SV_INVALID_ARGUMENT, "must be finite"}, CALL_ACTIVATION},
    {{"activation output of the wrong shape", SV_SHAPE_MISMATCH, "expected [2, 3]"},
     CALL_ACTIVATION},
    {{"NULL activation", SV_INVALID_ARGUMENT, "NULL parameters"}, CALL_ACTIVATION},
    {{"copy count mismatch", SV_SHAPE_MISMATCH, "has 6 elements but output [7]"}, CALL_COPY},
    {{"copy from NULL", SV_INVALID_ARGUMENT, "tensor argument 1 is NULL"}, CALL_COPY},
    {{"copy onto another context", SV_WRONG_CONTEXT, "another context"}, CALL_COPY},
};

START_TEST(test_invalid_calls_are_rejected) {
    const invalid_call *call = &invalid_calls[_i / 2];
    const char *spec = test_spec(_i % 2);
    sv_context *ctx = test_context(spec), *other = test_context("ref");
    const int64_t d23[2] = {2, 3}, d32[2] = {3, 2}, d3[1] = {3}, d4[1] = {4}, d6[1] = {6},
                  d7[1] = {7};
    float values[7] = {1, -2, 3, -4, 5, -6, 7};
    sv_tensor *a = test_tensor_from(ctx, values, 2, d23);
    sv_tensor *b = test_tensor_from(ctx, values, 1, d3);
    sv_tensor *y = test_tensor_poisoned(ctx, 2, d23);
    sv_tensor *foreign = test_tensor_poisoned(other, 2, d23);
    sv_tensor *out = y, *second = b;
    const sv_tensor *input = a;
    sv_binary_op op = SV_BINARY_ADD;
    sv_activation act = {SV_ACT_RELU, 0, 0};
    const sv_activation *act_arg = &act;
    sv_tensor *made = NULL;

    switch (_i / 2) {
    case 0: made = second = test_tensor_from(ctx, values, 1, d4); break;
    case 1: made = out = test_tensor_poisoned(ctx, 2, d32); break;
    case 2: made = out = test_tensor_poisoned(ctx, 1, d6); break;
    case 3: made = out = test_tensor_poisoned(ctx, 1, d3); break;
    case 4: op = (sv_binary_op)7; break;
    case 5: second = NULL; break;
    case 6: second = foreign; break;
    case 7: act.kind = (sv_activation_kind)42; break;
    case 8: act.kind = SV_ACT_CLIP, act.alpha = 1.0f, act.beta = -1.0f; break;
    case 9: act.kind = SV_ACT_LEAKY_RELU, act.alpha = INFINITY; break;
    case 10: act.kind = SV_ACT_HARD_SIGMOID, act.alpha = 0.2f, act.beta = NAN; break;
    case 11: made = out = test_tensor_poisoned(ctx, 2, d32); break;
    case 12: act_arg = NULL; break;
    case 13: made = out = test_tensor_poisoned(ctx, 1, d7); break;
    case 14: input = NULL; break;
    case 15: out = foreign; break;
    default: ck_abort_msg("no rule %d", _i / 2);
    }

    sv_status st;
    switch (call->kind) {
    case CALL_BINARY: st = sv_binary(ctx, op, input, second, out); break;
    case CALL_ACTIVATION: st = sv_activation_apply(ctx, act_arg, input, out); break;
    default: st = sv_copy(ctx, input, out); break;
    }
    test_assert_call_rejected(&call->row, ctx, spec, st, out);
    /* the valid call succeeds and clears the message; without a context every call is refused */
    TEST_ASSERT_STATUS(sv_binary(ctx, SV_BINARY_ADD, a, b, y), SV_OK, ctx);
    ck_assert_str_eq(sv_last_error(ctx), "");
    switch (call->kind) {
    case CALL_BINARY: ck_assert_int_eq(sv_binary(NULL, op, a, b, y), SV_INVALID_ARGUMENT); break;
    case CALL_ACTIVATION:
        ck_assert_int_eq(sv_activation_apply(NULL, &act, a, y), SV_INVALID_ARGUMENT);
        break;
    default: ck_assert_int_eq(sv_copy(NULL, a, y), SV_INVALID_ARGUMENT); break;
    }
    sv_tensor_release(made);
    sv_tensor_release(a), sv_tensor_release(b), sv_tensor_release(y), sv_tensor_release(foreign);
    sv_context_release(ctx);
    sv_context_release(other);
}
END_TEST

static Suite *elementwise_suite(void) {
    Suite *s = suite_create("elementwise");
    TCase *sweep = test_add_case(s, "random sweep against ref", 300);
    tcase_add_loop_test(sweep, test_activation_sweep_matches_reference, 0, ACTIVATIONS);
    tcase_add_loop_test(sweep, test_binary_sweep_matches_reference, 0, BINARY_OPS * SV_MAX_RANK);
    tcase_add_test(sweep, test_binary_layer_sized);
    tcase_add_test(sweep, test_in_place_matches_out_of_place);
    TCase *special = test_add_case(s, "special values", 120);
    tcase_add_test(special, test_activation_special_values);
    tcase_add_loop_test(special, test_binary_special_values, 0, BINARY_OPS);
    TCase *known = test_add_case(s, "hand-computed", 120);
    tcase_add_test(known, test_activation_examples);
    tcase_add_test(known, test_binary_examples);
    tcase_add_test(known, test_broadcast_shapes);
    tcase_add_loop_test(known, test_copy, 0, TEST_SPEC_COUNT);
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_broadcast_invalid, 0, TEST_COUNT_OF(broadcast_invalid));
    tcase_add_loop_test(invalid, test_invalid_calls_are_rejected, 0,
                        TEST_SPEC_COUNT * TEST_COUNT_OF(invalid_calls));
    return s;
}

TEST_MAIN(elementwise_suite)
