/* Cursors and column access. Conversions live here, in the core, so that a
 * column read as an integer, a double, a bool or text converts by one set of
 * rules on every driver. */
#include "rows.h"

#include "alloc.h"
#include "convert.h"
#include "decimal.h"
#include "errors.h"
#include "fork.h"
#include "values.h"

#include <string.h>

#if defined(__GNUC__)
/* The getters' general path, kept out of the getters that call it, so
 * that their typed path needs no stack frame of the general one's size. */
#define OUT_OF_LINE __attribute__((noinline, cold))
#else
#define OUT_OF_LINE
#endif

void dbal__rows_open(dbal_rows *r, const dbal__cursor_methods *m, dbal_driver_rows *dr, dbal_error *err,
                     const dbal__rows_hooks *hooks, void *owner)
{
    r->m = m;
    r->dr = dr;
    r->err = err;
    r->hooks = hooks;
    r->owner = owner;
    r->prev = r->next = NULL;
    r->on_row = 0;
    r->pid = dbal__pid();
    r->ncols = dr->ncols;
    r->numbuf = NULL;
    r->blobtext = NULL;
}

/* What a driver without the typed slots (older than ABI 5) answers for
 * every value: not in that form, read it through col_value. */
static int no_int64(dbal_driver_rows *dr, int col, int64_t *out)
{
    (void)dr, (void)col, (void)out;
    return DBAL_ETYPE;
}

static int no_double(dbal_driver_rows *dr, int col, double *out)
{
    (void)dr, (void)col, (void)out;
    return DBAL_ETYPE;
}

static int no_text(dbal_driver_rows *dr, int col, const char **out, size_t *len)
{
    (void)dr, (void)col, (void)out, (void)len;
    return DBAL_ETYPE;
}

void dbal__cursor_methods_of(const dbal_driver *d, dbal__cursor_methods *out)
{
    *out = (dbal__cursor_methods){.next = d->rows_next,
                                  .close = d->rows_close,
                                  .name = d->col_name,
                                  .value = d->col_value,
                                  .type = d->col_type,
                                  .int64 = DBAL_DRIVER_HAS(d, col_int64) ? d->col_int64 : no_int64,
                                  .dbl = DBAL_DRIVER_HAS(d, col_double) ? d->col_double : no_double,
                                  .text = DBAL_DRIVER_HAS(d, col_text) ? d->col_text : no_text};
}

/* Whether the owner lets the cursor be read here. Only a process other
 * than the one that opened it (a forked child) needs to ask: no call per
 * row otherwise. */
static int usable(dbal_rows *r, int report)
{
    if (r->pid == dbal__pid() || !r->hooks->usable)
        return DBAL_OK;
    return r->hooks->usable(r, report);
}

int dbal_rows_next(dbal_rows *r)
{
    if (!r)
        return DBAL_EMISUSE;
    int rc = usable(r, 1);
    if (rc != DBAL_OK)
        return rc;
    rc = r->m->next(r->dr, r->err);
    r->on_row = rc == DBAL_ROW;
    if (rc == DBAL_ROW || rc == DBAL_DONE || !r->hooks->failed)
        return rc;
    return r->hooks->failed(r, rc);
}

void dbal_rows_close(dbal_rows *r)
{
    if (!r)
        return;
    /* Rows the owner says may not be read here (the parent's, in a forked
     * child) are left as they are: closing may read the rest of them. */
    if (usable(r, 0) == DBAL_OK)
        r->m->close(r->dr);
    dbal__free(r->numbuf);
    for (int i = 0; r->blobtext && i < r->ncols; i++)
        dbal__buf_free(&r->blobtext[i]);
    dbal__free(r->blobtext);
    r->numbuf = NULL;
    r->blobtext = NULL;
    r->hooks->closed(r);
}

int dbal_col_count(dbal_rows *r)
{
    return r ? r->ncols : 0;
}

const char *dbal_col_name(dbal_rows *r, int col)
{
    if (!r || col < 0 || col >= r->ncols)
        return NULL;
    return r->m->name(r->dr, col);
}

/* Whether col of the current row can be read; sets the session error if not. */
static int readable(dbal_rows *r, int col)
{
    if (!r)
        return DBAL_EMISUSE;
    if (col < 0 || col >= r->ncols)
        return dbal__error_set(r->err, DBAL_EINVAL, NULL, 0, "column %d is out of range (%d columns)", col,
                               r->ncols);
    if (!r->on_row)
        return dbal__error_set(r->err, DBAL_EMISUSE, NULL, 0,
                               "no current row: call dbal_rows_next() and check for DBAL_ROW");
    return DBAL_OK;
}

