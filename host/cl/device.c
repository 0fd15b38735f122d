/* Enumerates OpenCL platforms and devices, and picks one by spec. The default is the first GPU
 * of any platform, else the first device of any platform: hosts with a GPU often also carry a
 * CPU platform such as pocl, and platform 0 is not necessarily the GPU. */
#include "cl/device.h"
#include "core/internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES_PER_PLATFORM 64

typedef struct device_entry {
    sv_device_info info;
    cl_device_id id;
} device_entry;

typedef struct device_table {
    device_entry entries[MAX_PLATFORMS * MAX_DEVICES_PER_PLATFORM];
    size_t count;
} device_table;

static sv_device_kind kind_from_cl(cl_device_type type) {
    if (type & CL_DEVICE_TYPE_GPU)
        return SV_DEVICE_GPU;
    if (type & CL_DEVICE_TYPE_CPU)
        return SV_DEVICE_CPU;
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return SV_DEVICE_ACCELERATOR;
    return SV_DEVICE_OTHER;
}

static void query_string(cl_device_id id, cl_device_info what, char *buf, size_t size) {
    if (clGetDeviceInfo(id, what, size, buf, NULL) != CL_SUCCESS)
        snprintf(buf, size, "?");
    buf[size - 1] = '\0';
}

/* FP32 lanes per streaming multiprocessor by compute capability (NVIDIA's CUDA programming
 * guide, "Arithmetic Instructions" table); 0 where unknown. */
static unsigned nvidia_fp32_lanes(cl_uint major, cl_uint minor) {
    if (major == 6)
        return minor == 0 ? 64 : 128;
    if (major == 7 || (major == 8 && minor == 0))
        return 64;
    if (major == 8 || major == 9)
        return 128;
    return 0;
}

/* fp32 peak in GFLOP/s = compute units x lanes x 2 (an FMA) x clock, where the lanes per unit
 * are known: NVIDIA GPUs through cl_nv_device_attribute_query. */
static double derive_peak(cl_device_id id, const sv_device_info *info) {
    const cl_device_info cc_major = 0x4000, cc_minor = 0x4001; /* CL_DEVICE_COMPUTE_CAPABILITY_*_NV */
    cl_uint major = 0, minor = 0;
    if (info->kind != SV_DEVICE_GPU || !strstr(info->vendor, "NVIDIA") ||
        clGetDeviceInfo(id, cc_major, sizeof major, &major, NULL) != CL_SUCCESS ||
        clGetDeviceInfo(id, cc_minor, sizeof minor, &minor, NULL) != CL_SUCCESS)
        return 0.0;
    return (double)info->compute_units * nvidia_fp32_lanes(major, minor) * 2.0 *
           (double)info->max_clock_mhz * 1e-3;
}

static void describe_device(cl_platform_id platform, cl_device_id id, sv_device_info *info) {
    cl_device_type type = 0;
    cl_uint units = 0, clock = 0;
    cl_ulong global = 0, alloc = 0, local = 0;
    size_t wg = 0;
    clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof clock, &clock, NULL);
    clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc, NULL);
    clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    info->kind = kind_from_cl(type);
    info->compute_units = units;
    info->max_clock_mhz = clock;
    info->global_mem_bytes = global;
    info->max_alloc_bytes = alloc;
    info->local_mem_bytes = local;
    info->max_work_group_size = wg;
    query_string(id, CL_DEVICE_NAME, info->name, sizeof info->name);
    query_string(id, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    query_string(id, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    query_string(id, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    if (clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform_name,
                          info->platform_name, NULL) != CL_SUCCESS)
        snprintf(info->platform_name, sizeof info->platform_name, "?");
    info->platform_name[sizeof info->platform_name - 1] = '\0';
    info->peak_gflops = derive_peak(id, info);
}

/* Drivers initialise their devices on the first device query, and not all of them safely: with
 * pocl 3.1, of two threads making that first query together one sees no device, then or later.
 * So the first query of every platform happens once, before any other. */
static pthread_once_t drivers_initialised = PTHREAD_ONCE_INIT;

static void initialise_drivers(void) {
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint n = 0;
    if (clGetPlatformIDs(MAX_PLATFORMS, platforms, &n) != CL_SUCCESS)
        return;
    for (cl_uint p = 0; p < n && p < MAX_PLATFORMS; p++) {
        cl_uint devices;
        clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &devices);
    }
}

/* Fills the table with every device; marks the default one. */
static sv_status enumerate(device_table *table, sv_message *err) {
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint nplatforms = 0;
    table->count = 0;
    pthread_once(&drivers_initialised, initialise_drivers);
    cl_int rc = clGetPlatformIDs(MAX_PLATFORMS, platforms, &nplatforms);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && nplatforms == 0))
        return SV_OK; /* no OpenCL installed: an empty list, not an error */
    if (rc != CL_SUCCESS)
        return sv_fail_message(err, SV_OPENCL, "clGetPlatformIDs: %s (%d)", sv_cl_error_name(rc),
                               (int)rc);
    if (nplatforms > MAX_PLATFORMS)
        nplatforms = MAX_PLATFORMS;
    for (cl_uint p = 0; p < nplatforms; p++) {
        cl_device_id ids[MAX_DEVICES_PER_PLATFORM];
        cl_uint ndev = 0;
        rc = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES_PER_PLATFORM, ids, &ndev);
        if (rc == CL_DEVICE_NOT_FOUND)
            continue;
        if (rc != CL_SUCCESS)
            return sv_fail_message(err, SV_OPENCL, "clGetDeviceIDs(platform %u): %s (%d)", p,
                                   sv_cl_error_name(rc), (int)rc);
        if (ndev > MAX_DEVICES_PER_PLATFORM)
            ndev = MAX_DEVICES_PER_PLATFORM;
        for (cl_uint d = 0; d < ndev; d++) {
            device_entry *e = &table->entries[table->count++];
            memset(e, 0, sizeof *e);
            e->id = ids[d];
            e->info.platform_index = (int)p;
            e->info.device_index = (int)d;
            describe_device(platforms[p], ids[d], &e->info);
        }
    }
    size_t def = 0;
    for (size_t i = 0; i < table->count; i++) {
        if (table->entries[i].info.kind == SV_DEVICE_GPU) {
            def = i;
            break;
        }
    }
    if (table->count)
        table->entries[def].info.is_default = 1;
    return SV_OK;
}

