/* The one place that includes the OpenCL API, pinned to the 1.2 interface every target
 * driver (NVIDIA, pocl, AMD, Intel) implements. */
#ifndef SV_OPENCL_H
#define SV_OPENCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

/* The ICD loader's "no platforms installed" code (cl_khr_icd), not in every cl.h. */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

/* "CL_OUT_OF_RESOURCES" etc.; "CL_UNKNOWN_ERROR" for a code not in the table. */
const char *sv_cl_error_name(cl_int code);

#endif
