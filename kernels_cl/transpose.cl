/* Transpose of up to 5 axes (the host simplifies the permutation and puts unit axes in front).
 * Both kernels take the output dims d0..d4 and, for each output axis, the stride s0..s4 of the
 * input axis it reads. */

/* One output element per work-item, written contiguously; used when the input's innermost axis
 * stays innermost, so that neighbouring items also read neighbouring input elements. */
__kernel void transpose_gather(__global const float *x, __global float *y, int count, int d0,
                               int d1, int d2, int d3, int d4, int s0, int s1, int s2, int s3,
                               int s4) {
    const int index = get_global_id(0);
    if (index >= count)
        return;
    int rest = index;
    int source = rest % d4 * s4;
    rest /= d4;
    source += rest % d3 * s3;
    rest /= d3;
    source += rest % d2 * s2;
    rest /= d2;
    source += rest % d1 * s1;
    rest /= d1;
    source += rest * s0;
    y[index] = x[source];
}

#define TILE 32
#define TILE_ROWS 8

/* Used when the input's innermost axis moves to output axis `moved`: a work-group of 32 x 8
 * items moves a 32 x 32 tile spanned by output axis 4 (dimension 0 of the range) and output axis
 * `moved` (dimension 1), reading rows that are contiguous in the input and writing rows that are
 * contiguous in the output; dimension 2 enumerates the other three output axes. */
__kernel __attribute__((reqd_work_group_size(TILE, TILE_ROWS, 1))) void
transpose_tiled(__global const float *x, __global float *y, int d0, int d1, int d2, int d3,
                int d4, int s0, int s1, int s2, int s3, int s4, int moved) {
    __local float tile[TILE][TILE + 1]; /* + 1: columns fall in different banks */
    const int d[5] = {d0, d1, d2, d3, d4};
    const int s[5] = {s0, s1, s2, s3, s4};
    int out_stride[5];
    out_stride[4] = 1;
    for (int i = 3; i >= 0; i--)
        out_stride[i] = out_stride[i + 1] * d[i + 1];

    int rest = get_global_id(2), in_base = 0, out_base = 0;
    for (int i = 3; i >= 0; i--) {
        if (i == moved)
            continue;
        const int c = rest % d[i];
        rest /= d[i];
        in_base += c * s[i];
        out_base += c * out_stride[i];
    }

    const int lx = get_local_id(0), ly = get_local_id(1);
    const int first_last = get_group_id(0) * TILE;  /* along output axis 4 */
    const int first_moved = get_group_id(1) * TILE; /* along output axis `moved` */
    const int extent = d[moved];

    /* load: lx runs along the input's innermost axis (stride 1) */
    const int cm = first_moved + lx;
    for (int k = ly; k < TILE; k += TILE_ROWS) {
        const int cl = first_last + k;
        if (cm < extent && cl < d4)
            tile[k][lx] = x[in_base + cm + cl * s4];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    /* store: lx runs along the output's innermost axis */
    const int cl = first_last + lx;
    for (int k = ly; k < TILE; k += TILE_ROWS) {
        const int cm2 = first_moved + k;
        if (cm2 < extent && cl < d4)
            y[out_base + cm2 * out_stride[moved] + cl] = tile[lx][k];
    }
}
