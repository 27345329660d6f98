/*
 * W7, the web request pattern (issue 18): pgbench's built-in tpcb-like
 * transaction, each one a request that takes a session from the pool, with
 * 1, 4 and 8 clients at once. Contenders: dbal (the engine's default
 * pool_reset=full, and pool_reset=rollback), raw libpq with one connection
 * per client and every statement prepared, and pgbench -M prepared itself
 * against the same tables in the same run; on SQLite, dbal against raw
 * sqlite3 with one client (SQLite has one writer at a time, so more
 * clients would measure its busy handler's sleeps).
 *
 * Rounds are run as in the other workloads (every contender once per
 * round, each round starting with another); after every run the database's
 * totals are read and checked: the history grew by exactly the run's
 * transactions, by exactly the deltas the generator made (pgbench picks
 * its own), and the balances of accounts, tellers and branches each equal
 * the sum of the history's deltas.
 */
#include "bench_run.h"
#include "bench_w7.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a good 64-bit mix of a counter, cheap and stateless. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static int32_t uniform(uint64_t *state, int64_t lo, int64_t hi)
{
    *state = mix(*state);
    return (int32_t)(lo + (int64_t)(*state % (uint64_t)(hi - lo + 1)));
}

void bench_w7_txn(int scale, int client, long i, w7_txn *t)
{
    uint64_t s = (uint64_t)client << 40 ^ (uint64_t)i;
    /* pgbench's \set lines, in its order. */
    t->aid = uniform(&s, 1, (int64_t)W7_ACCOUNTS * scale);
    t->bid = uniform(&s, 1, scale);
    t->tid = uniform(&s, 1, (int64_t)W7_TELLERS * scale);
    t->delta = uniform(&s, -5000, 5000);
}

int bench_w7_script(w7_step_fn step, void *conn, int client, long count, int scale, uint64_t *sum)
{
    for (long i = 0; i < count; i++) {
        w7_txn t;
        bench_w7_txn(scale, client, i, &t);
        const int32_t account[] = {t.delta, t.aid}, teller[] = {t.delta, t.tid}, branch[] = {t.delta, t.bid},
                      history[] = {t.tid, t.bid, t.aid, t.delta};
        int rows;
        if (step(conn, W7_BEGIN, 0, NULL) < 0 || step(conn, W7_ACCOUNT, 2, account) < 0 ||
            (rows = step(conn, W7_SELECT, 1, &t.aid)) < 0 || step(conn, W7_TELLER, 2, teller) < 0 ||
            step(conn, W7_BRANCH, 2, branch) < 0 || step(conn, W7_HISTORY, 4, history) < 0 ||
            step(conn, W7_END, 0, NULL) < 0)
            return -1;
        *sum += bench_w7_sum(&t, rows);
    }
    return 0;
}

/* ---- set-up --------------------------------------------------------------- */

