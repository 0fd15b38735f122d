/* svertka devices: every OpenCL platform and device, and which one is the default. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>

static const char *kind_name(sv_device_kind kind) {
    switch (kind) {
    case SV_DEVICE_REF: return "ref";
    case SV_DEVICE_GPU: return "gpu";
    case SV_DEVICE_CPU: return "cpu";
    case SV_DEVICE_ACCELERATOR: return "accelerator";
    case SV_DEVICE_OTHER: break;
    }
    return "other";
}

int cmd_devices(int argc, char **argv) {
    (void)argv;
    if (argc > 1)
        return cli_error(CLI_USAGE, "devices takes no arguments");
    sv_message msg;
    size_t count = 0;
    if (sv_devices_list(NULL, 0, &count, &msg) != SV_OK)
        return cli_error(CLI_FAILURE, "%s", msg.text);
    sv_device_info *infos = calloc(count ? count : 1, sizeof *infos);
    if (!infos)
        return cli_error(CLI_FAILURE, "out of memory");
    size_t listed = 0;
    if (sv_devices_list(infos, count, &listed, &msg) != SV_OK) {
        free(infos);
        return cli_error(CLI_FAILURE, "%s", msg.text);
    }
    if (listed < count)
        count = listed;
    printf("%-8s %-6s %-5s %8s %10s %10s  %s\n", "spec", "type", "units", "MHz", "memory",
           "max alloc", "name [platform; driver]");
    for (size_t i = 0; i < count; i++) {
        const sv_device_info *d = &infos[i];
        char spec[32];
        snprintf(spec, sizeof spec, "cl:%d:%d", d->platform_index, d->device_index);
        printf("%-8s %-6s %5u %8u %7.1f GiB %6.1f GiB  %s [%s; %s]%s\n", spec, kind_name(d->kind),
               d->compute_units, d->max_clock_mhz, (double)d->global_mem_bytes / (1 << 30),
               (double)d->max_alloc_bytes / (1 << 30), d->name, d->platform_name, d->driver_version,
               d->is_default ? "  (default)" : "");
    }
    printf("%-8s %-6s %5s %8s %10s %10s  %s\n", "ref", "ref", "1", "-", "host", "host",
           "svertka reference (plain C, CPU)");
    if (count == 0)
        printf("no OpenCL device found: install an OpenCL driver (e.g. pocl-opencl-icd) or use "
               "--device ref\n");
    free(infos);
    return CLI_OK;
}
