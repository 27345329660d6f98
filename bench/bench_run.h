/* The harness: options, backends, timed rounds, the W6 child processes. */
#ifndef DBAL_BENCH_RUN_H
#define DBAL_BENCH_RUN_H

#include "bench.h"

#define BENCH_NWORKLOADS 6
/* W3t, the scan of a timestamptz and a numeric: bit 6 of workloads. */
#define BENCH_W3T 6
/* W7, the web request pattern, and W8, memory per connection and per
 * cached statement: bits 7 and 8. */
#define BENCH_W7 7
#define BENCH_W8 8
#define BENCH_MAX_ROUNDS 101
#define BENCH_MAX_BACKENDS 8

typedef struct bench_counts {
    long w1_sqlite, w1_pg;   /* W1 lookups */
    long kv_rows;            /* rows W1 looks up in */
    long w2;                 /* W2 inserts */
    long w3_rows;            /* W3 rows; W6 scans a tenth and all of them */
    long w4, w4_connect;     /* W4 sessions; raw connect-per-request iterations */
    long w5;                 /* W5 rows */
    long w7, w7_scale;       /* W7 transactions per run (split over the clients); pgbench's scale */
    long w8_conns, w8_stmts; /* W8: idle connections added, statements cached */
} bench_counts;

typedef struct bench_opts {
    const char *backends[BENCH_MAX_BACKENDS];
    int nbackends;
    int rounds;
    unsigned workloads; /* bit i: W(i+1) */
    int dbal, raw;      /* which sides run */
    int quick;
    bench_counts n;
    const char *self; /* argv[0], to run W6's child processes */
} bench_opts;

double bench_now(void);
/* Sorts v and returns its median. */
double bench_median(double *v, int n);

/* bench_run.c */
int bench_backend_known(const char *name);
/* Runs the selected workloads on one backend and prints their lines.
 * Returns 0, or -1 when something failed (reported on stderr). */
int bench_run_backend(const bench_opts *o, const bench_cfg *cfg, const char *name, const char *pg_url);
/* Creates the tables (only bench_scan when scan_only) and fills them. */
int bench_setup(const bench_side_ops *ops, void *ctx, const bench_dialect *d, const bench_cfg *cfg,
                int scan_only);
extern const bench_dialect bench_sqlite_dialect, bench_pg_dialect;

/* bench_w7.c: the W7 lines of one backend; pg_url is the PostgreSQL
 * server's, file the sqlite-file database (NULL for the others). */
int bench_w7_run(const bench_opts *o, const char *backend, const char *pg_url, const char *file);

/* bench_child.c: runs this program again with argv (argv[1] is its
 * --wN-child flag) and reads nvals numbers from its output. Returns 0, or
 * -1 when it failed or printed fewer. */
int bench_child(const char *self, char *const argv[], long *vals, int nvals);
/* A field of /proc/self/status in kB ("VmRSS", "VmHWM"), or -1. */
long bench_status_kb(const char *field);

/* bench_w8.c: the W8 lines of one backend (file: sqlite-file's database),
 * and the child's side (main() hands it argv after "--w8-child"). */
int bench_w8_run(const bench_opts *o, const char *backend, const char *file);
int bench_w8_child(int argc, char **argv);

/* bench_w6.c */
/* Where a backend's W6 children find their database. */
typedef struct bench_w6_target {
    const char *backend; /* sqlite-memory, sqlite-file, postgresql */
    const char *file;    /* sqlite-file's database */
} bench_w6_target;
/* Measures the peak RSS of W3 at cfg->scan_rows / 10 and cfg->scan_rows
 * rows in fresh child processes and prints the W6 lines. */
int bench_w6_run(const bench_opts *o, const bench_cfg *cfg, const bench_w6_target *t);
/* The child's side: main() hands it argv after "--w6-child". */
int bench_w6_child(int argc, char **argv);

#endif
