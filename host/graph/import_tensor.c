/* ONNX operators that move or describe data: views (Flatten, Reshape, Squeeze, Unsqueeze,
 * Identity, Dropout), Concat, Pad, Transpose, Resize/Upsample, and the shape arithmetic that
 * exporters emit (Constant, Shape, Gather, Slice, Cast, ConstantOfShape), which is folded on the
 * host. */
#include "graph/import.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_element(hostconst *dst, int64_t kd, const hostconst *src, int64_t ks) {
    if (dst->type == HC_F32)
        dst->f[kd] = (float)hc_get(src, ks);
    else
        dst->i[kd] = hc_get_int(src, ks);
}

/* Reads a 1-D integer constant into out (at most max values); returns the count or -1. */
static int const_ints(const hostconst *c, int64_t *out, int max) {
    if (c->rank > 1 || c->count > max)
        return -1;
    for (int64_t k = 0; k < c->count; k++)
        out[k] = hc_get_int(c, k);
    return (int)c->count;
}

/* ---- views ---- */

static const char *const no_attributes[] = {NULL};
static const char *const axis_attributes[] = {"axis", NULL};
static const char *const axes_attributes[] = {"axes", NULL};
static const char *const reshape_attributes[] = {"allowzero", "shape", NULL};
static const char *const dropout_attributes[] = {"ratio", "seed", "is_test", NULL};

static sv_status import_identity(importer *im) {
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    const char *op = im->node->proto->op_type;
    if (strcmp(op, "Dropout") == 0) {
        /* inference: the identity, and a mask (if asked for) of all ones */
        if ((st = im_unused_outputs_from(im, 2)) != SV_OK)
            return st;
        if (attr_find(im->node->proto, "is_test") && !attr_int(im->node->proto, "is_test", 0))
            return im_fail(im, SV_UNSUPPORTED, "training mode (is_test 0)");
        if (im_input(im, 2)) {
            const hostconst *training = NULL;
            if ((st = im_require_const(im, 2, &training)) != SV_OK)
                return st;
            if (training->count != 1 || hc_get(training, 0) != 0.0)
                return im_fail(im, SV_UNSUPPORTED, "training_mode true");
        }
    }
    int64_t dims[SV_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    if (im_output_id(im, 1) >= 0) {
        hostconst *mask = NULL;
        if ((st = im_const_new(im, HC_I64, x->rank, dims, &mask)) != SV_OK)
            return st;
        for (int64_t k = 0; k < mask->count; k++)
            mask->i[k] = 1;
        if ((st = im_set_const(im, 1, mask)) != SV_OK)
            return st;
    }
    return im_view(im, im_input_id(im, 0), im_output_id(im, 0), x->rank, dims);
}

static sv_status import_flatten(importer *im) {
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    int64_t axis = attr_int(im->node->proto, "axis", 1);
    if (axis < -x->rank || axis > x->rank)
        return im_fail(im, SV_INVALID_ARGUMENT, "axis %lld out of range for rank %d",
                       (long long)axis, x->rank);
    if (axis < 0)
        axis += x->rank;
    const int64_t dims[2] = {hc_product((int)axis, x->dims),
                             hc_product(x->rank - (int)axis, x->dims + axis)};
    return im_view(im, im_input_id(im, 0), im_output_id(im, 0), 2, dims);
}

static sv_status import_reshape(importer *im) {
    plan_value *x = NULL;
    const hostconst *shape = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st == SV_OK && im->g->opset >= 5)
        st = im_require_const(im, 1, &shape);
    if (st != SV_OK)
        return st;
    int64_t dims[SV_MAX_RANK];
    /* before opset 5 the target shape was an attribute */
    int rank = shape ? const_ints(shape, dims, SV_MAX_RANK)
                     : attr_ints(im->node->proto, "shape", dims, SV_MAX_RANK);
    if (rank < 0)
        return im_fail(im, SV_UNSUPPORTED, "target shape of more than %d dimensions", SV_MAX_RANK);
    const int allow_zero = attr_int(im->node->proto, "allowzero", 0) != 0;
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 0 && !allow_zero) {
            if (i >= x->rank)
                return im_fail(im, SV_INVALID_ARGUMENT,
                               "dimension %d is 0 (copy) but the input "
                               "has rank %d",
                               i, x->rank);
            dims[i] = x->dims[i];
        }
        if (dims[i] == -1) {
            if (infer >= 0)
                return im_fail(im, SV_INVALID_ARGUMENT, "more than one -1 in the target shape");
            infer = i;
            continue;
        }
        if (dims[i] < 1)
            return im_fail(im, SV_INVALID_ARGUMENT, "target dimension %d is %lld", i,
                           (long long)dims[i]);
        if (known > INT64_MAX / dims[i])
            return im_fail(im, SV_INVALID_ARGUMENT, "target shape overflows");
        known *= dims[i];
    }
    const int64_t total = hc_product(x->rank, x->dims);
    if (infer >= 0) {
        if (total % known != 0)
            return im_fail(im, SV_SHAPE_MISMATCH,
                           "cannot infer -1: %lld elements are not a "
                           "multiple of %lld",
                           (long long)total, (long long)known);
        dims[infer] = total / known;
    }
    return im_view(im, im_input_id(im, 0), im_output_id(im, 0), rank, dims);
}

