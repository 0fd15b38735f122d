/* Shared helpers of the Check suites: seeded random inputs, contexts, tensors, comparisons,
 * invalid-parameter tables and the suites' scaffolding. */
#ifndef SV_TEST_SUPPORT_H
#define SV_TEST_SUPPORT_H

#include "svertka.h"

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* The number of entries of an array, as an int (for loop tests). */
#define TEST_COUNT_OF(array) ((int)(sizeof(array) / sizeof((array)[0])))

/* The run's seed: SVERTKA_TEST_SEED if set, else drawn fresh from the clock; printed once so a
 * failing run can be repeated. */
uint64_t test_seed(void);

typedef struct test_rng {
    uint64_t state;
} test_rng;

/* A generator for one test case, derived from the run's seed and the case's index. */
test_rng test_rng_for(uint64_t case_index);
uint64_t test_next(test_rng *rng);
/* Uniform integer in [lo, hi]. */
int test_int(test_rng *rng, int lo, int hi);
/* Uniform float in [lo, hi). */
float test_float(test_rng *rng, float lo, float hi);
void test_fill_uniform(test_rng *rng, float *data, size_t count, float lo, float hi);
/* A new malloc'd array of count values uniform in [lo, hi) (caller frees). */
float *test_random_array(test_rng *rng, size_t count, float lo, float hi);
/* A new malloc'd array of the magnitudes |a[i]| (caller frees). */
float *test_absolute_copy(const float *a, size_t count);

/* Random activation parameters of the given kind that keep it at most 1-Lipschitz, so that a
 * bound on the error before the activation carries through it: clip's lower bound (alpha) in
 * [-1, 0), the other kinds' slopes (alpha) in [0, 1), beta in [0, 1). */
sv_activation test_lipschitz_activation(test_rng *rng, sv_activation_kind kind);
/* The largest pad a random case uses for a padding mode on an axis of size n: the mode's limit
 * (reflect n - 1, symmetric and circular n), or 4 for the modes without one. */
int test_max_pad(sv_pad_mode mode, int n);

/* The number of elements of a shape: the product of its dims (1 for rank 0). */
int64_t test_count(int rank, const int64_t *dims);
/* Writes the dims as "2,3,4" (nothing for rank 0) into buf, truncated to size. */
void test_format_dims(char *buf, size_t size, int rank, const int64_t *dims);

/* A context on the spec (NULL: the default device); fails the test if it cannot be created. */
sv_context *test_context(const char *spec);
/* Hand-computed cases run on both paths: spec index 0 is the reference path ("ref"), index 1
 * the default device (NULL). */
enum { TEST_SPEC_COUNT = 2 };
const char *test_spec(int index);
/* A spec as messages name it: "device" for the default device. */
const char *test_spec_name(const char *spec);

/* The number of sv_conv_algorithm values the library accepts (at most 64 are tried): SV_CONV_AUTO
 * to the last one, as sv_conv_output_shape validates them, so that loops over them include
 * algorithms added later. No Check assertion: programs outside a suite use it too. */
int test_conv_algorithm_count(void);

/* A tensor holding `data`; fails the test on error. */
sv_tensor *test_tensor_from(sv_context *ctx, float *data, int rank, const int64_t *dims);
/* A tensor of the given shape filled with NaN, so that an element the op never writes fails
 * the comparison. */
sv_tensor *test_tensor_poisoned(sv_context *ctx, int rank, const int64_t *dims);
/* Downloads a tensor into a new malloc'd array. */
float *test_download(const sv_tensor *t);

/* --- comparisons. Each checks every element and, on failure, fails the test naming `what`, the
 * number of bad elements and the first one (index, value, expected value and its bound). */

/* Exact: y[i] == r[i] (NaN never matches). */
void test_assert_equal(const float *y, const float *r, size_t count, const char *what);
/* Checks |y - r| <= atol + rtol * |r| for every element; NaN never passes. */
void test_assert_close(const float *y, const float *r, size_t count, double atol, double rtol,
                       const char *what);
