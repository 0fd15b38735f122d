/*
 * svertka: a CNN inference runtime on OpenCL, with a plain-C reference path.
 *
 * The one public header. C99 and C++ compatible; every object is an opaque handle.
 *
 * Conventions:
 *  - every fallible call returns sv_status (0 = SV_OK, negative = error) and writes its
 *    out-parameters only on success;
 *  - the library never prints, exits or aborts: a failing call on a context records a message
 *    retrievable with sv_last_error(); calls made without a context take an optional
 *    sv_message* that receives it;
 *  - threads: a context and its tensors are used from one thread at a time; different contexts
 *    may be used from different threads at once (fully parallel); a model's run, set_batch and
 *    layer_output calls lock the model, so threads may share one model and take turns (see
 *    "Models" below).
 */
#ifndef SVERTKA_H
#define SVERTKA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the library's exported functions; everything else in the shared library is hidden. */
#if defined(SV_BUILDING_LIBRARY) && defined(__GNUC__)
#define SV_API __attribute__((visibility("default")))
#else
#define SV_API
#endif

#define SV_VERSION_MAJOR 0
#define SV_VERSION_MINOR 1
#define SV_VERSION_PATCH 0

/* Library version as "MAJOR.MINOR.PATCH". */
SV_API const char *sv_version(void);

/* ---------------------------------------------------------------------------------------------
 * Status codes. SV_STATUS_MAP(X) expands X(NAME, value, "description") once per code.
 * ------------------------------------------------------------------------------------------- */
#define SV_STATUS_MAP(X)                                                                           \
    X(OK, 0, "success")                                                                            \
    X(INVALID_ARGUMENT, -1, "invalid argument")                                                    \
    X(SHAPE_MISMATCH, -2, "tensor shape does not match the operation")                             \
    X(OUT_OF_MEMORY, -3, "out of memory")                                                          \
    X(NO_DEVICE, -4, "no matching compute device")                                                 \
    X(OPENCL, -5, "OpenCL call failed")                                                            \
    X(BUILD_FAILED, -6, "OpenCL program build failed")                                             \
    X(UNSUPPORTED, -7, "operation or parameter not supported")                                     \
    X(IO, -8, "input/output error")                                                                \
    X(WRONG_CONTEXT, -9, "objects belong to different contexts")                                   \
    X(INTERNAL_ERROR, -10, "internal error: a library defect (a kernel wrote out of bounds)")

typedef enum sv_status {
#define SV_STATUS_ENUM_(name, value, text) SV_##name = value,
    SV_STATUS_MAP(SV_STATUS_ENUM_)
#undef SV_STATUS_ENUM_
} sv_status;

/* "SV_INVALID_ARGUMENT" etc.; "SV_UNKNOWN_STATUS" for a value that is not a status. */
SV_API const char *sv_status_name(sv_status status);
/* A short English description of the code. */
SV_API const char *sv_status_string(sv_status status);

/* A caller-owned buffer for the message of a call that has no context (device listing,
 * context creation, output-shape helpers). Pass NULL where the message is not wanted. */
typedef struct sv_message {
    char text[1024];
} sv_message;

/* ---------------------------------------------------------------------------------------------
 * Devices
 * ------------------------------------------------------------------------------------------- */
typedef enum sv_device_kind {
    SV_DEVICE_REF = 0, /* the plain-C CPU reference path */
    SV_DEVICE_GPU,
    SV_DEVICE_CPU,
    SV_DEVICE_ACCELERATOR,
    SV_DEVICE_OTHER
} sv_device_kind;

typedef struct sv_device_info {
    int platform_index; /* -1 for the reference device */
    int device_index;   /* index within its platform; -1 for the reference device */
    sv_device_kind kind;
    char name[256];
    char vendor[256];
    char platform_name[256];
    char driver_version[128];
    char device_version[128]; /* e.g. "OpenCL 3.0 CUDA" */
    unsigned compute_units;
    unsigned max_clock_mhz;
    uint64_t global_mem_bytes; /* 0 on the reference device: no limit but the host's memory */
    uint64_t max_alloc_bytes;  /* the largest single buffer; 0 on the reference device */
    uint64_t local_mem_bytes;
    size_t max_work_group_size;
    double peak_gflops; /* fp32 peak where it can be derived (NVIDIA GPUs), else 0 */
    int is_default;     /* 1 for the device an empty spec selects */
} sv_device_info;

