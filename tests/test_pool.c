/* Pooling: the default OpenCL device against the reference path on randomized sweeps over every
 * kind and attribute; small poolings against hand-computed values; invalid parameters against
 * the errors they must give. */
#include "test_support.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- tolerances ---------------------------------------------------------------------------
 * Max pooling and its indices select an input value and a position: compared with ==.
 *
 * The sums: fp32 summation of T terms (in any order) is off from the exact sum by at most
 * gamma_T * sum|terms|, gamma_T = T*u/(1 - T*u), u = 2^-24 (Higham, "Accuracy and Stability of
 * Numerical Algorithms", 2nd ed., section 4.2). T is the window's tap count (the plane's size for
 * global pooling), an upper bound on the cells summed. OpenCL 1.2 allows fp32 division 2.5 ulp,
 * sqrt 3 ulp and pow 16 ulp; one ulp is at most FLT_EPSILON relative; the reference's rounding
 * to fp32 adds half an ulp.
 *  - average: |y - r| <= gamma_T * mean|x| + AVG_RTOL * |r|; mean|x| is computed per element as
 *    the reference average of |x|; AVG_RTOL covers the division and the reference's rounding.
 *  - RMS: the squares are non-negative, so the sum is off by at most gamma_{T+1} relative
 *    (squaring rounds once more); the division adds 2.5 ulp, the square root halves both and
 *    adds 3 ulp, the reference 1 ulp: rtol = (gamma_{T+1} + 3 eps) / 2 + 4 eps.
 *  - Lp: each term |x|^p is off by at most 16 ulp (exact for p = 1, 0.5 ulp for p = 2), so the sum
 *    by gamma_T + 16 eps relative, which the root divides by p; the root itself is off by 16 ulp,
 *    and 1/p rounded to fp32 (relative error u) moves S^(1/p) by u * |ln S^(1/p)| relative:
 *    rtol = (gamma_T + 16 eps) / p + 16 eps + u * |ln r| + eps. */
#define AVG_RTOL (4 * FLT_EPSILON)
#define POW_ERROR (16 * FLT_EPSILON)

static double rms_rtol(long taps) {
    return 0.5 * (test_summation_gamma(TEST_UNIT_ROUNDOFF, taps + 1) + 3 * FLT_EPSILON) +
           4 * FLT_EPSILON;
}

static double lp_rtol(long taps, double p, double r) {
    const double log_term = r > 0 ? TEST_UNIT_ROUNDOFF * fabs(log(r)) : 0.0;
    return (test_summation_gamma(TEST_UNIT_ROUNDOFF, taps) + POW_ERROR) / p + POW_ERROR + log_term +
           FLT_EPSILON;
}

typedef struct pool_case {
    sv_pool_params p;
    int rank;
    int64_t x_dims[4], y_dims[4];
    int with_indices;
    int ties; /* inputs rounded to multiples of 1/4, so that windows hold equal maxima */
} pool_case;

/* Taps of one window: an upper bound on the terms each output sums. */
static long taps_of(const pool_case *c) {
    long taps = 1;
    for (int i = 0; i < c->p.spatial_dims; i++)
        taps *= c->p.global ? (long)c->x_dims[2 + i] : (long)c->p.kernel[i];
    return taps;
}

/* Draws a valid case: batch 1..3, channels 1..4, odd and even sizes, kernel 1..4 (5 in 1-D),
 * stride and dilation 1..3, asymmetric pads below the kernel extent (at most 3). Global cases
 * fill kernel, stride and pads with values that would be invalid, since they must be ignored. */
static pool_case random_case(test_rng *rng, int spatial_dims, sv_pool_kind kind, int ceil_mode,
                             int count_include_pad, int global) {
    pool_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_pool_params_default(spatial_dims, kind);
    c.p.ceil_mode = ceil_mode;
    c.p.count_include_pad = count_include_pad;
    c.p.global = global;
    static const float orders[] = {1.0f, 2.0f, 3.0f, 0.5f};
    const int order = test_int(rng, 0, 4);
    c.p.p = order < 4 ? orders[order] : test_float(rng, 0.3f, 4.0f);
    c.rank = spatial_dims + 2;
    c.with_indices = kind == SV_POOL_MAX && test_int(rng, 0, 1);
    c.ties = kind == SV_POOL_MAX && test_int(rng, 0, 1);
    c.x_dims[0] = test_int(rng, 1, 3);
    c.x_dims[1] = test_int(rng, 1, 4);
    for (int i = 0; i < spatial_dims; i++) {
        c.x_dims[2 + i] = test_int(rng, 1, spatial_dims == 1 ? 40 : 17);
        if (global) {
            c.p.kernel[i] = test_int(rng, -2, 0);
            c.p.stride[i] = 0;
            c.p.pad_begin[i] = c.p.pad_end[i] = -test_int(rng, 1, 3);
            continue;
        }
        const int k = test_int(rng, 1, spatial_dims == 1 ? 5 : 4), d = test_int(rng, 1, 3);
        const int extent = d * (k - 1) + 1, max_pad = extent - 1 < 3 ? extent - 1 : 3;
        c.p.kernel[i] = k;
        c.p.dilation[i] = d;
        c.p.stride[i] = test_int(rng, 1, 3);
        c.p.pad_begin[i] = test_int(rng, 0, max_pad);
        c.p.pad_end[i] = test_int(rng, 0, max_pad);
        while (extent > c.x_dims[2 + i] + c.p.pad_begin[i] + c.p.pad_end[i])
            c.x_dims[2 + i]++;
    }
    /* a dilation larger than the input can leave a window in the padding only: grow such axes */
    sv_message msg;
    sv_status st;
    while ((st = sv_pool_output_shape(&c.p, c.rank, c.x_dims, c.y_dims, &msg)) != SV_OK &&
           strstr(msg.text, "covers only padding"))
        for (int i = 0; i < spatial_dims; i++)
            if (c.p.dilation[i] > c.x_dims[2 + i])
                c.x_dims[2 + i]++;
    ck_assert_msg(st == SV_OK, "generated case rejected: %s", msg.text);
    return c;
}

