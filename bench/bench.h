/*
 * dbal benchmark: the same workloads through dbal and through hand-written
 * raw sqlite3 / libpq code, in one process, alternating, several rounds.
 *
 * Every implementation of a workload ("a side": dbal, raw sqlite3, raw
 * libpq, ...) is a set of functions with one signature, so the harness in
 * bench_main.c can time them alike. Each returns the work it did as a
 * checksum, so that the harness can check that both sides really did the
 * same work.
 */
#ifndef DBAL_BENCH_H
#define DBAL_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* The SQL dialect of a backend: what differs in the set-up statements. */
typedef struct bench_dialect {
    const char *id_type;  /* "INTEGER" (SQLite's rowid alias) or "BIGINT" */
    const char *truncate; /* "DELETE FROM" or "TRUNCATE" */
    int postgres;         /* fills with generate_series instead of a recursive CTE */
} bench_dialect;

/* Sizes and shared, precomputed inputs. */
typedef struct bench_cfg {
    long kv_rows;        /* rows in bench_kv, the table W1 reads */
    long scan_rows;      /* rows in bench_scan (W3; W6 reads a tenth of it and all of it) */
    const int64_t *keys; /* W1's lookup sequence (ids in 1..kv_rows) */
    long nkeys;
    const char *const *names; /* text values of inserted rows: names[i] for id i + 1 */
    const size_t *name_lens;
    long nnames;
} bench_cfg;

/*
 * One workload as one side runs it: n operations (or rows), the checksum
 * of what was read or written added to *sum. Returns 0, or -1 after
 * printing why to stderr.
 */
typedef int (*bench_fn)(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum);

/* What a side can do; a NULL workload is one it does not run. */
typedef struct bench_side_ops {
    int (*exec)(void *ctx, const char *sql); /* untimed set-up */
    bench_fn w1;                             /* point select by primary key */
    bench_fn w2;                             /* single-row inserts in one transaction */
    bench_fn w3;                             /* full scan touching every column */
    bench_fn w4;                             /* session + SELECT 1 (dbal) / SELECT 1 (raw) */
    bench_fn w5;                             /* insert n rows the side's best bulk way */
    void (*close)(void *ctx);
    bench_fn w3t; /* scan of a timestamptz and a numeric column, read as values */
} bench_side_ops;

/* The SQL every side runs, with `?` placeholders (PostgreSQL sides
 * rewrite them to $n themselves). */
#define BENCH_SQL_W1 "SELECT name, val FROM bench_kv WHERE id = ?"
#define BENCH_SQL_W2 "INSERT INTO bench_ins(id, name, val) VALUES (?, ?, ?)"
#define BENCH_SQL_W3 "SELECT id, n, x, s FROM bench_scan LIMIT ?"
#define BENCH_SQL_W4 "SELECT 1"
#define BENCH_SQL_W5 "INSERT INTO bench_batch(id, name, val) VALUES (?, ?, ?)"
#define BENCH_SQL_W3T "SELECT id, ts, amount FROM bench_typed LIMIT ?"

/* The value of column val for row id i, and of the scan table's x. */
#define BENCH_VAL(i) ((double)(i) / 4.0) /* exact: a power of two */

/* Checksum contributions, the same on every side. */
static inline uint64_t bench_sum_text(const char *p, size_t len)
{
    return len ? (uint64_t)len * 31u + (unsigned char)p[len - 1] : 0;
}

static inline uint64_t bench_sum_double(double d)
{
    return (uint64_t)(int64_t)(d * 4.0);
}

/*
 * W3t's timestamps as a raw side reads them from text, the way an
 * application that gets text has to: "YYYY-MM-DD HH:MM:SS[.ffffff]" and an
 * optional offset "+HH[:MM]" (PostgreSQL's session TimeZone, SQLite's
 * "+00:00"), to microseconds since 1970. Returns 0, or -1 for text of
 * another shape.
 */
static inline int bench_parse_ts(const char *s, size_t len, int64_t *out)
{
    if (len < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
        return -1;
#define BENCH_D2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    int64_t y = BENCH_D2(0) * 100 + BENCH_D2(2), m = BENCH_D2(5), d = BENCH_D2(8);
    int64_t us = ((int64_t)BENCH_D2(11) * 3600 + BENCH_D2(14) * 60 + BENCH_D2(17)) * 1000000;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        int64_t f = 0, scale = 1000000;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
            f = f * 10 + (s[i] - '0');
        us += f * scale;
    }
    if (i + 3 <= len && (s[i] == '+' || s[i] == '-')) {
        int64_t off = BENCH_D2(i + 1) * 3600 + (i + 6 <= len && s[i + 3] == ':' ? BENCH_D2(i + 4) * 60 : 0);
        us -= (s[i] == '-' ? -off : off) * 1000000;
    }
#undef BENCH_D2
    /* Days from the civil date (Hinnant's algorithm). */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    *out = days * INT64_C(86400000000) + us;
    return 0;
}

/* Prints "bench: <side>: <what>: <detail>" to stderr and returns -1. */
int bench_fail(const char *side, const char *what, const char *detail);

/* bench_dbal.c: dbal over any URL. */
extern const bench_side_ops bench_dbal_ops;
int bench_dbal_open(const char *url, void **ctx);

/* bench_sqlite.c: raw sqlite3. */
extern const bench_side_ops bench_sqlite_ops;
typedef enum bench_sqlite_kind {
    BENCH_SQLITE_MEMORY, /* ":memory:" */
    BENCH_SQLITE_FILE,   /* a file, WAL, synchronous=NORMAL (dbal's file defaults) */
    /* a file on /dev/shm, WAL, synchronous=OFF, unix-excl VFS (dbal's sqlite::memory:) */
    BENCH_SQLITE_SHM_WAL
} bench_sqlite_kind;
int bench_sqlite_open(const char *path, bench_sqlite_kind kind, void **ctx);

#ifdef BENCH_HAVE_PG
/* bench_pg.c: raw libpq. The ops run every workload; the functions below
 * are the extra raw variants of W3, W4 and W5. */
extern const bench_side_ops bench_pg_ops;
int bench_pg_open(const char *conninfo, void **ctx);
/* W3 in single-row mode, as dbal's driver reads rows. */
int bench_pg_w3_single_row(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum);
/* W4 as connect + SELECT 1 + disconnect, n times. */
int bench_pg_w4_connect(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum);
/* W5 in pipeline mode, and as COPY ... FROM STDIN (binary). */
int bench_pg_w5_pipeline(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum);
int bench_pg_w5_copy(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum);
/* A libpq connection string for a dbal URL: the scheme's +driver and
 * dbal's own engine options dropped. Returns a malloc'd string or NULL. */
char *bench_pg_conninfo(const char *url);
#endif

#endif
