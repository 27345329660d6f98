/*
 * dbal_bench_async: N concurrent point selects (N = 1, 8, 64) on one
 * event-loop thread (dbal_async_*) against the same through N blocking
 * threads, each side with a pool of N connections; then 64 in flight on 8
 * sessions (several queued per session) against 8 blocking threads.
 *
 *   dbal_bench_async [--seconds S] [--rounds R] [--backend NAME]...
 *   dbal_bench_async --count Q --n N --side loop|threads   (for profiling)
 *
 * Backends: sqlite-memory, sqlite-file (always) and postgresql (when
 * DBAL_BENCH_PG_URL, or else DBAL_TEST_PG_URL, is set). On SQLite the loop
 * side runs each query on the loop thread itself (inline, async_inline;
 * --inline 0 measures the worker-thread path). One line per figure (bench/README.md):
 *
 *   workload backend loop_q_s threads_q_s ratio
 *
 * ratio is the loop's time per query over the blocking threads' (median of
 * paired rounds; below 1 the loop is faster). Every answer is checked; a
 * wrong one fails the run.
 */
#define _GNU_SOURCE
#include <dbal.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { ROWS = 1000, MAX_ROUNDS = 99 };

static const char *base_url;
static int memory; /* sqlite::memory: is one database per engine: each is filled */
static double seconds = 1.0;
static int rounds = 3;
/* --count: every thread or chain stops after this many queries instead of
 * after `seconds`, so that two counts under callgrind give the cost of one
 * query by difference. */
static long count;
static int only_n;            /* --n: only this N, without the 64-on-8 run */
static const char *side = ""; /* --side loop or threads: that side only */
/* --inline US: the engines' async_inline option (-1: the default). Under
 * callgrind a statement runs some 50 times slower than its budget allows,
 * so profiling the inline path wants a larger one. */
static long inline_us = -1;
static atomic_int wrong;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of the whole process (every thread, user and system): what
 * the loop side's worker threads cost, spinning included. */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void fill(dbal_engine *e);

static dbal_engine *open_engine(int pool)
{
    char url[1024], opt[48] = "";
    if (inline_us >= 0)
        snprintf(opt, sizeof opt, "&async_inline=%ld", inline_us);
    snprintf(url, sizeof url, "%s%spool_size=%d&max_overflow=0%s", base_url,
             strchr(base_url, '?') ? "&" : "?", pool, opt);
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, url, &err) != DBAL_OK) {
        fprintf(stderr, "dbal_bench_async: %s\n", err.message);
        exit(1);
    }
    if (memory)
        fill(e);
    return e;
}

static const char *point_select = "SELECT id, name FROM bench_async WHERE id = ?";

/* Makes the pool's n connections before the clock starts, on both sides:
 * a connect (SCRAM's hashing on client and server) costs more than a
 * thousand queries, and the loop makes its connections one after the other
 * on its one thread where n blocking threads make theirs side by side. */
static void warm(dbal_engine *e, int n)
{
    dbal_session **s = calloc((size_t)n, sizeof *s);
    for (int i = 0; i < n; i++)
        if (dbal_session_open(e, &s[i], NULL) != DBAL_OK ||
            dbal_exec(s[i], "SELECT 1", DBAL_NOARGS, NULL) != DBAL_OK)
            atomic_fetch_add(&wrong, 1);
    for (int i = 0; i < n; i++)
        dbal_session_close(s[i]);
    free(s);
}

static void check(dbal_rows *r, int64_t id)
{
    char want[32];
    snprintf(want, sizeof want, "item-%lld", (long long)id);
    if (dbal_rows_next(r) != DBAL_ROW || dbal_col_int64(r, 0) != id ||
        strcmp(dbal_col_text(r, 1) ? dbal_col_text(r, 1) : "", want) != 0)
        atomic_fetch_add(&wrong, 1);
}

/* One side's measure: queries per second and CPU seconds per query. */
typedef struct measure {
    double qps, cpu_per_q;
} measure;

static measure measured(long done, double t0, double c0)
{
    double t = now() - t0, c = cpu() - c0;
    return (measure){done > 0 ? done / t : 0, done > 0 ? c / done : 0};
}

/* ---- blocking: N threads, one session each ---- */

typedef struct worker {
    pthread_t t;
    dbal_engine *e;
    int seed;
    double end;
    long done;
} worker;

static void *blocking_thread(void *arg)
{
    worker *w = arg;
    dbal_session *s;
    dbal_session_open(w->e, &s, NULL);
    unsigned id = (unsigned)w->seed;
    while (count ? w->done < count : now() < w->end) {
        dbal_rows *r;
        id = (id * 7919u + 13u) % ROWS;
        if (dbal_query(s, point_select, DBAL_ARGS(dbal_int64(id)), &r) != DBAL_OK) {
            atomic_fetch_add(&wrong, 1);
            break;
        }
        check(r, id);
        dbal_rows_close(r);
        w->done++;
    }
    dbal_session_close(s);
    return NULL;
}

