/* Softmax and log-softmax: the default OpenCL device against the reference path on randomized
 * sweeps over every axis of every rank; rows of extreme values (+-1e4, -inf, all equal, all -inf)
 * against their closed forms; hand-computed examples; invalid parameters against the errors
 * they must give. */
#include "test_support.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- tolerances ---------------------------------------------------------------------------
 * Per row, with m the maximum, d_j = m - x_j >= 0, s = sum exp(-d_j) >= 1 and
 * w = sum d_j exp(-d_j) / s (all exact, computed here in double from the fp32 input):
 *  - the device's x_j - m is off by at most u * d_j (u = 2^-24), so its exp(x_j - m) is off by a
 *    factor of at most u * d_j, plus EXP_ERR for exp itself;
 *  - its sum of T such terms is then off by at most rel_s = gamma_T + EXP_ERR + u * w (the
 *    terms' errors weighted by their share of s; gamma_T = T*u/(1 - T*u) for any summation order,
 *    Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., section 4.2), plus
 *    T * FLT_MIN / s for terms that a device without denormals flushes to zero;
 *  - softmax exp(x_i - m) / s is then off by at most
 *    |r_i| * (u * d_i + EXP_ERR + rel_s + DIV_ERR + SLACK) + FLT_MIN (an output below FLT_MIN
 *    may be flushed to zero);
 *  - log-softmax (x_i - m) - log(s) by at most u * d_i + rel_s / (1 - rel_s) + LOG_ERR * log(s)
 *    + (u + SLACK) * |r_i| (the final subtraction).
 * OpenCL 1.2 allows exp and log 3 ulp and division 2.5 ulp; an ulp is at most 2u of the value.
 * SLACK covers the reference's own rounding to fp32 and second-order terms. An input of +-1e4
 * makes u * d about 1e-3: that error is real (the fp32 subtraction), and softmax there is 0. */
#define EXP_ERR (6 * TEST_UNIT_ROUNDOFF)
#define LOG_ERR (6 * TEST_UNIT_ROUNDOFF)
#define DIV_ERR (5 * TEST_UNIT_ROUNDOFF)
#define SLACK (2 * TEST_UNIT_ROUNDOFF)

typedef struct softmax_case {
    sv_softmax_params p;
    int rank;
    int64_t dims[SV_MAX_RANK];
} softmax_case;

/* The tensor as [outer, length, inner] around the case's axis. */
typedef struct row_layout {
    long long outer, length, inner;
} row_layout;

static row_layout layout_of(const softmax_case *c) {
    const int axis = c->p.axis < 0 ? c->p.axis + c->rank : c->p.axis;
    row_layout l = {1, c->dims[axis], 1};
    for (int i = 0; i < axis; i++)
        l.outer *= c->dims[i];
    for (int i = axis + 1; i < c->rank; i++)
        l.inner *= c->dims[i];
    return l;
}

static void describe(const softmax_case *c, char *buf, size_t size) {
    char dims[96];
    test_format_dims(dims, sizeof dims, c->rank, c->dims);
    snprintf(buf, size, "%s axis %d of [%s]", c->p.log ? "log-softmax" : "softmax", c->p.axis,
             dims);
}

/* Bound on |device - reference| for every element (see the tolerances above); r is the
 * reference (or the exact) result. Rows that are all -inf get no bound: they must be NaN. */
