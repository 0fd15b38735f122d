/* placeholder for the conv_transpose op family */
typedef int sv_placeholder_conv_transpose_ops;
