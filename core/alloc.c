#include "alloc.h"

#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include <dbal.h>
#include <stdint.h>

/* Set once, before anything else runs (documented), so plain pointers. */
static void *(*malloc_fn)(size_t) = malloc;
static void *(*realloc_fn)(void *, size_t) = realloc;
static void (*free_fn)(void *) = free;

static void *core_realloc(void *p, size_t n)
{
    return realloc_fn(p, n);
}

static void core_free(void *p)
{
    free_fn(p);
}

const dbal__alloc dbal__alloc_core = {core_realloc, core_free};

void dbal_set_allocator(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *))
{
    if (m && r && f) {
        malloc_fn = m;
        realloc_fn = r;
        free_fn = f;
    } else {
        malloc_fn = malloc;
        realloc_fn = realloc;
        free_fn = free;
    }
}

void *dbal__malloc(size_t n)
{
    return malloc_fn(n ? n : 1);
}

void *dbal__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    size_t n = count * size;
    void *p = dbal__malloc(n);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

void *dbal__realloc(void *p, size_t n)
{
    return realloc_fn(p, n ? n : 1);
}

void dbal__free(void *p)
{
    if (p)
        free_fn(p);
}

char *dbal__strndup(const char *s, size_t n)
{
    char *d = dbal__malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *dbal__strdup(const char *s)
{
    return dbal__strndup(s, strlen(s));
}
