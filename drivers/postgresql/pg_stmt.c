/*
 * Sending a statement: through the per-connection cache of named prepared
 * statements (dbal_1, dbal_2, ...) or, with the cache off, as an unnamed
 * statement, which is what PgBouncer's transaction mode needs.
 */
#include "pg_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NAME_LEN 32

/* What the cache holds for one prepared statement. */
typedef struct pg_stmt {
    uint64_t id;
    int gone; /* the server no longer has it: nothing to DEALLOCATE */
    char name[NAME_LEN]; /* "dbal_<id>", made once: snprintf per call cost 9% of a point select */
    int binary;          /* its rows are asked for in binary format */
} pg_stmt;

/* Binary rows when every column's type may come so (read_binary in
 * pg_types.h): the server skips int8out/float8out and the client their
 * parsing. Asked once, when the statement is prepared; its result types
 * cannot change afterwards (the server refuses with 0A000 and the
 * statement is prepared again). */
static int wants_binary(pg_conn *c, const char *name, size_t nparams)
{
    /* libpq before 16 drops the connection on a parameter description
     * longer than 30000 bytes (4 per parameter): such statements stay in
     * text. */
    if (nparams > 7000)
        return 0;
    c->wire.in_doubt = 0;
    PGresult *res = pg_wire_last(&c->wire, PQsendDescribePrepared(c->wire.pg, name));
    int n = PQresultStatus(res) == PGRES_COMMAND_OK ? PQnfields(res) : 0, ok = n > 0;
    for (int col = 0; col < n && ok; col++)
        ok = pg_type_of(PQftype(res, col))->read_binary;
    PQclear(res);
    return ok;
}

static void stmt_name(char *buf, uint64_t id)
{
    snprintf(buf, NAME_LEN, "dbal_%" PRIu64, id);
}

/* A failing DEALLOCATE changes nothing: the statement is gone anyway. */
static void deallocate(pg_conn *c, uint64_t id, pg_runner run)
{
    char sql[NAME_LEN + 16];
    snprintf(sql, sizeof sql, "DEALLOCATE dbal_%" PRIu64, id);
    dbal_error ignored;
    run(c, sql, &ignored);
}

/* Remembers a statement to DEALLOCATE once the connection is idle. When
 * out of memory it is forgotten: the server frees it with the session. */
static void defer(pg_conn *c, uint64_t id)
{
    if (c->npending == c->pending_cap) {
        size_t cap = c->pending_cap ? c->pending_cap * 2 : 8;
        uint64_t *p = pg_host->realloc(c->pending, cap * sizeof *p);
        if (!p)
            return;
        c->pending = p;
        c->pending_cap = cap;
    }
    c->pending[c->npending++] = id;
}

/* Evicted statements are freed on the server so that it does not
 * accumulate them. Only outside a transaction block, where a failing
 * DEALLOCATE (someone ran DISCARD ALL) cannot abort the application's
 * transaction; inside one the name waits for the next idle moment. */
void pg_stmt_release(void *stmt, void *userdata)
{
    pg_conn *c = userdata;
    pg_stmt *s = stmt;
    if (!s->gone && !c->closing) {
        PGTransactionStatusType ts = PQtransactionStatus(c->wire.pg);
        /* In pipeline mode (pg_async.c) nothing can be run on the side. */
        if (PQpipelineStatus(c->wire.pg) != PQ_PIPELINE_OFF)
            defer(c, s->id);
        else if (ts == PQTRANS_IDLE)
            deallocate(c, s->id, pg_run);
        else if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
            defer(c, s->id);
    }
    pg_host->free(s);
}

void pg_stmt_owed(pg_conn *c, pg_runner run)
{
    for (size_t i = 0; i < c->npending; i++)
        deallocate(c, c->pending[i], run);
    c->npending = 0;
}

/* Rewrites ? to $n and checks the count before anything is sent. */
int pg_stmt_rewrite(const char *sql, size_t nparams, char **out, dbal_error *err)
{
    int count;
    if (pg_rewrite_dollar(sql, out, &count) != DBAL_OK)
        return pg_error_nomem(err);
    if (count < 0 || (size_t)count != nparams) {
        pg_host->free(*out);
        *out = NULL;
        pg_host->set_error(err, DBAL_EMISUSE, NULL, 0,
                           "statement has %d placeholder%s, %zu parameter%s given", count,
                           count == 1 ? "" : "s", nparams, nparams == 1 ? "" : "s");
        return DBAL_EMISUSE;
    }
    return DBAL_OK;
}