static measure run_blocking(int n)
{
    dbal_engine *e = open_engine(n);
    warm(e, n);
    worker *w = calloc((size_t)n, sizeof *w);
    double t0 = now(), c0 = cpu(), end = t0 + seconds;
    for (int i = 0; i < n; i++) {
        w[i] = (worker){.e = e, .seed = i, .end = end};
        pthread_create(&w[i].t, NULL, blocking_thread, &w[i]);
    }
    long total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].t, NULL);
        total += w[i].done;
    }
    measure m = measured(total, t0, c0);
    free(w);
    dbal_engine_close(e);
    return m;
}

/* ---- one loop thread: N chains, each a session that queues its next
 * query from the callback of the last, so N are always in flight ---- */

typedef struct chain {
    dbal_async_session *s;
    unsigned id;
    int64_t asked;
    long done;
} chain;

static double loop_end;
static long loop_done;

static void ask(chain *c);

static void on_row(void *ud, const dbal_async_result *res)
{
    chain *c = ud;
    if (res->code != DBAL_OK) {
        atomic_fetch_add(&wrong, 1);
        return;
    }
    check(res->rows, c->asked);
    loop_done++;
    if (count ? ++c->done < count : now() < loop_end)
        ask(c);
}

static void ask(chain *c)
{
    c->id = (c->id * 7919u + 13u) % ROWS;
    c->asked = c->id;
    if (dbal_async_query(c->s, point_select, DBAL_ARGS(dbal_int64(c->id)), on_row, c, NULL) != DBAL_OK)
        atomic_fetch_add(&wrong, 1);
}

/* n chains on `conns` sessions: with fewer sessions than chains, a session
 * has several queries queued (PostgreSQL pipelines them on its connection;
 * SQLite's worker runs them one after the other). */
static measure run_loop(int n, int conns)
{
    dbal_engine *e = open_engine(conns);
    warm(e, conns);
    dbal_async *a;
    dbal_async_open(e, &a, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev);
    chain *c = calloc((size_t)n, sizeof *c);
    double t0 = now(), c0 = cpu();
    loop_end = t0 + seconds;
    loop_done = 0;
    for (int i = 0; i < n; i++) {
        if (i < conns)
            dbal_async_session_open(a, &c[i].s, NULL);
        else
            c[i].s = c[i % conns].s;
        c[i].id = (unsigned)i;
        ask(&c[i]);
    }
    while (dbal_async_pending(a) > 0) {
        epoll_wait(ep, &ev, 1, 1000);
        dbal_async_process(a);
    }
    measure m = measured(loop_done, t0, c0);
    for (int i = 0; i < conns; i++)
        dbal_async_session_close(c[i].s);
    free(c);
    close(ep);
    dbal_async_close(a);
    dbal_engine_close(e);
    return m;
}

static void fill(dbal_engine *e)
{
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    dbal_exec(s, "DROP TABLE IF EXISTS bench_async", DBAL_NOARGS, NULL);
    dbal_exec(s, "CREATE TABLE bench_async(id INTEGER PRIMARY KEY, name TEXT NOT NULL)", DBAL_NOARGS, NULL);
    dbal_begin(s);
    for (int i = 0; i < ROWS; i++) {
        char name[32];
        snprintf(name, sizeof name, "item-%d", i);
        dbal_exec(s, "INSERT INTO bench_async(id, name) VALUES (?, ?)",
                  DBAL_ARGS(dbal_int64(i), dbal_text(name)), NULL);
    }
    if (dbal_commit(s) != DBAL_OK) {
        fprintf(stderr, "dbal_bench_async: set-up: %s\n", dbal_session_error(s)->message);
        exit(1);
    }
    dbal_session_close(s);
}

/* ---- rounds ---- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Rounds of the loop (n chains on `conns` sessions) against `threads`
 * blocking threads, each round starting with the other side than the last;
 * prints the throughput line and the CPU line. */
static void compare(const char *workload, const char *backend, int n, int conns, int threads)
{
    double lq[MAX_ROUNDS], tq[MAX_ROUNDS], ratio[MAX_ROUNDS], lc[MAX_ROUNDS], tc[MAX_ROUNDS];
    int do_loop = strcmp(side, "threads") != 0, do_threads = strcmp(side, "loop") != 0;
    for (int r = 0; r < rounds; r++) {
        measure l = {0, 0}, t = {0, 0};
        if (r % 2 == 0) {
            if (do_loop)
                l = run_loop(n, conns);
            if (do_threads)
                t = run_blocking(threads);
        } else {
            if (do_threads)
                t = run_blocking(threads);
            if (do_loop)
                l = run_loop(n, conns);
        }
        lq[r] = l.qps;
        tq[r] = t.qps;
        lc[r] = l.cpu_per_q * 1e6;
        tc[r] = t.cpu_per_q * 1e6;
        ratio[r] = l.qps > 0 && t.qps > 0 ? t.qps / l.qps : 0;
    }
    double mlc = median(lc, rounds), mtc = median(tc, rounds);
    printf("%s %s %.0f %.0f %.3f\n", workload, backend, median(lq, rounds), median(tq, rounds),
           median(ratio, rounds));
    printf("%s-cpu %s %.2f %.2f %.3f\n", workload, backend, mlc, mtc, mlc > 0 && mtc > 0 ? mlc / mtc : 0);
    fflush(stdout);
}

