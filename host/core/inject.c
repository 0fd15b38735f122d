/* Failure injection for tests: the driver's allocation and build failures on demand, to show
 * that every path through a failure leaves the context usable. */
#include "core/internal.h"

void sv_debug_inject_failure(sv_context *ctx, unsigned kinds, int after_n) {
    ctx->inject_kinds = kinds;
    ctx->inject_countdown = after_n;
}

int sv_injected_failure(sv_context *ctx, unsigned kind) {
    if (!(ctx->inject_kinds & kind))
        return 0;
    if (ctx->inject_countdown-- > 0)
        return 0;
    ctx->inject_kinds = 0;
    return 1;
}
