/*
 * tw.h - the testing driver: a driver that wraps a real one (the URL's
 * scheme, or inner=NAME), forwards every call to it, and on demand makes
 * chosen calls fail (faults) or keeps everything a test does inside one
 * transaction that is rolled back (isolation). README, "Testing your
 * application", has the user's view; dbal/testing.h the C API that drives
 * it through dbal_engine_control().
 *
 * Built with nothing but the installed driver kit (<dbal/driver.h>,
 * dbal_add_driver), as a driver from outside dbal's tree would be.
 */
#ifndef DBAL_TESTING_DRIVER_TW_H
#define DBAL_TESTING_DRIVER_TW_H

#include <dbal/driver.h>

#include <pthread.h>
#include <sys/types.h>

extern const dbal_host *tw_host;

/* Where a fault can strike: TW_AT_STATEMENT (exec, query, exec_batch),
 * TW_AT_BEGIN, TW_AT_COMMIT, TW_AT_ROLLBACK (transactions at depth 0),
 * TW_AT_CONNECT (a new connection), TW_AT_CHECKOUT (a connection handed
 * out by the pool, new or idle); TW_AT_NONE for what faults never reach
 * (the core's SAVEPOINT statements). */
enum {
    TW_AT_NONE,
    TW_AT_STATEMENT,
    TW_AT_BEGIN,
    TW_AT_COMMIT,
    TW_AT_ROLLBACK,
    TW_AT_CONNECT,
    TW_AT_CHECKOUT
};

/* What a fault does: fail with an error (nothing ran), lose the
 * connection before the call reached the server (nothing ran) or after it
 * ran (its effect stays, as far as the server keeps it), or wait first. */
enum { TW_FAIL, TW_LOST, TW_LOST_AFTER, TW_DELAY };

/* A fault that fired: a copy taken under the engine's lock. */
typedef struct tw_fault {
    int id;
    int action;
    int delay_ms;
    dbal_error error; /* for TW_FAIL and the lost ones */
} tw_fault;

typedef struct tw_rule tw_rule;
typedef struct tw_conn tw_conn;

/* The one inner connection that every connection of ours uses in turn
 * while isolating (tw_iso.c). Freed when the last of ours lets go of it
 * and it is no longer the engine's. */
typedef struct tw_shared {
    dbal_driver_conn *inner;
    int refs;
} tw_shared;

#define TW_MAX_TX 32 /* transactions open at once on the shared connection */

typedef struct tw_engine {
    const dbal_driver *inner;
    void *inner_ctx;
    char inner_name[33];
    dbal_url url;           /* the URL as the inner driver sees it */
    dbal_url_param *params; /* its parameters: ours taken out */
    pid_t pid;
    int postgresql; /* the inner driver is the PostgreSQL one */

    pthread_mutex_t lock; /* rules, counters, the connections, iso_active */
    tw_rule *rules;
    int next_id;
    long fired_total;
    int refuse_connect; /* a checkout fault refused an idle connection: the new one fails too */
    tw_fault refused;
    tw_conn *conns; /* the open connections of ours */
    unsigned serial;

    /* Isolation: one inner connection in a transaction of ours. */
    pthread_mutex_t iso_lock; /* one call at a time on it */
    int isolating;
    int marked;              /* SAVEPOINT dbal_testing_test is set */
    tw_shared *iso;          /* the shared connection; NULL until needed */
    tw_conn *iso_active;     /* the connection of ours in a call on it */
    tw_conn *auto_conn;      /* whose statement savepoint is open */
    tw_conn *txs[TW_MAX_TX]; /* whose transactions are open, oldest first */
    int ntx;
    int applied_timeout; /* what the shared connection was last told */
    int applied_read_only;
} tw_engine;

struct tw_conn {
    dbal_driver_conn base;
    tw_conn *next; /* in eng->conns */
    tw_engine *eng;
    dbal_driver_conn *inner; /* its own, or shared->inner */
    tw_shared *shared;       /* while isolating: the connection it uses in turn */
    unsigned serial;         /* names its transaction's savepoint */
    pid_t pid;
    int in_tx;        /* a transaction the core began is open */
    int tx_read_only; /* ... begun DBAL_TX_READ_ONLY (isolation only) */
    int read_only;    /* set_read_only's last word */
    int timeout_ms;   /* set_timeout's last word */
    int auto_open;    /* a statement's own savepoint is open (isolation, outside a transaction) */
    int auto_failed;  /* ... and something under it failed */
    void *auto_owner; /* ... for this cursor, until it closes; NULL: a statement's */
    int refused;      /* a checkout fault refused it: it stays refused (its code) */

    pthread_mutex_t lock; /* a delay under way and its cancel */
    pthread_cond_t wake;
    int delaying;
    int canceled;
};

typedef struct tw_rows {
    dbal_driver_rows base;
    tw_conn *conn;
    dbal_driver_rows *inner;
} tw_rows;

/* tw_engine.c */
int tw_control(void *ctx, const char *command, char *reply, size_t cap, dbal_error *err);

/* tw_fault.c: rules */
int tw_rule_add(tw_engine *e, const char *spec, int *id, dbal_error *err);
void tw_rules_clear(tw_engine *e);
long tw_rule_fired(tw_engine *e, int id);
/* 1 when a rule fires for this event (out filled), else 0. sql may be NULL. */
int tw_fault_take(tw_engine *e, int point, const char *sql, tw_fault *out);
/* The error of a fault that fired, into err; returns its code. */
int tw_fault_fail(const tw_fault *f, dbal_error *err);

