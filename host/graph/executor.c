/* One step of a plan, dispatched to the op library. Everything is enqueued on the context's
 * in-order queue: nothing here waits for the device. */
#include "graph/executor.h"

#include "ops/conv_transpose.h"

sv_status step_run(sv_context *ctx, const step *s, sv_tensor *const *in, sv_tensor *out,
                   sv_tensor *indices, const step_resources *res) {
    switch (s->kind) {
    case STEP_CONV:
        if (res && res->conv && res->conv->choice.algorithm != SV_CONV_AUTO)
            return sv_conv_run_prepared(ctx, &s->p.conv, res->conv, in[0], in[1],
                                        s->ninputs > 2 ? in[2] : NULL, out, res->workspace);
        return sv_conv(ctx, &s->p.conv, in[0], in[1], s->ninputs > 2 ? in[2] : NULL, out);
    case STEP_CONV_TRANSPOSE:
        return sv_conv_transpose_in_workspace(
            ctx, &s->p.conv_transpose, in[0], in[1], s->ninputs > 2 ? in[2] : NULL, out,
            res ? res->workspace : NULL, res ? res->workspace_count : 0);
    case STEP_POOL: return sv_pool(ctx, &s->p.pool, in[0], out, indices);
    case STEP_SOFTMAX: return sv_softmax(ctx, &s->p.softmax, in[0], out);
    case STEP_GEMM:
        return sv_gemm(ctx, &s->p.gemm, in[0], in[1], s->ninputs > 2 ? in[2] : NULL, out);
    case STEP_MATMUL: return sv_matmul(ctx, in[0], in[1], out);
    case STEP_ACTIVATION: return sv_activation_apply(ctx, &s->p.activation, in[0], out);
    case STEP_BINARY: return sv_binary(ctx, s->p.binary, in[0], in[1], out);
    case STEP_BATCH_NORM:
        return sv_batch_norm(ctx, &s->p.batch_norm, in[0], in[1], in[2], in[3], in[4], out);
    case STEP_LRN: return sv_lrn(ctx, &s->p.lrn, in[0], out);
    case STEP_CONCAT:
        return sv_concat(ctx, s->p.axis, s->ninputs, (const sv_tensor *const *)in, out);
    case STEP_PAD: return sv_pad(ctx, &s->p.pad, in[0], out);
    case STEP_TRANSPOSE: return sv_transpose(ctx, s->p.perm, in[0], out);
    case STEP_RESIZE: return sv_resize(ctx, &s->p.resize, in[0], out);
    case STEP_COPY: return sv_copy(ctx, in[0], out);
    case STEP_VIEW: return SV_OK; /* the output shares the input's storage */
    }
    return sv_fail(ctx, SV_INVALID_ARGUMENT, "unknown step kind %d", (int)s->kind);
}