/* The common case (a valid column of the current row) first, with the
 * reader copied into the cursor: no chain of loads per value. */
static inline int raw(dbal_rows *r, int col, dbal_value *v)
{
    if (r && r->on_row && (unsigned)col < (unsigned)r->ncols) {
        r->m->value(r->dr, col, v);
        return DBAL_OK;
    }
    return readable(r, col);
}

int dbal__rows_value(dbal_rows *r, int col, dbal_value *v)
{
    return raw(r, col, v);
}

/* A bool that a text-format driver (PostgreSQL) hands over as "t"/"f". Only
 * asked on paths that are already off the fast one. */
static int is_bool_column(dbal_rows *r, int col)
{
    return r->m->type(r->dr, col) == DBAL_TYPE_BOOL;
}

/* Text that is not an integer may still be a value of a typed column that a
 * text-format driver sends as text ("t", "1e+15"): convert it by the
 * column's type, as the value itself would convert on a binary driver. */
static int typed_text_to_int64(dbal_rows *r, int col, const dbal_value *v, int64_t *out)
{
    dbal_type t = r->m->type(r->dr, col);
    int rc = DBAL_ETYPE;
    if (t == DBAL_TYPE_BOOL) {
        int b;
        if ((rc = dbal__parse_bool(v->u.s, v->len, &b)) == DBAL_OK)
            *out = b;
    } else if (t == DBAL_TYPE_DOUBLE) {
        double d;
        if ((rc = dbal__parse_double(v->u.s, v->len, &d)) == DBAL_OK)
            rc = dbal__double_to_int64(d, out);
    } else if (t == DBAL_TYPE_NUMERIC) {
        rc = dbal__num_to_int64(v->u.s, v->len, out); /* "19.00" is 19, "19.5" is not */
    }
    return rc;
}

int dbal__rows_conversion_error(dbal_rows *r, int col, int rc, const char *want)
{
    if (rc == DBAL_ENULL)
        return dbal__error_set(r->err, rc, NULL, 0, "column %d is NULL, %s expected", col, want);
    return dbal__error_set(r->err, rc, rc == DBAL_ERANGE ? "22003" : "22P02", 0,
                           rc == DBAL_ERANGE ? "column %d: value out of range for %s"
                                             : "column %d: value cannot be read as %s",
                           col, want);
}

dbal_type dbal_col_type(dbal_rows *r, int col)
{
    if (readable(r, col))
        return DBAL_TYPE_NULL;
    return r->m->type(r->dr, col);
}

int dbal_col_is_null(dbal_rows *r, int col)
{
    dbal_value v;
    return raw(r, col, &v) != DBAL_OK || v.type == DBAL_TYPE_NULL;
}

/* Conversions to int64 of a value that is not one already. */
static int int64_from(dbal_rows *r, int col, const dbal_value *v, int64_t *out)
{
    int rc;
    switch (v->type) {
    case DBAL_TYPE_INT64: *out = v->u.i; return DBAL_OK;
    case DBAL_TYPE_BOOL: *out = v->u.b; return DBAL_OK;
    case DBAL_TYPE_DOUBLE: rc = dbal__double_to_int64(v->u.d, out); break;
    case DBAL_TYPE_TEXT:
    case DBAL_TYPE_NUMERIC:
        rc = dbal__parse_int64(v->u.s, v->len, out);
        if (rc == DBAL_ETYPE)
            rc = typed_text_to_int64(r, col, v, out);
        break;
    case DBAL_TYPE_NULL: rc = DBAL_ENULL; break;
    default: rc = DBAL_ETYPE; break;
    }
    return rc ? dbal__rows_conversion_error(r, col, rc, "an integer") : DBAL_OK;
}

/* The getters' common case first: a valid column of the current row whose
 * value the driver reads straight into the wanted type (the typed slots).
 * Anything else goes the general way, out of line, through a dbal_value
 * and the conversion rules above, which the typed slots never bypass:
 * they answer only for values those rules would take as they are. */
static inline int current(const dbal_rows *r, int col)
{
    return r && r->on_row && (unsigned)col < (unsigned)r->ncols;
}

OUT_OF_LINE static int int64_general(dbal_rows *r, int col, int64_t *out)
{
    dbal_value v;
    int rc = raw(r, col, &v);
    return rc ? rc : int64_from(r, col, &v, out);
}

