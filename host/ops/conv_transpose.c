/* Transposed convolution, 1-D and 2-D: parameter validation and output shape (pure), then
 * dispatch to the reference path or one of two OpenCL algorithms. A 1-D transposed convolution
 * runs as a 2-D one with a height of 1.
 *
 * Output position o of an axis is position o + pad_begin of the full (uncropped) output, which
 * input position i reaches through kernel tap k when o + pad_begin = i * stride + k * dilation.
 * output_padding (or output_size) only lengthens the axis at its end.
 *
 * Algorithms on OpenCL devices:
 *  - gather: conv_transpose2d_gather (kernels_cl/conv_transpose.cl), one pass, no workspace;
 *  - GEMM + col2im: per image n and group g, CLBlast computes the columns
 *    W_g^T X_{n,g} = [C_out/g * kH * kW, H * W] (W_g: the group's [C_in/g, C_out/g * kH * kW]
 *    rows of the weight, X_{n,g}: the group's [C_in/g, H * W] input), then
 *    conv_transpose2d_col2im sums for each output the column entries that land on it, adds the
 *    bias and applies the activation. The columns of a chunk of images live in a workspace of at
 *    most WORKSPACE_BYTES (and the device's largest allocation); the products are
 *    CLBlastSgemmStridedBatched over the chunk's images (one group: every image shares the
 *    weight) or, per image, over the groups.
 * Automatic choice: GEMM + col2im when each group's product has at least GEMM_MIN_ROWS rows
 * (C_out/g * kH * kW) and GEMM_MIN_DEPTH input channels, the sizes below which CLBlast's tiles
 * run mostly empty and the extra pass over the columns costs more than the product saves, and
 * one image's columns fit the workspace; else gather. */
#include "ops/conv_transpose.h"
#include "core/internal.h"
#include "ops/clblast_status.h"
#include "ops/op_common.h"
#include "ref/ref.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { GEMM_MIN_ROWS = 16, GEMM_MIN_DEPTH = 8 };
#define WORKSPACE_BYTES ((uint64_t)256 << 20)

sv_conv_transpose_params sv_conv_transpose_params_default(int spatial_dims) {
    sv_conv_transpose_params p;
    memset(&p, 0, sizeof p);
    p.spatial_dims = spatial_dims;
    for (int i = 0; i < 2; i++) {
        p.stride[i] = 1;
        p.dilation[i] = 1;
    }
    p.groups = 1;
    p.activation.kind = SV_ACT_NONE;
    return p;
}

