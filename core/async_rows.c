/*
 * Buffered cursors: the rows of a query that a worker thread read to the
 * end, handed to a callback on the loop thread. They are one more cursor
 * methods table (rows.h), so that the getters of rows.c, with their one set
 * of conversion rules, read them as they read any driver's rows. A closed
 * one is kept by its context and filled again by a worker: four
 * allocations fewer per query.
 */
#include "async.h"

#include "alloc.h"
#include "buf.h"
#include "errors.h"

#include <stdint.h>
#include <string.h>

typedef struct cell {
    dbal_type form;    /* the value's form (col_value) */
    dbal_type logical; /* what col_type says */
    size_t len;
    union {
        int b;
        int64_t i;
        double d;
        size_t off; /* text and blob bytes in data, followed by a NUL */
    } u;
} cell;

typedef struct buffered {
    dbal_driver_rows base;
    size_t *name_off; /* ncols offsets of the names in data */
    int cap_cols;
    cell *cells; /* nrows * ncols */
    size_t nrows, cap_cells;
    size_t at;        /* 1 + the current row; 0 before the first */
    dbal__buf data;   /* the bytes of names and values, each followed by a NUL */
    size_t names_len; /* the names' bytes, at the start of data */
    dbal_async *home;
    struct buffered *next; /* in a list of kept ones */
} buffered;

/* What a kept cursor may hold on to: a big result's memory is given back. */
enum { KEEP_CELLS = 256, KEEP_BYTES = 16384 };

/* The bytes and a NUL after them. */
static int add_bytes(buffered *b, const void *p, size_t n, size_t *off)
{
    dbal__buf *d = &b->data;
    *off = d->len;
    if (n == SIZE_MAX || !dbal__buf_reserve(d, n + 1))
        return DBAL_ENOMEM;
    if (n)
        memcpy(d->data + d->len, p, n);
    d->len += n + 1;
    d->data[d->len - 1] = '\0';
    d->data[d->len] = '\0';
    return DBAL_OK;
}

static int add_row(buffered *b, dbal_rows *r)
{
    size_t ncols = (size_t)b->base.ncols;
    if ((b->nrows + 1) * ncols > b->cap_cells) {
        size_t cap = b->cap_cells ? b->cap_cells * 2 : 8 * ncols;
        while (cap < (b->nrows + 1) * ncols)
            cap *= 2;
        cell *c = dbal__realloc(b->cells, cap * sizeof *c);
        if (!c)
            return DBAL_ENOMEM;
        b->cells = c;
        b->cap_cells = cap;
    }
    cell *row = b->cells + b->nrows * ncols;
    for (size_t col = 0; col < ncols; col++) {
        cell *c = &row[col];
        c->logical = r->m->type(r->dr, (int)col);
        /* An integer the typed slot hands is one col_value hands as
         * DBAL_TYPE_INT64 (driver.h): the same cell, for less. */
        if (c->logical == DBAL_TYPE_INT64 && r->m->int64(r->dr, (int)col, &c->u.i) == DBAL_OK) {
            c->form = DBAL_TYPE_INT64;
            c->len = 0;
            continue;
        }
        dbal_value v;
        r->m->value(r->dr, (int)col, &v);
        c->form = v.type;
        c->len = v.len;
        switch (v.type) {
        case DBAL_TYPE_BOOL: c->u.b = v.u.b; break;
        case DBAL_TYPE_INT64:
        case DBAL_TYPE_TIMESTAMP:
        case DBAL_TYPE_TIMESTAMPTZ:
        case DBAL_TYPE_DATE:
        case DBAL_TYPE_TIME: c->u.i = v.u.i; break;
        case DBAL_TYPE_DOUBLE: c->u.d = v.u.d; break;
        case DBAL_TYPE_TEXT:
        case DBAL_TYPE_BLOB:
        case DBAL_TYPE_NUMERIC:
        case DBAL_TYPE_UUID:
        case DBAL_TYPE_JSON:
            if (add_bytes(b, v.u.p, v.len, &c->u.off) != DBAL_OK)
                return DBAL_ENOMEM;
            break;
        default: c->u.i = 0; break;
        }
    }
    b->nrows++;
    return DBAL_OK;
}

static void buffered_free(buffered *b)
{
    if (!b)
        return;
    dbal__free(b->name_off);
    dbal__free(b->cells);
    dbal__buf_free(&b->data);
    dbal__free(b);
}

static void buffered_close(dbal_driver_rows *base)
{
    buffered *b = (buffered *)base;
    dbal_async *a = b ? b->home : NULL;
    if (a && a->nclosed_bufs < DBAL__KEEP_BUFS && b->cap_cells <= KEEP_CELLS && b->data.cap <= KEEP_BYTES) {
        b->next = (buffered *)a->closed_bufs;
        a->closed_bufs = &b->base;
        a->nclosed_bufs++;
        return;
    }
    buffered_free(b);
}

/* The column names at the start of data. A kept cursor that holds the same
 * names keeps them (a session mostly repeats its statements, and comparing
 * costs less than copying). */
static int add_names(buffered *b, dbal_rows *r, int ncols)
{
    int same = b->names_len > 0 && b->base.ncols == ncols;
    for (int col = 0; same && col < ncols; col++) {
        const char *name = r->m->name(r->dr, col);
        same = strcmp(b->data.data + b->name_off[col], name ? name : "") == 0;
    }
    b->base.ncols = ncols;
    if (same) {
        b->data.len = b->names_len;
        return DBAL_OK;
    }
    dbal__buf_clear(&b->data);
    b->names_len = 0;
    int rc = DBAL_OK;
    for (int col = 0; col < ncols && rc == DBAL_OK; col++) {
        const char *name = r->m->name(r->dr, col);
        rc = add_bytes(b, name ? name : "", name ? strlen(name) : 0, &b->name_off[col]);
    }
    b->names_len = b->data.len;
    return rc;
}

