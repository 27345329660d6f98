/*
 * test_conformance.c - the dbal conformance suite.
 *
 * One program, the same cases, run once per database URL:
 *
 *   test_conformance sqlite::memory:     in-memory SQLite
 *   test_conformance sqlite-file         a fresh mkstemp() file under /tmp, used as
 *                                        sqlite:///tmp/dbal_conf_XXXXXX and deleted
 *                                        (with its -wal/-shm/-journal) at the end
 *   test_conformance pg                  PostgreSQL at $DBAL_TEST_PG_URL; when that is
 *                                        unset every case is skipped (exit status 77,
 *                                        which ctest reports as "skipped") unless
 *                                        DBAL_TEST_REQUIRE_PG=1, which makes it fail
 *   test_conformance <any dbal URL>      that database
 *
 * DBAL_CONF_FILTER=pattern (cmocka's * and ? wildcards) runs only matching cases.
 *
 * Every case gets a fresh engine and session (setup/teardown) and makes its own
 * tables (DROP TABLE IF EXISTS first, names prefixed conf_). The SQL is the
 * same on both databases; the only per-driver DDL is in ddl() below.
 *
 * The promise under test: a program tested on SQLite behaves the same on
 * PostgreSQL. Where the two databases truly differ, the difference is listed
 * here, in this one table, and nowhere else; each case that meets one says
 * "see DIFFERENCES #n".
 *
 * DIFFERENCES between the drivers (the README's "differences between drivers"
 * table is copied from this one; each row was observed on SQLite 3.40 and
 * PostgreSQL 15)
 *
 * | # | difference | SQLite | PostgreSQL | how the suite handles it |
 * |---|------------|--------|------------|--------------------------|
 * | 1 | column type names | BLOB; an auto id is INTEGER PRIMARY KEY (an alias of the rowid) | BYTEA; an auto id is BIGSERIAL PRIMARY KEY. INTEGER is 32-bit, so int64 value columns are BIGINT on both | ddl() picks the two names per driver; BIGINT, DOUBLE PRECISION, BOOLEAN, TEXT are spelled the same on both |
 * | 2 | NaN in a DOUBLE PRECISION column | stored as NULL (SQLite has no NaN) | stored and read back as NaN | roundtrip_double_special expects NULL on SQLite, NaN on PostgreSQL; +Infinity and -Infinity round-trip on both |
 * | 3 | isolation levels | DBAL_TX_READ_COMMITTED and DBAL_TX_REPEATABLE_READ are DBAL_EUNSUPPORTED and no transaction is begun; DBAL_TX_SERIALIZABLE (what SQLite always is) and DBAL_TX_READ_ONLY work | all levels work | tx_isolation_levels expects EUNSUPPORTED on SQLite, OK on PostgreSQL; tx_serializable and tx_read_only are the same on both |
 * | 4 | dbal_error.constraint | "" for UNIQUE, NOT NULL and FOREIGN KEY (SQLite's message names table.column, or nothing for FOREIGN KEY, not a constraint); the name for a named CHECK constraint | the constraint's name for UNIQUE, FOREIGN KEY and CHECK; "" for NOT NULL (PostgreSQL reports the column, not a constraint) | integrity_* check exactly these answers (code and SQLSTATE are the same on both) |
 * | 5 | dbal_last_insert_id when nothing was inserted | DBAL_EMISUSE (the rowid is 0) | DBAL_EMISUSE (lastval() is undefined) | the same on both, not a difference any more; kept so the numbers stay stable |
 * | 6 | dbal_last_insert_id after an insert that gives the id explicitly | that rowid | unchanged (no sequence was used) | not tested: the suite only relies on generated ids |
 * | 7 | text with a NUL byte (dbal_textn) | stored and read back byte for byte | refused: DBAL_EDATA | text_nul_and_invalid_utf8 checks both answers |
 * | 8 | text that is not valid UTF-8 | stored and read back byte for byte | refused by a UTF8 database: DBAL_EDATA, SQLSTATE 22021 | text_nul_and_invalid_utf8 checks both answers |
 * | 9 | unquoted identifiers, unaliased result columns | kept as written ("Foo"); an unaliased expression is named by its text ("1+1") | folded to lower case ("foo"); an unaliased expression is "?column?" | not tested; the suite names every result column with a lower-case alias |
 * | 10 | PostgreSQL-only syntax: nested C comments, $$ dollar quotes $$, E'' strings, ::casts, ?? for jsonb's ? operator | none of these is SQLite SQL (SELECT ?? is a syntax error) | understood; dbal's placeholder rewrite leaves a ? inside them alone and turns ?? into ? | not used; the suite uses only '...' literals, "..." identifiers, -- and C-style comments (not nested) |
 * | 11 | auto ids after a rolled-back insert | INTEGER PRIMARY KEY without AUTOINCREMENT gives max(rowid)+1: the rolled-back id comes again | sequences are not transactional: the id is used up, the next insert leaves a gap | returning relies on ids only before its rollback |
 * | 12 | a parameter whose type does not fit the column | stored as given (type affinity): dbal_int64 into BOOLEAN and dbal_bool into BIGINT are accepted, 'abc' into BIGINT is stored as TEXT, 2.5 into BIGINT stays 2.5 | dbal_int64 into BOOLEAN and dbal_bool into BIGINT fail with DBAL_EDATA, SQLSTATE 42804; 'abc' into BIGINT fails with DBAL_EDATA, 22P02; 2.5 into BIGINT is rounded to 2 | param_type_strictness checks each answer. Use the constructor that fits the column; numeric text into BIGINT and an integer into DOUBLE PRECISION are the same on both |
 * | 13 | the type of a value no column declares, e.g. SELECT ? with dbal_bool(1) | DBAL_TYPE_INT64, text "1" (the SQLite driver reports BOOL only for a column declared BOOLEAN) | DBAL_TYPE_BOOL, text "t" | undeclared_types_and_dialect; dbal_col_bool gives 1 on both |
 * | 14 | SQL dialect, e.g. integer division by zero | SELECT 1/0 gives NULL | DBAL_EDATA, SQLSTATE 22012, from dbal_query | undeclared_types_and_dialect checks this one; other dialect differences belong to the databases and are out of scope |
 * | 15 | two sessions writing at once | one writer at a time (BEGIN IMMEDIATE): the second waits up to busy_timeout (5000 ms by default), then DBAL_EBUSY, SQLSTATE 55P03 | row locks: a writer of other rows goes on at once | concurrent_writers, on a SQLite file through a second engine with busy_timeout=200. Skipped on sqlite::memory:, whose database a second engine cannot open, so the test would have to wait out 5 s |
 *
 * Behaviour that is the SAME on both, and tested as such: every value type
 * round-trips with the same dbal_col_type (BOOLEAN columns are BOOL on SQLite
 * too); the conversion rules of dbal.h (bools read as text are "t"/"f",
 * doubles as their shortest exact decimal, "Infinity"/"-Infinity"/"NaN"
 * spelled as PostgreSQL does); integrity errors have the same code and
 * SQLSTATE, and so do syntax and undefined-object errors; foreign keys are
 * enforced on SQLite too; a failed statement fails the transaction
 * (DBAL_ETXFAILED, 25P02) and commit then rolls back; savepoints; closing a
 * session rolls back; RETURNING; rows affected; placeholders in literals and
 * comments; placeholder count mismatch (DBAL_EMISUSE, SQLSTATE "", nothing
 * sent); 100,000 rows streamed; statements and a second cursor while a cursor
 * is open; a reader does not wait for a writer and sees only committed rows
 * (sqlite::memory: too: the driver keeps it as a WAL database in RAM);
 * dbal_transact; read-only transactions (DBAL_EREADONLY, 25006).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, setenv */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dbal.h>

/* ------------------------------------------------------------------ globals */

static const char *g_url;  /* the URL every case opens; NULL: skip every case */
static char g_display[1024]; /* g_url without a password, for messages */

/* --------------------------------------------------------------- fixture */

#define MAX_ROWS 8
#define MAX_SESSIONS 4

typedef struct open_rows {
    dbal_rows *r;
    dbal_session *s;
} open_rows;

typedef struct fixture {
    dbal_engine *engine;
    dbal_session *s;                    /* the case's session */
    dbal_session *extra[MAX_SESSIONS];  /* other sessions the case opened */
    open_rows rows[MAX_ROWS];           /* cursors still open */
    int is_pg;
    int is_sqlite;
    char *big;                          /* a large buffer, freed at teardown */
} fixture;

/* ---------------------------------------------------------- diagnostics */

static void describe_session(dbal_session *s)
{
    if (!s)
        return;
    const dbal_error *e = dbal_session_error(s);
    if (!e) {
        print_error("    session error: (null)\n");
        return;
    }
    print_error("    session error: %s sqlstate=\"%s\" native=%d constraint=\"%s\" message=\"%s\"\n",
                dbal_code_name(e->code), e->sqlstate, e->native_code, e->constraint, e->message);
}

static void check_at(int ok, const char *what, const char *file, int line, const char *fmt, ...)
{
    if (ok)
        return;
    va_list ap;
    char buf[1024];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    print_error("%s:%d: check failed: %s: %s\n", file, line, what, buf);
    _fail(file, line);
}
#define CHECK(cond, ...) check_at(!!(cond), #cond, __FILE__, __LINE__, __VA_ARGS__)

static void expect_rc_at(dbal_session *s, int got, int want, const char *expr, const char *file,
                         int line)
{
    if (got == want)
        return;
    print_error("%s:%d: %s returned %s (%d), expected %s (%d)\n", file, line, expr,
                dbal_code_name(got), got, dbal_code_name(want), want);
    describe_session(s);
    _fail(file, line);
}
/* The call's return code must be `want`; on a mismatch the session's error is printed. */
#define EXPECT_RC(s, call, want) expect_rc_at((s), (call), (want), #call, __FILE__, __LINE__)

/* The session's last error must be `code` with `sqlstate`. */
static void expect_err_at(dbal_session *s, int code, const char *sqlstate, const char *file,
                          int line)
{
    const dbal_error *e = dbal_session_error(s);
    if (!e) {
        print_error("%s:%d: dbal_session_error returned NULL\n", file, line);
        _fail(file, line);
    }
    if (e->code != code || strcmp(e->sqlstate, sqlstate) != 0) {
        print_error("%s:%d: session error is %s \"%s\", expected %s \"%s\"\n", file, line,
                    dbal_code_name(e->code), e->sqlstate, dbal_code_name(code), sqlstate);
        describe_session(s);
        _fail(file, line);
    }
    if (code != DBAL_OK && e->message[0] == '\0') {
        print_error("%s:%d: session error %s has an empty message\n", file, line,
                    dbal_code_name(code));
        _fail(file, line);
    }
}
#define EXPECT_ERR(s, code, sqlstate) expect_err_at((s), (code), (sqlstate), __FILE__, __LINE__)

/* The session's last error must have code `code` (SQLSTATE not checked). */
static void expect_errcode_at(dbal_session *s, int code, const char *file, int line)
{
    const dbal_error *e = dbal_session_error(s);
    if (!e || e->code != code) {
        print_error("%s:%d: session error is %s, expected %s\n", file, line,
                    e ? dbal_code_name(e->code) : "(null)", dbal_code_name(code));
        describe_session(s);
        _fail(file, line);
    }
}
#define EXPECT_ERRCODE(s, code) expect_errcode_at((s), (code), __FILE__, __LINE__)

static void expect_i64_at(int64_t got, int64_t want, const char *expr, const char *file, int line)
{
    if (got == want)
        return;
    print_error("%s:%d: %s is %" PRId64 ", expected %" PRId64 "\n", file, line, expr, got, want);
    _fail(file, line);
}
#define EXPECT_I64(got, want) expect_i64_at((int64_t)(got), (int64_t)(want), #got, __FILE__, __LINE__)

static void expect_str_at(const char *got, const char *want, const char *expr, const char *file,
                          int line)
{
    if (got && want && strcmp(got, want) == 0)
        return;
    if (!got && !want)
        return;
    print_error("%s:%d: %s is %s%s%s, expected %s%s%s\n", file, line, expr, got ? "\"" : "",
                got ? got : "NULL", got ? "\"" : "", want ? "\"" : "", want ? want : "NULL",
                want ? "\"" : "");
    _fail(file, line);
}
#define EXPECT_STR(got, want) expect_str_at((got), (want), #got, __FILE__, __LINE__)

static const char *type_name(dbal_type t)
{
    switch (t) {
    case DBAL_TYPE_NULL: return "NULL";
    case DBAL_TYPE_BOOL: return "BOOL";
    case DBAL_TYPE_INT64: return "INT64";
    case DBAL_TYPE_DOUBLE: return "DOUBLE";
    case DBAL_TYPE_TEXT: return "TEXT";
    case DBAL_TYPE_BLOB: return "BLOB";
    }
    return "?";
}

static void expect_type_at(dbal_type got, dbal_type want, const char *expr, const char *file,
                           int line)
{
    if (got == want)
        return;
    print_error("%s:%d: %s is DBAL_TYPE_%s (%d), expected DBAL_TYPE_%s\n", file, line, expr,
                type_name(got), (int)got, type_name(want));
    _fail(file, line);
}
#define EXPECT_TYPE(got, want) expect_type_at((got), (want), #got, __FILE__, __LINE__)

/* ---------------------------------------------------- setup / teardown */