static void describe(const pool_case *c, char *buf, size_t size) {
    const sv_pool_params *p = &c->p;
    char x[96];
    test_format_dims(x, sizeof x, c->rank, c->x_dims);
    snprintf(buf, size,
             "pool%dd kind %d x[%s] global %d kernel %d,%d stride %d,%d dil %d,%d pad %d,%d/%d,%d "
             "ceil %d count_include_pad %d p %g indices %d ties %d",
             p->spatial_dims, (int)p->kind, x, p->global, p->kernel[0], p->kernel[1], p->stride[0],
             p->stride[1], p->dilation[0], p->dilation[1], p->pad_begin[0], p->pad_begin[1],
             p->pad_end[0], p->pad_end[1], p->ceil_mode, p->count_include_pad, (double)p->p,
             c->with_indices, c->ties);
}

/* Runs the case on ctx; returns the downloaded output and, when asked, the indices (caller
 * frees both). */
static float *run_case(sv_context *ctx, const pool_case *c, const sv_pool_params *p, float *x,
                       float **indices) {
    sv_tensor *xt = test_tensor_from(ctx, x, c->rank, c->x_dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->y_dims);
    sv_tensor *it = indices ? test_tensor_poisoned(ctx, c->rank, c->y_dims) : NULL;
    sv_status st = sv_pool(ctx, p, xt, yt, it);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    float *y = test_download(yt);
    if (indices)
        *indices = test_download(it);
    sv_tensor_release(xt);
    sv_tensor_release(yt);
    sv_tensor_release(it);
    return y;
}

/* Exact comparison of every element of the values or (`which`) the indices. */
static void assert_equal(const float *y, const float *r, size_t n, const char *what,
                         const char *which) {
    char both[640];
    snprintf(both, sizeof both, "%s: %s", what, which);
    test_assert_equal(y, r, n, both);
}

/* Compares the device with the reference on one case, element by element. */
static void check_case(sv_context *dev, sv_context *ref, const pool_case *c, test_rng *rng) {
    const size_t nx = (size_t)test_count(c->rank, c->x_dims);
    const size_t ny = (size_t)test_count(c->rank, c->y_dims);
    float *x = test_random_array(rng, nx, -1.0f, 1.0f);
    for (size_t i = 0; i < nx && c->ties; i++)
        x[i] = roundf(x[i] * 4.0f) / 4.0f;
    float *ax = test_absolute_copy(x, nx);
    float *yi = NULL, *ri = NULL;
    float *y = run_case(dev, c, &c->p, x, c->with_indices ? &yi : NULL);
    float *r = run_case(ref, c, &c->p, x, c->with_indices ? &ri : NULL);
    char what[512];
    describe(c, what, sizeof what);

    const long taps = taps_of(c);
    if (c->p.kind == SV_POOL_MAX) {
        assert_equal(y, r, ny, what, "values");
        if (c->with_indices)
            assert_equal(yi, ri, ny, what, "indices");
    } else {
        float *magnitude = c->p.kind == SV_POOL_AVERAGE ? run_case(ref, c, &c->p, ax, NULL) : NULL;
        double *bound = malloc(ny * sizeof *bound);
        ck_assert_ptr_nonnull(bound);
        for (size_t i = 0; i < ny; i++) {
            const double rv = fabs((double)r[i]);
            switch (c->p.kind) {
            case SV_POOL_AVERAGE:
                bound[i] =
                    test_summation_gamma(TEST_UNIT_ROUNDOFF, taps) * magnitude[i] + AVG_RTOL * rv;
                break;
            case SV_POOL_RMS: bound[i] = rms_rtol(taps) * rv; break;
            default: bound[i] = lp_rtol(taps, c->p.p, rv) * rv; break;
            }
        }
        test_assert_bounded(y, r, bound, ny, what);
        free(magnitude), free(bound);
    }
    free(x), free(ax), free(y), free(r), free(yi), free(ri);
}