/* Lists every OpenCL device of every platform. Writes min(count, capacity) entries to infos
 * (which may be NULL when capacity is 0) and the total number to *count. A machine with no
 * OpenCL platform is not an error: *count is 0. */
SV_API sv_status sv_devices_list(sv_device_info *infos, size_t capacity, size_t *count,
                                 sv_message *err);

/* Resolves a device spec to a description without creating a context. Specs:
 *   NULL or ""      SVERTKA_DEVICE from the environment if set, else the default device
 *   "cl"            the default OpenCL device: the first GPU of any platform, else the first
 *                   device of any platform
 *   "gpu" / "cpu"   the first device of that type
 *   "cl:P:D"        device D of platform P (indices as sv_devices_list reports them)
 *   "ref"           the CPU reference path
 *   anything else   the first device whose name contains it (case-insensitive) */
SV_API sv_status sv_device_resolve(const char *spec, sv_device_info *info, sv_message *err);

/* ---------------------------------------------------------------------------------------------
 * Contexts
 * ------------------------------------------------------------------------------------------- */
typedef struct sv_context sv_context;

/* Creates a context on the device the spec names (see sv_device_resolve). */
SV_API sv_status sv_context_create(const char *device_spec, sv_context **out, sv_message *err);
/* Releases a context; tensors created on it must be released first. NULL is ignored. */
SV_API void sv_context_release(sv_context *ctx);
/* The device the context runs on. */
SV_API const sv_device_info *sv_context_device(const sv_context *ctx);
/* The message of the last failed call on this context ("" if none). Valid until the next call
 * on the context. */
SV_API const char *sv_last_error(const sv_context *ctx);
/* Waits until every operation enqueued on the context has finished. */
SV_API sv_status sv_context_finish(sv_context *ctx);

/* ---------------------------------------------------------------------------------------------
 * Tensors: fp32, rank 1..SV_MAX_RANK, dense, row-major (the last dimension varies fastest).
 * ------------------------------------------------------------------------------------------- */
#define SV_MAX_RANK 5

typedef struct sv_tensor sv_tensor;

/* A non-owning view of host memory with a shape: how host data is described to the library. */
typedef struct sv_host_view {
    float *data;
    int rank;
    int64_t dims[SV_MAX_RANK];
} sv_host_view;

/* A view of `data` with the given shape. Elements beyond rank are set to 1. */
SV_API sv_host_view sv_host_view_make(float *data, int rank, const int64_t *dims);
/* Number of elements in the view (product of its dims). */
SV_API int64_t sv_host_view_count(const sv_host_view *view);

/* Allocates an uninitialised tensor on the context's device. */
SV_API sv_status sv_tensor_create(sv_context *ctx, int rank, const int64_t *dims, sv_tensor **out);
/* Allocates a tensor of the view's shape and copies the view's data into it. */
SV_API sv_status sv_tensor_from_host(sv_context *ctx, const sv_host_view *view, sv_tensor **out);
SV_API void sv_tensor_release(sv_tensor *tensor);

SV_API int sv_tensor_rank(const sv_tensor *tensor);
/* Dimension i (0 <= i < rank), or 0 for an index out of range. */
SV_API int64_t sv_tensor_dim(const sv_tensor *tensor, int i);
SV_API int64_t sv_tensor_count(const sv_tensor *tensor);

/* Copies `count` floats (which must equal the tensor's element count) to or from the device;
 * both block until the copy is complete. */
SV_API sv_status sv_tensor_upload(sv_tensor *tensor, const float *host, int64_t count);
SV_API sv_status sv_tensor_download(const sv_tensor *tensor, float *host, int64_t count);

/* A tensor of another shape with the same element count that shares `tensor`'s storage: the
 * view that Flatten and Reshape need. Release it like any tensor; the storage lives until the
 * last tensor using it is released. */
SV_API sv_status sv_tensor_reshape(const sv_tensor *tensor, int rank, const int64_t *dims,
                                   sv_tensor **out);

/* ---------------------------------------------------------------------------------------------
 * Fused activation, applied to an op's output (after the bias).
 * ------------------------------------------------------------------------------------------- */
