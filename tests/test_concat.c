/* Concatenation: the default OpenCL device against the reference path on randomized sweeps over
 * ranks 1..5, every axis (counted from either end) and 1..5 inputs; small cases against values
 * written out by hand; invalid parameters against the errors they must give. A concatenation
 * only copies, so every comparison is exact. */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_INPUTS = 5 };

typedef struct concat_case {
    int axis; /* as passed: negative counts from the end */
    int count;
    int rank;
    int64_t dims[MAX_INPUTS][SV_MAX_RANK];
    int64_t y_dims[SV_MAX_RANK];
} concat_case;

static void describe(const concat_case *c, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "concat axis %d of", c->axis);
    for (int k = 0; k < c->count && used < size; k++) {
        char d[64];
        test_format_dims(d, sizeof d, c->rank, c->dims[k]);
        used += (size_t)snprintf(buf + used, size - used, " [%s]", d);
    }
}

/* Draws a valid case: batch 2..3 in front (rank >= 2), other dims 1..7, inputs differing along
 * the axis. */
static concat_case random_case(test_rng *rng, int rank, int axis) {
    concat_case c;
    memset(&c, 0, sizeof c);
    c.rank = rank;
    c.count = test_int(rng, 1, MAX_INPUTS);
    c.axis = test_int(rng, 0, 1) ? axis - rank : axis;
    int64_t base[SV_MAX_RANK];
    for (int i = 0; i < rank; i++)
        base[i] = i == 0 && rank >= 2 ? test_int(rng, 2, 3) : test_int(rng, 1, 7);
    for (int k = 0; k < c.count; k++) {
        memcpy(c.dims[k], base, sizeof base);
        c.dims[k][axis] = test_int(rng, 1, 7);
    }
    int ranks[MAX_INPUTS];
    const int64_t *dims[MAX_INPUTS];
    for (int k = 0; k < c.count; k++) {
        ranks[k] = rank;
        dims[k] = c.dims[k];
    }
    sv_message msg;
    sv_status st = sv_concat_output_shape(c.axis, c.count, ranks, dims, c.y_dims, &msg);
    ck_assert_msg(st == SV_OK, "generated case rejected: %s", msg.text);
    return c;
}

/* Runs the case on ctx; returns the downloaded output (caller frees). */
static float *run_case(sv_context *ctx, const concat_case *c, float *const *inputs) {
    sv_tensor *t[MAX_INPUTS];
    for (int k = 0; k < c->count; k++)
        t[k] = test_tensor_from(ctx, inputs[k], c->rank, c->dims[k]);
    sv_tensor *yt = test_tensor_poisoned(ctx, c->rank, c->y_dims);
    sv_status st = sv_concat(ctx, c->axis, c->count, (const sv_tensor *const *)t, yt);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    float *y = test_download(yt);
    for (int k = 0; k < c->count; k++)
        sv_tensor_release(t[k]);
    sv_tensor_release(yt);
    return y;
}

/* Compares the device with the reference on one case, every element exactly. */
static void check_case(sv_context *dev, sv_context *ref, const concat_case *c, test_rng *rng) {
    float *inputs[MAX_INPUTS];
    for (int k = 0; k < c->count; k++)
        inputs[k] = test_random_array(rng, (size_t)test_count(c->rank, c->dims[k]), -1.0f, 1.0f);
    float *y = run_case(dev, c, inputs);
    float *r = run_case(ref, c, inputs);
    char what[512];
    describe(c, what, sizeof what);
    test_assert_equal(y, r, (size_t)test_count(c->rank, c->y_dims), what);
    for (int k = 0; k < c->count; k++)
        free(inputs[k]);
    free(y), free(r);
}

enum { CASES_PER_AXIS = 6 };

