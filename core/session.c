#include "session.h"

#include "alloc.h"
#include "errors.h"
#include "fork.h"
#include "list.h"
#include "log.h"
#include "values.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
/* A statement's body, in each entry that calls it with a constant
 * `checked`: no call and no test of the flag on dbal_query's path. */
#define STATEMENT_BODY static inline __attribute__((always_inline))
#else
#define STATEMENT_BODY static inline
#endif

static const dbal_error null_session_error = {.code = DBAL_EMISUSE, .message = "the session is NULL"};

int dbal_session_open(dbal_engine *e, dbal_session **out, dbal_error *err)
{
    return dbal_session_open_labeled(e, out, NULL, err);
}

int dbal_session_open_labeled(dbal_engine *e, dbal_session **out, const char *label, dbal_error *err)
{
    return dbal_session_open_with(e, out, 0, label, err);
}

int dbal_session_open_with(dbal_engine *e, dbal_session **out, unsigned flags, const char *label,
                           dbal_error *err)
{
    dbal__error_clear(err);
    if (!e || !out)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "dbal_session_open: engine and out are required");
    *out = NULL;
    if (flags & ~DBAL_SESSION_READ_ONLY)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "unknown session flags 0x%x",
                               flags & ~DBAL_SESSION_READ_ONLY);
    dbal_session *s = dbal__calloc(1, sizeof *s);
    if (!s)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    if (pthread_mutex_init(&s->conn_lock, NULL) != 0) {
        dbal__free(s);
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    }
    if (!dbal__engine_ref(e)) {
        pthread_mutex_destroy(&s->conn_lock);
        dbal__free(s);
        return dbal__error_set(err, DBAL_EMISUSE, NULL, 0, "the engine is closed");
    }
    s->engine = e;
    s->flags = flags;
    s->timeout_ms = -1;
    dbal__label_copy(s->label, label);
    *out = s;
    return DBAL_OK;
}

const dbal_error *dbal_session_error(const dbal_session *s)
{
    return s ? &s->err : &null_session_error;
}

int dbal__session_inherited(dbal_session *s)
{
    const dbal__conn *c = s->conn;
    if (!c || c->pid == dbal__pid())
        return DBAL_OK;
    return dbal__error_set(&s->err, DBAL_EMISUSE, NULL, 0,
                           "this session's connection was opened by process %ld; a connection belongs to the "
                           "process that opened it: open a new session in this one (%ld)",
                           (long)c->pid, (long)dbal__pid());
}

static void give_back(dbal_session *s)
{
    pthread_mutex_lock(&s->conn_lock);
    dbal__conn *c = s->conn;
    s->conn = NULL;
    pthread_mutex_unlock(&s->conn_lock);
    if (c)
        dbal__pool_return(s->pool, c);
}

void dbal__session_drop_broken(dbal_session *s)
{
    if (s->conn && dbal__conn_unusable(s->conn) && s->depth == 0 && !s->rows)
        give_back(s);
}

int dbal__session_failed(dbal_session *s, int rc)
{
    if (s->depth > 0 && dbal__fails_tx(rc))
        s->failed = 1;
    dbal__session_drop_broken(s);
    return rc;
}

static inline int wanted_timeout(const dbal_session *s)
{
    return s->timeout_ms >= 0 ? s->timeout_ms : s->engine->pool.opts.statement_timeout;
}

static int apply_timeout(dbal_session *s)
{
    int want = wanted_timeout(s);
    if (s->conn->timeout_ms == want)
        return DBAL_OK;
    const dbal_driver *d = s->engine->driver;
    if (!DBAL_DRIVER_HAS(d, set_timeout))
        return dbal__error_set(&s->err, DBAL_EUNSUPPORTED, NULL, 0, "driver '%s' has no statement timeout",
                               d->name);
    int rc = d->set_timeout(s->conn->dc, want, &s->err);
    if (rc == DBAL_OK)
        s->conn->timeout_ms = want;
    return rc;
}

/* A read-only session on the primary (no replica, or none up) is made
 * read-only there too, so that it behaves the same wherever it lands. */