typedef enum sv_activation_kind {
    SV_ACT_NONE = 0,
    SV_ACT_RELU,       /* max(x, 0) */
    SV_ACT_LEAKY_RELU, /* x >= 0 ? x : alpha * x */
    SV_ACT_SIGMOID,    /* 1 / (1 + exp(-x)) */
    SV_ACT_TANH,
    SV_ACT_CLIP,         /* min(max(x, alpha), beta) */
    SV_ACT_ELU,          /* x >= 0 ? x : alpha * (exp(x) - 1) */
    SV_ACT_HARD_SIGMOID  /* max(0, min(1, alpha * x + beta)) */
} sv_activation_kind;

typedef struct sv_activation {
    sv_activation_kind kind;
    float alpha;
    float beta;
} sv_activation;

/* ---------------------------------------------------------------------------------------------
 * Convolution, 1-D (NCW) and 2-D (NCHW).
 *   input  x: [N, C_in, (H,) W]
 *   weight w: [C_out, C_in / groups, (kH,) kW]
 *   bias   b: [C_out] or NULL
 *   output y: [N, C_out, (H_out,) W_out], H_out = floor((H + pad_begin + pad_end
 *             - dilation * (kH - 1) - 1) / stride) + 1, likewise W_out.
 * Per-spatial-dimension arrays run in tensor order: index 0 is H for 2-D and W for 1-D.
 * ------------------------------------------------------------------------------------------- */
typedef enum sv_pad_mode {
    SV_PAD_ZERO = 0,  /* 0 0 | a b c | 0 0 */
    SV_PAD_REFLECT,   /* c b | a b c | b a   (pad < input size) */
    SV_PAD_SYMMETRIC, /* b a | a b c | c b   (pad <= input size) */
    SV_PAD_REPLICATE, /* a a | a b c | c c */
    SV_PAD_CIRCULAR   /* b c | a b c | a b   (pad <= input size) */
} sv_pad_mode;

/* How an OpenCL device computes a convolution; the reference path ignores it. An algorithm asked
 * for by name that cannot compute a convolution's shape (Winograd needs 3x3 kernels, stride 1,
 * dilation 1) fails with SV_UNSUPPORTED; SV_CONV_AUTO always finds one. */
typedef enum sv_conv_algorithm {
    SV_CONV_AUTO = 0,      /* the tuning database's choice for the device, else by shape */
    SV_CONV_DIRECT,        /* one output pixel per work-item, 4 output channels */
    SV_CONV_CPU_BLOCKED,   /* up to 32 channels x 8 pixels in registers, no local memory: CPUs */
    SV_CONV_IMPLICIT_GEMM, /* tiled GEMM of weights x im2col gathered into local memory: GPUs */
    SV_CONV_WINOGRAD_2X2,  /* Winograd F(2x2, 3x3): 3x3 stride 1 dilation 1, 2-D only */
    SV_CONV_WINOGRAD_4X4,  /* Winograd F(4x4, 3x3): the same, 4x fewer multiplies, less accurate */
    SV_CONV_ALGORITHM_END  /* one past the last algorithm, for iterating over them */
} sv_conv_algorithm;

/* The algorithm's name as the CLI, layer tables and the tuning database write it ("direct",
 * "cpu-blocked", ...; "auto"), or NULL for a value outside the enum. */
SV_API const char *sv_conv_algorithm_name(sv_conv_algorithm algorithm);

typedef struct sv_conv_params {
    int spatial_dims; /* 1 or 2 */
    int stride[2];
    int dilation[2];
    int pad_begin[2];
    int pad_end[2];
    int groups;
    sv_pad_mode pad_mode;
    sv_activation activation;
    sv_conv_algorithm algorithm;
    /* 1: y is the activated convolution max-pooled over 2x2 windows at stride 2, in one pass
     * (2-D only; y is [N, C_out, floor(H_out / 2), floor(W_out / 2)], a last odd row or column
     * dropped, as MaxPool without ceil_mode does; H_out and W_out must be at least 2). The
     * direct, CPU register block and Winograd algorithms compute it; implicit GEMM fails with
     * SV_UNSUPPORTED, and SV_CONV_AUTO takes one that can. 0: no pooling. */
    int max_pool_2x2;
} sv_conv_params;

/* Stride 1, dilation 1, no padding, one group, zero padding mode, no activation, automatic
 * algorithm, no pooling. */
SV_API sv_conv_params sv_conv_params_default(int spatial_dims);

/* Validates the parameters against the input and weight shapes (and the bias length, when
 * bias_dims is not NULL) and writes the output shape (rank = input rank) to out_dims. */
