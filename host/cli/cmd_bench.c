/* svertka bench MODEL.onnx: cold start, first inference and steady-state latency per batch size,
 * with device time from OpenCL profiling markers beside wall time; optionally per layer, and
 * as JSON for scripts (its top level holds "runs", one object per batch size with at least
 * batch, median_ms, p90_ms, images_per_s and gflops). */
#include "cli/cli.h"
#include "svertka_revision.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_BATCHES = 16 };

typedef struct bench_options {
    const char *model, *device, *json;
    long batches[MAX_BATCHES];
    int nbatches;
    long iterations, warmup;
    double seconds;
    int per_layer;
    sv_conv_algorithm algorithm;
} bench_options;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int compare_doubles(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n values, nearest rank; sorts them. */
static double quantile(double *v, long n, double q) {
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    long k = (long)ceil(q * (double)n) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static int parse_options(int argc, char **argv, bench_options *o) {
    memset(o, 0, sizeof *o);
    o->batches[0] = 1;
    o->nbatches = 1;
    o->iterations = 10;
    o->warmup = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        if (strcmp(a, "--per-layer") == 0) {
            o->per_layer = 1;
            continue;
        }
        if (a[0] == '-' && !(value = cli_option_value(argc, argv, &i)))
            return CLI_USAGE;
        if (strcmp(a, "--device") == 0) {
            o->device = value;
        } else if (strcmp(a, "--json") == 0) {
            o->json = value;
        } else if (strcmp(a, "--algorithm") == 0) {
            if (!cli_parse_algorithm(value, &o->algorithm))
                return CLI_USAGE;
        } else if (strcmp(a, "--batch") == 0) {
            if (!cli_parse_sizes("--batch", value, o->batches, MAX_BATCHES, &o->nbatches))
                return CLI_USAGE;
        } else if (strcmp(a, "--iterations") == 0) {
            if (!cli_parse_positive(a, value, &o->iterations))
                return CLI_USAGE;
        } else if (strcmp(a, "--warmup") == 0) {
            char *end;
            o->warmup = strtol(value, &end, 10);
            if (*end || end == value || o->warmup < 0)
                return cli_error(CLI_USAGE, "--warmup expects a count >= 0, got '%s'", value);
        } else if (strcmp(a, "--seconds") == 0) {
            if (!cli_parse_positive_number(a, value, &o->seconds))
                return CLI_USAGE;
        } else if (a[0] == '-') {
            return cli_error(CLI_USAGE, "bench: unknown option '%s'", a);
        } else if (o->model) {
            return cli_error(CLI_USAGE, "bench: unexpected argument '%s'", a);
        } else {
            o->model = a;
        }
    }
    if (!o->model)
        return cli_error(CLI_USAGE, "bench: a model file is required (svertka bench MODEL.onnx)");
    return CLI_OK;
}

/* Inputs for the current batch: uniform in [-1, 1), the same every run. */
static float **make_inputs(sv_model *m) {
    const int n = sv_model_input_count(m);
    float **inputs = calloc((size_t)n + 1, sizeof *inputs);
    uint64_t state = 12345;
    for (int i = 0; inputs && i < n; i++) {
        sv_value_info v;
        sv_model_input(m, i, &v);
        const int64_t count = cli_count(v.rank, v.dims);
        if (!(inputs[i] = malloc((size_t)count * sizeof **inputs)))
            return inputs;
        for (int64_t k = 0; k < count; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            inputs[i][k] = (float)((double)(state >> 11) * 0x1p-52 - 1.0);
        }
    }
    return inputs;
}

static float **make_outputs(sv_model *m) {
    const int n = sv_model_output_count(m);
    float **outputs = calloc((size_t)n + 1, sizeof *outputs);
    for (int i = 0; outputs && i < n; i++) {
        sv_value_info v;
        sv_model_output(m, i, &v);
        outputs[i] = malloc((size_t)cli_count(v.rank, v.dims) * sizeof **outputs);
    }
    return outputs;
}

static void free_arrays(float **arrays, int n) {
    for (int i = 0; arrays && i < n; i++)
        free(arrays[i]);
    free(arrays);
}

static int64_t total_macs(sv_model *m) {
    int64_t total = 0;
    for (int k = 0; k < sv_model_layer_count(m); k++) {
        sv_layer_info l;
        sv_model_layer(m, k, &l);
        total += l.macs;
    }
    return total;
}

/* One batch size: plan, first run, warm-up, timed runs; adds a "runs" entry to json. */
static int bench_batch(const bench_options *o, sv_context *ctx, sv_model *m, long batch,
                       cJSON *runs) {
    double t0 = now_ms();
    if (sv_model_set_batch(m, batch) != SV_OK)
        return cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
    const double plan_ms = now_ms() - t0;
    const int layers = sv_model_layer_count(m);
    float **inputs = make_inputs(m), **outputs = make_outputs(m);
    double *device = calloc((size_t)o->iterations, sizeof *device);
    double *wall = calloc((size_t)o->iterations, sizeof *wall);
    double *per_layer = calloc((size_t)(o->iterations * layers) + 1, sizeof *per_layer);
    double *column = calloc((size_t)o->iterations, sizeof *column);
    int rc = CLI_OK;
    if (!inputs || !outputs || !device || !wall || !per_layer || !column) {
        rc = cli_error(CLI_FAILURE, "out of memory");
        goto done;
    }
    t0 = now_ms();
    if (sv_model_run(m, (const float *const *)inputs, outputs) != SV_OK) {
        rc = cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
        goto done;
    }
    const double first_ms = now_ms() - t0;
    for (long w = 0; w < o->warmup; w++)
        if (sv_model_run(m, (const float *const *)inputs, outputs) != SV_OK) {
            rc = cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
            goto done;
        }
    const int progress = isatty(fileno(stderr));
    const double started = now_ms();
    long done_runs = 0;
    for (; done_runs < o->iterations; done_runs++) {
        if (o->seconds > 0 && done_runs > 0 && now_ms() - started > o->seconds * 1e3)
            break;
        sv_run_timing timing = {0.0, per_layer + done_runs * layers};
        t0 = now_ms();
        if (sv_model_run_timed(m, (const float *const *)inputs, outputs, &timing) != SV_OK) {
            rc = cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
            goto done;
        }
        wall[done_runs] = now_ms() - t0;
        device[done_runs] = timing.total_ms;
        if (progress)
            fprintf(stderr, "\rbatch %ld: run %ld of %ld, %.2f ms ", batch, done_runs + 1,
                    o->iterations, timing.total_ms);
    }
    if (progress)
        fprintf(stderr, "\r%60s\r", "");
    const double macs = (double)total_macs(m);
    const double median = quantile(device, done_runs, 0.5), p90 = quantile(device, done_runs, 0.9);
    const double min = device[0];
    const double wall_median = quantile(wall, done_runs, 0.5),
                 wall_p90 = quantile(wall, done_runs, 0.9);
    const double wall_min = wall[0];
    const double images_per_s = (double)batch * 1e3 / median, gflops = 2.0 * macs / median * 1e-6;
    const double peak = sv_context_device(ctx)->peak_gflops;
    printf("batch %ld: plan %.1f ms, first run %.1f ms%s\n", batch, plan_ms, first_ms,
           runs->child ? "" : " (program builds included)");
    printf("  device: median %.3f ms, p90 %.3f ms, min %.3f ms over %ld runs; %.1f images/s, "
           "%.1f GFLOP/s",
           median, p90, min, done_runs, images_per_s, gflops);
    if (peak > 0)
        printf(" (%.1f%% of the %.0f GFLOP/s fp32 peak)", 100.0 * gflops / peak, peak);
    printf("\n  wall:   median %.3f ms, p90 %.3f ms, min %.3f ms (inputs and outputs included)\n",
           wall_median, wall_p90, wall_min);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "batch", (double)batch);
    cJSON_AddNumberToObject(r, "median_ms", median);
    cJSON_AddNumberToObject(r, "p90_ms", p90);
    cJSON_AddNumberToObject(r, "min_ms", min);
    cJSON_AddNumberToObject(r, "wall_median_ms", wall_median);
    cJSON_AddNumberToObject(r, "wall_p90_ms", wall_p90);
    cJSON_AddNumberToObject(r, "wall_min_ms", wall_min);
    cJSON_AddNumberToObject(r, "images_per_s", images_per_s);
    cJSON_AddNumberToObject(r, "gflops", gflops);
    if (peak > 0)
        cJSON_AddNumberToObject(r, "percent_of_peak", 100.0 * gflops / peak);
    else
        cJSON_AddNullToObject(r, "percent_of_peak");
    cJSON_AddNumberToObject(r, "plan_ms", plan_ms);
    cJSON_AddNumberToObject(r, "first_run_ms", first_ms);
    cJSON_AddNumberToObject(r, "iterations", (double)done_runs);
    cJSON_AddNumberToObject(r, "macs", macs);
    cJSON *jl = cJSON_AddArrayToObject(r, "layers");
    if (o->per_layer)
        printf("  %4s  %-28s %-22s %-22s %-20s %10s %7s %9s %8s\n", "#", "layer", "op", "algorithm",
               "output", "ms", "share", "GFLOP/s", "GB/s");
    for (int k = 0; k < layers; k++) {
        sv_layer_info l;
        sv_model_layer(m, k, &l);
        for (long i = 0; i < done_runs; i++)
            column[i] = per_layer[i * layers + k];
        const double ms = quantile(column, done_runs, 0.5);
        const double share = median > 0 ? 100.0 * ms / median : 0.0;
        const double lgflops = ms > 0 ? 2.0 * (double)l.macs / ms * 1e-6 : 0.0;
        const double lgbps = ms > 0 ? (double)l.bytes / ms * 1e-6 : 0.0;
        char shape[128];
        cli_shape(shape, sizeof shape, l.rank, l.dims);
        if (o->per_layer)
            printf("  %4d  %-28.28s %-22.22s %-22.22s %-20s %10.3f %6.1f%% %9.1f %8.1f\n", k,
                   l.name, l.op, l.algorithm, shape, ms, share, lgflops, lgbps);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", l.name);
        cJSON_AddStringToObject(e, "op", l.op);
        cJSON_AddStringToObject(e, "algorithm", l.algorithm);
        cJSON_AddStringToObject(e, "shape", shape);
        cJSON_AddNumberToObject(e, "median_ms", ms);
        cJSON_AddNumberToObject(e, "share", share / 100.0);
        cJSON_AddNumberToObject(e, "gflops", lgflops);
        cJSON_AddNumberToObject(e, "gbps", lgbps);
        cJSON_AddItemToArray(jl, e);
    }
    cJSON_AddItemToArray(runs, r);
done:
    free_arrays(inputs, sv_model_input_count(m));
    free_arrays(outputs, sv_model_output_count(m));
    free(device), free(wall), free(per_layer), free(column);
    return rc;
}

