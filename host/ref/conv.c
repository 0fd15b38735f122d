/* Reference convolution: the textbook six nested loops over output and kernel positions.
 *
 *   y[n, o, i, j] = act(b[o] + sum over c in o's group, r, s of
 *                   x[n, c, src(i*stride - pad + r*dilation), src(j*...)] * w[o, c, r, s])
 *
 * where src() maps a position of the padded input to a position of the input, or to nothing
 * (zero padding). A 1-D convolution is the 2-D one with height 1. */
#include "ref/ref.h"

#include <math.h>

/* Position in an input of size n that padded position i reads, or -1 for a zero. */
static long long source_position(long long i, long long n, sv_pad_mode mode) {
    if (i >= 0 && i < n)
        return i;
    switch (mode) {
    case SV_PAD_ZERO: return -1;
    case SV_PAD_REFLECT: /* c b | a b c | b a: mirror about the edge element */
        return i < 0 ? -i : 2 * (n - 1) - i;
    case SV_PAD_SYMMETRIC: /* b a | a b c | c b: mirror about the edge itself */
        return i < 0 ? -i - 1 : 2 * n - 1 - i;
    case SV_PAD_REPLICATE: /* a a | a b c | c c */ return i < 0 ? 0 : n - 1;
    case SV_PAD_CIRCULAR: /* b c | a b c | a b */ return i < 0 ? i + n : i - n;
    }
    return -1;
}

typedef struct axis {
    long long size, kernel, out, stride, dilation, pad; /* out: of y */
} axis;

static axis axis_of(const sv_conv_params *p, int param_index, long long size, long long kernel,
                    long long out) {
    axis a = {size,
              kernel,
              out,
              p->stride[param_index],
              p->dilation[param_index],
              p->pad_begin[param_index]};
    return a;
}

/* What one output element reads: the operands and the geometry. */
typedef struct conv_problem {
    const sv_conv_params *p;
    const sv_host_view *x, *w, *b;
    long long in_channels, in_per_group, out_per_group;
    axis height, width;
} conv_problem;

/* act(b[o] + the window sum) at output position (i, j) of channel o of image n. */
static float conv_at(const conv_problem *q, long long n, long long o, long long i, long long j) {
    const axis *height = &q->height, *width = &q->width;
    const long long group = o / q->out_per_group;
    double sum = q->b ? q->b->data[o] : 0.0;
    for (long long c = 0; c < q->in_per_group; c++) {
        const long long in_c = group * q->in_per_group + c;
        for (long long r = 0; r < height->kernel; r++) {
            const long long row =
                source_position(i * height->stride - height->pad + r * height->dilation,
                                height->size, q->p->pad_mode);
            if (row < 0)
                continue;
            for (long long s = 0; s < width->kernel; s++) {
                const long long col =
                    source_position(j * width->stride - width->pad + s * width->dilation,
                                    width->size, q->p->pad_mode);
                if (col < 0)
                    continue;
                const double xv =
                    q->x->data[((n * q->in_channels + in_c) * height->size + row) * width->size +
                               col];
                const double wv =
                    q->w->data[((o * q->in_per_group + c) * height->kernel + r) * width->kernel +
                               s];
                sum += xv * wv;
            }
        }
    }
    return (float)sv_ref_activate(&q->p->activation, sum);
}

void sv_ref_conv(const sv_conv_params *p, const sv_host_view *x, const sv_host_view *w,
                 const sv_host_view *b, sv_host_view *y) {
    const long long batch = x->dims[0], out_channels = w->dims[0];
    /* with a fused 2x2 max pool, y holds every other row and column of the convolution's output
     * (floor: a last odd one is dropped), each the largest of a 2x2 window */
    const long long pool = p->max_pool_2x2 ? 2 : 1;
    conv_problem q = {p,
                      x,
                      w,
                      b,
                      x->dims[1],
                      x->dims[1] / p->groups,
                      out_channels / p->groups,
                      {1, 1, 1, 1, 1, 0},
                      {0}};
    if (p->spatial_dims == 2) {
        q.height = axis_of(p, 0, x->dims[2], w->dims[2], y->dims[2]);
        q.width = axis_of(p, 1, x->dims[3], w->dims[3], y->dims[3]);
    } else {
        q.width = axis_of(p, 0, x->dims[2], w->dims[2], y->dims[2]);
    }
    const long long out_h = q.height.out, out_w = q.width.out;
    for (long long n = 0; n < batch; n++)
        for (long long o = 0; o < out_channels; o++)
            for (long long i = 0; i < out_h; i++)
                for (long long j = 0; j < out_w; j++) {
                    float v = conv_at(&q, n, o, i * pool, j * pool);
                    for (long long d = 1; d < pool * pool; d++) {
                        const float u = conv_at(&q, n, o, i * pool + d / pool, j * pool + d % pool);
                        v = u > v || isnan(u) ? u : v; /* NaN propagates, as MaxPool's does */
                    }
                    y->data[((n * out_channels + o) * out_h + i) * out_w + j] = v;
                }
}
