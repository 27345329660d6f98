/*
 * Dates, times, numerics, UUIDs and JSON on SQLite, which has none of
 * them: each is stored in one documented form (README, "Dates, times,
 * numerics, UUIDs and JSON") and recognised on the way back by the
 * column's declared type, as SQLAlchemy does.
 *
 *   TIMESTAMP, DATETIME           "YYYY-MM-DD HH:MM:SS.ffffff"
 *   TIMESTAMPTZ, TIMESTAMP WITH TIME ZONE   the same in UTC, "+00:00" after
 *   DATE                          "YYYY-MM-DD"
 *   TIME                          "HH:MM:SS.ffffff"
 *   NUMERIC, DECIMAL (p, s)       text that NUMERIC affinity makes INTEGER
 *                                 or REAL; read back at scale s
 *   UUID                          36 lower-case characters
 *   JSON, JSONB                   the text
 *
 * Fixed widths make text order time order (years 0 to 9999, which is
 * also the range of SQLite's date functions, which read all of these).
 */
#include "sqlite_internal.h"

#include "datetime.h"
#include "decimal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- declared types ---- */

static const struct {
    const char *name;
    dbal_type kind;
} kinds[] = {
    {"TIMESTAMP", DBAL_TYPE_TIMESTAMP},
    {"DATETIME", DBAL_TYPE_TIMESTAMP},
    {"TIMESTAMP WITHOUT TIME ZONE", DBAL_TYPE_TIMESTAMP},
    {"TIMESTAMPTZ", DBAL_TYPE_TIMESTAMPTZ},
    {"TIMESTAMP WITH TIME ZONE", DBAL_TYPE_TIMESTAMPTZ},
    {"DATE", DBAL_TYPE_DATE},
    {"TIME", DBAL_TYPE_TIME},
    {"TIME WITHOUT TIME ZONE", DBAL_TYPE_TIME},
    {"NUMERIC", DBAL_TYPE_NUMERIC},
    {"DECIMAL", DBAL_TYPE_NUMERIC},
    {"UUID", DBAL_TYPE_UUID},
    {"JSON", DBAL_TYPE_JSON},
    {"JSONB", DBAL_TYPE_JSON},
    {"BOOLEAN", DBAL_TYPE_BOOL},
    {"BOOL", DBAL_TYPE_BOOL},
};

/* The kind of a declared type: its name upper-cased with runs of spaces
 * made one and any "(...)" left out ("TIMESTAMP(3) WITH TIME ZONE"); the
 * scale from a NUMERIC's "(p, s)" ("(p)": 0). */
static dbal_type kind_of(const char *decl, int *scale)
{
    char name[40];
    size_t n = 0;
    const char *args = NULL;
    *scale = -1;
    for (; *decl && n + 1 < sizeof name; decl++) {
        if (*decl == '(') {
            args = args ? args : decl;
            while (*decl && *decl != ')')
                decl++;
            if (!*decl)
                break;
            continue;
        }
        char ch = *decl >= 'a' && *decl <= 'z' ? (char)(*decl - 32) : *decl;
        if (ch == ' ' && (n == 0 || name[n - 1] == ' '))
            continue;
        name[n++] = ch;
    }
    decl = args ? args : "";
    while (n && name[n - 1] == ' ')
        n--;
    name[n] = '\0';
    dbal_type kind = DBAL_TYPE_NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(name, kinds[i].name) == 0)
            kind = kinds[i].kind;
    if (kind == DBAL_TYPE_NUMERIC && *decl == '(') {
        const char *comma = strchr(decl, ',');
        *scale = 0;
        if (comma) {
            int s = 0;
            for (comma++; *comma == ' '; comma++)
                ;
            for (; *comma >= '0' && *comma <= '9' && s < 10000; comma++)
                s = s * 10 + (*comma - '0');
            *scale = s;
        }
    }
    return kind;
}

void sq_types_free(sq_stmt *s)
{
    for (int i = 0; s->cols && i < s->ncols; i++)
        sq_host->free(s->cols[i].buf);
    sq_host->free(s->cols);
    s->cols = NULL;
    s->ncols = 0;
}

void sq_types_describe(sq_stmt *s)
{
    int reprepared = sqlite3_stmt_status(s->st, SQLITE_STMTSTATUS_REPREPARE, 0);
    if (s->described && s->reprepared == reprepared)
        return;
    sq_types_free(s);
    s->described = 1;
    s->reprepared = reprepared;
    int ncols = sqlite3_column_count(s->st);
    for (int i = 0; i < ncols; i++) {
        const char *decl = sqlite3_column_decltype(s->st, i);
        int scale;
        dbal_type kind = decl ? kind_of(decl, &scale) : DBAL_TYPE_NULL;
        if (kind == DBAL_TYPE_NULL)
            continue;
        if (!s->cols) {
            /* Out of memory: the values are read by storage class alone. */
            if (!(s->cols = sq_host->malloc((size_t)ncols * sizeof *s->cols)))
                return;
            memset(s->cols, 0, (size_t)ncols * sizeof *s->cols);
            s->ncols = ncols;
        }
        s->cols[i].kind = kind;
        s->cols[i].scale = scale;
    }
}

/* ---- parameters ---- */

static int refuse(dbal_error *err, int code, const char *sqlstate, const char *what)
{
    sq_host->set_error(err, code, sqlstate, 0, "%s", what);
    return code;
}

/* Days that SQLite's date functions and fixed-width text cover. */
static int in_text_range(int64_t days)
{
    return days >= dbal__days_from_civil(0, 1, 1) && days < dbal__days_from_civil(10000, 1, 1);
}

static int bound(sq_conn *c, int rc, dbal_error *err)
{
    return rc == SQLITE_OK ? DBAL_OK : sq_error(c->db, rc, err);
}

