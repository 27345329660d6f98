/*
 * The asynchronous API: contexts, sessions, queued operations, the
 * non-blocking checkout, timers and callbacks. The context's one descriptor
 * is an epoll set holding an eventfd (worker completions, pool hand-overs,
 * callbacks to call), a timerfd (pool_timeout and operation deadlines) and
 * the sockets of the connections the driver's asynchronous slots run.
 */
#include "async.h"

#include "alloc.h"
#include "errors.h"
#include "list.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void kick(dbal_async_session *as);
static void settle_head(dbal_async_session *as);
static void have(dbal_async_session *as, int rc, dbal__conn *conn, const dbal_error *err);
static void release_session(dbal_async_session *as);
static void arm(dbal_async *a);
static void start_checkout(dbal_async_session *as);

static int has_async_slots(const dbal_driver *d)
{
    return DBAL_DRIVER_HAS(d, async_start) && DBAL_DRIVER_HAS(d, async_stop) &&
           DBAL_DRIVER_HAS(d, async_send) && DBAL_DRIVER_HAS(d, async_io) && DBAL_DRIVER_HAS(d, async_result);
}

void dbal__async_signal(dbal_async *a)
{
    uint64_t one = 1;
    /* A full counter (EAGAIN) is readable already. */
    while (write(a->evfd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

int dbal__async_wake(dbal_async *a)
{
    if (a->signaled)
        return 0;
    a->signaled = 1;
    return 1;
}

/* One read empties an eventfd or a timerfd; 1 when it was readable. */
static int drain(int fd)
{
    uint64_t n;
    ssize_t got;
    while ((got = read(fd, &n, sizeof n)) < 0 && errno == EINTR)
        ;
    return got > 0;
}

static void destroy(dbal_async *a)
{
    if (a->epfd >= 0)
        close(a->epfd);
    if (a->evfd >= 0)
        close(a->evfd);
    if (a->tfd >= 0)
        close(a->tfd);
    dbal__free(a->spare_rows);
    while (a->spare_ops) {
        dbal_async_op *op = a->spare_ops;
        a->spare_ops = op->next;
        dbal__free(op);
    }
    dbal__async_worker_free(a);
    pthread_cond_destroy(&a->work);
    pthread_mutex_destroy(&a->lock);
    dbal__engine_unref(a->e);
    dbal__free(a);
}

/* The context's own descriptors are told apart by where their data
 * points: &a->evfd, &a->tfd; a session's socket points to the session. */
static int watch(dbal_async *a, int *fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = fd};
    return epoll_ctl(a->epfd, EPOLL_CTL_ADD, *fd, &ev);
}

int dbal_async_open(dbal_engine *e, dbal_async **out, dbal_error *err)
{
    dbal__error_clear(err);
    if (!e || !out)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "dbal_async_open: engine and out are required");
    *out = NULL;
    dbal_async *a = dbal__calloc(1, sizeof *a);
    if (!a)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        dbal__free(a);
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    }
    if (pthread_cond_init(&a->work, NULL) != 0) {
        pthread_mutex_destroy(&a->lock);
        dbal__free(a);
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    }
    if (!dbal__engine_ref(e)) {
        pthread_cond_destroy(&a->work);
        pthread_mutex_destroy(&a->lock);
        dbal__free(a);
        return dbal__error_set(err, DBAL_EMISUSE, NULL, 0, "the engine is closed");
    }
    a->e = e;
    a->native = has_async_slots(e->driver);
    if (!a->native && DBAL_DRIVER_HAS(e->driver, inline_budget))
        a->inline_us = e->pool.opts.async_inline;
    a->epfd = epoll_create1(EPOLL_CLOEXEC);
    a->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    a->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (a->epfd < 0 || a->evfd < 0 || a->tfd < 0 || watch(a, &a->evfd) != 0 || watch(a, &a->tfd) != 0) {
        int saved = errno;
        destroy(a);
        return dbal__error_set(err, DBAL_ERROR, NULL, saved, "dbal_async_open: %s", strerror(saved));
    }
    *out = a;
    return DBAL_OK;
}

int dbal_async_fd(const dbal_async *a)
{
    return a ? a->epfd : -1;
}

int dbal_async_pending(const dbal_async *a)
{
    return a ? a->pending : 0;
}

/* ---- completion -------------------------------------------------------------- */

static void unlink_op(dbal_async_session *as, dbal_async_op *op)
{
    dbal_async_op *prev = NULL;
    for (dbal_async_op *o = as->head; o && o != op; o = o->next)
        prev = o;
    if (as->unsent == op)
        as->unsent = op->next;
    if (prev)
        prev->next = op->next;
    else if (as->head == op)
        as->head = op->next;
    if (as->tail == op)
        as->tail = prev;
    op->next = NULL;
}

