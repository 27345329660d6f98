#include "pool.h"

#include "alloc.h"
#include "engine.h"
#include "errors.h"
#include "fork.h"
#include "list.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Skip pre-ping for a connection used this recently (HikariCP's bypass
 * window): a busy service should not pay a round trip per checkout. */
#define PRE_PING_BYPASS_SECONDS 0.5

double dbal__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int dbal__pool_init(dbal__pool *p, const dbal_driver *d, void *ctx, const dbal__engine_opts *o)
{
    *p = (dbal__pool){.driver = d, .driver_ctx = ctx, .opts = *o, .pid = dbal__pid()};
    return pthread_mutex_init(&p->lock, NULL) == 0 ? DBAL_OK : DBAL_ENOMEM;
}

static void emit(dbal__pool *p, dbal_event ev, const char *label)
{
    if (p->hook)
        p->hook(p->hook_userdata, ev, label ? label : "");
}

static int limit(const dbal__pool *p)
{
    return p->opts.pool_size + p->opts.max_overflow;
}

static void close_conn(dbal__pool *p, dbal__conn *c)
{
    p->driver->disconnect(c->dc);
    dbal__free(c);
}

/*
 * Called with the lock held. In a child forked after the pool was used,
 * the lists are copies of the parent's: the connections are the parent's
 * (a connection belongs to the process that opened it) and the waiters are
 * threads that do not exist here. The child starts from an empty pool: the
 * parent's idle connections are dropped (in a child, a driver's disconnect
 * frees memory only, so it is quick enough for the lock), and those its
 * sessions hold are dropped when they come back (dbal__pool_return).
 */
static void leave_parent(dbal__pool *p)
{
    pid_t self = dbal__pid();
    if (p->pid == self)
        return;
    for (dbal__conn *c = p->idle, *next; c; c = next) {
        next = c->next;
        close_conn(p, c);
    }
    p->idle = NULL;
    p->nidle = p->nopen = p->nwaiting = 0;
    p->wait_head = p->wait_tail = NULL;
    p->in_use = NULL;
    p->stats = (dbal_engine_stats){0};
    p->pid = self;
}

/* Called with the lock held. Removes and returns the oldest waiter. */
static dbal__waiter *pop_waiter(dbal__pool *p)
{
    dbal__waiter *w = p->wait_head;
    if (w) {
        p->wait_head = w->next;
        if (!p->wait_head)
            p->wait_tail = NULL;
        p->nwaiting--;
    }
    return w;
}

/* Returns whether w was still in line. */
static int unlink_waiter(dbal__pool *p, dbal__waiter *w)
{
    dbal__waiter **pp = &p->wait_head, *prev = NULL;
    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return 0;
    *pp = w->next;
    if (p->wait_tail == w)
        p->wait_tail = prev;
    p->nwaiting--;
    return 1;
}

/* Called with the lock held, once w's conn, slot or failed is set. */
static void wake(dbal__waiter *w)
{
    if (w->wake)
        w->wake(w->ud);
    else
        pthread_cond_signal(&w->cond);
}

/* Called with the lock held: a connection slot came free; the oldest waiter
 * gets the right to open a connection in it. */
static int hand_slot(dbal__pool *p)
{
    dbal__waiter *w = pop_waiter(p);
    if (!w)
        return 0;
    p->nopen++;
    w->slot = 1;
    wake(w);
    return 1;
}

static int ping(dbal__pool *p, dbal__conn *c)
{
    dbal_error err;
    if (DBAL_DRIVER_HAS(p->driver, ping))
        return p->driver->ping(c->dc, &err);
    return p->driver->exec(c->dc, "SELECT 1", NULL, 0, NULL, &err);
}

/* Whether an idle connection may be handed out without a ping: 1 yes, 0
 * no (broken or too old), -1 only after a ping. Cheap: taken under the
 * pool lock. */
static int usable_as_is(const dbal__pool *p, const dbal__conn *c, double now)
{
    if (dbal__conn_unusable(c))
        return 0;
    if (p->opts.pool_recycle >= 0 && now - c->created > p->opts.pool_recycle)
        return 0;
    if (p->opts.pool_pre_ping && now - c->last_used > PRE_PING_BYPASS_SECONDS)
        return -1;
    return 1;
}

/* The driver's look at an idle connection, which costs no round trip:
 * DBAL_OK, DBAL_EBUSY (only when !wait: an answer it needs is still on its
 * way) or the reason to discard it. */
