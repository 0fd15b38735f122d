/* Reference softmax and log-softmax along one axis, in double precision.
 *
 *   m = max over the axis of x;  s = sum over the axis of exp(x - m)
 *   softmax:     y = exp(x - m) / s
 *   log-softmax: y = (x - m) - log(s)
 *
 * The tensor is [outer, L, inner] around the axis; row (o, i) holds x[(o * L + l) * inner + i].
 * NaN entries are skipped when taking the maximum and then make s, and so the row, NaN; so do a
 * +inf entry (inf - inf) and a row of -inf only (-inf - -inf). */
#include "ref/ref.h"

#include <math.h>

void sv_ref_softmax(const sv_softmax_params *p, const sv_host_view *x, sv_host_view *y) {
    const int axis = p->axis < 0 ? p->axis + x->rank : p->axis;
    long long outer = 1, inner = 1;
    for (int i = 0; i < axis; i++)
        outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        inner *= x->dims[i];
    const long long length = x->dims[axis];

    for (long long o = 0; o < outer; o++)
        for (long long i = 0; i < inner; i++) {
            const long long first = o * length * inner + i;
            double m = -INFINITY;
            for (long long l = 0; l < length; l++) {
                const double v = x->data[first + l * inner];
                if (v > m)
                    m = v;
            }
            double s = 0.0;
            for (long long l = 0; l < length; l++)
                s += exp((double)x->data[first + l * inner] - m);
            for (long long l = 0; l < length; l++) {
                const double d = (double)x->data[first + l * inner] - m;
                y->data[first + l * inner] = (float)(p->log ? d - log(s) : exp(d) / s);
            }
        }
}
