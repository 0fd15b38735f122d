/* placeholder for the resize op family */
typedef int sv_placeholder_resize_ref;