enum { KINDS = SV_POOL_RMS + 1, CASES_PER_COMBINATION = 3, GLOBAL_CASES = 4 };

/* Loop index i: spatial dims (i / KINDS + 1) and kind (i % KINDS); inside, every combination of
 * ceil_mode and count_include_pad with a few random shapes each, then global pooling. */
START_TEST(test_random_sweep_matches_reference) {
    const int spatial_dims = _i / KINDS + 1;
    const sv_pool_kind kind = (sv_pool_kind)(_i % KINDS);
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int ceil_mode = 0; ceil_mode < 2; ceil_mode++)
        for (int include_pad = 0; include_pad < 2; include_pad++)
            for (int k = 0; k < CASES_PER_COMBINATION; k++) {
                const int combination = (_i * 2 + ceil_mode) * 2 + include_pad;
                test_rng rng = test_rng_for((uint64_t)(combination * 100 + k));
                pool_case c = random_case(&rng, spatial_dims, kind, ceil_mode, include_pad, 0);
                check_case(dev, ref, &c, &rng);
            }
    for (int k = 0; k < GLOBAL_CASES; k++) {
        test_rng rng = test_rng_for((uint64_t)(100000 + _i * 100 + k));
        pool_case c = random_case(&rng, spatial_dims, kind, k & 1, k >> 1 & 1, 1);
        check_case(dev, ref, &c, &rng);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Layer-sized poolings: ResNet's stem max pooling (3x3, stride 2, pad 1 on 2x64x56x56), a 2x2
 * average pooling, and global pooling of planes large enough for the cooperative kernel, with
 * ties between its work-items (the 1/4-rounded inputs of a max pooling). Loop index: the kind. */
START_TEST(test_network_layers_match_reference) {
    const sv_pool_kind kind = (sv_pool_kind)_i;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for((uint64_t)(200000 + _i));
    pool_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_pool_params_default(2, kind);
    c.p.p = 3.0f;
    c.rank = 4;
    c.with_indices = c.ties = kind == SV_POOL_MAX;
    const int64_t stem[4] = {2, 64, 56, 56};
    memcpy(c.x_dims, stem, sizeof stem);
    for (int i = 0; i < 2; i++) {
        c.p.kernel[i] = 3;
        c.p.pad_begin[i] = c.p.pad_end[i] = 1;
    }
    ck_assert_int_eq(sv_pool_output_shape(&c.p, 4, c.x_dims, c.y_dims, NULL), SV_OK);
    check_case(dev, ref, &c, &rng);

    c.p = sv_pool_params_default(2, kind);
    c.p.count_include_pad = 1;
    const int64_t pairs[4] = {1, 32, 28, 28};
    memcpy(c.x_dims, pairs, sizeof pairs);
    ck_assert_int_eq(sv_pool_output_shape(&c.p, 4, c.x_dims, c.y_dims, NULL), SV_OK);
    check_case(dev, ref, &c, &rng);

    c.p.global = 1;
    const int64_t plane2d[4] = {2, 3, 37, 41}, plane1d[3] = {1, 2, 1000};
    memcpy(c.x_dims, plane2d, sizeof plane2d);
    ck_assert_int_eq(sv_pool_output_shape(&c.p, 4, c.x_dims, c.y_dims, NULL), SV_OK);
    check_case(dev, ref, &c, &rng);
    c.p.spatial_dims = 1;
    c.rank = 3;
    memcpy(c.x_dims, plane1d, sizeof plane1d);
    ck_assert_int_eq(sv_pool_output_shape(&c.p, 3, c.x_dims, c.y_dims, NULL), SV_OK);
    check_case(dev, ref, &c, &rng);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- hand-computed examples, each run on the reference (loop index 0) and the device (1). */

/* Runs one example and returns its output (and indices, when asked); y_dims must be the shape
 * sv_pool_output_shape gives. */
static float *run_example(sv_context *ctx, const sv_pool_params *p, int rank, const int64_t *x_dims,
                          const int64_t *y_dims, float *x, float **indices) {
    pool_case c;
    memset(&c, 0, sizeof c);
    c.p = *p;
    c.rank = rank;
    memcpy(c.x_dims, x_dims, (size_t)rank * sizeof *x_dims);
    ck_assert_int_eq(sv_pool_output_shape(p, rank, x_dims, c.y_dims, NULL), SV_OK);
    for (int i = 0; i < rank; i++)
        ck_assert_msg(c.y_dims[i] == y_dims[i], "output dim %d is %lld, want %lld", i,
                      (long long)c.y_dims[i], (long long)y_dims[i]);
    return run_case(ctx, &c, p, x, indices);
}

/* 2x2 pooling with stride 2 of a 4x4 image. Max: the largest of each quadrant and its position
 * h * 4 + w (5 at (1,0), 8 at (1,3), -1 at (2,0), 7 at (2,2)). Average: (2+3+5-2)/4 = 2,
 * (2+0+2+8)/4 = 3, (-1-6-4-5)/4 = -4, (7+3+4+2)/4 = 4. */
START_TEST(test_quadrant_pooling) {
    sv_context *ctx = test_context(test_spec(_i));
    float x[16] = {2, 3, 2, 0, 5, -2, 2, 8, -1, -6, 7, 3, -4, -5, 4, 2};
    const int64_t x_dims[4] = {1, 1, 4, 4}, y_dims[4] = {1, 1, 2, 2};
    const float want_max[4] = {5, 8, -1, 7}, want_index[4] = {4, 7, 8, 10};
    const float want_average[4] = {2, 3, -4, 4};
    sv_pool_params p = sv_pool_params_default(2, SV_POOL_MAX);
    float *indices;
    float *y = run_example(ctx, &p, 4, x_dims, y_dims, x, &indices);
    assert_equal(y, want_max, 4, "2x2 max pooling", "values");
    assert_equal(indices, want_index, 4, "2x2 max pooling", "indices");
    free(y), free(indices);
    p.kind = SV_POOL_AVERAGE;
    y = run_example(ctx, &p, 4, x_dims, y_dims, x, NULL);
    /* sums of four small integers are exact; the division may be 2.5 ulp off on OpenCL */
    test_assert_close(y, want_average, 4, 0, AVG_RTOL, "2x2 average pooling");
    free(y);
    sv_context_release(ctx);
}
END_TEST

/* ceil_mode on the 4x4 image 1..16 with a 3x3 kernel and stride 2: (4 - 3) / 2 rounds up to a
 * second window at row/column 2 that covers rows/columns 2..3 only. Max: 11, 12, 15, 16. Average
 * over the cells inside: (1+2+3+5+6+7+9+10+11)/9 = 6, (3+4+7+8+11+12)/6 = 7.5, (9+10+11+13+14+
 * 15)/6 = 12, (11+12+15+16)/4 = 13.5. Floor mode keeps the first window only. */
START_TEST(test_ceil_mode_pooling) {
    sv_context *ctx = test_context(test_spec(_i));
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    const int64_t x_dims[4] = {1, 1, 4, 4}, ceil_dims[4] = {1, 1, 2, 2},
                  floor_dims[4] = {1, 1, 1, 1};
    sv_pool_params p = sv_pool_params_default(2, SV_POOL_MAX);
    p.kernel[0] = p.kernel[1] = 3;
    p.ceil_mode = 1;
    const float want_max[4] = {11, 12, 15, 16}, want_average[4] = {6, 7.5f, 12, 13.5f};
    float *y = run_example(ctx, &p, 4, x_dims, ceil_dims, x, NULL);
    assert_equal(y, want_max, 4, "ceil-mode max pooling", "values");
    free(y);
    p.kind = SV_POOL_AVERAGE;
    y = run_example(ctx, &p, 4, x_dims, ceil_dims, x, NULL);
    test_assert_close(y, want_average, 4, 0, AVG_RTOL, "ceil-mode average pooling");
    free(y);
    p.ceil_mode = 0;
    y = run_example(ctx, &p, 4, x_dims, floor_dims, x, NULL);
    test_assert_close(y, want_average, 1, 0, AVG_RTOL, "floor-mode average pooling");
    free(y);
    sv_context_release(ctx);
}
END_TEST

/* 1-D ceil_mode with padding. x = 1..6, kernel 2, stride 2, pad 1 at the start: (7 - 2) / 2 rounds
 * up to 4 windows, {pad, 1}, {2, 3}, {4, 5}, {6, past the end}. With count_include_pad the
 * begin pad counts and the cell past the end (which exists only through ceil_mode) does not:
 * 1/2, 5/2, 9/2, 6/1; without it: 1, 2.5, 4.5, 6.
 * Then x = 1..4, kernel 2, stride 3, pads 1 and 1, ceil_mode: (6 - 2) / 3 rounds up to 3 windows,
 * but the third would start at padded position 6 >= 4 + 1, in the end padding, and is dropped:
 * {pad, 1} and {3, 4} give max 1 and 4. */
START_TEST(test_ceil_mode_padding_rules) {
    sv_context *ctx = test_context(test_spec(_i));
    float x[6] = {1, 2, 3, 4, 5, 6};
    const int64_t x_dims[3] = {1, 1, 6}, y_dims[3] = {1, 1, 4};
    sv_pool_params p = sv_pool_params_default(1, SV_POOL_AVERAGE);
    p.pad_begin[0] = 1;
    p.ceil_mode = 1;
    const float want_excluded[4] = {1, 2.5f, 4.5f, 6}, want_included[4] = {0.5f, 2.5f, 4.5f, 6};
    float *y = run_example(ctx, &p, 3, x_dims, y_dims, x, NULL);
    test_assert_close(y, want_excluded, 4, 0, AVG_RTOL, "ceil-mode average, pads excluded");
    free(y);
    p.count_include_pad = 1;
    y = run_example(ctx, &p, 3, x_dims, y_dims, x, NULL);
    test_assert_close(y, want_included, 4, 0, AVG_RTOL, "ceil-mode average, pads included");
    free(y);

    const int64_t short_dims[3] = {1, 1, 4}, dropped_dims[3] = {1, 1, 2};
    p = sv_pool_params_default(1, SV_POOL_MAX);
    p.stride[0] = 3;
    p.pad_begin[0] = p.pad_end[0] = 1;
    p.ceil_mode = 1;
    const float want_dropped[2] = {1, 4}, want_dropped_index[2] = {0, 3};
    float *indices;
    y = run_example(ctx, &p, 3, short_dims, dropped_dims, x, &indices);
    assert_equal(y, want_dropped, 2, "ceil-mode window in the end padding", "values");
    assert_equal(indices, want_dropped_index, 2, "ceil-mode window in the end padding", "indices");
    free(y), free(indices);
    sv_context_release(ctx);
}
END_TEST

/* Max pooling with indices, kernel 2, stride 1, pad 1 on each side, of two 3x3 channels with ties
 * and negative cells (which a padded zero must not beat):
 *   channel 0:  1  3 -1     channel 1 = -channel 0
 *               2  3 -2
 *               3  1  3
 * Output (i, j) covers rows i-1..i and columns j-1..j. E.g. channel 0, (1,1): 1, 3, 2, 3 -> 3 at
 * its first position (0,1) = 1; (0,3): only -1 at (0,2) = 2; channel 1, (1,2): -3, 1, -3, 2 -> 2
 * at (1,2) = 5. Indices restart at 0 in every channel. */
START_TEST(test_argmax_with_padding_and_ties) {
    sv_context *ctx = test_context(test_spec(_i));
    float x[18] = {1, 3, -1, 2, 3, -2, 3, 1, 3};
    for (int i = 0; i < 9; i++)
        x[9 + i] = -x[i];
    const int64_t x_dims[4] = {1, 2, 3, 3}, y_dims[4] = {1, 2, 4, 4};
    const float want[32] = {1,  3,  3, -1, 2,  3,  3, -1, 3,  3,  3, 3, 3,  3,  3,  3,
                            -1, -1, 1, 1,  -1, -1, 2, 2,  -2, -1, 2, 2, -3, -1, -1, -3};
    const float want_index[32] = {0, 1, 1, 2, 3, 1, 1, 2, 6, 4, 4, 8, 6, 6, 8, 8,
                                  0, 0, 2, 2, 0, 0, 5, 5, 3, 7, 5, 5, 6, 7, 7, 8};
    sv_pool_params p = sv_pool_params_default(2, SV_POOL_MAX);
    p.stride[0] = p.stride[1] = 1;
    p.pad_begin[0] = p.pad_begin[1] = p.pad_end[0] = p.pad_end[1] = 1;
    float *indices;
    float *y = run_example(ctx, &p, 4, x_dims, y_dims, x, &indices);
    assert_equal(y, want, 32, "padded max pooling with ties", "values");
    assert_equal(indices, want_index, 32, "padded max pooling with ties", "indices");
    free(y), free(indices);
    sv_context_release(ctx);
}
END_TEST

/* Lp and RMS over pairs (kernel 2, stride 2) and one triple:
 *   L2 of 3,-4 | 0,12 | 5,-12 = 5, 12, 13;  L1 = 7, 12, 17;  L0.5 of 1,4 = (1 + 2)^2 = 9;
 *   L3 of 3,-4,-5 = (27 + 64 + 125)^(1/3) = 6;  RMS of 1,7 | -5,5 | 1,-1 = 5, 5, 1. */
START_TEST(test_lp_and_rms_pooling) {
    sv_context *ctx = test_context(test_spec(_i));
    float pairs[6] = {3, -4, 0, 12, 5, -12}, quarter[2] = {1, 4}, triple[3] = {3, -4, -5};
    float rms_pairs[6] = {1, 7, -5, 5, 1, -1};
    const int64_t pairs_dims[3] = {1, 1, 6}, pairs_out[3] = {1, 1, 3};
    const int64_t two[3] = {1, 1, 2}, three[3] = {1, 1, 3}, one[3] = {1, 1, 1};
    const float want_l2[3] = {5, 12, 13}, want_l1[3] = {7, 12, 17}, want_l05[1] = {9};
    const float want_l3[1] = {6}, want_rms[3] = {5, 5, 1};
    /* pow may be 16 ulp off for each term and for the root: 48 ulp covers every case here */
    const double rtol = 48 * FLT_EPSILON;
    sv_pool_params p = sv_pool_params_default(1, SV_POOL_LP);
    float *y = run_example(ctx, &p, 3, pairs_dims, pairs_out, pairs, NULL);
    test_assert_close(y, want_l2, 3, 0, rtol, "L2 pooling");
    free(y);
    p.p = 1;
    y = run_example(ctx, &p, 3, pairs_dims, pairs_out, pairs, NULL);
    test_assert_close(y, want_l1, 3, 0, rtol, "L1 pooling");
    free(y);
    p.p = 0.5f;
    y = run_example(ctx, &p, 3, two, one, quarter, NULL);
    test_assert_close(y, want_l05, 1, 0, rtol, "L0.5 pooling");
    free(y);
    p.p = 3;
    p.global = 1;
    y = run_example(ctx, &p, 3, three, one, triple, NULL);
    test_assert_close(y, want_l3, 1, 0, rtol, "global L3 pooling");
    free(y);
    p = sv_pool_params_default(1, SV_POOL_RMS);
    y = run_example(ctx, &p, 3, pairs_dims, pairs_out, rms_pairs, NULL);
    test_assert_close(y, want_rms, 3, 0, rtol, "RMS pooling");
    free(y);
    sv_context_release(ctx);
}
END_TEST

/* A NaN in a max window wins, at its first position: 1-D 1, NaN, 3 | NaN, NaN, 2 with kernel and
 * stride 3 gives NaN at 1 and NaN at 3. The same through global pooling of a 300-cell plane (the
 * cooperative kernel on OpenCL) with NaNs at 250 and 37: NaN at 37. */
START_TEST(test_max_pooling_propagates_nan) {
    sv_context *ctx = test_context(test_spec(_i));
    float x[300] = {1, NAN, 3, NAN, NAN, 2};
    const int64_t x_dims[3] = {1, 1, 6}, y_dims[3] = {1, 1, 2};
    sv_pool_params p = sv_pool_params_default(1, SV_POOL_MAX);
    p.kernel[0] = p.stride[0] = 3;
    float *indices;
    float *y = run_example(ctx, &p, 3, x_dims, y_dims, x, &indices);
    ck_assert_msg(isnan(y[0]) && isnan(y[1]), "max of windows with NaN: %g %g", (double)y[0],
                  (double)y[1]);
    ck_assert_msg(indices[0] == 1 && indices[1] == 3, "NaN positions: %g %g", (double)indices[0],
                  (double)indices[1]);
    free(y), free(indices);
    for (int i = 0; i < 300; i++)
        x[i] = (float)(i % 17);
    x[250] = x[37] = NAN;
    const int64_t plane_dims[3] = {1, 1, 300}, one[3] = {1, 1, 1};
    p.global = 1;
    y = run_example(ctx, &p, 3, plane_dims, one, x, &indices);
    ck_assert_msg(isnan(y[0]) && indices[0] == 37, "global max with NaN: %g at %g", (double)y[0],
                  (double)indices[0]);
    free(y), free(indices);
    sv_context_release(ctx);
}
END_TEST

/* --- invalid parameters: each row breaks one rule of a valid 2-D case (x [2,3,7,7], max pooling,
 * kernel 3x3, stride 2, pads 1) and names the status and a phrase the message must contain. */
static const test_invalid_row invalid_rows[] = {
    {"kernel larger than padded input", SV_INVALID_ARGUMENT, "larger than the padded input"},
    {"dilated kernel larger than padded input", SV_INVALID_ARGUMENT,
     "larger than the padded input"},
    {"zero stride", SV_INVALID_ARGUMENT, "stride (0)"},
    {"zero dilation", SV_INVALID_ARGUMENT, "dilation (0)"},
    {"zero kernel", SV_INVALID_ARGUMENT, "kernel (0)"},
    {"negative pad", SV_INVALID_ARGUMENT, "must be >= 0"},
    {"begin pad equal to the kernel extent", SV_INVALID_ARGUMENT, "smaller than the kernel extent"},
    {"end pad larger than the kernel extent", SV_INVALID_ARGUMENT,
     "smaller than the kernel extent"},
    {"dilated window covering only padding", SV_INVALID_ARGUMENT, "covers only padding"},
    {"lp order zero", SV_INVALID_ARGUMENT, "p = 0"},
    {"lp order negative", SV_INVALID_ARGUMENT, "p = -2"},
    {"lp order NaN", SV_INVALID_ARGUMENT, "p = nan"},
    {"lp order infinite", SV_INVALID_ARGUMENT, "p = inf"},
    {"unknown kind", SV_INVALID_ARGUMENT, "unknown pooling kind 7"},
    {"3-D pooling", SV_UNSUPPORTED, "3 spatial dimensions"},
    {"rank does not match spatial dims", SV_SHAPE_MISMATCH, "expected 3"},
    {"zero-sized input dimension", SV_INVALID_ARGUMENT, "outside 1.."},
    {"ceil_mode not 0 or 1", SV_INVALID_ARGUMENT, "ceil_mode = 2"},
    {"global not 0 or 1", SV_INVALID_ARGUMENT, "global = -1"},
    {"count_include_pad not 0 or 1", SV_INVALID_ARGUMENT, "count_include_pad = 3"},
    {"zero-sized dimension under global pooling", SV_INVALID_ARGUMENT, "outside 1.."},
};

/* Breaks the rule of invalid_rows[row] in a valid case. */
static void break_rule(int row, sv_pool_params *p, int64_t *x) {
    switch (row) {
    case 0: p->kernel[0] = 10; break;
    case 1: p->dilation[1] = 5; break;
    case 2: p->stride[1] = 0; break;
    case 3: p->dilation[0] = 0; break;
    case 4: p->kernel[1] = 0; break;
    case 5: p->pad_begin[0] = -1; break;
    case 6: p->pad_begin[1] = 3; break;
    case 7: p->pad_end[0] = 4; break;
    case 8: /* taps at -1 and 2 of an input of 2 */
        x[3] = 2, p->kernel[1] = 2, p->dilation[1] = 3, p->pad_begin[1] = 1, p->pad_end[1] = 2;
        break;
    case 9: p->kind = SV_POOL_LP, p->p = 0; break;
    case 10: p->kind = SV_POOL_LP, p->p = -2; break;
    case 11: p->kind = SV_POOL_LP, p->p = NAN; break;
    case 12: p->kind = SV_POOL_LP, p->p = INFINITY; break;
    case 13: p->kind = (sv_pool_kind)7; break;
    case 14: p->spatial_dims = 3; break;
    case 15: p->spatial_dims = 1; break;
    case 16: x[2] = 0; break;
    case 17: p->ceil_mode = 2; break;
    case 18: p->global = -1; break;
    case 19: p->count_include_pad = 3; break;
    case 20: p->global = 1, x[0] = 0; break;
    default: ck_abort_msg("no rule %d", row);
    }
}

static sv_pool_params invalid_base(void) {
    sv_pool_params p = sv_pool_params_default(2, SV_POOL_MAX);
    for (int i = 0; i < 2; i++) {
        p.kernel[i] = 3;
        p.pad_begin[i] = p.pad_end[i] = 1;
    }
    return p;
}

START_TEST(test_invalid_parameters_are_rejected) {
    const test_invalid_row *row = &invalid_rows[_i];
    sv_pool_params p = invalid_base();
    const int rank = 4;
    int64_t x[4] = {2, 3, 7, 7}, y[4];
    sv_message msg = {{0}};
    ck_assert_int_eq(sv_pool_output_shape(&p, rank, x, y, &msg), SV_OK);
    ck_assert(y[2] == 4 && y[3] == 4);
    break_rule(_i, &p, x);
    test_poison_dims(y, 4);
    sv_status st = sv_pool_output_shape(&p, rank, x, y, &msg);
    test_assert_shape_rejected(row, st, msg.text, y, 4);

    /* the same through sv_pool on a context, where the input can exist as a tensor */
    int creatable = 1;
    for (int i = 0; i < rank; i++)
        creatable = creatable && x[i] >= 1;
    if (!creatable)
        return;
    sv_context *ctx = test_context("ref");
    const int64_t y_dims[4] = {2, 3, 4, 4};
    sv_tensor *xt, *yt;
    ck_assert_int_eq(sv_tensor_create(ctx, rank, x, &xt), SV_OK);
    ck_assert_int_eq(sv_tensor_create(ctx, 4, y_dims, &yt), SV_OK);
    st = sv_pool(ctx, &p, xt, yt, NULL);
    test_assert_rejected(row, "ref", st, sv_last_error(ctx));
    sv_tensor_release(xt), sv_tensor_release(yt);
    sv_context_release(ctx);
}
END_TEST

/* The tensor checks of sv_pool on a context, with the message in sv_last_error: output and
 * indices shapes, indices only for max pooling and never in the output's storage, NULL and
 * foreign tensors. */
START_TEST(test_invalid_call_reports_through_context) {
    sv_context *ctx = test_context(test_spec(_i)), *other = test_context("ref");
    const int64_t x_dims[4] = {2, 3, 7, 7}, y_dims[4] = {2, 3, 4, 4}, wrong[4] = {2, 3, 3, 3};
    const int64_t flat[1] = {96};
    sv_tensor *x, *y, *indices, *y_wrong, *foreign, *y_view;
    ck_assert_int_eq(sv_tensor_create(ctx, 4, x_dims, &x), SV_OK);
    ck_assert_int_eq(sv_tensor_create(ctx, 4, y_dims, &y), SV_OK);
    ck_assert_int_eq(sv_tensor_create(ctx, 4, y_dims, &indices), SV_OK);
    ck_assert_int_eq(sv_tensor_create(ctx, 4, wrong, &y_wrong), SV_OK);
    ck_assert_int_eq(sv_tensor_create(other, 4, y_dims, &foreign), SV_OK);
    ck_assert_int_eq(sv_tensor_reshape(y, 1, flat, &y_view), SV_OK);
    const int64_t y_again[4] = {2, 3, 4, 4};
    sv_tensor *y_same_storage;
    ck_assert_int_eq(sv_tensor_reshape(y_view, 4, y_again, &y_same_storage), SV_OK);
    float *zeros = calloc(2 * 3 * 7 * 7, sizeof *zeros);
    ck_assert_ptr_nonnull(zeros);
    ck_assert_int_eq(sv_tensor_upload(x, zeros, 2 * 3 * 7 * 7), SV_OK);
    free(zeros);

    sv_pool_params p = invalid_base();
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y, indices), SV_OK, ctx);
    ck_assert_str_eq(sv_last_error(ctx), "");
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y_wrong, NULL), SV_SHAPE_MISMATCH, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "expected [2, 3, 4, 4]"));
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y, y_wrong), SV_SHAPE_MISMATCH, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "pool (indices)"));
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y, y_same_storage), SV_INVALID_ARGUMENT, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "share the output"));
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y, NULL), SV_OK, ctx);
    static const sv_pool_kind not_max[3] = {SV_POOL_AVERAGE, SV_POOL_LP, SV_POOL_RMS};
    for (int k = 0; k < 3; k++) {
        p.kind = not_max[k];
        TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y, indices), SV_INVALID_ARGUMENT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "max pooling only"));
        TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y, NULL), SV_OK, ctx);
    }
    p.kind = SV_POOL_MAX;
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, NULL, y, NULL), SV_INVALID_ARGUMENT, ctx);
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, NULL, NULL), SV_INVALID_ARGUMENT, ctx);
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, foreign, NULL), SV_WRONG_CONTEXT, ctx);
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y, foreign), SV_WRONG_CONTEXT, ctx);
    TEST_ASSERT_STATUS(sv_pool(ctx, NULL, x, y, NULL), SV_INVALID_ARGUMENT, ctx);
    ck_assert_int_eq(sv_pool(NULL, &p, x, y, NULL), SV_INVALID_ARGUMENT);
    sv_tensor_release(x), sv_tensor_release(y), sv_tensor_release(indices);
    sv_tensor_release(y_wrong), sv_tensor_release(foreign), sv_tensor_release(y_view);
    sv_tensor_release(y_same_storage);
    sv_context_release(ctx);
    sv_context_release(other);
}
END_TEST