void dbal__async_complete(dbal_async_op *op, int code)
{
    dbal_async_session *as = op->as;
    dbal_async *a = as->a;
    unlink_op(as, op);
    if (!op->decided && (op->kind == DBAL_ASYNC_COMMIT || op->kind == DBAL_ASYNC_ROLLBACK))
        as->open_tx = as->doomed = 0; /* ended without its turn (a lost connection) */
    /* A connection given up has the driver's own message: what it waited
     * for and whether the op may have been applied. */
    if (op->cancel == 2 && !op->gave_up && (code == DBAL_ECANCELED || code == DBAL_ETIMEOUT))
        code = dbal__error_set(&op->err, DBAL_ETIMEOUT, "57014", 0,
                               "canceling statement: it did not complete within its timeout of %d ms",
                               op->timeout_ms);
    else if (code == DBAL_OK && op->fails_as)
        code = dbal__error_set(&op->err, op->fails_as, op->fails_as == DBAL_ETXFAILED ? "25P02" : "57014", 0,
                               "%s; the transaction was rolled back",
                               op->fails_as == DBAL_ETXFAILED ? "an operation in the transaction failed"
                                                              : "the commit was canceled");
    else if (code == DBAL_OK)
        dbal__error_clear(&op->err);
    else if (op->err.code == DBAL_OK)
        dbal__error_set(&op->err, code, NULL, 0, NULL);
    op->code = code;
    op->state = OP_DONE;
    DBAL__QUEUE_APPEND(a->ready_head, a->ready_tail, op, next);
    if (!a->in_process)
        dbal__async_signal(a);
    /* With nothing queued any more, the depth is what the database says. */
    if (!as->head)
        as->depth = as->s->depth;
}

/* ---- what becomes of an op, decided in queue order ---------------------------- */

enum { DOOMED_NO, DOOMED_ROLLBACK, DOOMED_NO_TX };

static int local(dbal_async_op *op, int code, const char *sqlstate, const char *msg)
{
    op->local = 1;
    op->code = code;
    if (code == DBAL_OK)
        dbal__error_clear(&op->err);
    else
        dbal__error_set(&op->err, code, sqlstate, 0, "%s", msg);
    return 1;
}

static int canceled(dbal_async_op *op)
{
    return op->cancel == 2 ? local(op, DBAL_ETIMEOUT, "57014", "timed out before it reached the database")
                           : local(op, DBAL_ECANCELED, "57014", "canceled before it reached the database");
}

/*
 * Decides, when an op's turn comes (in queue order, before it is sent),
 * whether it goes to the database (0: as op->wire) or completes here (1:
 * op->local, with op->code). An op canceled or timed out before it was
 * sent fails its transaction exactly as a failed statement does: the ops
 * after it in the transaction fail with DBAL_ETXFAILED and its COMMIT is
 * sent as a ROLLBACK and answers DBAL_ETXFAILED. When the canceled op is
 * the BEGIN, no transaction was begun: the ops up to its COMMIT or
 * ROLLBACK are not run at all (never autocommitted).
 */
static int decide(dbal_async_session *as, dbal_async_op *op)
{
    op->decided = 1;
    op->wire = op->kind;
    if (op->kind == DBAL_ASYNC_BEGIN) {
        if (op->cancel) {
            as->doomed = DOOMED_NO_TX;
            return canceled(op);
        }
        as->open_tx = 1;
        return 0;
    }
    if (op->kind == DBAL_ASYNC_EXEC || op->kind == DBAL_ASYNC_QUERY) {
        if (as->doomed)
            return local(op, DBAL_ETXFAILED, "25P02",
                         as->doomed == DOOMED_NO_TX
                             ? "the transaction's BEGIN was canceled: not run"
                             : "an operation in the transaction was canceled: not run");
        if (op->cancel) {
            if (as->open_tx)
                as->doomed = DOOMED_ROLLBACK;
            return canceled(op);
        }
        return 0;
    }
    int doomed = as->doomed; /* COMMIT or ROLLBACK: the transaction ends */
    as->doomed = DOOMED_NO;
    as->open_tx = 0;
    if (doomed == DOOMED_NO_TX)
        return op->kind == DBAL_ASYNC_COMMIT
                   ? local(op, DBAL_ETXFAILED, "25P02",
                           "the transaction's BEGIN was canceled: nothing to commit")
                   : local(op, DBAL_OK, NULL, NULL);
    if (op->kind == DBAL_ASYNC_COMMIT && (doomed || op->cancel)) {
        op->wire = DBAL_ASYNC_ROLLBACK;
        op->fails_as = op->cancel ? (op->cancel == 2 ? DBAL_ETIMEOUT : DBAL_ECANCELED) : DBAL_ETXFAILED;
    }
    return 0;
}

int dbal__async_decide(dbal_async_session *as, dbal_async_op *op)
{
    return op->decided ? op->local : decide(as, op);
}

/* Completes the ops at the head of the queue that were canceled, timed
 * out or doomed before reaching the database: in queue order, without
 * waiting for a connection. */
static void settle_head(dbal_async_session *as)
{
    dbal_async_op *op;
    while ((op = as->head) != NULL && op->state == OP_QUEUED && (op->cancel || as->doomed || op->local)) {
        if (!dbal__async_decide(as, op))
            break; /* a COMMIT that rolls back: the database's to do */
        if (as->unsent == op)
            as->unsent = op->next;
        dbal__async_complete(op, op->code);
    }
}

/* Fails every queued op of a session that has no connection. */
static void fail_queued(dbal_async_session *as, int code, const dbal_error *err)
{
    while (as->head) {
        dbal_async_op *op = as->head;
        dbal__error_copy(&op->err, err);
        dbal__async_complete(op, code);
    }
}

/* A callback's cursor: its errors go to the result's, and closing keeps
 * it for the next result. */
static void result_rows_closed(dbal_rows *r)
{
    dbal_async *a = r->owner;
    if (!a->spare_rows) {
        a->spare_rows = r; /* dbal__rows_open sets every field */
    } else {
        dbal__free(r);
    }
}

static const dbal__rows_hooks result_rows = {.closed = result_rows_closed};

