/* The allocator every part of dbal goes through, so that one hook reaches the
 * core and (through the host table) the drivers. */
#ifndef DBAL_CORE_ALLOC_H
#define DBAL_CORE_ALLOC_H

#include <stddef.h>

void *dbal__malloc(size_t n);
void *dbal__calloc(size_t count, size_t size);
void *dbal__realloc(void *p, size_t n);
void dbal__free(void *p);
/* The same allocator as a util/buf.h allocator, for dbal__buf. */
extern const struct dbal__alloc dbal__alloc_core;

/* Copies of s / of its first n bytes, NUL-terminated; NULL when out of memory. */
char *dbal__strdup(const char *s);
char *dbal__strndup(const char *s, size_t n);

#endif