sv_status sv_conv_transpose_output_shape(const sv_conv_transpose_params *p, int rank,
                                         const int64_t *x_dims, const int64_t *w_dims,
                                         const int64_t *bias_len, int64_t *out_dims,
                                         sv_message *err) {
    if (!p || !x_dims || !w_dims || !out_dims)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "conv_transpose: NULL parameters or shapes");
    sv_status st = sv_check_spatial_layout("conv_transpose", p->spatial_dims, rank, err);
    if (st != SV_OK)
        return st;
    const int sd = p->spatial_dims;
    st = sv_validate_activation(&p->activation, "conv_transpose", err);
    if (st != SV_OK)
        return st;
    if (p->algorithm < SV_CONV_TRANSPOSE_AUTO || p->algorithm >= SV_CONV_TRANSPOSE_ALGORITHM_END)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "conv_transpose: unknown algorithm %d",
                               (int)p->algorithm);
    st = sv_check_conv_extents("conv_transpose", p->groups, rank, x_dims, w_dims, err);
    if (st != SV_OK)
        return st;
    const int64_t channels = x_dims[1];
    if (channels % p->groups != 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "conv_transpose: input channels (%lld) must be divisible by groups "
                               "(%d)",
                               (long long)channels, p->groups);
    if (w_dims[0] != channels)
        return sv_fail_message(err, SV_SHAPE_MISMATCH,
                               "conv_transpose: weight [C_in, C_out / groups, ...] has %lld input "
                               "channels, the input has %lld",
                               (long long)w_dims[0], (long long)channels);
    const int64_t out_channels = w_dims[1] * p->groups;
    if (out_channels > INT_MAX)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "conv_transpose: %lld output channels (%lld per group x %d groups) "
                               "exceed %d",
                               (long long)out_channels, (long long)w_dims[1], p->groups, INT_MAX);
    if (bias_len && *bias_len != out_channels)
        return sv_fail_message(
            err, SV_SHAPE_MISMATCH,
            "conv_transpose: bias has %lld elements, expected one per output channel (%lld)",
            (long long)*bias_len, (long long)out_channels);
    int64_t dims[4] = {x_dims[0], out_channels, 1, 1};
    for (int i = 0; i < sd; i++) {
        const int64_t n = x_dims[2 + i], k = w_dims[2 + i];
        const int s = p->stride[i], d = p->dilation[i], pb = p->pad_begin[i], pe = p->pad_end[i];
        const int op = p->output_padding[i];
        const int64_t size = p->output_size[i];
        st = sv_check_window_axis("conv_transpose", i, s, d, pb, pe, err);
        if (st != SV_OK)
            return st;
        if (op < 0)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: output_padding (%d) of spatial axis %d must be "
                                   ">= 0",
                                   op, i);
        if (size < 0)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: output_size (%lld) of spatial axis %d must be "
                                   ">= 0 (0: derived from output_padding)",
                                   (long long)size, i);
        /* at most 2^31 * 2^31 + 2^31 * 2^31: no overflow in 64 bits */
        const int64_t full = (int64_t)s * (n - 1) + (int64_t)d * (k - 1) + 1;
        const int64_t natural = full - pb - pe;
        int64_t out;
        if (size > 0) {
            if (size < natural)
                return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                       "conv_transpose: output_size %lld of spatial axis %d is "
                                       "smaller than %lld, the size with output_padding 0",
                                       (long long)size, i, (long long)natural);
            out = size;
        } else {
            out = natural + op;
        }
        if (out < 1)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: padding (%d, %d) of spatial axis %d leaves no "
                                   "output: the full output has %lld positions, output_padding "
                                   "%d",
                                   pb, pe, i, (long long)full, op);
        if (out > INT_MAX)
            return sv_fail_message(err, SV_INVALID_ARGUMENT,
                                   "conv_transpose: output size %lld of spatial axis %d is outside "
                                   "1..%d",
                                   (long long)out, i, INT_MAX);
        dims[2 + i] = out;
    }
    for (int i = 0; i < rank; i++)
        out_dims[i] = dims[i];
    return SV_OK;
}

/* --- algorithm choice ----------------------------------------------------------------------- */

/* a * b for positive a and b, or limit + 1 when that exceeds limit. */
static uint64_t product_capped(uint64_t a, uint64_t b, uint64_t limit) {
    return a > limit / b ? limit + 1 : a * b;
}

/* Floats a column workspace of at most `bytes` may hold on ctx's device. */
static uint64_t workspace_floats(const sv_context *ctx, uint64_t bytes) {
    const uint64_t max_alloc = ctx->device.max_alloc_bytes;
    return (max_alloc && max_alloc < bytes ? max_alloc : bytes) / sizeof(float);
}

/* Floats of one image's columns, C_out * kH * kW rows of H * W, or more than `limit` when they
 * exceed it. */
static uint64_t image_columns(int spatial_dims, const int64_t *x_dims, const int64_t *w_dims,
                              int groups, uint64_t limit) {
    uint64_t n = product_capped((uint64_t)w_dims[1], (uint64_t)groups, limit);
    for (int i = 2; i < spatial_dims + 2; i++) {
        n = product_capped(n, (uint64_t)w_dims[i], limit);
        n = product_capped(n, (uint64_t)x_dims[i], limit);
    }
    return n;
}