static double *error_bounds(const softmax_case *c, const float *x, const float *r) {
    const row_layout l = layout_of(c);
    double *bound = malloc((size_t)test_count(c->rank, c->dims) * sizeof *bound);
    ck_assert_ptr_nonnull(bound);
    const double u = TEST_UNIT_ROUNDOFF;
    for (long long o = 0; o < l.outer; o++)
        for (long long i = 0; i < l.inner; i++) {
            const long long first = o * l.length * l.inner + i;
            double m = -INFINITY, s = 0.0, weighted = 0.0;
            for (long long k = 0; k < l.length; k++)
                m = fmax(m, (double)x[first + k * l.inner]);
            for (long long k = 0; k < l.length; k++) {
                const double d = m - (double)x[first + k * l.inner];
                if (d == INFINITY)
                    continue; /* a -inf entry adds nothing */
                s += exp(-d);
                weighted += d * exp(-d);
            }
            const double w = weighted / s;
            const double rel_s = test_summation_gamma(u, (long)l.length) + EXP_ERR + u * w +
                                 (double)l.length * FLT_MIN / s;
            for (long long k = 0; k < l.length; k++) {
                const long long at = first + k * l.inner;
                const double d = m - (double)x[at], ar = fabs((double)r[at]);
                if (d == INFINITY) /* softmax exactly 0, log-softmax exactly -inf */
                    bound[at] = 0.0;
                else if (c->p.log)
                    bound[at] = u * d + rel_s / (1.0 - rel_s) + LOG_ERR * log(s) + (u + SLACK) * ar;
                else
                    bound[at] = ar * (u * d + EXP_ERR + rel_s + DIV_ERR + SLACK) + FLT_MIN;
            }
        }
    return bound;
}

/* Checks every element: NaN where r is NaN, exactly r where r is infinite, else within bound. */
static void assert_within(const softmax_case *c, const char *where, const float *y, const float *r,
                          const double *bound) {
    char what[256], described[320];
    describe(c, what, sizeof what);
    snprintf(described, sizeof described, "%s on %s", what, where);
    test_assert_bounded_specials(y, r, bound, (size_t)test_count(c->rank, c->dims), described);
}

/* Runs the case on ctx with the output first filled with `poison`; returns the downloaded
 * output (caller frees). */
static float *run_case(sv_context *ctx, const softmax_case *c, float *x, float poison) {
    sv_tensor *xt = test_tensor_from(ctx, x, c->rank, c->dims);
    sv_tensor *yt;
    if (isnan(poison)) {
        yt = test_tensor_poisoned(ctx, c->rank, c->dims);
    } else {
        const size_t n = (size_t)test_count(c->rank, c->dims);
        float *fill = malloc(n * sizeof *fill);
        ck_assert_ptr_nonnull(fill);
        for (size_t i = 0; i < n; i++)
            fill[i] = poison;
        yt = test_tensor_from(ctx, fill, c->rank, c->dims);
        free(fill);
    }
    TEST_ASSERT_STATUS(sv_softmax(ctx, &c->p, xt, yt), SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt);
    sv_tensor_release(yt);
    return y;
}

/* Compares the device with the reference on one case, element by element. */
static void check_case(sv_context *dev, sv_context *ref, const softmax_case *c, const float *x) {
    const size_t n = (size_t)test_count(c->rank, c->dims);
    float *copy = malloc(n * sizeof *copy);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, x, n * sizeof *copy);
    float *y = run_case(dev, c, copy, NAN);
    float *r = run_case(ref, c, copy, NAN);
    double *bound = error_bounds(c, x, r);
    assert_within(c, "the device", y, r, bound);
    free(copy), free(y), free(r), free(bound);
}

/* A random case of the given rank, axis (from the front) and mode. `variant` picks the axis
 * length: 0 short (1..9), 1 long (64..300: the row-per-group kernel when the axis is last),
 * 2 medium (2..40). Batch > 1 unless the axis is the batch axis; the axis is given counted from
 * the end half of the time. */
static softmax_case random_case(test_rng *rng, int rank, int axis, int log_mode, int variant) {
    softmax_case c;
    memset(&c, 0, sizeof c);
    c.rank = rank;
    const int max_dim = rank <= 2 ? 9 : rank == 3 ? 6 : 4;
    for (int i = 0; i < rank; i++)
        c.dims[i] = test_int(rng, 1, max_dim);
    if (rank > 1 && axis != 0)
        c.dims[0] = test_int(rng, 2, max_dim);
    c.dims[axis] = variant == 0   ? test_int(rng, 1, 9)
                   : variant == 1 ? test_int(rng, 64, 300)
                                  : test_int(rng, 2, 40);
    c.p.axis = test_int(rng, 0, 1) ? axis - rank : axis;
    c.p.log = log_mode;
    return c;
}

