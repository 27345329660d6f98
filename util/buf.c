/* The growable buffer; see buf.h. */
#include "buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const dbal__alloc dbal__alloc_libc = {realloc, free};

bool dbal__buf_reserve(dbal__buf *b, size_t more)
{
    if (b->failed)
        return false;
    if (more > SIZE_MAX - 1 - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + more + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = b->a->realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

bool dbal__buf_append(dbal__buf *b, const void *p, size_t n)
{
    if (!dbal__buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool dbal__buf_append_str(dbal__buf *b, const char *s)
{
    return dbal__buf_append(b, s, strlen(s));
}

void dbal__buf_drop(dbal__buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }
    if (b->data)
        b->data[b->len] = '\0';
}

void dbal__buf_clear(dbal__buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

void dbal__buf_free(dbal__buf *b)
{
    b->a->free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}
