#include "stmt_cache.h"

#include <string.h>

/* Open hashing over a power-of-two bucket array, plus a doubly linked list in
 * recency order; both O(1), and no allocation on a hit. */
typedef struct entry {
    struct entry *hnext;
    struct entry *prev, *next; /* prev is more recent */
    uint64_t hash;
    /* 32 bits each: an entry is 8 bytes smaller (one per cached statement;
     * W8-stmt in bench/run), and put refuses the rare longer key. */
    uint32_t len, siglen;
    void *stmt;
    char sql[]; /* len bytes, a NUL, then siglen bytes of signature */
} entry;

struct stmt_cache {
    const dbal_host *host;
    stmt_cache_release_fn release;
    void *userdata;
    int capacity, count;
    size_t nbuckets;    /* power of two, >= 2 * count while it may grow */
    size_t max_buckets; /* the first power of two >= 2 * capacity */
    entry **buckets;
    entry *head, *tail; /* most and least recently used */
};

/* Eight bytes per step: a statement's SQL is hashed on every miss of the
 * most-recent check, so byte-at-a-time FNV cost a third of a point select's
 * overhead. Strength is not needed: the keys are the application's SQL. */
static uint64_t mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static uint64_t hash_bytes(uint64_t h, const char *s, size_t len)
{
    for (; len >= 8; s += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = mix(h, w);
    }
    uint64_t w = 0;
    memcpy(&w, s, len);
    return mix(h, w ^ ((uint64_t)len << 56));
}

static uint64_t hash_key(const char *sql, size_t len, const char *sig, size_t siglen)
{
    uint64_t h = hash_bytes(0x243f6a8885a308d3ull ^ len, sql, len);
    return siglen ? hash_bytes(h, sig, siglen) : h;
}

static int same_key(const entry *e, const char *sql, size_t len, const char *sig, size_t siglen)
{
    return e->len == len && e->siglen == siglen && memcmp(e->sql, sql, len) == 0 &&
           (siglen == 0 || memcmp(e->sql + len + 1, sig, siglen) == 0);
}

stmt_cache *stmt_cache_new(const dbal_host *host, int capacity, stmt_cache_release_fn release, void *userdata)
{
    stmt_cache *c = host->malloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->host = host;
    c->release = release;
    c->userdata = userdata;
    c->capacity = capacity > 0 ? capacity : 1;
    c->max_buckets = 16;
    while (c->max_buckets < (size_t)c->capacity * 2)
        c->max_buckets *= 2;
    /* Small at first and grown with the entries (grow): a pooled connection
     * that runs a few statements kept the full array, 2 KiB at the default
     * capacity of 100, nearly half of what dbal adds to an idle connection
     * (bench W8). */
    c->nbuckets = 16;
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

static entry **find_slot(stmt_cache *c, const char *sql, size_t len, const char *sig, size_t siglen,
                         uint64_t h)
{
    entry **p = &c->buckets[h & (c->nbuckets - 1)];
    while (*p && !((*p)->hash == h && same_key(*p, sql, len, sig, siglen)))
        p = &(*p)->hnext;
    return p;
}

/* Doubles the bucket array, every entry rehashed from its stored hash; when
 * there is no memory for it the chains just grow longer. */
static void grow(stmt_cache *c)
{
    size_t n = c->nbuckets * 2;
    entry **b = c->host->malloc(n * sizeof *b);
    if (!b)
        return;
    memset(b, 0, n * sizeof *b);
    for (entry *e = c->head; e; e = e->next) {
        entry **p = &b[e->hash & (n - 1)];
        e->hnext = *p;
        *p = e;
    }
    c->host->free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

/* Unlinks e from both structures and releases its statement. */
static void drop(stmt_cache *c, entry *e)
{
    entry **p = find_slot(c, e->sql, e->len, e->sql + e->len + 1, e->siglen, e->hash);
    *p = e->hnext;
    lru_unlink(c, e);
    c->count--;
    void *stmt = e->stmt;
    c->host->free(e);
    c->release(stmt, c->userdata);
}

void *stmt_cache_get(stmt_cache *c, const char *sql, size_t len, const char *sig, size_t siglen)
{
    /* An application mostly runs the same statement again: one compare. */
    if (c->head && same_key(c->head, sql, len, sig, siglen))
        return c->head->stmt;
    entry *e = *find_slot(c, sql, len, sig, siglen, hash_key(sql, len, sig, siglen));
    if (!e)
        return NULL;
    lru_unlink(c, e);
    lru_push_front(c, e);
    return e->stmt;
}

const char *stmt_cache_head_sql(const stmt_cache *c)
{
    return c->head ? c->head->sql : NULL;
}

int stmt_cache_put(stmt_cache *c, const char *sql, size_t len, const char *sig, size_t siglen, void *stmt)
{
#if SIZE_MAX > UINT32_MAX
    if (len > UINT32_MAX || siglen > UINT32_MAX)
        return DBAL_ENOMEM; /* not kept: see stmt_cache.h */
#endif
    uint64_t h = hash_key(sql, len, sig, siglen);
    entry *e = c->host->malloc(sizeof *e + len + 1 + siglen);
    if (!e)
        return DBAL_ENOMEM;
    if (c->count >= c->capacity && c->tail)
        drop(c, c->tail);
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->len = (uint32_t)len;
    e->siglen = (uint32_t)siglen;
    e->stmt = stmt;
    memcpy(e->sql, sql, len);
    e->sql[len] = '\0';
    if (siglen)
        memcpy(e->sql + len + 1, sig, siglen);
    if ((size_t)c->count >= c->nbuckets / 2 && c->nbuckets < c->max_buckets)
        grow(c);
    entry **p = find_slot(c, sql, len, sig, siglen, h);
    e->hnext = *p;
    *p = e;
    lru_push_front(c, e);
    c->count++;
    return DBAL_OK;
}

void stmt_cache_remove(stmt_cache *c, const char *sql, size_t len, const char *sig, size_t siglen)
{
    entry *e = *find_slot(c, sql, len, sig, siglen, hash_key(sql, len, sig, siglen));
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
