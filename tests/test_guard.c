/* Guard mode: every op family, every convolution algorithm and a model run with a guard region
 * before and after each device buffer, and match the reference path with the guards intact; a
 * kernel that writes one element past the end or before the start of its output is caught, and
 * the message names the kernel, the buffer's size and the changed byte. */
#include "core/internal.h"
#include "io/io.h"
#include "ops/conv_algorithm.h"
#include "test_support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SVERTKA_SOURCE_DIR
#error "SVERTKA_SOURCE_DIR must name the source tree"
#endif

enum { MAX_IN = 5, MAX_OUT = 2 };

/* One op call: the shapes and value ranges of its inputs (drawn at random per case), the shapes
 * of its outputs, its parameters, and how to make it on a context. */
typedef struct op_call {
    char what[160];
    int nin, nout;
    int in_rank[MAX_IN], out_rank[MAX_OUT];
    int64_t in_dims[MAX_IN][SV_MAX_RANK], out_dims[MAX_OUT][SV_MAX_RANK];
    float lo[MAX_IN], hi[MAX_IN];
    union {
        sv_conv_params conv;
        sv_conv_transpose_params conv_transpose;
        sv_pool_params pool;
        sv_softmax_params softmax;
        sv_gemm_params gemm;
        sv_activation activation;
        sv_binary_op binary;
        sv_batch_norm_params batch_norm;
        sv_lrn_params lrn;
        int axis;
        sv_pad_params pad;
        int perm[SV_MAX_RANK];
        sv_resize_params resize;
    } p;
    sv_status (*run)(sv_context *ctx, const struct op_call *c, sv_tensor *const *in,
                     sv_tensor *const *out);
} op_call;

static void set_input(op_call *c, int i, int rank, const int64_t *dims, float lo, float hi) {
    c->in_rank[i] = rank;
    memcpy(c->in_dims[i], dims, (size_t)rank * sizeof *dims);
    c->lo[i] = lo;
    c->hi[i] = hi;
    if (i >= c->nin)
        c->nin = i + 1;
}

static void set_output(op_call *c, int i, int rank, const int64_t *dims) {
    c->out_rank[i] = rank;
    memcpy(c->out_dims[i], dims, (size_t)rank * sizeof *dims);
    if (i >= c->nout)
        c->nout = i + 1;
}

/* A context on the default device in guard mode; NULL (the test has nothing to check) when the
 * default device is the reference path. */
static sv_context *guard_context(void) {
    sv_context *ctx = test_context(NULL);
    if (sv_context_device(ctx)->kind == SV_DEVICE_REF) {
        ck_assert_int_eq(sv_debug_guard_enable(ctx), SV_UNSUPPORTED);
        printf("guard: the default device is the reference path; nothing to guard\n");
        sv_context_release(ctx);
        return NULL;
    }
    TEST_ASSERT_STATUS(sv_debug_guard_enable(ctx), SV_OK, ctx);
    ck_assert(ctx->guard.enabled);
    ck_assert_int_eq(ctx->guard.count, 0);
    return ctx;
}

/* Runs c on the guarded device and on the reference path with the same random inputs; the
 * outputs must agree and every guard must be intact (each kernel was checked as it ran; the
 * release of each buffer checks once more). */
static void check_call(sv_context *dev, const op_call *c, uint64_t case_index) {
    sv_context *ref = test_context("ref");
    test_rng rng = test_rng_for(case_index);
    float *data[MAX_IN], *out[2][MAX_OUT];
    for (int i = 0; i < c->nin; i++)
        data[i] = test_random_array(&rng, (size_t)test_count(c->in_rank[i], c->in_dims[i]),
                                    c->lo[i], c->hi[i]);
    for (int side = 0; side < 2; side++) {
        sv_context *ctx = side ? ref : dev;
        sv_tensor *in[MAX_IN], *y[MAX_OUT];
        for (int i = 0; i < c->nin; i++)
            in[i] = test_tensor_from(ctx, data[i], c->in_rank[i], c->in_dims[i]);
        for (int k = 0; k < c->nout; k++)
            y[k] = test_tensor_poisoned(ctx, c->out_rank[k], c->out_dims[k]);
        const sv_status st = c->run(ctx, c, in, y);
        ck_assert_msg(st == SV_OK, "%s on %s: %s: %s", c->what, side ? "ref" : "device",
                      sv_status_name(st), sv_last_error(ctx));
        for (int k = 0; k < c->nout; k++)
            out[side][k] = test_download(y[k]);
        for (int i = 0; i < c->nin; i++)
            sv_tensor_release(in[i]);
        for (int k = 0; k < c->nout; k++)
            sv_tensor_release(y[k]);
    }
    TEST_ASSERT_STATUS(sv_context_finish(dev), SV_OK, dev); /* the checks on release */
    ck_assert_int_eq(dev->guard.count, 0);
    for (int k = 0; k < c->nout; k++) {
        test_assert_close(out[0][k], out[1][k], (size_t)test_count(c->out_rank[k], c->out_dims[k]),
                          1e-4, 1e-4, c->what);
        free(out[0][k]);
        free(out[1][k]);
    }
    for (int i = 0; i < c->nin; i++)
        free(data[i]);
    sv_context_release(ref);
}

