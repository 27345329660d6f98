/* Sessions and their cursors: one unit of work on one pooled connection. */
#ifndef DBAL_CORE_SESSION_H
#define DBAL_CORE_SESSION_H

#include "engine.h"
#include "rows.h"

#include <stdatomic.h>
#include <stdint.h>

struct dbal_session {
    dbal_engine *engine;
    dbal__conn *conn; /* taken lazily, on the first statement */
    dbal__pool *pool; /* where conn came from: the primary's or a replica's */
    unsigned flags;   /* DBAL_SESSION_* */
    /* Guards conn against dbal_session_cancel() from another thread. */
    pthread_mutex_t conn_lock;
    int timeout_ms; /* statement timeout; < 0: the engine's */
    char label[DBAL__LABEL_LEN];
    dbal_error err;
    int depth;        /* 0 outside a transaction; 2+ inside savepoints */
    int failed;       /* a statement failed in the transaction: PostgreSQL's 25P02 state */
    dbal_rows *rows;  /* open cursors */
    dbal_rows *spare; /* a closed cursor kept for the next query: no allocation per query */
    /* The thread inside a call that runs statements, 0 when none: a second
     * thread arriving meanwhile is refused (dbal__session_claim). */
    _Atomic uintptr_t owner;
};

/* A session is used by one thread at a time. The calls that run
 * statements claim it for their duration: DBAL_OK (and *prev, to give to
 * release) when it is free or already this thread's (a call made from
 * inside another, as batches begin and commit), DBAL_EMISUSE when another
 * thread is inside a call on it. That answer leaves the session's error
 * alone (the other thread owns it) and says so in the log. It is also
 * DBAL_EMISUSE, with the session's error set, when the session holds a
 * connection another process opened (dbal__session_inherited). s may be
 * NULL: the call itself then answers. */
int dbal__session_claim(dbal_session *s, uintptr_t *prev);
void dbal__session_release(dbal_session *s, uintptr_t prev);

/* DBAL_EMISUSE, with the session's error saying why, when the session
 * holds a connection that another process opened: in a child forked while
 * the session held it, nothing may be sent on it. DBAL_OK otherwise. */
int dbal__session_inherited(dbal_session *s);

/* Gives the session the connection c checked out of pool (where it goes
 * back), under conn_lock: dbal_session_cancel may look from another thread. */
void dbal__session_hold(dbal_session *s, dbal__conn *c, dbal__pool *pool);

/* Runs `call` (an int expression) with s claimed, into rc: the one wrapper
 * of the public calls that run statements. rc is the claim's refusal when
 * another thread is inside a call on s. */
#define DBAL__CLAIMED(rc, s, call)                                    \
    do {                                                              \
        uintptr_t claimed_prev_;                                      \
        if (((rc) = dbal__session_claim((s), &claimed_prev_)) == 0) { \
            (rc) = (call);                                            \
            dbal__session_release((s), claimed_prev_);                \
        }                                                             \
    } while (0)

/* Every DBAL_TX_* option bit of dbal_begin_with. */
#define DBAL__TX_OPTIONS                                                                           \
    (DBAL_TX_READ_COMMITTED | DBAL_TX_REPEATABLE_READ | DBAL_TX_SERIALIZABLE | DBAL_TX_READ_ONLY | \
     DBAL_TX_DEFERRABLE)

/* The checks every statement's SQL and parameters get, before anything is
 * sent to driver d, on the blocking and asynchronous paths alike: DBAL_OK
 * or dbal__value_check's code (DBAL_EINVAL for the SQL and the array) with
 * err saying which. */
int dbal__statement_check(const dbal_driver *d, const char *sql, dbal_params params, dbal_error *err);

/* Numbers, and text or bytes somewhere: nothing more to check. */
static inline int dbal__plain_value(const dbal_value *v)
{
    return (unsigned)v->type <= DBAL_TYPE_DOUBLE ||
           ((unsigned)v->type - DBAL_TYPE_TEXT <= DBAL_TYPE_BLOB - DBAL_TYPE_TEXT && v->u.p);
}

/* A statement that dbal__statement_check passes without a closer look: the
 * common case, inline in the statement calls, no call for it. */
static inline int dbal__plain_statement(const char *sql, dbal_params params)
{
    if (!sql || (params.count && !params.values))
        return 0;
    for (const dbal_value *v = params.values, *end = v + params.count; v < end; v++)
        if (!dbal__plain_value(v))
            return 0;
    return 1;
}

/* dbal_exec and dbal_query for SQL and parameters that passed
 * dbal__statement_check already and have not changed since (the
 * asynchronous API's own copy of them): the same but that check. */
int dbal__exec_checked(dbal_session *s, const char *sql, dbal_params params, int64_t *affected);
int dbal__query_checked(dbal_session *s, const char *sql, dbal_params params, dbal_rows **out);

/*
 * The failed-transaction rule, PostgreSQL's, which the core enforces on
 * every driver (transaction.c): a statement that fails inside a transaction
 * fails it, except a misuse of the API refused before reaching the
 * database; then every statement is refused (dbal__tx_refuse) until the
 * failed level is rolled back, and a commit rolls back
 * (dbal__tx_rolled_back).
 */
static inline int dbal__fails_tx(int rc)
{
    return rc != DBAL_OK && rc != DBAL_EMISUSE && rc != DBAL_EINVAL;
}
int dbal__tx_refuse(dbal_error *err);
int dbal__tx_rolled_back(dbal_error *err);

/* Records that a driver call failed with rc: a failure inside a transaction
 * fails the transaction, and a dead connection outside one is given back.
 * Returns rc. */
int dbal__session_failed(dbal_session *s, int rc);
/* Gives a broken connection back as soon as nothing refers to it. */
void dbal__session_drop_broken(dbal_session *s);
/* echo=1: logs a statement with its duration since t0 and its outcome;
 * never the parameters' values. */
void dbal__session_echo(dbal_session *s, const char *what, const char *sql, size_t nparams, double t0,
                        int rc);
/* Makes sure the session holds a connection (checked out on first use) with
 * the statement timeout it wants. Sets the session error on failure. */
int dbal__session_conn(dbal_session *s);

#endif
