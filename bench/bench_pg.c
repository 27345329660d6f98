/*
 * The workloads through raw libpq, the best way it allows: statements
 * prepared once per connection (PQprepare) and run with PQexecPrepared,
 * numbers sent and received in binary (no formatting or parsing on either
 * end), writes in one transaction. Extra variants show what dbal's choices
 * cost or could gain: single-row mode for scans (how dbal streams rows),
 * connect-per-request (what the pool saves), pipeline mode and COPY for bulk
 * inserts (what dbal_exec_batch can aim for).
 */
#include "bench.h"

#include <libpq-fe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs from pg_type.dat. */
#define INT8OID 20
#define TEXTOID 25
#define FLOAT8OID 701

enum { ST_W1, ST_W2, ST_W3, ST_W4, ST_W5, ST_W3T, ST_COUNT };

static const struct {
    const char *name, *sql;
    int nparams;
    Oid types[3];
} stmts[ST_COUNT] = {
    {"bench_w1", "SELECT name, val FROM bench_kv WHERE id = $1", 1, {INT8OID}},
    {"bench_w2",
     "INSERT INTO bench_ins(id, name, val) VALUES ($1, $2, $3)",
     3,
     {INT8OID, TEXTOID, FLOAT8OID}},
    {"bench_w3", "SELECT id, n, x, s FROM bench_scan LIMIT $1", 1, {INT8OID}},
    {"bench_w4", "SELECT 1", 0, {0}},
    {"bench_w5",
     "INSERT INTO bench_batch(id, name, val) VALUES ($1, $2, $3)",
     3,
     {INT8OID, TEXTOID, FLOAT8OID}},
    {"bench_w3t", "SELECT id, ts, amount FROM bench_typed LIMIT $1", 1, {INT8OID}},
};

typedef struct rpg {
    PGconn *conn;
    char *conninfo; /* for the connect-per-request variant of W4 */
    int prepared[ST_COUNT];
} rpg;

/* ---- binary values ------------------------------------------------------- */

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_be64(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double get_double(const char *s)
{
    uint64_t u = get_be64(s);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* ---- connection ------------------------------------------------------------ */

static int fail_conn(rpg *p, const char *what)
{
    return bench_fail("libpq", what, PQerrorMessage(p->conn));
}

/* Checks a result's status, clears it, and reports a mismatch. */
static int check(rpg *p, PGresult *res, ExecStatusType want, const char *what)
{
    int ok = PQresultStatus(res) == want;
    if (!ok)
        bench_fail("libpq", what, res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn));
    PQclear(res);
    return ok ? 0 : -1;
}

static int run(rpg *p, const char *sql)
{
    return check(p, PQexec(p->conn, sql), PGRES_COMMAND_OK, sql);
}

/* The statement's name, prepared on this connection on first use. */
static const char *stmt(rpg *p, int which)
{
    if (!p->prepared[which]) {
        PGresult *res = PQprepare(p->conn, stmts[which].name, stmts[which].sql, stmts[which].nparams,
                                  stmts[which].types);
        if (check(p, res, PGRES_COMMAND_OK, stmts[which].sql))
            return NULL;
        p->prepared[which] = 1;
    }
    return stmts[which].name;
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void rpg_close(void *ctx)
{
    rpg *p = ctx;
    if (!p)
        return;
    PQfinish(p->conn);
    free(p->conninfo);
    free(p);
}

int bench_pg_open(const char *conninfo, void **ctx)
{
    rpg *p = calloc(1, sizeof *p);
    if (!p || !(p->conninfo = strdup(conninfo))) {
        free(p);
        return bench_fail("libpq", "open", "out of memory");
    }
    p->conn = PQconnectdb(conninfo);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        fail_conn(p, "connect");
        rpg_close(p);
        return -1;
    }
    PQsetNoticeProcessor(p->conn, ignore_notice, NULL); /* "table does not exist, skipping" */
    *ctx = p;
    return 0;
}

static int rpg_exec(void *ctx, const char *sql)
{
    rpg *p = ctx;
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    return check(p, res, st == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK, sql);
}

/* ---- workloads ------------------------------------------------------------- */

static int w1(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    rpg *p = ctx;
    const char *name = stmt(p, ST_W1);
    if (!name)
        return -1;
    unsigned char key[8];
    const char *values[1] = {(const char *)key};
    const int lengths[1] = {8}, formats[1] = {1};
    for (long i = 0; i < n; i++) {
        put_be64(key, (uint64_t)cfg->keys[i % cfg->nkeys]);
        PGresult *res = PQexecPrepared(p->conn, name, 1, values, lengths, formats, 1);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            return check(p, res, PGRES_TUPLES_OK, "W1");
        if (PQntuples(res) != 1) {
            PQclear(res);
            return bench_fail("libpq", "W1", "no row");
        }
        *sum += bench_sum_text(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0)) +
                bench_sum_double(get_double(PQgetvalue(res, 0, 1)));
        PQclear(res);
    }
    return 0;
}