/* Prepares text as the statement name and waits for the answer. */
static int prepare_now(pg_conn *c, const char *name, const char *text, size_t n, dbal_error *err)
{
    c->wire.in_doubt = 0; /* a Parse applies nothing */
    PGresult *res = pg_wire_last(&c->wire, PQsendPrepare(c->wire.pg, name, text, (int)n, c->params.types));
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? DBAL_OK : pg_error_result(&c->wire, res, err);
    PQclear(res);
    return rc;
}

static int prepare(pg_conn *c, const char *sql, size_t n, pg_stmt **out, dbal_error *err)
{
    char *text;
    int rc = pg_stmt_rewrite(sql, n, &text, err);
    if (rc != DBAL_OK)
        return rc;
    pg_stmt *s = pg_host->malloc(sizeof *s);
    if (!s) {
        pg_host->free(text);
        return pg_error_nomem(err);
    }
    s->id = c->next_stmt_id++;
    s->gone = 0;
    stmt_name(s->name, s->id);
    rc = prepare_now(c, s->name, text, n, err);
    pg_host->free(text);
    if (rc != DBAL_OK) {
        pg_host->free(s);
        return rc;
    }
    s->binary = wants_binary(c, s->name, n);
    *out = s;
    return DBAL_OK;
}

/* The cached statement for sql and the types in c->sig, prepared and
 * cached on a miss; *hit is
 * it when it came from the cache (only such a one can have gone stale). */
static int cached_stmt(pg_conn *c, const char *sql, size_t n, size_t sql_len, pg_stmt **out,
                       pg_stmt **hit, dbal_error *err)
{
    pg_stmt *s = stmt_cache_get(c->cache, sql, sql_len, c->sig, n);
    *hit = s;
    if (!s) {
        int rc = prepare(c, sql, n, &s, err);
        if (rc != DBAL_OK)
            return rc;
        if (stmt_cache_put(c->cache, sql, sql_len, c->sig, n, s) != DBAL_OK) {
            pg_stmt_release(s, c);
            return pg_error_nomem(err);
        }
    }
    *out = s;
    return DBAL_OK;
}

/* Sends through the cache (preparing on a miss). */
static int send_cached(pg_conn *c, const char *sql, size_t n, size_t sql_len, pg_stmt **hit,
                       dbal_error *err)
{
    pg_stmt *s = NULL;
    int rc = cached_stmt(c, sql, n, sql_len, &s, hit, err);
    if (rc != DBAL_OK)
        return rc;
    const pg_params *p = &c->params;
    c->wire.in_doubt = pg_wire_in_doubt(&c->wire, sql);
    if (!PQsendQueryPrepared(c->wire.pg, s->name, (int)n, p->values, p->lengths, p->formats, s->binary))
        return pg_error_conn(&c->wire, err);
    return DBAL_OK;
}

static int send_unnamed(pg_conn *c, const char *sql, size_t n, dbal_error *err)
{
    char *text;
    int rc = pg_stmt_rewrite(sql, n, &text, err);
    if (rc != DBAL_OK)
        return rc;
    const pg_params *p = &c->params;
    c->wire.in_doubt = pg_wire_in_doubt(&c->wire, sql);
    int ok = PQsendQueryParams(c->wire.pg, text, (int)n, p->types, p->values, p->lengths,
                               p->formats, 0);
    pg_host->free(text);
    return ok ? DBAL_OK : pg_error_conn(&c->wire, err);
}

/* The cache key is the SQL, in place, and one type letter per parameter,
 * written to c->sig. */
int pg_stmt_sig_reserve(pg_conn *c, size_t n, dbal_error *err)
{
    if (n > c->sig_cap || !c->sig) {
        char *k = pg_host->malloc(n ? n : 1);
        if (!k)
            return pg_error_nomem(err);
        pg_host->free(c->sig);
        c->sig = k;
        c->sig_cap = n;
    }
    return DBAL_OK;
}