/* Squeeze and Unsqueeze: the input, and the axes from the attribute (opset < 13) or the optional
 * second input. */
static sv_status read_axes(importer *im, plan_value **x, int64_t *axes, int *count) {
    sv_status st = im_require(im, 0, x);
    if (st != SV_OK)
        return st;
    if (im->g->opset < 13) {
        *count = attr_ints(im->node->proto, "axes", axes, SV_MAX_RANK + 1);
        if (*count < 0)
            return im_fail(im, SV_UNSUPPORTED, "too many axes");
        return SV_OK;
    }
    *count = 0;
    if (!im_input(im, 1))
        return SV_OK;
    const hostconst *c = NULL;
    if ((st = im_require_const(im, 1, &c)) != SV_OK)
        return st;
    *count = const_ints(c, axes, SV_MAX_RANK + 1);
    return *count < 0 ? im_fail(im, SV_UNSUPPORTED, "too many axes") : SV_OK;
}

static sv_status import_squeeze(importer *im) {
    plan_value *x = NULL;
    int64_t axes[SV_MAX_RANK + 1];
    int count;
    sv_status st = read_axes(im, &x, axes, &count);
    if (st != SV_OK)
        return st;
    int drop[SV_MAX_RANK] = {0};
    for (int k = 0; k < count; k++) {
        int a = im_axis(im, axes[k], x->rank, "axis");
        if (a < 0)
            return SV_INVALID_ARGUMENT;
        if (x->dims[a] != 1)
            return im_fail(im, SV_INVALID_ARGUMENT, "axis %d has size %lld, not 1", a,
                           (long long)x->dims[a]);
        drop[a] = 1;
    }
    int64_t dims[SV_MAX_RANK];
    int rank = 0;
    for (int i = 0; i < x->rank; i++)
        if (!(count ? drop[i] : x->dims[i] == 1))
            dims[rank++] = x->dims[i];
    return im_view(im, im_input_id(im, 0), im_output_id(im, 0), rank, dims);
}

static sv_status import_unsqueeze(importer *im) {
    plan_value *x = NULL;
    int64_t axes[SV_MAX_RANK + 1];
    int count;
    sv_status st = read_axes(im, &x, axes, &count);
    if (st != SV_OK)
        return st;
    const int rank = x->rank + count;
    if (count == 0 || rank > SV_MAX_RANK)
        return im_fail(im, SV_UNSUPPORTED, "unsqueezing rank %d by %d axes (at most rank %d)",
                       x->rank, count, SV_MAX_RANK);
    int inserted[SV_MAX_RANK] = {0};
    for (int k = 0; k < count; k++) {
        int a = im_axis(im, axes[k], rank, "axis");
        if (a < 0)
            return SV_INVALID_ARGUMENT;
        if (inserted[a])
            return im_fail(im, SV_INVALID_ARGUMENT, "axis %d given twice", a);
        inserted[a] = 1;
    }
    int64_t dims[SV_MAX_RANK];
    for (int i = 0, j = 0; i < rank; i++)
        dims[i] = inserted[i] ? 1 : x->dims[j++];
    return im_view(im, im_input_id(im, 0), im_output_id(im, 0), rank, dims);
}

/* ---- Concat ---- */