static int driver_check(const dbal__pool *p, dbal__conn *c, int wait, int *fd)
{
    *fd = -1;
    if (!DBAL_DRIVER_HAS(p->driver, check))
        return DBAL_OK;
    dbal_error err;
    return p->driver->check(c->dc, wait, fd, &err);
}

/* Whether an idle connection may be handed out: the driver's check, then
 * the pre-ping when it is due. */
static int still_good(dbal__pool *p, dbal__conn *c)
{
    double now = dbal__now();
    int fd, ok = usable_as_is(p, c, now);
    if (ok == 0 || driver_check(p, c, 1, &fd) != DBAL_OK)
        return 0;
    if (ok > 0)
        return 1;
    if (ping(p, c) != DBAL_OK)
        return 0;
    c->last_used = now;
    return 1;
}

static int open_conn(dbal__pool *p, dbal__conn **out, dbal_error *err)
{
    dbal__conn *c = dbal__calloc(1, sizeof *c);
    if (!c)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    int rc = p->driver->connect(p->driver_ctx, &c->dc, err);
    if (rc != DBAL_OK) {
        dbal__free(c);
        return rc;
    }
    c->created = c->last_used = dbal__now();
    c->pid = dbal__pid();
    *out = c;
    return DBAL_OK;
}

static void unlink_in_use(dbal__pool *p, dbal__conn *c);

/* pool_timeout as a wait. Options are checked (dbal__engine_option_check),
 * but deadlines do not rely on it: an overflowing time_t makes
 * pthread_cond_timedwait fail at once, over and over (a waiting session
 * spinning at a full core), and a NaN deadline is never reached. About 31
 * years is "never" enough. */
#define LONGEST_WAIT_SECONDS 1e9

static double wait_seconds(const dbal__pool *p)
{
    double s = p->opts.pool_timeout;
    return !(s > 0) ? 0 : s > LONGEST_WAIT_SECONDS ? LONGEST_WAIT_SECONDS : s;
}

