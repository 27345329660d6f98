/*
 * Sending one statement: by its cached name, prepared and described on a
 * miss, or as an unnamed statement, in single-row mode; preparing one for
 * a batch; and what the server's answer may say about the cache: a
 * statement it dropped or can no longer run as cached, a name someone
 * else took.
 */
#include "pg_stmt.h"

#include <string.h>

/* Binary rows when every column's type may come so (read_binary in
 * pg_types.h): the server skips int8out/float8out and the client their
 * parsing. Asked once, when the statement is prepared; its result types
 * cannot change afterwards (the server refuses with 0A000 and the
 * statement is prepared again). */
static int wants_binary(pg_wire *w, const char *name, size_t nparams)
{
    /* libpq before 16 drops the connection on a parameter description
     * longer than 30000 bytes (4 per parameter): such statements stay in
     * text. */
    if (nparams > 7000)
        return 0;
    w->in_doubt = 0;
    PGresult *res = pg_wire_last(w, PQsendDescribePrepared(w->pg, name));
    int n = PQresultStatus(res) == PGRES_COMMAND_OK ? PQnfields(res) : 0, ok = n > 0;
    for (int col = 0; col < n && ok; col++)
        ok = pg_type_of(PQftype(res, col))->read_binary;
    PQclear(res);
    return ok;
}

/* Prepares text as the statement name and waits for the answer. */
static int prepare_now(pg_stmts *st, const char *name, const char *text, size_t n, dbal_error *err)
{
    pg_wire *w = st->wire;
    w->in_doubt = 0; /* a Parse applies nothing */
    PGresult *res = pg_wire_last(w, PQsendPrepare(w->pg, name, text, (int)n, st->params.types));
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? DBAL_OK : pg_error_result(w, res, err);
    PQclear(res);
    return rc;
}

static int prepare(pg_stmts *st, const char *sql, size_t n, pg_stmt **out, dbal_error *err)
{
    char *text;
    int rc = pg_stmt_rewrite(sql, n, &text, err);
    if (rc != DBAL_OK)
        return rc;
    pg_stmt *s = pg_stmt_new(st, 0, 0);
    if (!s) {
        pg_host->free(text);
        return pg_error_nomem(err);
    }
    rc = prepare_now(st, s->name, text, n, err);
    pg_host->free(text);
    if (rc != DBAL_OK) {
        pg_host->free(s);
        return rc;
    }
    s->binary = wants_binary(st->wire, s->name, n);
    *out = s;
    return DBAL_OK;
}

/* The cached statement for sql (sql_len bytes) and the types in st->sig,
 * prepared and cached on a miss; *hit is it when it came from the cache
 * (only such a one can have gone stale). */
static int cached(pg_stmts *st, const char *sql, size_t n, size_t sql_len, pg_stmt **out, pg_stmt **hit,
                  dbal_error *err)
{
    pg_stmt *s = stmt_cache_get(st->cache, sql, sql_len, st->sig, n);
    *hit = s;
    if (!s) {
        int rc = prepare(st, sql, n, &s, err);
        if (rc != DBAL_OK)
            return rc;
        if (stmt_cache_put(st->cache, sql, sql_len, st->sig, n, s) != DBAL_OK) {
            pg_stmt_release(st, s);
            return pg_error_nomem(err);
        }
    }
    *out = s;
    return DBAL_OK;
}

int pg_stmt_prepare_for(pg_stmts *st, const char *sql, size_t n, size_t sql_len, char *name, dbal_error *err)
{
    if (!st->cache) {
        /* The unnamed statement lasts until the next one is prepared, which
         * covers a batch: PgBouncer's transaction mode keeps the server
         * connection for the transaction the batch runs in. */
        char *text;
        int rc = pg_stmt_rewrite(sql, n, &text, err);
        if (rc != DBAL_OK)
            return rc;
        rc = prepare_now(st, "", text, n, err);
        pg_host->free(text);
        name[0] = '\0';
        return rc;
    }
    pg_stmt *s = NULL, *hit;
    int rc = cached(st, sql, n, sql_len, &s, &hit, err);
    if (rc == DBAL_OK)
        memcpy(name, s->name, PG_STMT_NAME_LEN);
    return rc;
}

