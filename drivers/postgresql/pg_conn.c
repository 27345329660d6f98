/*
 * Connections: connect (and the policy a new connection adopts),
 * disconnect, ping, and the bookkeeping that must run before any command
 * is sent on a connection (pg_conn_ready).
 */
#include "pg_driver.h"

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
    c->policy = &pg_policy_direct; /* until pg_conn_adopt */
    c->settings.timeout_applied = -1;
    return c;
}

int pg_conn_setup(pg_conn *c)
{
    /* The wire last: its set-up hands c to libpq (the notice receiver),
     * which must not keep it when c is freed on failure. */
    int rc = pg_stmts_setup(&c->stmts, c->ctx->cache_size);
    return rc == DBAL_OK ? pg_wire_setup(&c->wire) : rc;
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

/* *out: a connection made with PQconnectdbParams. DBAL_OK, DBAL_ENOMEM or
 * DBAL_ECONNECT. */
static int connect_blocking(const pg_ctx *x, PGconn **out, dbal_error *err)
{
    /* expand_dbname 0: a database name is only ever a name, never a
     * connection string smuggled in through the URL's path. */
    PGconn *pg = PQconnectdbParams(x->keywords, x->values, 0);
    if (!pg)
        return pg_error_nomem(err);
    *out = pg;
    if (PQstatus(pg) == CONNECTION_OK)
        return DBAL_OK;
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
    return DBAL_OK;
}

void pg_conn_adopt(pg_conn *c, const pg_policy *p)
{
    c->policy = p;
    if (!p->named_statements)
        pg_stmts_go_unnamed(&c->stmts);
}

int pg_connect(void *ctx, dbal_driver_conn **out, dbal_error *err)
{
    pg_ctx *x = ctx;
    *out = NULL;
    PGconn *pg;
    int rc = connect_blocking(x, &pg, err);
    if (rc != DBAL_OK)
        return rc;
    pg_conn *c = conn_new(x, pg);
    if (!c) {
        PQfinish(pg);
        return pg_error_nomem(err);
    }
    /* Once per engine: the first connection asks. */
    const pg_policy *policy = atomic_load(&x->policy);
    if (!policy) {
        if (!(policy = pg_policy_probe(&c->wire, x->check_ms))) {
            /* Connected, then no answer: as good as a connect that timed
             * out, and it says nothing about a pooler. */
            pg_disconnect(&c->wire.base);
            pg_host->set_error(err, DBAL_ECONNECT, "08001", 0,
                               "the server accepted the connection but did not answer its first query "
                               "within connect_timeout (%d ms)",
                               x->check_ms);
            return DBAL_ECONNECT;
        }
        atomic_store(&x->policy, policy);
    }
    pg_conn_adopt(c, policy);
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
                          : res           ? PQresultErrorMessage(res)
                                          : PQerrorMessage(c->wire.pg);
        c->wire.base.broken = 1;
        pg_error_clean(err, DBAL_ECONNLOST, "08006", msg);
    }
    PQclear(res);
    return ok ? DBAL_OK : DBAL_ECONNLOST;
}

int pg_simple(pg_conn *c, const char *sql, ExecStatusType want, PGresult **out, dbal_error *err)
{
    int rc = pg_conn_ready(c, err);
    return rc == DBAL_OK ? pg_wire_command(&c->wire, sql, want, out, err) : rc;
}

int pg_run(pg_conn *c, const char *sql, dbal_error *err)
{
    return pg_wire_command(&c->wire, sql, PGRES_COMMAND_OK, NULL, err);
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
    return pg_settings_owed(c, run, err);
}

int pg_conn_ready(pg_conn *c, dbal_error *err)
{
    /* The answer to the reset sent when the connection was given back
     * (pg_reset.c); a failed one breaks the connection. */
    if (c->reset.state != PG_RESET_NONE && pg_reset_collect(c, 1, err) != DBAL_OK)
        return err->code;
    if (c->stmts.streaming)
        pg_rows_spill(c->stmts.streaming);
    int rc = PQtransactionStatus(c->wire.pg) == PQTRANS_IDLE ? pg_conn_owed(c, pg_run, err)
                                                             : pg_settings_in_block(c, err);
    /* A cancel asked for before this command cannot be meant for it, nor
     * may its request, still on the way, interrupt it (nothing to wait for
     * on a connection given up: the command never goes out). */
    if (!c->wire.gave_up && !c->wire.base.broken)
        pg_cancel_settle(&c->wire);
    atomic_store(&c->wire.cancel_requested, 0);
    c->wire.cancel_sent = 0;
    c->wire.syncrep[0] = '\0';
    /* Given up while pulling a cursor's rows or on the bookkeeping: what
     * the caller was about to send never went out. */
    if (c->wire.gave_up)
        rc = pg_wire_error(&c->wire, err);
    return rc;
}