enum { VARIANTS = 3 };

/* Loop index: rank - 1. Every axis, both modes, every axis-length variant, inputs in [-R, R] for a
 * range R of 1, 10 or 100. */
START_TEST(test_random_sweep_matches_reference) {
    const int rank = _i + 1;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int axis = 0; axis < rank; axis++)
        for (int log_mode = 0; log_mode < 2; log_mode++)
            for (int v = 0; v < VARIANTS; v++) {
                test_rng rng =
                    test_rng_for((uint64_t)(((rank * 8 + axis) * 2 + log_mode) * 10 + v));
                const softmax_case c = random_case(&rng, rank, axis, log_mode, v);
                const size_t n = (size_t)test_count(c.rank, c.dims);
                const float range = test_int(&rng, 0, 2) == 0 ? 1.0f
                                    : test_int(&rng, 0, 1)    ? 10.0f
                                                              : 100.0f;
                float *x = test_random_array(&rng, n, -range, range);
                check_case(dev, ref, &c, x);
                free(x);
            }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Long rows: many strides of the row-per-group kernel, a length that is no power of two, the
 * lengths either side of the switch between the kernels, and a long strided axis. */
START_TEST(test_long_rows_match_reference) {
    static const struct {
        int rank, axis;
        int64_t dims[3];
    } shapes[] = {
        {2, -1, {1, 4099}}, {2, 1, {5, 1000}},    {2, -1, {7, 64}},
        {2, -1, {9, 63}},   {3, 1, {3, 2000, 3}}, {1, 0, {20000}},
    };
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int log_mode = 0; log_mode < 2; log_mode++) {
            test_rng rng = test_rng_for(1000 + s * 2 + (size_t)log_mode);
            softmax_case c;
            memset(&c, 0, sizeof c);
            c.rank = shapes[s].rank;
            memcpy(c.dims, shapes[s].dims, sizeof shapes[s].dims);
            c.p.axis = shapes[s].axis;
            c.p.log = log_mode;
            float *x = test_random_array(&rng, (size_t)test_count(c.rank, c.dims), -20.0f, 20.0f);
            check_case(dev, ref, &c, x);
            free(x);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- extreme rows, each of six entries, with their closed forms:
 *  0: +-1e4 around two equal maxima: softmax a, 0, a / e, 0, 0, a with a = 1 / (2 + 1/e)
 *  1: -inf entries: 0 or 1/2; log-softmax -inf or -ln 2
 *  2: all equal: 1/6; -ln 6
 *  3: all -inf: NaN (as ONNX Runtime and PyTorch give)
 *  4: near -1e4, where exp without the shift would underflow: d = 2, 1, 0, 2, 2, 2
 *  5: one 1e4 among -inf: 1, 0...; 0, -inf...
 * The long form pads each row with -inf to EXTREME_LONG entries (which changes no result) with
 * the six entries at EXTREME_OFFSET, so that the row-per-group kernel sees them too. */
enum { EXTREME_ROWS = 6, EXTREME_LEN = 6, EXTREME_LONG = 100, EXTREME_OFFSET = 47 };

static const float extreme_rows[EXTREME_ROWS][EXTREME_LEN] = {
    {1e4f, -1e4f, 9999.0f, 0.0f, -9999.0f, 1e4f},
    {-INFINITY, 1.0f, -INFINITY, 1.0f, -INFINITY, -INFINITY},
    {7.0f, 7.0f, 7.0f, 7.0f, 7.0f, 7.0f},
    {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY},
    {-1e4f, -9999.0f, -9998.0f, -1e4f, -1e4f, -1e4f},
    {1e4f, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY},
};

/* The exact result of extreme row `row`, entry k, from the closed forms above. */
static double extreme_expected(int row, int k, int log_mode) {
    switch (row) {
    case 0: {
        static const double d[EXTREME_LEN] = {0, 2e4, 1, 1e4, 19999, 0};
        const double ls = log(2.0 + exp(-1.0));
        return log_mode ? -d[k] - ls : exp(-d[k] - ls);
    }
    case 1:
        if (k == 1 || k == 3)
            return log_mode ? -log(2.0) : 0.5;
        return log_mode ? -INFINITY : 0.0;
    case 2: return log_mode ? -log(6.0) : 1.0 / 6.0;
    case 3: return NAN;
    case 4: {
        static const double d[EXTREME_LEN] = {2, 1, 0, 2, 2, 2};
        const double ls = log(1.0 + exp(-1.0) + 4.0 * exp(-2.0));
        return log_mode ? -d[k] - ls : exp(-d[k] - ls);
    }
    default: return k == 0 ? (log_mode ? 0.0 : 1.0) : (log_mode ? -INFINITY : 0.0);
    }
}

/* Lays the extreme rows out as [rows, length] (transposed: [length, rows]) with their exact
 * results; length is EXTREME_LEN or EXTREME_LONG. */
static void extreme_tensor(int length, int transposed, int log_mode, float *x, float *expected) {
    const int offset = length == EXTREME_LEN ? 0 : EXTREME_OFFSET;
    for (int row = 0; row < EXTREME_ROWS; row++)
        for (int k = 0; k < length; k++) {
            const int at = transposed ? k * EXTREME_ROWS + row : row * length + k;
            const int e = k - offset;
            if (e >= 0 && e < EXTREME_LEN) {
                x[at] = extreme_rows[row][e];
                expected[at] = (float)extreme_expected(row, e, log_mode);
            } else {
                x[at] = -INFINITY;
                expected[at] = row == 3 ? NAN : log_mode ? -INFINITY : 0.0f;
            }
        }
}

/* Loop index: bit 0 the mode, bit 1 transposed (strided axis), bit 2 the long form. Each output
 * is checked once poisoned with NaN and once with a finite value, so that a NaN row is known to
 * have been written. */
START_TEST(test_extreme_rows) {
    const int log_mode = _i & 1, transposed = (_i >> 1) & 1;
    const int length = (_i >> 2) & 1 ? EXTREME_LONG : EXTREME_LEN;
    softmax_case c;
    memset(&c, 0, sizeof c);
    c.rank = 2;
    c.dims[0] = transposed ? length : EXTREME_ROWS;
    c.dims[1] = transposed ? EXTREME_ROWS : length;
    c.p.axis = transposed ? 0 : -1;
    c.p.log = log_mode;
    float x[EXTREME_ROWS * EXTREME_LONG], expected[EXTREME_ROWS * EXTREME_LONG];
    extreme_tensor(length, transposed, log_mode, x, expected);
    double *bound = error_bounds(&c, x, expected);
    const float poisons[2] = {NAN, 42.0f};
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        for (int k = 0; k < 2; k++) {
            float *y = run_case(ctx, &c, x, poisons[k]);
            assert_within(&c, test_spec_name(test_spec(s)), y, expected, bound);
            free(y);
        }
        sv_context_release(ctx);
    }
    free(bound);
}
END_TEST

