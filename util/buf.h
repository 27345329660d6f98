/*
 * buf.h - a growable byte buffer that remembers running out of memory, as
 * libpq's PQExpBuffer does: appends after a failure do nothing, and the
 * caller checks once, at the end, instead of after every append.
 */
#ifndef DBAL_UTIL_BUF_H
#define DBAL_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* Where a buffer's memory comes from: the core's hookable allocator, a
 * driver's host table, or libc in the tools. */
typedef struct dbal__alloc {
    void *(*realloc)(void *p, size_t n);
    void (*free)(void *p);
} dbal__alloc;

/* libc's realloc and free. */
extern const dbal__alloc dbal__alloc_libc;

typedef struct dbal__buf {
    char *data; /* NUL-terminated after any append; NULL before the first */
    size_t len, cap;
    bool failed; /* an append ran out of memory (or overflowed size_t) */
    const dbal__alloc *a;
} dbal__buf;

#define DBAL__BUF_INIT(alloc)      \
    {                              \
        NULL, 0, 0, false, (alloc) \
    }

/* Room for `more` bytes after len, and the NUL after them. false (and
 * failed set) when that cannot be had; then nothing changed. */
bool dbal__buf_reserve(dbal__buf *b, size_t more);
/* Appends n bytes (p may be NULL when n is 0) and keeps data NUL-terminated. */
bool dbal__buf_append(dbal__buf *b, const void *p, size_t n);
bool dbal__buf_append_str(dbal__buf *b, const char *s);
/* Drops the first n bytes, moving the rest to the front. */
void dbal__buf_drop(dbal__buf *b, size_t n);
/* Empties it (and clears failed), keeping its memory. */
void dbal__buf_clear(dbal__buf *b);
void dbal__buf_free(dbal__buf *b);

#endif
