/*
 * Backends and timed rounds. Each workload has "contenders": dbal first,
 * then the raw implementations it is compared with. Every round runs each
 * contender once, back to back, starting with a different one each round
 * (so none always runs first, on a cold cache or a warm one); the ratio of a
 * round pairs runs made moments apart, and the median of those ratios is
 * printed.
 */
#include "bench_run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const bench_dialect bench_sqlite_dialect = {.id_type = "INTEGER", .truncate = "DELETE FROM", .postgres = 0};
const bench_dialect bench_pg_dialect = {.id_type = "BIGINT", .truncate = "TRUNCATE", .postgres = 1};

/* ---- set-up ------------------------------------------------------------------ */

/* The fills, id = i; the SQLite fill counts with a recursive CTE, PostgreSQL
 * with generate_series; both make the same values. %ld is the row count
 * (literals, so that the compiler checks them as formats). */
#define SQLITE_KV                                                                    \
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %ld) " \
    "INSERT INTO bench_kv(id, name, val) SELECT i, printf('item-%%08d', i), i * 0.25 FROM c"
#define PG_KV                                                                                   \
    "INSERT INTO bench_kv(id, name, val) SELECT i, 'item-' || lpad(i::text, 8, '0'), i * 0.25 " \
    "FROM generate_series(1, %ld) AS i"
#define SQLITE_SCAN                                                                  \
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %ld) " \
    "INSERT INTO bench_scan(id, n, x, s) SELECT i, i * 7, i * 0.5, printf('scan-row-%%08d', i) FROM c"
/* W3t's table: a timestamptz, 37 s apart from 2023-11-14, and a
 * NUMERIC(12, 2) with two exact decimals, the same values on both. SQLite's
 * timestamps are in dbal's storage form, written by SQL. */
#define SQLITE_TYPED                                                                                        \
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %ld) "                        \
    "INSERT INTO bench_typed(id, ts, amount) SELECT i, strftime('%%Y-%%m-%%d %%H:%%M:%%f', 1700000000 + i " \
    "* "                                                                                                    \
    "37, 'unixepoch') || '000+00:00', (i %% 100000) + 0.25 FROM c"
#define PG_TYPED                                                                                            \
    "INSERT INTO bench_typed(id, ts, amount) SELECT i, to_timestamp(1700000000 + i * 37), (i %% 100000) + " \
    "0.25 "                                                                                                 \
    "FROM generate_series(1, %ld) AS i"
#define PG_SCAN                                                                                           \
    "INSERT INTO bench_scan(id, n, x, s) SELECT i, i * 7, i * 0.5, 'scan-row-' || lpad(i::text, 8, '0') " \
    "FROM generate_series(1, %ld) AS i"

int bench_setup(const bench_side_ops *ops, void *ctx, const bench_dialect *d, const bench_cfg *cfg,
                int scan_only)
{
    static const char *const tables[][2] = {
        {"bench_kv", "name TEXT NOT NULL, val DOUBLE PRECISION NOT NULL"},
        {"bench_ins", "name TEXT NOT NULL, val DOUBLE PRECISION NOT NULL"},
        {"bench_batch", "name TEXT NOT NULL, val DOUBLE PRECISION NOT NULL"},
        {"bench_typed", "ts TIMESTAMP WITH TIME ZONE NOT NULL, amount NUMERIC(12, 2) NOT NULL"},
        {"bench_scan", "n BIGINT NOT NULL, x DOUBLE PRECISION NOT NULL, s TEXT NOT NULL"},
    };
    char sql[512];
    for (size_t i = scan_only ? 4 : 0; i < sizeof tables / sizeof tables[0]; i++) {
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", tables[i][0]);
        if (ops->exec(ctx, sql))
            return -1;
        snprintf(sql, sizeof sql, "CREATE TABLE %s(id %s PRIMARY KEY, %s)", tables[i][0], d->id_type,
                 tables[i][1]);
        if (ops->exec(ctx, sql))
            return -1;
    }
    if (!scan_only) {
        snprintf(sql, sizeof sql, d->postgres ? PG_KV : SQLITE_KV, cfg->kv_rows);
        if (ops->exec(ctx, sql))
            return -1;
        snprintf(sql, sizeof sql, d->postgres ? PG_TYPED : SQLITE_TYPED, cfg->scan_rows);
        if (ops->exec(ctx, sql))
            return -1;
    }
    snprintf(sql, sizeof sql, d->postgres ? PG_SCAN : SQLITE_SCAN, cfg->scan_rows);
    if (ops->exec(ctx, sql))
        return -1;
    /* Fresh statistics and visibility map on PostgreSQL; SQLite's WAL
     * folded into the database so that every run reads the same file. */
    return ops->exec(ctx, d->postgres ? "VACUUM ANALYZE" : "PRAGMA wal_checkpoint(TRUNCATE)");
}

