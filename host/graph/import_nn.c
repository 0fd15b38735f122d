/* ONNX operators that compute: convolution, pooling, products, activations, arithmetic,
 * normalisation, softmax. Each checks its attributes, works out its output shape with the op's
 * own shape helper, and adds a step (folded when all its inputs are constants). */
#include "graph/import.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- shared by Conv, ConvTranspose and the pools ---- */

typedef struct window {
    int spatial;
    int64_t kernel[2], stride[2], dilation[2], pad_begin[2], pad_end[2];
    int same_upper, same_lower; /* auto_pad */
} window;

/* Reads kernel_shape (or takes it from the weight), strides, dilations, pads and auto_pad. */
static sv_status read_window(importer *im, int spatial, const int64_t *kernel_from_weight,
                             window *w) {
    const Onnx__NodeProto *n = im->node->proto;
    memset(w, 0, sizeof *w);
    w->spatial = spatial;
    int64_t values[4];
    int count = attr_ints(n, "kernel_shape", values, 2);
    if (count == 0 && !kernel_from_weight)
        return im_fail(im, SV_INVALID_ARGUMENT, "kernel_shape is required");
    if (count != 0 && count != spatial)
        return im_fail(im, SV_INVALID_ARGUMENT, "kernel_shape has %d values for %d spatial axes",
                       count, spatial);
    for (int i = 0; i < spatial; i++) {
        w->kernel[i] = count ? values[i] : kernel_from_weight[i];
        if (kernel_from_weight && w->kernel[i] != kernel_from_weight[i])
            return im_fail(im, SV_SHAPE_MISMATCH, "kernel_shape does not match the weight's shape");
        w->stride[i] = w->dilation[i] = 1;
    }
    static const char *const names[2] = {"strides", "dilations"};
    int64_t *targets[2] = {w->stride, w->dilation};
    for (int a = 0; a < 2; a++) {
        count = attr_ints(n, names[a], values, 2);
        if (count != 0 && count != spatial)
            return im_fail(im, SV_INVALID_ARGUMENT, "%s has %d values for %d spatial axes",
                           names[a], count, spatial);
        for (int i = 0; i < count; i++)
            targets[a][i] = values[i];
    }
    count = attr_ints(n, "pads", values, 4);
    if (count != 0 && count != 2 * spatial)
        return im_fail(im, SV_INVALID_ARGUMENT, "pads has %d values for %d spatial axes", count,
                       spatial);
    for (int i = 0; i < spatial && count; i++) {
        w->pad_begin[i] = values[i];
        w->pad_end[i] = values[spatial + i];
    }
    char mode[32];
    attr_string(n, "auto_pad", "NOTSET", mode, sizeof mode);
    if (strcmp(mode, "SAME_UPPER") == 0)
        w->same_upper = 1;
    else if (strcmp(mode, "SAME_LOWER") == 0)
        w->same_lower = 1;
    else if (strcmp(mode, "VALID") == 0)
        memset(w->pad_begin, 0, sizeof w->pad_begin), memset(w->pad_end, 0, sizeof w->pad_end);
    else if (strcmp(mode, "NOTSET") != 0)
        return im_fail(im, SV_UNSUPPORTED, "auto_pad '%s' is not supported", mode);
    for (int i = 0; i < spatial; i++)
        if (w->kernel[i] < 1 || w->kernel[i] > INT32_MAX || w->stride[i] < 1 ||
            w->stride[i] > INT32_MAX || w->dilation[i] < 1 || w->dilation[i] > INT32_MAX ||
            w->pad_begin[i] < 0 || w->pad_begin[i] > INT32_MAX || w->pad_end[i] < 0 ||
            w->pad_end[i] > INT32_MAX)
            return im_fail(im, SV_INVALID_ARGUMENT,
                           "kernel %lld, stride %lld, dilation %lld or pads %lld/%lld of spatial "
                           "axis %d out of range",
                           (long long)w->kernel[i], (long long)w->stride[i],
                           (long long)w->dilation[i], (long long)w->pad_begin[i],
                           (long long)w->pad_end[i], i);
    return SV_OK;
}

/* SAME_UPPER / SAME_LOWER: the output is ceil(in / stride) and the padding that makes it so is
 * split evenly, the odd cell going to the end (upper) or the beginning (lower). */
