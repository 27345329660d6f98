/*
 * Cursors. Rows stream from the server one PGresult each (single-row
 * mode). libpq cannot send another command while a result streams, yet a
 * session may run statements while a cursor is open: then the rest of the
 * cursor's rows are pulled into a compact buffer it keeps (pg_rows_spill)
 * and served from there.
 */
#include "pg_stmt.h"

#include <stddef.h>
#include <string.h>

#define NULL_LEN UINT32_MAX

/* A cursor struct, the connection's spare when there is one (no allocation
 * per query), with room for ncols column types. */
static pg_rows *rows_alloc(pg_stmts *st, int ncols)
{
    pg_rows *r = st->spare;
    st->spare = NULL;
    Oid *types = r ? r->types : NULL;
    int cap = r ? r->types_cap : 0;
    if (!r && !(r = pg_host->malloc(sizeof *r)))
        return NULL;
    if (ncols > cap) {
        pg_host->free(types);
        cap = ncols;
        if (!(types = pg_host->malloc((size_t)cap * sizeof *types))) {
            pg_host->free(r);
            return NULL;
        }
    }
    /* pend_err (most of the struct) is read only when pend_code says so. */
    memset(r, 0, offsetof(pg_rows, pend_err));
    r->types = types;
    r->types_cap = cap;
    return r;
}

void pg_rows_free(pg_rows *r)
{
    if (!r)
        return;
    pg_host->free(r->types);
    pg_host->free(r);
}

/* The column facts every value read needs, looked up once per cursor. */
static void describe(pg_rows *r, const PGresult *res)
{
    int ncols = PQnfields(res);
    r->meta = (PGresult *)res;
    r->base.ncols = ncols;
    r->binary = ncols > 0 && PQfformat(res, 0) == 1;
    for (int col = 0; col < ncols; col++)
        r->types[col] = PQftype(res, col);
}

int pg_rows_open(pg_stmts *st, PGresult *first, pg_rows **out, dbal_error *err)
{
    pg_rows *r = rows_alloc(st, PQnfields(first));
    if (!r) {
        dbal_error ignored;
        PQclear(first);
        pg_wire_drain(st->wire);
        pg_stmt_unwrap(st, &ignored);
        return pg_error_nomem(err);
    }
    r->stmts = st;
    describe(r, first);
    if (PQresultStatus(first) == PGRES_SINGLE_TUPLE) {
        r->cur = first;
        r->first_ready = 1;
        st->streaming = r;
    } else {
        /* No rows (or not a query): the command is complete already. */
        r->done = 1;
        pg_wire_drain(st->wire);
        int rc = pg_stmt_unwrap(st, err);
        if (rc != DBAL_OK) {
            PQclear(first);
            pg_rows_free(r);
            return rc;
        }
    }
    *out = r;
    return DBAL_OK;
}

int pg_rows_open_whole(pg_stmts *st, PGresult *res, pg_rows **out, dbal_error *err)
{
    pg_rows *r = rows_alloc(st, PQnfields(res));
    if (!r) {
        PQclear(res);
        return pg_error_nomem(err);
    }
    r->stmts = st;
    describe(r, res);
    r->whole = 1;
    r->at = -1;
    *out = r;
    return DBAL_OK;
}

/* The first result also holds the column descriptions, so it lives until
 * the cursor closes; other rows go as soon as the next one is read. */
static void drop_current(pg_rows *r)
{
    if (r->cur && r->cur != r->meta)
        PQclear(r->cur);
    r->cur = NULL;
}

/* The command is over: the connection is free for the next one. Returns
 * what ending the driver's own transaction around it said (pg_stmt_unwrap). */
static int finish(pg_rows *r, dbal_error *err)
{
    pg_wire_drain(r->stmts->wire);
    int rc = pg_stmt_unwrap(r->stmts, err);
    if (r->stmts->streaming == r)
        r->stmts->streaming = NULL;
    r->done = 1;
    return rc;
}

static int next_live(pg_rows *r, dbal_error *err)
{
    PGresult *res = pg_wire_result(r->stmts->wire);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_SINGLE_TUPLE) {
        r->cur = res;
        return DBAL_ROW;
    }
    int rc = DBAL_DONE;
    if (res && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        rc = pg_error_result(r->stmts->wire, res, err);
    PQclear(res);
    dbal_error commit_err;
    int crc = finish(r, &commit_err);
    if (rc == DBAL_DONE && crc != DBAL_OK) {
        *err = commit_err; /* an INSERT ... RETURNING's deferred constraint */
        rc = crc;
    }
    return rc;
}

