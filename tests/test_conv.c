/* Convolution: the default OpenCL device against the reference path on randomized sweeps over
 * every parameter; the classic image kernels against hand-computed values; invalid parameters
 * against the errors they must give. */
#include "test_support.h"

#include "core/internal.h"
#include "ops/conv_algorithm.h"

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

/* Winograd F(m x m, 3 x 3) computes output (i, j) of a tile from the tile's padded input patch d
 * (ALPHA x ALPHA, ALPHA = m + 2) as
 *     y = sum_c sum_{xi,eta} A^T[i][xi] A^T[j][eta] U_c[xi][eta] V_c[xi][eta] + bias,
 *     U = G g G^T,  V = B^T d B,
 * every stage an fp32 inner product: V two passes of at most nB terms, U two passes of at most nG
 * (each a sum of at most 3 quotients g / 2, g / 6, g / 24), the channel sum C_g terms, A^T M A
 * two passes of at most nA terms, the bias one. An inner product of T terms is off by at most
 * gamma_T times the sum of its terms' magnitudes (Higham 3.1), stacked stages compose as
 * (1 + gamma_a)(1 + gamma_b) <= 1 + gamma_{a+b} (Higham lemma 3.3), so
 *     |y^ - y| <= gamma_{D + C_g} (sum_c sum_{r,s,a,b} |g_rs| |d_ab| w_i[r][a] w_j[s][b] + |bias|)
 *     w_i[r][a] = sum_xi |A^T[i][xi]| |G[xi][r]| |B^T[xi][a]|,   D = 2 nB + 2 nG + 2 nA + 1.
 * The sum replaces direct summation's sum |x||w|: it runs over the whole patch, each input weighted
 * by the transform magnitudes w through which it reaches output (i, j) (and cancels, in exact
 * arithmetic, where it lies outside the output's 3x3 window). max_{i,r} sum_a w_i[r][a] is 4 for
 * F(2x2) and 29.3 for F(4x4): F(4x4)'s bound is up to (29.3 / 4)^2 = 54 times F(2x2)'s, which is
 * up to 16 times direct summation's. The test computes the bound per element in double (from |x|
 * padded by the reference path, |w| and |b|) and adds CONV_RTOL * |y| as for direct summation.
 * WINOGRAD_2X2_DEPTH and WINOGRAD_4X4_DEPTH are D, from the terms the kernels' transforms
 * (kernels_cl/conv_winograd.cl) write: F(2x2) nB = 2, nG = 3, nA = 3; F(4x4) nB = 4, nG = 3,
 * nA = 5. */
#define WINOGRAD_2X2_DEPTH 17
#define WINOGRAD_4X4_DEPTH 25

enum { WINOGRAD_MAX_ALPHA = 6, WINOGRAD_MAX_M = 4 };

/* A Winograd algorithm's transforms as the test derives its bound from: B^T (ALPHA x ALPHA), G
 * (ALPHA x 3), A^T (m x ALPHA), Lavin and Gray's, with the interpolation points 0, 1, -1 (and 2,
 * -2 for F(4x4)) and infinity. */
typedef struct winograd_spec {
    sv_conv_algorithm algorithm;
    int m, depth;
    double bt[WINOGRAD_MAX_ALPHA][WINOGRAD_MAX_ALPHA], g[WINOGRAD_MAX_ALPHA][3],
        at[WINOGRAD_MAX_M][WINOGRAD_MAX_ALPHA];
} winograd_spec;

