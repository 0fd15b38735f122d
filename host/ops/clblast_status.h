/* Errors of CLBlast calls (the matrix products of gemm.c and conv_transpose.c). */
#ifndef SV_CLBLAST_STATUS_H
#define SV_CLBLAST_STATUS_H

#include "core/internal.h"

#include <clblast_c.h>

/* Records a failed CLBlast call: "<op>: <routine> failed: <name> (<code>)"; returns SV_OPENCL. */
sv_status sv_fail_clblast(sv_context *ctx, const char *op, const char *routine,
                          CLBlastStatusCode code);

#endif
