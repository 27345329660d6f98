/* Statements: prepared once per connection and reused, parameters bound
 * without intermediate strings, rows stepped one at a time. */
#include "sqlite_internal.h"

#include <string.h>

#if defined(__GNUC__)
/* Once per statement, the steps of a statement's start are inline in
 * the two slots that run statements: one frame, not four. */
#define SQ_INLINE inline __attribute__((always_inline))
#else
#define SQ_INLINE inline
#endif

const char *sq_skip_noise(const char *sql, char also)
{
    for (;;) {
        if (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || (also && *sql == also)) {
            sql++;
        } else if (sql[0] == '-' && sql[1] == '-') {
            while (*sql && *sql != '\n')
                sql++;
        } else if (sql[0] == '/' && sql[1] == '*') {
            const char *end = strstr(sql + 2, "*/");
            if (!end)
                return NULL;
            sql = end + 2;
        } else {
            return sql;
        }
    }
}

/* Only whitespace and comments may follow the one statement of a call:
 * PostgreSQL refuses several statements with parameters, and running the
 * first of them silently would lose the rest. */
static int only_trailing_noise(const char *tail)
{
    const char *rest = sq_skip_noise(tail, ';');
    return !rest || !*rest;
}

static int prepare_new(sq_conn *c, const char *sql, size_t len, int cached, sq_stmt **out, dbal_error *err)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sq_prepare_guarded(c, sql, len, cached ? SQLITE_PREPARE_PERSISTENT : 0, &st, &tail, err);
    if (rc != DBAL_OK)
        return rc;
    if (!st) {
        sq_host->set_error(err, DBAL_EMISUSE, NULL, 0, "the statement is empty");
        return DBAL_EMISUSE;
    }
    if (tail && !only_trailing_noise(tail)) {
        sqlite3_finalize(st);
        sq_host->set_error(err, DBAL_EMISUSE, NULL, 0,
                           "one statement per call: the SQL holds more than one statement");
        return DBAL_EMISUSE;
    }
    sq_stmt *s = sq_host->malloc(sizeof *s);
    if (!s) {
        sqlite3_finalize(st);
        sq_host->set_error(err, DBAL_ENOMEM, "53200", 0, "out of memory");
        return DBAL_ENOMEM;
    }
    *s = (sq_stmt){.st = st,
                   .cached = cached,
                   .plain_read = c->snapshots && sq_plain_read(st, sql),
                   .nparams = sqlite3_bind_parameter_count(st)};
    if (cached && stmt_cache_put(c->cache, sql, len, NULL, 0, s) != DBAL_OK)
        s->cached = 0; /* still usable, just not kept */
    if (s->cached) {
        c->last = s;
        c->last_sql = stmt_cache_head_sql(c->cache);
    }
    *out = s;
    return DBAL_OK;
}

/* The cached statement for sql, or a fresh one when it is not cached or a
 * cursor is still reading the cached one. The statement run last comes
 * again most often (a loop of inserts, of lookups): its SQL's content is
 * compared, never just the pointer, since an application may write other
 * SQL into the same buffer; strcmp reads no further than sql's end. */
static SQ_INLINE int prepare(sq_conn *c, const char *sql, sq_stmt **out, dbal_error *err)
{
    sq_stmt *s = c->last;
    if (s && !s->busy && strcmp(c->last_sql, sql) == 0) {
        *out = s;
        return DBAL_OK;
    }
    size_t len = strlen(sql);
    if (c->cache) {
        /* The lookup makes its entry the most recent: last stays the
         * cache's head, so skipping the lookup for it keeps the LRU order. */
        c->last = NULL;
        s = stmt_cache_get(c->cache, sql, len, NULL, 0);
        if (s && !s->busy) {
            c->last = s;
            c->last_sql = stmt_cache_head_sql(c->cache);
            *out = s;
            return DBAL_OK;
        }
        if (!s)
            return prepare_new(c, sql, len, 1, out, err);
    }
    return prepare_new(c, sql, len, 0, out, err);
}

