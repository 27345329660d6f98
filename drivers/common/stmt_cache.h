/*
 * A per-connection LRU of prepared statements keyed by their SQL text,
 * compiled into each driver module. The cache owns the statements it holds:
 * it calls the driver's release function when one is evicted or removed, so
 * a statement that is in use when evicted must be marked by the driver and
 * released when its user is done (see the release function's contract).
 */
#ifndef DBAL_STMT_CACHE_H
#define DBAL_STMT_CACHE_H

#include <dbal/driver.h>

#include <stddef.h>
#include <stdint.h>

typedef struct stmt_cache stmt_cache;

/* Called when the cache lets go of stmt (eviction, remove, clear, free). */
typedef void (*stmt_cache_release_fn)(void *stmt, void *userdata);

/* A cache of at most `capacity` statements (capacity > 0). NULL when out of
 * memory. */
stmt_cache *stmt_cache_new(const dbal_host *host, int capacity, stmt_cache_release_fn release,
                           void *userdata);
/* Releases every statement and frees the cache. Accepts NULL. */
void stmt_cache_free(stmt_cache *c);

/* An entry's key is the SQL (len bytes) and a signature (siglen bytes, may
 * be 0: sig is then not read), e.g. the parameter types a statement was
 * prepared for; both are copied by put, so callers pass them in place. */

/* The statement cached for the key, made most recently used; NULL on a miss. */
void *stmt_cache_get(stmt_cache *c, const char *sql, size_t len, const char *sig, size_t siglen);

/* The SQL of the most recently used entry (the one get returned or put
 * added last), NUL-terminated: the cache's own copy, valid until the entry
 * is released. NULL when the cache is empty. A driver keeps it to see the
 * same statement come again with one strcmp (no strlen, no hash). */
const char *stmt_cache_head_sql(const stmt_cache *c);

/* Adds stmt for the key (not already present), evicting the least recently
 * used entry when full. Returns DBAL_OK or DBAL_ENOMEM (then stmt is not
 * taken: out of memory, or a key of 4 GiB or more, which the SQLite driver
 * runs uncached and the PostgreSQL driver fails with DBAL_ENOMEM; the server
 * refuses a message over 1 GB anyway). */
int stmt_cache_put(stmt_cache *c, const char *sql, size_t len, const char *sig, size_t siglen, void *stmt);

/* Drops the entry for the key, releasing its statement, if there is one. */
void stmt_cache_remove(stmt_cache *c, const char *sql, size_t len, const char *sig, size_t siglen);

/* Releases every statement, keeping the cache usable. */
void stmt_cache_clear(stmt_cache *c);

int stmt_cache_count(const stmt_cache *c);

#endif
