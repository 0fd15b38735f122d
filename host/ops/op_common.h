/* Helpers every op's host side uses: argument checks, kernel arguments, enqueueing. */
#ifndef SV_OP_COMMON_H
#define SV_OP_COMMON_H

#include "core/internal.h"

/* Checks that an activation's kind is known and its parameters make sense. */
sv_status sv_validate_activation(const sv_activation *act, const char *op, sv_message *err);
const char *sv_pad_mode_name(sv_pad_mode mode);
/* The largest positive pad a mode can fill with one reflection or wrap of an input of size n
 * (INT64_MAX for the modes without a limit). */
int64_t sv_max_pad_for_mode(sv_pad_mode mode, int64_t n);

/* Checks that the tensors are non-NULL (bit i of optional_mask allows tensors[i] to be NULL)
 * and belong to ctx. */
sv_status sv_check_tensors(sv_context *ctx, const char *op, int count, const sv_tensor **tensors,
                           unsigned optional_mask);
/* Checks that y has the expected shape. */
sv_status sv_check_output_shape(sv_context *ctx, const char *op, const sv_tensor *y, int rank,
                                const int64_t *dims);

/* Sets kernel arguments in order; the first failure sticks in rc. */
typedef struct sv_kernel_args {
    cl_kernel kernel;
    cl_uint next;
    cl_int rc;
} sv_kernel_args;

void sv_arg(sv_kernel_args *a, size_t size, const void *value);

static inline void sv_arg_mem(sv_kernel_args *a, cl_mem value) {
    sv_arg(a, sizeof value, &value);
}
static inline void sv_arg_int(sv_kernel_args *a, int value) {
    cl_int v = value;
    sv_arg(a, sizeof v, &v);
}
static inline void sv_arg_float(sv_kernel_args *a, float value) {
    cl_float v = value;
    sv_arg(a, sizeof v, &v);
}

static inline size_t sv_round_up(size_t n, size_t multiple) {
    return (n + multiple - 1) / multiple * multiple;
}

/* Checks the layout of a 1-D or 2-D windowed op (convolution, pooling): spatial_dims is 1 or 2
 * and the input has rank spatial_dims + 2. */
sv_status sv_check_spatial_layout(const char *op, int spatial_dims, int rank, sv_message *err);
/* Checks spatial axis `axis` of a windowed op: stride and dilation >= 1, pads >= 0. */
sv_status sv_check_window_axis(const char *op, int axis, int stride, int dilation, int pad_begin,
                               int pad_end, sv_message *err);

/* Checks what a convolution and a transposed convolution share: groups >= 1 and every dimension
 * of the input and the weight in 1..INT_MAX. */
sv_status sv_check_conv_extents(const char *op, int groups, int rank, const int64_t *x_dims,
                                const int64_t *w_dims, sv_message *err);
/* The tensor checks a convolution or a transposed convolution starts with: x, w and y present
 * (b optional) and on ctx, the weight of the input's rank, the bias of rank 1. */
sv_status sv_check_conv_tensors(sv_context *ctx, const char *op, const sv_tensor *x,
                                const sv_tensor *w, const sv_tensor *b, const sv_tensor *y);

/* The geometry the convolution kernels (conv.cl, conv_transpose.cl) take: always 2-D, int-sized;
 * a 1-D op runs with a height of 1. k is the output channel count. */
typedef struct sv_conv_geometry {
    int n, c, h, w, k, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, groups;
} sv_conv_geometry;

/* The geometry of a convolution or transposed convolution of x with weight w into y, with
 * spatial_dims entries each of stride, dilation and pad_begin. */
/* The geometry from shapes: x, w and y of rank spatial_dims + 2. */
sv_conv_geometry sv_conv_geometry_of_dims(int spatial_dims, const int *stride, const int *dilation,
                                          const int *pad_begin, int groups, const int64_t *x_dims,
                                          const int64_t *w_dims, const int64_t *y_dims);
sv_conv_geometry sv_conv_geometry_of(int spatial_dims, const int *stride, const int *dilation,
                                     const int *pad_begin, int groups, const sv_tensor *x,
                                     const sv_tensor *w, const sv_tensor *y);

/* Output channels each work-item computes: 4 share every input load, unless a group has fewer. */
int sv_conv_channel_block(const sv_conv_geometry *g);

/* Work-items along the kernels' third axis: one per image, group and block of `block` output
 * channels. */
size_t sv_conv_channel_items(const sv_conv_geometry *g, int block);

/* Sets the arguments both convolution kernels begin with: x, w, the bias (w's buffer, never read,
 * when b is NULL), whether there is a bias, y, then the geometry in the order of its fields. */
void sv_conv_args(sv_kernel_args *a, const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                  const sv_tensor *y, const sv_conv_geometry *g);

/* Enqueues an NDRange on the context's queue; `name` goes into the error message. Every kernel
 * of the library is enqueued here, so that guard mode can check the guards after each. */
sv_status sv_enqueue(sv_context *ctx, cl_kernel kernel, cl_uint dims, const size_t *global,
                     const size_t *local, const char *name);

#endif
