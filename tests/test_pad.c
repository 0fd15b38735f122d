/* Padding: the default OpenCL device against the reference path on randomized sweeps over every
 * mode and ranks 1..5, with pads up to each mode's limit and negative pads (crops); the padding
 * illustrations on A B C and a crop written out by hand; invalid parameters against the errors
 * they must give. Padding only copies or fills, so every comparison is exact. */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pad_case {
    sv_pad_params p;
    int rank;
    int64_t x_dims[SV_MAX_RANK], y_dims[SV_MAX_RANK];
} pad_case;

static void describe(const pad_case *c, char *buf, size_t size) {
    char x[64], b[64], e[64];
    test_format_dims(x, sizeof x, c->rank, c->x_dims);
    test_format_dims(b, sizeof b, c->rank, c->p.pad_begin);
    test_format_dims(e, sizeof e, c->rank, c->p.pad_end);
    snprintf(buf, size, "pad x[%s] begin [%s] end [%s] mode %d value %g", x, b, e, (int)c->p.mode,
             (double)c->p.value);
}

/* Draws a valid case: batch 2..3 in front (rank >= 2), odd and even sizes, pads from a crop of
 * all but one cell to the mode's limit, chosen independently per side. */
static pad_case random_case(test_rng *rng, int rank, sv_pad_mode mode) {
    pad_case c;
    memset(&c, 0, sizeof c);
    c.rank = rank;
    c.p.mode = mode;
    c.p.value = test_float(rng, -2.0f, 2.0f);
    for (int i = 0; i < rank; i++) {
        const int n =
            i == 0 && rank >= 2 ? test_int(rng, 2, 3) : test_int(rng, 1, rank > 3 ? 5 : 9);
        const int limit = test_max_pad(mode, n);
        int pb = test_int(rng, -(n - 1), limit), pe = test_int(rng, -(n - 1), limit);
        if (n + pb + pe < 1) /* the two crops overlap: keep the first, crop less at the end */
            pe = 1 - n - pb;
        c.x_dims[i] = n;
        c.p.pad_begin[i] = pb;
        c.p.pad_end[i] = pe;
    }
    sv_message msg;
    sv_status st = sv_pad_output_shape(&c.p, c.rank, c.x_dims, c.y_dims, &msg);
    ck_assert_msg(st == SV_OK, "generated case rejected: %s", msg.text);
    return c;
}

/* Runs the case on ctx; returns the downloaded output (caller frees). */
static float *run_case(sv_context *ctx, const pad_case *c, float *x) {
    sv_tensor *xt = test_tensor_from(ctx, x, c->rank, c->x_dims);
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->y_dims);
    sv_status st = sv_pad(ctx, &c->p, xt, yt);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    float *y = test_download(yt);
    sv_tensor_release(xt);
    sv_tensor_release(yt);
    return y;
}

/* Compares the device with the reference on one case, every element exactly. */
static void check_case(sv_context *dev, sv_context *ref, const pad_case *c, test_rng *rng) {
    float *x = test_random_array(rng, (size_t)test_count(c->rank, c->x_dims), -1.0f, 1.0f);
    float *y = run_case(dev, c, x);
    float *r = run_case(ref, c, x);
    char what[512];
    describe(c, what, sizeof what);
    test_assert_equal(y, r, (size_t)test_count(c->rank, c->y_dims), what);
    free(x), free(y), free(r);
}

enum { CASES_PER_RANK = 6, PAD_MODES = 5 };