/* --- convolution --------------------------------------------------------------------------- */

static sv_status run_conv(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                          sv_tensor *const *out) {
    return sv_conv(ctx, &c->p.conv, in[0], in[1], c->nin > 2 ? in[2] : NULL, out[0]);
}

/* Whether the algorithm p names computes the convolution (Winograd declines all but 3x3 stride-1
 * 2-D ones; the sweeps of test_conv check how): the others are skipped here. */
static int computes(const sv_conv_params *p, const int64_t *x, const int64_t *w, const int64_t *y) {
    const sv_conv_impl *impl = sv_conv_impl_of(p->algorithm);
    if (!impl || !impl->unsupported)
        return 1;
    const int two_d = p->spatial_dims == 2, last = p->spatial_dims + 1;
    const sv_conv_geometry g = {(int)x[0],
                                (int)x[1],
                                two_d ? (int)x[2] : 1,
                                (int)x[last],
                                (int)w[0],
                                two_d ? (int)y[2] : 1,
                                (int)y[last],
                                two_d ? (int)w[2] : 1,
                                (int)w[last],
                                two_d ? p->stride[0] : 1,
                                p->stride[two_d],
                                two_d ? p->dilation[0] : 1,
                                p->dilation[two_d],
                                two_d ? p->pad_begin[0] : 0,
                                p->pad_begin[two_d],
                                p->groups};
    return impl->unsupported(p, &g) == NULL;
}

static void check_conv(sv_context *dev, const char *name, const sv_conv_params *p,
                       const int64_t *x_dims, const int64_t *w_dims, int bias, uint64_t index) {
    op_call c = {.run = run_conv};
    c.p.conv = *p;
    const int rank = p->spatial_dims + 2;
    int64_t y_dims[SV_MAX_RANK];
    sv_message msg;
    ck_assert_msg(sv_conv_output_shape(p, rank, x_dims, w_dims, NULL, y_dims, &msg) == SV_OK, "%s",
                  msg.text);
    set_input(&c, 0, rank, x_dims, -1.0f, 1.0f);
    set_input(&c, 1, rank, w_dims, -1.0f, 1.0f);
    if (bias)
        set_input(&c, 2, 1, &w_dims[0], -1.0f, 1.0f);
    set_output(&c, 0, rank, y_dims);
    if (!computes(p, x_dims, w_dims, y_dims))
        return;
    snprintf(c.what, sizeof c.what, "conv %s, algorithm %d, batch %lld", name, (int)p->algorithm,
             (long long)x_dims[0]);
    check_call(dev, &c, index);
}

/* Every algorithm sv_conv_algorithm names, those added later included, on 2-D and 1-D shapes
 * with odd sizes, groups, strides, dilations and each padding mode. */
START_TEST(test_conv_every_algorithm) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    uint64_t index = 0;
    for (int algorithm = SV_CONV_AUTO; algorithm < SV_CONV_ALGORITHM_END; algorithm++) {
        for (int64_t n = 1; n <= 3; n += 2) {
            sv_conv_params p = sv_conv_params_default(2);
            p.algorithm = (sv_conv_algorithm)algorithm;
            p.pad_begin[0] = p.pad_begin[1] = p.pad_end[0] = p.pad_end[1] = 1;
            p.activation.kind = SV_ACT_RELU;
            check_conv(dev, "3x3 pad 1 relu", &p, (int64_t[]){n, 4, 7, 9}, (int64_t[]){12, 4, 3, 3},
                       1, index++);

            p = sv_conv_params_default(2);
            p.algorithm = (sv_conv_algorithm)algorithm;
            p.groups = 2;
            p.stride[0] = 2;
            p.dilation[1] = 2;
            p.pad_begin[0] = 1, p.pad_end[0] = 2, p.pad_begin[1] = 2, p.pad_end[1] = 1;
            p.pad_mode = SV_PAD_REFLECT;
            check_conv(dev, "grouped strided dilated reflect", &p, (int64_t[]){n, 6, 9, 7},
                       (int64_t[]){10, 3, 3, 5}, 0, index++);

            p = sv_conv_params_default(2);
            p.algorithm = (sv_conv_algorithm)algorithm;
            p.groups = 6;
            p.pad_begin[0] = p.pad_begin[1] = p.pad_end[0] = p.pad_end[1] = 1;
            p.pad_mode = SV_PAD_REPLICATE;
            check_conv(dev, "depthwise replicate", &p, (int64_t[]){n, 6, 7, 7},
                       (int64_t[]){6, 1, 3, 3}, 1, index++);

            p = sv_conv_params_default(2);
            p.algorithm = (sv_conv_algorithm)algorithm;
            p.pad_begin[0] = p.pad_begin[1] = 2, p.pad_end[0] = p.pad_end[1] = 1;
            p.pad_mode = SV_PAD_SYMMETRIC;
            check_conv(dev, "wide symmetric", &p, (int64_t[]){n, 3, 5, 11},
                       (int64_t[]){17, 3, 4, 4}, 1, index++);

            p = sv_conv_params_default(1);
            p.algorithm = (sv_conv_algorithm)algorithm;
            p.stride[0] = 2;
            p.pad_begin[0] = p.pad_end[0] = 2;
            p.pad_mode = SV_PAD_CIRCULAR;
            check_conv(dev, "1-D circular", &p, (int64_t[]){n, 5, 11}, (int64_t[]){9, 5, 5}, 1,
                       index++);
        }
    }
    sv_context_release(dev);
}
END_TEST