static int make_read_only(dbal_session *s)
{
    const dbal_driver *d = s->engine->driver;
    if (!(s->flags & DBAL_SESSION_READ_ONLY) || s->pool != &s->engine->pool ||
        !DBAL_DRIVER_HAS(d, set_read_only))
        return DBAL_OK;
    int rc = d->set_read_only(s->conn->dc, 1, &s->err);
    s->conn->read_only = rc == DBAL_OK;
    return rc;
}

void dbal__session_hold(dbal_session *s, dbal__conn *c, dbal__pool *pool)
{
    pthread_mutex_lock(&s->conn_lock);
    s->conn = c;
    s->pool = pool;
    pthread_mutex_unlock(&s->conn_lock);
}

int dbal__session_conn(dbal_session *s)
{
    if (!s->conn) {
        dbal__conn *c;
        dbal__pool *pool = &s->engine->pool;
        int rc = s->flags & DBAL_SESSION_READ_ONLY
                     ? dbal__replica_checkout(s->engine, s->label, &c, &pool, &s->err)
                     : dbal__pool_checkout(pool, s->label, &c, &s->err);
        if (rc)
            return rc;
        dbal__session_hold(s, c, pool);
        if ((rc = make_read_only(s)) != DBAL_OK) {
            if (s->depth == 0)
                give_back(s);
            return rc;
        }
    }
    return apply_timeout(s);
}

int dbal_session_cancel(dbal_session *s)
{
    if (!s)
        return DBAL_EMISUSE;
    const dbal_driver *d = s->engine->driver;
    if (!DBAL_DRIVER_HAS(d, cancel))
        return DBAL_EUNSUPPORTED;
    int rc = DBAL_OK;
    /* The lock keeps the connection from going back to the pool (and being
     * closed) during the call; holding it is fine because a driver's cancel
     * must not block (driver.h): the session's own thread, giving the
     * connection back, never waits on a server here. */
    pthread_mutex_lock(&s->conn_lock);
    /* A parent's connection: the cancel request would stop the parent's
     * statement. */
    if (s->conn)
        rc = s->conn->pid == dbal__pid() ? d->cancel(s->conn->dc) : DBAL_EMISUSE;
    pthread_mutex_unlock(&s->conn_lock);
    return rc;
}

int dbal_session_set_timeout(dbal_session *s, int milliseconds)
{
    if (!s)
        return DBAL_EMISUSE;
    dbal__error_clear(&s->err);
    if (milliseconds < 0)
        return dbal__error_set(&s->err, DBAL_EINVAL, NULL, 0, "a timeout is 0 (none) or more milliseconds");
    s->timeout_ms = milliseconds;
    return DBAL_OK;
}

void dbal_session_close(dbal_session *s)
{
    if (!s)
        return;
    while (s->rows)
        dbal_rows_close(s->rows);
    dbal__free(s->spare);
    /* In a forked child, a connection the parent opened is only forgotten:
     * no rollback, no reset reaches the parent's session. */
    int own = s->conn && s->conn->pid == dbal__pid();
    if (own && s->depth > 0 && !dbal__conn_unusable(s->conn)) {
        dbal_error e;
        /* A connection whose rollback failed may still hold the
         * transaction: it must not reach the next user. */
        if (s->engine->driver->rollback(s->conn->dc, &e) != DBAL_OK)
            s->conn->discard = 1;
    }
    if (own && s->conn->read_only && !dbal__conn_unusable(s->conn)) {
        dbal_error e;
        if (s->engine->driver->set_read_only(s->conn->dc, 0, &e) != DBAL_OK)
            s->conn->discard = 1;
        s->conn->read_only = 0;
    }
    if (own && !dbal__conn_unusable(s->conn) && s->pool->opts.pool_reset == DBAL_POOL_RESET_FULL &&
        DBAL_DRIVER_HAS(s->engine->driver, reset)) {
        dbal_error e;
        if (s->engine->driver->reset(s->conn->dc, &e) != DBAL_OK)
            s->conn->discard = 1;
    }
    give_back(s);
    dbal_engine *e = s->engine;
    pthread_mutex_destroy(&s->conn_lock);
    dbal__free(s);
    dbal__engine_unref(e);
}

