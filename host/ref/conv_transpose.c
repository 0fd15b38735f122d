/* Reference transposed convolution, in scatter form, straight from the definition: every input
 * element x[n, c, i, j] adds x * w[c, o, r, s] into output y[n, g*C_out/g + o, oi, oj] at
 *
 *   oi = i * stride - pad_begin + r * dilation,   oj = j * stride - pad_begin + s * dilation
 *
 * for each output channel o of c's group g and each tap (r, s), whenever (oi, oj) lies in the
 * output (positions past the full output, added by output_padding, receive nothing but the bias).
 * Sums are kept in double: one output plane at a time, in chunks of CHUNK outputs held on the
 * stack, each chunk receiving every input of the group that lands in it. A 1-D transposed
 * convolution is the 2-D one with height 1. */
#include "ref/ref.h"

enum { CHUNK = 4096 };

typedef struct axis {
    long long size, kernel, out, stride, dilation, pad;
} axis;

static axis axis_of(const sv_conv_transpose_params *p, int param_index, long long size,
                    long long kernel, long long out) {
    axis a = {size,
              kernel,
              out,
              p->stride[param_index],
              p->dilation[param_index],
              p->pad_begin[param_index]};
    return a;
}

void sv_ref_conv_transpose(const sv_conv_transpose_params *p, const sv_host_view *x,
                           const sv_host_view *w, const sv_host_view *b, sv_host_view *y) {
    const long long batch = x->dims[0], in_channels = x->dims[1];
    const long long in_per_group = in_channels / p->groups;
    const long long out_per_group = w->dims[1];
    const long long out_channels = out_per_group * p->groups;
    axis height = {1, 1, 1, 1, 1, 0};
    axis width;
    if (p->spatial_dims == 2) {
        height = axis_of(p, 0, x->dims[2], w->dims[2], y->dims[2]);
        width = axis_of(p, 1, x->dims[3], w->dims[3], y->dims[3]);
    } else {
        width = axis_of(p, 0, x->dims[2], w->dims[2], y->dims[2]);
    }
    const long long plane = height.out * width.out;

    for (long long n = 0; n < batch; n++)
        for (long long o = 0; o < out_channels; o++) {
            const long long group = o / out_per_group, o_in_group = o % out_per_group;
            float *y_plane = y->data + (n * out_channels + o) * plane;
            for (long long start = 0; start < plane; start += CHUNK) {
                const long long count = plane - start < CHUNK ? plane - start : CHUNK;
                double sum[CHUNK];
                for (long long t = 0; t < count; t++)
                    sum[t] = b ? b->data[o] : 0.0;
                for (long long c = 0; c < in_per_group; c++) {
                    const long long in_c = group * in_per_group + c;
                    for (long long i = 0; i < height.size; i++)
                        for (long long j = 0; j < width.size; j++) {
                            const double xv =
                                x->data[((n * in_channels + in_c) * height.size + i) * width.size +
                                        j];
                            for (long long r = 0; r < height.kernel; r++) {
                                const long long oi =
                                    i * height.stride - height.pad + r * height.dilation;
                                if (oi < 0 || oi >= height.out)
                                    continue;
                                for (long long s = 0; s < width.kernel; s++) {
                                    const long long oj =
                                        j * width.stride - width.pad + s * width.dilation;
                                    if (oj < 0 || oj >= width.out)
                                        continue;
                                    const long long t = oi * width.out + oj - start;
                                    if (t < 0 || t >= count)
                                        continue;
                                    const double wv = w->data[((in_c * out_per_group + o_in_group) *
                                                                   height.kernel +
                                                               r) *
                                                                  width.kernel +
                                                              s];
                                    sum[t] += xv * wv;
                                }
                            }
                        }
                }
                for (long long t = 0; t < count; t++)
                    y_plane[start + t] = (float)sv_ref_activate(&p->activation, sum[t]);
            }
        }
}
