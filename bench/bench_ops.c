/* svertka_bench_ops: op-level benchmark. Times convolutions and other ops on one device, the
 * library's own algorithms (through the public API) against CLBlast baselines on the same device
 * in the same run, and checks every output against the library's first algorithm's (or, with
 * --check-ref, the reference path's).
 *
 * Contestants per convolution case:
 *   sv_conv:ALG       the library, once per algorithm sv_conv_params.algorithm offers (direct,
 *                     cpu_blocked, implicit_gemm, winograd_2x2, winograd_4x4; Winograd skips the
 *                     shapes other than 3x3 stride 1), on any device; SV_CONV_AUTO picks one of
 *                     them by device
 *   im2col+sgemm      the bench's own im2col kernel (below), then CLBlastSgemm per image
 *                     (CLBlastSgemmStridedBatched over the groups of a grouped convolution); a
 *                     1x1, stride-1, unpadded convolution skips im2col: its input already is the
 *                     column matrix
 *   clblast-convgemm  CLBlastSconvgemm, CLBlast's own convolution as GEMM (no groups, the same
 *                     padding on both sides of an axis)
 * Transposed convolution: sv_conv_transpose once per algorithm sv_conv_transpose_params.algorithm
 * offers (GEMM + col2im, gather) against CLBlastSgemm (W^T times the input, per image) then
 * CLBlastScol2im into the zeroed output. Max pooling and softmax: the library only.
 * No contestant adds a bias or applies an activation: the cases time the convolution itself.
 *
 * Timing, per contestant: --warmup runs, then up to --iterations runs, stopping early once the
 * timed runs add up to --seconds; the median and the minimum of
 *   wall time    the host clock around the op and a wait for its queue (sv_* then
 *                sv_context_finish; the baselines' enqueues then clFinish): the same measure for
 *                every contestant, launch overhead included;
 *   device time  baselines only (the library's queue is not the bench's to profile): on the
 *                bench's own in-order queue with CL_QUEUE_PROFILING_ENABLE, from the start of a
 *                marker enqueued before the contestant's commands to the end of one enqueued
 *                after them, so that CLBlast's internal helper kernels are inside; idle gaps
 *                between the commands count too.
 * Effective GFLOP/s = 2 * multiply-accumulates of the op (not of the algorithm) / median time;
 * pooling and softmax report GB/s (input plus output bytes / median time).
 *
 * The baselines run in an OpenCL context of the bench's own on the device the library's context
 * uses (same platform and device index), on the same input data. */
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <cjson/cJSON.h>
#include <clblast_c.h>
#include <svertka.h>

#include "svertka_revision.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exit statuses: 0 every contestant ran or was skipped with a reason; 1 a library op failed or an
 * output disagreed; 2 a usage error. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* A baseline's output (or, with --check-ref, the library's) agrees when max |y - r| <= tol *
 * max |r|: the bound `svertka verify` uses. Summing a few thousand fp32 products of O(1) terms in
 * different orders moves the result by about 1e-6 of its largest value, far inside it; a wrong
 * index or a missing tap moves it by O(1). */
static const double bench_rel_tol = 1e-4;

/* ---- cases ----------------------------------------------------------------------------------- */

typedef enum op_kind { OP_CONV, OP_CONV_TRANSPOSE, OP_MAXPOOL, OP_SOFTMAX } op_kind;

static const char *const op_names[] = {"conv", "conv_transpose", "maxpool", "softmax"};

/* Square kernels, strides and pads (the same on both sides); softmax uses c_in as the class count
 * and ignores the rest. */
typedef struct bench_case {
    const char *name;
    op_kind op;
    int c_in, c_out, size, kernel, stride, pad, groups;
    const char *note;
} bench_case;

#define VGG(name, cin, cout, size)                                                                 \
    { name, OP_CONV, cin, cout, size, 3, 1, 1, 1, "VGG-16, 224x224 input" }
static const bench_case full_cases[] = {
    VGG("vgg16.conv1_1", 3, 64, 224),
    VGG("vgg16.conv1_2", 64, 64, 224),
    VGG("vgg16.conv2_1", 64, 128, 112),
    VGG("vgg16.conv2_2", 128, 128, 112),
    VGG("vgg16.conv3_1", 128, 256, 56),
    VGG("vgg16.conv3_2", 256, 256, 56),
    VGG("vgg16.conv3_3", 256, 256, 56),
    VGG("vgg16.conv4_1", 256, 512, 28),
    VGG("vgg16.conv4_2", 512, 512, 28),
    VGG("vgg16.conv4_3", 512, 512, 28),
    VGG("vgg16.conv5_1", 512, 512, 14),
    VGG("vgg16.conv5_2", 512, 512, 14),
    VGG("vgg16.conv5_3", 512, 512, 14),
    {"conv1x1", OP_CONV, 256, 256, 56, 1, 1, 0, 1, "pointwise, as in ResNet and MobileNet"},
    {"depthwise3x3", OP_CONV, 256, 256, 56, 3, 1, 1, 256, "MobileNet-style, one group per channel"},
    {"conv3x3_stride2", OP_CONV, 128, 256, 56, 3, 2, 1, 1, "ResNet-style downsampling"},
    {"conv_transpose_up2x", OP_CONV_TRANSPOSE, 128, 64, 56, 4, 2, 1, 1,
     "2x upsampling, kernel 4, stride 2, pad 1 (DCGAN/FCN decoders)"},
    {"maxpool2x2", OP_MAXPOOL, 64, 64, 224, 2, 2, 0, 1, "VGG-16 pool1"},
    {"softmax1000", OP_SOFTMAX, 1000, 1000, 1, 1, 1, 0, 1, "over 1000 classes"},
};
#undef VGG

/* --quick: every op and contestant on small shapes, for tests. */
static const bench_case quick_cases[] = {
    {"quick.conv3x3", OP_CONV, 16, 16, 32, 3, 1, 1, 1, "small"},
    {"quick.conv1x1", OP_CONV, 32, 16, 16, 1, 1, 0, 1, "small"},
    {"quick.depthwise3x3", OP_CONV, 16, 16, 32, 3, 1, 1, 16, "small"},
    {"quick.conv3x3_stride2", OP_CONV, 16, 32, 32, 3, 2, 1, 1, "small"},
    {"quick.conv_transpose_up2x", OP_CONV_TRANSPOSE, 16, 8, 16, 4, 2, 1, 1, "small"},
    {"quick.maxpool2x2", OP_MAXPOOL, 8, 8, 32, 2, 2, 0, 1, "small"},
    {"quick.softmax1000", OP_SOFTMAX, 1000, 1000, 1, 1, 1, 0, 1, "small"},
};

/* Tensor shapes and work of one case at the chosen batch. */
typedef struct geometry {
    int64_t n, c_in, h, w, c_out, oh, ow;
    int x_rank, w_rank, y_rank;
    int64_t x_dims[4], w_dims[4], y_dims[4];
    int64_t x_count, w_count, y_count;
    double macs;  /* multiply-accumulates (convolutions); 0 for pooling and softmax */
    double bytes; /* input plus output bytes */
} geometry;

/* ---- options --------------------------------------------------------------------------------- */

typedef struct options {
    const char *device, *json, *filter;
    long batch, iterations, warmup;
    double seconds;
    int quick, check_ref, list;
} options;