/* ---- backends ---------------------------------------------------------------- */

typedef struct bench_backend {
    const char *name;
    const bench_dialect *dialect;
    /* A scratch database: sqlite-file's, or sqlite-memory's raw WAL file
     * on /dev/shm. */
    const char *file;
    long w1; /* W1 lookups */
    /* The sides; raw2 is sqlite-memory's raw WAL file on /dev/shm;
     * dbal_rollback is PostgreSQL's engine with pool_reset=rollback (W4). */
    void *dbal, *raw, *raw2, *dbal_rollback;
    const bench_side_ops *raw_ops;
} bench_backend;

int bench_backend_known(const char *name)
{
    return strcmp(name, "sqlite-memory") == 0 || strcmp(name, "sqlite-file") == 0 ||
           strcmp(name, "postgresql") == 0;
}

/*
 * Scratch databases: each in a fresh directory of its own, removed when the
 * backend closes, and also when a signal ends the run (Ctrl-C, or SIGPIPE
 * when the output goes to `head`). The signal handler only walks this
 * static table with unlink() and rmdir(), which are async-signal-safe.
 */
enum { SCRATCH_MAX = 4, SCRATCH_PATHS = 5, SCRATCH_LEN = 600 };
static const char *const scratch_suffix[SCRATCH_PATHS] = {NULL, "", "-wal", "-shm", "-journal"};
static char scratch[SCRATCH_MAX][SCRATCH_PATHS][SCRATCH_LEN]; /* [0]: the directory; [1]: the database */
static volatile sig_atomic_t nscratch;

static void remove_scratch(int i)
{
    for (int k = SCRATCH_PATHS - 1; k > 0; k--)
        unlink(scratch[i][k]);
    rmdir(scratch[i][0]);
}

static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

/* Runs with all of fatal_signals blocked, so that a second one cannot cut
 * the clean-up short; the signal raised at the end is delivered, with its
 * default action, when the handler returns. */
