/* svertka tune: times every convolution algorithm and variant on each distinct convolution of a
 * model and stores the fastest correct ones in the device's tuning database. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_BATCHES = 16 };

typedef struct tune_options {
    const char *model, *device;
    long batches[MAX_BATCHES];
    int nbatches;
    long iterations;
    double seconds;
} tune_options;

static int parse_options(int argc, char **argv, tune_options *o) {
    memset(o, 0, sizeof *o);
    o->batches[0] = 1;
    o->nbatches = 1;
    o->iterations = 5;
    o->seconds = 300.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        if (a[0] == '-' && !(value = cli_option_value(argc, argv, &i)))
            return CLI_USAGE;
        if (strcmp(a, "--device") == 0) {
            o->device = value;
        } else if (strcmp(a, "--batch") == 0) {
            if (!cli_parse_sizes(a, value, o->batches, MAX_BATCHES, &o->nbatches))
                return CLI_USAGE;
        } else if (strcmp(a, "--iterations") == 0) {
            if (!cli_parse_positive(a, value, &o->iterations))
                return CLI_USAGE;
        } else if (strcmp(a, "--seconds") == 0) {
            if (!cli_parse_positive_number(a, value, &o->seconds))
                return CLI_USAGE;
        } else if (a[0] == '-') {
            return cli_error(CLI_USAGE, "tune: unknown option '%s'", a);
        } else if (o->model) {
            return cli_error(CLI_USAGE, "tune: unexpected argument '%s'", a);
        } else {
            o->model = a;
        }
    }
    if (!o->model)
        return cli_error(CLI_USAGE, "tune: a model file is required (svertka tune MODEL.onnx)");
    return CLI_OK;
}

static void print_record(void *user, const sv_tune_record *r) {
    (void)user;
    char ms[32] = "-", error[32] = "-";
    if (r->ms >= 0)
        snprintf(ms, sizeof ms, "%.4f", r->ms);
    if (r->error >= 0)
        snprintf(error, sizeof error, "%.2g", r->error);
    char candidate[64] = "";
    if (r->algorithm[0])
        snprintf(candidate, sizeof candidate, "%s/%d", r->algorithm, r->variant);
    printf("%4d  %-24.24s %-20s %10s %9s  %s%s\n", r->layer, r->layer_name, candidate, ms, error,
           r->chosen ? "* " : "", r->outcome);
    fflush(stdout);
}

int cmd_tune(int argc, char **argv) {
    tune_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != CLI_OK)
        return rc;
    sv_context *ctx;
    sv_model *m;
    if (cli_open_model(o.device, o.model, 0, SV_CONV_AUTO, o.batches[0], &ctx, &m) != CLI_OK)
        return CLI_FAILURE;
    char path[4096] = "";
    sv_tuning_database_path(ctx, path, sizeof path);
    printf("device: %s (%s)\n", sv_context_device(ctx)->name,
           sv_context_device(ctx)->driver_version);
    const sv_tune_options options = {o.seconds / o.nbatches, (int)o.iterations, print_record, NULL};
    for (int b = 0; b < o.nbatches && rc == CLI_OK; b++) {
        if (sv_model_set_batch(m, o.batches[b]) != SV_OK) {
            rc = cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
            break;
        }
        printf("\nbatch %ld: %d iterations per candidate, median device time (ms); error = max "
               "|y - ref| / max |ref| on the first image; * = chosen\n",
               o.batches[b], (int)o.iterations);
        printf("%4s  %-24s %-20s %10s %9s  %s\n", "#", "layer", "algorithm/variant", "ms", "error",
               "outcome");
        if (sv_model_tune(m, &options) != SV_OK)
            rc = cli_error(CLI_FAILURE, "%s", sv_last_error(ctx));
    }
    if (rc == CLI_OK)
        printf("\ntuning database: %s\n", path);
    sv_model_release(m);
    sv_context_release(ctx);
    return rc;
}