void sq_stmt_free(sq_stmt *s)
{
    sqlite3_finalize(s->st);
    sq_types_free(s);
    sq_host->free(s);
}

/* Ends one use of a statement: reset for the next use, or finalize. */
static void done_with(sq_stmt *s)
{
    s->busy = 0;
    if (s->cached && !s->evicted) {
        /* No sqlite3_clear_bindings: bind() sets every parameter before the
         * next step (it checks the count). */
        sqlite3_reset(s->st);
        return;
    }
    sq_stmt_free(s);
}

static SQ_INLINE int bind(sq_conn *c, sq_stmt *s, const dbal_value *params, size_t n, dbal_error *err)
{
    int want = s->nparams;
    if ((size_t)want != n) {
        sq_host->set_error(err, DBAL_EMISUSE, NULL, 0,
                           "statement has %d placeholder%s, %zu parameter%s given", want,
                           want == 1 ? "" : "s", n, n == 1 ? "" : "s");
        return DBAL_EMISUSE;
    }
    for (size_t i = 0; i < n; i++) {
        const dbal_value *v = &params[i];
        int idx = (int)i + 1, rc;
        switch (v->type) {
        case DBAL_TYPE_NULL: rc = sqlite3_bind_null(s->st, idx); break;
        case DBAL_TYPE_BOOL: rc = sqlite3_bind_int(s->st, idx, v->u.b); break;
        case DBAL_TYPE_INT64: rc = sqlite3_bind_int64(s->st, idx, v->u.i); break;
        case DBAL_TYPE_DOUBLE: rc = sqlite3_bind_double(s->st, idx, v->u.d); break;
        /* SQLITE_STATIC: the value outlives the step, as dbal's API promises. */
        case DBAL_TYPE_TEXT:
            rc = sqlite3_bind_text64(s->st, idx, v->u.s, v->len, SQLITE_STATIC, SQLITE_UTF8);
            break;
        case DBAL_TYPE_BLOB: rc = sqlite3_bind_blob64(s->st, idx, v->u.p, v->len, SQLITE_STATIC); break;
        default:
            if ((rc = sq_bind_typed(c, s->st, idx, v, err)) != DBAL_OK)
                return rc;
            continue;
        }
        if (rc != SQLITE_OK)
            return sq_error(c->db, rc, err);
    }
    return DBAL_OK;
}

static SQ_INLINE int start(sq_conn *c, const char *sql, const dbal_value *params, size_t n, sq_stmt **out,
                           dbal_error *err)
{
    sq_stmt *s;
    int rc;
    if (c->inline_budget > 0 && (rc = sq_inline_start(c, err)) != DBAL_OK)
        return rc;
    if ((rc = prepare(c, sql, &s, err)) != DBAL_OK)
        return rc;
    s->busy = 1;
    /* Inline on a file, a write would run only to have its commit refused
     * (sqlite_inline.c) and run again on a worker: it goes there at once. */
    if (c->inline_budget > 0 && !c->inline_ram && !sqlite3_stmt_readonly(s->st)) {
        c->inline_stopped = 1;
        done_with(s);
        sq_host->set_error(err, DBAL_EBUSY, NULL, 0, "a write on a file: handed over to a worker");
        return DBAL_EBUSY;
    }
    if ((c->held || s->plain_read) && (rc = sq_snap_before(c, s->plain_read, err)) != DBAL_OK) {
        done_with(s);
        return rc;
    }
    sq_start_clock(c);
    rc = bind(c, s, params, n, err);
    if (rc != DBAL_OK) {
        done_with(s);
        return rc;
    }
    *out = s;
    return DBAL_OK;
}

static int exec_stmt(sq_conn *c, const char *sql, const dbal_value *params, size_t n, int64_t *affected,
                     dbal_error *err)
{
    sq_stmt *s;
    int rc = start(c, sql, params, n, &s, err);
    if (rc != DBAL_OK)
        return rc;
    int step;
    while ((step = sqlite3_step(s->st)) == SQLITE_ROW)
        ;
    if (step != SQLITE_DONE) {
        rc = sq_fail(c, step, err);
    } else if (affected) {
        /* sqlite3_changes keeps the count of the last write: a SELECT must not
         * report it again. */
        *affected = sqlite3_stmt_readonly(s->st) ? 0 : sqlite3_changes64(c->db);
    }
    done_with(s);
    return rc;
}