static dbal_rows *wrap_rows(dbal_async *a, dbal_async_op *op)
{
    dbal_rows *r = a->spare_rows;
    a->spare_rows = NULL;
    if (!r && !(r = dbal__calloc(1, sizeof *r))) {
        op->rows_m->close(op->dr);
        op->code = dbal__error_set(&op->err, DBAL_ENOMEM, NULL, 0, NULL);
        return NULL;
    }
    dbal__rows_open(r, op->rows_m, op->dr, &op->err, &result_rows, a);
    return r;
}

/* An op called back is kept for the next (a calloc and a free per op cost
 * some 220 instructions, 3% of an inline point select): a few, each with
 * room for usual SQL and parameters. */
enum { KEEP_OPS = 16, OP_ROOM = 512 };

static void op_free(dbal_async *a, dbal_async_op *op)
{
    if (a->nspare_ops < KEEP_OPS && op->cap == sizeof(dbal_async_op) + OP_ROOM) {
        op->next = a->spare_ops;
        a->spare_ops = op;
        a->nspare_ops++;
    } else {
        dbal__free(op);
    }
}

static void call_back(dbal_async *a, dbal_async_op *op)
{
    dbal_async_session *as = op->as;
    dbal_rows *rows = op->dr ? wrap_rows(a, op) : NULL;
    op->dr = NULL;
    dbal_async_result res = {.code = op->code,
                             .error = &op->err,
                             .rows = rows,
                             .affected = op->affected,
                             .session = as,
                             .op = op};
    if (op->cb)
        op->cb(op->ud, &res);
    dbal_rows_close(rows);
    as->nops--;
    a->pending--;
    op_free(a, op);
    if (as->closing && as->nops == 0)
        release_session(as);
}

static void call_ready(dbal_async *a)
{
    dbal_async_op *op;
    while ((op = a->ready_head) != NULL) {
        a->ready_head = op->next;
        if (!a->ready_head)
            a->ready_tail = NULL;
        call_back(a, op);
    }
}

/* ---- checkout ------------------------------------------------------------------ */

/* Called by the pool, on any thread, with its lock held. */
static void on_granted(void *ud)
{
    dbal_async_session *as = ud;
    dbal_async *a = as->a;
    pthread_mutex_lock(&a->lock);
    as->granted = 1;
    as->gnext = a->granted;
    a->granted = as;
    pthread_mutex_unlock(&a->lock);
    dbal__async_signal(a);
}

void dbal__async_have(dbal_async_session *as, int rc, dbal__conn *conn, const dbal_error *err)
{
    have(as, rc, conn, err);
}

/* A read-only session on the primary (no replica, or none up) is made
 * read-only there too, as a blocking one is (session.c). The driver's
 * set_read_only must not wait for the server (driver.h): this is the
 * loop thread. */
static int read_only_on_primary(dbal_async_session *as)
{
    dbal_session *s = as->s;
    const dbal_driver *d = as->a->e->driver;
    if (!(s->flags & DBAL_SESSION_READ_ONLY) || s->pool != &as->a->e->pool ||
        !DBAL_DRIVER_HAS(d, set_read_only))
        return DBAL_OK;
    int rc = d->set_read_only(s->conn->dc, 1, &s->err);
    s->conn->read_only = rc == DBAL_OK;
    return rc;
}

/* The checkout is over: conn is the session's, or rc says why not. */
static void have(dbal_async_session *as, int rc, dbal__conn *conn, const dbal_error *err)
{
    dbal_async *a = as->a;
    as->co_until = 0;
    as->co_attempt = 0;
    as->co_backed_off = 0;
    as->co_err.code = DBAL_OK;
    if (rc != DBAL_OK) {
        as->checkout = CO_NONE;
        fail_queued(as, rc, err);
        if (as->closing && as->nops == 0)
            release_session(as);
        return;
    }
    dbal__session_hold(as->s, conn, as->pool);
    as->checkout = CO_HAVE;
    if ((rc = read_only_on_primary(as)) != DBAL_OK ||
        (a->native && (rc = dbal__async_native_attach(as)) != DBAL_OK)) {
        dbal_error e = as->s->err;
        conn->discard = 1; /* half set up: never pooled again */
        dbal__async_release_conn(as);
        fail_queued(as, rc, &e);
    } else if (!a->stopping) {
        kick(as);
    }
    if (as->closing && as->nops == 0)
        release_session(as);
}

/* Whether the pool's URL names several hosts: libpq's non-blocking connect
 * has no connect_timeout of its own, so a host that accepts the TCP
 * connection and then answers nothing (a frozen one) would hold it until
 * the checkout's deadline without the next host being tried; the blocking
 * connect, on a worker, moves on after connect_timeout. */
static int several_hosts(const dbal_async_session *as)
{
    return as->pool == &as->a->e->pool && as->a->e->url->pub.nhosts > 1;
}

static void got(dbal_async_session *as, dbal__conn *c, int slot)
{
    dbal__pool *p = as->pool;
    as->co_deadline = 0;
    if (slot && as->a->native && !as->a->stopping && dbal__async_native_can_connect(as->a->e->driver) &&
        !several_hosts(as)) {
        dbal__async_native_connect(as);
        return;
    }
    int fd, blocks = dbal__pool_finish_blocks(p, c, slot, &fd);
    if (blocks == 2 && as->a->native && !as->a->stopping && dbal__async_native_watch_read(as, fd) == 0) {
        /* The answer to the connection's reset is on its way: the loop
         * waits for it, no thread. */
        as->checkout = CO_CHECKING;
        as->job_conn = c;
        as->co_deadline = dbal__now() + p->opts.pool_timeout;
        return;
    }
    if (blocks && !as->a->stopping) {
        /* Connecting (or pinging) takes round trips: not on the loop. */
        as->checkout = CO_FINISHING;
        as->job_conn = c;
        as->job_slot = slot;
        dbal__async_worker_submit(as);
        return;
    }
    dbal__conn *conn = NULL;
    int rc = DBAL_OK;
    if (!blocks)
        dbal__pool_hand_out(p, as->s->label, c, &conn); /* checked just above */
    else
        rc = dbal__pool_finish(p, as->s->label, c, slot, &conn, &as->s->err);
    dbal_error e = as->s->err;
    have(as, rc, conn, &e);
}