static void usage(FILE *out) {
    fprintf(out,
            "usage: svertka_bench_ops [--device DEV] [--batch N] [--iterations N] [--warmup N]\n"
            "                         [--seconds S] [--filter TEXT] [--quick] [--check-ref]\n"
            "                         [--json FILE] [--list]\n"
            "\n"
            "Times convolution (VGG-16's 13 layers at 224x224, 1x1, depthwise 3x3, stride-2\n"
            "3x3), transposed convolution, max pooling and softmax on one device: the library\n"
            "(every algorithm it has for the op) against CLBlast baselines (im2col + SGEMM,\n"
            "CLBlast's convgemm; GEMM + col2im for the transposed convolution), every output\n"
            "checked against the library's first algorithm's.\n"
            "\n"
            "  --device DEV     ref | cl | gpu | cpu | cl:P:D | part of a name (default: as\n"
            "                   svertka: $SVERTKA_DEVICE, else the first GPU, else the first\n"
            "                   OpenCL device)\n"
            "  --batch N        batch size of every case (default 1)\n"
            "  --iterations N   timed runs per contestant (default 10)\n"
            "  --warmup N       untimed runs before them (default 2)\n"
            "  --seconds S      stop timing a contestant once its runs add up to S seconds\n"
            "                   (default 10; 0: no limit)\n"
            "  --filter TEXT    only the cases whose name contains TEXT\n"
            "  --quick          small shapes of every op instead (a smoke test)\n"
            "  --check-ref      also check the library's output against the reference path\n"
            "  --json FILE      write every result as JSON\n"
            "  --list           list the cases and exit\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("svertka_bench_ops: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (--help for usage)\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

static int parse_long(const char *option, const char *text, long min, long *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min) {
        fprintf(stderr, "svertka_bench_ops: error: %s expects an integer >= %ld, got '%s'\n",
                option, min, text);
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_options(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->batch = 1;
    o->iterations = 10;
    o->warmup = 2;
    o->seconds = 10.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(EXIT_OK);
        } else if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
            continue;
        } else if (strcmp(a, "--check-ref") == 0) {
            o->check_ref = 1;
            continue;
        } else if (strcmp(a, "--list") == 0) {
            o->list = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return usage_error("unexpected argument '%s'", a);
        if (i + 1 >= argc)
            return usage_error("option %s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--device") == 0) {
            o->device = v;
        } else if (strcmp(a, "--json") == 0) {
            o->json = v;
        } else if (strcmp(a, "--filter") == 0) {
            o->filter = v;
        } else if (strcmp(a, "--batch") == 0) {
            if (!parse_long(a, v, 1, &o->batch))
                return EXIT_USAGE;
        } else if (strcmp(a, "--iterations") == 0) {
            if (!parse_long(a, v, 1, &o->iterations))
                return EXIT_USAGE;
        } else if (strcmp(a, "--warmup") == 0) {
            if (!parse_long(a, v, 0, &o->warmup))
                return EXIT_USAGE;
        } else if (strcmp(a, "--seconds") == 0) {
            char *end;
            errno = 0;
            o->seconds = strtod(v, &end);
            if (errno || end == v || *end || !(o->seconds >= 0.0))
                return usage_error("--seconds expects a number >= 0, got '%s'", v);
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    if (o->batch > 4096) {
        fprintf(stderr, "svertka_bench_ops: error: --batch must be at most 4096, got %ld\n",
                o->batch);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* ---- small helpers --------------------------------------------------------------------------- */

static void set_text(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_text(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Deterministic uniform numbers in [-1, 1) (splitmix64), so every run times the same data. */
static double next_uniform(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-52 - 1.0;
}

static float *random_array(int64_t count, double scale, uint64_t seed) {
    float *a = malloc((size_t)count * sizeof *a);
    if (a)
        for (int64_t i = 0; i < count; i++)
            a[i] = (float)(scale * next_uniform(&seed));
    return a;
}

/* max |y - r| / max |r|; infinite when y holds a NaN or r is all zero while y is not. */
static double max_rel_error(const float *y, const float *r, int64_t count) {
    double max_err = 0.0, max_ref = 0.0;
    for (int64_t i = 0; i < count; i++) {
        double e = fabs((double)y[i] - (double)r[i]);
        if (isnan(e))
            return INFINITY;
        if (e > max_err)
            max_err = e;
        if (fabs((double)r[i]) > max_ref)
            max_ref = fabs((double)r[i]);
    }
    if (max_ref == 0.0)
        return max_err == 0.0 ? 0.0 : INFINITY;
    return max_err / max_ref;
}

static const char *dims_text(char *buf, size_t size, int rank, const int64_t *dims) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && used < size; i++)
        used +=
            (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "x" : "", (long long)dims[i]);
    return buf;
}

static const char *clblast_status_text(CLBlastStatusCode s, char *buf, size_t size) {
    const char *name = NULL;
    switch (s) {
    case CLBlastNotImplemented: name = "CLBlastNotImplemented"; break;
    case CLBlastInvalidValue: name = "CLBlastInvalidValue"; break;
    case CLBlastInvalidLocalThreadsDim: name = "CLBlastInvalidLocalThreadsDim"; break;
    case CLBlastInvalidLocalThreadsTotal: name = "CLBlastInvalidLocalThreadsTotal"; break;
    case CLBlastInvalidLocalMemUsage: name = "CLBlastInvalidLocalMemUsage"; break;
    case CLBlastOpenCLBuildProgramFailure: name = "CLBlastOpenCLBuildProgramFailure"; break;
    case CLBlastOpenCLOutOfResources: name = "CLBlastOpenCLOutOfResources"; break;
    case CLBlastTempBufferAllocFailure: name = "CLBlastTempBufferAllocFailure"; break;
    case CLBlastInvalidBufferSize: name = "CLBlastInvalidBufferSize"; break;
    case CLBlastInvalidDimension: name = "CLBlastInvalidDimension"; break;
    case CLBlastInsufficientMemoryA: name = "CLBlastInsufficientMemoryA"; break;
    case CLBlastInsufficientMemoryB: name = "CLBlastInsufficientMemoryB"; break;
    case CLBlastInsufficientMemoryC: name = "CLBlastInsufficientMemoryC"; break;
    case CLBlastUnknownError: name = "CLBlastUnknownError"; break;
    case CLBlastUnexpectedError: name = "CLBlastUnexpectedError"; break;
    default: break;
    }
    if (name)
        snprintf(buf, size, "%s (%d)", name, (int)s);
    else
        snprintf(buf, size, "status %d", (int)s);
    return buf;
}

/* ---- the bench's own OpenCL context on the library's device ---------------------------------- */

/* im2col for one image: col[(c * K + i) * K + j][oy * OW + ox] = x[c][oy * S - P + i][ox * S -
 * P + j], zero outside the image (the layout CLBlast's own im2col uses). One work-item per
 * element of the column matrix; consecutive work-items write consecutive addresses. */
static const char im2col_source[] =
    "__kernel void im2col(__global const float *x, long x_offset, __global float *col,\n"
    "                     int C, int H, int W, int K, int S, int P, int OH, int OW) {\n"
    "    const int p = get_global_id(0), row = get_global_id(1);\n"
    "    if (p >= OH * OW || row >= C * K * K)\n"
    "        return;\n"
    "    const int oy = p / OW, ox = p - oy * OW;\n"
    "    const int j = row % K, i = (row / K) % K, c = row / (K * K);\n"
    "    const int iy = oy * S - P + i, ix = ox * S - P + j;\n"
    "    float v = 0.0f;\n"
    "    if (iy >= 0 && iy < H && ix >= 0 && ix < W)\n"
    "        v = x[x_offset + ((long)c * H + iy) * W + ix];\n"
    "    col[(long)row * OH * OW + p] = v;\n"
    "}\n";

typedef struct cl_env {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel im2col;
    cl_ulong max_alloc;
    char error[512]; /* why there is no environment (the baselines' skip reason) */
} cl_env;

static void cl_env_release(cl_env *e) {
    if (e->im2col)
        clReleaseKernel(e->im2col);
    if (e->program)
        clReleaseProgram(e->program);
    if (e->queue)
        clReleaseCommandQueue(e->queue);
    if (e->context)
        clReleaseContext(e->context);
    e->im2col = NULL;
    e->program = NULL;
    e->queue = NULL;
    e->context = NULL;
}

/* Opens the device the library's context runs on; on failure leaves the reason in e->error. */
static int cl_env_open(cl_env *e, const sv_device_info *info) {
    memset(e, 0, sizeof *e);
    if (info->kind == SV_DEVICE_REF) {
        set_text(e->error, sizeof e->error, "the reference device has no OpenCL queue");
        return 0;
    }
    cl_platform_id platforms[16];
    cl_device_id devices[64];
    cl_uint np = 0, nd = 0;
    cl_int rc = clGetPlatformIDs(16, platforms, &np);
    if (rc != CL_SUCCESS || (cl_uint)info->platform_index >= np ||
        clGetDeviceIDs(platforms[info->platform_index], CL_DEVICE_TYPE_ALL, 64, devices, &nd) !=
            CL_SUCCESS ||
        (cl_uint)info->device_index >= nd) {
        set_text(e->error, sizeof e->error, "cannot find OpenCL device cl:%d:%d again",
                 info->platform_index, info->device_index);
        return 0;
    }
    e->platform = platforms[info->platform_index];
    e->device = devices[info->device_index];
    char name[256] = "";
    clGetDeviceInfo(e->device, CL_DEVICE_NAME, sizeof name, name, NULL);
    name[sizeof name - 1] = '\0';
    if (strcmp(name, info->name) != 0) {
        set_text(e->error, sizeof e->error, "OpenCL device cl:%d:%d is '%s', not '%s'",
                 info->platform_index, info->device_index, name, info->name);
        return 0;
    }
    clGetDeviceInfo(e->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof e->max_alloc, &e->max_alloc,
                    NULL);
    const cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)e->platform,
                                           0};
    e->context = clCreateContext(props, 1, &e->device, NULL, NULL, &rc);
    if (rc == CL_SUCCESS)
        e->queue = clCreateCommandQueue(e->context, e->device, CL_QUEUE_PROFILING_ENABLE, &rc);
    const char *src = im2col_source;
    if (rc == CL_SUCCESS)
        e->program = clCreateProgramWithSource(e->context, 1, &src, NULL, &rc);
    if (rc == CL_SUCCESS)
        rc = clBuildProgram(e->program, 1, &e->device, "", NULL, NULL);
    if (rc == CL_SUCCESS)
        e->im2col = clCreateKernel(e->program, "im2col", &rc);
    if (rc != CL_SUCCESS) {
        char log[256] = "";
        if (e->program)
            clGetProgramBuildInfo(e->program, e->device, CL_PROGRAM_BUILD_LOG, sizeof log, log,
                                  NULL);
        log[sizeof log - 1] = '\0';
        set_text(e->error, sizeof e->error, "OpenCL setup of the baselines failed (error %d) %s",
                 (int)rc, log);
        cl_env_release(e);
        return 0;
    }
    return 1;
}

/* ---- results --------------------------------------------------------------------------------- */

typedef enum status { ST_OK, ST_SKIPPED, ST_FAILED, ST_MISMATCH } status;
static const char *const status_names[] = {"ok", "skipped", "failed", "mismatch"};

typedef struct result {
    const char *contestant;
    const char *algorithm;
    status st;
    char reason[512];
    int runs;
    double wall_median, wall_min; /* ms */
    int has_device;
    double dev_median, dev_min; /* ms */
    int checked;                /* max_rel_err holds a comparison with `checked_against` */
    double max_rel_err;
    const char *checked_against;
} result;

/* One repetition of a contestant: runs it to completion; device_ms < 0 when it has no device
 * time. Returns 0, or -1 with a message in err. */
typedef int (*run_fn)(void *state, double *device_ms, char *err, size_t err_size);

static void time_contestant(const options *o, run_fn run, void *state, result *r) {
    double *wall = malloc((size_t)o->iterations * sizeof *wall);
    double *dev = malloc((size_t)o->iterations * sizeof *dev);
    if (!wall || !dev) {
        r->st = ST_FAILED;
        set_text(r->reason, sizeof r->reason, "out of host memory");
        free(wall);
        free(dev);
        return;
    }
    double device_ms, total = 0.0;
    int ndev = 0;
    for (long i = 0; i < o->warmup; i++)
        if (run(state, &device_ms, r->reason, sizeof r->reason) != 0) {
            r->st = ST_FAILED;
            goto done;
        }
    for (long i = 0; i < o->iterations; i++) {
        const double t0 = now_ms();
        if (run(state, &device_ms, r->reason, sizeof r->reason) != 0) {
            r->st = ST_FAILED;
            goto done;
        }
        wall[r->runs++] = now_ms() - t0;
        if (device_ms >= 0.0)
            dev[ndev++] = device_ms;
        total += wall[r->runs - 1];
        if (o->seconds > 0.0 && total >= 1e3 * o->seconds)
            break;
    }
    r->st = ST_OK;
    r->wall_median = median_of(wall, r->runs);
    r->wall_min = wall[0];
    if (ndev == r->runs) { /* every run had a device time */
        r->has_device = 1;
        r->dev_median = median_of(dev, ndev);
        r->dev_min = dev[0];
    }
done:
    free(wall);
    free(dev);
}

/* ---- the library's contestants --------------------------------------------------------------- */

typedef struct sv_state {
    sv_context *ctx;
    op_kind op;
    sv_conv_params conv;
    sv_conv_transpose_params convt;
    sv_pool_params pool;
    sv_softmax_params softmax;
    sv_tensor *x, *w, *y;
    sv_status last; /* of the last call: SV_UNSUPPORTED means the library declines the shape */
} sv_state;

static int run_sv(void *state, double *device_ms, char *err, size_t err_size) {
    sv_state *s = state;
    sv_status st = SV_OK;
    switch (s->op) {
    case OP_CONV: st = sv_conv(s->ctx, &s->conv, s->x, s->w, NULL, s->y); break;
    case OP_CONV_TRANSPOSE:
        st = sv_conv_transpose(s->ctx, &s->convt, s->x, s->w, NULL, s->y);
        break;
    case OP_MAXPOOL: st = sv_pool(s->ctx, &s->pool, s->x, s->y, NULL); break;
    case OP_SOFTMAX: st = sv_softmax(s->ctx, &s->softmax, s->x, s->y); break;
    }
    if (st == SV_OK)
        st = sv_context_finish(s->ctx);
    *device_ms = -1.0;
    s->last = st;
    if (st != SV_OK) {
        set_text(err, err_size, "%s: %s", sv_status_name(st), sv_last_error(s->ctx));
        return -1;
    }
    return 0;
}

/* The library's contestants: sv_conv once per algorithm the header offers (a new algorithm is a new
 * row here), the other ops through their one entry point. */
typedef struct lib_variant {
    const char *name;
    const char *algorithm;
    sv_conv_algorithm conv_algorithm;
    sv_conv_transpose_algorithm convt_algorithm;
} lib_variant;

static const lib_variant conv_variants[] = {
    {"sv_conv:direct", "SV_CONV_DIRECT: one output pixel and a block of channels per work-item",
     SV_CONV_DIRECT, SV_CONV_TRANSPOSE_AUTO},
    {"sv_conv:cpu_blocked", "SV_CONV_CPU_BLOCKED: register blocks of up to 32 channels x 8 pixels",
     SV_CONV_CPU_BLOCKED, SV_CONV_TRANSPOSE_AUTO},
    {"sv_conv:implicit_gemm",
     "SV_CONV_IMPLICIT_GEMM: GEMM tiles through local memory, im2col gathered on the fly",
     SV_CONV_IMPLICIT_GEMM, SV_CONV_TRANSPOSE_AUTO},
    {"sv_conv:winograd_2x2", "SV_CONV_WINOGRAD_2X2: F(2x2,3x3) transforms and batched GEMM",
     SV_CONV_WINOGRAD_2X2, SV_CONV_TRANSPOSE_AUTO},
    {"sv_conv:winograd_4x4", "SV_CONV_WINOGRAD_4X4: F(4x4,3x3) transforms and batched GEMM",
     SV_CONV_WINOGRAD_4X4, SV_CONV_TRANSPOSE_AUTO},
};
static const lib_variant convt_variants[] = {
    {"sv_convt:gemm", "SV_CONV_TRANSPOSE_GEMM: CLBlastSgemm (W^T x), then the library's col2im",
     SV_CONV_AUTO, SV_CONV_TRANSPOSE_GEMM},
    {"sv_convt:gather", "SV_CONV_TRANSPOSE_GATHER: each output pixel gathers its inputs",
     SV_CONV_AUTO, SV_CONV_TRANSPOSE_GATHER},
};
static const lib_variant pool_variant = {"sv_pool", "the library's kernel", SV_CONV_AUTO,
                                         SV_CONV_TRANSPOSE_AUTO};
static const lib_variant softmax_variant = {"sv_softmax", "the library's kernel", SV_CONV_AUTO,
                                            SV_CONV_TRANSPOSE_AUTO};

static const lib_variant *lib_variants(op_kind op, int *count) {
    *count = 1;
    switch (op) {
    case OP_CONV:
        *count = (int)(sizeof conv_variants / sizeof conv_variants[0]);
        return conv_variants;
    case OP_CONV_TRANSPOSE:
        *count = (int)(sizeof convt_variants / sizeof convt_variants[0]);
        return convt_variants;
    case OP_MAXPOOL: return &pool_variant;
    case OP_SOFTMAX: return &softmax_variant;
    }
    return &softmax_variant;
}

static void sv_state_params(sv_state *s, const bench_case *bc) {
    s->op = bc->op;
    s->conv = sv_conv_params_default(2);
    s->convt = sv_conv_transpose_params_default(2);
    s->pool = sv_pool_params_default(2, SV_POOL_MAX);
    s->softmax.axis = 1;
    s->softmax.log = 0;
    for (int i = 0; i < 2; i++) {
        s->conv.stride[i] = s->convt.stride[i] = s->pool.stride[i] = bc->stride;
        s->conv.pad_begin[i] = s->conv.pad_end[i] = bc->pad;
        s->convt.pad_begin[i] = s->convt.pad_end[i] = bc->pad;
        s->pool.pad_begin[i] = s->pool.pad_end[i] = bc->pad;
        s->pool.kernel[i] = bc->kernel;
    }
    s->conv.groups = s->convt.groups = bc->groups;
}

/* Shapes of a case at batch n, through the library's own output-shape helpers. */
static int case_geometry(const bench_case *bc, int64_t n, geometry *g, char *err, size_t err_size) {
    memset(g, 0, sizeof *g);
    sv_state s;
    sv_state_params(&s, bc);
    sv_message msg;
    sv_status st = SV_OK;
    g->n = n;
    g->c_in = bc->c_in;
    g->h = g->w = bc->size;
    if (bc->op == OP_SOFTMAX) {
        g->x_rank = g->y_rank = 2;
        g->x_dims[0] = g->y_dims[0] = n;
        g->x_dims[1] = g->y_dims[1] = bc->c_in;
    } else {
        g->x_rank = g->y_rank = 4;
        const int64_t x_dims[4] = {n, bc->c_in, bc->size, bc->size};
        memcpy(g->x_dims, x_dims, sizeof x_dims);
        if (bc->op != OP_MAXPOOL) {
            g->w_rank = 4;
            const int64_t cw = bc->op == OP_CONV ? bc->c_out : bc->c_in;
            const int64_t per_group =
                bc->op == OP_CONV ? bc->c_in / bc->groups : bc->c_out / bc->groups;
            const int64_t w_dims[4] = {cw, per_group, bc->kernel, bc->kernel};
            memcpy(g->w_dims, w_dims, sizeof w_dims);
        }
        if (bc->op == OP_CONV)
            st = sv_conv_output_shape(&s.conv, 4, g->x_dims, g->w_dims, NULL, g->y_dims, &msg);
        else if (bc->op == OP_CONV_TRANSPOSE)
            st = sv_conv_transpose_output_shape(&s.convt, 4, g->x_dims, g->w_dims, NULL, g->y_dims,
                                                &msg);
        else
            st = sv_pool_output_shape(&s.pool, 4, g->x_dims, g->y_dims, &msg);
    }
    if (st != SV_OK) {
        set_text(err, err_size, "%s", msg.text);
        return 0;
    }
    g->c_out = g->y_dims[1];
    g->oh = g->y_rank == 4 ? g->y_dims[2] : 1;
    g->ow = g->y_rank == 4 ? g->y_dims[3] : 1;
    g->x_count = g->w_count = g->y_count = 1;
    for (int i = 0; i < g->x_rank; i++)
        g->x_count *= g->x_dims[i];
    for (int i = 0; i < g->y_rank; i++)
        g->y_count *= g->y_dims[i];
    for (int i = 0; i < g->w_rank; i++)
        g->w_count *= g->w_dims[i];
    if (!g->w_rank)
        g->w_count = 0;
    const double kk = (double)bc->kernel * bc->kernel;
    if (bc->op == OP_CONV)
        g->macs = (double)g->y_count * (double)(g->c_in / bc->groups) * kk;
    else if (bc->op == OP_CONV_TRANSPOSE)
        g->macs = (double)g->x_count * (double)(g->c_out / bc->groups) * kk;
    g->bytes = 4.0 * (double)(g->x_count + g->y_count);
    return 1;
}

/* ---- the CLBlast baselines ------------------------------------------------------------------- */

typedef enum baseline_kind { BASE_IM2COL_SGEMM, BASE_CONVGEMM, BASE_SGEMM_COL2IM } baseline_kind;

typedef struct baseline {
    const char *name;
    const char *algorithm;
    baseline_kind kind;
} baseline;

static const baseline conv_baselines[] = {
    {"im2col+sgemm",
     "the bench's im2col kernel (none for a 1x1, stride-1, unpadded convolution), then "
     "CLBlastSgemm per image (CLBlastSgemmStridedBatched over groups)",
     BASE_IM2COL_SGEMM},
    {"clblast-convgemm", "CLBlastSconvgemm", BASE_CONVGEMM},
};
static const baseline convt_baselines[] = {
    {"sgemm+col2im", "CLBlastSgemm (W^T x) per image, then CLBlastScol2im into the zeroed output",
     BASE_SGEMM_COL2IM},
};

typedef struct cl_state {
    cl_env *env;
    const bench_case *bc;
    const geometry *g;
    baseline_kind kind;
    cl_mem x, w, y, col;
    int direct_1x1; /* im2col+sgemm on a 1x1/s1/p0 convolution: the input is the column matrix */
} cl_state;

/* Why a baseline cannot run this case, or NULL. */
static const char *baseline_unsupported(const baseline *b, const bench_case *bc) {
    if (b->kind == BASE_CONVGEMM && bc->groups != 1)
        return "CLBlast's convgemm has no groups";
    if (b->kind == BASE_SGEMM_COL2IM && bc->groups != 1)
        return "grouped transposed convolution is not written for this baseline";
    return NULL;
}

static int cl_fail(char *err, size_t err_size, const char *what, cl_int rc) {
    set_text(err, err_size, "%s: OpenCL error %d", what, (int)rc);
    return -1;
}

static int clblast_fail(char *err, size_t err_size, const char *what, CLBlastStatusCode s) {
    char text[96];
    set_text(err, err_size, "%s: %s", what, clblast_status_text(s, text, sizeof text));
    return -1;
}

static int enqueue_im2col_sgemm(cl_state *s, char *err, size_t err_size) {
    const geometry *g = s->g;
    const bench_case *bc = s->bc;
    cl_command_queue q = s->env->queue;
    const size_t groups = (size_t)bc->groups, k = (size_t)bc->kernel;
    const size_t m = (size_t)g->c_out / groups, kdim = (size_t)g->c_in / groups * k * k;
    const size_t pixels = (size_t)(g->oh * g->ow), in_image = (size_t)(g->c_in * g->h * g->w);
    for (int64_t n = 0; n < g->n; n++) {
        cl_mem b = s->col;
        size_t b_offset = 0;
        if (s->direct_1x1) {
            b = s->x;
            b_offset = (size_t)n * in_image;
        } else {
            cl_kernel kern = s->env->im2col;
            const cl_long x_offset = (cl_long)((size_t)n * in_image);
            const cl_int ci = (cl_int)g->c_in, h = (cl_int)g->h, w = (cl_int)g->w, kk = bc->kernel,
                         st = bc->stride, pad = bc->pad, oh = (cl_int)g->oh, ow = (cl_int)g->ow;
            cl_int rc = clSetKernelArg(kern, 0, sizeof s->x, &s->x);
            rc |= clSetKernelArg(kern, 1, sizeof x_offset, &x_offset);
            rc |= clSetKernelArg(kern, 2, sizeof s->col, &s->col);
            rc |= clSetKernelArg(kern, 3, sizeof ci, &ci);
            rc |= clSetKernelArg(kern, 4, sizeof h, &h);
            rc |= clSetKernelArg(kern, 5, sizeof w, &w);
            rc |= clSetKernelArg(kern, 6, sizeof kk, &kk);
            rc |= clSetKernelArg(kern, 7, sizeof st, &st);
            rc |= clSetKernelArg(kern, 8, sizeof pad, &pad);
            rc |= clSetKernelArg(kern, 9, sizeof oh, &oh);
            rc |= clSetKernelArg(kern, 10, sizeof ow, &ow);
            if (rc != CL_SUCCESS)
                return cl_fail(err, err_size, "im2col arguments", rc);
            const size_t local[2] = {64, 1};
            const size_t global[2] = {(pixels + 63) / 64 * 64, (size_t)g->c_in * k * k};
            rc = clEnqueueNDRangeKernel(q, kern, 2, NULL, global, local, 0, NULL, NULL);
            if (rc != CL_SUCCESS)
                return cl_fail(err, err_size, "im2col", rc);
        }
        const size_t y_offset = (size_t)n * (size_t)g->c_out * pixels;
        CLBlastStatusCode cs;
        if (groups == 1)
            cs = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m,
                              pixels, kdim, 1.0f, s->w, 0, kdim, b, b_offset, pixels, 0.0f, s->y,
                              y_offset, pixels, &q, NULL);
        else
            cs = CLBlastSgemmStridedBatched(
                CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, pixels, kdim,
                1.0f, s->w, 0, kdim, m * kdim, b, b_offset, pixels, kdim * pixels, 0.0f, s->y,
                y_offset, pixels, m * pixels, groups, &q, NULL);
        if (cs != CLBlastSuccess)
            return clblast_fail(err, err_size,
                                groups == 1 ? "CLBlastSgemm" : "CLBlastSgemmStridedBatched", cs);
    }
    return 0;
}

static int enqueue_convgemm(cl_state *s, char *err, size_t err_size) {
    const geometry *g = s->g;
    const size_t k = (size_t)s->bc->kernel, st = (size_t)s->bc->stride, pad = (size_t)s->bc->pad;
    CLBlastStatusCode cs =
        CLBlastSconvgemm(CLBlastKernelModeCrossCorrelation, (size_t)g->c_in, (size_t)g->h,
                         (size_t)g->w, k, k, pad, pad, st, st, 1, 1, (size_t)g->c_out, (size_t)g->n,
                         s->x, 0, s->w, 0, s->y, 0, &s->env->queue, NULL);
    return cs == CLBlastSuccess ? 0 : clblast_fail(err, err_size, "CLBlastSconvgemm", cs);
}

static int enqueue_sgemm_col2im(cl_state *s, char *err, size_t err_size) {
    const geometry *g = s->g;
    cl_command_queue q = s->env->queue;
    const size_t k = (size_t)s->bc->kernel, st = (size_t)s->bc->stride, pad = (size_t)s->bc->pad;
    const size_t rows = (size_t)g->c_out * k * k, pixels = (size_t)(g->h * g->w);
    const size_t out_image = (size_t)(g->c_out * g->oh * g->ow);
    const float zero = 0.0f;
    cl_int rc = clEnqueueFillBuffer(q, s->y, &zero, sizeof zero, 0,
                                    (size_t)g->y_count * sizeof(float), 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return cl_fail(err, err_size, "clEnqueueFillBuffer", rc);
    for (int64_t n = 0; n < g->n; n++) {
        CLBlastStatusCode cs = CLBlastSgemm(
            CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo, rows, pixels,
            (size_t)g->c_in, 1.0f, s->w, 0, rows, s->x, (size_t)n * (size_t)g->c_in * pixels,
            pixels, 0.0f, s->col, 0, pixels, &q, NULL);
        if (cs != CLBlastSuccess)
            return clblast_fail(err, err_size, "CLBlastSgemm", cs);
        cs = CLBlastScol2im(CLBlastKernelModeCrossCorrelation, (size_t)g->c_out, (size_t)g->oh,
                            (size_t)g->ow, k, k, pad, pad, st, st, 1, 1, s->col, 0, s->y,
                            (size_t)n * out_image, &q, NULL);
        if (cs != CLBlastSuccess)
            return clblast_fail(err, err_size, "CLBlastScol2im", cs);
    }
    return 0;
}

static int run_cl(void *state, double *device_ms, char *err, size_t err_size) {
    cl_state *s = state;
    cl_command_queue q = s->env->queue;
    cl_event start = NULL, end = NULL;
    *device_ms = -1.0;
    cl_int rc = clEnqueueMarkerWithWaitList(q, 0, NULL, &start);
    if (rc != CL_SUCCESS)
        return cl_fail(err, err_size, "clEnqueueMarkerWithWaitList", rc);
    int failed = 0;
    switch (s->kind) {
    case BASE_IM2COL_SGEMM: failed = enqueue_im2col_sgemm(s, err, err_size); break;
    case BASE_CONVGEMM: failed = enqueue_convgemm(s, err, err_size); break;
    case BASE_SGEMM_COL2IM: failed = enqueue_sgemm_col2im(s, err, err_size); break;
    }
    rc = clEnqueueMarkerWithWaitList(q, 0, NULL, &end);
    cl_int finish = clFinish(q);
    if (!failed && rc != CL_SUCCESS)
        failed = cl_fail(err, err_size, "clEnqueueMarkerWithWaitList", rc);
    if (!failed && finish != CL_SUCCESS)
        failed = cl_fail(err, err_size, "clFinish", finish);
    if (!failed) {
        cl_ulong t0 = 0, t1 = 0;
        if (clGetEventProfilingInfo(start, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) ==
                CL_SUCCESS &&
            clGetEventProfilingInfo(end, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) ==
                CL_SUCCESS &&
            t1 >= t0)
            *device_ms = 1e-6 * (double)(t1 - t0);
    }
    clReleaseEvent(start);
    if (end)
        clReleaseEvent(end);
    return failed ? -1 : 0;
}

static cl_mem cl_buffer(cl_env *e, size_t bytes, const float *host, cl_int *rc) {
    cl_mem m = clCreateBuffer(e->context, CL_MEM_READ_WRITE, bytes, NULL, rc);
    if (*rc == CL_SUCCESS && host)
        *rc = clEnqueueWriteBuffer(e->queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL);
    return m;
}

/* Times one baseline on one case and compares its output with the library's (y_sv, from the
 * contestant named sv_name). */
static void run_baseline(const options *o, cl_env *env, const baseline *b, const bench_case *bc,
                         const geometry *g, const float *x, const float *w, const float *y_sv,
                         const char *sv_name, result *r) {
    r->contestant = b->name;
    r->algorithm = b->algorithm;
    const char *why = env->context ? baseline_unsupported(b, bc) : env->error;
    if (why) {
        r->st = ST_SKIPPED;
        set_text(r->reason, sizeof r->reason, "%s", why);
        return;
    }
    cl_state s;
    memset(&s, 0, sizeof s);
    s.env = env;
    s.bc = bc;
    s.g = g;
    s.kind = b->kind;
    s.direct_1x1 =
        b->kind == BASE_IM2COL_SGEMM && bc->kernel == 1 && bc->stride == 1 && bc->pad == 0;
    size_t col_floats = 0;
    if (b->kind == BASE_IM2COL_SGEMM && !s.direct_1x1)
        col_floats = (size_t)g->c_in * (size_t)(bc->kernel * bc->kernel) * (size_t)(g->oh * g->ow);
    if (b->kind == BASE_SGEMM_COL2IM)
        col_floats = (size_t)g->c_out * (size_t)(bc->kernel * bc->kernel) * (size_t)(g->h * g->w);
    const size_t largest = (size_t)(g->x_count > g->y_count ? g->x_count : g->y_count);
    if ((col_floats > largest ? col_floats : largest) * sizeof(float) > env->max_alloc ||
        col_floats > (size_t)INT_MAX || largest > (size_t)INT_MAX) {
        r->st = ST_SKIPPED;
        set_text(r->reason, sizeof r->reason,
                 "a buffer of %.0f MiB exceeds the device's largest allocation (%.0f MiB) or "
                 "int indexing",
                 (double)(col_floats > largest ? col_floats : largest) * 4.0 / 1048576.0,
                 (double)env->max_alloc / 1048576.0);
        return;
    }
    cl_int rc = CL_SUCCESS;
    s.x = cl_buffer(env, (size_t)g->x_count * sizeof(float), x, &rc);
    if (rc == CL_SUCCESS)
        s.w = cl_buffer(env, (size_t)g->w_count * sizeof(float), w, &rc);
    if (rc == CL_SUCCESS)
        s.y = cl_buffer(env, (size_t)g->y_count * sizeof(float), NULL, &rc);
    if (rc == CL_SUCCESS && col_floats)
        s.col = cl_buffer(env, col_floats * sizeof(float), NULL, &rc);
    if (rc != CL_SUCCESS) {
        r->st = ST_SKIPPED;
        set_text(r->reason, sizeof r->reason,
                 "cannot allocate the baseline's buffers (OpenCL error %d)", (int)rc);
    } else {
        time_contestant(o, run_cl, &s, r);
        if (r->st == ST_FAILED) /* CLBlast refused or failed: the baseline is unusable here */
            r->st = ST_SKIPPED;
    }
    float *y = r->st == ST_OK ? malloc((size_t)g->y_count * sizeof *y) : NULL;
    if (r->st == ST_OK) {
        rc = y ? clEnqueueReadBuffer(env->queue, s.y, CL_TRUE, 0, (size_t)g->y_count * sizeof *y, y,
                                     0, NULL, NULL)
               : CL_OUT_OF_HOST_MEMORY;
        if (rc != CL_SUCCESS) {
            r->st = ST_FAILED;
            set_text(r->reason, sizeof r->reason, "reading the output back: OpenCL error %d",
                     (int)rc);
        } else {
            r->checked = 1;
            r->checked_against = sv_name;
            r->max_rel_err = max_rel_error(y, y_sv, g->y_count);
            if (!(r->max_rel_err <= bench_rel_tol)) {
                r->st = ST_MISMATCH;
                set_text(r->reason, sizeof r->reason,
                         "output differs from %s's: max |y - y_lib| = %.3g * max |y_lib| > %g",
                         sv_name, r->max_rel_err, bench_rel_tol);
            }
        }
    }
    free(y);
    cl_mem mems[4] = {s.x, s.w, s.y, s.col};
    for (int i = 0; i < 4; i++)
        if (mems[i])
            clReleaseMemObject(mems[i]);
}

/* ---- one case -------------------------------------------------------------------------------- */

/* Runs the op on ctx with the given inputs (timed when time_it, else once) and downloads its
 * output into y. A shape the library declines (SV_UNSUPPORTED) leaves r skipped. */
static sv_status sv_run_once_on(sv_context *ctx, const bench_case *bc, const lib_variant *v,
                                const geometry *g, float *x, float *w, float *y, int time_it,
                                const options *o, result *r) {
    sv_state s;
    memset(&s, 0, sizeof s);
    sv_state_params(&s, bc);
    s.conv.algorithm = v->conv_algorithm;
    s.convt.algorithm = v->convt_algorithm;
    s.ctx = ctx;
    sv_host_view xv = sv_host_view_make(x, g->x_rank, g->x_dims);
    sv_status st = sv_tensor_from_host(ctx, &xv, &s.x);
    if (st == SV_OK && g->w_rank) {
        sv_host_view wv = sv_host_view_make(w, g->w_rank, g->w_dims);
        st = sv_tensor_from_host(ctx, &wv, &s.w);
    }
    if (st == SV_OK)
        st = sv_tensor_create(ctx, g->y_rank, g->y_dims, &s.y);
    char err[512] = "";
    if (st != SV_OK) {
        set_text(err, sizeof err, "%s: %s", sv_status_name(st), sv_last_error(ctx));
    } else if (time_it) {
        time_contestant(o, run_sv, &s, r);
        if (r->st != ST_OK)
            st = SV_INVALID_ARGUMENT;
    } else {
        double unused;
        if (run_sv(&s, &unused, err, sizeof err) != 0)
            st = SV_INVALID_ARGUMENT;
    }
    if (st == SV_OK) {
        st = sv_tensor_download(s.y, y, g->y_count);
        if (st != SV_OK)
            set_text(err, sizeof err, "%s: %s", sv_status_name(st), sv_last_error(ctx));
    }
    if (st != SV_OK && r && r->st != ST_FAILED) {
        r->st = ST_FAILED;
        set_text(r->reason, sizeof r->reason, "%s", err);
    }
    if (r && r->st == ST_FAILED && s.last == SV_UNSUPPORTED)
        r->st = ST_SKIPPED;
    sv_tensor_release(s.x);
    sv_tensor_release(s.w);
    sv_tensor_release(s.y);
    return st;
}

typedef struct case_results {
    const bench_case *bc;
    geometry g;
    int count;
    result r[8];
} case_results;

static void print_case_header(const bench_case *bc, const geometry *g) {
    char xs[64], ws[64], ys[64];
    dims_text(xs, sizeof xs, g->x_rank, g->x_dims);
    dims_text(ys, sizeof ys, g->y_rank, g->y_dims);
    if (bc->op == OP_CONV || bc->op == OP_CONV_TRANSPOSE)
        printf("\n%s (%s): x %s, w %s, k%d s%d p%d g%d -> y %s; %.1f MMAC\n", bc->name, bc->note,
               xs, dims_text(ws, sizeof ws, g->w_rank, g->w_dims), bc->kernel, bc->stride, bc->pad,
               bc->groups, ys, g->macs * 1e-6);
    else if (bc->op == OP_MAXPOOL)
        printf("\n%s (%s): x %s, k%d s%d -> y %s; %.1f MB moved\n", bc->name, bc->note, xs,
               bc->kernel, bc->stride, ys, g->bytes * 1e-6);
    else
        printf("\n%s (%s): x %s, axis 1 -> y %s; %.3f MB moved\n", bc->name, bc->note, xs, ys,
               g->bytes * 1e-6);
}

static void print_result(const case_results *c, const result *r, double library_best) {
    if (r->st == ST_SKIPPED || r->st == ST_FAILED) {
        printf("  %-22s %s: %s\n", r->contestant, status_names[r->st], r->reason);
        return;
    }
    char dev_med[32] = "-", dev_min[32] = "-", rate[32], ratio[32] = "-", err[32] = "-";
    if (r->has_device) {
        snprintf(dev_med, sizeof dev_med, "%.3f", r->dev_median);
        snprintf(dev_min, sizeof dev_min, "%.3f", r->dev_min);
    }
    if (c->g.macs > 0)
        snprintf(rate, sizeof rate, "%.1f GFLOP/s", 2.0 * c->g.macs / (r->wall_median * 1e6));
    else
        snprintf(rate, sizeof rate, "%.2f GB/s", c->g.bytes / (r->wall_median * 1e6));
    if (library_best > 0)
        snprintf(ratio, sizeof ratio, "%.2f", r->wall_median / library_best);
    if (r->checked)
        snprintf(err, sizeof err, "%.1e", r->max_rel_err);
    printf("  %-22s %4d %11.3f %11.3f %11s %11s %15s %8s %9s%s\n", r->contestant, r->runs,
           r->wall_median, r->wall_min, dev_med, dev_min, rate, ratio, err,
           r->st == ST_MISMATCH ? "  MISMATCH" : "");
}

/* The reference path's output for the case, computed once (NULL with the reason in err). */
static float *reference_output(const bench_case *bc, const geometry *g, float *x, float *w,
                               sv_context **ref_ctx, char *err, size_t err_size) {
    sv_message msg;
    if (!*ref_ctx && sv_context_create("ref", ref_ctx, &msg) != SV_OK) {
        set_text(err, err_size, "reference context: %s", msg.text);
        return NULL;
    }
    float *y = malloc((size_t)g->y_count * sizeof *y);
    result r;
    memset(&r, 0, sizeof r);
    int unused;
    if (!y)
        set_text(err, err_size, "out of host memory");
    else if (sv_run_once_on(*ref_ctx, bc, lib_variants(bc->op, &unused), g, x, w, y, 0, NULL, &r) !=
             SV_OK) {
        set_text(err, err_size, "reference path: %s", r.reason);
        free(y);
        y = NULL;
    }
    return y;
}

static void check_output(result *r, const float *y, const float *expected, int64_t count,
                         const char *against) {
    r->checked = 1;
    r->checked_against = against;
    r->max_rel_err = max_rel_error(y, expected, count);
    if (!(r->max_rel_err <= bench_rel_tol)) {
        r->st = ST_MISMATCH;
        set_text(r->reason, sizeof r->reason,
                 "output differs from %s's: max |y - y_%s| = %.3g * max |y_%s| > %g",
                 strcmp(against, "ref") == 0 ? "the reference path" : against, against,
                 r->max_rel_err, against, bench_rel_tol);
    }
}

/* Every library algorithm, then every baseline: each output checked against the reference path
 * (--check-ref) or the first library algorithm's, each baseline's against the first library
 * algorithm's that ran and was right. */
static void run_case(const options *o, const bench_case *bc, int index, sv_context *ctx,
                     sv_context **ref_ctx, cl_env *env, case_results *c) {
    memset(c, 0, sizeof *c);
    c->bc = bc;
    char err[512];
    int nvariants;
    const lib_variant *variants = lib_variants(bc->op, &nvariants);
    if (!case_geometry(bc, o->batch, &c->g, err, sizeof err)) {
        result *r = &c->r[c->count++];
        r->contestant = variants[0].name;
        r->algorithm = variants[0].algorithm;
        r->st = ST_FAILED;
        set_text(r->reason, sizeof r->reason, "%s", err);
        printf("\n%s: %s\n", bc->name, err);
        return;
    }
    const geometry *g = &c->g;
    print_case_header(bc, g);
    double fan_in = bc->op == OP_CONV ? (double)(g->c_in / bc->groups) * bc->kernel * bc->kernel
                                      : (double)g->c_in;
    float *x = random_array(g->x_count, bc->op == OP_SOFTMAX ? 4.0 : 1.0, 1000u + (unsigned)index);
    float *w =
        g->w_count ? random_array(g->w_count, sqrt(3.0 / fan_in), 2000u + (unsigned)index) : NULL;
    float *y_lib = malloc((size_t)g->y_count * sizeof *y_lib);
    float *y = malloc((size_t)g->y_count * sizeof *y);
    float *y_ref = NULL;
    const char *lib_name = NULL; /* the library algorithm whose output y_lib holds */
    double library_best = 0.0;
    int host_ok = x && (!g->w_count || w) && y_lib && y;
    if (o->check_ref && host_ok)
        y_ref = reference_output(bc, g, x, w, ref_ctx, err, sizeof err);
    for (int i = 0; i < nvariants; i++) {
        result *r = &c->r[c->count++];
        r->contestant = variants[i].name;
        r->algorithm = variants[i].algorithm;
        if (!host_ok || (o->check_ref && !y_ref)) {
            r->st = ST_FAILED;
            set_text(r->reason, sizeof r->reason, "%s", host_ok ? err : "out of host memory");
        } else {
            float *out = lib_name ? y : y_lib;
            sv_run_once_on(ctx, bc, &variants[i], g, x, w, out, 1, o, r);
            if (r->st == ST_OK && y_ref)
                check_output(r, out, y_ref, g->y_count, "ref");
            else if (r->st == ST_OK && lib_name)
                check_output(r, out, y_lib, g->y_count, lib_name);
            if (r->st == ST_OK && !lib_name)
                lib_name = variants[i].name;
            if (r->st == ST_OK && (library_best == 0.0 || r->wall_median < library_best))
                library_best = r->wall_median;
        }
        print_result(c, r, 0.0);
    }
    const baseline *list = NULL;
    size_t nlist = 0;
    if (bc->op == OP_CONV) {
        list = conv_baselines;
        nlist = sizeof conv_baselines / sizeof conv_baselines[0];
    } else if (bc->op == OP_CONV_TRANSPOSE) {
        list = convt_baselines;
        nlist = sizeof convt_baselines / sizeof convt_baselines[0];
    }
    for (size_t i = 0; i < nlist; i++) {
        result *r = &c->r[c->count++];
        if (!lib_name) {
            r->contestant = list[i].name;
            r->algorithm = list[i].algorithm;
            r->st = ST_SKIPPED;
            set_text(r->reason, sizeof r->reason,
                     "no correct output of the library's to compare with");
        } else {
            run_baseline(o, env, &list[i], bc, g, x, w, y_lib, lib_name, r);
        }
        print_result(c, r, library_best);
        fflush(stdout);
    }
    free(x);
    free(w);
    free(y_lib);
    free(y);
    free(y_ref);
    fflush(stdout);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static cJSON *dims_json(int rank, const int64_t *dims) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < rank; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)dims[i]));
    return a;
}

