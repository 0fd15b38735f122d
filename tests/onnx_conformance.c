/* Runs the ONNX backend test cases (per case directory: model.onnx, and test_data_set_N holding
 * input_K.pb and output_K.pb) on a device and compares with the expected outputs. A case whose
 * model uses an op or attribute the library does not support is skipped and its reason tallied;
 * any other failure (load error, run error, wrong shape, wrong value) fails the run.
 *
 * usage: onnx_conformance [--device DEV] [--verbose] DIR...
 *   each DIR is a case directory or a directory of case directories. */
#include "graph/graph.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The ONNX backend tests compare with rtol 1e-3 and atol 1e-7 by default; 1e-5 absolute allows
 * for fp32 sums whose exact value is near zero (cancellation in long reductions). */
#define CONFORMANCE_RTOL 1e-3
#define CONFORMANCE_ATOL 1e-5

enum { MAX_TENSORS = 16, MAX_REASONS = 256 };

typedef struct tally {
    int passed, failed, skipped;
    char reasons[MAX_REASONS][160];
    int reason_counts[MAX_REASONS];
    int nreasons;
} tally;

static void count_reason(tally *t, const char *reason) {
    for (int i = 0; i < t->nreasons; i++)
        if (strcmp(t->reasons[i], reason) == 0) {
            t->reason_counts[i]++;
            return;
        }
    if (t->nreasons < MAX_REASONS) {
        snprintf(t->reasons[t->nreasons], sizeof t->reasons[0], "%s", reason);
        t->reason_counts[t->nreasons++] = 1;
    }
}

/* The part of an "unsupported" message worth tallying: "op 'X' is not supported" or the text
 * after the node's name. */