/* Waits a backoff's delay (CO_BACKOFF) before the checkout looks again;
 * 0 when its deadline has passed. */
static int back_off(dbal_async_session *as)
{
    double now = dbal__now();
    if (now >= as->co_until)
        return 0;
    double next = now + dbal__pool_backoff_delay(as->co_attempt++);
    as->checkout = CO_BACKOFF;
    as->co_deadline = next < as->co_until ? next : as->co_until;
    if (!as->a->in_process)
        arm(as->a);
    return 1;
}

int dbal__async_retry(dbal_async_session *as, int rc, const dbal_error *err)
{
    if (as->a->stopping || !as->head)
        return 0;
    dbal__replica *r = dbal__replica_of(as->a->e, as->pool);
    if (r && dbal__replica_refused(r, rc, err)) {
        if (dbal__now() >= as->co_until)
            return 0;
        /* Another replica (or, when none is up, the primary) may serve. */
        dbal__error_copy(&as->co_err, err);
        as->checkout = CO_NONE;
        start_checkout(as);
        return 1;
    }
    if (!dbal__pool_server_busy(rc, err))
        return 0;
    dbal__error_copy(&as->co_err, err);
    return back_off(as);
}

void dbal__async_checked(dbal_async_session *as)
{
    dbal__conn *c = as->job_conn;
    as->job_conn = NULL;
    got(as, c, 0);
}

/* A CO_CHECKING wait is over without an answer: a worker waits for it,
 * boundedly, or replaces the connection. */
static void check_on_worker(dbal_async_session *as)
{
    dbal__async_native_unwatch(as);
    as->co_deadline = 0;
    as->checkout = CO_FINISHING;
    as->job_slot = 0;
    dbal__async_worker_submit(as);
}

/* A read-only session's look at the replicas (dbal__replica_take): 1 when
 * the checkout went on (served, backing off or failed), 0 when it waits in
 * line at as->pool. */
static int take_replica(dbal_async_session *as)
{
    dbal_engine *e = as->a->e;
    dbal__conn *c = NULL;
    int slot = 0;
    dbal_error err = {0};
    int first = !as->co_backed_off;
    as->co_backed_off = 0;
    switch (dbal__replica_take(e, first, &as->co_err, &as->pool, &c, &slot, &err)) {
    case DBAL__REPLICA_TAKEN: got(as, c, slot); return 1;
    case DBAL__REPLICA_FULL:
        if (back_off(as))
            return 1;
        if (!as->co_err.code)
            dbal__error_set(&as->co_err, DBAL_ECONNECT, "53300", 0, "every read replica is full");
        have(as, as->co_err.code, NULL, &as->co_err);
        return 1;
    case DBAL__REPLICA_FAILED: have(as, err.code, NULL, &err); return 1;
    default: return 0; /* DBAL__REPLICA_QUEUE, DBAL__REPLICA_PRIMARY: in line */
    }
}

static void start_checkout(dbal_async_session *as)
{
    dbal_engine *e = as->a->e;
    dbal__conn *c;
    int slot;
    if (!as->co_until)
        as->co_until = dbal__pool_give_up(&e->pool);
    as->waiter = (dbal__waiter){.wake = on_granted, .ud = as};
    as->granted = 0;
    as->checkout = CO_WAITING;
    as->pool = &e->pool;
    if ((as->s->flags & DBAL_SESSION_READ_ONLY) && e->nreplicas > 0 && take_replica(as))
        return;
    int rc = dbal__pool_take(as->pool, &as->waiter, &c, &slot, &as->s->err);
    if (rc != DBAL_OK) {
        dbal_error err = as->s->err;
        have(as, rc, NULL, &err);
    } else if (c || slot) {
        got(as, c, slot);
    } else {
        as->co_deadline = as->co_until;
    }
}

static void take_granted(dbal_async *a)
{
    pthread_mutex_lock(&a->lock);
    dbal_async_session *list = a->granted;
    a->granted = NULL;
    pthread_mutex_unlock(&a->lock);
    while (list) {
        dbal_async_session *as = list;
        list = as->gnext;
        if (as->waiter.failed) {
            dbal_error e;
            dbal__error_set(&e, DBAL_EMISUSE, NULL, 0, "the engine was closed while waiting");
            have(as, DBAL_EMISUSE, NULL, &e);
        } else {
            got(as, as->waiter.conn, as->waiter.slot);
        }
    }
}

void dbal__async_release_conn(dbal_async_session *as)
{
    if (as->a->native)
        dbal__async_native_detach(as);
    dbal__session_drop_broken(as->s);
    if (!as->s->conn)
        as->checkout = CO_NONE;
}

void dbal__async_kick(dbal_async_session *as)
{
    kick(as);
}

/* Moves a session forward: a checkout when ops wait for a connection,
 * then the ops to the database. */
