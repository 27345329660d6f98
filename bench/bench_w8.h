/*
 * W8: memory per idle pooled connection and per cached statement. A child
 * process makes one connection and uses it (the base), takes a mark, adds
 * n idle connections or n prepared statements, takes a second mark; the
 * difference over n is the cost of one.
 */
#ifndef DBAL_BENCH_W8_H
#define DBAL_BENCH_W8_H

/* A mark: heap in use (malloc'd bytes: mallinfo2's uordblks + hblkhd) and
 * resident set (VmRSS, kB). */
typedef struct w8_mark {
    long heap, rss_kb;
} w8_mark;
void bench_w8_mark(w8_mark *m);

/* The n statements of the "stmt" measure: each its own text, reading a row
 * of bench_kv. SQL with `?`; k is 0 .. n - 1. */
#define W8_SQL_FMT "SELECT name, val FROM bench_kv WHERE id = ? + %ld"
#define W8_SQL_FMT_PG "SELECT name, val FROM bench_kv WHERE id = $1 + %ld"
#define W8_KV_TABLE \
    "CREATE TABLE bench_kv(id INTEGER PRIMARY KEY, name TEXT NOT NULL, val DOUBLE PRECISION NOT NULL)"

/* The raw sides: conns != 0 adds n connections, else n statements on the
 * base connection; marks[0] before, marks[1] after. memory: raw :memory:
 * databases (which need bench_kv made). Return 0 or -1. */
int bench_w8_raw_sqlite(const char *path, int memory, int conns, long n, w8_mark marks[2]);
#ifdef BENCH_HAVE_PG
int bench_w8_raw_pg(const char *conninfo, int conns, long n, w8_mark marks[2]);
#endif

#endif