static void describe_ref(sv_device_info *info) {
    memset(info, 0, sizeof *info);
    info->platform_index = -1;
    info->device_index = -1;
    info->kind = SV_DEVICE_REF;
    snprintf(info->name, sizeof info->name, "svertka reference (plain C, CPU)");
    snprintf(info->vendor, sizeof info->vendor, "svertka");
    snprintf(info->platform_name, sizeof info->platform_name, "reference");
    snprintf(info->driver_version, sizeof info->driver_version, "%s", sv_version());
    snprintf(info->device_version, sizeof info->device_version, "none");
    info->compute_units = 1;
}

sv_status sv_devices_list(sv_device_info *infos, size_t capacity, size_t *count, sv_message *err) {
    if (!count || (capacity && !infos))
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "sv_devices_list: NULL output");
    device_table *table = malloc(sizeof *table);
    if (!table)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "sv_devices_list: out of host memory");
    sv_status st = enumerate(table, err);
    if (st == SV_OK) {
        for (size_t i = 0; i < table->count && i < capacity; i++)
            infos[i] = table->entries[i].info;
        *count = table->count;
    }
    free(table);
    return st;
}

static int contains_ignoring_case(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

/* Parses "cl:P:D" strictly; returns 1 on success. */
static int parse_index_spec(const char *spec, int *platform, int *device) {
    if (strncmp(spec, "cl:", 3) != 0)
        return 0;
    char *end;
    long p = strtol(spec + 3, &end, 10);
    if (end == spec + 3 || *end != ':' || p < 0 || p > 1000)
        return 0;
    const char *d_start = end + 1;
    long d = strtol(d_start, &end, 10);
    if (end == d_start || *end != '\0' || d < 0 || d > 1000)
        return 0;
    *platform = (int)p;
    *device = (int)d;
    return 1;
}

/* Finds the entry the spec selects. */
static sv_status select_entry(const device_table *t, const char *spec, size_t *index,
                              sv_message *err) {
    int p, d;
    int by_index = parse_index_spec(spec, &p, &d);
    if (!by_index && strncmp(spec, "cl:", 3) == 0)
        return sv_fail_message(err, SV_INVALID_ARGUMENT,
                               "malformed device spec '%s': expected cl:PLATFORM:DEVICE with two "
                               "indices",
                               spec);
    if (t->count == 0)
        return sv_fail_message(err, SV_NO_DEVICE,
                               "no OpenCL device found for device '%s' (is an OpenCL driver such "
                               "as pocl-opencl-icd installed?); use --device ref for the CPU "
                               "reference path",
                               spec);
    for (size_t i = 0; i < t->count; i++) {
        const sv_device_info *info = &t->entries[i].info;
        int match;
        if (strcmp(spec, "cl") == 0)
            match = info->is_default;
        else if (strcmp(spec, "gpu") == 0)
            match = info->kind == SV_DEVICE_GPU;
        else if (strcmp(spec, "cpu") == 0)
            match = info->kind == SV_DEVICE_CPU;
        else if (by_index)
            match = info->platform_index == p && info->device_index == d;
        else
            match = contains_ignoring_case(info->name, spec);
        if (match) {
            *index = i;
            return SV_OK;
        }
    }
    if (by_index)
        return sv_fail_message(err, SV_NO_DEVICE,
                               "no OpenCL device %d on platform %d (see 'svertka devices')", d, p);
    return sv_fail_message(err, SV_NO_DEVICE,
                           "no OpenCL device matches '%s' (expected ref, cl, gpu, cpu, cl:P:D or "
                           "part of a device name; see 'svertka devices')",
                           spec);
}

sv_status sv_device_find(const char *spec, sv_device_info *info, cl_device_id *device,
                         sv_message *err) {
    if (!spec || !*spec)
        spec = getenv("SVERTKA_DEVICE");
    if (!spec || !*spec)
        spec = "cl";
    if (strcmp(spec, "ref") == 0) {
        describe_ref(info);
        *device = NULL;
        return SV_OK;
    }
    device_table *table = malloc(sizeof *table);
    if (!table)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "device lookup: out of host memory");
    sv_status st = enumerate(table, err);
    if (st == SV_OK) {
        size_t i = 0;
        st = select_entry(table, spec, &i, err);
        if (st == SV_OK) {
            *info = table->entries[i].info;
            *device = table->entries[i].id;
        }
    }
    free(table);
    return st;
}

sv_status sv_device_resolve(const char *spec, sv_device_info *info, sv_message *err) {
    if (!info)
        return sv_fail_message(err, SV_INVALID_ARGUMENT, "sv_device_resolve: NULL output");
    cl_device_id id;
    sv_device_info found;
    sv_status st = sv_device_find(spec, &found, &id, err);
    if (st == SV_OK)
        *info = found;
    return st;
}