static void resolve_same_padding(window *w, const int64_t *in) {
    if (!w->same_upper && !w->same_lower)
        return;
    for (int i = 0; i < w->spatial; i++) {
        int64_t out = (in[i] + w->stride[i] - 1) / w->stride[i];
        int64_t span = w->dilation[i] * (w->kernel[i] - 1) + 1;
        int64_t total = (out - 1) * w->stride[i] + span - in[i];
        if (total < 0)
            total = 0;
        w->pad_begin[i] = w->same_upper ? total / 2 : total - total / 2;
        w->pad_end[i] = total - w->pad_begin[i];
    }
}

static int spatial_of(importer *im, const plan_value *x, const char *what) {
    if (x->rank != 3 && x->rank != 4) {
        im_fail(im, SV_UNSUPPORTED,
                "%s of a rank-%d input: 1-D (N, C, W) and 2-D (N, C, H, W) "
                "are supported",
                what, x->rank);
        return -1;
    }
    return x->rank - 2;
}

/* Fails unless the node's first two inputs are present; returns them. */
static sv_status require_pair(importer *im, plan_value **a, plan_value **b) {
    sv_status st = im_require(im, 0, a);
    if (st == SV_OK)
        st = im_require(im, 1, b);
    return st;
}

/* ---- shared by Conv and ConvTranspose ---- */

/* The input x, the weight w of x's rank, and the window attributes (kernel_shape, when given,
 * must match the weight's). */
static sv_status read_conv_inputs(importer *im, const char *op, plan_value **x, plan_value **w,
                                  int *spatial, window *win) {
    sv_status st = require_pair(im, x, w);
    if (st != SV_OK)
        return st;
    *spatial = spatial_of(im, *x, op);
    if (*spatial < 0)
        return SV_UNSUPPORTED;
    if ((*w)->rank != (*x)->rank)
        return im_fail(im, SV_SHAPE_MISMATCH, "weight rank %d differs from input rank %d",
                       (*w)->rank, (*x)->rank);
    return read_window(im, *spatial, &(*w)->dims[2], win);
}

/* The group attribute, in 1..INT32_MAX. */
static sv_status read_group(importer *im, int *groups) {
    int64_t group = attr_int(im->node->proto, "group", 1);
    if (group < 1 || group > INT32_MAX)
        return im_fail(im, SV_INVALID_ARGUMENT, "group %lld is out of range", (long long)group);
    *groups = (int)group;
    return SV_OK;
}

/* The optional bias (input 3), of rank 1: *len points to its length, NULL without a bias. */
static sv_status read_bias(importer *im, const int64_t **len) {
    const plan_value *b = im_input(im, 2);
    *len = NULL;
    if (!b)
        return SV_OK;
    if (b->rank != 1)
        return im_fail(im, SV_SHAPE_MISMATCH, "bias must have rank 1, has %d", b->rank);
    *len = &b->dims[0];
    return SV_OK;
}

/* ---- Conv ---- */

static const char *const conv_attributes[] = {"auto_pad", "dilations", "group", "kernel_shape",
                                              "pads",     "strides",   NULL};

static sv_status import_conv(importer *im) {
    plan_value *x = NULL, *w = NULL;
    int spatial;
    window win;
    sv_status st = read_conv_inputs(im, "Conv", &x, &w, &spatial, &win);
    if (st != SV_OK)
        return st;
    resolve_same_padding(&win, &x->dims[2]);
    sv_conv_params p = sv_conv_params_default(spatial);
    if ((st = read_group(im, &p.groups)) != SV_OK)
        return st;
    for (int i = 0; i < spatial; i++) {
        p.stride[i] = (int)win.stride[i];
        p.dilation[i] = (int)win.dilation[i];
        p.pad_begin[i] = (int)win.pad_begin[i];
        p.pad_end[i] = (int)win.pad_end[i];
    }
    const int64_t *bias_len;
    if ((st = read_bias(im, &bias_len)) != SV_OK)
        return st;
    int64_t out[SV_MAX_RANK];
    sv_message msg;
    st = sv_conv_output_shape(&p, x->rank, x->dims, w->dims, bias_len, out, &msg);
    if (st != SV_OK)
        return im_fail(im, st, "%s", msg.text);
    step *s = im_add_node_step(im, STEP_CONV, "Conv", 3, x->rank, out);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.conv = p;
    s->macs = hc_product(x->rank, out) * hc_product(w->rank - 1, &w->dims[1]);
    return im_fold_if_constant(im, s);
}

/* ---- ConvTranspose ---- */

static const char *const conv_transpose_attributes[] = {
    "auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape",
    "pads",     "strides",   NULL};