SV_API sv_status sv_conv_output_shape(const sv_conv_params *params, int rank, const int64_t *x_dims,
                                      const int64_t *w_dims, const int64_t *bias_len,
                                      int64_t *out_dims, sv_message *err);

/* y = activation(conv(x, w) + b). y must already have the output shape. */
SV_API sv_status sv_conv(sv_context *ctx, const sv_conv_params *params, const sv_tensor *x,
                         const sv_tensor *w, const sv_tensor *b, sv_tensor *y);

/* ---------------------------------------------------------------------------------------------
 * Transposed convolution ("deconvolution"), 1-D and 2-D: the adjoint of sv_conv with the same
 * stride, dilation, pads and groups.
 *   input  x: [N, C_in, (H,) W]
 *   weight w: [C_in, C_out / groups, (kH,) kW]   (the layout of the matching conv's weight)
 *   bias   b: [C_out] or NULL
 *   output y: [N, C_out, (H_out,) W_out], H_out = stride * (H - 1) + dilation * (kH - 1) + 1
 *             - pad_begin - pad_end + output_padding, likewise W_out; or output_size when > 0.
 * ------------------------------------------------------------------------------------------- */
/* How an OpenCL device computes a transposed convolution; the reference path ignores it. */
typedef enum sv_conv_transpose_algorithm {
    SV_CONV_TRANSPOSE_AUTO = 0, /* GEMM + col2im when a group's product is large enough (at least
                                   16 rows, C_out / groups * kH * kW, and 8 input channels per
                                   group) and one image's columns fit the workspace, else gather */
    SV_CONV_TRANSPOSE_GATHER,   /* one kernel: each output pixel gathers the inputs that reach it */
    SV_CONV_TRANSPOSE_GEMM,     /* CLBlast SGEMM (W^T x) into a column workspace of at most
                                   min(256 MiB, the device's largest allocation), then col2im;
                                   SV_UNSUPPORTED when one image's columns do not fit */
    SV_CONV_TRANSPOSE_ALGORITHM_END /* one past the last algorithm */
} sv_conv_transpose_algorithm;

typedef struct sv_conv_transpose_params {
    int spatial_dims; /* 1 or 2 */
    int stride[2];
    int dilation[2];
    int pad_begin[2];
    int pad_end[2];
    int output_padding[2]; /* >= 0: extra output at the end of each axis */
    int64_t output_size[2]; /* > 0: this output size, which must be at least the size with
                               output_padding 0; replaces output_padding */
    int groups;
    sv_activation activation;
    sv_conv_transpose_algorithm algorithm;
} sv_conv_transpose_params;

/* Stride 1, dilation 1, no padding or output padding, one group, no activation, automatic
 * algorithm. */
SV_API sv_conv_transpose_params sv_conv_transpose_params_default(int spatial_dims);
SV_API sv_status sv_conv_transpose_output_shape(const sv_conv_transpose_params *params, int rank,
                                                const int64_t *x_dims, const int64_t *w_dims,
                                                const int64_t *bias_len, int64_t *out_dims,
                                                sv_message *err);
SV_API sv_status sv_conv_transpose(sv_context *ctx, const sv_conv_transpose_params *params,
                                   const sv_tensor *x, const sv_tensor *w, const sv_tensor *b,
                                   sv_tensor *y);

/* ---------------------------------------------------------------------------------------------
 * Pooling, 1-D (NCW) and 2-D (NCHW). Output size per spatial axis:
 *   floor or ceil((in + pad_begin + pad_end - dilation * (kernel - 1) - 1) / stride) + 1,
 * where with ceil_mode a last window that would start in the end padding is dropped (the
 * PyTorch and ONNX rule). Padded cells never win a max; average divides by the cells inside the
 * input, or by the whole window with count_include_pad (end padding added by ceil_mode is never
 * counted); Lp and RMS take padded cells as 0. Pads must be smaller than the dilated kernel
 * extent and every window must cover an input cell. A NaN in a max window wins (the first NaN's
 * index).
 * ------------------------------------------------------------------------------------------- */
typedef enum sv_pool_kind {
    SV_POOL_MAX = 0,
    SV_POOL_AVERAGE,
    SV_POOL_LP, /* (sum |x|^p)^(1/p) */
    SV_POOL_RMS /* sqrt(mean x^2), the mean taken like average's */
} sv_pool_kind;