/* Indices are exact floats up to 2^24: a 4096x4096 plane is accepted (its global max, all cells
 * equal, is at 0), a 4097x4096 plane is refused. */
START_TEST(test_indices_limit_of_2_pow_24) {
    sv_context *ctx = test_context(test_spec(_i));
    const int64_t fits[4] = {1, 1, 4096, 4096}, too_big[4] = {1, 1, 4097, 4096};
    const int64_t one[4] = {1, 1, 1, 1};
    sv_pool_params p = sv_pool_params_default(2, SV_POOL_MAX);
    p.global = 1;
    float *zeros = calloc((size_t)4096 * 4096, sizeof *zeros);
    ck_assert_ptr_nonnull(zeros);
    sv_tensor *x = test_tensor_from(ctx, zeros, 4, fits);
    free(zeros);
    sv_tensor *y = test_tensor_poisoned(ctx, 4, one), *indices = test_tensor_poisoned(ctx, 4, one);
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y, indices), SV_OK, ctx);
    float value, position;
    ck_assert_int_eq(sv_tensor_download(y, &value, 1), SV_OK);
    ck_assert_int_eq(sv_tensor_download(indices, &position, 1), SV_OK);
    ck_assert_msg(value == 0 && position == 0, "max %g at %g", (double)value, (double)position);
    sv_tensor_release(x);
    ck_assert_int_eq(sv_tensor_create(ctx, 4, too_big, &x), SV_OK);
    TEST_ASSERT_STATUS(sv_pool(ctx, &p, x, y, indices), SV_UNSUPPORTED, ctx);
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "2^24"));
    sv_tensor_release(x), sv_tensor_release(y), sv_tensor_release(indices);
    sv_context_release(ctx);
}
END_TEST

static Suite *pool_suite(void) {
    Suite *s = suite_create("pool");
    TCase *sweep = test_add_case(s, "random sweep against ref", 300);
    tcase_add_loop_test(sweep, test_random_sweep_matches_reference, 0, 2 * KINDS);
    tcase_add_loop_test(sweep, test_network_layers_match_reference, 0, KINDS);
    TCase *known = test_add_case(s, "hand-computed", 120);
    tcase_add_loop_test(known, test_quadrant_pooling, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(known, test_ceil_mode_pooling, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(known, test_ceil_mode_padding_rules, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(known, test_argmax_with_padding_and_ties, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(known, test_lp_and_rms_pooling, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(known, test_max_pooling_propagates_nan, 0, TEST_SPEC_COUNT);
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_invalid_parameters_are_rejected, 0,
                        TEST_COUNT_OF(invalid_rows));
    tcase_add_loop_test(invalid, test_invalid_call_reports_through_context, 0, TEST_SPEC_COUNT);
    tcase_add_loop_test(invalid, test_indices_limit_of_2_pow_24, 0, TEST_SPEC_COUNT);
    return s;
}

TEST_MAIN(pool_suite)
