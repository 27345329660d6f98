/* W7 through dbal: every transaction is a request that checks a session out
 * of the engine's pool and gives it back. */
#include "bench.h"
#include "bench_w7.h"

#include <dbal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_WARM = 64 };

static int fail_s(dbal_session *s, const char *what)
{
    return bench_fail("dbal", what, dbal_session_error(s)->message);
}

static void w7_dbal_close(void *ctx)
{
    dbal_engine_close(ctx);
}

/* Every client's connection made before the first timed run, as pgbench
 * and the raw side connect before they start their clocks. */
static int warm(dbal_engine *e, int clients)
{
    dbal_session *s[MAX_WARM];
    dbal_error err;
    int opened = 0, rc = 0;
    for (; opened < clients && opened < MAX_WARM; opened++)
        if (dbal_session_open(e, &s[opened], &err) != DBAL_OK) {
            rc = bench_fail("dbal", "W7 session open", err.message);
            break;
        }
    /* All of them connected before any goes back, or they would share one. */
    for (int i = 0; i < opened && rc == 0; i++)
        if (dbal_exec(s[i], "SELECT 1", DBAL_NOARGS, NULL) != DBAL_OK)
            rc = fail_s(s[i], "W7 warm-up");
    for (int i = 0; i < opened; i++)
        dbal_session_close(s[i]);
    return rc;
}

int bench_w7_dbal_open(const char *url, int clients, void **ctx)
{
    char full[2048];
    dbal_engine *e;
    dbal_error err;
    /* pool_size >= clients, so that every client keeps a warm connection. */
    if (clients > 1)
        snprintf(full, sizeof full, "%s%spool_size=%d", url, strchr(url, '?') ? "&" : "?", clients);
    else
        snprintf(full, sizeof full, "%s", url);
    if (dbal_engine_open(&e, full, &err) != DBAL_OK)
        return bench_fail("dbal", "W7 engine open", err.message);
    if (warm(e, clients)) {
        dbal_engine_close(e);
        return -1;
    }
    *ctx = e;
    return 0;
}

int bench_w7_dbal_exec(void *ctx, const char *sql)
{
    dbal_session *s;
    dbal_error err;
    if (dbal_session_open(ctx, &s, &err) != DBAL_OK)
        return bench_fail("dbal", "W7 session open", err.message);
    int rc = dbal_exec(s, sql, DBAL_NOARGS, NULL) == DBAL_OK ? 0 : fail_s(s, sql);
    dbal_session_close(s);
    return rc;
}

/* One request: the session, the transaction, the session given back. */
static int request(dbal_engine *e, const w7_txn *t, uint64_t *sum)
{
    dbal_session *s;
    dbal_rows *r;
    dbal_error err;
    if (dbal_session_open(e, &s, &err) != DBAL_OK)
        return bench_fail("dbal", "W7 session open", err.message);
    const dbal_value delta = dbal_int64(t->delta);
    int rows = 0,
        rc = dbal_begin(s) == DBAL_OK &&
                     dbal_exec(s, W7_SQL_ACCOUNT, DBAL_ARGS(delta, dbal_int64(t->aid)), NULL) == DBAL_OK &&
                     dbal_query(s, W7_SQL_SELECT, DBAL_ARGS(dbal_int64(t->aid)), &r) == DBAL_OK
                 ? DBAL_OK
                 : DBAL_ERROR;
    if (rc == DBAL_OK) {
        while ((rc = dbal_rows_next(r)) == DBAL_ROW)
            rows++, (void)dbal_col_int64(r, 0);
        dbal_rows_close(r);
    }
    if (rc == DBAL_DONE &&
        dbal_exec(s, W7_SQL_TELLER, DBAL_ARGS(delta, dbal_int64(t->tid)), NULL) == DBAL_OK &&
        dbal_exec(s, W7_SQL_BRANCH, DBAL_ARGS(delta, dbal_int64(t->bid)), NULL) == DBAL_OK &&
        dbal_exec(s, W7_SQL_HISTORY,
                  DBAL_ARGS(dbal_int64(t->tid), dbal_int64(t->bid), dbal_int64(t->aid), delta),
                  NULL) == DBAL_OK &&
        dbal_commit(s) == DBAL_OK)
        rc = DBAL_OK;
    else
        rc = fail_s(s, "W7 transaction");
    dbal_session_close(s);
    *sum += bench_w7_sum(t, rows);
    return rc == DBAL_OK ? 0 : -1;
}

static int w7_dbal_client(void *ctx, int client, long count, int scale, uint64_t *sum)
{
    for (long i = 0; i < count; i++) {
        w7_txn t;
        bench_w7_txn(scale, client, i, &t);
        if (request(ctx, &t, sum))
            return -1;
    }
    return 0;
}

static int w7_dbal_state(void *ctx, int64_t st[W7_STATE_FIELDS])
{
    dbal_session *s;
    dbal_rows *r;
    dbal_error err;
    if (dbal_session_open(ctx, &s, &err) != DBAL_OK)
        return bench_fail("dbal", "W7 session open", err.message);
    int rc = dbal_query(s, W7_SQL_STATE, DBAL_NOARGS, &r) == DBAL_OK && dbal_rows_next(r) == DBAL_ROW ? 0
                                                                                                      : -1;
    if (rc == 0) {
        for (int i = 0; i < W7_STATE_FIELDS; i++)
            st[i] = dbal_col_int64(r, i);
        dbal_rows_close(r);
    } else {
        fail_s(s, "W7 state");
    }
    dbal_session_close(s);
    return rc;
}

const w7_side_ops bench_w7_dbal_ops = {
    .exec = bench_w7_dbal_exec,
    .run_client = w7_dbal_client,
    .state = w7_dbal_state,
    .close = w7_dbal_close,
};
