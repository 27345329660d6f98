#include "alloc.h"

#include <stdlib.h>
#include <string.h>

void *dbal__malloc(size_t n)
{
    return malloc(n ? n : 1);
}

void *dbal__calloc(size_t count, size_t size)
{
    return calloc(count ? count : 1, size ? size : 1);
}

void *dbal__realloc(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

void dbal__free(void *p)
{
    free(p);
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
