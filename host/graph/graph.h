/* The model's graph as loaded from ONNX, and the plan the planner derives from it for one batch
 * size: the steps the executor enqueues and the values they read and write. */
#ifndef SV_GRAPH_H
#define SV_GRAPH_H

#include "core/internal.h"
#include "graph/hostconst.h"
#include "onnx/onnx.pb-c.h"

/* ---- the graph as loaded ---- */

typedef struct graph_value {
    const char *name;       /* owned by the parsed model */
    hostconst *initializer; /* initializers and Constant outputs known at load, else NULL */
    int is_input;           /* a graph input the caller feeds */
    int rank;               /* graph inputs: the declared shape */
    int64_t dims[SV_MAX_RANK];
    int batch_symbolic; /* graph inputs: dim 0 is the batch, given at run time */
} graph_value;

typedef struct graph_node {
    const Onnx__NodeProto *proto;
    int *inputs; /* value ids; -1 for an absent optional input ("") */
    int ninputs;
    int *outputs; /* value ids; -1 for an unused optional output ("") */
    int noutputs;
} graph_node;

typedef struct graph {
    Onnx__ModelProto *proto;
    int64_t opset; /* of the default (ai.onnx) domain */
    graph_value *values;
    int nvalues;
    graph_node *nodes; /* topologically ordered */
    int nnodes;
    int *inputs; /* graph inputs the caller feeds, in declaration order */
    int ninputs;
    int *outputs;
    int noutputs;
} graph;

/* Parses and validates an ONNX model (a serialized ModelProto); base_dir resolves external data
 * files (NULL: none allowed). */
sv_status graph_load(const void *data, size_t size, const char *base_dir, graph *g,
                     sv_message *err);
void graph_free(graph *g);
/* A node's name for messages: its name, else its first output's, else "(unnamed)". */
const char *graph_node_label(const Onnx__NodeProto *node);
/* Converts a TensorProto (an initializer or a Constant's value) to a host constant: float and
 * double become fp32; the integer types and bool become int64. */
sv_status graph_tensor_to_const(const Onnx__TensorProto *t, const char *base_dir, hostconst **out,
                                sv_message *err);

/* ---- the plan for one batch size ---- */

typedef enum step_kind {
    STEP_CONV,
    STEP_CONV_TRANSPOSE,
    STEP_POOL,
    STEP_SOFTMAX,
    STEP_GEMM,
    STEP_MATMUL,
    STEP_ACTIVATION,
    STEP_BINARY,
    STEP_BATCH_NORM,
    STEP_LRN,
    STEP_CONCAT,
    STEP_PAD,
    STEP_TRANSPOSE,
    STEP_RESIZE,
    STEP_COPY,
    STEP_VIEW /* the output shares the input's storage: no work */
} step_kind;

typedef struct step {
    step_kind kind;
    char op[48];    /* what the layer table shows: "Conv", "Conv+Relu", "MaxPool", ... */
    char name[128]; /* the ONNX node's name (or its first output's) */
    union {
        sv_conv_params conv;
        sv_conv_transpose_params conv_transpose;
        sv_pool_params pool;
        sv_softmax_params softmax;
        sv_gemm_params gemm;
        sv_activation activation;
        sv_binary_op binary;
        sv_batch_norm_params batch_norm;
        sv_lrn_params lrn;
        int axis; /* concat */
        sv_pad_params pad;
        int perm[SV_MAX_RANK];
        sv_resize_params resize;
    } p;
    int *inputs; /* plan value ids; -1 for an absent optional operand */
    int ninputs;
    int output;
    int indices;  /* STEP_POOL: the plan value receiving argmax indices, else -1 */
    int64_t macs; /* multiply-accumulates (or element operations) */
    int removed;  /* folded into a neighbour by a pass */
} step;

typedef struct plan_value {
    int rank;
    int64_t dims[SV_MAX_RANK];
    hostconst *constant; /* known on the host (owned unless borrowed from the graph) */
    int borrowed;        /* constant belongs to the graph */
    int device;          /* computed on the device (an activation) */
    int root;            /* for views: the value whose storage it shares; else itself */
    int producer;        /* step index, or -1 */
    int last_use;        /* last step reading it (or its views); INT32_MAX for graph outputs */
    int graph_output;
    sv_tensor *tensor; /* device tensor once allocated */
    int owns_tensor;   /* 0 when the tensor is a cached weight owned by the model */
    int buffer;        /* planner's buffer for activation roots, -1 otherwise */
} plan_value;