static sv_status run_conv_transpose(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                                    sv_tensor *const *out) {
    return sv_conv_transpose(ctx, &c->p.conv_transpose, in[0], in[1], c->nin > 2 ? in[2] : NULL,
                             out[0]);
}

static void check_conv_transpose(sv_context *dev, const sv_conv_transpose_params *p,
                                 const int64_t *x_dims, const int64_t *w_dims, uint64_t index) {
    op_call c = {.run = run_conv_transpose};
    c.p.conv_transpose = *p;
    const int rank = p->spatial_dims + 2;
    int64_t y_dims[SV_MAX_RANK];
    sv_message msg;
    ck_assert_msg(sv_conv_transpose_output_shape(p, rank, x_dims, w_dims, NULL, y_dims, &msg) ==
                      SV_OK,
                  "%s", msg.text);
    set_input(&c, 0, rank, x_dims, -1.0f, 1.0f);
    set_input(&c, 1, rank, w_dims, -1.0f, 1.0f);
    set_input(&c, 2, 1, &y_dims[1], -1.0f, 1.0f);
    set_output(&c, 0, rank, y_dims);
    snprintf(c.what, sizeof c.what, "conv_transpose %d-D, batch %lld", p->spatial_dims,
             (long long)x_dims[0]);
    check_call(dev, &c, index);
}

START_TEST(test_conv_transpose) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    for (int64_t n = 1; n <= 3; n += 2) {
        sv_conv_transpose_params p = sv_conv_transpose_params_default(2);
        p.stride[0] = p.stride[1] = 2;
        p.pad_begin[0] = p.pad_begin[1] = p.pad_end[0] = p.pad_end[1] = 1;
        p.output_padding[0] = p.output_padding[1] = 1;
        p.activation.kind = SV_ACT_TANH;
        check_conv_transpose(dev, &p, (int64_t[]){n, 5, 5, 7}, (int64_t[]){5, 3, 3, 3},
                             (uint64_t)n);
        p = sv_conv_transpose_params_default(1);
        p.groups = 2;
        p.stride[0] = 3;
        p.dilation[0] = 2;
        check_conv_transpose(dev, &p, (int64_t[]){n, 4, 9}, (int64_t[]){4, 3, 4}, (uint64_t)n + 10);
    }
    sv_context_release(dev);
}
END_TEST

/* --- pooling, softmax ------------------------------------------------------------------------ */

static sv_status run_pool(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                          sv_tensor *const *out) {
    return sv_pool(ctx, &c->p.pool, in[0], out[0], c->nout > 1 ? out[1] : NULL);
}