/* Whether res is the error SQLSTATE `state` raised by the server function
 * `where`. The function names the step: FetchPreparedStatement fails a Bind
 * to a statement the session does not have, RevalidateCachedQuery a Bind
 * whose plan changed its result type, both before anything is executed.
 * The same SQLSTATE raised while a statement runs (a function's RAISE, an
 * EXECUTE inside it) is the application's, and is never retried. */
static int error_from(const PGresult *res, const char *state, const char *where)
{
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *fn = PQresultErrorField(res, PG_DIAG_SOURCE_FUNCTION);
    return PQresultStatus(res) == PGRES_FATAL_ERROR && s && strcmp(s, state) == 0 && fn &&
           strcmp(fn, where) == 0;
}

/* A server session that does not have our statement (26000): someone ran
 * DEALLOCATE or DISCARD ALL, or a pooler sent the Bind to another one. */
static int statement_missing(const PGresult *res)
{
    return error_from(res, "26000", "FetchPreparedStatement");
}

/* A cached statement the server no longer has, or whose result type DDL
 * changed (0A000 "cached plan must not change result type"). */
static int stale(const PGresult *res)
{
    return statement_missing(res) || error_from(res, "0A000", "RevalidateCachedQuery");
}

/* Sends once and returns the first result; *hit as for send_cached. */
static int send_once(pg_conn *c, const char *sql, size_t n, size_t sql_len, pg_stmt **hit,
                     PGresult **first, dbal_error *err)
{
    *hit = NULL;
    int rc = c->cache ? send_cached(c, sql, n, sql_len, hit, err)
                      : send_unnamed(c, sql, n, err);
    if (rc != DBAL_OK)
        return rc;
    /* Rows then come one result each, so that memory stays flat however
     * many there are. */
    if (!PQsetSingleRowMode(c->wire.pg)) {
        pg_wire_drain(&c->wire);
        pg_host->set_error(err, DBAL_ERROR, NULL, 0, "libpq refused single-row mode");
        return DBAL_ERROR;
    }
    *first = pg_wire_result(&c->wire);
    return *first ? DBAL_OK : pg_error_conn(&c->wire, err);
}

/* Drops a cached statement the server can no longer run, whether or not
 * it is retried; its result has been read to the end first, so that the
 * transaction status is known and a DEALLOCATE can be sent. */
static void forget(pg_conn *c, pg_stmt *stmt, const PGresult *res, const char *sql, size_t n,
                   size_t sql_len)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    pg_wire_drain(&c->wire);
    stmt->gone = strcmp(state, "26000") == 0;
    stmt_cache_remove(c->cache, sql, sql_len, c->sig, n);
}

int pg_send(pg_conn *c, const char *sql, const dbal_value *params, size_t n, PGresult **first,
            dbal_error *err)
{
    size_t sql_len = strlen(sql);
    int rc = pg_conn_ready(c, err);
    if (rc != DBAL_OK)
        return rc;
    rc = pg_stmt_sig_reserve(c, n, err);
    if (rc == DBAL_OK)
        rc = pg_params_build(c, params, n, c->sig, err);
    if (rc != DBAL_OK)
        return rc;
    /* Outside a transaction block the failed attempt changed nothing, so
     * running the statement again is invisible to the application. Inside
     * one, the failure has aborted the transaction: the caller gets it. */
    int retry_ok = PQtransactionStatus(c->wire.pg) == PQTRANS_IDLE;
    pg_stmt *hit;
    rc = pg_timeout_wrap(c, err);
    if (rc == DBAL_OK)
        rc = send_once(c, sql, n, sql_len, &hit, first, err);
    if (rc == DBAL_ERROR && c->cache && strcmp(err->sqlstate, "42P05") == 0) {
        /* Our statement name is taken in the server session: it is shared
         * with another client (a pooler the probe at connect did not see),
         * or the application PREPAREd that name itself. The Parse failed,
         * nothing ran; this connection names no more statements. */
        pg_conn_go_unnamed(c);
        if (retry_ok)
            return pg_send(c, sql, params, n, first, err);
        return rc;
    }
    if (rc != DBAL_OK) {
        dbal_error ignored;
        pg_unwrap(c, &ignored);
        return rc;
    }
    if (!hit || !stale(*first))
        return DBAL_OK;
    int missing = statement_missing(*first);
    forget(c, hit, *first, sql, n, sql_len);
    if (missing)
        /* The server loses our statements behind our back: name no more
         * of them on this connection. */
        pg_conn_go_unnamed(c);
    if (!retry_ok)
        return DBAL_OK;
    PQclear(*first);
    *first = NULL;
    return send_once(c, sql, n, sql_len, &hit, first, err);
}

