/* Tuning one convolution on its device (what sv_model_tune does per distinct layer shape). */
#ifndef SV_CONV_TUNE_H
#define SV_CONV_TUNE_H

#include "ops/conv_algorithm.h"

/* The convolution to tune: x holds the input (random values), y receives outputs, ref_first is
 * the reference path's output for the first image of the batch (what candidates are checked
 * against, so that checking costs one image of reference work whatever the batch). */
typedef struct sv_conv_tune_operands {
    const sv_tensor *x, *w, *b;
    sv_tensor *y;
    const float *ref_first;
} sv_conv_tune_operands;

/* One candidate's outcome: status SV_OK when it was checked and timed (ms: the median of the
 * timed runs); otherwise outcome says why not ("unsupported: ...", "rejected: ...",
 * "skipped: ...", "failed: ..."). error is max |y - ref| / max |ref| on the first image, or < 0
 * when it did not run. */
typedef struct sv_conv_tune_result {
    sv_conv_choice choice;
    sv_status status;
    double ms, error;
    char outcome[256];
} sv_conv_tune_result;

typedef void (*sv_conv_tune_report)(void *user, const sv_conv_tune_result *result);

/* Tries every algorithm and variant in turn (until the monotonic clock passes deadline_ms, after
 * which the rest are reported skipped), reports each, and writes the fastest correct one to
 * best. SV_UNSUPPORTED when none ran correctly. */
sv_status sv_conv_tune(sv_context *ctx, const sv_conv_params *p, const sv_conv_tune_operands *o,
                       int iterations, double deadline_ms, sv_conv_tune_report report, void *user,
                       sv_conv_tune_result *best);

/* The monotonic clock in milliseconds (what deadlines are measured on). */
double sv_tune_now_ms(void);

#endif
