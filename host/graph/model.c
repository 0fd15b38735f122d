/* The public model API: load (parse, validate, plan for the first batch size, upload weights),
 * re-plan for another batch size, run, and describe the layers. */
#include "graph/model.h"
#include "graph/executor.h"
#include "ops/conv_transpose.h"
#include "ops/gemm.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The device tensor of a constant a step reads: initializers come from (or go into) the
 * model's weight cache, constants the planner made get a tensor of their own. */
static sv_status constant_tensor(sv_model *m, int id) {
    plan_value *v = &m->pl.values[id];
    if (v->tensor)
        return SV_OK;
    const hostconst *c = v->constant;
    if (c->type != HC_F32)
        return sv_fail(m->ctx, SV_UNSUPPORTED, "an integer constant feeds a float op");
    const int64_t one = 1;
    sv_host_view view = sv_host_view_make(c->f, c->rank ? c->rank : 1, c->rank ? c->dims : &one);
    const int cached = id < m->g.nvalues && m->g.values[id].initializer == c;
    if (cached && m->weights[id]) {
        v->tensor = m->weights[id];
        return SV_OK;
    }
    sv_status st = sv_tensor_from_host(m->ctx, &view, &v->tensor);
    if (st != SV_OK)
        return st;
    if (cached)
        m->weights[id] = v->tensor;
    else
        v->owns_tensor = 1;
    return SV_OK;
}

/* Creates the plan's buffers and gives every device value its tensor. */
static sv_status allocate(sv_model *m) {
    plan *pl = &m->pl;
    sv_status st = SV_OK;
    for (int b = 0; b < pl->nbuffers && st == SV_OK; b++)
        st = sv_tensor_create(m->ctx, 1, &pl->buffer_sizes[b], &pl->buffers[b]);
    for (int i = 0; i < pl->nvalues && st == SV_OK; i++) {
        plan_value *v = &pl->values[i];
        if (!v->device || v->constant)
            continue;
        const plan_value *root = &pl->values[v->root];
        if (root->buffer < 0)
            continue; /* a view of a constant has been folded; nothing else lacks a buffer */
        st = sv_tensor_alias(pl->buffers[root->buffer], v->rank, v->dims, &v->tensor);
        v->owns_tensor = st == SV_OK;
    }
    for (int k = 0; k < pl->nsteps && st == SV_OK; k++)
        for (int j = 0; j < pl->steps[k].ninputs && st == SV_OK; j++) {
            int id = pl->steps[k].inputs[j];
            if (id >= 0 && pl->values[id].constant)
                st = constant_tensor(m, id);
        }
    return st;
}

/* The algorithm a layer runs with: the model's preferred one where it computes the layer, else
 * the automatic choice. */
static sv_status layer_choice(const sv_model *m, sv_conv_params p, const sv_conv_geometry *g,
                              sv_conv_choice *out) {
    const sv_conv_impl *preferred = sv_conv_impl_of(m->conv_algorithm);
    p.algorithm = preferred && !sv_conv_unsupported_reason(preferred, &p, g) ? m->conv_algorithm
                                                                             : SV_CONV_AUTO;
    return sv_conv_choose(m->ctx, &p, g, out);
}

sv_conv_geometry model_conv_geometry(const plan *pl, const step *s) {
    return sv_conv_geometry_for_dims(&s->p.conv, pl->values[s->inputs[0]].dims,
                                     pl->values[s->inputs[1]].dims, pl->values[s->output].dims);
}

/* Floats of column workspace a transposed convolution step uses on the model's device. */
static size_t conv_transpose_columns(const sv_model *m, const plan *pl, const step *s) {
    return sv_conv_transpose_workspace_count(
        m->ctx, &s->p.conv_transpose, pl->values[s->inputs[0]].dims, pl->values[s->inputs[1]].dims);
}

