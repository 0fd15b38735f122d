/* Fuzzes the reader of on-disk program cache entries (sv_binary_cache_parse): any verdict is an
 * answer; a crash, a sanitizer report or a read outside the input is a bug. The key the entry
 * must hold is the one its own header names (when it has one), so that mutations get past the
 * key check to the length and checksum; the same bytes must then be refused under any other key.
 * An accepted entry must be exactly the header sv_binary_cache_header writes for its binary, and
 * its binary the rest of the input. */
#include "cl/binary_cache.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    abort();
}

enum { KEY_OFFSET = 12 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t key[SV_BINARY_CACHE_KEY_SIZE] = {0};
    if (size >= KEY_OFFSET + SV_BINARY_CACHE_KEY_SIZE)
        memcpy(key, data + KEY_OFFSET, sizeof key);
    const uint8_t *binary = NULL;
    size_t binary_size = 0;
    if (sv_binary_cache_parse(data, size, key, &binary, &binary_size) != SV_ENTRY_VALID) {
        FUZZ_CHECK(binary == NULL && binary_size == 0, "a refused entry wrote its outputs");
        return 0;
    }
    FUZZ_CHECK(binary == data + SV_BINARY_CACHE_HEADER_SIZE &&
                   binary_size == size - SV_BINARY_CACHE_HEADER_SIZE,
               "the binary is not the rest of the entry");
    FUZZ_CHECK(binary_size >= 1 && binary_size <= SV_BINARY_CACHE_MAX_BINARY,
               "an accepted binary's length is outside the limits");
    uint8_t header[SV_BINARY_CACHE_HEADER_SIZE];
    sv_binary_cache_header(key, binary, binary_size, header);
    FUZZ_CHECK(memcmp(header, data, sizeof header) == 0,
               "an accepted header differs from the one the writer makes");
    key[0] ^= 1;
    const uint8_t *other = NULL;
    size_t other_size = 0;
    FUZZ_CHECK(sv_binary_cache_parse(data, size, key, &other, &other_size) == SV_ENTRY_KEY_MISMATCH,
               "an entry accepted under another key");
    return 0;
}
