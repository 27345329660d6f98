#include "engine.h"

#include "alloc.h"
#include "errors.h"
#include "loader.h"

#include <stdlib.h>
#include <string.h>

static void engine_free(dbal_engine *e)
{
    dbal__pool_destroy(&e->pool);
    e->driver->engine_close(e->driver_ctx);
    dbal__url_free(e->url);
    dbal__free(e);
}

int dbal_engine_open(dbal_engine **out, const char *url, dbal_error *err)
{
    dbal__error_clear(err);
    if (!out)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "dbal_engine_open: out is NULL");
    *out = NULL;
    dbal__url *u;
    int rc = dbal__url_parse(url, &u, err);
    if (rc)
        return rc;
    const dbal_driver *d;
    rc = dbal__driver_find(u->driver, &d, err);
    if (rc) {
        dbal__url_free(u);
        return rc;
    }
    dbal_engine *e = dbal__calloc(1, sizeof *e);
    if (!e) {
        dbal__url_free(u);
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    }
    e->driver = d;
    e->url = u;
    dbal_engine_config cfg = {.size = sizeof cfg,
                              .url = &u->pub,
                              .statement_cache_size = u->opts.statement_cache_size,
                              .pool_size = u->opts.pool_size};
    dbal_error local;
    rc = d->engine_open(&cfg, &e->driver_ctx, err ? err : &local);
    if (rc) {
        dbal__url_free(u);
        dbal__free(e);
        return rc;
    }
    rc = dbal__pool_init(&e->pool, d, e->driver_ctx, &u->opts);
    if (rc) {
        d->engine_close(e->driver_ctx);
        dbal__url_free(u);
        dbal__free(e);
        return dbal__error_set(err, rc, NULL, 0, NULL);
    }
    *out = e;
    return DBAL_OK;
}

int dbal_engine_open_env(dbal_engine **out, const char *var, const char *fallback, dbal_error *err)
{
    const char *url = var ? getenv(var) : NULL;
    if (!url || !*url)
        url = fallback;
    if (!url) {
        if (out)
            *out = NULL;
        return dbal__error_set(err, DBAL_EURL, NULL, 0, "environment variable %s is not set and no fallback URL was given",
                               var ? var : "(null)");
    }
    return dbal_engine_open(out, url, err);
}

int dbal__engine_ref(dbal_engine *e)
{
    pthread_mutex_lock(&e->pool.lock);
    int ok = !e->closed;
    if (ok)
        e->sessions++;
    pthread_mutex_unlock(&e->pool.lock);
    return ok;
}

void dbal__engine_unref(dbal_engine *e)
{
    pthread_mutex_lock(&e->pool.lock);
    int last = --e->sessions == 0 && e->closed;
    pthread_mutex_unlock(&e->pool.lock);
    if (last)
        engine_free(e);
}

int dbal_engine_close(dbal_engine *e)
{
    if (!e)
        return DBAL_OK;
    dbal__pool_shutdown(&e->pool);
    pthread_mutex_lock(&e->pool.lock);
    e->closed = 1;
    int open_sessions = e->sessions;
    pthread_mutex_unlock(&e->pool.lock);
    if (open_sessions == 0) {
        engine_free(e);
        return DBAL_OK;
    }
    /* The last session to close frees the engine. */
    return DBAL_EMISUSE;
}

const char *dbal_engine_driver(const dbal_engine *e)
{
    return e ? e->driver->name : NULL;
}

int dbal_engine_stats_get(dbal_engine *e, dbal_engine_stats *out)
{
    if (!e || !out)
        return DBAL_EINVAL;
    dbal__pool_stats(&e->pool, out);
    return DBAL_OK;
}
