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

float *test_random_array(test_rng *rng, size_t count, float lo, float hi) {
    float *a = malloc((count ? count : 1) * sizeof *a);
    ck_assert_ptr_nonnull(a);
    test_fill_uniform(rng, a, count, lo, hi);
    return a;
}

float *test_absolute_copy(const float *a, size_t count) {
    float *m = malloc((count ? count : 1) * sizeof *m);
    ck_assert_ptr_nonnull(m);
    for (size_t i = 0; i < count; i++)
        m[i] = fabsf(a[i]);
    return m;
}

sv_activation test_lipschitz_activation(test_rng *rng, sv_activation_kind kind) {
    sv_activation act;
    act.kind = kind;
    act.alpha = kind == SV_ACT_CLIP ? test_float(rng, -1.0f, 0.0f) : test_float(rng, 0.0f, 1.0f);
    act.beta = test_float(rng, 0.0f, 1.0f);
    return act;
}

int test_max_pad(sv_pad_mode mode, int n) {
    switch (mode) {
    case SV_PAD_REFLECT: return n - 1;
    case SV_PAD_SYMMETRIC:
    case SV_PAD_CIRCULAR: return n;
    default: return 4;
    }
}

int64_t test_count(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

void test_format_dims(char *buf, size_t size, int rank, const int64_t *dims) {
    size_t used = 0;
    if (size > 0)
        buf[0] = '\0';
    for (int i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ",%lld" : "%lld", (long long)dims[i]);
}

const char *test_spec(int index) {
    return index == 0 ? "ref" : NULL;
}

const char *test_spec_name(const char *spec) {
    return spec ? spec : "device";
}

int test_conv_algorithm_count(void) {
    sv_conv_params p = sv_conv_params_default(1);
    const int64_t dims[3] = {1, 1, 1};
    int64_t out[3];
    int count = 0;
    for (; count < 64; count++) {
        p.algorithm = (sv_conv_algorithm)(SV_CONV_AUTO + count);
        if (sv_conv_output_shape(&p, 3, dims, dims, NULL, out, NULL) != SV_OK)
            break;
    }
    return count;
}

/* The tolerance of one element: atol + rtol |r| + gamma magnitude[i] + bound[i], each term present
 * when its array or factor is; specials: NaN and infinite references must be matched exactly. */
typedef struct tolerance {
    double atol, rtol, gamma;
    const float *magnitude;
    const double *bound;
    int specials;
} tolerance;

static double bound_at(const tolerance *t, const float *r, size_t i) {
    double b = t->atol;
    if (t->rtol != 0.0)
        b += t->rtol * fabs((double)r[i]);
    if (t->magnitude)
        b += t->gamma * (double)t->magnitude[i];
    if (t->bound)
        b += t->bound[i];
    return b;
}

static int within(const tolerance *t, float y, float r, double bound) {
    if (t->specials && isnan(r))
        return isnan(y);
    if (t->specials && isinf(r))
        return y == r;
    return fabs((double)y - (double)r) <= bound;
}

static void assert_within(const float *y, const float *r, size_t count, const tolerance *t,
                          const char *what) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < count; i++)
        if (!within(t, y[i], r[i], bound_at(t, r, i)) && !bad++)
            first = i;
    ck_assert_msg(bad == 0,
                  "%s: %zu of %zu elements out of tolerance; first at %zu: got %.9g, expected "
                  "%.9g, bound %.3g",
                  what, bad, count, first, (double)y[first], (double)r[first],
                  bound_at(t, r, first));
}

void test_assert_equal(const float *y, const float *r, size_t count, const char *what) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < count; i++)
        if (!(y[i] == r[i]) && !bad++)
            first = i;
    ck_assert_msg(bad == 0, "%s: %zu of %zu elements differ; first at %zu: got %.9g, expected %.9g",
                  what, bad, count, first, (double)y[first], (double)r[first]);
}

void test_assert_close(const float *y, const float *r, size_t count, double atol, double rtol,
                       const char *what) {
    const tolerance t = {atol, rtol, 0.0, NULL, NULL, 0};
    assert_within(y, r, count, &t, what);
}

void test_assert_summation(const float *y, const float *r, const float *magnitude, size_t count,
                           double gamma, double rtol, const char *what) {
    const tolerance t = {0.0, rtol, gamma, magnitude, NULL, 0};
    assert_within(y, r, count, &t, what);
}

void test_assert_bounded(const float *y, const float *r, const double *bound, size_t count,
                         const char *what) {
    const tolerance t = {0.0, 0.0, 0.0, NULL, bound, 0};
    assert_within(y, r, count, &t, what);
}

void test_assert_bounded_specials(const float *y, const float *r, const double *bound, size_t count,
                                  const char *what) {
    const tolerance t = {0.0, 0.0, 0.0, NULL, bound, 1};
    assert_within(y, r, count, &t, what);
}

int test_same_value(float y, float r) {
    if (isnan(r) || isnan(y))
        return isnan(r) && isnan(y);
    return y == r && signbit(y) == signbit(r);
}

double test_summation_gamma(double unit, long terms) {
    return (double)terms * unit / (1.0 - (double)terms * unit);
}

void test_assert_rejected(const test_invalid_row *row, const char *where, sv_status status,
                          const char *message) {
    ck_assert_msg(status == row->status, "%s%s%s: expected %s, got %s (%s)", row->what,
                  where ? " on " : "", where ? where : "", sv_status_name(row->status),
                  sv_status_name(status), message);
    ck_assert_msg(strstr(message, row->phrase) != NULL, "%s: message '%s' lacks '%s'", row->what,
                  message, row->phrase);
}

void test_poison_dims(int64_t *dims, int count) {
    for (int i = 0; i < count; i++)
        dims[i] = TEST_POISON_DIM;
}

void test_assert_shape_rejected(const test_invalid_row *row, sv_status status, const char *message,
                                const int64_t *out_dims, int count) {
    test_assert_rejected(row, NULL, status, message);
    for (int i = 0; i < count; i++)
        ck_assert_msg(out_dims[i] == TEST_POISON_DIM, "%s: output shape written on failure",
                      row->what);
}

void test_assert_call_rejected(const test_invalid_row *row, sv_context *ctx, const char *spec,
                               sv_status status, const sv_tensor *out) {
    test_assert_rejected(row, test_spec_name(spec), status, sv_last_error(ctx));
    if (out)
        test_assert_untouched(out, row->what);
}

void test_assert_untouched(const sv_tensor *t, const char *what) {
    float *data = test_download(t);
    for (int64_t i = 0; i < sv_tensor_count(t); i++)
        ck_assert_msg(isnan(data[i]), "%s: output written on failure", what);
    free(data);
}

TCase *test_add_case(Suite *suite, const char *name, double timeout) {
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout);
    suite_add_tcase(suite, tc);
    return tc;
}

int test_run_suite(Suite *suite) {
    test_seed();
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