static sv_status import_conv_transpose(importer *im) {
    plan_value *x = NULL, *w = NULL;
    int spatial;
    window win;
    sv_status st = read_conv_inputs(im, "ConvTranspose", &x, &w, &spatial, &win);
    if (st != SV_OK)
        return st;
    const Onnx__NodeProto *n = im->node->proto;
    int64_t output_padding[2] = {0, 0}, output_shape[4];
    int count = attr_ints(n, "output_padding", output_padding, 2);
    if (count != 0 && count != spatial)
        return im_fail(im, SV_INVALID_ARGUMENT, "output_padding has %d values", count);
    int shape_count = attr_ints(n, "output_shape", output_shape, 4);
    if (shape_count != 0 && shape_count != spatial && shape_count != spatial + 2)
        return im_fail(im, SV_INVALID_ARGUMENT, "output_shape has %d values", shape_count);
    const int64_t *wanted = shape_count == spatial + 2 ? output_shape + 2 : output_shape;
    sv_conv_transpose_params p = sv_conv_transpose_params_default(spatial);
    if ((st = read_group(im, &p.groups)) != SV_OK)
        return st;
    for (int i = 0; i < spatial; i++) {
        const int64_t span = win.dilation[i] * (win.kernel[i] - 1) + 1;
        int64_t target = shape_count                          ? wanted[i]
                         : (win.same_upper || win.same_lower) ? x->dims[2 + i] * win.stride[i]
                                                              : -1;
        if (output_padding[i] < 0 || output_padding[i] > INT32_MAX)
            return im_fail(im, SV_INVALID_ARGUMENT, "output_padding %lld out of range",
                           (long long)output_padding[i]);
        p.stride[i] = (int)win.stride[i];
        p.dilation[i] = (int)win.dilation[i];
        p.output_padding[i] = (int)output_padding[i];
        p.pad_begin[i] = (int)win.pad_begin[i];
        p.pad_end[i] = (int)win.pad_end[i];
        if (target >= 0) {
            /* the padding that yields the wanted size: the odd cell goes to the beginning unless
             * SAME_UPPER (the ONNX rule) */
            int64_t total =
                win.stride[i] * (x->dims[2 + i] - 1) + output_padding[i] + span - target;
            if (total >= 0) {
                p.pad_begin[i] = (int)(win.same_upper ? total / 2 : total - total / 2);
                p.pad_end[i] = (int)(total - p.pad_begin[i]);
            } else {
                p.pad_begin[i] = p.pad_end[i] = 0;
                p.output_size[i] = target;
            }
        }
    }
    const int64_t *bias_len;
    if ((st = read_bias(im, &bias_len)) != SV_OK)
        return st;
    int64_t out[SV_MAX_RANK];
    sv_message msg;
    st = sv_conv_transpose_output_shape(&p, x->rank, x->dims, w->dims, bias_len, out, &msg);
    if (st != SV_OK)
        return im_fail(im, st, "%s", msg.text);
    step *s = im_add_node_step(im, STEP_CONV_TRANSPOSE, "ConvTranspose", 3, x->rank, out);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.conv_transpose = p;
    s->macs = hc_product(x->rank, x->dims) * hc_product(w->rank - 1, &w->dims[1]);
    return im_fold_if_constant(im, s);
}

/* ---- pooling ---- */

static const char *const max_pool_attributes[] = {
    "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides", NULL};
static const char *const average_pool_attributes[] = {
    "auto_pad",     "ceil_mode", "count_include_pad", "dilations",
    "kernel_shape", "pads",      "strides",           NULL};
static const char *const lp_pool_attributes[] = {
    "auto_pad", "ceil_mode", "dilations", "kernel_shape", "p", "pads", "strides", NULL};
static const char *const global_lp_pool_attributes[] = {"p", NULL};
static const char *const no_attributes[] = {NULL};

static sv_pool_kind pool_kind_of(const char *op) {
    if (strstr(op, "Max"))
        return SV_POOL_MAX;
    if (strstr(op, "Lp"))
        return SV_POOL_LP;
    return SV_POOL_AVERAGE;
}

/* MaxPool's optional Indices output: ONNX numbers positions across the whole tensor (n, c, h,
 * w), the pool op within each plane, so a constant offset per plane is added. */
