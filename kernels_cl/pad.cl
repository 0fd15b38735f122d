/* Padding of up to 5 axes (the host puts unit axes in front of lower ranks). One output element
 * per work-item, written contiguously: the item splits its index into coordinates, maps each to
 * the input with sv_pad_source (the mode comes from -DSV_PAD_MODE) and copies that cell, or
 * writes `value` where a coordinate falls outside the input (constant mode). */

#define PAD_AXIS(A)                                                                                \
    const int s##A = sv_pad_source(rest % out##A - begin##A, in##A);                               \
    rest /= out##A;

__kernel void pad_nd(__global const float *x, __global float *y, int count, int in0, int in1,
                     int in2, int in3, int in4, int out0, int out1, int out2, int out3, int out4,
                     int begin0, int begin1, int begin2, int begin3, int begin4, float value) {
    const int index = get_global_id(0);
    if (index >= count)
        return;
    int rest = index;
    PAD_AXIS(4)
    PAD_AXIS(3)
    PAD_AXIS(2)
    PAD_AXIS(1)
    PAD_AXIS(0)
    if (s0 < 0 || s1 < 0 || s2 < 0 || s3 < 0 || s4 < 0) {
        y[index] = value;
        return;
    }
    y[index] = x[(((s0 * in1 + s1) * in2 + s2) * in3 + s3) * in4 + s4];
}