typedef struct sv_pool_params {
    int spatial_dims; /* 1 or 2 */
    sv_pool_kind kind;
    int global; /* 1: one window over the whole spatial extent; kernel, stride, pads ignored */
    int kernel[2];
    int stride[2];
    int dilation[2];
    int pad_begin[2];
    int pad_end[2];
    int ceil_mode;
    int count_include_pad;
    float p; /* SV_POOL_LP: the norm's order, > 0 */
} sv_pool_params;

/* Kernel 2, stride 2, dilation 1, no padding, floor mode, p = 2. */
SV_API sv_pool_params sv_pool_params_default(int spatial_dims, sv_pool_kind kind);
SV_API sv_status sv_pool_output_shape(const sv_pool_params *params, int rank,
                                      const int64_t *x_dims, int64_t *out_dims, sv_message *err);
/* indices (max pooling only; may be NULL): same shape as y, receives the position of each
 * maximum within its (n, c) plane as h * W + w, stored exactly as a float (the plane must then
 * have at most 2^24 elements); ties go to the first position in row-major order. */
SV_API sv_status sv_pool(sv_context *ctx, const sv_pool_params *params, const sv_tensor *x,
                         sv_tensor *y, sv_tensor *indices);

/* ---------------------------------------------------------------------------------------------
 * Softmax and log-softmax along one axis (negative: counted from the end), max-subtracted.
 * ------------------------------------------------------------------------------------------- */
typedef struct sv_softmax_params {
    int axis;
    int log; /* 1: log-softmax */
} sv_softmax_params;

SV_API sv_status sv_softmax(sv_context *ctx, const sv_softmax_params *params, const sv_tensor *x,
                            sv_tensor *y);

/* ---------------------------------------------------------------------------------------------
 * Matrix products (on OpenCL devices: a matrix-vector kernel for up to 8 rows, else CLBlast).
 * Gemm: Y[M, N] = activation(alpha * op(A) * op(B) + beta * C), op() transposing when asked;
 * A is [M, K] ([K, M] transposed), B is [K, N] ([N, K] transposed); C may be NULL or any shape
 * that broadcasts to [M, N] (NumPy rules): [N], [1, N], [M, 1], [M, N], [1].
 * MatMul: NumPy matmul of operands of rank 1 to 4; batch dimensions broadcast.
 * ------------------------------------------------------------------------------------------- */
typedef struct sv_gemm_params {
    float alpha;
    float beta;
    int trans_a;
    int trans_b;
    sv_activation activation;
} sv_gemm_params;

/* alpha 1, beta 1, no transposes, no activation. */
SV_API sv_gemm_params sv_gemm_params_default(void);
SV_API sv_status sv_gemm_output_shape(const sv_gemm_params *params, const int64_t *a_dims,
                                      const int64_t *b_dims, int c_rank, const int64_t *c_dims,
                                      int64_t *out_dims, sv_message *err);
SV_API sv_status sv_gemm(sv_context *ctx, const sv_gemm_params *params, const sv_tensor *a,
                         const sv_tensor *b, const sv_tensor *c, sv_tensor *y);
SV_API sv_status sv_matmul_output_shape(int a_rank, const int64_t *a_dims, int b_rank,
                                        const int64_t *b_dims, int *out_rank, int64_t *out_dims,
                                        sv_message *err);
SV_API sv_status sv_matmul(sv_context *ctx, const sv_tensor *a, const sv_tensor *b, sv_tensor *y);

/* ---------------------------------------------------------------------------------------------
 * Element-wise operations.
 * ------------------------------------------------------------------------------------------- */
/* y = activation(x); y has x's shape. */
SV_API sv_status sv_activation_apply(sv_context *ctx, const sv_activation *act,
                                     const sv_tensor *x, sv_tensor *y);

typedef enum sv_binary_op {
    SV_BINARY_ADD = 0,
    SV_BINARY_SUB,
    SV_BINARY_MUL,
    SV_BINARY_DIV,
    SV_BINARY_PRELU /* a >= 0 ? a : b * a  (b: the slopes, e.g. [C, 1, 1] per channel) */
} sv_binary_op;

/* The NumPy broadcast of two shapes (ranks up to SV_MAX_RANK). */
SV_API sv_status sv_broadcast_shape(int a_rank, const int64_t *a_dims, int b_rank,
                                    const int64_t *b_dims, int *out_rank, int64_t *out_dims,
                                    sv_message *err);
/* y = a (op) b with NumPy broadcasting; y has the broadcast shape. */
SV_API sv_status sv_binary(sv_context *ctx, sv_binary_op op, const sv_tensor *a,
                           const sv_tensor *b, sv_tensor *y);

