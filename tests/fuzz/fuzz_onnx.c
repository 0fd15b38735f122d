/* Fuzzes the ONNX loader through the public API: sv_model_load_memory on a reference context
 * parses the bytes, validates the graph, infers shapes, folds constants, plans and creates the
 * buffers. A model that loads is then described (inputs, outputs, layers), re-planned for
 * another batch size when it has a symbolic one, and run when it is small enough to run
 * quickly. Any status is an answer; a crash, a sanitizer report, a leak or a hang is a bug. */
#include "fuzz.h"
#include "svertka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A model runs when its layers do at most this many multiply-accumulates (or element
 * operations) and its inputs and outputs hold at most this many elements each. */
enum { RUN_MAX_MACS = 1 << 20, RUN_MAX_ELEMENTS = 1 << 16 };

void fuzz_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    abort();
}

static int64_t elements(const sv_value_info *info) {
    int64_t n = 1;
    for (int i = 0; i < info->rank; i++) {
        FUZZ_CHECK(info->dims[i] >= 1, "a graph input or output dimension below 1");
        if (n > RUN_MAX_ELEMENTS / info->dims[i] + 1)
            return RUN_MAX_ELEMENTS + 1;
        n *= info->dims[i];
    }
    return n;
}

/* Runs the model on a fixed pattern when it is small; any status is fine. */
static void run_small(sv_model *m) {
    int64_t macs = 0;
    for (int k = 0; k < sv_model_layer_count(m); k++) {
        sv_layer_info layer;
        FUZZ_CHECK(sv_model_layer(m, k, &layer) == SV_OK, "a listed layer cannot be described");
        FUZZ_CHECK(layer.macs >= 0, "negative multiply-accumulates");
        if (layer.macs > RUN_MAX_MACS - macs)
            return;
        macs += layer.macs;
    }
    const int nin = sv_model_input_count(m), nout = sv_model_output_count(m);
    float **in = calloc((size_t)nin + 1, sizeof *in), **out = calloc((size_t)nout + 1, sizeof *out);
    int ok = in && out;
    for (int i = 0; ok && i < nin; i++) {
        sv_value_info info;
        FUZZ_CHECK(sv_model_input(m, i, &info) == SV_OK, "input info");
        const int64_t n = elements(&info);
        ok = n <= RUN_MAX_ELEMENTS && (in[i] = malloc((size_t)n * sizeof **in));
        for (int64_t k = 0; ok && k < n; k++)
            in[i][k] = (float)(k % 7 - 3) * 0.5f;
    }
    for (int i = 0; ok && i < nout; i++) {
        sv_value_info info;
        FUZZ_CHECK(sv_model_output(m, i, &info) == SV_OK, "output info");
        const int64_t n = elements(&info);
        ok = n <= RUN_MAX_ELEMENTS && (out[i] = malloc((size_t)n * sizeof **out));
    }
    if (ok)
        (void)sv_model_run(m, (const float *const *)in, out);
    for (int i = 0; in && i < nin; i++)
        free(in[i]);
    for (int i = 0; out && i < nout; i++)
        free(out[i]);
    free(in);
    free(out);
}

static void describe(sv_model *m) {
    FUZZ_CHECK(sv_model_output_count(m) >= 1, "a loaded model without outputs");
    int symbolic = 0;
    for (int i = 0; i < sv_model_input_count(m); i++) {
        sv_value_info info;
        FUZZ_CHECK(sv_model_input(m, i, &info) == SV_OK, "input info");
        FUZZ_CHECK(info.name && info.rank >= 1 && info.rank <= SV_MAX_RANK, "input rank");
        symbolic |= info.batch_symbolic;
    }
    for (int i = 0; i < sv_model_output_count(m); i++) {
        sv_value_info info;
        FUZZ_CHECK(sv_model_output(m, i, &info) == SV_OK, "output info");
        FUZZ_CHECK(info.name && info.rank >= 0 && info.rank <= SV_MAX_RANK, "output rank");
    }
    FUZZ_CHECK(sv_model_peak_activation_bytes(m) >= 0, "negative activation memory");
    run_small(m);
    if (symbolic && sv_model_set_batch(m, 3) == SV_OK) {
        FUZZ_CHECK(sv_model_batch(m) == 3, "the batch after re-planning");
        run_small(m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static sv_context *ctx; /* one reference context for the whole run */
    if (!ctx && sv_context_create("ref", &ctx, NULL) != SV_OK)
        fuzz_fail(__FILE__, __LINE__, "cannot create a reference context");
    sv_model *m = NULL;
    for (int keep = 0; keep < 2; keep++) {
        const sv_model_options options = {keep, SV_CONV_AUTO};
        if (sv_model_load_memory(ctx, data, size, &options, &m) != SV_OK) {
            FUZZ_CHECK(sv_last_error(ctx)[0] != '\0', "a failure without a message");
            return 0;
        }
        describe(m);
        sv_model_release(m);
    }
    return 0;
}