static sv_status import_concat(importer *im) {
    const int n = im_input_count(im);
    if (n < 1)
        return im_fail(im, SV_INVALID_ARGUMENT, "no inputs");
    plan_value *first = NULL;
    sv_status st = im_require(im, 0, &first);
    if (st != SV_OK)
        return st;
    const int rank = first->rank ? first->rank : 1;
    /* axis was optional, 1 by default, before opset 4 */
    int axis =
        im_axis(im, attr_int(im->node->proto, "axis", im->g->opset < 4 ? 1 : 0), rank, "axis");
    if (axis < 0)
        return SV_INVALID_ARGUMENT;
    int all_const = 1, any_int = 0;
    int64_t dims[SV_MAX_RANK];
    memcpy(dims, first->dims, sizeof dims);
    dims[axis] = 0;
    for (int k = 0; k < n; k++) {
        plan_value *v = NULL;
        if ((st = im_require(im, k, &v)) != SV_OK)
            return st;
        if (v->rank != first->rank)
            return im_fail(im, SV_SHAPE_MISMATCH, "input %d has rank %d, input 1 rank %d", k + 1,
                           v->rank, first->rank);
        for (int i = 0; i < v->rank; i++)
            if (i != axis && v->dims[i] != first->dims[i])
                return im_fail(im, SV_SHAPE_MISMATCH,
                               "input %d differs from input 1 in "
                               "dimension %d",
                               k + 1, i);
        dims[axis] += v->rank ? v->dims[axis] : 1;
        all_const &= v->constant != NULL;
        any_int |= v->constant && v->constant->type == HC_I64;
    }
    if (all_const && any_int) { /* shape arithmetic: concatenate on the host */
        hostconst *c = NULL;
        if ((st = im_const_new(im, HC_I64, rank, dims, &c)) != SV_OK)
            return st;
        const int64_t outer = hc_product(axis, dims),
                      inner = hc_product(rank - axis - 1, dims + axis + 1);
        int64_t offset = 0;
        for (int k = 0; k < n; k++) {
            const hostconst *src = im_input(im, k)->constant;
            const int64_t len = src->rank ? src->dims[axis] : 1;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t j = 0; j < len * inner; j++)
                    copy_element(c, (o * dims[axis] + offset) * inner + j, src,
                                 o * len * inner + j);
            offset += len;
        }
        return im_set_const(im, 0, c);
    }
    step *s = im_add_node_step(im, STEP_CONCAT, "Concat", n, rank, dims);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.axis = axis;
    s->macs = hc_product(rank, dims);
    return im_fold_if_constant(im, s);
}

/* ---- Pad ---- */

static const char *const pad_attributes[] = {"mode", "pads", "value", NULL};

static sv_status import_pad(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    sv_pad_params p;
    memset(&p, 0, sizeof p);
    static const attr_choice modes[] = {{"constant", SV_PAD_CONSTANT},
                                        {"reflect", SV_PAD_REFLECT},
                                        {"edge", SV_PAD_REPLICATE},
                                        {"wrap", SV_PAD_CIRCULAR},
                                        {NULL, 0}};
    char mode[32];
    const int chosen = attr_choose(n, "mode", "constant", modes, mode, sizeof mode);
    if (chosen < 0)
        return im_fail(im, SV_UNSUPPORTED, "mode '%s'", mode);
    p.mode = (sv_pad_mode)chosen;
    int64_t pads[2 * SV_MAX_RANK];
    int count;
    int64_t axes[SV_MAX_RANK];
    int naxes = x->rank;
    for (int i = 0; i < x->rank; i++)
        axes[i] = i;
    if (im->g->opset < 11) {
        count = attr_ints(n, "pads", pads, 2 * SV_MAX_RANK);
        p.value = attr_float(n, "value", 0.0f);
    } else {
        const hostconst *c = NULL;
        if ((st = im_require_const(im, 1, &c)) != SV_OK)
            return st;
        count = const_ints(c, pads, 2 * SV_MAX_RANK);
        if (im_input(im, 2)) {
            if ((st = im_require_const(im, 2, &c)) != SV_OK)
                return st;
            if (c->count != 1)
                return im_fail(im, SV_INVALID_ARGUMENT, "constant_value must be a scalar");
            p.value = (float)hc_get(c, 0);
        }
        if (im_input(im, 3)) {
            if ((st = im_require_const(im, 3, &c)) != SV_OK)
                return st;
            naxes = const_ints(c, axes, SV_MAX_RANK);
            if (naxes < 0)
                return im_fail(im, SV_INVALID_ARGUMENT, "too many axes");
        }
    }
    if (count != 2 * naxes)
        return im_fail(im, SV_INVALID_ARGUMENT, "pads has %d values for %d axes", count, naxes);
    for (int k = 0; k < naxes; k++) {
        int a = im_axis(im, axes[k], x->rank, "axis");
        if (a < 0)
            return SV_INVALID_ARGUMENT;
        p.pad_begin[a] = pads[k];
        p.pad_end[a] = pads[naxes + k];
    }
    int64_t out[SV_MAX_RANK];
    sv_message msg;
    if ((st = sv_pad_output_shape(&p, x->rank, x->dims, out, &msg)) != SV_OK)
        return im_fail(im, st, "%s", msg.text);
    step *s = im_add_node_step(im, STEP_PAD, "Pad", 1, x->rank, out);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.pad = p;
    s->macs = hc_product(x->rank, out);
    return im_fold_if_constant(im, s);
}

