/* The model object, shared by the files that implement the model API (model.c: load, plan,
 * run, describe; model_tune.c: tuning). */
#ifndef SV_MODEL_H
#define SV_MODEL_H

#include "graph/graph.h"
#include "ops/conv_algorithm.h"

#include <pthread.h>

struct sv_model {
    sv_context *ctx;
    sv_context *host; /* the reference path, for folding constants while planning */
    graph g;
    plan pl;
    int planned;
    int keep_intermediates;
    sv_conv_algorithm conv_algorithm; /* the options' preference */
    int ran;                          /* a run completed since the last plan */
    sv_conv_prepared *convs;          /* per plan step: the convolution's algorithm and weights */
    sv_tensor *workspace;             /* scratch the convolutions share; NULL when none needs any */
    sv_tensor **weights;              /* per graph value: an initializer's device copy, made once */
    /* Serialises the calls that use or change the plan and the device buffers (run, set_batch,
     * layer_output, tune), so that threads sharing a model take turns instead of mixing their
     * data in its buffers. A pointer, so that the calls taking a const model can lock it too. */
    pthread_mutex_t *lock;
};

/* The geometry of convolution step s of pl, from the shapes of its input, weights and output. */
sv_conv_geometry model_conv_geometry(const plan *pl, const step *s);
/* Chooses every convolution's algorithm (the options' preference where it applies, else the
 * tuning database's or the heuristic's), prepares its weights and sizes the scratch memory
 * they share. */
sv_status model_prepare_convs(sv_model *m);
/* Releases what model_prepare_convs made. */
void model_release_convs(sv_model *m);

#endif
