/* Fuzzes the image reader (sv_image_read_memory: PNG and JPEG through stb_image, PPM/PGM
 * parsed by the library). Each input is read twice: at its own size as RGB with ImageNet
 * normalisation, and as grey resized to a small size derived from the input's length (so that
 * both the copy and the bilinear resize run, without taking bytes away from the image). */
#include "fuzz.h"
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    abort();
}

static void read_once(const uint8_t *data, size_t size, const sv_image_options *o) {
    sv_io_array a;
    memset(&a, 0, sizeof a);
    sv_message msg;
    if (sv_image_read_memory(data, size, o, &a, &msg) != SV_OK)
        return;
    FUZZ_CHECK(a.rank == 4 && a.dims[0] == 1 && a.dims[1] == o->channels, "image shape");
    FUZZ_CHECK(o->height == 0 || (a.dims[2] == o->height && a.dims[3] == o->width),
               "the requested size");
    FUZZ_CHECK(a.count == a.dims[1] * a.dims[2] * a.dims[3], "count");
    /* samples in [0, 1], normalised with finite mean and std: every value is finite */
    for (int64_t k = 0; k < a.count; k++)
        FUZZ_CHECK(isfinite(a.data[k]), "a decoded value is not finite");
    sv_io_array_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const sv_image_options own = sv_image_options_imagenet(0, 0);
    read_once(data, size, &own);
    const sv_image_options small =
        sv_image_options_default((int)(size % 17) + 1, (int)(size % 13) + 1, 1);
    read_once(data, size, &small);
    return 0;
}
