/*
 * The connection pool: at most pool_size + max_overflow connections, idle
 * ones reused most-recently-used first, waiters served in arrival order and
 * for at most pool_timeout seconds.
 */
#ifndef DBAL_CORE_POOL_H
#define DBAL_CORE_POOL_H

#include "url.h"

#include <dbal/driver.h>
#include <pthread.h>
#include <string.h>
#include <sys/types.h>

#define DBAL__LABEL_LEN 64

typedef struct dbal__conn {
    struct dbal__conn *next;          /* in the idle list */
    struct dbal__conn *uprev, *unext; /* in the in-use list, for leak reports */
    dbal_driver_conn *dc;
    double created;     /* monotonic seconds */
    double last_used;   /* monotonic seconds of the last successful use */
    double checked_out; /* when the current holder took it */
    int leak_reported;
    int timeout_ms;              /* the statement timeout the driver has now */
    int read_only;               /* set_read_only(1) is in force for the holder */
    int discard;                 /* the core gave up on it (a rollback or reset failed,
                                  * statements left in flight): never pooled again */
    char label[DBAL__LABEL_LEN]; /* the holder's label */
    pid_t pid;                   /* the process that opened it, the only one that may use it */
} dbal__conn;

/* Whether c may not be pooled again: the core gave up on it, or its
 * driver says it is broken. The driver's flag is only ever read here: it
 * flows from the driver to the core, never back. */
static inline int dbal__conn_unusable(const dbal__conn *c)
{
    return c->discard || c->dc->broken;
}

/* Copies a session label (NULL: none), cut to fit: on every checkout, so
 * without snprintf, which cost a third of a pooled session's overhead. */
static inline void dbal__label_copy(char dst[DBAL__LABEL_LEN], const char *label)
{
    size_t n = label ? strnlen(label, DBAL__LABEL_LEN - 1) : 0;
    if (n)
        memcpy(dst, label, n);
    dst[n] = '\0';
}

/* A checkout waiting in line. A blocking one sleeps on cond; an asynchronous
 * one (dbal_async) is told through wake, called with the pool lock held, once
 * conn, slot or failed is set. */
typedef struct dbal__waiter dbal__waiter;
struct dbal__waiter {
    dbal__waiter *next;
    pthread_cond_t cond;
    void (*wake)(void *ud);
    void *ud;
    dbal__conn *conn; /* a connection handed over by a returning session */
    int slot;         /* or the right to open a new one */
    int failed;       /* or the news that the engine closed */
};

typedef struct dbal__pool {
    pthread_mutex_t lock;
    const dbal_driver *driver;
    void *driver_ctx;
    dbal__engine_opts opts;
    dbal__conn *idle; /* most recently returned first */
    int nidle;
    int nopen; /* connections open or being opened */
    dbal__waiter *wait_head, *wait_tail;
    int nwaiting;
    int closing;
    dbal__conn *in_use; /* checked-out connections, most recent first */
    dbal_engine_stats stats;
    dbal_event_fn hook;
    void *hook_userdata;
    pid_t pid; /* the process whose connections the lists hold (see leave_parent) */
} dbal__pool;

/* A child forked from the process that made the pool starts from an empty
 * pool at its first checkout, return, shutdown or stats: its copies of the
 * parent's connections are dropped, memory only, never handed out. */
int dbal__pool_init(dbal__pool *p, const dbal_driver *d, void *ctx, const dbal__engine_opts *o);
/* Closes idle connections and fails waiters; connections in use are closed
 * when they come back. */
void dbal__pool_shutdown(dbal__pool *p);
void dbal__pool_destroy(dbal__pool *p);

/* Takes a connection: an idle one (checked per pool_recycle and
 * pool_pre_ping), a new one while under the limit, or one given back within
 * pool_timeout. Returns DBAL_OK, DBAL_EPOOLTIMEOUT, DBAL_ECONNECT, ... */
