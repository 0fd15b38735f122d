// Compiled as C++: the public header must be usable from C++ unchanged.
#include "svertka.h"

int svertka_header_cxx_probe();
int svertka_header_cxx_probe() {
    sv_conv_params p = sv_conv_params_default(2);
    return p.groups + static_cast<int>(SV_OK);
}
