/* placeholder for the conv_transpose op family */
