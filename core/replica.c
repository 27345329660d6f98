#include "replica.h"

#include "alloc.h"
#include "engine.h"
#include "errors.h"

#include <stdio.h>
#include <string.h>

/* A replica that refused a connection is left alone this long before a
 * session tries it again: long enough not to pay a failed connection per
 * read while it is down, short enough to use it soon after it is back. */
#define REPLICA_RETRY_SECONDS 2.0

/* Connection keywords that choose the server: a replica's own host and
 * port replace them, and target_session_attrs=read-write (what a failover
 * URL asks for) would refuse every standby. */
static int names_server(const char *key)
{
    return strcmp(key, "host") == 0 || strcmp(key, "hostaddr") == 0 || strcmp(key, "port") == 0 ||
           strcmp(key, "target_session_attrs") == 0;
}

static int replica_open(dbal_engine *e, dbal__replica *r, const dbal_url_host *host, dbal_error *err)
{
    const dbal_url *pub = &e->url->pub;
    r->url = *pub;
    r->url.hosts = host;
    r->url.nhosts = 1;
    r->params = dbal__calloc(pub->nparams ? pub->nparams : 1, sizeof *r->params);
    if (!r->params)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    r->url.params = r->params;
    r->url.nparams = 0;
    for (size_t i = 0; i < pub->nparams; i++)
        if (!names_server(pub->params[i].key))
            r->params[r->url.nparams++] = pub->params[i];
    dbal_engine_config cfg = {.size = sizeof cfg,
                              .url = &r->url,
                              .statement_cache_size = e->url->opts.statement_cache_size,
                              .pool_size = e->url->opts.pool_size};
    dbal_error local;
    int rc = e->driver->engine_open(&cfg, &r->driver_ctx, err ? err : &local);
    if (rc != DBAL_OK)
        return rc;
    rc = dbal__pool_init(&r->pool, e->driver, r->driver_ctx, &e->url->opts);
    if (rc != DBAL_OK) {
        e->driver->engine_close(r->driver_ctx);
        r->driver_ctx = NULL;
        return dbal__error_set(err, rc, NULL, 0, NULL);
    }
    atomic_init(&r->down_until, 0.0);
    return DBAL_OK;
}

int dbal__replicas_open(dbal_engine *e, dbal_error *err)
{
    const char *list = e->url->opts.replicas;
    if (!list || !*list)
        return DBAL_OK;
    dbal_url_host *hosts;
    size_t n;
    int rc = dbal__url_parse_hosts(list, "replica list", &hosts, &n, err);
    if (rc != DBAL_OK)
        return rc;
    /* The engine keeps the hosts: the drivers' contexts point into them. */
    e->replica_hosts = hosts;
    e->nreplica_hosts = n;
    e->replicas = dbal__calloc(n, sizeof *e->replicas);
    if (!e->replicas)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    for (size_t i = 0; i < n; i++) {
        rc = replica_open(e, &e->replicas[i], &hosts[i], err);
        if (rc != DBAL_OK) {
            dbal__free(e->replicas[i].params);
            return rc;
        }
        e->nreplicas = i + 1;
    }
    return DBAL_OK;
}

void dbal__replicas_shutdown(dbal_engine *e)
{
    for (size_t i = 0; i < e->nreplicas; i++)
        dbal__pool_shutdown(&e->replicas[i].pool);
}

void dbal__replicas_free(dbal_engine *e)
{
    for (size_t i = 0; e->replicas && i < e->nreplicas; i++) {
        dbal__replica *r = &e->replicas[i];
        dbal__pool_destroy(&r->pool);
        e->driver->engine_close(r->driver_ctx);
        dbal__free(r->params);
    }
    dbal__free(e->replicas);
    dbal__url_hosts_free(e->replica_hosts, e->nreplica_hosts);
    e->replicas = NULL;
    e->replica_hosts = NULL;
    e->nreplicas = e->nreplica_hosts = 0;
}

/* A failure that says the replica is not there, as opposed to a busy pool
 * or a closed engine. */
static int replica_down(int rc)
{
    return rc == DBAL_ECONNECT || rc == DBAL_ECONNLOST;
}

int dbal__replica_checkout(dbal_engine *e, const char *label, dbal__conn **out, dbal__pool **pool,
                           dbal_error *err)
{
    size_t n = e->nreplicas;
    dbal_error last = {0};
    if (n > 0) {
        unsigned start = atomic_fetch_add(&e->next_replica, 1u);
        for (size_t k = 0; k < n; k++) {
            dbal__replica *r = &e->replicas[(start + k) % n];
            double now = dbal__now();
            if (now < atomic_load(&r->down_until))
                continue;
            int rc = dbal__pool_checkout(&r->pool, label, out, &last);
            if (rc == DBAL_OK) {
                *pool = &r->pool;
                return DBAL_OK;
            }
            if (!replica_down(rc)) {
                if (err)
                    *err = last;
                return rc;
            }
            atomic_store(&r->down_until, dbal__now() + REPLICA_RETRY_SECONDS);
        }
    }
    if (n == 0 || e->url->opts.replica_fallback) {
        *pool = &e->pool;
        return dbal__pool_checkout(&e->pool, label, out, err);
    }
    return dbal__error_set(err, DBAL_ECONNECT, last.sqlstate[0] ? last.sqlstate : NULL, 0,
                           "no read replica is up and replica_fallback is off%s%s",
                           last.message[0] ? "; the last one said: " : "", last.message);
}
