/* The entry point every fuzz harness in this directory defines. libFuzzer calls it with each
 * input it generates (SVERTKA_FUZZ builds, clang); replay.c calls it with saved inputs in the
 * normal build (the fuzz_regressions test). It returns 0 for every input the library handles,
 * whatever the status; it aborts when a harness's own check fails. */
#ifndef SV_FUZZ_H
#define SV_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message naming the harness's broken expectation. */
#define FUZZ_CHECK(cond, what)                                                                     \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__FILE__, __LINE__, what);                                                   \
    } while (0)

void fuzz_fail(const char *file, int line, const char *what);

#endif