START_TEST(test_pool_every_kind) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    uint64_t index = 0;
    for (int64_t n = 1; n <= 3; n += 2)
        for (int kind = SV_POOL_MAX; kind <= SV_POOL_RMS; kind++)
            for (int global = 0; global < 2; global++) {
                op_call c = {.run = run_pool};
                sv_pool_params *p = &c.p.pool;
                const int spatial = global ? 1 : 2;
                *p = sv_pool_params_default(spatial, (sv_pool_kind)kind);
                p->global = global;
                p->kernel[0] = 3;
                p->pad_begin[0] = p->pad_end[0] = p->pad_begin[1] = p->pad_end[1] = 1;
                p->ceil_mode = 1;
                p->count_include_pad = 1;
                p->p = 3.0f;
                const int64_t x2[4] = {n, 3, 9, 11}, x1[3] = {n, 3, 13};
                const int64_t *x_dims = global ? x1 : x2;
                int64_t y_dims[SV_MAX_RANK];
                sv_message msg;
                ck_assert_msg(sv_pool_output_shape(p, spatial + 2, x_dims, y_dims, &msg) == SV_OK,
                              "%s", msg.text);
                set_input(&c, 0, spatial + 2, x_dims, -1.0f, 1.0f);
                set_output(&c, 0, spatial + 2, y_dims);
                if (kind == SV_POOL_MAX)
                    set_output(&c, 1, spatial + 2, y_dims);
                snprintf(c.what, sizeof c.what, "pool kind %d%s, batch %lld", kind,
                         global ? " global" : "", (long long)n);
                check_call(dev, &c, index++);
            }
    sv_context_release(dev);
}
END_TEST

static sv_status run_softmax(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                             sv_tensor *const *out) {
    return sv_softmax(ctx, &c->p.softmax, in[0], out[0]);
}

START_TEST(test_softmax) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    for (int64_t n = 1; n <= 3; n += 2)
        for (int log = 0; log < 2; log++) {
            op_call c = {.run = run_softmax};
            c.p.softmax.axis = log ? 1 : -1;
            c.p.softmax.log = log;
            const int64_t dims[3] = {n, 7, 13};
            set_input(&c, 0, 3, dims, -4.0f, 4.0f);
            set_output(&c, 0, 3, dims);
            snprintf(c.what, sizeof c.what, "softmax axis %d log %d, batch %lld", c.p.softmax.axis,
                     log, (long long)n);
            check_call(dev, &c, (uint64_t)(n * 2 + log));
        }
    sv_context_release(dev);
}
END_TEST

/* --- gemm and matmul: CLBlast's kernels are checked after each call ------------------------ */

static sv_status run_gemm(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                          sv_tensor *const *out) {
    return sv_gemm(ctx, &c->p.gemm, in[0], in[1], c->nin > 2 ? in[2] : NULL, out[0]);
}

static sv_status run_matmul(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                            sv_tensor *const *out) {
    (void)c;
    return sv_matmul(ctx, in[0], in[1], out[0]);
}

START_TEST(test_gemm_and_matmul) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    uint64_t index = 0;
    for (int64_t n = 1; n <= 3; n += 2) {
        op_call c = {.run = run_gemm};
        c.p.gemm = sv_gemm_params_default();
        c.p.gemm.alpha = 0.5f;
        c.p.gemm.beta = 2.0f;
        c.p.gemm.trans_b = 1;
        c.p.gemm.activation.kind = SV_ACT_RELU;
        set_input(&c, 0, 2, (int64_t[]){7 * n, 13}, -1.0f, 1.0f);
        set_input(&c, 1, 2, (int64_t[]){11, 13}, -1.0f, 1.0f);
        set_input(&c, 2, 1, (int64_t[]){11}, -1.0f, 1.0f);
        set_output(&c, 0, 2, (int64_t[]){7 * n, 11});
        snprintf(c.what, sizeof c.what, "gemm B' C[N] relu, batch %lld", (long long)n);
        check_call(dev, &c, index++);

        c = (op_call){.run = run_gemm};
        c.p.gemm = sv_gemm_params_default();
        c.p.gemm.trans_a = 1;
        set_input(&c, 0, 2, (int64_t[]){13, 5 * n}, -1.0f, 1.0f);
        set_input(&c, 1, 2, (int64_t[]){13, 11}, -1.0f, 1.0f);
        set_input(&c, 2, 2, (int64_t[]){5 * n, 1}, -1.0f, 1.0f);
        set_output(&c, 0, 2, (int64_t[]){5 * n, 11});
        snprintf(c.what, sizeof c.what, "gemm A' C[M, 1], batch %lld", (long long)n);
        check_call(dev, &c, index++);

        /* CLBlast's three routes: one B, batches alike, broadcast batches */
        const int64_t a_dims[3][4] = {{n, 5, 7}, {n, 5, 7}, {n, 1, 5, 7}};
        const int64_t b_dims[3][4] = {{7, 9}, {n, 7, 9}, {1, 3, 7, 9}};
        const int64_t y_dims[3][4] = {{n, 5, 9}, {n, 5, 9}, {n, 3, 5, 9}};
        const int a_rank[3] = {3, 3, 4}, b_rank[3] = {2, 3, 4};
        for (int route = 0; route < 3; route++) {
            c = (op_call){.run = run_matmul};
            set_input(&c, 0, a_rank[route], a_dims[route], -1.0f, 1.0f);
            set_input(&c, 1, b_rank[route], b_dims[route], -1.0f, 1.0f);
            set_output(&c, 0, a_rank[route], y_dims[route]);
            snprintf(c.what, sizeof c.what, "matmul route %d, batch %lld", route, (long long)n);
            check_call(dev, &c, index++);
        }
    }
    sv_context_release(dev);
}
END_TEST