static sv_status add_flat_indices(importer *im, const plan_value *x, int plane_indices,
                                  const int64_t *out_dims, int rank) {
    const int64_t planes = x->dims[0] * x->dims[1], plane = hc_product(x->rank - 2, &x->dims[2]);
    if (planes * plane > (INT64_C(1) << 24))
        return im_fail(im, SV_UNSUPPORTED,
                       "Indices of a tensor of more than 2^24 elements cannot be exact");
    const int64_t offset_dims[SV_MAX_RANK] = {x->dims[0], x->dims[1], 1, 1};
    hostconst *offsets = hc_new(HC_F32, rank, offset_dims);
    if (!offsets)
        return im_fail(im, SV_OUT_OF_MEMORY, "out of host memory");
    for (int64_t k = 0; k < planes; k++)
        offsets->f[k] = (float)(k * plane);
    int offsets_id = im_new_value(im, rank, offset_dims);
    if (offsets_id < 0) {
        hc_free(offsets);
        return im_fail(im, SV_OUT_OF_MEMORY, "out of host memory");
    }
    im->pl->values[offsets_id].constant = offsets;
    const int inputs[2] = {plane_indices, offsets_id};
    step *s = im_add_step(im, STEP_BINARY, "MaxPool.Indices", inputs, 2, im_output_id(im, 1), rank,
                          out_dims);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.binary = SV_BINARY_ADD;
    s->macs = hc_product(rank, out_dims);
    return SV_OK;
}

static sv_status import_pool(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    const int spatial = spatial_of(im, x, n->op_type);
    if (spatial < 0)
        return SV_UNSUPPORTED;
    const int global = strncmp(n->op_type, "Global", 6) == 0;
    sv_pool_params p = sv_pool_params_default(spatial, pool_kind_of(n->op_type));
    p.global = global;
    if (p.kind == SV_POOL_LP) {
        int64_t order = attr_int(n, "p", 2);
        if (order < 1 || order > 1000)
            return im_fail(im, SV_INVALID_ARGUMENT, "p = %lld must be a positive integer",
                           (long long)order);
        p.p = (float)order;
    }
    if (!global) {
        window win;
        if ((st = read_window(im, spatial, NULL, &win)) != SV_OK)
            return st;
        resolve_same_padding(&win, &x->dims[2]);
        p.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
        p.count_include_pad = attr_int(n, "count_include_pad", 0) != 0;
        if (attr_int(n, "storage_order", 0) != 0)
            return im_fail(im, SV_UNSUPPORTED, "storage_order 1 (column-major indices)");
        for (int i = 0; i < spatial; i++) {
            p.kernel[i] = (int)win.kernel[i];
            p.stride[i] = (int)win.stride[i];
            p.dilation[i] = (int)win.dilation[i];
            p.pad_begin[i] = (int)win.pad_begin[i];
            p.pad_end[i] = (int)win.pad_end[i];
        }
    }
    int64_t out[SV_MAX_RANK];
    sv_message msg;
    st = sv_pool_output_shape(&p, x->rank, x->dims, out, &msg);
    if (st != SV_OK)
        return im_fail(im, st, "%s", msg.text);
    const int want_indices = im_output_id(im, 1) >= 0;
    if (want_indices && p.kind != SV_POOL_MAX)
        return im_fail(im, SV_UNSUPPORTED, "a second output");
    if ((st = im_unused_outputs_from(im, 2)) != SV_OK)
        return st;
    int indices_id = -1;
    if (want_indices && (indices_id = im_new_value(im, x->rank, out)) < 0)
        return im_fail(im, SV_OUT_OF_MEMORY, "out of host memory");
    step *s = im_add_node_step(im, STEP_POOL, n->op_type, 1, x->rank, out);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.pool = p;
    int64_t window_size = 1;
    for (int i = 0; i < spatial; i++)
        window_size *= global ? x->dims[2 + i] : p.kernel[i];
    s->macs = hc_product(x->rank, out) * window_size;
    if (!want_indices)
        return im_fold_if_constant(im, s);
    if (x->constant)
        return im_fail(im, SV_UNSUPPORTED, "Indices of a constant input");
    s->indices = indices_id; /* the pool step writes the per-plane indices too */
    plan_value *iv = &im->pl->values[indices_id];
    iv->device = 1;
    iv->producer = im->pl->nsteps - 1;
    return add_flat_indices(im, x, indices_id, out, x->rank);
}

/* ---- Gemm and MatMul ---- */

/* broadcast: opsets before 7 asked for C's broadcasting explicitly */
static const char *const gemm_attributes[] = {"alpha",  "beta",   "broadcast",
                                              "transA", "transB", NULL};

