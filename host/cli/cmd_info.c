/* svertka info MODEL.onnx: inputs and outputs, the layer table, totals, planned memory. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static void print_values(sv_model *m, int inputs) {
    const int n = inputs ? sv_model_input_count(m) : sv_model_output_count(m);
    for (int i = 0; i < n; i++) {
        sv_value_info v;
        (inputs ? sv_model_input : sv_model_output)(m, i, &v);
        char shape[128];
        printf("  %-7s %-24s %s%s\n", inputs ? "input" : "output", v.name,
               cli_shape(shape, sizeof shape, v.rank, v.dims),
               v.batch_symbolic ? "  (batch: any)" : "");
    }
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL, *device = "ref";
    long batch = 0;
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
        } else if (strcmp(argv[i], "--batch") == 0) {
            if (!(value = cli_option_value(argc, argv, &i)) ||
                !cli_parse_positive("--batch", value, &batch))
                return CLI_USAGE;
        } else if (argv[i][0] == '-' || path) {
            return cli_error(CLI_USAGE, "info: unexpected argument '%s'", argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return cli_error(CLI_USAGE, "info: a model file is required (svertka info MODEL.onnx)");
    sv_context *ctx;
    sv_model *m;
    if (cli_open_model(device, path, 0, algorithm, batch, &ctx, &m) != CLI_OK)
        return CLI_FAILURE;
    printf("model: %s (batch %lld)\n", path, (long long)sv_model_batch(m));
    print_values(m, 1);
    print_values(m, 0);
    printf("\n%4s  %-28s %-26s %-20s %14s  %-22s %s\n", "#", "layer", "op", "output", "MACs",
           "algorithm", "parameters");
    int64_t total = 0;
    const int layers = sv_model_layer_count(m);
    for (int k = 0; k < layers; k++) {
        sv_layer_info l;
        sv_model_layer(m, k, &l);
        char shape[128];
        printf("%4d  %-28.28s %-26.26s %-20s %14lld  %-22s %s\n", k, l.name, l.op,
               cli_shape(shape, sizeof shape, l.rank, l.dims), (long long)l.macs, l.algorithm,
               l.params);
        total += l.macs;
    }
    printf("\nlayers: %d\n", layers);
    printf("multiply-accumulates: %lld per batch (%.3f GMAC, %.3f GFLOP)\n", (long long)total,
           (double)total / 1e9, 2.0 * (double)total / 1e9);
    printf("planned peak activation memory: %.2f MiB\n",
           (double)sv_model_peak_activation_bytes(m) / (1024.0 * 1024.0));
    sv_model_release(m);
    sv_context_release(ctx);
    return CLI_OK;
}
