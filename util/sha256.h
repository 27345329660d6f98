/*
 * sha256.h - SHA-256 (FIPS 180-4), self-contained: the checksum migrations
 * record of each file as applied. Streaming, so a caller may hash in parts.
 */
#ifndef DBAL_UTIL_SHA256_H
#define DBAL_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define DBAL__SHA256_LEN 32
/* 64 hex digits and the NUL. */
#define DBAL__SHA256_HEX_LEN 65

typedef struct dbal__sha256 {
    uint32_t h[8];
    uint64_t bytes;        /* hashed so far */
    unsigned char blk[64]; /* the block being filled */
    size_t used;           /* bytes of blk filled */
} dbal__sha256;

void dbal__sha256_init(dbal__sha256 *c);
void dbal__sha256_update(dbal__sha256 *c, const void *p, size_t n);
void dbal__sha256_final(dbal__sha256 *c, unsigned char out[DBAL__SHA256_LEN]);
/* The digest of p[0..n) as lower-case hex, NUL-terminated. */
void dbal__sha256_hex(const void *p, size_t n, char out[DBAL__SHA256_HEX_LEN]);

#endif