/* ---- Transpose ---- */

static const char *const perm_attributes[] = {"perm", NULL};

static sv_status import_transpose(importer *im) {
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    int64_t perm[SV_MAX_RANK];
    int count = attr_ints(im->node->proto, "perm", perm, SV_MAX_RANK);
    if (count == 0) /* default: reverse the axes */
        for (int i = 0; i < x->rank; i++)
            perm[i] = x->rank - 1 - i;
    else if (count != x->rank)
        return im_fail(im, SV_INVALID_ARGUMENT, "perm has %d entries for rank %d", count, x->rank);
    int seen[SV_MAX_RANK] = {0};
    int64_t dims[SV_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        if (perm[i] < 0 || perm[i] >= x->rank || seen[perm[i]]++)
            return im_fail(im, SV_INVALID_ARGUMENT, "perm is not a permutation of 0..%d",
                           x->rank - 1);
        dims[i] = x->dims[perm[i]];
    }
    if (x->constant && x->constant->type == HC_I64) {
        hostconst *c = NULL;
        if ((st = im_const_new(im, HC_I64, x->rank, dims, &c)) != SV_OK)
            return st;
        for (int64_t k = 0; k < c->count; k++) {
            int64_t rest = k, src = 0;
            int64_t index[SV_MAX_RANK];
            for (int i = x->rank - 1; i >= 0; i--) {
                index[i] = rest % dims[i];
                rest /= dims[i];
            }
            for (int a = 0; a < x->rank; a++) { /* output axis i shows input axis perm[i] */
                int64_t ia = 0;
                for (int i = 0; i < x->rank; i++)
                    if (perm[i] == a)
                        ia = index[i];
                src = src * x->dims[a] + ia;
            }
            c->i[k] = x->constant->i[src];
        }
        return im_set_const(im, 0, c);
    }
    if (x->rank < 1)
        return im_view(im, im_input_id(im, 0), im_output_id(im, 0), 0, dims);
    step *s = im_add_node_step(im, STEP_TRANSPOSE, "Transpose", 1, x->rank, dims);
    if (!s)
        return SV_OUT_OF_MEMORY;
    for (int i = 0; i < x->rank; i++)
        s->p.perm[i] = (int)perm[i];
    s->macs = hc_product(x->rank, dims);
    return im_fold_if_constant(im, s);
}

/* ---- Resize and Upsample ---- */

static const char *const resize_attributes[] = {"antialias",
                                                "axes",
                                                "coordinate_transformation_mode",
                                                "cubic_coeff_a",
                                                "exclude_outside",
                                                "extrapolation_value",
                                                "keep_aspect_ratio_policy",
                                                "mode",
                                                "nearest_mode",
                                                NULL};
static const char *const upsample_attributes[] = {"mode", "scales", NULL};

static sv_status resize_step(importer *im, const plan_value *x, sv_resize_params *p,
                             const int64_t *out) {
    step *s = im_add_node_step(im, STEP_RESIZE, im->node->proto->op_type, 1, x->rank, out);
    if (!s)
        return SV_OUT_OF_MEMORY;
    s->p.resize = *p;
    s->macs = hc_product(x->rank, out);
    return im_fold_if_constant(im, s);
}

/* Resize and Upsample: the input, and parameters holding the mode attribute, all else zero. */
static sv_status read_resize_input(importer *im, plan_value **x, sv_resize_params *p) {
    sv_status st = im_require(im, 0, x);
    if (st != SV_OK)
        return st;
    memset(p, 0, sizeof *p);
    static const attr_choice modes[] = {{"nearest", SV_RESIZE_NEAREST},
                                        {"linear", SV_RESIZE_LINEAR},
                                        {"bilinear", SV_RESIZE_LINEAR},
                                        {NULL, 0}};
    char mode[64];
    const int chosen = attr_choose(im->node->proto, "mode", "nearest", modes, mode, sizeof mode);
    if (chosen < 0)
        return im_fail(im, SV_UNSUPPORTED, "mode '%s' (nearest and linear are supported)", mode);
    p->mode = (sv_resize_mode)chosen;
    return SV_OK;
}

/* Output size from scales: floor(in * scale), as ONNX prescribes. */
static sv_status sizes_from_scales(importer *im, const plan_value *x, sv_resize_params *p,
                                   int64_t *out) {
    for (int i = 0; i < x->rank; i++) {
        if (!(p->scales[i] > 0.0f) || !isfinite(p->scales[i]))
            return im_fail(im, SV_INVALID_ARGUMENT, "scale %g of axis %d must be positive",
                           (double)p->scales[i], i);
        const double size = floor((double)x->dims[i] * (double)p->scales[i]);
        if (!(size >= 1.0 && size <= INT32_MAX)) /* checked before converting */
            return im_fail(im, SV_INVALID_ARGUMENT, "axis %d would resize to %.17g", i, size);
        out[i] = (int64_t)size;
    }
    return SV_OK;
}