int sq_exec(dbal_driver_conn *base, const char *sql, const dbal_value *params, size_t n, int64_t *affected,
            dbal_error *err)
{
    sq_conn *c = (sq_conn *)base;
    sq_snap_enter(c);
    int rc = exec_stmt(c, sql, params, n, affected, err);
    sq_snap_exit(c);
    return rc;
}

static int query_stmt(sq_conn *c, const char *sql, const dbal_value *params, size_t n, dbal_driver_rows **out,
                      dbal_error *err)
{
    sq_rows *r = c->spare;
    c->spare = NULL;
    if (!r && !(r = sq_host->malloc(sizeof *r))) {
        sq_host->set_error(err, DBAL_ENOMEM, "53200", 0, "out of memory");
        return DBAL_ENOMEM;
    }
    int rc = start(c, sql, params, n, &r->stmt, err);
    if (rc != DBAL_OK) {
        c->spare = r; /* nothing of it was used: kept for the next query (a hand-over's rerun) */
        return rc;
    }
    r->conn = c;
    r->st = r->stmt->st;
    r->base.ncols = sqlite3_column_count(r->st);
    /* Step once now: errors before the first row (a constraint hit by
     * INSERT ... RETURNING) come from query() as on PostgreSQL. */
    int step = sqlite3_step(r->st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sq_fail(c, step, err);
        done_with(r->stmt);
        sq_host->free(r);
        return rc;
    }
    r->pending = step == SQLITE_ROW;
    r->done = step == SQLITE_DONE;
    /* After the first step, which prepares again after a schema change. */
    sq_types_describe(r->stmt);
    r->cols = r->stmt->cols;
    c->cursors++;
    *out = &r->base;
    return DBAL_OK;
}

int sq_query(dbal_driver_conn *base, const char *sql, const dbal_value *params, size_t n,
             dbal_driver_rows **out, dbal_error *err)
{
    sq_conn *c = (sq_conn *)base;
    sq_snap_enter(c);
    int rc = query_stmt(c, sql, params, n, out, err);
    sq_snap_exit(c); /* an open cursor keeps the connection active */
    return rc;
}

int sq_rows_next(dbal_driver_rows *base, dbal_error *err)
{
    sq_rows *r = (sq_rows *)base;
    if (r->pending) {
        r->pending = 0;
        return DBAL_ROW;
    }
    if (r->done)
        return DBAL_DONE;
    /* The cursor's statement runs again: a commit of a statement run
     * meanwhile (sqlite_timeout.c) is not this one's. */
    r->conn->committed = 0;
    int step = sqlite3_step(r->st);
    if (step == SQLITE_ROW)
        return DBAL_ROW;
    r->done = 1;
    if (step == SQLITE_DONE)
        return DBAL_DONE;
    return sq_fail(r->conn, step, err);
}

void sq_rows_close(dbal_driver_rows *base)
{
    sq_rows *r = (sq_rows *)base;
    sq_conn *c = r->conn;
    done_with(r->stmt);
    c->cursors--;
    if (!c->spare)
        c->spare = r; /* reused by the next query: no allocation per query */
    else
        sq_host->free(r);
    sq_snap_exit(c);
}

const char *sq_col_name(dbal_driver_rows *base, int col)
{
    return sqlite3_column_name(((sq_rows *)base)->st, col);
}