static int setup(void **state)
{
    *state = NULL;
    if (!g_url)
        return 0; /* every case skips */
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    dbal_error err;
    memset(&err, 0, sizeof err);
    int rc = dbal_engine_open(&f->engine, g_url, &err);
    if (rc != DBAL_OK) {
        print_error("dbal_engine_open(%s): %s: %s\n", g_display, dbal_code_name(rc), err.message);
        free(f);
        return -1;
    }
    const char *driver = dbal_engine_driver(f->engine);
    f->is_pg = driver && strcmp(driver, "postgresql") == 0;
    f->is_sqlite = driver && strcmp(driver, "sqlite") == 0;
    if (!f->is_pg && !f->is_sqlite) {
        print_error("unknown driver name \"%s\" for %s\n", driver ? driver : "(null)", g_display);
        dbal_engine_close(f->engine);
        free(f);
        return -1;
    }
    rc = dbal_session_open(f->engine, &f->s, &err);
    if (rc != DBAL_OK) {
        print_error("dbal_session_open: %s: %s\n", dbal_code_name(rc), err.message);
        dbal_engine_close(f->engine);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    for (int i = 0; i < MAX_ROWS; i++)
        if (f->rows[i].r)
            dbal_rows_close(f->rows[i].r);
    for (int i = 0; i < MAX_SESSIONS; i++)
        dbal_session_close(f->extra[i]);
    dbal_session_close(f->s);
    int rc = dbal_engine_close(f->engine);
    free(f->big);
    free(f);
    *state = NULL;
    if (rc != DBAL_OK) {
        print_error("dbal_engine_close returned %s with every session closed\n",
                    dbal_code_name(rc));
        return -1;
    }
    return 0;
}

/* A statement that runs for minutes on both databases unless stopped. */
#define SLOW_SQL                                                                                   \
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "       \
    "SELECT count(*) AS n FROM c"

static fixture *fix(void **state)
{
    if (!*state)
        skip(); /* no URL for this database (DBAL_TEST_PG_URL unset) */
    return *state;
}

/* --------------------------------------------------------------- helpers */

/*
 * THE per-driver DDL: the only place where the SQL differs (DIFFERENCES #1).
 *   DDL_BLOB     a byte-string column: BLOB on SQLite, BYTEA on PostgreSQL
 *   DDL_AUTO_ID  an auto-generated int64 primary key: INTEGER PRIMARY KEY on
 *                SQLite (the rowid), BIGSERIAL PRIMARY KEY on PostgreSQL (a
 *                sequence, so lastval() / dbal_last_insert_id works)
 */
enum ddl_kind { DDL_BLOB, DDL_AUTO_ID };
static const char *ddl(const fixture *f, enum ddl_kind k)
{
    switch (k) {
    case DDL_BLOB: return f->is_pg ? "BYTEA" : "BLOB";
    case DDL_AUTO_ID: return f->is_pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
    }
    return "";
}

static void exec_ok_at(dbal_session *s, const char *sql, dbal_params p, const char *file, int line)
{
    int rc = dbal_exec(s, sql, p, NULL);
    if (rc != DBAL_OK) {
        print_error("%s:%d: dbal_exec(\"%s\") returned %s, expected DBAL_OK\n", file, line, sql,
                    dbal_code_name(rc));
        describe_session(s);
        _fail(file, line);
    }
}
#define EXEC_OK(s, sql, params) exec_ok_at((s), (sql), (params), __FILE__, __LINE__)

/* DROP TABLE IF EXISTS name; CREATE TABLE name (columns...). */
static void create_table_at(fixture *f, const char *file, int line, const char *name,
                            const char *fmt, ...)
{
    char cols[1024], sql[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cols, sizeof cols, fmt, ap);
    va_end(ap);
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", name);
    exec_ok_at(f->s, sql, DBAL_NOARGS, file, line);
    snprintf(sql, sizeof sql, "CREATE TABLE %s (%s)", name, cols);
    exec_ok_at(f->s, sql, DBAL_NOARGS, file, line);
}
#define CREATE_TABLE(f, name, ...) create_table_at((f), __FILE__, __LINE__, (name), __VA_ARGS__)

static void drop_table_at(fixture *f, const char *name, const char *file, int line)
{
    char sql[200];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", name);
    exec_ok_at(f->s, sql, DBAL_NOARGS, file, line);
}
#define DROP_TABLE(f, name) drop_table_at((f), (name), __FILE__, __LINE__)

static void track(fixture *f, dbal_rows *r, dbal_session *s)
{
    for (int i = 0; i < MAX_ROWS; i++)
        if (!f->rows[i].r) {
            f->rows[i].r = r;
            f->rows[i].s = s;
            return;
        }
    dbal_rows_close(r);
    fail_msg("too many open cursors in one case");
}

static dbal_session *session_of(fixture *f, dbal_rows *r)
{
    for (int i = 0; i < MAX_ROWS; i++)
        if (f->rows[i].r == r)
            return f->rows[i].s;
    return f->s;
}

static void close_rows(fixture *f, dbal_rows *r)
{
    for (int i = 0; i < MAX_ROWS; i++)
        if (f->rows[i].r == r)
            f->rows[i].r = NULL;
    dbal_rows_close(r);
}

static dbal_rows *query_at(fixture *f, dbal_session *s, const char *sql, dbal_params p,
                           const char *file, int line)
{
    dbal_rows *r = NULL;
    int rc = dbal_query(s, sql, p, &r);
    if (rc != DBAL_OK) {
        print_error("%s:%d: dbal_query(\"%.200s\") returned %s, expected DBAL_OK\n", file, line,
                    sql, dbal_code_name(rc));
        describe_session(s);
        _fail(file, line);
    }
    if (!r) {
        print_error("%s:%d: dbal_query returned DBAL_OK and a NULL cursor\n", file, line);
        _fail(file, line);
    }
    track(f, r, s);
    return r;
}
#define QUERY(s, sql, params) query_at(f, (s), (sql), (params), __FILE__, __LINE__)

static void next_at(fixture *f, dbal_rows *r, int want, const char *file, int line)
{
    int rc = dbal_rows_next(r);
    if (rc != want) {
        print_error("%s:%d: dbal_rows_next returned %s, expected %s\n", file, line,
                    dbal_code_name(rc), dbal_code_name(want));
        describe_session(session_of(f, r));
        _fail(file, line);
    }
}
#define NEXT_ROW(r) next_at(f, (r), DBAL_ROW, __FILE__, __LINE__)
#define NEXT_DONE(r) next_at(f, (r), DBAL_DONE, __FILE__, __LINE__)

/* Runs a query that must give exactly one row with one int64 column. */
static int64_t scalar_at(fixture *f, dbal_session *s, const char *sql, dbal_params p,
                         const char *file, int line)
{
    dbal_rows *r = query_at(f, s, sql, p, file, line);
    next_at(f, r, DBAL_ROW, file, line);
    int64_t v = 0;
    int rc = dbal_col_get_int64(r, 0, &v);
    if (rc != DBAL_OK) {
        print_error("%s:%d: dbal_col_get_int64 on \"%s\" returned %s\n", file, line, sql,
                    dbal_code_name(rc));
        describe_session(s);
        _fail(file, line);
    }
    next_at(f, r, DBAL_DONE, file, line);
    close_rows(f, r);
    return v;
}
#define SCALAR(s, sql, params) scalar_at(f, (s), (sql), (params), __FILE__, __LINE__)

static int64_t count_rows_at(fixture *f, dbal_session *s, const char *table, const char *file,
                             int line)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) AS n FROM %s", table);
    return scalar_at(f, s, sql, DBAL_NOARGS, file, line);
}
#define COUNT(s, table) count_rows_at(f, (s), (table), __FILE__, __LINE__)

/* Opens another session on the case's engine (closed at teardown). */
static dbal_session *open_extra_at(fixture *f, const char *file, int line)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (!f->extra[i]) {
            dbal_error err;
            int rc = dbal_session_open(f->engine, &f->extra[i], &err);
            if (rc != DBAL_OK) {
                print_error("%s:%d: dbal_session_open: %s: %s\n", file, line,
                            dbal_code_name(rc), err.message);
                _fail(file, line);
            }
            return f->extra[i];
        }
    fail_msg("too many sessions in one case");
    return NULL;
}
#define OPEN_EXTRA() open_extra_at(f, __FILE__, __LINE__)

static void close_extra(fixture *f, dbal_session *s)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (f->extra[i] == s)
            f->extra[i] = NULL;
    dbal_session_close(s);
}

/*
 * Closes the case's session (which rolls back an open transaction) and opens
 * a new one. What the new session sees is what was committed. (On PostgreSQL
 * the pool may hand the new session the same connection: still a fair test,
 * since uncommitted work does not survive the close.)
 */
static void reopen_at(fixture *f, const char *file, int line)
{
    dbal_session_close(f->s);
    f->s = NULL;
    dbal_error err;
    int rc = dbal_session_open(f->engine, &f->s, &err);
    if (rc != DBAL_OK) {
        print_error("%s:%d: dbal_session_open: %s: %s\n", file, line, dbal_code_name(rc),
                    err.message);
        _fail(file, line);
    }
}
#define REOPEN() reopen_at(f, __FILE__, __LINE__)

/* ================================================================ cases */

/* ---- values round-trip through a parameter into a table and back ---- */

static void make_values_table(fixture *f)
{
    CREATE_TABLE(f, "conf_values",
                 "id INTEGER PRIMARY KEY, b BOOLEAN, i BIGINT, d DOUBLE PRECISION, t TEXT, bl %s",
                 ddl(f, DDL_BLOB));
}

static void put_at(fixture *f, int id, const char *col, dbal_value v, const char *file, int line)
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO conf_values(id, %s) VALUES (?, ?)", col);
    int64_t n = -7;
    int rc = dbal_exec(f->s, sql, DBAL_ARGS(dbal_int64(id), v), &n);
    if (rc != DBAL_OK) {
        print_error("%s:%d: insert of a DBAL_TYPE_%s into %s returned %s\n", file, line,
                    type_name(v.type), col, dbal_code_name(rc));
        describe_session(f->s);
        _fail(file, line);
    }
    expect_i64_at(n, 1, "rows affected by the insert", file, line);
}
#define PUT(id, col, v) put_at(f, (id), (col), (v), __FILE__, __LINE__)

/* Selects column `col` of row `id`; the cursor is on that row. */
static dbal_rows *get_at(fixture *f, int id, const char *col, const char *file, int line)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM conf_values WHERE id = ?", col);
    dbal_rows *r = query_at(f, f->s, sql, DBAL_ARGS(dbal_int64(id)), file, line);
    expect_i64_at(dbal_col_count(r), 1, "dbal_col_count", file, line);
    next_at(f, r, DBAL_ROW, file, line);
    return r;
}
#define GET(id, col) get_at(f, (id), (col), __FILE__, __LINE__)

static void end_at(fixture *f, dbal_rows *r, const char *file, int line)
{
    next_at(f, r, DBAL_DONE, file, line);
    close_rows(f, r);
}
#define END(r) end_at(f, (r), __FILE__, __LINE__)

/* Every getter on a NULL value. */
static void check_null_value(fixture *f, dbal_rows *r)
{
    int64_t i = 5;
    double d = 5;
    int b = 5;
    const char *t = "x";
    size_t len = 5;
    CHECK(dbal_col_is_null(r, 0), "dbal_col_is_null is %d", dbal_col_is_null(r, 0));
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_NULL);
    CHECK(dbal_col_text(r, 0) == NULL, "dbal_col_text of NULL is not NULL");
    CHECK(dbal_col_blob(r, 0, &len) == NULL, "dbal_col_blob of NULL is not NULL");
    EXPECT_I64(dbal_col_bytes(r, 0), 0);
    EXPECT_I64(dbal_col_int64(r, 0), 0);
    CHECK(dbal_col_double(r, 0) == 0.0, "dbal_col_double of NULL is %g", dbal_col_double(r, 0));
    EXPECT_I64(dbal_col_bool(r, 0), 0);
    EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &i), DBAL_ENULL);
    EXPECT_RC(f->s, dbal_col_get_double(r, 0, &d), DBAL_ENULL);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 0, &b), DBAL_ENULL);
    EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_ENULL);
}

static void roundtrip_null(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const char *cols[] = {"b", "i", "d", "t", "bl"};
    /* dbal_null(), and the constructors' documented NULL-pointer forms. */
    for (int c = 0; c < 5; c++)
        PUT(c + 1, cols[c], dbal_null());
    PUT(10, "t", dbal_text(NULL));
    PUT(11, "t", dbal_textn(NULL, 3));
    PUT(12, "bl", dbal_blob(NULL, 4));
    for (int c = 0; c < 5; c++) {
        dbal_rows *r = GET(c + 1, cols[c]);
        check_null_value(f, r);
        END(r);
    }
    for (int id = 10; id <= 12; id++) {
        dbal_rows *r = GET(id, id == 12 ? "bl" : "t");
        check_null_value(f, r);
        END(r);
    }
    /* The database sees SQL NULL, not an empty string. */
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE t IS NULL AND bl IS NULL",
                      DBAL_NOARGS),
               8);
}

static void roundtrip_bool(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    PUT(1, "b", dbal_bool(1));
    PUT(2, "b", dbal_bool(0));
    PUT(3, "b", dbal_bool(42)); /* any non-zero is true */
    static const int want[] = {1, 0, 1};
    for (int id = 1; id <= 3; id++) {
        dbal_rows *r = GET(id, "b");
        int b = -1;
        CHECK(!dbal_col_is_null(r, 0), "row %d: a bool read back as NULL", id);
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_BOOL);
        EXPECT_I64(dbal_col_bool(r, 0), want[id - 1]);
        EXPECT_RC(f->s, dbal_col_get_bool(r, 0, &b), DBAL_OK);
        EXPECT_I64(b, want[id - 1]);
        END(r);
    }
    /* The database sees real booleans: the parameter compares with TRUE. */
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE b = ?",
                      DBAL_ARGS(dbal_bool(1))),
               2);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE b = FALSE", DBAL_NOARGS),
               1);
}

static void roundtrip_int64(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const int64_t vals[] = {0, 1, -1, INT64_MIN, INT64_MAX};
    const int n = (int)(sizeof vals / sizeof vals[0]);
    for (int k = 0; k < n; k++)
        PUT(k + 1, "i", dbal_int64(vals[k]));
    for (int k = 0; k < n; k++) {
        dbal_rows *r = GET(k + 1, "i");
        int64_t v = 12345;
        char want_text[32];
        snprintf(want_text, sizeof want_text, "%" PRId64, vals[k]);
        CHECK(!dbal_col_is_null(r, 0), "an int64 read back as NULL");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64);
        EXPECT_I64(dbal_col_int64(r, 0), vals[k]);
        EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &v), DBAL_OK);
        EXPECT_I64(v, vals[k]);
        EXPECT_STR(dbal_col_text(r, 0), want_text);
        EXPECT_I64(dbal_col_bytes(r, 0), strlen(want_text));
        CHECK(dbal_col_double(r, 0) == (double)vals[k], "dbal_col_double is %.17g, expected %.17g",
              dbal_col_double(r, 0), (double)vals[k]);
        END(r);
        /* the database compares it as the same 64-bit integer */
        EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE i = ?",
                          DBAL_ARGS(dbal_int64(vals[k]))),
                   1);
    }
}

