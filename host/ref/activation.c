/* Reference activations, straight from their definitions. */
#include "ref/ref.h"

#include <math.h>

double sv_ref_activate(const sv_activation *act, double v) {
    switch (act->kind) {
    case SV_ACT_RELU: return v > 0.0 || isnan(v) ? v : 0.0; /* NaN propagates, as on devices */
    case SV_ACT_LEAKY_RELU: return v >= 0.0 ? v : (double)act->alpha * v;
    case SV_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case SV_ACT_TANH: return tanh(v);
    case SV_ACT_CLIP:
        return v < act->alpha ? (double)act->alpha : v > act->beta ? (double)act->beta : v;
    case SV_ACT_ELU:
        return v >= 0.0 ? v : (double)act->alpha * expm1(v);
    case SV_ACT_HARD_SIGMOID: {
        const double h = (double)act->alpha * v + (double)act->beta;
        return h < 0.0 ? 0.0 : h > 1.0 ? 1.0 : h;
    }
    case SV_ACT_NONE: break;
    }
    return v;
}
