/* svertka verify MODEL.onnx: runs the same random inputs on a device and on the reference path,
 * both keeping every layer's output, and compares the layers one by one; then runs the model on
 * the device as it runs in use (pools fused into convolutions, buffers shared), which keeping
 * every output rules out, and compares its outputs with the reference's. */
#include "cli/cli.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A layer passes when its largest deviation from the reference is at most this fraction of the
 * reference's largest magnitude. fp32 sums in a different order differ by about sqrt(K) ulp
 * per layer (K the reduction length, up to 25088 in VGG-16: ~1.9e-5 relative), and deviations
 * carry from layer to layer; 1e-4 leaves room for a deep network's accumulation while a wrong
 * index, a missed element or a wrong parameter moves outputs by 1e-2 or more. */
#define VERIFY_TOLERANCE 1e-4

static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct layer_error {
    double max_abs, ref_max, cosine;
    int bad; /* a NaN, or out of tolerance */
} layer_error;

static layer_error compare(const float *y, const float *r, int64_t n) {
    layer_error e = {0.0, 0.0, 1.0, 0};
    double dot = 0.0, yy = 0.0, rr = 0.0;
    for (int64_t k = 0; k < n; k++) {
        const double a = y[k], b = r[k], d = fabs(a - b);
        if (isnan(a) != isnan(b) || (isnan(d) && !isnan(a)))
            e.bad = 1;
        if (d > e.max_abs)
            e.max_abs = d;
        if (fabs(b) > e.ref_max)
            e.ref_max = fabs(b);
        dot += a * b, yy += a * a, rr += b * b;
    }
    e.cosine = (yy > 0 && rr > 0) ? dot / sqrt(yy * rr) : (yy == rr ? 1.0 : 0.0);
    if (!(e.max_abs <= VERIFY_TOLERANCE * e.ref_max) && e.max_abs > 0.0)
        e.bad = 1;
    return e;
}

static void print_comparison(int k, const char *name, const char *op, layer_error e) {
    const double rel = e.ref_max > 0 ? e.max_abs / e.ref_max : e.max_abs;
    printf("%4d  %-28.28s %-24.24s %12.3g %12.3g %12.3g %10.7f%s\n", k, name, op, e.max_abs,
           e.ref_max, rel, e.cosine, e.bad ? "  OUT OF TOLERANCE" : "");
}

static void free_buffers(float **buffers, int count) {
    for (int i = 0; buffers && i < count; i++)
        free(buffers[i]);
    free(buffers);
}

/* One host buffer for each output of m; NULL when host memory runs out. */
static float **output_buffers(const sv_model *m) {
    const int count = sv_model_output_count(m);
    float **out = calloc((size_t)count + 1, sizeof *out);
    for (int i = 0; out && i < count; i++) {
        sv_value_info v;
        sv_model_output(m, i, &v);
        if (!(out[i] = malloc((size_t)cli_count(v.rank, v.dims) * sizeof **out))) {
            free_buffers(out, count);
            return NULL;
        }
    }
    return out;
}

/* The model on the device without kept intermediates, on the same inputs: each output against
 * the reference's. Returns CLI_OK, or CLI_FAILURE with the message printed. */
static int check_outputs_as_run(const char *device, const char *path, sv_conv_algorithm algorithm,
                                long batch, float **inputs, float **out_ref) {
    sv_context *ctx = NULL;
    sv_model *m = NULL;
    if (cli_open_model(device, path, 0, algorithm, batch, &ctx, &m) != CLI_OK)
        return CLI_FAILURE;
    const int nout = sv_model_output_count(m);
    float **out = output_buffers(m);
    int rc = out ? CLI_OK : cli_error(CLI_FAILURE, "verify: out of host memory");
    if (rc == CLI_OK && sv_model_run(m, (const float *const *)inputs, out) != SV_OK)
        rc = cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
    int fused = 0;
    for (int k = 0; rc == CLI_OK && k < sv_model_layer_count(m); k++) {
        sv_layer_info l;
        sv_model_layer(m, k, &l);
        fused += strstr(l.op, "+MaxPool") != NULL;
    }
    if (rc == CLI_OK)
        printf("the model as it runs (%d layers, %d pools fused, buffers shared), its outputs:\n",
               sv_model_layer_count(m), fused);
    int bad = 0;
    for (int i = 0; rc == CLI_OK && i < nout; i++) {
        sv_value_info v;
        sv_model_output(m, i, &v);
        const layer_error e = compare(out[i], out_ref[i], cli_count(v.rank, v.dims));
        print_comparison(i, v.name, "output", e);
        bad += e.bad;
    }
    if (rc == CLI_OK && bad)
        rc = cli_error(CLI_FAILURE,
                       "%d of the outputs of the model as it runs diverge from the reference "
                       "(tolerance: max |err| <= %g * max |ref|)",
                       bad, VERIFY_TOLERANCE);
    else if (rc == CLI_OK)
        printf("verify: all %d outputs as it runs within max |err| <= %g * max |ref|\n", nout,
               VERIFY_TOLERANCE);
    free_buffers(out, nout);
    sv_model_release(m);
    sv_context_release(ctx);
    return rc;
}

