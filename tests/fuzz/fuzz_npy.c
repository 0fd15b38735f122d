/* Fuzzes the .npy reader (sv_npy_read_memory). Any status is an answer; a crash, a sanitizer
 * report, a leak or a hang is a bug. An array the reader accepts must also survive a round
 * trip: encoded with sv_npy_encode and read again, it gives the same shape and the same bits. */
#include "fuzz.h"
#include "io/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sv_io_array a;
    memset(&a, 0, sizeof a);
    sv_message msg;
    if (sv_npy_read_memory(data, size, &a, &msg) != SV_OK)
        return 0;
    FUZZ_CHECK(a.data && a.count >= 1 && a.rank >= 0 && a.rank <= SV_MAX_RANK, "array shape");
    int64_t count = 1;
    for (int i = 0; i < a.rank; i++) {
        FUZZ_CHECK(a.dims[i] >= 1, "a dimension below 1");
        count *= a.dims[i];
    }
    FUZZ_CHECK(count == a.count, "count is not the product of the dimensions");
    unsigned char *bytes = NULL;
    size_t nbytes = 0;
    FUZZ_CHECK(sv_npy_encode(a.data, a.rank, a.dims, &bytes, &nbytes, &msg) == SV_OK,
               "an accepted array does not encode");
    sv_io_array b;
    memset(&b, 0, sizeof b);
    FUZZ_CHECK(sv_npy_read_memory(bytes, nbytes, &b, &msg) == SV_OK,
               "an encoded array does not read back");
    FUZZ_CHECK(b.rank == a.rank && b.count == a.count &&
                   memcmp(b.dims, a.dims, sizeof a.dims) == 0 &&
                   memcmp(b.data, a.data, (size_t)a.count * sizeof *a.data) == 0,
               "the round trip changed the array");
    free(bytes);
    sv_io_array_free(&b);
    sv_io_array_free(&a);
    return 0;
}