static void add_number_or_null(cJSON *obj, const char *key, int have, double v) {
    if (have && isfinite(v))
        cJSON_AddNumberToObject(obj, key, v);
    else
        cJSON_AddNullToObject(obj, key);
}

static cJSON *record_json(const options *o, const case_results *c, const result *r) {
    const bench_case *bc = c->bc;
    const geometry *g = &c->g;
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "case", bc->name);
    cJSON_AddStringToObject(rec, "op", op_names[bc->op]);
    cJSON_AddStringToObject(rec, "note", bc->note);
    cJSON_AddNumberToObject(rec, "batch", (double)o->batch);
    cJSON_AddItemToObject(rec, "input", dims_json(g->x_rank, g->x_dims));
    if (g->w_rank)
        cJSON_AddItemToObject(rec, "weight", dims_json(g->w_rank, g->w_dims));
    else
        cJSON_AddNullToObject(rec, "weight");
    cJSON_AddItemToObject(rec, "output", dims_json(g->y_rank, g->y_dims));
    if (bc->op != OP_SOFTMAX) {
        cJSON_AddNumberToObject(rec, "kernel", bc->kernel);
        cJSON_AddNumberToObject(rec, "stride", bc->stride);
        cJSON_AddNumberToObject(rec, "pad", bc->pad);
    }
    if (bc->op == OP_CONV || bc->op == OP_CONV_TRANSPOSE)
        cJSON_AddNumberToObject(rec, "groups", bc->groups);
    add_number_or_null(rec, "macs", g->macs > 0, g->macs);
    cJSON_AddNumberToObject(rec, "bytes", g->bytes);
    cJSON_AddStringToObject(rec, "contestant", r->contestant);
    cJSON_AddStringToObject(rec, "algorithm", r->algorithm);
    cJSON_AddStringToObject(rec, "status", status_names[r->st]);
    if (r->reason[0])
        cJSON_AddStringToObject(rec, "reason", r->reason);
    const int timed = r->st == ST_OK || (r->st == ST_MISMATCH && r->runs > 0);
    cJSON_AddNumberToObject(rec, "runs", r->runs);
    if (timed) {
        cJSON *wall = cJSON_AddObjectToObject(rec, "wall_ms");
        cJSON_AddNumberToObject(wall, "median", r->wall_median);
        cJSON_AddNumberToObject(wall, "min", r->wall_min);
    } else {
        cJSON_AddNullToObject(rec, "wall_ms");
    }
    if (timed && r->has_device) {
        cJSON *dev = cJSON_AddObjectToObject(rec, "device_ms");
        cJSON_AddNumberToObject(dev, "median", r->dev_median);
        cJSON_AddNumberToObject(dev, "min", r->dev_min);
    } else {
        cJSON_AddNullToObject(rec, "device_ms");
    }
    const int flops = timed && g->macs > 0;
    add_number_or_null(rec, "gflops", flops, 2.0 * g->macs / (r->wall_median * 1e6));
    add_number_or_null(rec, "gflops_device", flops && r->has_device,
                       2.0 * g->macs / (r->dev_median * 1e6));
    add_number_or_null(rec, "gbytes_per_s", timed && g->macs <= 0,
                       g->bytes / (r->wall_median * 1e6));
    add_number_or_null(rec, "max_rel_err", r->checked, r->max_rel_err);
    if (r->checked)
        cJSON_AddStringToObject(rec, "checked_against", r->checked_against);
    else
        cJSON_AddNullToObject(rec, "checked_against");
    return rec;
}