/* y = x (same element count): Identity, and Dropout at inference. */
SV_API sv_status sv_copy(sv_context *ctx, const sv_tensor *x, sv_tensor *y);

/* ---------------------------------------------------------------------------------------------
 * Normalisation.
 * Batch normalisation (inference): y = activation(scale * (x - mean) / sqrt(var + epsilon) +
 * bias) per channel (axis 1) of x: [N, C, ...]; scale, bias, mean, var: [C].
 * Local response normalisation across channels (ONNX LRN): y = x / (bias + alpha / size *
 * sum over c' in [c - floor((size-1)/2), c + ceil((size-1)/2)] of x[c']^2)^beta.
 * ------------------------------------------------------------------------------------------- */
typedef struct sv_batch_norm_params {
    float epsilon;
    sv_activation activation;
} sv_batch_norm_params;

SV_API sv_status sv_batch_norm(sv_context *ctx, const sv_batch_norm_params *params,
                               const sv_tensor *x, const sv_tensor *scale, const sv_tensor *bias,
                               const sv_tensor *mean, const sv_tensor *var, sv_tensor *y);

/* LRN's output may not share its input's storage. */
typedef struct sv_lrn_params {
    int size; /* odd or even, >= 1 */
    float alpha;
    float beta;
    float bias;
} sv_lrn_params;

SV_API sv_status sv_lrn(sv_context *ctx, const sv_lrn_params *params, const sv_tensor *x,
                        sv_tensor *y);

/* ---------------------------------------------------------------------------------------------
 * Data movement.
 * ------------------------------------------------------------------------------------------- */
/* Concatenation of `count` tensors along `axis` (negative: from the end); all other dims equal. */
SV_API sv_status sv_concat_output_shape(int axis, int count, const int *ranks,
                                        const int64_t *const *dims, int64_t *out_dims,
                                        sv_message *err);
SV_API sv_status sv_concat(sv_context *ctx, int axis, int count, const sv_tensor *const *inputs,
                           sv_tensor *y);

/* Padding of any axis: out = in + pad_begin + pad_end per axis; negative pads crop. Modes as
 * for convolution; SV_PAD_CONSTANT fills with `value`. */
#define SV_PAD_CONSTANT SV_PAD_ZERO
typedef struct sv_pad_params {
    sv_pad_mode mode;
    float value;
    int64_t pad_begin[SV_MAX_RANK];
    int64_t pad_end[SV_MAX_RANK];
} sv_pad_params;

SV_API sv_status sv_pad_output_shape(const sv_pad_params *params, int rank, const int64_t *x_dims,
                                     int64_t *out_dims, sv_message *err);
SV_API sv_status sv_pad(sv_context *ctx, const sv_pad_params *params, const sv_tensor *x,
                        sv_tensor *y);

/* y = x with its axes permuted: y.dims[i] = x.dims[perm[i]]; perm has x's rank. */
SV_API sv_status sv_transpose(sv_context *ctx, const int *perm, const sv_tensor *x, sv_tensor *y);

/* Resize (ONNX Resize / Upsample). y's shape is the output size. For each axis, the output
 * coordinate maps to an input coordinate with the scale (scales[i] > 0, else y / x size):
 *   half_pixel: (o + 0.5) / scale - 0.5     asymmetric: o / scale
 *   align_corners: o * (in - 1) / (L - 1), 0 when L == 1
 *   pytorch_half_pixel: half_pixel, 0 when L <= 1
 * where L = in * scale (the output size when scales[i] is 0), as ONNX's reference computes it.
 * Nearest picks the input cell by the rounding rule; linear interpolates the last two axes
 * (bilinear, the input coordinate clamped to [0, in - 1]); the other axes must keep their size
 * with scale 0 or 1. The output may not share an input's storage. */
typedef enum sv_resize_mode { SV_RESIZE_NEAREST = 0, SV_RESIZE_LINEAR } sv_resize_mode;
typedef enum sv_resize_coordinates {
    SV_COORD_HALF_PIXEL = 0,
    SV_COORD_ASYMMETRIC,
    SV_COORD_ALIGN_CORNERS,
    SV_COORD_PYTORCH_HALF_PIXEL
} sv_resize_coordinates;
typedef enum sv_nearest_rounding {
    SV_NEAREST_ROUND_PREFER_FLOOR = 0,
    SV_NEAREST_ROUND_PREFER_CEIL,
    SV_NEAREST_FLOOR,
    SV_NEAREST_CEIL
} sv_nearest_rounding;