static sv_status import_gemm(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    plan_value *a = NULL, *b = NULL;
    sv_status st = require_pair(im, &a, &b);
    if (st != SV_OK)
        return st;
    if (a->rank != 2 || b->rank != 2)
        return im_fail(im, SV_SHAPE_MISMATCH, "A and B must be matrices, have ranks %d and %d",
                       a->rank, b->rank);
    sv_gemm_params p = sv_gemm_params_default();
    p.alpha = attr_float(n, "alpha", 1.0f);
    p.beta = attr_float(n, "beta", 1.0f);
    p.trans_a = attr_int(n, "transA", 0) != 0;
    p.trans_b = attr_int(n, "transB", 0) != 0;
    plan_value *c = im_input(im, 2);
    int64_t out[2];
    sv_message msg;
    st = sv_gemm_output_shape(&p, a->dims, b->dims, c ? c->rank : 0, c ? c->dims : NULL, out, &msg);
    if (st != SV_OK)
        return im_fail(im, st, "%s", msg.text);
    step *s = im_add_node_step(im, STEP_GEMM, "Gemm", 3, 2, out);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.gemm = p;
    s->macs = out[0] * out[1] * (p.trans_a ? a->dims[0] : a->dims[1]);
    return im_fold_if_constant(im, s);
}

static sv_status import_matmul(importer *im) {
    plan_value *a = NULL, *b = NULL;
    sv_status st = require_pair(im, &a, &b);
    if (st != SV_OK)
        return st;
    int rank;
    int64_t out[SV_MAX_RANK];
    sv_message msg;
    if (a->rank < 1 || b->rank < 1)
        return im_fail(im, SV_SHAPE_MISMATCH, "MatMul of a scalar");
    st = sv_matmul_output_shape(a->rank, a->dims, b->rank, b->dims, &rank, out, &msg);
    if (st != SV_OK)
        return im_fail(im, st, "%s", msg.text);
    int64_t k = a->dims[a->rank - 1];
    step *s = im_add_node_step(im, STEP_MATMUL, "MatMul", 2, rank, out);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->macs = hc_product(rank, out) * k;
    return im_fold_if_constant(im, s);
}

/* ---- activations ---- */

static const char *const alpha_attributes[] = {"alpha", NULL};
static const char *const hard_sigmoid_attributes[] = {"alpha", "beta", NULL};
static const char *const clip_attributes[] = {"min", "max", NULL};

static sv_status import_activation(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    const char *op = n->op_type;
    sv_activation act = {SV_ACT_NONE, 0.0f, 0.0f};
    if (strcmp(op, "Relu") == 0) {
        act.kind = SV_ACT_RELU;
    } else if (strcmp(op, "LeakyRelu") == 0) {
        act.kind = SV_ACT_LEAKY_RELU;
        act.alpha = attr_float(n, "alpha", 0.01f);
    } else if (strcmp(op, "Sigmoid") == 0) {
        act.kind = SV_ACT_SIGMOID;
    } else if (strcmp(op, "Tanh") == 0) {
        act.kind = SV_ACT_TANH;
    } else if (strcmp(op, "Elu") == 0) {
        act.kind = SV_ACT_ELU;
        act.alpha = attr_float(n, "alpha", 1.0f);
    } else if (strcmp(op, "HardSigmoid") == 0) {
        act.kind = SV_ACT_HARD_SIGMOID;
        act.alpha = attr_float(n, "alpha", 0.2f);
        act.beta = attr_float(n, "beta", 0.5f);
    } else { /* Clip: bounds as attributes before opset 11, optional constant inputs after */
        act.kind = SV_ACT_CLIP;
        act.alpha = attr_float(n, "min", -FLT_MAX);
        act.beta = attr_float(n, "max", FLT_MAX);
        for (int k = 1; k <= 2; k++) {
            if (!im_input(im, k))
                continue;
            const hostconst *bound = NULL;
            sv_status st = im_require_const(im, k, &bound);
            if (st != SV_OK)
                return st;
            if (bound->count != 1)
                return im_fail(im, SV_INVALID_ARGUMENT, "%s must be a scalar",
                               k == 1 ? "min" : "max");
            *(k == 1 ? &act.alpha : &act.beta) = (float)hc_get(bound, 0);
        }
    }
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    if (act.kind == SV_ACT_CLIP && !(act.alpha <= act.beta))
        return im_fail(im, SV_INVALID_ARGUMENT, "min %g is greater than max %g", (double)act.alpha,
                       (double)act.beta);
    step *s = im_add_node_step(im, STEP_ACTIVATION, op, 1, x->rank, x->dims);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.activation = act;
    s->macs = hc_product(x->rank, x->dims);
    return im_fold_if_constant(im, s);
}

