/* The convolution algorithms of OpenCL devices behind one interface. Each algorithm lives in its
 * own host/ops/conv_<name>.c with its kernels in kernels_cl/, and describes itself with an
 * sv_conv_impl: which convolutions it computes, the tile configurations ("variants") the tuner
 * may try, the weight layout it wants (prepared once per model at load), the scratch memory a
 * run needs, and the run itself. host/ops/conv.c validates, chooses and dispatches. */
#ifndef SV_CONV_ALGORITHM_H
#define SV_CONV_ALGORITHM_H

#include "ops/op_common.h"

typedef struct sv_conv_impl {
    sv_conv_algorithm algorithm;
    const char *name; /* = sv_conv_algorithm_name(algorithm) */
    int variants;     /* tile configurations 0..variants-1 */
    /* The variant to run untuned, by the convolution's parameters, shape and the device: for the
     * automatic choice and for an algorithm asked for by name (NULL: variant 0). */
    int (*default_variant)(const sv_context *ctx, const sv_conv_params *p,
                           const sv_conv_geometry *g);
    /* NULL when the algorithm computes this convolution, else why it cannot ("needs a 3x3
     * kernel"); may be NULL itself for an algorithm that computes every convolution. */
    const char *(*unsupported)(const sv_conv_params *p, const sv_conv_geometry *g);
    /* Whether its kernels compute a convolution with max_pool_2x2 set (writing only the pooled
     * output); conv.c declines pooling for the others. */
    int fuses_max_pool;
    /* Elements of the weights in the algorithm's own layout, 0 when it reads the OIHW weight
     * tensor as it is; then prepare_weights fills a buffer of that size from the weights. */
    size_t (*prepared_weight_count)(const sv_conv_geometry *g, int variant);
    sv_status (*prepare_weights)(sv_context *ctx, const sv_conv_params *p,
                                 const sv_conv_geometry *g, int variant, cl_mem w, cl_mem out);
    /* Elements of scratch memory a run on the device needs (NULL: none). */
    size_t (*workspace_count)(const sv_device_info *dev, const sv_conv_geometry *g, int variant);
    /* Enqueues the convolution: weights are the prepared ones (or the weight tensor's buffer),
     * workspace holds workspace_count elements (or is NULL). */
    /* The largest max |y - ref| / max |ref| a correct run may show on random inputs in
     * [-1, 1) (what the tuner accepts); 0 means SV_CONV_TUNE_TOLERANCE. */
    double tolerance;
    sv_status (*run)(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                     int variant, const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                     sv_tensor *y, cl_mem workspace);
} sv_conv_impl;

extern const sv_conv_impl sv_conv_direct_impl;
extern const sv_conv_impl sv_conv_cpu_blocked_impl;
extern const sv_conv_impl sv_conv_implicit_gemm_impl;
extern const sv_conv_impl sv_conv_winograd_2x2_impl;
extern const sv_conv_impl sv_conv_winograd_4x4_impl;

/* What the tuner accepts from an algorithm that sums products in another order than the
 * reference: the bound `svertka verify` uses. */
#define SV_CONV_TUNE_TOLERANCE 1e-4

/* The implementation of an algorithm; NULL for SV_CONV_AUTO and values outside the enum. */
const sv_conv_impl *sv_conv_impl_of(sv_conv_algorithm algorithm);

/* The geometry of a validated convolution: sv_conv_geometry_of, with oh and ow the
 * convolution's own output even where y holds its 2x2 max pool. */
sv_conv_geometry sv_conv_geometry_for(const sv_conv_params *p, const sv_tensor *x,
                                      const sv_tensor *w, const sv_tensor *y);
/* The same from the shapes (rank spatial_dims + 2), for a convolution not yet given tensors. */
sv_conv_geometry sv_conv_geometry_for_dims(const sv_conv_params *p, const int64_t *x_dims,
                                           const int64_t *w_dims, const int64_t *y_dims);
