/* Running plan steps: one step on any context (the executor, and the importer folding constants
 * with the reference path), and a whole plan on the model's context. */
#ifndef SV_EXECUTOR_H
#define SV_EXECUTOR_H

#include "graph/graph.h"

#include "ops/conv_algorithm.h"

/* What a model prepared for a step: a convolution's algorithm and weights, and the scratch
 * memory convolutions share. */
typedef struct step_resources {
    const sv_conv_prepared *conv; /* NULL: the op chooses for itself */
    cl_mem workspace;             /* the scratch the model's convolutions share, or NULL */
    size_t workspace_count;       /* its floats */
} step_resources;

/* Runs one step: inputs[k] is the tensor of s->inputs[k] (NULL where absent); indices is the
 * tensor of s->indices (STEP_POOL) or NULL; res is NULL or what the model prepared. */
sv_status step_run(sv_context *ctx, const step *s, sv_tensor *const *inputs, sv_tensor *out,
                   sv_tensor *indices, const step_resources *res);

#endif