/* ---- arithmetic ---- */

/* Integer arithmetic on constants (shape computations): NumPy broadcasting, C semantics
 * except division, which floors like NumPy's integer division. */
static sv_status fold_integer_binary(importer *im, const hostconst *a, const hostconst *b,
                                     const char *op) {
    int rank;
    int64_t dims[SV_MAX_RANK];
    sv_message msg;
    const int64_t one = 1;
    sv_status st =
        sv_broadcast_shape(a->rank ? a->rank : 1, a->rank ? a->dims : &one, b->rank ? b->rank : 1,
                           b->rank ? b->dims : &one, &rank, dims, &msg);
    if (st != SV_OK)
        return im_fail(im, st, "%s", msg.text);
    if (a->rank == 0 && b->rank == 0)
        rank = 0;
    hostconst *c = NULL;
    if ((st = im_const_new(im, HC_I64, rank, dims, &c)) != SV_OK)
        return st;
    for (int64_t k = 0; k < c->count; k++) {
        /* index of k in each operand under broadcasting */
        int64_t ka = 0, kb = 0, rest = k, sa = 1, sb = 1;
        for (int ax = rank - 1; ax >= 0; ax--) {
            int64_t i = rest % dims[ax];
            rest /= dims[ax];
            int aa = ax - (rank - a->rank), bb = ax - (rank - b->rank);
            if (aa >= 0) {
                ka += (a->dims[aa] == 1 ? 0 : i) * sa;
                sa *= a->dims[aa];
            }
            if (bb >= 0) {
                kb += (b->dims[bb] == 1 ? 0 : i) * sb;
                sb *= b->dims[bb];
            }
        }
        int64_t x = hc_get_int(a, ka), y = hc_get_int(b, kb), r = 0;
        int overflow;
        switch (op[0]) {
        case 'A':
            overflow = y > 0 ? x > INT64_MAX - y : x < INT64_MIN - y;
            r = overflow ? 0 : x + y;
            break;
        case 'S':
            overflow = y < 0 ? x > INT64_MAX + y : x < INT64_MIN + y;
            r = overflow ? 0 : x - y;
            break;
        case 'M':
            overflow = x > 0 ? (y > 0 ? x > INT64_MAX / y : y < INT64_MIN / x)
                             : (y > 0 ? x < INT64_MIN / y : x != 0 && y < INT64_MAX / x);
            r = overflow ? 0 : x * y;
            break;
        default:
            if (y == 0) {
                hc_free(c);
                return im_fail(im, SV_INVALID_ARGUMENT, "integer division by zero");
            }
            overflow = x == INT64_MIN && y == -1;
            r = overflow ? 0 : x / y - ((x % y != 0) && ((x < 0) != (y < 0)));
        }
        if (overflow) {
            hc_free(c);
            return im_fail(im, SV_INVALID_ARGUMENT, "integer overflow: %lld %s %lld", (long long)x,
                           op, (long long)y);
        }
        c->i[k] = r;
    }
    return im_set_const(im, 0, c);
}

/* Before opset 7, Add, Sub, Mul and Div broadcast only when asked (broadcast = 1), aligning B
 * with A's dimensions from `axis` on (by default, A's last dimensions); PRelu took one slope per
 * channel as a vector. Either way B becomes a view with A's rank, which NumPy rules then
 * broadcast. */
static sv_status legacy_broadcast(importer *im, const plan_value *a, const plan_value *b,
                                  int *b_id) {
    const Onnx__NodeProto *n = im->node->proto;
    int64_t axis;
    if (strcmp(n->op_type, "PRelu") == 0) {
        if (b->rank != 1 || a->rank < 2 || b->dims[0] != a->dims[1] || b->dims[0] == 1)
            return SV_OK;
        axis = 1;
    } else {
        if (!attr_int(n, "broadcast", 0))
            return SV_OK;
        axis = attr_int(n, "axis", a->rank - b->rank);
    }
    if (axis < 0 || axis + b->rank > a->rank)
        return im_fail(im, SV_SHAPE_MISMATCH, "B of rank %d does not fit A of rank %d at axis %lld",
                       b->rank, a->rank, (long long)axis);
    int64_t dims[SV_MAX_RANK];
    for (int i = 0; i < a->rank; i++)
        dims[i] = i >= axis && i < axis + b->rank ? b->dims[i - axis] : 1;
    int id = im_new_value(im, a->rank, dims);
    if (id < 0)
        return im_fail(im, SV_OUT_OF_MEMORY, "too many intermediate values");
    sv_status st = im_view(im, *b_id, id, a->rank, dims);
    if (st == SV_OK)
        *b_id = id;
    return st;
}