int dbal__pool_checkout(dbal__pool *p, const char *label, dbal__conn **out, dbal_error *err);
/* Flags of dbal__pool_checkout_until. NO_WAIT: DBAL_EBUSY at once (nothing
 * set in err) rather than a wait in line when every connection is in use.
 * NO_BACKOFF: a server that is full (dbal__pool_server_busy) is reported at
 * once rather than tried again. For a caller with somewhere else to look
 * (the read replicas). */
#define DBAL__CHECKOUT_NO_WAIT 0x1u
#define DBAL__CHECKOUT_NO_BACKOFF 0x2u
/* dbal__pool_checkout with the caller's deadline, give_up (monotonic
 * seconds, dbal__now()'s clock), for every wait of the checkout: in line,
 * and a full server's backoff. */
int dbal__pool_checkout_until(dbal__pool *p, const char *label, double give_up, unsigned flags,
                              dbal__conn **out, dbal_error *err);
/* When a checkout begun now gives up: pool_timeout from now. */
double dbal__pool_give_up(const dbal__pool *p);
/*
 * The two halves of a checkout, for callers that must not block (the
 * asynchronous API). dbal__pool_take never blocks: DBAL_OK with *c (an idle
 * connection) or *slot (the right to open one), or with neither when w was
 * queued (w->wake set by the caller). dbal__pool_withdraw takes a queued
 * waiter out of line: when it was still waiting, DBAL_EPOOLTIMEOUT (err
 * filled, counted and reported as a timeout when timed_out says it is one,
 * else DBAL_ECANCELED), DBAL_OK when it had been served meanwhile. dbal__pool_finish
 * checks an idle connection or opens one in a slot, which may block on the
 * network exactly when dbal__pool_finish_blocks says so: 1; 0 when it
 * will not; 2 when it will not once *fd is readable (the driver's check
 * waits for an answer: ask again then).
 */
int dbal__pool_take(dbal__pool *p, dbal__waiter *w, dbal__conn **c, int *slot, dbal_error *err);
int dbal__pool_withdraw(dbal__pool *p, dbal__waiter *w, int timed_out, const char *label, dbal_error *err);
int dbal__pool_finish_blocks(dbal__pool *p, dbal__conn *c, int slot, int *fd);
/* Hands out an idle connection that dbal__pool_finish_blocks found ready
 * (answered 0): what dbal__pool_finish would do, without looking again. */
void dbal__pool_hand_out(dbal__pool *p, const char *label, dbal__conn *c, dbal__conn **out);
/* Puts back a connection dbal__pool_take gave and nobody used: to the
 * next in line, or idle. */
void dbal__pool_untake(dbal__pool *p, dbal__conn *c);
int dbal__pool_finish(dbal__pool *p, const char *label, dbal__conn *c, int slot, dbal__conn **out,
                      dbal_error *err);
/* Fills a slot from dbal__pool_take with a connection the caller opened
 * itself (without blocking); dc NULL when that failed (err says why): the
 * slot goes to the next in line and err's code is returned. */
int dbal__pool_adopt(dbal__pool *p, const char *label, dbal_driver_conn *dc, dbal__conn **out,
                     dbal_error *err);
/* Gives a connection back; a broken one, or one over pool_size, is closed,
 * and so is, in a forked child, one its parent opened (the driver then
 * frees memory only). */
void dbal__pool_return(dbal__pool *p, dbal__conn *c);

/* Whether a failed connect is a server that is full (53300) or cannot take
 * one just now (57P03): waited out with backoff within pool_timeout. */
int dbal__pool_server_busy(int rc, const dbal_error *err);
/* The wait before connect attempt `attempt` (0, 1, ...): 20 ms doubling
 * to 1 s, with jitter. */
double dbal__pool_backoff_delay(int attempt);
/* Sleeps dbal__pool_backoff_delay(attempt), never past deadline; 0 when
 * the deadline has passed. */
int dbal__pool_backoff_until(int attempt, double deadline);

void dbal__pool_stats(dbal__pool *p, dbal_engine_stats *out);
/* Logs every connection held past leak_detection_threshold (each once). */
void dbal__pool_report_leaks(dbal__pool *p, int all);

double dbal__now(void);

#endif