static void roundtrip_double(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const double vals[] = {0.1, -2.5e300, 1e-300, 0.0, 123456.789};
    const int n = (int)(sizeof vals / sizeof vals[0]);
    for (int k = 0; k < n; k++)
        PUT(k + 1, "d", dbal_double(vals[k]));
    for (int k = 0; k < n; k++) {
        dbal_rows *r = GET(k + 1, "d");
        double v = 42;
        CHECK(!dbal_col_is_null(r, 0), "a double read back as NULL");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE);
        CHECK(dbal_col_double(r, 0) == vals[k], "dbal_col_double is %.17g, expected %.17g",
              dbal_col_double(r, 0), vals[k]);
        EXPECT_RC(f->s, dbal_col_get_double(r, 0, &v), DBAL_OK);
        CHECK(v == vals[k], "dbal_col_get_double gave %.17g, expected %.17g", v, vals[k]);
        /* text is a decimal form that reads back as the same double */
        const char *t = dbal_col_text(r, 0);
        CHECK(t != NULL && strtod(t, NULL) == vals[k], "dbal_col_text is \"%s\" for %.17g",
              t ? t : "(null)", vals[k]);
        END(r);
    }
    /* The shortest round-trip form, as PostgreSQL prints it, on both. */
    dbal_rows *r = GET(1, "d");
    EXPECT_STR(dbal_col_text(r, 0), "0.1");
    END(r);
}

/* NaN, +Infinity, -Infinity: see DIFFERENCES #2. */
static void roundtrip_double_special(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    PUT(1, "d", dbal_double(NAN));
    PUT(2, "d", dbal_double(INFINITY));
    PUT(3, "d", dbal_double(-INFINITY));

    dbal_rows *r = GET(1, "d");
    if (f->is_pg) {
        double v = 0;
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE);
        EXPECT_RC(f->s, dbal_col_get_double(r, 0, &v), DBAL_OK);
        CHECK(isnan(v), "NaN read back as %g", v);
        EXPECT_STR(dbal_col_text(r, 0), "NaN");
    } else {
        /* SQLite stores NaN as NULL */
        check_null_value(f, r);
    }
    END(r);

    static const double inf[] = {INFINITY, -INFINITY};
    static const char *inf_text[] = {"Infinity", "-Infinity"};
    for (int k = 0; k < 2; k++) {
        double v = 0;
        r = GET(k + 2, "d");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE);
        EXPECT_RC(f->s, dbal_col_get_double(r, 0, &v), DBAL_OK);
        CHECK(v == inf[k], "read back %g, expected %g", v, inf[k]);
        CHECK(dbal_col_double(r, 0) == inf[k], "dbal_col_double is %g", dbal_col_double(r, 0));
        EXPECT_STR(dbal_col_text(r, 0), inf_text[k]);
        END(r);
    }
    /* the database orders them as infinities */
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE d > ?",
                      DBAL_ARGS(dbal_double(1e308))),
               f->is_pg ? 2 : 1); /* PostgreSQL sorts NaN above every number */
}

static void roundtrip_text(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const char utf8[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 "
                               "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82";
    PUT(1, "t", dbal_text(""));
    PUT(2, "t", dbal_text(utf8));
    PUT(3, "t", dbal_textn("abcdef", 3)); /* the length counts, not a NUL */
    PUT(4, "t", dbal_textn("", 0));

    /* empty text is not NULL */
    for (int id = 1; id <= 4; id += 3) {
        dbal_rows *r = GET(id, "t");
        const char *t = NULL;
        size_t len = 99;
        CHECK(!dbal_col_is_null(r, 0), "empty text read back as NULL (row %d)", id);
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_TEXT);
        EXPECT_STR(dbal_col_text(r, 0), "");
        EXPECT_I64(dbal_col_bytes(r, 0), 0);
        EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_OK);
        CHECK(t != NULL && len == 0, "dbal_col_get_text gave %p, %zu", (const void *)t, len);
        END(r);
    }
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE t = ''", DBAL_NOARGS), 2);

    dbal_rows *r = GET(2, "t");
    const char *t = NULL;
    size_t len = 0;
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_TEXT);
    EXPECT_STR(dbal_col_text(r, 0), utf8);
    EXPECT_I64(dbal_col_bytes(r, 0), strlen(utf8));
    EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_OK);
    EXPECT_I64(len, strlen(utf8));
    CHECK(t && memcmp(t, utf8, len) == 0, "dbal_col_get_text bytes differ");
    END(r);
    /* the database sees characters, not bytes: 19 of them in 31 bytes */
    EXPECT_I64(SCALAR(f->s, "SELECT length(t) AS n FROM conf_values WHERE id = 2", DBAL_NOARGS),
               19);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE t = ?",
                      DBAL_ARGS(dbal_text(utf8))),
               1);

    r = GET(3, "t");
    EXPECT_STR(dbal_col_text(r, 0), "abc");
    EXPECT_I64(dbal_col_bytes(r, 0), 3);
    END(r);
}

static void roundtrip_text_1mb(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    const size_t n = (size_t)1 << 20;
    f->big = malloc(n + 1);
    CHECK(f->big != NULL, "out of memory");
    for (size_t k = 0; k < n; k++)
        f->big[k] = (char)('a' + (k * 7 + k / 1000) % 26);
    f->big[n] = '\0';
    PUT(1, "t", dbal_textn(f->big, n));

    dbal_rows *r = GET(1, "t");
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_TEXT);
    EXPECT_I64(dbal_col_bytes(r, 0), n);
    const char *t = dbal_col_text(r, 0);
    CHECK(t != NULL, "1 MB text read back as NULL");
    EXPECT_I64(strlen(t), n);
    CHECK(memcmp(t, f->big, n) == 0, "1 MB text differs after the round trip");
    END(r);
    EXPECT_I64(SCALAR(f->s, "SELECT length(t) AS n FROM conf_values WHERE id = 1", DBAL_NOARGS),
               n);
}

static void roundtrip_blob(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    unsigned char bytes[300];
    memset(bytes, 0, sizeof bytes); /* leading and trailing NULs */
    for (int k = 0; k < 256; k++)
        bytes[k + 20] = (unsigned char)k;
    PUT(1, "bl", dbal_blob(bytes, sizeof bytes));
    PUT(2, "bl", dbal_blob("", 0)); /* non-NULL pointer, length 0: an empty blob */

    dbal_rows *r = GET(1, "bl");
    size_t len = 0;
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_BLOB);
    CHECK(!dbal_col_is_null(r, 0), "blob read back as NULL");
    const unsigned char *p = dbal_col_blob(r, 0, &len);
    CHECK(p != NULL, "dbal_col_blob returned NULL");
    EXPECT_I64(len, sizeof bytes);
    EXPECT_I64(dbal_col_bytes(r, 0), sizeof bytes);
    CHECK(memcmp(p, bytes, sizeof bytes) == 0, "blob bytes differ after the round trip");
    /* text of a blob: its bytes */
    const char *t = NULL;
    len = 0;
    EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_OK);
    CHECK(t != NULL && len == sizeof bytes && memcmp(t, bytes, len) == 0,
          "dbal_col_get_text of a blob gave %zu bytes", len);
    END(r);
    EXPECT_I64(SCALAR(f->s, "SELECT length(bl) AS n FROM conf_values WHERE id = 1", DBAL_NOARGS),
               sizeof bytes);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE bl = ?",
                      DBAL_ARGS(dbal_blob(bytes, sizeof bytes))),
               1);

    r = GET(2, "bl");
    len = 99;
    CHECK(!dbal_col_is_null(r, 0), "empty blob read back as NULL");
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_BLOB);
    CHECK(dbal_col_blob(r, 0, &len) != NULL, "dbal_col_blob of an empty blob is NULL");
    EXPECT_I64(len, 0);
    EXPECT_I64(dbal_col_bytes(r, 0), 0);
    END(r);
    EXPECT_I64(SCALAR(f->s, "SELECT length(bl) AS n FROM conf_values WHERE id = 2", DBAL_NOARGS),
               0);
}

/* See DIFFERENCES #7 and #8. */
static void text_nul_and_invalid_utf8(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const char with_nul[] = {'a', '\0', 'b'};
    static const char bad_utf8[] = "ab\xff\xfe";
    int rc1 = dbal_exec(f->s, "INSERT INTO conf_values(id, t) VALUES (1, ?)",
                        DBAL_ARGS(dbal_textn(with_nul, 3)), NULL);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc1, DBAL_EDATA);
    } else {
        EXPECT_RC(f->s, rc1, DBAL_OK);
        dbal_rows *r = GET(1, "t");
        EXPECT_I64(dbal_col_bytes(r, 0), 3);
        size_t len = 0;
        const char *t = NULL;
        EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_OK);
        CHECK(len == 3 && memcmp(t, with_nul, 3) == 0, "text with a NUL came back as %zu bytes",
              len);
        END(r);
    }
    int rc2 = dbal_exec(f->s, "INSERT INTO conf_values(id, t) VALUES (2, ?)",
                        DBAL_ARGS(dbal_text(bad_utf8)), NULL);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc2, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "22021");
    } else {
        EXPECT_RC(f->s, rc2, DBAL_OK);
        dbal_rows *r = GET(2, "t");
        EXPECT_STR(dbal_col_text(r, 0), bad_utf8);
        END(r);
    }
    /* either way the session goes on */
    EXPECT_I64(SCALAR(f->s, "SELECT 7 AS n", DBAL_NOARGS), 7);
}

/* ---- column conversions ---- */

/*
 * conf_conv rows (inserted through parameters):
 *   id  n     t                        b      d        z
 *   1   42    'abc'                    TRUE   2.5      NULL
 *   2   1     '123'                    FALSE  3.0      0
 *   3   0     'true'                   NULL   1e300    NULL
 *   4   7     '99999999999999999999'   NULL   -0.5     NULL
 *   5   -3    '2.5'                    NULL   -1e300   NULL
 *   6   0     'f'                      NULL   0        NULL
 *   7   0     '12abc'                  NULL   0        NULL
 *   8   0     'NaN'                    NULL   0        NULL
 *   9   0     '-Infinity'              NULL   0        NULL
 *   10  0     ''                       NULL   1e15     NULL
 */
static void conv_insert_at(fixture *f, int id, int64_t n, const char *t, dbal_value b, double d,
                           dbal_value z, const char *file, int line)
{
    exec_ok_at(f->s, "INSERT INTO conf_conv(id, n, t, b, d, z) VALUES (?, ?, ?, ?, ?, ?)",
               DBAL_ARGS(dbal_int64(id), dbal_int64(n), dbal_text(t), b, dbal_double(d), z), file,
               line);
}
#define CONV_INSERT(...) conv_insert_at(f, __VA_ARGS__, __FILE__, __LINE__)

static void make_conv_table(fixture *f)
{
    CREATE_TABLE(f, "conf_conv",
                 "id INTEGER PRIMARY KEY, n BIGINT, t TEXT, b BOOLEAN, d DOUBLE PRECISION, "
                 "z BIGINT");
    CONV_INSERT(1, 42, "abc", dbal_bool(1), 2.5, dbal_null());
    CONV_INSERT(2, 1, "123", dbal_bool(0), 3.0, dbal_int64(0));
    CONV_INSERT(3, 0, "true", dbal_null(), 1e300, dbal_null());
    CONV_INSERT(4, 7, "99999999999999999999", dbal_null(), -0.5, dbal_null());
    CONV_INSERT(5, -3, "2.5", dbal_null(), -1e300, dbal_null());
    CONV_INSERT(6, 0, "f", dbal_null(), 0, dbal_null());
    CONV_INSERT(7, 0, "12abc", dbal_null(), 0, dbal_null());
    CONV_INSERT(8, 0, "NaN", dbal_null(), 0, dbal_null());
    CONV_INSERT(9, 0, "-Infinity", dbal_null(), 0, dbal_null());
    CONV_INSERT(10, 0, "", dbal_null(), 1e15, dbal_null());
}

static dbal_rows *conv_row_at(fixture *f, int id, const char *file, int line)
{
    dbal_rows *r = query_at(f, f->s, "SELECT n, t, b, d, z FROM conf_conv WHERE id = ?",
                            DBAL_ARGS(dbal_int64(id)), file, line);
    next_at(f, r, DBAL_ROW, file, line);
    return r;
}
#define CONV_ROW(id) conv_row_at(f, (id), __FILE__, __LINE__)
enum { C_N, C_T, C_B, C_D, C_Z };

