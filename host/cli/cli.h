/* The svertka command: shared conventions of its subcommands.
 * Exit codes: 0 success, 2 usage error, 1 any other failure; errors go to stderr as one line
 * "svertka: error: ...". */
#ifndef SV_CLI_H
#define SV_CLI_H

#include "svertka.h"

enum { CLI_OK = 0, CLI_FAILURE = 1, CLI_USAGE = 2 };

/* Prints "svertka: error: <message>" to stderr and returns `code`. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns the value following option argv[*i] and advances *i, or NULL (with a usage error
 * printed) when it is missing. */
const char *cli_option_value(int argc, char **argv, int *i);
/* Parses a positive integer option value; returns 0 and prints a usage error on failure. */
int cli_parse_positive(const char *option, const char *text, long *out);

/* Parses a positive real option value (seconds); returns 0 and prints a usage error on failure. */
int cli_parse_positive_number(const char *option, const char *text, double *out);
/* Parses "N[,N...]" positive sizes into out (at most capacity); returns 0 and prints a usage
 * error on failure. */
int cli_parse_sizes(const char *option, const char *text, long *out, int capacity, int *count);
/* Parses a convolution algorithm's name (--algorithm); returns 0 and prints a usage error
 * naming the choices on failure. */
int cli_parse_algorithm(const char *text, sv_conv_algorithm *out);

/* Creates a context on `spec`, loads the model (keeping every layer's output when `keep` is
 * set, convolutions preferring `algorithm`) and plans it for `batch` (0: the model's own).
 * Prints the error and returns CLI_FAILURE on failure; on success the caller releases both. */
int cli_open_model(const char *spec, const char *path, int keep, sv_conv_algorithm algorithm,
                   long batch, sv_context **ctx, sv_model **model);
/* Element count of a shape. */
int64_t cli_count(int rank, const int64_t *dims);
/* "[1, 3, 224, 224]" into buf. */
const char *cli_shape(char *buf, size_t size, int rank, const int64_t *dims);

int cmd_devices(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);

#endif
