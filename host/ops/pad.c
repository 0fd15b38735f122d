/* placeholder for the pad op family */
typedef int sv_placeholder_pad_ops;
