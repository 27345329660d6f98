/*
 * tw_iso.c - isolation: everything a test does stays inside one
 * transaction of ours on one inner connection, which no commit of the
 * code under test can end, and which is rolled back afterwards.
 *
 *   isolate begin     BEGIN on one inner connection, which every connection
 *                     of ours (those open now too) uses from then on
 *   isolate mark      SAVEPOINT dbal_testing_test: what is there now (a
 *                     schema) is where every test starts
 *   isolate rollback  back to the mark (or to the begin): the test's work
 *                     is gone
 *   isolate end       ROLLBACK: everything is gone; the connections of ours
 *                     are given up (the pool replaces them)
 *
 * The connections of ours (as many as the pool keeps) take turns on the
 * inner one, a call at a time, so every session sees what the others did,
 * committed or not. A transaction the core begins on one of them is
 * SAVEPOINT dbal_testing_tx_<n> (tw_tx.c): transactions of several
 * sessions nest, and must end in the reverse order. A statement outside a
 * transaction runs under SAVEPOINT dbal_testing_stmt, a cursor's until it
 * closes or another call comes. The commands run between tests.
 */
#include "tw.h"

#include <string.h>
#include <unistd.h>

#define TEST_SAVEPOINT "dbal_testing_test"
#define STMT_SAVEPOINT "dbal_testing_stmt"

int tw_sql(tw_engine *e, dbal_driver_conn *inner, const char *sql, dbal_error *err)
{
    return e->inner->exec(inner, sql, NULL, 0, NULL, err);
}

static int refuse(dbal_error *err, int code, const char *why)
{
    tw_host->set_error(err, code, NULL, 0, "testing driver: %s", why);
    return code;
}

/* The settings of c on the shared connection: its statement timeout and
 * read-only mode (a read-only transaction's too, but on PostgreSQL, where
 * the transaction itself is read-only: tw_tx.c). */
static int apply_settings(tw_engine *e, int timeout_ms, int read_only, dbal_error *err)
{
    dbal_driver_conn *inner = e->iso->inner;
    int rc = DBAL_OK;
    if (timeout_ms != e->applied_timeout && DBAL_DRIVER_HAS(e->inner, set_timeout) &&
        (rc = e->inner->set_timeout(inner, timeout_ms, err)) == DBAL_OK)
        e->applied_timeout = timeout_ms;
    if (rc == DBAL_OK && read_only != e->applied_read_only && DBAL_DRIVER_HAS(e->inner, set_read_only) &&
        (rc = e->inner->set_read_only(inner, read_only, err)) == DBAL_OK)
        e->applied_read_only = read_only;
    return rc;
}

int tw_iso_settings(tw_conn *c, dbal_error *err)
{
    return apply_settings(c->eng, c->timeout_ms, c->read_only || (c->tx_read_only && !c->eng->postgresql),
                          err);
}

int tw_enter(tw_conn *c, int cursor, dbal_error *err)
{
    if (!c->shared)
        return DBAL_OK;
    tw_engine *e = c->eng;
    pthread_mutex_lock(&e->iso_lock);
    pthread_mutex_lock(&e->lock);
    e->iso_active = c;
    pthread_mutex_unlock(&e->lock);
    int rc = DBAL_OK;
    if (c->shared->inner->broken || c->shared != e->iso)
        rc = refuse(err, DBAL_ECONNLOST, "the test's connection was lost");
    else if (!cursor && e->auto_conn)
        rc = tw_settle(e->auto_conn, err);
    if (rc == DBAL_OK && !cursor)
        rc = tw_iso_settings(c, err);
    if (rc != DBAL_OK) {
        if (rc == DBAL_ECONNLOST)
            c->base.broken = 1;
        tw_leave(c);
    }
    return rc;
}

void tw_leave(tw_conn *c)
{
    if (!c->shared)
        return;
    tw_engine *e = c->eng;
    pthread_mutex_lock(&e->lock);
    e->iso_active = NULL;
    pthread_mutex_unlock(&e->lock);
    pthread_mutex_unlock(&e->iso_lock);
}

static int rollback_to(tw_engine *e, dbal_driver_conn *inner, const char *name, dbal_error *err)
{
    char sql[64];
    strcpy(sql, "ROLLBACK TO SAVEPOINT ");
    strcat(sql, name);
    int rc = tw_sql(e, inner, sql, err);
    if (rc == DBAL_OK) {
        strcpy(sql, "RELEASE SAVEPOINT ");
        strcat(sql, name);
        rc = tw_sql(e, inner, sql, err);
    }
    return rc;
}