/* --- element-wise, normalisation ------------------------------------------------------------- */

static sv_status run_activation(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                                sv_tensor *const *out) {
    return sv_activation_apply(ctx, &c->p.activation, in[0], out[0]);
}

static sv_status run_binary(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                            sv_tensor *const *out) {
    return sv_binary(ctx, c->p.binary, in[0], in[1], out[0]);
}

static sv_status run_copy(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                          sv_tensor *const *out) {
    (void)c;
    return sv_copy(ctx, in[0], out[0]);
}

START_TEST(test_elementwise_and_broadcast) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    uint64_t index = 0;
    for (int64_t n = 1; n <= 3; n += 2) {
        const int64_t dims[4] = {n, 3, 5, 7};
        for (int kind = SV_ACT_NONE; kind <= SV_ACT_HARD_SIGMOID; kind++) {
            op_call c = {.run = run_activation};
            c.p.activation = (sv_activation){(sv_activation_kind)kind, 0.2f, 0.5f};
            if (kind == SV_ACT_CLIP)
                c.p.activation.alpha = -0.5f;
            set_input(&c, 0, 4, dims, -2.0f, 2.0f);
            set_output(&c, 0, 4, dims);
            snprintf(c.what, sizeof c.what, "activation %d, batch %lld", kind, (long long)n);
            check_call(dev, &c, index++);
        }
        for (int op = SV_BINARY_ADD; op <= SV_BINARY_PRELU; op++) {
            op_call c = {.run = run_binary};
            c.p.binary = (sv_binary_op)op;
            set_input(&c, 0, 4, dims, -1.0f, 1.0f);
            if (op == SV_BINARY_PRELU)
                set_input(&c, 1, 3, (int64_t[]){3, 1, 1}, 0.0f, 1.0f);
            else
                set_input(&c, 1, 3, (int64_t[]){3, 1, 7}, 0.5f, 2.0f);
            set_output(&c, 0, 4, dims);
            snprintf(c.what, sizeof c.what, "binary %d broadcast, batch %lld", op, (long long)n);
            check_call(dev, &c, index++);
        }
        op_call c = {.run = run_copy};
        set_input(&c, 0, 4, dims, -1.0f, 1.0f);
        set_output(&c, 0, 2, (int64_t[]){n * 3, 35});
        snprintf(c.what, sizeof c.what, "copy, batch %lld", (long long)n);
        check_call(dev, &c, index++);
    }
    sv_context_release(dev);
}
END_TEST

static sv_status run_batch_norm(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                                sv_tensor *const *out) {
    return sv_batch_norm(ctx, &c->p.batch_norm, in[0], in[1], in[2], in[3], in[4], out[0]);
}

static sv_status run_lrn(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                         sv_tensor *const *out) {
    return sv_lrn(ctx, &c->p.lrn, in[0], out[0]);
}

START_TEST(test_batch_norm_and_lrn) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    uint64_t index = 0;
    for (int64_t n = 1; n <= 3; n += 2) {
        op_call c = {.run = run_batch_norm};
        c.p.batch_norm = (sv_batch_norm_params){1e-5f, {SV_ACT_RELU, 0.0f, 0.0f}};
        const int64_t dims[4] = {n, 5, 7, 9}, channels = 5;
        set_input(&c, 0, 4, dims, -1.0f, 1.0f);
        for (int i = 1; i <= 3; i++)
            set_input(&c, i, 1, &channels, -1.0f, 1.0f);
        set_input(&c, 4, 1, &channels, 0.5f, 2.0f); /* variances */
        set_output(&c, 0, 4, dims);
        snprintf(c.what, sizeof c.what, "batch norm, batch %lld", (long long)n);
        check_call(dev, &c, index++);
        for (int size = 3; size <= 4; size++) {
            c = (op_call){.run = run_lrn};
            c.p.lrn = (sv_lrn_params){size, 0.5f, 0.75f, 2.0f};
            const int64_t x_dims[4] = {n, 7, 5, 9};
            set_input(&c, 0, 4, x_dims, -1.0f, 1.0f);
            set_output(&c, 0, 4, x_dims);
            snprintf(c.what, sizeof c.what, "lrn size %d, batch %lld", size, (long long)n);
            check_call(dev, &c, index++);
        }
    }
    sv_context_release(dev);
}
END_TEST