int bench_w7_setup(int (*exec)(void *ctx, const char *sql), void *ctx, int postgres, int scale)
{
    /* pgbench -i's tables (PostgreSQL 15), its server-side fill and its
     * keys made after the fill; SQLite's keys are rowids, and its fillers
     * are padded by hand as char(n) pads them. */
    static const char *const pg[] = {
        "DROP TABLE IF EXISTS pgbench_history, pgbench_tellers, pgbench_accounts, pgbench_branches",
        "CREATE TABLE pgbench_history(tid int, bid int, aid int, delta int, mtime timestamp, filler "
        "char(22))",
        "CREATE TABLE pgbench_tellers(tid int not null, bid int, tbalance int, filler char(84)) "
        "WITH (fillfactor=100)",
        "CREATE TABLE pgbench_accounts(aid int not null, bid int, abalance int, filler char(84)) "
        "WITH (fillfactor=100)",
        "CREATE TABLE pgbench_branches(bid int not null, bbalance int, filler char(88)) WITH "
        "(fillfactor=100)",
        "INSERT INTO pgbench_branches(bid, bbalance) SELECT bid, 0 FROM generate_series(1, @S) AS bid",
        "INSERT INTO pgbench_tellers(tid, bid, tbalance) SELECT tid, (tid - 1) / 10 + 1, 0 "
        "FROM generate_series(1, @S * 10) AS tid",
        "INSERT INTO pgbench_accounts(aid, bid, abalance, filler) SELECT aid, (aid - 1) / 100000 + 1, 0, '' "
        "FROM generate_series(1, @S * 100000) AS aid",
        "VACUUM ANALYZE pgbench_branches, pgbench_tellers, pgbench_accounts, pgbench_history",
        "ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)",
        "ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid)",
        "ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)",
    };
#define SQLITE_FILL(table, cols, n, values)                                                              \
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < " n ") INSERT INTO " table \
    "(" cols ") SELECT " values " FROM c"
    static const char *const sq[] = {
        "DROP TABLE IF EXISTS pgbench_history",
        "DROP TABLE IF EXISTS pgbench_tellers",
        "DROP TABLE IF EXISTS pgbench_accounts",
        "DROP TABLE IF EXISTS pgbench_branches",
        "CREATE TABLE pgbench_history(tid INT, bid INT, aid INT, delta INT, mtime TIMESTAMP, filler "
        "CHAR(22))",
        "CREATE TABLE pgbench_tellers(tid INTEGER PRIMARY KEY, bid INT, tbalance INT, filler CHAR(84))",
        "CREATE TABLE pgbench_accounts(aid INTEGER PRIMARY KEY, bid INT, abalance INT, filler CHAR(84))",
        "CREATE TABLE pgbench_branches(bid INTEGER PRIMARY KEY, bbalance INT, filler CHAR(88))",
        SQLITE_FILL("pgbench_branches", "bid, bbalance, filler", "@S", "i, 0, printf('%88s', '')"),
        SQLITE_FILL("pgbench_tellers", "tid, bid, tbalance, filler", "@S * 10",
                    "i, (i - 1) / 10 + 1, 0, printf('%84s', '')"),
        SQLITE_FILL("pgbench_accounts", "aid, bid, abalance, filler", "@S * 100000",
                    "i, (i - 1) / 100000 + 1, 0, printf('%84s', '')"),
        "PRAGMA wal_checkpoint(TRUNCATE)",
    };
#undef SQLITE_FILL
    const char *const *list = postgres ? pg : sq;
    size_t n = postgres ? sizeof pg / sizeof pg[0] : sizeof sq / sizeof sq[0];
    for (size_t i = 0; i < n; i++) {
        char sql[512];
        /* @S is the scale (a format string would not be a literal). */
        const char *at = strstr(list[i], "@S");
        if (at)
            snprintf(sql, sizeof sql, "%.*s%d%s", (int)(at - list[i]), list[i], scale, at + 2);
        else
            snprintf(sql, sizeof sql, "%s", list[i]);
        if (exec(ctx, sql))
            return -1;
    }
    return 0;
}

/* ---- one run: N client threads ----------------------------------------------- */

/* The clients wait for one signal, so that they start together (and none
 * starts when not all of them could be made). */
typedef struct start_gate {
    pthread_mutex_t lock;
    pthread_cond_t open;
    int state; /* 0 closed, 1 go, -1 give up */
} start_gate;

typedef struct client {
    pthread_t thread;
    const w7_side_ops *ops;
    void *ctx;
    int id, scale;
    long count;
    start_gate *gate;
    uint64_t sum;
    int rc;
} client;

static void *client_main(void *arg)
{
    client *c = arg;
    pthread_mutex_lock(&c->gate->lock);
    while (c->gate->state == 0)
        pthread_cond_wait(&c->gate->open, &c->gate->lock);
    int go = c->gate->state > 0;
    pthread_mutex_unlock(&c->gate->lock);
    c->rc = go ? c->ops->run_client(c->ctx, c->id, c->count, c->scale, &c->sum) : -1;
    return NULL;
}

