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

int cmd_devices(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
