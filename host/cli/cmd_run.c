/* svertka run MODEL.onnx --input FILE...: feeds .npy arrays or images to the model's inputs (in
 * graph-input order), runs it once, writes the first output as .npy and/or prints the top
 * classes per sample. */
#include "cli/cli.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { MAX_INPUTS = 16, MAX_LABEL = 256 };

typedef struct run_options {
    const char *model, *device, *output, *labels;
    const char *inputs[MAX_INPUTS];
    int ninputs;
    long batch, top, repeat;
    float mean[3], std[3];
    sv_conv_algorithm algorithm;
} run_options;

static int parse_triple(const char *option, const char *text, float *out) {
    char *end;
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        out[i] = strtof(p, &end);
        if (end == p || (i < 2 && *end != ',') || (i == 2 && *end))
            return cli_error(CLI_USAGE, "%s expects three comma-separated numbers, got '%s'",
                             option, text),
                   0;
        p = end + 1;
    }
    return 1;
}

static int parse_options(int argc, char **argv, run_options *o) {
    memset(o, 0, sizeof *o);
    o->repeat = 1;
    o->mean[0] = SV_IMAGENET_MEAN_R, o->mean[1] = SV_IMAGENET_MEAN_G,
    o->mean[2] = SV_IMAGENET_MEAN_B;
    o->std[0] = SV_IMAGENET_STD_R, o->std[1] = SV_IMAGENET_STD_G, o->std[2] = SV_IMAGENET_STD_B;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        if (a[0] == '-' && !(value = cli_option_value(argc, argv, &i)))
            return CLI_USAGE;
        if (strcmp(a, "--input") == 0) {
            if (o->ninputs == MAX_INPUTS)
                return cli_error(CLI_USAGE, "at most %d --input files", MAX_INPUTS);
            o->inputs[o->ninputs++] = value;
        } else if (strcmp(a, "--output") == 0) {
            o->output = value;
        } else if (strcmp(a, "--device") == 0) {
            o->device = value;
        } else if (strcmp(a, "--algorithm") == 0) {
            if (!cli_parse_algorithm(value, &o->algorithm))
                return CLI_USAGE;
        } else if (strcmp(a, "--labels") == 0) {
            o->labels = value;
        } else if (strcmp(a, "--batch") == 0 || strcmp(a, "--top") == 0 ||
                   strcmp(a, "--repeat") == 0) {
            long *target = a[2] == 'b' ? &o->batch : a[2] == 't' ? &o->top : &o->repeat;
            if (!cli_parse_positive(a, value, target))
                return CLI_USAGE;
        } else if (strcmp(a, "--mean") == 0 || strcmp(a, "--std") == 0) {
            if (!parse_triple(a, value, a[2] == 'm' ? o->mean : o->std))
                return CLI_USAGE;
        } else if (a[0] == '-') {
            return cli_error(CLI_USAGE, "run: unknown option '%s'", a);
        } else if (o->model) {
            return cli_error(CLI_USAGE, "run: unexpected argument '%s'", a);
        } else {
            o->model = a;
        }
    }
    if (!o->model)
        return cli_error(CLI_USAGE, "run: a model file is required (svertka run MODEL.onnx "
                                    "--input FILE)");
    if (o->labels && !o->top)
        return cli_error(CLI_USAGE, "--labels goes with --top K");
    for (int k = 0; k < 3; k++)
        if (!(o->std[k] > 0.0f))
            return cli_error(CLI_USAGE, "--std values must be positive");
    return CLI_OK;
}

static int is_npy(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".npy") == 0;
}

/* Reads input k: an .npy array as it is, or an image resized to the model's H x W and
 * normalised, as [1, C, H, W]. */
