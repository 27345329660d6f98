/*
 * engine_open / engine_close: the parsed URL turned, once per engine, into
 * the keyword/value arrays that PQconnectdbParams takes.
 */
#include "pg_driver.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Written first so that the URL can override them: for the same keyword,
 * PQconnectdbParams keeps the last value. libpq's own defaults wait for a
 * connection, and for a peer that vanished, as long as the kernel lets
 * them (minutes to hours): connect within 10 s, and find a dead peer
 * within about a minute (keepalive probes after 30 s idle, every 10 s,
 * 3 unanswered; sent data unacknowledged for 60 s). None of them helps
 * against a server that hangs: its kernel still answers TCP. A keyword
 * this libpq does not know is left out. */
static const char *const defaults[][2] = {
    {"client_encoding", "UTF8"}, {"fallback_application_name", "dbal"},
    {"connect_timeout", "10"},   {"keepalives", "1"},
    {"keepalives_idle", "30"},   {"keepalives_interval", "10"},
    {"keepalives_count", "3"},   {"tcp_user_timeout", "60000"},
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

static int known_keyword(const PQconninfoOption *opts, const char *key)
{
    for (const PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return 1;
    return 0;
}

/* Fills the arrays: defaults, then the authority, then the query string, so
 * that query parameters override the authority as in libpq's own URIs. */
static int fill_keywords(pg_ctx *x, const dbal_url *url, const PQconninfoOption *opts)
{
    size_t n = 0;
    for (size_t i = 0; i < NDEFAULTS; i++)
        if (known_keyword(opts, defaults[i][0]))
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

/* Every query parameter must be a libpq keyword: libpq would refuse an
 * unknown one only at connect time, with a message that names no URL. */
static int check_params(const dbal_url *url, const PQconninfoOption *opts, dbal_error *err)
{
    int rc = DBAL_OK;
    for (size_t i = 0; i < url->nparams && rc == DBAL_OK; i++) {
        if (!known_keyword(opts, url->params[i].key)) {
            pg_host->set_error(err, DBAL_EURL, NULL, 0,
                               "unknown PostgreSQL connection option \"%s\" in the URL", url->params[i].key);
            rc = DBAL_EURL;
        }
    }
    return rc;
}

/* connect_timeout in ms as libpq applies it (the last value given, at
 * least 2 s; 0 when it waits without a bound), for the driver's own
 * checks of a connection (pg_ping). */
static int connect_timeout_ms(const pg_ctx *x)
{
    long s = 0;
    for (size_t i = 0; x->keywords[i]; i++)
        if (strcmp(x->keywords[i], "connect_timeout") == 0)
            s = strtol(x->values[i], NULL, 10);
    if (s <= 0)
        return 0;
    return s < 2 ? 2000 : s > 86400 ? 86400000 : (int)s * 1000;
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
    PQconninfoOption *opts = PQconndefaults();
    if (!opts)
        return pg_error_nomem(err);
    int rc = check_params(url, opts, err);
    pg_ctx *x = rc == DBAL_OK ? ctx_new(url) : NULL;
    if (rc == DBAL_OK && (!x || fill_keywords(x, url, opts) != DBAL_OK)) {
        ctx_free(x);
        rc = pg_error_nomem(err);
    }
    PQconninfoFree(opts);
    if (rc != DBAL_OK)
        return rc;
    x->cache_size = cache_size(cfg);
    x->check_ms = connect_timeout_ms(x);
    *ctx = x;
    return DBAL_OK;
}

void pg_engine_close(void *ctx)
{
    ctx_free(ctx);
}
