/*
 * The asynchronous API's shared state. A context (dbal_async) is owned by
 * its loop thread; what other threads touch (worker jobs, their results,
 * pool hand-overs) goes through `lock` and a write to the eventfd (see
 * dbal__async_wake: one write until the loop has taken what was published).
 *
 * Two engines drive a session's operations: the driver's asynchronous
 * slots (async_native.c) or, for drivers without them, the context's
 * worker threads running the blocking API (async_worker.c). async.c holds
 * what both share: queues, checkout, timers, callbacks.
 */
#ifndef DBAL_CORE_ASYNC_H
#define DBAL_CORE_ASYNC_H

#include "session.h"

#include <pthread.h>
#include <stdatomic.h>

enum { OP_QUEUED, OP_SENT, OP_DONE };

struct dbal_async_op {
    dbal_async_op *next;  /* in the session's queue, then in the context's ready list */
    dbal_async_op *wnext; /* worker: in the session's inbox, then in the context's published list */
    dbal_async_session *as;
    int kind;       /* DBAL_ASYNC_* */
    int wire;       /* the kind sent: a COMMIT of a failed transaction goes as a ROLLBACK */
    int decided;    /* what becomes of it was decided, in queue order (see decide) */
    int fails_as;   /* a COMMIT sent as ROLLBACK: its code when the rollback succeeds */
    int timeout_ms; /* the session's timeout when it was queued */
    unsigned options;
    char *sql;
    dbal_value *params; /* copies, in the same allocation as the op */
    size_t nparams;
    dbal_async_fn cb;
    void *ud;
    double deadline; /* monotonic seconds; 0: none */
    double sent;     /* when it was sent, for echo=1 */
    int state;
    /* Asked to cancel (1) or timed out (2); applied when it runs. Once a
     * worker has the op (OP_SENT), written and read under the lock. */
    int cancel;
    int interrupted; /* the driver's cancel was called for it */
    int gave_up;     /* timed out, interrupted, unanswered: the driver was told to give up */
    int local;       /* failed before reaching the database: its code is final */
    int no_inline;   /* not to be tried on the loop thread (again): async_inline.c */
    size_t cap;      /* bytes allocated for the op, its parameters and SQL (kept for reuse: op_new) */
    /* The outcome. */
    int code;
    int64_t affected;
    dbal_driver_rows *dr;               /* a query's rows: the driver's, or buffered by a worker */
    const dbal__cursor_methods *rows_m; /* what reads dr */
    dbal_error err;                     /* last: a kept op is zeroed up to here, err only cleared */
};

/* Checkout: none, in the pool's line, finished by a worker (connect,
 * ping), connecting without blocking (the driver's async_connect_*), an
 * idle connection whose check waits for its socket (the answer to its
 * reset), done. */
enum { CO_NONE, CO_WAITING, CO_FINISHING, CO_CONNECTING, CO_CHECKING, CO_BACKOFF, CO_HAVE };

struct dbal_async_session {
    dbal_async *a;
    dbal_async_session *prev, *next; /* in the context's list */
    dbal_session *s;                 /* the blocking session underneath: state, connection */
    dbal_async_op *head, *tail;      /* queued, oldest first; the sent ones lead */
    dbal_async_op *unsent;           /* the first op not yet handed to the database */
    int nops;                        /* ops not yet called back, also in the ready list */
    int checkout;                    /* CO_* */
    dbal__waiter waiter;             /* in the pool's line while CO_WAITING */
    dbal__pool *pool;                /* where the checkout under way (or done) takes from */
    double co_deadline; /* for CO_WAITING, CO_CONNECTING and CO_CHECKING; CO_BACKOFF: the next try */
    double co_until;    /* the checkout's one deadline, pool_timeout from its start (0: none under way) */
    int co_attempt;     /* backoffs so far */
    int co_backed_off;  /* the next look at the replicas follows a backoff: full ones are tried too */
    dbal_error co_err;  /* the last refusal of a replica, for the checkout's failure */
    dbal_driver_conn *connecting; /* CO_CONNECTING: the connection being made */
    int granted;                  /* the pool served the waiter (on the context's granted list) */
    dbal_async_session *gnext;
    int fd;          /* native: a duplicate of the connection's socket, in the epoll set, or -1 */
    unsigned events; /* native: the epoll events asked for */
    /* native: the driver held the next op back (async_send answered
     * DBAL_EBUSY): when to offer it again (0: not held), and the step. */
    double hold_until;
    int hold_ms;
    /* native: when the driver was last asked to cancel an op, while the
     * request may still reach a later op (see stray_hit); 0: none can. */
    double cancel_at;
    /* Worker sessions. Under the lock: job (a job of this session is
     * queued or running: while it is, only the worker touches s and the
     * decision state, open_tx and doomed), the inbox (ops handed over, not
     * yet started, in queue order), running (the op a worker runs) and
     * stalled (the job stopped at an op because the connection was given
     * up: the loop takes the inbox back and checks out another). */
    int job;
    int stalled;
    dbal_async_op *inbox, *inbox_tail;
    dbal_async_op *running;
    dbal_async_session *jnext;
    dbal__conn *job_conn; /* worker: a finished checkout's connection; CO_CHECKING: the one checked */
    int job_slot;
    int job_rc;
    int closing;
    int depth; /* the transaction depth once every queued op has run */
    /* The transaction as the ops decided so far make it (see decide): a
     * BEGIN decided to be sent and no COMMIT or ROLLBACK yet; and whether
     * it is doomed by a canceled or timed-out op (DOOMED_*). */
    int open_tx;
    int doomed;
    int timeout_ms;
    int inline_queued; /* on the context's inline list, through inext */
    dbal_async_session *inext;
};

