/* svertka demo: convolves a generated RGB image with the classic image kernels (identity, edge
 * detection, sharpen, box blur, Gaussian blur) as one grouped convolution on the chosen device,
 * checks every output element against the reference path, and times both. */
#include "cli/cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CHANNELS = 3, FILTERS = 5, TAPS = 9, TIMED_RUNS = 5 };

static const char *const filter_names[FILTERS] = {"identity", "edges", "sharpen", "box-blur",
                                                  "gaussian-blur"};
static const float filters[FILTERS][TAPS] = {
    {0, 0, 0, 0, 1, 0, 0, 0, 0},
    {-1, -1, -1, -1, 8, -1, -1, -1, -1},
    {0, -1, 0, -1, 5, -1, 0, -1, 0},
    {1 / 9.f, 1 / 9.f, 1 / 9.f, 1 / 9.f, 1 / 9.f, 1 / 9.f, 1 / 9.f, 1 / 9.f, 1 / 9.f},
    {1 / 16.f, 2 / 16.f, 1 / 16.f, 2 / 16.f, 4 / 16.f, 2 / 16.f, 1 / 16.f, 2 / 16.f, 1 / 16.f},
};

/* Pixels lie in [0, 1] and the filters' absolute weights sum to at most 16 over 9 taps, so fp32
 * accumulation is off by at most 9 * 2^-24 * 16 < 1e-5 of the exact result. */
static const double demo_atol = 1e-5, demo_rtol = 1e-6;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A test card: colour gradients, a disc and a checkerboard, so every filter has edges to act on. */
static void generate_image(float *img, int size) {
    for (int c = 0; c < CHANNELS; c++)
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                float u = (float)x / (float)size, v = (float)y / (float)size;
                float dx = u - 0.5f, dy = v - 0.5f;
                float value = c == 0 ? u : c == 1 ? v : 1.0f - u;
                if (dx * dx + dy * dy < 0.09f)
                    value = 1.0f - value;
                if (u > 0.75f && v > 0.75f && ((x / 8 + y / 8) & 1))
                    value = 0.0f;
                img[((size_t)c * size + y) * size + x] = value;
            }
}

/* Writes each output channel as a PGM, clamped to [0, 1]. */
static int write_outputs(const char *dir, const float *y, int size) {
    for (int c = 0; c < CHANNELS; c++)
        for (int f = 0; f < FILTERS; f++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s-%c.pgm", dir, filter_names[f], "rgb"[c]);
            FILE *out = fopen(path, "wb");
            if (!out)
                return cli_error(CLI_FAILURE, "cannot write %s", path);
            fprintf(out, "P5\n%d %d\n255\n", size, size);
            const float *plane = y + (size_t)(c * FILTERS + f) * size * size;
            for (size_t i = 0; i < (size_t)size * size; i++) {
                float v = fminf(fmaxf(plane[i], 0.0f), 1.0f);
                fputc((int)lrintf(v * 255.0f), out);
            }
            if (fclose(out) != 0)
                return cli_error(CLI_FAILURE, "cannot write %s", path);
        }
    return CLI_OK;
}

typedef struct run_result {
    double median_ms;
    char device[256];
} run_result;

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs the convolution on `spec` TIMED_RUNS times after one warm-up, downloads the output. */
static int run_on(const char *spec, float *img, int size, float *y, run_result *result) {
    sv_message msg;
    sv_context *ctx;
    if (sv_context_create(spec, &ctx, &msg) != SV_OK)
        return cli_error(CLI_FAILURE, "%s", msg.text);
    snprintf(result->device, sizeof result->device, "%s", sv_context_device(ctx)->name);

    float weights[CHANNELS * FILTERS * TAPS];
    for (int c = 0; c < CHANNELS; c++)
        memcpy(weights + c * FILTERS * TAPS, filters, sizeof filters);
    const int64_t x_dims[4] = {1, CHANNELS, size, size};
    const int64_t w_dims[4] = {CHANNELS * FILTERS, 1, 3, 3};
    const int64_t y_dims[4] = {1, CHANNELS * FILTERS, size, size};
    sv_conv_params p = sv_conv_params_default(2);
    p.groups = CHANNELS;
    p.pad_mode = SV_PAD_REPLICATE;
    for (int i = 0; i < 2; i++)
        p.pad_begin[i] = p.pad_end[i] = 1;

    sv_host_view xv = sv_host_view_make(img, 4, x_dims);
    sv_host_view wv = sv_host_view_make(weights, 4, w_dims);
    sv_tensor *x = NULL, *w = NULL, *out = NULL;
    double times[TIMED_RUNS];
    sv_status st = sv_tensor_from_host(ctx, &xv, &x);
    if (st == SV_OK)
        st = sv_tensor_from_host(ctx, &wv, &w);
    if (st == SV_OK)
        st = sv_tensor_create(ctx, 4, y_dims, &out);
    for (int run = -1; st == SV_OK && run < TIMED_RUNS; run++) {
        double t0 = now_seconds();
        st = sv_conv(ctx, &p, x, w, NULL, out);
        if (st == SV_OK)
            st = sv_context_finish(ctx);
        if (run >= 0)
            times[run] = (now_seconds() - t0) * 1e3;
    }
    if (st == SV_OK)
        st = sv_tensor_download(out, y, sv_tensor_count(out));
    int rc = CLI_OK;
    if (st != SV_OK)
        rc = cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
    qsort(times, TIMED_RUNS, sizeof times[0], compare_doubles);
    result->median_ms = times[TIMED_RUNS / 2];
    sv_tensor_release(x);
    sv_tensor_release(w);
    sv_tensor_release(out);
    sv_context_release(ctx);
    return rc;
}