/* Parameters of one inserted row: id and val in binary, the name as text. */
typedef struct insert_params {
    unsigned char id[8], val[8];
    const char *values[3];
    int lengths[3];
    int formats[3];
} insert_params;

static void insert_params_init(insert_params *ip)
{
    ip->values[0] = (const char *)ip->id;
    ip->values[2] = (const char *)ip->val;
    ip->lengths[0] = ip->lengths[2] = 8;
    ip->formats[0] = ip->formats[2] = 1;
    ip->formats[1] = 0;
}

static void insert_params_set(insert_params *ip, const bench_cfg *cfg, long i)
{
    const long k = i % cfg->nnames;
    put_be64(ip->id, (uint64_t)(i + 1));
    ip->values[1] = cfg->names[k];
    ip->lengths[1] = (int)cfg->name_lens[k];
    put_be64(ip->val, double_bits(BENCH_VAL(i + 1)));
}

static int insert_rows(rpg *p, int which, const bench_cfg *cfg, long n, uint64_t *sum)
{
    const char *name = stmt(p, which);
    insert_params ip;
    if (!name || run(p, "BEGIN"))
        return -1;
    insert_params_init(&ip);
    for (long i = 0; i < n; i++) {
        insert_params_set(&ip, cfg, i);
        PGresult *res = PQexecPrepared(p->conn, name, 3, ip.values, ip.lengths, ip.formats, 1);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            check(p, res, PGRES_COMMAND_OK, "insert");
            run(p, "ROLLBACK");
            return -1;
        }
        *sum += strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    return run(p, "COMMIT");
}

static int w2(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    return insert_rows(ctx, ST_W2, cfg, n, sum);
}

static int w5(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    return insert_rows(ctx, ST_W5, cfg, n, sum);
}

static uint64_t scan_row_sum(const PGresult *res, int row)
{
    return get_be64(PQgetvalue(res, row, 0)) + get_be64(PQgetvalue(res, row, 1)) +
           bench_sum_double(get_double(PQgetvalue(res, row, 2))) +
           bench_sum_text(PQgetvalue(res, row, 3), (size_t)PQgetlength(res, row, 3));
}

/* The whole result in one PGresult: libpq's fastest way to read rows, at
 * the price of holding them all in memory. */
static int w3(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    rpg *p = ctx;
    const char *name = stmt(p, ST_W3);
    if (!name)
        return -1;
    unsigned char limit[8];
    const char *values[1] = {(const char *)limit};
    const int lengths[1] = {8}, formats[1] = {1};
    put_be64(limit, (uint64_t)n);
    PGresult *res = PQexecPrepared(p->conn, name, 1, values, lengths, formats, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return check(p, res, PGRES_TUPLES_OK, "W3");
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++)
        *sum += scan_row_sum(res, i);
    PQclear(res);
    return rows == n ? 0 : bench_fail("libpq", "W3", "fewer rows than asked for");
}

/* The whole result as text, the timestamp parsed by hand (with the
 * session's offset), the numeric as its text. */
static int w3t(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    rpg *p = ctx;
    const char *name = stmt(p, ST_W3T);
    if (!name)
        return -1;
    unsigned char limit[8];
    const char *values[1] = {(const char *)limit};
    const int lengths[1] = {8}, formats[1] = {1};
    put_be64(limit, (uint64_t)n);
    PGresult *res = PQexecPrepared(p->conn, name, 1, values, lengths, formats, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return check(p, res, PGRES_TUPLES_OK, "W3t");
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++) {
        int64_t ts = 0;
        if (bench_parse_ts(PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1), &ts)) {
            PQclear(res);
            return bench_fail("libpq", "W3t", "a timestamp of another form");
        }
        *sum += (uint64_t)strtoll(PQgetvalue(res, i, 0), NULL, 10) + (uint64_t)ts +
                bench_sum_text(PQgetvalue(res, i, 2), (size_t)PQgetlength(res, i, 2));
    }
    PQclear(res);
    return rows == n ? 0 : bench_fail("libpq", "W3t", "fewer rows than asked for");
}

