/* The dbal side: one engine and one session per script, values read with
 * the typed getters an application uses (dbal_col_type, then
 * dbal_col_get_int64 / _double / _text / dbal_col_blob). */
#include "slt.h"

#include <dbal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dbal_ctx {
    char *url;
    char *file;   /* sqlite://FILE: removed at each reset */
    char *schema; /* PostgreSQL: the script's tables live in it */
    dbal_engine *engine;
    dbal_session *session;
} dbal_ctx;

static void close_db(dbal_ctx *c)
{
    dbal_session_close(c->session);
    dbal_engine_close(c->engine);
    c->session = NULL;
    c->engine = NULL;
}

static int exec_setup(dbal_ctx *c, const char *sql, char *why, size_t cap)
{
    if (dbal_exec(c->session, sql, dbal_params_array(NULL, 0), NULL) == DBAL_OK)
        return 0;
    snprintf(why, cap, "%s: %s", sql, dbal_session_error(c->session)->message);
    return -1;
}

static int dbal_reset(slt_target *t, char *why, size_t cap)
{
    dbal_ctx *c = t->ctx;
    dbal_error err;
    close_db(c);
    if (c->file)
        slt_remove_db_files(c->file);
    if (dbal_engine_open(&c->engine, c->url, &err) != DBAL_OK ||
        dbal_session_open(c->engine, &c->session, &err) != DBAL_OK) {
        snprintf(why, cap, "%s", err.message);
        return -1;
    }
    if (!c->schema)
        return 0;
    char sql[256];
    for (int step = 0; slt_schema_step(c->schema, step, sql, sizeof sql); step++)
        if (exec_setup(c, sql, why, cap))
            return -1;
    return 0;
}

static void failed(dbal_ctx *c, slt_outcome *out)
{
    const dbal_error *e = dbal_session_error(c->session);
    out->failed = 1;
    out->code = e->code;
    out->native = e->native_code;
    snprintf(out->sqlstate, sizeof out->sqlstate, "%s", e->sqlstate);
    snprintf(out->message, sizeof out->message, "%s", e->message);
}

/* One value through the getter its type calls for; a getter that refuses
 * a value of its own type is a failure of the record. */
static int read_value(dbal_rows *rows, int col, slt_outcome *out)
{
    int64_t i;
    double d;
    const char *s;
    size_t len;
    switch (dbal_col_type(rows, col)) {
    case DBAL_TYPE_NULL: return slt_outcome_add(out, SLT_NULL, 0, 0, NULL, 0);
    case DBAL_TYPE_BOOL:
    case DBAL_TYPE_INT64:
        return dbal_col_get_int64(rows, col, &i) ? -1 : slt_outcome_add(out, SLT_INT, i, 0, NULL, 0);
    case DBAL_TYPE_DOUBLE:
        return dbal_col_get_double(rows, col, &d) ? -1 : slt_outcome_add(out, SLT_REAL, 0, d, NULL, 0);
    case DBAL_TYPE_TEXT:
    /* Raw libpq reads these as text, and SQLite stores them as text (its
     * numerics as numbers, in columns the corpus never declares). */
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ:
    case DBAL_TYPE_DATE:
    case DBAL_TYPE_TIME:
    case DBAL_TYPE_NUMERIC:
    case DBAL_TYPE_UUID:
    case DBAL_TYPE_JSON:
        return dbal_col_get_text(rows, col, &s, &len) ? -1 : slt_outcome_add(out, SLT_TEXT, 0, 0, s, len);
    case DBAL_TYPE_BLOB: {
        const void *p = dbal_col_blob(rows, col, &len);
        return p ? slt_outcome_add(out, SLT_BLOB, 0, 0, p, len) : -1;
    }
    }
    return -1;
}

static void query(dbal_ctx *c, const char *sql, slt_outcome *out)
{
    dbal_rows *rows;
    if (dbal_query(c->session, sql, dbal_params_array(NULL, 0), &rows) != DBAL_OK) {
        failed(c, out);
        return;
    }
    out->ncols = dbal_col_count(rows);
    int rc;
    while ((rc = dbal_rows_next(rows)) == DBAL_ROW)
        for (int col = 0; col < out->ncols; col++)
            if (read_value(rows, col, out)) {
                rc = -1;
                break;
            }
    if (rc != DBAL_DONE)
        failed(c, out);
    dbal_rows_close(rows);
}

static void dbal_run(slt_target *t, const char *sql, int is_query, slt_outcome *out)
{
    dbal_ctx *c = t->ctx;
    if (is_query) {
        query(c, sql, out);
        return;
    }
    if (dbal_exec(c->session, sql, dbal_params_array(NULL, 0), &out->affected) != DBAL_OK)
        failed(c, out);
}

static void dbal_close(slt_target *t)
{
    dbal_ctx *c = t->ctx;
    if (c->schema && c->session) {
        char sql[256];
        dbal_exec(c->session, slt_schema_step(c->schema, 1, sql, sizeof sql), dbal_params_array(NULL, 0),
                  NULL);
    }
    close_db(c);
    if (c->file)
        slt_remove_db_files(c->file);
    free(c->url);
    free(c->file);
    free(c->schema);
    free(c);
}

int slt_dbal_target(slt_target *t, const char *name, const char *url, const char *schema)
{
    dbal_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(url)) ||
        (strncmp(url, "sqlite://", 9) == 0 && !(c->file = strdup(url + 9))) ||
        (schema && !(c->schema = strdup(schema)))) {
        if (c) {
            free(c->url);
            free(c->file);
        }
        free(c);
        return -1;
    }
    *t = (slt_target){.name = name,
                      .engine = strncmp(url, "sqlite", 6) == 0 ? "sqlite" : "postgresql",
                      .ctx = c,
                      .reset = dbal_reset,
                      .run = dbal_run,
                      .close = dbal_close};
    return 0;
}