/* NULL when the algorithm computes this convolution, else why not: its own limits
 * (impl->unsupported) or a fused max pool it does not compute. */
const char *sv_conv_unsupported_reason(const sv_conv_impl *impl, const sv_conv_params *p,
                                       const sv_conv_geometry *g);

/* The kernel `name` of program `program` built with options, with the arguments of a plain
 * convolution kernel set: the operands and geometry (sv_conv_args), then the activation's alpha
 * and beta. */
sv_status sv_conv_plain_kernel(sv_context *ctx, const char *program, const char *options,
                               const char *name, const sv_conv_params *p, const sv_conv_geometry *g,
                               const sv_tensor *x, cl_mem weights, const sv_tensor *b,
                               const sv_tensor *y, cl_kernel *out);

/* An algorithm and one of its tile configurations. */
typedef struct sv_conv_choice {
    sv_conv_algorithm algorithm;
    int variant;
} sv_conv_choice;

/* What a model keeps per convolution layer: the choice, its weights in the algorithm's layout
 * (NULL when the algorithm reads the weight tensor) and the scratch elements a run needs. */
typedef struct sv_conv_prepared {
    sv_conv_choice choice;
    cl_mem weights;
    size_t workspace_count;
} sv_conv_prepared;

/* Whether the automatic choice runs this convolution with Winograd (conv_winograd.c); if so,
 * *out is the algorithm and variant. */
int sv_conv_winograd_choice(const sv_context *ctx, const sv_conv_params *p,
                            const sv_conv_geometry *g, sv_conv_choice *out);

/* The algorithm an OpenCL device runs a (validated) convolution with: the one p asks for (an
 * error when it cannot compute this one), else the automatic choice. */
sv_status sv_conv_choose(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                         sv_conv_choice *out);
/* Chooses and prepares the weights once, for a convolution the caller runs many times with
 * sv_conv_run_prepared (the weights' values may not change in between). */
sv_status sv_conv_prepare(sv_context *ctx, const sv_conv_params *p, const sv_conv_geometry *g,
                          const sv_tensor *w, sv_conv_prepared *out);
/* sv_conv_prepare for a given choice, which must name one of its algorithm's variants; an
 * algorithm that cannot compute the convolution fails as in sv_conv_choose. */
sv_status sv_conv_prepare_choice(sv_context *ctx, const sv_conv_params *p,
                                 const sv_conv_geometry *g, sv_conv_choice choice,
                                 const sv_tensor *w, sv_conv_prepared *out);
/* Enqueues a prepared convolution; workspace holds prep->workspace_count elements. Shapes must
 * be the ones prepared for (validated by sv_conv's checks; the caller owns that). */
sv_status sv_conv_run_prepared(sv_context *ctx, const sv_conv_params *p,
                               const sv_conv_prepared *prep, const sv_tensor *x, const sv_tensor *w,
                               const sv_tensor *b, sv_tensor *y, cl_mem workspace);
void sv_conv_prepared_release(sv_context *ctx, sv_conv_prepared *prep);
/* The elements sv_conv_prepare_choice would allocate on the device for a choice: weights in the
 * algorithm's layout (0: it reads the weight tensor) and the scratch a run needs. */
void sv_conv_prepared_counts(const sv_device_info *dev, const sv_conv_geometry *g,
                             sv_conv_choice choice, size_t *weights, size_t *workspace);

/* sv_conv with a given algorithm and variant instead of the choice p asks for: for tests and
 * tuning. SV_INVALID_ARGUMENT for an unknown algorithm or variant; an algorithm that cannot
 * compute the convolution fails as it does when asked for by name. */
sv_status sv_conv_with_choice(sv_context *ctx, const sv_conv_params *p, sv_conv_choice choice,
                              const sv_tensor *x, const sv_tensor *w, const sv_tensor *b,
                              sv_tensor *y);

/* The build options every convolution kernel takes: activation and padding mode, and extra
 * ones (may be ""). */
void sv_conv_build_options(char *buf, size_t size, const sv_conv_params *p, const char *extra);

#endif