static void on_fatal_signal(int sig)
{
    struct sigaction dfl;
    for (int i = nscratch - 1; i >= 0; i--)
        remove_scratch(i);
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

static void catch_fatal_signals(void)
{
    static int done;
    struct sigaction sa;
    if (done)
        return;
    done = 1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        sigaddset(&sa.sa_mask, fatal_signals[i]);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        sigaction(fatal_signals[i], &sa, NULL);
}

/* Makes base/dbal-bench-XXXXXX and returns the path of bench.db in it, or
 * NULL. */
static const char *scratch_open(const char *base)
{
    int i = nscratch;
    if (i == SCRATCH_MAX)
        return NULL;
    catch_fatal_signals();
    char(*paths)[SCRATCH_LEN] = scratch[i];
    if (snprintf(paths[0], SCRATCH_LEN, "%s/dbal-bench-XXXXXX", base) >= SCRATCH_LEN - 20 ||
        !mkdtemp(paths[0]))
        return NULL;
    /* The directory's name is shorter than SCRATCH_LEN - 20 (checked above):
     * the precision says so to the compiler. */
    char dir[SCRATCH_LEN];
    memcpy(dir, paths[0], sizeof dir);
    for (int k = 1; k < SCRATCH_PATHS; k++)
        snprintf(paths[k], SCRATCH_LEN, "%.*s/bench.db%s", SCRATCH_LEN - 20, dir, scratch_suffix[k]);
    nscratch = i + 1;
    return paths[1];
}

/* Removes the newest scratch database with its WAL files and directory. */
static void scratch_close(void)
{
    if (nscratch > 0) {
        remove_scratch(nscratch - 1);
        nscratch = nscratch - 1;
    }
}

static void backend_close(bench_backend *b)
{
    bench_dbal_ops.close(b->dbal);
    bench_dbal_ops.close(b->dbal_rollback);
    if (b->raw)
        b->raw_ops->close(b->raw);
    if (b->raw2)
        b->raw_ops->close(b->raw2);
    if (b->file)
        scratch_close();
}

static int backend_open(bench_backend *b, const bench_opts *o, const bench_cfg *cfg, const char *name,
                        const char *pg_url)
{
    *b = (bench_backend){.name = name,
                         .dialect = &bench_sqlite_dialect,
                         .raw_ops = &bench_sqlite_ops,
                         .w1 = o->n.w1_sqlite};
    if (strcmp(name, "sqlite-memory") == 0) {
        const char *tmp = getenv("TMPDIR");
        if (!(b->file = scratch_open(access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                     : tmp && *tmp                 ? tmp
                                                                   : "/tmp")))
            return bench_fail("bench", name, "cannot make a directory on /dev/shm");
        /* Overridable to try other settings of dbal's in-memory database,
         * e.g. sqlite::memory:?vfs=unix-excl */
        const char *url = getenv("DBAL_BENCH_SQLITE_MEMORY_URL");
        if (bench_dbal_open(url && *url ? url : "sqlite::memory:", &b->dbal) ||
            bench_sqlite_open(NULL, BENCH_SQLITE_MEMORY, &b->raw) ||
            bench_sqlite_open(b->file, BENCH_SQLITE_SHM_WAL, &b->raw2))
            return -1;
        /* Three databases: each side fills its own. */
        if (bench_setup(&bench_dbal_ops, b->dbal, b->dialect, cfg, 0) ||
            bench_setup(b->raw_ops, b->raw, b->dialect, cfg, 0) ||
            bench_setup(b->raw_ops, b->raw2, b->dialect, cfg, 0))
            return -1;
        return 0;
    }
    if (strcmp(name, "sqlite-file") == 0) {
        const char *tmp = getenv("TMPDIR");
        char url[600];
        if (!(b->file = scratch_open(tmp && *tmp ? tmp : "/tmp")))
            return bench_fail("bench", name, "cannot make a temporary directory");
        snprintf(url, sizeof url, "sqlite://%s", b->file);
        if (bench_sqlite_open(b->file, BENCH_SQLITE_FILE, &b->raw) ||
            bench_setup(b->raw_ops, b->raw, b->dialect, cfg, 0))
            return -1;
        return bench_dbal_open(url, &b->dbal);
    }
#ifdef BENCH_HAVE_PG
    if (!pg_url || !*pg_url)
        return bench_fail("bench", name, "set DBAL_BENCH_PG_URL to a PostgreSQL URL");
    char *conninfo = bench_pg_conninfo(pg_url);
    if (!conninfo)
        return bench_fail("bench", name, "out of memory");
    b->dialect = &bench_pg_dialect;
    b->raw_ops = &bench_pg_ops;
    b->w1 = o->n.w1_pg;
    int rc = bench_pg_open(conninfo, &b->raw);
    free(conninfo);
    if (rc || bench_setup(b->raw_ops, b->raw, b->dialect, cfg, 0))
        return -1;
    char rollback_url[2048];
    snprintf(rollback_url, sizeof rollback_url, "%s%spool_reset=rollback", pg_url,
             strchr(pg_url, '?') ? "&" : "?");
    return bench_dbal_open(pg_url, &b->dbal) || bench_dbal_open(rollback_url, &b->dbal_rollback) ? -1 : 0;
#else
    (void)pg_url;
    return bench_fail("bench", name, "built without libpq");
#endif
}

/* ---- timed rounds -------------------------------------------------------------- */

#define MAX_CONTENDERS 5
#define MAX_LINES 5

typedef struct contender {
    const char *side; /* for messages */
    const bench_side_ops *ops;
    void *ctx;
    bench_fn fn;
    long n; /* operations per run */
    int enabled, failed;
    double t[BENCH_MAX_ROUNDS];
    uint64_t sum; /* of the first run */
    int have_sum;
} contender;

/* One output line: contender a (dbal; -1 for a raw-only line) against b. */
typedef struct line {
    const char *workload, *backend;
    int a, b;
} line;

typedef struct plan {
    contender c[MAX_CONTENDERS];
    int nc;
    line l[MAX_LINES];
    int nl;
    const char *reset_table; /* emptied before every run */
} plan;

static int add(plan *p, const char *side, const bench_side_ops *ops, void *ctx, bench_fn fn, long n)
{
    p->c[p->nc] = (contender){.side = side, .ops = ops, .ctx = ctx, .fn = fn, .n = n, .enabled = fn != NULL};
    return p->nc++;
}

static void add_line(plan *p, const char *workload, const char *backend, int a, int b)
{
    p->l[p->nl++] = (line){workload, backend, a, b};
}

static bench_fn pick(const bench_side_ops *ops, int w)
{
    const bench_fn fns[] = {ops->w1, ops->w2, ops->w3, ops->w4, ops->w5, NULL, ops->w3t};
    return fns[w];
}

/* The contenders and lines of workload w (0-based) on backend b. */
static void make_plan(plan *p, const bench_backend *b, const bench_opts *o, const bench_cfg *cfg, int w)
{
    static const char *const names[] = {"W1", "W2", "W3", "W4", "W5", "W6", "W3t"};
    const long counts[] = {b->w1, o->n.w2, cfg->scan_rows, o->n.w4, o->n.w5, 0, cfg->scan_rows};
    const long n = counts[w];
    *p = (plan){.reset_table = w == 1 ? "bench_ins" : w == 4 ? "bench_batch" : NULL};
    int d = add(p, "dbal", &bench_dbal_ops, b->dbal, pick(&bench_dbal_ops, w), n);
    int r = add(p, "raw", b->raw_ops, b->raw, pick(b->raw_ops, w), n);
    /* W5 without dbal_exec_batch: only the raw lines. */
    const int with_dbal = w != 4 || bench_dbal_ops.w5 != NULL;
    if (with_dbal)
        add_line(p, names[w], b->name, d, r);
    if (b->raw2) {
        int r2 = add(p, "raw-shm-wal", b->raw_ops, b->raw2, pick(b->raw_ops, w), n);
        if (with_dbal)
            add_line(p, names[w], "sqlite-memory/shm-wal", d, r2);
    }
    /* W5's raw per-row way, and the bulk ways a batch can aim for. */
    if (w == 4)
        add_line(p, "W5-raw-single", b->name, -1, r);
#ifdef BENCH_HAVE_PG
    if (b->raw_ops == &bench_pg_ops) {
        if (w == 2)
            add_line(p, "W3-singlerow", b->name, d,
                     add(p, "raw-single-row", b->raw_ops, b->raw, bench_pg_w3_single_row, n));
        if (w == 3) {
            add_line(p, "W4-connect", b->name, d,
                     add(p, "raw-connect", b->raw_ops, b->raw, bench_pg_w4_connect, o->n.w4_connect));
            /* The pooled unit of work without the session reset. */
            add_line(p, "W4-reset-rollback", b->name,
                     add(p, "dbal-rollback", &bench_dbal_ops, b->dbal_rollback, pick(&bench_dbal_ops, w), n),
                     r);
        }
        if (w == 4) {
            add_line(p, "W5-raw-pipeline", b->name, -1,
                     add(p, "raw-pipeline", b->raw_ops, b->raw, bench_pg_w5_pipeline, n));
            add_line(p, "W5-raw-copy", b->name, -1,
                     add(p, "raw-copy", b->raw_ops, b->raw, bench_pg_w5_copy, n));
        }
    }
#endif
    if (!o->dbal)
        p->c[d].enabled = 0;
    for (int i = 1; i < p->nc && !o->raw; i++)
        p->c[i].enabled = 0;
}

/* One timed run; checks that it did the same work as before. */
static int run_once(contender *c, const plan *p, const bench_backend *b, const bench_cfg *cfg, double *t)
{
    if (p->reset_table) {
        char sql[128];
        snprintf(sql, sizeof sql, "%s %s", b->dialect->truncate, p->reset_table);
        if (c->ops->exec(c->ctx, sql))
            return -1;
    }
    uint64_t sum = 0;
    double t0 = bench_now();
    if (c->fn(c->ctx, cfg, c->n, &sum))
        return -1;
    *t = bench_now() - t0;
    if (c->have_sum && sum != c->sum) {
        fprintf(stderr, "bench: %s %s: checksum %llu differs from the first run's %llu\n", b->name, c->side,
                (unsigned long long)sum, (unsigned long long)c->sum);
        return -1;
    }
    c->sum = sum;
    c->have_sum = 1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double ops_per_s(const contender *c, int rounds)
{
    double t[BENCH_MAX_ROUNDS];
    memcpy(t, c->t, (size_t)rounds * sizeof *t);
    return (double)c->n / bench_median(t, rounds);
}

static void print_line(const plan *p, const line *l, int rounds)
{
    const contender *a = l->a >= 0 ? &p->c[l->a] : NULL, *b = &p->c[l->b];
    int a_ok = a && a->enabled && !a->failed, b_ok = b->enabled && !b->failed;
    if (!a) {
        if (b_ok)
            printf("%s %s %.0f\n", l->workload, l->backend, ops_per_s(b, rounds));
        else
            printf("%s %s -\n", l->workload, l->backend);
        return;
    }
    printf("%s %s ", l->workload, l->backend);
    a_ok ? printf("%.0f ", ops_per_s(a, rounds)) : printf("- ");
    b_ok ? printf("%.0f ", ops_per_s(b, rounds)) : printf("- ");
    if (a_ok && b_ok) {
        double ratio[BENCH_MAX_ROUNDS];
        for (int r = 0; r < rounds; r++)
            ratio[r] = (a->t[r] / (double)a->n) / (b->t[r] / (double)b->n);
        printf("%.3f\n", bench_median(ratio, rounds));
    } else {
        printf("-\n");
    }
}

/* Both sides must have done the same work (W4-connect does fewer
 * operations, so only contenders with dbal's count are compared). */
static int check_sums(const plan *p, const char *backend, const char *workload)
{
    const contender *ref = NULL;
    int rc = 0;
    for (int i = 0; i < p->nc; i++) {
        const contender *c = &p->c[i];
        if (!c->have_sum || c->n != p->c[0].n)
            continue;
        if (!ref) {
            ref = c;
        } else if (c->sum != ref->sum) {
            fprintf(stderr, "bench: %s %s: %s's checksum %llu differs from %s's %llu\n", workload, backend,
                    c->side, (unsigned long long)c->sum, ref->side, (unsigned long long)ref->sum);
            rc = -1;
        }
    }
    return rc;
}

static int run_workload(const bench_backend *b, const bench_opts *o, const bench_cfg *cfg, int w)
{
    plan p;
    make_plan(&p, b, o, cfg, w);
    for (int r = 0; r < o->rounds; r++) {
        for (int k = 0; k < p.nc; k++) {
            contender *c = &p.c[(r + k) % p.nc];
            if (c->enabled && !c->failed && run_once(c, &p, b, cfg, &c->t[r]))
                c->failed = 1;
        }
    }
    int rc = check_sums(&p, b->name, p.l[0].workload);
    for (int i = 0; i < p.nl; i++)
        print_line(&p, &p.l[i], o->rounds);
    fflush(stdout);
    for (int i = 0; i < p.nc; i++)
        if (p.c[i].failed)
            rc = -1;
    return rc;
}

int bench_run_backend(const bench_opts *o, const bench_cfg *cfg, const char *name, const char *pg_url)
{
    bench_backend b;
    double t0 = bench_now();
    int rc = backend_open(&b, o, cfg, name, pg_url);
    if (rc != 0)
        printf("# %s: set-up failed (see stderr)\n", name);
    if (rc == 0) {
        printf("# %s: set-up %.1f s%s\n", name, bench_now() - t0,
               b.raw2 ? "; raw = :memory:, raw(shm-wal) = a WAL file on /dev/shm with synchronous=OFF and "
                        "the unix-excl VFS, "
                        "which is what dbal's sqlite::memory: is"
                      : "");
        fflush(stdout);
        for (int w = 0; w < BENCH_NWORKLOADS - 1; w++)
            if (o->workloads & (1u << w))
                rc |= run_workload(&b, o, cfg, w);
        if (o->workloads & (1u << BENCH_W3T))
            rc |= run_workload(&b, o, cfg, BENCH_W3T);
    }
    if (rc == 0 && (o->workloads & (1u << BENCH_W7)))
        rc = bench_w7_run(o, name, pg_url, strcmp(name, "sqlite-file") == 0 ? b.file : NULL);
    /* W6 runs in child processes, which open the database themselves. */
    if (rc == 0 && (o->workloads & (1u << 5))) {
        /* sqlite-memory's children make their own databases. */
        bench_w6_target t = {.backend = name, .file = strcmp(name, "sqlite-file") == 0 ? b.file : NULL};
        rc = bench_w6_run(o, cfg, &t);
    }
    if (rc == 0 && (o->workloads & (1u << BENCH_W8)))
        rc = bench_w8_run(o, name, strcmp(name, "sqlite-file") == 0 ? b.file : NULL);
    backend_close(&b);
    return rc;
}