sv_status model_prepare_convs(sv_model *m) {
    plan *pl = &m->pl;
    if (sv_context_is_ref(m->ctx))
        return SV_OK;
    m->convs = calloc((size_t)pl->nsteps + 1, sizeof *m->convs);
    if (!m->convs)
        return sv_fail(m->ctx, SV_OUT_OF_MEMORY, "model: out of host memory");
    size_t workspace = 0;
    sv_status st = SV_OK;
    for (int k = 0; k < pl->nsteps && st == SV_OK; k++) {
        const step *s = &pl->steps[k];
        if (s->kind == STEP_CONV_TRANSPOSE) {
            const size_t columns = conv_transpose_columns(m, pl, s);
            workspace = columns > workspace ? columns : workspace;
        }
        if (s->kind != STEP_CONV)
            continue;
        const sv_tensor *w = pl->values[s->inputs[1]].tensor;
        const sv_conv_params *p = &s->p.conv;
        const sv_conv_geometry g = model_conv_geometry(pl, s);
        sv_conv_choice choice;
        st = layer_choice(m, *p, &g, &choice);
        if (st == SV_OK)
            st = sv_conv_prepare_choice(m->ctx, p, &g, choice, w, &m->convs[k]);
        if (st != SV_OK)
            sv_fail_prefix(m->ctx, st, "layer %d '%s' (%s): ", k, s->name, s->op);
        else if (m->convs[k].workspace_count > workspace)
            workspace = m->convs[k].workspace_count;
    }
    if (st == SV_OK && workspace) {
        const int64_t count = (int64_t)workspace;
        st = sv_tensor_create(m->ctx, 1, &count, &m->workspace);
    }
    return st;
}

void model_release_convs(sv_model *m) {
    for (int k = 0; m->convs && k < m->pl.nsteps; k++)
        sv_conv_prepared_release(m->ctx, &m->convs[k]);
    free(m->convs);
    m->convs = NULL;
    sv_tensor_release(m->workspace);
    m->workspace = NULL;
}

/* Releases the plan and everything made for it. */
static void unplan(sv_model *m) {
    model_release_convs(m);
    plan_free(&m->pl);
    m->planned = 0;
}

/* A max pool joins the convolution before it where the device runs the fused convolution with
 * the algorithm it takes for the convolution alone: fusion saves a pass over the convolution's
 * output but never trades a layer's algorithm for one that can fuse. */
static int fuse_max_pool(void *user, const sv_conv_params *p, const int64_t *x_dims,
                         const int64_t *w_dims, const int64_t *y_dims) {
    const sv_model *m = user;
    if (sv_context_is_ref(m->ctx))
        return 1;
    for (int i = 0; i < 4; i++)
        if (x_dims[i] > INT_MAX || w_dims[i] > INT_MAX || y_dims[i] > INT_MAX)
            return 0;
    const sv_conv_geometry g = sv_conv_geometry_of_dims(
        p->spatial_dims, p->stride, p->dilation, p->pad_begin, p->groups, x_dims, w_dims, y_dims);
    sv_conv_params fused = *p;
    fused.max_pool_2x2 = 1;
    sv_conv_choice alone, together;
    const int ok = layer_choice(m, *p, &g, &alone) == SV_OK &&
                   layer_choice(m, fused, &g, &together) == SV_OK &&
                   alone.algorithm == together.algorithm;
    sv_clear_error(m->ctx);
    return ok;
}

/* The device memory the plan's convolutions will keep beyond its tensors, with the choices
 * model_prepare_convs will make: each layer's weights in its algorithm's layout, and the largest
 * scratch (a convolution's, or a transposed convolution's columns), which the layers share. A
 * layer the device cannot compute counts nothing here; its preparation fails later with the
 * reason. */
static void conv_op_memory(sv_model *m, const plan *pl, plan_op_memory *out) {
    memset(out, 0, sizeof *out);
    if (sv_context_is_ref(m->ctx))
        return;
    for (int k = 0; k < pl->nsteps; k++) {
        const step *s = &pl->steps[k];
        size_t weights = 0, scratch = 0;
        const char *algorithm;
        if (s->kind == STEP_CONV_TRANSPOSE) {
            scratch = conv_transpose_columns(m, pl, s);
            algorithm = sv_conv_transpose_algorithm_label(SV_CONV_TRANSPOSE_GEMM);
        } else if (s->kind == STEP_CONV) {
            const sv_conv_geometry g = model_conv_geometry(pl, s);
            sv_conv_choice choice;
            if (layer_choice(m, s->p.conv, &g, &choice) != SV_OK) {
                sv_clear_error(m->ctx);
                continue;
            }
            sv_conv_prepared_counts(&m->ctx->device, &g, choice, &weights, &scratch);
            algorithm = sv_conv_algorithm_name(choice.algorithm);
        } else {
            continue;
        }
        const uint64_t weight_bytes = (uint64_t)weights * sizeof(float),
                       scratch_bytes = (uint64_t)scratch * sizeof(float);
        out->prepared_bytes += weight_bytes;
        if (scratch_bytes > out->scratch_bytes)
            out->scratch_bytes = scratch_bytes;
        const int scratch_larger = scratch_bytes > weight_bytes;
        const uint64_t larger = scratch_larger ? scratch_bytes : weight_bytes;
        if (larger > out->largest_bytes) {
            out->largest_bytes = larger;
            snprintf(out->largest, sizeof out->largest, "the %s %s of layer '%s'", algorithm,
                     scratch_larger ? "scratch" : "weights", s->name);
        }
    }
}

