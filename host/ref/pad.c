/* Reference padding, from the definition: along each axis, output position o is input position
 * i = o - pad_begin; a position outside [0, n) takes the mode's rule, and the output cell is the
 * input cell at the mapped coordinates (or the constant value when any coordinate falls outside).
 *   reflect    c b | a b c | b a   mirror about the edge element
 *   symmetric  b a | a b c | c b   mirror about the edge itself
 *   replicate  a a | a b c | c c
 *   circular   b c | a b c | a b */
#include "ref/ref.h"

/* Input position that position i (possibly outside [0, n)) takes its value from, or -1 for the
 * constant. Validation keeps the positive pads within one reflection or wrap. */
static long long source_of(long long i, long long n, sv_pad_mode mode) {
    if (i >= 0 && i < n)
        return i;
    switch (mode) {
    case SV_PAD_ZERO: return -1;
    case SV_PAD_REFLECT: return i < 0 ? -i : 2 * (n - 1) - i;
    case SV_PAD_SYMMETRIC: return i < 0 ? -i - 1 : 2 * n - 1 - i;
    case SV_PAD_REPLICATE: return i < 0 ? 0 : n - 1;
    case SV_PAD_CIRCULAR: return i < 0 ? i + n : i - n;
    }
    return -1;
}

void sv_ref_pad(const sv_pad_params *p, const sv_host_view *x, sv_host_view *y) {
    const int rank = x->rank;
    const long long count = sv_host_view_count(y);
    for (long long index = 0; index < count; index++) {
        /* the output coordinates of index, last axis fastest */
        long long o[SV_MAX_RANK], rest = index;
        for (int a = rank - 1; a >= 0; a--) {
            o[a] = rest % y->dims[a];
            rest /= y->dims[a];
        }
        long long source = 0;
        int inside = 1;
        for (int a = 0; a < rank; a++) {
            const long long s = source_of(o[a] - p->pad_begin[a], x->dims[a], p->mode);
            if (s < 0) {
                inside = 0;
                break;
            }
            source = source * x->dims[a] + s;
        }
        y->data[index] = inside ? x->data[source] : p->value;
    }
}
