/* Resize through per-axis tables that the host computes (see host/ops/resize.c): one output
 * element per work-item, written contiguously. */

/* Nearest, up to 5 axes (unit axes in front): the table holds, axis after axis, the offset of
 * the input cell that each output position reads along that axis. */
__kernel void resize_nearest(__global const float *x, __global float *y,
                             __global const int *table, int count, int d0, int d1, int d2, int d3,
                             int d4) {
    const int index = get_global_id(0);
    if (index >= count)
        return;
    const int at1 = d0, at2 = at1 + d1, at3 = at2 + d2, at4 = at3 + d3;
    int rest = index;
    int source = table[at4 + rest % d4];
    rest /= d4;
    source += table[at3 + rest % d3];
    rest /= d3;
    source += table[at2 + rest % d2];
    rest /= d2;
    source += table[at1 + rest % d1];
    rest /= d1;
    source += table[rest];
    y[index] = x[source];
}

/* Bilinear on the last two axes of [planes, IH, IW] -> [planes, OH, OW]: entry oh (then OH + ow)
 * holds the offsets of the two input rows (columns) around the coordinate and, in z, the bits of
 * the weight of the second. */
__kernel void resize_linear(__global const float *x, __global float *y,
                            __global const int4 *table, int count, int OH, int OW, int IH,
                            int IW) {
    const int index = get_global_id(0);
    if (index >= count)
        return;
    const int ow = index % OW;
    const int rest = index / OW;
    const int oh = rest % OH;
    const int plane = rest / OH;
    const int4 row = table[oh];
    const int4 col = table[OH + ow];
    const float wr = as_float(row.z), wc = as_float(col.z);
    __global const float *p = x + plane * IH * IW;
    const float top = (1.0f - wc) * p[row.x + col.x] + wc * p[row.x + col.y];
    const float bottom = (1.0f - wc) * p[row.y + col.x] + wc * p[row.y + col.y];
    y[index] = (1.0f - wr) * top + wr * bottom;
}