static int read_input(const run_options *o, int k, const sv_value_info *v, sv_io_array *out) {
    sv_message msg;
    const char *path = o->inputs[k];
    if (is_npy(path)) {
        if (sv_npy_read_file(path, out, &msg) != SV_OK)
            return cli_error(CLI_FAILURE, "%s", msg.text);
        return CLI_OK;
    }
    if (v->rank != 4 || (v->dims[1] != 3 && v->dims[1] != 1))
        return cli_error(CLI_FAILURE,
                         "input '%s' is not an image input (N, 1 or 3, H, W); give it a .npy "
                         "file instead of %s",
                         v->name, path);
    sv_image_options opt =
        sv_image_options_default((int)v->dims[2], (int)v->dims[3], (int)v->dims[1]);
    memcpy(opt.mean, o->mean, sizeof opt.mean);
    memcpy(opt.std, o->std, sizeof opt.std);
    if (sv_image_read_file(path, &opt, out, &msg) != SV_OK)
        return cli_error(CLI_FAILURE, "%s", msg.text);
    return CLI_OK;
}

/* Repeats a one-sample image array `batch` times along dimension 0. */
static int repeat_sample(sv_io_array *a, int64_t batch) {
    if (batch == 1)
        return CLI_OK;
    float *data = malloc((size_t)(a->count * batch) * sizeof *data);
    if (!data)
        return cli_error(CLI_FAILURE, "out of memory for a batch of %lld", (long long)batch);
    for (int64_t b = 0; b < batch; b++)
        memcpy(data + b * a->count, a->data, (size_t)a->count * sizeof *data);
    free(a->data);
    a->data = data;
    a->count *= batch;
    a->dims[0] = batch;
    return CLI_OK;
}

static char **read_labels(const char *path, int *count) {
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char **labels = NULL, line[MAX_LABEL];
    int n = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            char **bigger = realloc(labels, (size_t)cap * sizeof *labels);
            if (!bigger)
                break;
            labels = bigger;
        }
        labels[n++] = strdup(line);
    }
    fclose(f);
    *count = n;
    return labels;
}

/* Prints the K largest scores of each sample of a [N, classes...] output. */
static void print_top(const float *y, const sv_value_info *v, long k, char **labels, int nlabels) {
    const int64_t samples = v->rank > 1 ? v->dims[0] : 1;
    const int64_t classes = cli_count(v->rank, v->dims) / samples;
    if (k > classes)
        k = (long)classes;
    for (int64_t s = 0; s < samples; s++) {
        const float *row = y + s * classes;
        printf("sample %lld:\n", (long long)s);
        char *taken = calloc((size_t)classes, 1);
        for (long r = 0; taken && r < k; r++) {
            int64_t best = -1;
            for (int64_t c = 0; c < classes; c++)
                if (!taken[c] && (best < 0 || row[c] > row[best]))
                    best = c;
            if (best < 0)
                break;
            taken[best] = 1;
            printf("  %2ld. class %-5lld %12.6f  %s\n", r + 1, (long long)best, (double)row[best],
                   best < nlabels ? labels[best] : "");
        }
        free(taken);
    }
}