/* The conversions every program relies on. */
static void conversions_basic(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    dbal_rows *r = CONV_ROW(1);
    int64_t i = 0;
    double d = 0;
    int b = -1;

    /* integer column */
    EXPECT_TYPE(dbal_col_type(r, C_N), DBAL_TYPE_INT64);
    EXPECT_I64(dbal_col_int64(r, C_N), 42);
    CHECK(dbal_col_double(r, C_N) == 42.0, "dbal_col_double(42) is %g", dbal_col_double(r, C_N));
    EXPECT_RC(f->s, dbal_col_get_double(r, C_N, &d), DBAL_OK);
    CHECK(d == 42.0, "dbal_col_get_double(42) is %g", d);
    EXPECT_STR(dbal_col_text(r, C_N), "42");
    EXPECT_I64(dbal_col_bytes(r, C_N), 2);

    /* text that is not a number */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ETYPE);
    EXPECT_I64(dbal_col_int64(r, C_T), 0);
    EXPECT_ERRCODE(f->s, DBAL_ETYPE); /* "the session's error then says DBAL_ETYPE" */
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_ETYPE);
    EXPECT_STR(dbal_col_text(r, C_T), "abc");

    /* NULL */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_Z, &i), DBAL_ENULL);
    EXPECT_I64(dbal_col_int64(r, C_Z), 0);

    /* boolean column */
    EXPECT_TYPE(dbal_col_type(r, C_B), DBAL_TYPE_BOOL);
    EXPECT_I64(dbal_col_bool(r, C_B), 1);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_B, &b), DBAL_OK);
    EXPECT_I64(b, 1);

    /* double column */
    EXPECT_TYPE(dbal_col_type(r, C_D), DBAL_TYPE_DOUBLE);
    CHECK(dbal_col_double(r, C_D) == 2.5, "dbal_col_double(2.5) is %g", dbal_col_double(r, C_D));
    EXPECT_STR(dbal_col_text(r, C_D), "2.5");
    END(r);

    r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_B, &b), DBAL_OK);
    EXPECT_I64(b, 0);
    EXPECT_I64(dbal_col_bool(r, C_B), 0);
    END(r);
}

/* "integers from integers, from bools (0/1), from integral doubles and from
 * text that is exactly an integer" -- and nothing else, on every driver. */
static void conversions_int64_rules(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    int64_t i = 0;

    dbal_rows *r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_OK); /* '123' */
    EXPECT_I64(i, 123);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_OK); /* 3.0 */
    EXPECT_I64(i, 3);
    END(r);

    r = CONV_ROW(1);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_ETYPE); /* 2.5 is not integral */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_B, &i), DBAL_OK);    /* bool TRUE: 1 */
    EXPECT_I64(i, 1);
    END(r);
    r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_B, &i), DBAL_OK); /* bool FALSE: 0 */
    EXPECT_I64(i, 0);
    END(r);

    r = CONV_ROW(10);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_OK); /* 1e15: integral, fits */
    EXPECT_I64(i, INT64_C(1000000000000000));
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ETYPE); /* '' */
    END(r);

    r = CONV_ROW(3);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_ERANGE); /* 1e300: integral, too big */
    EXPECT_I64(dbal_col_int64(r, C_D), 0);
    EXPECT_ERRCODE(f->s, DBAL_ERANGE);
    END(r);

    r = CONV_ROW(5);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_ERANGE); /* -1e300 */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ETYPE);  /* '2.5' */
    END(r);

    r = CONV_ROW(4);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ERANGE); /* '99999999999999999999' */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_ETYPE);  /* -0.5 */
    END(r);

    r = CONV_ROW(7);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ETYPE); /* '12abc' */
    END(r);
}

/* "doubles from numbers and numeric text (NaN, Infinity)"; text of a double
 * is its shortest round-trip decimal form, spelled as PostgreSQL does. */
static void conversions_double_rules(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    double d = 0;

    dbal_rows *r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_OK); /* '123' */
    CHECK(d == 123.0, "'123' as a double is %g", d);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_Z, &d), DBAL_OK); /* integer 0 */
    CHECK(d == 0.0, "0 as a double is %g", d);
    EXPECT_STR(dbal_col_text(r, C_D), "3");
    END(r);

    r = CONV_ROW(3);
    EXPECT_STR(dbal_col_text(r, C_D), "1e+300");
    END(r);

    r = CONV_ROW(5);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_OK); /* '2.5' */
    CHECK(d == 2.5, "'2.5' as a double is %g", d);
    EXPECT_STR(dbal_col_text(r, C_D), "-1e+300");
    END(r);

    r = CONV_ROW(7);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_ETYPE); /* '12abc' */
    END(r);

    /* a bool is not a number (only integers convert from bools) */
    r = CONV_ROW(1);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_B, &d), DBAL_ETYPE);
    END(r);

    r = CONV_ROW(8);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_OK); /* 'NaN' */
    CHECK(isnan(d), "'NaN' as a double is %g", d);
    END(r);

    r = CONV_ROW(9);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_OK); /* '-Infinity' */
    CHECK(d == -INFINITY, "'-Infinity' as a double is %g", d);
    END(r);
}

/* "bools from integers 0/1 and from true/false/t/f/yes/no/on/off/1/0". */
static void conversions_bool_rules(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    int b = -1;

    dbal_rows *r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_N, &b), DBAL_OK); /* integer 1 */
    EXPECT_I64(b, 1);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_Z, &b), DBAL_OK); /* integer 0 */
    EXPECT_I64(b, 0);
    END(r);

    r = CONV_ROW(3);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_T, &b), DBAL_OK); /* 'true' */
    EXPECT_I64(b, 1);
    END(r);

    r = CONV_ROW(6);
    b = -1;
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_T, &b), DBAL_OK); /* 'f' */
    EXPECT_I64(b, 0);
    END(r);

    r = CONV_ROW(4);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_N, &b), DBAL_ETYPE); /* 7: only 0 and 1 are bools */
    END(r);

    /* doubles are not bools, not even 0.0 and 1.0 */
    r = CONV_ROW(6);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_D, &b), DBAL_ETYPE); /* 0.0 */
    END(r);

    r = CONV_ROW(7);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_T, &b), DBAL_ETYPE); /* '12abc' */
    END(r);

    r = QUERY(f->s, "SELECT 'yes' AS a, 'off' AS b, 'maybe' AS c, '' AS d", DBAL_NOARGS);
    NEXT_ROW(r);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 0, &b), DBAL_OK);
    EXPECT_I64(b, 1);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 1, &b), DBAL_OK);
    EXPECT_I64(b, 0);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 2, &b), DBAL_ETYPE);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 3, &b), DBAL_ETYPE);
    END(r);
}

/* Text of a BOOLEAN column: "t"/"f" on every driver (dbal.h). */
#define BOOL_TEXT_TRUE "t"
#define BOOL_TEXT_FALSE "f"
static void conversions_bool_as_text(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    dbal_rows *r = CONV_ROW(1);
    EXPECT_STR(dbal_col_text(r, C_B), BOOL_TEXT_TRUE);
    END(r);
    r = CONV_ROW(2);
    EXPECT_STR(dbal_col_text(r, C_B), BOOL_TEXT_FALSE);
    END(r);
}

/* ---- integrity and statement errors: same code and SQLSTATE on both ---- */

/* The error must leave the session usable outside a transaction, and the
 * next success must clear the session's error. */
static void check_session_recovers(fixture *f)
{
    EXPECT_I64(SCALAR(f->s, "SELECT 1 AS one", DBAL_NOARGS), 1);
    EXPECT_ERR(f->s, DBAL_OK, "");
    EXPECT_I64(dbal_tx_depth(f->s), 0);
}

/*
 * CONSTRAINT_NAMES (DIFFERENCES #4): what dbal_error.constraint holds.
 * PostgreSQL names the constraint for UNIQUE, FOREIGN KEY and CHECK.
 * SQLite names only a CHECK constraint (in its message); for the others the
 * driver leaves the field "" rather than pass table.column off as a name.
 */
static const char *sqlite_constraint_name(const char *pg_name, int is_check)
{
    return is_check ? pg_name : "";
}

static void expect_constraint_at(fixture *f, const char *pg_name, int is_check, const char *file,
                                 int line)
{
    const char *want = f->is_pg ? pg_name : sqlite_constraint_name(pg_name, is_check);
    expect_str_at(dbal_session_error(f->s)->constraint, want, "dbal_error.constraint", file,
                  line);
}
#define EXPECT_CONSTRAINT(pg_name, is_check) \
    expect_constraint_at(f, (pg_name), (is_check), __FILE__, __LINE__)

/* dbal_error.native_code: SQLite's extended result code; PostgreSQL has none (0). */
#define SQLITE_CONSTRAINT_CHECK_CODE 275
#define SQLITE_CONSTRAINT_FOREIGNKEY_CODE 787
#define SQLITE_CONSTRAINT_NOTNULL_CODE 1299
#define SQLITE_CONSTRAINT_PRIMARYKEY_CODE 1555
#define SQLITE_CONSTRAINT_UNIQUE_CODE 2067
static void expect_native_at(fixture *f, int sqlite_code, const char *file, int line)
{
    expect_i64_at(dbal_session_error(f->s)->native_code, f->is_pg ? 0 : sqlite_code,
                  "dbal_error.native_code", file, line);
}
#define EXPECT_NATIVE(sqlite_code) expect_native_at(f, (sqlite_code), __FILE__, __LINE__)

static void integrity_unique(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_u", "id INTEGER PRIMARY KEY, email TEXT CONSTRAINT conf_u_email_key UNIQUE");
    EXEC_OK(f->s, "INSERT INTO conf_u(id, email) VALUES (1, ?)", DBAL_ARGS(dbal_text("a@x")));
    int64_t n = -7;
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_u(id, email) VALUES (2, ?)",
                        DBAL_ARGS(dbal_text("a@x")), &n),
              DBAL_EUNIQUE);
    EXPECT_ERR(f->s, DBAL_EUNIQUE, "23505");
    EXPECT_CONSTRAINT("conf_u_email_key", 0);
    EXPECT_NATIVE(SQLITE_CONSTRAINT_UNIQUE_CODE);
    check_session_recovers(f);
    /* the primary key is a unique constraint too */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_u(id, email) VALUES (1, 'b@x')", DBAL_NOARGS, NULL),
              DBAL_EUNIQUE);
    EXPECT_ERR(f->s, DBAL_EUNIQUE, "23505");
    EXPECT_NATIVE(SQLITE_CONSTRAINT_PRIMARYKEY_CODE);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_u"), 1);
}

static void integrity_foreign_key(void **state)
{
    fixture *f = fix(state);
    DROP_TABLE(f, "conf_child");
    CREATE_TABLE(f, "conf_parent", "id INTEGER PRIMARY KEY");
    CREATE_TABLE(f, "conf_child",
                 "id INTEGER PRIMARY KEY, pid BIGINT CONSTRAINT conf_child_pid_fkey "
                 "REFERENCES conf_parent(id)");
    EXEC_OK(f->s, "INSERT INTO conf_parent(id) VALUES (1)", DBAL_NOARGS);
    EXEC_OK(f->s, "INSERT INTO conf_child(id, pid) VALUES (1, 1)", DBAL_NOARGS);
    /* a child without a parent */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_child(id, pid) VALUES (2, ?)",
                              DBAL_ARGS(dbal_int64(99)), NULL),
              DBAL_EFOREIGNKEY);
    EXPECT_ERR(f->s, DBAL_EFOREIGNKEY, "23503");
    EXPECT_CONSTRAINT("conf_child_pid_fkey", 0);
    EXPECT_NATIVE(SQLITE_CONSTRAINT_FOREIGNKEY_CODE);
    check_session_recovers(f);
    /* deleting a parent that has a child */
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_parent WHERE id = 1", DBAL_NOARGS, NULL),
              DBAL_EFOREIGNKEY);
    EXPECT_ERR(f->s, DBAL_EFOREIGNKEY, "23503");
    EXPECT_CONSTRAINT("conf_child_pid_fkey", 0);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_child"), 1);
    EXPECT_I64(COUNT(f->s, "conf_parent"), 1);
    DROP_TABLE(f, "conf_child");
}

static void integrity_not_null(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_nn", "id INTEGER PRIMARY KEY, name TEXT NOT NULL");
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_nn(id, name) VALUES (1, ?)",
                              DBAL_ARGS(dbal_null()), NULL),
              DBAL_ENOTNULL);
    EXPECT_ERR(f->s, DBAL_ENOTNULL, "23502");
    EXPECT_CONSTRAINT("", 0); /* neither database names a constraint for NOT NULL */
    EXPECT_NATIVE(SQLITE_CONSTRAINT_NOTNULL_CODE);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_nn"), 0);
}

static void integrity_check(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_chk", "id INTEGER PRIMARY KEY, n BIGINT CONSTRAINT conf_chk_positive CHECK (n > 0)");
    EXEC_OK(f->s, "INSERT INTO conf_chk(id, n) VALUES (1, 5)", DBAL_NOARGS);
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_chk(id, n) VALUES (2, ?)",
                              DBAL_ARGS(dbal_int64(-5)), NULL),
              DBAL_ECHECK);
    EXPECT_ERR(f->s, DBAL_ECHECK, "23514");
    EXPECT_CONSTRAINT("conf_chk_positive", 1);
    EXPECT_NATIVE(SQLITE_CONSTRAINT_CHECK_CODE);
    check_session_recovers(f);
    int64_t n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "UPDATE conf_chk SET n = 0 WHERE id = 1", DBAL_NOARGS, &n),
              DBAL_ECHECK);
    EXPECT_ERR(f->s, DBAL_ECHECK, "23514");
    check_session_recovers(f);
    EXPECT_I64(SCALAR(f->s, "SELECT n FROM conf_chk WHERE id = 1", DBAL_NOARGS), 5);
}

static void error_syntax(void **state)
{
    fixture *f = fix(state);
    EXPECT_RC(f->s, dbal_exec(f->s, "SELEC 1", DBAL_NOARGS, NULL), DBAL_ESYNTAX);
    EXPECT_ERR(f->s, DBAL_ESYNTAX, "42601");
    check_session_recovers(f);
    /* dbal_query reports it itself, not at the first dbal_rows_next */
    dbal_rows *r = NULL;
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT 1 FROM WHERE", DBAL_NOARGS, &r), DBAL_ESYNTAX);
    EXPECT_ERR(f->s, DBAL_ESYNTAX, "42601");
    check_session_recovers(f);
}

static void error_undefined(void **state)
{
    fixture *f = fix(state);
    DROP_TABLE(f, "conf_no_such_table");
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_no_such_table VALUES (1)", DBAL_NOARGS, NULL),
              DBAL_EUNDEFINED);
    EXPECT_ERR(f->s, DBAL_EUNDEFINED, "42P01");
    check_session_recovers(f);
    dbal_rows *r = NULL;
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT * FROM conf_no_such_table", DBAL_NOARGS, &r),
              DBAL_EUNDEFINED);
    EXPECT_ERR(f->s, DBAL_EUNDEFINED, "42P01");
    check_session_recovers(f);
    /* an undefined column */
    CREATE_TABLE(f, "conf_cols", "id INTEGER PRIMARY KEY");
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT no_such_column FROM conf_cols", DBAL_NOARGS, &r),
              DBAL_EUNDEFINED);
    EXPECT_ERR(f->s, DBAL_EUNDEFINED, "42703");
    check_session_recovers(f);
}