/* Images whose columns fit the workspace together (at most the batch); 0 when one does not. */
static int images_per_chunk(uint64_t limit, const sv_conv_transpose_params *p,
                            const int64_t *x_dims, const int64_t *w_dims) {
    const uint64_t per_image = image_columns(p->spatial_dims, x_dims, w_dims, p->groups, limit);
    if (per_image > limit)
        return 0;
    const uint64_t images = limit / per_image;
    return images < (uint64_t)x_dims[0] ? (int)images : (int)x_dims[0];
}

sv_conv_transpose_algorithm sv_conv_transpose_algorithm_of(const sv_context *ctx,
                                                           const sv_conv_transpose_params *p,
                                                           const int64_t *x_dims,
                                                           const int64_t *w_dims) {
    if (p->algorithm != SV_CONV_TRANSPOSE_AUTO)
        return p->algorithm;
    int64_t rows = w_dims[1];
    for (int i = 2; i < p->spatial_dims + 2; i++)
        /* factors capped at GEMM_MIN_ROWS compare alike and cannot overflow */
        rows *= w_dims[i] < GEMM_MIN_ROWS ? w_dims[i] : GEMM_MIN_ROWS;
    const int large = rows >= GEMM_MIN_ROWS && w_dims[0] / p->groups >= GEMM_MIN_DEPTH;
    return large && images_per_chunk(workspace_floats(ctx, WORKSPACE_BYTES), p, x_dims, w_dims) > 0
               ? SV_CONV_TRANSPOSE_GEMM
               : SV_CONV_TRANSPOSE_GATHER;
}

const char *sv_conv_transpose_algorithm_label(sv_conv_transpose_algorithm algorithm) {
    return algorithm == SV_CONV_TRANSPOSE_GEMM ? "CLBlast SGEMM + col2im" : "direct (gather)";
}

/* --- OpenCL --------------------------------------------------------------------------------- */

/* The kernels compute positions as int: the full output extent (stride * (n - 1) + dilation *
 * (k - 1) + 1) and the output size plus pad_begin must both fit. */
static int fits_int(int64_t n, int64_t k, int stride, int dilation, int64_t out, int pad_begin) {
    const int64_t full = (int64_t)stride * (n - 1) + (int64_t)dilation * (k - 1) + 1;
    return full <= INT_MAX && out + pad_begin <= INT_MAX;
}

/* The program both kernels come from: one build per activation and channel block. */
static sv_status kernel_of(sv_context *ctx, const sv_conv_transpose_params *p,
                           const sv_conv_geometry *g, const char *name, cl_kernel *out) {
    char options[256];
    snprintf(options, sizeof options, "-DSV_ACT=%d -DOC_BLOCK=%d", (int)p->activation.kind,
             sv_conv_channel_block(g));
    return sv_program_kernel(ctx, "conv_transpose", options, name, out);
}

/* Work-items along an output axis of size `out` with stride `stride`: outputs of the same phase
 * (out position mod stride) form one contiguous run of `per_phase` work-items (rounded up to the
 * work-group size), so a work-group shares one set of contributing kernel taps and reads
 * consecutive inputs. There are min(stride, out) phases holding outputs. */
static size_t phase_major_size(int out, int stride, size_t local, int *per_phase) {
    const size_t runs = (size_t)(stride < out ? stride : out);
    const size_t rounded = sv_round_up(((size_t)out + (size_t)stride - 1) / (size_t)stride, local);
    *per_phase = (int)rounded;
    return runs * rounded;
}

