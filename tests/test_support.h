/* Shared helpers of the Check suites: seeded random inputs, contexts, tensors, comparisons. */
#ifndef SV_TEST_SUPPORT_H
#define SV_TEST_SUPPORT_H

#include "svertka.h"

#include <check.h>
#include <stddef.h>
#include <stdint.h>

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

/* A context on the spec (NULL: the default device); fails the test if it cannot be created. */
sv_context *test_context(const char *spec);

/* A tensor holding `data`; fails the test on error. */
sv_tensor *test_tensor_from(sv_context *ctx, float *data, int rank, const int64_t *dims);
/* A tensor of the given shape filled with NaN, so that an element the op never writes fails
 * the comparison. */
sv_tensor *test_tensor_poisoned(sv_context *ctx, int rank, const int64_t *dims);
/* Downloads a tensor into a new malloc'd array. */
float *test_download(const sv_tensor *t);

/* Checks |y - r| <= atol + rtol * |r| for every element; NaN never passes. On failure, fails the
 * test naming the first bad index, the number of bad elements and `what`. */
void test_assert_close(const float *y, const float *r, size_t count, double atol, double rtol,
                       const char *what);

/* Fails the test unless `status` equals `expected`; prints the context's message on mismatch. */
#define TEST_ASSERT_STATUS(status, expected, ctx)                                                  \
    ck_assert_msg((status) == (expected), "expected %s, got %s: %s", sv_status_name(expected),     \
                  sv_status_name(status), (ctx) ? sv_last_error(ctx) : "")

/* Runs a suite with Check's normal output (the summary line CI reads) and returns the exit code. */
int test_run_suite(Suite *suite);

#endif