/* Sends through the cache (preparing on a miss). */
static int send_cached(pg_stmts *st, const char *sql, size_t n, size_t sql_len, pg_stmt **hit,
                       dbal_error *err)
{
    pg_stmt *s = NULL;
    int rc = cached(st, sql, n, sql_len, &s, hit, err);
    if (rc != DBAL_OK)
        return rc;
    pg_wire *w = st->wire;
    const pg_params *p = &st->params;
    w->in_doubt = pg_wire_in_doubt(w, sql);
    if (!PQsendQueryPrepared(w->pg, s->name, (int)n, p->values, p->lengths, p->formats, s->binary))
        return pg_error_conn(w, err);
    return DBAL_OK;
}

static int send_unnamed(pg_stmts *st, const char *sql, size_t n, dbal_error *err)
{
    char *text;
    int rc = pg_stmt_rewrite(sql, n, &text, err);
    if (rc != DBAL_OK)
        return rc;
    pg_wire *w = st->wire;
    const pg_params *p = &st->params;
    w->in_doubt = pg_wire_in_doubt(w, sql);
    int ok = PQsendQueryParams(w->pg, text, (int)n, p->types, p->values, p->lengths, p->formats, 0);
    pg_host->free(text);
    return ok ? DBAL_OK : pg_error_conn(w, err);
}

int pg_stmt_send(pg_stmts *st, const char *sql, size_t n, size_t sql_len, pg_stmt **hit, PGresult **first,
                 dbal_error *err)
{
    *hit = NULL;
    int rc = st->cache ? send_cached(st, sql, n, sql_len, hit, err) : send_unnamed(st, sql, n, err);
    if (rc != DBAL_OK)
        return rc;
    /* Rows then come one result each, so that memory stays flat however
     * many there are. */
    if (!PQsetSingleRowMode(st->wire->pg)) {
        pg_wire_drain(st->wire);
        pg_host->set_error(err, DBAL_ERROR, NULL, 0, "libpq refused single-row mode");
        return DBAL_ERROR;
    }
    *first = pg_wire_result(st->wire);
    return *first ? DBAL_OK : pg_error_conn(st->wire, err);
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

/* Drops a cached statement the server can no longer run, whether or not
 * it is retried; its result has been read to the end first, so that the
 * transaction status is known and a DEALLOCATE can be sent. */
static void forget(pg_stmts *st, pg_stmt *stmt, const PGresult *res, const char *sql, size_t n,
                   size_t sql_len)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    pg_wire_drain(st->wire);
    stmt->gone = strcmp(state, "26000") == 0;
    stmt_cache_remove(st->cache, sql, sql_len, st->sig, n);
}

int pg_stmt_recover(pg_stmts *st, const char *sql, size_t n, size_t sql_len, pg_stmt *hit, int retry_ok,
                    PGresult **first, dbal_error *err)
{
    /* Only an error can say so: a statement that ran costs one test. */
    if (!hit || PQresultStatus(*first) != PGRES_FATAL_ERROR || !stale(*first))
        return DBAL_OK;
    int missing = statement_missing(*first);
    forget(st, hit, *first, sql, n, sql_len);
    if (missing)
        /* The server loses our statements behind our back: name no more
         * of them on this connection. */
        pg_stmts_go_unnamed(st);
    if (!retry_ok)
        return DBAL_OK;
    PQclear(*first);
    *first = NULL;
    return pg_stmt_send(st, sql, n, sql_len, &hit, first, err);
}

/* Our statement name is taken in the server session: it is shared with
 * another client (a pooler the probe at connect did not see), or the
 * application PREPAREd that name itself. The Parse failed, nothing ran. */
int pg_stmt_name_taken(pg_stmts *st, const dbal_error *err)
{
    if (!st->cache || strcmp(err->sqlstate, "42P05") != 0)
        return 0;
    pg_stmts_go_unnamed(st);
    return 1;
}

int pg_stmt_unwrap(pg_stmts *st, dbal_error *err)
{
    if (st->wire->gave_up) {
        st->wrapped = 0;
        return pg_wire_error(st->wire, err);
    }
    if (!st->wrapped)
        return DBAL_OK;
    st->wrapped = 0;
    return pg_wire_command(st->wire, "COMMIT", PGRES_COMMAND_OK, NULL, err);
}