/* Plans for `batch` and allocates what the plan needs. A plan that fails, or that the device
 * cannot hold, is refused before anything is allocated for it, and the current plan stays. */
static sv_status plan_for(sv_model *m, int64_t batch) {
    if (m->planned && m->pl.batch == batch)
        return SV_OK;
    plan next;
    sv_message msg;
    /* kept intermediates include every convolution's own output: no pool fusion then */
    const plan_hooks hooks = {fuse_max_pool, m};
    sv_status st = plan_build(&m->g, batch, m->host, m->keep_intermediates,
                              m->keep_intermediates ? NULL : &hooks, &next, &msg);
    plan_op_memory ops;
    if (st == SV_OK)
        conv_op_memory(m, &next, &ops);
    if (st == SV_OK &&
        (st = plan_check_device_memory(&m->g, &next, &m->ctx->device, &ops, &msg)) != SV_OK)
        plan_free(&next);
    if (st != SV_OK)
        return sv_fail_from_message(m->ctx, st, &msg);
    if (m->planned)
        unplan(m);
    m->pl = next;
    m->planned = 1;
    m->ran = 0;
    st = allocate(m);
    if (st == SV_OK)
        st = model_prepare_convs(m);
    if (st != SV_OK)
        unplan(m);
    return st;
}

/* Whether the op library knows the algorithm: asked of its own validation, so that algorithms
 * added there are accepted here. */
static sv_status check_conv_algorithm(sv_context *ctx, sv_conv_algorithm algorithm) {
    sv_conv_params p = sv_conv_params_default(1);
    p.algorithm = algorithm;
    const int64_t dims[3] = {1, 1, 1};
    int64_t out[3];
    sv_message msg;
    sv_status st = sv_conv_output_shape(&p, 3, dims, dims, NULL, out, &msg);
    return st == SV_OK ? SV_OK : sv_fail(ctx, st, "model options: %s", msg.text);
}

static sv_status load(sv_context *ctx, const void *data, size_t size, const char *base_dir,
                      const sv_model_options *options, sv_model **out) {
    sv_model *m = calloc(1, sizeof *m);
    if (!m)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "model: out of host memory");
    m->ctx = ctx;
    m->keep_intermediates = options ? options->keep_intermediates : 0;
    m->conv_algorithm = options ? options->conv_algorithm : SV_CONV_AUTO;
    sv_status st = check_conv_algorithm(ctx, m->conv_algorithm);
    if (st != SV_OK) {
        sv_model_release(m);
        return st;
    }
    m->lock = malloc(sizeof *m->lock);
    if (!m->lock || pthread_mutex_init(m->lock, NULL) != 0) {
        free(m->lock);
        m->lock = NULL;
        sv_model_release(m);
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "model: cannot create its lock");
    }
    sv_message msg;
    st = sv_context_create("ref", &m->host, &msg);
    if (st == SV_OK)
        st = graph_load(data, size, base_dir, &m->g, &msg);
    if (st != SV_OK) {
        sv_fail_from_message(ctx, st, &msg);
        sv_model_release(m);
        return st;
    }
    m->weights = calloc((size_t)m->g.nvalues + 1, sizeof *m->weights);
    if (!m->weights) {
        sv_model_release(m);
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "model: out of host memory");
    }
    st = plan_for(m, 1);
    if (st != SV_OK) {
        char saved[sizeof ctx->last_error];
        memcpy(saved, ctx->last_error, sizeof saved);
        sv_model_release(m);
        memcpy(ctx->last_error, saved, sizeof saved);
        return st;
    }
    *out = m;
    return SV_OK;
}

