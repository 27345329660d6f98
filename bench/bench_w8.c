/*
 * W8, memory (issue 18): what one more idle pooled connection and one more
 * cached statement cost the client, dbal against raw sqlite3 / libpq doing
 * the same. Each figure comes from a fresh process (bench_child): it makes
 * and uses one connection, takes a mark, adds n idle connections (dbal: n
 * sessions opened at once, used and closed, so that the pool keeps their
 * connections) or runs n distinct statements once on that connection
 * (dbal's statement cache keeps them; raw prepares them), and takes a
 * second mark. The heap figure is what malloc has handed out and not been
 * given back (mallinfo2), which is exact; resident memory moves in pages,
 * so it is given per unit too but only as a cross-check.
 */
#define _GNU_SOURCE /* mallinfo2 */
#include "bench_run.h"
#include "bench_w8.h"

#include <dbal.h>
#ifdef BENCH_HAVE_PG
#include <libpq-fe.h>
#endif

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bench_w8_mark(w8_mark *m)
{
    struct mallinfo2 mi = mallinfo2();
    m->heap = (long)(mi.uordblks + mi.hblkhd);
    m->rss_kb = bench_status_kb("VmRSS");
}

enum { MAX_SESSIONS = 1000 };

static int fail_s(dbal_session *s, const char *what)
{
    return bench_fail("dbal", what, dbal_session_error(s)->message);
}

static int dbal_statements(dbal_session *s, long n)
{
    for (long k = 0; k < n; k++) {
        char sql[128];
        dbal_rows *r;
        snprintf(sql, sizeof sql, W8_SQL_FMT, k);
        if (dbal_query(s, sql, DBAL_ARGS(dbal_int64(1)), &r) != DBAL_OK)
            return fail_s(s, "W8 statement");
        while (dbal_rows_next(r) == DBAL_ROW)
            ;
        dbal_rows_close(r);
    }
    return 0;
}

/* dbal's side: the same base, then n sessions at once (n pooled
 * connections) or n statements in the base session's cache. */
static int dbal_measure(const char *url, int memory, int conns, long n, w8_mark marks[2])
{
    char full[2048];
    dbal_engine *e;
    dbal_session *base, *more[MAX_SESSIONS];
    dbal_error err;
    snprintf(full, sizeof full, "%s%spool_size=%ld&max_overflow=0", url, strchr(url, '?') ? "&" : "?",
             conns ? n + 1 : 1);
    if (n > MAX_SESSIONS || dbal_engine_open(&e, full, &err) != DBAL_OK)
        return bench_fail("dbal", "W8 engine open", n > MAX_SESSIONS ? "too many" : err.message);
    int rc = dbal_session_open(e, &base, &err) == DBAL_OK ? 0 : bench_fail("dbal", "W8 session", err.message);
    if (rc == 0 && dbal_exec(base, memory ? W8_KV_TABLE : "SELECT 1", DBAL_NOARGS, NULL) != DBAL_OK)
        rc = fail_s(base, "W8 base");
    if (rc == 0) {
        bench_w8_mark(&marks[0]);
        long opened = 0;
        /* All of them connected before any goes back, or they would share one. */
        for (; conns && rc == 0 && opened < n; opened++) {
            if (dbal_session_open(e, &more[opened], &err) != DBAL_OK) {
                rc = bench_fail("dbal", "W8 session", err.message);
                break;
            }
            if (dbal_exec(more[opened], "SELECT 1", DBAL_NOARGS, NULL) != DBAL_OK)
                rc = fail_s(more[opened], "W8 connection");
        }
        for (long i = 0; i < opened; i++)
            dbal_session_close(more[i]);
        if (rc == 0 && !conns)
            rc = dbal_statements(base, n);
        bench_w8_mark(&marks[1]);
        dbal_session_close(base);
    }
    dbal_engine_close(e);
    return rc;
}

