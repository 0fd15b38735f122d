/* Compiled OpenCL programs kept on disk, so that a later process skips the compiler: one file
 * per program, named by the hex of its key, a SHA-256 over everything the binary depends on.
 *
 * An entry is a header and the binary the driver returned (integers little-endian):
 *   offset  0: magic "SVCLPROG"
 *           8: format version, u32 (SV_BINARY_CACHE_FORMAT)
 *          12: the key again, 32 bytes (a file renamed or copied under another key is refused)
 *          44: binary length, u64, 1..SV_BINARY_CACHE_MAX_BINARY
 *          52: SHA-256 of the binary, 32 bytes
 *          84: the binary, exactly that long (nothing after it)
 * Entries are read as untrusted bytes: sv_binary_cache_parse validates one before anything uses
 * it, and any entry it refuses is treated as absent. */
#ifndef SV_BINARY_CACHE_H
#define SV_BINARY_CACHE_H

#include "core/sha256.h"

#include <stddef.h>
#include <stdint.h>

enum {
    SV_BINARY_CACHE_KEY_SIZE = SV_SHA256_SIZE,
    SV_BINARY_CACHE_HEADER_SIZE = 84,
    SV_BINARY_CACHE_FORMAT = 1
};
/* The largest binary an entry may hold: an entry announcing more is refused before anything is
 * allocated for it (programs of this library compile to a few MiB at most). */
#define SV_BINARY_CACHE_MAX_BINARY ((uint64_t)256 << 20)

/* What sv_binary_cache_parse found. */
typedef enum sv_cache_entry_verdict {
    SV_ENTRY_VALID = 0,
    SV_ENTRY_TRUNCATED,      /* shorter than the header, or than the binary it announces */
    SV_ENTRY_BAD_MAGIC,      /* not an entry */
    SV_ENTRY_BAD_FORMAT,     /* an entry of another format version */
    SV_ENTRY_KEY_MISMATCH,   /* an entry for another key */
    SV_ENTRY_BAD_LENGTH,     /* announces an empty binary or one over SV_BINARY_CACHE_MAX_BINARY */
    SV_ENTRY_TRAILING_BYTES, /* longer than the binary it announces */
    SV_ENTRY_BAD_CHECKSUM    /* the binary's SHA-256 differs from the header's */
} sv_cache_entry_verdict;

/* The key of `count` NUL-terminated fields: SHA-256 over each field's length (u64) and bytes,
 * so that no two different lists of fields give the same stream of bytes. */
void sv_binary_cache_key(const char *const *fields, size_t count,
                         uint8_t key[SV_BINARY_CACHE_KEY_SIZE]);

/* Validates the `size` bytes of an entry that must hold `key`. A pure function of its inputs
 * (the fuzz harness tests/fuzz/fuzz_program_cache.c drives it): on SV_ENTRY_VALID, *binary
 * points at the binary inside data and *binary_size is its length; otherwise both are left
 * alone. */
sv_cache_entry_verdict sv_binary_cache_parse(const uint8_t *data, size_t size,
                                             const uint8_t key[SV_BINARY_CACHE_KEY_SIZE],
                                             const uint8_t **binary, size_t *binary_size);

/* Writes the header of an entry holding `binary` under `key` (binary_size must be within the
 * limit above). */
void sv_binary_cache_header(const uint8_t key[SV_BINARY_CACHE_KEY_SIZE], const uint8_t *binary,
                            size_t binary_size, uint8_t header[SV_BINARY_CACHE_HEADER_SIZE]);

/* Reads and validates the entry for `key` in directory `dir`. Returns 1 with a malloc'd copy of
 * the binary (caller frees) in *binary, or 0 when there is no valid entry: missing, unreadable,
 * not a regular file, larger than the limit or refused by sv_binary_cache_parse. */
int sv_binary_cache_load(const char *dir, const uint8_t key[SV_BINARY_CACHE_KEY_SIZE],
                         uint8_t **binary, size_t *binary_size);

/* Writes the entry for `key` into `dir`, replacing any other: written to a temporary file in the
 * same directory and renamed over the entry's name, so a reader in another process sees the old
 * entry or the new one, never half of one. Returns 1 on success, 0 on any failure (which
 * leaves no file behind). */
int sv_binary_cache_store(const char *dir, const uint8_t key[SV_BINARY_CACHE_KEY_SIZE],
                          const uint8_t *binary, size_t binary_size);

#endif