/* --- data movement ---------------------------------------------------------------------------- */

static sv_status run_concat(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                            sv_tensor *const *out) {
    return sv_concat(ctx, c->p.axis, c->nin, (const sv_tensor *const *)in, out[0]);
}

static sv_status run_pad(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                         sv_tensor *const *out) {
    return sv_pad(ctx, &c->p.pad, in[0], out[0]);
}

static sv_status run_transpose(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                               sv_tensor *const *out) {
    return sv_transpose(ctx, c->p.perm, in[0], out[0]);
}

static sv_status run_resize(sv_context *ctx, const op_call *c, sv_tensor *const *in,
                            sv_tensor *const *out) {
    return sv_resize(ctx, &c->p.resize, in[0], out[0]);
}

START_TEST(test_concat_pad_transpose_resize) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    uint64_t index = 0;
    for (int64_t n = 1; n <= 3; n += 2) {
        const int64_t dims[4] = {n, 3, 5, 7};
        op_call c = {.run = run_concat};
        c.p.axis = 1;
        for (int i = 0; i < 3; i++)
            set_input(&c, i, 4, (int64_t[]){n, i == 1 ? 3 : 2, 5, 7}, -1.0f, 1.0f);
        set_output(&c, 0, 4, (int64_t[]){n, 7, 5, 7});
        snprintf(c.what, sizeof c.what, "concat axis 1, batch %lld", (long long)n);
        check_call(dev, &c, index++);

        c = (op_call){.run = run_concat};
        c.p.axis = 0;
        set_input(&c, 0, 3, (int64_t[]){n, 3, 5}, -1.0f, 1.0f);
        set_input(&c, 1, 3, (int64_t[]){2, 3, 5}, -1.0f, 1.0f);
        set_output(&c, 0, 3, (int64_t[]){n + 2, 3, 5});
        snprintf(c.what, sizeof c.what, "concat axis 0, batch %lld", (long long)n);
        check_call(dev, &c, index++);

        for (int mode = SV_PAD_ZERO; mode <= SV_PAD_CIRCULAR; mode++) {
            c = (op_call){.run = run_pad};
            sv_pad_params *p = &c.p.pad;
            p->mode = (sv_pad_mode)mode;
            p->value = 0.5f;
            const int64_t begin[4] = {0, 1, 2, 3}, end[4] = {0, 0, 3, -2};
            memcpy(p->pad_begin, begin, sizeof begin);
            memcpy(p->pad_end, end, sizeof end);
            int64_t y_dims[SV_MAX_RANK];
            sv_message msg;
            ck_assert_msg(sv_pad_output_shape(p, 4, dims, y_dims, &msg) == SV_OK, "%s", msg.text);
            set_input(&c, 0, 4, dims, -1.0f, 1.0f);
            set_output(&c, 0, 4, y_dims);
            snprintf(c.what, sizeof c.what, "pad mode %d, batch %lld", mode, (long long)n);
            check_call(dev, &c, index++);
        }

        const int perms[2][4] = {{0, 2, 3, 1}, {3, 1, 0, 2}};
        for (int k = 0; k < 2; k++) {
            c = (op_call){.run = run_transpose};
            int64_t y_dims[4];
            for (int i = 0; i < 4; i++) {
                c.p.perm[i] = perms[k][i];
                y_dims[i] = dims[perms[k][i]];
            }
            set_input(&c, 0, 4, dims, -1.0f, 1.0f);
            set_output(&c, 0, 4, y_dims);
            snprintf(c.what, sizeof c.what, "transpose %d, batch %lld", k, (long long)n);
            check_call(dev, &c, index++);
        }

        c = (op_call){.run = run_resize};
        c.p.resize = (sv_resize_params){
            SV_RESIZE_NEAREST, SV_COORD_ASYMMETRIC, SV_NEAREST_ROUND_PREFER_CEIL, {1, 1, 2, 3, 0}};
        set_input(&c, 0, 4, dims, -1.0f, 1.0f);
        set_output(&c, 0, 4, (int64_t[]){n, 3, 10, 21});
        snprintf(c.what, sizeof c.what, "resize nearest, batch %lld", (long long)n);
        check_call(dev, &c, index++);
        for (int coordinates = SV_COORD_HALF_PIXEL; coordinates <= SV_COORD_ALIGN_CORNERS;
             coordinates += SV_COORD_ALIGN_CORNERS) {
            c = (op_call){.run = run_resize};
            c.p.resize = (sv_resize_params){SV_RESIZE_LINEAR,
                                            (sv_resize_coordinates)coordinates,
                                            SV_NEAREST_ROUND_PREFER_FLOOR,
                                            {0}};
            set_input(&c, 0, 4, dims, -1.0f, 1.0f);
            set_output(&c, 0, 4, (int64_t[]){n, 3, 11, 4});
            snprintf(c.what, sizeof c.what, "resize linear coordinates %d, batch %lld", coordinates,
                     (long long)n);
            check_call(dev, &c, index++);
        }
    }
    sv_context_release(dev);
}
END_TEST

