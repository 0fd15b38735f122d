/* Builds OpenCL programs on demand and keeps them for the life of the context. Every program is
 * the shared prelude (kernels_cl/common.clh) followed by one op family's source; compiled
 * programs are kept on disk too (cl/binary_cache.h), so that the next process loads them. */
#include "cl/program.h"
#include "cl/binary_cache.h"
#include "core/cache_dir.h"
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRELUDE_NAME "common"
#define PRELUDE_SUFFIX ".clh"

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

static const sv_embedded_source *find_embedded(const char *name) {
    for (size_t i = 0; i < sv_embedded_source_count; i++)
        if (strcmp(sv_embedded_sources[i].name, name) == 0)
            return &sv_embedded_sources[i];
    return NULL;
}

/* Reads <dir>/<name><suffix> into a malloc'd, NUL-terminated buffer. */
static sv_status read_source_file(sv_context *ctx, const char *dir, const char *name,
                                  const char *suffix, char **out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sv_fail(ctx, SV_IO, "cannot open kernel source %s (from SVERTKA_KERNELS_DIR)", path);
    char *text = NULL;
    sv_status st = SV_IO;
    long size;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        text = malloc((size_t)size + 1);
        if (!text)
            st = sv_fail(ctx, SV_OUT_OF_MEMORY, "kernel source %s: out of host memory", path);
        else if (fread(text, 1, (size_t)size, f) == (size_t)size) {
            text[size] = '\0';
            st = SV_OK;
        }
    }
    fclose(f);
    if (st == SV_IO)
        sv_fail(ctx, SV_IO, "cannot read kernel source %s", path);
    if (st != SV_OK) {
        free(text);
        return st;
    }
    *out = text;
    return SV_OK;
}

/* Gets the prelude and the op source, from SVERTKA_KERNELS_DIR when set, else embedded.
 * texts[i] must be freed when owned[i] is set. */
static sv_status load_sources(sv_context *ctx, const char *name, const char *texts[2],
                              char *owned[2]) {
    owned[0] = owned[1] = NULL;
    const char *dir = getenv("SVERTKA_KERNELS_DIR");
    if (dir && *dir) {
        sv_status st = read_source_file(ctx, dir, PRELUDE_NAME, PRELUDE_SUFFIX, &owned[0]);
        if (st == SV_OK)
            st = read_source_file(ctx, dir, name, ".cl", &owned[1]);
        if (st != SV_OK) {
            free(owned[0]);
            return st;
        }
        texts[0] = owned[0];
        texts[1] = owned[1];
        return SV_OK;
    }
    const sv_embedded_source *prelude = find_embedded(PRELUDE_NAME);
    const sv_embedded_source *src = find_embedded(name);
    if (!prelude || !src)
        return sv_fail(ctx, SV_UNSUPPORTED, "no embedded kernel source named '%s'", name);
    texts[0] = prelude->text;
    texts[1] = src->text;
    return SV_OK;
}

