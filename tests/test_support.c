#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t run_seed;
static int run_seed_set;

uint64_t test_seed(void) {
    if (!run_seed_set) {
        const char *env = getenv("SVERTKA_TEST_SEED");
        if (env && *env) {
            run_seed = strtoull(env, NULL, 0);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            run_seed = ((uint64_t)ts.tv_sec * 1000003u) ^ (uint64_t)ts.tv_nsec ^
                       ((uint64_t)getpid() << 32);
        }
        run_seed_set = 1;
        printf("seed: SVERTKA_TEST_SEED=%llu\n", (unsigned long long)run_seed);
        fflush(stdout);
    }
    return run_seed;
}

/* splitmix64: small, fast and good enough for test inputs. */
uint64_t test_next(test_rng *rng) {
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

test_rng test_rng_for(uint64_t case_index) {
    test_rng rng = {test_seed() ^ (case_index * 0xd1342543de82ef95ull)};
    test_next(&rng);
    return rng;
}

int test_int(test_rng *rng, int lo, int hi) {
    return lo + (int)(test_next(rng) % (uint64_t)(hi - lo + 1));
}

float test_float(test_rng *rng, float lo, float hi) {
    double u = (double)(test_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(lo + (hi - lo) * u);
}

void test_fill_uniform(test_rng *rng, float *data, size_t count, float lo, float hi) {
    for (size_t i = 0; i < count; i++)
        data[i] = test_float(rng, lo, hi);
}

sv_context *test_context(const char *spec) {
    sv_message msg = {{0}};
    sv_context *ctx = NULL;
    sv_status st = sv_context_create(spec, &ctx, &msg);
    ck_assert_msg(st == SV_OK, "cannot create a context on '%s': %s: %s", spec ? spec : "(default)",
                  sv_status_name(st), msg.text);
    return ctx;
}

sv_tensor *test_tensor_from(sv_context *ctx, float *data, int rank, const int64_t *dims) {
    sv_host_view view = sv_host_view_make(data, rank, dims);
    sv_tensor *t = NULL;
    sv_status st = sv_tensor_from_host(ctx, &view, &t);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    return t;
}

sv_tensor *test_tensor_poisoned(sv_context *ctx, int rank, const int64_t *dims) {
    sv_tensor *t = NULL;
    sv_status st = sv_tensor_create(ctx, rank, dims, &t);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    size_t n = (size_t)sv_tensor_count(t);
    float *nan = malloc(n * sizeof *nan);
    ck_assert_ptr_nonnull(nan);
    for (size_t i = 0; i < n; i++)
        nan[i] = NAN;
    st = sv_tensor_upload(t, nan, (int64_t)n);
    free(nan);
    TEST_ASSERT_STATUS(st, SV_OK, ctx);
    return t;
}

float *test_download(const sv_tensor *t) {
    size_t n = (size_t)sv_tensor_count(t);
    float *data = malloc(n * sizeof *data);
    ck_assert_ptr_nonnull(data);
    sv_status st = sv_tensor_download(t, data, (int64_t)n);
    ck_assert_msg(st == SV_OK, "download failed: %s", sv_status_name(st));
    return data;
}

void test_assert_close(const float *y, const float *r, size_t count, double atol, double rtol,
                       const char *what) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < count; i++) {
        double err = fabs((double)y[i] - (double)r[i]);
        if (!(err <= atol + rtol * fabs((double)r[i]))) {
            if (!bad)
                first = i;
            bad++;
        }
    }
    ck_assert_msg(bad == 0,
                  "%s: %zu of %zu elements out of tolerance (atol %.3g, rtol %.3g); first at %zu: "
                  "got %.9g, expected %.9g",
                  what, bad, count, atol, rtol, first, (double)y[first], (double)r[first]);
}

int test_run_suite(Suite *suite) {
    test_seed();
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