/* argv: BACKEND SIDE(dbal|raw) KIND(conn|stmt) N [FILE] */
int bench_w8_child(int argc, char **argv)
{
    if (argc < 4) {
        bench_fail("w8-child", "usage", "BACKEND SIDE KIND N [FILE]");
        return 2;
    }
    const char *backend = argv[0], *file = argc > 4 ? argv[4] : "";
    const int dbal = strcmp(argv[1], "dbal") == 0, conns = strcmp(argv[2], "conn") == 0,
              memory = strcmp(backend, "sqlite-memory") == 0;
    const long n = strtol(argv[3], NULL, 10);
    const char *pg_url = getenv("DBAL_BENCH_PG_URL"), *memory_url = getenv("DBAL_BENCH_SQLITE_MEMORY_URL");
    w8_mark m[2];
    int rc = -1;
    if (strcmp(backend, "postgresql") == 0) {
#ifdef BENCH_HAVE_PG
        char *conninfo = dbal || !pg_url ? NULL : bench_pg_conninfo(pg_url);
        rc = !pg_url ? -1
             : dbal  ? dbal_measure(pg_url, 0, conns, n, m)
                     : bench_w8_raw_pg(conninfo, conns, n, m);
        free(conninfo);
#endif
    } else if (dbal) {
        char url[600];
        snprintf(url, sizeof url, "sqlite://%s", file);
        rc = dbal_measure(!memory                     ? url
                          : memory_url && *memory_url ? memory_url
                                                      : "sqlite::memory:",
                          memory, conns, n, m);
    } else {
        rc = bench_w8_raw_sqlite(file, memory, conns, n, m);
    }
    if (rc)
        return 1;
    printf("%ld %ld %ld %ld\n", m[0].heap, m[1].heap, m[0].rss_kb, m[1].rss_kb);
    return 0;
}

/* One side's cost per unit: heap bytes and RSS kB (as a double). */
static int measure(const bench_opts *o, const char *backend, const char *side, const char *kind, long n,
                   const char *file, double *heap, double *rss_kb)
{
    char n_s[32];
    snprintf(n_s, sizeof n_s, "%ld", n);
    char *const argv[] = {"dbal_bench",
                          "--w8-child",
                          (char *)backend,
                          (char *)side,
                          (char *)kind,
                          n_s,
                          (char *)(file ? file : ""),
                          NULL};
    long v[4];
    if (bench_child(o->self, argv, v, 4))
        return bench_fail("W8", side, "the measuring child process failed");
    *heap = (double)(v[1] - v[0]) / (double)n;
    *rss_kb = (double)(v[3] - v[2]) / (double)n;
    return 0;
}

int bench_w8_run(const bench_opts *o, const char *backend, const char *file)
{
    static const struct {
        const char *kind, *line, *what;
    } kinds[] = {
        {"conn", "W8-conn", "idle pooled connection"},
        {"stmt", "W8-stmt", "cached statement"},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const long n = i == 0 ? o->n.w8_conns : o->n.w8_stmts;
        double dh = 0, dr = 0, rh = 0, rr = 0;
        int dok = o->dbal && measure(o, backend, "dbal", kinds[i].kind, n, file, &dh, &dr) == 0;
        int rok = o->raw && measure(o, backend, "raw", kinds[i].kind, n, file, &rh, &rr) == 0;
        if ((o->dbal && !dok) || (o->raw && !rok))
            rc = -1;
        printf("%s %s ", kinds[i].line, backend);
        dok ? printf("%.0f ", dh) : printf("- ");
        rok ? printf("%.0f ", rh) : printf("- ");
        dok &&rok &&rh > 0 ? printf("%.3f\n", dh / rh) : printf("-\n");
        if (dok && rok)
            printf("# %s %s: heap bytes per %s, dbal %.0f, raw %.0f, dbal's extra %.0f; resident kB per %s, "
                   "dbal "
                   "%.1f, raw %.1f (%ld of them)\n",
                   kinds[i].line, backend, kinds[i].what, dh, rh, dh - rh, kinds[i].what, dr, rr, n);
        fflush(stdout);
    }
    return rc;
}
