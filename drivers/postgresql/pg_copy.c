/*
 * Batches of plain inserts through COPY ... FROM STDIN (FORMAT binary),
 * which the server loads several times faster than one INSERT per row
 * even when pipelined.
 *
 * Only where COPY does exactly what the INSERTs would: the SQL is
 * `INSERT INTO table (columns) VALUES (?, ...)` and nothing else, the
 * table is an ordinary or partitioned table without rules (COPY ignores
 * them), row-level security or statement-level triggers (COPY fires those
 * once, the INSERTs once per row), no column is generated or an identity
 * GENERATED ALWAYS, the server is PostgreSQL 12 or later (for the catalog
 * query), and every column has a type whose binary
 * form the driver writes for the values given. A row that does not fit
 * (a value of another type, a number out of the column's range) ends the
 * COPY there and the rest of the batch goes through the pipeline: the
 * whole batch still runs in one transaction, so it stays atomic.
 */
#include "pg_copy.h"
#include "pg_numeric.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COPY_MAX_COLS 64
#define FLUSH_AT 65536

/* A name as the SQL spells it: where it is, and whether it is quoted. */
typedef struct span {
    const char *p;
    size_t len;
} span;

struct pg_copy {
    span table; /* schema-qualified as written */
    span cols[COPY_MAX_COLS];
    size_t ncols;
    Oid types[COPY_MAX_COLS];
    char *buf;
    size_t len, cap;
};

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static const char *skip_space(const char *s)
{
    while (is_space(*s))
        s++;
    return s;
}

/* A keyword followed by a space or punctuation (not by more letters). */
static const char *keyword(const char *s, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(s, word, n) != 0)
        return NULL;
    char next = s[n];
    if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9') ||
        next == '_' || next == '$')
        return NULL;
    return s + n;
}

/* An identifier, plain ASCII or double-quoted; NULL if s does not start
 * with one. */
static const char *identifier(const char *s)
{
    if (*s == '"') {
        const char *p = s + 1;
        for (;;) {
            if (!*p)
                return NULL;
            if (*p == '"') {
                if (p[1] != '"')
                    break;
                p++;
            }
            p++;
        }
        return p - s > 1 ? p + 1 : NULL;
    }
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return NULL;
    while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
           *s == '$')
        s++;
    return s;
}

/* Parses the one statement shape COPY can replace; anything else (a
 * comment, an expression, RETURNING, ON CONFLICT, no column list, more
 * than one row of values) is 0. */
static int parse(const char *sql, size_t nparams, pg_copy *cp)
{
    const char *s = skip_space(sql), *e;
    if (!(s = keyword(s, "INSERT")) || !is_space(*s) || !(s = keyword(skip_space(s), "INTO")) ||
        !is_space(*s))
        return 0;
    s = skip_space(s);
    cp->table.p = s;
    if (!(e = identifier(s)))
        return 0;
    if (*e == '.' && !(e = identifier(e + 1)))
        return 0;
    cp->table.len = (size_t)(e - s);
    s = skip_space(e);
    if (*s != '(')
        return 0;
    cp->ncols = 0;
    do {
        s = skip_space(s + 1);
        if (cp->ncols == COPY_MAX_COLS || !(e = identifier(s)))
            return 0;
        cp->cols[cp->ncols++] = (span){s, (size_t)(e - s)};
        s = skip_space(e);
    } while (*s == ',');
    if (*s != ')' || cp->ncols != nparams)
        return 0;
    s = skip_space(s + 1);
    if (!(s = keyword(s, "VALUES")))
        return 0;
    s = skip_space(s);
    if (*s != '(')
        return 0;
    size_t n = 0;
    do {
        s = skip_space(s + 1);
        if (*s != '?')
            return 0;
        n++;
        s = skip_space(s + 1);
    } while (*s == ',');
    if (*s != ')' || n != nparams)
        return 0;
    s = skip_space(s + 1);
    if (*s == ';')
        s = skip_space(s + 1);
    return *s == '\0';
}

/* The name as the catalog stores it: quotes removed, or folded to lower
 * case as PostgreSQL folds unquoted names. */
static size_t catalog_name(span id, char *out, size_t cap)
{
    size_t n = 0;
    if (id.p[0] == '"') {
        for (size_t i = 1; i + 1 < id.len && n + 1 < cap; i++) {
            out[n++] = id.p[i];
            if (id.p[i] == '"')
                i++; /* "" is one quote */
        }
    } else {
        for (size_t i = 0; i < id.len && n + 1 < cap; i++)
            out[n++] = (id.p[i] >= 'A' && id.p[i] <= 'Z') ? (char)(id.p[i] + 32) : id.p[i];
    }
    out[n] = '\0';
    return n;
}