static void gate_set(start_gate *g, int state)
{
    pthread_mutex_lock(&g->lock);
    g->state = state;
    pthread_cond_broadcast(&g->open);
    pthread_mutex_unlock(&g->lock);
}

enum { MAX_CLIENTS = 8 };

/* Runs `per_client` transactions on each of `clients` threads; the time
 * runs from their common start to the last one's end. */
static int run_threads(const w7_side_ops *ops, void *ctx, int clients, long per_client, int scale,
                       double *seconds, uint64_t *sum)
{
    client cl[MAX_CLIENTS];
    start_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    int started = 0, rc = 0;
    for (; started < clients; started++) {
        cl[started] = (client){.ops = ops,
                               .ctx = ctx,
                               .id = started,
                               .scale = scale,
                               .count = per_client,
                               .gate = &gate};
        if (pthread_create(&cl[started].thread, NULL, client_main, &cl[started]))
            break;
    }
    gate_set(&gate, started == clients ? 1 : -1);
    double t0 = bench_now();
    for (int i = 0; i < started; i++) {
        pthread_join(cl[i].thread, NULL);
        rc |= cl[i].rc;
        *sum += cl[i].sum;
    }
    *seconds = bench_now() - t0;
    if (started < clients)
        return bench_fail("W7", "threads", "cannot start a client thread");
    return rc ? -1 : 0;
}

/* ---- contenders and rounds ------------------------------------------------------- */

typedef struct contender {
    const char *side;
    const w7_side_ops *ops;
    void *ctx;
    int failed, sqlite;
    double t[BENCH_MAX_ROUNDS];
    uint64_t sum;
    int have_sum;
} contender;

/* The deltas the generator makes for `clients` x `per_client`. */
static int64_t expected_deltas(int clients, long per_client, int scale)
{
    int64_t total = 0;
    for (int c = 0; c < clients; c++)
        for (long i = 0; i < per_client; i++) {
            w7_txn t;
            bench_w7_txn(scale, c, i, &t);
            total += t.delta;
        }
    return total;
}

static int check_state(const contender *c, const int64_t before[W7_STATE_FIELDS],
                       const int64_t after[W7_STATE_FIELDS], long txns, int64_t deltas)
{
    char msg[256];
    if (after[0] - before[0] != txns) {
        snprintf(msg, sizeof msg, "%lld history rows added, %ld transactions run",
                 (long long)(after[0] - before[0]), txns);
        return bench_fail(c->side, "W7 check", msg);
    }
    if (c->ops->run_client && after[1] - before[1] != deltas) {
        snprintf(msg, sizeof msg, "the history's deltas grew by %lld, the run's add up to %lld",
                 (long long)(after[1] - before[1]), (long long)deltas);
        return bench_fail(c->side, "W7 check", msg);
    }
    if (after[2] != after[1] || after[3] != after[1] || after[4] != after[1]) {
        snprintf(msg, sizeof msg, "balances %lld (accounts) %lld (tellers) %lld (branches), history %lld",
                 (long long)after[2], (long long)after[3], (long long)after[4], (long long)after[1]);
        return bench_fail(c->side, "W7 check", msg);
    }
    return 0;
}