int dbal__statement_check(const dbal_driver *d, const char *sql, dbal_params params, dbal_error *err)
{
    if (!sql)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "sql is NULL");
    if (params.count && !params.values)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "params.values is NULL");
    for (size_t i = 0; i < params.count; i++) {
        const dbal_value *v = &params.values[i];
        if (dbal__plain_value(v))
            continue;
        const char *why, *sqlstate;
        int rc = dbal__value_check(d, v, &why, &sqlstate);
        if (rc)
            return dbal__error_set(err, rc, sqlstate, 0, "parameter %zu %s", i + 1, why);
    }
    return DBAL_OK;
}

/* Checks common to statements; sets the session error. A session that
 * holds its connection with the statement timeout it wants (every
 * statement after the first) needs no call for it. checked: the SQL and
 * parameters passed dbal__statement_check already (the asynchronous API
 * checks them when an op is queued, and keeps its own copy). */
static inline int check_statement(dbal_session *s, const char *sql, dbal_params params, int checked)
{
    /* Every writer of an error sets its code or its message (dbal__error_set
     * both): one that shows neither is clear already, as it is after every
     * success. */
    if (s->err.code != DBAL_OK || s->err.message[0])
        dbal__error_clear(&s->err);
    int rc;
    if (!checked && !dbal__plain_statement(sql, params) &&
        (rc = dbal__statement_check(s->engine->driver, sql, params, &s->err)))
        return rc;
    if (s->failed)
        return dbal__tx_refuse(&s->err);
    if (s->conn && s->conn->timeout_ms == wanted_timeout(s))
        return DBAL_OK;
    return dbal__session_conn(s);
}

/* echo=1: each statement with its duration and parameter count; never the
 * parameters' values. A query's time is until its first row. */
void dbal__session_echo(dbal_session *s, const char *what, const char *sql, size_t nparams, double t0, int rc)
{
    dbal__log(DBAL_LOG_INFO, "%s (%.3f ms, %zu param%s%s%s%s%s): %.*s", what, (dbal__now() - t0) * 1e3,
              nparams, nparams == 1 ? "" : "s", rc ? ", " : "", rc ? dbal_code_name(rc) : "",
              s->label[0] ? ", session " : "", s->label, 600, sql);
}

STATEMENT_BODY int exec_claimed(dbal_session *s, const char *sql, dbal_params params, int64_t *affected,
                                int checked)
{
    if (!s)
        return DBAL_EMISUSE;
    if (affected)
        *affected = 0;
    int rc = check_statement(s, sql, params, checked);
    if (rc)
        return rc;
    double t0 = s->engine->pool.opts.echo ? dbal__now() : 0;
    rc = s->engine->driver->exec(s->conn->dc, sql, params.values, params.count, affected, &s->err);
    if (t0)
        dbal__session_echo(s, "exec", sql, params.count, t0, rc);
    return rc ? dbal__session_failed(s, rc) : DBAL_OK;
}

/* A session's cursors borrow its connection: in a forked child the rows
 * on the wire are the parent's, a failure may fail the transaction, and
 * closing the last one gives a broken connection back. */
static int rows_usable(dbal_rows *r, int report)
{
    dbal_session *s = r->owner;
    if (!s->conn || s->conn->pid == dbal__pid())
        return DBAL_OK;
    return report ? dbal__session_inherited(s) : DBAL_EMISUSE;
}

static int rows_failed(dbal_rows *r, int rc)
{
    return dbal__session_failed(r->owner, rc);
}

/* One cursor kept for the session's next query: no allocation per query. */
static void keep_spare(dbal_session *s, dbal_rows *r)
{
    if (!s->spare) {
        memset(r, 0, sizeof *r);
        s->spare = r;
    } else {
        dbal__free(r);
    }
}

static void rows_closed(dbal_rows *r)
{
    dbal_session *s = r->owner;
    DBAL__LIST_REMOVE(s->rows, r, prev, next);
    keep_spare(s, r);
    dbal__session_drop_broken(s);
}

static const dbal__rows_hooks session_rows = {.usable = rows_usable,
                                              .failed = rows_failed,
                                              .closed = rows_closed};

