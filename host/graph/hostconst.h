/* Constants known on the host while planning: initializers, Constant nodes and whatever is folded
 * from them (shape arithmetic above all). Either fp32 or int64; rank 0 (a scalar) to
 * SV_MAX_RANK. */
#ifndef SV_HOSTCONST_H
#define SV_HOSTCONST_H

#include "svertka.h"

typedef enum hc_type { HC_F32, HC_I64 } hc_type;

typedef struct hostconst {
    hc_type type;
    int rank;
    int64_t dims[SV_MAX_RANK];
    int64_t count;
    float *f;   /* HC_F32 */
    int64_t *i; /* HC_I64 */
} hostconst;

/* Allocates a zero-filled constant; NULL on overflow or out of memory. */
hostconst *hc_new(hc_type type, int rank, const int64_t *dims);
void hc_free(hostconst *c);
hostconst *hc_copy(const hostconst *c);
/* Element k as a double / an int64 whatever the type (a float truncated; NaN or beyond int64:
 * INT64_MIN). */
double hc_get(const hostconst *c, int64_t k);
int64_t hc_get_int(const hostconst *c, int64_t k);
/* The product of dims, or -1 when it overflows; dims must be >= 0. */
int64_t hc_product(int rank, const int64_t *dims);

#endif