static cJSON *describe_device(const sv_device_info *d) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", d->name);
    cJSON_AddStringToObject(j, "vendor", d->vendor);
    cJSON_AddStringToObject(j, "platform", d->platform_name);
    cJSON_AddStringToObject(j, "driver", d->driver_version);
    cJSON_AddStringToObject(j, "version", d->device_version);
    cJSON_AddNumberToObject(j, "compute_units", d->compute_units);
    cJSON_AddNumberToObject(j, "max_clock_mhz", d->max_clock_mhz);
    cJSON_AddNumberToObject(j, "global_mem_bytes", (double)d->global_mem_bytes);
    if (d->peak_gflops > 0)
        cJSON_AddNumberToObject(j, "peak_gflops", d->peak_gflops);
    else
        cJSON_AddNullToObject(j, "peak_gflops");
    return j;
}

static int write_json(const char *path, cJSON *root) {
    char *text = cJSON_Print(root);
    FILE *f = text ? fopen(path, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    free(text);
    return ok ? CLI_OK : cli_error(CLI_FAILURE, "cannot write %s", path);
}

int cmd_bench(int argc, char **argv) {
    bench_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != CLI_OK)
        return rc;
    const double t0 = now_ms();
    sv_context *ctx;
    sv_model *m;
    if (cli_open_model(o.device, o.model, 0, o.algorithm, 0, &ctx, &m) != CLI_OK)
        return CLI_FAILURE;
    const double load_ms = now_ms() - t0;
    const sv_device_info *d = sv_context_device(ctx);
    const int64_t macs = total_macs(m) / sv_model_batch(m);
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    printf("bench %s on %s (%s; driver %s), svertka %s (%s), %s\n", o.model, d->name,
           d->platform_name, d->driver_version, sv_version(), SVERTKA_GIT_REVISION, date);
    printf("cold start: context and model load (parse, plan, weight upload) %.1f ms; %lld "
           "multiply-accumulates per image\n",
           load_ms, (long long)macs);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "tool", "svertka bench");
    cJSON_AddStringToObject(root, "library_version", sv_version());
    cJSON_AddStringToObject(root, "git_revision", SVERTKA_GIT_REVISION);
    cJSON_AddStringToObject(root, "date", date);
    cJSON_AddStringToObject(root, "model", o.model);
    cJSON_AddItemToObject(root, "device", describe_device(d));
    cJSON_AddNumberToObject(root, "macs_per_image", (double)macs);
    cJSON_AddNumberToObject(root, "load_ms", load_ms);
    cJSON_AddNumberToObject(root, "warmup", (double)o.warmup);
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (int b = 0; b < o.nbatches && rc == CLI_OK; b++)
        rc = bench_batch(&o, ctx, m, o.batches[b], runs);
    if (rc == CLI_OK && o.json) {
        rc = write_json(o.json, root);
        if (rc == CLI_OK)
            printf("wrote %s\n", o.json);
    }
    cJSON_Delete(root);
    sv_model_release(m);
    sv_context_release(ctx);
    return rc;
}