/* Along any axis, every softmax row sums to 1: |sum - 1| <= the sum of the elements' bounds plus
 * T * u for the reference's rounding. */
START_TEST(test_rows_sum_to_one) {
    sv_context *ctx = test_context(test_spec(_i));
    for (int k = 0; k < 20; k++) {
        test_rng rng = test_rng_for(2000 + (uint64_t)k);
        const int rank = test_int(&rng, 1, 5);
        const softmax_case c =
            random_case(&rng, rank, test_int(&rng, 0, rank - 1), 0, test_int(&rng, 0, 2));
        float *x = test_random_array(&rng, (size_t)test_count(c.rank, c.dims), -30.0f, 30.0f);
        float *y = run_case(ctx, &c, x, NAN);
        double *bound = error_bounds(&c, x, y);
        const row_layout l = layout_of(&c);
        for (long long o = 0; o < l.outer; o++)
            for (long long i = 0; i < l.inner; i++) {
                double sum = 0.0, tolerance = (double)l.length * TEST_UNIT_ROUNDOFF;
                for (long long j = 0; j < l.length; j++) {
                    const long long at = (o * l.length + j) * l.inner + i;
                    sum += y[at];
                    tolerance += bound[at];
                }
                char what[256];
                describe(&c, what, sizeof what);
                ck_assert_msg(fabs(sum - 1.0) <= tolerance,
                              "%s on %s: row (%lld, %lld) sums to %.9g (tolerance %.3g)", what,
                              test_spec_name(test_spec(_i)), o, i, sum, tolerance);
            }
        free(x), free(y), free(bound);
    }
    sv_context_release(ctx);
}
END_TEST