static void kick(dbal_async_session *as)
{
    dbal_async *a = as->a;
    if (a->stopping)
        return;
    settle_head(as);
    if (as->checkout == CO_NONE && as->head)
        start_checkout(as);
    if (as->checkout != CO_HAVE)
        return;
    if (a->native) {
        dbal__async_native_run(as, 0);
    } else if (as->unsent && dbal__async_inline_wanted(as)) {
        dbal__async_inline_queue(as);
    } else if (as->unsent && dbal__async_worker_send(as) != DBAL_OK) {
        /* A broken connection was given back: take another. */
        as->checkout = CO_NONE;
        start_checkout(as);
    }
}

/* ---- sessions and operations ------------------------------------------------ */

int dbal_async_session_open(dbal_async *a, dbal_async_session **out, dbal_error *err)
{
    return dbal_async_session_open_with(a, out, 0, NULL, err);
}

int dbal_async_session_open_with(dbal_async *a, dbal_async_session **out, unsigned flags, const char *label,
                                 dbal_error *err)
{
    dbal__error_clear(err);
    if (!a || !out)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                               "dbal_async_session_open: context and out are required");
    *out = NULL;
    if (a->stopping)
        return dbal__error_set(err, DBAL_EMISUSE, NULL, 0, "the context is closing");
    dbal_async_session *as = dbal__calloc(1, sizeof *as);
    if (!as)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    int rc = dbal_session_open_with(a->e, &as->s, flags, label, err);
    if (rc != DBAL_OK) {
        dbal__free(as);
        return rc;
    }
    as->a = a;
    as->pool = &a->e->pool;
    as->fd = -1;
    DBAL__LIST_PUSH(a->sessions, as, prev, next);
    *out = as;
    return DBAL_OK;
}

static void release_session(dbal_async_session *as)
{
    dbal_async *a = as->a;
    if (as->checkout == CO_WAITING || as->checkout == CO_FINISHING || as->checkout == CO_CONNECTING ||
        as->checkout == CO_CHECKING || as->checkout == CO_BACKOFF)
        return; /* the checkout's end (have) comes back here */
    if (as->checkout == CO_HAVE && a->native)
        dbal__async_native_detach(as);
    if (a->native)
        dbal__async_native_unwatch(as); /* closes the duplicate socket it watched, if any */
    dbal__async_inline_forget(as);
    DBAL__LIST_REMOVE(a->sessions, as, prev, next);
    dbal_session_close(as->s);
    dbal__free(as);
}

int dbal_async_session_set_timeout(dbal_async_session *as, int milliseconds)
{
    if (!as)
        return DBAL_EMISUSE;
    if (milliseconds < 0)
        return DBAL_EINVAL;
    as->timeout_ms = milliseconds;
    return DBAL_OK;
}

/* Whether v borrows bytes (u.p) that an op must copy. */
static int has_bytes(const dbal_value *v)
{
    switch (v->type) {
    case DBAL_TYPE_TEXT:
    case DBAL_TYPE_BLOB:
    case DBAL_TYPE_NUMERIC:
    case DBAL_TYPE_UUID:
    case DBAL_TYPE_JSON: return 1;
    default: return 0;
    }
}

/* One allocation: the op, its parameters, the SQL and the parameters'
 * bytes, so that the caller's may go away at once; a kept one (op_free)
 * when they fit in its room. */
static dbal_async_op *op_new(dbal_async *a, const char *sql, dbal_params params)
{
    size_t sql_len = sql ? strlen(sql) + 1 : 0, bytes = 0;
    for (size_t i = 0; i < params.count; i++)
        if (has_bytes(&params.values[i]))
            bytes += params.values[i].len + 1;
    size_t head = sizeof(dbal_async_op) + params.count * sizeof(dbal_value);
    size_t need = head + sql_len + bytes, room = sizeof(dbal_async_op) + OP_ROOM;
    dbal_async_op *op = a->spare_ops;
    if (op && need <= room) {
        a->spare_ops = op->next;
        a->nspare_ops--;
        memset(op, 0, offsetof(dbal_async_op, err));
        dbal__error_clear(&op->err);
    } else if (!(op = dbal__calloc(1, need > room ? need : room))) {
        return NULL;
    }
    op->cap = need > room ? need : room;
    op->params = (dbal_value *)(op + 1);
    op->nparams = params.count;
    char *p = (char *)op + head;
    if (sql) {
        op->sql = p;
        memcpy(p, sql, sql_len);
        p += sql_len;
    }
    for (size_t i = 0; i < params.count; i++) {
        op->params[i] = params.values[i];
        dbal_value *v = &op->params[i];
        if (has_bytes(v)) {
            if (v->len)
                memcpy(p, v->u.p, v->len);
            p[v->len] = '\0';
            v->u.p = p;
            p += v->len + 1;
        }
    }
    return op;
}

