/*
 * Sessions run by the driver's asynchronous slots (PostgreSQL): every queued
 * op is sent at once, the socket is in the context's epoll set, results are
 * matched to ops in order. The transaction rules of the blocking API that
 * the server cannot enforce once the connection is gone are kept here.
 */
#include "async.h"

#include "errors.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

static const dbal_driver *driver_of(dbal_async_session *as)
{
    return as->a->e->driver;
}

static int watch(dbal_async_session *as, int fd, unsigned want);

int dbal__async_native_attach(dbal_async_session *as)
{
    dbal_session *s = as->s;
    /* Applies the statement timeout the session wants, as a blocking
     * statement would. */
    int rc = dbal__session_conn(s);
    int fd = -1;
    if (rc == DBAL_OK)
        rc = driver_of(as)->async_start(s->conn->dc, &fd, &s->err);
    if (rc != DBAL_OK)
        return rc;
    if (watch(as, fd, DBAL_ASYNC_WANT_READ) != 0)
        return dbal__error_set(&s->err, DBAL_ERROR, NULL, 0, "cannot watch the connection's socket");
    return DBAL_OK;
}

static uint32_t events_of(unsigned want)
{
    return (want & DBAL_ASYNC_WANT_WRITE ? EPOLLOUT : 0) | (want & DBAL_ASYNC_WANT_READ ? EPOLLIN : 0);
}

/*
 * The epoll set watches a duplicate of the connection's socket, owned here:
 * libpq closes its socket on its own (a failed host, a lost connection),
 * after which its number may belong to another thread's socket, or to
 * another session's in this very set, so that removing it by number would
 * be a stale descriptor's use and could unwatch someone else. The duplicate
 * keeps its registration (and the socket) until unwatch removes and closes
 * it.
 */
static void unwatch(dbal_async_session *as)
{
    if (as->fd >= 0) {
        struct epoll_event ev = {0};
        epoll_ctl(as->a->epfd, EPOLL_CTL_DEL, as->fd, &ev);
        close(as->fd);
        as->fd = -1;
    }
}

