/*
 * The reset between two sessions of a pooled connection, and the check of
 * an idle connection at checkout.
 *
 * Whatever a session did to its server session is undone before the
 * connection serves another one, without guessing from the SQL it ran (a
 * comment before SET, set_config() in a SELECT, a function that takes an
 * advisory lock all escape a look at the text). The reset is PgBouncer's
 * DISCARD ALL, less DEALLOCATE ALL and DISCARD PLANS, so that the
 * statement cache stays warm:
 *
 *   CLOSE ALL                          cursors WITH HOLD
 *   SET SESSION AUTHORIZATION DEFAULT  SET SESSION AUTHORIZATION, SET ROLE
 *   RESET ALL                          SET, set_config(), SET SESSION CHARACTERISTICS
 *   UNLISTEN *                         LISTEN
 *   pg_advisory_unlock_all()           session advisory locks
 *   DISCARD TEMP                       temporary tables
 *   DISCARD SEQUENCES                  currval() / lastval()
 *
 * and a question: are there prepared statements that SQL made (PREPARE,
 * also run from a function)? The driver's own are made through the
 * protocol (from_sql false); when there are, DEALLOCATE ALL follows and
 * the cache forgets its statements, so that it never names one the server
 * dropped.
 *
 * The reset is sent when the connection is given back and not waited for:
 * its answer is read at the next checkout (pg_check) or before the next
 * command (pg_conn_ready), so a pooled session pays no round trip for it.
 * Its statements are prepared once per connection and run in one pipeline
 * (one sync): parsing and planning them each time cost the server two and
 * a half times as much (the catalog query most of all). Behind a pooler,
 * where named statements cannot be used, they go unnamed.
 */
#include "pg_driver.h"

#include <stdio.h>
#include <string.h>

static const char *const reset_sql[] = {
    "CLOSE ALL",
    "SET SESSION AUTHORIZATION DEFAULT",
    "RESET ALL",
    "UNLISTEN *",
    "DISCARD TEMP",
    "DISCARD SEQUENCES",
    /* The last: its one row says whether SQL made prepared statements. */
    "SELECT pg_advisory_unlock_all(), EXISTS (SELECT 1 FROM pg_prepared_statements WHERE from_sql)",
};
#define NRESET (sizeof reset_sql / sizeof reset_sql[0])
/* RESET ALL undid the engine's statement timeout: set again, as text. */
#define TIMEOUT_SQL "SELECT set_config('statement_timeout', $1, false)"
#define TIMEOUT_STMT NRESET

/* How long a checkout waits for the answer to a reset when it has not
 * arrived (the server is slow, or hung): then the connection is dropped
 * and another one made. */
#define RESET_WAIT_SECONDS 5.0

/* The connection is dropped. Its socket is shut down as well, so that a
 * command sent on it before the core notices fails rather than runs in a
 * server session whose state is not known. */
static int failed(pg_conn *c, const char *why, dbal_error *err)
{
    char reason[sizeof err->message];
    snprintf(reason, sizeof reason, "%s", why); /* why may be err->message */
    c->wire.base.broken = 1;
    c->reset.state = PG_RESET_NONE;
    pg_wire_shutdown(&c->wire);
    pg_host->set_error(err, DBAL_ECONNLOST, "08006", 0, "the pooled connection could not be reset: %s",
                       reason);
    return DBAL_ECONNLOST;
}

/* The statements' names, one per reset_sql entry and the timeout's: written
 * out, as an snprintf per statement was ≈ 700 instructions, 7 times per
 * session given back (bench W7). */
static const char *const stmt_names[NRESET + 1] = {
    "dbal_reset_0", "dbal_reset_1", "dbal_reset_2", "dbal_reset_3",
    "dbal_reset_4", "dbal_reset_5", "dbal_reset_6", "dbal_reset_7",
};
_Static_assert(NRESET + 1 == 8, "one name per reset statement and the timeout's");

/* Queues statement i of the reset (TIMEOUT_STMT: the timeout, with its
 * value): by name once prepared, unnamed when the policy has no named
 * statements (behind a pooler). */
static int send_one(pg_conn *c, size_t i, const char *value)
{
    const char *sql = i == TIMEOUT_STMT ? TIMEOUT_SQL : reset_sql[i];
    int n = i == TIMEOUT_STMT;
    const char *const *values = n ? &value : NULL;
    if (!c->policy->named_statements)
        return PQsendQueryParams(c->wire.pg, sql, n, NULL, values, NULL, NULL, 0);
    const char *name = stmt_names[i];
    int prepared = i == TIMEOUT_STMT ? c->reset.timeout_prepared : c->reset.prepared;
    if (!prepared && !PQsendPrepare(c->wire.pg, name, sql, n, NULL))
        return 0;
    return PQsendQueryPrepared(c->wire.pg, name, n, values, NULL, NULL, 0);
}

static int send_reset(pg_conn *c)
{
    if (!PQenterPipelineMode(c->wire.pg))
        return 0;
    for (size_t i = 0; i < NRESET; i++)
        if (!send_one(c, i, NULL))
            return 0;
    if (c->settings.timeout_applied >= 0) {
        char value[16];
        snprintf(value, sizeof value, "%d", c->settings.timeout_applied);
        if (!send_one(c, TIMEOUT_STMT, value))
            return 0;
    }
    /* Evicted statements of the cache, folded in. */
    for (size_t i = 0; i < c->stmts.npending; i++) {
        char sql[PG_STMT_NAME_LEN + 16];
        pg_stmt_deallocate_sql(c->stmts.pending[i], sql, sizeof sql);
        if (!PQsendQueryParams(c->wire.pg, sql, 0, NULL, NULL, NULL, NULL, 0))
            return 0;
    }
    return PQpipelineSync(c->wire.pg);
}

