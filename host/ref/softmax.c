/* placeholder for the softmax op family */
typedef int sv_placeholder_softmax_ref;