/* Looks the columns' types up and checks the table. Returns 1 when COPY
 * fits, 0 when the pipeline must do it (including an unknown table: the
 * INSERT then reports that as it would anyway), <0 on a failed query (the
 * transaction is aborted: err is set). */
static int describe(pg_conn *c, pg_copy *cp, dbal_error *err)
{
    /* Identity columns GENERATED ALWAYS refuse INSERTed values but take
     * COPY's, and generated columns fail with another error: left to the
     * INSERTs. attgenerated needs PostgreSQL 12 (checked by the caller). */
    static const char q[] =
        "SELECT a.attname, CASE WHEN a.attidentity = 'a' OR a.attgenerated <> '' THEN 0 ELSE a.atttypid END"
        " FROM pg_catalog.pg_class r"
        " JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " WHERE r.oid = pg_catalog.to_regclass($1) AND r.relkind IN ('r', 'p') AND NOT r.relhasrules"
        " AND NOT r.relrowsecurity AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t"
        " WHERE t.tgrelid = r.oid AND NOT t.tgisinternal AND (t.tgtype & 1) = 0)";
    char table[256];
    if (cp->table.len >= sizeof table)
        return 0;
    memcpy(table, cp->table.p, cp->table.len);
    table[cp->table.len] = '\0';
    const char *values[1] = {table};
    c->wire.in_doubt = 0;
    PGresult *res = pg_wire_last(&c->wire, PQsendQueryParams(c->wire.pg, q, 1, NULL, values, NULL, NULL, 0));
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = pg_error_result(&c->wire, res, err);
        PQclear(res);
        return rc < 0 ? rc : -rc;
    }
    int ok = 1;
    for (size_t k = 0; k < cp->ncols && ok; k++) {
        char name[128];
        size_t len = catalog_name(cp->cols[k], name, sizeof name);
        cp->types[k] = 0;
        for (int row = 0; row < PQntuples(res); row++) {
            if ((size_t)PQgetlength(res, row, 0) == len && memcmp(PQgetvalue(res, row, 0), name, len) == 0) {
                cp->types[k] = (Oid)strtoul(PQgetvalue(res, row, 1), NULL, 10);
                break;
            }
        }
        ok = pg_type_of(cp->types[k])->copy_binary;
    }
    PQclear(res);
    return ok;
}

int pg_copy_plan(pg_conn *c, const char *sql, size_t nparams, pg_copy **out, dbal_error *err)
{
    *out = NULL;
    if (nparams == 0 || nparams > COPY_MAX_COLS || PQserverVersion(c->wire.pg) < 120000)
        return DBAL_OK;
    pg_copy *cp = pg_host->malloc(sizeof *cp);
    if (!cp)
        return pg_error_nomem(err);
    memset(cp, 0, sizeof *cp);
    if (!parse(sql, nparams, cp)) {
        pg_host->free(cp);
        return DBAL_OK;
    }
    int fits = describe(c, cp, err);
    if (fits <= 0) {
        pg_host->free(cp);
        return fits < 0 ? -fits : DBAL_OK;
    }
    *out = cp;
    return DBAL_OK;
}

void pg_copy_free(pg_copy *cp)
{
    if (!cp)
        return;
    pg_host->free(cp->buf);
    pg_host->free(cp);
}

static int reserve(pg_copy *cp, size_t more)
{
    if (cp->cap - cp->len >= more)
        return 1;
    size_t cap = cp->cap ? cp->cap : FLUSH_AT * 2;
    while (cap - cp->len < more)
        cap *= 2;
    char *b = pg_host->realloc(cp->buf, cap);
    if (!b)
        return 0;
    cp->buf = b;
    cp->cap = cap;
    return 1;
}

static void put_be(pg_copy *cp, uint64_t v, int bytes)
{
    unsigned char *p = (unsigned char *)cp->buf + cp->len;
    for (int k = bytes - 1; k >= 0; k--, v >>= 8)
        p[k] = (unsigned char)v;
    cp->len += (size_t)bytes;
}

static void put_field(pg_copy *cp, uint64_t v, int bytes)
{
    put_be(cp, (uint64_t)bytes, 4);
    put_be(cp, v, bytes);
}