static void read_buffered_row(pg_rows *r)
{
    for (int col = 0; col < r->base.ncols; col++) {
        uint32_t len;
        memcpy(&len, r->buf + r->buf_pos, sizeof len);
        r->buf_pos += sizeof len;
        if (len == NULL_LEN) {
            r->cells[col].p = NULL;
            r->cells[col].len = 0;
            continue;
        }
        r->cells[col].p = r->buf + r->buf_pos;
        r->cells[col].len = (int)len;
        r->buf_pos += (size_t)len + 1;
    }
}

static int next_buffered(pg_rows *r, dbal_error *err)
{
    if (r->buf_pos < r->buf_len) {
        read_buffered_row(r);
        return DBAL_ROW;
    }
    r->done = 1;
    if (r->pend_code != DBAL_OK) {
        *err = r->pend_err;
        return r->pend_code;
    }
    return DBAL_DONE;
}

int pg_rows_next(dbal_driver_rows *base, dbal_error *err)
{
    pg_rows *r = (pg_rows *)base;
    r->rowno++;
    if (r->whole) {
        r->cur = ++r->at < PQntuples(r->meta) ? r->meta : NULL;
        return r->cur ? DBAL_ROW : DBAL_DONE;
    }
    if (r->first_ready) {
        r->first_ready = 0;
        return DBAL_ROW;
    }
    drop_current(r);
    if (r->done)
        return DBAL_DONE;
    return r->spilled ? next_buffered(r, err) : next_live(r, err);
}

static int buf_reserve(pg_rows *r, size_t more)
{
    if (r->buf_cap - r->buf_len >= more)
        return DBAL_OK;
    size_t cap = r->buf_cap ? r->buf_cap : 4096;
    while (cap - r->buf_len < more)
        cap *= 2;
    char *b = pg_host->realloc(r->buf, cap);
    if (!b)
        return DBAL_ENOMEM;
    r->buf = b;
    r->buf_cap = cap;
    return DBAL_OK;
}

static int append_row(pg_rows *r, const PGresult *res)
{
    size_t need = 0;
    for (int col = 0; col < r->base.ncols; col++)
        need += sizeof(uint32_t) + (size_t)PQgetlength(res, 0, col) + 1;
    if (buf_reserve(r, need) != DBAL_OK)
        return DBAL_ENOMEM;
    for (int col = 0; col < r->base.ncols; col++) {
        int null = PQgetisnull(res, 0, col);
        uint32_t len = null ? NULL_LEN : (uint32_t)PQgetlength(res, 0, col);
        memcpy(r->buf + r->buf_len, &len, sizeof len);
        r->buf_len += sizeof len;
        if (!null) {
            memcpy(r->buf + r->buf_len, PQgetvalue(res, 0, col), len + 1);
            r->buf_len += (size_t)len + 1;
        }
    }
    return DBAL_OK;
}

/* Keeps the first error met while spilling; later results are only read. */
static void spill_result(pg_rows *r, PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    if (r->pend_code != DBAL_OK)
        return;
    if (st == PGRES_SINGLE_TUPLE) {
        if (append_row(r, res) != DBAL_OK)
            r->pend_code = pg_error_nomem(&r->pend_err);
    } else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        r->pend_code = pg_error_result(r->stmts->wire, res, &r->pend_err);
    }
}

void pg_rows_spill(pg_rows *r)
{
    PGresult *res;
    r->stmts->streaming = NULL;
    r->spilled = 1;
    if (r->base.ncols > 0 && !r->cells) {
        r->cells = pg_host->malloc((size_t)r->base.ncols * sizeof *r->cells);
        if (!r->cells)
            r->pend_code = pg_error_nomem(&r->pend_err);
    }
    /* The current row stays where it is (its values may be in use); only
     * the rows after it move to the buffer. */
    while ((res = pg_wire_result(r->stmts->wire)) != NULL) {
        spill_result(r, res);
        PQclear(res);
    }
    dbal_error commit_err;
    if (pg_stmt_unwrap(r->stmts, &commit_err) != DBAL_OK && r->pend_code == DBAL_OK) {
        r->pend_err = commit_err;
        r->pend_code = commit_err.code;
    }
}