static void run_backend(const char *backend)
{
    static const int ns[] = {1, 8, 64};
    for (int i = 0; i < 3; i++) {
        if (only_n && ns[i] != only_n)
            continue;
        char workload[32];
        snprintf(workload, sizeof workload, "async-N%d", ns[i]);
        compare(workload, backend, ns[i], ns[i], ns[i]);
    }
    if (!only_n)
        compare("async-N64on8", backend, 64, 8, 8);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dbal_bench_async [--seconds S] [--rounds R] [--backend NAME]...\n"
               "                        [--count Q] [--n N] [--side loop|threads]\n"
               "  --seconds S     length of one side's measure (default 1)\n"
               "  --rounds R      paired rounds per figure, the median is printed (default 3)\n"
               "  --backend NAME  sqlite-memory, sqlite-file or postgresql; repeatable; default:\n"
               "                  all (postgresql when DBAL_BENCH_PG_URL or DBAL_TEST_PG_URL is set)\n"
               "  --count Q       each chain or thread runs Q queries instead of S seconds\n"
               "  --n N           only N = 1, 8 or 64, without the 64-on-8 figure\n"
               "  --side S        only the loop or only the threads side (for profiling)\n"
               "  --inline US     the engines' async_inline option (0: every op on a worker; under\n"
               "                  callgrind give a large budget, e.g. 100000)\n");
}

int main(int argc, char **argv)
{
    const char *backends[3];
    int nbackends = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = atol(argv[++i]);
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            only_n = atoi(argv[++i]);
        else if (strcmp(argv[i], "--side") == 0 && i + 1 < argc)
            side = argv[++i];
        else if (strcmp(argv[i], "--inline") == 0 && i + 1 < argc)
            inline_us = atol(argv[++i]);
        else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc && nbackends < 3 &&
                 (strcmp(argv[i + 1], "sqlite-memory") == 0 || strcmp(argv[i + 1], "sqlite-file") == 0 ||
                  strcmp(argv[i + 1], "postgresql") == 0))
            backends[nbackends++] = argv[++i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || seconds <= 0 || count < 0) {
        usage(stderr);
        return 2;
    }
    const char *pg = getenv("DBAL_BENCH_PG_URL");
    if (!pg || !*pg)
        pg = getenv("DBAL_TEST_PG_URL");
    if (nbackends == 0) {
        backends[nbackends++] = "sqlite-memory";
        backends[nbackends++] = "sqlite-file";
        if (pg && *pg)
            backends[nbackends++] = "postgresql";
    }
    printf("# dbal_bench_async: one loop thread with N point selects in flight (dbal_async_*) against N "
           "blocking threads, each side with a pool of N; async-N64on8: 64 in flight on 8 sessions "
           "against 8 threads\n"
           "# %.1f s per measure, %d rounds; %ld cpus\n"
           "# ratio = loop time / blocking time per query, median of paired rounds (< 1: the loop is "
           "faster); -cpu lines: CPU microseconds per query of the whole process (every thread)\n"
           "# workload backend loop_q_s threads_q_s ratio\n",
           seconds, rounds, sysconf(_SC_NPROCESSORS_ONLN));
    for (int b = 0; b < nbackends; b++) {
        char sqlite_url[600] = "";
        char dir[] = "/tmp/dbal-bench-async-XXXXXX";
        memory = 0;
        if (strcmp(backends[b], "postgresql") == 0) {
            if (!pg || !*pg) {
                fprintf(stderr, "dbal_bench_async: postgresql needs DBAL_BENCH_PG_URL\n");
                return 2;
            }
            base_url = pg;
        } else if (strcmp(backends[b], "sqlite-memory") == 0) {
            base_url = "sqlite::memory:";
            memory = 1;
        } else {
            if (!mkdtemp(dir))
                return 1;
            snprintf(sqlite_url, sizeof sqlite_url, "sqlite://%s/bench.db", dir);
            base_url = sqlite_url;
        }
        if (!memory) {
            dbal_engine *e = open_engine(1);
            fill(e);
            dbal_engine_close(e);
        }
        run_backend(backends[b]);
        if (sqlite_url[0]) {
            char cmd[700];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
            if (system(cmd) != 0)
                return 1;
        }
    }
    printf("# answers checked: %s\n", atomic_load(&wrong) ? "WRONG ANSWERS" : "all correct");
    return atomic_load(&wrong) ? 1 : 0;
}