static sv_status import_upsample(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    plan_value *x = NULL;
    sv_resize_params p;
    sv_status st = read_resize_input(im, &x, &p);
    if (st != SV_OK)
        return st;
    /* Upsample maps output o to input o / scale and takes the floor for nearest */
    p.coordinates = SV_COORD_ASYMMETRIC;
    p.rounding = SV_NEAREST_FLOOR;
    int count;
    if (im->g->opset < 9) {
        count = attr_floats(n, "scales", p.scales, SV_MAX_RANK);
    } else {
        const hostconst *c = NULL;
        if ((st = im_require_const(im, 1, &c)) != SV_OK)
            return st;
        count = c->count <= SV_MAX_RANK ? (int)c->count : -1;
        for (int i = 0; i < count; i++)
            p.scales[i] = (float)hc_get(c, i);
    }
    if (count != x->rank)
        return im_fail(im, SV_INVALID_ARGUMENT, "scales has %d values for rank %d", count, x->rank);
    int64_t out[SV_MAX_RANK];
    if ((st = sizes_from_scales(im, x, &p, out)) != SV_OK)
        return st;
    return resize_step(im, x, &p, out);
}

static sv_status import_resize(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    plan_value *x = NULL;
    sv_resize_params p;
    sv_status st = read_resize_input(im, &x, &p);
    if (st != SV_OK)
        return st;
    char text[64];
    if (attr_int(n, "antialias", 0) != 0 || attr_int(n, "exclude_outside", 0) != 0)
        return im_fail(im, SV_UNSUPPORTED, "antialias and exclude_outside");
    if (strcmp(attr_string(n, "keep_aspect_ratio_policy", "stretch", text, sizeof text),
               "stretch") != 0)
        return im_fail(im, SV_UNSUPPORTED, "keep_aspect_ratio_policy '%s'", text);
    if (im->g->opset < 11) { /* Resize-10 behaves like Upsample */
        p.coordinates = SV_COORD_ASYMMETRIC;
        p.rounding = SV_NEAREST_FLOOR;
    } else {
        static const attr_choice coordinates[] = {
            {"half_pixel", SV_COORD_HALF_PIXEL},
            {"asymmetric", SV_COORD_ASYMMETRIC},
            {"align_corners", SV_COORD_ALIGN_CORNERS},
            {"pytorch_half_pixel", SV_COORD_PYTORCH_HALF_PIXEL},
            {NULL, 0}};
        static const attr_choice roundings[] = {
            {"round_prefer_floor", SV_NEAREST_ROUND_PREFER_FLOOR},
            {"round_prefer_ceil", SV_NEAREST_ROUND_PREFER_CEIL},
            {"floor", SV_NEAREST_FLOOR},
            {"ceil", SV_NEAREST_CEIL},
            {NULL, 0}};
        int chosen = attr_choose(n, "coordinate_transformation_mode", "half_pixel", coordinates,
                                 text, sizeof text);
        if (chosen < 0)
            return im_fail(im, SV_UNSUPPORTED, "coordinate_transformation_mode '%s'", text);
        p.coordinates = (sv_resize_coordinates)chosen;
        chosen = attr_choose(n, "nearest_mode", "round_prefer_floor", roundings, text, sizeof text);
        if (chosen < 0)
            return im_fail(im, SV_UNSUPPORTED, "nearest_mode '%s'", text);
        p.rounding = (sv_nearest_rounding)chosen;
    }
    /* axes (opset 18): which axes scales/sizes speak of; the others keep their size */
    int64_t axes[SV_MAX_RANK];
    int naxes = attr_ints(n, "axes", axes, SV_MAX_RANK);
    if (naxes < 0)
        return im_fail(im, SV_INVALID_ARGUMENT, "too many axes");
    if (naxes == 0) {
        naxes = x->rank;
        for (int i = 0; i < x->rank; i++)
            axes[i] = i;
    }
    for (int k = 0; k < naxes; k++)
        if (im_axis(im, axes[k], x->rank, "axis") < 0)
            return SV_INVALID_ARGUMENT;
    for (int i = 0; i < x->rank; i++)
        p.scales[i] = 1.0f;
    int64_t out[SV_MAX_RANK];
    memcpy(out, x->dims, sizeof out);
    const int scales_input = im->g->opset < 11 ? 1 : 2, sizes_input = 3;
    const hostconst *c = NULL;
    if (im_input(im, sizes_input)) {
        if ((st = im_require_const(im, sizes_input, &c)) != SV_OK)
            return st;
    }
    if (c && c->count > 0) {
        if (c->count != naxes)
            return im_fail(im, SV_INVALID_ARGUMENT, "sizes has %lld values for %d axes",
                           (long long)c->count, naxes);
        for (int k = 0; k < naxes; k++) {
            int a = (int)(axes[k] < 0 ? axes[k] + x->rank : axes[k]);
            out[a] = hc_get_int(c, k);
            if (out[a] < 1 || out[a] > INT32_MAX)
                return im_fail(im, SV_INVALID_ARGUMENT, "size %lld of axis %d", (long long)out[a],
                               a);
            p.scales[a] = 0.0f; /* derived from the sizes by the op */
        }
        return resize_step(im, x, &p, out);
    }
    if ((st = im_require_const(im, scales_input, &c)) != SV_OK)
        return st;
    if (c->count != naxes)
        return im_fail(im, SV_INVALID_ARGUMENT, "scales has %lld values for %d axes",
                       (long long)c->count, naxes);
    for (int k = 0; k < naxes; k++)
        p.scales[axes[k] < 0 ? axes[k] + x->rank : axes[k]] = (float)hc_get(c, k);
    if ((st = sizes_from_scales(im, x, &p, out)) != SV_OK)
        return st;
    return resize_step(im, x, &p, out);
}