/* ---- transactions ---- */

static void make_tx_table(fixture *f)
{
    CREATE_TABLE(f, "conf_tx", "id INTEGER PRIMARY KEY, v TEXT");
}

static void insert_tx_at(fixture *f, dbal_session *s, int id, const char *file, int line)
{
    int64_t n = -7;
    int rc = dbal_exec(s, "INSERT INTO conf_tx(id, v) VALUES (?, ?)",
                       DBAL_ARGS(dbal_int64(id), dbal_text("x")), &n);
    if (rc != DBAL_OK) {
        print_error("%s:%d: insert of id %d returned %s\n", file, line, id, dbal_code_name(rc));
        describe_session(s);
        _fail(file, line);
    }
    expect_i64_at(n, 1, "rows affected", file, line);
}
#define INSERT_TX(s, id) insert_tx_at(f, (s), (id), __FILE__, __LINE__)

static void ids_are_at(fixture *f, dbal_session *s, const char *want, const char *file, int line)
{
    char got[256] = "";
    dbal_rows *r = query_at(f, s, "SELECT id FROM conf_tx ORDER BY id", DBAL_NOARGS, file, line);
    int rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        size_t len = strlen(got);
        snprintf(got + len, sizeof got - len, "%s%" PRId64, len ? "," : "", dbal_col_int64(r, 0));
    }
    expect_rc_at(s, rc, DBAL_DONE, "dbal_rows_next", file, line);
    close_rows(f, r);
    expect_str_at(got, want, "ids in conf_tx", file, line);
}
/* The ids in conf_tx as seen by session s, e.g. "1,3" ("" for none). */
#define IDS_ARE(s, want) ids_are_at(f, (s), (want), __FILE__, __LINE__)

static void tx_commit_persists(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    INSERT_TX(f->s, 1);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    IDS_ARE(f->s, "1,2");
    REOPEN(); /* a second session sees the committed rows */
    IDS_ARE(f->s, "1,2");
}

static void tx_rollback_discards(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1); /* autocommit */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    EXEC_OK(f->s, "DELETE FROM conf_tx WHERE id = 1", DBAL_NOARGS);
    IDS_ARE(f->s, "2"); /* the transaction sees its own work */
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    IDS_ARE(f->s, "1");
    REOPEN();
    IDS_ARE(f->s, "1");
}

static void tx_close_rolls_back(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK); /* a savepoint too */
    INSERT_TX(f->s, 2);
    REOPEN(); /* closes the session with the transaction open */
    IDS_ARE(f->s, "");
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    /* the connection went back to the pool clean: a new transaction works */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    INSERT_TX(f->s, 3);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "3");
}

static void tx_savepoint_rollback_inner(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 2);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 3);
    INSERT_TX(f->s, 3);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK); /* discards 3 */
    EXPECT_I64(dbal_tx_depth(f->s), 2);
    IDS_ARE(f->s, "1,2");
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK); /* discards 2 */
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    IDS_ARE(f->s, "1");
    INSERT_TX(f->s, 4); /* the outer level goes on */
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    REOPEN();
    IDS_ARE(f->s, "1,4");
}

static void tx_savepoint_commit_inner_rollback_outer(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK); /* releases the savepoint */
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    IDS_ARE(f->s, "1,2");
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK); /* discards both */
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    IDS_ARE(f->s, "");
    REOPEN();
    IDS_ARE(f->s, "");
    /* and a second round of savepoints on the same session works */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 5);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 6);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "5,6");
}

static void tx_depth_and_misuse(void **state)
{
    fixture *f = fix(state);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_EMISUSE);
    EXPECT_ERR(f->s, DBAL_EMISUSE, "");
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_EMISUSE);
    EXPECT_ERR(f->s, DBAL_EMISUSE, "");
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    /* after a real statement (the connection is taken) too */
    check_session_recovers(f);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_EMISUSE);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_EMISUSE);
    /* options on a nested begin are misuse, and change nothing */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY), DBAL_EMISUSE);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    EXPECT_I64(SCALAR(f->s, "SELECT 2 AS two", DBAL_NOARGS), 2); /* not a failed transaction */
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    /* one commit too many */
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_EMISUSE);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
}

/* ---- a failed statement leaves the transaction failed ---- */

static void fail_one_at(fixture *f, const char *file, int line)
{
    /* id 1 exists: a unique violation */
    int rc = dbal_exec(f->s, "INSERT INTO conf_tx(id, v) VALUES (1, 'dup')", DBAL_NOARGS, NULL);
    expect_rc_at(f->s, rc, DBAL_EUNIQUE, "duplicate insert", file, line);
}
#define FAIL_ONE() fail_one_at(f, __FILE__, __LINE__)

static void txfailed_next_statement_and_commit(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1); /* committed */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    FAIL_ONE();
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    /* every statement now fails with 25P02, exec and query alike */
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_ERR(f->s, DBAL_ETXFAILED, "25P02");
    dbal_rows *r = NULL;
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT id FROM conf_tx", DBAL_NOARGS, &r), DBAL_ETXFAILED);
    EXPECT_ERR(f->s, DBAL_ETXFAILED, "25P02");
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_tx(id, v) VALUES (3, 'x')", DBAL_NOARGS, NULL),
              DBAL_ETXFAILED);
    /* commit rolls back and says so */
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_ETXFAILED);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    /* the session is usable again, and nothing of the transaction persisted */
    IDS_ARE(f->s, "1");
    REOPEN();
    IDS_ARE(f->s, "1");
}

static void txfailed_rollback_recovers(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    FAIL_ONE();
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    check_session_recovers(f);
    IDS_ARE(f->s, "1");
    /* a new transaction on the same session works */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 3);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "1,3");
}

static void txfailed_savepoint_recovers(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK); /* savepoint */
    INSERT_TX(f->s, 3);
    FAIL_ONE();
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_ERR(f->s, DBAL_ETXFAILED, "25P02");
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK); /* to the savepoint */
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    /* the outer transaction is healthy again, without 3 */
    IDS_ARE(f->s, "1,2");
    INSERT_TX(f->s, 4);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    REOPEN();
    IDS_ARE(f->s, "1,2,4");
}

/* dbal_commit on a failed savepoint level: "it is rolled back instead and
 * DBAL_ETXFAILED is returned" -- the innermost level only. */
static void txfailed_commit_of_failed_savepoint(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 3);
    FAIL_ONE();
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_ETXFAILED);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    IDS_ARE(f->s, "1,2");
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "1,2");
}

/* ---- statements ---- */

static void make_auto_table(fixture *f)
{
    CREATE_TABLE(f, "conf_auto", "id %s, name TEXT NOT NULL", ddl(f, DDL_AUTO_ID));
}

static void returning(void **state)
{
    fixture *f = fix(state);
    make_auto_table(f);
    for (int k = 1; k <= 2; k++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", k);
        dbal_rows *r = QUERY(f->s, "INSERT INTO conf_auto(name) VALUES (?) RETURNING id, name",
                             DBAL_ARGS(dbal_text(name)));
        EXPECT_I64(dbal_col_count(r), 2);
        EXPECT_STR(dbal_col_name(r, 0), "id");
        EXPECT_STR(dbal_col_name(r, 1), "name");
        NEXT_ROW(r);
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64);
        EXPECT_I64(dbal_col_int64(r, 0), k);
        EXPECT_STR(dbal_col_text(r, 1), name);
        NEXT_DONE(r);
        close_rows(f, r);
    }
    EXPECT_I64(COUNT(f->s, "conf_auto"), 2);
    /* several rows from one statement */
    dbal_rows *r = QUERY(f->s, "INSERT INTO conf_auto(name) VALUES ('a'), ('b') RETURNING id",
                         DBAL_NOARGS);
    int64_t sum = 0;
    int rows = 0, rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        sum += dbal_col_int64(r, 0);
        rows++;
    }
    EXPECT_RC(f->s, rc, DBAL_DONE);
    close_rows(f, r);
    EXPECT_I64(rows, 2);
    EXPECT_I64(sum, 3 + 4);
    /* through dbal_exec the rows are discarded, the insert is not */
    int64_t n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_auto(name) VALUES ('c') RETURNING id",
                              DBAL_NOARGS, &n),
              DBAL_OK);
    EXPECT_I64(n, 1);
    EXPECT_I64(COUNT(f->s, "conf_auto"), 5);
    /* in a transaction, rolled back with it */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(SCALAR(f->s, "INSERT INTO conf_auto(name) VALUES ('d') RETURNING id", DBAL_NOARGS), 6);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_I64(COUNT(f->s, "conf_auto"), 5);
}

static void rows_affected(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_aff", "id INTEGER PRIMARY KEY, v TEXT");
    int64_t n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_aff(id, v) VALUES (1, 'a'), (2, 'a'), (3, 'b'), (4, 'a')",
                              DBAL_NOARGS, &n),
              DBAL_OK);
    EXPECT_I64(n, 4);
    n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "UPDATE conf_aff SET v = 'c' WHERE v = ?",
                              DBAL_ARGS(dbal_text("a")), &n),
              DBAL_OK);
    EXPECT_I64(n, 3);
    n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "UPDATE conf_aff SET v = 'd' WHERE v = ?",
                              DBAL_ARGS(dbal_text("zzz")), &n),
              DBAL_OK);
    EXPECT_I64(n, 0);
    n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_aff WHERE id > ?", DBAL_ARGS(dbal_int64(2)), &n),
              DBAL_OK);
    EXPECT_I64(n, 2);
    n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_aff WHERE id > 100", DBAL_NOARGS, &n),
              DBAL_OK);
    EXPECT_I64(n, 0);
    /* inside a transaction too, and `affected` may be NULL */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "UPDATE conf_aff SET v = 'e'", DBAL_NOARGS, &n), DBAL_OK);
    EXPECT_I64(n, 2);
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_aff WHERE id = 1", DBAL_NOARGS, NULL), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_I64(COUNT(f->s, "conf_aff"), 1);
}

/*
 * LAST_INSERT_ID (DIFFERENCES #5): before the session's first statement there
 * is no connection: DBAL_EMISUSE on both. With nothing inserted yet,
 * PostgreSQL's lastval() is undefined and SQLite's rowid is 0: DBAL_EMISUSE
 * on both.
 */
static void last_insert_id(void **state)
{
    fixture *f = fix(state);
    int64_t id = -7;
    /* a session that has run nothing has no connection yet: on both */
    EXPECT_RC(f->s, dbal_last_insert_id(f->s, &id), DBAL_EMISUSE);
    make_auto_table(f);
    EXPECT_RC(f->s, dbal_last_insert_id(f->s, &id), DBAL_EMISUSE);
    EXPECT_I64(id, -7); /* untouched on failure */
    for (int k = 1; k <= 3; k++) {
        EXEC_OK(f->s, "INSERT INTO conf_auto(name) VALUES (?)", DBAL_ARGS(dbal_text("x")));
        id = -7;
        EXPECT_RC(f->s, dbal_last_insert_id(f->s, &id), DBAL_OK);
        EXPECT_I64(id, k);
    }
    /* it is the id the database gave */
    EXPECT_I64(SCALAR(f->s, "SELECT max(id) AS m FROM conf_auto", DBAL_NOARGS), 3);
    /* inside a transaction as well */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXEC_OK(f->s, "INSERT INTO conf_auto(name) VALUES ('y')", DBAL_NOARGS);
    EXPECT_RC(f->s, dbal_last_insert_id(f->s, &id), DBAL_OK);
    EXPECT_I64(id, 4);
    EXPECT_I64(SCALAR(f->s, "SELECT id FROM conf_auto WHERE name = 'y'", DBAL_NOARGS), id);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
}

static void placeholders_in_literals_and_comments(void **state)
{
    fixture *f = fix(state);
    dbal_rows *r = QUERY(f->s, "SELECT '?' AS a, ? AS b -- ?\n", DBAL_ARGS(dbal_text("p")));
    EXPECT_I64(dbal_col_count(r), 2);
    NEXT_ROW(r);
    EXPECT_STR(dbal_col_text(r, 0), "?");
    EXPECT_STR(dbal_col_text(r, 1), "p");
    NEXT_DONE(r);
    close_rows(f, r);

    EXPECT_I64(SCALAR(f->s, "SELECT /* ? */ ? AS b", DBAL_ARGS(dbal_int64(7))), 7);
    EXPECT_I64(SCALAR(f->s, "SELECT ? AS b /* ? ? */", DBAL_ARGS(dbal_int64(8))), 8);
    EXPECT_I64(SCALAR(f->s, "SELECT ? AS b -- trailing ?", DBAL_ARGS(dbal_int64(9))), 9);

    r = QUERY(f->s, "SELECT 'it''s ?' AS a, ? AS b, 1 AS \"c?d\"", DBAL_ARGS(dbal_text("q")));
    EXPECT_STR(dbal_col_name(r, 2), "c?d");
    NEXT_ROW(r);
    EXPECT_STR(dbal_col_text(r, 0), "it's ?");
    EXPECT_STR(dbal_col_text(r, 1), "q");
    EXPECT_I64(dbal_col_int64(r, 2), 1);
    NEXT_DONE(r);
    close_rows(f, r);

    /* the same through dbal_exec, with the count checked on the way */
    CREATE_TABLE(f, "conf_ph", "id INTEGER PRIMARY KEY, v TEXT");
    EXEC_OK(f->s, "INSERT INTO conf_ph(id, v) VALUES (?, '?') -- ?", DBAL_ARGS(dbal_int64(1)));
    EXEC_OK(f->s, "INSERT INTO conf_ph(id, v) /* ? */ VALUES (2, ?)", DBAL_ARGS(dbal_text("x?")));
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_ph WHERE v IN ('?', 'x?')", DBAL_NOARGS), 2);
}