/* Compiles the sources on the device; a failure carries the compiler's log. */
static sv_status build_from_source(sv_context *ctx, const char *name, const char *texts[2],
                                   const char *options, cl_program *out) {
    cl_int rc;
    cl_program program = clCreateProgramWithSource(ctx->cl, 2, texts, NULL, &rc);
    if (rc != CL_SUCCESS)
        return sv_fail_cl(ctx, rc, "clCreateProgramWithSource");
    rc = sv_injected_failure(ctx, SV_INJECT_BUILD)
             ? CL_BUILD_PROGRAM_FAILURE
             : clBuildProgram(program, 1, &ctx->cl_device, options, NULL, NULL);
    if (rc != CL_SUCCESS) {
        size_t log_size = 0;
        clGetProgramBuildInfo(program, ctx->cl_device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
        char *log = malloc(log_size + 1);
        if (log) {
            log[0] = '\0';
            clGetProgramBuildInfo(program, ctx->cl_device, CL_PROGRAM_BUILD_LOG, log_size, log,
                                  NULL);
            log[log_size] = '\0';
        }
        sv_status st = sv_fail(
            ctx, SV_BUILD_FAILED, "building kernels_cl/%s.cl with options '%s': %s (%d)\n%s", name,
            options, sv_cl_error_name(rc), (int)rc, log ? log : "(no build log)");
        free(log);
        clReleaseProgram(program);
        return st;
    }
    *out = program;
    return SV_OK;
}

/* Whether compiled programs may be read from and written to disk: yes unless SVERTKA_CACHE is
 * "off" or "0"; and if so, the directory (created) and the key of this program. The key covers
 * everything the binary depends on: the library's version, the platform, the device and its
 * driver, the build options and the full text compiled (so that an edited source under
 * SVERTKA_KERNELS_DIR misses). */
static int binary_cache_entry(const sv_context *ctx, const char *texts[2], const char *options,
                              char *dir, size_t dir_size, uint8_t key[SV_BINARY_CACHE_KEY_SIZE]) {
    const char *setting = getenv("SVERTKA_CACHE");
    if (setting && (strcmp(setting, "off") == 0 || strcmp(setting, "0") == 0))
        return 0;
    cl_platform_id platform;
    char platform_version[256];
    if (clGetDeviceInfo(ctx->cl_device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL) !=
            CL_SUCCESS ||
        clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof platform_version, platform_version,
                          NULL) != CL_SUCCESS)
        return 0;
    platform_version[sizeof platform_version - 1] = '\0';
    if (!sv_cache_dir("programs", 1, dir, dir_size))
        return 0;
    const sv_device_info *d = &ctx->device;
    const char *fields[] = {sv_version(), d->platform_name,  platform_version,
                            d->name,      d->device_version, d->driver_version,
                            options,      texts[0],          texts[1]};
    sv_binary_cache_key(fields, sizeof fields / sizeof fields[0], key);
    return 1;
}

/* The program from a cached binary, or 0 when there is none or the driver refuses it (a binary
 * still needs its build call, which may fail too). */
static int build_from_binary(sv_context *ctx, const char *dir,
                             const uint8_t key[SV_BINARY_CACHE_KEY_SIZE], const char *options,
                             cl_program *out) {
    uint8_t *binary;
    size_t size;
    if (!sv_binary_cache_load(dir, key, &binary, &size))
        return 0;
    const unsigned char *binaries[1] = {binary};
    cl_int rc, binary_status = CL_SUCCESS;
    cl_program program = clCreateProgramWithBinary(ctx->cl, 1, &ctx->cl_device, &size, binaries,
                                                   &binary_status, &rc);
    if (rc == CL_SUCCESS && binary_status != CL_SUCCESS)
        rc = binary_status;
    if (rc == CL_SUCCESS)
        rc = clBuildProgram(program, 1, &ctx->cl_device, options, NULL, NULL);
    free(binary);
    if (rc != CL_SUCCESS) {
        if (program)
            clReleaseProgram(program);
        return 0;
    }
    *out = program;
    return 1;
}

/* Writes the program's binary as the cache entry for key, if the driver gives one. */
static void store_binary(cl_program program, const char *dir,
                         const uint8_t key[SV_BINARY_CACHE_KEY_SIZE]) {
    size_t size = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) !=
            CL_SUCCESS ||
        size == 0 || size > SV_BINARY_CACHE_MAX_BINARY)
        return;
    unsigned char *binaries[1] = {malloc(size)};
    if (binaries[0] && clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binaries, binaries,
                                        NULL) == CL_SUCCESS)
        sv_binary_cache_store(dir, key, binaries[0], size);
    free(binaries[0]);
}

/* The program from the on-disk cache when it holds a valid entry, else compiled from source and
 * stored there. The cache never makes a build fail: any trouble with it means a source build. */
