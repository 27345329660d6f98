/*
 * tw_tx.c - transactions of the testing driver. Outside isolation they are
 * the inner driver's. While isolating, a transaction the core begins at
 * depth 0 is SAVEPOINT dbal_testing_tx_<n> inside the test's transaction
 * (n: the connection of ours): commit releases it (its work stays until
 * the test ends), rollback rolls back to it. The core's own savepoints
 * (depth 1 and more) nest inside it unchanged. Transactions of several
 * sessions on the one connection nest: each ends after those begun after
 * it (the engine's stack, e->txs), or fails with DBAL_EMISUSE.
 */
#include "tw.h"

#include <stdio.h>
#include <string.h>

int tw_tx_sql(tw_conn *c, const char *verb, dbal_error *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "%s dbal_testing_tx_%u", verb, c->serial);
    return tw_sql(c->eng, c->inner, sql, err);
}

static void pop(tw_conn *c)
{
    tw_engine *e = c->eng;
    pthread_mutex_lock(&e->lock);
    if (e->ntx > 0 && e->txs[e->ntx - 1] == c)
        e->ntx--;
    pthread_mutex_unlock(&e->lock);
    c->in_tx = c->tx_read_only = 0;
}

int tw_tx_undo(tw_conn *c, dbal_error *err)
{
    int rc = tw_tx_sql(c, "ROLLBACK TO SAVEPOINT", err);
    if (rc == DBAL_OK)
        rc = tw_tx_sql(c, "RELEASE SAVEPOINT", err);
    pop(c);
    return rc;
}

/* Only the newest transaction on the shared connection can end. */
static int newest(tw_conn *c, dbal_error *err)
{
    tw_engine *e = c->eng;
    pthread_mutex_lock(&e->lock);
    int ok = e->ntx > 0 && e->txs[e->ntx - 1] == c;
    pthread_mutex_unlock(&e->lock);
    if (ok)
        return DBAL_OK;
    tw_host->set_error(err, DBAL_EMISUSE, NULL, 0,
                       "testing driver: on the test's one connection, transactions of several sessions nest: "
                       "this one began before another session's, which is still open, and must end after it");
    return DBAL_EMISUSE;
}

/* Isolation levels and DEFERRABLE cannot be set on a savepoint: the
 * test's transaction has the database's default level. Read-only holds:
 * PostgreSQL makes the savepoint's subtransaction read-only; other
 * databases get the driver's read-only mode (tw_enter applies it). */
static int iso_begin(tw_conn *c, unsigned options, dbal_error *err)
{
    tw_engine *e = c->eng;
    pthread_mutex_lock(&e->lock);
    int full = e->ntx == TW_MAX_TX;
    if (!full)
        e->txs[e->ntx++] = c;
    pthread_mutex_unlock(&e->lock);
    if (full) {
        tw_host->set_error(err, DBAL_EMISUSE, NULL, 0, "testing driver: %d transactions open at once",
                           TW_MAX_TX);
        return DBAL_EMISUSE;
    }
    c->in_tx = 1;
    int rc = tw_tx_sql(c, "SAVEPOINT", err);
    if (rc != DBAL_OK) {
        pop(c);
        return rc;
    }
    if (options & DBAL_TX_READ_ONLY) {
        c->tx_read_only = 1;
        rc = e->postgresql ? tw_sql(e, c->inner, "SET TRANSACTION READ ONLY", err) : tw_iso_settings(c, err);
    }
    if (rc != DBAL_OK) {
        dbal_error ignored;
        tw_tx_undo(c, &ignored);
    }
    return rc;
}

int tw_begin(dbal_driver_conn *base, unsigned options, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    tw_fault f;
    int rc = tw_before(c, TW_AT_BEGIN, NULL, &f, err);
    if (rc != DBAL_OK)
        return rc;
    if (c->shared && c->eng->isolating) {
        rc = iso_begin(c, options, err);
    } else {
        rc = c->eng->inner->begin(c->inner, options, err);
        c->in_tx = rc == DBAL_OK;
    }
    return tw_after(c, &f, rc, err);
}

/* A read-only transaction is committed by rolling it back: it changed
 * nothing, and the rollback undoes its read-only mode. A release that
 * fails leaves nothing open. */
static int iso_commit(tw_conn *c, dbal_error *err)
{
    if (!c->in_tx)
        return DBAL_OK;
    int rc = newest(c, err);
    if (rc != DBAL_OK)
        return rc;
    if (c->tx_read_only)
        return tw_tx_undo(c, err);
    if ((rc = tw_tx_sql(c, "RELEASE SAVEPOINT", err)) == DBAL_OK) {
        pop(c);
        return DBAL_OK;
    }
    dbal_error ignored;
    tw_tx_undo(c, &ignored);
    return rc;
}

int tw_commit(dbal_driver_conn *base, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    tw_fault f;
    int rc = tw_before(c, TW_AT_COMMIT, NULL, &f, err);
    if (rc != DBAL_OK)
        return rc; /* nothing committed: the core rolls back */
    if (c->shared && c->eng->isolating) {
        rc = iso_commit(c, err);
    } else {
        rc = c->eng->inner->commit(c->inner, err);
        c->in_tx = 0;
    }
    return tw_after(c, &f, rc, err);
}

int tw_rollback(dbal_driver_conn *base, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    tw_fault f;
    int rc = tw_before(c, TW_AT_ROLLBACK, NULL, &f, err);
    if (rc != DBAL_OK)
        return rc;
    if (!(c->shared && c->eng->isolating))
        rc = c->eng->inner->rollback(c->inner, err);
    else if (c->in_tx && (rc = newest(c, err)) == DBAL_OK)
        rc = tw_tx_undo(c, err);
    if (rc == DBAL_OK || !c->shared)
        c->in_tx = 0;
    return tw_after(c, &f, rc, err);
}
