/* Reference pooling: for each output cell, visit every tap of its window in row-major order.
 *
 *   tap (r, s) of output (i, j) sits at padded position (i*stride - pad_begin + r*dilation, ...)
 *
 * A tap inside the input contributes its value; a tap in the padding contributes nothing to max
 * and 0 to the sums. The divisor of average and RMS counts the taps inside the input, or with
 * count_include_pad the taps inside [-pad_begin, size + pad_end) on every axis (the cells ceil
 * mode adds past the end padding never count). Global pooling is one window over the whole
 * plane. A 1-D pooling is the 2-D one with height 1. */
#include "ref/ref.h"

#include <math.h>

typedef struct axis {
    long long size, kernel, out, stride, dilation, pad_begin, pad_end;
} axis;

static axis axis_of(const sv_pool_params *p, int param_index, long long size, long long out) {
    axis a = {size, size, out, 1, 1, 0, 0}; /* global: one window of the whole axis */
    if (!p->global) {
        a.kernel = p->kernel[param_index];
        a.stride = p->stride[param_index];
        a.dilation = p->dilation[param_index];
        a.pad_begin = p->pad_begin[param_index];
        a.pad_end = p->pad_end[param_index];
    }
    return a;
}

/* Position in the input of tap t of window o, which may lie outside [0, size). */
static long long tap_position(const axis *a, long long o, long long t) {
    return o * a->stride - a->pad_begin + t * a->dilation;
}

static int inside_input(const axis *a, long long pos) {
    return pos >= 0 && pos < a->size;
}

static int inside_padded_input(const axis *a, long long pos) {
    return pos >= -a->pad_begin && pos < a->size + a->pad_end;
}

void sv_ref_pool(const sv_pool_params *p, const sv_host_view *x, sv_host_view *y,
                 sv_host_view *indices) {
    const long long planes = x->dims[0] * x->dims[1];
    axis height = {1, 1, 1, 1, 1, 0, 0};
    axis width;
    if (p->spatial_dims == 2) {
        height = axis_of(p, 0, x->dims[2], y->dims[2]);
        width = axis_of(p, 1, x->dims[3], y->dims[3]);
    } else {
        width = axis_of(p, 0, x->dims[2], y->dims[2]);
    }
    const double order = p->p;

    for (long long plane = 0; plane < planes; plane++) {
        const float *xp = x->data + plane * height.size * width.size;
        for (long long i = 0; i < height.out; i++)
            for (long long j = 0; j < width.out; j++) {
                double best = 0.0, sum = 0.0;
                long long best_at = -1, inside = 0, inside_padded = 0;
                for (long long r = 0; r < height.kernel; r++) {
                    const long long row = tap_position(&height, i, r);
                    for (long long s = 0; s < width.kernel; s++) {
                        const long long col = tap_position(&width, j, s);
                        if (inside_padded_input(&height, row) && inside_padded_input(&width, col))
                            inside_padded++;
                        if (!inside_input(&height, row) || !inside_input(&width, col))
                            continue;
                        inside++;
                        const long long at = row * width.size + col;
                        const double v = xp[at];
                        switch (p->kind) {
                        case SV_POOL_MAX:
                            /* the first maximum wins; a NaN beats any number, the first NaN wins */
                            if (best_at < 0 || v > best || (isnan(v) && !isnan(best))) {
                                best = v;
                                best_at = at;
                            }
                            break;
                        case SV_POOL_AVERAGE: sum += v; break;
                        case SV_POOL_LP: sum += pow(fabs(v), order); break;
                        case SV_POOL_RMS: sum += v * v; break;
                        }
                    }
                }
                const double count = (double)(p->count_include_pad ? inside_padded : inside);
                double result = 0.0;
                switch (p->kind) {
                case SV_POOL_MAX: result = best; break;
                case SV_POOL_AVERAGE: result = sum / count; break;
                case SV_POOL_LP: result = pow(sum, 1.0 / order); break;
                case SV_POOL_RMS: result = sqrt(sum / count); break;
                }
                const long long out = (plane * height.out + i) * width.out + j;
                y->data[out] = (float)result;
                if (indices)
                    indices->data[out] = (float)best_at;
            }
    }
}