void pg_rows_close(dbal_driver_rows *base)
{
    pg_rows *r = (pg_rows *)base;
    if (!r)
        return;
    dbal_error ignored;
    /* A whole result (asynchronous API) may outlive its connection, which
     * a later statement's loss can free first: never look at it. */
    if (!r->whole && r->stmts->streaming == r)
        finish(r, &ignored); /* closed early: nobody to tell */
    drop_current(r);
    PQclear(r->meta);
    if (r->blobs)
        for (int col = 0; col < r->base.ncols; col++)
            pg_host->free(r->blobs[col].data);
    pg_host->free(r->blobs);
    pg_host->free(r->buf);
    pg_host->free(r->cells);
    if (!r->whole && !r->stmts->spare)
        r->stmts->spare = r;
    else
        pg_rows_free(r);
}

const char *pg_col_name(dbal_driver_rows *base, int col)
{
    return PQfname(((pg_rows *)base)->meta, col);
}

/* The current row's value of col as text, NULL for SQL NULL. */
static const char *cell(const pg_rows *r, int col, int *len)
{
    *len = 0;
    if (r->cur) {
        /* libpq gives NULL as an empty value: only then ask which it is. */
        *len = PQgetlength(r->cur, r->at, col);
        if (*len == 0 && PQgetisnull(r->cur, r->at, col))
            return NULL;
        return PQgetvalue(r->cur, r->at, col);
    }
    if (!r->cells || r->done)
        return NULL;
    *len = r->cells[col].len;
    return r->cells[col].p;
}

void pg_col_value(dbal_driver_rows *base, int col, dbal_value *out)
{
    pg_rows *r = (pg_rows *)base;
    int len;
    const char *text = cell(r, col, &len);
    if (!text)
        *out = dbal_null();
    else if (r->binary)
        pg_value_binary(r, col, text, len, out);
    else
        pg_value_text(r, col, text, len, out);
}

dbal_type pg_col_type(dbal_driver_rows *base, int col)
{
    pg_rows *r = (pg_rows *)base;
    int len;
    return cell(r, col, &len) ? pg_type_of(r->types[col])->type : DBAL_TYPE_NULL;
}

/* The typed slots (driver.h): numbers in binary rows only, since text
 * rows would need parsing, which is the core's; text where col_value
 * hands the bytes as they are. */
int pg_col_int64(dbal_driver_rows *base, int col, int64_t *out)
{
    pg_rows *r = (pg_rows *)base;
    int len;
    const char *p = cell(r, col, &len);
    return p && r->binary ? pg_binary_int64(r->types[col], p, len, out) : DBAL_ETYPE;
}

int pg_col_double(dbal_driver_rows *base, int col, double *out)
{
    pg_rows *r = (pg_rows *)base;
    int len;
    int64_t i;
    const char *p = cell(r, col, &len);
    if (!p || !r->binary)
        return DBAL_ETYPE;
    if (pg_binary_double(r->types[col], p, len, out) == DBAL_OK)
        return DBAL_OK;
    if (pg_binary_int64(r->types[col], p, len, &i) != DBAL_OK) /* bool is a type of its own */
        return DBAL_ETYPE;
    *out = (double)i;
    return DBAL_OK;
}

/* Binary rows: the text types, whose binary form is their text
 * (pg_value_binary's last branch). Text rows: every type but bytea and
 * the dates and times, which pg_value_text decodes. */
static int text_as_is(const pg_rows *r, int col)
{
    Oid t = r->types[col];
    if (r->binary)
        return t == PG_TEXTOID || t == PG_VARCHAROID || t == PG_BPCHAROID || t == PG_JSONOID;
    switch (pg_type_of(t)->type) {
    case DBAL_TYPE_BLOB:
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ:
    case DBAL_TYPE_DATE:
    case DBAL_TYPE_TIME: return 0;
    default: return 1;
    }
}

int pg_col_text(dbal_driver_rows *base, int col, const char **out, size_t *len)
{
    pg_rows *r = (pg_rows *)base;
    int n;
    const char *p = cell(r, col, &n);
    if (!p || !text_as_is(r, col))
        return DBAL_ETYPE;
    *out = p;
    *len = (size_t)n;
    return DBAL_OK;
}