/* The bound of an fp32 sum: |y - r| <= gamma * magnitude[i] + rtol * |r|, where magnitude[i]
 * is the sum of the magnitudes of element i's terms (the reference run on |inputs|) and gamma
 * is test_summation_gamma of the number of terms; NaN never passes. */
void test_assert_summation(const float *y, const float *r, const float *magnitude, size_t count,
                           double gamma, double rtol, const char *what);
/* A bound per element: |y - r| <= bound[i]; NaN never passes. */
void test_assert_bounded(const float *y, const float *r, const double *bound, size_t count,
                         const char *what);
/* The same for results that may be IEEE special values: where r is NaN, y must be NaN; where r
 * is infinite, y must equal it; elsewhere |y - r| <= bound[i]. */
void test_assert_bounded_specials(const float *y, const float *r, const double *bound, size_t count,
                                  const char *what);
/* Whether two results are the same value: equal with the same sign (so -0 differs from 0), or
 * both NaN (whatever their payloads). */
int test_same_value(float y, float r);

/* The unit roundoff u = 2^-24 of fp32, and that of fp64. */
#define TEST_UNIT_ROUNDOFF 0x1p-24
#define TEST_DOUBLE_ROUNDOFF 0x1p-53
/* gamma_T = T*u/(1 - T*u): summing T terms in floating point with unit roundoff u, in any order,
 * fused or not, is off from the exact sum by at most gamma_T times the sum of the terms'
 * magnitudes (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., section 4.2). */
double test_summation_gamma(double unit, long terms);

/* --- invalid-parameter tables: each row breaks one rule of a valid call and names the status
 * the call must give and a phrase its message must contain. */
typedef struct test_invalid_row {
    const char *what;
    sv_status status;
    const char *phrase;
} test_invalid_row;

/* Fails unless `status` is the row's and `message` contains its phrase; `where` (NULL: nowhere
 * in particular) names the context in the failure. */
void test_assert_rejected(const test_invalid_row *row, const char *where, sv_status status,
                          const char *message);
/* A pure shape helper's output dims are filled with TEST_POISON_DIM before a call that must fail,
 * and checked untouched after it. */
#define TEST_POISON_DIM (-7)
void test_poison_dims(int64_t *dims, int count);
/* The rejection by a pure shape helper: as test_assert_rejected, and its output dims (poisoned
 * with test_poison_dims) left alone. */
void test_assert_shape_rejected(const test_invalid_row *row, sv_status status, const char *message,
                                const int64_t *out_dims, int count);
/* The rejection of a call on a context: as test_assert_rejected with the context's last error,
 * and the output (when not NULL, made by test_tensor_poisoned) still all NaN. */
void test_assert_call_rejected(const test_invalid_row *row, sv_context *ctx, const char *spec,
                               sv_status status, const sv_tensor *out);
/* Fails unless every element of t is still NaN: a rejected call wrote nothing. */
void test_assert_untouched(const sv_tensor *t, const char *what);

/* Fails the test unless `status` equals `expected`; prints the context's message on mismatch. */
#define TEST_ASSERT_STATUS(status, expected, ctx)                                                  \
    ck_assert_msg((status) == (expected), "expected %s, got %s: %s", sv_status_name(expected),     \
                  sv_status_name(status), (ctx) ? sv_last_error(ctx) : "")

/* Adds a test case named `name` with a timeout of `timeout` seconds to the suite; returns it, for
 * the tests to be added to. */
TCase *test_add_case(Suite *suite, const char *name, double timeout);
/* Runs a suite with Check's normal output (the summary line CI reads) and returns the exit code. */
int test_run_suite(Suite *suite);
/* The main() of a suite's program: runs the suite that `make_suite()` builds. */
#define TEST_MAIN(make_suite)                                                                      \
    int main(void) {                                                                               \
        return test_run_suite(make_suite());                                                       \
    }

#endif