static sv_status run_gather(sv_context *ctx, const sv_conv_transpose_params *p,
                            const sv_conv_geometry *g, const sv_tensor *x, const sv_tensor *w,
                            const sv_tensor *b, sv_tensor *y) {
    const size_t local[3] = {g->ow / g->sw >= 16 ? 16 : 8, g->oh / g->sh >= 4 ? 4 : 1, 1};
    int per_phase_w, per_phase_h;
    const size_t global0 = phase_major_size(g->ow, g->sw, local[0], &per_phase_w);
    const size_t global1 = phase_major_size(g->oh, g->sh, local[1], &per_phase_h);
    if (global0 > INT_MAX || global1 > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv_transpose: output of %d x %d with strides %d, %d needs more than %d "
                       "work-items per axis",
                       g->oh, g->ow, g->sh, g->sw, INT_MAX);
    cl_kernel kernel;
    sv_status st = kernel_of(ctx, p, g, "conv_transpose2d_gather", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_conv_args(&args, x, w->buffer, b, y, g);
    sv_arg_int(&args, per_phase_h);
    sv_arg_int(&args, per_phase_w);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(conv_transpose2d_gather)");
    const size_t global[3] = {global0, global1, sv_conv_channel_items(g, sv_conv_channel_block(g))};
    return sv_enqueue(ctx, kernel, 3, global, local, "conv_transpose2d_gather");
}

/* `batch` products [rows, H*W] = W_g^T [C_in/g, H*W], the i-th reading the weight at
 * i * w_stride, the input at x_offset + i * (C_in/g * H*W) and writing the columns at
 * cols_offset + i * (rows * H*W): Sgemm for one, else CLBlastSgemmStridedBatched. */
static sv_status columns(sv_context *ctx, const sv_conv_geometry *g, cl_mem w, size_t w_stride,
                         cl_mem x, size_t x_offset, cl_mem cols, size_t cols_offset, size_t batch) {
    const size_t depth = (size_t)(g->c / g->groups);
    const size_t rows = (size_t)(g->k / g->groups) * (size_t)g->kh * (size_t)g->kw;
    const size_t plane = (size_t)g->h * (size_t)g->w;
    CLBlastStatusCode rc;
    if (batch == 1) {
        rc = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo, rows,
                          plane, depth, 1.0f, w, 0, rows, x, x_offset, plane, 0.0f, cols,
                          cols_offset, plane, &ctx->queue, NULL);
        return sv_clblast_result(ctx, "conv_transpose", "CLBlastSgemm", rc);
    }
    rc = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo,
                                    rows, plane, depth, 1.0f, w, 0, rows, w_stride, x, x_offset,
                                    plane, depth * plane, 0.0f, cols, cols_offset, plane,
                                    rows * plane, batch, &ctx->queue, NULL);
    return sv_clblast_result(ctx, "conv_transpose", "CLBlastSgemmStridedBatched", rc);
}

/* The columns of images first .. first + images - 1, image after image, each group's block after
 * the previous group's. With one group every image's product reads the same weight (stride 0),
 * so one call covers the chunk; with several, the groups of an image are one call. */
static sv_status chunk_columns(sv_context *ctx, const sv_conv_geometry *g, const sv_tensor *x,
                               const sv_tensor *w, int first, int images, cl_mem cols) {
    const size_t image_in = (size_t)g->c * (size_t)g->h * (size_t)g->w;
    if (g->groups == 1)
        return columns(ctx, g, w->buffer, 0, x->buffer, (size_t)first * image_in, cols, 0,
                       (size_t)images);
    const size_t group_weight =
        (size_t)(g->c / g->groups) * (size_t)(g->k / g->groups) * (size_t)g->kh * (size_t)g->kw;
    const size_t image_cols =
        (size_t)g->k * (size_t)g->kh * (size_t)g->kw * (size_t)g->h * (size_t)g->w;
    for (int t = 0; t < images; t++) {
        const sv_status st =
            columns(ctx, g, w->buffer, group_weight, x->buffer, (size_t)(first + t) * image_in,
                    cols, (size_t)t * image_cols, (size_t)g->groups);
        if (st != SV_OK)
            return st;
    }
    return SV_OK;
}