/* Loop index i: padding mode i; inside, every rank with a few random shapes and pads. */
START_TEST(test_random_sweep_matches_reference) {
    const sv_pad_mode mode = (sv_pad_mode)_i;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int rank = 1; rank <= SV_MAX_RANK; rank++)
        for (int k = 0; k < CASES_PER_RANK; k++) {
            test_rng rng = test_rng_for((uint64_t)((_i * SV_MAX_RANK + rank) * 100 + k));
            pad_case c = random_case(&rng, rank, mode);
            check_case(dev, ref, &c, &rng);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* A feature map with its spatial padding for a 7x7 kernel (3 each side), batch 2, 64 channels
 * at 56 x 56, in every mode: many work-groups and long rows. */
START_TEST(test_feature_map_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    test_rng rng = test_rng_for(7777 + (uint64_t)_i);
    pad_case c;
    memset(&c, 0, sizeof c);
    c.p.mode = (sv_pad_mode)_i;
    c.p.value = 0.5f;
    c.rank = 4;
    const int64_t x_dims[4] = {2, 64, 56, 56};
    memcpy(c.x_dims, x_dims, sizeof x_dims);
    for (int i = 2; i < 4; i++)
        c.p.pad_begin[i] = c.p.pad_end[i] = 3;
    ck_assert_int_eq(sv_pad_output_shape(&c.p, c.rank, c.x_dims, c.y_dims, NULL), SV_OK);
    check_case(dev, ref, &c, &rng);
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- the padding illustrations: A B C = 1 2 3 with two cells each side, in every mode; as the
 * last axis of [2, 3] (second row 4 5 6: every row padded alike) and as the first axis of
 * [3, 1] (a column). */
static const struct {
    sv_pad_mode mode;
    float value;
    float expected[7];
} abc_rows[] = {
    {SV_PAD_CONSTANT, 0, {0, 0, 1, 2, 3, 0, 0}},  {SV_PAD_CONSTANT, -9, {-9, -9, 1, 2, 3, -9, -9}},
    {SV_PAD_REPLICATE, 0, {1, 1, 1, 2, 3, 3, 3}}, {SV_PAD_REFLECT, 0, {3, 2, 1, 2, 3, 2, 1}},
    {SV_PAD_SYMMETRIC, 0, {2, 1, 1, 2, 3, 3, 2}}, {SV_PAD_CIRCULAR, 0, {2, 3, 1, 2, 3, 1, 2}},
};

START_TEST(test_padding_illustrations_on_abc) {
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        const char *where = test_spec_name(test_spec(s));
        for (size_t m = 0; m < sizeof abc_rows / sizeof abc_rows[0]; m++) {
            const float *want = abc_rows[m].expected;
            pad_case c;
            memset(&c, 0, sizeof c);
            c.p.mode = abc_rows[m].mode;
            c.p.value = abc_rows[m].value;
            /* rows: [2, 3] -> [2, 7] */
            c.rank = 2;
            c.x_dims[0] = 2, c.x_dims[1] = 3;
            c.p.pad_begin[1] = c.p.pad_end[1] = 2;
            ck_assert_int_eq(sv_pad_output_shape(&c.p, c.rank, c.x_dims, c.y_dims, NULL), SV_OK);
            ck_assert(c.y_dims[0] == 2 && c.y_dims[1] == 7);
            float rows[6] = {1, 2, 3, 4, 5, 6};
            float *y = run_case(ctx, &c, rows);
            for (int i = 0; i < 7; i++) {
                /* the second row is the first plus 3 wherever it comes from the input */
                const int from_input = c.p.mode != SV_PAD_CONSTANT || (i >= 2 && i < 5);
                const float second = from_input ? want[i] + 3 : want[i];
                ck_assert_msg(y[i] == want[i] && y[7 + i] == second,
                              "mode %d on %s, cell %d: got %g and %g, want %g and %g",
                              (int)c.p.mode, where, i, (double)y[i], (double)y[7 + i],
                              (double)want[i], (double)second);
            }
            free(y);
            /* a column: [3, 1] -> [7, 1] */
            memset(&c.p.pad_begin, 0, sizeof c.p.pad_begin);
            memset(&c.p.pad_end, 0, sizeof c.p.pad_end);
            c.x_dims[0] = 3, c.x_dims[1] = 1;
            c.p.pad_begin[0] = c.p.pad_end[0] = 2;
            ck_assert_int_eq(sv_pad_output_shape(&c.p, c.rank, c.x_dims, c.y_dims, NULL), SV_OK);
            float column[3] = {1, 2, 3};
            y = run_case(ctx, &c, column);
            for (int i = 0; i < 7; i++)
                ck_assert_msg(y[i] == want[i], "mode %d column on %s, cell %d: got %g, want %g",
                              (int)c.p.mode, where, i, (double)y[i], (double)want[i]);
            free(y);
        }
        sv_context_release(ctx);
    }
}
END_TEST

/* --- negative pads crop: x = [[1, 2, 3], [4, 5, 6]] with pads begin (1, -1), end (0, 1):
 * one row of the value above, the first column cropped, one cell appended to each row.
 *   constant 9:  9 9 9 | 2 3 9 | 5 6 9
 *   reflect:     5 6 5 | 2 3 2 | 5 6 5   (row -1 reflects to row 1, column 3 to column 1)
 *   circular:    5 6 4 | 2 3 1 | 5 6 4   (row -1 wraps to row 1, column 3 to column 0)
 * and in 1-D, 1 2 3 4 5 with begin -2 and end 1 in replicate: 3 4 5 5. */
START_TEST(test_crops_by_hand) {
    static const struct {
        sv_pad_mode mode;
        float expected[9];
    } rows[] = {
        {SV_PAD_CONSTANT, {9, 9, 9, 2, 3, 9, 5, 6, 9}},
        {SV_PAD_REFLECT, {5, 6, 5, 2, 3, 2, 5, 6, 5}},
        {SV_PAD_CIRCULAR, {5, 6, 4, 2, 3, 1, 5, 6, 4}},
    };
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        const char *where = test_spec_name(test_spec(s));
        for (size_t m = 0; m < sizeof rows / sizeof rows[0]; m++) {
            pad_case c;
            memset(&c, 0, sizeof c);
            c.p.mode = rows[m].mode;
            c.p.value = 9;
            c.rank = 2;
            c.x_dims[0] = 2, c.x_dims[1] = 3;
            c.p.pad_begin[0] = 1, c.p.pad_begin[1] = -1, c.p.pad_end[1] = 1;
            ck_assert_int_eq(sv_pad_output_shape(&c.p, c.rank, c.x_dims, c.y_dims, NULL), SV_OK);
            ck_assert(c.y_dims[0] == 3 && c.y_dims[1] == 3);
            float x[6] = {1, 2, 3, 4, 5, 6};
            float *y = run_case(ctx, &c, x);
            for (int i = 0; i < 9; i++)
                ck_assert_msg(y[i] == rows[m].expected[i],
                              "mode %d on %s, cell %d: got %g, want %g", (int)c.p.mode, where, i,
                              (double)y[i], (double)rows[m].expected[i]);
            free(y);
        }
        pad_case c;
        memset(&c, 0, sizeof c);
        c.p.mode = SV_PAD_REPLICATE;
        c.rank = 1;
        c.x_dims[0] = 5;
        c.p.pad_begin[0] = -2, c.p.pad_end[0] = 1;
        ck_assert_int_eq(sv_pad_output_shape(&c.p, c.rank, c.x_dims, c.y_dims, NULL), SV_OK);
        ck_assert(c.y_dims[0] == 4);
        float x[5] = {1, 2, 3, 4, 5}, expected[4] = {3, 4, 5, 5};
        float *y = run_case(ctx, &c, x);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(y[i] == expected[i], "1-D crop on %s, cell %d: got %g, want %g", where, i,
                          (double)y[i], (double)expected[i]);
        free(y);
        sv_context_release(ctx);
    }
}
END_TEST

