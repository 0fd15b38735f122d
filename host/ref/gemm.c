/* placeholder for the gemm op family */
typedef int sv_placeholder_gemm_ref;