/* ---- shape arithmetic, folded on the host ---- */

static const char *const constant_attributes[] = {"value",     "value_float", "value_floats",
                                                  "value_int", "value_ints",  NULL};
static const char *const shape_attributes[] = {"start", "end", NULL};
static const char *const cast_attributes[] = {"to", "saturate", NULL};
static const char *const constant_of_shape_attributes[] = {"value", NULL};
static const char *const slice_attributes[] = {"starts", "ends", "axes", NULL};

static sv_status import_constant(importer *im) {
    const Onnx__NodeProto *n = im->node->proto;
    const Onnx__AttributeProto *a;
    hostconst *c = NULL;
    if ((a = attr_find(n, "value")) && a->t) {
        sv_status st = graph_tensor_to_const(a->t, NULL, &c, im->err);
        if (st != SV_OK)
            return im_fail(im, st, "%s", im->err->text);
        return im_set_const(im, 0, c);
    }
    if ((a = attr_find(n, "value_float")) && a->has_f) {
        if ((c = hc_new(HC_F32, 0, NULL)))
            c->f[0] = a->f;
    } else if ((a = attr_find(n, "value_int")) && a->has_i) {
        if ((c = hc_new(HC_I64, 0, NULL)))
            c->i[0] = a->i;
    } else if ((a = attr_find(n, "value_floats"))) {
        int64_t len = (int64_t)a->n_floats;
        if ((c = hc_new(HC_F32, 1, &len)))
            for (int64_t k = 0; k < len; k++)
                c->f[k] = a->floats[k];
    } else if ((a = attr_find(n, "value_ints"))) {
        int64_t len = (int64_t)a->n_ints;
        if ((c = hc_new(HC_I64, 1, &len)))
            for (int64_t k = 0; k < len; k++)
                c->i[k] = a->ints[k];
    } else {
        return im_fail(im, SV_UNSUPPORTED, "no supported value attribute");
    }
    return im_set_const(im, 0, c);
}

static sv_status import_shape(importer *im) {
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    int64_t start = attr_int(im->node->proto, "start", 0),
            end = attr_int(im->node->proto, "end", x->rank);
    if (start < 0)
        start += x->rank;
    if (end < 0)
        end += x->rank;
    start = start < 0 ? 0 : start > x->rank ? x->rank : start;
    end = end < start ? start : end > x->rank ? x->rank : end;
    const int64_t len = end - start;
    hostconst *c = hc_new(HC_I64, 1, &len);
    if (c)
        for (int64_t k = 0; k < len; k++)
            c->i[k] = x->dims[start + k];
    return im_set_const(im, 0, c);
}