static void put_float8(pg_copy *cp, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_field(cp, u, 8);
}

static void put_float4(pg_copy *cp, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_field(cp, u, 4);
}

/* Room a date, time, uuid, numeric or json value needs in column type t,
 * or 0 when the INSERT would convert it (the pipeline sends it): each of
 * them only into its own type, text into json and jsonb, as their
 * parameters' OIDs would go. */
static size_t typed_size(const dbal_value *v, Oid t)
{
    switch (v->type) {
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ:
        return t == (v->type == DBAL_TYPE_TIMESTAMP ? PG_TIMESTAMPOID : PG_TIMESTAMPTZOID) &&
                       pg_binary_fits(v)
                   ? 8
                   : 0;
    case DBAL_TYPE_DATE: return t == PG_DATEOID && pg_binary_fits(v) ? 4 : 0;
    case DBAL_TYPE_TIME: return t == PG_TIMEOID ? 8 : 0;
    case DBAL_TYPE_UUID: return t == PG_UUIDOID ? 16 : 0;
    case DBAL_TYPE_NUMERIC: return t == PG_NUMERICOID ? pg_numeric_binary_size(v->u.s, v->len) : 0;
    case DBAL_TYPE_TEXT:
    case DBAL_TYPE_JSON:
        if ((t != PG_JSONOID && t != PG_JSONBOID) || memchr(v->u.s, '\0', v->len) || v->len >= INT32_MAX - 1)
            return 0;
        return v->len + (t == PG_JSONBOID); /* jsonb: a version byte first */
    default: return 0;
    }
}

static void put_typed(pg_copy *cp, const dbal_value *v, Oid t)
{
    int64_t x = v->u.i;
    int inf = x == INT64_MAX || x == INT64_MIN;
    unsigned char *p;
    size_t n;
    switch (v->type) {
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ: put_field(cp, (uint64_t)(inf ? x : x - PG_EPOCH_US), 8); break;
    case DBAL_TYPE_DATE:
        put_field(cp, (uint32_t)(inf ? (x > 0 ? INT32_MAX : INT32_MIN) : (int32_t)(x - PG_EPOCH_DAYS)), 4);
        break;
    case DBAL_TYPE_TIME: put_field(cp, (uint64_t)x, 8); break;
    case DBAL_TYPE_NUMERIC:
        p = (unsigned char *)cp->buf + cp->len + 4;
        n = pg_numeric_binary(v->u.s, v->len, p);
        put_be(cp, n, 4);
        cp->len += n;
        break;
    case DBAL_TYPE_UUID:
        put_be(cp, 16, 4);
        memcpy(cp->buf + cp->len, v->u.p, 16);
        cp->len += 16;
        break;
    default: /* json text, jsonb after its version byte */
        put_be(cp, v->len + (t == PG_JSONBOID), 4);
        if (t == PG_JSONBOID)
            cp->buf[cp->len++] = 1;
        memcpy(cp->buf + cp->len, v->u.s, v->len);
        cp->len += v->len;
        break;
    }
}

/* Room a row needs, or 0 when one of its values has no binary form for
 * its column. */
static size_t row_size(const pg_copy *cp, const dbal_value *row)
{
    size_t need = 2, more;
    for (size_t k = 0; k < cp->ncols; k++) {
        const dbal_value *v = &row[k];
        Oid t = cp->types[k];
        need += 4;
        switch (v->type) {
        case DBAL_TYPE_NULL: break;
        case DBAL_TYPE_BOOL:
            if (t != PG_BOOLOID)
                return 0;
            need += 1;
            break;
        case DBAL_TYPE_INT64:
            /* What an int8 parameter's assignment cast would accept. */
            if (t == PG_INT4OID && (v->u.i < INT32_MIN || v->u.i > INT32_MAX))
                return 0;
            if (t == PG_INT2OID && (v->u.i < INT16_MIN || v->u.i > INT16_MAX))
                return 0;
            if (t != PG_INT2OID && t != PG_INT4OID && t != PG_INT8OID && t != PG_FLOAT4OID &&
                t != PG_FLOAT8OID)
                return 0;
            need += 8;
            break;
        case DBAL_TYPE_DOUBLE:
            if (t == PG_FLOAT4OID) {
                /* float8 to float4 fails on overflow and underflow. */
                float f = (float)v->u.d;
                if ((isinf(f) && !isinf(v->u.d)) || (f == 0.0f && v->u.d != 0.0))
                    return 0;
            } else if (t != PG_FLOAT8OID) {
                return 0;
            }
            need += 8;
            break;
        case DBAL_TYPE_TEXT:
            /* varchar(n) checks its length on the server, as for INSERT;
             * json and jsonb check their text as for an unknown literal. */
            if (t == PG_JSONOID || t == PG_JSONBOID) {
                if (!(more = typed_size(v, t)))
                    return 0;
                need += more;
                break;
            }
            if (t != PG_TEXTOID && t != PG_VARCHAROID)
                return 0;
            if (memchr(v->u.s, '\0', v->len) || v->len >= INT32_MAX)
                return 0; /* the pipeline reports it */
            need += v->len;
            break;
        case DBAL_TYPE_BLOB:
            if (t != PG_BYTEAOID || v->len >= INT32_MAX)
                return 0;
            need += v->len;
            break;
        default:
            if (!(more = typed_size(v, t)))
                return 0;
            need += more;
            break;
        }
    }
    return need;
}

