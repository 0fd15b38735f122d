/* Resize: the default OpenCL device against the reference path on randomized sweeps over every
 * coordinate transformation and nearest rounding, ranks 1..5, scales given or taken from the
 * sizes (integer, fractional and arbitrary ones, up and down); 2x2 -> 4x4 upsamples, the
 * rounding rules and one-cell outputs against values computed by hand; invalid parameters
 * against the errors they must give. Nearest only copies, so it is compared exactly. */
#include "test_support.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- tolerance of linear mode. Per output the device blends four input values with weights it
 * stores as fp32 (each within u = 2^-24 of the exact one, relative, and at most 1) and computes
 * (1 - wr) * ((1 - wc) * a + wc * b) + wr * ((1 - wc) * c + wc * d) in fp32: the rounded weights
 * and their complements move each blend by at most 2 * 2u * M, the products and sums by
 * 2u * M, where M is the largest |input| of the blend; two nested blends and the rounding of the
 * reference's double result to fp32 stay below 16u * M. The test takes M as the largest |x|. */
#define LINEAR_ULPS 16.0

typedef struct resize_case {
    sv_resize_params p;
    int rank;
    int64_t x_dims[SV_MAX_RANK], y_dims[SV_MAX_RANK];
} resize_case;

static void describe(const resize_case *c, char *buf, size_t size) {
    char x[64], y[64], s[128];
    test_format_dims(x, sizeof x, c->rank, c->x_dims);
    test_format_dims(y, sizeof y, c->rank, c->y_dims);
    size_t used = 0;
    s[0] = '\0';
    for (int i = 0; i < c->rank && used < sizeof s; i++)
        used += (size_t)snprintf(s + used, sizeof s - used, i ? ",%.9g" : "%.9g",
                                 (double)c->p.scales[i]);
    snprintf(buf, size, "resize x[%s] -> y[%s] scales (%s) mode %d coordinates %d rounding %d", x,
             y, s, (int)c->p.mode, (int)c->p.coordinates, (int)c->p.rounding);
}

/* One resized axis of input size n: the scale is 0 (from the sizes) with any output size, or a
 * scale picked among integers, fractions, non-dyadic and arbitrary values with the ONNX output
 * size floor(n * scale) (at least 1), or now and then an output size unrelated to the scale. */
static void random_axis(test_rng *rng, int n, float *scale, int64_t *out) {
    static const float picks[] = {2.0f, 3.0f, 0.5f, 1.5f, 0.6f, 1.7f, 2.5f, 0.75f, 1.0f, 1.25f};
    switch (test_int(rng, 0, 5)) {
    case 0:
    case 1:
        *scale = 0.0f;
        *out = test_int(rng, 1, 2 * n + 3);
        return;
    case 2: *scale = test_float(rng, 0.3f, 3.5f); break;
    case 3: *scale = (float)test_int(rng, 1, 7) / (float)test_int(rng, 1, 7); break;
    default: *scale = picks[test_int(rng, 0, (int)(sizeof picks / sizeof picks[0]) - 1)]; break;
    }
    *out = (int64_t)floor((double)n * (double)*scale);
    if (*out < 1 || test_int(rng, 0, 7) == 0)
        *out = test_int(rng, 1, 2 * n + 3);
}

/* A case of the given rank and modes, its shapes and scales still zero. */
static resize_case case_of(int rank, sv_resize_mode mode, sv_resize_coordinates coordinates,
                           sv_nearest_rounding rounding) {
    resize_case c;
    memset(&c, 0, sizeof c);
    c.rank = rank;
    c.p.mode = mode;
    c.p.coordinates = coordinates;
    c.p.rounding = rounding;
    return c;
}

/* Draws a valid case: batch 2..3 in front (rank >= 2) kept as is; in linear mode every axis but
 * the last two keeps its size (scale 0 or 1). */
