/* W7 through raw sqlite3: one connection with dbal's settings, the
 * transaction's statements prepared once, BEGIN IMMEDIATE as dbal's begin. */
#include "bench.h"
#include "bench_w7.h"

#include <sqlite3.h>

#include <stdlib.h>

/* The script's statements (W7_BEGIN .. W7_END), then the state query. */
enum { ST_STATE = W7_STEPS, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {"BEGIN IMMEDIATE", W7_SQL_ACCOUNT, W7_SQL_SELECT,
                                               W7_SQL_TELLER,     W7_SQL_BRANCH,  W7_SQL_HISTORY,
                                               "COMMIT",          W7_SQL_STATE};

typedef struct w7sq {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
} w7sq;

static int fail_db(w7sq *q, const char *what)
{
    return bench_fail("sqlite3", what, sqlite3_errmsg(q->db));
}

static void w7sq_close(void *ctx)
{
    w7sq *q = ctx;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_close(q->db);
    free(q);
}

int bench_w7_sqlite_exec(void *ctx, const char *sql)
{
    w7sq *q = ctx;
    return sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail_db(q, sql);
}

int bench_w7_sqlite_open(const char *path, void **ctx)
{
    w7sq *q = calloc(1, sizeof *q);
    if (!q)
        return bench_fail("sqlite3", "W7 open", "out of memory");
    if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        fail_db(q, "W7 open");
        w7sq_close(q);
        return -1;
    }
    sqlite3_busy_timeout(q->db, 5000);
    if (bench_w7_sqlite_exec(q, "PRAGMA foreign_keys=ON") ||
        bench_w7_sqlite_exec(q, "PRAGMA journal_mode=WAL") ||
        bench_w7_sqlite_exec(q, "PRAGMA synchronous=NORMAL")) {
        w7sq_close(q);
        return -1;
    }
    *ctx = q;
    return 0;
}

/* The statement, prepared on first use (after the set-up made the tables). */
static sqlite3_stmt *stmt(w7sq *q, int which)
{
    if (!q->st[which] && sqlite3_prepare_v3(q->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                            &q->st[which], NULL) != SQLITE_OK)
        fail_db(q, stmt_sql[which]);
    return q->st[which];
}

/* Steps a statement with up to four int parameters to its end; returns the
 * rows it gave, or -1. */
static int step(void *ctx, int which, int nparams, const int32_t *params)
{
    w7sq *q = ctx;
    sqlite3_stmt *st = stmt(q, which);
    if (!st)
        return -1;
    for (int i = 0; i < nparams; i++)
        sqlite3_bind_int(st, i + 1, params[i]);
    int rows = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        rows++, (void)sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? rows : fail_db(q, stmt_sql[which]);
}

static int w7sq_client(void *ctx, int client, long count, int scale, uint64_t *sum)
{
    return bench_w7_script(step, ctx, client, count, scale, sum);
}

static int w7sq_state(void *ctx, int64_t st[W7_STATE_FIELDS])
{
    w7sq *q = ctx;
    sqlite3_stmt *s = stmt(q, ST_STATE);
    if (!s || sqlite3_step(s) != SQLITE_ROW) {
        if (s)
            sqlite3_reset(s);
        return fail_db(q, "W7 state");
    }
    for (int i = 0; i < W7_STATE_FIELDS; i++)
        st[i] = sqlite3_column_int64(s, i);
    sqlite3_reset(s);
    return 0;
}

const w7_side_ops bench_w7_sqlite_ops = {
    .exec = bench_w7_sqlite_exec,
    .run_client = w7sq_client,
    .state = w7sq_state,
    .close = w7sq_close,
};
