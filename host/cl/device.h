/* OpenCL device discovery and device-spec resolution. */
#ifndef SV_DEVICE_H
#define SV_DEVICE_H

#include "cl/opencl.h"
#include "svertka.h"

/* Resolves a spec (see sv_device_resolve) to a description and, for OpenCL devices, the device
 * handle (NULL for the reference device). */
sv_status sv_device_find(const char *spec, sv_device_info *info, cl_device_id *device,
                         sv_message *err);

#endif
