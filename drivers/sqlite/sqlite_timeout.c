/*
 * Statement timeouts and cancel. SQLite has no statement timeout, and
 * sqlite3_interrupt does not reach a statement that waits for another
 * connection's lock: that wait is the busy handler's loop. So the deadline
 * and the cancel flag are checked in two places, the progress handler
 * while a statement runs and the busy handler (ours, in place of
 * sqlite3_busy_timeout's) while it waits.
 */
#include "sqlite_internal.h"

#include <time.h>

/* The busy handler sleeps in steps doubling from 1 ms up to this, so that a
 * cancel or a deadline is seen within it and a freed lock soon after. */
#define BUSY_STEP_MAX 0.020

/* How many virtual machine steps between two looks at the clock: the
 * statement timeout's few milliseconds allow a coarse one; inline
 * execution's budget of some microseconds a finer one (a step is a few
 * nanoseconds, a look at the clock some tens). */
#define TIMEOUT_STEPS 4000
#define INLINE_STEPS 500

double sq_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Called every few hundred or thousand virtual machine steps while a
 * timeout is set or inline execution armed: interrupts a statement past
 * its deadline (DBAL_ETIMEOUT, the op's own answer) or past the inline
 * budget (handed over, see sqlite_inline.c). The deadline is looked at
 * first: a statement past both has timed out. */
static int progress(void *p)
{
    sq_conn *c = p;
    /* SQLite calls the handler once more as a statement returns, after its
     * autocommit transaction committed: an interrupt there would answer
     * SQLITE_INTERRUPT for a write that is applied (a timeout reported
     * for a committed row; inline, the write run again on a worker). */
    if (c->ending_snapshot || c->committed || (c->deadline <= 0 && c->inline_budget <= 0))
        return 0;
    double t = sq_now();
    if (c->deadline > 0 && t > c->deadline) {
        c->stopped = SQ_STOPPED_TIMEOUT;
        return 1;
    }
    if (c->inline_budget > 0) {
        /* Armed without a clock read (sqlite_inline.c): the budget runs
         * from this first look. */
        if (c->inline_until <= 0) {
            c->inline_until = t + c->inline_budget;
        } else if (t > c->inline_until) {
            c->inline_stopped = 1;
            return 1;
        }
    }
    return 0;
}

/* A connection once used inline keeps the inline period: arming and
 * disarming then cost no call into SQLite (whose setter takes the
 * connection's mutex), and a statement with neither a deadline nor a
 * budget pays one early return every INLINE_STEPS steps. */
void sq_install_progress(sq_conn *c)
{
    int steps = c->inline_used ? INLINE_STEPS : c->timeout_ms > 0 ? TIMEOUT_STEPS : 0;
    if (steps == c->progress_steps)
        return;
    c->progress_steps = steps;
    sqlite3_progress_handler(c->db, steps, steps ? progress : NULL, c);
}

/* One step of a wait for a lock that began at `since`, the count-th: sleeps
 * and returns 1, or returns 0 when the wait must end (c->stopped then says
 * whether for a cancel or a timeout rather than busy_timeout). */
static int wait_step(sq_conn *c, double since, int count)
{
    if (c->inline_budget > 0) {
        /* Inline: the loop thread never waits for a lock; the statement
         * goes to a worker, which waits. */
        c->inline_stopped = 1;
        return 0;
    }
    double t = sq_now();
    if (atomic_load_explicit(&c->cancel_requested, memory_order_relaxed)) {
        c->stopped = SQ_STOPPED_CANCEL;
        return 0;
    }
    if (c->deadline > 0 && t >= c->deadline) {
        c->stopped = SQ_STOPPED_TIMEOUT;
        return 0;
    }
    double end = since + c->engine->busy_timeout / 1000.0;
    if (t >= end)
        return 0; /* busy_timeout: DBAL_EBUSY */
    if (c->deadline > 0 && c->deadline < end)
        end = c->deadline;
    double step = 0.001 * (double)(1u << (count < 5 ? count : 5));
    if (step > BUSY_STEP_MAX)
        step = BUSY_STEP_MAX;
    if (step > end - t)
        step = end - t; /* one more try right at the end */
    struct timespec ts = {0, (long)(step * 1e9)};
    nanosleep(&ts, NULL);
    return 1;
}

/* SQLite's busy handler: count is 0 on the first call of a wait.
 * Returning 0 ends the wait with SQLITE_BUSY. */
static int busy_wait(void *p, int count)
{
    sq_conn *c = p;
    if (count == 0)
        c->busy_since = sq_now();
    return wait_step(c, c->busy_since, count);
}

int sq_exec_retrying(sq_conn *c, const char *sql)
{
    double since = sq_now();
    int rc;
    for (int n = 0;
         ((rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL)) & 0xff) == SQLITE_BUSY && wait_step(c, since, n);
         n++)
        ;
    return rc;
}

/* SQLite's commit hook, called as a write transaction commits: non-zero
 * turns the commit into a rollback. */
static int on_commit(void *p)
{
    sq_conn *c = p;
    /* Inline on a database whose commit may wait for the disk (an fsync):
     * rolled back, and run again on a worker (sqlite_inline.c). */
    if (c->inline_budget > 0 && !c->inline_ram) {
        c->inline_stopped = 1;
        return 1;
    }
    c->committed = 1;
    return 0;
}

void sq_install_handlers(sq_conn *c)
{
    atomic_init(&c->cancel_requested, 0);
    sqlite3_busy_handler(c->db, busy_wait, c);
    sqlite3_commit_hook(c->db, on_commit, c);
}

int sq_cancel(dbal_driver_conn *base)
{
    sq_conn *c = (sq_conn *)base;
    /* The flag first: a statement in the busy handler sees only the flag,
     * one in the virtual machine only the interrupt. */
    atomic_store(&c->cancel_requested, 1);
    sqlite3_interrupt(c->db);
    return DBAL_OK;
}

int sq_set_timeout(dbal_driver_conn *base, int milliseconds, dbal_error *err)
{
    sq_conn *c = (sq_conn *)base;
    sq_snap_enter(c);
    c->timeout_ms = milliseconds;
    sq_install_progress(c);
    sq_snap_exit(c);
    return DBAL_OK;
}

void sq_start_clock(sq_conn *c)
{
    /* A cancel asked for before this statement cannot be meant for it
     * (SQLite forgets an interrupt that finds no statement running, too). */
    atomic_store_explicit(&c->cancel_requested, 0, memory_order_relaxed);
    c->stopped = 0;
    c->committed = 0;
    c->deadline = c->timeout_ms > 0 ? sq_now() + c->timeout_ms / 1000.0 : 0;
}

int sq_fail(sq_conn *c, int rc, dbal_error *err)
{
    int code = sq_error(c->db, rc, err);
    int gave_up = (rc & 0xff) == SQLITE_BUSY;
    /* A lock refused without asking the busy handler (a WAL snapshot too
     * old to write from, a recovery under way) also goes to a worker when
     * inline: what the worker then meets is the op's answer. */
    if (c->inline_budget > 0 && gave_up)
        c->inline_stopped = 1;
    if (c->stopped == SQ_STOPPED_TIMEOUT && (code == DBAL_ECANCELED || gave_up))
        sq_host->set_error(err, DBAL_ETIMEOUT, "57014", rc,
                           "canceling statement due to statement timeout (%d ms)", c->timeout_ms);
    else if (c->stopped == SQ_STOPPED_CANCEL && gave_up)
        sq_host->set_error(err, DBAL_ECANCELED, "57014", rc,
                           "canceling statement due to user request (while waiting for a lock)");
    return err->code;
}
