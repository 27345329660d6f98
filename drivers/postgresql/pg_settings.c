/*
 * Session settings: the statement timeout and read-only, applied as the
 * connection's policy says (pg_policy.h).
 *
 * The timeout is PostgreSQL's statement_timeout; it also bounds every wait
 * for the server (pg_wire.c), and tells a timeout from a cancel
 * (pg_errors.c). A SET inside a transaction block is undone when the block
 * rolls back, so the session-level value is only ever set while the
 * connection is idle; a change asked for inside a block is applied with
 * SET LOCAL for the rest of that block, and at session level once the
 * block is over (pg_settings_owed). Both are sent with the next command,
 * in the call that sends it: pg_set_timeout and pg_set_read_only never
 * wait for the server, since the asynchronous API calls them on its loop
 * thread.
 *
 * Without session settings (behind a transaction pooler) a session-level
 * SET would reach whichever server session the pooler picks, and stay
 * there for another client: the timeout is set only with SET LOCAL, at
 * BEGIN and around a statement outside a transaction block in a
 * transaction of the driver's own, which is begun READ ONLY for a
 * read-only session.
 */
#include "pg_driver.h"

#include <stdio.h>
#include <string.h>

static void timeout_sql(const pg_conn *c, const char *scope, char *buf, size_t cap)
{
    snprintf(buf, cap, "SET %s statement_timeout = %d", scope, c->wire.timeout_ms);
}

int pg_settings_owed(pg_conn *c, pg_runner run, dbal_error *err)
{
    pg_settings *s = &c->settings;
    s->timeout_due = 0; /* a block it was asked for in is over */
    if (!c->policy->session_settings)
        return DBAL_OK;
    if (s->read_only_set != s->read_only) {
        int rc = run(c,
                     s->read_only ? "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
                                  : "RESET default_transaction_read_only",
                     err);
        if (rc != DBAL_OK)
            return rc;
        s->read_only_set = s->read_only;
    }
    if (c->wire.timeout_ms < 0 || s->timeout_applied == c->wire.timeout_ms)
        return DBAL_OK;
    char sql[64];
    timeout_sql(c, "SESSION", sql, sizeof sql);
    int rc = run(c, sql, err);
    if (rc == DBAL_OK)
        s->timeout_applied = c->wire.timeout_ms;
    return rc;
}

int pg_settings_in_block(pg_conn *c, dbal_error *err)
{
    /* A failed block runs nothing until it ends: then the session's value
     * is set (pg_settings_owed). */
    if (!c->settings.timeout_due || PQtransactionStatus(c->wire.pg) != PQTRANS_INTRANS)
        return DBAL_OK;
    c->settings.timeout_due = 0;
    char sql[64];
    timeout_sql(c, "LOCAL", sql, sizeof sql);
    return pg_wire_command(&c->wire, sql, PGRES_COMMAND_OK, NULL, err);
}

int pg_set_timeout(dbal_driver_conn *base, int milliseconds, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    (void)err;
    c->wire.timeout_ms = milliseconds > 0 ? milliseconds : 0;
    c->settings.timeout_due = 1;
    return DBAL_OK;
}

void pg_settings_begin(const pg_conn *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!c->policy->session_settings && c->wire.timeout_ms >= 0)
        snprintf(buf, cap, "; SET LOCAL statement_timeout = %d", c->wire.timeout_ms);
}

int pg_settings_wrap(pg_conn *c, dbal_error *err)
{
    int read_only = c->settings.read_only;
    if (c->policy->session_settings || (c->wire.timeout_ms <= 0 && !read_only) ||
        PQtransactionStatus(c->wire.pg) != PQTRANS_IDLE)
        return DBAL_OK;
    char sql[96];
    snprintf(sql, sizeof sql, "BEGIN%s", read_only ? " READ ONLY" : "");
    if (c->wire.timeout_ms > 0)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "; SET LOCAL statement_timeout = %d",
                 c->wire.timeout_ms);
    int rc = pg_wire_command(&c->wire, sql, PGRES_COMMAND_OK, NULL, err);
    if (rc == DBAL_OK)
        c->stmts.wrapped = 1;
    return rc;
}

/* With session settings, the session default covers statements outside a
 * transaction block too, set with the next command (pg_settings_owed), so
 * that this never waits for the server: the asynchronous API calls it on
 * its loop thread. Without, every transaction is begun READ ONLY instead
 * (pg_begin, pg_settings_wrap). */
int pg_set_read_only(dbal_driver_conn *base, int on, dbal_error *err)
{
    (void)err;
    ((pg_conn *)base)->settings.read_only = on != 0;
    return DBAL_OK;
}
