/*
 * Sessions of drivers without asynchronous slots (SQLite): a few worker
 * threads per context run the blocking API on the session underneath.
 *
 * A session's ops go to its inbox as soon as it has a connection, and one
 * job runs them in queue order for as long as the inbox has any: queuing
 * the next op while the job runs costs a lock, not a hand-over. Whether an
 * op runs at all (canceled, timed out, its transaction doomed) is decided
 * by the job when the op's turn comes, under the lock, so that a cancel
 * reaches an op the worker has not started. Each outcome goes onto the
 * context's published list; the eventfd is written only when the loop has
 * taken everything published before (dbal__async_wake), so a batch of
 * completions costs one write and one wake-up, and the loop takes the
 * whole list each time.
 *
 * An idle worker keeps looking for work for a while (SPIN_NS), yielding
 * the CPU between looks, before it sleeps: the next op of a session that
 * queues one op at a time comes a few microseconds after the last one
 * completed, and a sleeping worker would add a futex wake (a system call
 * on the loop thread) and a scheduler hand-over to each. Workers also
 * finish checkouts that must connect or ping.
 */
#include "async.h"

#include "errors.h"
#include "list.h"

#include <limits.h>
#include <sched.h>
#include <time.h>

#define MAX_WORKERS ((int)(sizeof(((dbal_async *)0)->workers) / sizeof(pthread_t)))

/* How long an idle worker looks for work before it sleeps (measured in
 * bench/README.md: a futex sleep and wake per op cost more CPU than this
 * wait, which yields the CPU). */
#define SPIN_NS 30000

/* The op's deadline is also its statement's timeout, which the driver
 * enforces itself: a cancel that comes between the hand-over and the
 * statement's start reaches no statement, and the driver forgets it. The
 * engine's statement_timeout (s->timeout_ms -1) when shorter or no
 * deadline. */
static void deadline_as_timeout(dbal_session *s, const dbal_async_op *op)
{
    s->timeout_ms = -1;
    if (op->deadline <= 0 || !DBAL_DRIVER_HAS(s->engine->driver, set_timeout))
        return;
    double left = op->deadline - dbal__now();
    double want = left * 1e3 + 1;
    int ms = left < 0.001 ? 1 : want >= INT_MAX ? INT_MAX : (int)want;
    int engine_ms = s->engine->pool.opts.statement_timeout;
    if (engine_ms <= 0 || ms < engine_ms)
        s->timeout_ms = ms;
}

void dbal__async_run_op(dbal_async *a, dbal_async_op *op, dbal_driver_rows *spare)
{
    dbal_session *s = op->as->s;
    dbal_params params = dbal_params_array(op->params, op->nparams);
    dbal_rows *r = NULL;
    int rc;
    deadline_as_timeout(s, op);
    switch (op->wire) {
    case DBAL_ASYNC_EXEC: rc = dbal__exec_checked(s, op->sql, params, &op->affected); break;
    case DBAL_ASYNC_QUERY:
        rc = dbal__query_checked(s, op->sql, params, &r);
        if (rc == DBAL_OK) {
            rc = dbal__rows_buffer(r, spare, a, &op->dr);
            spare = NULL;
            op->rows_m = &dbal__buffered_methods;
            dbal_rows_close(r);
        }
        break;
    case DBAL_ASYNC_BEGIN: rc = dbal_begin_with(s, op->options); break;
    case DBAL_ASYNC_COMMIT: rc = dbal_commit(s); break;
    default: rc = dbal_rollback(s); break;
    }
    dbal__rows_buffer_free(spare);
    op->code = rc;
    /* A success's error is cleared when it completes. */
    if (rc != DBAL_OK)
        dbal__error_copy(&op->err, &s->err);
}

/* With the lock held: onto the context's done list (finished checkouts,
 * stalled jobs). Returns whether the eventfd must be written. */
static int done(dbal_async_session *as)
{
    dbal_async *a = as->a;
    as->jnext = a->done;
    a->done = as;
    return dbal__async_wake(a);
}

/*
 * Runs the session's inbox, lock held on entry and on return; returns
 * whether the eventfd must be written. The loop reads an op's outcome only
 * once it is published, and the session (its blocking session, its
 * decision state) only once the job is over: as->job is cleared in the
 * same hold of the lock that publishes the last op.
 */
