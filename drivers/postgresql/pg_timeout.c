/*
 * Statement timeouts and cancels. PostgreSQL reports both as SQLSTATE 57014,
 * so the driver remembers which one it asked for.
 *
 * The timeout is PostgreSQL's statement_timeout. A SET inside a transaction
 * block is undone when the block rolls back, so the session-level value is
 * only ever set while the connection is idle; a change asked for inside a
 * block is applied with SET LOCAL for the rest of that block, and at session
 * level once the block is over (pg_timeout_owed). Both are sent with the
 * next command, in the call that sends it: pg_set_timeout itself never waits
 * for the server, since the asynchronous API calls it on its loop thread.
 * The value also bounds every wait for the server (pg_wire.c).
 *
 * Behind a transaction pooler a session-level SET would reach whichever
 * server session the pooler picks, and stay there for another client: the
 * timeout is set only with SET LOCAL, at BEGIN, and around a statement
 * outside a transaction block in a transaction of the driver's own.
 */
#include "pg_internal.h"

#include <stdio.h>
#include <string.h>

static void timeout_sql(const pg_conn *c, const char *scope, char *buf, size_t cap)
{
    snprintf(buf, cap, "SET %s statement_timeout = %d", scope, c->wire.timeout_ms);
}

int pg_timeout_owed(pg_conn *c, pg_runner run, dbal_error *err)
{
    c->timeout_due = 0; /* a block it was asked for in is over */
    if (c->wire.timeout_ms < 0 || c->timeout_applied == c->wire.timeout_ms || c->pooled)
        return DBAL_OK;
    char sql[64];
    timeout_sql(c, "SESSION", sql, sizeof sql);
    int rc = run(c, sql, err);
    if (rc == DBAL_OK)
        c->timeout_applied = c->wire.timeout_ms;
    return rc;
}

int pg_timeout_in_block(pg_conn *c, dbal_error *err)
{
    /* A failed block runs nothing until it ends: then the session's value
     * is set (pg_timeout_owed). */
    if (!c->timeout_due || PQtransactionStatus(c->wire.pg) != PQTRANS_INTRANS)
        return DBAL_OK;
    c->timeout_due = 0;
    char sql[64];
    timeout_sql(c, "LOCAL", sql, sizeof sql);
    return pg_run(c, sql, err);
}

int pg_set_timeout(dbal_driver_conn *base, int milliseconds, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    (void)err;
    c->wire.timeout_ms = milliseconds > 0 ? milliseconds : 0;
    c->timeout_due = 1;
    return DBAL_OK;
}

void pg_timeout_local(const pg_conn *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (c->pooled && c->wire.timeout_ms >= 0)
        snprintf(buf, cap, "; SET LOCAL statement_timeout = %d", c->wire.timeout_ms);
}

int pg_timeout_wrap(pg_conn *c, dbal_error *err)
{
    if (!c->pooled || (c->wire.timeout_ms <= 0 && !c->read_only) || PQtransactionStatus(c->wire.pg) != PQTRANS_IDLE)
        return DBAL_OK;
    char sql[96];
    snprintf(sql, sizeof sql, "BEGIN%s", c->read_only ? " READ ONLY" : "");
    if (c->wire.timeout_ms > 0)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "; SET LOCAL statement_timeout = %d",
                 c->wire.timeout_ms);
    int rc = pg_wire_command(&c->wire, sql, PGRES_COMMAND_OK, NULL, err);
    if (rc == DBAL_OK)
        c->stmts.wrapped = 1;
    return rc;
}