sv_status sv_model_load_memory(sv_context *ctx, const void *data, size_t size,
                               const sv_model_options *options, sv_model **out) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    if (!data || !out)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "sv_model_load_memory: NULL data or output");
    return load(ctx, data, size, NULL, options, out);
}

sv_status sv_model_load(sv_context *ctx, const char *path, const sv_model_options *options,
                        sv_model **out) {
    if (!ctx)
        return SV_INVALID_ARGUMENT;
    sv_clear_error(ctx);
    if (!path || !out)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "sv_model_load: NULL path or output");
    FILE *f = fopen(path, "rb");
    if (!f)
        return sv_fail(ctx, SV_IO, "cannot open model %s", path);
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return sv_fail(ctx, SV_IO, "cannot read model %s", path);
    }
    if (size == 0) {
        fclose(f);
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "model %s is empty", path);
    }
    unsigned char *data = malloc((size_t)size);
    if (!data) {
        fclose(f);
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "model %s: %ld bytes: out of host memory", path,
                       size);
    }
    size_t got = fread(data, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(data);
        return sv_fail(ctx, SV_IO, "cannot read model %s", path);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    sv_status st = load(ctx, data, (size_t)size, dir, options, out);
    free(data);
    if (st != SV_OK)
        sv_fail_prefix(ctx, st, "%s: ", path);
    return st;
}

void sv_model_release(sv_model *m) {
    if (!m)
        return;
    if (m->planned)
        unplan(m);
    for (int i = 0; m->weights && i < m->g.nvalues; i++)
        sv_tensor_release(m->weights[i]);
    free(m->weights);
    graph_free(&m->g);
    sv_context_release(m->host);
    if (m->lock)
        pthread_mutex_destroy(m->lock);
    free(m->lock);
    free(m);
}

static int has_symbolic_batch(const sv_model *m) {
    for (int i = 0; i < m->g.ninputs; i++)
        if (m->g.values[m->g.inputs[i]].batch_symbolic)
            return 1;
    return 0;
}

sv_status sv_model_set_batch(sv_model *m, int64_t batch) {
    if (!m)
        return SV_INVALID_ARGUMENT;
    pthread_mutex_lock(m->lock);
    sv_clear_error(m->ctx);
    sv_status st;
    /* fixed shapes are planned at batch 1, and re-planned there after a failed allocation */
    const int64_t previous = m->planned ? m->pl.batch : 0;
    if (batch != (previous ? previous : 1) && !has_symbolic_batch(m)) {
        st = sv_fail(m->ctx, SV_SHAPE_MISMATCH,
                     "the model's inputs have fixed shapes: no batch size can be chosen (batch "
                     "%lld requested)",
                     (long long)batch);
    } else if ((st = plan_for(m, batch)) != SV_OK && !m->planned && previous > 0) {
        /* the device failed an allocation the check allowed, after the old plan went: back to
         * it, so that the model stays usable */
        char saved[sizeof m->ctx->last_error];
        memcpy(saved, m->ctx->last_error, sizeof saved);
        plan_for(m, previous);
        memcpy(m->ctx->last_error, saved, sizeof saved);
    }
    pthread_mutex_unlock(m->lock);
    return st;
}

int64_t sv_model_batch(const sv_model *m) {
    return m ? m->pl.batch : 0;
}

int sv_model_input_count(const sv_model *m) {
    return m ? m->g.ninputs : 0;
}

int sv_model_output_count(const sv_model *m) {
    return m ? m->g.noutputs : 0;
}

static sv_status describe_value(const sv_model *m, int id, sv_value_info *info) {
    if (!m->planned)
        return SV_INVALID_ARGUMENT; /* no shapes: the plan went with a failed re-plan */
    const plan_value *v = &m->pl.values[id];
    memset(info, 0, sizeof *info);
    info->name = m->g.values[id].name;
    info->rank = v->rank;
    memcpy(info->dims, v->dims, sizeof info->dims);
    info->batch_symbolic = m->g.values[id].batch_symbolic;
    return SV_OK;
}

sv_status sv_model_input(const sv_model *m, int index, sv_value_info *info) {
    if (!m || !m->planned || !info || index < 0 || index >= m->g.ninputs)
        return SV_INVALID_ARGUMENT;
    return describe_value(m, m->g.inputs[index], info);
}

