/* The workloads through dbal: one code path for every URL. */
#include "bench.h"

#include <dbal.h>

#include <stdio.h>
#include <stdlib.h>

typedef struct dside {
    dbal_engine *engine;
} dside;

/* Reports the session's last error. */
static int fail_s(dbal_session *s, const char *what)
{
    return bench_fail("dbal", what, dbal_session_error(s)->message);
}

static int open_session(dside *d, dbal_session **s)
{
    dbal_error err;
    if (dbal_session_open(d->engine, s, &err) != DBAL_OK)
        return bench_fail("dbal", "session open", err.message);
    return 0;
}

static void dbal_side_close(void *ctx);
static int dbal_side_exec(void *ctx, const char *sql);

int bench_dbal_open(const char *url, void **ctx)
{
    dside *d = calloc(1, sizeof *d);
    dbal_error err;
    if (!d)
        return bench_fail("dbal", "open", "out of memory");
    if (dbal_engine_open(&d->engine, url, &err) != DBAL_OK) {
        free(d);
        return bench_fail("dbal", "engine open", err.message);
    }
    /* The pool connects on first use: connect now, so that no timed run
     * pays for it (the raw sides connect when they open, too). */
    if (dbal_side_exec(d, BENCH_SQL_W4)) {
        dbal_side_close(d);
        return -1;
    }
    *ctx = d;
    return 0;
}

static void dbal_side_close(void *ctx)
{
    dside *d = ctx;
    if (!d)
        return;
    dbal_engine_close(d->engine);
    free(d);
}

static int dbal_side_exec(void *ctx, const char *sql)
{
    dbal_session *s;
    if (open_session(ctx, &s))
        return -1;
    int rc = dbal_exec(s, sql, DBAL_NOARGS, NULL) == DBAL_OK ? 0 : fail_s(s, sql);
    dbal_session_close(s);
    return rc;
}

static int w1(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    dbal_session *s;
    if (open_session(ctx, &s))
        return -1;
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        dbal_rows *r;
        if (dbal_query(s, BENCH_SQL_W1, DBAL_ARGS(dbal_int64(cfg->keys[i % cfg->nkeys])), &r) != DBAL_OK) {
            rc = fail_s(s, "W1 query");
            break;
        }
        const char *name;
        size_t len;
        if (dbal_rows_next(r) != DBAL_ROW || dbal_col_get_text(r, 0, &name, &len) != DBAL_OK)
            rc = fail_s(s, "W1 row");
        else
            *sum += bench_sum_text(name, len) + bench_sum_double(dbal_col_double(r, 1));
        dbal_rows_close(r);
    }
    dbal_session_close(s);
    return rc;
}

/* Inserts n rows with one dbal_exec each, in one transaction. */
static int insert_rows(dside *d, const char *sql, const bench_cfg *cfg, long n, uint64_t *sum)
{
    dbal_session *s;
    if (open_session(d, &s))
        return -1;
    int rc = dbal_begin(s) == DBAL_OK ? 0 : fail_s(s, "begin");
    for (long i = 0; i < n && rc == 0; i++) {
        int64_t affected;
        const long k = i % cfg->nnames;
        if (dbal_exec(s, sql,
                      DBAL_ARGS(dbal_int64(i + 1), dbal_textn(cfg->names[k], cfg->name_lens[k]),
                                dbal_double(BENCH_VAL(i + 1))),
                      &affected) != DBAL_OK)
            rc = fail_s(s, "insert");
        else
            *sum += (uint64_t)affected;
    }
    if (rc == 0 && dbal_commit(s) != DBAL_OK)
        rc = fail_s(s, "commit");
    dbal_session_close(s);
    return rc;
}

static int w2(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    return insert_rows(ctx, BENCH_SQL_W2, cfg, n, sum);
}

