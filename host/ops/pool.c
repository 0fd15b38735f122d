/* placeholder for the pool op family */
typedef int sv_placeholder_pool_ops;