static int run_ops(dbal_async *a, dbal_async_session *as)
{
    int wake = 0;
    for (;;) {
        dbal_async_op *op = as->inbox;
        if (!op) {
            as->job = 0;
            return wake;
        }
        if (a->stopping)
            return wake; /* dbal__async_worker_close takes the inbox back */
        if (!as->s->conn && as->s->depth == 0) {
            /* The connection was given up after the last op: a new one is
             * the loop's to check out, never waited for here. */
            as->stalled = 1;
            return done(as) || wake;
        }
        as->inbox = op->wnext;
        if (!as->inbox)
            as->inbox_tail = NULL;
        int local = dbal__async_decide(as, op);
        dbal_driver_rows *spare = NULL;
        if (!local) {
            as->running = op;
            if (op->wire == DBAL_ASYNC_QUERY && (spare = dbal__rows_buffer_take(&a->spare_bufs)) != NULL)
                a->nspare_bufs--;
            pthread_mutex_unlock(&a->lock);
            if (wake)
                dbal__async_signal(a);
            wake = 0;
            dbal__async_run_op(a, op, spare);
            pthread_mutex_lock(&a->lock);
            as->running = NULL;
            a->worker_ops++;
        }
        DBAL__QUEUE_APPEND(a->published, a->published_tail, op, wnext);
        wake |= dbal__async_wake(a);
    }
}

/* Lock held on entry and on return. */
static int run_job(dbal_async *a, dbal_async_session *as)
{
    if (as->checkout != CO_FINISHING)
        return run_ops(a, as);
    pthread_mutex_unlock(&a->lock);
    dbal__conn *conn = NULL;
    as->job_rc = dbal__pool_finish(as->pool, as->s->label, as->job_conn, as->job_slot, &conn, &as->s->err);
    as->job_conn = conn;
    pthread_mutex_lock(&a->lock);
    return done(as);
}

static double mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Lock held on entry and on return: waits for a job (or the stop), first
 * looking at `posted` without the lock for up to SPIN_NS, yielding the CPU
 * between looks (on a busy machine the loop thread, or anyone, gets it),
 * then sleeping on the condition variable. */
static void wait_for_work(dbal_async *a)
{
    a->idle++;
    unsigned seen = atomic_load_explicit(&a->posted, memory_order_relaxed);
    pthread_mutex_unlock(&a->lock);
    double until = mono_ns() + SPIN_NS;
    while (atomic_load_explicit(&a->posted, memory_order_relaxed) == seen && mono_ns() < until)
        sched_yield();
    pthread_mutex_lock(&a->lock);
    while (!a->jobs && !a->stopping)
        pthread_cond_wait(&a->work, &a->lock);
    a->idle--;
}