static resize_case random_case(test_rng *rng, int rank, sv_resize_mode mode,
                               sv_resize_coordinates coordinates, sv_nearest_rounding rounding) {
    resize_case c = case_of(rank, mode, coordinates, rounding);
    const int first_resized = mode == SV_RESIZE_LINEAR ? (rank >= 2 ? rank - 2 : 0) : 1;
    for (int i = 0; i < rank; i++) {
        const int n =
            i == 0 && rank >= 2 ? test_int(rng, 2, 3) : test_int(rng, 1, rank > 3 ? 5 : 9);
        c.x_dims[i] = n;
        if (i < first_resized && rank >= 2) {
            c.p.scales[i] = (float)test_int(rng, 0, 1);
            c.y_dims[i] = n;
        } else {
            random_axis(rng, n, &c.p.scales[i], &c.y_dims[i]);
        }
    }
    return c;
}

/* Runs the case on ctx; returns the downloaded output (caller frees). */
static float *run_case(sv_context *ctx, const resize_case *c, float *x) {
    sv_tensor *xt = test_tensor_from(ctx, x, c->rank, c->x_dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->y_dims);
    sv_status st = sv_resize(ctx, &c->p, xt, yt);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt);
    sv_tensor_release(yt);
    return y;
}

/* Compares the device with the reference on one case, every element: exactly for nearest,
 * within the linear bound otherwise. */
static void check_case(sv_context *dev, sv_context *ref, const resize_case *c, test_rng *rng) {
    const size_t nx = (size_t)test_count(c->rank, c->x_dims),
                 ny = (size_t)test_count(c->rank, c->y_dims);
    float *x = test_random_array(rng, nx, -1.0f, 1.0f);
    double largest = 0.0;
    for (size_t i = 0; i < nx; i++)
        largest = fmax(largest, fabs((double)x[i]));
    float *y = run_case(dev, c, x);
    float *r = run_case(ref, c, x);
    const double atol =
        c->p.mode == SV_RESIZE_NEAREST ? 0.0 : LINEAR_ULPS * TEST_UNIT_ROUNDOFF * largest;
    char what[512];
    describe(c, what, sizeof what);
    test_assert_close(y, r, ny, atol, 0.0, what);
    free(x), free(y), free(r);
}

enum { CASES_PER_RANK = 4, COORDINATE_MODES = 4, ROUNDINGS = 4 };

/* Loop index i: coordinate transformation i / ROUNDINGS and rounding i % ROUNDINGS; inside,
 * every rank with a few random shapes and scales. */