static int w3(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    dbal_session *s;
    dbal_rows *r;
    if (open_session(ctx, &s))
        return -1;
    if (dbal_query(s, BENCH_SQL_W3, DBAL_ARGS(dbal_int64(n)), &r) != DBAL_OK) {
        fail_s(s, "W3 query");
        dbal_session_close(s);
        return -1;
    }
    long rows = 0;
    int rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        const char *text;
        size_t len;
        int64_t id = dbal_col_int64(r, 0), num = dbal_col_int64(r, 1);
        double x = dbal_col_double(r, 2);
        dbal_col_get_text(r, 3, &text, &len);
        *sum += (uint64_t)id + (uint64_t)num + bench_sum_double(x) + bench_sum_text(text, len);
        rows++;
    }
    int ret = rc == DBAL_DONE ? 0 : fail_s(s, "W3 rows");
    dbal_rows_close(r);
    dbal_session_close(s);
    if (ret == 0 && rows != n)
        ret = bench_fail("dbal", "W3", "fewer rows than asked for");
    return ret;
}

/* The typed getters: a timestamptz as its microseconds, a numeric as its
 * exact text. */
static int w3t(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    dbal_session *s;
    dbal_rows *r;
    if (open_session(ctx, &s))
        return -1;
    if (dbal_query(s, BENCH_SQL_W3T, DBAL_ARGS(dbal_int64(n)), &r) != DBAL_OK) {
        fail_s(s, "W3t query");
        dbal_session_close(s);
        return -1;
    }
    long rows = 0;
    int rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        const char *text = NULL;
        size_t len = 0;
        int64_t ts = 0;
        if (dbal_col_get_timestamp(r, 1, &ts) != DBAL_OK || dbal_col_get_text(r, 2, &text, &len) != DBAL_OK)
            break;
        *sum += (uint64_t)dbal_col_int64(r, 0) + (uint64_t)ts + bench_sum_text(text, len);
        rows++;
    }
    int ret = rc == DBAL_DONE ? 0 : fail_s(s, "W3t rows");
    dbal_rows_close(r);
    dbal_session_close(s);
    if (ret == 0 && rows != n)
        ret = bench_fail("dbal", "W3t", "fewer rows than asked for");
    return ret;
}

/* A whole unit of work per iteration: session, one query, close. */
static int w4(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    for (long i = 0; i < n; i++) {
        dbal_session *s;
        dbal_rows *r;
        if (open_session(ctx, &s))
            return -1;
        if (dbal_query(s, BENCH_SQL_W4, DBAL_NOARGS, &r) != DBAL_OK || dbal_rows_next(r) != DBAL_ROW) {
            fail_s(s, "W4");
            dbal_session_close(s);
            return -1;
        }
        *sum += (uint64_t)dbal_col_int64(r, 0);
        dbal_rows_close(r);
        dbal_session_close(s);
    }
    return 0;
}

#ifdef DBAL_HAS_BATCH
/* Rows come from a callback, as an application streaming them from
 * elsewhere would hand them over; the values borrow cfg's names. */
typedef struct batch_src {
    const bench_cfg *cfg;
    long n;
} batch_src;

static int batch_row(void *userdata, size_t row, dbal_value *values)
{
    const batch_src *src = userdata;
    const bench_cfg *cfg = src->cfg;
    if ((long)row >= src->n)
        return DBAL_DONE;
    const long k = (long)row % cfg->nnames;
    values[0] = dbal_int64((int64_t)row + 1);
    values[1] = dbal_textn(cfg->names[k], cfg->name_lens[k]);
    values[2] = dbal_double(BENCH_VAL(row + 1));
    return DBAL_OK;
}

static int w5(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    dside *d = ctx;
    dbal_session *s;
    batch_src src = {cfg, n};
    int64_t affected = 0;
    size_t failed_row;
    if (open_session(d, &s))
        return -1;
    int rc = 0;
    if (dbal_exec_batch_fn(s, BENCH_SQL_W5, 3, batch_row, &src, &affected, &failed_row) != DBAL_OK)
        rc = fail_s(s, "W5 batch");
    *sum += (uint64_t)affected;
    dbal_session_close(s);
    return rc;
}
#endif

const bench_side_ops bench_dbal_ops = {
    .exec = dbal_side_exec,
    .w1 = w1,
    .w2 = w2,
    .w3 = w3,
    .w4 = w4,
#ifdef DBAL_HAS_BATCH
    .w5 = w5,
#endif
    .close = dbal_side_close,
    .w3t = w3t,
};