static int bind_numeric(sq_conn *c, sqlite3_stmt *st, int idx, const dbal_value *v, dbal_error *err)
{
    dbal__num n;
    dbal__num_scan(v->u.s, v->len, &n);                         /* checked by the core */
    if (n.kind == DBAL__NUM_INF || n.kind == DBAL__NUM_NEG_INF) /* REAL sorts them right */
        return bound(c, sqlite3_bind_double(st, idx, n.kind == DBAL__NUM_INF ? INFINITY : -INFINITY), err);
    if (n.kind == DBAL__NUM_FINITE && n.nsig > 15) {
        /* NUMERIC affinity would make it a REAL, rounded: refuse rather
         * than lose digits, unless it is an integer INTEGER holds. */
        int64_t i;
        if (dbal__num_to_int64(v->u.s, v->len, &i) == DBAL_OK)
            return bound(c, sqlite3_bind_int64(st, idx, i), err);
        return refuse(err, DBAL_ERANGE, "22003",
                      "numeric value has more than the 15 significant digits SQLite keeps exactly");
    }
    return bound(c, sqlite3_bind_text64(st, idx, v->u.s, v->len, SQLITE_STATIC, SQLITE_UTF8), err);
}

int sq_bind_typed(sq_conn *c, sqlite3_stmt *st, int idx, const dbal_value *v, dbal_error *err)
{
    char buf[DBAL__DT_BUF];
    size_t n = 0;
    int64_t days, tod;
    switch (v->type) {
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ:
        dbal__split_timestamp(v->u.i, &days, &tod);
        if (v->u.i != INT64_MAX && v->u.i != INT64_MIN && !in_text_range(days))
            return refuse(err, DBAL_EDATA, "22008", "timestamp out of range for SQLite (years 0 to 9999)");
        n = dbal__format_timestamp(v->u.i, v->type == DBAL_TYPE_TIMESTAMPTZ, buf);
        break;
    case DBAL_TYPE_DATE:
        if (v->u.i != INT64_MAX && v->u.i != INT64_MIN && !in_text_range(v->u.i))
            return refuse(err, DBAL_EDATA, "22008", "date out of range for SQLite (years 0 to 9999)");
        n = dbal__format_date(v->u.i, buf);
        break;
    case DBAL_TYPE_TIME: n = dbal__format_time(v->u.i, buf); break;
    case DBAL_TYPE_UUID: n = dbal__format_uuid(v->u.p, buf); break;
    case DBAL_TYPE_NUMERIC: return bind_numeric(c, st, idx, v, err);
    default: /* JSON: its text */
        return bound(c, sqlite3_bind_text64(st, idx, v->u.s, v->len, SQLITE_STATIC, SQLITE_UTF8), err);
    }
    return bound(c, sqlite3_bind_text64(st, idx, buf, n, SQLITE_TRANSIENT, SQLITE_UTF8), err);
}

/* ---- values ---- */

/* A date or time column's text as its int64, when it reads as one. */
static void temporal(dbal_type kind, dbal_value *out)
{
    int64_t v;
    if (dbal__dt_read(kind, out->u.s, out->len, &v) == DBAL_OK) {
        out->type = kind;
        out->u.i = v;
        out->len = 0;
    }
}

/* A NUMERIC column's INTEGER or REAL as text at the column's scale. */
static void numeric_text(sq_col *col, dbal_value *out)
{
    double d = out->type == DBAL_TYPE_DOUBLE ? out->u.d : (double)out->u.i;
    size_t need = 330 + (size_t)(col->scale > 0 ? col->scale : 0);
    if (col->cap < need) {
        char *b = sq_host->realloc(col->buf, need);
        if (!b)
            return; /* out of memory: the number as it is */
        col->buf = b;
        col->cap = need;
    }
    size_t n;
    if (out->type == DBAL_TYPE_INT64) {
        /* Exactly, digits and all: an int64 may have more than 15. */
        n = (size_t)snprintf(col->buf, col->cap, "%lld", (long long)out->u.i);
        if (col->scale > 0) {
            col->buf[n++] = '.';
            memset(col->buf + n, '0', (size_t)col->scale);
            n += (size_t)col->scale;
            col->buf[n] = '\0';
        }
    } else {
        n = dbal__num_from_double(d, col->scale, col->buf, col->cap);
    }
    out->type = DBAL_TYPE_TEXT;
    out->u.s = col->buf;
    out->len = n;
}

void sq_typed_value(sq_col *col, dbal_value *out)
{
    switch (col->kind) {
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ:
    case DBAL_TYPE_DATE:
    case DBAL_TYPE_TIME:
        if (out->type == DBAL_TYPE_TEXT)
            temporal(col->kind, out);
        break;
    case DBAL_TYPE_NUMERIC:
        if (out->type == DBAL_TYPE_DOUBLE || (out->type == DBAL_TYPE_INT64 && col->scale > 0))
            numeric_text(col, out);
        break;
    default: break;
    }
}

dbal_type sq_typed_type(const sq_col *col, int storage)
{
    switch (col->kind) {
    case DBAL_TYPE_BOOL: return storage == SQLITE_INTEGER ? DBAL_TYPE_BOOL : DBAL_TYPE_NULL;
    case DBAL_TYPE_NUMERIC:
    case DBAL_TYPE_JSON: return storage != SQLITE_BLOB ? col->kind : DBAL_TYPE_NULL;
    case DBAL_TYPE_UUID: return storage == SQLITE_TEXT || storage == SQLITE_BLOB ? col->kind : DBAL_TYPE_NULL;
    default: return storage == SQLITE_TEXT ? col->kind : DBAL_TYPE_NULL;
    }
}