static void put_row(pg_copy *cp, const dbal_value *row)
{
    put_be(cp, cp->ncols, 2);
    for (size_t k = 0; k < cp->ncols; k++) {
        const dbal_value *v = &row[k];
        Oid t = cp->types[k];
        switch (v->type) {
        case DBAL_TYPE_NULL: put_be(cp, 0xffffffffu, 4); break;
        case DBAL_TYPE_BOOL: put_field(cp, v->u.b != 0, 1); break;
        case DBAL_TYPE_INT64:
            if (t == PG_INT8OID) {
                put_field(cp, (uint64_t)v->u.i, 8);
            } else if (t == PG_INT4OID) {
                put_field(cp, (uint32_t)(int32_t)v->u.i, 4);
            } else if (t == PG_INT2OID) {
                put_field(cp, (uint16_t)(int16_t)v->u.i, 2);
            } else if (t == PG_FLOAT8OID) {
                put_float8(cp, (double)v->u.i);
            } else {
                put_float4(cp, (float)v->u.i);
            }
            break;
        case DBAL_TYPE_DOUBLE:
            if (t == PG_FLOAT8OID)
                put_float8(cp, v->u.d);
            else
                put_float4(cp, (float)v->u.d);
            break;
        case DBAL_TYPE_TEXT:
        case DBAL_TYPE_BLOB:
            if (t == PG_JSONBOID || t == PG_JSONOID) {
                put_typed(cp, v, t);
                break;
            }
            /* text and blob: the bytes as they are */
            put_be(cp, v->len, 4);
            memcpy(cp->buf + cp->len, v->u.p, v->len);
            cp->len += v->len;
            break;
        default: put_typed(cp, v, t); break;
        }
    }
}

/* The row (1-based line) COPY names in its error context ("COPY t, line
 * 3, column x: ..."): the first number after the first ", " of the line
 * that starts with COPY, so a translated "line" still parses. 0 when
 * there is none (an error at the end of the data, or no context). */
static size_t copy_line(const PGresult *res)
{
    const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
    while (ctx && strncmp(ctx, "COPY ", 5) != 0) {
        ctx = strchr(ctx, '\n');
        if (ctx)
            ctx++;
    }
    if (!ctx || !(ctx = strstr(ctx, ", ")))
        return 0;
    while (*ctx && *ctx != '\n' && (*ctx < '0' || *ctx > '9'))
        ctx++;
    return (size_t)strtoull(ctx, NULL, 10);
}

static int flush(pg_conn *c, pg_copy *cp)
{
    dbal_error ignored;
    /* Queued, then sent as the server takes it, so that a slow server
     * does not make libpq's buffer hold the whole batch. */
    int ok = cp->len == 0 || (PQputCopyData(c->wire.pg, cp->buf, (int)cp->len) == 1 &&
                              pg_wire_flush(&c->wire, &ignored) == DBAL_OK);
    cp->len = 0;
    return ok;
}

/* Ends the COPY (aborted with `abort_msg` when not NULL) and reads its
 * result. */
