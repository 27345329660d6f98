/*
 * Statement timeouts and cancels. PostgreSQL reports both as SQLSTATE 57014,
 * so the driver remembers which one it asked for.
 *
 * The timeout is PostgreSQL's statement_timeout. A SET inside a transaction
 * block is undone when the block rolls back, so the session-level value is
 * only ever set while the connection is idle; a change asked for inside a
 * block is applied with SET LOCAL for the rest of that block, and at session
 * level once the block is over (pg_timeout_sync).
 *
 * Behind a transaction pooler a session-level SET would reach whichever
 * server session the pooler picks, and stay there for another client: the
 * timeout is set only with SET LOCAL, at BEGIN, and around a statement
 * outside a transaction block in a transaction of the driver's own.
 */
#include "pg_internal.h"

#include <stdio.h>
#include <string.h>

static int set_timeout_sql(pg_conn *c, const char *scope, dbal_error *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SET %s statement_timeout = %d", scope, c->timeout_ms);
    return pg_command(c, sql, PGRES_COMMAND_OK, NULL, err);
}

void pg_timeout_sync(pg_conn *c)
{
    dbal_error ignored;
    /* On failure the next idle moment tries again. */
    if (set_timeout_sql(c, "SESSION", &ignored) == DBAL_OK)
        c->timeout_applied = c->timeout_ms;
}

int pg_set_timeout(dbal_driver_conn *base, int milliseconds, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    c->timeout_ms = milliseconds > 0 ? milliseconds : 0;
    int rc = pg_conn_ready(c, err); /* applies it at once when the connection is idle */
    if (rc != DBAL_OK)
        return rc;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (ts == PQTRANS_INTRANS)
        return set_timeout_sql(c, "LOCAL", err);
    if (ts != PQTRANS_IDLE || c->timeout_applied == c->timeout_ms || c->pooled)
        return DBAL_OK; /* a failed block runs nothing until it ends */
    /* pg_conn_ready could not apply it: this attempt reports why. */
    rc = set_timeout_sql(c, "SESSION", err);
    if (rc == DBAL_OK)
        c->timeout_applied = c->timeout_ms;
    return rc;
}

void pg_timeout_local(const pg_conn *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (c->pooled && c->timeout_ms >= 0)
        snprintf(buf, cap, "; SET LOCAL statement_timeout = %d", c->timeout_ms);
}

int pg_timeout_wrap(pg_conn *c, dbal_error *err)
{
    if (!c->pooled || (c->timeout_ms <= 0 && !c->read_only) || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return DBAL_OK;
    char sql[96];
    snprintf(sql, sizeof sql, "BEGIN%s", c->read_only ? " READ ONLY" : "");
    if (c->timeout_ms > 0)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "; SET LOCAL statement_timeout = %d",
                 c->timeout_ms);
    int rc = pg_command(c, sql, PGRES_COMMAND_OK, NULL, err);
    if (rc == DBAL_OK)
        c->wrapped = 1;
    return rc;
}

int pg_unwrap(pg_conn *c, dbal_error *err)
{
    if (c->gave_up) {
        c->wrapped = 0;
        return pg_wire_error(c, err);
    }
    if (!c->wrapped)
        return DBAL_OK;
    c->wrapped = 0;
    return pg_command(c, "COMMIT", PGRES_COMMAND_OK, NULL, err);
}

int pg_canceled_code(pg_conn *c, const char *primary)
{
    if (atomic_exchange(&c->cancel_requested, 0))
        return DBAL_ECANCELED;
    /* Not ours: the statement timeout, unless someone else canceled it
     * (pg_cancel_backend). The message is only English by default. */
    if (c->timeout_ms > 0 || (primary && strstr(primary, "statement timeout")))
        return DBAL_ETIMEOUT;
    return DBAL_ECANCELED;
}
