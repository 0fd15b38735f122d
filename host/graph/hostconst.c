/* Host constants: small typed arrays the planner folds shape computations with. */
#include "graph/hostconst.h"

#include <stdlib.h>
#include <string.h>

int64_t hc_product(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && n > INT64_MAX / 8 / dims[i]))
            return -1;
        n *= dims[i];
    }
    return n;
}

hostconst *hc_new(hc_type type, int rank, const int64_t *dims) {
    if (rank < 0 || rank > SV_MAX_RANK)
        return NULL;
    int64_t count = hc_product(rank, dims);
    if (count < 0)
        return NULL;
    hostconst *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type = type;
    c->rank = rank;
    for (int i = 0; i < rank; i++)
        c->dims[i] = dims[i];
    c->count = count;
    size_t n = (size_t)(count ? count : 1);
    if (type == HC_F32)
        c->f = calloc(n, sizeof *c->f);
    else
        c->i = calloc(n, sizeof *c->i);
    if (!c->f && !c->i) {
        free(c);
        return NULL;
    }
    return c;
}

void hc_free(hostconst *c) {
    if (!c)
        return;
    free(c->f);
    free(c->i);
    free(c);
}

hostconst *hc_copy(const hostconst *c) {
    hostconst *d = hc_new(c->type, c->rank, c->dims);
    if (!d)
        return NULL;
    if (c->type == HC_F32)
        memcpy(d->f, c->f, (size_t)c->count * sizeof *c->f);
    else
        memcpy(d->i, c->i, (size_t)c->count * sizeof *c->i);
    return d;
}

double hc_get(const hostconst *c, int64_t k) {
    return c->type == HC_F32 ? (double)c->f[k] : (double)c->i[k];
}

int64_t hc_get_int(const hostconst *c, int64_t k) {
    if (c->type == HC_I64)
        return c->i[k];
    /* truncated; NaN and values beyond int64 (which C leaves undefined) give INT64_MIN, as
     * x86's conversion does, and every user refuses it as a size, an index or an axis */
    const float v = c->f[k], limit = 9223372036854775808.0f; /* 2^63 */
    return v >= -limit && v < limit ? (int64_t)v : INT64_MIN;
}