int pg_reset(dbal_driver_conn *base, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    /* No wait here: a connection is given back on the asynchronous API's
     * loop thread too. The core closed its cursors; an earlier reset was
     * read at checkout. */
    if (c->wire.base.broken || c->wire.gave_up || c->stmts.streaming || c->reset.state != PG_RESET_NONE)
        return failed(c, "the connection is broken", err);
    if (PQtransactionStatus(c->wire.pg) != PQTRANS_IDLE)
        return failed(c, "it is not idle", err);
    /* The connection is non-blocking (pg_wire.c): what does not fit the
     * socket now is flushed while the answer is awaited. */
    if (!send_reset(c) || PQflush(c->wire.pg) < 0)
        return failed(c, PQerrorMessage(c->wire.pg), err);
    c->reset.prepared = c->policy->named_statements;
    /* The timeout's statement is sent only for a connection whose session
     * had a timeout: prepared by the first reset that sent it, not by an
     * earlier one without it. */
    if (c->settings.timeout_applied >= 0)
        c->reset.timeout_prepared = c->policy->named_statements;
    c->stmts.npending = 0;
    /* RESET ALL took the session's default back to read-write. */
    c->settings.read_only_set = 0;
    c->reset.state = PG_RESET_SENT;
    c->wire.notice_fatal = 0;
    return DBAL_OK;
}

/* The statements of the cache (and the reset's) are about to be dropped
 * by DEALLOCATE ALL: the cache lets them go without a DEALLOCATE of its
 * own. */
static void forget_statements(pg_conn *c)
{
    pg_stmts_forget_all(&c->stmts);
    c->reset.prepared = 0;
    c->reset.timeout_prepared = 0;
}

/* Reads the reset's results as far as they have come: DBAL_EBUSY until
 * its sync (and that of a DEALLOCATE ALL it needed) has been read. */
static int take_results(pg_conn *c, dbal_error *err)
{
    PGresult *res;
    while (!PQisBusy(c->wire.pg)) {
        if (!(res = PQgetResult(c->wire.pg)))
            continue; /* the end of one statement's results */
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            if (!PQexitPipelineMode(c->wire.pg))
                return failed(c, PQerrorMessage(c->wire.pg), err);
            if (c->reset.state == PG_RESET_DEALLOCATING || !c->reset.sql_prepared) {
                c->reset.state = PG_RESET_NONE;
                return DBAL_OK;
            }
            /* SQL made prepared statements: dropped as well. */
            c->reset.sql_prepared = 0;
            forget_statements(c);
            if (!PQenterPipelineMode(c->wire.pg) ||
                !PQsendQueryParams(c->wire.pg, "DEALLOCATE ALL", 0, NULL, NULL, NULL, NULL, 0) ||
                !PQpipelineSync(c->wire.pg))
                return failed(c, PQerrorMessage(c->wire.pg), err);
            c->reset.state = PG_RESET_DEALLOCATING;
            continue;
        }
        if (st == PGRES_TUPLES_OK && PQnfields(res) == 2 && PQntuples(res) == 1)
            c->reset.sql_prepared = PQgetvalue(res, 0, 1)[0] == 't';
        else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            int rc = failed(c, PQresultErrorMessage(res), err);
            PQclear(res);
            return rc;
        }
        PQclear(res);
    }
    return DBAL_EBUSY;
}

int pg_reset_collect(pg_conn *c, int wait, dbal_error *err)
{
    while (c->reset.state != PG_RESET_NONE) {
        if (PQisBusy(c->wire.pg)) {
            if (!pg_wire_readable_within(&c->wire, wait ? RESET_WAIT_SECONDS : 0))
                return wait ? failed(c, "the server did not answer in time", err) : DBAL_EBUSY;
            if (!PQconsumeInput(c->wire.pg))
                return failed(c, PQerrorMessage(c->wire.pg), err);
            if (PQisBusy(c->wire.pg))
                continue;
        }
        int rc = take_results(c, err);
        if (rc != DBAL_EBUSY)
            return rc;
    }
    return DBAL_OK;
}

int pg_check(dbal_driver_conn *base, int wait, int *fd, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    *fd = -1;
    if (c->wire.base.broken)
        return failed(c, "the connection is broken", err);
    int rc = pg_reset_collect(c, wait, err);
    if (rc == DBAL_EBUSY)
        *fd = PQsocket(c->wire.pg);
    if (rc != DBAL_OK)
        return rc;
    /* A cancel request still on its way (an async deadline's, a commit's
     * own) would interrupt the next holder's command: an async checkout
     * (wait 0) lets a worker wait for it; one that never arrives within
     * the grace goes with the connection, whose backend then exits. The
     * blocking path settles before every command (pg_conn_ready). */
    if (pg_cancel_in_flight(&c->wire)) {
        if (!wait)
            return DBAL_EBUSY;
        if (!pg_cancel_settle(&c->wire))
            return failed(c, "a cancel request to it did not reach the server", err);
    }
    /* Input on an idle connection: the server's goodbye. */
    if (pg_wire_closed_while_idle(&c->wire)) {
        c->wire.base.broken = 1;
        pg_host->set_error(err, DBAL_ECONNLOST, "08006", 0,
                           "the server closed the connection while it was idle in the pool");
        return DBAL_ECONNLOST;
    }
    return DBAL_OK;
}