typedef struct sv_resize_params {
    sv_resize_mode mode;
    sv_resize_coordinates coordinates;
    sv_nearest_rounding rounding;
    float scales[SV_MAX_RANK];
} sv_resize_params;

SV_API sv_status sv_resize(sv_context *ctx, const sv_resize_params *params, const sv_tensor *x,
                           sv_tensor *y);

/* ---------------------------------------------------------------------------------------------
 * Models: ONNX files loaded into a plan of steps on a context.
 *
 * Threads. Models on different contexts run in different threads fully in parallel. A model
 * lives on its context's queue and buffers, so its calls that use them (sv_model_run,
 * sv_model_run_timed, sv_model_set_batch, sv_model_layer_output) take the model's lock: threads
 * sharing one model get the same bit-identical results as running one after another, one run
 * at a time. What the lock cannot make safe, and the caller must not do:
 *  - use the model's context (its other models, tensors and ops) from another thread meanwhile;
 *  - change the batch while another thread may run the model: a run reads and writes arrays of
 *    the current batch's size, and the describing calls (sv_model_input, sv_model_layer, ...)
 *    return what the plan of the moment holds;
 *  - rely on sv_last_error(ctx) after a failed call while another thread uses the model (the
 *    status is the call's own; the message may already be the next call's);
 *  - release the model while another thread uses it.
 *
 * Device memory. Loading and sv_model_set_batch check the plan against the device before
 * allocating anything: every activation buffer, weight, convolution weights rearranged for the
 * chosen algorithm and the convolutions' shared scratch within the device's largest allocation
 * (max_alloc_bytes), and all of them together within its global memory (global_mem_bytes); a
 * plan beyond either is refused with SV_OUT_OF_MEMORY and a message giving the sizes. The check
 * is per model: memory that other models and tensors already hold is not subtracted. On the
 * reference device only the per-tensor limit of 2^31 - 1 elements holds.
 * ------------------------------------------------------------------------------------------- */
typedef struct sv_model sv_model;

typedef struct sv_model_options {
    int keep_intermediates; /* 1: every layer's output keeps its own buffer (for verification),
                               and no max pool is fused into the convolution before it;
                               0: activations share buffers by liveness */
    sv_conv_algorithm conv_algorithm; /* every convolution that algorithm can compute uses it;
                                         the others (and SV_CONV_AUTO) choose automatically */
} sv_model_options;

/* A graph input or output: name, shape at the planned batch size. */
typedef struct sv_value_info {
    const char *name;
    int rank;
    int64_t dims[SV_MAX_RANK];
    int batch_symbolic; /* inputs: dimension 0 is the batch and may be chosen at run time */
} sv_value_info;

/* One step of the plan, as the layer table shows it. */
typedef struct sv_layer_info {
    const char *name;   /* the ONNX node's name */
    const char *op;     /* "Conv+Relu", "MaxPool", ... (fused ops joined with '+') */
    char params[160];   /* the op's parameters, e.g. "k3x3 s1 p1/1 g1" */
    int rank;
    int64_t dims[SV_MAX_RANK]; /* output shape */
    int64_t macs;       /* multiply-accumulates (element operations for element-wise ops) */
    int64_t bytes;      /* bytes the layer reads and writes at least (inputs, weights, output) */
    const char *algorithm; /* how the device computes it: "direct", "CLBlast SGEMM", ... */
} sv_layer_info;

/* Loads an ONNX model (external data files are looked up next to it) and plans it for batch 1:
 * the batch is the size of every input's symbolic dimension 0; inputs with fixed shapes keep
 * them. Every op and attribute is checked and weights are uploaded now. options may be NULL. */
SV_API sv_status sv_model_load(sv_context *ctx, const char *path, const sv_model_options *options,
                               sv_model **out);
/* The same from memory (no external data). */
SV_API sv_status sv_model_load_memory(sv_context *ctx, const void *data, size_t size,
                                      const sv_model_options *options, sv_model **out);
SV_API void sv_model_release(sv_model *model);

/* Plans for another batch size, 1 to 2^31 - 1 (a no-op when it is the current one); fails for a
 * model none of whose inputs has a symbolic batch dimension, and for a batch the device cannot
 * hold (SV_OUT_OF_MEMORY, see above). On failure the model keeps its plan and batch, unless the
 * device then fails an allocation the check allowed: the model is left without a plan, and its
 * runs fail until a sv_model_set_batch succeeds. */
