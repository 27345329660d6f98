/*
 * tw_conn.c - connections of the testing driver: each wraps one of the
 * inner driver's (or, while isolating, takes its turn on the engine's one
 * inner connection), faults before and after a call, and delays that a
 * cancel or the statement timeout cuts short, as they would a slow server.
 */
#include "tw.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int no_memory(dbal_error *err)
{
    tw_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
    return DBAL_ENOMEM;
}

static void conn_free(tw_conn *c)
{
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    tw_host->free(c);
}

static tw_conn *conn_new(tw_engine *e)
{
    tw_conn *c = tw_host->malloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->eng = e;
    c->pid = getpid();
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &attr);
    pthread_condattr_destroy(&attr);
    return c;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Waits ms, as a server slow to answer: a cancel ends the wait with
 * DBAL_ECANCELED, the statement timeout with DBAL_ETIMEOUT (the call then
 * never reaches the server). c NULL: a plain sleep. */
static int delay(tw_conn *c, int ms, dbal_error *err)
{
    if (!c) {
        sleep_ms(ms);
        return DBAL_OK;
    }
    int limit = c->timeout_ms > 0 && c->timeout_ms < ms ? c->timeout_ms : ms;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += limit / 1000;
    until.tv_nsec += (long)(limit % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    c->delaying = 1;
    while (!c->canceled && pthread_cond_timedwait(&c->wake, &c->lock, &until) != ETIMEDOUT)
        ;
    int canceled = c->canceled;
    c->delaying = c->canceled = 0;
    pthread_mutex_unlock(&c->lock);
    if (canceled || limit < ms)
        tw_host->set_error(err, canceled ? DBAL_ECANCELED : DBAL_ETIMEOUT, "57014", 0,
                           canceled
                               ? "canceling statement due to user request (during a delay of dbal_testing)"
                               : "canceling statement due to statement timeout (during a delay of "
                                 "dbal_testing)");
    return canceled ? DBAL_ECANCELED : limit < ms ? DBAL_ETIMEOUT : DBAL_OK;
}

int tw_lose(tw_conn *c, const tw_fault *f, dbal_error *err)
{
    c->base.broken = 1;
    return tw_fault_fail(f, err);
}

int tw_before(tw_conn *c, int point, const char *sql, tw_fault *f, dbal_error *err)
{
    f->action = -1;
    if (c->base.broken) {
        tw_host->set_error(err, DBAL_ECONNLOST, "08006", 0, "testing driver: the connection was lost");
        return DBAL_ECONNLOST;
    }
    int rc = DBAL_OK;
    if (point != TW_AT_NONE && tw_fault_take(c->eng, point, sql, f)) {
        if (f->action == TW_FAIL)
            return tw_fault_fail(f, err);
        if (f->action == TW_LOST)
            return tw_lose(c, f, err);
        if (f->action == TW_DELAY)
            rc = delay(c, f->delay_ms, err);
    }
    return rc == DBAL_OK ? tw_enter(c, 0, err) : rc;
}

int tw_after(tw_conn *c, const tw_fault *f, int rc, dbal_error *err)
{
    if (c->inner && c->inner->broken)
        c->base.broken = 1;
    if (f->action == TW_LOST_AFTER && rc == DBAL_OK) {
        tw_settle(c, err); /* what ran stays, as the server keeps it */
        rc = tw_lose(c, f, err);
    }
    tw_leave(c);
    return rc;
}

/* A fault on a connection being made: the injected error, or a delay. */
static int connect_fault(tw_engine *e, dbal_error *err)
{
    tw_fault f;
    int refused = 0;
    pthread_mutex_lock(&e->lock);
    if (e->refuse_connect) {
        e->refuse_connect = 0;
        f = e->refused;
        refused = 1;
    }
    pthread_mutex_unlock(&e->lock);
    if (refused)
        return tw_fault_fail(&f, err);
    if (!tw_fault_take(e, TW_AT_CONNECT, NULL, &f) && !tw_fault_take(e, TW_AT_CHECKOUT, NULL, &f))
        return DBAL_OK;
    if (f.action == TW_DELAY) {
        delay(NULL, f.delay_ms, err);
        return DBAL_OK;
    }
    return tw_fault_fail(&f, err);
}

int tw_connect(void *ctx, dbal_driver_conn **out, dbal_error *err)
{
    tw_engine *e = ctx;
    int rc = connect_fault(e, err);
    if (rc != DBAL_OK)
        return rc;
    tw_conn *c = conn_new(e);
    if (!c)
        return no_memory(err);
    pthread_mutex_lock(&e->iso_lock);
    pthread_mutex_lock(&e->lock);
    if (e->isolating)
        rc = tw_iso_attach(e, c, err);
    else
        rc = e->inner->connect(e->inner_ctx, &c->inner, err);
    if (rc == DBAL_OK) {
        c->serial = ++e->serial;
        c->next = e->conns;
        e->conns = c;
    }
    pthread_mutex_unlock(&e->lock);
    pthread_mutex_unlock(&e->iso_lock);
    if (rc != DBAL_OK) {
        conn_free(c);
        return rc;
    }
    *out = &c->base;
    return DBAL_OK;
}

static void unlink_conn(tw_engine *e, tw_conn *c)
{
    pthread_mutex_lock(&e->lock);
    for (tw_conn **p = &e->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&e->lock);
}

void tw_disconnect(dbal_driver_conn *base)
{
    tw_conn *c = (tw_conn *)base;
    if (c->pid != getpid()) {
        /* A forked child: memory only. The shared connection is the
         * engine's to close. */
        if (!c->shared)
            c->eng->inner->disconnect(c->inner);
        conn_free(c);
        return;
    }
    if (c->shared)
        tw_iso_detach(c);
    else
        c->eng->inner->disconnect(c->inner);
    unlink_conn(c->eng, c);
    conn_free(c);
}

/* A shared connection is not looked at: another connection of ours may
 * be in a call on it (tw_enter finds it lost). */
static int tw_forward_check(tw_conn *c, int wait, int *fd, dbal_error *err)
{
    if (!c->shared && DBAL_DRIVER_HAS(c->eng->inner, check))
        return c->eng->inner->check(c->inner, wait, fd, err);
    return DBAL_OK;
}

int tw_check(dbal_driver_conn *base, int wait, int *fd, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    tw_engine *e = c->eng;
    *fd = -1;
    tw_fault f;
    if (c->refused)
        return c->refused;
    if (tw_fault_take(e, TW_AT_CHECKOUT, NULL, &f)) {
        if (f.action == TW_DELAY) {
            delay(NULL, f.delay_ms, err); /* a slow checkout */
            return tw_forward_check(c, wait, fd, err);
        }
        /* Refused: the pool discards it and opens another, which the
         * same fault refuses, so the checkout fails with its code. */
        pthread_mutex_lock(&e->lock);
        e->refuse_connect = 1;
        e->refused = f;
        pthread_mutex_unlock(&e->lock);
        c->refused = tw_fault_fail(&f, err);
        return c->refused;
    }
    return tw_forward_check(c, wait, fd, err);
}

int tw_ping(dbal_driver_conn *base, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    tw_fault f;
    int rc = tw_before(c, TW_AT_NONE, NULL, &f, err);
    if (rc != DBAL_OK)
        return rc;
    if (DBAL_DRIVER_HAS(c->eng->inner, ping))
        rc = c->eng->inner->ping(c->inner, err);
    else
        rc = c->eng->inner->exec(c->inner, "SELECT 1", NULL, 0, NULL, err);
    return tw_after(c, &f, rc, err);
}

/* While isolating, the server session is the test's: a reset (DISCARD
 * ALL on PostgreSQL) cannot run inside its transaction, so what a
 * session sets stays for the next one of the same test. */
int tw_reset(dbal_driver_conn *base, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    if (c->shared || !DBAL_DRIVER_HAS(c->eng->inner, reset))
        return DBAL_OK;
    int rc = c->eng->inner->reset(c->inner, err);
    if (c->inner->broken)
        c->base.broken = 1;
    return rc;
}

int tw_cancel(dbal_driver_conn *base)
{
    tw_conn *c = (tw_conn *)base;
    pthread_mutex_lock(&c->lock);
    int delaying = c->delaying;
    if (delaying) {
        c->canceled = 1;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->lock);
    tw_engine *e = c->eng;
    if (delaying)
        return DBAL_OK;
    if (!DBAL_DRIVER_HAS(e->inner, cancel))
        return DBAL_EUNSUPPORTED;
    if (!c->shared)
        return e->inner->cancel(c->inner);
    /* On the shared connection only c's own call is interrupted. */
    pthread_mutex_lock(&e->lock);
    int rc = e->iso_active == c ? e->inner->cancel(c->inner) : DBAL_OK;
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int tw_set_timeout(dbal_driver_conn *base, int milliseconds, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    if (!DBAL_DRIVER_HAS(c->eng->inner, set_timeout)) {
        if (milliseconds <= 0)
            return DBAL_OK;
        tw_host->set_error(err, DBAL_EUNSUPPORTED, "0A000", 0, "the %s driver has no statement timeout",
                           c->eng->inner_name);
        return DBAL_EUNSUPPORTED;
    }
    /* On the shared connection it is applied when c's calls come. */
    int rc = c->shared ? DBAL_OK : c->eng->inner->set_timeout(c->inner, milliseconds, err);
    if (rc == DBAL_OK)
        c->timeout_ms = milliseconds;
    return rc;
}

int tw_set_read_only(dbal_driver_conn *base, int on, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    int rc = DBAL_OK;
    if (!c->shared && DBAL_DRIVER_HAS(c->eng->inner, set_read_only))
        rc = c->eng->inner->set_read_only(c->inner, on, err);
    if (rc == DBAL_OK)
        c->read_only = on;
    return rc;
}

int tw_last_insert_id(dbal_driver_conn *base, int64_t *out, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    if (DBAL_DRIVER_HAS(c->eng->inner, last_insert_id)) {
        int rc = tw_enter(c, 1, err);
        if (rc != DBAL_OK)
            return rc;
        rc = c->eng->inner->last_insert_id(c->inner, out, err);
        tw_leave(c);
        return rc;
    }
    tw_host->set_error(err, DBAL_EUNSUPPORTED, "0A000", 0, "the %s driver has no last insert id",
                       c->eng->inner_name);
    return DBAL_EUNSUPPORTED;
}