sv_status sv_model_output(const sv_model *m, int index, sv_value_info *info) {
    if (!m || !m->planned || !info || index < 0 || index >= m->g.noutputs)
        return SV_INVALID_ARGUMENT;
    return describe_value(m, m->g.outputs[index], info);
}

/* The boundaries between layers, for timing: OpenCL markers on a device (their profiling
 * timestamps are read once the run is over), the host clock on the reference path, which runs
 * each layer to completion. */
typedef struct layer_clock {
    int boundaries; /* layers + 1; 0 when not timing */
    cl_event *events;
    double *host_ms;
} layer_clock;

static double host_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static sv_status clock_mark(sv_context *ctx, layer_clock *c, int boundary) {
    if (!c->boundaries)
        return SV_OK;
    if (sv_context_is_ref(ctx)) {
        c->host_ms[boundary] = host_ms();
        return SV_OK;
    }
    cl_int rc = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &c->events[boundary]);
    return rc == CL_SUCCESS ? SV_OK : sv_fail_cl(ctx, rc, "clEnqueueMarkerWithWaitList(timing)");
}

static sv_status clock_read(sv_context *ctx, const layer_clock *c, sv_run_timing *t) {
    double *at = c->host_ms;
    for (int b = 0; !sv_context_is_ref(ctx) && b < c->boundaries; b++) {
        cl_ulong end = 0;
        cl_int rc =
            clGetEventProfilingInfo(c->events[b], CL_PROFILING_COMMAND_END, sizeof end, &end, NULL);
        if (rc != CL_SUCCESS)
            return sv_fail_cl(ctx, rc, "clGetEventProfilingInfo(timing)");
        at[b] = (double)end * 1e-6;
    }
    t->total_ms = at[c->boundaries - 1] - at[0];
    for (int k = 0; t->layer_ms && k + 1 < c->boundaries; k++)
        t->layer_ms[k] = at[k + 1] - at[k];
    return SV_OK;
}

static void clock_release(layer_clock *c) {
    for (int b = 0; c->events && b < c->boundaries; b++)
        if (c->events[b])
            clReleaseEvent(c->events[b]);
    free(c->events);
    free(c->host_ms);
}

static sv_status run(sv_model *m, const float *const *inputs, float *const *outputs,
                     sv_run_timing *timing) {
    sv_context *ctx = m->ctx;
    sv_clear_error(ctx);
    if ((!inputs && m->g.ninputs) || !outputs)
        return sv_fail(ctx, SV_INVALID_ARGUMENT, "sv_model_run: NULL inputs or outputs");
    if (!m->planned)
        return sv_fail(ctx, SV_INVALID_ARGUMENT,
                       "the model has no plan: its device buffers could not be allocated; set a "
                       "batch size that fits");
    plan *pl = &m->pl;
    layer_clock clock = {0, NULL, NULL};
    if (timing) {
        clock.boundaries = pl->nsteps + 1;
        clock.events = calloc((size_t)clock.boundaries, sizeof *clock.events);
        clock.host_ms = calloc((size_t)clock.boundaries, sizeof *clock.host_ms);
        if (!clock.events || !clock.host_ms) {
            clock_release(&clock);
            return sv_fail(ctx, SV_OUT_OF_MEMORY, "run: out of host memory");
        }
    }
    sv_status st = SV_OK;
    for (int i = 0; i < m->g.ninputs && st == SV_OK; i++) {
        plan_value *v = &pl->values[m->g.inputs[i]];
        if (!inputs[i]) {
            st = sv_fail(ctx, SV_INVALID_ARGUMENT, "input %d ('%s') is NULL", i,
                         m->g.values[m->g.inputs[i]].name);
            break;
        }
        st = sv_tensor_upload(v->tensor, inputs[i], sv_tensor_count(v->tensor));
    }
    if (st == SV_OK)
        st = clock_mark(ctx, &clock, 0);
    sv_tensor *ins[64];
    for (int k = 0; k < pl->nsteps && st == SV_OK; k++) {
        const step *s = &pl->steps[k];
        sv_tensor **in = s->ninputs <= 64 ? ins : calloc((size_t)s->ninputs, sizeof *in);
        if (!in) {
            st = sv_fail(ctx, SV_OUT_OF_MEMORY, "run: out of host memory");
            break;
        }
        for (int j = 0; j < s->ninputs; j++)
            in[j] = s->inputs[j] >= 0 ? pl->values[s->inputs[j]].tensor : NULL;
        const step_resources res = {m->convs ? &m->convs[k] : NULL,
                                    m->workspace ? m->workspace->buffer : NULL,
                                    m->workspace ? (size_t)m->workspace->count : 0};
        st = step_run(ctx, s, in, pl->values[s->output].tensor,
                      s->indices >= 0 ? pl->values[s->indices].tensor : NULL, &res);
        if (in != ins)
            free(in);
        if (st != SV_OK)
            sv_fail_prefix(ctx, st, "layer %d '%s' (%s): ", k, s->name, s->op);
        else
            st = clock_mark(ctx, &clock, k + 1);
    }
    for (int i = 0; i < m->g.noutputs && st == SV_OK; i++) {
        const plan_value *v = &pl->values[m->g.outputs[i]];
        if (!outputs[i]) {
            st = sv_fail(ctx, SV_INVALID_ARGUMENT, "output %d is NULL", i);
            break;
        }
        if (v->constant) {
            for (int64_t k = 0; k < v->constant->count; k++)
                outputs[i][k] = (float)hc_get(v->constant, k);
            continue;
        }
        st = sv_tensor_download(v->tensor, outputs[i], sv_tensor_count(v->tensor));
    }
    if (st == SV_OK && timing)
        st = sv_context_finish(ctx) == SV_OK ? clock_read(ctx, &clock, timing) : SV_OPENCL;
    clock_release(&clock);
    m->ran = st == SV_OK;
    return st;
}