int pg_stmt_prepare_for(pg_conn *c, const char *sql, size_t n, size_t sql_len, char *name,
                        dbal_error *err)
{
    if (!c->cache) {
        /* The unnamed statement lasts until the next one is prepared, which
         * covers a batch: PgBouncer's transaction mode keeps the server
         * connection for the transaction the batch runs in. */
        char *text;
        int rc = pg_stmt_rewrite(sql, n, &text, err);
        if (rc != DBAL_OK)
            return rc;
        rc = prepare_now(c, "", text, n, err);
        pg_host->free(text);
        name[0] = '\0';
        return rc;
    }
    pg_stmt *s = NULL, *hit;
    int rc = cached_stmt(c, sql, n, sql_len, &s, &hit, err);
    if (rc == DBAL_OK)
        memcpy(name, s->name, NAME_LEN);
    return rc;
}

int pg_stmt_lookup(pg_conn *c, const char *sql, size_t n, size_t sql_len, char *name, uint64_t *id,
                   char **text, dbal_error *err)
{
    *text = NULL;
    *id = 0;
    if (!c->cache) {
        name[0] = '\0';
        return pg_stmt_rewrite(sql, n, text, err);
    }
    pg_stmt *s = stmt_cache_get(c->cache, sql, sql_len, c->sig, n);
    if (s && s->gone) {
        /* Its Parse is still in flight: until the server has said yes, the
         * name may be someone else's (42P05), so run this one unnamed. */
        name[0] = '\0';
        return pg_stmt_rewrite(sql, n, text, err);
    }
    if (!s) {
        int rc = pg_stmt_rewrite(sql, n, text, err);
        if (rc != DBAL_OK)
            return rc;
        s = pg_host->malloc(sizeof *s);
        if (s) {
            s->id = c->next_stmt_id++;
            s->gone = 1; /* until its prepare has succeeded, there is nothing to free */
            s->binary = 0; /* the asynchronous path reads text rows */
            stmt_name(s->name, s->id);
        }
        if (!s || stmt_cache_put(c->cache, sql, sql_len, c->sig, n, s) != DBAL_OK) {
            pg_host->free(s);
            pg_host->free(*text);
            *text = NULL;
            return pg_error_nomem(err);
        }
    }
    memcpy(name, s->name, NAME_LEN);
    *id = s->id;
    return DBAL_OK;
}

/* key: the SQL (sql_len bytes), a NUL, then the n type letters; id: the
 * statement the prepare was for, which the cache entry for the key may no
 * longer be (evicted meanwhile, and the key cached again). */
void pg_stmt_prepared(pg_conn *c, const char *key, size_t sql_len, size_t n, uint64_t id, int ok)
{
    const char *sig = key + sql_len + 1;
    pg_stmt *s = c->cache ? stmt_cache_get(c->cache, key, sql_len, sig, n) : NULL;
    if (!s || s->id != id) {
        /* Evicted while its prepare was in flight: the release sent no
         * DEALLOCATE (there was nothing yet), so send one now. */
        if (ok && !c->closing)
            defer(c, id);
        return;
    }
    s->gone = !ok;
    if (!ok)
        stmt_cache_remove(c->cache, key, sql_len, sig, n);
}

void pg_stmt_forget(pg_conn *c, const char *key, size_t sql_len, size_t n, uint64_t id, int gone)
{
    const char *sig = key + sql_len + 1;
    pg_stmt *s = c->cache ? stmt_cache_get(c->cache, key, sql_len, sig, n) : NULL;
    if (s && s->id == id) {
        s->gone = gone;
        stmt_cache_remove(c->cache, key, sql_len, sig, n);
    }
}