static const winograd_spec winograd_specs[] = {
    {SV_CONV_WINOGRAD_2X2,
     2,
     WINOGRAD_2X2_DEPTH,
     {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
     {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
     {{1, 1, 1, 0}, {0, 1, -1, -1}}},
    {SV_CONV_WINOGRAD_4X4,
     4,
     WINOGRAD_4X4_DEPTH,
     {{4, 0, -5, 0, 1, 0},
      {0, -4, -4, 1, 1, 0},
      {0, 4, -4, -1, 1, 0},
      {0, -2, -1, 2, 1, 0},
      {0, 2, -1, -2, 1, 0},
      {0, 4, 0, -5, 0, 1}},
     {{1.0 / 4, 0, 0},
      {-1.0 / 6, -1.0 / 6, -1.0 / 6},
      {-1.0 / 6, 1.0 / 6, -1.0 / 6},
      {1.0 / 24, 1.0 / 12, 1.0 / 6},
      {1.0 / 24, -1.0 / 12, 1.0 / 6},
      {0, 0, 1}},
     {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}},
};

/* The spec of a Winograd algorithm; NULL for the others. */
static const winograd_spec *winograd_spec_of(sv_conv_algorithm algorithm) {
    for (int i = 0; i < TEST_COUNT_OF(winograd_specs); i++)
        if (winograd_specs[i].algorithm == algorithm)
            return &winograd_specs[i];
    return NULL;
}

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

/* Sets the output shape; when may_pool, fuses a 2x2 max pool into a third of the 2-D cases whose
 * output is at least 2x2. */
static void finish_case(test_rng *rng, conv_case *c, int may_pool) {
    const int64_t bias_len = c->w_dims[0];
    sv_message msg;
    sv_status st = sv_conv_output_shape(&c->p, c->rank, c->x_dims, c->w_dims,
                                        c->has_bias ? &bias_len : NULL, c->y_dims, &msg);
    ck_assert_msg(st == SV_OK, "generated case rejected: %s", msg.text);
    if (may_pool && c->p.spatial_dims == 2 && c->y_dims[2] >= 2 && c->y_dims[3] >= 2 &&
        test_int(rng, 0, 2) == 0) {
        c->p.max_pool_2x2 = 1;
        st = sv_conv_output_shape(&c->p, c->rank, c->x_dims, c->w_dims, NULL, c->y_dims, &msg);
        ck_assert_msg(st == SV_OK, "generated pooled case rejected: %s", msg.text);
    }
}

/* Draws a valid case: odd and even sizes, batch 1..3, 1..3 groups or depthwise, kernel 1..5,
 * stride and dilation 1..3 (3, 1 and 1 when `winograd_shaped`, the shapes Winograd computes),
 * asymmetric pads allowed by the mode. */
static conv_case random_case(test_rng *rng, int spatial_dims, sv_pad_mode mode,
                             sv_activation_kind act, int winograd_shaped) {
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
        const int k = winograd_shaped ? 3 : test_int(rng, 1, 5);
        const int d = winograd_shaped ? 1 : test_int(rng, 1, 3);
        int n = test_int(rng, 1, spatial_dims == 1 ? 40 : 17);
        c.p.stride[i] = winograd_shaped ? 1 : test_int(rng, 1, 3);
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
    finish_case(rng, &c, 1);
    return c;
}

static void describe(const conv_case *c, char *buf, size_t size) {
    const sv_conv_params *p = &c->p;
    char x[96], w[96];
    test_format_dims(x, sizeof x, c->rank, c->x_dims);
    test_format_dims(w, sizeof w, c->rank, c->w_dims);
    snprintf(buf, size,
             "conv%dd x[%s] w[%s] stride %d,%d dil %d,%d pad %d,%d/%d,%d groups %d mode %d act %d "
             "(alpha %g beta %g) bias %d pool %d",
             p->spatial_dims, x, w, p->stride[0], p->stride[1], p->dilation[0], p->dilation[1],
             p->pad_begin[0], p->pad_begin[1], p->pad_end[0], p->pad_end[1], p->groups,
             (int)p->pad_mode, (int)p->activation.kind, (double)p->activation.alpha,
             (double)p->activation.beta, c->has_bias, p->max_pool_2x2);
}

/* Runs the case on ctx, with the algorithm's variant `choice` when not NULL; returns the status
 * and, on success, the downloaded output in *y (caller frees). */
static sv_status run_status(sv_context *ctx, const conv_case *c, const sv_conv_params *p,
                            const sv_conv_choice *choice, float *x, float *w, float *b, float **y) {
    const int64_t bias_dims[1] = {c->w_dims[0]};
    sv_tensor *xt = test_tensor_from(ctx, x, c->rank, c->x_dims);
    sv_tensor *wt = test_tensor_from(ctx, w, c->rank, c->w_dims);
    sv_tensor *bt = b ? test_tensor_from(ctx, b, 1, bias_dims) : NULL;
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->y_dims);
    sv_status st = choice ? sv_conv_with_choice(ctx, p, *choice, xt, wt, bt, yt)
                          : sv_conv(ctx, p, xt, wt, bt, yt);
    *y = st == SV_OK ? test_download(yt) : NULL;
    sv_tensor_release(xt);
    sv_tensor_release(wt);
    sv_tensor_release(bt);
    sv_tensor_release(yt);
    return st;
}

/* Runs the case on ctx; returns the downloaded output (caller frees). */
static float *run_case(sv_context *ctx, const conv_case *c, const sv_conv_params *p, float *x,
                       float *w, float *b) {
    float *y;
    TEST_ASSERT_STATUS(run_status(ctx, c, p, NULL, x, w, b, &y), SV_OK, ctx);
    return y;
}

/* The Winograd bound (see the tolerances above) of every output element of a 2-D case, from the
 * magnitudes ax, aw and ab (NULL: no bias) of its inputs, plus CONV_RTOL * |r| (caller frees).
 * With a fused max pool, an output's bound is the largest of its window's: a maximum moves by no
 * more than the largest error among the values it is taken from. */
static double *winograd_bound(sv_context *ref, const conv_case *c, const winograd_spec *s,
                              float *ax, const float *aw, const float *ab, const float *r) {
    const int m = s->m, alpha = m + 2;
    /* w_i[r][a] of the derivation */
    double wt[WINOGRAD_MAX_M][3][WINOGRAD_MAX_ALPHA];
    for (int i = 0; i < m; i++)
        for (int rr = 0; rr < 3; rr++)
            for (int a = 0; a < alpha; a++) {
                wt[i][rr][a] = 0.0;
                for (int xi = 0; xi < alpha; xi++)
                    wt[i][rr][a] += fabs(s->at[i][xi]) * fabs(s->g[xi][rr]) * fabs(s->bt[xi][a]);
            }
    /* |x| padded the case's way; a patch's rows and columns past it are zeros in the kernels */
    sv_pad_params pad;
    memset(&pad, 0, sizeof pad);
    pad.mode = c->p.pad_mode;
    for (int i = 0; i < 2; i++) {
        pad.pad_begin[2 + i] = c->p.pad_begin[i];
        pad.pad_end[2 + i] = c->p.pad_end[i];
    }
    const int64_t pdims[4] = {c->x_dims[0], c->x_dims[1],
                              c->x_dims[2] + c->p.pad_begin[0] + c->p.pad_end[0],
                              c->x_dims[3] + c->p.pad_begin[1] + c->p.pad_end[1]};
    sv_tensor *xt = test_tensor_from(ref, ax, 4, c->x_dims);
    sv_tensor *pt = test_tensor_poisoned(ref, 4, pdims);
    TEST_ASSERT_STATUS(sv_pad(ref, &pad, xt, pt), SV_OK, ref);
    float *padded = test_download(pt);
    sv_tensor_release(xt);
    sv_tensor_release(pt);

    const int n_img = (int)c->x_dims[0], channels = (int)c->x_dims[1], ph = (int)pdims[2],
              pw = (int)pdims[3];
    /* the convolution's own output, which y holds pooled when c->p.max_pool_2x2 */
    sv_conv_params unpooled = c->p;
    unpooled.max_pool_2x2 = 0;
    int64_t conv_dims[4];
    sv_message msg;
    ck_assert_int_eq(
        sv_conv_output_shape(&unpooled, 4, c->x_dims, c->w_dims, NULL, conv_dims, &msg), SV_OK);
    const int k_all = (int)conv_dims[1], oh = (int)conv_dims[2], ow = (int)conv_dims[3];
    const int tiles_h = (oh + m - 1) / m, tiles_w = (ow + m - 1) / m, tiles = tiles_h * tiles_w;
    const int per_tile = m * m * 9; /* T[i][j][r][s] of one tile and channel */
    /* T = sum_{a,b} |d_ab| w_i[r][a] w_j[s][b] per image, channel and tile, as
     * sum_a w_i[r][a] Q[a][j][s] with Q[a][j][s] = sum_b |d_ab| w_j[s][b] */
    double *t = malloc((size_t)n_img * channels * tiles * per_tile * sizeof *t);
    ck_assert_ptr_nonnull(t);
    for (int n = 0; n < n_img; n++)
        for (int ch = 0; ch < channels; ch++)
            for (int tile = 0; tile < tiles; tile++) {
                const int row0 = tile / tiles_w * m, col0 = tile % tiles_w * m;
                double d[WINOGRAD_MAX_ALPHA][WINOGRAD_MAX_ALPHA];
                for (int a = 0; a < alpha; a++)
                    for (int b = 0; b < alpha; b++)
                        d[a][b] = row0 + a < ph && col0 + b < pw
                                      ? padded[(((size_t)n * channels + ch) * ph + row0 + a) * pw +
                                               col0 + b]
                                      : 0.0;
                double q[WINOGRAD_MAX_ALPHA][WINOGRAD_MAX_M][3];
                for (int a = 0; a < alpha; a++)
                    for (int j = 0; j < m; j++)
                        for (int ss = 0; ss < 3; ss++) {
                            q[a][j][ss] = 0.0;
                            for (int b = 0; b < alpha; b++)
                                q[a][j][ss] += d[a][b] * wt[j][ss][b];
                        }
                double *out = t + (((size_t)n * channels + ch) * tiles + tile) * per_tile;
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < m; j++)
                        for (int rr = 0; rr < 3; rr++)
                            for (int ss = 0; ss < 3; ss++) {
                                double sum = 0.0;
                                for (int a = 0; a < alpha; a++)
                                    sum += wt[i][rr][a] * q[a][j][ss];
                                out[((i * m + j) * 3 + rr) * 3 + ss] = sum;
                            }
            }
    free(padded);

    const int groups = c->p.groups, in_per_group = channels / groups,
              out_per_group = k_all / groups;
    const double gamma = test_summation_gamma(TEST_UNIT_ROUNDOFF, s->depth + in_per_group);
    const size_t count = (size_t)n_img * k_all * oh * ow;
    double *conv_bound = malloc(count * sizeof *conv_bound);
    ck_assert_ptr_nonnull(conv_bound);
    for (size_t e = 0; e < count; e++) {
        const int x_ = (int)(e % (size_t)ow), y_ = (int)(e / (size_t)ow % (size_t)oh);
        const int k = (int)(e / ((size_t)ow * oh) % (size_t)k_all);
        const int n = (int)(e / ((size_t)ow * oh * k_all));
        const int tile = y_ / m * tiles_w + x_ / m, within = (y_ % m * m + x_ % m) * 9;
        double sum = ab ? ab[k] : 0.0;
        for (int cg = 0; cg < in_per_group; cg++) {
            const int ch = k / out_per_group * in_per_group + cg;
            const double *tt = t + (((size_t)n * channels + ch) * tiles + tile) * per_tile + within;
            const float *wk = aw + ((size_t)k * in_per_group + cg) * 9;
            for (int tap = 0; tap < 9; tap++)
                sum += wk[tap] * tt[tap];
        }
        conv_bound[e] = gamma * sum;
    }
    free(t);

    const int pool = c->p.max_pool_2x2 ? 2 : 1, yh = oh / pool, yw = ow / pool;
    const size_t ny = (size_t)n_img * k_all * yh * yw;
    double *bound = malloc(ny * sizeof *bound);
    ck_assert_ptr_nonnull(bound);
    for (size_t e = 0; e < ny; e++) {
        const int x_ = (int)(e % (size_t)yw), y_ = (int)(e / (size_t)yw % (size_t)yh);
        const size_t plane = e / ((size_t)yw * yh); /* image and channel */
        double largest = 0.0;
        for (int i = 0; i < pool; i++)
            for (int j = 0; j < pool; j++)
                largest =
                    fmax(largest, conv_bound[(plane * oh + y_ * pool + i) * ow + x_ * pool + j]);
        bound[e] = largest + CONV_RTOL * fabs(r[e]);
    }
    free(conv_bound);
    return bound;
}