static int run_once(contender *c, int clients, long per_client, int scale, int64_t deltas, double *t)
{
    int64_t before[W7_STATE_FIELDS], after[W7_STATE_FIELDS];
    uint64_t sum = 0;
    /* SQLite: every run starts from an empty WAL, so that none pays for a
     * checkpoint the runs before it made due. */
    if (c->sqlite && c->ops->exec(c->ctx, "PRAGMA wal_checkpoint(TRUNCATE)"))
        return -1;
    if (c->ops->state(c->ctx, before))
        return -1;
    int rc = c->ops->run_all ? c->ops->run_all(c->ctx, clients, per_client, t)
                             : run_threads(c->ops, c->ctx, clients, per_client, scale, t, &sum);
    if (rc || c->ops->state(c->ctx, after) ||
        check_state(c, before, after, (long)clients * per_client, deltas))
        return -1;
    if (c->have_sum && sum != c->sum)
        return bench_fail(c->side, "W7", "a run's checksum differs from the first run's");
    c->sum = sum;
    c->have_sum = 1;
    return 0;
}

static void print_line(const char *workload, const char *backend, int clients, const contender *a,
                       const contender *b, long txns, int rounds)
{
    printf("%s %s/c=%d ", workload, backend, clients);
    double ta[BENCH_MAX_ROUNDS], tb[BENCH_MAX_ROUNDS], ratio[BENCH_MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        ta[r] = a->t[r], tb[r] = b->t[r];
        ratio[r] = a->t[r] / b->t[r];
    }
    a->failed ? printf("- ") : printf("%.0f ", (double)txns / bench_median(ta, rounds));
    b->failed ? printf("- ") : printf("%.0f ", (double)txns / bench_median(tb, rounds));
    !a->failed && !b->failed ? printf("%.3f\n", bench_median(ratio, rounds)) : printf("-\n");
}

enum { C_DBAL, C_RAW, C_ROLLBACK, C_PGBENCH, C_COUNT };

/* The contenders present (ctx set) for one client count; prints the lines. */
static int run_clients(contender *cs, const bench_opts *o, const char *backend, int clients, long txns,
                       int scale)
{
    const int rounds = o->rounds;
    const long per_client = txns / clients;
    const int64_t deltas = expected_deltas(clients, per_client, scale);
    int rc = 0;
    for (int k = 0; k < C_COUNT; k++)
        cs[k].failed = !cs[k].ctx || !(k == C_DBAL || k == C_ROLLBACK ? o->dbal : o->raw), cs[k].have_sum = 0;
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < C_COUNT; k++) {
            contender *c = &cs[(r + k) % C_COUNT];
            if (!c->failed && run_once(c, clients, per_client, scale, deltas, &c->t[r]))
                c->failed = 1, rc = -1;
        }
    if (cs[C_DBAL].have_sum && cs[C_RAW].have_sum && cs[C_DBAL].sum != cs[C_RAW].sum)
        rc = bench_fail("W7", backend, "dbal's and raw's checksums differ");
    txns = per_client * clients;
    print_line("W7", backend, clients, &cs[C_DBAL], &cs[C_RAW], txns, rounds);
    if (cs[C_PGBENCH].ctx)
        print_line("W7-pgbench", backend, clients, &cs[C_DBAL], &cs[C_PGBENCH], txns, rounds);
    if (cs[C_ROLLBACK].ctx)
        print_line("W7-reset-rollback", backend, clients, &cs[C_ROLLBACK], &cs[C_RAW], txns, rounds);
    fflush(stdout);
    return rc;
}

static const w7_side_ops *ops_of(int k)
{
    switch (k) {
    case C_DBAL:
    case C_ROLLBACK: return &bench_w7_dbal_ops;
#ifdef BENCH_HAVE_PG
    case C_PGBENCH: return &bench_w7_pgbench_ops;
#endif
    default: return NULL;
    }
}

static void close_all(contender *cs)
{
    for (int k = 0; k < C_COUNT; k++)
        if (cs[k].ctx)
            cs[k].ops->close(cs[k].ctx);
}