/* --- invalid parameters: each row breaks one rule of a valid case (x [2, 3, 4], reflect, pads
 * begin (0, 1, 2) end (1, 2, -3)) and names the status and a phrase the message must contain. */
static const test_invalid_row invalid_rows[] = {
    {"reflect pad = input size", SV_INVALID_ARGUMENT, "reflect padding (3, 2) of axis 1"},
    {"reflect pad on a size-1 axis", SV_INVALID_ARGUMENT, "reflect padding (0, 1) of axis 0"},
    {"symmetric pad > input size", SV_INVALID_ARGUMENT, "symmetric padding (2, 5) of axis 2"},
    {"circular pad > input size", SV_INVALID_ARGUMENT, "circular padding (4, 2) of axis 1"},
    {"crop to nothing", SV_INVALID_ARGUMENT, "crop axis 2 of size 4 to 0"},
    {"crop past the input", SV_INVALID_ARGUMENT, "crop axis 0 of size 2 to -2"},
    {"unknown mode", SV_INVALID_ARGUMENT, "unknown padding mode 7"},
    {"rank 0", SV_INVALID_ARGUMENT, "rank 0 is outside"},
    {"rank 6", SV_INVALID_ARGUMENT, "rank 6 is outside"},
    {"zero-sized input dimension", SV_INVALID_ARGUMENT, "dimension 1 of the input is 0"},
    {"pad out of range", SV_INVALID_ARGUMENT, "out of range"},
    {"NULL parameters", SV_INVALID_ARGUMENT, "NULL parameters"},
};

/* Breaks the rule of invalid_rows[row] in a valid case. */
static void break_rule(int row, sv_pad_params *p, int *rank, int64_t *x, int *null_params) {
    switch (row) {
    case 0: p->pad_begin[1] = 3; break;
    case 1: x[0] = 1; break;
    case 2: p->mode = SV_PAD_SYMMETRIC, p->pad_end[2] = 5; break;
    case 3: p->mode = SV_PAD_CIRCULAR, p->pad_begin[1] = 4; break;
    case 4: p->pad_begin[2] = -1; break;
    case 5: p->mode = SV_PAD_CONSTANT, p->pad_begin[0] = -3, p->pad_end[0] = -1; break;
    case 6: p->mode = (sv_pad_mode)7; break;
    case 7: *rank = 0; break;
    case 8: *rank = 6; break;
    case 9: x[1] = 0; break;
    case 10: p->mode = SV_PAD_REPLICATE, p->pad_end[0] = INT64_MAX - 1; break;
    case 11: *null_params = 1; break;
    default: ck_abort_msg("no rule %d", row);
    }
}

