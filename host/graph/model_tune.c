/* sv_model_tune: every distinct convolution shape of a model tuned on its device, the winners
 * stored in the device's tuning database and the model re-planned with them. */
#include "graph/model.h"
#include "ops/conv_tune.h"
#include "ops/conv_tuning.h"

#include <stdlib.h>
#include <string.h>

/* The candidates of one layer, collected so that the winner can be marked when reported. */
typedef struct candidate_list {
    sv_conv_tune_result items[64];
    int count;
} candidate_list;

static void collect(void *user, const sv_conv_tune_result *r) {
    candidate_list *list = user;
    if (list->count < (int)(sizeof list->items / sizeof list->items[0]))
        list->items[list->count++] = *r;
}

static void report_layer(const sv_tune_options *o, int layer, const char *name,
                         const candidate_list *list, const sv_conv_tune_result *best) {
    for (int i = 0; o->report && i < list->count; i++) {
        const sv_conv_tune_result *r = &list->items[i];
        const sv_tune_record record = {layer,
                                       name,
                                       sv_conv_algorithm_name(r->choice.algorithm),
                                       r->choice.variant,
                                       r->ms,
                                       r->error,
                                       r->outcome,
                                       best && r->choice.algorithm == best->choice.algorithm &&
                                           r->choice.variant == best->choice.variant};
        o->report(o->user, &record);
    }
}

/* Uniform values in [-1, 1) from a fixed xorshift sequence: tuning is repeatable. */
static void fill_random(float *v, size_t n, uint64_t *state) {
    for (size_t i = 0; i < n; i++) {
        *state ^= *state << 13, *state ^= *state >> 7, *state ^= *state << 17;
        v[i] = (float)((double)(*state >> 11) * 0x1.0p-52 - 1.0);
    }
}

/* The reference output of the first image: x's first image, w and b through the reference
 * path. */
static sv_status reference_first_image(sv_model *m, const sv_conv_params *p, const sv_tensor *x,
                                       const sv_tensor *w, const sv_tensor *b, const sv_tensor *y,
                                       float *out) {
    int64_t x_dims[SV_MAX_RANK], y_dims[SV_MAX_RANK];
    memcpy(x_dims, x->dims, sizeof x_dims);
    memcpy(y_dims, y->dims, sizeof y_dims);
    x_dims[0] = y_dims[0] = 1;
    const sv_tensor *device[3] = {x, w, b};
    sv_tensor *host[4] = {NULL, NULL, NULL, NULL};
    sv_status st = SV_OK;
    for (int i = 0; i < 3 && st == SV_OK; i++) {
        if (!device[i])
            continue;
        /* x: its first image only */
        const int64_t count = device[i]->count / (i == 0 ? x->dims[0] : 1);
        float *data = malloc((size_t)count * sizeof *data);
        if (!data)
            return sv_fail(m->ctx, SV_OUT_OF_MEMORY, "tune: out of host memory");
        st = sv_tensor_read_prefix(device[i], data, count);
        const sv_host_view view =
            sv_host_view_make(data, device[i]->rank, i == 0 ? x_dims : device[i]->dims);
        if (st == SV_OK && sv_tensor_from_host(m->host, &view, &host[i]) != SV_OK)
            st = sv_fail(m->ctx, SV_OUT_OF_MEMORY, "tune: %s", sv_last_error(m->host));
        free(data);
    }
    if (st == SV_OK && sv_tensor_create(m->host, y->rank, y_dims, &host[3]) != SV_OK)
        st = sv_fail(m->ctx, SV_OUT_OF_MEMORY, "tune: %s", sv_last_error(m->host));
    if (st == SV_OK && sv_conv(m->host, p, host[0], host[1], host[2], host[3]) != SV_OK)
        st = sv_fail(m->ctx, SV_INVALID_ARGUMENT, "tune: reference: %s", sv_last_error(m->host));
    if (st == SV_OK)
        st = sv_tensor_download(host[3], out, host[3]->count);
    for (int i = 0; i < 4; i++)
        sv_tensor_release(host[i]);
    return st;
}

/* Tunes step k into db: random input, the reference of its first image, every candidate. */
static sv_status tune_step(sv_model *m, int k, const sv_tune_options *o, double deadline,
                           uint64_t *rng, sv_tuning_db *db) {
    const step *s = &m->pl.steps[k];
    plan_value *xv = &m->pl.values[s->inputs[0]];
    sv_conv_tune_operands ops = {
        xv->tensor, m->pl.values[s->inputs[1]].tensor,
        s->ninputs > 2 && s->inputs[2] >= 0 ? m->pl.values[s->inputs[2]].tensor : NULL,
        m->pl.values[s->output].tensor, NULL};
    const size_t nx = (size_t)ops.x->count, ny = (size_t)ops.y->count;
    float *x = malloc(nx * sizeof *x), *ref = malloc(ny / (size_t)ops.y->dims[0] * sizeof *ref);
    sv_status st = x && ref ? SV_OK : sv_fail(m->ctx, SV_OUT_OF_MEMORY, "tune: out of host memory");
    /* activations get random values (the next run overwrites them); a constant input keeps its
     * value */
    if (st == SV_OK && !xv->constant) {
        fill_random(x, nx, rng);
        st = sv_tensor_upload(xv->tensor, x, (int64_t)nx);
    }
    if (st == SV_OK)
        st = reference_first_image(m, &s->p.conv, ops.x, ops.w, ops.b, ops.y, ref);
    ops.ref_first = ref;
    candidate_list list = {.count = 0};
    sv_conv_tune_result best;
    if (st == SV_OK)
        st = sv_conv_tune(m->ctx, &s->p.conv, &ops, o->iterations, deadline, collect, &list, &best);
    report_layer(o, k, s->name, &list, st == SV_OK ? &best : NULL);
    if (st == SV_OK) {
        const sv_conv_geometry g = model_conv_geometry(&m->pl, s);
        const sv_conv_tuning_key key = sv_conv_tuning_key_of(&s->p.conv, &g);
        if (sv_tuning_db_put(db, &key, best.choice, best.ms) != SV_OK)
            st = sv_fail(m->ctx, SV_OUT_OF_MEMORY, "tune: out of host memory");
    } else if (st == SV_UNSUPPORTED && sv_tune_now_ms() > deadline) {
        st = SV_OK; /* the budget ran out before this layer: it keeps its choice */
        sv_clear_error(m->ctx);
    }
    free(x);
    free(ref);
    return st;
}