static void param_count_mismatch(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_pc", "id INTEGER PRIMARY KEY, v TEXT");
    dbal_rows *r = NULL;
    /* too few */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_pc(id, v) VALUES (?, ?)",
                              DBAL_ARGS(dbal_int64(1)), NULL),
              DBAL_EMISUSE);
    EXPECT_ERR(f->s, DBAL_EMISUSE, "");
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT ? AS a, ? AS b", DBAL_ARGS(dbal_int64(1)), &r),
              DBAL_EMISUSE);
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT ? AS a", DBAL_NOARGS, &r), DBAL_EMISUSE);
    /* too many */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_pc(id, v) VALUES (?, ?)",
                              DBAL_ARGS(dbal_int64(1), dbal_text("a"), dbal_text("b")), NULL),
              DBAL_EMISUSE);
    EXPECT_ERR(f->s, DBAL_EMISUSE, "");
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT 1 AS a", DBAL_ARGS(dbal_int64(1)), &r), DBAL_EMISUSE);
    /* a placeholder in a literal does not count */
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT '?' AS a", DBAL_ARGS(dbal_int64(1)), &r),
              DBAL_EMISUSE);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_pc"), 0);

    /* inside a transaction: nothing was sent, the transaction is not failed */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXEC_OK(f->s, "INSERT INTO conf_pc(id, v) VALUES (1, 'a')", DBAL_NOARGS);
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_pc(id, v) VALUES (?, ?)",
                              DBAL_ARGS(dbal_int64(2)), NULL),
              DBAL_EMISUSE);
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT ? AS a", DBAL_ARGS(dbal_int64(1), dbal_int64(2)), &r),
              DBAL_EMISUSE);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    EXEC_OK(f->s, "INSERT INTO conf_pc(id, v) VALUES (?, ?)",
            DBAL_ARGS(dbal_int64(2), dbal_text("b")));
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    EXPECT_I64(COUNT(f->s, "conf_pc"), 2);
}

/* ---- streaming ---- */

#define CTE_100K                                                                           \
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100000) SELECT " \
    "x FROM c"
#define CTE_N "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?) SELECT x FROM c"

static void stream_100k(void **state)
{
    fixture *f = fix(state);
    dbal_rows *r = QUERY(f->s, CTE_100K, DBAL_NOARGS);
    EXPECT_I64(dbal_col_count(r), 1);
    EXPECT_STR(dbal_col_name(r, 0), "x");
    int64_t sum = 0, rows = 0, last = 0;
    int rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        int64_t x = dbal_col_int64(r, 0);
        if (x != last + 1) {
            close_rows(f, r);
            fail_msg("row %" PRId64 " is %" PRId64 ", expected %" PRId64, rows, x, last + 1);
        }
        last = x;
        sum += x;
        rows++;
    }
    EXPECT_RC(f->s, rc, DBAL_DONE);
    EXPECT_RC(f->s, dbal_rows_next(r), DBAL_DONE); /* stays done */
    close_rows(f, r);
    EXPECT_I64(rows, 100000);
    EXPECT_I64(sum, INT64_C(5000050000));
    /* with the bound as a parameter */
    EXPECT_I64(SCALAR(f->s, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?) "
                            "SELECT sum(x) AS s FROM c",
                      DBAL_ARGS(dbal_int64(1000))),
               500500);
}

static void stream_close_early(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    dbal_rows *r = QUERY(f->s, CTE_100K, DBAL_NOARGS);
    for (int k = 1; k <= 5; k++) {
        NEXT_ROW(r);
        EXPECT_I64(dbal_col_int64(r, 0), k);
    }
    close_rows(f, r);
    /* the session is usable at once, with the right answers */
    EXPECT_I64(SCALAR(f->s, "SELECT 41 + 1 AS v", DBAL_NOARGS), 42);
    /* inside a transaction: closing early does not fail or end it */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 1);
    r = QUERY(f->s, CTE_100K, DBAL_NOARGS);
    NEXT_ROW(r);
    close_rows(f, r);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    /* a cursor closed before its first row */
    r = QUERY(f->s, CTE_100K, DBAL_NOARGS);
    close_rows(f, r);
    REOPEN();
    IDS_ARE(f->s, "1,2");
    /* dbal_rows_close(NULL) is allowed */
    dbal_rows_close(NULL);
}

static void stream_statement_while_cursor_open(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    dbal_rows *a = QUERY(f->s, CTE_N, DBAL_ARGS(dbal_int64(1000)));
    int64_t sum = 0, rows = 0;
    int rc;
    while ((rc = dbal_rows_next(a)) == DBAL_ROW) {
        int64_t x = dbal_col_int64(a, 0);
        sum += x;
        rows++;
        if (x % 100 == 0) {
            /* a write and a read on the same session, cursor still open */
            INSERT_TX(f->s, (int)x);
            EXPECT_I64(COUNT(f->s, "conf_tx"), x / 100);
            EXPECT_I64(SCALAR(f->s, "SELECT ? + 1 AS v", DBAL_ARGS(dbal_int64(x))), x + 1);
            /* the cursor's current row is not disturbed */
            EXPECT_I64(dbal_col_int64(a, 0), x);
        }
    }
    EXPECT_RC(f->s, rc, DBAL_DONE);
    close_rows(f, a);
    EXPECT_I64(rows, 1000);
    EXPECT_I64(sum, 500500);
    EXPECT_I64(COUNT(f->s, "conf_tx"), 10);

    /* two cursors read in turns */
    a = QUERY(f->s, CTE_N, DBAL_ARGS(dbal_int64(300)));
    dbal_rows *b = QUERY(f->s, "SELECT id FROM conf_tx ORDER BY id", DBAL_NOARGS);
    int64_t sa = 0, sb = 0;
    int ra, rb, na = 0, nb = 0;
    do {
        ra = dbal_rows_next(a);
        if (ra == DBAL_ROW) {
            sa += dbal_col_int64(a, 0);
            na++;
        }
        rb = dbal_rows_next(b);
        if (rb == DBAL_ROW) {
            sb += dbal_col_int64(b, 0);
            nb++;
        }
    } while (ra == DBAL_ROW || rb == DBAL_ROW);
    EXPECT_RC(f->s, ra, DBAL_DONE);
    EXPECT_RC(f->s, rb, DBAL_DONE);
    close_rows(f, b);
    close_rows(f, a);
    EXPECT_I64(na, 300);
    EXPECT_I64(sa, 45150);
    EXPECT_I64(nb, 10);
    EXPECT_I64(sb, 5500);

    /* in a transaction: the work done while the cursor is open commits */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    a = QUERY(f->s, CTE_N, DBAL_ARGS(dbal_int64(50)));
    NEXT_ROW(a);
    INSERT_TX(f->s, 5000);
    NEXT_ROW(a);
    EXPECT_I64(dbal_col_int64(a, 0), 2);
    close_rows(f, a);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    EXPECT_I64(COUNT(f->s, "conf_tx"), 11);
}

/* ---- columns ---- */

static void columns_names_and_range(void **state)
{
    fixture *f = fix(state);
    dbal_rows *r = QUERY(f->s, "SELECT 1 AS one, 'x' AS two, NULL AS three", DBAL_NOARGS);
    EXPECT_I64(dbal_col_count(r), 3);
    EXPECT_STR(dbal_col_name(r, 0), "one");
    EXPECT_STR(dbal_col_name(r, 1), "two");
    EXPECT_STR(dbal_col_name(r, 2), "three");
    CHECK(dbal_col_name(r, 3) == NULL, "dbal_col_name(3) is not NULL");
    CHECK(dbal_col_name(r, -1) == NULL, "dbal_col_name(-1) is not NULL");
    NEXT_ROW(r);
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64);
    EXPECT_TYPE(dbal_col_type(r, 1), DBAL_TYPE_TEXT);
    EXPECT_TYPE(dbal_col_type(r, 2), DBAL_TYPE_NULL);
    /* out of range on a row: safe answers, no crash (dbal.h documents only
     * dbal_col_name; the suite expects the NULL-value answers and an error
     * code from the get_ forms) */
    static const int bad[] = {3, -1, 1000};
    for (int k = 0; k < 3; k++) {
        int c = bad[k];
        int64_t i = 0;
        size_t len = 5;
        CHECK(dbal_col_name(r, c) == NULL, "dbal_col_name(%d)", c);
        EXPECT_TYPE(dbal_col_type(r, c), DBAL_TYPE_NULL);
        CHECK(dbal_col_text(r, c) == NULL, "dbal_col_text(%d) not NULL", c);
        CHECK(dbal_col_blob(r, c, &len) == NULL, "dbal_col_blob(%d) not NULL", c);
        EXPECT_I64(dbal_col_int64(r, c), 0);
        CHECK(dbal_col_double(r, c) == 0.0, "dbal_col_double(%d)", c);
        EXPECT_I64(dbal_col_bool(r, c), 0);
        EXPECT_I64(dbal_col_bytes(r, c), 0);
        int rc = dbal_col_get_int64(r, c, &i);
        CHECK(rc != DBAL_OK && rc != DBAL_ROW && rc != DBAL_DONE,
              "dbal_col_get_int64(%d) returned %s", c, dbal_code_name(rc));
    }
    /* the row is still readable */
    EXPECT_I64(dbal_col_int64(r, 0), 1);
    EXPECT_STR(dbal_col_text(r, 1), "x");
    NEXT_DONE(r);
    EXPECT_I64(dbal_col_count(r), 3); /* fixed for the cursor's life */
    close_rows(f, r);

    /* an empty result still has its columns */
    r = QUERY(f->s, "SELECT 1 AS one, 2 AS two WHERE 1 = 0", DBAL_NOARGS);
    EXPECT_I64(dbal_col_count(r), 2);
    EXPECT_STR(dbal_col_name(r, 1), "two");
    NEXT_DONE(r);
    close_rows(f, r);

    /* table columns, in table order */
    CREATE_TABLE(f, "conf_names", "id INTEGER PRIMARY KEY, first_name TEXT, amount DOUBLE PRECISION");
    r = QUERY(f->s, "SELECT * FROM conf_names", DBAL_NOARGS);
    EXPECT_I64(dbal_col_count(r), 3);
    EXPECT_STR(dbal_col_name(r, 0), "id");
    EXPECT_STR(dbal_col_name(r, 1), "first_name");
    EXPECT_STR(dbal_col_name(r, 2), "amount");
    NEXT_DONE(r);
    close_rows(f, r);
}

/* ---- dbal_transact ---- */

typedef struct unit {
    int calls;
    int depth_seen;
    int id;
    int ret; /* what fn returns after its insert; -1: return the insert's code */
} unit;

static int unit_fn(dbal_session *s, void *userdata)
{
    unit *u = userdata;
    u->calls++;
    u->depth_seen = dbal_tx_depth(s);
    int rc = dbal_exec(s, "INSERT INTO conf_tx(id, v) VALUES (?, 'u')", DBAL_ARGS(dbal_int64(u->id)),
                       NULL);
    if (u->ret == -1)
        return rc;
    if (rc != DBAL_OK)
        return rc;
    return u->ret;
}

static void transact(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    /* the unit of work takes its own connection; give this one back */
    dbal_session_close(f->s);
    f->s = NULL;

    dbal_error err;
    /* success commits */
    unit u = {0, 0, 2, DBAL_OK};
    memset(&err, 0, sizeof err);
    EXPECT_RC(NULL, dbal_transact(f->engine, unit_fn, &u, 0, &err), DBAL_OK);
    EXPECT_I64(u.calls, 1);
    EXPECT_I64(u.depth_seen, 1);

    /* an error from fn rolls back, and its code passes through */
    unit e = {0, 0, 3, DBAL_ECHECK};
    memset(&err, 0, sizeof err);
    EXPECT_RC(NULL, dbal_transact(f->engine, unit_fn, &e, 3, &err), DBAL_ECHECK);
    EXPECT_I64(e.calls, 1); /* not a retryable code */
    EXPECT_I64(err.code, DBAL_ECHECK);

    /* a database error inside fn: code and details pass through */
    unit d = {0, 0, 1, -1};
    memset(&err, 0, sizeof err);
    EXPECT_RC(NULL, dbal_transact(f->engine, unit_fn, &d, 0, &err), DBAL_EUNIQUE);
    EXPECT_I64(err.code, DBAL_EUNIQUE);
    EXPECT_STR(err.sqlstate, "23505");

    /* a serialization failure is retried `retries` more times */
    unit sf = {0, 0, 4, DBAL_ESERIALIZATION};
    memset(&err, 0, sizeof err);
    EXPECT_RC(NULL, dbal_transact(f->engine, unit_fn, &sf, 2, &err), DBAL_ESERIALIZATION);
    EXPECT_I64(sf.calls, 3);

    /* only the first unit's work is there, and the pool got every connection back */
    REOPEN();
    IDS_ARE(f->s, "1,2");
    dbal_engine_stats st;
    EXPECT_RC(f->s, dbal_engine_stats_get(f->engine, &st), DBAL_OK);
    EXPECT_I64(st.waiting, 0);
    CHECK(st.in_use <= 1, "%d connections in use with one session open", st.in_use);
}

/* ---- isolation / read-only ---- */

static void tx_read_only(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    IDS_ARE(f->s, "1"); /* reading is fine */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_tx(id, v) VALUES (2, 'x')", DBAL_NOARGS, NULL),
              DBAL_EREADONLY);
    EXPECT_ERR(f->s, DBAL_EREADONLY, "25006");
    /* a failed statement: the transaction is failed */
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    /* read-only ended with the transaction */
    INSERT_TX(f->s, 3);
    /* a read-only transaction that only reads commits */
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY), DBAL_OK);
    IDS_ARE(f->s, "1,3");
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    INSERT_TX(f->s, 4);
    /* a savepoint inside a read-only transaction is read-only too */
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY | DBAL_TX_SERIALIZABLE), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_tx", DBAL_NOARGS, NULL), DBAL_EREADONLY);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "1,3,4");
}