/* Loop index i: rank i + 1; inside, every axis with a few random shapes and input counts. */
START_TEST(test_random_sweep_matches_reference) {
    const int rank = _i + 1;
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    for (int axis = 0; axis < rank; axis++)
        for (int k = 0; k < CASES_PER_AXIS; k++) {
            test_rng rng = test_rng_for((uint64_t)((_i * SV_MAX_RANK + axis) * 100 + k));
            concat_case c = random_case(&rng, rank, axis);
            check_case(dev, ref, &c, &rng);
        }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* An inception-sized join: four branches of 64, 96, 32 and 32 channels at 28 x 28, batch 2, so
 * that long rows and many work-groups are covered too; and the same along the last axis. */
START_TEST(test_inception_join_matches_reference) {
    sv_context *dev = test_context(NULL), *ref = test_context("ref");
    const int64_t channels[4] = {64, 96, 32, 32};
    for (int axis = 1; axis <= 3; axis += 2) {
        test_rng rng = test_rng_for(7777 + (uint64_t)axis);
        concat_case c;
        memset(&c, 0, sizeof c);
        c.rank = 4;
        c.count = 4;
        c.axis = axis;
        for (int k = 0; k < 4; k++) {
            const int64_t d[4] = {2, axis == 1 ? channels[k] : 16, 28,
                                  axis == 3 ? channels[k] : 28};
            memcpy(c.dims[k], d, sizeof d);
        }
        memcpy(c.y_dims, c.dims[0], sizeof c.y_dims);
        c.y_dims[axis] = 224;
        check_case(dev, ref, &c, &rng);
    }
    sv_context_release(dev);
    sv_context_release(ref);
}
END_TEST

/* --- worked examples: a = [[1, 2], [3, 4]] joined with b = [[5, 6]] along axis 0 (rows
 * appended) and with b' = [[5], [6]] along axis 1 (= -1: a column appended to each row), and
 * three 1-D pieces. */
START_TEST(test_worked_examples) {
    static float a[4] = {1, 2, 3, 4}, b[2] = {5, 6}, p[1] = {7}, q[3] = {8, 9, 10};
    static const struct {
        const char *what;
        int axis, count, rank;
        int64_t dims[3][2];
        float *data[3];
        float expected[6];
    } rows[] = {
        {"rows", 0, 2, 2, {{2, 2}, {1, 2}}, {a, b}, {1, 2, 3, 4, 5, 6}},
        {"columns", -1, 2, 2, {{2, 2}, {2, 1}}, {a, b}, {1, 2, 5, 3, 4, 6}},
        {"1-D", 0, 3, 1, {{2}, {1}, {3}}, {b, p, q}, {5, 6, 7, 8, 9, 10}},
    };
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s));
        for (size_t m = 0; m < sizeof rows / sizeof rows[0]; m++) {
            concat_case c;
            memset(&c, 0, sizeof c);
            c.axis = rows[m].axis;
            c.count = rows[m].count;
            c.rank = rows[m].rank;
            int ranks[3];
            const int64_t *dims[3];
            for (int k = 0; k < c.count; k++) {
                memcpy(c.dims[k], rows[m].dims[k], sizeof rows[m].dims[k]);
                ranks[k] = c.rank;
                dims[k] = c.dims[k];
            }
            ck_assert_int_eq(sv_concat_output_shape(c.axis, c.count, ranks, dims, c.y_dims, NULL),
                             SV_OK);
            float *y = run_case(ctx, &c, rows[m].data);
            for (int i = 0; i < 6; i++)
                ck_assert_msg(y[i] == rows[m].expected[i], "%s on %s, cell %d: got %g, want %g",
                              rows[m].what, test_spec_name(test_spec(s)), i, (double)y[i],
                              (double)rows[m].expected[i]);
            free(y);
        }
        sv_context_release(ctx);
    }
}
END_TEST

/* --- invalid parameters: each row breaks one rule of a valid case (three inputs [2,3,4],
 * [2,5,4], [2,1,4] along axis 1) and names the status and a phrase the message must contain. */
static const test_invalid_row invalid_rows[] = {
    {"no inputs", SV_INVALID_ARGUMENT, "needs at least 1"},
    {"negative count", SV_INVALID_ARGUMENT, "needs at least 1"},
    {"axis past the rank", SV_INVALID_ARGUMENT, "axis 3 is outside"},
    {"negative axis past the rank", SV_INVALID_ARGUMENT, "axis -4 is outside"},
    {"rank mismatch", SV_SHAPE_MISMATCH, "input 2 has rank 2"},
    {"other dimension differs", SV_SHAPE_MISMATCH, "dimension 2 of input 1 is 5"},
    {"batch differs", SV_SHAPE_MISMATCH, "dimension 0 of input 2 is 3"},
    {"rank 6", SV_INVALID_ARGUMENT, "rank 6 is outside"},
    {"zero dimension", SV_INVALID_ARGUMENT, "dimension 1 of input 0 is 0"},
    {"NULL shape", SV_INVALID_ARGUMENT, "shape of input 1 is NULL"},
};

/* Breaks the rule of invalid_rows[row] in a valid case. */
static void break_rule(int row, int *axis, int *count, int *ranks, int64_t (*dims)[3],
                       const int64_t **shapes) {
    switch (row) {
    case 0: *count = 0; break;
    case 1: *count = -2; break;
    case 2: *axis = 3; break;
    case 3: *axis = -4; break;
    case 4: ranks[2] = 2; break;
    case 5: dims[1][2] = 5; break;
    case 6: dims[2][0] = 3; break;
    case 7: ranks[0] = ranks[1] = ranks[2] = 6; break;
    case 8: dims[0][1] = 0; break;
    case 9: shapes[1] = NULL; break;
    default: ck_abort_msg("no rule %d", row);
    }
}

START_TEST(test_invalid_parameters_are_rejected) {
    const test_invalid_row *row = &invalid_rows[_i];
    int axis = 1, count = 3, ranks[3] = {3, 3, 3};
    int64_t dims[3][3] = {{2, 3, 4}, {2, 5, 4}, {2, 1, 4}}, y[3];
    const int64_t *shapes[3] = {dims[0], dims[1], dims[2]};
    sv_message msg = {{0}};
    ck_assert_int_eq(sv_concat_output_shape(axis, count, ranks, shapes, y, &msg), SV_OK);
    ck_assert(y[0] == 2 && y[1] == 9 && y[2] == 4);
    ck_assert_int_eq(sv_concat_output_shape(-2, count, ranks, shapes, y, &msg), SV_OK);
    ck_assert(y[0] == 2 && y[1] == 9 && y[2] == 4);
    break_rule(_i, &axis, &count, ranks, dims, shapes);
    test_poison_dims(y, 3);
    sv_status st = sv_concat_output_shape(axis, count, ranks, shapes, y, &msg);
    test_assert_shape_rejected(row, st, msg.text, y, 3);
}
END_TEST