START_TEST(test_invalid_parameters_are_rejected) {
    const test_invalid_row *row = &invalid_rows[_i];
    sv_pad_params p;
    memset(&p, 0, sizeof p);
    p.mode = SV_PAD_REFLECT;
    const int64_t begin[3] = {0, 1, 2}, end[3] = {1, 2, -3};
    memcpy(p.pad_begin, begin, sizeof begin);
    memcpy(p.pad_end, end, sizeof end);
    int rank = 3, null_params = 0;
    int64_t x[SV_MAX_RANK + 1] = {2, 3, 4, 1, 1, 1}, y[SV_MAX_RANK + 1];
    sv_message msg = {{0}};
    ck_assert_int_eq(sv_pad_output_shape(&p, rank, x, y, &msg), SV_OK);
    ck_assert(y[0] == 3 && y[1] == 6 && y[2] == 3);
    break_rule(_i, &p, &rank, x, &null_params);
    test_poison_dims(y, SV_MAX_RANK + 1);
    sv_status st = sv_pad_output_shape(null_params ? NULL : &p, rank, x, y, &msg);
    test_assert_shape_rejected(row, st, msg.text, y, SV_MAX_RANK + 1);
}
END_TEST

/* The same validation guards sv_pad on a context, and the message reaches sv_last_error. */
START_TEST(test_invalid_call_reports_through_context) {
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t x_dims[2] = {3, 4}, y_dims[2] = {5, 4}, wrong_y[2] = {5, 5};
        sv_tensor *x, *y, *y_wrong, *foreign, *alias;
        ck_assert_int_eq(sv_tensor_create(ctx, 2, x_dims, &x), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 2, y_dims, &y), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 2, wrong_y, &y_wrong), SV_OK);
        ck_assert_int_eq(sv_tensor_create(other, 2, y_dims, &foreign), SV_OK);
        const int64_t flat[1] = {12};
        ck_assert_int_eq(sv_tensor_reshape(x, 1, flat, &alias), SV_OK);
        sv_pad_params p;
        memset(&p, 0, sizeof p);
        p.mode = SV_PAD_REFLECT;
        p.pad_begin[0] = 3;
        TEST_ASSERT_STATUS(sv_pad(ctx, &p, x, y), SV_INVALID_ARGUMENT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "reflect padding (3, 0) of axis 0"));
        p.pad_begin[0] = 1, p.pad_end[0] = 1;
        TEST_ASSERT_STATUS(sv_pad(ctx, &p, x, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        TEST_ASSERT_STATUS(sv_pad(ctx, &p, x, y_wrong), SV_SHAPE_MISMATCH, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "expected [5, 4]"));
        TEST_ASSERT_STATUS(sv_pad(ctx, &p, x, NULL), SV_INVALID_ARGUMENT, ctx);
        TEST_ASSERT_STATUS(sv_pad(ctx, &p, NULL, y), SV_INVALID_ARGUMENT, ctx);
        TEST_ASSERT_STATUS(sv_pad(ctx, &p, x, foreign), SV_WRONG_CONTEXT, ctx);
        TEST_ASSERT_STATUS(sv_pad(ctx, NULL, x, y), SV_INVALID_ARGUMENT, ctx);
        p.pad_begin[0] = p.pad_end[0] = 0;
        TEST_ASSERT_STATUS(sv_pad(ctx, &p, alias, x), SV_INVALID_ARGUMENT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "shares storage"));
        sv_tensor_release(x), sv_tensor_release(y), sv_tensor_release(y_wrong);
        sv_tensor_release(foreign), sv_tensor_release(alias);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

static Suite *pad_suite(void) {
    Suite *s = suite_create("pad");
    TCase *sweep = test_add_case(s, "random sweep against ref", 300);
    tcase_add_loop_test(sweep, test_random_sweep_matches_reference, 0, PAD_MODES);
    tcase_add_loop_test(sweep, test_feature_map_matches_reference, 0, PAD_MODES);
    TCase *known = test_add_case(s, "hand-computed", 120);
    tcase_add_test(known, test_padding_illustrations_on_abc);
    tcase_add_test(known, test_crops_by_hand);
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_invalid_parameters_are_rejected, 0,
                        TEST_COUNT_OF(invalid_rows));
    tcase_add_test(invalid, test_invalid_call_reports_through_context);
    return s;
}

TEST_MAIN(pad_suite)
