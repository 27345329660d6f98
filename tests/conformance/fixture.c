/*
 * fixture.c - the one fixture every conformance case runs in (a fresh engine
 * and session, closed at teardown with every cursor and extra session the
 * case left open) and the helpers that run SQL in it.
 */
#include "cases.h"
#include "fixture.h"

const char *g_url;
char g_display[1024];

int setup(void **state)
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

int teardown(void **state)
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
        print_error("dbal_engine_close returned %s with every session closed\n", dbal_code_name(rc));
        return -1;
    }
    return 0;
}

fixture *fix(void **state)
{
    if (!*state)
        skip(); /* no URL for this database (DBAL_TEST_PG_URL unset) */
    return *state;
}

const char *ddl(enum conf_cap k)
{
    cap_need(k, NULL);
    return cap(k);
}

void exec_ok_at(dbal_session *s, const char *sql, dbal_params p, const char *file, int line)
{
    int rc = dbal_exec(s, sql, p, NULL);
    if (rc != DBAL_OK) {
        print_error("%s:%d: dbal_exec(\"%s\") returned %s, expected DBAL_OK\n", file, line, sql,
                    dbal_code_name(rc));
        describe_session(s);
        _fail(file, line);
    }
}

/* DROP TABLE IF EXISTS name; CREATE TABLE name (columns...). */
void create_table_at(fixture *f, const char *file, int line, const char *name, const char *fmt, ...)
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

void drop_table_at(fixture *f, const char *name, const char *file, int line)
{
    char sql[200];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", name);
    exec_ok_at(f->s, sql, DBAL_NOARGS, file, line);
}

void track(fixture *f, dbal_rows *r, dbal_session *s)
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

void close_rows(fixture *f, dbal_rows *r)
{
    for (int i = 0; i < MAX_ROWS; i++)
        if (f->rows[i].r == r)
            f->rows[i].r = NULL;
    dbal_rows_close(r);
}

dbal_rows *query_at(fixture *f, dbal_session *s, const char *sql, dbal_params p, const char *file, int line)
{
    dbal_rows *r = NULL;
    int rc = dbal_query(s, sql, p, &r);
    if (rc != DBAL_OK) {
        print_error("%s:%d: dbal_query(\"%.200s\") returned %s, expected DBAL_OK\n", file, line, sql,
                    dbal_code_name(rc));
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

void next_at(fixture *f, dbal_rows *r, int want, const char *file, int line)
{
    int rc = dbal_rows_next(r);
    if (rc != want) {
        print_error("%s:%d: dbal_rows_next returned %s, expected %s\n", file, line, dbal_code_name(rc),
                    dbal_code_name(want));
        describe_session(session_of(f, r));
        _fail(file, line);
    }
}

/* Runs a query that must give exactly one row with one int64 column. */
int64_t scalar_at(fixture *f, dbal_session *s, const char *sql, dbal_params p, const char *file, int line)
{
    dbal_rows *r = query_at(f, s, sql, p, file, line);
    next_at(f, r, DBAL_ROW, file, line);
    int64_t v = 0;
    int rc = dbal_col_get_int64(r, 0, &v);
    if (rc != DBAL_OK) {
        print_error("%s:%d: dbal_col_get_int64 on \"%s\" returned %s\n", file, line, sql, dbal_code_name(rc));
        describe_session(s);
        _fail(file, line);
    }
    next_at(f, r, DBAL_DONE, file, line);
    close_rows(f, r);
    return v;
}

int64_t count_rows_at(fixture *f, dbal_session *s, const char *table, const char *file, int line)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) AS n FROM %s", table);
    return scalar_at(f, s, sql, DBAL_NOARGS, file, line);
}

/* Opens another session on the case's engine (closed at teardown). */
dbal_session *open_extra_at(fixture *f, const char *file, int line)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (!f->extra[i]) {
            dbal_error err;
            int rc = dbal_session_open(f->engine, &f->extra[i], &err);
            if (rc != DBAL_OK) {
                print_error("%s:%d: dbal_session_open: %s: %s\n", file, line, dbal_code_name(rc),
                            err.message);
                _fail(file, line);
            }
            return f->extra[i];
        }
    fail_msg("too many sessions in one case");
    return NULL;
}

void close_extra(fixture *f, dbal_session *s)
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
void reopen_at(fixture *f, const char *file, int line)
{
    dbal_session_close(f->s);
    f->s = NULL;
    dbal_error err;
    int rc = dbal_session_open(f->engine, &f->s, &err);
    if (rc != DBAL_OK) {
        print_error("%s:%d: dbal_session_open: %s: %s\n", file, line, dbal_code_name(rc), err.message);
        _fail(file, line);
    }
}

/* The error must leave the session usable outside a transaction, and the
 * next success must clear the session's error. */
void check_session_recovers(fixture *f)
{
    EXPECT_I64(SCALAR(f->s, "SELECT 1 AS one", DBAL_NOARGS), 1);
    EXPECT_ERR(f->s, DBAL_OK, "");
    EXPECT_I64(dbal_tx_depth(f->s), 0);
}