void sq_col_value(dbal_driver_rows *base, int col, dbal_value *out)
{
    /* One API entry per value: the sqlite3_value is read without the
     * connection's mutex, which SQLite allows when a single thread uses the
     * connection, as a dbal session's is. */
    sqlite3_value *v = sqlite3_column_value(((sq_rows *)base)->st, col);
    out->len = 0;
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        out->type = DBAL_TYPE_INT64;
        out->u.i = sqlite3_value_int64(v);
        break;
    case SQLITE_FLOAT:
        out->type = DBAL_TYPE_DOUBLE;
        out->u.d = sqlite3_value_double(v);
        break;
    case SQLITE_TEXT:
        out->type = DBAL_TYPE_TEXT;
        out->u.s = (const char *)sqlite3_value_text(v);
        out->len = (size_t)sqlite3_value_bytes(v);
        break;
    case SQLITE_BLOB:
        /* _blob, not _text: _text would convert the value in place and
         * change what its type says afterwards. */
        out->type = DBAL_TYPE_BLOB;
        out->u.p = sqlite3_value_blob(v);
        out->len = (size_t)sqlite3_value_bytes(v);
        if (!out->u.p) /* an empty blob */
            out->u.p = "";
        break;
    default:
        out->type = DBAL_TYPE_NULL;
        out->u.i = 0;
        return;
    }
    sq_rows *r = (sq_rows *)base;
    if (r->cols && r->cols[col].kind)
        sq_typed_value(&r->cols[col], out);
}

dbal_type sq_col_type(dbal_driver_rows *base, int col)
{
    sq_rows *r = (sq_rows *)base;
    int storage = sqlite3_column_type(r->st, col);
    if (storage != SQLITE_NULL && r->cols && r->cols[col].kind) {
        /* The declared type says what the value means: a BOOLEAN's 0/1, a
         * DATE's text, as PostgreSQL's own types would. */
        dbal_type t = sq_typed_type(&r->cols[col], storage);
        if (t != DBAL_TYPE_NULL)
            return t;
    }
    switch (storage) {
    case SQLITE_INTEGER: return DBAL_TYPE_INT64;
    case SQLITE_FLOAT: return DBAL_TYPE_DOUBLE;
    case SQLITE_TEXT: return DBAL_TYPE_TEXT;
    case SQLITE_BLOB: return DBAL_TYPE_BLOB;
    default: return DBAL_TYPE_NULL;
    }
}

/* The typed slots answer only for a column without a declared kind (whose
 * values sq_typed_value never changes) and a storage class that is the
 * wanted form: the type is read first, because sqlite3_value_int64 would
 * convert text silently by SQLite's rules, not dbal's. */
static inline int has_kind(const sq_rows *r, int col)
{
    return r->cols && r->cols[col].kind;
}

int sq_col_int64(dbal_driver_rows *base, int col, int64_t *out)
{
    sq_rows *r = (sq_rows *)base;
    if (has_kind(r, col))
        return DBAL_ETYPE;
    sqlite3_value *v = sqlite3_column_value(r->st, col);
    if (sqlite3_value_type(v) != SQLITE_INTEGER)
        return DBAL_ETYPE;
    *out = sqlite3_value_int64(v);
    return DBAL_OK;
}

int sq_col_double(dbal_driver_rows *base, int col, double *out)
{
    sq_rows *r = (sq_rows *)base;
    if (has_kind(r, col))
        return DBAL_ETYPE;
    sqlite3_value *v = sqlite3_column_value(r->st, col);
    int storage = sqlite3_value_type(v);
    if (storage == SQLITE_FLOAT)
        *out = sqlite3_value_double(v);
    else if (storage == SQLITE_INTEGER) /* no kind: not a BOOLEAN column */
        *out = (double)sqlite3_value_int64(v);
    else
        return DBAL_ETYPE;
    return DBAL_OK;
}

int sq_col_text(dbal_driver_rows *base, int col, const char **out, size_t *len)
{
    sq_rows *r = (sq_rows *)base;
    if (has_kind(r, col))
        return DBAL_ETYPE;
    sqlite3_value *v = sqlite3_column_value(r->st, col);
    const char *t;
    /* NULL from sqlite3_value_text is out of memory: the general path
     * reports it. */
    if (sqlite3_value_type(v) != SQLITE_TEXT || !(t = (const char *)sqlite3_value_text(v)))
        return DBAL_ETYPE;
    *out = t;
    *len = (size_t)sqlite3_value_bytes(v);
    return DBAL_OK;
}