static int finish(pg_conn *c, const char *abort_msg, size_t first, size_t rows, int64_t *affected,
                  size_t *failed_row, dbal_error *err)
{
    int rc = DBAL_OK;
    PQputCopyEnd(c->wire.pg, abort_msg);
    PGresult *res;
    while ((res = pg_wire_result(&c->wire)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN) {
            /* The end did not go out: the connection cannot be used again. */
            PQclear(res);
            rc = pg_error_conn(&c->wire, err);
            c->wire.base.broken = 1;
            return rc;
        }
        if (st == PGRES_COMMAND_OK && rc == DBAL_OK) {
            *affected += strtoll(PQcmdTuples(res), NULL, 10);
        } else if (rc == DBAL_OK && !abort_msg) {
            rc = pg_error_result(&c->wire, res, err);
            size_t line = copy_line(res);
            *failed_row = line >= 1 && line <= rows ? first + line - 1 : (size_t)-1;
        } else if (rc == DBAL_OK) {
            rc = DBAL_ERROR; /* the caller sets err */
        }
        PQclear(res);
    }
    if (rc == DBAL_OK && c->wire.gave_up)
        rc = pg_wire_error(&c->wire, err);
    return rc;
}

/* "COPY table (columns) FROM STDIN (FORMAT binary)" into sql (cap
 * bytes); 0 when it does not fit. */
static int copy_sql(const pg_copy *cp, char *sql, size_t cap)
{
    size_t n = 0;
    n += (size_t)snprintf(sql, cap, "COPY %.*s (", (int)cp->table.len, cp->table.p);
    for (size_t k = 0; k < cp->ncols && n < cap; k++)
        n += (size_t)snprintf(sql + n, cap - n, "%s%.*s", k ? ", " : "", (int)cp->cols[k].len, cp->cols[k].p);
    if (n < cap)
        n += (size_t)snprintf(sql + n, cap - n, ") FROM STDIN (FORMAT binary)");
    return n < cap;
}

/* Sends the COPY command and starts the data with its header: DBAL_OK
 * once the server waits for the rows, else why not (row i failed). */
static int start(pg_conn *c, pg_copy *cp, const char *sql, size_t i, int64_t *affected, size_t *failed_row,
                 dbal_error *err)
{
    c->wire.in_doubt = pg_wire_in_doubt(&c->wire, sql);
    PGresult *res = pg_wire_last(&c->wire, PQsendQuery(c->wire.pg, sql));
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        int rc = pg_error_result(&c->wire, res, err);
        PQclear(res);
        pg_wire_drain(&c->wire);
        *failed_row = i;
        return rc;
    }
    PQclear(res);
    static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
    cp->len = 0;
    if (!reserve(cp, sizeof header)) {
        finish(c, "out of memory", i, 0, affected, failed_row, err);
        return pg_error_nomem(err);
    }
    memcpy(cp->buf, header, sizeof header);
    cp->len = sizeof header;
    return DBAL_OK;
}

int pg_copy_run(pg_conn *c, pg_copy *cp, int (*next)(void *, size_t, const dbal_value **), void *ud,
                size_t *i, const dbal_value **row, int64_t *affected, size_t *failed_row, dbal_error *err)
{
    if (row_size(cp, *row) == 0)
        return DBAL_OK;
    /* The rows are sent as they come: no round trip until the end. */
    char sql[4096];
    if (!copy_sql(cp, sql, sizeof sql))
        return DBAL_OK; /* very long names: the pipeline does it */
    int rc = start(c, cp, sql, *i, affected, failed_row, err);
    if (rc != DBAL_OK)
        return rc;
    size_t first = *i;
    for (;;) {
        size_t need = row_size(cp, *row);
        if (need == 0)
            break; /* the pipeline takes over at this row */
        if (!reserve(cp, need)) {
            finish(c, "out of memory", first, *i - first, affected, failed_row, err);
            return pg_error_nomem(err);
        }
        put_row(cp, *row);
        ++*i;
        if (cp->len >= FLUSH_AT && !flush(c, cp))
            break; /* the server gave up: its error comes with the result */
        if ((rc = next(ud, *i, row)) != DBAL_OK)
            break;
    }
    if (rc != DBAL_OK && rc != DBAL_DONE) {
        dbal_error keep = *err;
        finish(c, "the batch's row source failed", first, *i - first, affected, failed_row, err);
        *err = keep;
        if (!(rc == DBAL_EINVAL && err->code == DBAL_EINVAL))
            pg_host->set_error(err, rc, NULL, 0, "the batch's row source failed at row %zu", *i);
        return rc;
    }
    if (reserve(cp, 2))
        put_be(cp, 0xffff, 2);
    flush(c, cp);
    int end = finish(c, NULL, first, *i - first, affected, failed_row, err);
    if (end != DBAL_OK)
        return end;
    return rc == DBAL_DONE ? DBAL_DONE : DBAL_OK;
}
