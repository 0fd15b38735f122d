/* Translating ONNX nodes into plan steps for one batch size. Shapes are known at this point, so
 * nodes whose inputs are all known on the host are folded into constants (the shape arithmetic
 * that exporters emit, and any float op on constants, evaluated with the reference path);
 * the others become steps. */
#ifndef SV_IMPORT_H
#define SV_IMPORT_H

#include "graph/attr.h"
#include "graph/graph.h"

typedef struct importer {
    const graph *g;
    plan *pl;
    sv_context *host;       /* a reference context for folding float ops on constants */
    const graph_node *node; /* the node being translated */
    sv_message *err;
} importer;

/* One translator per ONNX op type. */
typedef sv_status (*import_fn)(importer *im);

typedef struct import_entry {
    const char *op_type;
    import_fn translate;
    const char *const *attributes; /* the attributes it understands, NULL-terminated */
} import_entry;

/* The tables of import_nn.c and import_tensor.c. */
extern const import_entry import_nn_table[];
extern const import_entry import_tensor_table[];

/* Fails with "node 'NAME' (OP): <message>". */
sv_status im_fail(importer *im, sv_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The plan value of the node's input k (NULL when absent or k out of range). */
plan_value *im_input(importer *im, int k);
int im_input_id(importer *im, int k);
int im_input_count(const importer *im);
/* Fails unless input k is present; returns it. */
sv_status im_require(importer *im, int k, plan_value **out);
/* Fails unless input k is present and known on the host. */
sv_status im_require_const(importer *im, int k, const hostconst **out);
/* Fails when output k (k >= 1) is used: the op does not produce it. */
sv_status im_unused_outputs_from(importer *im, int k);

/* A new zero-filled constant for a value the importer computes, counted against the plan's
 * fold limit (graph.h); fails with a message naming the node when it would exceed it. */
sv_status im_const_new(importer *im, hc_type type, int rank, const int64_t *dims, hostconst **out);

/* Records a host constant as the value of output k (taking ownership). */
sv_status im_set_const(importer *im, int k, hostconst *c);
/* Appends a step producing output k (its shape given); inputs are plan value ids, -1 for absent.
 * Returns the step, or NULL on out of memory (with the message set). */
step *im_add_step(importer *im, step_kind kind, const char *op, const int *inputs, int ninputs,
                  int output, int rank, const int64_t *dims);
/* The same for the common case: the step reads the node's first ninputs inputs (-1 where absent)
 * and produces its output 0. */
step *im_add_node_step(importer *im, step_kind kind, const char *op, int ninputs, int rank,
                       const int64_t *dims);
/* A new plan value (for intermediate views); returns its id or -1. */
int im_new_value(importer *im, int rank, const int64_t *dims);
/* The id of output k of the current node. */
int im_output_id(const importer *im, int k);

/* Adds a view of `input` with another shape as output value `output`: folded when the input is
 * a constant. */
sv_status im_view(importer *im, int input, int output, int rank, const int64_t *dims);

/* Runs a freshly added step on the host when all its inputs are constants, turning its output
 * into a constant and dropping the step. */
sv_status im_fold_if_constant(importer *im, step *s);

/* Normalises an axis against a rank ([-rank, rank) to [0, rank)); -1 with a message if out of
 * range. */
int im_axis(importer *im, int64_t axis, int rank, const char *what);

#endif
