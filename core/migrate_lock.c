/*
 * One migrating process at a time. PostgreSQL: a session advisory lock,
 * held by the migrating session across its migrations' transactions, taken
 * by polling pg_try_advisory_lock so that the wait ends at the deadline
 * whatever the holder does. SQLite (and other drivers): each migration's
 * transaction takes the database's write lock before it reads the history,
 * waiting past the engine's busy_timeout until the same deadline.
 */
#include "migrate.h"

#include "errors.h"
#include "log.h"
#include "pool.h"
#include "session.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int is_postgresql(const dbal__mig_ctx *ctx)
{
    return strcmp(ctx->driver, "postgresql") == 0;
}

static void nap(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* The schema an unqualified table name lands in (the first of search_path
 * that exists), into buf; "" when there is none. */
static int current_schema(dbal_session *s, char *buf, size_t cap)
{
    dbal_rows *r;
    int rc = dbal_query(s, "SELECT current_schema()", DBAL_NOARGS, &r);
    if (rc != DBAL_OK)
        return rc;
    buf[0] = '\0';
    if ((rc = dbal_rows_next(r)) == DBAL_ROW && dbal_col_text(r, 0))
        snprintf(buf, cap, "%s.", dbal_col_text(r, 0));
    dbal_rows_close(r);
    return rc == DBAL_ROW || rc == DBAL_DONE ? DBAL_OK : rc;
}

/* The lock's key: the first 8 bytes of a SHA-256 of the table's
 * schema-qualified name, so that two histories in one database (in two
 * schemas, or under two names) do not wait for each other. */
static int64_t key_of(const char *schema, const char *table)
{
    dbal__sha256 c;
    unsigned char d[DBAL__SHA256_LEN];
    dbal__sha256_init(&c);
    dbal__sha256_update(&c, "dbal_migrate:", strlen("dbal_migrate:"));
    dbal__sha256_update(&c, schema, strlen(schema));
    dbal__sha256_update(&c, table, strlen(table));
    dbal__sha256_final(&c, d);
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | d[i];
    return (int64_t)k;
}

static int try_lock(dbal_session *s, int64_t key, int *got)
{
    dbal_rows *r;
    int rc = dbal_query(s, "SELECT pg_try_advisory_lock(?)", DBAL_ARGS(dbal_int64(key)), &r);
    if (rc != DBAL_OK)
        return rc;
    *got = 0;
    if ((rc = dbal_rows_next(r)) == DBAL_ROW)
        rc = dbal_col_get_bool(r, 0, got);
    dbal_rows_close(r);
    return rc == DBAL_DONE ? DBAL_ERROR : rc;
}

/* The server process that holds the lock, or 0. */
static int64_t holder(dbal_session *s, int64_t key)
{
    dbal_rows *r;
    int64_t pid = 0;
    if (dbal_query(s,
                   "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                   "AND classid::bigint = ? AND objid::bigint = ?",
                   DBAL_ARGS(dbal_int64((int64_t)((uint64_t)key >> 32)), dbal_int64(key & 0xffffffff)),
                   &r) != DBAL_OK)
        return 0;
    if (dbal_rows_next(r) == DBAL_ROW)
        dbal_col_get_int64(r, 0, &pid);
    dbal_rows_close(r);
    return pid;
}

/* The time left to the deadline, at least floor_ms, in milliseconds: the
 * statement timeout of the waiting statements, so that a server that stops
 * answering (hung, not gone) ends the wait at the deadline too
 * (DBAL_ETIMEOUT), while a statement run at the deadline (lock_timeout_ms
 * 0: one try) still has time to answer. */
static int ms_left(const dbal__mig_ctx *ctx, int floor_ms)
{
    double left = (ctx->deadline - dbal__now()) * 1000;
    return left > floor_ms ? (int)ceil(left) : floor_ms;
}

/* The session's timeout set to ms_left(ctx, 1000); returns the one to
 * restore. */
static int bound_by_deadline(dbal__mig_ctx *ctx)
{
    int saved = ctx->s->timeout_ms;
    dbal_session_set_timeout(ctx->s, ms_left(ctx, 1000));
    return saved;
}

static int try_lock_by(dbal__mig_ctx *ctx, int *got)
{
    int saved = bound_by_deadline(ctx);
    int rc = try_lock(ctx->s, ctx->lock_key, got);
    ctx->s->timeout_ms = saved;
    return rc;
}

static int lock_timed_out(dbal__mig_ctx *ctx, const char *what)
{
    return dbal__error_set(&ctx->error, DBAL_EBUSY, NULL, 0,
                           "timed out after %d ms waiting for another process migrating with "
                           "history table %s (%s)",
                           ctx->opts.lock_timeout_ms, ctx->table, what);
}

int dbal__mig_lock(dbal__mig_ctx *ctx)
{
    if (!is_postgresql(ctx))
        return DBAL_OK;
    char schema[128] = "";
    ctx->deadline = dbal__now() + ctx->opts.lock_timeout_ms / 1000.0;
    int saved = bound_by_deadline(ctx);
    int rc = strchr(ctx->table, '.') ? DBAL_OK : current_schema(ctx->s, schema, sizeof schema);
    ctx->s->timeout_ms = saved;
    if (rc != DBAL_OK)
        return dbal__mig_fail(ctx, rc);
    ctx->lock_key = key_of(schema, ctx->table);
    for (double step = 0.005;; step = step * 2 < 0.2 ? step * 2 : 0.2) {
        int got = 0;
        rc = try_lock_by(ctx, &got);
        if (rc != DBAL_OK)
            return dbal__mig_fail(ctx, rc);
        if (got) {
            ctx->locked = 1;
            return DBAL_OK;
        }
        double left = ctx->deadline - dbal__now();
        if (left <= 0) {
            char what[96];
            saved = bound_by_deadline(ctx);
            snprintf(what, sizeof what, "PostgreSQL advisory lock %lld, held by server process %lld",
                     (long long)ctx->lock_key, (long long)holder(ctx->s, ctx->lock_key));
            ctx->s->timeout_ms = saved;
            return lock_timed_out(ctx, what);
        }
        if (step == 0.005)
            dbal__log(DBAL_LOG_INFO,
                      "migrations: another process holds the lock of %s; waiting (at most %d ms)", ctx->table,
                      ctx->opts.lock_timeout_ms);
        nap(step < left ? step : left);
    }
}

void dbal__mig_unlock(dbal__mig_ctx *ctx)
{
    if (!ctx->locked)
        return;
    ctx->locked = 0;
    /* A failure leaves it to the server: the lock goes with the connection,
     * and the pool's reset releases it. */
    dbal_exec(ctx->s, "SELECT pg_advisory_unlock(?)", DBAL_ARGS(dbal_int64(ctx->lock_key)), NULL);
}

void dbal__mig_rollback(dbal_session *s)
{
    dbal_error why = *dbal_session_error(s);
    while (dbal_tx_depth(s) > 0 && dbal_rollback(s) == DBAL_OK)
        ;
    s->err = why;
}

static int begin_once(dbal_session *s, const char *first_sql)
{
    int rc = dbal_begin(s);
    if (rc == DBAL_OK && (rc = dbal_exec(s, first_sql, DBAL_NOARGS, NULL)) != DBAL_OK)
        dbal__mig_rollback(s);
    return rc;
}

int dbal__mig_begin(dbal__mig_ctx *ctx, const char *first_sql)
{
    if (is_postgresql(ctx)) /* the advisory lock keeps the others out */
        return begin_once(ctx->s, first_sql);
    ctx->deadline = dbal__now() + ctx->opts.lock_timeout_ms / 1000.0;
    for (;;) {
        /* The statement timeout bounds the wait where busy_timeout would
         * wait longer; it is the engine's again for the migration. */
        dbal_session_set_timeout(ctx->s, ms_left(ctx, 100));
        int rc = begin_once(ctx->s, first_sql);
        ctx->s->timeout_ms = -1;
        if (rc != DBAL_EBUSY && rc != DBAL_ETIMEOUT)
            return rc;
        if (dbal__now() >= ctx->deadline) {
            lock_timed_out(ctx, "the database's write lock");
            ctx->s->err = ctx->error;
            return DBAL_EBUSY;
        }
    }
}

int dbal__mig_end(dbal__mig_ctx *ctx, int rc)
{
    if (rc == DBAL_OK)
        rc = dbal_commit(ctx->s);
    else
        dbal__mig_rollback(ctx->s);
    return rc == DBAL_OK ? DBAL_OK : dbal__mig_fail(ctx, rc);
}
