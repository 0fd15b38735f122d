/* Concatenation: one launch per input copies its slab into the output. Seen as rows around the
 * axis, input element i = (row, col) with col < inner_in lands at column offset + col of an
 * output row of inner_out elements. One element per work-item; reads and writes are contiguous
 * within a row. */

__kernel void concat_copy(__global const float *x, __global float *y, int count, int inner_in,
                          int inner_out, int offset) {
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const int row = i / inner_in;
    const int col = i - row * inner_in;
    y[row * inner_out + offset + col] = x[i];
}