static sv_status col2im(sv_context *ctx, const sv_conv_transpose_params *p,
                        const sv_conv_geometry *g, cl_mem cols, const sv_tensor *b, sv_tensor *y,
                        cl_mem bias_fallback, int first, int images) {
    cl_kernel kernel;
    sv_status st = kernel_of(ctx, p, g, "conv_transpose2d_col2im", &kernel);
    if (st != SV_OK)
        return st;
    sv_kernel_args args = {kernel, 0, CL_SUCCESS};
    sv_arg_mem(&args, cols);
    sv_arg_mem(&args, b ? b->buffer : bias_fallback);
    sv_arg_int(&args, b != NULL);
    sv_arg_mem(&args, y->buffer);
    const int ints[] = {first, g->k,  g->oh, g->ow, g->h,  g->w,  g->kh,
                        g->kw, g->sh, g->sw, g->dh, g->dw, g->ph, g->pw};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        sv_arg_int(&args, ints[i]);
    sv_arg_float(&args, p->activation.alpha);
    sv_arg_float(&args, p->activation.beta);
    if (args.rc != CL_SUCCESS)
        return sv_fail_cl(ctx, args.rc, "clSetKernelArg(conv_transpose2d_col2im)");
    const size_t local[3] = {g->ow >= 16 ? 16 : 8, g->oh >= 4 ? 4 : 1, 1};
    const size_t global[3] = {sv_round_up((size_t)g->ow, local[0]),
                              sv_round_up((size_t)g->oh, local[1]), (size_t)images * (size_t)g->k};
    return sv_enqueue(ctx, kernel, 3, global, local, "conv_transpose2d_col2im");
}

/* The GEMM + col2im algorithm, its columns in `workspace` where that holds `workspace_count` floats
 * or more for a chunk, else in a buffer of the call's own. */
static sv_status run_gemm(sv_context *ctx, const sv_conv_transpose_params *p,
                          const sv_conv_geometry *g, const sv_tensor *x, const sv_tensor *w,
                          const sv_tensor *b, sv_tensor *y, uint64_t workspace_bytes,
                          cl_mem workspace, size_t workspace_count) {
    const uint64_t limit = workspace_floats(ctx, workspace_bytes);
    const int chunk = images_per_chunk(limit, p, x->dims, w->dims);
    const double image_mib = (double)g->k * g->kh * g->kw * g->h * g->w * sizeof(float) / 1048576.0;
    if (chunk < 1)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv_transpose: algorithm GEMM needs %.1f MiB of columns for one image, "
                       "more than its workspace of %.1f MiB",
                       image_mib, (double)limit * sizeof(float) / 1048576.0);
    const size_t image_cols =
        (size_t)g->k * (size_t)g->kh * (size_t)g->kw * (size_t)g->h * (size_t)g->w;
    const int own = !workspace || workspace_count < (size_t)chunk * image_cols;
    cl_mem cols = workspace;
    sv_status st = own ? sv_device_buffer_create(ctx, CL_MEM_READ_WRITE,
                                                 (size_t)chunk * image_cols * sizeof(float), NULL,
                                                 "conv_transpose columns", &cols)
                       : SV_OK;
    for (int first = 0; first < g->n && st == SV_OK; first += chunk) {
        const int images = g->n - first < chunk ? g->n - first : chunk;
        st = chunk_columns(ctx, g, x, w, first, images, cols);
        if (st == SV_OK)
            st = col2im(ctx, p, g, cols, b, y, w->buffer, first, images);
    }
    /* OpenCL keeps the buffer alive until the queued commands that use it are done */
    if (own)
        sv_device_buffer_release(ctx, cols);
    return st;
}

static sv_status conv_transpose_cl(sv_context *ctx, const sv_conv_transpose_params *p,
                                   const sv_tensor *x, const sv_tensor *w, const sv_tensor *b,
                                   sv_tensor *y, uint64_t workspace_bytes, cl_mem workspace,
                                   size_t workspace_count) {
    if (x->count > INT_MAX || w->count > INT_MAX || y->count > INT_MAX)
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv_transpose: tensors of more than %d elements are not supported on "
                       "OpenCL devices",
                       INT_MAX);
    const sv_conv_geometry g = sv_conv_geometry_of(p->spatial_dims, p->stride, p->dilation,
                                                   p->pad_begin, p->groups, x, w, y);
    if (!fits_int(g.h, g.kh, g.sh, g.dh, g.oh, g.ph) ||
        !fits_int(g.w, g.kw, g.sw, g.dw, g.ow, g.pw))
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "conv_transpose: output positions beyond %d are not supported on OpenCL "
                       "devices",
                       INT_MAX);
    if (sv_conv_transpose_algorithm_of(ctx, p, x->dims, w->dims) == SV_CONV_TRANSPOSE_GEMM)
        return run_gemm(ctx, p, &g, x, w, b, y, workspace_bytes, workspace, workspace_count);
    return run_gather(ctx, p, &g, x, w, b, y);
}

