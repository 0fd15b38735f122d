/* SHA-256 (FIPS 180-4), self-contained: the content hash of on-disk caches, where a key must not
 * collide by accident and a checksum must catch any corruption. */
#ifndef SV_SHA256_H
#define SV_SHA256_H

#include <stddef.h>
#include <stdint.h>

enum { SV_SHA256_SIZE = 32 };

typedef struct sv_sha256 {
    uint32_t state[8];
    uint64_t length; /* bytes hashed so far */
    uint8_t block[64];
    size_t used; /* bytes waiting in block */
} sv_sha256;

void sv_sha256_init(sv_sha256 *h);
void sv_sha256_update(sv_sha256 *h, const void *data, size_t size);
/* Writes the digest; h must be initialised again before another use. */
void sv_sha256_final(sv_sha256 *h, uint8_t digest[SV_SHA256_SIZE]);
/* The digest of one buffer. */
void sv_sha256_digest(const void *data, size_t size, uint8_t digest[SV_SHA256_SIZE]);

#endif
