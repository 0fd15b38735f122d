/* Compiled as strict C99: the public header must not need anything newer. */
#include "svertka.h"

int svertka_header_c99_probe(void);
int svertka_header_c99_probe(void) {
    sv_conv_params p = sv_conv_params_default(2);
    return p.groups + (int)SV_OK;
}