static int queue(dbal_async_session *as, int kind, unsigned options, const char *sql, dbal_params params,
                 dbal_async_fn cb, void *ud, dbal_async_op **out)
{
    if (out)
        *out = NULL;
    if (!as || as->closing || as->a->stopping)
        return DBAL_EMISUSE;
    dbal_error refused; /* the call answers with the code alone */
    int rc = (kind == DBAL_ASYNC_EXEC || kind == DBAL_ASYNC_QUERY) && !dbal__plain_statement(sql, params)
                 ? dbal__statement_check(as->a->e->driver, sql, params, &refused)
                 : DBAL_OK;
    if (rc)
        return rc;
    if (kind == DBAL_ASYNC_BEGIN && (options & ~DBAL__TX_OPTIONS))
        return DBAL_EINVAL;
    if ((kind == DBAL_ASYNC_BEGIN) != (as->depth == 0) &&
        (kind == DBAL_ASYNC_BEGIN || kind == DBAL_ASYNC_COMMIT || kind == DBAL_ASYNC_ROLLBACK))
        return DBAL_EMISUSE;
    dbal_async_op *op = op_new(as->a, sql, params);
    if (!op)
        return DBAL_ENOMEM;
    op->as = as;
    op->kind = kind;
    op->wire = kind;
    op->timeout_ms = as->timeout_ms;
    op->options = options;
    op->cb = cb;
    op->ud = ud;
    if (as->timeout_ms > 0)
        op->deadline = dbal__now() + as->timeout_ms / 1e3;
    if (as->tail)
        as->tail->next = op;
    else
        as->head = op;
    as->tail = op;
    if (!as->unsent)
        as->unsent = op;
    as->nops++;
    as->a->pending++;
    if (kind == DBAL_ASYNC_BEGIN)
        as->depth = 1;
    else if (kind == DBAL_ASYNC_COMMIT || kind == DBAL_ASYNC_ROLLBACK)
        as->depth = 0;
    if (out)
        *out = op;
    kick(as);
    /* A deadline, or a wait for the pool, that nothing else would wake. */
    if (!as->a->in_process && (op->deadline || as->hold_until > 0 || as->checkout == CO_WAITING ||
                               as->checkout == CO_CONNECTING || as->checkout == CO_CHECKING))
        arm(as->a);
    return DBAL_OK;
}

int dbal_async_exec(dbal_async_session *s, const char *sql, dbal_params params, dbal_async_fn cb,
                    void *userdata, dbal_async_op **op)
{
    return queue(s, DBAL_ASYNC_EXEC, 0, sql, params, cb, userdata, op);
}

int dbal_async_query(dbal_async_session *s, const char *sql, dbal_params params, dbal_async_fn cb,
                     void *userdata, dbal_async_op **op)
{
    return queue(s, DBAL_ASYNC_QUERY, 0, sql, params, cb, userdata, op);
}

int dbal_async_begin(dbal_async_session *s, unsigned options, dbal_async_fn cb, void *userdata,
                     dbal_async_op **op)
{
    return queue(s, DBAL_ASYNC_BEGIN, options, NULL, DBAL_NOARGS, cb, userdata, op);
}

int dbal_async_commit(dbal_async_session *s, dbal_async_fn cb, void *userdata, dbal_async_op **op)
{
    return queue(s, DBAL_ASYNC_COMMIT, 0, NULL, DBAL_NOARGS, cb, userdata, op);
}

int dbal_async_rollback(dbal_async_session *s, dbal_async_fn cb, void *userdata, dbal_async_op **op)
{
    return queue(s, DBAL_ASYNC_ROLLBACK, 0, NULL, DBAL_NOARGS, cb, userdata, op);
}

/* Marks an op the database has (or will have next) canceled (1) or timed
 * out (2) and interrupts it. */
static void interrupt(dbal_async_op *op, int why)
{
    if (op->as->a->native) {
        if (!op->cancel || why == 2)
            op->cancel = why;
        dbal__async_native_cancel(op);
    } else {
        dbal__async_worker_cancel(op, why); /* the worker reads op->cancel */
    }
}

int dbal_async_cancel(dbal_async_op *op)
{
    if (!op || op->state == OP_DONE)
        return DBAL_EMISUSE;
    if (op->state == OP_QUEUED) {
        /* Completed in its turn (settle_head, or when it would be sent),
         * never before the ops ahead of it. A ROLLBACK still runs. */
        if (!op->cancel && op->kind != DBAL_ASYNC_ROLLBACK)
            op->cancel = 1;
        settle_head(op->as);
        return DBAL_OK;
    }
    if (!DBAL_DRIVER_HAS(op->as->a->e->driver, cancel))
        return DBAL_EUNSUPPORTED;
    interrupt(op, 1);
    return DBAL_OK;
}

void dbal_async_session_close(dbal_async_session *as)
{
    if (!as || as->closing)
        return;
    if (as->depth > 0)
        queue(as, DBAL_ASYNC_ROLLBACK, 0, NULL, DBAL_NOARGS, NULL, NULL, NULL);
    as->closing = 1;
    if (as->nops == 0)
        release_session(as);
}

/* ---- timers ------------------------------------------------------------------- */

/* When a timed-out op the driver has interrupted is given up with its
 * connection (its deadline plus DBAL_TIMEOUT_GRACE_MS), or 0: only the
 * driver's asynchronous slots run ops on a socket of their own. */
static double give_up_at(const dbal_async *a, const dbal_async_op *op)
{
    if (!a->native || op->cancel != 2 || !op->interrupted || op->gave_up || op->state != OP_SENT)
        return 0;
    return op->deadline + DBAL_TIMEOUT_GRACE_MS / 1e3;
}

