/* svertka: command-line entry point; dispatches to one subcommand per file. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_error(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("svertka: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

const char *cli_option_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        cli_error(CLI_USAGE, "option %s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_parse_positive(const char *option, const char *text, long *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < 1) {
        cli_error(CLI_USAGE, "%s expects a positive integer, got '%s'", option, text);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_positive_number(const char *option, const char *text, double *out) {
    char *end;
    const double v = strtod(text, &end);
    if (*end || end == text || !(v > 0)) {
        cli_error(CLI_USAGE, "%s expects a positive number, got '%s'", option, text);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_sizes(const char *option, const char *text, long *out, int capacity, int *count) {
    char *copy = strdup(text), *save = NULL;
    if (!copy)
        return cli_error(CLI_FAILURE, "out of memory"), 0;
    *count = 0;
    int ok = 1;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        if (*count == capacity)
            ok = (cli_error(CLI_USAGE, "%s takes at most %d sizes", option, capacity), 0);
        else if ((ok = cli_parse_positive(option, tok, &out[*count])))
            ++*count;
    }
    free(copy);
    if (ok && *count == 0)
        ok = (cli_error(CLI_USAGE, "%s needs a size", option), 0);
    return ok;
}

int cli_parse_algorithm(const char *text, sv_conv_algorithm *out) {
    for (int a = SV_CONV_AUTO; a < SV_CONV_ALGORITHM_END; a++)
        if (strcmp(text, sv_conv_algorithm_name((sv_conv_algorithm)a)) == 0) {
            *out = (sv_conv_algorithm)a;
            return 1;
        }
    char names[256] = "";
    for (int a = SV_CONV_AUTO; a < SV_CONV_ALGORITHM_END; a++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", a ? ", " : "",
                 sv_conv_algorithm_name((sv_conv_algorithm)a));
    cli_error(CLI_USAGE, "--algorithm expects one of %s, got '%s'", names, text);
    return 0;
}

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: svertka COMMAND [OPTIONS]\n"
        "\n"
        "commands:\n"
        "  devices                       list every OpenCL platform and device\n"
        "  demo [--device DEV] [--size N] [--output-dir DIR]\n"
        "                                convolve a generated image with the classic image\n"
        "                                kernels, verify against the reference path, time both\n"
        "  info MODEL.onnx [--device DEV] [--batch N] [--algorithm ALG]\n"
        "                                inputs, outputs and the layer table after fusion\n"
        "  run MODEL.onnx --input FILE... [--output OUT.npy] [--device DEV] [--batch N]\n"
        "      [--algorithm ALG] [--top K [--labels FILE]] [--mean R,G,B] [--std R,G,B]\n"
        "      [--repeat N]              run a model on .npy or image inputs\n"
        "  verify MODEL.onnx [--device DEV] [--batch N] [--seed S] [--algorithm ALG]\n"
        "                                compare every layer with the reference path\n"
        "  bench MODEL.onnx [--device DEV] [--batch N[,N...]] [--iterations N] [--warmup N]\n"
        "      [--seconds S] [--algorithm ALG] [--per-layer] [--json FILE]\n"
        "                                cold start, latency, throughput, per-layer times\n"
        "  tune MODEL.onnx [--device DEV] [--batch N[,N...]] [--seconds S] [--iterations N]\n"
        "                                time every convolution algorithm per layer shape,\n"
        "                                store the fastest correct ones for the device\n"
        "  version                       print the library version\n"
        "\n"
        "DEV: ref | cl | gpu | cpu | cl:PLATFORM:DEVICE | part of a device name\n"
        "     (default: $SVERTKA_DEVICE, else the first GPU, else the first OpenCL device)\n");
    fprintf(out, "ALG: the convolution algorithm of every layer it can compute:");
    for (int a = SV_CONV_AUTO; a < SV_CONV_ALGORITHM_END; a++)
        fprintf(out, " %s%s", sv_conv_algorithm_name((sv_conv_algorithm)a), a ? "" : " (default)");
    fprintf(out, "\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "devices") == 0)
        return cmd_devices(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "tune") == 0)
        return cmd_tune(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("svertka %s\n", sv_version());
        return CLI_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    usage(stderr);
    return cli_error(CLI_USAGE, "unknown command '%s'", cmd);
}