/* The same validation guards sv_concat on a context, and the message reaches sv_last_error. */
START_TEST(test_invalid_call_reports_through_context) {
    for (int s = 0; s < TEST_SPEC_COUNT; s++) {
        sv_context *ctx = test_context(test_spec(s)), *other = test_context("ref");
        const int64_t a_dims[3] = {2, 3, 4}, b_dims[3] = {2, 5, 4}, c_dims[3] = {2, 5, 3};
        const int64_t y_dims[3] = {2, 8, 4}, wrong_y[3] = {2, 8, 5};
        sv_tensor *a, *b, *c, *y, *y_wrong, *foreign, *alias;
        ck_assert_int_eq(sv_tensor_create(ctx, 3, a_dims, &a), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 3, b_dims, &b), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 3, c_dims, &c), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 3, y_dims, &y), SV_OK);
        ck_assert_int_eq(sv_tensor_create(ctx, 3, wrong_y, &y_wrong), SV_OK);
        ck_assert_int_eq(sv_tensor_create(other, 3, b_dims, &foreign), SV_OK);
        const int64_t flat[1] = {24};
        ck_assert_int_eq(sv_tensor_reshape(a, 1, flat, &alias), SV_OK);
        const sv_tensor *ab[2] = {a, b}, *ac[2] = {a, c}, *a_null[2] = {a, NULL};
        const sv_tensor *a_foreign[2] = {a, foreign};
        TEST_ASSERT_STATUS(sv_concat(ctx, 1, 2, ab, y), SV_OK, ctx);
        ck_assert_str_eq(sv_last_error(ctx), "");
        TEST_ASSERT_STATUS(sv_concat(ctx, -2, 2, ab, y), SV_OK, ctx);
        TEST_ASSERT_STATUS(sv_concat(ctx, 1, 2, ac, y), SV_SHAPE_MISMATCH, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "dimension 2 of input 1 is 3"));
        TEST_ASSERT_STATUS(sv_concat(ctx, 1, 2, ab, y_wrong), SV_SHAPE_MISMATCH, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "expected [2, 8, 4]"));
        TEST_ASSERT_STATUS(sv_concat(ctx, 1, 0, ab, y), SV_INVALID_ARGUMENT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "needs at least 1"));
        TEST_ASSERT_STATUS(sv_concat(ctx, 1, 2, NULL, y), SV_INVALID_ARGUMENT, ctx);
        TEST_ASSERT_STATUS(sv_concat(ctx, 1, 2, a_null, y), SV_INVALID_ARGUMENT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "input 1 is NULL"));
        TEST_ASSERT_STATUS(sv_concat(ctx, 1, 2, ab, NULL), SV_INVALID_ARGUMENT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "output tensor is NULL"));
        TEST_ASSERT_STATUS(sv_concat(ctx, 1, 1, ab, foreign), SV_WRONG_CONTEXT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "output was created on another context"));
        TEST_ASSERT_STATUS(sv_concat(ctx, 1, 2, a_foreign, y), SV_WRONG_CONTEXT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "input 1 was created on another context"));
        TEST_ASSERT_STATUS(sv_concat(ctx, 5, 2, ab, y), SV_INVALID_ARGUMENT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "axis 5 is outside"));
        TEST_ASSERT_STATUS(sv_concat(ctx, 0, 1, (const sv_tensor *[]){alias}, a),
                           SV_INVALID_ARGUMENT, ctx);
        ck_assert_ptr_nonnull(strstr(sv_last_error(ctx), "shares storage"));
        TEST_ASSERT_STATUS(sv_concat(NULL, 1, 2, ab, y), SV_INVALID_ARGUMENT, NULL);
        sv_tensor_release(a), sv_tensor_release(b), sv_tensor_release(c), sv_tensor_release(y);
        sv_tensor_release(y_wrong), sv_tensor_release(foreign), sv_tensor_release(alias);
        sv_context_release(ctx);
        sv_context_release(other);
    }
}
END_TEST

static Suite *concat_suite(void) {
    Suite *s = suite_create("concat");
    TCase *sweep = test_add_case(s, "random sweep against ref", 300);
    tcase_add_loop_test(sweep, test_random_sweep_matches_reference, 0, SV_MAX_RANK);
    tcase_add_test(sweep, test_inception_join_matches_reference);
    TCase *known = test_add_case(s, "hand-computed", 120);
    tcase_add_test(known, test_worked_examples);
    TCase *invalid = test_add_case(s, "invalid parameters", 120);
    tcase_add_loop_test(invalid, test_invalid_parameters_are_rejected, 0,
                        TEST_COUNT_OF(invalid_rows));
    tcase_add_test(invalid, test_invalid_call_reports_through_context);
    return s;
}

TEST_MAIN(concat_suite)
