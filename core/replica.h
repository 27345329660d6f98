/* Read replicas: one pool per replica of the engine, chosen round-robin for
 * read-only sessions, skipping replicas that refused a connection lately. */
#ifndef DBAL_CORE_REPLICA_H
#define DBAL_CORE_REPLICA_H

#include "pool.h"

#include <stdatomic.h>

typedef struct dbal__replica {
    dbal_url url;           /* the engine's URL with this host (what the driver sees) */
    dbal_url_param *params; /* owned array; the strings are the engine URL's */
    void *driver_ctx;
    dbal__pool pool;
    _Atomic double down_until; /* monotonic seconds: skipped until then */
    _Atomic double full_until; /* its server said it is full: passed over until then */
} dbal__replica;

struct dbal_engine;

/* Sets up the replicas the engine's options name (none: nothing to do).
 * DBAL_EURL for a bad list, or what the driver's engine_open says. */
int dbal__replicas_open(struct dbal_engine *e, dbal_error *err);
/* Closes idle connections and fails waiters, as dbal__pool_shutdown. */
void dbal__replicas_shutdown(struct dbal_engine *e);
void dbal__replicas_free(struct dbal_engine *e);

/* A connection for a read-only session: from a replica that is up, else
 * from the primary when replica_fallback allows it, all within one
 * pool_timeout. *pool receives the pool it must go back to. */
int dbal__replica_checkout(struct dbal_engine *e, const char *label, dbal__conn **out, dbal__pool **pool,
                           dbal_error *err);

/* What dbal__replica_take found. */
enum {
    DBAL__REPLICA_TAKEN,   /* *pool gave *c or *slot */
    DBAL__REPLICA_QUEUE,   /* every replica that is up has its connections in use: wait at *pool */
    DBAL__REPLICA_FULL,    /* one that is up is full, none could serve: back off, then look again */
    DBAL__REPLICA_PRIMARY, /* none is up: the primary's *pool serves (replica_fallback) */
    DBAL__REPLICA_FAILED   /* err says why */
};
/* The read-only checkout without blocking, for the asynchronous API: one
 * pass over the replicas, as dbal__replica_checkout makes (first: not
 * after a backoff, so a replica that said lately that it is full is passed
 * over). refused (optional): the last refusal of a replica seen, which a
 * failure's message quotes. */
int dbal__replica_take(struct dbal_engine *e, int first, const dbal_error *refused, dbal__pool **pool,
                       dbal__conn **c, int *slot, dbal_error *err);
/* The replica whose pool this is, or NULL (the primary's). */
dbal__replica *dbal__replica_of(struct dbal_engine *e, const dbal__pool *pool);
/* A connection to r failed with rc: a replica that is down is left alone
 * for a while, one that is full is passed over for a moment. Returns 1
 * for either (look elsewhere), 0 for any other failure. */
int dbal__replica_refused(dbal__replica *r, int rc, const dbal_error *err);

#endif
