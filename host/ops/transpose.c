/* placeholder for the transpose op family */
typedef int sv_placeholder_transpose_ops;