/* A DBAL_SESSION_READ_ONLY session with no replica to go to runs on the
 * primary and cannot write there either; the connection it used writes
 * again for the next session. */
static void session_read_only(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    dbal_session_close(f->s);
    f->s = NULL;
    dbal_error err;
    CHECK(dbal_session_open_with(f->engine, &f->s, 0x80u, NULL, &err) == DBAL_EINVAL && !f->s,
          "an unknown session flag was accepted");
    CHECK(dbal_session_open_with(f->engine, &f->s, DBAL_SESSION_READ_ONLY, "reader", &err) == DBAL_OK,
          "dbal_session_open_with: %s", err.message);
    IDS_ARE(f->s, "1");
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_tx(id, v) VALUES (2, 'x')", DBAL_NOARGS, NULL),
              DBAL_EREADONLY);
    EXPECT_ERR(f->s, DBAL_EREADONLY, "25006");
    /* in its transactions too, also after a read-only transaction ended */
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_tx", DBAL_NOARGS, NULL), DBAL_EREADONLY);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    REOPEN();
    INSERT_TX(f->s, 3);
    IDS_ARE(f->s, "1,3");
}

static void tx_serializable(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_SERIALIZABLE), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK); /* savepoints work inside */
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "1");
}

/* See DIFFERENCES #3. */
static void tx_isolation_levels(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    static const unsigned levels[] = {DBAL_TX_REPEATABLE_READ, DBAL_TX_READ_COMMITTED};
    for (int k = 0; k < 2; k++) {
        int rc = dbal_begin_with(f->s, levels[k]);
        if (f->is_pg) {
            EXPECT_RC(f->s, rc, DBAL_OK);
            EXPECT_I64(dbal_tx_depth(f->s), 1);
            INSERT_TX(f->s, k + 1);
            EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
        } else {
            EXPECT_RC(f->s, rc, DBAL_EUNSUPPORTED);
            EXPECT_ERRCODE(f->s, DBAL_EUNSUPPORTED);
            /* no transaction was begun, the session goes on */
            EXPECT_I64(dbal_tx_depth(f->s), 0);
            EXPECT_RC(f->s, dbal_commit(f->s), DBAL_EMISUSE);
            INSERT_TX(f->s, k + 1); /* autocommit */
        }
    }
    REOPEN();
    IDS_ARE(f->s, "1,2");
}

/* ---- two sessions at once ---- */

/* Two sessions open at once see each other's committed work and only that:
 * PostgreSQL's READ COMMITTED; SQLite in WAL mode (the driver's default for
 * files, and for sqlite::memory:, which it keeps as a WAL database in RAM). */
static void concurrent_sessions_isolation(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    dbal_session *s2 = OPEN_EXTRA();
    IDS_ARE(s2, "1");
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    /* uncommitted work is invisible to the other session, which does not
     * wait for the writer (SQLite's busy timeout is 5 s by default) */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    IDS_ARE(s2, "1");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(waited < 2.0, "the reader waited %.1f s for the writer", waited);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    /* committed work is visible to it, while both sessions are open */
    IDS_ARE(s2, "1,2");
    /* and the other way round */
    EXPECT_RC(s2, dbal_begin(s2), DBAL_OK);
    INSERT_TX(s2, 3);
    EXPECT_RC(s2, dbal_commit(s2), DBAL_OK);
    IDS_ARE(f->s, "1,2,3");
    close_extra(f, s2);
}

/* ---- more than nine parameters ---- */

static void many_parameters(void **state)
{
    fixture *f = fix(state);
    /* twelve columns, each its own parameter: $1 and $10..$12 must not mix */
    dbal_value v[12];
    for (int k = 0; k < 12; k++)
        v[k] = dbal_int64((k + 1) * 11);
    dbal_rows *r = QUERY(f->s,
                         "SELECT ? AS c1, ? AS c2, ? AS c3, ? AS c4, ? AS c5, ? AS c6, ? AS c7, "
                         "? AS c8, ? AS c9, ? AS c10, ? AS c11, ? AS c12",
                         dbal_params_array(v, 12));
    EXPECT_I64(dbal_col_count(r), 12);
    NEXT_ROW(r);
    for (int k = 0; k < 12; k++)
        EXPECT_I64(dbal_col_int64(r, k), (k + 1) * 11);
    NEXT_DONE(r);
    close_rows(f, r);

    /* 1000 parameters in one INSERT */
    CREATE_TABLE(f, "conf_many", "id INTEGER PRIMARY KEY, v BIGINT");
    enum { ROWS = 500 };
    static dbal_value p[2 * ROWS];
    static char sql[16 + 40 + ROWS * 8];
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO conf_many(id, v) VALUES ");
    for (int k = 0; k < ROWS; k++) {
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s(?, ?)", k ? ", " : "");
        p[2 * k] = dbal_int64(k + 1);
        p[2 * k + 1] = dbal_int64((int64_t)(k + 1) * 1000003);
    }
    CHECK(len < sizeof sql - 1, "statement buffer too small");
    int64_t n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, sql, dbal_params_array(p, 2 * ROWS), &n), DBAL_OK);
    EXPECT_I64(n, ROWS);
    EXPECT_I64(SCALAR(f->s, "SELECT sum(v) AS s FROM conf_many", DBAL_NOARGS),
               (int64_t)ROWS * (ROWS + 1) / 2 * 1000003);
    EXPECT_I64(SCALAR(f->s, "SELECT v FROM conf_many WHERE id = ?", DBAL_ARGS(dbal_int64(437))),
               (int64_t)437 * 1000003);
}

/* ---- pointers returned by the getters ---- */

static void column_pointers_stay_valid(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const unsigned char blob[] = {1, 0, 2, 0, 3};
    EXEC_OK(f->s, "INSERT INTO conf_values(id, b, i, d, t, bl) VALUES (?, ?, ?, ?, ?, ?)",
            DBAL_ARGS(dbal_int64(1), dbal_bool(1), dbal_int64(-123456789), dbal_double(0.25),
                      dbal_text("some text"), dbal_blob(blob, sizeof blob)));
    EXEC_OK(f->s, "INSERT INTO conf_values(id, b, i, d, t, bl) VALUES (?, ?, ?, ?, ?, ?)",
            DBAL_ARGS(dbal_int64(2), dbal_bool(0), dbal_int64(5), dbal_double(-8),
                      dbal_text("other"), dbal_blob("x", 1)));
    dbal_rows *r = QUERY(f->s, "SELECT id, b, i, d, t, bl FROM conf_values ORDER BY id", DBAL_NOARGS);
    NEXT_ROW(r);
    /* the text of every column at once: each pointer stays valid until the
     * next row, whatever else is read meanwhile */
    const char *tb = dbal_col_text(r, 1);
    const char *ti = dbal_col_text(r, 2);
    const char *td = dbal_col_text(r, 3);
    const char *tt = dbal_col_text(r, 4);
    size_t blen = 0;
    const void *pb = dbal_col_blob(r, 5, &blen);
    const char *tid = dbal_col_text(r, 0);
    /* other getters on the same columns, in between */
    EXPECT_I64(dbal_col_int64(r, 2), -123456789);
    CHECK(dbal_col_double(r, 3) == 0.25, "double");
    EXPECT_I64(dbal_col_bool(r, 1), 1);
    EXPECT_I64(dbal_col_bytes(r, 4), 9);
    EXPECT_STR(dbal_col_text(r, 2), "-123456789"); /* asked again */
    EXPECT_STR(tb, BOOL_TEXT_TRUE);
    EXPECT_STR(ti, "-123456789");
    EXPECT_STR(td, "0.25");
    EXPECT_STR(tt, "some text");
    EXPECT_STR(tid, "1");
    CHECK(pb != NULL && blen == sizeof blob && memcmp(pb, blob, blen) == 0, "blob changed");
    NEXT_ROW(r);
    EXPECT_STR(dbal_col_text(r, 2), "5");
    EXPECT_STR(dbal_col_text(r, 3), "-8");
    EXPECT_STR(dbal_col_text(r, 1), BOOL_TEXT_FALSE);
    NEXT_DONE(r);
    close_rows(f, r);
}

/* ---- what SQLite lets through and PostgreSQL does not ---- */

/* DIFFERENCES #12: a parameter whose type does not match the column. */
static void param_type_strictness(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    int rc;
    dbal_rows *r;

    /* dbal_int64 into a BOOLEAN column, dbal_bool into a BIGINT column */
    rc = dbal_exec(f->s, "INSERT INTO conf_values(id, b) VALUES (1, ?)", DBAL_ARGS(dbal_int64(1)), NULL);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "42804");
    } else {
        EXPECT_RC(f->s, rc, DBAL_OK);
        r = GET(1, "b");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_BOOL);
        EXPECT_I64(dbal_col_bool(r, 0), 1);
        END(r);
    }
    rc = dbal_exec(f->s, "INSERT INTO conf_values(id, i) VALUES (2, ?)", DBAL_ARGS(dbal_bool(1)), NULL);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "42804");
    } else {
        EXPECT_RC(f->s, rc, DBAL_OK);
        r = GET(2, "i");
        EXPECT_I64(dbal_col_int64(r, 0), 1);
        END(r);
    }

    /* text that is not a number, into a BIGINT column */
    rc = dbal_exec(f->s, "INSERT INTO conf_values(id, i) VALUES (3, ?)", DBAL_ARGS(dbal_text("abc")), NULL);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "22P02");
    } else {
        EXPECT_RC(f->s, rc, DBAL_OK); /* type affinity: kept as text */
        r = GET(3, "i");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_TEXT);
        EXPECT_STR(dbal_col_text(r, 0), "abc");
        END(r);
    }

    /* a non-integral double into a BIGINT column */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_values(id, i) VALUES (4, ?)",
                              DBAL_ARGS(dbal_double(2.5)), NULL),
              DBAL_OK);
    r = GET(4, "i");
    if (f->is_pg) {
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64); /* rounded (half to even) */
        EXPECT_I64(dbal_col_int64(r, 0), 2);
    } else {
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE); /* kept as 2.5 */
        CHECK(dbal_col_double(r, 0) == 2.5, "%g", dbal_col_double(r, 0));
    }
    END(r);

    /* the same on both: numeric text into BIGINT, an integer into DOUBLE */
    EXEC_OK(f->s, "INSERT INTO conf_values(id, i, d) VALUES (5, ?, ?)",
            DBAL_ARGS(dbal_text("42"), dbal_int64(7)));
    r = QUERY(f->s, "SELECT i, d FROM conf_values WHERE id = 5", DBAL_NOARGS);
    NEXT_ROW(r);
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64);
    EXPECT_I64(dbal_col_int64(r, 0), 42);
    EXPECT_TYPE(dbal_col_type(r, 1), DBAL_TYPE_DOUBLE);
    CHECK(dbal_col_double(r, 1) == 7.0, "%g", dbal_col_double(r, 1));
    NEXT_DONE(r);
    close_rows(f, r);
}

/* DIFFERENCES #13 and #14: values that no column declares. */
static void undeclared_types_and_dialect(void **state)
{
    fixture *f = fix(state);
    /* a bool parameter selected back: PostgreSQL knows it is a bool, SQLite
     * has only the integer; dbal_col_bool reads both */
    dbal_rows *r = QUERY(f->s, "SELECT ? AS x", DBAL_ARGS(dbal_bool(1)));
    NEXT_ROW(r);
    EXPECT_TYPE(dbal_col_type(r, 0), f->is_pg ? DBAL_TYPE_BOOL : DBAL_TYPE_INT64);
    EXPECT_STR(dbal_col_text(r, 0), f->is_pg ? "t" : "1");
    EXPECT_I64(dbal_col_bool(r, 0), 1);
    NEXT_DONE(r);
    close_rows(f, r);

    /* integer division by zero */
    r = NULL;
    int rc = dbal_query(f->s, "SELECT 1 / 0 AS x", DBAL_NOARGS, &r);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "22012");
    } else {
        EXPECT_RC(f->s, rc, DBAL_OK);
        track(f, r, f->s);
        NEXT_ROW(r);
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_NULL);
        NEXT_DONE(r);
        close_rows(f, r);
    }
    check_session_recovers(f);
}

/* DIFFERENCES #15: two writers at once. */
static void concurrent_writers(void **state)
{
    fixture *f = fix(state);
    if (f->is_sqlite && strstr(g_url, ":memory:"))
        skip(); /* would wait out the 5 s busy timeout; the file variant tests it */
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 1);
    if (f->is_pg) {
        /* row locks: another session writes another row at once */
        dbal_session *s2 = OPEN_EXTRA();
        INSERT_TX(s2, 2);
        close_extra(f, s2);
        EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    } else {
        /* one writer at a time: the second waits busy_timeout, then EBUSY */
        char url2[700];
        snprintf(url2, sizeof url2, "%s%cbusy_timeout=200", g_url, strchr(g_url, '?') ? '&' : '?');
        dbal_engine *e2 = NULL;
        dbal_session *s2 = NULL;
        dbal_error err;
        EXPECT_RC(NULL, dbal_engine_open(&e2, url2, &err), DBAL_OK);
        EXPECT_RC(NULL, dbal_session_open(e2, &s2, &err), DBAL_OK);
        int rc = dbal_exec(s2, "INSERT INTO conf_tx(id, v) VALUES (2, 'x')", DBAL_NOARGS, NULL);
        int code = dbal_session_error(s2)->code;
        char state5[6];
        memcpy(state5, dbal_session_error(s2)->sqlstate, 6);
        if (rc == DBAL_EBUSY) {
            EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
            rc = dbal_exec(s2, "INSERT INTO conf_tx(id, v) VALUES (2, 'x')", DBAL_NOARGS, NULL);
        }
        dbal_session_close(s2);
        dbal_engine_close(e2);
        CHECK(code == DBAL_EBUSY && strcmp(state5, "55P03") == 0,
              "second writer: %s \"%s\", expected DBAL_EBUSY \"55P03\"", dbal_code_name(code), state5);
        EXPECT_RC(NULL, rc, DBAL_OK); /* once the first committed */
    }
    REOPEN();
    IDS_ARE(f->s, "1,2");
}

