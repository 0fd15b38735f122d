/* Reference concatenation, from the definition: an output cell at position p along the axis
 * comes from the input whose range of axis positions holds p, at p minus the sizes of the inputs
 * before it; every other coordinate is the same. Walked as the output's rows (all dims before the
 * axis) and, within a row, each input's block (its axis dim times all dims after the axis). */
#include "ref/ref.h"

void sv_ref_concat(int axis, int count, const sv_host_view *inputs, sv_host_view *y) {
    long long rows = 1, after = 1;
    for (int i = 0; i < axis; i++)
        rows *= y->dims[i];
    for (int i = axis + 1; i < y->rank; i++)
        after *= y->dims[i];
    const long long out_block = y->dims[axis] * after;
    for (long long r = 0; r < rows; r++) {
        long long position = 0; /* first output axis position of input k */
        for (int k = 0; k < count; k++) {
            const long long block = inputs[k].dims[axis] * after;
            for (long long j = 0; j < block; j++)
                y->data[r * out_block + position * after + j] = inputs[k].data[r * block + j];
            position += inputs[k].dims[axis];
        }
    }
}
