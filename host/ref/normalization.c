/* placeholder for the normalization op family */
typedef int sv_placeholder_normalization_ref;