/* --- a model end to end ---------------------------------------------------------------------- */

static float *run_segnet(sv_context *ctx, const sv_io_array *x, int64_t *count) {
    sv_model *m = NULL;
    TEST_ASSERT_STATUS(
        sv_model_load(ctx, SVERTKA_SOURCE_DIR "/tests/data/models/segnet.onnx", NULL, &m), SV_OK,
        ctx);
    TEST_ASSERT_STATUS(sv_model_set_batch(m, x->dims[0]), SV_OK, ctx);
    sv_value_info out;
    ck_assert_int_eq(sv_model_output(m, 0, &out), SV_OK);
    *count = test_count(out.rank, out.dims);
    float *y = malloc((size_t)*count * sizeof *y);
    ck_assert_ptr_nonnull(y);
    const float *inputs[1] = {x->data};
    float *outputs[1] = {y};
    TEST_ASSERT_STATUS(sv_model_run(m, inputs, outputs), SV_OK, ctx);
    sv_model_release(m);
    return y;
}

/* The segmentation net (convolutions, pooling, transposed convolutions, concatenations,
 * softmax) at batch 2 under guard mode, against the reference path. */
START_TEST(test_model_end_to_end) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    sv_context *ref = test_context("ref");
    sv_io_array x;
    sv_message msg;
    ck_assert_msg(sv_npy_read_file(SVERTKA_SOURCE_DIR "/tests/data/models/segnet_input.npy", &x,
                                   &msg) == SV_OK,
                  "%s", msg.text);
    int64_t count, ref_count;
    float *y = run_segnet(dev, &x, &count), *r = run_segnet(ref, &x, &ref_count);
    ck_assert_int_eq(count, ref_count);
    TEST_ASSERT_STATUS(sv_context_finish(dev), SV_OK, dev);
    ck_assert_int_eq(dev->guard.count, 0);
    test_assert_close(y, r, (size_t)count, 1e-5, 1e-4, "segnet under guard mode");
    free(y);
    free(r);
    sv_io_array_free(&x);
    sv_context_release(ref);
    sv_context_release(dev);
}
END_TEST

/* --- the guards catch stray writes ------------------------------------------------------------ */

/* Copies kernels_cl into a new temporary directory `dir`, replacing `from` by `to` in
 * elementwise.cl (where `from` must occur). */
static void mutated_kernels(char *dir, const char *from, const char *to) {
    ck_assert_ptr_nonnull(mkdtemp(dir));
    DIR *src = opendir(SVERTKA_SOURCE_DIR "/kernels_cl");
    ck_assert_ptr_nonnull(src);
    int mutated = 0;
    for (struct dirent *e; (e = readdir(src));) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", SVERTKA_SOURCE_DIR "/kernels_cl", e->d_name);
        unsigned char *text;
        size_t size;
        sv_message msg;
        ck_assert_msg(sv_io_read_file(path, 1 << 24, &text, &size, &msg) == SV_OK, "%s", msg.text);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        const char *at =
            strcmp(e->d_name, "elementwise.cl") == 0 ? strstr((const char *)text, from) : NULL;
        if (at) {
            const size_t before = (size_t)(at - (const char *)text);
            fwrite(text, 1, before, f);
            fputs(to, f);
            fwrite(at + strlen(from), 1, size - before - strlen(from), f);
            mutated = 1;
        } else {
            fwrite(text, 1, size, f);
        }
        fclose(f);
        free(text);
    }
    closedir(src);
    ck_assert_msg(mutated, "'%s' is not in kernels_cl/elementwise.cl", from);
}

