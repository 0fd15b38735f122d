/* Transpose: the default OpenCL device against the reference path on every permutation of ranks
 * 1..4 and random ones of rank 5, with unit axes, odd sizes and batch > 1 (so that the device's
 * axis merging, gather kernel and tiled kernel are all reached), and on tensors larger than one
 * 32 x 32 tile; small cases against values written out by hand; invalid permutations against
 * the errors they must give. A transpose only moves values, so every comparison is exact. */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct transpose_case {
    int rank;
    int perm[SV_MAX_RANK];
    int64_t x_dims[SV_MAX_RANK], y_dims[SV_MAX_RANK];
} transpose_case;

static void describe(const transpose_case *c, char *buf, size_t size) {
    char x[96];
    test_format_dims(x, sizeof x, c->rank, c->x_dims);
    size_t used = (size_t)snprintf(buf, size, "transpose x[%s] perm (", x);
    for (int i = 0; i < c->rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ",%d" : "%d", c->perm[i]);
    if (used < size)
        snprintf(buf + used, size - used, ")");
}

static transpose_case make_case(int rank, const int *perm, const int64_t *x_dims) {
    transpose_case c;
    memset(&c, 0, sizeof c);
    c.rank = rank;
    for (int i = 0; i < rank; i++) {
        c.perm[i] = perm[i];
        c.x_dims[i] = x_dims[i];
    }
    for (int i = 0; i < rank; i++)
        c.y_dims[i] = x_dims[perm[i]];
    return c;
}

/* The k-th permutation of rank elements in lexicographic order (k < rank!). */
static void nth_permutation(int rank, int k, int *perm) {
    int left[SV_MAX_RANK], n = rank, factorial = 1;
    for (int i = 0; i < rank; i++)
        left[i] = i;
    for (int i = 2; i < rank; i++)
        factorial *= i;
    for (int i = 0; i < rank; i++) {
        const int pick = n > 1 ? k / factorial : 0;
        perm[i] = left[pick];
        for (int j = pick; j < n - 1; j++)
            left[j] = left[j + 1];
        if (n > 1)
            k %= factorial;
        n--;
        if (n > 1)
            factorial /= n;
    }
}

/* Random dims: batch 2..3 in front (rank >= 2), otherwise 1..max with unit axes now and then. */
static void random_dims(test_rng *rng, int rank, int max, int64_t *dims) {
    for (int i = 0; i < rank; i++)
        dims[i] = i == 0 && rank >= 2        ? test_int(rng, 2, 3)
                  : test_int(rng, 0, 4) == 0 ? 1
                                             : test_int(rng, 2, max);
}

/* Runs the case on ctx; returns the downloaded output (caller frees). */
static float *run_case(sv_context *ctx, const transpose_case *c, float *x) {
    sv_tensor *xt = test_tensor_from(ctx, x, c->rank, c->x_dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->y_dims);
    sv_status st = sv_transpose(ctx, c->perm, xt, yt);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt);
    sv_tensor_release(yt);
    return y;
}

/* Compares the device with the reference on one case, every element exactly. The input holds
 * distinct values (its own indices), so that any misplaced element shows. */
static void check_case(sv_context *dev, sv_context *ref, const transpose_case *c) {
    const size_t n = (size_t)test_count(c->rank, c->x_dims);
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)i;
    float *y = run_case(dev, c, x);
    float *r = run_case(ref, c, x);
    char what[256];
    describe(c, what, sizeof what);
    test_assert_equal(y, r, n, what);
    free(x), free(y), free(r);
}

enum { SHAPES_PER_PERMUTATION = 3, RANK5_CASES = 40 };