/* Checks a device output against the reference r: the Winograd bound for the Winograd algorithms,
 * else the summation bound with the magnitudes of the reference run on |inputs|. */
static void assert_matches(sv_context *ref, const conv_case *c, sv_conv_algorithm algorithm,
                           const float *y, const float *r, const float *magnitude, float *ax,
                           const float *aw, const float *ab, const char *what) {
    const size_t ny = (size_t)test_count(c->rank, c->y_dims);
    const winograd_spec *s = winograd_spec_of(algorithm);
    if (s) {
        double *bound = winograd_bound(ref, c, s, ax, aw, ab, r);
        test_assert_bounded(y, r, bound, ny, what);
        free(bound);
        return;
    }
    const double gamma = test_summation_gamma(TEST_UNIT_ROUNDOFF, taps_of(c) + 1);
    test_assert_summation(y, r, magnitude, ny, gamma, CONV_RTOL, what);
}

/* How many cases each algorithm computed and declined, over a test. */
typedef struct algorithm_tally {
    int ran[SV_CONV_ALGORITHM_END], declined[SV_CONV_ALGORITHM_END];
} algorithm_tally;

/* Compares the device with the reference on one case, element by element: every algorithm the
 * device has, asked for by name (an algorithm may decline the shape with SV_UNSUPPORTED and a
 * message naming it; counted in tally), or with `variants_of`, every variant of that one, which
 * must compute the case. Variants that sum the same terms in another order (split-K) keep the
 * summation bound: gamma of the term count holds for any order. */