static void deadline_at(struct timespec *ts, double when)
{
    double whole = (double)(time_t)when;
    ts->tv_sec = (time_t)whole;
    ts->tv_nsec = (long)((when - whole) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

double dbal__pool_give_up(const dbal__pool *p)
{
    return dbal__now() + wait_seconds(p);
}

/* Called with the lock held. Names the longest holder: "pool limit
 * reached" is most often a session that was never closed. */
static int timeout_error(dbal__pool *p, dbal_error *err)
{
    const dbal__conn *oldest = NULL;
    for (const dbal__conn *c = p->in_use; c; c = c->unext)
        oldest = c; /* the list is most recent first */
    double now = dbal__now();
    return dbal__error_set(err, DBAL_EPOOLTIMEOUT, NULL, 0,
                           "no connection available within pool_timeout=%gs (pool_size=%d, max_overflow=%d, "
                           "all in use; the oldest checkout is %.1fs old, by %s)",
                           p->opts.pool_timeout, p->opts.pool_size, p->opts.max_overflow,
                           oldest ? now - oldest->checked_out : 0.0,
                           oldest && oldest->label[0] ? oldest->label : "an unlabelled session");
}

/* Called with the lock held. */
static void enqueue(dbal__pool *p, dbal__waiter *w)
{
    w->conn = NULL;
    w->slot = w->failed = 0;
    DBAL__QUEUE_APPEND(p->wait_head, p->wait_tail, w, next);
    p->nwaiting++;
}

/* Called with the lock held; returns with it held. Waits in line for a
 * connection or a slot. */
static int wait_turn(dbal__pool *p, const struct timespec *deadline, dbal__conn **conn, int *slot,
                     dbal_error *err)
{
    dbal__waiter w = {0};
    enqueue(p, &w);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cond, &attr);
    pthread_condattr_destroy(&attr);

    int rc = DBAL_OK;
    while (!w.conn && !w.slot && !w.failed) {
        if (pthread_cond_timedwait(&w.cond, &p->lock, deadline) == ETIMEDOUT && !w.conn && !w.slot &&
            !w.failed) {
            unlink_waiter(p, &w);
            p->stats.timeouts++;
            rc = timeout_error(p, err);
            break;
        }
    }
    if (w.failed)
        rc = dbal__error_set(err, DBAL_EMISUSE, NULL, 0, "the engine was closed while waiting");
    pthread_cond_destroy(&w.cond);
    *conn = w.conn;
    *slot = w.slot;
    return rc;
}

/* A server that refuses connections because it is full (53300), or
 * cannot take them just now (57P03: starting up, shutting down), may well
 * take one a moment later: that is waited out like a busy pool. */
int dbal__pool_server_busy(int rc, const dbal_error *err)
{
    return rc == DBAL_ECONNECT &&
           (strcmp(err->sqlstate, "53300") == 0 || strcmp(err->sqlstate, "57P03") == 0);
}

/* Sleeps before the next connection attempt: exponential backoff from
 * 20 ms to 1 s, with jitter so that many waiting sessions do not all come
 * back at once, and never past the deadline. Returns 0 when the deadline
 * has passed. */
double dbal__pool_backoff_delay(int attempt)
{
    double delay = 0.02 * (double)(1u << (attempt < 6 ? attempt : 6));
    if (delay > 1.0)
        delay = 1.0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return delay * (0.75 + 0.5 * (double)(now.tv_nsec % 1000) / 1000.0);
}

int dbal__pool_backoff_until(int attempt, double deadline)
{
    double delay = dbal__pool_backoff_delay(attempt);
    double left = deadline - dbal__now();
    if (left <= 0)
        return 0;
    if (delay > left)
        delay = left;
    struct timespec ts = {.tv_sec = (time_t)delay, .tv_nsec = (long)((delay - (double)(time_t)delay) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 1;
}

/* Records c as checked out by label; under the pool lock. */
static void mark_in_use(dbal__pool *p, dbal__conn *c, const char *label, double now)
{
    c->next = NULL;
    c->checked_out = now;
    c->leak_reported = 0;
    dbal__label_copy(c->label, label);
    p->stats.checkouts++;
    DBAL__LIST_PUSH(p->in_use, c, uprev, unext);
}

static int checked_out(dbal__pool *p, dbal__conn *c, const char *label, dbal__conn **out)
{
    emit(p, DBAL_EVENT_CHECKOUT, label);
    if (p->opts.leak_detection_threshold > 0)
        dbal__pool_report_leaks(p, 0);
    *out = c;
    return DBAL_OK;
}

/* Called with the lock held: an idle connection or a slot when one is
 * free and nobody is in line before us; DBAL_EBUSY (not an answer to the
 * caller) when the checkout has to wait. */
static int take_locked(dbal__pool *p, dbal__conn **c, int *slot, dbal_error *err)
{
    leave_parent(p);
    if (p->closing)
        return dbal__error_set(err, DBAL_EMISUSE, NULL, 0, "the engine is closed");
    if (!p->wait_head && p->idle) {
        *c = p->idle;
        p->idle = (*c)->next;
        p->nidle--;
        return DBAL_OK;
    }
    if (!p->wait_head && p->nopen < limit(p)) {
        p->nopen++;
        *slot = 1;
        return DBAL_OK;
    }
    return DBAL_EBUSY;
}

int dbal__pool_take(dbal__pool *p, dbal__waiter *w, dbal__conn **c, int *slot, dbal_error *err)
{
    *c = NULL;
    *slot = 0;
    pthread_mutex_lock(&p->lock);
    int rc = take_locked(p, c, slot, err);
    if (rc == DBAL_EBUSY && w) {
        enqueue(p, w);
        rc = DBAL_OK;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int dbal__pool_withdraw(dbal__pool *p, dbal__waiter *w, int timed_out, const char *label, dbal_error *err)
{
    pthread_mutex_lock(&p->lock);
    int rc = DBAL_OK;
    if (unlink_waiter(p, w)) {
        if (timed_out) {
            p->stats.timeouts++;
            rc = timeout_error(p, err);
        } else {
            rc = dbal__error_set(err, DBAL_ECANCELED, NULL, 0, "the wait for a connection was given up");
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (rc == DBAL_EPOOLTIMEOUT)
        emit(p, DBAL_EVENT_TIMEOUT, label);
    return rc;
}

/* A slot's connection was opened (rc DBAL_OK) or not: a failed one gives
 * the slot to the next in line. Returns rc. */
static int slot_filled(dbal__pool *p, int rc, const char *label)
{
    pthread_mutex_lock(&p->lock);
    if (rc != DBAL_OK) {
        p->nopen--;
        hand_slot(p);
    } else {
        p->stats.connects++;
    }
    pthread_mutex_unlock(&p->lock);
    if (rc == DBAL_OK)
        emit(p, DBAL_EVENT_CONNECT, label);
    return rc;
}

void dbal__pool_hand_out(dbal__pool *p, const char *label, dbal__conn *c, dbal__conn **out)
{
    pthread_mutex_lock(&p->lock);
    mark_in_use(p, c, label, dbal__now());
    pthread_mutex_unlock(&p->lock);
    checked_out(p, c, label, out);
}

int dbal__pool_finish_blocks(dbal__pool *p, dbal__conn *c, int slot, int *fd)
{
    *fd = -1;
    /* A connection to ping, or to replace (broken, past pool_recycle, or
     * refused by the driver's check), takes round trips just as a new one
     * does. */
    if (slot || (c && usable_as_is(p, c, dbal__now()) != 1))
        return 1;
    int rc = c ? driver_check(p, c, 0, fd) : DBAL_OK;
    if (rc == DBAL_EBUSY && *fd >= 0)
        return 2;
    return rc != DBAL_OK;
}

/* With the lock held: c goes to the first waiter, or back to the idle
 * list; 0 when neither may have it (the pool is closing, or full), and the
 * caller closes it. */
static int place_locked(dbal__pool *p, dbal__conn *c)
{
    if (p->closing)
        return 0;
    if (p->wait_head) {
        dbal__waiter *w = pop_waiter(p);
        w->conn = c;
        wake(w);
        return 1;
    }
    if (p->nidle >= p->opts.pool_size)
        return 0;
    c->next = p->idle;
    p->idle = c;
    p->nidle++;
    return 1;
}

/* A connection placed nowhere is closed; its slot goes to the next in line. */
static void unplaced_locked(dbal__pool *p, dbal__conn *c)
{
    p->nopen--;
    c->next = NULL;
    if (!p->closing)
        hand_slot(p);
}

void dbal__pool_untake(dbal__pool *p, dbal__conn *c)
{
    pthread_mutex_lock(&p->lock);
    int placed = place_locked(p, c);
    if (!placed)
        unplaced_locked(p, c);
    pthread_mutex_unlock(&p->lock);
    if (!placed)
        close_conn(p, c);
}

int dbal__pool_checkout(dbal__pool *p, const char *label, dbal__conn **out, dbal_error *err)
{
    return dbal__pool_checkout_until(p, label, dbal__pool_give_up(p), 0, out, err);
}

int dbal__pool_checkout_until(dbal__pool *p, const char *label, double give_up, unsigned flags,
                              dbal__conn **out, dbal_error *err)
{
    struct timespec deadline;
    deadline_at(&deadline, give_up);
    for (int attempt = 0;; attempt++) {
        dbal__conn *c = NULL;
        int slot = 0, ready = 0;
        pthread_mutex_lock(&p->lock);
        int rc = take_locked(p, &c, &slot, err);
        if (rc == DBAL_OK && c) {
            /* The common case in one trip through the lock. */
            double now = dbal__now();
            if ((ready = usable_as_is(p, c, now) == 1))
                mark_in_use(p, c, label, now);
        } else if (rc == DBAL_EBUSY && !(flags & DBAL__CHECKOUT_NO_WAIT)) {
            rc = wait_turn(p, &deadline, &c, &slot, err);
        }
        pthread_mutex_unlock(&p->lock);
        if (rc == DBAL_EBUSY)
            return rc; /* DBAL__CHECKOUT_NO_WAIT: the caller looks elsewhere */
        int fd;
        if (ready && driver_check(p, c, 1, &fd) == DBAL_OK)
            return checked_out(p, c, label, out);
        if (ready) {
            /* Refused after all: replaced in the same slot below. */
            pthread_mutex_lock(&p->lock);
            unlink_in_use(p, c);
            p->stats.checkouts--;
            pthread_mutex_unlock(&p->lock);
        }
        if (rc != DBAL_OK) {
            if (rc == DBAL_EPOOLTIMEOUT)
                emit(p, DBAL_EVENT_TIMEOUT, label);
            return rc;
        }
        /* A failed open gave its slot back (slot_filled) before the sleep:
         * a connection returned meanwhile serves someone at once. */
        rc = dbal__pool_finish(p, label, c, slot, out, err);
        if (rc == DBAL_OK || !dbal__pool_server_busy(rc, err) || (flags & DBAL__CHECKOUT_NO_BACKOFF) ||
            !dbal__pool_backoff_until(attempt, give_up) || dbal__now() >= give_up)
            return rc;
    }
}

int dbal__pool_finish(dbal__pool *p, const char *label, dbal__conn *c, int slot, dbal__conn **out,
                      dbal_error *err)
{
    if (c && !still_good(p, c)) {
        /* Replace it in the same slot: only the health check is retried,
         * never a user's statement. */
        close_conn(p, c);
        c = NULL;
        slot = 1;
        pthread_mutex_lock(&p->lock);
        p->stats.discarded++;
        pthread_mutex_unlock(&p->lock);
        emit(p, DBAL_EVENT_DISCARD, label);
    }
    if (slot) {
        int rc = slot_filled(p, open_conn(p, &c, err), label);
        if (rc != DBAL_OK)
            return rc;
    }
    dbal__pool_hand_out(p, label, c, out);
    return DBAL_OK;
}

int dbal__pool_adopt(dbal__pool *p, const char *label, dbal_driver_conn *dc, dbal__conn **out,
                     dbal_error *err)
{
    dbal__conn *c = NULL;
    int rc = DBAL_OK;
    if (!dc)
        rc = err->code ? err->code : DBAL_ECONNECT;
    else if (!(c = dbal__calloc(1, sizeof *c)))
        rc = dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    if (rc != DBAL_OK && dc)
        p->driver->disconnect(dc);
    if (c) {
        c->dc = dc;
        c->created = c->last_used = dbal__now();
        c->pid = dbal__pid();
    }
    if ((rc = slot_filled(p, rc, label)) != DBAL_OK)
        return rc;
    dbal__pool_hand_out(p, label, c, out);
    return DBAL_OK;
}

static void unlink_in_use(dbal__pool *p, dbal__conn *c)
{
    DBAL__LIST_REMOVE(p->in_use, c, uprev, unext);
}

void dbal__pool_report_leaks(dbal__pool *p, int all)
{
    enum { MAX_REPORTS = 8 };
    char lines[MAX_REPORTS][160];
    int n = 0;
    double now = dbal__now();
    pthread_mutex_lock(&p->lock);
    for (dbal__conn *c = p->in_use; c && n < MAX_REPORTS; c = c->unext) {
        double held = now - c->checked_out;
        if (!all && (c->leak_reported || held < p->opts.leak_detection_threshold))
            continue;
        c->leak_reported = 1;
        snprintf(lines[n++], sizeof lines[0], "%.1fs by session %s", held,
                 c->label[0] ? c->label : "(unlabelled: open it with dbal_session_open_labeled)");
    }
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < n; i++) {
        dbal__log(DBAL_LOG_WARNING, "%s: a connection has been held %s",
                  all ? "engine closed while in use" : "possible session leak", lines[i]);
        emit(p, DBAL_EVENT_LEAK, NULL);
    }
}

/* A connection the parent opened, given back in a child (by a session
 * opened before the fork): forgotten, never pooled. */
static void drop_inherited(dbal__pool *p, dbal__conn *c)
{
    pthread_mutex_lock(&p->lock);
    leave_parent(p);
    pthread_mutex_unlock(&p->lock);
    close_conn(p, c);
}

void dbal__pool_return(dbal__pool *p, dbal__conn *c)
{
    if (c->pid != dbal__pid()) {
        drop_inherited(p, c);
        return;
    }
    int broken = dbal__conn_unusable(c);
    if (!broken)
        c->last_used = dbal__now();
    char label[sizeof c->label];
    memcpy(label, c->label, sizeof label);
    pthread_mutex_lock(&p->lock);
    unlink_in_use(p, c);
    if (!broken && place_locked(p, c)) {
        pthread_mutex_unlock(&p->lock);
        emit(p, DBAL_EVENT_CHECKIN, label);
        return;
    }
    if (broken)
        p->stats.discarded++;
    unplaced_locked(p, c);
    pthread_mutex_unlock(&p->lock);
    close_conn(p, c);
    emit(p, DBAL_EVENT_CHECKIN, label);
    emit(p, DBAL_EVENT_DISCARD, label);
}

void dbal__pool_shutdown(dbal__pool *p)
{
    pthread_mutex_lock(&p->lock);
    leave_parent(p);
    p->closing = 1;
    dbal__conn *idle = p->idle;
    p->idle = NULL;
    p->nopen -= p->nidle;
    p->nidle = 0;
    for (dbal__waiter *w; (w = pop_waiter(p));) {
        w->failed = 1;
        wake(w);
    }
    pthread_mutex_unlock(&p->lock);
    while (idle) {
        dbal__conn *next = idle->next;
        close_conn(p, idle);
        idle = next;
    }
}

void dbal__pool_destroy(dbal__pool *p)
{
    pthread_mutex_destroy(&p->lock);
}

void dbal__pool_stats(dbal__pool *p, dbal_engine_stats *out)
{
    pthread_mutex_lock(&p->lock);
    leave_parent(p);
    *out = p->stats;
    out->open = p->nopen;
    out->idle = p->nidle;
    out->in_use = p->nopen - p->nidle;
    out->waiting = p->nwaiting;
    pthread_mutex_unlock(&p->lock);
}