static sv_status build_program(sv_context *ctx, const char *name, const char *options,
                               cl_program *out) {
    const char *texts[2];
    char *owned[2];
    sv_status st = load_sources(ctx, name, texts, owned);
    if (st != SV_OK)
        return st;
    char dir[4096];
    uint8_t key[SV_BINARY_CACHE_KEY_SIZE];
    const int cached = binary_cache_entry(ctx, texts, options, dir, sizeof dir, key);
    if (cached && build_from_binary(ctx, dir, key, options, out)) {
        ctx->programs.binary_loads++;
    } else {
        st = build_from_source(ctx, name, texts, options, out);
        if (st == SV_OK) {
            ctx->programs.source_builds++;
            if (cached)
                store_binary(*out, dir, key);
        }
    }
    free(owned[0]);
    free(owned[1]);
    return st;
}

static int grow(void **items, size_t *capacity, size_t count, size_t item_size) {
    if (count < *capacity)
        return 1;
    size_t cap = *capacity ? *capacity * 2 : 16;
    void *bigger = realloc(*items, cap * item_size);
    if (!bigger)
        return 0;
    *items = bigger;
    *capacity = cap;
    return 1;
}

static sv_status find_or_build_program(sv_context *ctx, const char *name, const char *options,
                                       size_t *index) {
    sv_program_cache *c = &ctx->programs;
    for (size_t i = 0; i < c->program_count; i++) {
        if (strcmp(c->programs[i].source_name, name) == 0 &&
            strcmp(c->programs[i].options, options) == 0) {
            *index = i;
            return SV_OK;
        }
    }
    if (!grow((void **)&c->programs, &c->program_capacity, c->program_count, sizeof *c->programs))
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "program cache: out of host memory");
    sv_program_entry e = {dup_string(name), dup_string(options), NULL};
    if (!e.source_name || !e.options) {
        free(e.source_name);
        free(e.options);
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "program cache: out of host memory");
    }
    sv_status st = build_program(ctx, name, options, &e.program);
    if (st != SV_OK) {
        free(e.source_name);
        free(e.options);
        return st;
    }
    *index = c->program_count;
    c->programs[c->program_count++] = e;
    return SV_OK;
}

sv_status sv_program_kernel(sv_context *ctx, const char *source_name, const char *options,
                            const char *kernel_name, cl_kernel *out) {
    size_t program = 0;
    sv_status st = find_or_build_program(ctx, source_name, options, &program);
    if (st != SV_OK)
        return st;
    sv_program_cache *c = &ctx->programs;
    for (size_t i = 0; i < c->kernel_count; i++) {
        if (c->kernels[i].program == program && strcmp(c->kernels[i].name, kernel_name) == 0) {
            *out = c->kernels[i].kernel;
            return SV_OK;
        }
    }
    if (!grow((void **)&c->kernels, &c->kernel_capacity, c->kernel_count, sizeof *c->kernels))
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "kernel cache: out of host memory");
    cl_int rc;
    cl_kernel kernel = clCreateKernel(c->programs[program].program, kernel_name, &rc);
    if (rc != CL_SUCCESS) {
        char what[256];
        snprintf(what, sizeof what, "clCreateKernel(%s in kernels_cl/%s.cl)", kernel_name,
                 source_name);
        return sv_fail_cl(ctx, rc, what);
    }
    char *name = dup_string(kernel_name);
    if (!name) {
        clReleaseKernel(kernel);
        return sv_fail(ctx, SV_OUT_OF_MEMORY, "kernel cache: out of host memory");
    }
    c->kernels[c->kernel_count++] = (sv_kernel_entry){program, name, kernel};
    *out = kernel;
    return SV_OK;
}

void sv_program_cache_release(sv_program_cache *c) {
    for (size_t i = 0; i < c->kernel_count; i++) {
        clReleaseKernel(c->kernels[i].kernel);
        free(c->kernels[i].name);
    }
    for (size_t i = 0; i < c->program_count; i++) {
        clReleaseProgram(c->programs[i].program);
        free(c->programs[i].source_name);
        free(c->programs[i].options);
    }
    free(c->kernels);
    free(c->programs);
    memset(c, 0, sizeof *c);
}

void sv_program_build_counts(const sv_context *ctx, size_t *source_builds, size_t *binary_loads) {
    *source_builds = ctx->programs.source_builds;
    *binary_loads = ctx->programs.binary_loads;
}