/* Validates, then runs on the reference path or the OpenCL device (with the workspace as in
 * run_gemm). */
static sv_status conv_transpose_checked(sv_context *ctx, const sv_conv_transpose_params *p,
                                        const sv_tensor *x, const sv_tensor *w, const sv_tensor *b,
                                        sv_tensor *y, uint64_t workspace_bytes, cl_mem workspace,
                                        size_t workspace_count) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    sv_status st = sv_check_conv_tensors(ctx, "conv_transpose", x, w, b, y);
    if (st != SV_OK)
        return st;
    sv_message msg;
    int64_t out_dims[SV_MAX_RANK];
    st = sv_conv_transpose_output_shape(p, x->rank, x->dims, w->dims, b ? &b->dims[0] : NULL,
                                        out_dims, &msg);
    if (st != SV_OK)
        return sv_fail_from_message(ctx, st, &msg);
    st = sv_check_output_shape(ctx, "conv_transpose", y, x->rank, out_dims);
    if (st != SV_OK)
        return st;
    if (sv_context_is_ref(ctx)) {
        sv_host_view xv = sv_tensor_host_view(x), wv = sv_tensor_host_view(w),
                     yv = sv_tensor_host_view(y);
        sv_host_view bv = b ? sv_tensor_host_view(b) : sv_host_view_make(NULL, 0, NULL);
        sv_ref_conv_transpose(p, &xv, &wv, b ? &bv : NULL, &yv);
        return SV_OK;
    }
    return conv_transpose_cl(ctx, p, x, w, b, y, workspace_bytes, workspace, workspace_count);
}

sv_status sv_conv_transpose(sv_context *ctx, const sv_conv_transpose_params *p, const sv_tensor *x,
                            const sv_tensor *w, const sv_tensor *b, sv_tensor *y) {
    return conv_transpose_checked(ctx, p, x, w, b, y, WORKSPACE_BYTES, NULL, 0);
}

sv_status sv_conv_transpose_with_workspace(sv_context *ctx, const sv_conv_transpose_params *p,
                                           const sv_tensor *x, const sv_tensor *w,
                                           const sv_tensor *b, sv_tensor *y,
                                           uint64_t workspace_bytes) {
    return conv_transpose_checked(ctx, p, x, w, b, y, workspace_bytes, NULL, 0);
}

size_t sv_conv_transpose_workspace_count(const sv_context *ctx, const sv_conv_transpose_params *p,
                                         const int64_t *x_dims, const int64_t *w_dims) {
    if (sv_context_is_ref(ctx) ||
        sv_conv_transpose_algorithm_of(ctx, p, x_dims, w_dims) != SV_CONV_TRANSPOSE_GEMM)
        return 0;
    const uint64_t limit = workspace_floats(ctx, WORKSPACE_BYTES);
    /* a chunk fits the limit, so the product does too */
    return (size_t)images_per_chunk(limit, p, x_dims, w_dims) *
           (size_t)image_columns(p->spatial_dims, x_dims, w_dims, p->groups, limit);
}

sv_status sv_conv_transpose_in_workspace(sv_context *ctx, const sv_conv_transpose_params *p,
                                         const sv_tensor *x, const sv_tensor *w, const sv_tensor *b,
                                         sv_tensor *y, cl_mem workspace, size_t workspace_count) {
    return conv_transpose_checked(ctx, p, x, w, b, y, WORKSPACE_BYTES, workspace, workspace_count);
}