static void remove_directory(const char *dir) {
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* The activation kernel, mutated to store its last element one past the end of y (or its first
 * one before the start): the call fails with SV_INTERNAL_ERROR naming the kernel, the buffer's
 * size and the changed byte. */
static void check_stray_write(const char *to, const char *where) {
    char dir[] = "/tmp/svertka-guard-XXXXXX";
    mutated_kernels(dir, "y[i] = sv_activate(x[i], alpha, beta);", to);
    setenv("SVERTKA_KERNELS_DIR", dir, 1);
    sv_context *dev = guard_context();
    if (dev) {
        const int64_t dims[4] = {1, 3, 5, 7}; /* 105 floats: 420 bytes */
        float x[105];
        for (int i = 0; i < 105; i++)
            x[i] = (float)i;
        sv_tensor *xt = test_tensor_from(dev, x, 4, dims), *yt = test_tensor_poisoned(dev, 4, dims);
        const sv_activation relu = {SV_ACT_RELU, 0.0f, 0.0f};
        const sv_status st = sv_activation_apply(dev, &relu, xt, yt);
        TEST_ASSERT_STATUS(st, SV_INTERNAL_ERROR, dev);
        const char *msg = sv_last_error(dev);
        ck_assert_msg(strstr(msg, "activation wrote outside a tensor buffer of 420 bytes") &&
                          strstr(msg, where),
                      "unexpected message: %s", msg);
        /* reported once: the guards are whole again, and releasing finds nothing more */
        sv_tensor_release(xt);
        sv_tensor_release(yt);
        TEST_ASSERT_STATUS(sv_context_finish(dev), SV_OK, dev);
        sv_context_release(dev);
    }
    unsetenv("SVERTKA_KERNELS_DIR");
    remove_directory(dir);
}

START_TEST(test_catches_write_past_the_end) {
    check_stray_write("y[i + (i == count - 1)] = sv_activate(x[i], alpha, beta);",
                      "the first changed byte is at offset 420, in the guard after it");
}
END_TEST

START_TEST(test_catches_write_before_the_start) {
    check_stray_write("y[i - (i == 0)] = sv_activate(x[i], alpha, beta);",
                      "the first changed byte is at offset -4, in the guard before it");
}
END_TEST

/* A write into a guard that no kernel made (here the test's own) is found when the buffer is
 * released, and the next check reports it, once. */
START_TEST(test_release_checks_the_guards) {
    sv_context *dev = guard_context();
    if (!dev)
        return;
    const int64_t dims[1] = {10};
    sv_tensor *t = test_tensor_poisoned(dev, 1, dims);
    ck_assert_int_eq(dev->guard.count, 1);
    const unsigned char stray = 0;
    const sv_guarded_buffer *b = &dev->guard.live[0];
    ck_assert_int_eq(clEnqueueWriteBuffer(dev->queue, b->whole, CL_TRUE,
                                          dev->guard.head + b->bytes + 7, 1, &stray, 0, NULL, NULL),
                     CL_SUCCESS);
    sv_tensor_release(t);
    ck_assert_int_eq(dev->guard.count, 0);
    TEST_ASSERT_STATUS(sv_context_finish(dev), SV_INTERNAL_ERROR, dev);
    const char *msg = sv_last_error(dev);
    ck_assert_msg(strstr(msg, "tensor buffer of 40 bytes") && strstr(msg, "offset 47") &&
                      strstr(msg, "when the buffer was released"),
                  "unexpected message: %s", msg);
    TEST_ASSERT_STATUS(sv_context_finish(dev), SV_OK, dev);
    sv_context_release(dev);
}
END_TEST

/* SVERTKA_GUARD=1 turns guard mode on for every context on an OpenCL device; 0 leaves it off. */
START_TEST(test_environment_variable) {
    setenv("SVERTKA_GUARD", "1", 1);
    sv_context *ctx = test_context(NULL);
    ck_assert_int_eq(ctx->guard.enabled, sv_context_device(ctx)->kind != SV_DEVICE_REF);
    sv_context_release(ctx);
    ctx = test_context("ref");
    ck_assert_int_eq(ctx->guard.enabled, 0);
    sv_context_release(ctx);
    setenv("SVERTKA_GUARD", "0", 1);
    ctx = test_context(NULL);
    ck_assert_int_eq(ctx->guard.enabled, 0);
    sv_context_release(ctx);
    unsetenv("SVERTKA_GUARD");
}
END_TEST

static Suite *guard_suite(void) {
    Suite *s = suite_create("guard");
    TCase *ops = test_add_case(s, "ops", 120);
    tcase_add_test(ops, test_conv_every_algorithm);
    tcase_add_test(ops, test_conv_transpose);
    tcase_add_test(ops, test_pool_every_kind);
    tcase_add_test(ops, test_softmax);
    tcase_add_test(ops, test_gemm_and_matmul);
    tcase_add_test(ops, test_elementwise_and_broadcast);
    tcase_add_test(ops, test_batch_norm_and_lrn);
    tcase_add_test(ops, test_concat_pad_transpose_resize);
    tcase_add_test(ops, test_model_end_to_end);
    TCase *catches = test_add_case(s, "catches", 60);
    tcase_add_test(catches, test_catches_write_past_the_end);
    tcase_add_test(catches, test_catches_write_before_the_start);
    tcase_add_test(catches, test_release_checks_the_guards);
    tcase_add_test(catches, test_environment_variable);
    return s;
}

TEST_MAIN(guard_suite)