static void check_case(sv_context *dev, sv_context *ref, const conv_case *c, test_rng *rng,
                       algorithm_tally *tally, const sv_conv_impl *variants_of) {
    const size_t nx = (size_t)test_count(c->rank, c->x_dims),
                 nw = (size_t)test_count(c->rank, c->w_dims);
    const size_t nb = (size_t)c->w_dims[0];
    float *x = test_random_array(rng, nx, -1.0f, 1.0f),
          *w = test_random_array(rng, nw, -1.0f, 1.0f),
          *b = test_random_array(rng, nb, -1.0f, 1.0f);
    float *ax = test_absolute_copy(x, nx), *aw = test_absolute_copy(w, nw),
          *ab = test_absolute_copy(b, nb);

    float *r = run_case(ref, c, &c->p, x, w, c->has_bias ? b : NULL);
    sv_conv_params plain = c->p;
    plain.activation.kind = SV_ACT_NONE;
    float *magnitude = run_case(ref, c, &plain, ax, aw, c->has_bias ? ab : NULL);

    char what[512];
    describe(c, what, sizeof what);
    const int runs = variants_of ? variants_of->variants : SV_CONV_ALGORITHM_END - SV_CONV_DIRECT;
    for (int i = 0; i < runs; i++) {
        const sv_conv_choice choice = {variants_of ? variants_of->algorithm
                                                   : (sv_conv_algorithm)(SV_CONV_DIRECT + i),
                                       variants_of ? i : 0};
        const char *name = sv_conv_algorithm_name(choice.algorithm);
        sv_conv_params on_device = c->p;
        on_device.algorithm = choice.algorithm;
        float *y;
        const sv_status st = run_status(dev, c, &on_device, variants_of ? &choice : NULL, x, w,
                                        c->has_bias ? b : NULL, &y);
        char with_algorithm[600];
        snprintf(with_algorithm, sizeof with_algorithm, "%s, algorithm %s variant %d", what, name,
                 choice.variant);
        if (st == SV_UNSUPPORTED && !variants_of) {
            ck_assert_msg(strstr(sv_last_error(dev), name) != NULL,
                          "%s: declined without naming the algorithm: %s", with_algorithm,
                          sv_last_error(dev));
            tally->declined[choice.algorithm]++;
            continue;
        }
        TEST_ASSERT_STATUS(st, SV_OK, dev);
        assert_matches(ref, c, choice.algorithm, y, r, magnitude, ax, aw, c->has_bias ? ab : NULL,
                       with_algorithm);
        if (tally)
            tally->ran[choice.algorithm]++;
        free(y);
    }
    free(x), free(w), free(b), free(ax), free(aw), free(ab), free(r), free(magnitude);
}

enum { CASES_PER_COMBINATION = 3, PAD_MODES = 5, ACTIVATIONS = SV_ACT_HARD_SIGMOID + 1 };

/* Loop index i: spatial dims (i / PAD_MODES + 1) and padding mode (i % PAD_MODES); inside, every
 * activation with a few random shapes each, the first of them (in 2-D) one that Winograd computes.
 * Every algorithm computes some 2-D case; 1-D ones only the algorithms that have no shape limits.
 */
