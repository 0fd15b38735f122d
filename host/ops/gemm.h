/* What the matrix products run on an OpenCL device, for the layer tables. */
#ifndef SV_GEMM_H
#define SV_GEMM_H

#include "core/internal.h"

/* How layer tables name what sv_gemm runs for an A of a_dims under p: "matrix-vector"
 * (host/ops/gemv.h) or "CLBlast SGEMM". */
const char *sv_gemm_algorithm_label(const sv_gemm_params *p, const int64_t *a_dims);

/* The same for sv_matmul with operands of these (valid) shapes. */
const char *sv_matmul_algorithm_label(int a_rank, const int64_t *a_dims, int b_rank,
                                      const int64_t *b_dims);

#endif
