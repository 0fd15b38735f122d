/* The CPU reference path: plain C, double accumulation, written for clarity and never tuned.
 * It is the oracle every OpenCL kernel is checked against, and the "ref" device.
 * Every function assumes its parameters and shapes were validated by the op's shape helper. */
#ifndef SV_REF_H
#define SV_REF_H

#include "svertka.h"

/* y = activation(conv(x, w) + b); b may be NULL. */
void sv_ref_conv(const sv_conv_params *p, const sv_host_view *x, const sv_host_view *w,
                 const sv_host_view *b, sv_host_view *y);

/* y = activation(conv_transpose(x, w) + b); b may be NULL. */
void sv_ref_conv_transpose(const sv_conv_transpose_params *p, const sv_host_view *x,
                           const sv_host_view *w, const sv_host_view *b, sv_host_view *y);

/* indices may be NULL (max pooling only). */
void sv_ref_pool(const sv_pool_params *p, const sv_host_view *x, sv_host_view *y,
                 sv_host_view *indices);

void sv_ref_softmax(const sv_softmax_params *p, const sv_host_view *x, sv_host_view *y);

/* c may be NULL. */
void sv_ref_gemm(const sv_gemm_params *p, const sv_host_view *a, const sv_host_view *b,
                 const sv_host_view *c, sv_host_view *y);
void sv_ref_matmul(const sv_host_view *a, const sv_host_view *b, sv_host_view *y);

void sv_ref_activation(const sv_activation *act, const sv_host_view *x, sv_host_view *y);
void sv_ref_binary(sv_binary_op op, const sv_host_view *a, const sv_host_view *b, sv_host_view *y);

void sv_ref_batch_norm(const sv_batch_norm_params *p, const sv_host_view *x,
                       const sv_host_view *scale, const sv_host_view *bias,
                       const sv_host_view *mean, const sv_host_view *var, sv_host_view *y);
void sv_ref_lrn(const sv_lrn_params *p, const sv_host_view *x, sv_host_view *y);

/* axis is already non-negative. */
void sv_ref_concat(int axis, int count, const sv_host_view *inputs, sv_host_view *y);
void sv_ref_pad(const sv_pad_params *p, const sv_host_view *x, sv_host_view *y);
void sv_ref_transpose(const int *perm, const sv_host_view *x, sv_host_view *y);
void sv_ref_resize(const sv_resize_params *p, const sv_host_view *x, sv_host_view *y);

/* The activation, evaluated in double precision. */
double sv_ref_activate(const sv_activation *act, double v);

#endif
