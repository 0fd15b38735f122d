/* conv_algorithm_spread MODEL.onnx [--batch N]: how far apart a model's outputs are across the
 * convolution algorithms of the default device and the reference path. The same random inputs
 * (uniform in [-1, 1), the seed printed) run on the reference path and, with every algorithm the
 * library accepts forced on every convolution, three times on the device: each algorithm's runs
 * must be bit-identical, and every pair of results (reference included) within 1e-4 of the
 * largest reference output, the bound `svertka verify` applies. Prints the max abs difference of
 * every pair; exits 1 if a check fails. */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUNS = 3, MAX_RESULTS = 17 };
#define SPREAD_RTOL 1e-4

typedef struct result {
    char name[64];
    float *y;
} result;

/* Runs the model RUNS times on ctx with the algorithm; on success (bit-identical runs) *out is
 * the output, else the reason is printed. name receives the first convolution's algorithm. */
static sv_status run_model(sv_context *ctx, const char *path, sv_conv_algorithm algorithm,
                           int64_t batch, const float *x, size_t count, char *name,
                           size_t name_size, float **out) {
    const sv_model_options options = {0, algorithm};
    sv_model *m = NULL;
    float *y = malloc(count * sizeof *y), *again = malloc(count * sizeof *again);
    sv_status st = y && again ? sv_model_load(ctx, path, &options, &m) : SV_OUT_OF_MEMORY;
    if (st == SV_OK)
        st = sv_model_set_batch(m, batch);
    for (int k = 0; st == SV_OK && k < sv_model_layer_count(m); k++) {
        sv_layer_info l;
        sv_model_layer(m, k, &l);
        if (strncmp(l.op, "Conv", 4) == 0 && strncmp(l.op, "ConvTranspose", 13) != 0) {
            snprintf(name, name_size, "%s", l.algorithm);
            break;
        }
    }
    const float *inputs[1] = {x};
    for (int r = 0; st == SV_OK && r < RUNS; r++) {
        float *outputs[1] = {r ? again : y};
        st = sv_model_run(m, inputs, outputs);
        if (st == SV_OK && r && memcmp(y, again, count * sizeof *y) != 0) {
            printf("  %s: run %d differs from run 1: not deterministic\n", name, r + 1);
            st = SV_OPENCL;
            break;
        }
    }
    if (st != SV_OK && st != SV_OPENCL)
        printf("  %s: %s: %s\n", name, sv_status_name(st), sv_last_error(ctx));
    sv_model_release(m);
    free(again);
    if (st != SV_OK)
        free(y);
    *out = st == SV_OK ? y : NULL;
    return st;
}

int main(int argc, char **argv) {
    int64_t batch = 1;
    if (argc == 4 && strcmp(argv[2], "--batch") == 0)
        batch = strtoll(argv[3], NULL, 10);
    if ((argc != 2 && argc != 4) || batch < 1) {
        fprintf(stderr, "usage: conv_algorithm_spread MODEL.onnx [--batch N]\n");
        return 2;
    }
    const char *path = argv[1];
    sv_context *ref = NULL, *dev = NULL;
    sv_message msg;
    if (sv_context_create("ref", &ref, &msg) != SV_OK ||
        sv_context_create(NULL, &dev, &msg) != SV_OK) {
        fprintf(stderr, "conv_algorithm_spread: %s\n", msg.text);
        sv_context_release(ref);
        return 1;
    }
    sv_model *m = NULL;
    if (sv_model_load(ref, path, NULL, &m) != SV_OK || sv_model_set_batch(m, batch) != SV_OK) {
        fprintf(stderr, "conv_algorithm_spread: %s\n", sv_last_error(ref));
        sv_model_release(m);
        sv_context_release(ref);
        sv_context_release(dev);
        return 1;
    }
    sv_value_info in, out;
    sv_model_input(m, 0, &in);
    sv_model_output(m, 0, &out);
    sv_model_release(m);
    const size_t n_in = (size_t)test_count(in.rank, in.dims),
                 count = (size_t)test_count(out.rank, out.dims);
    printf("%s, batch %lld, on %s and the reference path:\n", path, (long long)batch,
           sv_context_device(dev)->name);
    test_rng rng = test_rng_for(0);
    float *x = malloc(n_in * sizeof *x);
    if (!x) {
        fprintf(stderr, "conv_algorithm_spread: out of memory\n");
        return 1;
    }
    test_fill_uniform(&rng, x, n_in, -1.0f, 1.0f);

    result results[MAX_RESULTS];
    int nresults = 0, failed = 0;
    snprintf(results[0].name, sizeof results[0].name, "reference");
    failed |= run_model(ref, path, SV_CONV_AUTO, batch, x, count, results[0].name,
                        sizeof results[0].name, &results[0].y) != SV_OK;
    nresults += !failed;
    const int algorithms = test_conv_algorithm_count();
    for (int a = 0; a < algorithms && nresults < MAX_RESULTS && !failed; a++) {
        result *r = &results[nresults];
        char layer[64] = "no convolution";
        sv_status st =
            run_model(dev, path, (sv_conv_algorithm)a, batch, x, count, layer, sizeof layer, &r->y);
        snprintf(r->name, sizeof r->name, "%s%s", a == SV_CONV_AUTO ? "auto: " : "", layer);
        if (st == SV_OK) {
            printf("  algorithm %d (%s): %d runs bit-identical\n", a, r->name, RUNS);
            nresults++;
        } else if (st == SV_UNSUPPORTED)
            printf("  algorithm %d: unsupported by a layer of the model; skipped\n", a);
        else
            failed = 1;
    }
    double max_ref = 0.0;
    for (size_t k = 0; !failed && k < count; k++)
        max_ref = fmax(max_ref, fabs((double)results[0].y[k]));
    if (!failed)
        printf("max |reference| %.3e; bound 1e-4 x max |reference| = %.3e\n", max_ref,
               SPREAD_RTOL * max_ref);
    for (int i = 0; i < nresults; i++)
        for (int j = i + 1; j < nresults; j++) {
            double d = 0.0;
            for (size_t k = 0; k < count; k++)
                d = fmax(d, fabs((double)results[i].y[k] - (double)results[j].y[k]));
            const int ok = d <= SPREAD_RTOL * max_ref;
            printf("  %-28s vs %-28s max abs difference %.3e (%.1e of max |reference|)%s\n",
                   results[i].name, results[j].name, d, d / max_ref,
                   ok ? "" : "  BEYOND THE BOUND");
            failed |= !ok;
        }
    for (int i = 0; i < nresults; i++)
        free(results[i].y);
    free(x);
    sv_context_release(ref);
    sv_context_release(dev);
    return failed ? 1 : 0;
}