/* --- worked examples, by hand:
 * [1, 2, 3]: e + e^2 + e^3 = 2.718281828 + 7.389056099 + 20.08553692 = 30.19287485, so softmax
 * is 0.0900305732, 0.2447284711, 0.6652409558 and log-softmax x - ln 30.19287485 = x - 3.407605964.
 * Along axis 0 of [[0, 0, 5], [ln 3, -ln 3, 5]]: columns 1 : 3, 3 : 1 and 1 : 1, so softmax
 * [[1/4, 3/4, 1/2], [3/4, 1/4, 1/2]] and log-softmax ln of it: -ln 4 = -1.386294361,
 * ln 3/4 = -0.2876820725, -ln 2 = -0.6931471806. */
START_TEST(test_worked_examples) {
    static float row[3] = {1, 2, 3};
    static const float row_softmax[3] = {0.0900305732f, 0.2447284711f, 0.6652409558f};
    static const float row_log[3] = {-2.407605964f, -1.407605964f, -0.407605964f};
    static float grid[6] = {0, 0, 5, 1.098612289f, -1.098612289f, 5};
    static const float grid_softmax[6] = {0.25f, 0.75f, 0.5f, 0.75f, 0.25f, 0.5f};
    static const float grid_log[6] = {-1.386294361f,  -0.2876820725f, -0.6931471806f,
                                      -0.2876820725f, -1.386294361f,  -0.6931471806f};
    sv_context *ctx = test_context(test_spec(_i));
    for (int log_mode = 0; log_mode < 2; log_mode++) {
        softmax_case c;
        memset(&c, 0, sizeof c);
        c.p.log = log_mode;
        c.rank = 1;
        c.dims[0] = 3;
        float *y = run_case(ctx, &c, row, NAN);
        /* a few operations on values near 1: 1e-6 relative is about 16 ulp; ln 3 in the grid is
         * rounded to fp32 (3e-8), which moves the results by less than that */
        test_assert_close(y, log_mode ? row_log : row_softmax, 3, 1e-7, 1e-6, "[1, 2, 3]");
        free(y);
        c.rank = 2;
        c.dims[0] = 2;
        c.dims[1] = 3;
        c.p.axis = 0;
        y = run_case(ctx, &c, grid, NAN);
        test_assert_close(y, log_mode ? grid_log : grid_softmax, 6, 1e-7, 1e-6,
                          "axis 0 of a 2x3 grid");
        free(y);
    }
    sv_context_release(ctx);
}
END_TEST

/* A single-element axis: softmax 1 and log-softmax 0 wherever the input is finite. */
START_TEST(test_single_element_axis) {
    sv_context *ctx = test_context(test_spec(_i));
    const int64_t dims[3] = {3, 1, 4};
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)(i * 1000 - 5000); /* -5e3..6e3 */
    for (int log_mode = 0; log_mode < 2; log_mode++) {
        softmax_case c;
        memset(&c, 0, sizeof c);
        c.rank = 3;
        memcpy(c.dims, dims, sizeof dims);
        c.p.axis = 1;
        c.p.log = log_mode;
        float *y = run_case(ctx, &c, x, NAN);
        float expected[12];
        for (int i = 0; i < 12; i++)
            expected[i] = log_mode ? 0.0f : 1.0f;
        /* exp(0) / exp(0) and 0 - log(exp(0)): a few ulp at most */
        test_assert_close(y, expected, 12, 4 * FLT_EPSILON, 0, "single-element axis");
        free(y);
    }
    sv_context_release(ctx);
}
END_TEST

