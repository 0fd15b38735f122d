/* Matrix products: the default OpenCL device (CLBlast, and the matrix-vector kernel for few rows
 * in both its shapes) against the reference path on randomized sweeps over every transpose,
 * alpha and beta sign, C broadcast shape, activation and MatMul rank pair; small products against
 * hand-computed values; invalid shapes against the errors they must give. */
#include "test_support.h"

#include "core/internal.h"
#include "ops/gemm.h"
#include "ops/gemv.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- tolerances ---------------------------------------------------------------------------
 * A dot product of length K in fp32, summed in any order, fused or not, is off from the exact
 * one by at most gamma_K * sum|a_k b_k|, gamma_K = K*u/(1 - K*u), u = 2^-24 (Higham, "Accuracy
 * and Stability of Numerical Algorithms", 2nd ed., sections 3.1 and 4.2). Gemm adds two roundings
 * (the product with alpha, the sum with the already rounded beta * C), so its bound is gamma_{K+2}
 * times |alpha| * sum|a_k b_k| + |beta * c|; the test computes that magnitude per element exactly,
 * as the reference Gemm of |A|, |B|, |C| with |alpha| and |beta|. The activations are at most
 * 1-Lipschitz (slopes drawn in [0, 1)), so the bound carries through them. PRODUCT_RTOL covers
 * the rounding of both results to fp32 and the device's exp/tanh (OpenCL allows 3 and 5 ulp). */
#define PRODUCT_RTOL (8 * FLT_EPSILON)

/* The bound of a product of dot products of length `terms` (see the tolerance note above). */
static void assert_product(const float *y, const float *r, const float *magnitude, size_t n,
                           long terms, const char *what) {
    test_assert_summation(y, r, magnitude, n, test_summation_gamma(TEST_UNIT_ROUNDOFF, terms),
                          PRODUCT_RTOL, what);
}

/* Operands uniform in [-1, 1). */
static float *random_array(test_rng *rng, size_t n) {
    return test_random_array(rng, n, -1.0f, 1.0f);
}

/* Sizes that hit edge cases of a tiled kernel (1, a prime, one past a power of two) about half
 * of the time, anything up to 80 otherwise. */
static int odd_size(test_rng *rng) {
    static const int edges[] = {1, 2, 7, 16, 33, 65};
    if (test_int(rng, 0, 1))
        return edges[test_int(rng, 0, (int)(sizeof edges / sizeof edges[0]) - 1)];
    return test_int(rng, 1, 80);
}

/* --- Gemm ------------------------------------------------------------------------------------ */

typedef struct gemm_case {
    sv_gemm_params p;
    int64_t a_dims[2], b_dims[2], y_dims[2];
    int c_rank; /* 0: no C */
    int64_t c_dims[2];
} gemm_case;

/* Every C the header allows: none, [N], [1, N], [M, 1], [M, N], [1], [1, 1]. */
enum { C_SHAPES = 7 };

static void set_c_shape(gemm_case *c, int shape, int64_t m, int64_t n) {
    static const int ranks[C_SHAPES] = {0, 1, 2, 2, 2, 1, 2};
    c->c_rank = ranks[shape];
    const int64_t dims[C_SHAPES][2] = {{0, 0}, {n, 0}, {1, n}, {m, 1}, {m, n}, {1, 0}, {1, 1}};
    c->c_dims[0] = dims[shape][0];
    c->c_dims[1] = dims[shape][1];
}

static gemm_case make_gemm_case(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                                int c_shape) {
    gemm_case c;
    memset(&c, 0, sizeof c);
    c.p = sv_gemm_params_default();
    c.p.trans_a = trans_a;
    c.p.trans_b = trans_b;
    c.a_dims[0] = trans_a ? k : m;
    c.a_dims[1] = trans_a ? m : k;
    c.b_dims[0] = trans_b ? n : k;
    c.b_dims[1] = trans_b ? k : n;
    set_c_shape(&c, c_shape, m, n);
    return c;
}

static void describe_gemm(const gemm_case *c, char *buf, size_t size) {
    char a[48], b[48], cd[48];
    test_format_dims(a, sizeof a, 2, c->a_dims);
    test_format_dims(b, sizeof b, 2, c->b_dims);
    test_format_dims(cd, sizeof cd, c->c_rank, c->c_dims);
    snprintf(buf, size, "gemm A[%s]%s B[%s]%s C[%s] alpha %g beta %g act %d (alpha %g beta %g)", a,
             c->p.trans_a ? "^T" : "", b, c->p.trans_b ? "^T" : "", c->c_rank ? cd : "none",
             (double)c->p.alpha, (double)c->p.beta, (int)c->p.activation.kind,
             (double)c->p.activation.alpha, (double)c->p.activation.beta);
}

/* How a case runs on the device: through sv_gemm, or straight through the matrix-vector kernel
 * in one of its shapes (SV_GEMV_CPU, SV_GEMV_GPU) whatever the device's type, so that both
 * shapes are tested on any device. */
enum { VIA_GEMM = -1 };

/* Runs the case on ctx with the given parameters; returns the downloaded output (caller frees). */
static float *run_gemm_via(sv_context *ctx, const gemm_case *c, const sv_gemm_params *p, float *a,
                           float *b, float *cv, int via) {
    sv_message msg;
    int64_t y_dims[2];
    ck_assert_msg(
        sv_gemm_output_shape(p, c->a_dims, c->b_dims, c->c_rank, c->c_dims, y_dims, &msg) == SV_OK,
        "case rejected: %s", msg.text);
    ck_assert(y_dims[0] == c->y_dims[0] && y_dims[1] == c->y_dims[1]);
    sv_tensor *at = test_tensor_from(ctx, a, 2, c->a_dims);
    sv_tensor *bt = test_tensor_from(ctx, b, 2, c->b_dims);
    sv_tensor *ct = c->c_rank ? test_tensor_from(ctx, cv, c->c_rank, c->c_dims) : NULL;
    sv_tensor *yt = test_tensor_poisoned(ctx, 2, c->y_dims);
    sv_status st;
    if (via == VIA_GEMM) {
        st = sv_gemm(ctx, p, at, bt, ct, yt);
    } else {
        const int c_rows = c->c_rank == 2 ? (int)c->c_dims[0] : 1;
        const int c_cols = c->c_rank ? (int)c->c_dims[c->c_rank - 1] : 1;
        const int k = (int)(p->trans_a ? c->a_dims[0] : c->a_dims[1]);
        st = sv_gemv(ctx, (sv_gemv_shape)via, p, (int)y_dims[0], (int)y_dims[1], k, at->buffer,
                     bt->buffer, ct ? ct->buffer : NULL, c_rows, c_cols, yt->buffer);
    }
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(at);
    sv_tensor_release(bt);
    sv_tensor_release(ct);
    sv_tensor_release(yt);
    return y;
}

static float *run_gemm(sv_context *ctx, const gemm_case *c, const sv_gemm_params *p, float *a,
                       float *b, float *cv) {
    return run_gemm_via(ctx, c, p, a, b, cv, VIA_GEMM);
}

/* Checks the case, run on dev by route `via`, against the reference path. */
static void check_gemm_case_via(sv_context *dev, sv_context *ref, gemm_case *c, test_rng *rng,
                                int via) {
    c->y_dims[0] = c->p.trans_a ? c->a_dims[1] : c->a_dims[0];
    c->y_dims[1] = c->p.trans_b ? c->b_dims[0] : c->b_dims[1];
    const size_t na = (size_t)test_count(2, c->a_dims), nb = (size_t)test_count(2, c->b_dims);
    const size_t nc = (size_t)test_count(c->c_rank, c->c_dims),
                 ny = (size_t)test_count(2, c->y_dims);
    float *a = random_array(rng, na), *b = random_array(rng, nb), *cv = random_array(rng, nc);
    float *aa = test_absolute_copy(a, na), *ab = test_absolute_copy(b, nb),
          *ac = test_absolute_copy(cv, nc);

    float *y = run_gemm_via(dev, c, &c->p, a, b, cv, via);
    float *r = run_gemm(ref, c, &c->p, a, b, cv);
    sv_gemm_params plain = c->p;
    plain.alpha = fabsf(plain.alpha);
    plain.beta = fabsf(plain.beta);
    plain.activation.kind = SV_ACT_NONE;
    float *magnitude = run_gemm(ref, c, &plain, aa, ab, ac);

    const long k = (long)(c->p.trans_a ? c->a_dims[0] : c->a_dims[1]);
    char what[256];
    describe_gemm(c, what, sizeof what);
    if (via != VIA_GEMM) {
        const size_t used = strlen(what);
        snprintf(what + used, sizeof what - used, " (matrix-vector kernel, %s shape)",
                 via == SV_GEMV_CPU ? "CPU" : "GPU");
    }
    assert_product(y, r, magnitude, ny, k + 2, what);
    free(a), free(b), free(cv), free(aa), free(ab), free(ac), free(y), free(r), free(magnitude);
}

static void check_gemm_case(sv_context *dev, sv_context *ref, gemm_case *c, test_rng *rng) {
    check_gemm_case_via(dev, ref, c, rng, VIA_GEMM);
}

/* alpha and beta cycle through 1, 0, negative, fractional and large values. */
static const float scalars[] = {1.0f, 0.0f, -1.0f, 0.5f, -2.5f, 3.0f};
enum { SCALARS = sizeof scalars / sizeof scalars[0], ACTIVATIONS = SV_ACT_HARD_SIGMOID + 1 };
enum { GEMM_CASES_PER_C_SHAPE = 3 };

/* Loop index: the transpose combination (bit 0: A, bit 1: B); inside, every C shape with a few
 * random sizes each, alpha, beta and the activation cycling so that every value meets every
 * C shape and every transpose over the sweep. */
START_TEST(test_gemm_sweep_matches_reference) {
    const int trans_a = _i & 1, trans_b = (_i >> 1) & 1;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int shape = 0; shape < C_SHAPES; shape++)
        for (int j = 0; j < GEMM_CASES_PER_C_SHAPE; j++) {
            const int index = shape * GEMM_CASES_PER_C_SHAPE + j;
            test_rng rng = test_rng_for((uint64_t)(_i * 1000 + index));
            gemm_case c = make_gemm_case(trans_a, trans_b, odd_size(&rng), odd_size(&rng),
                                         odd_size(&rng), shape);
            c.p.alpha = scalars[index % SCALARS];
            c.p.beta = scalars[(index / SCALARS + _i + j) % SCALARS];
            c.p.activation = test_lipschitz_activation(
                &rng, (sv_activation_kind)((index + 3 * _i) % ACTIVATIONS));
            check_gemm_case(dev, ref, &c, &rng);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Products large enough (M * N * K above 384^3) for CLBlast's indirect Gemm, the one with
 * padding and transposing kernels around its main kernel, with a long reduction. */
START_TEST(test_large_gemm_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for(9000 + (uint64_t)_i);
    gemm_case c = make_gemm_case(_i & 1, (_i >> 1) & 1, 385, 401, 390, _i ? 3 : 1);
    c.p.alpha = -0.75f;
    c.p.beta = 1.5f;
    c.p.activation = test_lipschitz_activation(&rng, _i ? SV_ACT_NONE : SV_ACT_RELU);
    check_gemm_case(dev, ref, &c, &rng);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- few rows: the matrix-vector kernel ------------------------------------------------------- */

/* Whether ctx has built (or loaded) a program of kernels_cl/<source>.cl: which route a product
 * took, since CLBlast would compute the same values. */
static int context_has_program(const sv_context *ctx, const char *source) {
    for (size_t i = 0; i < ctx->programs.program_count; i++)
        if (strcmp(ctx->programs.programs[i].source_name, source) == 0)
            return 1;
    return 0;
}

/* A size the kernels' vector loops do not divide: one of three classes, by `which`: small (1 to
 * 47, below one float16 for a third of them), past a row block (1025 to 2599: more than one of
 * the CPU kernel's blocks of K, more than one 128-column strip of B), or 4 times an odd number
 * (the GPU kernel's aligned float4 loads, not a multiple of 8 or 16). The first two are odd. */
static int awkward_size(test_rng *rng, int which) {
    switch (which % 3) {
    case 0: return 2 * test_int(rng, 0, 23) + 1;
    case 1: return 2 * test_int(rng, 512, 1299) + 1;
    default: return 4 * (2 * test_int(rng, 12, 87) + 1);
    }
}

enum { GEMV_CASES_PER_C_SHAPE = 2 };

/* Loop index: the transpose combination (bit 0: A, bit 1: B). Inside, every C shape twice, with
 * every row count of the matrix-vector kernel in turn, each with its own activation (so that the
 * sweep builds one program per row count and transpose of A); alpha, beta and the size classes
 * of K and N cycle. Each case runs through sv_gemm and through both shapes of the kernel. */
START_TEST(test_gemv_sweep_matches_reference) {
    const int trans_a = _i & 1, trans_b = (_i >> 1) & 1;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int shape = 0; shape < C_SHAPES; shape++)
        for (int j = 0; j < GEMV_CASES_PER_C_SHAPE; j++) {
            const int index = shape * GEMV_CASES_PER_C_SHAPE + j;
            test_rng rng = test_rng_for((uint64_t)(7000 + _i * 100 + index));
            const int m = 1 + (index + _i) % SV_GEMV_MAX_ROWS;
            const int k = awkward_size(&rng, index), n = awkward_size(&rng, index / 3 + _i);
            gemm_case c = make_gemm_case(trans_a, trans_b, m, n, k, shape);
            c.p.alpha = scalars[(index + 2) % SCALARS];
            c.p.beta = scalars[(index / SCALARS + _i + j + 3) % SCALARS];
            c.p.activation =
                test_lipschitz_activation(&rng, (sv_activation_kind)((m - 1) % ACTIVATIONS));
            check_gemm_case_via(dev, ref, &c, &rng, VIA_GEMM);
            check_gemm_case_via(dev, ref, &c, &rng, SV_GEMV_CPU);
            check_gemm_case_via(dev, ref, &c, &rng, SV_GEMV_GPU);
        }
    ck_assert_msg(context_has_program(dev, "gemv"), "no product ran the matrix-vector kernel");
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* The threshold from both sides, on fresh contexts: SV_GEMV_MAX_ROWS rows run the matrix-vector
 * kernel, one more row runs CLBlast (which builds no gemv program); both match the reference. */
START_TEST(test_gemv_threshold) {
    const int rows[2] = {SV_GEMV_MAX_ROWS, SV_GEMV_MAX_ROWS + 1};
    for (int t = 0; t < 2; t++) {
        sv_context *dev = test_context(NULL), *ref = test_context("ref");
        test_rng rng = test_rng_for((uint64_t)(7900 + t));
        gemm_case c = make_gemm_case(0, 1, rows[t], 301, 1091, 1);
        c.p.alpha = 0.5f;
        c.p.beta = -1.5f;
        c.p.activation = test_lipschitz_activation(&rng, SV_ACT_RELU);
        check_gemm_case(dev, ref, &c, &rng);
        ck_assert_msg(context_has_program(dev, "gemv") == (t == 0),
                      "gemm with %d rows %s the matrix-vector kernel", rows[t],
                      t == 0 ? "did not run" : "ran");
        ck_assert_str_eq(sv_gemm_algorithm_label(&c.p, c.a_dims),
                         t == 0 ? "matrix-vector" : "CLBlast SGEMM");
        sv_context_release(dev);
        sv_context_release(ref);
    }
}
END_TEST

/* C may be y itself in the matrix-vector kernel too, over several work-items' worth of outputs
 * (N 301: two and a half 128-column strips of the CPU kernel, whose last strip overlaps its
 * neighbour's and must not store there, as C is then already overwritten). Loop index: the
 * route (sv_gemm, then each shape) times the transpose of B. */
START_TEST(test_gemv_c_may_be_the_output) {
    static const int routes[3] = {VIA_GEMM, SV_GEMV_CPU, SV_GEMV_GPU};
    const int via = routes[_i / 2], trans_b = _i % 2;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for((uint64_t)(7950 + _i));
    gemm_case c = make_gemm_case(0, trans_b, 3, 301, 77, 4);
    c.y_dims[0] = 3;
    c.y_dims[1] = 301;
    c.p.beta = -0.5f;
    const size_t na = 3 * 77, nb = 77 * 301, ny = 3 * 301;
    float *a = random_array(&rng, na), *b = random_array(&rng, nb), *cv = random_array(&rng, ny);
    float *aa = test_absolute_copy(a, na), *ab = test_absolute_copy(b, nb),
          *ac = test_absolute_copy(cv, ny);
    float *r = run_gemm(ref, &c, &c.p, a, b, cv);
    sv_gemm_params plain = c.p;
    plain.beta = 0.5f;
    float *magnitude = run_gemm(ref, &c, &plain, aa, ab, ac);

    sv_tensor *at = test_tensor_from(dev, a, 2, c.a_dims),
              *bt = test_tensor_from(dev, b, 2, c.b_dims);
    sv_tensor *yt = test_tensor_from(dev, cv, 2, c.y_dims);
    sv_status st = via == VIA_GEMM ? sv_gemm(dev, &c.p, at, bt, yt, yt)
                                   : sv_gemv(dev, (sv_gemv_shape)via, &c.p, 3, 301, 77, at->buffer,
                                             bt->buffer, yt->buffer, 3, 301, yt->buffer);
    TEST_ASSERT_STATUS(st, SV_OK, dev);
    float *y = test_download(yt);
    char what[256];
    describe_gemm(&c, what, sizeof what);
    assert_product(y, r, magnitude, ny, 77 + 2, what);
    sv_tensor_release(at), sv_tensor_release(bt), sv_tensor_release(yt);
    free(a), free(b), free(cv), free(aa), free(ab), free(ac), free(y), free(r), free(magnitude);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- MatMul ---------------------------------------------------------------------------------- */

typedef struct matmul_case {
    int a_rank, b_rank, y_rank;
    int64_t a_dims[4], b_dims[4], y_dims[4];
} matmul_case;

/* How the batch dimensions relate: equal in both operands; broadcast at random; B's all 1
 * (or missing); A's all 1 (or missing). */
enum { BATCH_EQUAL = 0, BATCH_RANDOM, BATCH_B_SINGLE, BATCH_A_SINGLE, BATCH_MODES };

static matmul_case random_matmul_case(test_rng *rng, int a_rank, int b_rank, int mode) {
    matmul_case c;
    memset(&c, 0, sizeof c);
    c.a_rank = a_rank;
    c.b_rank = b_rank;
    const int m = odd_size(rng), k = odd_size(rng), n = odd_size(rng);
    const int a_batch = a_rank > 2 ? a_rank - 2 : 0, b_batch = b_rank > 2 ? b_rank - 2 : 0;
    const int batch = a_batch > b_batch ? a_batch : b_batch;
    for (int i = 0; i < batch; i++) {
        const int ai = i - (batch - a_batch), bi = i - (batch - b_batch);
        const int full = test_int(rng, 2, 3);
        int ad = full, bd = full;
        if (mode == BATCH_RANDOM) {
            const int which = test_int(rng, 0, 2); /* 0: both full, 1: A's is 1, 2: B's is 1 */
            ad = which == 1 ? 1 : full;
            bd = which == 2 ? 1 : full;
        }
        if (mode == BATCH_B_SINGLE)
            bd = 1;
        if (mode == BATCH_A_SINGLE)
            ad = 1;
        if (ai >= 0)
            c.a_dims[ai] = ad;
        if (bi >= 0)
            c.b_dims[bi] = bd;
    }
    if (a_rank == 1) {
        c.a_dims[0] = k;
    } else {
        c.a_dims[a_rank - 2] = m;
        c.a_dims[a_rank - 1] = k;
    }
    if (b_rank == 1) {
        c.b_dims[0] = k;
    } else {
        c.b_dims[b_rank - 2] = k;
        c.b_dims[b_rank - 1] = n;
    }
    sv_message msg;
    sv_status st =
        sv_matmul_output_shape(a_rank, c.a_dims, b_rank, c.b_dims, &c.y_rank, c.y_dims, &msg);
    ck_assert_msg(st == SV_OK, "generated case rejected: %s", msg.text);
    return c;
}

static float *run_matmul(sv_context *ctx, const matmul_case *c, float *a, float *b) {
    sv_tensor *at = test_tensor_from(ctx, a, c->a_rank, c->a_dims);
    sv_tensor *bt = test_tensor_from(ctx, b, c->b_rank, c->b_dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, c->y_rank, c->y_dims);
    sv_status st = sv_matmul(ctx, at, bt, yt);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(at);
    sv_tensor_release(bt);
    sv_tensor_release(yt);
    return y;
}

static void check_matmul_case(sv_context *dev, sv_context *ref, const matmul_case *c,
                              test_rng *rng) {
    const size_t na = (size_t)test_count(c->a_rank, c->a_dims),
                 nb = (size_t)test_count(c->b_rank, c->b_dims),
                 ny = (size_t)test_count(c->y_rank, c->y_dims);
    float *a = random_array(rng, na), *b = random_array(rng, nb);
    float *aa = test_absolute_copy(a, na), *ab = test_absolute_copy(b, nb);
    float *y = run_matmul(dev, c, a, b);
    float *r = run_matmul(ref, c, a, b);
    float *magnitude = run_matmul(ref, c, aa, ab);
    char as[64], bs[64], ys[64], what[256];
    test_format_dims(as, sizeof as, c->a_rank, c->a_dims);
    test_format_dims(bs, sizeof bs, c->b_rank, c->b_dims);
    test_format_dims(ys, sizeof ys, c->y_rank, c->y_dims);
    snprintf(what, sizeof what, "matmul [%s] x [%s] -> [%s]", as, bs, ys);
    /* a plain dot product of length K per element (see the tolerance note above) */
    assert_product(y, r, magnitude, ny, (long)c->a_dims[c->a_rank - 1], what);
    free(a), free(b), free(aa), free(ab), free(y), free(r), free(magnitude);
}

/* Loop index: the rank pair (A's rank _i / 4 + 1, B's rank _i % 4 + 1); inside, every way the
 * batch dimensions can relate, so that CLBlast's single, strided-batched and offset-batched
 * calls are all exercised. */
START_TEST(test_matmul_sweep_matches_reference) {
    const int a_rank = _i / 4 + 1, b_rank = _i % 4 + 1;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int mode = 0; mode < BATCH_MODES; mode++) {
        test_rng rng = test_rng_for((uint64_t)(5000 + _i * 10 + mode));
        matmul_case c = random_matmul_case(&rng, a_rank, b_rank, mode);
        check_matmul_case(dev, ref, &c, &rng);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* A broadcast batch of products large enough for CLBlast's indirect batched kernels. */
START_TEST(test_large_matmul_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for(9100);
    matmul_case c;
    memset(&c, 0, sizeof c);
    c.a_rank = 4;
    c.b_rank = 3;
    const int64_t a_dims[4] = {2, 1, 390, 385}, b_dims[3] = {2, 385, 400};
    memcpy(c.a_dims, a_dims, sizeof a_dims);
    memcpy(c.b_dims, b_dims, sizeof b_dims);
    sv_message msg;
    ck_assert_int_eq(sv_matmul_output_shape(4, c.a_dims, 3, c.b_dims, &c.y_rank, c.y_dims, &msg),
                     SV_OK);
    check_matmul_case(dev, ref, &c, &rng);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* MatMul with one B and at most SV_GEMV_MAX_ROWS rows in all (A's batches stacked) runs the
 * matrix-vector kernel; with more rows, or a B per batch, CLBlast. Each case on a fresh context,
 * against the reference, and the route checked by the programs it built. */
typedef struct few_rows_matmul {
    int a_rank, b_rank;
    int64_t a_dims[4], b_dims[4];
    int gemv;
} few_rows_matmul;

static const few_rows_matmul few_rows_matmuls[] = {
    {1, 2, {1037}, {1037, 301}, 1},        /* a vector: one row */
    {3, 2, {2, 3, 517}, {517, 133}, 1},    /* 2 batches of 3 rows */
    {2, 1, {7, 1029}, {1029}, 1},          /* B a vector: one column */
    {4, 2, {2, 1, 4, 45}, {45, 259}, 1},   /* 8 rows */
    {3, 2, {3, 3, 517}, {517, 133}, 0},    /* 9 rows */
    {3, 3, {2, 3, 517}, {2, 517, 133}, 0}, /* a B per batch */
};

START_TEST(test_few_rows_matmul_matches_reference) {
    const few_rows_matmul *f = &few_rows_matmuls[_i];
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for((uint64_t)(9200 + _i));
    matmul_case c;
    memset(&c, 0, sizeof c);
    c.a_rank = f->a_rank;
    c.b_rank = f->b_rank;
    memcpy(c.a_dims, f->a_dims, sizeof c.a_dims);
    memcpy(c.b_dims, f->b_dims, sizeof c.b_dims);
    sv_message msg;
    ck_assert_int_eq(
        sv_matmul_output_shape(c.a_rank, c.a_dims, c.b_rank, c.b_dims, &c.y_rank, c.y_dims, &msg),
        SV_OK);
    check_matmul_case(dev, ref, &c, &rng);
    ck_assert_msg(context_has_program(dev, "gemv") == f->gemv,
                  "matmul case %d %s the matrix-vector kernel", _i,
                  f->gemv ? "did not run" : "ran");
    ck_assert_str_eq(sv_matmul_algorithm_label(c.a_rank, c.a_dims, c.b_rank, c.b_dims),
                     f->gemv ? "matrix-vector" : "CLBlast SGEMM");
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- hand-computed examples --------------------------------------------------------------------
 * A = [[1, 2, 3], [4, 5, 6]], B = [[1, 0], [0, 1], [1, 1]]: A B = [[4, 5], [10, 11]]. Every
 * intermediate is a small integer or half-integer, exact in fp32 in any order, so these compare
 * with ==. */
static float hand_a[6] = {1, 2, 3, 4, 5, 6};
static float hand_at[6] = {1, 4, 2, 5, 3, 6}; /* A stored transposed, [3, 2] */
static float hand_b[6] = {1, 0, 0, 1, 1, 1};
static float hand_bt[6] = {1, 0, 1, 0, 1, 1}; /* B stored transposed, [2, 3] */

typedef struct hand_gemm {
    const char *name;
    int trans_a, trans_b;
    float alpha, beta;
    sv_activation_kind act;
    int c_rank;
    int64_t c_dims[2];
    float c[4];
    float expected[4];
} hand_gemm;

static const hand_gemm hand_gemms[] = {
    /* 2 * A B + 0.5 * [1, -2] per row */
    {"vector C", 0, 0, 2.0f, 0.5f, SV_ACT_NONE, 1, {2}, {1, -2}, {8.5f, 9, 20.5f, 21}},
    /* the same product from transposed storage, C [[1], [-1]] per column */
    {"transposed, column C",
     1,
     1,
     2.0f,
     0.5f,
     SV_ACT_NONE,
     2,
     {2, 1},
     {1, -1},
     {8.5f, 10.5f, 19.5f, 21.5f}},
    /* relu(-A B + 10) = relu([[6, 5], [0, -1]]) */
    {"scalar C, relu", 0, 1, -1.0f, 1.0f, SV_ACT_RELU, 2, {1, 1}, {10}, {6, 5, 0, 0}},
    /* A B + 3 * [[1, 2], [3, 4]] */
    {"full C", 1, 0, 1.0f, 3.0f, SV_ACT_NONE, 2, {2, 2}, {1, 2, 3, 4}, {7, 11, 19, 23}},
    /* A B without C, clipped to [4.5, 10.5] */
    {"no C, clip", 0, 0, 1.0f, 1.0f, SV_ACT_CLIP, 0, {0}, {0}, {4.5f, 5, 10, 10.5f}},
};

static void check_hand_gemm(const char *spec, int index) {
    const hand_gemm *h = &hand_gemms[index];
    sv_context *ctx = test_context(spec);
    gemm_case c = make_gemm_case(h->trans_a, h->trans_b, 2, 2, 3, 0);
    c.p.alpha = h->alpha;
    c.p.beta = h->beta;
    c.p.activation.kind = h->act;
    c.p.activation.alpha = 4.5f; /* clip's bounds */
    c.p.activation.beta = 10.5f;
    c.c_rank = h->c_rank;
    memcpy(c.c_dims, h->c_dims, sizeof c.c_dims);
    c.y_dims[0] = c.y_dims[1] = 2;
    float cv[4];
    memcpy(cv, h->c, sizeof cv);
    float *y =
        run_gemm(ctx, &c, &c.p, h->trans_a ? hand_at : hand_a, h->trans_b ? hand_bt : hand_b, cv);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(y[i] == h->expected[i], "%s on %s, element %d: got %g, want %g", h->name,
                      test_spec_name(spec), i, (double)y[i], (double)h->expected[i]);
    free(y);
    sv_context_release(ctx);
}

START_TEST(test_hand_gemm_on_reference) {
    check_hand_gemm("ref", _i);
}
END_TEST

START_TEST(test_hand_gemm_on_device) {
    check_hand_gemm(NULL, _i);
}
END_TEST

/* beta = 0 does not drop C: the formula alpha * A B + beta * C is followed literally (as NumPy
 * evaluates it), so a NaN in C gives NaN and finite values give A B. */
START_TEST(test_zero_beta_follows_the_formula) {
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        gemm_case c = make_gemm_case(0, 0, 2, 2, 3, 1);
        c.p.beta = 0.0f;
        c.y_dims[0] = c.y_dims[1] = 2;
        float cv[2] = {NAN, 1000};
        float *y = run_gemm(ctx, &c, &c.p, hand_a, hand_b, cv);
        const char *where = test_spec_name(test_spec(s));
        ck_assert_msg(isnan(y[0]) && isnan(y[2]), "%s: 0 * NaN in C must give NaN, got %g, %g",
                      where, (double)y[0], (double)y[2]);
        ck_assert_msg(y[1] == 5 && y[3] == 11, "%s: 0 * 1000 must vanish, got %g, %g", where,
                      (double)y[1], (double)y[3]);
        free(y);
        sv_context_release(ctx);
    }
}
END_TEST

/* C may be the output itself (y = alpha A B + beta y, each element of C read before it is
 * overwritten): A B + 3 * [[1, 2], [3, 4]] = [[7, 11], [19, 23]]. */
START_TEST(test_c_may_be_the_output) {
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        const int64_t a_dims[2] = {2, 3}, b_dims[2] = {3, 2}, y_dims[2] = {2, 2};
        float cy[4] = {1, 2, 3, 4};
        sv_tensor *a = test_tensor_from(ctx, hand_a, 2, a_dims);
        sv_tensor *b = test_tensor_from(ctx, hand_b, 2, b_dims);
        sv_tensor *y = test_tensor_from(ctx, cy, 2, y_dims);
        sv_gemm_params p = sv_gemm_params_default();
        p.beta = 3.0f;
        TEST_ASSERT_STATUS(sv_gemm(ctx, &p, a, b, y, y), SV_OK, ctx);
        float *out = test_download(y);
        const float expected[4] = {7, 11, 19, 23};
        for (int i = 0; i < 4; i++)
            ck_assert_msg(out[i] == expected[i], "%s, element %d: got %g, want %g",
                          test_spec_name(test_spec(s)), i, (double)out[i], (double)expected[i]);
        free(out);
        sv_tensor_release(a), sv_tensor_release(b), sv_tensor_release(y);
        sv_context_release(ctx);
    }
}
END_TEST

typedef struct hand_matmul {
    const char *name;
    int a_rank, b_rank, y_rank;
    int64_t a_dims[4], b_dims[4], y_dims[4];
    float a[8], b[8], expected[8];
} hand_matmul;

static const hand_matmul hand_matmuls[] = {
    /* 1*4 + 2*5 + 3*6; NumPy's scalar is [1] */
    {"dot product", 1, 1, 1, {3}, {3}, {1}, {1, 2, 3}, {4, 5, 6}, {32}},
    /* [1, 2] [[1, 2, 3], [4, 5, 6]] = [9, 12, 15]: the prepended 1 is removed */
    {"vector x matrix", 1, 2, 1, {2}, {2, 3}, {3}, {1, 2}, {1, 2, 3, 4, 5, 6}, {9, 12, 15}},
    /* [[1, 2, 3], [4, 5, 6]] [1, 0, -1] = [-2, -2]: the appended 1 is removed */
    {"matrix x vector", 2, 1, 1, {2, 3}, {3}, {2}, {1, 2, 3, 4, 5, 6}, {1, 0, -1}, {-2, -2}},
    /* A [2, 1, 1, 2] = rows [1, 2] and [3, 4]; B [3, 2, 1] = columns [1, 1], [1, 0], [0, 1]:
     * every row against every column, [2, 3, 1, 1] */
    {"broadcast batches",
     4,
     3,
     4,
     {2, 1, 1, 2},
     {3, 2, 1},
     {2, 3, 1, 1},
     {1, 2, 3, 4},
     {1, 1, 1, 0, 0, 1},
     {3, 1, 2, 7, 3, 4}},
    /* a vector against a batch of matrices: [1, -1] times [[1, 2], [3, 4]] and [[5, 6], [7, 8]]
     * gives [2, 2] ([-2, -2] and [-2, -2]) */
    {"vector x batch",
     1,
     3,
     2,
     {2},
     {2, 2, 2},
     {2, 2},
     {1, -1},
     {1, 2, 3, 4, 5, 6, 7, 8},
     {-2, -2, -2, -2}},
};

static void check_hand_matmul(const char *spec, int index) {
    const hand_matmul *h = &hand_matmuls[index];
    sv_context *ctx = test_context(spec);
    int rank = 0;
    int64_t dims[SV_MAX_RANK];
    sv_message msg;
    ck_assert_int_eq(
        sv_matmul_output_shape(h->a_rank, h->a_dims, h->b_rank, h->b_dims, &rank, dims, &msg),
        SV_OK);
    ck_assert_msg(rank == h->y_rank, "%s: result rank %d, want %d", h->name, rank, h->y_rank);
    for (int i = 0; i < rank; i++)
        ck_assert_msg(dims[i] == h->y_dims[i], "%s: result dim %d is %lld, want %lld", h->name, i,
                      (long long)dims[i], (long long)h->y_dims[i]);
    matmul_case c;
    memset(&c, 0, sizeof c);
    c.a_rank = h->a_rank;
    c.b_rank = h->b_rank;
    c.y_rank = h->y_rank;
    memcpy(c.a_dims, h->a_dims, sizeof c.a_dims);
    memcpy(c.b_dims, h->b_dims, sizeof c.b_dims);
    memcpy(c.y_dims, h->y_dims, sizeof c.y_dims);
    float a[8], b[8];
    memcpy(a, h->a, sizeof a);
    memcpy(b, h->b, sizeof b);
    float *y = run_matmul(ctx, &c, a, b);
    for (int64_t i = 0; i < test_count(c.y_rank, c.y_dims); i++)
        ck_assert_msg(y[i] == h->expected[i], "%s on %s, element %lld: got %g, want %g", h->name,
                      test_spec_name(spec), (long long)i, (double)y[i], (double)h->expected[i]);
    free(y);
    sv_context_release(ctx);
}

START_TEST(test_hand_matmul_on_reference) {
    check_hand_matmul("ref", _i);
}
END_TEST

START_TEST(test_hand_matmul_on_device) {
    check_hand_matmul(NULL, _i);
}
END_TEST

/* --- invalid parameters: each row breaks one rule and names the status and a phrase the message
 * must contain. */
/* Gemm rows break a valid case: A [3, 4], B [4, 5], C [5], default parameters. */
static const test_invalid_row gemm_invalid_rows[] = {
    {"inner dimension mismatch", SV_SHAPE_MISMATCH, "inner dimensions differ"},
    {"mismatch once B is transposed", SV_SHAPE_MISMATCH, "op(B) is [5, 4]"},
    {"C columns do not broadcast", SV_SHAPE_MISMATCH,
     "C of shape [4] does not broadcast to [3, 5]"},
    {"C rows do not broadcast", SV_SHAPE_MISMATCH, "C of shape [2, 5] does not broadcast"},
    {"C of rank 3", SV_SHAPE_MISMATCH, "C has rank 3"},
    {"negative C rank", SV_SHAPE_MISMATCH, "C has rank -1"},
    {"transpose flag not 0 or 1", SV_INVALID_ARGUMENT, "trans_a = 2"},
    {"unknown activation", SV_INVALID_ARGUMENT, "unknown activation"},
    {"clip min > max", SV_INVALID_ARGUMENT, "min <= max"},
    {"zero-sized dimension of A", SV_INVALID_ARGUMENT, "dimension 1 of A (0) is outside 1.."},
    {"zero-sized dimension of C", SV_INVALID_ARGUMENT, "dimension 0 of C (0)"},
    {"C shape missing", SV_INVALID_ARGUMENT, "NULL parameters or shapes"},
};

static void break_gemm_rule(int row, sv_gemm_params *p, int64_t *a, int64_t *b, int *c_rank,
                            int64_t *c, const int64_t **c_ptr) {
    switch (row) {
    case 0: b[0] = 6; break;
    case 1: p->trans_b = 1; break;
    case 2: c[0] = 4; break;
    case 3: *c_rank = 2, c[0] = 2, c[1] = 5; break;
    case 4: *c_rank = 3, c[0] = 1, c[1] = 1, c[2] = 5; break;
    case 5: *c_rank = -1; break;
    case 6: p->trans_a = 2; break;
    case 7: p->activation.kind = (sv_activation_kind)42; break;
    case 8:
        p->activation.kind = SV_ACT_CLIP, p->activation.alpha = 1, p->activation.beta = -1;
        break;
    case 9: a[1] = 0; break;
    case 10: c[0] = 0; break;
    case 11: *c_ptr = NULL; break;
    default: ck_abort_msg("no rule %d", row);
    }
}

START_TEST(test_gemm_invalid_parameters_are_rejected) {
    const test_invalid_row *row = &gemm_invalid_rows[_i];
    sv_gemm_params p = sv_gemm_params_default();
    int64_t a[2] = {3, 4}, b[2] = {4, 5}, c[3] = {5, 1, 1}, y[2];
    int c_rank = 1;
    const int64_t *c_ptr = c;
    sv_message msg = {{0}};
    ck_assert_int_eq(sv_gemm_output_shape(&p, a, b, c_rank, c_ptr, y, &msg), SV_OK);
    ck_assert(y[0] == 3 && y[1] == 5);
    break_gemm_rule(_i, &p, a, b, &c_rank, c, &c_ptr);
    test_poison_dims(y, 2);
    sv_status st = sv_gemm_output_shape(&p, a, b, c_rank, c_ptr, y, &msg);
    test_assert_shape_rejected(row, st, msg.text, y, 2);
}
END_TEST

/* MatMul rows break a valid case: A [2, 3, 4], B [4, 5]. */
static const test_invalid_row matmul_invalid_rows[] = {
    {"inner dimension mismatch", SV_SHAPE_MISMATCH, "B [3, 5] has 3 rows"},
    {"vector lengths differ", SV_SHAPE_MISMATCH, "A [4] has 4 columns but B [3]"},
    {"batch dimensions do not broadcast", SV_SHAPE_MISMATCH, "do not broadcast (2 against 3)"},
    {"operand of rank 5", SV_UNSUPPORTED, "ranks 1 to 4"},
    {"operand of rank 0", SV_UNSUPPORTED, "ranks 1 to 4"},
    {"zero-sized dimension", SV_INVALID_ARGUMENT, "dimension 0 of A (0) is outside 1.."},
};

static void break_matmul_rule(int row, int *a_rank, int64_t *a, int *b_rank, int64_t *b) {
    switch (row) {
    case 0: b[0] = 3; break;
    case 1: *a_rank = 1, a[0] = 4, *b_rank = 1, b[0] = 3; break;
    case 2: *b_rank = 3, b[0] = 3, b[1] = 4, b[2] = 5; break;
    case 3: *a_rank = 5, a[3] = 3, a[4] = 4; break;
    case 4: *b_rank = 0; break;
    case 5: a[0] = 0; break;
    default: ck_abort_msg("no rule %d", row);
    }
}

START_TEST(test_matmul_invalid_shapes_are_rejected) {
    const test_invalid_row *row = &matmul_invalid_rows[_i];
    int a_rank = 3, b_rank = 2, y_rank = TEST_POISON_DIM;
    int64_t a[5] = {2, 3, 4, 1, 1}, b[5] = {4, 5, 1, 1, 1}, y[SV_MAX_RANK];
    sv_message msg = {{0}};
    ck_assert_int_eq(sv_matmul_output_shape(a_rank, a, b_rank, b, &y_rank, y, &msg), SV_OK);
    ck_assert(y_rank == 3 && y[0] == 2 && y[1] == 3 && y[2] == 5);
    break_matmul_rule(_i, &a_rank, a, &b_rank, b);
    y_rank = TEST_POISON_DIM;
    test_poison_dims(y, SV_MAX_RANK);
    sv_status st = sv_matmul_output_shape(a_rank, a, b_rank, b, &y_rank, y, &msg);
    test_assert_shape_rejected(row, st, msg.text, y, SV_MAX_RANK);
    ck_assert_msg(y_rank == TEST_POISON_DIM, "%s: output rank written on failure", row->what);
}
END_TEST

static sv_tensor *new_tensor(sv_context *ctx, int rank, const int64_t *dims) {
    sv_tensor *t = NULL;
    TEST_ASSERT_STATUS(sv_tensor_create(ctx, rank, dims, &t), SV_OK, ctx);
    return t;
}

static void assert_last_error_has(sv_context *ctx, const char *phrase) {
    ck_assert_msg(strstr(sv_last_error(ctx), phrase) != NULL, "message '%s' lacks '%s'",
                  sv_last_error(ctx), phrase);
}

/* The same validation guards sv_gemm and sv_matmul on a context, and the message reaches
 * sv_last_error. */
START_TEST(test_invalid_calls_report_through_context) {
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t a_dims[2] = {3, 4}, b_dims[2] = {4, 5}, y_dims[2] = {3, 5};
        const int64_t cube[3] = {2, 3, 4}, wrong_y[2] = {5, 3}, square[2] = {4, 4};
        const int64_t rank5[5] = {1, 2, 1, 3, 4};
        sv_tensor *a = new_tensor(ctx, 2, a_dims), *b = new_tensor(ctx, 2, b_dims);
        sv_tensor *y = new_tensor(ctx, 2, y_dims), *a3 = new_tensor(ctx, 3, cube);
        sv_tensor *y_wrong = new_tensor(ctx, 2, wrong_y), *foreign = new_tensor(other, 2, y_dims);
        sv_tensor *sq = new_tensor(ctx, 2, square), *a5 = new_tensor(ctx, 5, rank5);
        sv_tensor *sq_view = NULL;
        TEST_ASSERT_STATUS(sv_tensor_reshape(sq, 2, square, &sq_view), SV_OK, ctx);
        sv_gemm_params p = sv_gemm_params_default();

        TEST_ASSERT_STATUS(sv_gemm(ctx, &p, a3, b, NULL, y), SV_SHAPE_MISMATCH, ctx);
        assert_last_error_has(ctx, "must be matrices (rank 2), got ranks 3 and 2");
        TEST_ASSERT_STATUS(sv_gemm(ctx, &p, a, b, NULL, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        TEST_ASSERT_STATUS(sv_gemm(ctx, &p, a, b, NULL, y_wrong), SV_SHAPE_MISMATCH, ctx);
        assert_last_error_has(ctx, "expected [3, 5]");
        TEST_ASSERT_STATUS(sv_gemm(ctx, &p, a, b, a3, y), SV_SHAPE_MISMATCH, ctx);
        assert_last_error_has(ctx, "C has rank 3");
        TEST_ASSERT_STATUS(sv_gemm(ctx, &p, b, a, NULL, y), SV_SHAPE_MISMATCH, ctx);
        assert_last_error_has(ctx, "inner dimensions differ");
        TEST_ASSERT_STATUS(sv_gemm(ctx, &p, a, b, NULL, NULL), SV_INVALID_ARGUMENT, ctx);
        TEST_ASSERT_STATUS(sv_gemm(ctx, &p, a, b, NULL, foreign), SV_WRONG_CONTEXT, ctx);
        TEST_ASSERT_STATUS(sv_gemm(ctx, NULL, a, b, NULL, y), SV_INVALID_ARGUMENT, ctx);
        TEST_ASSERT_STATUS(sv_gemm(ctx, &p, sq, sq, NULL, sq_view), SV_INVALID_ARGUMENT, ctx);
        assert_last_error_has(ctx, "shares storage");

        TEST_ASSERT_STATUS(sv_matmul(ctx, a, b, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        TEST_ASSERT_STATUS(sv_matmul(ctx, a, b, y_wrong), SV_SHAPE_MISMATCH, ctx);
        assert_last_error_has(ctx, "expected [3, 5]");
        TEST_ASSERT_STATUS(sv_matmul(ctx, b, a, y), SV_SHAPE_MISMATCH, ctx);
        assert_last_error_has(ctx, "inner dimensions differ");
        TEST_ASSERT_STATUS(sv_matmul(ctx, a5, a, y), SV_UNSUPPORTED, ctx);
        assert_last_error_has(ctx, "ranks 1 to 4");
        TEST_ASSERT_STATUS(sv_matmul(ctx, a, foreign, y), SV_WRONG_CONTEXT, ctx);
        TEST_ASSERT_STATUS(sv_matmul(ctx, sq, sq, sq_view), SV_INVALID_ARGUMENT, ctx);
        assert_last_error_has(ctx, "shares storage");

        sv_tensor_release(a), sv_tensor_release(b), sv_tensor_release(y), sv_tensor_release(a3);
        sv_tensor_release(y_wrong), sv_tensor_release(foreign), sv_tensor_release(sq_view);
        sv_tensor_release(sq), sv_tensor_release(a5);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

static Suite *gemm_suite(void) {
    Suite *s = suite_create("gemm");
    TCase *sweep = test_add_case(s, "random sweep against ref", 300);
    tcase_add_loop_test(sweep, test_gemm_sweep_matches_reference, 0, 4);
    tcase_add_loop_test(sweep, test_large_gemm_matches_reference, 0, 2);
    tcase_add_loop_test(sweep, test_matmul_sweep_matches_reference, 0, 16);
    tcase_add_test(sweep, test_large_matmul_matches_reference);
    TCase *few = test_add_case(s, "few rows: the matrix-vector kernel", 300);
    tcase_add_loop_test(few, test_gemv_sweep_matches_reference, 0, 4);
    tcase_add_test(few, test_gemv_threshold);
    tcase_add_loop_test(few, test_gemv_c_may_be_the_output, 0, 6);
    tcase_add_loop_test(few, test_few_rows_matmul_matches_reference, 0,
                        TEST_COUNT_OF(few_rows_matmuls));
    TCase *known = test_add_case(s, "hand-computed", 120);
    tcase_add_loop_test(known, test_hand_gemm_on_reference, 0, TEST_COUNT_OF(hand_gemms));
    tcase_add_loop_test(known, test_hand_gemm_on_device, 0, TEST_COUNT_OF(hand_gemms));
    tcase_add_test(known, test_zero_beta_follows_the_formula);
    tcase_add_test(known, test_c_may_be_the_output);
    tcase_add_loop_test(known, test_hand_matmul_on_reference, 0, TEST_COUNT_OF(hand_matmuls));
    tcase_add_loop_test(known, test_hand_matmul_on_device, 0, TEST_COUNT_OF(hand_matmuls));
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_gemm_invalid_parameters_are_rejected, 0,
                        TEST_COUNT_OF(gemm_invalid_rows));
    tcase_add_loop_test(invalid, test_matmul_invalid_shapes_are_rejected, 0,
                        TEST_COUNT_OF(matmul_invalid_rows));
    tcase_add_test(invalid, test_invalid_calls_report_through_context);
    return s;
}

TEST_MAIN(gemm_suite)