static sv_status import_gather(importer *im) {
    const hostconst *data = NULL, *indices = NULL;
    sv_status st = im_require_const(im, 0, &data);
    if (st == SV_OK)
        st = im_require_const(im, 1, &indices);
    if (st != SV_OK)
        return st;
    const int drank = data->rank ? data->rank : 1;
    int axis = im_axis(im, attr_int(im->node->proto, "axis", 0), drank, "axis");
    if (axis < 0)
        return SV_INVALID_ARGUMENT;
    const int rank = drank - 1 + indices->rank;
    if (rank > SV_MAX_RANK)
        return im_fail(im, SV_UNSUPPORTED, "a result of rank %d", rank);
    int64_t ddims[SV_MAX_RANK], dims[SV_MAX_RANK];
    memcpy(ddims, data->dims, sizeof ddims);
    if (!data->rank)
        ddims[0] = 1;
    int r = 0;
    for (int i = 0; i < axis; i++)
        dims[r++] = ddims[i];
    for (int i = 0; i < indices->rank; i++)
        dims[r++] = indices->dims[i];
    for (int i = axis + 1; i < drank; i++)
        dims[r++] = ddims[i];
    hostconst *c = NULL;
    if ((st = im_const_new(im, data->type, rank, dims, &c)) != SV_OK)
        return st;
    const int64_t outer = hc_product(axis, ddims),
                  inner = hc_product(drank - axis - 1, ddims + axis + 1);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < indices->count; k++) {
            int64_t idx = hc_get_int(indices, k);
            if (idx < 0)
                idx += ddims[axis];
            if (idx < 0 || idx >= ddims[axis]) {
                hc_free(c);
                return im_fail(im, SV_INVALID_ARGUMENT, "index %lld out of range for size %lld",
                               (long long)hc_get_int(indices, k), (long long)ddims[axis]);
            }
            for (int64_t j = 0; j < inner; j++)
                copy_element(c, (o * indices->count + k) * inner + j, data,
                             (o * ddims[axis] + idx) * inner + j);
        }
    return im_set_const(im, 0, c);
}

static sv_status import_slice(importer *im) {
    const hostconst *data = NULL;
    sv_status st = im_require_const(im, 0, &data);
    if (st != SV_OK)
        return st;
    const int rank = data->rank;
    int64_t starts[SV_MAX_RANK], ends[SV_MAX_RANK], axes[SV_MAX_RANK], steps[SV_MAX_RANK];
    int n, naxes = -1, nsteps = -1;
    const Onnx__NodeProto *node = im->node->proto;
    if (im->g->opset < 10) {
        n = attr_ints(node, "starts", starts, SV_MAX_RANK);
        if (attr_ints(node, "ends", ends, SV_MAX_RANK) != n)
            return im_fail(im, SV_INVALID_ARGUMENT, "starts and ends differ in length");
        naxes = attr_find(node, "axes") ? attr_ints(node, "axes", axes, SV_MAX_RANK) : -1;
    } else {
        const hostconst *c = NULL;
        if ((st = im_require_const(im, 1, &c)) != SV_OK)
            return st;
        n = const_ints(c, starts, SV_MAX_RANK);
        if ((st = im_require_const(im, 2, &c)) != SV_OK)
            return st;
        if (const_ints(c, ends, SV_MAX_RANK) != n)
            return im_fail(im, SV_INVALID_ARGUMENT, "starts and ends differ in length");
        if (im_input(im, 3)) {
            if ((st = im_require_const(im, 3, &c)) != SV_OK)
                return st;
            naxes = const_ints(c, axes, SV_MAX_RANK);
        }
        if (im_input(im, 4)) {
            if ((st = im_require_const(im, 4, &c)) != SV_OK)
                return st;
            nsteps = const_ints(c, steps, SV_MAX_RANK);
        }
    }
    if (n < 0 || (naxes >= 0 && naxes != n) || (nsteps >= 0 && nsteps != n))
        return im_fail(im, SV_INVALID_ARGUMENT, "starts, ends, axes and steps differ in length");
    int64_t first[SV_MAX_RANK], step_of[SV_MAX_RANK], dims[SV_MAX_RANK];
    for (int i = 0; i < rank; i++)
        first[i] = 0, step_of[i] = 1, dims[i] = data->dims[i];
    for (int k = 0; k < n; k++) {
        int a = im_axis(im, naxes >= 0 ? axes[k] : k, rank, "axis");
        if (a < 0)
            return SV_INVALID_ARGUMENT;
        const int64_t size = data->dims[a], stp = nsteps >= 0 ? steps[k] : 1;
        if (stp == 0)
            return im_fail(im, SV_INVALID_ARGUMENT, "step 0");
        int64_t s = starts[k], e = ends[k];
        if (s < 0)
            s += size;
        if (e < 0)
            e += size;
        /* clamp as NumPy does: to [0, size] going forward, [-1, size - 1] going backward; the
         * count is ceil(span / |step|), computed so that no step, however large, overflows */
        if (stp > 0) {
            s = s < 0 ? 0 : s > size ? size : s;
            e = e < 0 ? 0 : e > size ? size : e;
            dims[a] = e > s ? (e - s - 1) / stp + 1 : 0;
        } else {
            s = s < -1 ? -1 : s > size - 1 ? size - 1 : s;
            e = e < -1 ? -1 : e > size - 1 ? size - 1 : e;
            dims[a] = s > e ? (s - e - 1) / (stp == INT64_MIN ? INT64_MAX : -stp) + 1 : 0;
        }
        first[a] = s;
        step_of[a] = stp;
    }
    hostconst *c = NULL;
    if ((st = im_const_new(im, data->type, rank, dims, &c)) != SV_OK)
        return st;
    for (int64_t k = 0; k < c->count; k++) {
        int64_t rest = k, src = 0, index[SV_MAX_RANK];
        for (int i = rank - 1; i >= 0; i--) {
            index[i] = rest % dims[i];
            rest /= dims[i];
        }
        for (int i = 0; i < rank; i++)
            src = src * data->dims[i] + first[i] + index[i] * step_of[i];
        copy_element(c, k, data, src);
    }
    return im_set_const(im, 0, c);
}

