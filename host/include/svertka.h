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
 *  - a context is the unit of isolation: use one context from one thread at a time; different
 *    contexts may be used from different threads concurrently.
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
    X(WRONG_CONTEXT, -9, "objects belong to different contexts")

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
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    uint64_t local_mem_bytes;
    size_t max_work_group_size;
    int is_default; /* 1 for the device an empty spec selects */
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

typedef struct sv_conv_params {
    int spatial_dims; /* 1 or 2 */
    int stride[2];
    int dilation[2];
    int pad_begin[2];
    int pad_end[2];
    int groups;
    sv_pad_mode pad_mode;
    sv_activation activation;
} sv_conv_params;

/* Stride 1, dilation 1, no padding, one group, zero padding mode, no activation. */
SV_API sv_conv_params sv_conv_params_default(int spatial_dims);

/* Validates the parameters against the input and weight shapes (and the bias length, when
 * bias_dims is not NULL) and writes the output shape (rank = input rank) to out_dims. */
SV_API sv_status sv_conv_output_shape(const sv_conv_params *params, int rank, const int64_t *x_dims,
                                      const int64_t *w_dims, const int64_t *bias_len,
                                      int64_t *out_dims, sv_message *err);

/* y = activation(conv(x, w) + b). y must already have the output shape. */
SV_API sv_status sv_conv(sv_context *ctx, const sv_conv_params *params, const sv_tensor *x,
                         const sv_tensor *w, const sv_tensor *b, sv_tensor *y);

#ifdef __cplusplus
}
#endif

#endif /* SVERTKA_H */
