/* Running plan steps: one step on any context (the executor, and the importer folding constants
 * with the reference path), and a whole plan on the model's context. */
#ifndef SV_EXECUTOR_H
#define SV_EXECUTOR_H

#include "graph/graph.h"

/* Runs one step: inputs[k] is the tensor of s->inputs[k] (NULL where absent); indices is the
 * tensor of s->indices (STEP_POOL) or NULL. */
sv_status step_run(sv_context *ctx, const step *s, sv_tensor *const *inputs, sv_tensor *out,
                   sv_tensor *indices);

#endif