START_TEST(test_random_sweep_matches_reference) {
    const int spatial_dims = _i / PAD_MODES + 1;
    const sv_pad_mode mode = (sv_pad_mode)(_i % PAD_MODES);
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    algorithm_tally tally;
    memset(&tally, 0, sizeof tally);
    for (int act = 0; act < ACTIVATIONS; act++)
        for (int k = 0; k < CASES_PER_COMBINATION; k++) {
            test_rng rng = test_rng_for((uint64_t)((_i * ACTIVATIONS + act) * 100 + k));
            conv_case c = random_case(&rng, spatial_dims, mode, (sv_activation_kind)act,
                                      spatial_dims == 2 && k == 0);
            check_case(dev, ref, &c, &rng, &tally, NULL);
        }
    for (int a = SV_CONV_DIRECT; a < SV_CONV_ALGORITHM_END; a++) {
        const sv_conv_impl *impl = sv_conv_impl_of((sv_conv_algorithm)a);
        ck_assert_msg(spatial_dims == 1 || tally.ran[a] > 0,
                      "algorithm %s computed none of the cases (declined %d)", impl->name,
                      tally.declined[a]);
        ck_assert_msg(impl->unsupported || !impl->fuses_max_pool || tally.declined[a] == 0,
                      "algorithm %s has no shape limits but declined %d cases", impl->name,
                      tally.declined[a]);
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
    algorithm_tally tally;
    memset(&tally, 0, sizeof tally);
    check_case(dev, ref, &c, &rng, &tally, NULL);
    for (int a = SV_CONV_DIRECT; a < SV_CONV_ALGORITHM_END; a++)
        ck_assert_msg(tally.ran[a] == 1, "algorithm %s declined the VGG layer",
                      sv_conv_algorithm_name((sv_conv_algorithm)a));
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- Winograd on its own: every variant of both algorithms on random 3x3 stride-1 shapes that
 * end in partial tiles (odd sizes), cross the product's 64- and 32-wide blocks and 16-channel
 * slices without filling them (K and C not multiples of anything), batch 1 and 3, groups, every
 * activation, bias or none, asymmetric pads. Loop index: the padding mode. */
enum { WINOGRAD_CASES = 6 };

START_TEST(test_winograd_sweep_matches_reference) {
    const sv_pad_mode mode = (sv_pad_mode)_i;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int k = 0; k < WINOGRAD_CASES; k++) {
        test_rng rng = test_rng_for((uint64_t)(5000 + _i * 100 + k));
        conv_case c = random_case(&rng, 2, mode, (sv_activation_kind)test_int(&rng, 0, 7), 1);
        /* wider than random_case's channels: the first case crosses every block boundary */
        const int groups = test_int(&rng, 1, 2);
        const int in_per_group = k == 0 ? test_int(&rng, 17, 40) : test_int(&rng, 1, 24);
        const int out_per_group = k == 0 ? test_int(&rng, 129, 140) : test_int(&rng, 1, 40);
        c.p.groups = groups;
        c.x_dims[0] = c.y_dims[0] = k % 2 ? 1 : 3;
        c.x_dims[1] = groups * in_per_group;
        c.w_dims[0] = c.y_dims[1] = groups * out_per_group;
        c.w_dims[1] = in_per_group;
        const size_t nx = (size_t)test_count(4, c.x_dims), nw = (size_t)test_count(4, c.w_dims),
                     nb = (size_t)c.w_dims[0];
        float *x = test_random_array(&rng, nx, -1.0f, 1.0f),
              *w = test_random_array(&rng, nw, -1.0f, 1.0f),
              *b = c.has_bias ? test_random_array(&rng, nb, -1.0f, 1.0f) : NULL;
        float *ax = test_absolute_copy(x, nx), *aw = test_absolute_copy(w, nw),
              *ab = b ? test_absolute_copy(b, nb) : NULL;
        float *r = run_case(ref, &c, &c.p, x, w, b);
        char what[512];
        describe(&c, what, sizeof what);
        for (int i = 0; i < TEST_COUNT_OF(winograd_specs); i++) {
            const sv_conv_impl *impl = sv_conv_impl_of(winograd_specs[i].algorithm);
            for (int variant = 0; variant < impl->variants; variant++) {
                const sv_conv_choice choice = {impl->algorithm, variant};
                float *y;
                TEST_ASSERT_STATUS(run_status(dev, &c, &c.p, &choice, x, w, b, &y), SV_OK, dev);
                char with_variant[600];
                snprintf(with_variant, sizeof with_variant, "%s, %s variant %d", what, impl->name,
                         variant);
                assert_matches(ref, &c, impl->algorithm, y, r, NULL, ax, aw, ab, with_variant);
                free(y);
            }
        }
        free(x), free(w), free(b), free(ax), free(aw), free(ab), free(r);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Box sums of a 4x4 image (all-ones 3x3 weights, zero padding 1; the classic image and its box
 * blur below): F(2x2) is exact, every value of its transforms a small multiple of 1/4; F(4x4)'s
 * 1/6 and 1/24 round, leaving a few ulp of sums below 30. One 4x4 tile, or 2x2 tiles of 2x2. */
START_TEST(test_winograd_box_sums_by_hand) {
    static float image[16] = {3, 0, 1, 2, 1, 5, 0, 4, 2, 2, 7, 1, 0, 3, 1, 6};
    static const float expected[16] = {9, 10, 12, 7, 13, 21, 22, 15, 13, 21, 29, 19, 7, 15, 20, 15};
    float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    sv_context *dev = test_context(NULL);
    conv_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_params_default(2);
    c.p.pad_begin[0] = c.p.pad_begin[1] = c.p.pad_end[0] = c.p.pad_end[1] = 1;
    c.rank = 4;
    const int64_t x_dims[4] = {1, 1, 4, 4}, w_dims[4] = {1, 1, 3, 3};
    memcpy(c.x_dims, x_dims, sizeof x_dims);
    memcpy(c.w_dims, w_dims, sizeof w_dims);
    memcpy(c.y_dims, x_dims, sizeof x_dims);
    for (int i = 0; i < TEST_COUNT_OF(winograd_specs); i++) {
        const sv_conv_impl *impl = sv_conv_impl_of(winograd_specs[i].algorithm);
        for (int variant = 0; variant < impl->variants; variant++) {
            const sv_conv_choice choice = {impl->algorithm, variant};
            float *y;
            TEST_ASSERT_STATUS(run_status(dev, &c, &c.p, &choice, image, ones, NULL, &y), SV_OK,
                               dev);
            if (impl->algorithm == SV_CONV_WINOGRAD_2X2)
                test_assert_equal(y, expected, 16, impl->name);
            else
                test_assert_close(y, expected, 16, 0.0, 4 * FLT_EPSILON, impl->name);
            free(y);
        }
    }
    sv_context_release(dev);
}
END_TEST

/* Runs 3 images of side x side through F(2x2) with 32 output channels (small integers, so that it
 * is exact, see above, and any image or tile misplaced by the chunking shows as an inequality),
 * after checking that the device's workspace holds two images at a time: the second chunk starts
 * at image 2 and is partial. */
static void assert_runs_in_chunks_of_two(sv_context *dev, sv_context *ref, int side) {
    test_rng rng = test_rng_for(9090);
    conv_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_conv_params_default(2);
    c.p.pad_begin[0] = c.p.pad_begin[1] = c.p.pad_end[0] = c.p.pad_end[1] = 1;
    c.rank = 4;
    const int64_t x_dims[4] = {3, 1, side, side}, w_dims[4] = {32, 1, 3, 3},
                  y_dims[4] = {3, 32, side, side};
    memcpy(c.x_dims, x_dims, sizeof x_dims);
    memcpy(c.w_dims, w_dims, sizeof w_dims);
    memcpy(c.y_dims, y_dims, sizeof y_dims);
    sv_conv_geometry g = {3, 1, side, side, 32, side, side, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    const sv_conv_impl *impl = &sv_conv_winograd_2x2_impl;
    const size_t batch_workspace = impl->workspace_count(&dev->device, &g, 0);
    g.n = 1;
    ck_assert_msg(batch_workspace == 2 * impl->workspace_count(&dev->device, &g, 0),
                  "expected chunks of 2 images, workspace %zu", batch_workspace);
    const size_t nx = (size_t)test_count(4, x_dims), nw = 32, ny = (size_t)test_count(4, y_dims);
    float *x = malloc(nx * sizeof *x), w[32 * 9], b[32];
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)test_int(&rng, -4, 4);
    for (size_t i = 0; i < nw * 9; i++)
        w[i] = (float)test_int(&rng, -2, 2);
    for (size_t i = 0; i < nw; i++)
        b[i] = (float)test_int(&rng, -8, 8);
    float *r = run_case(ref, &c, &c.p, x, w, b);
    const sv_conv_choice choice = {SV_CONV_WINOGRAD_2X2, 1};
    float *y;
    TEST_ASSERT_STATUS(run_status(dev, &c, &c.p, &choice, x, w, b, &y), SV_OK, dev);
    test_assert_equal(y, r, ny, "winograd-2x2 in chunks of 2 images");
    free(x), free(r), free(y);
}

/* A batch whose transformed tiles exceed the 256 MiB workspace budget runs in chunks: 3 images
 * of 459 x 459 fit two to a chunk. */
START_TEST(test_winograd_batch_in_chunks) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    assert_runs_in_chunks_of_two(dev, ref, 459);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* On a device whose largest allocation is smaller than that budget, the workspace stays within
 * it (the device limit rewritten on a context of the default device): 2.5 images' worth of
 * 45 x 45 tiles runs two images at a time, and less than one image's worth leaves one image, the
 * least a run needs. */
START_TEST(test_winograd_workspace_within_max_alloc) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    const sv_conv_impl *impl = &sv_conv_winograd_2x2_impl;
    const sv_conv_geometry one = {1, 1, 45, 45, 32, 45, 45, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    const size_t image = impl->workspace_count(&dev->device, &one, 0);
    const sv_device_info device = dev->device;
    dev->device.max_alloc_bytes = image * sizeof(float) * 5 / 2;
    assert_runs_in_chunks_of_two(dev, ref, 45);
    dev->device.max_alloc_bytes = image * sizeof(float) / 2;
    sv_conv_geometry three = one;
    three.n = 3;
    ck_assert_uint_eq(impl->workspace_count(&dev->device, &three, 0), image);
    dev->device = device;
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* The automatic choice's Winograd rule, on the VGG-16 layers: a GPU (the device kind and compute
 * units, an H100's 132, rewritten on a context of the default device) takes F(4x4) for the 3x3
 * stride-1 layers with 16+ channels, a fused pool or not: the large product blocks for 128+
 * output channels in 264+ of them, else the small ones where a chunk has fewer than 256 tiles,
 * else the default ones; the first layer (3 channels) and a stride-2 layer are left to the other
 * algorithms. A CPU device takes the CPU-shaped variant (3) for layers of 128+ input and output
 * channels, F(2x2) where F(4x4) would have fewer than 32 tiles, and leaves the others. */
START_TEST(test_winograd_automatic_choice) {
    static const struct {
        int gpu, n, c, k, size, stride, pool;
        sv_conv_choice expected; /* algorithm SV_CONV_AUTO: not Winograd */
    } rows[] = {
        {1, 1, 64, 64, 224, 1, 0, {SV_CONV_WINOGRAD_4X4, 0}},    /* 3136 tiles */
        {1, 64, 64, 64, 224, 1, 1, {SV_CONV_WINOGRAD_4X4, 0}},   /* 64 channels, pooled */
        {1, 1, 256, 256, 56, 1, 0, {SV_CONV_WINOGRAD_4X4, 1}},   /* 196 tiles: 144 blocks */
        {1, 2, 256, 256, 56, 1, 0, {SV_CONV_WINOGRAD_4X4, 2}},   /* 392 tiles: 288 blocks */
        {1, 1, 128, 128, 112, 1, 0, {SV_CONV_WINOGRAD_4X4, 0}},  /* 784 tiles: 252 blocks */
        {1, 64, 128, 128, 112, 1, 0, {SV_CONV_WINOGRAD_4X4, 2}}, /* chunks of 8 images */
        {1, 1, 512, 512, 14, 1, 1, {SV_CONV_WINOGRAD_4X4, 1}},   /* the last layer, pooled */
        {1, 1, 3, 64, 224, 1, 0, {SV_CONV_AUTO, 0}},
        {1, 1, 64, 64, 56, 2, 0, {SV_CONV_AUTO, 0}},
        {0, 1, 64, 64, 224, 1, 0, {SV_CONV_AUTO, 0}},
        {0, 1, 64, 64, 224, 1, 1, {SV_CONV_AUTO, 0}},
        {0, 1, 64, 128, 112, 1, 0, {SV_CONV_AUTO, 0}},          /* 64 input channels */
        {0, 1, 128, 64, 112, 1, 0, {SV_CONV_AUTO, 0}},          /* 64 output channels */
        {0, 1, 128, 128, 112, 1, 1, {SV_CONV_WINOGRAD_4X4, 3}}, /* 784 tiles, pooled */
        {0, 1, 512, 512, 28, 1, 0, {SV_CONV_WINOGRAD_4X4, 3}},  /* 49 tiles */
        {0, 1, 512, 512, 14, 1, 0, {SV_CONV_WINOGRAD_2X2, 3}},  /* 16 tiles */
        {0, 2, 512, 512, 14, 1, 1, {SV_CONV_WINOGRAD_4X4, 3}},  /* 32 tiles, pooled */
        {0, 1, 256, 256, 56, 2, 0, {SV_CONV_AUTO, 0}},
    };
    sv_context *ctx = test_context(NULL);
    const sv_device_info device = ctx->device;
    ctx->device.compute_units = 132;
    for (int i = 0; i < TEST_COUNT_OF(rows); i++) {
        ctx->device.kind = rows[i].gpu ? SV_DEVICE_GPU : SV_DEVICE_CPU;
        sv_conv_params p = sv_conv_params_default(2);
        p.stride[0] = p.stride[1] = rows[i].stride;
        p.pad_begin[0] = p.pad_begin[1] = p.pad_end[0] = p.pad_end[1] = 1;
        p.max_pool_2x2 = rows[i].pool;
        const int out = (rows[i].size - 1) / rows[i].stride + 1;
        const sv_conv_geometry g = {
            rows[i].n, rows[i].c, rows[i].size,   rows[i].size,   rows[i].k, out, out,
            3,         3,         rows[i].stride, rows[i].stride, 1,         1,   1,
            1,         1};
        sv_conv_choice choice = {SV_CONV_AUTO, 0};
        const int taken = sv_conv_winograd_choice(ctx, &p, &g, &choice);
        ck_assert_msg(taken == (rows[i].expected.algorithm != SV_CONV_AUTO) &&
                          choice.algorithm == rows[i].expected.algorithm &&
                          choice.variant == rows[i].expected.variant,
                      "row %d: got %s variant %d", i,
                      taken ? sv_conv_algorithm_name(choice.algorithm) : "none", choice.variant);
    }
    ctx->device = device;
    sv_context_release(ctx);
}
END_TEST

/* --- shapes an explicitly asked-for Winograd algorithm declines (and a fused pool, which implicit
 * GEMM declines), each breaking one of its conditions in a valid case (x [1,4,9,9], w [6,2,3,3],
 * groups 2, pads 1): SV_UNSUPPORTED naming the algorithm and the condition, and nothing written. */
static const test_invalid_row winograd_unsupported_rows[] = {
    {"winograd-4x4 on a 5x5 kernel", SV_UNSUPPORTED, "algorithm winograd-4x4 needs a 3x3 kernel"},
    {"winograd-2x2 on a 3x1 kernel", SV_UNSUPPORTED, "algorithm winograd-2x2 needs a 3x3 kernel"},
    {"winograd-4x4 with stride 2", SV_UNSUPPORTED, "algorithm winograd-4x4 needs stride 1"},
    {"winograd-2x2 with dilation 2", SV_UNSUPPORTED, "algorithm winograd-2x2 needs dilation 1"},
    {"winograd-4x4 in 1-D", SV_UNSUPPORTED, "algorithm winograd-4x4 needs a 2-D convolution"},
    {"winograd-2x2 variant 4", SV_INVALID_ARGUMENT, "winograd-2x2 has variants 0..3, not 4"},
    {"implicit-gemm with a fused pool", SV_UNSUPPORTED,
     "algorithm implicit-gemm cannot fuse a 2x2 max pool"},
};

START_TEST(test_winograd_unsupported_shapes) {
    const test_invalid_row *row = &winograd_unsupported_rows[_i];
    sv_context *ctx = test_context(NULL);
    sv_conv_params p = sv_conv_params_default(2);
    p.groups = 2;
    p.pad_begin[0] = p.pad_begin[1] = p.pad_end[0] = p.pad_end[1] = 1;
    int rank = 4;
    int64_t x_dims[4] = {1, 4, 9, 9}, w_dims[4] = {6, 2, 3, 3}, y_dims[4];
    sv_conv_choice choice = {SV_CONV_WINOGRAD_2X2, 0};
    switch (_i) {
    case 0: p.algorithm = SV_CONV_WINOGRAD_4X4, w_dims[2] = w_dims[3] = 5; break;
    case 1: p.algorithm = SV_CONV_WINOGRAD_2X2, w_dims[3] = 1; break;
    case 2: p.algorithm = SV_CONV_WINOGRAD_4X4, p.stride[1] = 2; break;
    case 3: p.algorithm = SV_CONV_WINOGRAD_2X2, p.dilation[0] = 2; break;
    case 4: p.algorithm = SV_CONV_WINOGRAD_4X4, p.spatial_dims = 1, rank = 3; break;
    case 5: choice.variant = 4; break;
    case 6: p.algorithm = SV_CONV_IMPLICIT_GEMM, p.max_pool_2x2 = 1; break;
    default: ck_abort_msg("no row %d", _i);
    }
    sv_message msg;
    ck_assert_int_eq(sv_conv_output_shape(&p, rank, x_dims, w_dims, NULL, y_dims, &msg), SV_OK);
    sv_tensor *x, *w, *y = test_tensor_poisoned(ctx, rank, y_dims);
    ck_assert_int_eq(sv_tensor_create(ctx, rank, x_dims, &x), SV_OK);
    ck_assert_int_eq(sv_tensor_create(ctx, rank, w_dims, &w), SV_OK);
    const sv_status st = p.algorithm == SV_CONV_AUTO
                             ? sv_conv_with_choice(ctx, &p, choice, x, w, NULL, y)
                             : sv_conv(ctx, &p, x, w, NULL, y);
    test_assert_call_rejected(row, ctx, NULL, st, y);
    sv_tensor_release(x), sv_tensor_release(w), sv_tensor_release(y);
    sv_context_release(ctx);
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

static conv_case variant_case(test_rng *rng, int index, int wide_rows) {
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
        if (wide_rows && i == spatial_dims - 1)
            n = test_int(rng, 1, 40);
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
    finish_case(rng, &c, wide_rows); /* pooled: the CPU kernel's two-row blocks */
    return c;
}

START_TEST(test_every_igemm_variant_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for((uint64_t)(5000 + _i));
    const conv_case c = variant_case(&rng, _i, 0);
    check_case(dev, ref, &c, &rng, NULL, sv_conv_impl_of(SV_CONV_IMPLICIT_GEMM));
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Every register block of the CPU-shaped kernel on the same kinds of case (twice each, with
 * different seeds), with rows up to 40 wide: blocks of 4, 7 and 8 pixels that lie inside the row,
 * read a padded border with some of their taps, slide left at the row's end, or are wider than
 * the row. */
START_TEST(test_every_cpu_blocked_variant_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for((uint64_t)(5500 + _i));
    const conv_case c = variant_case(&rng, _i % VARIANT_CASES, 1);
    check_case(dev, ref, &c, &rng, NULL, sv_conv_impl_of(SV_CONV_CPU_BLOCKED));
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* The automatic choice on made-up devices (only the device description is read): VGG-16's layers
 * on a 132-unit GPU take the implicit GEMM, with the large tile once the batch gives enough
 * 128x128 tiles, the default tile where 64x64 ones fill the units, split-K for the deep layers
 * at batch 1 whose tiles are too few, the small tile for shallow ones; a depthwise layer takes
 * the direct kernel; a CPU keeps the CPU-shaped kernel, 64 lanes wide where the channels fill
 * them and cpu_default_variant's row rule allows (pooled layers always), 7-pixel blocks only
 * without a pool. Where Winograd's rule takes a layer (3x3 stride 1, enough channels:
 * test_winograd_automatic_choice) the automatic choice is Winograd's; asked for by name, the
 * implicit GEMM and the CPU-shaped kernel run the variant of their rules. */
START_TEST(test_automatic_choice_by_device_and_shape) {
    static const struct {
        sv_device_kind kind;
        int n, c, k, size, groups, pool;
        sv_conv_choice expected;
    } rows[] = {
        {SV_DEVICE_GPU, 1, 64, 64, 224, 1, 0, {SV_CONV_IMPLICIT_GEMM, 0}},   /* 784 tiles */
        {SV_DEVICE_GPU, 1, 256, 256, 56, 1, 0, {SV_CONV_IMPLICIT_GEMM, 0}},  /* 50 large */
        {SV_DEVICE_GPU, 32, 256, 256, 56, 1, 0, {SV_CONV_IMPLICIT_GEMM, 1}}, /* 1568 large */
        {SV_DEVICE_GPU, 1, 512, 512, 14, 1, 0, {SV_CONV_IMPLICIT_GEMM, 3}},  /* conv5: 32 tiles */
        {SV_DEVICE_GPU, 1, 32, 32, 14, 1, 0, {SV_CONV_IMPLICIT_GEMM, 2}},    /* 4 tiles, 288 deep */
        {SV_DEVICE_GPU, 1, 256, 256, 56, 256, 0, {SV_CONV_DIRECT, 0}},       /* depthwise */
        {SV_DEVICE_CPU, 1, 64, 64, 224, 1, 0, {SV_CONV_CPU_BLOCKED, 5}},     /* 64 lanes */
        {SV_DEVICE_CPU, 1, 512, 512, 28, 1, 0, {SV_CONV_CPU_BLOCKED, 5}},    /* 2 of 28 again */
        {SV_DEVICE_CPU, 1, 512, 512, 14, 1, 0, {SV_CONV_CPU_BLOCKED, 1}},    /* 4 of 14 again */
        {SV_DEVICE_CPU, 1, 128, 128, 112, 1, 1, {SV_CONV_CPU_BLOCKED, 5}},   /* pooled, 128 in */
        {SV_DEVICE_CPU, 1, 256, 256, 56, 1, 1, {SV_CONV_CPU_BLOCKED, 5}},    /* pooled, 256 in */
        {SV_DEVICE_CPU, 1, 512, 512, 14, 1, 1, {SV_CONV_CPU_BLOCKED, 5}},    /* pooled, 14 wide */
        {SV_DEVICE_CPU, 1, 96, 96, 28, 1, 1, {SV_CONV_CPU_BLOCKED, 0}},      /* pooled: 8 pixels */
        {SV_DEVICE_CPU, 1, 96, 96, 56, 1, 0, {SV_CONV_CPU_BLOCKED, 0}},      /* 32: none idle */
        {SV_DEVICE_CPU, 1, 96, 96, 28, 1, 0, {SV_CONV_CPU_BLOCKED, 1}},      /* 7-pixel rows */
        {SV_DEVICE_CPU, 1, 128, 128, 5, 1, 0, {SV_CONV_CPU_BLOCKED, 2}},     /* narrow rows */
    };
    for (int i = 0; i < TEST_COUNT_OF(rows); i++) {
        sv_context ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.device.kind = rows[i].kind;
        ctx.device.compute_units = 132;
        ctx.tuning_loaded = 1; /* no tuning database: the heuristic alone */
        sv_conv_params p = sv_conv_params_default(2);
        p.max_pool_2x2 = rows[i].pool;
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
        sv_conv_choice choice, expected = rows[i].expected;
        sv_conv_winograd_choice(&ctx, &p, &g, &expected);
        ck_assert_int_eq(sv_conv_choose(&ctx, &p, &g, &choice), SV_OK);
        ck_assert_msg(choice.algorithm == expected.algorithm && choice.variant == expected.variant,
                      "row %d: chose %s variant %d, expected %s variant %d", i,
                      sv_conv_algorithm_name(choice.algorithm), choice.variant,
                      sv_conv_algorithm_name(expected.algorithm), expected.variant);
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
    ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "implicit-gemm has variants 0..3, not 4"));
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
    {"max_pool_2x2 neither 0 nor 1", SV_INVALID_ARGUMENT, "max_pool_2x2 is 2"},
    {"fused pool in 1-D", SV_INVALID_ARGUMENT, "fused 2x2 max pool needs a 2-D convolution"},
    {"fused pool of a 1-wide output", SV_INVALID_ARGUMENT, "output of at least 2x2, not 3x1"},
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
    case 17: p->max_pool_2x2 = 2; break;
    case 18: p->max_pool_2x2 = 1, p->spatial_dims = 1, *rank = 3; break;
    case 19: p->max_pool_2x2 = 1, x[3] = 3; break;
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
    TCase *winograd = test_add_case(s, "winograd", 600);
    tcase_add_loop_test(winograd, test_winograd_sweep_matches_reference, 0, PAD_MODES);
    tcase_add_test(winograd, test_winograd_box_sums_by_hand);
    tcase_add_test(winograd, test_winograd_batch_in_chunks);
    tcase_add_test(winograd, test_winograd_workspace_within_max_alloc);
    tcase_add_test(winograd, test_winograd_automatic_choice);
    tcase_add_loop_test(winograd, test_winograd_unsupported_shapes, 0,
                        TEST_COUNT_OF(winograd_unsupported_rows));
    TCase *variants = test_add_case(s, "algorithm variants against ref", 600);
    tcase_add_loop_test(variants, test_every_igemm_variant_matches_reference, 0, VARIANT_CASES);
    tcase_add_loop_test(variants, test_every_cpu_blocked_variant_matches_reference, 0,
                        2 * VARIANT_CASES);
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