static void expire(dbal_async *a, double now)
{
    for (dbal_async_session *as = a->sessions, *next; as; as = next) {
        next = as->next;
        if (as->checkout == CO_WAITING && as->co_deadline > 0 && as->co_deadline <= now) {
            as->co_deadline = 0;
            dbal_error e;
            /* Served meanwhile: the hand-over is on the granted list. */
            /* A failed checkout fails every op of the session (and may
             * free a closed one): nothing more to look at here. */
            if (dbal__pool_withdraw(as->pool, &as->waiter, 1, as->s->label, &e) != DBAL_OK) {
                have(as, e.code, NULL, &e);
                continue;
            }
        } else if (as->checkout == CO_CONNECTING && as->co_deadline > 0 && as->co_deadline <= now) {
            dbal_error e;
            /* A server that said it was full says why, as the blocking
             * checkout does. */
            if (as->co_err.code)
                e = as->co_err;
            else
                dbal__error_set(&e, DBAL_ECONNECT, "08001", 0, "could not connect within pool_timeout=%gs",
                                a->e->pool.opts.pool_timeout);
            dbal__async_native_connect_abort(as, &e);
            continue;
        } else if (as->checkout == CO_CHECKING && as->co_deadline > 0 && as->co_deadline <= now) {
            check_on_worker(as);
        } else if (as->checkout == CO_BACKOFF && as->co_deadline <= now) {
            as->checkout = CO_NONE;
            as->co_deadline = 0;
            if (as->head && now >= as->co_until && as->co_err.code) {
                dbal_error e = as->co_err; /* still full at the deadline */
                have(as, e.code, NULL, &e);
                continue;
            } else if (as->head) {
                as->co_backed_off = 1;
                start_checkout(as); /* co_until still holds */
            } else {
                as->co_until = 0; /* nothing left to connect for */
                as->co_attempt = 0;
                as->co_backed_off = 0;
                if (as->closing && as->nops == 0) {
                    release_session(as);
                    continue;
                }
            }
        }
        if (as->hold_until > 0 && as->hold_until <= now) {
            as->hold_until = 0;
            dbal__async_native_run(as, 0); /* offers the held op again */
        }
        for (dbal_async_op *op = as->head, *onext; op; op = onext) {
            onext = op->next;
            if (give_up_at(a, op) > 0 && give_up_at(a, op) <= now) {
                /* The server answers neither the statement nor its cancel:
                 * the driver gives the connection up, failing what is in
                 * flight, so that nothing waits on a hung server. */
                op->gave_up = 1;
                dbal__async_native_run(as, DBAL_ASYNC_GIVE_UP);
                break;
            }
            if (!op->deadline || op->deadline > now || op->cancel == 2)
                continue;
            if (op->kind == DBAL_ASYNC_ROLLBACK && op->state == OP_QUEUED)
                continue; /* a rollback always runs */
            if (op->state != OP_QUEUED)
                interrupt(op, 2);
            else
                op->cancel = 2;
        }
        settle_head(as);
    }
}

