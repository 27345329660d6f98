/*
 * minisqlite.c - the smallest useful dbal driver: SQLite files through the
 * required slots of the driver table only, built outside dbal's tree with
 * its installed driver kit (find_package(dbal), dbal_add_driver) by
 * tests/test_driver_kit.sh, which then runs the installed dbal-conformance
 * on it with minisqlite.caps.
 *
 *   sqlite+minisqlite:///path/to/file.db[?busy_timeout=MS]
 *
 * The "sqlite+" part makes the core read the URL as a file path and hand
 * it to the driver named after the '+'. No optional slot is filled, so the
 * core's fallbacks apply (ping is "SELECT 1", asynchronous statements run on
 * its worker threads) and dbal_last_insert_id, timeouts, cancel and
 * read-only sessions are DBAL_EUNSUPPORTED or not enforced: minisqlite.caps
 * says so, and the suite skips those cases.
 */
#include <dbal/driver.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const dbal_host *host;

typedef struct mini_engine {
    char *path;
    int busy_ms;
} mini_engine;

typedef struct mini_conn {
    dbal_driver_conn base;
    sqlite3 *db;
} mini_conn;

typedef struct mini_rows {
    dbal_driver_rows base;
    mini_conn *conn;
    sqlite3_stmt *st;
    int pending; /* the first step's result, taken by query; 0 once read */
    int done;
} mini_rows;

/* The SQLSTATE of a SQLite failure: what the suite's error cases need. */
static const char *sqlstate_of(int code, const char *msg)
{
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
        return "23505";
    if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
        return "23503";
    if (code == SQLITE_CONSTRAINT_NOTNULL)
        return "23502";
    if (code == SQLITE_CONSTRAINT_CHECK)
        return "23514";
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return "55P03";
    if ((code & 0xff) == SQLITE_ERROR) {
        if (strstr(msg, "no such table"))
            return "42P01";
        if (strstr(msg, "no such column"))
            return "42703";
        if (strstr(msg, "syntax error") || strstr(msg, "incomplete input"))
            return "42601";
    }
    return "XX000";
}

/* Fills err from the connection's last error; returns its dbal code. */
static int fail(sqlite3 *db, dbal_error *err)
{
    int code = sqlite3_extended_errcode(db);
    const char *msg = sqlite3_errmsg(db);
    const char *state = sqlstate_of(code, msg);
    host->set_error(err, host->code_for_sqlstate(state), state, code, "minisqlite: %s", msg);
    return err->code;
}