int bench_pg_w3_single_row(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    rpg *p = ctx;
    const char *name = stmt(p, ST_W3);
    if (!name)
        return -1;
    unsigned char limit[8];
    const char *values[1] = {(const char *)limit};
    const int lengths[1] = {8}, formats[1] = {1};
    put_be64(limit, (uint64_t)n);
    if (!PQsendQueryPrepared(p->conn, name, 1, values, lengths, formats, 1) || !PQsetSingleRowMode(p->conn))
        return fail_conn(p, "W3 single-row send");
    long rows = 0;
    int rc = 0;
    PGresult *res;
    while ((res = PQgetResult(p->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE) {
            *sum += scan_row_sum(res, 0);
            rows++;
        } else if (st != PGRES_TUPLES_OK && rc == 0) {
            rc = bench_fail("libpq", "W3 single-row", PQresultErrorMessage(res));
        }
        PQclear(res);
    }
    if (rc == 0 && rows != n)
        rc = bench_fail("libpq", "W3 single-row", "fewer rows than asked for");
    return rc;
}

static int w4(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    rpg *p = ctx;
    const char *name = stmt(p, ST_W4);
    if (!name)
        return -1;
    for (long i = 0; i < n; i++) {
        PGresult *res = PQexecPrepared(p->conn, name, 0, NULL, NULL, NULL, 1);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            return check(p, res, PGRES_TUPLES_OK, "W4");
        if (PQntuples(res) != 1 || PQgetlength(res, 0, 0) != 4) {
            PQclear(res);
            return bench_fail("libpq", "W4", "not one int4");
        }
        const unsigned char *v = (const unsigned char *)PQgetvalue(res, 0, 0);
        *sum += (uint64_t)v[0] << 24 | (uint64_t)v[1] << 16 | (uint64_t)v[2] << 8 | v[3];
        PQclear(res);
    }
    return 0;
}

int bench_pg_w4_connect(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    (void)cfg;
    rpg *p = ctx;
    for (long i = 0; i < n; i++) {
        PGconn *c = PQconnectdb(p->conninfo);
        if (PQstatus(c) != CONNECTION_OK) {
            bench_fail("libpq", "W4 connect", PQerrorMessage(c));
            PQfinish(c);
            return -1;
        }
        PGresult *res = PQexec(c, BENCH_SQL_W4);
        int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        if (ok)
            *sum += strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        else
            bench_fail("libpq", "W4 connect query", PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(c);
        if (!ok)
            return -1;
    }
    return 0;
}

/* Reads a pipeline's results up to its next sync point. */
static int pipeline_results(rpg *p, uint64_t *sum)
{
    int rc = 0;
    for (;;) {
        PGresult *res = PQgetResult(p->conn);
        if (!res)
            continue; /* the end of one statement's results */
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            return rc;
        }
        if (st == PGRES_COMMAND_OK)
            *sum += strtoull(PQcmdTuples(res), NULL, 10);
        else if (rc == 0)
            rc = bench_fail("libpq", "W5 pipeline", PQresultErrorMessage(res));
        PQclear(res);
    }
}

/* Rows per sync point: the results of one chunk (some 30 kB) fit in the
 * socket buffers, so a blocking connection never deadlocks with the
 * server. */
#define PIPELINE_CHUNK 1000

int bench_pg_w5_pipeline(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    rpg *p = ctx;
    const char *name = stmt(p, ST_W5);
    insert_params ip;
    if (!name || run(p, "BEGIN"))
        return -1;
    if (!PQenterPipelineMode(p->conn))
        return fail_conn(p, "enter pipeline mode");
    insert_params_init(&ip);
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        insert_params_set(&ip, cfg, i);
        if (!PQsendQueryPrepared(p->conn, name, 3, ip.values, ip.lengths, ip.formats, 1))
            rc = fail_conn(p, "W5 pipeline send");
        else if ((i + 1) % PIPELINE_CHUNK == 0 || i + 1 == n)
            rc = PQpipelineSync(p->conn) ? pipeline_results(p, sum) : fail_conn(p, "pipeline sync");
    }
    if (!PQexitPipelineMode(p->conn) && rc == 0)
        rc = fail_conn(p, "exit pipeline mode");
    if (rc) {
        run(p, "ROLLBACK");
        return -1;
    }
    return run(p, "COMMIT");
}