static inline int get_int64(dbal_rows *r, int col, int64_t *out)
{
    if (current(r, col) && r->m->int64(r->dr, col, out) == DBAL_OK)
        return DBAL_OK;
    return int64_general(r, col, out);
}

int dbal_col_get_int64(dbal_rows *r, int col, int64_t *out)
{
    if (r && !out)
        return dbal__error_set(r->err, DBAL_EINVAL, NULL, 0, "dbal_col_get_int64: out is NULL");
    return get_int64(r, col, out);
}

static int double_from(dbal_rows *r, int col, const dbal_value *v, double *out)
{
    int rc;
    switch (v->type) {
    case DBAL_TYPE_DOUBLE: *out = v->u.d; return DBAL_OK;
    case DBAL_TYPE_INT64:
        /* A bool is not a number, whether it arrives as 0/1 (SQLite) or as
         * "t"/"f" (PostgreSQL). */
        if (is_bool_column(r, col)) {
            rc = DBAL_ETYPE;
            break;
        }
        *out = (double)v->u.i;
        return DBAL_OK;
    case DBAL_TYPE_TEXT:
    case DBAL_TYPE_NUMERIC: rc = dbal__parse_double(v->u.s, v->len, out); break;
    case DBAL_TYPE_NULL: rc = DBAL_ENULL; break;
    default: rc = DBAL_ETYPE; break;
    }
    return rc ? dbal__rows_conversion_error(r, col, rc, "a double") : DBAL_OK;
}

OUT_OF_LINE static int double_general(dbal_rows *r, int col, double *out)
{
    dbal_value v;
    int rc = raw(r, col, &v);
    return rc ? rc : double_from(r, col, &v, out);
}

static inline int get_double(dbal_rows *r, int col, double *out)
{
    if (current(r, col) && r->m->dbl(r->dr, col, out) == DBAL_OK)
        return DBAL_OK;
    return double_general(r, col, out);
}

int dbal_col_get_double(dbal_rows *r, int col, double *out)
{
    if (r && !out)
        return dbal__error_set(r->err, DBAL_EINVAL, NULL, 0, "dbal_col_get_double: out is NULL");
    return get_double(r, col, out);
}

int dbal_col_get_bool(dbal_rows *r, int col, int *out)
{
    dbal_value v;
    if (r && !out)
        return dbal__error_set(r->err, DBAL_EINVAL, NULL, 0, "dbal_col_get_bool: out is NULL");
    int rc = raw(r, col, &v);
    if (rc)
        return rc;
    switch (v.type) {
    case DBAL_TYPE_BOOL: *out = v.u.b; return DBAL_OK;
    case DBAL_TYPE_INT64:
        if (v.u.i == 0 || v.u.i == 1) {
            *out = (int)v.u.i;
            return DBAL_OK;
        }
        rc = DBAL_ETYPE;
        break;
    case DBAL_TYPE_TEXT:
        switch (r->m->type(r->dr, col)) {
        case DBAL_TYPE_INT64: { /* an integer column sent as text: 0 and 1 only */
            int64_t i;
            rc = dbal__parse_int64(v.u.s, v.len, &i);
            if (rc == DBAL_OK && (i == 0 || i == 1))
                *out = (int)i;
            else if (rc == DBAL_OK)
                rc = DBAL_ETYPE;
            break;
        }
        case DBAL_TYPE_DOUBLE: rc = DBAL_ETYPE; break; /* a double is not a bool */
        default: rc = dbal__parse_bool(v.u.s, v.len, out); break;
        }
        break;
    case DBAL_TYPE_NULL: rc = DBAL_ENULL; break;
    default: rc = DBAL_ETYPE; break;
    }
    return rc ? dbal__rows_conversion_error(r, col, rc, "a bool") : DBAL_OK;
}

/* Text of a number, kept in a per-column buffer of the cursor so that the
 * pointers of several columns of one row stay valid together. */
static const char *number_text(dbal_rows *r, int col, const dbal_value *v, size_t *len)
{
    if (!r->numbuf && !(r->numbuf = dbal__malloc((size_t)r->ncols * sizeof *r->numbuf)))
        return NULL;
    char *buf = r->numbuf[col];
    *len = 0;
    buf[0] = '\0';
    dbal__value_text(v, buf, len);
    /* Bools read as text are "t" and "f", as PostgreSQL prints them, also
     * where SQLite stores them as 0/1 in a BOOLEAN column. */
    if (v->type == DBAL_TYPE_INT64 && (v->u.i == 0 || v->u.i == 1) && is_bool_column(r, col)) {
        *len = 1;
        memcpy(buf, v->u.i ? "t" : "f", 2);
    }
    return buf;
}