static sv_status import_binary(importer *im) {
    const char *op = im->node->proto->op_type;
    plan_value *a = NULL, *b = NULL;
    sv_status st = require_pair(im, &a, &b);
    if (st != SV_OK)
        return st;
    int b_id = im_input_id(im, 1);
    if (im->g->opset < 7 && (st = legacy_broadcast(im, a, b, &b_id)) != SV_OK)
        return st;
    b = &im->pl->values[b_id];
    if (a->constant && b->constant && (a->constant->type == HC_I64 || b->constant->type == HC_I64))
        return fold_integer_binary(im, a->constant, b->constant, op);
    sv_binary_op kind = strcmp(op, "Add") == 0   ? SV_BINARY_ADD
                        : strcmp(op, "Sub") == 0 ? SV_BINARY_SUB
                        : strcmp(op, "Mul") == 0 ? SV_BINARY_MUL
                        : strcmp(op, "Div") == 0 ? SV_BINARY_DIV
                                                 : SV_BINARY_PRELU;
    const int64_t one = 1;
    int rank;
    int64_t out[SV_MAX_RANK];
    sv_message msg;
    st = sv_broadcast_shape(a->rank ? a->rank : 1, a->rank ? a->dims : &one, b->rank ? b->rank : 1,
                            b->rank ? b->dims : &one, &rank, out, &msg);
    if (st != SV_OK)
        return im_fail(im, st, "%s", msg.text);
    if (kind == SV_BINARY_PRELU &&
        (rank != a->rank || hc_product(rank, out) != hc_product(a->rank, a->dims)))
        return im_fail(im, SV_SHAPE_MISMATCH, "the slope must broadcast to the input's shape");
    const int inputs[2] = {im_input_id(im, 0), b_id};
    step *s = im_add_step(im, STEP_BINARY, op, inputs, 2, im_output_id(im, 0), rank, out);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.binary = kind;
    s->macs = hc_product(rank, out);
    return im_fold_if_constant(im, s);
}

/* ---- normalisation ---- */

static const char *const legacy_broadcast_attributes[] = {"axis", "broadcast", NULL};
static const char *const batch_norm_attributes[] = {"epsilon", "is_test",       "momentum",
                                                    "spatial", "training_mode", NULL};
static const char *const lrn_attributes[] = {"alpha", "beta", "bias", "size", NULL};

static sv_status import_batch_norm(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    if (attr_int(n, "training_mode", 0) != 0 ||
        (attr_find(n, "is_test") && !attr_int(n, "is_test", 0)))
        return im_fail(im, SV_UNSUPPORTED, "training mode (only inference is supported)");
    if (attr_int(n, "spatial", 1) != 1)
        return im_fail(im, SV_UNSUPPORTED, "spatial 0 (per-activation statistics)");
    sv_status st = im_unused_outputs_from(im, 1);
    if (st != SV_OK)
        return st;
    plan_value *x = NULL, *param = NULL;
    if ((st = im_require(im, 0, &x)) != SV_OK)
        return st;
    if (x->rank < 2)
        return im_fail(im, SV_SHAPE_MISMATCH, "input of rank %d has no channel axis", x->rank);
    for (int k = 1; k <= 4; k++) {
        if ((st = im_require(im, k, &param)) != SV_OK)
            return st;
        if (param->rank != 1 || param->dims[0] != x->dims[1])
            return im_fail(im, SV_SHAPE_MISMATCH,
                           "input %d must have %lld elements (one per "
                           "channel)",
                           k + 1, (long long)x->dims[1]);
    }
    step *s = im_add_node_step(im, STEP_BATCH_NORM, "BatchNormalization", 5, x->rank, x->dims);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.batch_norm.epsilon = attr_float(n, "epsilon", 1e-5f);
    s->p.batch_norm.activation.kind = SV_ACT_NONE;
    s->macs = hc_product(x->rank, x->dims);
    return im_fold_if_constant(im, s);
}