/* Opens the PostgreSQL contenders; pgbench only when there is one. */
static int open_pg(contender *cs, const char *url, int max_clients, int scale)
{
#ifdef BENCH_HAVE_PG
    char *conninfo = bench_pg_conninfo(url);
    char rollback[2048];
    if (!conninfo)
        return bench_fail("W7", "postgresql", "out of memory");
    snprintf(rollback, sizeof rollback, "%s%spool_reset=rollback", url, strchr(url, '?') ? "&" : "?");
    cs[C_RAW].ops = &bench_w7_pg_ops;
    int rc = bench_w7_pg_open(conninfo, max_clients, &cs[C_RAW].ctx);
    if (rc == 0)
        rc = bench_w7_setup(bench_w7_pg_exec, cs[C_RAW].ctx, 1, scale) ||
             bench_w7_dbal_open(url, max_clients, &cs[C_DBAL].ctx) ||
             bench_w7_dbal_open(rollback, max_clients, &cs[C_ROLLBACK].ctx);
    if (rc == 0 && bench_w7_pgbench_path())
        rc = bench_w7_pgbench_open(conninfo, cs[C_RAW].ctx, &cs[C_PGBENCH].ctx);
    else if (rc == 0)
        printf("# W7 postgresql: no pgbench (DBAL_BENCH_PGBENCH, or pgbench on the PATH): no W7-pgbench "
               "lines\n");
    free(conninfo);
    return rc;
#else
    (void)cs, (void)url, (void)max_clients, (void)scale;
    return bench_fail("W7", "postgresql", "built without libpq");
#endif
}

int bench_w7_run(const bench_opts *o, const char *backend, const char *pg_url, const char *file)
{
    char url[1024];
    const char *memory_url = getenv("DBAL_BENCH_SQLITE_MEMORY_URL");
    if (file)
        snprintf(url, sizeof url, "sqlite://%s", file);
    else
        snprintf(url, sizeof url, "%s",
                 pg_url && strcmp(backend, "postgresql") == 0 ? pg_url
                 : memory_url && *memory_url                  ? memory_url
                                                              : "sqlite::memory:");
    contender cs[C_COUNT];
    const int pg = strcmp(backend, "postgresql") == 0, scale = (int)o->n.w7_scale;
    memset(cs, 0, sizeof cs);
    static const char *const sides[C_COUNT] = {"dbal", "raw", "dbal-rollback", "pgbench"};
    for (int k = 0; k < C_COUNT; k++)
        cs[k].side = sides[k], cs[k].ops = ops_of(k), cs[k].sqlite = !pg;
    double t0 = bench_now();
    int rc;
    if (pg) {
        rc = open_pg(cs, url, MAX_CLIENTS, scale);
    } else {
        /* sqlite-file: both sides on the same file; sqlite-memory: dbal's
         * sqlite::memory: and a raw private :memory:, each filled. */
        cs[C_RAW].ops = &bench_w7_sqlite_ops;
        rc = bench_w7_sqlite_open(file ? file : ":memory:", &cs[C_RAW].ctx) ||
             bench_w7_setup(bench_w7_sqlite_exec, cs[C_RAW].ctx, 0, scale) ||
             bench_w7_dbal_open(url, 1, &cs[C_DBAL].ctx) ||
             (!file && bench_w7_setup(bench_w7_dbal_exec, cs[C_DBAL].ctx, 0, scale));
    }
    if (rc) {
        close_all(cs);
        printf("# W7 %s: set-up failed (see stderr)\n", backend);
        return -1;
    }
    printf("# W7 %s: pgbench's tpcb-like transaction (UPDATE accounts, SELECT abalance, UPDATE tellers, "
           "UPDATE branches, INSERT history, in BEGIN..END), scale %d, %ld transactions per run split over "
           "the clients; set-up %.1f s; fields: tps of each side, ratio = time per transaction\n",
           backend, scale, o->n.w7, bench_now() - t0);
    static const int client_counts[] = {1, 4, MAX_CLIENTS};
    for (size_t i = 0; i < (pg ? 3u : 1u); i++)
        rc |= run_clients(cs, o, backend, client_counts[i], o->n.w7, scale);
    close_all(cs);
    return rc;
}