int tw_auto_open(tw_conn *c, dbal_error *err)
{
    tw_engine *e = c->eng;
    if (!c->shared || !e->isolating || c->in_tx)
        return DBAL_OK;
    int rc = e->auto_conn ? tw_settle(e->auto_conn, err) : DBAL_OK;
    if (rc == DBAL_OK)
        rc = tw_sql(e, c->inner, "SAVEPOINT " STMT_SAVEPOINT, err);
    if (rc == DBAL_OK) {
        c->auto_open = 1;
        c->auto_failed = 0;
        c->auto_owner = NULL;
        e->auto_conn = c;
    }
    return rc;
}

int tw_auto_end(tw_conn *c, int rc, dbal_error *err)
{
    if (!c->auto_open)
        return rc;
    if (rc == DBAL_OK)
        return tw_settle(c, err);
    c->auto_failed = 1;
    dbal_error ignored; /* the statement's error is the one to report */
    tw_settle(c, &ignored);
    return rc;
}

/* A release that fails (a cursor's rows failed when the release pulled
 * them in) is rolled back to instead: the test's transaction goes on. */
int tw_settle(tw_conn *c, dbal_error *err)
{
    if (!c->auto_open)
        return DBAL_OK;
    c->auto_open = 0;
    c->auto_owner = NULL;
    if (c->eng->auto_conn == c)
        c->eng->auto_conn = NULL;
    int rc = DBAL_ERROR;
    if (!c->auto_failed)
        rc = tw_sql(c->eng, c->inner, "RELEASE SAVEPOINT " STMT_SAVEPOINT, err);
    if (rc != DBAL_OK)
        rc = rollback_to(c->eng, c->inner, STMT_SAVEPOINT, err);
    return rc;
}

static tw_shared *shared_new(tw_engine *e, dbal_driver_conn *inner)
{
    tw_shared *s = tw_host->malloc(sizeof *s);
    if (s) {
        s->inner = inner;
        s->refs = 0;
        e->applied_timeout = e->applied_read_only = 0;
    }
    return s;
}

static void shared_release(tw_engine *e, tw_shared *s)
{
    if (--s->refs > 0 || s == e->iso)
        return;
    e->inner->disconnect(s->inner);
    tw_host->free(s);
}

/* A new shared connection in a transaction of ours. Under e->lock. */
static int shared_open(tw_engine *e, dbal_driver_conn *inner, dbal_error *err)
{
    int own = inner == NULL;
    int rc = own ? e->inner->connect(e->inner_ctx, &inner, err) : DBAL_OK;
    if (rc == DBAL_OK && (rc = e->inner->begin(inner, 0, err)) != DBAL_OK && own)
        e->inner->disconnect(inner);
    if (rc == DBAL_OK && !(e->iso = shared_new(e, inner))) {
        if (own)
            e->inner->disconnect(inner);
        rc = refuse(err, DBAL_ENOMEM, "out of memory");
    }
    e->marked = 0;
    e->ntx = 0;
    e->auto_conn = NULL;
    return rc;
}

int tw_iso_attach(tw_engine *e, tw_conn *c, dbal_error *err)
{
    if (getpid() != e->pid)
        return refuse(err, DBAL_EMISUSE, "an isolated engine cannot be used from a forked child");
    if (e->iso && e->iso->inner->broken) {
        /* Really lost, and the test's work with it: a new transaction. */
        tw_shared *gone = e->iso;
        e->iso = NULL;
        gone->refs++;
        shared_release(e, gone);
    }
    int rc = e->iso ? DBAL_OK : shared_open(e, NULL, err);
    if (rc != DBAL_OK)
        return rc;
    c->shared = e->iso;
    c->shared->refs++;
    c->inner = c->shared->inner;
    return DBAL_OK;
}

/* Takes c's transaction off the stack, wherever it is. */
static void tx_forget(tw_engine *e, tw_conn *c)
{
    for (int i = 0; i < e->ntx; i++)
        if (e->txs[i] == c) {
            memmove(&e->txs[i], &e->txs[i + 1], (size_t)(e->ntx - i - 1) * sizeof *e->txs);
            e->ntx--;
            break;
        }
    c->in_tx = c->tx_read_only = 0;
}

void tw_iso_detach(tw_conn *c)
{
    tw_engine *e = c->eng;
    dbal_error ignored;
    pthread_mutex_lock(&e->iso_lock);
    if (c->shared == e->iso && !c->shared->inner->broken) {
        tw_settle(c, &ignored);
        /* Only the newest transaction can be undone alone; an older one
         * stays in the test's transaction (README). */
        if (c->in_tx && e->ntx > 0 && e->txs[e->ntx - 1] == c)
            tw_tx_undo(c, &ignored);
    }
    pthread_mutex_lock(&e->lock);
    tx_forget(e, c);
    if (e->auto_conn == c)
        e->auto_conn = NULL;
    shared_release(e, c->shared);
    c->shared = NULL;
    c->inner = NULL;
    pthread_mutex_unlock(&e->lock);
    pthread_mutex_unlock(&e->iso_lock);
}

