/* The transposed convolution's algorithm choice (shared with the model's layer table) and its
 * column workspace (which a model counts and shares between its layers). */
#ifndef SV_CONV_TRANSPOSE_H
#define SV_CONV_TRANSPOSE_H

#include "core/internal.h"

/* The algorithm sv_conv_transpose runs on ctx's OpenCL device for parameters p (already
 * validated), an input of dims x_dims and a weight of dims w_dims (both of rank
 * p->spatial_dims + 2): p->algorithm when it names one, else the automatic rule. */
sv_conv_transpose_algorithm sv_conv_transpose_algorithm_of(const sv_context *ctx,
                                                           const sv_conv_transpose_params *p,
                                                           const int64_t *x_dims,
                                                           const int64_t *w_dims);

/* sv_conv_transpose with the GEMM algorithm's column workspace held to at most workspace_bytes
 * (sv_conv_transpose: 256 MiB), so that tests reach the chunking with small tensors. */
sv_status sv_conv_transpose_with_workspace(sv_context *ctx, const sv_conv_transpose_params *p,
                                           const sv_tensor *x, const sv_tensor *w,
                                           const sv_tensor *b, sv_tensor *y,
                                           uint64_t workspace_bytes);

/* Floats of column workspace sv_conv_transpose uses on ctx's device for an input of dims x_dims
 * and a weight of dims w_dims (validated): the GEMM algorithm's columns for as many images as
 * fit together, 0 where the gather algorithm runs. */
size_t sv_conv_transpose_workspace_count(const sv_context *ctx, const sv_conv_transpose_params *p,
                                         const int64_t *x_dims, const int64_t *w_dims);

/* sv_conv_transpose with its columns in `workspace`, a buffer of workspace_count floats (as a
 * model runs it, in the scratch its layers share); where that is NULL or smaller than
 * sv_conv_transpose_workspace_count, in a buffer of the call's own. */
sv_status sv_conv_transpose_in_workspace(sv_context *ctx, const sv_conv_transpose_params *p,
                                         const sv_tensor *x, const sv_tensor *w, const sv_tensor *b,
                                         sv_tensor *y, cl_mem workspace, size_t workspace_count);

/* How layer tables name an algorithm: "CLBlast SGEMM + col2im" or "direct (gather)". */
const char *sv_conv_transpose_algorithm_label(sv_conv_transpose_algorithm algorithm);

#endif