static int mini_engine_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err)
{
    const dbal_url *u = cfg->url;
    if (!u->database || strcmp(u->database, ":memory:") == 0) {
        host->set_error(err, DBAL_EURL, NULL, 0, "minisqlite needs a file: sqlite+minisqlite:///path");
        return DBAL_EURL;
    }
    int busy_ms = 5000;
    for (size_t i = 0; i < u->nparams; i++) {
        char *end;
        long ms = strtol(u->params[i].value, &end, 10);
        if (strcmp(u->params[i].key, "busy_timeout") != 0 || *end || ms < 0 || ms > 3600000) {
            host->set_error(err, DBAL_EURL, NULL, 0, "minisqlite knows one option: busy_timeout=MS");
            return DBAL_EURL;
        }
        busy_ms = (int)ms;
    }
    mini_engine *e = host->malloc(sizeof *e);
    char *path = host->malloc(strlen(u->database) + 1);
    if (!e || !path) {
        host->free(e);
        host->free(path);
        host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    e->path = strcpy(path, u->database);
    e->busy_ms = busy_ms;
    *ctx = e;
    return DBAL_OK;
}

static void mini_engine_close(void *ctx)
{
    mini_engine *e = ctx;
    host->free(e->path);
    host->free(e);
}

static int mini_connect(void *ctx, dbal_driver_conn **out, dbal_error *err)
{
    mini_engine *e = ctx;
    mini_conn *c = host->malloc(sizeof *c);
    if (!c) {
        host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    memset(c, 0, sizeof *c);
    int rc = sqlite3_open_v2(e->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        host->set_error(err, DBAL_ECONNECT, "08001", rc, "minisqlite: cannot open %s: %s", e->path,
                        c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        host->free(c);
        return DBAL_ECONNECT;
    }
    sqlite3_busy_timeout(c->db, e->busy_ms);
    *out = &c->base;
    return DBAL_OK;
}

static void mini_disconnect(dbal_driver_conn *base)
{
    mini_conn *c = (mini_conn *)base;
    sqlite3_close_v2(c->db);
    host->free(c);
}

/* Prepares sql (its first statement) and binds the parameters. */
static int prepare(mini_conn *c, const char *sql, const dbal_value *params, size_t nparams,
                   sqlite3_stmt **out, dbal_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(c->db, err);
    if (!st) {
        host->set_error(err, DBAL_ESYNTAX, "42601", 0, "minisqlite: no statement in the SQL");
        return DBAL_ESYNTAX;
    }
    if ((size_t)sqlite3_bind_parameter_count(st) != nparams) {
        host->set_error(err, DBAL_EMISUSE, NULL, 0, "the statement has %d placeholders, %zu values given",
                        sqlite3_bind_parameter_count(st), nparams);
        sqlite3_finalize(st);
        return DBAL_EMISUSE;
    }
    int rc = SQLITE_OK;
    for (size_t i = 0; i < nparams && rc == SQLITE_OK; i++) {
        const dbal_value *v = &params[i];
        int at = (int)i + 1;
        if (v->type == DBAL_TYPE_BOOL)
            rc = sqlite3_bind_int(st, at, v->u.b != 0);
        else if (v->type == DBAL_TYPE_INT64)
            rc = sqlite3_bind_int64(st, at, v->u.i);
        else if (v->type == DBAL_TYPE_DOUBLE)
            rc = sqlite3_bind_double(st, at, v->u.d);
        else if (v->type == DBAL_TYPE_TEXT)
            rc = sqlite3_bind_text64(st, at, v->u.s, v->len, SQLITE_TRANSIENT, SQLITE_UTF8);
        else if (v->type == DBAL_TYPE_BLOB)
            rc = sqlite3_bind_blob64(st, at, v->u.p, v->len, SQLITE_TRANSIENT);
        else
            rc = sqlite3_bind_null(st, at);
    }
    if (rc != SQLITE_OK) {
        int code = fail(c->db, err);
        sqlite3_finalize(st);
        return code;
    }
    *out = st;
    return DBAL_OK;
}

static int mini_exec(dbal_driver_conn *base, const char *sql, const dbal_value *params, size_t nparams,
                     int64_t *affected, dbal_error *err)
{
    mini_conn *c = (mini_conn *)base;
    sqlite3_stmt *st;
    int code = prepare(c, sql, params, nparams, &st, err);
    if (code != DBAL_OK)
        return code;
    sqlite3_int64 before = sqlite3_total_changes64(c->db);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ; /* RETURNING rows are discarded; the statement runs to its end */
    code = rc == SQLITE_DONE ? DBAL_OK : fail(c->db, err);
    sqlite3_finalize(st);
    if (code == DBAL_OK && affected)
        *affected = sqlite3_total_changes64(c->db) - before;
    return code;
}

/* The first step runs here, so that an error before the first row comes
 * from query, as the driver ABI asks. */
static int mini_query(dbal_driver_conn *base, const char *sql, const dbal_value *params, size_t nparams,
                      dbal_driver_rows **out, dbal_error *err)
{
    mini_conn *c = (mini_conn *)base;
    sqlite3_stmt *st;
    int code = prepare(c, sql, params, nparams, &st, err);
    if (code != DBAL_OK)
        return code;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        code = fail(c->db, err);
        sqlite3_finalize(st);
        return code;
    }
    mini_rows *r = host->malloc(sizeof *r);
    if (!r) {
        sqlite3_finalize(st);
        host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    r->base.ncols = sqlite3_column_count(st);
    r->conn = c;
    r->st = st;
    r->pending = rc;
    r->done = 0;
    *out = &r->base;
    return DBAL_OK;
}

static int mini_rows_next(dbal_driver_rows *base, dbal_error *err)
{
    mini_rows *r = (mini_rows *)base;
    if (r->done)
        return DBAL_DONE;
    int rc = r->pending ? r->pending : sqlite3_step(r->st);
    r->pending = 0;
    if (rc == SQLITE_ROW)
        return DBAL_ROW;
    r->done = 1;
    return rc == SQLITE_DONE ? DBAL_DONE : fail(r->conn->db, err);
}

static void mini_rows_close(dbal_driver_rows *base)
{
    mini_rows *r = (mini_rows *)base;
    sqlite3_finalize(r->st);
    host->free(r);
}

static const char *mini_col_name(dbal_driver_rows *base, int col)
{
    return sqlite3_column_name(((mini_rows *)base)->st, col);
}

/* A column declared BOOLEAN holds booleans, which SQLite stores as
 * integers: its integers are BOOL to dbal, as PostgreSQL's bool is. */
static dbal_type mini_col_type(dbal_driver_rows *base, int col)
{
    sqlite3_stmt *st = ((mini_rows *)base)->st;
    const char *decl = sqlite3_column_decltype(st, col);
    int declared_bool = decl && sqlite3_stricmp(decl, "BOOLEAN") == 0;
    static const dbal_type of[] = {
        [SQLITE_INTEGER] = DBAL_TYPE_INT64, [SQLITE_FLOAT] = DBAL_TYPE_DOUBLE, [SQLITE_TEXT] = DBAL_TYPE_TEXT,
        [SQLITE_BLOB] = DBAL_TYPE_BLOB,     [SQLITE_NULL] = DBAL_TYPE_NULL,
    };
    int t = sqlite3_column_type(st, col);
    return t == SQLITE_INTEGER && declared_bool ? DBAL_TYPE_BOOL : of[t];
}

static void mini_col_value(dbal_driver_rows *base, int col, dbal_value *out)
{
    sqlite3_stmt *st = ((mini_rows *)base)->st;
    memset(out, 0, sizeof *out);
    out->type = mini_col_type(base, col);
    if (out->type == DBAL_TYPE_BOOL || out->type == DBAL_TYPE_INT64) {
        out->type = DBAL_TYPE_INT64; /* the core reads a BOOL column's 0/1 */
        out->u.i = sqlite3_column_int64(st, col);
    } else if (out->type == DBAL_TYPE_DOUBLE) {
        out->u.d = sqlite3_column_double(st, col);
    } else if (out->type == DBAL_TYPE_TEXT) {
        out->u.s = (const char *)sqlite3_column_text(st, col);
        out->len = (size_t)sqlite3_column_bytes(st, col);
    } else if (out->type == DBAL_TYPE_BLOB) {
        out->u.p = sqlite3_column_blob(st, col);
        out->len = (size_t)sqlite3_column_bytes(st, col);
        if (!out->u.p)
            out->u.p = ""; /* an empty blob, not NULL */
    }
}

static int run(dbal_driver_conn *base, const char *sql, dbal_error *err)
{
    mini_conn *c = (mini_conn *)base;
    return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? DBAL_OK : fail(c->db, err);
}

/* SQLite is serializable; any other level, or read-only, it cannot give. */
static int mini_begin(dbal_driver_conn *c, unsigned options, dbal_error *err)
{
    if (options & ~DBAL_TX_SERIALIZABLE) {
        host->set_error(err, DBAL_EUNSUPPORTED, NULL, 0, "minisqlite: serializable transactions only");
        return DBAL_EUNSUPPORTED;
    }
    return run(c, "BEGIN IMMEDIATE", err);
}

static int mini_commit(dbal_driver_conn *c, dbal_error *err)
{
    return run(c, "COMMIT", err);
}

/* SQLite may have rolled back already (after some errors): then done. */
static int mini_rollback(dbal_driver_conn *c, dbal_error *err)
{
    return sqlite3_get_autocommit(((mini_conn *)c)->db) ? DBAL_OK : run(c, "ROLLBACK", err);
}

/* Written for ABI 2, before the date, time, numeric, UUID and JSON values:
 * the core never hands it one (DBAL_EUNSUPPORTED), as it would not hand
 * them to a driver built before them. */
static const dbal_driver table = {
    .abi_version = 2,
    .size = sizeof(dbal_driver),
    .name = "minisqlite",
    .version = "1.0",
    .engine_open = mini_engine_open,
    .engine_close = mini_engine_close,
    .connect = mini_connect,
    .disconnect = mini_disconnect,
    .exec = mini_exec,
    .query = mini_query,
    .rows_next = mini_rows_next,
    .rows_close = mini_rows_close,
    .col_name = mini_col_name,
    .col_value = mini_col_value,
    .col_type = mini_col_type,
    .begin = mini_begin,
    .commit = mini_commit,
    .rollback = mini_rollback,
};

DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(minisqlite)(const dbal_host *h)
{
    host = h;
    return &table;
}
