/* Reference convolution: the textbook six nested loops over output and kernel positions.
 *
 *   y[n, o, i, j] = act(b[o] + sum over c in o's group, r, s of
 *                   x[n, c, src(i*stride - pad + r*dilation), src(j*...)] * w[o, c, r, s])
 *
 * where src() maps a position of the padded input to a position of the input, or to nothing
 * (zero padding). A 1-D convolution is the 2-D one with height 1. */
#include "ref/ref.h"

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
    long long size, kernel, out, stride, dilation, pad;
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

void sv_ref_conv(const sv_conv_params *p, const sv_host_view *x, const sv_host_view *w,
                 const sv_host_view *b, sv_host_view *y) {
    const long long batch = x->dims[0], in_channels = x->dims[1], out_channels = w->dims[0];
    const long long in_per_group = in_channels / p->groups;
    const long long out_per_group = out_channels / p->groups;
    axis height = {1, 1, 1, 1, 1, 0};
    axis width;
    if (p->spatial_dims == 2) {
        height = axis_of(p, 0, x->dims[2], w->dims[2], y->dims[2]);
        width = axis_of(p, 1, x->dims[3], w->dims[3], y->dims[3]);
    } else {
        width = axis_of(p, 0, x->dims[2], w->dims[2], y->dims[2]);
    }

    for (long long n = 0; n < batch; n++)
        for (long long o = 0; o < out_channels; o++) {
            const long long group = o / out_per_group;
            for (long long i = 0; i < height.out; i++)
                for (long long j = 0; j < width.out; j++) {
                    double sum = b ? b->data[o] : 0.0;
                    for (long long c = 0; c < in_per_group; c++) {
                        const long long in_c = group * in_per_group + c;
                        for (long long r = 0; r < height.kernel; r++) {
                            const long long row = source_position(i * height.stride - height.pad +
                                                                      r * height.dilation,
                                                                  height.size, p->pad_mode);
                            if (row < 0)
                                continue;
                            for (long long s = 0; s < width.kernel; s++) {
                                const long long col = source_position(j * width.stride - width.pad +
                                                                          s * width.dilation,
                                                                      width.size, p->pad_mode);
                                if (col < 0)
                                    continue;
                                const double xv =
                                    x->data[((n * in_channels + in_c) * height.size + row) *
                                                width.size +
                                            col];
                                const double wv =
                                    w->data[((o * in_per_group + c) * height.kernel + r) *
                                                width.kernel +
                                            s];
                                sum += xv * wv;
                            }
                        }
                    }
                    y->data[((n * out_channels + o) * height.out + i) * width.out + j] =
                        (float)sv_ref_activate(&p->activation, sum);
                }
        }
}
