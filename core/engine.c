#include "engine.h"

#include "alloc.h"
#include "errors.h"
#include "loader.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

static void engine_free(dbal_engine *e)
{
    dbal__replicas_free(e);
    dbal__pool_destroy(&e->pool);
    e->driver->engine_close(e->driver_ctx);
    dbal__url_free(e->url);
    dbal__free(e);
}

void dbal_engine_options_init(dbal_engine_options *o)
{
    if (o)
        dbal__engine_options_unset(o);
}

int dbal_engine_open(dbal_engine **out, const char *url, dbal_error *err)
{
    return dbal_engine_open_with(out, url, NULL, err);
}

int dbal_engine_open_with(dbal_engine **out, const char *url, const dbal_engine_options *opts,
                          dbal_error *err)
{
    dbal__error_clear(err);
    if (!out)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "dbal_engine_open: out is NULL");
    *out = NULL;
    dbal__url *u;
    int rc = dbal__url_parse(url, &u, err);
    if (rc)
        return rc;
    const char *echo_env = getenv("DBAL_ECHO");
    if (echo_env && strcmp(echo_env, "1") == 0)
        u->opts.echo = 1;
    if ((rc = dbal__engine_opts_apply(&u->opts, opts, err)) != DBAL_OK) {
        dbal__url_free(u);
        return rc;
    }
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
    dbal__cursor_methods_of(d, &e->cursor);
    e->url = u;
    dbal_engine_config cfg = {.size = sizeof cfg,
                              .url = &u->pub,
                              .statement_cache_size = u->opts.statement_cache_size,
                              .pool_size = u->opts.pool_size};
    dbal_error local;
    rc = d->engine_open(&cfg, &e->driver_ctx, err ? err : &local);
    if (rc) {
        dbal__url_redact(u, err);
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
    if ((rc = dbal__replicas_open(e, err)) != DBAL_OK) {
        engine_free(e);
        return rc;
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
        return dbal__error_set(err, DBAL_EURL, NULL, 0,
                               "environment variable %s is not set and no fallback URL was given",
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
    dbal__replicas_shutdown(e);
    pthread_mutex_lock(&e->pool.lock);
    e->closed = 1;
    int open_sessions = e->sessions;
    pthread_mutex_unlock(&e->pool.lock);
    if (open_sessions == 0) {
        engine_free(e);
        return DBAL_OK;
    }
    dbal__log(DBAL_LOG_WARNING,
              "dbal_engine_close: %d session(s) still open; the engine is freed when the "
              "last of them closes",
              open_sessions);
    dbal__pool_report_leaks(&e->pool, 1);
    /* The last session to close frees the engine. */
    return DBAL_EMISUSE;
}

const char *dbal_engine_driver(const dbal_engine *e)
{
    return e ? e->driver->name : NULL;
}

int dbal_engine_control(dbal_engine *e, const char *command, char *reply, size_t cap, dbal_error *err)
{
    dbal__error_clear(err);
    if (reply && cap)
        reply[0] = '\0';
    if (!e || !command || (cap && !reply))
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                               "dbal_engine_control: engine and command are required");
    if (!DBAL_DRIVER_HAS(e->driver, control))
        return dbal__error_set(err, DBAL_EUNSUPPORTED, "0A000", 0, "the %s driver takes no commands",
                               e->driver->name);
    char none[1];
    dbal_error local;
    int rc = e->driver->control(e->driver_ctx, command, cap ? reply : none, cap ? cap : sizeof none,
                                err ? err : &local);
    if (rc == DBAL_OK)
        dbal__error_clear(err);
    return rc;
}

const char *dbal__engine_scheme(const dbal_engine *e)
{
    return e->url->scheme;
}

void dbal_engine_set_event_hook(dbal_engine *e, dbal_event_fn fn, void *userdata)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->pool.lock);
    e->pool.hook = fn;
    e->pool.hook_userdata = userdata;
    pthread_mutex_unlock(&e->pool.lock);
    for (size_t i = 0; i < e->nreplicas; i++) {
        dbal__pool *p = &e->replicas[i].pool;
        pthread_mutex_lock(&p->lock);
        p->hook = fn;
        p->hook_userdata = userdata;
        pthread_mutex_unlock(&p->lock);
    }
}

int dbal_engine_stats_get(dbal_engine *e, dbal_engine_stats *out)
{
    if (!e || !out)
        return DBAL_EINVAL;
    dbal__pool_stats(&e->pool, out);
    return DBAL_OK;
}
