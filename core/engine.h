/* The engine: one per database per process, owning the driver's per-engine
 * state and the connection pool. */
#ifndef DBAL_CORE_ENGINE_H
#define DBAL_CORE_ENGINE_H

#include "pool.h"
#include "replica.h"
#include "rows.h"
#include "url.h"

#include <dbal/driver.h>
#include <pthread.h>

struct dbal_engine {
    const dbal_driver *driver;
    dbal__cursor_methods cursor; /* the driver's cursor slots, for its rows */
    void *driver_ctx;
    dbal__url *url;
    dbal__pool pool;
    dbal__replica *replicas;
    size_t nreplicas;
    dbal_url_host *replica_hosts; /* what the replicas' URLs point to */
    size_t nreplica_hosts;
    atomic_uint next_replica; /* round-robin position */
    /* Sessions still open keep the engine alive after dbal_engine_close(). */
    int sessions;
    int closed;
};

/* Session bookkeeping: a closing session drops its reference, and the last
 * one frees an engine that was closed while sessions were open. */
int dbal__engine_ref(dbal_engine *e);
void dbal__engine_unref(dbal_engine *e);

/* The URL's scheme ("postgresql" for postgres:// too): the kind of
 * database, whatever driver a "+name" picked. Valid until the engine is
 * freed. */
const char *dbal__engine_scheme(const dbal_engine *e);

#endif