int cmd_demo(int argc, char **argv) {
    const char *device = NULL, *output_dir = NULL;
    long size = 512;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--device") == 0) {
            if (!(device = cli_option_value(argc, argv, &i)))
                return CLI_USAGE;
        } else if (strcmp(argv[i], "--output-dir") == 0) {
            if (!(output_dir = cli_option_value(argc, argv, &i)))
                return CLI_USAGE;
        } else if (strcmp(argv[i], "--size") == 0) {
            if (!(value = cli_option_value(argc, argv, &i)) ||
                !cli_parse_positive("--size", value, &size))
                return CLI_USAGE;
        } else {
            return cli_error(CLI_USAGE, "demo: unknown argument '%s'", argv[i]);
        }
    }
    if (size < 3 || size > 8192)
        return cli_error(CLI_USAGE, "--size must be between 3 and 8192, got %ld", size);
    const int n = (int)size;
    const size_t in_count = (size_t)CHANNELS * n * n, out_count = in_count * FILTERS;
    float *img = malloc(in_count * sizeof *img);
    float *y_dev = malloc(out_count * sizeof *y_dev);
    float *y_ref = malloc(out_count * sizeof *y_ref);
    int rc = CLI_OK;
    if (!img || !y_dev || !y_ref) {
        rc = cli_error(CLI_FAILURE, "out of memory for a %dx%d image", n, n);
        goto done;
    }
    generate_image(img, n);
    run_result dev, ref;
    if ((rc = run_on(device, img, n, y_dev, &dev)) != CLI_OK ||
        (rc = run_on("ref", img, n, y_ref, &ref)) != CLI_OK)
        goto done;

    size_t bad = 0;
    double max_err = 0.0;
    for (size_t i = 0; i < out_count; i++) {
        double err = fabs((double)y_dev[i] - (double)y_ref[i]);
        if (!(err <= demo_atol + demo_rtol * fabs((double)y_ref[i])))
            bad++;
        if (err > max_err || isnan(err))
            max_err = err;
    }
    printf("image: %dx%d RGB; filters: identity, edges, sharpen, box-blur, gaussian-blur "
           "(3x3, replicate padding, %d groups)\n",
           n, n, CHANNELS);
    printf("%-10s %10.3f ms  %s\n", "device", dev.median_ms, dev.device);
    printf("%-10s %10.3f ms  %s\n", "ref", ref.median_ms, ref.device);
    printf("speed-up over ref: %.1fx (median of %d runs each)\n", ref.median_ms / dev.median_ms,
           TIMED_RUNS);
    printf("verify: %zu of %zu elements within |y - ref| <= %g + %g*|ref|, max error %.3g: %s\n",
           out_count - bad, out_count, demo_atol, demo_rtol, max_err, bad ? "FAILED" : "ok");
    if (bad)
        rc =
            cli_error(CLI_FAILURE, "device output differs from the reference in %zu elements", bad);
    else if (output_dir && (rc = write_outputs(output_dir, y_dev, n)) == CLI_OK)
        printf("wrote %d PGM images to %s\n", CHANNELS * FILTERS, output_dir);
done:
    free(img);
    free(y_dev);
    free(y_ref);
    return rc;
}