struct dbal_async {
    dbal_engine *e;
    int native; /* the driver has the asynchronous slots */
    int epfd, evfd, tfd;
    double armed; /* when the timer rings: at or before the next deadline (see arm); 0: not set */
    dbal_async_session *sessions;
    int pending;
    int in_process;
    int close_asked;                        /* dbal_async_close was called from a callback */
    dbal_async_op *ready_head, *ready_tail; /* completed, to call back */
    /* Inline execution (async_inline.c): the budget in microseconds (0:
     * never), the sessions whose next op may run on the loop thread, and
     * whether the eventfd was written for them outside dbal_async_process.
     * Counted for tests and benchmarks: ops run inline, ops handed over
     * after a first attempt, and (under the lock) ops run by workers. */
    int inline_us;
    dbal_async_session *inline_head, *inline_tail;
    int inline_signaled;
    uint64_t inline_ops, inline_handed_over;

    pthread_mutex_t lock; /* guards what follows */
    pthread_cond_t work;
    int signaled;                         /* the eventfd was written since the loop last took the lists */
    dbal_async_session *granted;          /* served by the pool */
    dbal_async_session *jobs, *jobs_tail; /* for the workers */
    dbal_async_session *done;             /* checkouts finished and stalled jobs */
    dbal_async_op *published, *published_tail; /* ops run (or decided) by the workers, in that order */
    dbal_driver_rows *spare_bufs;              /* buffered cursors closed, for the workers to fill again */
    int nspare_bufs;
    int nworkers, idle, njobs, stopping;
    uint64_t worker_ops;
    pthread_t workers[4];
    atomic_uint posted; /* bumped with each job queued (and at stop): what idle workers spin on */

    dbal_rows *spare_rows;    /* a closed result cursor kept for the next */
    dbal_async_op *spare_ops; /* ops called back, kept for the next (linked by next) */
    int nspare_ops;
    dbal_driver_rows *closed_bufs; /* buffered cursors closed by callbacks, for spare_bufs */
    int nclosed_bufs;
};

/* async.c */
void dbal__async_complete(dbal_async_op *op, int code);
/* Wakes the loop: with the lock held, 1 when the caller must write the
 * eventfd (dbal__async_signal) once it has let go of the lock; 0 when a
 * write is already waiting for the loop. */
int dbal__async_wake(dbal_async *a);
void dbal__async_signal(dbal_async *a);
/* Moves a session forward: a checkout, then its ops to the database. */
void dbal__async_kick(dbal_async_session *as);
/* Ends a checkout: the session has conn, or rc and err say why not. */
void dbal__async_have(dbal_async_session *as, int rc, dbal__conn *conn, const dbal_error *err);
/* Gives the session's connection back (none of its ops is at the database). */
void dbal__async_release_conn(dbal_async_session *as);
/* A connect failed with rc (its slot given back): the checkout goes on (1)
 * at another replica when a read replica was down or full, or after a
 * backoff when the server is full, within the checkout's deadline, as the
 * blocking checkout does; else 0. */
int dbal__async_retry(dbal_async_session *as, int rc, const dbal_error *err);
/* Decides, in queue order, whether op is sent (0, as op->wire) or
 * completes without reaching the database (1: op->local, op->code). */
int dbal__async_decide(dbal_async_session *as, dbal_async_op *op);
/* CO_CHECKING: the connection's socket is readable: check it again. */
void dbal__async_checked(dbal_async_session *as);