/* The earlier convolution step with the same tuning key as step k, or -1. */
static int same_shape_as(const sv_model *m, int k) {
    const step *s = &m->pl.steps[k];
    for (int j = 0; j < k; j++) {
        const step *t = &m->pl.steps[j];
        if (t->kind != STEP_CONV)
            continue;
        const sv_conv_geometry ga = model_conv_geometry(&m->pl, s),
                               gb = model_conv_geometry(&m->pl, t);
        const sv_conv_tuning_key ka = sv_conv_tuning_key_of(&s->p.conv, &ga),
                                 kb = sv_conv_tuning_key_of(&t->p.conv, &gb);
        if (memcmp(&ka, &kb, sizeof ka) == 0)
            return j;
    }
    return -1;
}

sv_status sv_tuning_database_path(const sv_context *ctx, char *out, size_t size) {
    if (!ctx || !out)
        return SV_INVALID_ARGUMENT;
    if (ctx->device.kind == SV_DEVICE_REF)
        return SV_UNSUPPORTED;
    return sv_tuning_db_path(&ctx->device, 0, out, size) ? SV_OK : SV_IO;
}

static sv_status tune(sv_model *m, const sv_tune_options *options) {
    sv_context *ctx = m->ctx;
    sv_clear_error(ctx);
    if (sv_context_is_ref(ctx))
        return sv_fail(ctx, SV_UNSUPPORTED,
                       "tune: the reference device has one algorithm: nothing to tune");
    sv_tune_options o = {300.0, 5, NULL, NULL};
    if (options)
        o = *options;
    if (!(o.seconds > 0))
        o.seconds = 300.0;
    o.iterations = o.iterations <= 0 ? 5 : o.iterations > 64 ? 64 : o.iterations;
    char path[4096];
    if (!sv_tuning_db_path(&ctx->device, 1, path, sizeof path))
        return sv_fail(ctx, SV_IO,
                       "tune: no cache directory for the tuning database (set SVERTKA_CACHE_DIR, "
                       "XDG_CACHE_HOME or HOME, or SVERTKA_TUNING_FILE)");
    sv_tuning_db *db = malloc(sizeof *db);
    if (!db)
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "tune: out of host memory");
    sv_tuning_db_init(db, &ctx->device);
    sv_tuning_db_load(db, path); /* other models' shapes stay */
    const double deadline = sv_tune_now_ms() + o.seconds * 1e3;
    uint64_t rng = UINT64_C(0x9e3779b97f4a7c15);
    sv_status st = SV_OK;
    for (int k = 0; k < m->pl.nsteps && st == SV_OK; k++) {
        if (m->pl.steps[k].kind != STEP_CONV)
            continue;
        const int twin = same_shape_as(m, k);
        if (twin >= 0) {
            char outcome[64];
            snprintf(outcome, sizeof outcome, "same shape as layer %d", twin);
            const sv_tune_record record = {k, m->pl.steps[k].name, "", 0, -1.0, -1.0, outcome, 0};
            if (o.report)
                o.report(o.user, &record);
            continue;
        }
        st = tune_step(m, k, &o, deadline, &rng, db);
        if (st != SV_OK)
            sv_fail_prefix(ctx, st, "layer %d '%s': ", k, m->pl.steps[k].name);
    }
    sv_message msg;
    if (st == SV_OK && (st = sv_tuning_db_save(db, path, &msg)) != SV_OK)
        sv_fail_from_message(ctx, st, &msg);
    if (st != SV_OK) {
        sv_tuning_db_release(db);
        return st;
    }
    /* the context uses the new choices from now on, unless the database is switched off */
    sv_tuning_db_release(ctx->tuning);
    ctx->tuning = sv_tuning_enabled() ? db : NULL;
    ctx->tuning_loaded = 1;
    if (!ctx->tuning)
        sv_tuning_db_release(db);
    model_release_convs(m);
    m->ran = 0;
    return model_prepare_convs(m);
}

sv_status sv_model_tune(sv_model *m, const sv_tune_options *options) {
    if (!m)
        return SV_INVALID_ARGUMENT;
    pthread_mutex_lock(m->lock); /* the model's buffers hold the candidates' data meanwhile */
    const sv_status st = tune(m, options);
    pthread_mutex_unlock(m->lock);
    return st;
}
