/*
 * Connections: connect, disconnect, ping, and the bookkeeping that
 * must run before any command is sent on a connection.
 */
#include "pg_internal.h"

#include <stdlib.h>
#include <string.h>

pg_conn *pg_conn_alloc(pg_ctx *x, PGconn *pg)
{
    pg_conn *c = pg_host->malloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    pg_wire_init(&c->wire, pg);
    pg_stmts_init(&c->stmts, &c->wire);
    c->ctx = x;
    c->timeout_applied = -1;
    return c;
}

int pg_conn_setup(pg_conn *c)
{
    const pg_ctx *x = c->ctx;
    int rc = pg_wire_setup(&c->wire);
    return rc == DBAL_OK ? pg_stmts_setup(&c->stmts, x->cache_size) : rc;
}

static pg_conn *conn_new(pg_ctx *x, PGconn *pg)
{
    pg_conn *c = pg_conn_alloc(x, pg);
    if (c && pg_conn_setup(c) != DBAL_OK) {
        pg_canceller_release(c->wire.canceller);
        pg_stmts_free(&c->stmts);
        pg_host->free(c);
        return NULL;
    }
    return c;
}

/* A pooler answers the startup with a cancel key of its own, so the
 * backend pid libpq was given is not the pid of the server session that
 * runs our statements. Once per engine: the first connection asks. When
 * the question itself fails, the server is taken to be direct; a pooler
 * missed then still shows itself by the errors pg_stmt_recover and
 * pg_stmt_name_taken see. */
static int probe_pooler(pg_conn *c)
{
    c->wire.in_doubt = 0;
    c->wire.check_ms = c->ctx->check_ms; /* part of connecting */
    PGresult *res = pg_wire_last(&c->wire, PQsendQuery(c->wire.pg, "SELECT pg_backend_pid()"));
    c->wire.check_ms = 0;
    int behind = PG_DIRECT;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        atoi(PQgetvalue(res, 0, 0)) != PQbackendPID(c->wire.pg))
        behind = PG_POOLED;
    PQclear(res);
    return behind;
}

int pg_connect(void *ctx, dbal_driver_conn **out, dbal_error *err)
{
    pg_ctx *x = ctx;
    *out = NULL;
    /* expand_dbname 0: a database name is only ever a name, never a
     * connection string smuggled in through the URL's path. */
    PGconn *pg = PQconnectdbParams(x->keywords, x->values, 0);
    if (!pg)
        return pg_error_nomem(err);
    if (PQstatus(pg) != CONNECTION_OK) {
        char state[6];
        pg_error_redacted(err, DBAL_ECONNECT, "08001", PQerrorMessage(pg), x->keywords, x->values);
        /* libpq keeps no SQLSTATE of a refused connection, but writes it
         * into the message at verbose verbosity, which can only be chosen
         * once the PGconn exists: try once more with it. The server full
         * (53300) is what the pool waits out, so it must be told apart.
         * Only when a server answered ("SEVERITY:  text", two spaces):
         * an unreachable host or a timeout would only cost the wait twice. */
        if (!strstr(PQerrorMessage(pg), ":  ")) {
            PQfinish(pg);
            return DBAL_ECONNECT;
        }
        PQsetErrorVerbosity(pg, PQERRORS_VERBOSE);
        PQreset(pg);
        if (PQstatus(pg) != CONNECTION_OK) {
            if (pg_server_sqlstate(PQerrorMessage(pg), state))
                memcpy(err->sqlstate, state, sizeof state);
            PQfinish(pg);
            return DBAL_ECONNECT;
        }
        PQsetErrorVerbosity(pg, PQERRORS_DEFAULT);
        dbal_error none = {0};
        *err = none;
    }
    pg_conn *c = conn_new(x, pg);
    if (!c) {
        PQfinish(pg);
        return pg_error_nomem(err);
    }
    int behind = atomic_load(&x->behind);
    if (!behind) {
        behind = probe_pooler(c);
        if (c->wire.gave_up) {
            /* Connected, then no answer: as good as a connect that timed
             * out, and it says nothing about a pooler. */
            pg_disconnect(&c->wire.base);
            pg_host->set_error(err, DBAL_ECONNECT, "08001", 0,
                               "the server accepted the connection but did not answer its first query "
                               "within connect_timeout (%d ms)",
                               x->check_ms);
            return DBAL_ECONNECT;
        }
        atomic_store(&x->behind, behind);
    }
    if (behind == PG_POOLED) {
        c->pooled = 1;
        pg_stmts_go_unnamed(&c->stmts);
    }
    *out = &c->wire.base;
    return DBAL_OK;
}

void pg_disconnect(dbal_driver_conn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (!c)
        return;
    /* The server forgets prepared statements with the session. */
    pg_stmts_free(&c->stmts);
    pg_wire_close(&c->wire);
    pg_async_free(c);
    pg_host->free(c);
}

int pg_ping(dbal_driver_conn *base, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    /* A health check waits no longer than a connect would: a server that
     * does not answer it is taken to hang, and the pool replaces the
     * connection (with a connect bounded the same way). */
    c->wire.check_ms = c->ctx->check_ms;
    int rc = pg_conn_ready(c, err);
    /* An empty query is one round trip and runs nothing, even inside a
     * failed transaction. */
    c->wire.in_doubt = 0;
    PGresult *res = rc == DBAL_OK ? pg_wire_last(&c->wire, PQsendQuery(c->wire.pg, "")) : NULL;
    c->wire.check_ms = 0;
    int ok = PQresultStatus(res) == PGRES_EMPTY_QUERY;
    if (!ok) {
        const char *msg = c->wire.gave_up ? c->wire.gave_up_err.message
                          : res      ? PQresultErrorMessage(res)
                                     : PQerrorMessage(c->wire.pg);
        c->wire.base.broken = 1;
        pg_error_clean(err, DBAL_ECONNLOST, "08006", msg);
    }
    PQclear(res);
    return ok ? DBAL_OK : DBAL_ECONNLOST;
}

int pg_conn_owed(pg_conn *c, pg_runner run, dbal_error *err)
{
    /* A failing DEALLOCATE changes nothing: the statement is gone anyway. */
    for (size_t i = 0; i < c->stmts.npending; i++) {
        char sql[PG_STMT_NAME_LEN + 16];
        dbal_error ignored;
        pg_stmt_deallocate_sql(c->stmts.pending[i], sql, sizeof sql);
        run(c, sql, &ignored);
    }
    c->stmts.npending = 0;
    return pg_timeout_owed(c, run, err);
}

int pg_conn_ready(pg_conn *c, dbal_error *err)
{
    /* The answer to the reset sent when the connection was given back
     * (pg_reset.c); a failed one breaks the connection. */
    if (c->resetting != PG_RESET_NONE && pg_reset_collect(c, 1, err) != DBAL_OK)
        return err->code;
    if (c->stmts.streaming)
        pg_rows_spill(c->stmts.streaming);
    int rc = PQtransactionStatus(c->wire.pg) == PQTRANS_IDLE ? pg_conn_owed(c, pg_run, err)
                                                         : pg_timeout_in_block(c, err);
    /* A cancel asked for before this command cannot be meant for it. */
    atomic_store(&c->wire.cancel_requested, 0);
    /* Given up while pulling a cursor's rows or on the bookkeeping: what
     * the caller was about to send never went out. */
    if (c->wire.gave_up)
        rc = pg_wire_error(&c->wire, err);
    return rc;
}
