/* Reference transpose, from the definition: y[o_0, ..., o_{r-1}] = x[i] with i[perm[k]] = o_k,
 * walked over every output cell in row-major order. */
#include "ref/ref.h"

void sv_ref_transpose(const int *perm, const sv_host_view *x, sv_host_view *y) {
    const int rank = x->rank;
    const long long count = sv_host_view_count(y);
    for (long long index = 0; index < count; index++) {
        long long i[SV_MAX_RANK], rest = index;
        for (int k = rank - 1; k >= 0; k--) {
            i[perm[k]] = rest % y->dims[k];
            rest /= y->dims[k];
        }
        long long source = 0;
        for (int a = 0; a < rank; a++)
            source = source * x->dims[a] + i[a];
        y->data[index] = x->data[source];
    }
}
