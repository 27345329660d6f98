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
} dbal__replica;

struct dbal_engine;

/* Sets up the replicas the engine's options name (none: nothing to do).
 * DBAL_EURL for a bad list, or what the driver's engine_open says. */
int dbal__replicas_open(struct dbal_engine *e, dbal_error *err);
/* Closes idle connections and fails waiters, as dbal__pool_shutdown. */
void dbal__replicas_shutdown(struct dbal_engine *e);
void dbal__replicas_free(struct dbal_engine *e);

/* A connection for a read-only session: from a replica that is up, else
 * from the primary when replica_fallback allows it. *pool receives the
 * pool it must go back to. */
int dbal__replica_checkout(struct dbal_engine *e, const char *label, dbal__conn **out, dbal__pool **pool,
                           dbal_error *err);

#endif
