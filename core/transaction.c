/* Transactions and savepoints, with PostgreSQL's failed-transaction rule
 * enforced by the core so that every driver behaves alike: after a statement
 * fails inside a transaction, everything but a rollback is refused until the
 * failed level is rolled back. */
#include "session.h"

#include "errors.h"

#include <stdio.h>

static int savepoint_sql(dbal_session *s, const char *verb, int level)
{
    char sql[64];
    snprintf(sql, sizeof sql, "%s dbal_sp_%d", verb, level);
    return s->engine->driver->exec(s->conn->dc, sql, NULL, 0, NULL, &s->err);
}

static int need_tx(dbal_session *s, const char *what)
{
    dbal__error_clear(&s->err);
    if (s->depth == 0)
        return dbal__error_set(&s->err, DBAL_EMISUSE, NULL, 0, "%s without a transaction", what);
    return DBAL_OK;
}

int dbal__tx_refuse(dbal_error *err)
{
    return dbal__error_set(err, DBAL_ETXFAILED, "25P02", 0,
                           "current transaction is aborted, commands ignored until rollback");
}

int dbal__tx_rolled_back(dbal_error *err)
{
    return dbal__error_set(err, DBAL_ETXFAILED, "25P02", 0,
                           "a statement in the transaction failed; it was rolled back");
}

static int begin_with_claimed(dbal_session *s, unsigned options)
{
    if (!s)
        return DBAL_EMISUSE;
    dbal__error_clear(&s->err);
    if (s->depth == 0 && (options & ~DBAL__TX_OPTIONS))
        return dbal__error_set(&s->err, DBAL_EINVAL, NULL, 0, "unknown transaction options 0x%x",
                               options & ~DBAL__TX_OPTIONS);
    if (s->depth > 0) {
        if (options)
            return dbal__error_set(&s->err, DBAL_EMISUSE, NULL, 0,
                                   "a nested begin (savepoint) cannot take transaction options");
        if (s->failed)
            return dbal__tx_refuse(&s->err);
        int rc = savepoint_sql(s, "SAVEPOINT", s->depth);
        if (rc)
            return dbal__session_failed(s, rc);
        s->depth++;
        return DBAL_OK;
    }
    int rc = dbal__session_conn(s);
    if (rc)
        return rc;
    rc = s->engine->driver->begin(s->conn->dc, options, &s->err);
    if (rc) {
        dbal__session_drop_broken(s);
        return rc;
    }
    s->depth = 1;
    s->failed = 0;
    return DBAL_OK;
}

int dbal_begin(dbal_session *s)
{
    return dbal_begin_with(s, 0);
}

/* Ends the outermost level with a rollback, whatever state it is in. */
static int rollback_outer(dbal_session *s)
{
    int rc = DBAL_OK;
    s->depth = 0;
    s->failed = 0;
    if (!dbal__conn_unusable(s->conn)) {
        dbal_error e;
        rc = s->engine->driver->rollback(s->conn->dc, &e);
        if (rc) {
            /* It may still hold the transaction: never pool it again. */
            s->conn->discard = 1;
            dbal__error_copy(&s->err, &e);
        }
    }
    dbal__session_drop_broken(s);
    return rc;
}

/* Rolls back to the innermost savepoint and forgets it. */
static int rollback_savepoint(dbal_session *s)
{
    int level = s->depth - 1;
    s->depth--;
    int rc = dbal__conn_unusable(s->conn) ? DBAL_ECONNLOST : savepoint_sql(s, "ROLLBACK TO SAVEPOINT", level);
    if (rc == DBAL_OK)
        rc = savepoint_sql(s, "RELEASE SAVEPOINT", level);
    if (rc) {
        if (rc == DBAL_ECONNLOST && !s->err.code)
            dbal__error_set(&s->err, rc, "08006", 0, "connection to the database lost");
        s->failed = 1;
        return rc;
    }
    s->failed = 0;
    return DBAL_OK;
}

static int commit_claimed(dbal_session *s)
{
    if (!s)
        return DBAL_EMISUSE;
    int rc = need_tx(s, "commit");
    if (rc)
        return rc;
    if (s->depth > 1) {
        if (s->failed) {
            rollback_savepoint(s);
            return dbal__tx_rolled_back(&s->err);
        }
        rc = savepoint_sql(s, "RELEASE SAVEPOINT", s->depth - 1);
        if (rc)
            return dbal__session_failed(s, rc);
        s->depth--;
        return DBAL_OK;
    }
    if (s->failed) {
        rollback_outer(s);
        return dbal__tx_rolled_back(&s->err);
    }
    rc = s->engine->driver->commit(s->conn->dc, &s->err);
    if (rc == DBAL_ENOTREPLICATED) {
        /* Committed (on the primary): nothing is left to roll back. */
        s->depth = 0;
        dbal__session_drop_broken(s);
        return rc;
    }
    if (rc) {
        /* A commit that failed must not leave the transaction open (SQLite
         * keeps it open after SQLITE_BUSY): roll back, keep commit's error. */
        dbal_error keep = s->err;
        rollback_outer(s);
        s->err = keep;
        return rc;
    }
    s->depth = 0;
    dbal__session_drop_broken(s);
    return DBAL_OK;
}

static int rollback_claimed(dbal_session *s)
{
    if (!s)
        return DBAL_EMISUSE;
    /* The error that made the application roll back stays readable after
     * a rollback that succeeds: `if (rc) { dbal_rollback(s); log(...); }`. */
    dbal_error why = s->err;
    int rc = need_tx(s, "rollback");
    if (rc)
        return rc;
    rc = s->depth > 1 ? rollback_savepoint(s) : rollback_outer(s);
    if (rc == DBAL_OK)
        s->err = why;
    return rc;
}

int dbal_tx_depth(const dbal_session *s)
{
    return s ? s->depth : 0;
}

int dbal_begin_with(dbal_session *s, unsigned options)
{
    int rc;
    DBAL__CLAIMED(rc, s, begin_with_claimed(s, options));
    return rc;
}

int dbal_commit(dbal_session *s)
{
    int rc;
    DBAL__CLAIMED(rc, s, commit_claimed(s));
    return rc;
}

int dbal_rollback(dbal_session *s)
{
    int rc;
    DBAL__CLAIMED(rc, s, rollback_claimed(s));
    return rc;
}
