/* The CPU reference path: plain C, double accumulation, written for clarity and never tuned.
 * It is the oracle every OpenCL kernel is checked against, and the "ref" device.
 * Every function assumes its parameters and shapes were validated by the op's shape helper. */
#ifndef SV_REF_H
#define SV_REF_H

#include "svertka.h"

/* y = activation(conv(x, w) + b); b may be NULL. */
void sv_ref_conv(const sv_conv_params *p, const sv_host_view *x, const sv_host_view *w,
                 const sv_host_view *b, sv_host_view *y);

/* The activation, evaluated in double precision. */
double sv_ref_activate(const sv_activation *act, double v);

#endif
