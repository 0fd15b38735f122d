/* Helpers every op's host side uses: argument checks, kernel arguments, enqueueing. */
#ifndef SV_OP_COMMON_H
#define SV_OP_COMMON_H

#include "core/internal.h"

/* Checks that an activation's kind is known and its parameters make sense. */
sv_status sv_validate_activation(const sv_activation *act, const char *op, sv_message *err);
const char *sv_pad_mode_name(sv_pad_mode mode);

/* Checks that the tensors are non-NULL (bit i of optional_mask allows tensors[i] to be NULL)
 * and belong to ctx. */
sv_status sv_check_tensors(sv_context *ctx, const char *op, int count, const sv_tensor **tensors,
                           unsigned optional_mask);
/* Checks that y has the expected shape. */
sv_status sv_check_output_shape(sv_context *ctx, const char *op, const sv_tensor *y, int rank,
                                const int64_t *dims);

/* The convolution algorithm an OpenCL device runs for these parameters: the one asked for, or
 * for SV_CONV_AUTO direct on GPUs and the register-blocked kernel on CPUs, unless a group has
 * too few output channels to fill its 8 lanes. */
sv_conv_algorithm sv_conv_resolve_algorithm(const sv_context *ctx, const sv_conv_params *p,
                                            int64_t out_per_group);

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

/* Enqueues an NDRange on the context's queue; `name` goes into the error message. */
sv_status sv_enqueue(sv_context *ctx, cl_kernel kernel, cl_uint dims, const size_t *global,
                     const size_t *local, const char *name);

#endif
