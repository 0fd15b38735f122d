/* Errors of CLBlast calls (the matrix products of gemm.c and conv_transpose.c). */
#ifndef SV_CLBLAST_STATUS_H
#define SV_CLBLAST_STATUS_H

#include "core/internal.h"

#include <clblast_c.h>

/* The outcome of a CLBlast call: a failure is recorded as "<op>: <routine> failed: <name>
 * (<code>)" (SV_OPENCL); a success is followed by guard mode's check, as CLBlast enqueues its
 * kernels itself, past sv_enqueue. */
sv_status sv_clblast_result(sv_context *ctx, const char *op, const char *routine,
                            CLBlastStatusCode code);

#endif