static sv_status import_lrn(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    const Onnx__AttributeProto *size = attr_find(n, "size");
    if (!size || !size->has_i || size->i < 1 || size->i > INT32_MAX)
        return im_fail(im, SV_INVALID_ARGUMENT, "size must be given and >= 1");
    step *s = im_add_node_step(im, STEP_LRN, "LRN", 1, x->rank, x->dims);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.lrn.size = (int)size->i;
    s->p.lrn.alpha = attr_float(n, "alpha", 1e-4f);
    s->p.lrn.beta = attr_float(n, "beta", 0.75f);
    s->p.lrn.bias = attr_float(n, "bias", 1.0f);
    s->macs = hc_product(x->rank, x->dims) * size->i;
    return im_fold_if_constant(im, s);
}

/* ---- Softmax / LogSoftmax ---- */

static const char *const axis_attributes[] = {"axis", NULL};

static sv_status import_softmax(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    const int log = strcmp(n->op_type, "LogSoftmax") == 0;
    const int rank = x->rank;
    int64_t in_dims[SV_MAX_RANK];
    memcpy(in_dims, x->dims, sizeof in_dims);
    if (im->g->opset >= 13) {
        int axis = im_axis(im, attr_int(n, "axis", -1), rank, "axis");
        if (axis < 0)
            return SV_INVALID_ARGUMENT;
        step *s = im_add_node_step(im, STEP_SOFTMAX, n->op_type, 1, rank, in_dims);
        if (!s)
            return SV_OUT_OF_MEMORY;
        s->p.softmax.axis = axis;
        s->p.softmax.log = log;
        s->macs = hc_product(rank, in_dims);
        return im_fold_if_constant(im, s);
    }
    /* before opset 13 the input is coerced to 2-D at `axis` (default 1), the softmax taken over
     * the second dimension: a view, a softmax over axis 1, a view back */
    int axis = im_axis(im, attr_int(n, "axis", 1), rank, "axis");
    if (axis < 0)
        return SV_INVALID_ARGUMENT;
    const int64_t flat[2] = {hc_product(axis, in_dims), hc_product(rank - axis, in_dims + axis)};
    int in2 = im_new_value(im, 2, flat), out2 = im_new_value(im, 2, flat);
    if (in2 < 0 || out2 < 0)
        return im_fail(im, SV_OUT_OF_MEMORY, "too many intermediate values");
    if ((st = im_view(im, im_input_id(im, 0), in2, 2, flat)) != SV_OK)
        return st;
    step *s = im_add_step(im, STEP_SOFTMAX, n->op_type, &in2, 1, out2, 2, flat);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.softmax.axis = 1;
    s->p.softmax.log = log;
    s->macs = flat[0] * flat[1];
    if ((st = im_fold_if_constant(im, s)) != SV_OK)
        return st;
    return im_view(im, out2, im_output_id(im, 0), rank, in_dims);
}

const import_entry import_nn_table[] = {
    {"Conv", import_conv, conv_attributes},
    {"ConvTranspose", import_conv_transpose, conv_transpose_attributes},
    {"MaxPool", import_pool, max_pool_attributes},
    {"AveragePool", import_pool, average_pool_attributes},
    {"LpPool", import_pool, lp_pool_attributes},
    {"GlobalMaxPool", import_pool, no_attributes},
    {"GlobalAveragePool", import_pool, no_attributes},
    {"GlobalLpPool", import_pool, global_lp_pool_attributes},
    {"Gemm", import_gemm, gemm_attributes},
    {"MatMul", import_matmul, no_attributes},
    {"Relu", import_activation, no_attributes},
    {"LeakyRelu", import_activation, alpha_attributes},
    {"Sigmoid", import_activation, no_attributes},
    {"Tanh", import_activation, no_attributes},
    {"Elu", import_activation, alpha_attributes},
    {"HardSigmoid", import_activation, hard_sigmoid_attributes},
    {"Clip", import_activation, clip_attributes},
    {"Add", import_binary, legacy_broadcast_attributes},
    {"Sub", import_binary, legacy_broadcast_attributes},
    {"Mul", import_binary, legacy_broadcast_attributes},
    {"Div", import_binary, legacy_broadcast_attributes},
    {"PRelu", import_binary, no_attributes},
    {"BatchNormalization", import_batch_norm, batch_norm_attributes},
    {"LRN", import_lrn, lrn_attributes},
    {"Softmax", import_softmax, axis_attributes},
    {"LogSoftmax", import_softmax, axis_attributes},
    {NULL, NULL, NULL},
};
