/*
 * Inline execution of a worker session's ops on the loop thread.
 *
 * A thread hand-over (a futex or eventfd wake-up, ~10 us across CPUs on a
 * VM) costs more than a SQLite point select (~1 us), and no batching helps
 * an application that waits for each answer before it sends the next
 * query. So an op runs on the loop thread, inside dbal_async_process, when
 * that cannot hold the loop: the driver promises it (driver.h's
 * inline_budget) by stopping the statement when it would wait for a lock,
 * run past the budget (the async_inline option) or wait for the disk, and
 * a stopped statement changed nothing, so the op is run again from the
 * start on a worker, as if it had gone there first. Its rows are buffered
 * as a worker buffers them, so nothing of the first attempt reaches the
 * application.
 *
 * Order is kept: an op is tried only at the head of its session's queue,
 * with nothing at a worker (no job, see async_worker.c), outside a
 * transaction (an interrupted write inside one would roll back the whole
 * transaction in SQLite) and not after a hand-over of its own.
 *
 * Never inside dbal_async_exec/query/...: a session whose next op may run
 * inline waits on the context's inline list, and the eventfd wakes the loop
 * once for it; dbal_async_process runs the list, and the ops callbacks
 * queue meanwhile, within a bound per call (async.c's run_inline).
 */
#include "async.h"

#include "errors.h"
#include "list.h"

int dbal__async_inline_wanted(const dbal_async_session *as)
{
    const dbal_async_op *op = as->unsent;
    return as->a->inline_us > 0 && op && op == as->head && !op->no_inline &&
           (op->kind == DBAL_ASYNC_EXEC || op->kind == DBAL_ASYNC_QUERY) && !op->cancel &&
           as->checkout == CO_HAVE && !as->open_tx && !as->doomed && as->s->conn && as->s->depth == 0;
}

void dbal__async_inline_queue(dbal_async_session *as)
{
    dbal_async *a = as->a;
    if (as->inline_queued)
        return;
    as->inline_queued = 1;
    DBAL__QUEUE_APPEND(a->inline_head, a->inline_tail, as, inext);
    if (!a->in_process && !a->inline_signaled) {
        a->inline_signaled = 1;
        dbal__async_signal(a);
    }
}

dbal_async_session *dbal__async_inline_take(dbal_async *a)
{
    dbal_async_session *as = a->inline_head;
    if (as) {
        a->inline_head = as->inext;
        if (!a->inline_head)
            a->inline_tail = NULL;
        as->inline_queued = 0;
        as->inext = NULL;
    }
    return as;
}

void dbal__async_inline_forget(dbal_async_session *as)
{
    dbal_async *a = as->a;
    if (!as->inline_queued)
        return;
    dbal_async_session *prev = NULL;
    for (dbal_async_session *s = a->inline_head; s && s != as; s = s->inext)
        prev = s;
    if (prev)
        prev->inext = as->inext;
    else
        a->inline_head = as->inext;
    if (a->inline_tail == as)
        a->inline_tail = prev;
    as->inline_queued = 0;
    as->inext = NULL;
}

/* The first attempt's outcome is dropped: the worker's is the op's. */
static void forget_attempt(dbal_async_op *op)
{
    if (op->dr) {
        op->rows_m->close(op->dr);
        op->dr = NULL;
    }
    op->rows_m = NULL;
    op->code = DBAL_OK;
    op->affected = 0;
    dbal__error_clear(&op->err);
}

int dbal__async_inline_run(dbal_async_session *as, int max, double until)
{
    dbal_async *a = as->a;
    const dbal_driver *d = a->e->driver;
    int n = 0;
    while (n < max && dbal__async_inline_wanted(as) &&
           (n % DBAL__INLINE_CLOCK_OPS != 0 || n == 0 || dbal__now() < until)) {
        dbal_async_op *op = as->head;
        if (dbal__async_decide(as, op)) {
            dbal__async_complete(op, op->code);
            continue;
        }
        dbal_driver_conn *dc = as->s->conn->dc;
        if (d->inline_budget(dc, a->inline_us) != DBAL_OK) {
            op->no_inline = 1;
            break;
        }
        dbal_driver_rows *spare = NULL;
        if (op->kind == DBAL_ASYNC_QUERY && (spare = dbal__rows_buffer_take(&a->closed_bufs)) != NULL)
            a->nclosed_bufs--;
        dbal__async_run_op(a, op, spare);
        /* A statement that left its connection unusable gave it back (and
         * closed it) inside the run: nothing to disarm, and it ran to its
         * end, so its answer stands. */
        int kept = as->s->conn && as->s->conn->dc == dc;
        if (kept && d->inline_budget(dc, 0) != DBAL_OK) {
            forget_attempt(op);
            op->no_inline = 1;
            a->inline_handed_over++;
            break;
        }
        a->inline_ops++;
        n++;
        dbal__async_complete(op, op->code);
    }
    return n;
}