/* ================================================================ main */

/* A statement past the session's timeout fails with DBAL_ETIMEOUT (57014)
 * and the session goes on working. */
static void statement_timeout(void **state)
{
    fixture *f = fix(state);
    EXPECT_RC(f->s, dbal_session_set_timeout(f->s, 200), DBAL_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dbal_rows *r = NULL;
    int rc = dbal_query(f->s, SLOW_SQL, DBAL_NOARGS, &r);
    if (rc == DBAL_OK) {
        rc = dbal_rows_next(r);
        dbal_rows_close(r);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    EXPECT_RC(f->s, rc, DBAL_ETIMEOUT);
    EXPECT_ERR(f->s, DBAL_ETIMEOUT, "57014");
    CHECK(took >= 0.15 && took < 10, "the timeout took %.2fs", took);
    EXPECT_RC(f->s, dbal_session_set_timeout(f->s, 0), DBAL_OK);
    EXPECT_I64(SCALAR(f->s, "SELECT 41 + 1 AS v", DBAL_NOARGS), 42);
    EXPECT_RC(f->s, dbal_session_set_timeout(f->s, -1), DBAL_EINVAL);
}

typedef struct {
    dbal_session *s;
    int rc;
} cancel_arg;

static void *cancel_later(void *p)
{
    cancel_arg *a = p;
    struct timespec nap = {0, 300 * 1000 * 1000};
    nanosleep(&nap, NULL);
    a->rc = dbal_session_cancel(a->s);
    return NULL;
}

/* dbal_session_cancel from another thread stops the running statement with
 * DBAL_ECANCELED; the session and its connection stay usable. */
static void cancel_from_another_thread(void **state)
{
    fixture *f = fix(state);
    EXPECT_I64(SCALAR(f->s, "SELECT 1 AS v", DBAL_NOARGS), 1); /* holds a connection now */
    cancel_arg a = {f->s, -1};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &a);
    dbal_rows *r = NULL;
    int rc = dbal_query(f->s, SLOW_SQL, DBAL_NOARGS, &r);
    if (rc == DBAL_OK) {
        rc = dbal_rows_next(r);
        dbal_rows_close(r);
    }
    pthread_join(t, NULL);
    EXPECT_RC(f->s, a.rc, DBAL_OK);
    EXPECT_RC(f->s, rc, DBAL_ECANCELED);
    EXPECT_ERR(f->s, DBAL_ECANCELED, "57014");
    EXPECT_I64(SCALAR(f->s, "SELECT 41 + 1 AS v", DBAL_NOARGS), 42);
    /* Nothing running: a cancel is harmless. */
    EXPECT_RC(f->s, dbal_session_cancel(f->s), DBAL_OK);
    EXPECT_I64(SCALAR(f->s, "SELECT 2 AS v", DBAL_NOARGS), 2);
}

/* Batches: all rows in, affected counted; a failing row reported and the
 * whole batch undone; inside a caller's transaction the failure fails it. */
static void batch_array(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_batch", "id BIGINT PRIMARY KEY, name TEXT NOT NULL, price DOUBLE PRECISION");
    enum { N = 2000 };
    static dbal_value rows[N * 3];
    static char names[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "item-%d", i);
        rows[i * 3] = dbal_int64(i + 1);
        rows[i * 3 + 1] = dbal_text(names[i]);
        rows[i * 3 + 2] = i % 7 ? dbal_double(i * 0.5) : dbal_null();
    }
    int64_t n = -7;
    size_t failed = 12345;
    EXPECT_RC(f->s, dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name, price) VALUES (?, ?, ?)", rows, 3,
                                    N, &n, &failed),
              DBAL_OK);
    EXPECT_I64(n, N);
    EXPECT_I64(failed, (int64_t)(size_t)-1);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch", DBAL_NOARGS), N);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch WHERE price IS NULL", DBAL_NOARGS),
               (N + 6) / 7);
    EXPECT_I64(SCALAR(f->s, "SELECT id AS v FROM conf_batch WHERE name = 'item-1999'", DBAL_NOARGS), 2000);
    EXPECT_RC(f->s, dbal_tx_depth(f->s), 0); /* its own transaction ended */

    /* A duplicate at row 700: nothing of this batch stays. */
    for (int i = 0; i < N; i++)
        rows[i * 3] = dbal_int64(N + 1 + i);
    rows[700 * 3] = dbal_int64(5);
    EXPECT_RC(f->s, dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name, price) VALUES (?, ?, ?)", rows, 3,
                                    N, &n, &failed),
              DBAL_EUNIQUE);
    EXPECT_ERR(f->s, DBAL_EUNIQUE, "23505");
    EXPECT_I64(failed, 700);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch", DBAL_NOARGS), N);

    /* Inside the caller's transaction: the failure fails the transaction. */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXEC_OK(f->s, "INSERT INTO conf_batch(id, name) VALUES (999999, 'before')", DBAL_NOARGS);
    EXPECT_RC(f->s, dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name, price) VALUES (?, ?, ?)", rows, 3,
                                    N, &n, &failed),
              DBAL_EUNIQUE);
    EXPECT_I64(failed, 700);
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch", DBAL_NOARGS), N);

    /* A placeholder count that does not match: nothing sent, nothing failed. */
    EXPECT_RC(f->s, dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name) VALUES (?, ?)", rows, 3, 2, &n,
                                    &failed),
              DBAL_EMISUSE);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch", DBAL_NOARGS), N);
    /* An empty batch is fine. */
    EXPECT_RC(f->s, dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name, price) VALUES (?, ?, ?)", rows, 3,
                                    0, &n, &failed),
              DBAL_OK);
    EXPECT_I64(n, 0);
}

typedef struct {
    int produced;
    int limit;
    int fail_at;
    char name[32];
} batch_gen;

static int generate_row(void *userdata, size_t row, dbal_value *values)
{
    batch_gen *g = userdata;
    if ((int)row == g->fail_at)
        return DBAL_EINVAL;
    if ((int)row >= g->limit)
        return DBAL_DONE;
    snprintf(g->name, sizeof g->name, "gen-%zu", row);
    values[0] = dbal_int64((int64_t)row);
    values[1] = dbal_text(g->name); /* valid until the next call, as promised */
    g->produced++;
    return DBAL_OK;
}

static void batch_callback(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_batchfn", "id BIGINT PRIMARY KEY, name TEXT NOT NULL");
    batch_gen g = {.limit = 5000, .fail_at = -1};
    int64_t n = 0;
    size_t failed = 0;
    EXPECT_RC(f->s, dbal_exec_batch_fn(f->s, "INSERT INTO conf_batchfn(id, name) VALUES (?, ?)", 2, generate_row,
                                       &g, &n, &failed),
              DBAL_OK);
    EXPECT_I64(n, 5000);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batchfn", DBAL_NOARGS), 5000);
    EXPECT_I64(SCALAR(f->s, "SELECT count(DISTINCT name) AS n FROM conf_batchfn", DBAL_NOARGS), 5000);
    /* The row source gives up half way: its code comes back, nothing stays. */
    EXEC_OK(f->s, "DELETE FROM conf_batchfn", DBAL_NOARGS);
    g = (batch_gen){.limit = 5000, .fail_at = 2500};
    EXPECT_RC(f->s, dbal_exec_batch_fn(f->s, "INSERT INTO conf_batchfn(id, name) VALUES (?, ?)", 2, generate_row,
                                       &g, &n, &failed),
              DBAL_EINVAL);
    EXPECT_I64(failed, (int64_t)(size_t)-1);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batchfn", DBAL_NOARGS), 0);
}

static const struct CMUnitTest tests[] = {
#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    CASE(roundtrip_null),
    CASE(roundtrip_bool),
    CASE(roundtrip_int64),
    CASE(roundtrip_double),
    CASE(roundtrip_double_special),
    CASE(roundtrip_text),
    CASE(roundtrip_text_1mb),
    CASE(roundtrip_blob),
    CASE(text_nul_and_invalid_utf8),
    CASE(conversions_basic),
    CASE(conversions_int64_rules),
    CASE(conversions_double_rules),
    CASE(conversions_bool_rules),
    CASE(conversions_bool_as_text),
    CASE(integrity_unique),
    CASE(integrity_foreign_key),
    CASE(integrity_not_null),
    CASE(integrity_check),
    CASE(error_syntax),
    CASE(error_undefined),
    CASE(tx_commit_persists),
    CASE(tx_rollback_discards),
    CASE(tx_close_rolls_back),
    CASE(tx_savepoint_rollback_inner),
    CASE(tx_savepoint_commit_inner_rollback_outer),
    CASE(tx_depth_and_misuse),
    CASE(txfailed_next_statement_and_commit),
    CASE(txfailed_rollback_recovers),
    CASE(txfailed_savepoint_recovers),
    CASE(txfailed_commit_of_failed_savepoint),
    CASE(returning),
    CASE(rows_affected),
    CASE(last_insert_id),
    CASE(placeholders_in_literals_and_comments),
    CASE(param_count_mismatch),
    CASE(stream_100k),
    CASE(stream_close_early),
    CASE(stream_statement_while_cursor_open),
    CASE(columns_names_and_range),
    CASE(transact),
    CASE(tx_read_only),
    CASE(session_read_only),
    CASE(tx_serializable),
    CASE(tx_isolation_levels),
    CASE(concurrent_sessions_isolation),
    CASE(concurrent_writers),
    CASE(many_parameters),
    CASE(column_pointers_stay_valid),
    CASE(param_type_strictness),
    CASE(undeclared_types_and_dialect),
    CASE(statement_timeout),
    CASE(batch_array),
    CASE(batch_callback),
    CASE(cancel_from_another_thread),
#undef CASE
};

/* The URL with any password removed: "postgresql://user:pw@h/db" gives
 * "postgresql://user@h/db", and a password=... query option becomes
 * password=***. */
static void url_without_password(const char *url, char *out, size_t n)
{
    snprintf(out, n, "%s", url);
    char *auth = strstr(out, "://");
    if (auth) {
        auth += 3;
        size_t alen = strcspn(auth, "/?#");
        char *at = NULL;
        for (size_t k = 0; k < alen; k++)
            if (auth[k] == '@')
                at = auth + k;
        if (at) {
            char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon)
                memmove(colon, at, strlen(at) + 1);
        }
    }
    char *q = strchr(out, '?');
    while (q) {
        char *p = strstr(q, "password=");
        if (!p)
            break;
        if (p[-1] != '?' && p[-1] != '&') {
            q = p + 1;
            continue;
        }
        char *v = p + strlen("password=");
        char *end = v + strcspn(v, "&#");
        char rest[512];
        snprintf(rest, sizeof rest, "%s", end);
        if ((size_t)(v - out) + 3 + strlen(rest) + 1 <= n)
            snprintf(v, n - (size_t)(v - out), "***%s", rest);
        q = v + 3;
    }
}

static int truthy(const char *s)
{
    return s && *s && strcmp(s, "0") != 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s sqlite::memory: | sqlite-file | pg | <dbal URL>\n", argv[0]);
        return 2;
    }
    const char *arg = argv[1];
    const size_t ncases = sizeof tests / sizeof tests[0];
    char url[600];
    char path[64] = "";
    int skipping = 0;

    if (strcmp(arg, "sqlite-file") == 0) {
        snprintf(path, sizeof path, "/tmp/dbal_conf_XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0) {
            perror("mkstemp");
            return 1;
        }
        close(fd);
        snprintf(url, sizeof url, "sqlite://%s", path); /* sqlite:///tmp/... */
        g_url = url;
    } else if (strcmp(arg, "pg") == 0) {
        const char *env = getenv("DBAL_TEST_PG_URL");
        if (env && *env) {
            snprintf(url, sizeof url, "%s", env);
            g_url = url;
        } else if (truthy(getenv("DBAL_TEST_REQUIRE_PG"))) {
            fprintf(stderr,
                    "\n*** conformance on postgresql: DBAL_TEST_REQUIRE_PG=%s but DBAL_TEST_PG_URL "
                    "is not set.\n*** Start a server (tests/pg_cluster.sh start DIR; source "
                    "DIR/env) or unset DBAL_TEST_REQUIRE_PG.\n\n",
                    getenv("DBAL_TEST_REQUIRE_PG"));
            return 1;
        } else {
            skipping = 1;
            g_url = NULL;
        }
    } else {
        g_url = arg;
    }

    char group[1100];
    if (skipping) {
        snprintf(g_display, sizeof g_display, "postgresql");
        printf("conformance on postgresql (DBAL_TEST_PG_URL unset: every case skipped): %zu cases\n",
               ncases);
        snprintf(group, sizeof group, "conformance[postgresql: skipped]");
    } else {
        url_without_password(g_url, g_display, sizeof g_display);
        printf("conformance on %s: %zu cases\n", g_display, ncases);
        snprintf(group, sizeof group, "conformance[%s]", g_display);
    }
    fflush(stdout);

    /* DBAL_CONF_FILTER=pattern runs only the matching cases (while debugging) */
    const char *filter = getenv("DBAL_CONF_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    int failed = cmocka_run_group_tests_name(group, tests, NULL, NULL);

    if (path[0]) {
        /* The cases must have used this very file (not, say, a relative
         * "tmp/dbal_conf_..." made from a misread URL). */
        struct stat st;
        char side[80];
        int used = stat(path, &st) == 0 && st.st_size > 0;
        if (!used) {
            fprintf(stderr, "conformance: %s is still empty after the run: the URL %s did not "
                            "open it\n", path, url);
            failed++;
        }
        unlink(path);
        static const char *suffix[] = {"-wal", "-shm", "-journal"};
        for (int k = 0; k < 3; k++) {
            snprintf(side, sizeof side, "%s%s", path, suffix[k]);
            unlink(side);
        }
    }
    if (skipping && failed == 0)
        return 77; /* ctest: SKIP_RETURN_CODE */
    return failed == 0 ? 0 : 1;
}