/* One run at a time per model, however many threads share it. */
static sv_status run_locked(sv_model *m, const float *const *inputs, float *const *outputs,
                            int timed, sv_run_timing *timing) {
    if (!m)
        return SV_INVALID_ARGUMENT;
    pthread_mutex_lock(m->lock);
    sv_status st = timed && !timing
                       ? sv_fail(m->ctx, SV_INVALID_ARGUMENT, "sv_model_run_timed: NULL timing")
                       : run(m, inputs, outputs, timing);
    pthread_mutex_unlock(m->lock);
    return st;
}

sv_status sv_model_run(sv_model *m, const float *const *inputs, float *const *outputs) {
    return run_locked(m, inputs, outputs, 0, NULL);
}

sv_status sv_model_run_timed(sv_model *m, const float *const *inputs, float *const *outputs,
                             sv_run_timing *timing) {
    return run_locked(m, inputs, outputs, 1, timing);
}

int sv_model_layer_count(const sv_model *m) {
    return m ? m->pl.nsteps : 0;
}

static void describe_params(const step *s, char *buf, size_t size) {
    buf[0] = '\0';
    switch (s->kind) {
    case STEP_CONV: {
        const sv_conv_params *p = &s->p.conv;
        if (p->spatial_dims == 2)
            snprintf(buf, size, "s%d,%d d%d,%d p%d,%d/%d,%d g%d%s%s%s", p->stride[0], p->stride[1],
                     p->dilation[0], p->dilation[1], p->pad_begin[0], p->pad_begin[1],
                     p->pad_end[0], p->pad_end[1], p->groups, p->pad_mode ? " " : "",
                     p->pad_mode ? sv_pad_mode_name(p->pad_mode) : "",
                     p->max_pool_2x2 ? " pool k2x2 s2" : "");
        else
            snprintf(buf, size, "s%d d%d p%d/%d g%d%s%s", p->stride[0], p->dilation[0],
                     p->pad_begin[0], p->pad_end[0], p->groups, p->pad_mode ? " " : "",
                     p->pad_mode ? sv_pad_mode_name(p->pad_mode) : "");
        break;
    }
    case STEP_CONV_TRANSPOSE: {
        const sv_conv_transpose_params *p = &s->p.conv_transpose;
        snprintf(buf, size, "s%d d%d p%d/%d op%d g%d", p->stride[0], p->dilation[0],
                 p->pad_begin[0], p->pad_end[0], p->output_padding[0], p->groups);
        break;
    }
    case STEP_POOL: {
        const sv_pool_params *p = &s->p.pool;
        if (p->global)
            snprintf(buf, size, "global");
        else
            snprintf(buf, size, "k%d%s%d s%d p%d/%d%s", p->kernel[0],
                     p->spatial_dims == 2 ? "x" : "", p->spatial_dims == 2 ? p->kernel[1] : 0,
                     p->stride[0], p->pad_begin[0], p->pad_end[0], p->ceil_mode ? " ceil" : "");
        break;
    }
    case STEP_SOFTMAX: snprintf(buf, size, "axis %d", s->p.softmax.axis); break;
    case STEP_GEMM:
        snprintf(buf, size, "alpha %g beta %g%s%s", (double)s->p.gemm.alpha, (double)s->p.gemm.beta,
                 s->p.gemm.trans_a ? " A'" : "", s->p.gemm.trans_b ? " B'" : "");
        break;
    case STEP_CONCAT: snprintf(buf, size, "axis %d", s->p.axis); break;
    case STEP_LRN: snprintf(buf, size, "size %d", s->p.lrn.size); break;
    default: break;
    }
}