/* tw_conn.c: the connection, faults on a call, and delays */
int tw_connect(void *ctx, dbal_driver_conn **out, dbal_error *err);
void tw_disconnect(dbal_driver_conn *c);
int tw_check(dbal_driver_conn *c, int wait, int *fd, dbal_error *err);
int tw_ping(dbal_driver_conn *c, dbal_error *err);
int tw_reset(dbal_driver_conn *c, dbal_error *err);
int tw_cancel(dbal_driver_conn *c);
int tw_set_timeout(dbal_driver_conn *c, int milliseconds, dbal_error *err);
int tw_set_read_only(dbal_driver_conn *c, int on, dbal_error *err);
int tw_last_insert_id(dbal_driver_conn *c, int64_t *out, dbal_error *err);
/* Before a call at `point`: takes a fault and does what it says (a
 * delay that a cancel or the timeout cuts short, an injected failure),
 * then enters the call (tw_enter). DBAL_OK: go on, and end with tw_after;
 * else the failure, and nothing to end. */
int tw_before(tw_conn *c, int point, const char *sql, tw_fault *f, dbal_error *err);
/* After the call: the inner connection's state, a loss after it ran, and
 * tw_leave. Returns the call's outcome. */
int tw_after(tw_conn *c, const tw_fault *f, int rc, dbal_error *err);
/* Marks c lost (the core discards it) and fails with DBAL_ECONNLOST. */
int tw_lose(tw_conn *c, const tw_fault *f, dbal_error *err);

/* tw_stmt.c: statements and cursors */
int tw_exec(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams, int64_t *affected,
            dbal_error *err);
int tw_query(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams,
             dbal_driver_rows **out, dbal_error *err);
int tw_rows_next(dbal_driver_rows *r, dbal_error *err);
void tw_rows_close(dbal_driver_rows *r);
const char *tw_col_name(dbal_driver_rows *r, int col);
void tw_col_value(dbal_driver_rows *r, int col, dbal_value *out);
dbal_type tw_col_type(dbal_driver_rows *r, int col);
int tw_col_int64(dbal_driver_rows *r, int col, int64_t *out);
int tw_col_double(dbal_driver_rows *r, int col, double *out);
int tw_col_text(dbal_driver_rows *r, int col, const char **out, size_t *len);
int tw_exec_batch(dbal_driver_conn *c, const char *sql, size_t nparams,
                  int (*next)(void *ud, size_t i, const dbal_value **row), void *ud, int64_t *affected,
                  size_t *failed_row, dbal_error *err);

/* tw_tx.c: transactions, as savepoints while isolating */
int tw_begin(dbal_driver_conn *c, unsigned options, dbal_error *err);
int tw_commit(dbal_driver_conn *c, dbal_error *err);
int tw_rollback(dbal_driver_conn *c, dbal_error *err);

/* tw_iso.c: the isolation transaction */
int tw_iso_command(tw_engine *e, const char *verb, dbal_error *err);
/* Runs one statement of ours on an inner connection. */
int tw_sql(tw_engine *e, dbal_driver_conn *inner, const char *sql, dbal_error *err);
/* A call of c on the shared connection begins and ends: one at a time,
 * with c's settings, after a statement savepoint left open (by c, or by
 * another, unless `cursor`: a cursor's own calls) is settled. No-ops for
 * a connection of its own. */
int tw_enter(tw_conn *c, int cursor, dbal_error *err);
void tw_leave(tw_conn *c);
/* Applies c's settings to the shared connection, in a call of c's. */
int tw_iso_settings(tw_conn *c, dbal_error *err);
/* Ends c's statement savepoint, if open: released, or rolled back to when
 * what ran under it failed (or the release does). */
int tw_settle(tw_conn *c, dbal_error *err);
/* Opens a statement savepoint for c when it needs one (isolating, outside
 * a transaction): what fails under it does not fail the test's
 * transaction, as an autocommit statement fails alone. */
int tw_auto_open(tw_conn *c, dbal_error *err);
/* After the statement under it: settles the savepoint (rc is the
 * statement's; its error is kept when it failed). */
int tw_auto_end(tw_conn *c, int rc, dbal_error *err);
/* Attaches a new connection of ours to the shared one (made, and its
 * transaction begun, when there is none). Under e->lock. */
int tw_iso_attach(tw_engine *e, tw_conn *c, dbal_error *err);
/* c goes away: its statement savepoint settled, its open transaction
 * rolled back (as the server does for a connection that goes away), the
 * shared connection let go of. */
void tw_iso_detach(tw_conn *c);
/* The shared connection's end at engine_close. */
void tw_iso_close(tw_engine *e);

/* tw_tx.c */
/* Savepoint statements of c's transaction ("SAVEPOINT", "RELEASE
 * SAVEPOINT", "ROLLBACK TO SAVEPOINT"). */
int tw_tx_sql(tw_conn *c, const char *verb, dbal_error *err);
/* Rolls back to c's transaction's savepoint and forgets it. */
int tw_tx_undo(tw_conn *c, dbal_error *err);

#endif