/* async_native.c */
int dbal__async_native_attach(dbal_async_session *as);
void dbal__async_native_detach(dbal_async_session *as);
/* Sends what is queued and collects what has arrived; ready: the socket's
 * events that fired (DBAL_ASYNC_WANT_*), 0 when only sending. */
void dbal__async_native_run(dbal_async_session *as, unsigned ready);
void dbal__async_native_cancel(dbal_async_op *op);
/* Its socket is ready: a connection being made, or statements. */
void dbal__async_native_event(dbal_async_session *as, uint32_t epoll_events);
/* Non-blocking connect, when the driver has it, in a slot of the pool. */
int dbal__async_native_can_connect(const dbal_driver *d);
void dbal__async_native_connect(dbal_async_session *as);
/* Gives up a connect (time limit, close) with err. */
void dbal__async_native_connect_abort(dbal_async_session *as, const dbal_error *err);
/* Watches fd for reading (CO_CHECKING); 0 on success. */
int dbal__async_native_watch_read(dbal_async_session *as, int fd);
void dbal__async_native_unwatch(dbal_async_session *as);

/* async_inline.c */
/* Whether the session's next op may be tried on the loop thread now. */
int dbal__async_inline_wanted(const dbal_async_session *as);
/* Onto the context's inline list (once), waking the loop when outside
 * dbal_async_process. */
void dbal__async_inline_queue(dbal_async_session *as);
/* Takes the list's first session (NULL when empty). */
dbal_async_session *dbal__async_inline_take(dbal_async *a);
/* Off the list (a session freed). */
void dbal__async_inline_forget(dbal_async_session *as);
/* How many ops run inline between two looks at the clock (async.c's
 * run_inline says why not after each). */
enum { DBAL__INLINE_CLOCK_OPS = 8 };
/* Runs the session's ops on the loop thread while they may run there, at
 * most max and, looking at the clock every DBAL__INLINE_CLOCK_OPS, until
 * `until` (monotonic seconds);
 * returns how many completed. An op the driver stopped is left at the
 * head, never to be tried inline again: the caller hands it to a worker
 * (dbal__async_kick). */
int dbal__async_inline_run(dbal_async_session *as, int max, double until);

/* async_worker.c */
/* Runs op on the blocking session (the op's turn, decided): a query's rows
 * buffered, in spare's memory when given. On a worker, or inline. */
void dbal__async_run_op(dbal_async *a, dbal_async_op *op, dbal_driver_rows *spare);
/* Queues a job that finishes the session's checkout (CO_FINISHING). */
void dbal__async_worker_submit(dbal_async_session *as);
/* Hands the session's unsent ops to its worker job (starting one when none
 * runs); 0, or DBAL_ECONNLOST when no job runs and the session has no
 * connection any more (a broken one was given back): the caller checks out
 * another. */
int dbal__async_worker_send(dbal_async_session *as);
/* Takes what the workers published and completes it, in the order they
 * published it; finished checkouts end (have). */
void dbal__async_worker_results(dbal_async *a);
/* Whether the workers have published anything the loop has not taken. */
int dbal__async_worker_published(dbal_async *a);
/* Marks op canceled (1) or timed out (2) and interrupts it if it runs. */
void dbal__async_worker_cancel(dbal_async_op *op, int why);
/* Closing: interrupts what the workers run, stops them after it, finishes
 * the checkouts they had not started and takes back the ops they had not
 * started (OP_QUEUED again: they never ran). */
void dbal__async_worker_close(dbal_async *a);
/* Frees the buffered cursors kept for reuse. */
void dbal__async_worker_free(dbal_async *a);

/* async_rows.c */
extern const dbal__cursor_methods dbal__buffered_methods;
/* Reads every row of r (a cursor of the blocking API) into a buffered
 * cursor, in spare's memory when spare (one kept for reuse) is given; on
 * failure (spare freed), the code of the read that failed (the session's
 * error says why). Closing the cursor keeps it on home's closed_bufs
 * (loop thread) when it is small and fewer than DBAL__KEEP_BUFS are kept. */
int dbal__rows_buffer(dbal_rows *r, dbal_driver_rows *spare, dbal_async *home, dbal_driver_rows **out);
enum { DBAL__KEEP_BUFS = 16 };
/* Cursors kept for reuse are a list: takes its first (NULL when empty). */
dbal_driver_rows *dbal__rows_buffer_take(dbal_driver_rows **list);
/* Moves every cursor of *from to the front of *to. */
void dbal__rows_buffer_move(dbal_driver_rows **to, dbal_driver_rows **from);
/* Frees a list of kept cursors. */
void dbal__rows_buffer_free(dbal_driver_rows *list);

#endif
