/* The on-disk entries of compiled programs: key, layout, validation, atomic writes. Nothing here
 * reports an error: a missing or bad entry means "build from source", a failed write means "no
 * entry", and the caller carries on either way. */
#include "cl/binary_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char entry_magic[8] = {'S', 'V', 'C', 'L', 'P', 'R', 'O', 'G'};

enum {
    OFFSET_FORMAT = 8,
    OFFSET_KEY = 12,
    OFFSET_LENGTH = OFFSET_KEY + SV_BINARY_CACHE_KEY_SIZE,
    OFFSET_CHECKSUM = OFFSET_LENGTH + 8,
    HEADER_END = OFFSET_CHECKSUM + SV_SHA256_SIZE
};
_Static_assert((int)HEADER_END == (int)SV_BINARY_CACHE_HEADER_SIZE, "the header layout");

static void put_le(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void sv_binary_cache_key(const char *const *fields, size_t count,
                         uint8_t key[SV_BINARY_CACHE_KEY_SIZE]) {
    sv_sha256 h;
    sv_sha256_init(&h);
    for (size_t i = 0; i < count; i++) {
        const size_t n = strlen(fields[i]);
        uint8_t length[8];
        put_le(length, n, 8);
        sv_sha256_update(&h, length, sizeof length);
        sv_sha256_update(&h, fields[i], n);
    }
    sv_sha256_final(&h, key);
}

sv_cache_entry_verdict sv_binary_cache_parse(const uint8_t *data, size_t size,
                                             const uint8_t key[SV_BINARY_CACHE_KEY_SIZE],
                                             const uint8_t **binary, size_t *binary_size) {
    if (size < HEADER_END)
        return SV_ENTRY_TRUNCATED;
    if (memcmp(data, entry_magic, sizeof entry_magic) != 0)
        return SV_ENTRY_BAD_MAGIC;
    if (get_le(data + OFFSET_FORMAT, 4) != SV_BINARY_CACHE_FORMAT)
        return SV_ENTRY_BAD_FORMAT;
    if (memcmp(data + OFFSET_KEY, key, SV_BINARY_CACHE_KEY_SIZE) != 0)
        return SV_ENTRY_KEY_MISMATCH;
    const uint64_t length = get_le(data + OFFSET_LENGTH, 8);
    if (length == 0 || length > SV_BINARY_CACHE_MAX_BINARY)
        return SV_ENTRY_BAD_LENGTH;
    /* compared as the bytes left after the header: no sum that could overflow */
    if (size - HEADER_END < length)
        return SV_ENTRY_TRUNCATED;
    if (size - HEADER_END > length)
        return SV_ENTRY_TRAILING_BYTES;
    uint8_t checksum[SV_SHA256_SIZE];
    sv_sha256_digest(data + HEADER_END, (size_t)length, checksum);
    if (memcmp(checksum, data + OFFSET_CHECKSUM, sizeof checksum) != 0)
        return SV_ENTRY_BAD_CHECKSUM;
    *binary = data + HEADER_END;
    *binary_size = (size_t)length;
    return SV_ENTRY_VALID;
}

void sv_binary_cache_header(const uint8_t key[SV_BINARY_CACHE_KEY_SIZE], const uint8_t *binary,
                            size_t binary_size, uint8_t header[SV_BINARY_CACHE_HEADER_SIZE]) {
    memcpy(header, entry_magic, sizeof entry_magic);
    put_le(header + OFFSET_FORMAT, SV_BINARY_CACHE_FORMAT, 4);
    memcpy(header + OFFSET_KEY, key, SV_BINARY_CACHE_KEY_SIZE);
    put_le(header + OFFSET_LENGTH, binary_size, 8);
    sv_sha256_digest(binary, binary_size, header + OFFSET_CHECKSUM);
}

/* <dir>/<hex of the key>; 0 when it does not fit. */
static int entry_path(const char *dir, const uint8_t key[SV_BINARY_CACHE_KEY_SIZE], char *out,
                      size_t size) {
    char hex[2 * SV_BINARY_CACHE_KEY_SIZE + 1];
    for (int i = 0; i < SV_BINARY_CACHE_KEY_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    const int n = snprintf(out, size, "%s/%s", dir, hex);
    return n > 0 && (size_t)n < size;
}

int sv_binary_cache_load(const char *dir, const uint8_t key[SV_BINARY_CACHE_KEY_SIZE],
                         uint8_t **binary, size_t *binary_size) {
    char path[4096];
    if (!entry_path(dir, key, path, sizeof path))
        return 0;
    /* O_NONBLOCK: a FIFO planted under an entry's name must not hang the open */
    const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat st;
    uint8_t *data = NULL;
    size_t got = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= HEADER_END &&
        (uint64_t)st.st_size <= HEADER_END + SV_BINARY_CACHE_MAX_BINARY &&
        (data = malloc((size_t)st.st_size)) != NULL) {
        ssize_t n;
        while (
            got < (size_t)st.st_size &&
            ((n = read(fd, data + got, (size_t)st.st_size - got)) > 0 || (n < 0 && errno == EINTR)))
            if (n > 0)
                got += (size_t)n;
    }
    close(fd);
    const uint8_t *found;
    size_t found_size;
    if (!data || sv_binary_cache_parse(data, got, key, &found, &found_size) != SV_ENTRY_VALID) {
        free(data);
        return 0;
    }
    memmove(data, found, found_size);
    *binary = data;
    *binary_size = found_size;
    return 1;
}

static int write_all(int fd, const uint8_t *p, size_t size) {
    while (size > 0) {
        const ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        p += n;
        size -= (size_t)n;
    }
    return 1;
}

int sv_binary_cache_store(const char *dir, const uint8_t key[SV_BINARY_CACHE_KEY_SIZE],
                          const uint8_t *binary, size_t binary_size) {
    if (binary_size == 0 || binary_size > SV_BINARY_CACHE_MAX_BINARY)
        return 0;
    char path[4096], temp[4096 + 8];
    if (!entry_path(dir, key, path, sizeof path))
        return 0;
    snprintf(temp, sizeof temp, "%s.XXXXXX", path);
    const int fd = mkstemp(temp);
    if (fd < 0)
        return 0;
    uint8_t header[SV_BINARY_CACHE_HEADER_SIZE];
    sv_binary_cache_header(key, binary, binary_size, header);
    /* no fsync: after a crash the entry may be empty or cut short, which the reader refuses and
     * the next run rebuilds; the rename alone keeps concurrent readers from half an entry */
    int ok = write_all(fd, header, sizeof header) && write_all(fd, binary, binary_size);
    ok = close(fd) == 0 && ok;
    ok = ok && rename(temp, path) == 0;
    if (!ok)
        unlink(temp);
    return ok;
}
