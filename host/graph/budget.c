/* The device memory a plan needs, checked against the device before anything is allocated: a
 * batch size or a model too large for the device is refused with the numbers, rather than left
 * to fail half-way through the allocations or, on drivers that overcommit (pocl), to exhaust the
 * host while running. The ops' own memory (plan_op_memory) comes from the model. */
#include "graph/graph.h"

#include <stdio.h>
#include <stdlib.h>

/* "25.7 GiB", "3.4 MiB" or "0.5 KiB": one decimal of the largest unit that is at least 1. */
static const char *format_bytes(char *buf, size_t size, uint64_t bytes) {
    const char *units[3] = {"GiB", "MiB", "KiB"};
    int u = 0;
    while (u < 2 && bytes < (UINT64_C(1) << (30 - 10 * u)))
        u++;
    snprintf(buf, size, "%.1f %s", (double)bytes / (double)(UINT64_C(1) << (30 - 10 * u)),
             units[u]);
    return buf;
}

/* "activation buffer b (...)", naming the largest value it holds: what makes it that size. */
static void describe_buffer(const graph *g, const plan *pl, int b, char *buf, size_t size) {
    int largest = -1;
    int64_t most = -1;
    for (int i = 0; i < pl->nvalues; i++) {
        const plan_value *v = &pl->values[i];
        const int64_t n = hc_product(v->rank, v->dims);
        if (v->device && v->root == i && v->buffer == b && n > most) {
            most = n;
            largest = i;
        }
    }
    char shape[256];
    const plan_value *v = &pl->values[largest];
    sv_dims_format(shape, sizeof shape, v->rank, v->dims);
    if (v->producer >= 0)
        snprintf(buf, size, "activation buffer %d (the output %s of layer '%s')", b, shape,
                 pl->steps[v->producer].name);
    else
        snprintf(buf, size, "activation buffer %d (graph input '%s' %s)", b,
                 g->values[largest].name, shape);
}

static sv_status refuse_allocation(sv_message *err, const plan *pl, const char *what,
                                   uint64_t bytes, uint64_t max_alloc) {
    char need[32], most[32];
    return sv_fail_message(err, SV_OUT_OF_MEMORY,
                           "batch %lld: %s needs %s (%llu bytes); the device allows at most %s per "
                           "allocation (max_alloc %llu bytes)",
                           (long long)pl->batch, what, format_bytes(need, sizeof need, bytes),
                           (unsigned long long)bytes, format_bytes(most, sizeof most, max_alloc),
                           (unsigned long long)max_alloc);
}

sv_status plan_check_device_memory(const graph *g, const plan *pl, const sv_device_info *dev,
                                   const plan_op_memory *ops, sv_message *err) {
    const uint64_t max_alloc = dev->max_alloc_bytes, global = dev->global_mem_bytes;
    uint64_t activations = 0, weights = 0;
    char what[1024];
    for (int b = 0; b < pl->nbuffers; b++) {
        const uint64_t bytes = (uint64_t)pl->buffer_sizes[b] * sizeof(float);
        if (max_alloc && bytes > max_alloc) {
            describe_buffer(g, pl, b, what, sizeof what);
            return refuse_allocation(err, pl, what, bytes, max_alloc);
        }
        activations += bytes;
    }
    /* every constant a step reads gets a device tensor once, however many steps read it */
    char *counted = calloc((size_t)pl->nvalues + 1, 1);
    if (!counted)
        return sv_fail_message(err, SV_OUT_OF_MEMORY, "plan: out of host memory");
    sv_status st = SV_OK;
    for (int k = 0; k < pl->nsteps && st == SV_OK; k++)
        for (int j = 0; j < pl->steps[k].ninputs && st == SV_OK; j++) {
            const int id = pl->steps[k].inputs[j];
            if (id < 0 || !pl->values[id].constant || counted[id])
                continue;
            counted[id] = 1;
            const hostconst *c = pl->values[id].constant;
            const uint64_t bytes = (uint64_t)(c->count ? c->count : 1) * sizeof(float);
            if (max_alloc && bytes > max_alloc) {
                char shape[256];
                sv_dims_format(shape, sizeof shape, c->rank, c->dims);
                snprintf(what, sizeof what, "the constant %s read by layer '%s'", shape,
                         pl->steps[k].name);
                st = refuse_allocation(err, pl, what, bytes, max_alloc);
            }
            weights += bytes;
        }
    free(counted);
    if (st == SV_OK && max_alloc && ops->largest_bytes > max_alloc)
        st = refuse_allocation(err, pl, ops->largest, ops->largest_bytes, max_alloc);
    const uint64_t op_bytes = ops->prepared_bytes + ops->scratch_bytes;
    if (st == SV_OK && global && weights + op_bytes + activations > global) {
        char all[32], w[32], pw[32], s[32], a[32], has[32];
        st = sv_fail_message(
            err, SV_OUT_OF_MEMORY,
            "batch %lld: the model needs %s of device memory in all (weights %s, weights in "
            "their algorithms' layouts %s, scratch %s, activations %s); the device has %s "
            "(global_mem %llu bytes)",
            (long long)pl->batch, format_bytes(all, sizeof all, weights + op_bytes + activations),
            format_bytes(w, sizeof w, weights), format_bytes(pw, sizeof pw, ops->prepared_bytes),
            format_bytes(s, sizeof s, ops->scratch_bytes), format_bytes(a, sizeof a, activations),
            format_bytes(has, sizeof has, global), (unsigned long long)global);
    }
    return st;
}
