/* OpenCL programs: sources embedded at build time from kernels_cl/ (or read from
 * SVERTKA_KERNELS_DIR during development), built lazily per context and kept per
 * (source, build options), loaded from the on-disk cache of compiled programs when it has them
 * (cl/binary_cache.h); kernels kept per (program, kernel name). */
#ifndef SV_PROGRAM_H
#define SV_PROGRAM_H

#include "cl/opencl.h"
#include "svertka.h"

#include <stddef.h>

struct sv_context;

typedef struct sv_program_entry {
    char *source_name; /* "conv" for kernels_cl/conv.cl */
    char *options;
    cl_program program;
} sv_program_entry;

typedef struct sv_kernel_entry {
    size_t program; /* index into the program entries */
    char *name;
    cl_kernel kernel;
} sv_kernel_entry;

typedef struct sv_program_cache {
    sv_program_entry *programs;
    size_t program_count, program_capacity;
    sv_kernel_entry *kernels;
    size_t kernel_count, kernel_capacity;
    /* programs compiled from source, and loaded from the on-disk cache */
    size_t source_builds, binary_loads;
} sv_program_cache;

/* Returns the kernel `kernel_name` of kernels_cl/<source_name>.cl built with `options`,
 * building the program on first use. A build failure returns SV_BUILD_FAILED with the
 * compiler's log in the context's last error. The kernel stays owned by the cache. */
sv_status sv_program_kernel(struct sv_context *ctx, const char *source_name, const char *options,
                            const char *kernel_name, cl_kernel *out);

/* How many programs the context compiled from source and how many it loaded as binaries from
 * the on-disk cache (what the tests check the cache by). */
void sv_program_build_counts(const struct sv_context *ctx, size_t *source_builds,
                             size_t *binary_loads);

/* Releases every program and kernel in the cache. */
void sv_program_cache_release(sv_program_cache *cache);

/* An embedded kernel source: kernels_cl/<name>.cl or, for the shared prelude, common.clh. */
typedef struct sv_embedded_source {
    const char *name;
    const char *text;
    size_t length;
} sv_embedded_source;

extern const sv_embedded_source sv_embedded_sources[];
extern const size_t sv_embedded_source_count;

#endif