/* COPY's binary format: a header, then per row a field count and each
 * field as a length and its bytes, then -1. */
#define COPY_BUF 65536

int bench_pg_w5_copy(void *ctx, const bench_cfg *cfg, long n, uint64_t *sum)
{
    static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
    rpg *p = ctx;
    PGresult *res = PQexec(p->conn, "COPY bench_batch(id, name, val) FROM STDIN (FORMAT binary)");
    if (check(p, res, PGRES_COPY_IN, "COPY"))
        return -1;
    unsigned char *buf = malloc(COPY_BUF);
    if (!buf) {
        PQputCopyEnd(p->conn, "out of memory");
        PQclear(PQgetResult(p->conn));
        return bench_fail("libpq", "COPY", "out of memory");
    }
    size_t len = sizeof header;
    memcpy(buf, header, sizeof header);
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        const long k = i % cfg->nnames;
        const size_t nlen = cfg->name_lens[k];
        if (len + 2 + 12 + 4 + nlen + 12 + 2 > COPY_BUF) {
            if (PQputCopyData(p->conn, (const char *)buf, (int)len) != 1)
                rc = fail_conn(p, "COPY data");
            len = 0;
        }
        unsigned char *o = buf + len;
        o[0] = 0, o[1] = 3, o += 2;
        put_be32(o, 8), put_be64(o + 4, (uint64_t)(i + 1)), o += 12;
        put_be32(o, (uint32_t)nlen), memcpy(o + 4, cfg->names[k], nlen), o += 4 + nlen;
        put_be32(o, 8), put_be64(o + 4, double_bits(BENCH_VAL(i + 1))), o += 12;
        len = (size_t)(o - buf);
    }
    buf[len++] = 0xff, buf[len++] = 0xff;
    if (rc == 0 && PQputCopyData(p->conn, (const char *)buf, (int)len) != 1)
        rc = fail_conn(p, "COPY data");
    free(buf);
    if (PQputCopyEnd(p->conn, rc ? "benchmark failed" : NULL) != 1 && rc == 0)
        rc = fail_conn(p, "COPY end");
    while ((res = PQgetResult(p->conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK)
            *sum += strtoull(PQcmdTuples(res), NULL, 10);
        else if (rc == 0)
            rc = bench_fail("libpq", "COPY", PQresultErrorMessage(res));
        PQclear(res);
    }
    return rc;
}

/* ---- URL -------------------------------------------------------------------- */

/* dbal's engine options: dbal consumes them, libpq would refuse them. */
static int dbal_option(const char *key, size_t len)
{
    static const char *const keys[] =
        {"pool_size",        "max_overflow",         "pool_timeout", "pool_recycle",
         "pool_pre_ping",    "statement_cache_size", "echo",         "leak_detection_threshold",
         "statement_timeout"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i]) == len && memcmp(keys[i], key, len) == 0)
            return 1;
    return 0;
}

char *bench_pg_conninfo(const char *url)
{
    const char *rest = strstr(url, "://");
    if (!rest)
        return strdup(url); /* already a key=value connection string */
    rest += 3;
    char *out = malloc(strlen("postgresql://") + strlen(rest) + 1);
    if (!out)
        return NULL;
    /* libpq knows postgresql:// and postgres://, not dbal's +driver. */
    char *o = out + sprintf(out, "postgresql://");
    const char *q = strchr(rest, '?');
    size_t base = q ? (size_t)(q - rest) : strlen(rest);
    memcpy(o, rest, base);
    o += base;
    char sep = '?';
    while (q && *q) {
        const char *key = q + 1, *end = key + strcspn(key, "&");
        if (!dbal_option(key, strcspn(key, "=&"))) {
            *o++ = sep;
            memcpy(o, key, (size_t)(end - key));
            o += end - key;
            sep = '&';
        }
        q = *end ? end : NULL;
    }
    *o = '\0';
    return out;
}

const bench_side_ops bench_pg_ops = {
    .exec = rpg_exec,
    .w1 = w1,
    .w2 = w2,
    .w3 = w3,
    .w4 = w4,
    .w5 = w5,
    .close = rpg_close,
    .w3t = w3t,
};