static void arm(dbal_async *a)
{
    double next = 0;
    for (dbal_async_session *as = a->sessions; as; as = as->next) {
        if ((as->checkout == CO_WAITING || as->checkout == CO_CONNECTING || as->checkout == CO_CHECKING ||
             as->checkout == CO_BACKOFF) &&
            as->co_deadline > 0 && (!next || as->co_deadline < next))
            next = as->co_deadline;
        if (as->hold_until > 0 && (!next || as->hold_until < next))
            next = as->hold_until;
        /* Deadlines armed before the timeout was changed still hold. */
        for (dbal_async_op *op = as->head; op; op = op->next) {
            if (op->deadline && op->cancel != 2 && (!next || op->deadline < next))
                next = op->deadline;
            double g = give_up_at(a, op);
            if (g > 0 && (!next || g < next))
                next = g;
        }
    }
    /* The timer may ring early, for a deadline that has gone (its op
     * completed): expire() then finds nothing due and it is set again here.
     * So it is only set when nothing is set or the next deadline comes
     * sooner: each op of a session with a timeout has a later deadline than
     * the one before, and moving the timer forward for each cost a
     * timerfd_settime per op. Left set with nothing to wait for, it rings
     * once, for nothing. */
    if (!next || (a->armed > 0 && a->armed <= next))
        return;
    a->armed = next;
    struct itimerspec its = {{0, 0}, {0, 0}};
    its.it_value.tv_sec = (time_t)next;
    its.it_value.tv_nsec = (long)((next - (double)its.it_value.tv_sec) * 1e9);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    timerfd_settime(a->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- the loop's entry point ---------------------------------------------------- */

/* Inline execution's bound per dbal_async_process: what is left then waits
 * for the next call, which the eventfd, left readable, brings at once, so
 * that the application's other descriptors get their turn. 256, not
 * fewer, and the clock read every DBAL__INLINE_CLOCK_OPS ops, not after
 * each: a trip through the application's poll (three system calls) costs
 * some 1.5 us on a virtual machine and a clock read some 30 ns, against
 * about 1 us for a point select on sqlite::memory:. */
#define INLINE_MAX_OPS 256
#define INLINE_MAX_SECONDS 0.001

/* Runs the sessions on the inline list, and the ops their callbacks queue
 * meanwhile (a chain of dependent queries runs to its end without a trip
 * through the application's poll), within the bound; dbal_async_process
 * leaves the eventfd readable for what is left. */
static void run_inline(dbal_async *a)
{
    double until = dbal__now() + INLINE_MAX_SECONDS;
    int left = INLINE_MAX_OPS, unclocked = 0;
    dbal_async_session *as;
    while (left > 0 && !a->close_asked && (as = dbal__async_inline_take(a)) != NULL) {
        int n = dbal__async_inline_run(as, left, until);
        /* An op handed over ran up to its budget: time to look. */
        int stopped = n == 0 || (as->head && as->head->no_inline);
        left -= n;
        if (as->head)
            kick(as); /* what is left: back on the list, or to a worker */
        call_ready(a);
        if ((unclocked += n) >= DBAL__INLINE_CLOCK_OPS || stopped) {
            unclocked = 0;
            if (dbal__now() >= until)
                break;
        }
    }
}

int dbal_async_process(dbal_async *a)
{
    if (!a || a->in_process)
        return DBAL_EMISUSE;
    a->in_process = 1;
    int woken = 0, fired = 0;
    if (a->native) {
        struct epoll_event evs[64];
        int n = epoll_wait(a->epfd, evs, 64, 0);
        /* Sockets first: hand-overs and expiries can free a session, whose
         * event may still be further on in evs. */
        for (int i = 0; i < n; i++) {
            void *what = evs[i].data.ptr;
            if (what == &a->evfd)
                woken = 1;
            else if (what == &a->tfd)
                fired = 1;
            else
                dbal__async_native_event(what, evs[i].events);
        }
        if (woken)
            drain(a->evfd);
        if (fired)
            drain(a->tfd);
    } else {
        /* Only the eventfd and the timer are in the set: one read (before
         * the lists are taken, see dbal__async_wake) and the clock say
         * which woke the loop, without asking epoll. */
        woken = drain(a->evfd);
        a->inline_signaled = 0;
        fired = a->armed > 0 && dbal__now() >= a->armed;
        if (fired || !woken)
            fired = drain(a->tfd) || fired; /* it may be readable a little before our clock says so */
    }
    if (woken) {
        take_granted(a);
        dbal__async_worker_results(a);
    }
    if (fired) {
        a->armed = 0; /* fired: set it again below */
        expire(a, dbal__now());
    }
    call_ready(a);
    if (a->inline_head)
        run_inline(a);
    /* Worker completions that came while the callbacks ran are taken now
     * rather than after another trip through the application's poll; a
     * few rounds at most, so that the loop's other descriptors wait no
     * longer than that. */
    for (int round = 0; !a->native && round < 4 && dbal__async_worker_published(a); round++) {
        drain(a->evfd);
        take_granted(a);
        dbal__async_worker_results(a);
        call_ready(a);
    }
    if (a->inline_head) {
        a->inline_signaled = 1;
        dbal__async_signal(a);
    }
    arm(a);
    a->in_process = 0;
    if (a->close_asked)
        dbal_async_close(a);
    return DBAL_OK;
}

/* ---- closing ------------------------------------------------------------------- */

/* Closing, step 1: what runs is interrupted; a connection with statements
 * in flight is discarded rather than waited for. */
static void close_interrupt(dbal_async *a)
{
    if (!a->native)
        return; /* dbal__async_worker_close interrupts what the workers run */
    for (dbal_async_session *as = a->sessions; as; as = as->next) {
        dbal_async_op *op = as->head;
        if (op && op->state == OP_SENT) {
            op->cancel = op->cancel ? op->cancel : 1;
            if (as->s->conn)
                as->s->conn->discard = 1;
        }
    }
}

/* Step 3: every checkout under way ends without a connection. */
static void close_checkouts(dbal_async *a)
{
    for (dbal_async_session *as = a->sessions; as; as = as->next) {
        if (as->checkout == CO_BACKOFF) {
            as->checkout = CO_NONE; /* its ops are called back below */
        } else if (as->checkout == CO_CHECKING) {
            /* Unused: back to the pool, whose next checkout reads the answer. */
            dbal__async_native_unwatch(as);
            dbal__pool_untake(as->pool, as->job_conn);
            as->job_conn = NULL;
            as->checkout = CO_NONE;
        } else if (as->checkout == CO_WAITING) {
            dbal_error e;
            if (dbal__pool_withdraw(as->pool, &as->waiter, 0, as->s->label, &e) != DBAL_OK)
                as->checkout = CO_NONE;
        }
    }
    take_granted(a);
    for (dbal_async_session *as = a->sessions, *next; as; as = next) {
        next = as->next; /* a closed session may be freed */
        if (as->checkout == CO_CONNECTING) {
            dbal_error e;
            dbal__error_set(&e, DBAL_ECANCELED, "57014", 0, "the asynchronous context was closed");
            dbal__async_native_connect_abort(as, &e);
        }
    }
}

/* Step 4: an op that may have reached the database has an outcome nobody
 * knows (a COMMIT may have committed): DBAL_ECONNLOST, as after a lost
 * connection. Only what was never sent is canceled. */
static void close_ops(dbal_async *a)
{
    for (dbal_async_session *as = a->sessions; as; as = as->next)
        while (as->head) {
            dbal_async_op *op = as->head;
            int code = op->local ? op->code : op->state == OP_SENT ? DBAL_ECONNLOST : DBAL_ECANCELED;
            if (code == DBAL_ECONNLOST)
                dbal__error_set(&op->err, code, "08006", 0,
                                "the asynchronous context was closed after the statement was sent: its "
                                "outcome "
                                "is unknown");
            else if (!op->local)
                dbal__error_set(&op->err, code, "57014", 0, "the asynchronous context was closed");
            op->cancel = 0;
            dbal__async_complete(op, code);
        }
}

void dbal_async_close(dbal_async *a)
{
    if (!a)
        return;
    if (a->in_process) {
        a->close_asked = 1; /* from a callback: when dbal_async_process returns */
        return;
    }
    a->in_process = 1;
    pthread_mutex_lock(&a->lock); /* the workers read it */
    a->stopping = 1;
    pthread_mutex_unlock(&a->lock);
    close_interrupt(a);
    dbal__async_worker_close(a); /* step 2 */
    close_checkouts(a);
    close_ops(a);
    call_ready(a);
    while (a->sessions) {
        dbal_async_session *as = a->sessions;
        as->closing = 1;
        release_session(as);
    }
    destroy(a);
}