static void *worker(void *arg)
{
    dbal_async *a = arg;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        if (!a->jobs && !a->stopping)
            wait_for_work(a);
        if (a->stopping)
            break;
        dbal_async_session *as = a->jobs;
        a->jobs = as->jnext;
        if (!a->jobs)
            a->jobs_tail = NULL;
        a->njobs--;
        if (run_job(a, as)) {
            pthread_mutex_unlock(&a->lock);
            dbal__async_signal(a);
            pthread_mutex_lock(&a->lock);
        }
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* With the lock held: queues the session's job, starting a worker when
 * every one is busy (threads are started as work needs them: a context
 * used only with PostgreSQL's pool warm has none). The caller signals
 * `work` once it has let go of the lock, so that the worker it wakes does
 * not wait for it at once. */
static void enqueue(dbal_async_session *as)
{
    dbal_async *a = as->a;
    as->job = 1;
    DBAL__QUEUE_APPEND(a->jobs, a->jobs_tail, as, jnext);
    a->njobs++;
    if (a->njobs > a->idle && a->nworkers < MAX_WORKERS &&
        pthread_create(&a->workers[a->nworkers], NULL, worker, a) == 0)
        a->nworkers++;
    atomic_fetch_add_explicit(&a->posted, 1, memory_order_relaxed);
}

void dbal__async_worker_submit(dbal_async_session *as)
{
    pthread_mutex_lock(&as->a->lock);
    enqueue(as);
    pthread_mutex_unlock(&as->a->lock);
    pthread_cond_signal(&as->a->work); /* no system call when no worker sleeps */
}

int dbal__async_worker_send(dbal_async_session *as)
{
    dbal_async *a = as->a;
    pthread_mutex_lock(&a->lock);
    /* No job: nothing else touches the blocking session. */
    if (!as->job && !as->s->conn && as->s->depth == 0) {
        pthread_mutex_unlock(&a->lock);
        return DBAL_ECONNLOST;
    }
    for (dbal_async_op *op = as->unsent; op; op = op->next) {
        op->state = OP_SENT;
        DBAL__QUEUE_APPEND(as->inbox, as->inbox_tail, op, wnext);
    }
    as->unsent = NULL;
    int queued = !as->job;
    if (queued)
        enqueue(as);
    pthread_mutex_unlock(&a->lock);
    if (queued)
        pthread_cond_signal(&a->work);
    return DBAL_OK;
}

/* With the lock held: the inbox's ops go back to the loop's queue, never
 * started (nor decided). */
static void take_back(dbal_async_session *as)
{
    if (as->inbox) {
        for (dbal_async_op *op = as->inbox; op; op = op->wnext)
            op->state = OP_QUEUED;
        as->unsent = as->inbox;
    }
    as->inbox = as->inbox_tail = NULL;
    as->job = 0;
    as->stalled = 0;
}

void dbal__async_worker_results(dbal_async *a)
{
    pthread_mutex_lock(&a->lock);
    dbal_async_session *list = a->done, *sessions = NULL;
    dbal_async_op *ops = a->published;
    a->done = NULL;
    a->published = a->published_tail = NULL;
    a->signaled = 0;
    /* The first closed cursor stays with the loop, for the next query run
     * inline (async_inline.c); the others go to the workers. */
    dbal_driver_rows *keep = dbal__rows_buffer_take(&a->closed_bufs);
    if (keep)
        a->nclosed_bufs--;
    if (a->closed_bufs) {
        if (a->nspare_bufs < DBAL__KEEP_BUFS) {
            dbal__rows_buffer_move(&a->spare_bufs, &a->closed_bufs);
            a->nspare_bufs += a->nclosed_bufs;
        } else {
            dbal__rows_buffer_free(a->closed_bufs);
            a->closed_bufs = NULL;
        }
        a->nclosed_bufs = 0;
    }
    if (keep) {
        a->closed_bufs = keep;
        a->nclosed_bufs = 1;
    }
    /* In the order they finished. */
    while (list) {
        dbal_async_session *next = list->jnext;
        if (list->stalled)
            take_back(list);
        list->jnext = sessions;
        sessions = list;
        list = next;
    }
    pthread_mutex_unlock(&a->lock);
    while (ops) {
        dbal_async_op *op = ops;
        ops = op->wnext;
        op->wnext = NULL;
        dbal__async_complete(op, op->code);
    }
    while (sessions) {
        dbal_async_session *as = sessions;
        sessions = as->jnext;
        if (as->checkout == CO_FINISHING) {
            as->job = 0; /* the worker is done with it */
            dbal_error e = as->s->err;
            if (as->job_rc == DBAL_OK || !dbal__async_retry(as, as->job_rc, &e))
                dbal__async_have(as, as->job_rc, as->job_conn, &e);
        } else {
            as->checkout = CO_NONE; /* stalled: a new connection */
            dbal__async_kick(as);
        }
    }
}

int dbal__async_worker_published(dbal_async *a)
{
    pthread_mutex_lock(&a->lock);
    int any = a->published || a->done;
    pthread_mutex_unlock(&a->lock);
    return any;
}

void dbal__async_worker_cancel(dbal_async_op *op, int why)
{
    dbal_async_session *as = op->as;
    pthread_mutex_lock(&as->a->lock);
    if (!op->cancel || why == 2)
        op->cancel = why;
    /* Only while it runs: a cancel for an op that is over would reach the
     * next (one not started decides on op->cancel). */
    if (as->running == op) {
        op->interrupted = 1;
        dbal_session_cancel(as->s);
    }
    pthread_mutex_unlock(&as->a->lock);
}

void dbal__async_worker_close(dbal_async *a)
{
    pthread_mutex_lock(&a->lock);
    a->stopping = 1;
    for (dbal_async_session *as = a->sessions; as; as = as->next)
        if (as->running) {
            if (!as->running->cancel)
                as->running->cancel = 1;
            dbal_session_cancel(as->s);
        }
    dbal_async_session *unstarted = a->jobs;
    a->jobs = a->jobs_tail = NULL;
    a->njobs = 0;
    atomic_fetch_add_explicit(&a->posted, 1, memory_order_relaxed);
    pthread_cond_broadcast(&a->work);
    pthread_mutex_unlock(&a->lock);
    for (int i = 0; i < a->nworkers; i++)
        pthread_join(a->workers[i], NULL);
    a->nworkers = 0;
    /* Alone now. Checkouts not started are finished here. */
    while (unstarted) {
        dbal_async_session *as = unstarted;
        unstarted = as->jnext;
        if (as->checkout == CO_FINISHING) {
            dbal__conn *conn = NULL;
            as->job_rc = dbal__pool_finish(as->pool, as->s->label, as->job_conn, as->job_slot, &conn,
                                           &as->s->err);
            as->job_conn = conn;
            as->jnext = a->done;
            a->done = as;
        }
    }
    for (dbal_async_session *as = a->sessions; as; as = as->next)
        if (as->checkout != CO_FINISHING)
            take_back(as);
    dbal__async_worker_results(a);
}

void dbal__async_worker_free(dbal_async *a)
{
    dbal__rows_buffer_free(a->spare_bufs);
    dbal__rows_buffer_free(a->closed_bufs);
    a->spare_bufs = a->closed_bufs = NULL;
}