int dbal__rows_buffer(dbal_rows *r, dbal_driver_rows *spare, dbal_async *home, dbal_driver_rows **out)
{
    buffered *b = (buffered *)spare;
    if (b) {
        b->nrows = b->at = 0;
    } else if ((b = dbal__calloc(1, sizeof *b)) != NULL) {
        b->data = (dbal__buf)DBAL__BUF_INIT(&dbal__alloc_core);
    }
    int ncols = dbal_col_count(r);
    if (b && ncols > b->cap_cols) {
        size_t *n = dbal__realloc(b->name_off, (size_t)ncols * sizeof *n);
        if (n) {
            b->name_off = n;
            b->cap_cols = ncols;
        }
    }
    if (!b || ncols > b->cap_cols) {
        buffered_free(b);
        return dbal__error_set(r->err, DBAL_ENOMEM, NULL, 0, NULL);
    }
    b->home = home;
    int rc = add_names(b, r, ncols);
    while (rc == DBAL_OK) {
        rc = dbal_rows_next(r);
        if (rc == DBAL_DONE) {
            *out = &b->base;
            return DBAL_OK;
        }
        if (rc == DBAL_ROW)
            rc = add_row(b, r);
    }
    if (rc == DBAL_ENOMEM)
        dbal__error_set(r->err, DBAL_ENOMEM, NULL, 0, NULL);
    buffered_free(b);
    return rc;
}

dbal_driver_rows *dbal__rows_buffer_take(dbal_driver_rows **list)
{
    buffered *b = (buffered *)*list;
    if (!b)
        return NULL;
    *list = b->next ? &b->next->base : NULL;
    b->next = NULL; /* one cursor: freeing it as a list (a failed query) frees no other */
    return &b->base;
}

void dbal__rows_buffer_move(dbal_driver_rows **to, dbal_driver_rows **from)
{
    buffered *last = (buffered *)*from;
    if (!last)
        return;
    while (last->next)
        last = last->next;
    last->next = (buffered *)*to;
    *to = *from;
    *from = NULL;
}

void dbal__rows_buffer_free(dbal_driver_rows *list)
{
    for (buffered *b = (buffered *)list, *next; b; b = next) {
        next = b->next;
        buffered_free(b);
    }
}

static int buffered_next(dbal_driver_rows *base, dbal_error *err)
{
    (void)err;
    buffered *b = (buffered *)base;
    if (b->at <= b->nrows)
        b->at++;
    return b->at <= b->nrows ? DBAL_ROW : DBAL_DONE;
}

static const char *buffered_name(dbal_driver_rows *base, int col)
{
    buffered *b = (buffered *)base;
    return b->data.data + b->name_off[col];
}

static const cell *current(buffered *b, int col)
{
    return &b->cells[(b->at - 1) * (size_t)b->base.ncols + (size_t)col];
}

static void buffered_value(dbal_driver_rows *base, int col, dbal_value *out)
{
    buffered *b = (buffered *)base;
    const cell *c = current(b, col);
    *out = dbal_null();
    out->type = c->form;
    out->len = c->len;
    switch (c->form) {
    case DBAL_TYPE_BOOL: out->u.b = c->u.b; break;
    case DBAL_TYPE_INT64:
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ:
    case DBAL_TYPE_DATE:
    case DBAL_TYPE_TIME: out->u.i = c->u.i; break;
    case DBAL_TYPE_DOUBLE: out->u.d = c->u.d; break;
    case DBAL_TYPE_TEXT:
    case DBAL_TYPE_BLOB:
    case DBAL_TYPE_NUMERIC:
    case DBAL_TYPE_UUID:
    case DBAL_TYPE_JSON: out->u.p = b->data.data + c->u.off; break;
    default: break;
    }
}

static dbal_type buffered_type(dbal_driver_rows *base, int col)
{
    return current((buffered *)base, col)->logical;
}

/* The typed reads answer for the forms the getters take as they are
 * (driver.h's col_int64 ...); every other cell goes through
 * buffered_value and the getters' rules. */
static int buffered_int64(dbal_driver_rows *base, int col, int64_t *out)
{
    const cell *c = current((buffered *)base, col);
    if (c->form != DBAL_TYPE_INT64)
        return DBAL_ETYPE;
    *out = c->u.i;
    return DBAL_OK;
}

static int buffered_double(dbal_driver_rows *base, int col, double *out)
{
    const cell *c = current((buffered *)base, col);
    if (c->form == DBAL_TYPE_DOUBLE)
        *out = c->u.d;
    else if (c->form == DBAL_TYPE_INT64 && c->logical != DBAL_TYPE_BOOL)
        *out = (double)c->u.i;
    else
        return DBAL_ETYPE;
    return DBAL_OK;
}

static int buffered_text(dbal_driver_rows *base, int col, const char **out, size_t *len)
{
    buffered *b = (buffered *)base;
    const cell *c = current(b, col);
    if (c->form != DBAL_TYPE_TEXT && c->form != DBAL_TYPE_NUMERIC && c->form != DBAL_TYPE_JSON)
        return DBAL_ETYPE;
    *out = b->data.data + c->u.off;
    *len = c->len;
    return DBAL_OK;
}

const dbal__cursor_methods dbal__buffered_methods = {
    .next = buffered_next,
    .close = buffered_close,
    .name = buffered_name,
    .value = buffered_value,
    .type = buffered_type,
    .int64 = buffered_int64,
    .dbl = buffered_double,
    .text = buffered_text,
};
