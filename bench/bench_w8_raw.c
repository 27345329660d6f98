/* W8's raw sides: n more sqlite3 / libpq connections, each used once, or n
 * statements prepared and run once on one connection. */
#include "bench.h"
#include "bench_w8.h"

#include <sqlite3.h>
#ifdef BENCH_HAVE_PG
#include <libpq-fe.h>
#endif

#include <stdio.h>
#include <stdlib.h>

enum { MAX_N = 1000 };

/* ---- sqlite3 ------------------------------------------------------------------- */

/* A connection as dbal's driver makes one: its flags, busy timeout and
 * pragmas; used once (a private :memory: base gets bench_kv). */
static sqlite3 *sq_open(const char *path, int memory, int base)
{
    sqlite3 *db;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(memory ? ":memory:" : path, &db, flags, NULL) != SQLITE_OK) {
        bench_fail("sqlite3", "W8 open", sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    const char *setup = !memory
                            ? "PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                              "SELECT count(*) FROM sqlite_master"
                        : base ? "PRAGMA foreign_keys=ON; " W8_KV_TABLE
                               : "PRAGMA foreign_keys=ON; SELECT count(*) FROM sqlite_master";
    if (sqlite3_exec(db, setup, NULL, NULL, NULL) != SQLITE_OK) {
        bench_fail("sqlite3", "W8 set-up", sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static int sq_statements(sqlite3 *db, long n, sqlite3_stmt **st)
{
    for (long k = 0; k < n; k++) {
        char sql[128];
        snprintf(sql, sizeof sql, W8_SQL_FMT, k);
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st[k], NULL) != SQLITE_OK)
            return bench_fail("sqlite3", "W8 prepare", sqlite3_errmsg(db));
        sqlite3_bind_int64(st[k], 1, 1);
        while (sqlite3_step(st[k]) == SQLITE_ROW)
            ;
        sqlite3_reset(st[k]);
    }
    return 0;
}

int bench_w8_raw_sqlite(const char *path, int memory, int conns, long n, w8_mark marks[2])
{
    sqlite3 *base = sq_open(path, memory, 1), *more[MAX_N] = {0};
    sqlite3_stmt *st[MAX_N] = {0};
    if (!base || n > MAX_N) {
        sqlite3_close(base);
        return -1;
    }
    bench_w8_mark(&marks[0]);
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++)
        if (conns)
            rc = (more[i] = sq_open(path, memory, 0)) ? 0 : -1;
    if (rc == 0 && !conns)
        rc = sq_statements(base, n, st);
    bench_w8_mark(&marks[1]);
    for (long i = 0; i < n; i++) {
        sqlite3_finalize(st[i]);
        sqlite3_close(more[i]);
    }
    sqlite3_close(base);
    return rc;
}

/* ---- libpq --------------------------------------------------------------------- */

#ifdef BENCH_HAVE_PG
static PGconn *pg_open(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    PGresult *res = PQstatus(c) == CONNECTION_OK ? PQexec(c, "SELECT 1") : NULL;
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok) {
        bench_fail("libpq", "W8 connect", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

static int pg_statements(PGconn *c, long n)
{
    static const char one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    const char *values[1] = {one};
    const int lengths[1] = {8}, formats[1] = {1};
    const Oid types[1] = {20}; /* int8 */
    for (long k = 0; k < n; k++) {
        char sql[128], name[32];
        snprintf(sql, sizeof sql, W8_SQL_FMT_PG, k);
        snprintf(name, sizeof name, "w8_%ld", k);
        PGresult *res = PQprepare(c, name, sql, 1, types);
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            res = PQexecPrepared(c, name, 1, values, lengths, formats, 1);
        }
        int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        if (!ok)
            bench_fail("libpq", "W8 statement", PQresultErrorMessage(res));
        PQclear(res);
        if (!ok)
            return -1;
    }
    return 0;
}

int bench_w8_raw_pg(const char *conninfo, int conns, long n, w8_mark marks[2])
{
    PGconn *base = pg_open(conninfo), *more[MAX_N] = {0};
    if (!base || n > MAX_N) {
        PQfinish(base);
        return -1;
    }
    bench_w8_mark(&marks[0]);
    int rc = 0;
    for (long i = 0; i < n && rc == 0 && conns; i++)
        rc = (more[i] = pg_open(conninfo)) ? 0 : -1;
    if (rc == 0 && !conns)
        rc = pg_statements(base, n);
    bench_w8_mark(&marks[1]);
    for (long i = 0; i < n; i++)
        PQfinish(more[i]);
    PQfinish(base);
    return rc;
}
#endif
