/* Reference resize, from the ONNX definition. Along each axis, output position o maps to the
 * input coordinate
 *   half_pixel           (o + 0.5) / s - 0.5
 *   asymmetric           o / s
 *   align_corners        o * (in - 1) / (L - 1), 0 when L == 1
 *   pytorch_half_pixel   half_pixel when L > 1, else 0
 * with s the axis's scale (out / in when the parameter is 0) and L = in * s the resized length.
 * The coordinate is formed as one division of exactly represented values, so that a coordinate
 * exactly on a rounding boundary stays on it.
 * Nearest: the cell the rounding rule picks, clamped to [0, in - 1].
 * Linear: the coordinate clamped to [0, in - 1] and the two cells around it weighted by distance,
 * on the last two axes (the others keep their size and are copied). */
#include "ref/ref.h"

#include <math.h>

static double coordinate(const sv_resize_params *p, int axis, long long in, long long out,
                         long long o) {
    const double s = p->scales[axis] > 0.0f ? (double)p->scales[axis] : (double)out / (double)in;
    const double length = p->scales[axis] > 0.0f ? (double)in * s : (double)out;
    /* half pixel as ((2o + 1) - s) / (2s), with s = out / in as ((2o + 1) in - out) / (2 out) */
    const double half_pixel =
        p->scales[axis] > 0.0f
            ? ((double)(2 * o + 1) - s) / (2.0 * s)
            : ((double)(2 * o + 1) * (double)in - (double)out) / (2.0 * (double)out);
    switch (p->coordinates) {
    case SV_COORD_HALF_PIXEL: return half_pixel;
    case SV_COORD_ASYMMETRIC:
        return p->scales[axis] > 0.0f ? (double)o / s : (double)o * (double)in / (double)out;
    case SV_COORD_ALIGN_CORNERS:
        return length == 1.0 ? 0.0 : (double)o * (double)(in - 1) / (length - 1.0);
    case SV_COORD_PYTORCH_HALF_PIXEL: return length > 1.0 ? half_pixel : 0.0;
    }
    return 0.0;
}

static long long clamp_cell(double cell, long long in) {
    if (cell < 0.0)
        return 0;
    if (cell > (double)(in - 1))
        return in - 1;
    return (long long)cell;
}

/* The nearest input cell: round half down or up, floor or ceil, then clamp. */
static long long nearest(const sv_resize_params *p, double c, long long in) {
    const double below = floor(c), fraction = c - below;
    switch (p->rounding) {
    case SV_NEAREST_ROUND_PREFER_FLOOR: return clamp_cell(fraction > 0.5 ? below + 1 : below, in);
    case SV_NEAREST_ROUND_PREFER_CEIL: return clamp_cell(fraction >= 0.5 ? below + 1 : below, in);
    case SV_NEAREST_FLOOR: return clamp_cell(below, in);
    case SV_NEAREST_CEIL: return clamp_cell(ceil(c), in);
    }
    return 0;
}

void sv_ref_resize(const sv_resize_params *p, const sv_host_view *x, sv_host_view *y) {
    const int rank = x->rank;
    /* axes from `first_linear` on are interpolated in linear mode */
    const int first_linear = p->mode == SV_RESIZE_LINEAR ? (rank >= 2 ? rank - 2 : 0) : rank;
    const long long count = sv_host_view_count(y);
    for (long long index = 0; index < count; index++) {
        long long o[SV_MAX_RANK], rest = index;
        for (int a = rank - 1; a >= 0; a--) {
            o[a] = rest % y->dims[a];
            rest /= y->dims[a];
        }
        /* per axis, two input cells and their weights (one cell for a nearest axis) */
        long long cell[SV_MAX_RANK][2];
        double weight[SV_MAX_RANK][2];
        for (int a = 0; a < rank; a++) {
            const double c = coordinate(p, a, x->dims[a], y->dims[a], o[a]);
            if (a < first_linear) {
                cell[a][0] = cell[a][1] = nearest(p, c, x->dims[a]);
                weight[a][0] = 1.0;
                weight[a][1] = 0.0; /* never counted */
            } else {
                const double clamped = fmin(fmax(c, 0.0), (double)(x->dims[a] - 1));
                const double below = floor(clamped);
                cell[a][0] = (long long)below;
                cell[a][1] = cell[a][0] + 1 < x->dims[a] ? cell[a][0] + 1 : cell[a][0];
                weight[a][1] = clamped - below;
                weight[a][0] = 1.0 - weight[a][1];
            }
        }
        /* the sum over the corners (both cells of each interpolated axis, the one cell of the
         * others) of the cell times the product of its weights */
        double sum = 0.0;
        for (int corner = 0; corner < (1 << rank); corner++) {
            double w = 1.0;
            long long source = 0;
            int counted = 1;
            for (int a = 0; a < rank; a++) {
                const int side = (corner >> a) & 1;
                counted = counted && (a >= first_linear || side == 0);
                w *= weight[a][side];
                source = source * x->dims[a] + cell[a][side];
            }
            if (counted)
                sum += w * x->data[source];
        }
        y->data[index] = (float)sum;
    }
}
