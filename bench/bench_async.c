/*
 * dbal_bench_async: N concurrent point selects (N = 1, 8, 64) on one
 * event-loop thread (dbal_async_*) against the same through N blocking
 * threads, each side with a pool of N connections, PostgreSQL on loopback.
 *
 *   DBAL_BENCH_PG_URL=postgresql://... dbal_bench_async [--seconds S]
 *
 * (DBAL_TEST_PG_URL is used when DBAL_BENCH_PG_URL is unset; without either
 * it runs on a SQLite file, which shows the worker-thread path.) Prints
 * queries per second of each side and their ratio, then 64 queries in
 * flight pipelined on 8 connections, and the loop's ratios to 8 blocking
 * threads. Every answer is checked; a wrong one fails the run.
 */
#define _GNU_SOURCE
#include <dbal.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

enum { ROWS = 1000 };

static const char *base_url;
static double seconds = 2.0;
static atomic_int wrong;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static dbal_engine *open_engine(int pool)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%spool_size=%d&max_overflow=0", base_url, strchr(base_url, '?') ? "&" : "?",
             pool);
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, url, &err) != DBAL_OK) {
        fprintf(stderr, "dbal_bench_async: %s\n", err.message);
        exit(1);
    }
    return e;
}

static const char *point_select = "SELECT id, name FROM bench_async WHERE id = ?";

static void check(dbal_rows *r, int64_t id)
{
    char want[32];
    snprintf(want, sizeof want, "item-%lld", (long long)id);
    if (dbal_rows_next(r) != DBAL_ROW || dbal_col_int64(r, 0) != id ||
        strcmp(dbal_col_text(r, 1) ? dbal_col_text(r, 1) : "", want) != 0)
        atomic_fetch_add(&wrong, 1);
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
    while (now() < w->end) {
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

static double run_blocking(int n)
{
    dbal_engine *e = open_engine(n);
    worker *w = calloc((size_t)n, sizeof *w);
    double t0 = now(), end = t0 + seconds;
    for (int i = 0; i < n; i++) {
        w[i] = (worker){.e = e, .seed = i, .end = end};
        pthread_create(&w[i].t, NULL, blocking_thread, &w[i]);
    }
    long total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].t, NULL);
        total += w[i].done;
    }
    double qps = total / (now() - t0);
    free(w);
    dbal_engine_close(e);
    return qps;
}

/* ---- one loop thread: N chains, each a session that queues its next
 * query from the callback of the last, so N are always in flight ---- */

typedef struct chain {
    dbal_async_session *s;
    unsigned id;
    int64_t asked;
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
    if (now() < loop_end)
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
 * has several queries in flight, pipelined on its connection. */
static double run_loop(int n, int conns)
{
    dbal_engine *e = open_engine(conns);
    dbal_async *a;
    dbal_async_open(e, &a, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev);
    chain *c = calloc((size_t)n, sizeof *c);
    double t0 = now();
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
    double qps = loop_done / (now() - t0);
    for (int i = 0; i < conns; i++)
        dbal_async_session_close(c[i].s);
    free(c);
    close(ep);
    dbal_async_close(a);
    dbal_engine_close(e);
    return qps;
}

static void setup(void)
{
    dbal_engine *e = open_engine(1);
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
        fprintf(stderr, "dbal_bench_async: setup: %s\n", dbal_session_error(s)->message);
        exit(1);
    }
    dbal_session_close(s);
    dbal_engine_close(e);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: dbal_bench_async [--seconds S]\n");
            return 2;
        }
    }
    char sqlite_url[600] = "";
    char dir[] = "/tmp/dbal-bench-async-XXXXXX";
    base_url = getenv("DBAL_BENCH_PG_URL");
    if (!base_url || !*base_url)
        base_url = getenv("DBAL_TEST_PG_URL");
    if (!base_url || !*base_url) {
        if (!mkdtemp(dir))
            return 1;
        snprintf(sqlite_url, sizeof sqlite_url, "sqlite://%s/bench.db", dir);
        base_url = sqlite_url;
    }
    setup();
    const int ns[] = {1, 8, 64};
    double loop_qps[3], threads_qps[3];
    printf("%-4s %16s %16s %8s\n", "N", "loop (q/s)", "N threads (q/s)", "ratio");
    for (int i = 0; i < 3; i++) {
        loop_qps[i] = run_loop(ns[i], ns[i]);
        threads_qps[i] = run_blocking(ns[i]);
        printf("%-4d %16.0f %16.0f %8.2f\n", ns[i], loop_qps[i], threads_qps[i],
               loop_qps[i] / threads_qps[i]);
    }
    double piped = run_loop(64, 8);
    printf("64 in flight on 8 pipelined connections, one loop thread: %.0f q/s\n", piped);
    printf("one loop thread / 8 blocking threads: %.2f (64 on 64 connections), %.2f (64 on 8 connections)\n",
           loop_qps[2] / threads_qps[1], piped / threads_qps[1]);
    printf("driver: %s, %.1f s per measure, answers checked: %s\n",
           strncmp(base_url, "sqlite", 6) == 0 ? "sqlite" : "postgresql", seconds,
           atomic_load(&wrong) ? "WRONG ANSWERS" : "all correct");
    if (sqlite_url[0]) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return atomic_load(&wrong) ? 1 : 0;
}
