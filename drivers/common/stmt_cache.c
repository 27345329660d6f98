#include "stmt_cache.h"

#include <string.h>

/* Open hashing over a power-of-two bucket array, plus a doubly linked list in
 * recency order; both O(1), and no allocation on a hit. */
typedef struct entry {
    struct entry *hnext;
    struct entry *prev, *next; /* prev is more recent */
    uint64_t hash;
    size_t len;
    void *stmt;
    char sql[]; /* len bytes and a NUL */
} entry;

struct stmt_cache {
    const dbal_host *host;
    stmt_cache_release_fn release;
    void *userdata;
    int capacity, count;
    size_t nbuckets; /* power of two, >= 2 * capacity */
    entry **buckets;
    entry *head, *tail; /* most and least recently used */
};

static uint64_t hash_sql(const char *s, size_t len)
{
    /* FNV-1a: short SQL strings, no need for anything stronger. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

stmt_cache *stmt_cache_new(const dbal_host *host, int capacity, stmt_cache_release_fn release,
                           void *userdata)
{
    stmt_cache *c = host->malloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->host = host;
    c->release = release;
    c->userdata = userdata;
    c->capacity = capacity > 0 ? capacity : 1;
    c->nbuckets = 16;
    while (c->nbuckets < (size_t)c->capacity * 2)
        c->nbuckets *= 2;
    c->buckets = host->malloc(c->nbuckets * sizeof *c->buckets);
    if (!c->buckets) {
        host->free(c);
        return NULL;
    }
    memset(c->buckets, 0, c->nbuckets * sizeof *c->buckets);
    return c;
}

static void lru_unlink(stmt_cache *c, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(stmt_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static entry **find_slot(stmt_cache *c, const char *sql, size_t len, uint64_t h)
{
    entry **p = &c->buckets[h & (c->nbuckets - 1)];
    while (*p && !((*p)->hash == h && (*p)->len == len && memcmp((*p)->sql, sql, len) == 0))
        p = &(*p)->hnext;
    return p;
}

/* Unlinks e from both structures and releases its statement. */
static void drop(stmt_cache *c, entry *e)
{
    entry **p = find_slot(c, e->sql, e->len, e->hash);
    *p = e->hnext;
    lru_unlink(c, e);
    c->count--;
    void *stmt = e->stmt;
    c->host->free(e);
    c->release(stmt, c->userdata);
}

void *stmt_cache_get(stmt_cache *c, const char *sql, size_t len)
{
    entry *e = *find_slot(c, sql, len, hash_sql(sql, len));
    if (!e)
        return NULL;
    if (c->head != e) {
        lru_unlink(c, e);
        lru_push_front(c, e);
    }
    return e->stmt;
}

int stmt_cache_put(stmt_cache *c, const char *sql, size_t len, void *stmt)
{
    uint64_t h = hash_sql(sql, len);
    entry *e = c->host->malloc(sizeof *e + len + 1);
    if (!e)
        return DBAL_ENOMEM;
    if (c->count >= c->capacity && c->tail)
        drop(c, c->tail);
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->len = len;
    e->stmt = stmt;
    memcpy(e->sql, sql, len);
    e->sql[len] = '\0';
    entry **p = find_slot(c, sql, len, h);
    e->hnext = *p;
    *p = e;
    lru_push_front(c, e);
    c->count++;
    return DBAL_OK;
}

void stmt_cache_remove(stmt_cache *c, const char *sql, size_t len)
{
    entry *e = *find_slot(c, sql, len, hash_sql(sql, len));
    if (e)
        drop(c, e);
}

void stmt_cache_clear(stmt_cache *c)
{
    while (c->tail)
        drop(c, c->tail);
}

void stmt_cache_free(stmt_cache *c)
{
    if (!c)
        return;
    stmt_cache_clear(c);
    c->host->free(c->buckets);
    c->host->free(c);
}

int stmt_cache_count(const stmt_cache *c)
{
    return c->count;
}