static int write_json(const options *o, int argc, char **argv, const sv_device_info *dev,
                      const char *date, const case_results *cases, int ncases) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "benchmark", "svertka_bench_ops");
    cJSON_AddStringToObject(root, "svertka_version", sv_version());
    cJSON_AddStringToObject(root, "git_revision", SVERTKA_GIT_REVISION);
    cJSON_AddStringToObject(root, "clblast_version", SV_BENCH_CLBLAST_VERSION);
    cJSON_AddStringToObject(root, "date", date);
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *command = malloc(len);
    if (command) {
        command[0] = '\0';
        for (int i = 0; i < argc; i++) {
            strcat(command, argv[i]);
            if (i + 1 < argc)
                strcat(command, " ");
        }
        cJSON_AddStringToObject(root, "command", command);
        free(command);
    }
    cJSON *d = cJSON_AddObjectToObject(root, "device");
    cJSON_AddStringToObject(d, "name", dev->name);
    cJSON_AddStringToObject(d, "vendor", dev->vendor);
    cJSON_AddStringToObject(d, "platform", dev->platform_name);
    cJSON_AddStringToObject(d, "driver", dev->driver_version);
    cJSON_AddStringToObject(d, "version", dev->device_version);
    char spec[32];
    if (dev->kind == SV_DEVICE_REF)
        snprintf(spec, sizeof spec, "ref");
    else
        snprintf(spec, sizeof spec, "cl:%d:%d", dev->platform_index, dev->device_index);
    cJSON_AddStringToObject(d, "spec", spec);
    cJSON_AddNumberToObject(d, "compute_units", dev->compute_units);
    cJSON_AddNumberToObject(d, "max_clock_mhz", dev->max_clock_mhz);
    cJSON_AddNumberToObject(d, "global_mem_bytes", (double)dev->global_mem_bytes);
    cJSON *s = cJSON_AddObjectToObject(root, "settings");
    cJSON_AddNumberToObject(s, "batch", (double)o->batch);
    cJSON_AddNumberToObject(s, "iterations", (double)o->iterations);
    cJSON_AddNumberToObject(s, "warmup", (double)o->warmup);
    cJSON_AddNumberToObject(s, "seconds", o->seconds);
    cJSON_AddBoolToObject(s, "quick", o->quick);
    cJSON_AddBoolToObject(s, "check_ref", o->check_ref);
    cJSON_AddNumberToObject(s, "rel_tolerance", bench_rel_tol);
    cJSON_AddStringToObject(s, "wall_time", "host clock around the op and a wait for its queue");
    cJSON_AddStringToObject(s, "device_time",
                            "profiling: start of a marker before the contestant's commands to the "
                            "end of one after them (baselines only)");
    cJSON *records = cJSON_AddArrayToObject(root, "records");
    for (int i = 0; i < ncases; i++)
        for (int j = 0; j < cases[i].count; j++)
            cJSON_AddItemToArray(records, record_json(o, &cases[i], &cases[i].r[j]));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = text ? fopen(o->json, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    free(text);
    if (!ok)
        fprintf(stderr, "svertka_bench_ops: error: cannot write %s\n", o->json);
    return ok;
}