static const char *algorithm_of(const sv_model *m, const step *s) {
    if (sv_context_is_ref(m->ctx))
        return s->kind == STEP_VIEW ? "view" : "reference";
    switch (s->kind) {
    case STEP_CONV: return sv_conv_algorithm_name(m->convs[s - m->pl.steps].choice.algorithm);
    case STEP_CONV_TRANSPOSE:
        return sv_conv_transpose_algorithm_label(sv_conv_transpose_algorithm_of(
            m->ctx, &s->p.conv_transpose, m->pl.values[s->inputs[0]].dims,
            m->pl.values[s->inputs[1]].dims));
    case STEP_GEMM: return sv_gemm_algorithm_label(&s->p.gemm, m->pl.values[s->inputs[0]].dims);
    case STEP_MATMUL: {
        const plan_value *a = &m->pl.values[s->inputs[0]], *b = &m->pl.values[s->inputs[1]];
        return sv_matmul_algorithm_label(a->rank, a->dims, b->rank, b->dims);
    }
    case STEP_VIEW: return "view";
    default: return "kernel";
    }
}

sv_status sv_model_layer(const sv_model *m, int index, sv_layer_info *info) {
    if (!m || !info || index < 0 || index >= m->pl.nsteps)
        return SV_INVALID_ARGUMENT;
    const step *s = &m->pl.steps[index];
    const plan_value *v = &m->pl.values[s->output];
    memset(info, 0, sizeof *info);
    info->name = s->name;
    info->op = s->op;
    describe_params(s, info->params, sizeof info->params);
    info->rank = v->rank;
    memcpy(info->dims, v->dims, sizeof info->dims);
    info->macs = s->macs;
    info->algorithm = algorithm_of(m, s);
    int64_t elements = hc_product(v->rank, v->dims);
    for (int j = 0; j < s->ninputs && s->kind != STEP_VIEW; j++)
        if (s->inputs[j] >= 0) {
            const plan_value *in = &m->pl.values[s->inputs[j]];
            elements += hc_product(in->rank, in->dims);
        }
    info->bytes = s->kind == STEP_VIEW ? 0 : elements * (int64_t)sizeof(float);
    return SV_OK;
}

sv_status sv_model_layer_output(const sv_model *m, int index, float *host, int64_t count) {
    if (!m)
        return SV_INVALID_ARGUMENT;
    pthread_mutex_lock(m->lock);
    sv_clear_error(m->ctx);
    sv_status st;
    if (index < 0 || index >= m->pl.nsteps)
        st = SV_INVALID_ARGUMENT;
    else if (!m->keep_intermediates)
        st = sv_fail(m->ctx, SV_INVALID_ARGUMENT,
                     "layer outputs are kept only when the model is loaded with "
                     "keep_intermediates");
    else if (!m->ran)
        st = sv_fail(m->ctx, SV_INVALID_ARGUMENT, "the model has not run since it was planned");
    else
        st = sv_tensor_download(m->pl.values[m->pl.steps[index].output].tensor, host, count);
    pthread_mutex_unlock(m->lock);
    return st;
}

int64_t sv_model_peak_activation_bytes(const sv_model *m) {
    return m ? m->pl.peak_activation_bytes : 0;
}