/* What planning may compute on the host, so that no model file, however small, makes loading
 * allocate or compute without bound. The constants computed while planning (shape arithmetic,
 * ConstantOfShape, masks, copies for views, float ops folded on constants) hold at most
 * PLAN_FOLD_MIN_ELEMENTS elements in all, or twice as many as the model's initializers when
 * that is more. A float op on constants is folded only within that budget and within
 * PLAN_FOLD_MAX_MACS multiply-accumulates; beyond, it stays a step that runs with the model. */
#define PLAN_FOLD_MIN_ELEMENTS (INT64_C(1) << 26)
#define PLAN_FOLD_MAX_MACS (INT64_C(1) << 30)
/* Every tensor the plan computes (graph inputs at the planned batch included) holds at most
 * this many elements, on every device: what OpenCL kernels index with int. */
#define PLAN_MAX_ELEMENTS INT64_C(2147483647)

typedef struct plan {
    int64_t batch;
    int64_t folded_elements; /* elements of the constants computed so far */
    int64_t fold_limit;      /* their bound, set by plan_build */
    plan_value *values;      /* the graph's value ids first, then values the passes add */
    int nvalues, capacity;
    step *steps;
    int nsteps, step_capacity;
    sv_tensor **buffers;   /* created by the model */
    int64_t *buffer_sizes; /* in elements */
    int nbuffers;
    int64_t peak_activation_bytes;
} plan;

/* What the passes ask of the device the plan is for. */
typedef struct plan_hooks {
    /* Whether the Conv p, with input, weight and output shapes x, w and y (4-D), may compute
     * the 2x2 max pool after it in one pass; NULL: never. */
    int (*fuse_max_pool)(void *user, const sv_conv_params *p, const int64_t *x_dims,
                         const int64_t *w_dims, const int64_t *y_dims);
    void *user;
} plan_hooks;

/* Builds the plan for `batch` (the size of every graph input's symbolic dimension 0): translates
 * every node (folding what is known on the host with the reference context `host`), then fuses
 * (BatchNorm and Pad into Conv, activations into their producer, max pools into Conv as hooks
 * allow; hooks may be NULL) and assigns activation buffers by liveness, unless keep_intermediates
 * asks for every value to keep its own. Device tensors are not created here. */
sv_status plan_build(const graph *g, int64_t batch, sv_context *host, int keep_intermediates,
                     const plan_hooks *hooks, plan *pl, sv_message *err);
void plan_free(plan *pl);
/* A new value with no producer (for intermediates the importer and the passes add); -1 when the
 * plan is full (values are never reallocated, so pointers to them stay valid). */
int plan_new_value(plan *pl, int rank, const int64_t *dims);
/* The fusion passes (passes.c). */
sv_status plan_fuse(plan *pl, const plan_hooks *hooks, sv_message *err);
/* Device memory the plan's ops keep beyond its tensors, which the model counts (it knows the
 * algorithms the device will run): convolution weights in their algorithms' layouts, and the one
 * scratch buffer the layers share. */
typedef struct plan_op_memory {
    uint64_t prepared_bytes; /* every layer's rearranged weights */
    uint64_t scratch_bytes;  /* the largest scratch a layer needs (Winograd's tiles, the
                                transposed convolution's columns) */
    uint64_t largest_bytes;  /* the largest single allocation of either kind */
    char largest[192];       /* what that allocation is ("" when there is none) */
} plan_op_memory;

/* Refuses, with SV_OUT_OF_MEMORY and the numbers, a plan whose device tensors and op memory the
 * device cannot hold: an activation buffer, a constant or an op's allocation larger than the
 * device's largest allocation, or all of them together larger than its global memory (a limit
 * of 0, as the reference device reports, is no limit). CLBlast's temporaries, which live for one
 * call, are not counted. */
sv_status plan_check_device_memory(const graph *g, const plan *pl, const sv_device_info *dev,
                                   const plan_op_memory *ops, sv_message *err);

#endif
