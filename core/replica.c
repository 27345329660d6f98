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
/* A replica whose server said it is full (53300) is passed over this long
 * while another can serve; when none can, it is tried again with the
 * pool's backoff. */
#define REPLICA_FULL_SECONDS 1.0

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
    atomic_init(&r->full_until, 0.0);
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

dbal__replica *dbal__replica_of(dbal_engine *e, const dbal__pool *pool)
{
    for (size_t i = 0; i < e->nreplicas; i++)
        if (&e->replicas[i].pool == pool)
            return &e->replicas[i];
    return NULL;
}

int dbal__replica_refused(dbal__replica *r, int rc, const dbal_error *err)
{
    if (dbal__pool_server_busy(rc, err)) {
        atomic_store(&r->full_until, dbal__now() + REPLICA_FULL_SECONDS);
        return 1;
    }
    if (replica_down(rc)) {
        atomic_store(&r->down_until, dbal__now() + REPLICA_RETRY_SECONDS);
        return 1;
    }
    return 0;
}

enum { TRY, DOWN, FULL };

/* Whether a pass skips r without a try: down lately, or (on a first pass)
 * full lately. */
static int passed_over(dbal__replica *r, int first)
{
    double now = dbal__now();
    if (now < atomic_load(&r->down_until))
        return DOWN;
    return first && now < atomic_load(&r->full_until) ? FULL : TRY;
}

static int no_replica_up(dbal_error *err, const dbal_error *last)
{
    return dbal__error_set(err, DBAL_ECONNECT, last->sqlstate[0] ? last->sqlstate : NULL, 0,
                           "no read replica is up and replica_fallback is off%s%s",
                           last->message[0] ? "; the last one said: " : "", last->message);
}

/* One pass over the replicas, in round-robin order from start, taking
 * from the first that can serve at once (DBAL_OK, *pool). Otherwise
 * *busy is the first whose connections are all in use and *full the
 * first whose server is full (on the first pass, one that said so
 * lately is passed over without a try); DBAL_EBUSY then, or another code
 * that ends the checkout. */
static int replica_pass(dbal_engine *e, unsigned start, int first, const char *label, double give_up,
                        dbal__conn **out, dbal__pool **pool, dbal__replica **busy, dbal__replica **full,
                        dbal_error *last)
{
    size_t n = e->nreplicas;
    *busy = *full = NULL;
    for (size_t k = 0; k < n; k++) {
        dbal__replica *r = &e->replicas[(start + k) % n];
        int skip = passed_over(r, first);
        if (skip == FULL)
            *full = *full ? *full : r;
        if (skip)
            continue;
        int rc = dbal__pool_checkout_until(&r->pool, label, give_up,
                                           DBAL__CHECKOUT_NO_WAIT | DBAL__CHECKOUT_NO_BACKOFF, out, last);
        if (rc == DBAL_OK) {
            *pool = &r->pool;
            return DBAL_OK;
        }
        if (rc == DBAL_EBUSY) {
            *busy = *busy ? *busy : r;
        } else if (dbal__replica_refused(r, rc, last)) {
            if (dbal__pool_server_busy(rc, last))
                *full = *full ? *full : r;
        } else {
            return rc;
        }
    }
    return DBAL_EBUSY;
}

/*
 * One deadline for the whole checkout, pool_timeout from its start: the
 * replicas that are up are tried in turn, none waited on while another can
 * serve. When every one that is up has its connections in use, the
 * session waits in line at the first of them; when some server is full,
 * the pass is repeated with the pool's backoff. Only when none is up does
 * the primary serve (replica_fallback), within what is left.
 */
int dbal__replica_checkout(dbal_engine *e, const char *label, dbal__conn **out, dbal__pool **pool,
                           dbal_error *err)
{
    double give_up = dbal__pool_give_up(&e->pool);
    dbal_error last = {0};
    if (e->nreplicas > 0) {
        unsigned start = atomic_fetch_add(&e->next_replica, 1u);
        for (int attempt = 0;; attempt++) {
            dbal__replica *busy, *full;
            int rc = replica_pass(e, start, attempt == 0, label, give_up, out, pool, &busy, &full, &last);
            if (rc != DBAL_EBUSY) {
                if (rc != DBAL_OK && err)
                    *err = last;
                return rc;
            }
            if (!busy && !full)
                break; /* none is up */
            if (!full) {
                rc = dbal__pool_checkout_until(&busy->pool, label, give_up, DBAL__CHECKOUT_NO_BACKOFF, out,
                                               &last);
                if (rc == DBAL_OK)
                    *pool = &busy->pool;
                if (rc == DBAL_OK || !dbal__replica_refused(busy, rc, &last) || dbal__now() >= give_up) {
                    if (rc != DBAL_OK && err)
                        *err = last;
                    return rc;
                }
            } else if (!dbal__pool_backoff_until(attempt, give_up) || dbal__now() >= give_up) {
                if (!last.code) /* passed over without a try: the server said so lately */
                    dbal__error_set(&last, DBAL_ECONNECT, "53300", 0,
                                    "every read replica is full (too many connections)");
                if (err)
                    *err = last;
                return last.code;
            }
        }
    }
    if (e->nreplicas == 0 || e->url->opts.replica_fallback) {
        *pool = &e->pool;
        return dbal__pool_checkout_until(&e->pool, label, give_up, 0, out, err);
    }
    return no_replica_up(err, &last);
}

int dbal__replica_take(dbal_engine *e, int first, const dbal_error *refused, dbal__pool **pool,
                       dbal__conn **c, int *slot, dbal_error *err)
{
    size_t n = e->nreplicas;
    dbal__replica *busy = NULL, *full = NULL;
    dbal_error last = {0};
    if (refused && refused->code)
        last = *refused;
    unsigned start = n ? atomic_fetch_add(&e->next_replica, 1u) : 0;
    for (size_t k = 0; k < n; k++) {
        dbal__replica *r = &e->replicas[(start + k) % n];
        int skip = passed_over(r, first);
        if (skip == FULL)
            full = full ? full : r;
        if (skip)
            continue;
        int rc = dbal__pool_take(&r->pool, NULL, c, slot, &last);
        if (rc == DBAL_OK) {
            *pool = &r->pool;
            return DBAL__REPLICA_TAKEN;
        }
        if (rc != DBAL_EBUSY) {
            if (err)
                *err = last;
            return DBAL__REPLICA_FAILED;
        }
        busy = busy ? busy : r;
    }
    if (full || busy) {
        *pool = full ? &full->pool : &busy->pool;
        return full ? DBAL__REPLICA_FULL : DBAL__REPLICA_QUEUE;
    }
    if (n == 0 || e->url->opts.replica_fallback) {
        *pool = &e->pool;
        return DBAL__REPLICA_PRIMARY;
    }
    no_replica_up(err, &last);
    return DBAL__REPLICA_FAILED;
}

size_t dbal_engine_replica_count(const dbal_engine *e)
{
    return e ? e->nreplicas : 0;
}

int dbal_engine_replica_stats_get(dbal_engine *e, size_t index, dbal_engine_stats *out)
{
    if (!e || !out || index >= e->nreplicas)
        return DBAL_EINVAL;
    dbal__pool_stats(&e->replicas[index].pool, out);
    return DBAL_OK;
}
