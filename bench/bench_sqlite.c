/*
 * The workloads through raw sqlite3, the best way it allows: each statement
 * prepared once per connection and reused (bind, step, reset), values bound
 * with sqlite3_bind_* (SQLITE_STATIC: no copies), writes in one
 * transaction, columns read with sqlite3_column_*.
 */
#include "bench.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>

enum { ST_W1, ST_W2, ST_W3, ST_W4, ST_W5, ST_W3T, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {BENCH_SQL_W1, BENCH_SQL_W2, BENCH_SQL_W3,
                                               BENCH_SQL_W4, BENCH_SQL_W5, BENCH_SQL_W3T};

typedef struct rsq {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT]; /* prepared on first use, finalized at close */
} rsq;

static int fail_db(rsq *q, const char *what)
{
    return bench_fail("sqlite3", what, sqlite3_errmsg(q->db));
}

static int run(rsq *q, const char *sql)
{
    return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail_db(q, sql);
}

static sqlite3_stmt *stmt(rsq *q, int which)
{
    if (!q->st[which] && sqlite3_prepare_v3(q->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                            &q->st[which], NULL) != SQLITE_OK)
        fail_db(q, stmt_sql[which]);
    return q->st[which];
}

static void rsq_close(void *ctx)
{
    rsq *q = ctx;
    if (!q)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_close(q->db);
    free(q);
}

int bench_sqlite_open(const char *path, bench_sqlite_kind kind, void **ctx)
{
    rsq *q = calloc(1, sizeof *q);
    if (!q)
        return bench_fail("sqlite3", "open", "out of memory");
    /* NOMUTEX: one thread per connection, as dbal opens its connections. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    /* The shm-wal side opens its file as dbal's sqlite::memory: does (the
     * unix-excl VFS), so that its line shows dbal's own overhead. */
    const char *vfs = kind == BENCH_SQLITE_SHM_WAL ? "unix-excl" : NULL;
    if (sqlite3_open_v2(kind == BENCH_SQLITE_MEMORY ? ":memory:" : path, &q->db, flags, vfs) != SQLITE_OK) {
        fail_db(q, "open");
        rsq_close(q);
        return -1;
    }
    /* The settings dbal gives its connections, so that both sides store
     * the same way. */
    sqlite3_busy_timeout(q->db, 5000);
    int rc = run(q, "PRAGMA foreign_keys=ON");
    if (rc == 0 && kind == BENCH_SQLITE_FILE)
        rc = run(q, "PRAGMA journal_mode=WAL") || run(q, "PRAGMA synchronous=NORMAL");
    if (rc == 0 && kind == BENCH_SQLITE_SHM_WAL)
        rc = run(q, "PRAGMA journal_mode=WAL") || run(q, "PRAGMA synchronous=OFF");
    if (rc) {
        rsq_close(q);
        return -1;
    }
    *ctx = q;
    return 0;
}

static int rsq_exec(void *ctx, const char *sql)
{
    return run(ctx, sql);
}

static int w1(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    rsq *q = ctx;
    sqlite3_stmt *st = stmt(q, ST_W1);
    if (!st)
        return -1;
    for (long i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, cfg->keys[i % cfg->nkeys]);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            return fail_db(q, "W1 step");
        }
        const char *name = (const char *)sqlite3_column_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        *sum += bench_sum_text(name, len) + bench_sum_double(sqlite3_column_double(st, 1));
        sqlite3_reset(st);
    }
    return 0;
}

static int insert_rows(rsq *q, int which, const bench_cfg *cfg, long n, uint64_t *sum)
{
    sqlite3_stmt *st = stmt(q, which);
    if (!st || run(q, "BEGIN IMMEDIATE"))
        return -1;
    for (long i = 0; i < n; i++) {
        const long k = i % cfg->nnames;
        sqlite3_bind_int64(st, 1, i + 1);
        sqlite3_bind_text(st, 2, cfg->names[k], (int)cfg->name_lens[k], SQLITE_STATIC);
        sqlite3_bind_double(st, 3, BENCH_VAL(i + 1));
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            fail_db(q, "insert");
            run(q, "ROLLBACK");
            return -1;
        }
        *sum += (uint64_t)sqlite3_changes(q->db);
    }
    return run(q, "COMMIT");
}

static int w2(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    return insert_rows(ctx, ST_W2, cfg, n, sum);
}

static int w5(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    return insert_rows(ctx, ST_W5, cfg, n, sum);
}

static int w3(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    rsq *q = ctx;
    sqlite3_stmt *st = stmt(q, ST_W3);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, n);
    long rows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), num = sqlite3_column_int64(st, 1);
        double x = sqlite3_column_double(st, 2);
        const char *text = (const char *)sqlite3_column_text(st, 3);
        size_t len = (size_t)sqlite3_column_bytes(st, 3);
        *sum += (uint64_t)id + (uint64_t)num + bench_sum_double(x) + bench_sum_text(text, len);
        rows++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail_db(q, "W3 step");
    return rows == n ? 0 : bench_fail("sqlite3", "W3", "fewer rows than asked for");
}

/* The timestamp as text, parsed by hand; the numeric as its text. */
static int w3t(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    rsq *q = ctx;
    sqlite3_stmt *st = stmt(q, ST_W3T);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, n);
    long rows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t ts = 0;
        const char *t = (const char *)sqlite3_column_text(st, 1);
        if (!t || bench_parse_ts(t, (size_t)sqlite3_column_bytes(st, 1), &ts))
            return bench_fail("sqlite3", "W3t", "a timestamp of another form");
        const char *a = (const char *)sqlite3_column_text(st, 2);
        *sum += (uint64_t)sqlite3_column_int64(st, 0) + (uint64_t)ts +
                bench_sum_text(a, (size_t)sqlite3_column_bytes(st, 2));
        rows++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail_db(q, "W3t step");
    return rows == n ? 0 : bench_fail("sqlite3", "W3t", "fewer rows than asked for");
}

static int w4(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    rsq *q = ctx;
    sqlite3_stmt *st = stmt(q, ST_W4);
    if (!st)
        return -1;
    for (long i = 0; i < n; i++) {
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            return fail_db(q, "W4 step");
        }
        *sum += (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    return 0;
}

const bench_side_ops bench_sqlite_ops = {
    .exec = rsq_exec,
    .w1 = w1,
    .w2 = w2,
    .w3 = w3,
    .w4 = w4,
    .w5 = w5,
    .close = rsq_close,
    .w3t = w3t,
};
