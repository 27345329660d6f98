/*
 * tw_engine.c - the testing driver's table, its entry point, engines and
 * the commands of dbal_engine_control().
 *
 *   sqlite+testing::memory:?fault=unique:items_name_key@statement~INSERT
 *   postgresql+testing://host/db?fault=lost@commit&fault=delay:200@statement#3
 *
 * The inner driver is the URL's scheme (inner=NAME names another, such as
 * an outside driver for the same database); it gets the URL without
 * fault= and inner=. One table serves every inner driver, so a slot the
 * inner driver lacks cannot be left NULL here: each such slot does what
 * the core would do without it (tw_conn.c, tw_stmt.c). The asynchronous
 * slots are left NULL, so the core runs the blocking ones on its worker
 * threads and faults reach asynchronous statements too.
 */
#include "tw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const dbal_host *tw_host;

static int tw_engine_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err);
static void tw_engine_close(void *ctx);

static const dbal_driver table = {
    .abi_version = DBAL_DRIVER_ABI_VERSION,
    .size = sizeof(dbal_driver),
    .name = "testing",
    .version = DBAL_VERSION,
    .engine_open = tw_engine_open,
    .engine_close = tw_engine_close,
    .connect = tw_connect,
    .disconnect = tw_disconnect,
    .exec = tw_exec,
    .query = tw_query,
    .rows_next = tw_rows_next,
    .rows_close = tw_rows_close,
    .col_name = tw_col_name,
    .col_value = tw_col_value,
    .col_type = tw_col_type,
    .begin = tw_begin,
    .commit = tw_commit,
    .rollback = tw_rollback,
    .last_insert_id = tw_last_insert_id,
    .ping = tw_ping,
    .reset = tw_reset,
    .cancel = tw_cancel,
    .set_timeout = tw_set_timeout,
    .exec_batch = tw_exec_batch,
    .set_read_only = tw_set_read_only,
    .check = tw_check,
    .control = tw_control,
    .col_int64 = tw_col_int64,
    .col_double = tw_col_double,
    .col_text = tw_col_text,
};

DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(testing)(const dbal_host *h);
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(testing)(const dbal_host *h)
{
    if (!DBAL_HOST_HAS(h, load_driver)) /* the newest host slot used */
        return NULL;
    tw_host = h;
    return &table;
}

/* The inner driver's URL: ours without fault= and inner=; the faults are
 * added as rules. */
static int take_params(tw_engine *e, const dbal_url *u, const char **inner, dbal_error *err)
{
    e->url = *u;
    e->params = tw_host->malloc((u->nparams ? u->nparams : 1) * sizeof *e->params);
    if (!e->params) {
        tw_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < u->nparams; i++) {
        const dbal_url_param *p = &u->params[i];
        int rc = DBAL_OK;
        if (strcmp(p->key, "fault") == 0)
            rc = tw_rule_add(e, p->value, NULL, err);
        else if (strcmp(p->key, "inner") == 0)
            *inner = p->value;
        else
            e->params[n++] = *p;
        if (rc == DBAL_EINVAL)
            err->code = rc = DBAL_EURL; /* a bad fault= is a bad URL */
        if (rc != DBAL_OK)
            return rc;
    }
    e->url.params = e->params;
    e->url.nparams = n;
    return DBAL_OK;
}

static int open_inner(tw_engine *e, const dbal_engine_config *cfg, const char *inner, dbal_error *err)
{
    if (strlen(inner) >= sizeof e->inner_name || strcmp(inner, "testing") == 0) {
        tw_host->set_error(err, DBAL_EURL, NULL, 0, "testing driver: '%.40s' cannot be the driver it wraps",
                           inner);
        return DBAL_EURL;
    }
    strcpy(e->inner_name, inner);
    e->postgresql = strcmp(inner, "postgresql") == 0;
    e->url.driver = e->inner_name;
    int rc = tw_host->load_driver(inner, &e->inner, err);
    if (rc != DBAL_OK)
        return rc;
    /* The core's config as it came, but for the URL: fields this driver
     * does not know are not passed on. */
    dbal_engine_config mine = {0};
    size_t n = cfg->size < sizeof mine ? cfg->size : sizeof mine;
    memcpy(&mine, cfg, n);
    mine.size = n;
    mine.url = &e->url;
    return e->inner->engine_open(&mine, &e->inner_ctx, err);
}

static void engine_free(tw_engine *e)
{
    tw_rules_clear(e);
    pthread_mutex_destroy(&e->iso_lock);
    pthread_mutex_destroy(&e->lock);
    tw_host->free(e->params);
    tw_host->free(e);
}

static int tw_engine_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err)
{
    tw_engine *e = tw_host->malloc(sizeof *e);
    if (!e) {
        tw_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->iso_lock, NULL);
    e->pid = getpid();
    e->next_id = 1;
    const char *inner = cfg->url->scheme;
    int rc = take_params(e, cfg->url, &inner, err);
    if (rc == DBAL_OK)
        rc = open_inner(e, cfg, inner, err);
    if (rc != DBAL_OK) {
        engine_free(e);
        return rc;
    }
    *ctx = e;
    return DBAL_OK;
}

static void tw_engine_close(void *ctx)
{
    tw_engine *e = ctx;
    tw_iso_close(e);
    e->inner->engine_close(e->inner_ctx);
    engine_free(e);
}

static int reply_long(char *reply, size_t cap, long v)
{
    snprintf(reply, cap, "%ld", v);
    return DBAL_OK;
}

/* "fault SPEC", "fault clear", "fired [ID]", "isolate VERB", "status". */
int tw_control(void *ctx, const char *command, char *reply, size_t cap, dbal_error *err)
{
    tw_engine *e = ctx;
    if (strncmp(command, "fault ", 6) == 0) {
        if (strcmp(command + 6, "clear") == 0) {
            tw_rules_clear(e);
            return DBAL_OK;
        }
        int id = 0;
        int rc = tw_rule_add(e, command + 6, &id, err);
        return rc == DBAL_OK ? reply_long(reply, cap, id) : rc;
    }
    if (strcmp(command, "fired") == 0)
        return reply_long(reply, cap, tw_rule_fired(e, 0));
    if (strncmp(command, "fired ", 6) == 0) {
        char *end;
        long id = strtol(command + 6, &end, 10);
        long n = *end || id < 0 || id > 1000000000 ? -1 : tw_rule_fired(e, (int)id);
        if (n >= 0)
            return reply_long(reply, cap, n);
        tw_host->set_error(err, DBAL_EINVAL, NULL, 0, "testing driver: no fault %.40s", command + 6);
        return DBAL_EINVAL;
    }
    if (strncmp(command, "isolate ", 8) == 0)
        return tw_iso_command(e, command + 8, err);
    if (strcmp(command, "status") == 0) {
        pthread_mutex_lock(&e->lock);
        int n = 0;
        for (tw_conn *c = e->conns; c; c = c->next)
            n++;
        snprintf(reply, cap, "inner=%s isolating=%d marked=%d connections=%d fired=%ld", e->inner_name,
                 e->isolating, e->marked, n, e->fired_total);
        pthread_mutex_unlock(&e->lock);
        return DBAL_OK;
    }
    tw_host->set_error(err, DBAL_EINVAL, NULL, 0,
                       "testing driver: unknown command '%.80s' (fault SPEC, fault clear, fired [ID], "
                       "isolate begin|mark|rollback|end, status)",
                       command);
    return DBAL_EINVAL;
}
