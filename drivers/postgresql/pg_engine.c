/*
 * engine_open / engine_close: the parsed URL turned, once per engine, into
 * the keyword/value arrays that PQconnectdbParams takes.
 */
#include "pg_internal.h"

#include <stddef.h>
#include <string.h>

/* Written first so that the URL can override them: for the same keyword,
 * PQconnectdbParams keeps the last value. */
static const char *const defaults[][2] = {
    {"client_encoding", "UTF8"},
    {"fallback_application_name", "dbal"},
};
#define NDEFAULTS (sizeof defaults / sizeof defaults[0])

static void ctx_free(pg_ctx *x)
{
    if (!x)
        return;
    pg_host->free(x->keywords);
    pg_host->free(x->values);
    pg_host->free(x->hosts);
    pg_host->free(x->ports);
    pg_host->free(x);
}

/* Joins the hosts (want_port 0) or their ports (1) with commas; a missing
 * part is an empty entry, which libpq reads as its default. NULL when out
 * of memory. */
static char *join_hosts(const dbal_url *url, int want_port)
{
    size_t len = 1;
    for (size_t i = 0; i < url->nhosts; i++) {
        const char *s = want_port ? url->hosts[i].port : url->hosts[i].host;
        len += (s ? strlen(s) : 0) + 1;
    }
    char *out = pg_host->malloc(len);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < url->nhosts; i++) {
        const char *s = want_port ? url->hosts[i].port : url->hosts[i].host;
        if (i > 0)
            *p++ = ',';
        if (s) {
            size_t n = strlen(s);
            memcpy(p, s, n);
            p += n;
        }
    }
    *p = '\0';
    return out;
}

static int any_port(const dbal_url *url)
{
    for (size_t i = 0; i < url->nhosts; i++)
        if (url->hosts[i].port && url->hosts[i].port[0])
            return 1;
    return 0;
}

static int any_host(const dbal_url *url)
{
    for (size_t i = 0; i < url->nhosts; i++)
        if (url->hosts[i].host && url->hosts[i].host[0])
            return 1;
    return 0;
}

static void add(pg_ctx *x, size_t *n, const char *key, const char *value)
{
    if (!value)
        return;
    x->keywords[*n] = key;
    x->values[*n] = value;
    (*n)++;
}

/* Fills the arrays: defaults, then the authority, then the query string, so
 * that query parameters override the authority as in libpq's own URIs. */
static int fill_keywords(pg_ctx *x, const dbal_url *url)
{
    size_t n = 0;
    for (size_t i = 0; i < NDEFAULTS; i++)
        add(x, &n, defaults[i][0], defaults[i][1]);
    if (any_host(url)) {
        if (!(x->hosts = join_hosts(url, 0)))
            return DBAL_ENOMEM;
        add(x, &n, "host", x->hosts);
    }
    if (any_port(url)) {
        if (!(x->ports = join_hosts(url, 1)))
            return DBAL_ENOMEM;
        add(x, &n, "port", x->ports);
    }
    add(x, &n, "user", url->user);
    add(x, &n, "password", url->password);
    add(x, &n, "dbname", url->database);
    for (size_t i = 0; i < url->nparams; i++)
        add(x, &n, url->params[i].key, url->params[i].value);
    x->keywords[n] = NULL;
    x->values[n] = NULL;
    return DBAL_OK;
}

static int known_keyword(const PQconninfoOption *opts, const char *key)
{
    for (const PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return 1;
    return 0;
}

/* Every query parameter must be a libpq keyword: libpq would refuse an
 * unknown one only at connect time, with a message that names no URL. */
static int check_params(const dbal_url *url, dbal_error *err)
{
    PQconninfoOption *opts = PQconndefaults();
    if (!opts)
        return pg_error_nomem(err);
    int rc = DBAL_OK;
    for (size_t i = 0; i < url->nparams && rc == DBAL_OK; i++) {
        if (!known_keyword(opts, url->params[i].key)) {
            pg_host->set_error(err, DBAL_EURL, NULL, 0,
                               "unknown PostgreSQL connection option \"%s\" in the URL",
                               url->params[i].key);
            rc = DBAL_EURL;
        }
    }
    PQconninfoFree(opts);
    return rc;
}

static pg_ctx *ctx_new(const dbal_url *url)
{
    pg_ctx *x = pg_host->malloc(sizeof *x);
    if (!x)
        return NULL;
    memset(x, 0, sizeof *x);
    /* hosts, port, user, password, dbname, the defaults, the params, NULL */
    size_t cap = 5 + NDEFAULTS + url->nparams + 1;
    x->keywords = pg_host->malloc(cap * sizeof *x->keywords);
    x->values = pg_host->malloc(cap * sizeof *x->values);
    if (!x->keywords || !x->values) {
        ctx_free(x);
        return NULL;
    }
    return x;
}

/* A core older than the field would not have set it: use its default. */
static int cache_size(const dbal_engine_config *cfg)
{
    size_t end = offsetof(dbal_engine_config, statement_cache_size) + sizeof(int);
    if (cfg->size < end)
        return 100;
    return cfg->statement_cache_size > 0 ? cfg->statement_cache_size : 0;
}

int pg_engine_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err)
{
    const dbal_url *url = cfg->url;
    *ctx = NULL;
    int rc = check_params(url, err);
    if (rc != DBAL_OK)
        return rc;
    pg_ctx *x = ctx_new(url);
    if (!x)
        return pg_error_nomem(err);
    if (fill_keywords(x, url) != DBAL_OK) {
        ctx_free(x);
        return pg_error_nomem(err);
    }
    x->cache_size = cache_size(cfg);
    *ctx = x;
    return DBAL_OK;
}

void pg_engine_close(void *ctx)
{
    ctx_free(ctx);
}
