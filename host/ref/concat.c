/* placeholder for the concat op family */
typedef int sv_placeholder_concat_ref;
