/* Contexts: repeated creation and release, two threads at once, kernel sources from disk, and
 * program build failures that carry the compiler's log. */
#include "test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SVERTKA_SOURCE_DIR
#error "SVERTKA_SOURCE_DIR must name the source tree"
#endif

/* A small convolution every worker computes; the answer is known in closed form: a 3x3 box of
 * ones over an image of ones with zero padding counts the in-bounds taps (4 at corners, 6 at
 * edges, 9 inside). */
enum { SIDE = 7, WHY_SIZE = 8192 };

static int run_box_conv(sv_context *ctx, char *why, size_t why_size) {
    const int64_t x_dims[4] = {1, 1, SIDE, SIDE}, w_dims[4] = {1, 1, 3, 3};
    float x[SIDE * SIDE], w[9], y[SIDE * SIDE];
    for (int i = 0; i < SIDE * SIDE; i++)
        x[i] = 1.0f;
    for (int i = 0; i < 9; i++)
        w[i] = 1.0f;
    sv_conv_params p = sv_conv_params_default(2);
    p.pad_begin[0] = p.pad_begin[1] = p.pad_end[0] = p.pad_end[1] = 1;
    sv_host_view xv = sv_host_view_make(x, 4, x_dims), wv = sv_host_view_make(w, 4, w_dims);
    sv_tensor *xt = NULL, *wt = NULL, *yt = NULL;
    sv_status st = sv_tensor_from_host(ctx, &xv, &xt);
    if (st == SV_OK)
        st = sv_tensor_from_host(ctx, &wv, &wt);
    if (st == SV_OK)
        st = sv_tensor_create(ctx, 4, x_dims, &yt);
    if (st == SV_OK)
        st = sv_conv(ctx, &p, xt, wt, NULL, yt);
    if (st == SV_OK)
        st = sv_tensor_download(yt, y, SIDE * SIDE);
    int ok = st == SV_OK;
    if (!ok)
        snprintf(why, why_size, "%s: %s", sv_status_name(st), sv_last_error(ctx));
    for (int i = 0; ok && i < SIDE; i++)
        for (int j = 0; ok && j < SIDE; j++) {
            const int rows = (i == 0 || i == SIDE - 1) ? 2 : 3,
                      cols = (j == 0 || j == SIDE - 1) ? 2 : 3;
            if (y[i * SIDE + j] != (float)(rows * cols)) {
                snprintf(why, why_size, "y[%d][%d] = %g, expected %d", i, j,
                         (double)y[i * SIDE + j], rows * cols);
                ok = 0;
            }
        }
    sv_tensor_release(xt);
    sv_tensor_release(wt);
    sv_tensor_release(yt);
    return ok;
}

START_TEST(test_create_release_repeatedly) {
    for (int round = 0; round < 20; round++) {
        sv_context *ctx = test_context(test_spec(round % TEST_SPEC_COUNT));
        ck_assert_ptr_nonnull(sv_context_device(ctx));
        ck_assert_str_eq(sv_last_error(ctx), "");
        char why[WHY_SIZE];
        if (round % 5 == 0 || round % 5 == 1)
            ck_assert_msg(run_box_conv(ctx, why, sizeof why), "round %d: %s", round, why);
        ck_assert_int_eq(sv_context_finish(ctx), SV_OK);
        sv_context_release(ctx);
    }
    sv_context_release(NULL);
    ck_assert_int_eq(sv_context_create(NULL, NULL, NULL), SV_INVALID_ARGUMENT);
}
END_TEST

typedef struct worker {
    const char *spec;
    int rounds;
    int ok;
    char why[WHY_SIZE];
} worker;

static void *work(void *arg) {
    worker *w = arg;
    w->ok = 1;
    for (int r = 0; r < w->rounds && w->ok; r++) {
        sv_context *ctx = NULL;
        sv_message msg;
        if (sv_context_create(w->spec, &ctx, &msg) != SV_OK) {
            snprintf(w->why, sizeof w->why, "create: %s", msg.text);
            w->ok = 0;
            break;
        }
        w->ok = run_box_conv(ctx, w->why, sizeof w->why);
        sv_context_release(ctx);
    }
    return NULL;
}

/* Two threads, each with its own contexts, create, compute and release at the same time. */
START_TEST(test_two_threads) {
    worker workers[2] = {{NULL, 6, 0, ""}, {_i ? NULL : "ref", 6, 0, ""}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, work, &workers[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(workers[i].ok, "thread %d: %s", i, workers[i].why);
}
END_TEST

/* SVERTKA_KERNELS_DIR loads the sources from disk: the real tree works, a broken one fails the
 * build with the compiler's log in the message, and a missing file names its path. */
START_TEST(test_kernels_from_directory) {
    char why[WHY_SIZE];
    setenv("SVERTKA_KERNELS_DIR", SVERTKA_SOURCE_DIR "/kernels_cl", 1);
    sv_context *ctx = test_context(NULL);
    ck_assert_msg(run_box_conv(ctx, why, sizeof why), "%s", why);
    sv_context_release(ctx);

    char dir[] = "/tmp/svertka-kernels-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/common.clh", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("/* empty prelude */\n", f);
    fclose(f);
    setenv("SVERTKA_KERNELS_DIR", dir, 1);
    ctx = test_context(NULL);
    if (sv_context_device(ctx)->kind != SV_DEVICE_REF) {
        ck_assert(!run_box_conv(ctx, why, sizeof why));
        ck_assert_msg(strstr(why, "SV_IO") && strstr(why, "conv.cl"), "%s", why);

        snprintf(path, sizeof path, "%s/conv.cl", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("__kernel void conv2d_direct(__global float *x) { x[0] = undeclared_name; }\n", f);
        fclose(f);
        ck_assert(!run_box_conv(ctx, why, sizeof why));
        ck_assert_msg(strstr(why, "SV_BUILD_FAILED"), "%s", why);
        ck_assert_msg(strstr(sv_last_error(ctx), "undeclared_name"),
                      "build log missing from the message: %s", sv_last_error(ctx));
        /* the context stays usable once the sources are good again */
        setenv("SVERTKA_KERNELS_DIR", SVERTKA_SOURCE_DIR "/kernels_cl", 1);
        ck_assert_msg(run_box_conv(ctx, why, sizeof why), "%s", why);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/common.clh", dir);
    unlink(path);
    rmdir(dir);
    unsetenv("SVERTKA_KERNELS_DIR");
    sv_context_release(ctx);
}
END_TEST

static Suite *context_suite(void) {
    Suite *s = suite_create("context");
    TCase *tc = test_add_case(s, "lifecycle", 300);
    tcase_add_test(tc, test_create_release_repeatedly);
    tcase_add_loop_test(tc, test_two_threads, 0, 2);
    tcase_add_test(tc, test_kernels_from_directory);
    return s;
}

TEST_MAIN(context_suite)