SV_API sv_status sv_model_set_batch(sv_model *model, int64_t batch);
SV_API int64_t sv_model_batch(const sv_model *model);

SV_API int sv_model_input_count(const sv_model *model);
SV_API int sv_model_output_count(const sv_model *model);
SV_API sv_status sv_model_input(const sv_model *model, int index, sv_value_info *info);
SV_API sv_status sv_model_output(const sv_model *model, int index, sv_value_info *info);

/* Runs the model at its current batch size. inputs[i] holds graph input i (in declaration
 * order) with the element count of its shape; outputs[i] receives graph output i. Blocks until
 * the outputs are on the host. */
SV_API sv_status sv_model_run(sv_model *model, const float *const *inputs,
                              float *const *outputs);

/* Device time of a run: the whole plan, and each layer (OpenCL profiling timestamps of markers
 * enqueued between the layers; wall time on the reference device). */
typedef struct sv_run_timing {
    double total_ms;  /* from before the first layer to after the last */
    double *layer_ms; /* NULL, or room for sv_model_layer_count() entries */
} sv_run_timing;

/* sv_model_run, also measuring device time. */
SV_API sv_status sv_model_run_timed(sv_model *model, const float *const *inputs,
                                    float *const *outputs, sv_run_timing *timing);

SV_API int sv_model_layer_count(const sv_model *model);
SV_API sv_status sv_model_layer(const sv_model *model, int index, sv_layer_info *info);
/* Copies layer `index`'s output of the last run (the model must keep intermediates). */
SV_API sv_status sv_model_layer_output(const sv_model *model, int index, float *host,
                                       int64_t count);
/* Bytes of device memory the plan's activation buffers take. */
SV_API int64_t sv_model_peak_activation_bytes(const sv_model *model);

/* ---------------------------------------------------------------------------------------------
 * Tuning: which convolution algorithm and tile configuration ("variant") is fastest for each
 * convolution shape is measured on the device and kept in a tuning database file per device,
 * driver and library version (sv_tuning_database_path), which SV_CONV_AUTO consults.
 * ------------------------------------------------------------------------------------------- */

/* One candidate tried on one layer. */
typedef struct sv_tune_record {
    int layer;              /* the layer index (sv_model_layer) */
    const char *layer_name;
    const char *algorithm;  /* sv_conv_algorithm_name */
    int variant;
    double ms;              /* median device time of the timed runs; < 0 when it did not run */
    double error;           /* max |y - ref| / max |ref| on the first image; < 0: not run */
    const char *outcome;    /* "ok", "unsupported: ...", "rejected: ...", "skipped: ...",
                               "failed: ...", "same shape as layer N" */
    int chosen;             /* 1 for the layer's winner */
} sv_tune_record;

typedef struct sv_tune_options {
    double seconds;  /* budget for the whole model: candidates after it are skipped; <= 0: 300 */
    int iterations;  /* timed runs per candidate (the median counts); <= 0: 5, at most 64 */
    void (*report)(void *user, const sv_tune_record *record); /* each candidate; may be NULL */
    void *user;
} sv_tune_options;

/* Tunes every distinct convolution shape of the model at its current batch size: on random
 * inputs, every algorithm and variant that computes the layer runs once (checked against the
 * reference path on the first image: max |y - ref| within the algorithm's tolerance, 1e-4 x
 * max |ref| for direct summation; candidates beyond it are rejected), then `iterations` times
 * timed; the fastest correct one per shape is stored in the device's tuning database and the
 * model is re-planned with it. Layers the time budget does not reach keep their choice. Fails
 * on the reference device (nothing to tune). options may be NULL. */
SV_API sv_status sv_model_tune(sv_model *model, const sv_tune_options *options);

/* The tuning database file of the context's device: $SVERTKA_TUNING_FILE, else
 * <cache>/tuning/<hash of device name, driver version, library version>.txt where <cache> is
 * $SVERTKA_CACHE_DIR, else $XDG_CACHE_HOME/svertka, else $HOME/.cache/svertka.
 * SVERTKA_TUNING=off makes SV_CONV_AUTO ignore the database. */
SV_API sv_status sv_tuning_database_path(const sv_context *ctx, char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SVERTKA_H */