static sv_status import_cast(importer *im) {
    plan_value *x = NULL;
    sv_status st = im_require(im, 0, &x);
    if (st != SV_OK)
        return st;
    const int64_t to = attr_int(im->node->proto, "to", 0);
    const int to_float =
        to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || to == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    const int to_int =
        to == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || to == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ||
        to == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 || to == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8 ||
        to == ONNX__TENSOR_PROTO__DATA_TYPE__INT16 || to == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
    if (!to_float && !to_int)
        return im_fail(im, SV_UNSUPPORTED, "cast to data type %lld", (long long)to);
    int64_t dims[SV_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    if (!x->constant) {
        if (!to_float)
            return im_fail(im, SV_UNSUPPORTED, "casting a computed float tensor to integers");
        return im_view(im, im_input_id(im, 0), im_output_id(im, 0), x->rank, dims);
    }
    hostconst *c = NULL;
    if ((st = im_const_new(im, to_float ? HC_F32 : HC_I64, x->rank, dims, &c)) != SV_OK)
        return st;
    for (int64_t k = 0; k < c->count; k++) {
        if (to_float)
            c->f[k] = (float)hc_get(x->constant, k);
        else if (to == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
            c->i[k] = hc_get(x->constant, k) != 0.0;
        else
            c->i[k] = hc_get_int(x->constant, k);
    }
    return im_set_const(im, 0, c);
}

static sv_status import_constant_of_shape(importer *im) {
    const hostconst *shape = NULL;
    sv_status st = im_require_const(im, 0, &shape);
    if (st != SV_OK)
        return st;
    int64_t dims[SV_MAX_RANK];
    int rank = const_ints(shape, dims, SV_MAX_RANK);
    if (rank < 0)
        return im_fail(im, SV_UNSUPPORTED, "a shape of more than %d dimensions", SV_MAX_RANK);
    hostconst *fill = NULL;
    const Onnx__AttributeProto *a = attr_find(im->node->proto, "value");
    if (a && a->t && (st = graph_tensor_to_const(a->t, NULL, &fill, im->err)) != SV_OK)
        return im_fail(im, st, "%s", im->err->text);
    hostconst *c = NULL;
    st = im_const_new(im, fill ? fill->type : HC_F32, rank, dims, &c);
    if (st == SV_OK && fill)
        for (int64_t k = 0; k < c->count; k++)
            copy_element(c, k, fill, 0);
    hc_free(fill);
    return st == SV_OK ? im_set_const(im, 0, c) : st;
}

const import_entry import_tensor_table[] = {
    {"Identity", import_identity, no_attributes},
    {"Dropout", import_identity, dropout_attributes},
    {"Flatten", import_flatten, axis_attributes},
    {"Reshape", import_reshape, reshape_attributes},
    {"Squeeze", import_squeeze, axes_attributes},
    {"Unsqueeze", import_unsqueeze, axes_attributes},
    {"Concat", import_concat, axis_attributes},
    {"Pad", import_pad, pad_attributes},
    {"Transpose", import_transpose, perm_attributes},
    {"Resize", import_resize, resize_attributes},
    {"Upsample", import_upsample, upsample_attributes},
    {"Constant", import_constant, constant_attributes},
    {"Shape", import_shape, shape_attributes},
    {"Gather", import_gather, axis_attributes},
    {"Slice", import_slice, slice_attributes},
    {"Cast", import_cast, cast_attributes},
    {"ConstantOfShape", import_constant_of_shape, constant_of_shape_attributes},
    {NULL, NULL, NULL},
};
