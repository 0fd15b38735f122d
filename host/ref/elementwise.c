/* Reference element-wise operations, straight from their definitions.
 *
 *   activation: y[i] = act(x[i])
 *   binary:     y[i0, ..., iR-1] = a[index of a] (op) b[index of b], where an operand of rank r
 *               lines up with the last r output axes and reads index 0 along its axes of size 1
 *               (NumPy broadcasting)
 *
 * Both compute in double and round once to float. */
#include "ref/ref.h"

void sv_ref_activation(const sv_activation *act, const sv_host_view *x, sv_host_view *y) {
    const int64_t count = sv_host_view_count(x);
    for (int64_t i = 0; i < count; i++)
        y->data[i] = (float)sv_ref_activate(act, (double)x->data[i]);
}

/* The row-major offset in `t` of the output element at `index` (an index over `rank` axes). */
static int64_t broadcast_offset(const sv_host_view *t, int rank, const int64_t *index) {
    int64_t offset = 0;
    for (int i = 0; i < t->rank; i++) {
        const int64_t out_axis = rank - t->rank + i;
        const int64_t position = t->dims[i] == 1 ? 0 : index[out_axis];
        offset = offset * t->dims[i] + position;
    }
    return offset;
}

static double apply(sv_binary_op op, double a, double b) {
    switch (op) {
    case SV_BINARY_ADD: return a + b;
    case SV_BINARY_SUB: return a - b;
    case SV_BINARY_MUL: return a * b;
    case SV_BINARY_DIV: return a / b;
    case SV_BINARY_PRELU: return a >= 0.0 ? a : b * a;
    }
    return 0.0;
}

void sv_ref_binary(sv_binary_op op, const sv_host_view *a, const sv_host_view *b, sv_host_view *y) {
    const int rank = y->rank;
    const int64_t count = sv_host_view_count(y);
    int64_t index[SV_MAX_RANK] = {0};
    for (int64_t i = 0; i < count; i++) {
        const double av = a->data[broadcast_offset(a, rank, index)];
        const double bv = b->data[broadcast_offset(b, rank, index)];
        y->data[i] = (float)apply(op, av, bv);
        /* next output index, last axis fastest */
        for (int k = rank - 1; k >= 0; k--) {
            if (++index[k] < y->dims[k])
                break;
            index[k] = 0;
        }
    }
}