/* --- invalid parameters: each row breaks one rule of a valid call (x [2, 3, 4], axis 1) and
 * names the status and a phrase the message must contain. */
static const test_invalid_row invalid_rows[] = {
    {"axis == rank", SV_INVALID_ARGUMENT, "axis 3 is out of range for rank 3"},
    {"axis < -rank", SV_INVALID_ARGUMENT, "axis -4 is out of range"},
    {"log neither 0 nor 1", SV_INVALID_ARGUMENT, "log = 2"},
    {"NULL parameters", SV_INVALID_ARGUMENT, "NULL parameters"},
    {"output of another shape", SV_SHAPE_MISMATCH, "expected [2, 3, 4]"},
    {"output of another rank", SV_SHAPE_MISMATCH, "expected [2, 3, 4]"},
    {"NULL output", SV_INVALID_ARGUMENT, "tensor argument 2 is NULL"},
    {"NULL input", SV_INVALID_ARGUMENT, "tensor argument 1 is NULL"},
    {"output on another context", SV_WRONG_CONTEXT, "another context"},
};

START_TEST(test_invalid_parameters_are_rejected) {
    const test_invalid_row *row = &invalid_rows[_i];
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t dims[3] = {2, 3, 4}, swapped[3] = {2, 4, 3}, flat[1] = {24};
        sv_tensor *x, *y = test_tensor_poisoned(ctx, 3, dims);
        ck_assert_int_eq(sv_tensor_create(ctx, 3, dims, &x), SV_OK);
        sv_softmax_params p = {1, 0};
        TEST_ASSERT_STATUS(sv_softmax(ctx, &p, x, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        sv_tensor *in = x, *out = NULL;
        const sv_softmax_params *pp = &p;
        switch (_i) {
        case 0: p.axis = 3; break;
        case 1: p.axis = -4; break;
        case 2: p.log = 2; break;
        case 3: pp = NULL; break;
        case 4: out = test_tensor_poisoned(ctx, 3, swapped); break;
        case 5: out = test_tensor_poisoned(ctx, 1, flat); break;
        case 6: break;
        case 7: in = NULL; break;
        case 8: out = test_tensor_poisoned(other, 3, dims); break;
        default: ck_abort_msg("no rule %d", _i);
        }
        if (!out && _i != 6)
            out = test_tensor_poisoned(ctx, 3, dims);
        const sv_status st = sv_softmax(ctx, pp, in, out);
        test_assert_call_rejected(row, ctx, test_spec(s), st,
                                  out); /* a rejected call writes nothing */
        sv_tensor_release(out);
        sv_tensor_release(x);
        sv_tensor_release(y);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

static Suite *softmax_suite(void) {
    Suite *s = suite_create("softmax");
    TCase *sweep = test_add_case(s, "random sweep against ref", 300);
    tcase_add_loop_test(sweep, test_random_sweep_matches_reference, 0, SV_MAX_RANK);
    tcase_add_test(sweep, test_long_rows_match_reference);
    tcase_add_loop_test(sweep, test_rows_sum_to_one, 0, TEST_SPEC_COUNT);
    TCase *known = test_add_case(s, "extreme and hand-computed", 120);
    tcase_add_loop_test(known, test_extreme_rows, 0, 8);
    tcase_add_loop_test(known, test_worked_examples, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(known, test_single_element_axis, 0, TEST_SPEC_COUNT);
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_invalid_parameters_are_rejected, 0,
                        TEST_COUNT_OF(invalid_rows));
    return s;
}

TEST_MAIN(softmax_suite)