void tw_iso_close(tw_engine *e)
{
    /* Closing the connection ends the transaction: the server rolls it
     * back (also in a forked child, where nothing may be sent). */
    if (e->iso && e->iso->refs == 0) {
        e->inner->disconnect(e->iso->inner);
        tw_host->free(e->iso);
    }
    e->iso = NULL;
}

/* BEGIN on a connection the engine has (idle in its pool), or a new one;
 * every connection of ours uses it from now on. */
static int iso_begin(tw_engine *e, dbal_error *err)
{
    if (e->isolating)
        return refuse(err, DBAL_EMISUSE, "isolation has begun already");
    for (tw_conn *c = e->conns; c; c = c->next)
        if (c->in_tx || c->auto_open)
            return refuse(err, DBAL_EMISUSE, "isolation cannot begin while a session uses the engine");
    if (e->iso) { /* left by isolate end, with connections of ours on it */
        tw_shared *old = e->iso;
        e->iso = NULL;
        old->refs++;
        shared_release(e, old);
    }
    tw_conn *first = e->conns && !e->conns->shared ? e->conns : NULL;
    int rc = shared_open(e, first ? first->inner : NULL, err);
    if (rc != DBAL_OK)
        return rc;
    for (tw_conn *c = e->conns; c; c = c->next) {
        if (c->shared)
            shared_release(e, c->shared);
        else if (c != first)
            e->inner->disconnect(c->inner);
        c->shared = e->iso;
        c->shared->refs++;
        c->inner = e->iso->inner;
    }
    e->isolating = 1;
    return DBAL_OK;
}

/* Ready for a command: no statement savepoint, no transaction of a
 * session (one left open by a session that never closed is forgotten:
 * the rollback undoes it), the default settings. */
static int quiesce(tw_engine *e, dbal_error *err)
{
    dbal_error ignored;
    if (e->auto_conn)
        tw_settle(e->auto_conn, &ignored);
    while (e->ntx > 0)
        tx_forget(e, e->txs[e->ntx - 1]);
    return apply_settings(e, 0, 0, err);
}

static int iso_mark(tw_engine *e, dbal_error *err)
{
    if (e->ntx > 0)
        return refuse(err, DBAL_EMISUSE, "a mark cannot be set while a session's transaction is open");
    int rc = quiesce(e, err);
    if (rc == DBAL_OK && e->marked)
        rc = tw_sql(e, e->iso->inner, "RELEASE SAVEPOINT " TEST_SAVEPOINT, err);
    if (rc == DBAL_OK)
        rc = tw_sql(e, e->iso->inner, "SAVEPOINT " TEST_SAVEPOINT, err);
    e->marked = rc == DBAL_OK;
    return rc;
}

static int iso_rollback(tw_engine *e, dbal_error *err)
{
    int rc = quiesce(e, err);
    if (rc == DBAL_OK && e->marked)
        return tw_sql(e, e->iso->inner, "ROLLBACK TO SAVEPOINT " TEST_SAVEPOINT, err);
    if (rc == DBAL_OK)
        rc = e->inner->rollback(e->iso->inner, err);
    return rc == DBAL_OK ? e->inner->begin(e->iso->inner, 0, err) : rc;
}

/* The connections of ours on it are given up: the pool discards them and
 * opens new ones of their own. The shared one closes with the last. */
static int iso_end(tw_engine *e, dbal_error *err)
{
    int rc = quiesce(e, err);
    int rolled = e->inner->rollback(e->iso->inner, err);
    for (tw_conn *c = e->conns; c; c = c->next)
        if (c->shared)
            c->base.broken = 1;
    e->isolating = e->marked = 0;
    return rc != DBAL_OK ? rc : rolled;
}

int tw_iso_command(tw_engine *e, const char *verb, dbal_error *err)
{
    pthread_mutex_lock(&e->iso_lock);
    pthread_mutex_lock(&e->lock);
    int rc;
    if (strcmp(verb, "begin") == 0)
        rc = iso_begin(e, err);
    else if (!e->isolating)
        rc = refuse(err, DBAL_EMISUSE, "isolation has not begun (isolate begin)");
    else if (!e->iso || e->iso->inner->broken)
        rc = refuse(err, DBAL_ECONNLOST, "the test's connection was lost");
    else if (strcmp(verb, "mark") == 0)
        rc = iso_mark(e, err);
    else if (strcmp(verb, "rollback") == 0)
        rc = iso_rollback(e, err);
    else if (strcmp(verb, "end") == 0)
        rc = iso_end(e, err);
    else
        rc = refuse(err, DBAL_EINVAL, "isolate begin, mark, rollback or end");
    pthread_mutex_unlock(&e->lock);
    pthread_mutex_unlock(&e->iso_lock);
    return rc;
}