int cmd_verify(int argc, char **argv) {
    const char *path = NULL, *device = NULL;
    long batch = 0, seed = -1;
    sv_conv_algorithm algorithm = SV_CONV_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *value;
        if (strcmp(argv[i], "--device") == 0) {
            if (!(device = cli_option_value(argc, argv, &i)))
                return CLI_USAGE;
        } else if (strcmp(argv[i], "--algorithm") == 0) {
            if (!(value = cli_option_value(argc, argv, &i)) ||
                !cli_parse_algorithm(value, &algorithm))
                return CLI_USAGE;
        } else if (strcmp(argv[i], "--batch") == 0 || strcmp(argv[i], "--seed") == 0) {
            const char *option = argv[i];
            if (!(value = cli_option_value(argc, argv, &i)) ||
                !cli_parse_positive(option, value, option[2] == 'b' ? &batch : &seed))
                return CLI_USAGE;
        } else if (argv[i][0] == '-' || path) {
            return cli_error(CLI_USAGE, "verify: unexpected argument '%s'", argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return cli_error(CLI_USAGE, "verify: a model file is required (svertka verify MODEL.onnx)");
    if (seed < 0)
        seed = (long)(time(NULL) % 1000000);
    sv_context *dctx = NULL, *rctx = NULL;
    sv_model *dev = NULL, *ref = NULL;
    if (cli_open_model(device, path, 1, algorithm, batch, &dctx, &dev) != CLI_OK)
        return CLI_FAILURE;
    if (cli_open_model("ref", path, 1, SV_CONV_AUTO, sv_model_batch(dev), &rctx, &ref) != CLI_OK) {
        sv_model_release(dev);
        sv_context_release(dctx);
        return CLI_FAILURE;
    }
    const int nin = sv_model_input_count(dev), nout = sv_model_output_count(dev);
    float **inputs = calloc((size_t)nin + 1, sizeof *inputs);
    float **out_dev = output_buffers(dev), **out_ref = output_buffers(ref);
    int rc = CLI_OK;
    uint64_t state = (uint64_t)seed;
    for (int i = 0; inputs && i < nin; i++) {
        sv_value_info v;
        sv_model_input(dev, i, &v);
        const int64_t n = cli_count(v.rank, v.dims);
        if (!(inputs[i] = malloc((size_t)n * sizeof **inputs)))
            break;
        /* uniform in [-1, 1): the scale of normalised images and of most activations */
        for (int64_t k = 0; k < n; k++)
            inputs[i][k] = (float)((double)(next_random(&state) >> 11) * 0x1p-52 - 1.0);
    }
    if (!out_dev || !out_ref) {
        rc = cli_error(CLI_FAILURE, "verify: out of host memory");
        goto done;
    }
    printf("verify %s: device '%s' against the reference, batch %lld, seed %ld\n", path,
           sv_context_device(dctx)->name, (long long)sv_model_batch(dev), seed);
    if (sv_model_run(dev, (const float *const *)inputs, out_dev) != SV_OK) {
        rc = cli_error(CLI_FAILURE, "%s", sv_last_error(dctx));
        goto done;
    }
    if (sv_model_run(ref, (const float *const *)inputs, out_ref) != SV_OK) {
        rc = cli_error(CLI_FAILURE, "%s", sv_last_error(rctx));
        goto done;
    }
    const int layers = sv_model_layer_count(dev);
    if (layers != sv_model_layer_count(ref)) {
        rc = cli_error(CLI_FAILURE, "the plans differ: %d layers on the device, %d on ref", layers,
                       sv_model_layer_count(ref));
        goto done;
    }
    printf("%4s  %-28s %-24s %12s %12s %12s %10s\n", "#", "layer", "op", "max |err|", "max |ref|",
           "rel. err", "cosine");
    int first_bad = -1;
    for (int k = 0; k < layers; k++) {
        sv_layer_info l;
        sv_model_layer(dev, k, &l);
        const int64_t n = cli_count(l.rank, l.dims);
        float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
        if (!a || !b || sv_model_layer_output(dev, k, a, n) != SV_OK ||
            sv_model_layer_output(ref, k, b, n) != SV_OK) {
            free(a), free(b);
            rc = cli_error(CLI_FAILURE, "reading layer %d: %s%s", k, sv_last_error(dctx),
                           sv_last_error(rctx));
            goto done;
        }
        layer_error e = compare(a, b, n);
        free(a), free(b);
        print_comparison(k, l.name, l.op, e);
        if (e.bad && first_bad < 0)
            first_bad = k;
    }
    if (first_bad >= 0) {
        sv_layer_info l;
        sv_model_layer(dev, first_bad, &l);
        rc = cli_error(CLI_FAILURE,
                       "layer %d '%s' (%s) is the first to diverge (tolerance: max "
                       "|err| <= %g * max |ref|)",
                       first_bad, l.name, l.op, VERIFY_TOLERANCE);
        goto done;
    }
    printf("verify: all %d layers within max |err| <= %g * max |ref|\n", layers, VERIFY_TOLERANCE);
    /* the kept model's device memory is not needed any more */
    const long run_batch = (long)sv_model_batch(dev);
    sv_model_release(dev);
    sv_context_release(dctx);
    dev = NULL, dctx = NULL;
    rc = check_outputs_as_run(device, path, algorithm, run_batch, inputs, out_ref);
done:
    free_buffers(inputs, nin);
    free_buffers(out_dev, nout);
    free_buffers(out_ref, nout);
    sv_model_release(dev);
    sv_model_release(ref);
    sv_context_release(dctx);
    sv_context_release(rctx);
    return rc;
}