/* A blob read as text gets a NUL-terminated copy in a per-column buffer
 * that is reused from row to row. */
static const char *blob_as_text(dbal_rows *r, int col, const dbal_value *v)
{
    if (!r->blobtext) {
        if (!(r->blobtext = dbal__calloc((size_t)r->ncols, sizeof *r->blobtext)))
            return NULL;
        for (int i = 0; i < r->ncols; i++)
            r->blobtext[i] = (dbal__buf)DBAL__BUF_INIT(&dbal__alloc_core);
    }
    dbal__buf *b = &r->blobtext[col];
    dbal__buf_clear(b);
    return dbal__buf_append(b, v->u.p, v->len) ? b->data : NULL;
}

/* The bytes of a value: as they are for text and blobs, the decimal form of
 * numbers; want_nul asks for a terminator after blob bytes too. */
OUT_OF_LINE static int bytes_general(dbal_rows *r, int col, int want_nul, const char **out, size_t *len)
{
    dbal_value v;
    size_t n = 0;
    *out = NULL;
    int rc = raw(r, col, &v);
    if (rc)
        return rc;
    switch (v.type) {
    case DBAL_TYPE_TEXT:
    case DBAL_TYPE_NUMERIC:
    case DBAL_TYPE_JSON:
        *out = v.u.s;
        n = v.len;
        break;
    case DBAL_TYPE_BLOB:
        *out = want_nul ? blob_as_text(r, col, &v) : v.u.s;
        n = v.len;
        break;
    case DBAL_TYPE_NULL: return dbal__rows_conversion_error(r, col, DBAL_ENULL, "text");
    default: *out = number_text(r, col, &v, &n); break;
    }
    if (!*out)
        return dbal__error_set(r->err, DBAL_ENOMEM, NULL, 0, NULL);
    if (len)
        *len = n;
    return DBAL_OK;
}

static inline int bytes_of(dbal_rows *r, int col, int want_nul, const char **out, size_t *len)
{
    size_t n;
    if (current(r, col) && r->m->text(r->dr, col, out, &n) == DBAL_OK) {
        if (len)
            *len = n;
        return DBAL_OK;
    }
    return bytes_general(r, col, want_nul, out, len);
}

int dbal_col_get_text(dbal_rows *r, int col, const char **out, size_t *len)
{
    if (!r)
        return DBAL_EMISUSE;
    if (!out)
        return dbal__error_set(r->err, DBAL_EINVAL, NULL, 0, "dbal_col_get_text: out is NULL");
    return bytes_of(r, col, 1, out, len);
}

OUT_OF_LINE static int64_t int64_or_zero(dbal_rows *r, int col)
{
    int64_t v = 0;
    return int64_general(r, col, &v) == DBAL_OK ? v : 0;
}

int64_t dbal_col_int64(dbal_rows *r, int col)
{
    int64_t v;
    if (current(r, col) && r->m->int64(r->dr, col, &v) == DBAL_OK)
        return v;
    return int64_or_zero(r, col);
}

OUT_OF_LINE static double double_or_zero(dbal_rows *r, int col)
{
    double v = 0;
    return double_general(r, col, &v) == DBAL_OK ? v : 0;
}

double dbal_col_double(dbal_rows *r, int col)
{
    double v;
    if (current(r, col) && r->m->dbl(r->dr, col, &v) == DBAL_OK)
        return v;
    return double_or_zero(r, col);
}

int dbal_col_bool(dbal_rows *r, int col)
{
    int v = 0;
    return dbal_col_get_bool(r, col, &v) == DBAL_OK ? v : 0;
}

const char *dbal_col_text(dbal_rows *r, int col)
{
    const char *t = NULL;
    return dbal_col_get_text(r, col, &t, NULL) == DBAL_OK ? t : NULL;
}

const void *dbal_col_blob(dbal_rows *r, int col, size_t *len)
{
    const char *t = NULL;
    size_t n = 0;
    if (bytes_of(r, col, 0, &t, &n) != DBAL_OK)
        n = 0;
    if (len)
        *len = n;
    return t;
}

size_t dbal_col_bytes(dbal_rows *r, int col)
{
    size_t n = 0;
    dbal_col_blob(r, col, &n);
    return n;
}
