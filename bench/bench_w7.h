/*
 * W7, the web request pattern: pgbench's built-in "tpcb-like" script, one
 * transaction per request, N clients at once. Every side runs the same
 * transactions (the same account, teller, branch and delta for client k's
 * i-th transaction), so that their checksums and the database's totals
 * after a run can be compared.
 */
#ifndef DBAL_BENCH_W7_H
#define DBAL_BENCH_W7_H

#include <stdint.h>

/* pgbench's sizes per unit of scale. */
#define W7_ACCOUNTS 100000
#define W7_TELLERS 10

/* The script's statements (pgbench_history's mtime is CURRENT_TIMESTAMP, as
 * in pgbench). The PostgreSQL raw side numbers the placeholders itself. */
#define W7_SQL_ACCOUNT "UPDATE pgbench_accounts SET abalance = abalance + ? WHERE aid = ?"
#define W7_SQL_SELECT "SELECT abalance FROM pgbench_accounts WHERE aid = ?"
#define W7_SQL_TELLER "UPDATE pgbench_tellers SET tbalance = tbalance + ? WHERE tid = ?"
#define W7_SQL_BRANCH "UPDATE pgbench_branches SET bbalance = bbalance + ? WHERE bid = ?"
#define W7_SQL_HISTORY \
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)"
/* The totals a run is checked with: history rows, the sum of their deltas,
 * and the balances of accounts, tellers and branches (all four sums are
 * equal whenever every transaction ran whole). */
#define W7_SQL_STATE                                              \
    "SELECT (SELECT count(*) FROM pgbench_history), "             \
    "(SELECT coalesce(sum(delta), 0) FROM pgbench_history), "     \
    "(SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts), " \
    "(SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers), "  \
    "(SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches)"
enum { W7_STATE_FIELDS = 5 };

/* One transaction's inputs: pgbench's \set lines, uniform as its random(). */
typedef struct w7_txn {
    int32_t aid, bid, tid, delta;
} w7_txn;

/* Client `client`'s i-th transaction at this scale: the same on every side
 * and every run. */
void bench_w7_txn(int scale, int client, long i, w7_txn *t);

/* What one transaction adds to a side's checksum; abalance is what its
 * SELECT read (only whether one row came back is summed: the balance
 * depends on the other clients). */
static inline uint64_t bench_w7_sum(const w7_txn *t, int rows)
{
    return (uint64_t)(t->delta + 5000) + (uint64_t)t->aid * 3 + (uint64_t)t->tid * 5 + (uint64_t)t->bid * 7 +
           (uint64_t)rows * 11;
}

/*
 * A side of W7. run_client runs transactions first .. first + count - 1 of
 * client `client` and may be called from several threads at once, one per
 * client; run_all (pgbench) runs the whole thing itself and reports its own
 * time. state reads W7_SQL_STATE.
 */
typedef struct w7_side_ops {
    int (*exec)(void *ctx, const char *sql); /* untimed; NULL for pgbench */
    int (*run_client)(void *ctx, int client, long count, int scale, uint64_t *sum);
    int (*run_all)(void *ctx, int clients, long per_client, double *seconds);
    int (*state)(void *ctx, int64_t st[W7_STATE_FIELDS]);
    void (*close)(void *ctx);
} w7_side_ops;

/* The script's statements in order, as the raw sides number them. */
enum { W7_BEGIN, W7_ACCOUNT, W7_SELECT, W7_TELLER, W7_BRANCH, W7_HISTORY, W7_END, W7_STEPS };

/* Runs one statement of the script with up to four int parameters on a raw
 * connection; returns the rows it gave, or -1. */
typedef int (*w7_step_fn)(void *conn, int which, int nparams, const int32_t *params);

/* Client `client`'s transactions 0 .. count - 1, statement by statement,
 * through step (the raw sides). */
int bench_w7_script(w7_step_fn step, void *conn, int client, long count, int scale, uint64_t *sum);

/* Set-up: the four tables as `pgbench -i -s scale` makes them. */
int bench_w7_setup(int (*exec)(void *ctx, const char *sql), void *ctx, int postgres, int scale);

/* bench_w7_dbal.c: an engine of its own, pool_size >= clients, warmed. */
extern const w7_side_ops bench_w7_dbal_ops;
int bench_w7_dbal_open(const char *url, int clients, void **ctx);
int bench_w7_dbal_exec(void *ctx, const char *sql);

/* bench_w7_sqlite.c: raw sqlite3, one connection (one client). */
extern const w7_side_ops bench_w7_sqlite_ops;
int bench_w7_sqlite_open(const char *path, void **ctx);
int bench_w7_sqlite_exec(void *ctx, const char *sql);

#ifdef BENCH_HAVE_PG
/* bench_w7_pg.c: raw libpq, one connection per client, every statement
 * prepared (as pgbench -M prepared); and pgbench itself. */
extern const w7_side_ops bench_w7_pg_ops, bench_w7_pgbench_ops;
int bench_w7_pg_open(const char *conninfo, int clients, void **ctx);
int bench_w7_pg_exec(void *ctx, const char *sql);
/* pgbench on this connection string; its state is read through raw. */
int bench_w7_pgbench_open(const char *conninfo, void *raw, void **ctx);
/* The pgbench program: DBAL_BENCH_PGBENCH, or pgbench on the PATH; NULL
 * when there is none. */
const char *bench_w7_pgbench_path(void);
#endif

#endif