static int compare_doubles(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int cmd_run(int argc, char **argv) {
    run_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != CLI_OK)
        return rc;
    sv_context *ctx;
    sv_model *m;
    if (cli_open_model(o.device, o.model, 0, o.algorithm, 0, &ctx, &m) != CLI_OK)
        return CLI_FAILURE;
    const int nin = sv_model_input_count(m), nout = sv_model_output_count(m);
    sv_io_array arrays[MAX_INPUTS];
    memset(arrays, 0, sizeof arrays);
    float **outputs = calloc((size_t)nout + 1, sizeof *outputs);
    const float *inputs[MAX_INPUTS] = {0};
    char **labels = NULL;
    int nlabels = 0;
    if (o.ninputs != nin) {
        rc = cli_error(CLI_USAGE, "the model has %d input%s, %d --input given", nin,
                       nin == 1 ? "" : "s", o.ninputs);
        goto done;
    }
    for (int k = 0; k < nin && rc == CLI_OK; k++) {
        sv_value_info v;
        sv_model_input(m, k, &v);
        rc = read_input(&o, k, &v, &arrays[k]);
    }
    /* the batch: --batch, else the first .npy input's first dimension, else the model's */
    int64_t batch = o.batch ? o.batch : sv_model_batch(m);
    if (rc == CLI_OK && !o.batch && nin > 0 && is_npy(o.inputs[0]) && arrays[0].rank > 0)
        batch = arrays[0].dims[0];
    if (rc == CLI_OK && sv_model_set_batch(m, batch) != SV_OK)
        rc = cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
    for (int k = 0; k < nin && rc == CLI_OK; k++) {
        sv_value_info v;
        sv_model_input(m, k, &v);
        if (!is_npy(o.inputs[k]))
            rc = repeat_sample(&arrays[k], batch);
        char want[128], got[128];
        int same = arrays[k].rank == v.rank;
        for (int i = 0; same && i < v.rank; i++)
            same = arrays[k].dims[i] == v.dims[i];
        if (rc == CLI_OK && !same)
            rc = cli_error(CLI_FAILURE, "%s has shape %s; input '%s' needs %s", o.inputs[k],
                           cli_shape(got, sizeof got, arrays[k].rank, arrays[k].dims), v.name,
                           cli_shape(want, sizeof want, v.rank, v.dims));
        inputs[k] = arrays[k].data;
    }
    for (int k = 0; k < nout && rc == CLI_OK && outputs; k++) {
        sv_value_info v;
        sv_model_output(m, k, &v);
        if (!(outputs[k] = malloc((size_t)cli_count(v.rank, v.dims) * sizeof(float))))
            rc = cli_error(CLI_FAILURE, "out of memory for output '%s'", v.name);
    }
    if (rc != CLI_OK)
        goto done;
    /* the first run includes building the device's programs; later ones are steady state */
    double *times = calloc((size_t)o.repeat, sizeof *times);
    for (long r = 0; times && r < o.repeat; r++) {
        const double t0 = now_ms();
        if (sv_model_run(m, inputs, outputs) != SV_OK) {
            free(times);
            rc = cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
            goto done;
        }
        times[r] = now_ms() - t0;
    }
    if (!times) {
        rc = cli_error(CLI_FAILURE, "out of memory");
        goto done;
    }
    sv_value_info out;
    sv_model_output(m, 0, &out);
    char shape[128];
    printf("ran %s on %s: batch %lld, first run %.2f ms; output '%s' %s\n", o.model,
           sv_context_device(ctx)->name, (long long)batch, times[0], out.name,
           cli_shape(shape, sizeof shape, out.rank, out.dims));
    if (o.repeat > 1) {
        qsort(times + 1, (size_t)o.repeat - 1, sizeof *times, compare_doubles);
        const double median = times[1 + (o.repeat - 1) / 2];
        printf("steady state: median %.2f ms over %ld runs (wall time, inputs and outputs "
               "included): %.1f images/s\n",
               median, o.repeat - 1, (double)batch * 1e3 / median);
    }
    free(times);
    if (o.output) {
        sv_message msg;
        if (sv_npy_write_file(o.output, outputs[0], out.rank, out.dims, &msg) != SV_OK) {
            rc = cli_error(CLI_FAILURE, "%s", msg.text);
            goto done;
        }
        printf("wrote %s\n", o.output);
    }
    if (o.top) {
        if (o.labels && !(labels = read_labels(o.labels, &nlabels))) {
            rc = cli_error(CLI_FAILURE, "cannot read labels from %s", o.labels);
            goto done;
        }
        print_top(outputs[0], &out, o.top, labels, nlabels);
    }
done:
    for (int k = 0; k < MAX_INPUTS; k++)
        sv_io_array_free(&arrays[k]);
    for (int k = 0; outputs && k < nout; k++)
        free(outputs[k]);
    for (int k = 0; k < nlabels; k++)
        free(labels[k]);
    free(labels);
    free(outputs);
    sv_model_release(m);
    sv_context_release(ctx);
    return rc;
}