/* ---- main ------------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc != EXIT_OK)
        return rc;
    const bench_case *all = o.quick ? quick_cases : full_cases;
    const int nall = o.quick ? (int)(sizeof quick_cases / sizeof quick_cases[0])
                             : (int)(sizeof full_cases / sizeof full_cases[0]);
    int selected[64], nsel = 0;
    for (int i = 0; i < nall; i++)
        if (!o.filter || strstr(all[i].name, o.filter))
            selected[nsel++] = i;
    if (o.list) {
        for (int i = 0; i < nsel; i++)
            printf("%-22s %-15s %s\n", all[selected[i]].name, op_names[all[selected[i]].op],
                   all[selected[i]].note);
        return EXIT_OK;
    }
    if (nsel == 0) {
        fprintf(stderr, "svertka_bench_ops: error: no case matches --filter '%s'\n", o.filter);
        return EXIT_USAGE;
    }

    sv_message msg;
    sv_context *ctx = NULL, *ref_ctx = NULL;
    if (sv_context_create(o.device, &ctx, &msg) != SV_OK) {
        fprintf(stderr, "svertka_bench_ops: error: %s\n", msg.text);
        return EXIT_FAIL;
    }
    const sv_device_info *dev = sv_context_device(ctx);
    cl_env env;
    cl_env_open(&env, dev);

    char date[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("svertka_bench_ops %s (git %s), CLBlast %s, %s\n", sv_version(), SVERTKA_GIT_REVISION,
           SV_BENCH_CLBLAST_VERSION, date);
    printf("device: %s; platform: %s; driver: %s; %u compute units\n", dev->name,
           dev->platform_name, dev->driver_version, dev->compute_units);
    printf("batch %ld; %ld warm-up runs, then %ld timed runs per contestant (at most %g s)\n",
           o.batch, o.warmup, o.iterations, o.seconds);
    if (!env.context)
        printf("CLBlast baselines: skipped: %s\n", env.error);
    printf("times in ms. wall: host clock around the op and a wait for its queue; dev: OpenCL "
           "profiling (baselines only);\nratio: wall median / the library's fastest algorithm's; "
           "rel err: max |y - y_x| / max |y_x|, x: the\nlibrary's first algorithm (or, with "
           "--check-ref, the reference path)\n");
    printf("\n  %-22s %4s %11s %11s %11s %11s %15s %8s %9s\n", "contestant", "runs", "wall med",
           "wall min", "dev med", "dev min", "rate (wall)", "ratio", "rel err");

    case_results *results = calloc((size_t)nsel, sizeof *results);
    if (!results) {
        fprintf(stderr, "svertka_bench_ops: error: out of host memory\n");
        cl_env_release(&env);
        sv_context_release(ctx);
        return EXIT_FAIL;
    }
    for (int i = 0; i < nsel; i++)
        run_case(&o, &all[selected[i]], selected[i], ctx, &ref_ctx, &env, &results[i]);

    int failures = 0;
    for (int i = 0; i < nsel; i++)
        for (int j = 0; j < results[i].count; j++)
            if (results[i].r[j].st == ST_FAILED || results[i].r[j].st == ST_MISMATCH) {
                fprintf(stderr, "svertka_bench_ops: %s %s: %s: %s\n", results[i].bc->name,
                        results[i].r[j].contestant, status_names[results[i].r[j].st],
                        results[i].r[j].reason);
                failures++;
            }
    if (o.json && !write_json(&o, argc, argv, dev, date, results, nsel))
        failures++;
    else if (o.json)
        printf("\nwrote %s\n", o.json);

    free(results);
    if (env.context)
        CLBlastClearCache();
    cl_env_release(&env);
    sv_context_release(ref_ctx);
    sv_context_release(ctx);
    return failures ? EXIT_FAIL : EXIT_OK;
}