START_TEST(test_nearest_sweep_matches_reference) {
    const sv_resize_coordinates coordinates = (sv_resize_coordinates)(_i / ROUNDINGS);
    const sv_nearest_rounding rounding = (sv_nearest_rounding)(_i % ROUNDINGS);
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int rank = 1; rank <= SV_MAX_RANK; rank++)
        for (int k = 0; k < CASES_PER_RANK; k++) {
            test_rng rng = test_rng_for((uint64_t)((_i * SV_MAX_RANK + rank) * 100 + k));
            resize_case c = random_case(&rng, rank, SV_RESIZE_NEAREST, coordinates, rounding);
            check_case(dev, ref, &c, &rng);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Loop index i: coordinate transformation i; inside, every rank with random shapes and scales. */
START_TEST(test_linear_sweep_matches_reference) {
    const sv_resize_coordinates coordinates = (sv_resize_coordinates)_i;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int rank = 1; rank <= SV_MAX_RANK; rank++)
        for (int k = 0; k < 2 * CASES_PER_RANK; k++) {
            test_rng rng = test_rng_for((uint64_t)(10000 + (_i * SV_MAX_RANK + rank) * 100 + k));
            resize_case c =
                random_case(&rng, rank, SV_RESIZE_LINEAR, coordinates, SV_NEAREST_FLOOR);
            check_case(dev, ref, &c, &rng);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Feature-map sized: [2, 16, 28, 28] up by 2 and down to 13 x 19, in both modes (index i:
 * mode i / 2, up or down i % 2): many work-groups. */
START_TEST(test_feature_map_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for(7777 + (uint64_t)_i);
    resize_case c;
    memset(&c, 0, sizeof c);
    c.p.mode = (sv_resize_mode)(_i / 2);
    c.p.coordinates = SV_COORD_HALF_PIXEL;
    c.rank = 4;
    const int64_t x_dims[4] = {2, 16, 28, 28}, up[4] = {2, 16, 56, 56}, down[4] = {2, 16, 13, 19};
    memcpy(c.x_dims, x_dims, sizeof x_dims);
    memcpy(c.y_dims, _i % 2 ? down : up, sizeof up);
    check_case(dev, ref, &c, &rng);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- hand-computed examples. Helpers run one [rows, cols] or [n] case on ref and device. */
static void expect_values(const resize_case *c, float *x, const float *expected, double atol,
                          const char *what) {
    const size_t ny = (size_t)test_count(c->rank, c->y_dims);
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        float *y = run_case(ctx, c, x);
        char where[160];
        snprintf(where, sizeof where, "%s on %s", what, test_spec_name(test_spec(s)));
        test_assert_close(y, expected, ny, atol, 0.0, where);
        free(y);
        sv_context_release(ctx);
    }
}

static resize_case small_case(int rank, const int64_t *x_dims, const int64_t *y_dims,
                              sv_resize_mode mode, sv_resize_coordinates coordinates,
                              sv_nearest_rounding rounding, float scale) {
    resize_case c = case_of(rank, mode, coordinates, rounding);
    for (int i = 0; i < rank; i++) {
        c.x_dims[i] = x_dims[i];
        c.y_dims[i] = y_dims[i];
        c.p.scales[i] = scale;
    }
    return c;
}

/* x = [[1, 2], [3, 4]] to 4 x 4. Half pixel: output o reads coordinate (o + 0.5) / 2 - 0.5 =
 * -0.25, 0.25, 0.75, 1.25. Nearest rounds these to cells 0 0 1 1: each input cell becomes a 2 x 2
 * block. Bilinear clamps them to 0, 0.25, 0.75, 1; the input is the plane 1 + 2r + c, which
 * bilinear interpolation reproduces, so output (i, j) is 1 + 2 R[i] + R[j]. Align corners reads
 * o * (2 - 1) / (4 - 1) = 0, 1/3, 2/3, 1 instead. The scale comes as 2 and as 0 (from the sizes),
 * which must agree. */
START_TEST(test_upsample_2x2_to_4x4) {
    const int64_t x_dims[2] = {2, 2}, y_dims[2] = {4, 4};
    float x[4] = {1, 2, 3, 4};
    const float nearest[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    const float r_half[4] = {0, 0.25f, 0.75f, 1};
    float bilinear[16], corners[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            bilinear[i * 4 + j] = 1 + 2 * r_half[i] + r_half[j];
            corners[i * 4 + j] = (float)(1 + 2 * (i / 3.0) + j / 3.0);
        }
    for (int from_sizes = 0; from_sizes < 2; from_sizes++) {
        const float scale = from_sizes ? 0.0f : 2.0f;
        resize_case c = small_case(2, x_dims, y_dims, SV_RESIZE_NEAREST, SV_COORD_HALF_PIXEL,
                                   SV_NEAREST_ROUND_PREFER_FLOOR, scale);
        expect_values(&c, x, nearest, 0.0, "nearest 2x2 -> 4x4");
        c.p.mode = SV_RESIZE_LINEAR;
        /* quarters of small integers: exact in fp32 */
        expect_values(&c, x, bilinear, 0.0, "bilinear 2x2 -> 4x4");
        c.p.coordinates = SV_COORD_ALIGN_CORNERS;
        /* thirds: a few ulp of values up to 4 */
        expect_values(&c, x, corners, 4 * 4 * FLT_EPSILON, "bilinear align corners 2x2 -> 4x4");
    }
}
END_TEST

/* The rounding rules on 1-D inputs, asymmetric (coordinate o / scale):
 *   [10, 20] x 2:          coordinates 0, 0.5, 1, 1.5 (ties at 0.5 and 1.5, the last clamped)
 *   [10, 20, 30] to 5:     coordinates 0, 0.6, 1.2, 1.8, 2.4 */
START_TEST(test_nearest_rounding_rules) {
    static const struct {
        sv_nearest_rounding rounding;
        float twice[4], to_five[5];
    } rows[] = {
        {SV_NEAREST_ROUND_PREFER_FLOOR, {10, 10, 20, 20}, {10, 20, 20, 30, 30}},
        {SV_NEAREST_ROUND_PREFER_CEIL, {10, 20, 20, 20}, {10, 20, 20, 30, 30}},
        {SV_NEAREST_FLOOR, {10, 10, 20, 20}, {10, 10, 20, 20, 30}},
        {SV_NEAREST_CEIL, {10, 20, 20, 20}, {10, 20, 30, 30, 30}},
    };
    for (size_t m = 0; m < sizeof rows / sizeof rows[0]; m++) {
        float two[2] = {10, 20}, three[3] = {10, 20, 30};
        const int64_t n2 = 2, n4 = 4, n3 = 3, n5 = 5;
        resize_case c =
            small_case(1, &n2, &n4, SV_RESIZE_NEAREST, SV_COORD_ASYMMETRIC, rows[m].rounding, 2.0f);
        expect_values(&c, two, rows[m].twice, 0.0, "[10, 20] x 2");
        c = small_case(1, &n3, &n5, SV_RESIZE_NEAREST, SV_COORD_ASYMMETRIC, rows[m].rounding, 0.0f);
        expect_values(&c, three, rows[m].to_five, 0.0, "[10, 20, 30] to 5");
    }
}
END_TEST

/* A one-cell output from [10, 20, 30, 40] (scale from the sizes, 1/4): half pixel reads
 * (0 + 0.5) * 4 - 0.5 = 1.5, the others read 0 (asymmetric 0 / s, align corners and pytorch half
 * pixel by their out == 1 rule). Linear: 25 for half pixel, else 10; nearest at 1.5: 20 or 30. */
START_TEST(test_one_cell_output) {
    static const struct {
        sv_resize_mode mode;
        sv_resize_coordinates coordinates;
        sv_nearest_rounding rounding;
        float expected;
    } rows[] = {
        {SV_RESIZE_LINEAR, SV_COORD_HALF_PIXEL, SV_NEAREST_FLOOR, 25},
        {SV_RESIZE_LINEAR, SV_COORD_PYTORCH_HALF_PIXEL, SV_NEAREST_FLOOR, 10},
        {SV_RESIZE_LINEAR, SV_COORD_ALIGN_CORNERS, SV_NEAREST_FLOOR, 10},
        {SV_RESIZE_LINEAR, SV_COORD_ASYMMETRIC, SV_NEAREST_FLOOR, 10},
        {SV_RESIZE_NEAREST, SV_COORD_HALF_PIXEL, SV_NEAREST_ROUND_PREFER_FLOOR, 20},
        {SV_RESIZE_NEAREST, SV_COORD_HALF_PIXEL, SV_NEAREST_ROUND_PREFER_CEIL, 30},
        {SV_RESIZE_NEAREST, SV_COORD_PYTORCH_HALF_PIXEL, SV_NEAREST_ROUND_PREFER_CEIL, 10},
    };
    for (size_t m = 0; m < sizeof rows / sizeof rows[0]; m++) {
        float x[4] = {10, 20, 30, 40};
        const int64_t n4 = 4, n1 = 1;
        resize_case c =
            small_case(1, &n4, &n1, rows[m].mode, rows[m].coordinates, rows[m].rounding, 0.0f);
        char what[64];
        snprintf(what, sizeof what, "one cell, row %zu", m);
        expect_values(&c, x, &rows[m].expected, 0.0, what);
    }
}
END_TEST

/* --- invalid calls: each row breaks one rule of a valid call (x [2, 3, 4, 5] -> y [2, 3, 8, 10],
 * nearest, scales from the sizes) and names the status and a phrase the message must contain. */
static const test_invalid_row invalid_rows[] = {
    {"unknown mode", SV_INVALID_ARGUMENT, "unknown mode 5"},
    {"unknown coordinate transformation", SV_INVALID_ARGUMENT,
     "unknown coordinate transformation 9"},
    {"unknown rounding", SV_INVALID_ARGUMENT, "unknown nearest rounding 4"},
    {"negative scale", SV_INVALID_ARGUMENT, "scale -2 of axis 1"},
    {"NaN scale", SV_INVALID_ARGUMENT, "of axis 2 must be > 0"},
    {"infinite scale", SV_INVALID_ARGUMENT, "of axis 3 must be > 0"},
    {"output of another rank", SV_SHAPE_MISMATCH, "input has rank 4 but output has rank 3"},
    {"linear resizing the batch", SV_UNSUPPORTED, "axis 0 goes from 2 to 3"},
    {"linear scaling the channels", SV_UNSUPPORTED, "axis 1 goes from 3 to 3 with scale 2"},
    {"NULL parameters", SV_INVALID_ARGUMENT, "NULL parameters"},
    {"output shares the input's storage", SV_INVALID_ARGUMENT, "shares storage"},
    {"NULL input", SV_INVALID_ARGUMENT, "tensor argument 1 is NULL"},
    {"output on another context", SV_WRONG_CONTEXT, "another context"},
};

START_TEST(test_invalid_calls_are_rejected) {
    const test_invalid_row *row = &invalid_rows[_i];
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t x_dims[4] = {2, 3, 4, 5}, y_dims[4] = {2, 3, 8, 10};
        const int64_t batch3[4] = {3, 3, 8, 10}, rank3[3] = {6, 8, 10}, same[4] = {2, 3, 4, 5};
        sv_tensor *x, *y, *y_batch3, *y_rank3, *alias, *foreign;
        ck_assert_int_eq(sv_tensor_create(ctx, 4, x_dims, &x), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 4, y_dims, &y), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 4, batch3, &y_batch3), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 3, rank3, &y_rank3), SV_OK);
        ck_assert_int_eq(sv_tensor_reshape(x, 4, same, &alias), SV_OK);
        ck_assert_int_eq(sv_tensor_create(other, 4, y_dims, &foreign), SV_OK);
        sv_resize_params p;
        memset(&p, 0, sizeof p);
        p.mode = SV_RESIZE_NEAREST;
        TEST_ASSERT_STATUS(sv_resize(ctx, &p, x, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        const sv_tensor *in = x;
        sv_tensor *out = y;
        const sv_resize_params *pp = &p;
        switch (_i) {
        case 0: p.mode = (sv_resize_mode)5; break;
        case 1: p.coordinates = (sv_resize_coordinates)9; break;
        case 2: p.rounding = (sv_nearest_rounding)4; break;
        case 3: p.scales[1] = -2.0f; break;
        case 4: p.scales[2] = NAN; break;
        case 5: p.scales[3] = INFINITY; break;
        case 6: out = y_rank3; break;
        case 7: p.mode = SV_RESIZE_LINEAR, out = y_batch3; break;
        case 8: p.mode = SV_RESIZE_LINEAR, p.scales[1] = 2.0f; break;
        case 9: pp = NULL; break;
        case 10: in = alias, out = x; break;
        case 11: in = NULL; break;
        case 12: out = foreign; break;
        default: ck_abort_msg("no rule %d", _i);
        }
        sv_status st = sv_resize(ctx, pp, in, out);
        test_assert_call_rejected(row, ctx, test_spec(s), st, NULL);
        sv_tensor_release(x), sv_tensor_release(y), sv_tensor_release(y_batch3);
        sv_tensor_release(y_rank3), sv_tensor_release(alias), sv_tensor_release(foreign);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

static Suite *resize_suite(void) {
    Suite *s = suite_create("resize");
    TCase *sweep = test_add_case(s, "random sweep against ref", 300);
    tcase_add_loop_test(sweep, test_nearest_sweep_matches_reference, 0,
                        COORDINATE_MODES * ROUNDINGS);
    tcase_add_loop_test(sweep, test_linear_sweep_matches_reference, 0, COORDINATE_MODES);
    tcase_add_loop_test(sweep, test_feature_map_matches_reference, 0, 4);
    TCase *known = test_add_case(s, "hand-computed", 120);
    tcase_add_test(known, test_upsample_2x2_to_4x4);
    tcase_add_test(known, test_nearest_rounding_rules);
    tcase_add_test(known, test_one_cell_output);
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_invalid_calls_are_rejected, 0, TEST_COUNT_OF(invalid_rows));
    return s;
}

TEST_MAIN(resize_suite)