/* Whether two descriptors are the same socket. */
static int same_socket(int a, int b)
{
    struct stat sa, sb;
    return a == b ||
           (fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

/* Watches fd (the driver's, or the duplicate itself) for want, replacing
 * what was watched: a connect may move to another socket (several hosts, a
 * retried SSL negotiation), possibly under the same number. */
static int watch(dbal_async_session *as, int fd, unsigned want)
{
    struct epoll_event ev = {.events = events_of(want), .data.ptr = as};
    if (as->fd >= 0 && same_socket(fd, as->fd)) {
        if (ev.events == as->events)
            return 0;
        if (epoll_ctl(as->a->epfd, EPOLL_CTL_MOD, as->fd, &ev) != 0)
            return -1;
        as->events = ev.events;
        return 0;
    }
    unwatch(as);
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0)
        return -1;
    if (epoll_ctl(as->a->epfd, EPOLL_CTL_ADD, own, &ev) != 0) {
        close(own);
        return -1;
    }
    as->fd = own;
    as->events = ev.events;
    return 0;
}

int dbal__async_native_can_connect(const dbal_driver *d)
{
    return DBAL_DRIVER_HAS(d, async_connect_start) && DBAL_DRIVER_HAS(d, async_connect_poll);
}

/* The slot goes back to the pool; the session's ops fail with err. */
static void connect_failed(dbal_async_session *as, dbal_error *err)
{
    dbal__conn *none = NULL;
    int rc = dbal__pool_adopt(as->pool, as->s->label, NULL, &none, err);
    if (!dbal__async_retry(as, rc, err))
        dbal__async_have(as, rc, NULL, err);
}

void dbal__async_native_connect(dbal_async_session *as)
{
    const dbal_driver *d = driver_of(as);
    dbal_driver_conn *dc = NULL;
    dbal_error err = {0};
    int fd = -1;
    unsigned want = 0;
    int rc = d->async_connect_start(as->pool->driver_ctx, &dc, &fd, &want, &err);
    if (rc == DBAL_OK && (fd < 0 || watch(as, fd, want) != 0)) {
        d->disconnect(dc);
        rc = dbal__error_set(&err, DBAL_ECONNECT, "08001", 0, "cannot watch the connection's socket");
    }
    if (rc != DBAL_OK) {
        connect_failed(as, &err);
        return;
    }
    as->checkout = CO_CONNECTING;
    as->connecting = dc;
    /* libpq's connect_timeout is for blocking connects: the checkout's
     * deadline bounds this one. */
    as->co_deadline = as->co_until;
}

void dbal__async_native_connect_abort(dbal_async_session *as, const dbal_error *err)
{
    dbal_error e = *err;
    unwatch(as);
    driver_of(as)->disconnect(as->connecting);
    as->connecting = NULL;
    as->co_deadline = 0;
    connect_failed(as, &e);
}

static void connect_step(dbal_async_session *as)
{
    const dbal_driver *d = driver_of(as);
    dbal_error err = {0};
    int fd = -1, done = 0;
    unsigned want = 0;
    int rc = d->async_connect_poll(as->connecting, &fd, &want, &done, &err);
    if (rc == DBAL_OK && !done && (fd < 0 || watch(as, fd, want) != 0))
        rc = dbal__error_set(&err, DBAL_ECONNECT, "08001", 0, "cannot watch the connection's socket");
    if (rc != DBAL_OK) {
        dbal__async_native_connect_abort(as, &err);
        return;
    }
    if (!done)
        return;
    unwatch(as); /* attach watches it again, for statements */
    dbal_driver_conn *dc = as->connecting;
    as->connecting = NULL;
    as->co_deadline = 0;
    dbal__conn *conn = NULL;
    rc = dbal__pool_adopt(as->pool, as->s->label, dc, &conn, &err);
    dbal__async_have(as, rc, conn, &err);
}

int dbal__async_native_watch_read(dbal_async_session *as, int fd)
{
    return watch(as, fd, DBAL_ASYNC_WANT_READ);
}

void dbal__async_native_unwatch(dbal_async_session *as)
{
    unwatch(as);
}

void dbal__async_native_event(dbal_async_session *as, uint32_t epoll_events)
{
    if (as->checkout == CO_CONNECTING) {
        connect_step(as);
        return;
    }
    if (as->checkout == CO_CHECKING) {
        unwatch(as);
        dbal__async_checked(as);
        return;
    }
    /* A hang-up or an error is read, to learn what happened. */
    unsigned ready = (epoll_events & (EPOLLIN | EPOLLHUP | EPOLLERR) ? DBAL_ASYNC_WANT_READ : 0) |
                     (epoll_events & EPOLLOUT ? DBAL_ASYNC_WANT_WRITE : 0);
    dbal__async_native_run(as, ready);
}

void dbal__async_native_detach(dbal_async_session *as)
{
    unwatch(as);
    dbal_session *s = as->s;
    if (s->conn && !dbal__conn_unusable(s->conn)) {
        if (as->head && as->head->state == OP_SENT)
            s->conn->discard = 1; /* statements in flight: not reusable */
        else
            driver_of(as)->async_stop(s->conn->dc);
    }
}

void dbal__async_native_cancel(dbal_async_op *op)
{
    dbal_async_session *as = op->as;
    /* Only the oldest op is the one the server runs; a later one is
     * interrupted when its turn comes (see run). */
    if (op != as->head || op->state != OP_SENT || op->local || op->interrupted || !as->s->conn)
        return;
    op->interrupted = 1;
    as->cancel_at = dbal__now();
    driver_of(as)->cancel(as->s->conn->dc);
}

/* Notes what a completed op did to the transaction. */
static void track(dbal_session *s, dbal_async_op *op, int rc)
{
    if (op->kind == DBAL_ASYNC_BEGIN && rc == DBAL_OK) {
        s->depth = 1;
        s->failed = 0;
    } else if (op->kind == DBAL_ASYNC_COMMIT || op->kind == DBAL_ASYNC_ROLLBACK) {
        s->depth = 0;
        s->failed = 0;
    } else if (s->depth > 0 && dbal__fails_tx(rc)) {
        s->failed = 1;
    }
}

/*
 * The connection died. An op already sent fails with DBAL_ECONNLOST: the
 * server may or may not have run it (a commit too), so it is never sent
 * again. A rollback succeeds: the transaction went with the connection.
 * The ops not sent yet get what the blocking calls would answer: inside the
 * transaction, the first DBAL_ECONNLOST and the rest DBAL_ETXFAILED until
 * it ends; outside one they wait for another connection.
 */
static void after_loss(dbal_async_session *as, const dbal_error *lost)
{
    dbal_session *s = as->s;
    while (as->head && (as->head->state == OP_SENT || s->depth > 0)) {
        dbal_async_op *op = as->head;
        int rc;
        if (op->local) {
            rc = op->code;
        } else if (op->kind == DBAL_ASYNC_ROLLBACK) {
            rc = DBAL_OK;
        } else if (op->state == OP_QUEUED && s->failed) {
            rc = op->kind == DBAL_ASYNC_COMMIT ? dbal__tx_rolled_back(&op->err) : dbal__tx_refuse(&op->err);
        } else {
            rc = dbal__error_copy(&op->err, lost);
        }
        track(s, op, rc);
        dbal__async_complete(op, rc);
    }
    if (s->depth == 0)
        dbal__async_release_conn(as);
}

/*
 * Whether op's failure is the cancel request of an op before it: a request
 * reaches whatever statement runs when it arrives, and the op it was meant
 * for may have completed first (done, or ended by its own statement
 * timeout), with op already in the pipeline behind it. A statement sent
 * later cannot be hit: the driver holds it back while the request is on
 * its way (DBAL_EBUSY), and an idle server drops the request. So a 57014
 * on an op nobody canceled, before its own deadline and sooner after the
 * request than the engine's statement_timeout could explain, is taken to
 * be the request's (someone else's pg_cancel_backend cannot be told from
 * it).
 */
static int stray_hit(const dbal_async_session *as, const dbal_async_op *op, int rc)
{
    if (as->cancel_at <= 0 || op->interrupted || op->cancel ||
        (rc != DBAL_ECANCELED && rc != DBAL_ETIMEOUT) || strcmp(op->err.sqlstate, "57014") != 0)
        return 0;
    double now = dbal__now();
    int engine_ms = as->a->e->pool.opts.statement_timeout;
    return (!op->deadline || now < op->deadline) &&
           (engine_ms <= 0 || (now - as->cancel_at) * 1e3 < engine_ms);
}

/* An op hit by another's cancel request (stray_hit) fails, saying why.
 * It is never sent again: a statement that failed outside a transaction
 * did not always do nothing (a procedure that commits inside, nextval, a
 * session advisory lock, dblink), and inside one its transaction failed. */
static void after_stray(dbal_async_op *op)
{
    dbal__error_set(&op->err, DBAL_ECANCELED, "57014", 0,
                    "canceled by a cancel request meant for an earlier operation of the session, which "
                    "completed before the request reached the server");
}

/* Completes what the driver has answered. */
static void collect(dbal_async_session *as, dbal_driver_conn *dc, dbal_error *lost)
{
    const dbal_driver *d = driver_of(as);
    while (as->head && as->head->state == OP_SENT && !dc->broken) {
        dbal_async_op *op = as->head;
        int rc;
        if (op->local) {
            rc = op->code;
        } else {
            int ready;
            rc = d->async_result(dc, &ready, &op->dr, &op->affected, &op->err);
            if (!ready)
                break;
            op->rows_m = &as->a->e->cursor;
            if (rc == DBAL_ECONNLOST)
                *lost = op->err;
            if (stray_hit(as, op, rc)) {
                after_stray(op);
                rc = DBAL_ECANCELED;
            }
            /* One request interrupts one statement: this one's, or the
             * canceled op's own. */
            if (rc == DBAL_ECANCELED || rc == DBAL_ETIMEOUT)
                as->cancel_at = 0;
            /* The blocking calls' echo=1 lines, timed from the send. */
            if (op->sent > 0 && op->sql)
                dbal__session_echo(as->s, op->kind == DBAL_ASYNC_QUERY ? "async query" : "async exec",
                                   op->sql, op->nparams, op->sent, rc);
        }
        track(as->s, op, rc);
        dbal__async_complete(op, rc);
        dbal_async_op *next = as->head;
        if (next && next->state == OP_SENT && next->cancel)
            dbal__async_native_cancel(next);
    }
}

/* The driver said "not yet" (DBAL_EBUSY: a cancel request on its way
 * could interrupt op in place of the op it was meant for): op goes back
 * to the unsent ones, undecided, so that a cancel or its deadline meanwhile
 * is decided as for any op not sent; offered again after 1, 2, 4 ... 16
 * ms (the timer; expire). */
static void hold(dbal_async_session *as, dbal_async_op *op, int open_tx, int doomed)
{
    op->state = OP_QUEUED;
    op->decided = 0;
    op->wire = op->kind;
    op->fails_as = 0;
    as->open_tx = open_tx;
    as->doomed = doomed;
    as->unsent = op;
    as->hold_ms = as->hold_ms ? (as->hold_ms < 16 ? as->hold_ms * 2 : 16) : 1;
    as->hold_until = dbal__now() + as->hold_ms / 1e3;
}

static void send_unsent(dbal_async_session *as, dbal_driver_conn *dc)
{
    const dbal_driver *d = driver_of(as);
    dbal_async_op *op;
    while (!dc->broken && (op = as->unsent) != NULL) {
        op->state = OP_SENT;
        as->unsent = op->next;
        int open_tx = as->open_tx, doomed = as->doomed;
        if (dbal__async_decide(as, op))
            continue; /* completed in its turn by collect */
        if (as->a->e->pool.opts.echo)
            op->sent = dbal__now();
        int rc = d->async_send(dc, op->wire, op->options, op->sql, op->params, op->nparams, &op->err);
        if (rc == DBAL_EBUSY && d->abi_version >= DBAL_DRIVER_SINCE_ASYNC_SEND_BUSY) {
            hold(as, op, open_tx, doomed);
            return;
        }
        as->hold_ms = 0;
        if (op == as->head)
            as->cancel_at = 0; /* sent to an idle server, after any request settled */
        if (rc != DBAL_OK) {
            /* Completed in its turn, after the ops before it. */
            op->local = 1;
            op->code = rc;
        }
    }
}

void dbal__async_native_run(dbal_async_session *as, unsigned ready)
{
    dbal_session *s = as->s;
    if (as->checkout != CO_HAVE || !s->conn)
        return;
    dbal_driver_conn *dc = s->conn->dc;
    const dbal_driver *d = driver_of(as);
    /* What the driver says when the connection goes; made only then, as
     * this runs twice per statement. */
    dbal_error lost;
    lost.code = DBAL_OK;
    unsigned want = DBAL_ASYNC_WANT_READ;
    /* Nothing more goes to a connection about to be given up. */
    if (!(ready & DBAL_ASYNC_GIVE_UP))
        send_unsent(as, dc);
    if (!dc->broken)
        d->async_io(dc, ready, &want, &lost);
    collect(as, dc, &lost);
    if (dc->broken) {
        if (lost.code == DBAL_OK)
            dbal__error_set(&lost, DBAL_ECONNLOST, "08006", 0, "connection to the database lost");
        after_loss(as, &lost);
        if (as->head && as->checkout == CO_NONE)
            dbal__async_kick(as); /* outside a transaction: another connection */
        return;
    }
    if (as->fd >= 0)
        watch(as, as->fd, want | DBAL_ASYNC_WANT_READ);
}
