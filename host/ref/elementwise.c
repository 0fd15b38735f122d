/* placeholder for the elementwise op family */
typedef int sv_placeholder_elementwise_ref;
