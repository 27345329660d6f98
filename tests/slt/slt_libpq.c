/* The raw libpq side, written as an application without dbal would:
 * PQexec, the text of each value converted by the column's type OID. */
#include "slt.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The type OIDs of pg_type.h that carry numbers, bools and bytes. */
enum {
    BOOLOID = 16,
    BYTEAOID = 17,
    INT8OID = 20,
    INT2OID = 21,
    INT4OID = 23,
    FLOAT4OID = 700,
    FLOAT8OID = 701
};

typedef struct libpq_ctx {
    char *conninfo;
    char *schema;
    PGconn *conn;
} libpq_ctx;

static int setup(libpq_ctx *c, const char *sql, char *why, size_t cap)
{
    PGresult *res = PQexec(c->conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(why, cap, "%s: %s", sql, PQerrorMessage(c->conn));
    PQclear(res);
    return ok ? 0 : -1;
}

static int libpq_reset(slt_target *t, char *why, size_t cap)
{
    libpq_ctx *c = t->ctx;
    if (!c->conn) {
        c->conn = PQconnectdb(c->conninfo);
        if (PQstatus(c->conn) != CONNECTION_OK) {
            snprintf(why, cap, "connect: %s", PQerrorMessage(c->conn));
            return -1;
        }
    }
    char sql[256];
    for (int step = 0; slt_schema_step(c->schema, step, sql, sizeof sql); step++)
        if (setup(c, sql, why, cap))
            return -1;
    return 0;
}

static int add_value(PGresult *res, int row, int col, slt_outcome *out)
{
    if (PQgetisnull(res, row, col))
        return slt_outcome_add(out, SLT_NULL, 0, 0, NULL, 0);
    const char *s = PQgetvalue(res, row, col);
    switch (PQftype(res, col)) {
    case INT2OID:
    case INT4OID:
    case INT8OID: return slt_outcome_add(out, SLT_INT, strtoll(s, NULL, 10), 0, NULL, 0);
    case BOOLOID: return slt_outcome_add(out, SLT_INT, s[0] == 't', 0, NULL, 0);
    case FLOAT4OID:
    case FLOAT8OID: return slt_outcome_add(out, SLT_REAL, 0, strtod(s, NULL), NULL, 0);
    case BYTEAOID: {
        size_t len;
        unsigned char *b = PQunescapeBytea((const unsigned char *)s, &len);
        int rc = b ? slt_outcome_add(out, SLT_BLOB, 0, 0, b, len) : -1;
        PQfreemem(b);
        return rc;
    }
    default: return slt_outcome_add(out, SLT_TEXT, 0, 0, s, (size_t)PQgetlength(res, row, col));
    }
}

static void libpq_run(slt_target *t, const char *sql, int is_query, slt_outcome *out)
{
    libpq_ctx *c = t->ctx;
    PGresult *res = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        out->failed = 1;
        snprintf(out->sqlstate, sizeof out->sqlstate, "%s", state ? state : "");
        snprintf(out->message, sizeof out->message, "%s",
                 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                     ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                     : PQerrorMessage(c->conn));
    } else if (is_query) {
        out->ncols = PQnfields(res);
        for (int row = 0; row < PQntuples(res); row++)
            for (int col = 0; col < out->ncols; col++)
                if (add_value(res, row, col, out))
                    break;
    } else if (*PQcmdTuples(res)) {
        out->affected = strtoll(PQcmdTuples(res), NULL, 10);
    }
    PQclear(res);
}

static void libpq_close(slt_target *t)
{
    libpq_ctx *c = t->ctx;
    if (c->conn && PQstatus(c->conn) == CONNECTION_OK) {
        char sql[256];
        PQclear(PQexec(c->conn, slt_schema_step(c->schema, 1, sql, sizeof sql)));
    }
    PQfinish(c->conn);
    free(c->conninfo);
    free(c->schema);
    free(c);
}

int slt_libpq_target(slt_target *t, const char *name, const char *conninfo, const char *schema)
{
    libpq_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->conninfo = strdup(conninfo)) || !(c->schema = strdup(schema))) {
        if (c)
            free(c->conninfo);
        free(c);
        return -1;
    }
    *t = (slt_target){.name = name,
                      .engine = "postgresql",
                      .ctx = c,
                      .reset = libpq_reset,
                      .run = libpq_run,
                      .close = libpq_close};
    return 0;
}