/* Loop index i: rank i + 1 (1..4): every permutation, each with a few random shapes. */
START_TEST(test_every_permutation_matches_reference) {
    const int rank = _i + 1;
    int count = 1;
    for (int i = 2; i <= rank; i++)
        count *= i;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int k = 0; k < count; k++)
        for (int s = 0; s < SHAPES_PER_PERMUTATION; s++) {
            test_rng rng = test_rng_for((uint64_t)((rank * 200 + k) * 10 + s));
            int perm[SV_MAX_RANK];
            int64_t dims[SV_MAX_RANK];
            nth_permutation(rank, k, perm);
            random_dims(&rng, rank, rank == 1 ? 70 : rank == 2 ? 40 : 9, dims);
            transpose_case c = make_case(rank, perm, dims);
            check_case(dev, ref, &c);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Rank 5: random permutations of random shapes. */
START_TEST(test_rank5_random_permutations_match_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int k = 0; k < RANK5_CASES; k++) {
        test_rng rng = test_rng_for((uint64_t)(5000 + k));
        int perm[SV_MAX_RANK];
        int64_t dims[SV_MAX_RANK];
        nth_permutation(SV_MAX_RANK, test_int(&rng, 0, 119), perm);
        random_dims(&rng, SV_MAX_RANK, 6, dims);
        transpose_case c = make_case(SV_MAX_RANK, perm, dims);
        check_case(dev, ref, &c);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* Shapes that span several 32 x 32 tiles with partial tiles at the edges: NCHW -> NHWC and back,
 * a batched matrix transpose and a rank-5 shuffle whose innermost axis moves to the middle. */
START_TEST(test_multi_tile_layouts_match_reference) {
    static const struct {
        int rank;
        int perm[SV_MAX_RANK];
        int64_t dims[SV_MAX_RANK];
    } rows[] = {
        {4, {0, 2, 3, 1}, {2, 19, 33, 35}},
        {4, {0, 3, 1, 2}, {2, 33, 35, 19}},
        {3, {0, 2, 1}, {3, 70, 45}},
        {2, {1, 0}, {100, 65}},
        {5, {1, 4, 0, 3, 2}, {2, 3, 5, 7, 40}},
    };
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (size_t m = 0; m < sizeof rows / sizeof rows[0]; m++) {
        transpose_case c = make_case(rows[m].rank, rows[m].perm, rows[m].dims);
        check_case(dev, ref, &c);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- worked examples: [[1, 2, 3], [4, 5, 6]] transposed is [[1, 4], [2, 5], [3, 6]]; the
 * [2, 2, 3] tensor of 0..11 with perm (2, 0, 1) is the [3, 2, 2] tensor
 * y[k, i, j] = x[i, j, k] = 6i + 3j + k: 0 3 6 9 | 1 4 7 10 | 2 5 8 11; the identity and a
 * permutation of unit axes copy. */
START_TEST(test_worked_examples) {
    static const struct {
        const char *what;
        int rank;
        int perm[3];
        int64_t dims[3];
        float expected[12];
    } rows[] = {
        {"matrix", 2, {1, 0}, {2, 3}, {1, 4, 2, 5, 3, 6}},
        {"rank 3", 3, {2, 0, 1}, {2, 2, 3}, {0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}},
        {"identity", 3, {0, 1, 2}, {2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
        {"unit axes", 3, {2, 1, 0}, {1, 6, 1}, {1, 2, 3, 4, 5, 6}},
    };
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        for (size_t m = 0; m < sizeof rows / sizeof rows[0]; m++) {
            transpose_case c = make_case(rows[m].rank, rows[m].perm, rows[m].dims);
            const size_t n = (size_t)test_count(c.rank, c.x_dims);
            float x[12];
            for (size_t i = 0; i < n; i++)
                x[i] = m == 0 || m == 3 ? (float)(i + 1) : (float)i;
            float *y = run_case(ctx, &c, x);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(y[i] == rows[m].expected[i], "%s on %s, cell %zu: got %g, want %g",
                              rows[m].what, test_spec_name(test_spec(s)), i, (double)y[i],
                              (double)rows[m].expected[i]);
            free(y);
        }
        sv_context_release(ctx);
    }
}
END_TEST

/* --- invalid calls: each row breaks one rule of a valid call (x [2, 3, 4], perm (1, 2, 0),
 * y [3, 4, 2]) and names the status and a phrase the message must contain. */
static const test_invalid_row invalid_rows[] = {
    {"axis repeated", SV_INVALID_ARGUMENT, "axis 2 appears twice"},
    {"axis past the rank", SV_INVALID_ARGUMENT, "perm[1] = 3 is outside 0..2"},
    {"negative axis", SV_INVALID_ARGUMENT, "perm[0] = -1 is outside"},
    {"NULL permutation", SV_INVALID_ARGUMENT, "permutation is NULL"},
    {"output not permuted", SV_SHAPE_MISMATCH, "expected [3, 4, 2]"},
    {"output of another rank", SV_SHAPE_MISMATCH, "expected [3, 4, 2]"},
    {"output shares the input's storage", SV_INVALID_ARGUMENT, "shares storage"},
    {"NULL input", SV_INVALID_ARGUMENT, "tensor argument 1 is NULL"},
    {"NULL output", SV_INVALID_ARGUMENT, "tensor argument 2 is NULL"},
    {"output on another context", SV_WRONG_CONTEXT, "another context"},
};

START_TEST(test_invalid_calls_are_rejected) {
    const test_invalid_row *row = &invalid_rows[_i];
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t x_dims[3] = {2, 3, 4}, y_dims[3] = {3, 4, 2}, unpermuted[3] = {2, 3, 4};
        const int64_t flat[2] = {12, 2};
        sv_tensor *x, *y, *wrong, *flat_y, *alias, *foreign;
        ck_assert_int_eq(sv_tensor_create(ctx, 3, x_dims, &x), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 3, y_dims, &y), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 3, unpermuted, &wrong), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 2, flat, &flat_y), SV_OK);
        ck_assert_int_eq(sv_tensor_reshape(x, 3, y_dims, &alias), SV_OK);
        ck_assert_int_eq(sv_tensor_create(other, 3, y_dims, &foreign), SV_OK);
        int perm[3] = {1, 2, 0};
        TEST_ASSERT_STATUS(sv_transpose(ctx, perm, x, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        const sv_tensor *in = x;
        sv_tensor *out = y;
        const int *p = perm;
        switch (_i) {
        case 0: perm[0] = 2; break;
        case 1: perm[1] = 3; break;
        case 2: perm[0] = -1; break;
        case 3: p = NULL; break;
        case 4: out = wrong; break;
        case 5: out = flat_y; break;
        case 6: out = alias; break;
        case 7: in = NULL; break;
        case 8: out = NULL; break;
        case 9: out = foreign; break;
        default: ck_abort_msg("no rule %d", _i);
        }
        sv_status st = sv_transpose(ctx, p, in, out);
        test_assert_call_rejected(row, ctx, test_spec(s), st, NULL);
        sv_tensor_release(x), sv_tensor_release(y), sv_tensor_release(wrong);
        sv_tensor_release(flat_y), sv_tensor_release(alias), sv_tensor_release(foreign);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

static Suite *transpose_suite(void) {
    Suite *s = suite_create("transpose");
    TCase *sweep = test_add_case(s, "sweep against ref", 300);
    tcase_add_loop_test(sweep, test_every_permutation_matches_reference, 0, 4);
    tcase_add_test(sweep, test_rank5_random_permutations_match_reference);
    tcase_add_test(sweep, test_multi_tile_layouts_match_reference);
    TCase *known = test_add_case(s, "hand-computed", 120);
    tcase_add_test(known, test_worked_examples);
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_invalid_calls_are_rejected, 0, TEST_COUNT_OF(invalid_rows));
    return s;
}

TEST_MAIN(transpose_suite)