static void reason_of(const char *message, char *out, size_t size) {
    const char *after_path = strstr(message, "model.onnx: ");
    if (after_path)
        message = after_path + strlen("model.onnx: ");
    const char *op = strstr(message, "op '");
    const char *node_end = strstr(message, "): ");
    if (op && strstr(op, "is not supported"))
        snprintf(out, size, "%.*s", (int)(strstr(op, "is not supported") - op + 16), op);
    else if (node_end)
        snprintf(out, size, "%s", node_end + 3);
    else
        snprintf(out, size, "%s", message);
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = n > 0 ? malloc((size_t)n) : NULL;
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

static hostconst *read_tensor(const char *path, char *why, size_t why_size) {
    size_t size;
    unsigned char *data = read_file(path, &size);
    if (!data) {
        snprintf(why, why_size, "cannot read %s", path);
        return NULL;
    }
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, size, data);
    free(data);
    if (!t) {
        snprintf(why, why_size, "%s is not a TensorProto", path);
        return NULL;
    }
    hostconst *c = NULL;
    sv_message msg;
    if (graph_tensor_to_const(t, NULL, &c, &msg) != SV_OK)
        snprintf(why, why_size, "%.200s: %.800s", path, msg.text);
    onnx__tensor_proto__free_unpacked(t, NULL);
    return c;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Runs one data set; returns 1 on pass, writes why on failure. */
static int run_data_set(sv_context *ctx, sv_model *m, const char *dir, char *why, size_t why_size) {
    hostconst *in[MAX_TENSORS] = {0}, *expected[MAX_TENSORS] = {0};
    float *outputs[MAX_TENSORS] = {0};
    const float *inputs[MAX_TENSORS] = {0};
    int ok = 1, nin = sv_model_input_count(m), nout = sv_model_output_count(m);
    char path[4200];
    if (nin > MAX_TENSORS || nout > MAX_TENSORS) {
        snprintf(why, why_size, "too many inputs or outputs");
        return 0;
    }
    for (int i = 0; ok && i < nin; i++) {
        snprintf(path, sizeof path, "%.4000s/input_%d.pb", dir, i);
        ok = (in[i] = read_tensor(path, why, why_size)) != NULL;
        if (ok && in[i]->type != HC_F32) {
            snprintf(why, why_size, "input %d is not float", i);
            ok = 0;
        }
    }
    for (int i = 0; ok && i < nout; i++) {
        snprintf(path, sizeof path, "%.4000s/output_%d.pb", dir, i);
        ok = (expected[i] = read_tensor(path, why, why_size)) != NULL;
    }
    sv_value_info first;
    if (ok && nin > 0 && sv_model_input(m, 0, &first) == SV_OK && first.batch_symbolic &&
        in[0]->rank > 0 && sv_model_set_batch(m, in[0]->dims[0]) != SV_OK) {
        snprintf(why, why_size, "batch %lld: %s", (long long)in[0]->dims[0], sv_last_error(ctx));
        ok = 0;
    }
    for (int i = 0; ok && i < nin; i++) {
        sv_value_info v;
        sv_model_input(m, i, &v);
        if (hc_product(v.rank, v.dims) != in[i]->count) {
            snprintf(why, why_size, "input %d has %lld elements, the model wants %lld", i,
                     (long long)in[i]->count, (long long)hc_product(v.rank, v.dims));
            ok = 0;
        }
        inputs[i] = in[i] ? in[i]->f : NULL;
    }
    for (int i = 0; ok && i < nout; i++) {
        sv_value_info v;
        sv_model_output(m, i, &v);
        if (hc_product(v.rank, v.dims) != expected[i]->count) {
            snprintf(why, why_size, "output %d has %lld elements, expected %lld", i,
                     (long long)hc_product(v.rank, v.dims), (long long)expected[i]->count);
            ok = 0;
        }
        outputs[i] = malloc((size_t)(expected[i]->count ? expected[i]->count : 1) * sizeof(float));
    }
    if (ok && sv_model_run(m, inputs, outputs) != SV_OK) {
        snprintf(why, why_size, "run: %s", sv_last_error(ctx));
        ok = 0;
    }
    for (int i = 0; ok && i < nout; i++)
        for (int64_t k = 0; k < expected[i]->count; k++) {
            const double want = hc_get(expected[i], k), got = outputs[i][k];
            const int both_nan = isnan(want) && isnan(got);
            const int same_inf = isinf(want) && got == want;
            if (!both_nan && !same_inf &&
                !(fabs(got - want) <= CONFORMANCE_ATOL + CONFORMANCE_RTOL * fabs(want))) {
                snprintf(why, why_size, "output %d element %lld: got %.9g, expected %.9g", i,
                         (long long)k, got, want);
                ok = 0;
                break;
            }
        }
    for (int i = 0; i < MAX_TENSORS; i++) {
        hc_free(in[i]);
        hc_free(expected[i]);
        free(outputs[i]);
    }
    return ok;
}

/* The backend tests feed an op's parameters (shapes, pads, scales, bounds) as graph inputs,
 * which the library wants as constants, as exported models have them. Such a model is loaded
 * again with every input but the first turned into an initializer holding data set 0's value. */
static int is_initializer(const Onnx__GraphProto *g, const char *name) {
    for (size_t k = 0; k < g->n_initializer; k++)
        if (strcmp(g->initializer[k]->name, name) == 0)
            return 1;
    return 0;
}

static sv_status load_frozen(sv_context *ctx, const char *dir, const char *model_path,
                             sv_model **m) {
    size_t size;
    unsigned char *data = read_file(model_path, &size);
    Onnx__ModelProto *model = data ? onnx__model_proto__unpack(NULL, size, data) : NULL;
    free(data);
    if (!model || !model->graph) {
        if (model)
            onnx__model_proto__free_unpacked(model, NULL);
        return SV_UNSUPPORTED;
    }
    Onnx__GraphProto *g = model->graph;
    const size_t n = g->n_input;
    Onnx__TensorProto **inits = realloc(g->initializer, (g->n_initializer + n + 1) * sizeof *inits);
    sv_status st = inits ? SV_OK : SV_OUT_OF_MEMORY;
    if (inits)
        g->initializer = inits;
    /* test data numbers the inputs that are not initializers; all but the first are frozen */
    for (size_t k = 0, fed = 0; st == SV_OK && k < n; k++) {
        if (is_initializer(g, g->input[k]->name) || fed++ == 0)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%.4000s/test_data_set_0/input_%zu.pb", dir, fed - 1);
        unsigned char *bytes = read_file(path, &size);
        Onnx__TensorProto *t = bytes ? onnx__tensor_proto__unpack(NULL, size, bytes) : NULL;
        free(bytes);
        if (!t) {
            st = SV_UNSUPPORTED;
            break;
        }
        free(t->name);
        t->name = strdup(g->input[k]->name);
        g->initializer[g->n_initializer++] = t;
        onnx__value_info_proto__free_unpacked(g->input[k], NULL);
        g->input[k] = NULL;
    }
    size_t kept = 0; /* the inputs not moved */
    for (size_t k = 0; k < n; k++)
        if (g->input[k])
            g->input[kept++] = g->input[k];
    g->n_input = kept;
    data = NULL;
    if (st == SV_OK) {
        size = onnx__model_proto__get_packed_size(model);
        data = malloc(size);
        if (!data)
            st = SV_OUT_OF_MEMORY;
        else
            onnx__model_proto__pack(model, data);
    }
    onnx__model_proto__free_unpacked(model, NULL);
    if (st != SV_OK)
        return st;
    st = sv_model_load_memory(ctx, data, size, NULL, m);
    free(data);
    return st;
}

static void run_case(const char *device, const char *dir, tally *t, int verbose) {
    char model_path[4200];
    snprintf(model_path, sizeof model_path, "%.4000s/model.onnx", dir);
    const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    sv_context *ctx = NULL;
    sv_message msg;
    if (sv_context_create(device, &ctx, &msg) != SV_OK) {
        printf("FAIL %s: %s\n", name, msg.text);
        t->failed++;
        return;
    }
    sv_model *m = NULL;
    sv_status st = sv_model_load(ctx, model_path, NULL, &m);
    if (st == SV_UNSUPPORTED && (strstr(sv_last_error(ctx), "must be a constant") ||
                                 strstr(sv_last_error(ctx), "only float inputs") ||
                                 strstr(sv_last_error(ctx), "has rank 0")))
        st = load_frozen(ctx, dir, model_path, &m);
    if (st == SV_UNSUPPORTED) {
        char reason[160];
        reason_of(sv_last_error(ctx), reason, sizeof reason);
        count_reason(t, reason);
        t->skipped++;
        if (verbose)
            printf("skip %s: %s\n", name, sv_last_error(ctx));
        sv_context_release(ctx);
        return;
    }
    if (st != SV_OK) {
        printf("FAIL %s: load: %s\n", name, sv_last_error(ctx));
        t->failed++;
        sv_context_release(ctx);
        return;
    }
    int sets = 0, ok = 1;
    char why[1024] = "";
    for (int k = 0; ok; k++) {
        char set[4200];
        snprintf(set, sizeof set, "%.4000s/test_data_set_%d", dir, k);
        if (!is_dir(set))
            break;
        sets++;
        ok = run_data_set(ctx, m, set, why, sizeof why);
    }
    if (ok && sets == 0) {
        snprintf(why, sizeof why, "no test_data_set_0");
        ok = 0;
    }
    if (ok) {
        t->passed++;
        if (verbose)
            printf("pass %s\n", name);
    } else {
        t->failed++;
        printf("FAIL %s: %s\n", name, why);
    }
    sv_model_release(m);
    sv_context_release(ctx);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_tree(const char *device, const char *dir, tally *t, int verbose) {
    char path[4200];
    snprintf(path, sizeof path, "%.4000s/model.onnx", dir);
    struct stat st;
    if (stat(path, &st) == 0) {
        run_case(device, dir, t, verbose);
        return;
    }
    DIR *d = opendir(dir);
    if (!d) {
        printf("FAIL %s: not a directory\n", dir);
        t->failed++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%.2000s/%.2000s", dir, names[i]);
        if (is_dir(path))
            run_tree(device, path, t, verbose);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv) {
    const char *device = NULL;
    int verbose = 0, dirs = 0;
    static tally t;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            device = argv[++i];
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: onnx_conformance [--device DEV] [--verbose] DIR...\n");
            return 2;
        } else {
            dirs++;
        }
    }
    if (!dirs) {
        fprintf(stderr, "usage: onnx_conformance [--device DEV] [--verbose] DIR...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0)
            i++;
        else if (argv[i][0] != '-')
            run_tree(device, argv[i], &t, verbose);
    }
    printf("skipped (unsupported), by reason:\n");
    for (int i = 0; i < t.nreasons; i++)
        printf("  %4d  %s\n", t.reason_counts[i], t.reasons[i]);
    printf("conformance on %s: %d passed, %d failed, %d skipped\n", device ? device : "default",
           t.passed, t.failed, t.skipped);
    printf("%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
    return t.failed ? 1 : 0;
}