STATEMENT_BODY int query_claimed(dbal_session *s, const char *sql, dbal_params params, dbal_rows **out,
                                 int checked)
{
    if (!s || !out)
        return s ? dbal__error_set(&s->err, DBAL_EINVAL, NULL, 0, "dbal_query: out is NULL") : DBAL_EMISUSE;
    *out = NULL;
    int rc = check_statement(s, sql, params, checked);
    if (rc)
        return rc;
    dbal_rows *r = s->spare;
    s->spare = NULL;
    if (!r && !(r = dbal__calloc(1, sizeof *r)))
        return dbal__error_set(&s->err, DBAL_ENOMEM, NULL, 0, NULL);
    double t0 = s->engine->pool.opts.echo ? dbal__now() : 0;
    rc = s->engine->driver->query(s->conn->dc, sql, params.values, params.count, &r->dr, &s->err);
    if (t0)
        dbal__session_echo(s, "query", sql, params.count, t0, rc);
    if (rc) {
        keep_spare(s, r); /* unused: a query refused at its start (an inline hand-over) reruns at once */
        return dbal__session_failed(s, rc);
    }
    dbal__rows_open(r, &s->engine->cursor, r->dr, &s->err, &session_rows, s);
    DBAL__LIST_PUSH(s->rows, r, prev, next);
    *out = r;
    return DBAL_OK;
}

int dbal_exec(dbal_session *s, const char *sql, dbal_params params, int64_t *affected)
{
    int rc;
    DBAL__CLAIMED(rc, s, exec_claimed(s, sql, params, affected, 0));
    return rc;
}

int dbal__exec_checked(dbal_session *s, const char *sql, dbal_params params, int64_t *affected)
{
    int rc;
    DBAL__CLAIMED(rc, s, exec_claimed(s, sql, params, affected, 1));
    return rc;
}

int dbal_query(dbal_session *s, const char *sql, dbal_params params, dbal_rows **out)
{
    if (out)
        *out = NULL;
    int rc;
    DBAL__CLAIMED(rc, s, query_claimed(s, sql, params, out, 0));
    return rc;
}

int dbal__query_checked(dbal_session *s, const char *sql, dbal_params params, dbal_rows **out)
{
    *out = NULL;
    int rc;
    DBAL__CLAIMED(rc, s, query_claimed(s, sql, params, out, 1));
    return rc;
}

int dbal__session_claim(dbal_session *s, uintptr_t *prev)
{
    *prev = 0;
    if (!s)
        return DBAL_OK;
    uintptr_t self = (uintptr_t)pthread_self();
    uintptr_t cur = 0;
    if (atomic_compare_exchange_strong_explicit(&s->owner, &cur, self, memory_order_acquire,
                                                memory_order_relaxed) ||
        cur == self) {
        *prev = cur;
        int rc = dbal__session_inherited(s);
        if (rc != DBAL_OK)
            dbal__session_release(s, *prev);
        return rc;
    }
    dbal__log(DBAL_LOG_ERROR,
              "session %s used from two threads at once: the second call is refused (DBAL_EMISUSE)",
              s->label[0] ? s->label : "(unlabelled)");
    return DBAL_EMISUSE;
}

void dbal__session_release(dbal_session *s, uintptr_t prev)
{
    if (s)
        atomic_store_explicit(&s->owner, prev, memory_order_release);
}

int dbal_last_insert_id(dbal_session *s, int64_t *out)
{
    if (!s || !out)
        return s ? dbal__error_set(&s->err, DBAL_EINVAL, NULL, 0, "out is NULL") : DBAL_EMISUSE;
    dbal__error_clear(&s->err);
    const dbal_driver *d = s->engine->driver;
    if (!DBAL_DRIVER_HAS(d, last_insert_id))
        return dbal__error_set(&s->err, DBAL_EUNSUPPORTED, NULL, 0,
                               "driver '%s' has no last insert id; use RETURNING", d->name);
    if (!s->conn)
        return dbal__error_set(&s->err, DBAL_EMISUSE, NULL, 0, "no statement has run on this session");
    int rc = dbal__session_inherited(s);
    return rc != DBAL_OK ? rc : d->last_insert_id(s->conn->dc, out, &s->err);
}
