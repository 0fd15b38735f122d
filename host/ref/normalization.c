/* Reference batch normalisation (inference) and local response normalisation, in double
 * precision, x in NC... layout (S = the product of the spatial dims).
 *
 *   batch norm: y[n, c, s] = act(scale[c] * (x[n, c, s] - mean[c]) / sqrt(var[c] + epsilon)
 *                                + bias[c])
 *   LRN:        y[n, c, s] = x[n, c, s] / (bias + alpha / size * sum over c' of x[n, c', s]^2)^beta
 *               with c' in [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)] and 0..C-1. */
#include "ref/ref.h"

#include <math.h>

static long long spatial_count(const sv_host_view *x) {
    long long n = 1;
    for (int i = 2; i < x->rank; i++)
        n *= x->dims[i];
    return n;
}

void sv_ref_batch_norm(const sv_batch_norm_params *p, const sv_host_view *x,
                       const sv_host_view *scale, const sv_host_view *bias,
                       const sv_host_view *mean, const sv_host_view *var, sv_host_view *y) {
    const long long batch = x->dims[0], channels = x->dims[1], spatial = spatial_count(x);
    for (long long n = 0; n < batch; n++)
        for (long long c = 0; c < channels; c++) {
            const double stddev = sqrt((double)var->data[c] + (double)p->epsilon);
            for (long long s = 0; s < spatial; s++) {
                const long long at = (n * channels + c) * spatial + s;
                const double normalized =
                    (double)scale->data[c] * ((double)x->data[at] - mean->data[c]) / stddev +
                    bias->data[c];
                y->data[at] = (float)sv_ref_activate(&p->activation, normalized);
            }
        }
}

void sv_ref_lrn(const sv_lrn_params *p, const sv_host_view *x, sv_host_view *y) {
    const long long batch = x->dims[0], channels = x->dims[1], spatial = spatial_count(x);
    const long long before = (p->size - 1) / 2;    /* floor((size - 1) / 2) */
    const long long after = (p->size - 1 + 1) / 2; /* ceil((size - 1) / 2) */
    for (long long n = 0; n < batch; n++)
        for (long long c = 0; c < channels; c++)
            for (long long s = 0; s < spatial; s++) {
                const long long first = c - before < 0 ? 0 : c - before;
                const long long last = c + after >= channels ? channels - 1 : c + after;
                double sum = 0.0;
                for (long long k = first; k <= last; k++) {
                    const double v = x->data[(n * channels + k) * spatial + s];
                    sum += v * v;
                }
                const long long at = (n * channels + c) * spatial + s;
                const double base = (double)p->bias + (double)p->alpha / p->size * sum;
                y->data[at] = (float)(x->data[at] / pow(base, (double)p->beta));
            }
}
