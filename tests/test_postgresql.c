/*
 * test_postgresql.c - what only the PostgreSQL driver does: libpq URLs
 * (unix sockets, several hosts, keywords), passwords kept out of messages,
 * streaming, the prepared statement cache, stale plans, statements run
 * while a cursor is open, bytea, special doubles, `??`, cancel.
 *
 * The server is the one at $DBAL_TEST_PG_URL (tests/pg_cluster.sh starts
 * one); $DBAL_TEST_PG_SOCKET_DIR is its unix socket directory. Without a URL
 * every case is skipped and the program exits 77 (ctest: skipped), unless
 * DBAL_TEST_REQUIRE_PG=1, which makes them fail. Tables are prefixed pgt_.
 * DBAL_TEST_FILTER / DBAL_TEST_SKIP (cmocka patterns, e.g. "ten_million*")
 * pick the cases to run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nanosleep, strndup */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dbal.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the server ----------------------------------------------------------- */

static int truthy(const char *v)
{
    return v && *v && strcmp(v, "0") != 0;
}

static const char *base_url(void)
{
    const char *url = getenv("DBAL_TEST_PG_URL");
    if (url && *url)
        return url;
    if (truthy(getenv("DBAL_TEST_REQUIRE_PG")))
        fail_msg("DBAL_TEST_PG_URL is not set and DBAL_TEST_REQUIRE_PG=1");
    skip();
    return NULL;
}

/* The parts of postgresql://user:pw@host:port/db that the tests rebuild
 * other URLs from (kept percent-encoded, as they are in the URL). */
typedef struct url_parts {
    char user[128], password[128], host[128], port[16], db[128];
} url_parts;

static void copy_part(char *dst, size_t cap, const char *b, const char *e)
{
    size_t n = (size_t)(e - b);
    assert_true(n < cap);
    memcpy(dst, b, n);
    dst[n] = '\0';
}

static url_parts parts(void)
{
    url_parts u;
    memset(&u, 0, sizeof u);
    const char *p = strstr(base_url(), "://");
    assert_non_null(p);
    p += 3;
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    assert_non_null(slash);
    if (at && at < slash) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        copy_part(u.user, sizeof u.user, p, colon ? colon : at);
        if (colon)
            copy_part(u.password, sizeof u.password, colon + 1, at);
        p = at + 1;
    }
    const char *colon = memchr(p, ':', (size_t)(slash - p));
    copy_part(u.host, sizeof u.host, p, colon ? colon : slash);
    if (colon)
        copy_part(u.port, sizeof u.port, colon + 1, slash);
    const char *q = strchr(slash, '?');
    copy_part(u.db, sizeof u.db, slash + 1, q ? q : slash + strlen(slash));
    const char *env_port = getenv("DBAL_TEST_PG_PORT");
    if (env_port && *env_port)
        snprintf(u.port, sizeof u.port, "%s", env_port);
    if (!u.port[0])
        snprintf(u.port, sizeof u.port, "5432");
    return u;
}

static const char *socket_dir(void)
{
    base_url();
    const char *dir = getenv("DBAL_TEST_PG_SOCKET_DIR");
    if (!dir || !*dir)
        skip();
    return dir;
}

/* The base URL with extra query parameters ("a=1&b=2") appended. */
static void url_with(char *buf, size_t cap, const char *extra)
{
    const char *url = base_url();
    snprintf(buf, cap, "%s%s%s", url, strchr(url, '?') ? "&" : "?", extra);
}

/* ---- helpers -------------------------------------------------------------- */

typedef struct fixture {
    dbal_engine *e;
    dbal_session *s;
} fixture;

static void open_url(fixture *f, const char *url)
{
    dbal_error err;
    int rc = dbal_engine_open(&f->e, url, &err);
    if (rc != DBAL_OK)
        fail_msg("dbal_engine_open: %s: %s", dbal_code_name(rc), err.message);
    rc = dbal_session_open(f->e, &f->s, &err);
    if (rc != DBAL_OK)
        fail_msg("dbal_session_open: %s: %s", dbal_code_name(rc), err.message);
}

static void open_default(fixture *f)
{
    open_url(f, base_url());
}

static void close_fx(fixture *f)
{
    dbal_session_close(f->s);
    assert_int_equal(dbal_engine_close(f->e), DBAL_OK);
}

static void check_ok(dbal_session *s, int rc, const char *what)
{
    if (rc != DBAL_OK)
        fail_msg("%s: %s: %s", what, dbal_code_name(rc), dbal_session_error(s)->message);
}

static void run(dbal_session *s, const char *sql)
{
    check_ok(s, dbal_exec(s, sql, DBAL_NOARGS, NULL), sql);
}

/* Runs a one-row, one-column query and returns its cursor on that row. */
static dbal_rows *one_row(dbal_session *s, const char *sql, dbal_params params)
{
    dbal_rows *r;
    check_ok(s, dbal_query(s, sql, params, &r), sql);
    int rc = dbal_rows_next(r);
    if (rc != DBAL_ROW)
        fail_msg("%s: expected a row, got %s: %s", sql, dbal_code_name(rc), dbal_session_error(s)->message);
    return r;
}

static int64_t int_of(dbal_session *s, const char *sql)
{
    dbal_rows *r = one_row(s, sql, DBAL_NOARGS);
    int64_t v = 0;
    check_ok(s, dbal_col_get_int64(r, 0, &v), sql);
    dbal_rows_close(r);
    return v;
}

static void text_is(dbal_session *s, const char *sql, const char *want)
{
    dbal_rows *r = one_row(s, sql, DBAL_NOARGS);
    assert_string_equal(dbal_col_text(r, 0), want);
    dbal_rows_close(r);
}

static int64_t prepared_count(dbal_session *s)
{
    return int_of(s, "SELECT count(*) FROM pg_prepared_statements");
}

/* ---- URLs ----------------------------------------------------------------- */

static int on_unix_socket(dbal_session *s)
{
    dbal_rows *r = one_row(s, "SELECT inet_server_addr() IS NULL", DBAL_NOARGS);
    int yes = dbal_col_bool(r, 0);
    dbal_rows_close(r);
    return yes;
}

static void unix_socket_in_query(void **state)
{
    (void)state;
    url_parts u = parts();
    char url[1024];
    snprintf(url, sizeof url, "postgresql:///%s?host=%s&port=%s&user=%s&password=%s", u.db, socket_dir(),
             u.port, u.user, u.password);
    fixture f;
    open_url(&f, url);
    assert_true(on_unix_socket(f.s));
    close_fx(&f);
}

static void unix_socket_percent_encoded_host(void **state)
{
    (void)state;
    url_parts u = parts();
    char host[512] = "", url[1024];
    for (const char *p = socket_dir(); *p; p++) {
        size_t n = strlen(host);
        snprintf(host + n, sizeof host - n, *p == '/' ? "%%2F" : "%c", *p);
    }
    snprintf(url, sizeof url, "postgresql://%s:%s@%s:%s/%s", u.user, u.password, host, u.port, u.db);
    fixture f;
    open_url(&f, url);
    assert_true(on_unix_socket(f.s));
    close_fx(&f);
}

static void multi_host_first_unreachable(void **state)
{
    (void)state;
    url_parts u = parts();
    char url[1024];
    snprintf(url, sizeof url, "postgresql://%s:%s@127.0.0.1:1,%s:%s/%s", u.user, u.password, u.host, u.port,
             u.db);
    fixture f;
    open_url(&f, url);
    assert_int_equal(int_of(f.s, "SELECT inet_server_port()"), atoi(u.port));
    close_fx(&f);
}

static void unknown_keyword_is_eurl(void **state)
{
    (void)state;
    char url[1024];
    url_with(url, sizeof url, "sslmode=disable&no_such_keyword=1");
    dbal_engine *e = NULL;
    dbal_error err;
    assert_int_equal(dbal_engine_open(&e, url, &err), DBAL_EURL);
    assert_null(e);
    assert_non_null(strstr(err.message, "no_such_keyword"));
}

static void keywords_pass_through(void **state)
{
    (void)state;
    char url[1024];
    url_with(url, sizeof url, "application_name=pgt_app&options=-c%20search_path%3Dpgt_none");
    fixture f;
    open_url(&f, url);
    text_is(f.s, "SELECT current_setting('application_name')", "pgt_app");
    text_is(f.s, "SELECT current_setting('search_path')", "pgt_none");
    text_is(f.s, "SHOW client_encoding", "UTF8");
    close_fx(&f);

    open_default(&f); /* fallback_application_name */
    text_is(f.s, "SELECT current_setting('application_name')", "dbal");
    close_fx(&f);
}

/* The user name is the password too, so that the server's own message
 * ("password authentication failed for user ...") contains it. */
static void wrong_password_not_in_message(void **state)
{
    (void)state;
    static const char *const secret = "Pgt-Wr0ng-Secret-77";
    url_parts u = parts();
    char url[1024];
    for (int i = 0; i < 2; i++) {
        if (i == 0)
            snprintf(url, sizeof url, "postgresql://%s:%s@%s:%s/%s", secret, secret, u.host, u.port, u.db);
        else
            snprintf(url, sizeof url, "postgresql://%s@%s:%s/%s?password=%s", secret, u.host, u.port, u.db,
                     secret);
        fixture f;
        open_url(&f, url);
        assert_int_equal(dbal_exec(f.s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
        const dbal_error *err = dbal_session_error(f.s);
        assert_int_equal(err->code, DBAL_ECONNECT);
        /* The server's own SQLSTATE: invalid_password. */
        assert_string_equal(err->sqlstate, "28P01");
        assert_true(strlen(err->message) > 10);
        assert_null(strstr(err->message, secret));
        assert_null(strchr(err->message, '\n'));
        assert_non_null(strstr(err->message, "***")); /* it was there, and redacted */
        close_fx(&f);
    }
}

/* ---- streaming ------------------------------------------------------------ */

/* Peak resident set size in kB (VmHWM), or -1. */
static long peak_rss_kb(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!fp)
        return -1;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(fp);
    return kb;
}

static int64_t stream_count(dbal_session *s, int64_t n, int64_t *sum)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT g, 'row number ' || g FROM generate_series(1, %lld) g", (long long)n);
    dbal_rows *r;
    check_ok(s, dbal_query(s, sql, DBAL_NOARGS, &r), sql);
    int64_t count = 0;
    int rc;
    *sum = 0;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        *sum += dbal_col_int64(r, 0);
        count++;
    }
    assert_int_equal(rc, DBAL_DONE);
    dbal_rows_close(r);
    return count;
}

static void ten_million_rows_flat_memory(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    int64_t sum;
    stream_count(f.s, 100000, &sum); /* warm up the allocator */
    long before = peak_rss_kb();
    const int64_t n = 10000000;
    assert_int_equal(stream_count(f.s, n, &sum), n);
    assert_true(sum == n * (n + 1) / 2);
    long after = peak_rss_kb();
    if (before > 0 && after > 0 && after - before > 4096)
        fail_msg("peak RSS grew by %ld kB over 10,000,000 rows", after - before);
    close_fx(&f);
}

static void error_in_the_middle_of_a_stream(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    const char *sql = "SELECT 1 / (5000 - g) FROM generate_series(1, 10000) g";
    for (int spill = 0; spill < 2; spill++) {
        dbal_rows *r;
        check_ok(f.s, dbal_query(f.s, sql, DBAL_NOARGS, &r), sql);
        int rc, rows = 0;
        while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
            if (++rows == 1 && spill) /* pulls the rest of r into its buffer */
                assert_int_equal(int_of(f.s, "SELECT 7"), 7);
        }
        assert_int_equal(rows, 4999);
        assert_int_equal(rc, DBAL_EDATA);
        assert_string_equal(dbal_session_error(f.s)->sqlstate, "22012");
        dbal_rows_close(r);
        assert_int_equal(int_of(f.s, "SELECT 8"), 8);
    }
    close_fx(&f);
}

static void statement_while_cursor_open(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    run(f.s, "DROP TABLE IF EXISTS pgt_side");
    run(f.s, "CREATE TABLE pgt_side(x bigint)");
    dbal_rows *a, *b;
    check_ok(f.s,
             dbal_query(f.s, "SELECT g, repeat('x', g % 7) FROM generate_series(1, 1000) g", DBAL_NOARGS, &a),
             "query a");
    int64_t expect = 1;
    for (; expect <= 10; expect++) {
        assert_int_equal(dbal_rows_next(a), DBAL_ROW);
        assert_int_equal(dbal_col_int64(a, 0), expect);
    }
    const char *held = dbal_col_text(a, 1); /* stays valid until the next row */
    /* A second cursor, and statements, while a streams. */
    check_ok(f.s, dbal_query(f.s, "SELECT g FROM generate_series(1, 5) g", DBAL_NOARGS, &b), "query b");
    int64_t affected = -1;
    check_ok(f.s, dbal_exec(f.s, "INSERT INTO pgt_side SELECT generate_series(1, 3)", DBAL_NOARGS, &affected),
             "insert");
    assert_int_equal(affected, 3);
    assert_string_equal(held, "xxx");
    assert_int_equal(int_of(f.s, "SELECT sum(x) FROM pgt_side"), 6);
    for (int64_t i = 1; i <= 5; i++) {
        assert_int_equal(dbal_rows_next(b), DBAL_ROW);
        assert_int_equal(dbal_col_int64(b, 0), i);
    }
    assert_int_equal(dbal_rows_next(b), DBAL_DONE);
    dbal_rows_close(b);
    for (; expect <= 1000; expect++) {
        assert_int_equal(dbal_rows_next(a), DBAL_ROW);
        assert_int_equal(dbal_col_int64(a, 0), expect);
        assert_int_equal((int64_t)dbal_col_bytes(a, 1), expect % 7);
    }
    assert_int_equal(dbal_rows_next(a), DBAL_DONE);
    dbal_rows_close(a);
    run(f.s, "DROP TABLE pgt_side");
    close_fx(&f);
}

static void cursor_closed_early(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    dbal_rows *r;
    check_ok(f.s, dbal_query(f.s, "SELECT generate_series(1, 100000)", DBAL_NOARGS, &r), "q");
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    dbal_rows_close(r); /* the rest is drained; the connection stays usable */
    assert_int_equal(int_of(f.s, "SELECT 42"), 42);
    close_fx(&f);
}

/* ---- the statement cache -------------------------------------------------- */

static void cache_is_bounded(void **state)
{
    (void)state;
    char url[1024];
    url_with(url, sizeof url, "statement_cache_size=2");
    fixture f;
    open_url(&f, url);
    char sql[64];
    for (int i = 1; i <= 5; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        assert_int_equal(int_of(f.s, sql), i);
    }
    int64_t n = prepared_count(f.s);
    assert_true(n >= 1 && n <= 2);
    /* Evicted statements run again (prepared anew). */
    assert_int_equal(int_of(f.s, "SELECT 1"), 1);
    assert_int_equal(int_of(f.s, "SELECT 2"), 2);
    assert_true(prepared_count(f.s) <= 2);
    /* Evictions inside a transaction wait for it to end. */
    check_ok(f.s, dbal_begin(f.s), "begin");
    for (int i = 10; i <= 15; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        assert_int_equal(int_of(f.s, sql), i);
    }
    check_ok(f.s, dbal_commit(f.s), "commit");
    assert_true(prepared_count(f.s) <= 2);
    close_fx(&f);
}

static void cache_off_prepares_nothing(void **state)
{
    (void)state;
    char url[1024];
    url_with(url, sizeof url, "statement_cache_size=0");
    fixture f;
    open_url(&f, url);
    for (int i = 1; i <= 5; i++) {
        dbal_rows *r = one_row(f.s, "SELECT ?::bigint * 2", DBAL_ARGS(dbal_int64(i)));
        assert_int_equal(dbal_col_int64(r, 0), 2 * i);
        dbal_rows_close(r);
    }
    assert_int_equal(prepared_count(f.s), 0);
    close_fx(&f);
}

static void cache_keys_on_parameter_types(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    /* One SQL text, four parameter types: four prepared statements, since a
     * prepared statement fixes its parameter types. */
    const char *sql = "SELECT pg_typeof(?)::text";
    dbal_value vals[] = {dbal_int64(1), dbal_double(1.5), dbal_bool(1), dbal_blob("b", 1)};
    const char *want[] = {"bigint", "double precision", "boolean", "bytea"};
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < 4; i++) {
            dbal_rows *r = one_row(f.s, sql, dbal_params_array(&vals[i], 1));
            assert_string_equal(dbal_col_text(r, 0), want[i]);
            dbal_rows_close(r);
        }
    dbal_rows *r = one_row(f.s, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'dbal\\_%'",
                           DBAL_NOARGS);
    assert_true(dbal_col_int64(r, 0) >= 4);
    dbal_rows_close(r);
    close_fx(&f);
}

static void stale_plan_is_retried(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    run(f.s, "DROP TABLE IF EXISTS pgt_stale");
    run(f.s, "CREATE TABLE pgt_stale(a bigint)");
    run(f.s, "INSERT INTO pgt_stale VALUES (1)");
    const char *sel = "SELECT * FROM pgt_stale";
    dbal_rows *r = one_row(f.s, sel, DBAL_NOARGS);
    assert_int_equal(dbal_col_count(r), 1);
    dbal_rows_close(r);

    run(f.s, "ALTER TABLE pgt_stale ADD COLUMN b bigint DEFAULT 7");
    r = one_row(f.s, sel, DBAL_NOARGS);
    assert_int_equal(dbal_col_count(r), 2);
    assert_string_equal(dbal_col_name(r, 1), "b");
    assert_int_equal(dbal_col_int64(r, 1), 7);
    dbal_rows_close(r);

    /* Inside a transaction a retry is not safe: the error is the caller's,
     * and the statement works again after the rollback. */
    run(f.s, "ALTER TABLE pgt_stale ADD COLUMN c text DEFAULT 'c'");
    check_ok(f.s, dbal_begin(f.s), "begin");
    assert_int_equal(dbal_query(f.s, sel, DBAL_NOARGS, &r), DBAL_EUNSUPPORTED);
    assert_string_equal(dbal_session_error(f.s)->sqlstate, "0A000");
    check_ok(f.s, dbal_rollback(f.s), "rollback");
    r = one_row(f.s, sel, DBAL_NOARGS);
    assert_int_equal(dbal_col_count(r), 3);
    dbal_rows_close(r);
    /* The stale statement was DEALLOCATEd once the connection was idle. */
    assert_int_equal(int_of(f.s, "SELECT count(*) FROM pg_prepared_statements "
                                 "WHERE statement = 'SELECT * FROM pgt_stale'"),
                     1);
    run(f.s, "DROP TABLE pgt_stale");
    close_fx(&f);
}

static void deallocated_statement_is_prepared_again(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    assert_int_equal(int_of(f.s, "SELECT 11"), 11);
    run(f.s, "DEALLOCATE ALL");
    assert_int_equal(int_of(f.s, "SELECT 11"), 11); /* 26000, retried */
    close_fx(&f);
}

/* A statement name of ours taken in the server session (42P05: another
 * client's behind an undetected pooler, or the application's own PREPARE)
 * is not the caller's error: the Parse failed before anything ran, and the
 * statement goes again, unnamed. */
static void statement_name_taken_is_recovered(void **state)
{
    (void)state;
    fixture f;
    char url[1024];
    url_with(url, sizeof url, "pool_size=1");
    open_url(&f, url);
    /* This statement is the driver's dbal_1; it takes the name dbal_2. */
    run(f.s, "PREPARE dbal_2 AS SELECT 2");
    assert_int_equal(int_of(f.s, "SELECT 41"), 41);
    assert_int_equal(int_of(f.s, "SELECT 42"), 42);
    assert_int_equal(int_of(f.s, "EXECUTE dbal_2"), 2); /* the application's own is untouched */
    close_fx(&f);
}

/* Only a Bind that failed before anything ran is retried: a statement that
 * itself raises 26000 or 0A000 while it runs (here after taking a sequence
 * value, which no rollback gives back) is the application's error, and is
 * not run a second time. */
static void errors_raised_while_running_are_not_retried(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    run(f.s, "DROP SEQUENCE IF EXISTS pgt_runs");
    run(f.s, "CREATE SEQUENCE pgt_runs");
    run(f.s, "CREATE OR REPLACE FUNCTION pgt_raise(state text) RETURNS bigint LANGUAGE plpgsql AS "
             "$$BEGIN PERFORM nextval('pgt_runs'); RAISE EXCEPTION 'raised' USING ERRCODE = state; END$$");
    const char *states[] = {"26000", "0A000"};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++) { /* the second call is a cache hit */
            assert_int_not_equal(dbal_exec(f.s, "SELECT pgt_raise(?)", DBAL_ARGS(dbal_text(states[i])), NULL),
                                 DBAL_OK);
            assert_string_equal(dbal_session_error(f.s)->sqlstate, states[i]);
        }
    }
    assert_int_equal(int_of(f.s, "SELECT last_value FROM pgt_runs"), 4);
    run(f.s, "DROP FUNCTION pgt_raise(text)");
    run(f.s, "DROP SEQUENCE pgt_runs");
    close_fx(&f);
}

/* ---- values --------------------------------------------------------------- */

static void bytea_round_trip(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    static const unsigned char bytes[] = {0, 1, 2, 0, 255, '\\', 'x', 0, 0x7f, 0x80};
    run(f.s, "DROP TABLE IF EXISTS pgt_bytes");
    run(f.s, "CREATE TABLE pgt_bytes(id bigint, b bytea, c bytea)");
    check_ok(f.s,
             dbal_exec(f.s, "INSERT INTO pgt_bytes VALUES (1, ?, ?), (2, ?, NULL)",
                       DBAL_ARGS(dbal_blob(bytes, sizeof bytes), dbal_blob(bytes + 4, 3), dbal_blob("", 0)),
                       NULL),
             "insert");
    dbal_rows *r;
    check_ok(f.s, dbal_query(f.s, "SELECT b, c FROM pgt_bytes ORDER BY id", DBAL_NOARGS, &r), "select");
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    size_t len = 0, len2 = 0;
    const unsigned char *p = dbal_col_blob(r, 0, &len);
    const unsigned char *q = dbal_col_blob(r, 1, &len2); /* p stays valid */
    assert_int_equal(dbal_col_type(r, 0), DBAL_TYPE_BLOB);
    assert_int_equal(len, sizeof bytes);
    assert_memory_equal(p, bytes, sizeof bytes);
    assert_int_equal(len2, 3);
    assert_memory_equal(q, bytes + 4, 3);
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_non_null(dbal_col_blob(r, 0, &len)); /* empty, not NULL */
    assert_int_equal(len, 0);
    assert_int_equal(dbal_col_type(r, 1), DBAL_TYPE_NULL);
    assert_null(dbal_col_blob(r, 1, &len));
    assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    dbal_rows_close(r);
    /* The old escape output format decodes to the same bytes. */
    run(f.s, "SET bytea_output = 'escape'");
    r = one_row(f.s, "SELECT b FROM pgt_bytes WHERE id = 1", DBAL_NOARGS);
    p = dbal_col_blob(r, 0, &len);
    assert_int_equal(len, sizeof bytes);
    assert_memory_equal(p, bytes, sizeof bytes);
    dbal_rows_close(r);
    run(f.s, "RESET bytea_output");
    run(f.s, "DROP TABLE pgt_bytes");
    close_fx(&f);
}

static void special_doubles(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    const double vals[] = {NAN, INFINITY, -INFINITY, 0.1, -0.0, 1e308, 5e-324};
    const char *text[] = {"NaN", "Infinity", "-Infinity", "0.1", "-0", "1e+308", "5e-324"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        dbal_rows *r = one_row(f.s, "SELECT ?::float8, (?::float8)::text",
                               DBAL_ARGS(dbal_double(vals[i]), dbal_double(vals[i])));
        double d = 0;
        check_ok(f.s, dbal_col_get_double(r, 0, &d), "get double");
        assert_int_equal(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE);
        if (isnan(vals[i]))
            assert_true(isnan(d));
        else
            assert_true(d == vals[i] && signbit(d) == signbit(vals[i]));
        assert_string_equal(dbal_col_text(r, 1), text[i]);
        assert_string_equal(dbal_col_text(r, 0), text[i]); /* read in binary, written by dbal */
        dbal_rows_close(r);
    }
    /* Every type that comes in binary reads as its text form would. */
    dbal_rows *b = one_row(f.s,
                           "SELECT ?::int2, ?::int4, '-32768'::int2, 2147483647::int4, true, false, "
                           "'\\x00ff'::bytea, 'ab'::char(4), 'v'::varchar, NULL::int8, ''::text",
                           DBAL_ARGS(dbal_int64(-7), dbal_int64(INT32_MIN)));
    assert_int_equal(dbal_col_int64(b, 0), -7);
    assert_int_equal(dbal_col_int64(b, 1), INT32_MIN);
    assert_string_equal(dbal_col_text(b, 2), "-32768");
    assert_string_equal(dbal_col_text(b, 3), "2147483647");
    assert_int_equal(dbal_col_type(b, 4), DBAL_TYPE_BOOL);
    assert_true(dbal_col_bool(b, 4));
    assert_string_equal(dbal_col_text(b, 5), "f");
    assert_int_equal(dbal_col_int64(b, 5), 0);
    size_t blen = 0;
    const unsigned char *bytes = dbal_col_blob(b, 6, &blen);
    assert_int_equal(blen, 2);
    assert_true(bytes[0] == 0 && bytes[1] == 255);
    assert_string_equal(dbal_col_text(b, 7), "ab  ");
    assert_string_equal(dbal_col_text(b, 8), "v");
    assert_true(dbal_col_is_null(b, 9));
    assert_false(dbal_col_is_null(b, 10));
    assert_string_equal(dbal_col_text(b, 10), "");
    dbal_rows_close(b);
    /* Rows come in binary: a double read as text must still read as the
     * server writes it, exponent form from 1e15 up included. */
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        if (i % 3 == 0) {
            memcpy(&d, &x, sizeof d);
            if (!isfinite(d))
                continue;
        } else {
            d = (double)(x >> 11) / (double)(1u << (i % 30)) * (i % 2 ? 1 : -1);
        }
        dbal_rows *r = one_row(f.s, "SELECT ?::float8, (?::float8)::text, ?::int8, (?::int8)::text",
                               DBAL_ARGS(dbal_double(d), dbal_double(d), dbal_int64((int64_t)x),
                                         dbal_int64((int64_t)x)));
        assert_string_equal(dbal_col_text(r, 0), dbal_col_text(r, 1));
        assert_string_equal(dbal_col_text(r, 2), dbal_col_text(r, 3));
        dbal_rows_close(r);
    }
    close_fx(&f);
}

/* ---- batches through COPY -------------------------------------------------- */

/* A row trigger that logs the statement each row came from: COPY or INSERT
 * tells which path a batch took (row triggers do not keep COPY away). */
static void copy_table(dbal_session *s, const char *table, const char *columns)
{
    char sql[512];
    run(s, "CREATE TABLE IF NOT EXISTS copy_log(q TEXT)");
    run(s, "TRUNCATE copy_log");
    run(s, "CREATE OR REPLACE FUNCTION copy_log_row() RETURNS trigger LANGUAGE plpgsql AS "
           "'BEGIN INSERT INTO copy_log VALUES (current_query()); RETURN NEW; END'");
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", table);
    run(s, sql);
    snprintf(sql, sizeof sql, "CREATE TABLE %s (%s)", table, columns);
    run(s, sql);
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER log_rows BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION copy_log_row()",
             table);
    run(s, sql);
}

/* Rows the batch sent through COPY and through INSERT. */
static void paths_are(dbal_session *s, int64_t copied, int64_t inserted)
{
    assert_int_equal(int_of(s, "SELECT count(*) FROM copy_log WHERE q LIKE 'COPY %'"), copied);
    assert_int_equal(int_of(s, "SELECT count(*) FROM copy_log WHERE q LIKE 'INSERT %'"), inserted);
    run(s, "TRUNCATE copy_log");
}

static void copy_batch_values(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    copy_table(f.s, "copy_vals",
               "id BIGINT PRIMARY KEY, i4 INTEGER, i2 SMALLINT, d DOUBLE PRECISION, r REAL, "
               "b BOOLEAN, t TEXT, v VARCHAR(8), x BYTEA");
    static const unsigned char blob[] = {0, 1, 0, 255, 'a', 0};
    const double doubles[] = {NAN, INFINITY, -INFINITY, -0.0, 0.1, 1e308};
    enum { N = 6, C = 9 };
    dbal_value rows[N * C];
    for (int i = 0; i < N; i++) {
        dbal_value *v = rows + i * C;
        v[0] = dbal_int64(i + 1);
        v[1] = dbal_int64(i == 1 ? INT32_MIN : 1000 * i);
        v[2] = dbal_int64(i == 1 ? INT16_MAX : -i);
        v[3] = dbal_double(doubles[i]);
        v[4] = i == 4 ? dbal_int64(7) : dbal_double(i == 5 ? 1.5 : doubles[i]);
        v[5] = dbal_bool(i % 2);
        v[6] = dbal_text(i == 2 ? "" : "h\xc3\xa9llo\ttab\\");
        v[7] = dbal_text("eight ch");
        v[8] = dbal_blob(blob, i == 3 ? 0 : sizeof blob);
    }
    for (int k = 1; k < C; k++) /* a NULL in every column but the key */
        rows[(k % N) * C + k] = dbal_null();
    int64_t n = 0;
    size_t failed = 0;
    check_ok(f.s,
             dbal_exec_batch(f.s,
                             "INSERT INTO copy_vals (id, i4, i2, d, r, b, t, v, x) VALUES (?, ?, ?, ?, ?, ?, "
                             "?, ?, ?)",
                             rows, C, N, &n, &failed),
             "batch");
    assert_int_equal(n, N);
    assert_int_equal(failed, (size_t)-1);
    paths_are(f.s, N, 0);
    dbal_rows *r;
    check_ok(f.s,
             dbal_query(f.s, "SELECT id, i4, i2, d, r, b, t, v, x FROM copy_vals ORDER BY id", DBAL_NOARGS,
                        &r),
             "select");
    for (int i = 0; i < N; i++) {
        assert_int_equal(dbal_rows_next(r), DBAL_ROW);
        const dbal_value *v = rows + i * C;
        assert_int_equal(dbal_col_int64(r, 0), i + 1);
        for (int k = 1; k < C; k++) {
            if (v[k].type == DBAL_TYPE_NULL) {
                assert_true(dbal_col_is_null(r, k));
                continue;
            }
            assert_false(dbal_col_is_null(r, k));
            switch (k) {
            case 1:
            case 2: assert_int_equal(dbal_col_int64(r, k), v[k].u.i); break;
            case 3: {
                double d = dbal_col_double(r, k);
                if (isnan(v[k].u.d))
                    assert_true(isnan(d));
                else
                    assert_true(d == v[k].u.d && signbit(d) == signbit(v[k].u.d));
                break;
            }
            case 4: {
                double want = v[k].type == DBAL_TYPE_INT64 ? (double)v[k].u.i : (double)(float)v[k].u.d;
                double d = dbal_col_double(r, k);
                assert_true(isnan(want) ? isnan(d) : d == want);
                break;
            }
            case 5: assert_int_equal(dbal_col_bool(r, k), v[k].u.b); break;
            case 6:
            case 7: assert_string_equal(dbal_col_text(r, k), v[k].u.s); break;
            default: {
                size_t len = 0;
                const void *p = dbal_col_blob(r, k, &len);
                assert_int_equal(len, v[k].len);
                assert_memory_equal(p, blob, len);
            }
            }
        }
    }
    assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    dbal_rows_close(r);
    close_fx(&f);
}

/* The types of issue 15 through COPY: each value reads back as the same
 * value sent by INSERT (numerics digit for digit, their scale kept, json
 * as written, jsonb as the server normalizes it); a timestamp into a
 * timestamptz column is the INSERT's conversion, through the pipeline. */
static void copy_batch_types(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    static const char *nums[] = {"0.001",
                                 "-1234.5000",
                                 "1e-3",
                                 "NaN",
                                 "123456789012345678901234.5",
                                 "0",
                                 "-0.0",
                                 "1.5e3",
                                 ".5",
                                 "-Infinity",
                                 "99999.9999",
                                 "10000",
                                 "0.00010",
                                 "-9999.99990001",
                                 "1e20"};
    enum { N = sizeof nums / sizeof *nums, C = 8 };
    static const unsigned char u[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                                        0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
    const char *cols = "id BIGINT PRIMARY KEY, n NUMERIC, n2 NUMERIC(30, 4), j JSON, jb JSONB, u UUID, "
                       "d DATE, tz TIMESTAMPTZ";
    dbal_value rows[N * C];
    for (int i = 0; i < N; i++) {
        dbal_value *v = rows + i * C;
        v[0] = dbal_int64(i + 1);
        v[1] = dbal_numeric(nums[i]);
        v[2] = i == 3 || i == 9 || i == 4 ? dbal_null() : dbal_numeric(nums[i]);
        v[3] = i % 2 ? dbal_json("{\"b\": 1,  \"a\": [1]}") : dbal_text("[true]");
        v[4] = dbal_json("{\"b\": 1,  \"a\": [1]}");
        v[5] = dbal_uuid(u);
        v[6] = dbal_date(i == 0 ? DBAL_NEG_INFINITY : (int64_t)i * 10000 - 800000);
        v[7] = dbal_timestamptz(i == 1 ? DBAL_INFINITY : (int64_t)i * 123456789012345 - 62135596800000000);
    }
    int64_t n = 0;
    size_t failed = 0;
    const char *ins = "INSERT INTO copy_types (id, n, n2, j, jb, u, d, tz) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    copy_table(f.s, "copy_types", cols);
    check_ok(f.s, dbal_exec_batch(f.s, ins, rows, C, N, &n, &failed), "batch");
    paths_are(f.s, N, 0);
    run(f.s, "DROP TABLE IF EXISTS copy_types_ins");
    run(f.s,
        "CREATE TABLE copy_types_ins (id BIGINT PRIMARY KEY, n NUMERIC, n2 NUMERIC(30, 4), j JSON, jb JSONB, "
        "u UUID, d DATE, tz TIMESTAMPTZ)");
    for (int i = 0; i < N; i++)
        check_ok(f.s,
                 dbal_exec(f.s, "INSERT INTO copy_types_ins VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           dbal_params_array(rows + i * C, C), NULL),
                 "insert");
    assert_int_equal(int_of(f.s,
                            "SELECT count(*) FROM copy_types c JOIN copy_types_ins i USING (id) WHERE "
                            "c.n::text IS NOT DISTINCT FROM i.n::text AND c.n2::text IS NOT DISTINCT FROM "
                            "i.n2::text AND c.j::text = i.j::text AND c.jb = i.jb AND c.u = i.u AND "
                            "c.d = i.d AND c.tz = i.tz"),
                     N);
    text_is(f.s, "SELECT n::text FROM copy_types WHERE id = 5", "123456789012345678901234.5");
    /* Read in binary, a numeric is numeric_out's text. */
    dbal_rows *r;
    check_ok(f.s,
             dbal_query(f.s, "SELECT n, n::text, n2, n2::text FROM copy_types ORDER BY id", DBAL_NOARGS, &r),
             "select");
    while (dbal_rows_next(r) == DBAL_ROW) {
        assert_string_equal(dbal_col_text(r, 0), dbal_col_text(r, 1));
        if (!dbal_col_is_null(r, 2))
            assert_string_equal(dbal_col_text(r, 2), dbal_col_text(r, 3));
    }
    dbal_rows_close(r);
    text_is(f.s, "SELECT n2::text FROM copy_types WHERE id = 14", "-9999.9999");
    /* A timestamp (without time zone) into timestamptz converts on the
     * server, by its TimeZone: the pipeline sends it. */
    copy_table(f.s, "copy_types", cols);
    rows[(N - 1) * C + 7] = dbal_timestamp(0);
    check_ok(f.s, dbal_exec_batch(f.s, ins, rows, C, N, &n, &failed), "batch");
    paths_are(f.s, N - 1, 1);
    close_fx(&f);
}

static int copy_rows(void *userdata, size_t row, dbal_value *values)
{
    const int64_t *dup_at = userdata;
    if (row >= 3000)
        return DBAL_DONE;
    values[0] = dbal_int64(row == (size_t)*dup_at ? 1 : (int64_t)row + 1);
    values[1] = dbal_textn("row", 3);
    return DBAL_OK;
}

/* A duplicate in the middle: the error is the INSERT's, the row is named,
 * nothing of the batch stays, and inside a transaction it fails that. */
static void copy_batch_failure(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    copy_table(f.s, "copy_fail", "id BIGINT PRIMARY KEY, name TEXT");
    const char *sql = "INSERT INTO copy_fail(id, name) VALUES (?, ?)";
    int64_t dup_at = 1700, n = -1;
    size_t failed = 0;
    assert_int_equal(dbal_exec_batch_fn(f.s, sql, 2, copy_rows, &dup_at, &n, &failed), DBAL_EUNIQUE);
    assert_string_equal(dbal_session_error(f.s)->sqlstate, "23505");
    assert_int_equal(failed, 1700);
    assert_int_equal(int_of(f.s, "SELECT count(*) FROM copy_fail"), 0);
    run(f.s, "TRUNCATE copy_log");

    check_ok(f.s, dbal_begin(f.s), "begin");
    run(f.s, "INSERT INTO copy_fail VALUES (-1, 'before')");
    assert_int_equal(dbal_exec_batch_fn(f.s, sql, 2, copy_rows, &dup_at, &n, &failed), DBAL_EUNIQUE);
    assert_int_equal(failed, 1700);
    assert_int_equal(dbal_exec(f.s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    check_ok(f.s, dbal_rollback(f.s), "rollback");
    assert_int_equal(int_of(f.s, "SELECT count(*) FROM copy_fail"), 0);

    /* No duplicate: every row in, counted, all through COPY. */
    run(f.s, "TRUNCATE copy_log");
    dup_at = -1;
    check_ok(f.s, dbal_exec_batch_fn(f.s, sql, 2, copy_rows, &dup_at, &n, &failed), "batch");
    assert_int_equal(n, 3000);
    assert_int_equal(failed, (size_t)-1);
    assert_int_equal(int_of(f.s, "SELECT count(*) FROM copy_fail"), 3000);
    paths_are(f.s, 3000, 0);
    close_fx(&f);
}

/* A row COPY cannot write as the INSERT would (text for an integer, a
 * number out of the column's range) hands the rest of the batch to the
 * pipeline, which gives the INSERT's result. */
static void copy_batch_falls_back(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    copy_table(f.s, "copy_mixed", "id INTEGER PRIMARY KEY, v INTEGER");
    const char *sql = "INSERT INTO copy_mixed(id, v) VALUES (?, ?)";
    dbal_value rows[] = {dbal_int64(1),   dbal_int64(10), dbal_int64(2),
                         dbal_text("20"), dbal_int64(3),  dbal_int64(30)};
    int64_t n = 0;
    size_t failed = 0;
    check_ok(f.s, dbal_exec_batch(f.s, sql, rows, 2, 3, &n, &failed), "mixed batch");
    assert_int_equal(n, 3);
    assert_int_equal(int_of(f.s, "SELECT sum(v) FROM copy_mixed"), 60);
    paths_are(f.s, 1, 2);

    run(f.s, "TRUNCATE copy_mixed");
    rows[0] = dbal_int64(4);
    rows[2] = dbal_int64(5);
    rows[3] = dbal_int64(INT64_C(1) << 40); /* out of range for INTEGER */
    rows[4] = dbal_int64(6);
    assert_int_equal(dbal_exec_batch(f.s, sql, rows, 2, 3, &n, &failed), DBAL_ERANGE);
    assert_string_equal(dbal_session_error(f.s)->sqlstate, "22003");
    assert_int_equal(failed, 1);
    assert_int_equal(int_of(f.s, "SELECT count(*) FROM copy_mixed"), 0);

    /* Not a plain insert, or a table COPY would treat differently: pipeline. */
    run(f.s, "TRUNCATE copy_log");
    rows[3] = dbal_int64(50);
    check_ok(f.s,
             dbal_exec_batch(f.s, "INSERT INTO copy_mixed(id, v) VALUES (?, ?) ON CONFLICT DO NOTHING", rows,
                             2, 3, &n, &failed),
             "on conflict");
    paths_are(f.s, 0, 3);
    check_ok(f.s,
             dbal_exec_batch(f.s, "INSERT INTO copy_mixed(id, v) VALUES (?, ?) ON CONFLICT DO NOTHING", rows,
                             2, 3, &n, &failed),
             "on conflict again");
    assert_int_equal(n, 0);
    run(f.s, "CREATE OR REPLACE FUNCTION copy_noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; "
             "END'");
    run(f.s, "CREATE TRIGGER per_statement AFTER INSERT ON copy_mixed FOR EACH STATEMENT EXECUTE FUNCTION "
             "copy_noop()");
    run(f.s, "TRUNCATE copy_mixed, copy_log");
    check_ok(f.s, dbal_exec_batch(f.s, sql, rows, 2, 3, &n, &failed), "statement trigger");
    assert_int_equal(n, 3);
    paths_are(f.s, 0, 3);
    /* COPY would fill an identity column GENERATED ALWAYS; INSERT refuses. */
    copy_table(f.s, "copy_ident", "id BIGINT GENERATED ALWAYS AS IDENTITY, v INTEGER");
    assert_int_not_equal(dbal_exec_batch(f.s, "INSERT INTO copy_ident(id, v) VALUES (?, ?)", rows, 2, 3, &n,
                                         &failed),
                         DBAL_OK);
    assert_string_equal(dbal_session_error(f.s)->sqlstate, "428C9");
    assert_int_equal(failed, 0);
    run(f.s, "TRUNCATE copy_log");
    check_ok(f.s, dbal_exec_batch(f.s, "INSERT INTO copy_ident(v) VALUES (?)", rows + 1, 1, 2, &n, &failed),
             "identity by default");
    paths_are(f.s, 2, 0);
    /* A quoted, schema-qualified name with its own case. */
    copy_table(f.s, "public.\"Copy Case\"", "\"Id\" BIGINT, \"a\"\"b\" TEXT");
    dbal_value two[] = {dbal_int64(1), dbal_text("x")};
    check_ok(f.s,
             dbal_exec_batch(f.s, "insert into public.\"Copy Case\" (\"Id\", \"a\"\"b\") values (?,?);", two,
                             2, 1, &n, &failed),
             "quoted names");
    paths_are(f.s, 1, 0);
    close_fx(&f);
}

static void jsonb_question_mark_operator(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    dbal_rows *r = one_row(f.s, "SELECT '{\"a\":1}'::jsonb ?? 'a', '{\"a\":1}'::jsonb ?? 'b'", DBAL_NOARGS);
    assert_int_equal(dbal_col_type(r, 0), DBAL_TYPE_BOOL);
    assert_true(dbal_col_bool(r, 0));
    assert_false(dbal_col_bool(r, 1));
    dbal_rows_close(r);
    r = one_row(f.s, "SELECT ?::jsonb ?? ?, ?::jsonb ??| array['x', ?]",
                DBAL_ARGS(dbal_text("{\"k\":2}"), dbal_text("k"), dbal_text("{\"y\":0}"), dbal_text("y")));
    assert_true(dbal_col_bool(r, 0));
    assert_true(dbal_col_bool(r, 1));
    dbal_rows_close(r);
    close_fx(&f);
}

static void parameter_values(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    dbal_rows *r = one_row(f.s,
                           "SELECT ?::bigint, ?::bigint, ?::text, ?::text, ?::bigint IS NULL, ?::boolean, "
                           "?::boolean",
                           DBAL_ARGS(dbal_int64(INT64_MAX), dbal_int64(INT64_MIN),
                                     dbal_textn("hello world", 5), dbal_text("h\xc3\xa9llo ?"), dbal_null(),
                                     dbal_bool(1), dbal_bool(0)));
    assert_true(dbal_col_int64(r, 0) == INT64_MAX);
    assert_true(dbal_col_int64(r, 1) == INT64_MIN);
    assert_string_equal(dbal_col_text(r, 2), "hello");
    assert_string_equal(dbal_col_text(r, 3), "h\xc3\xa9llo ?");
    assert_true(dbal_col_bool(r, 4));
    assert_true(dbal_col_bool(r, 5));
    assert_false(dbal_col_bool(r, 6));
    dbal_rows_close(r);
    close_fx(&f);
}

static void column_types_and_names(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    dbal_rows *r = one_row(f.s,
                           "SELECT true AS b, 1::int2 AS s, 2::int4 AS i, 3::int8 AS l, "
                           "4::oid AS o, 1.5::float4 AS f, 2.5::float8 AS d, 1.25::numeric AS n, "
                           "'x'::text AS t, '\\x00'::bytea AS y, NULL::int AS z",
                           DBAL_NOARGS);
    const dbal_type want[] = {DBAL_TYPE_BOOL,  DBAL_TYPE_INT64,  DBAL_TYPE_INT64,  DBAL_TYPE_INT64,
                              DBAL_TYPE_INT64, DBAL_TYPE_DOUBLE, DBAL_TYPE_DOUBLE, DBAL_TYPE_NUMERIC,
                              DBAL_TYPE_TEXT,  DBAL_TYPE_BLOB,   DBAL_TYPE_NULL};
    const char *names[] = {"b", "s", "i", "l", "o", "f", "d", "n", "t", "y", "z"};
    assert_int_equal(dbal_col_count(r), 11);
    for (int i = 0; i < 11; i++) {
        assert_int_equal(dbal_col_type(r, i), want[i]);
        assert_string_equal(dbal_col_name(r, i), names[i]);
    }
    assert_true(dbal_col_double(r, 7) == 1.25);
    dbal_rows_close(r);
    close_fx(&f);
}

/* ---- errors --------------------------------------------------------------- */

static void placeholder_count_mismatch(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    dbal_rows *r = NULL;
    assert_int_equal(dbal_query(f.s, "SELECT ?, ?", DBAL_ARGS(dbal_int64(1), dbal_int64(2), dbal_int64(3)),
                                &r),
                     DBAL_EMISUSE);
    assert_null(r);
    assert_string_equal(dbal_session_error(f.s)->message, "statement has 2 placeholders, 3 parameters given");
    assert_int_equal(int_of(f.s, "SELECT 1"), 1);
    close_fx(&f);
}

static void text_with_nul_is_edata(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    assert_int_equal(dbal_exec(f.s, "SELECT ?::text", DBAL_ARGS(dbal_textn("a\0b", 3)), NULL), DBAL_EDATA);
    assert_non_null(strstr(dbal_session_error(f.s)->message, "NUL"));
    close_fx(&f);
}

static void unique_violation_details(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    run(f.s, "DROP TABLE IF EXISTS pgt_uniq");
    run(f.s, "CREATE TABLE pgt_uniq(name text CONSTRAINT pgt_uniq_name UNIQUE)");
    run(f.s, "INSERT INTO pgt_uniq VALUES ('w')");
    assert_int_equal(dbal_exec(f.s, "INSERT INTO pgt_uniq VALUES (?)", DBAL_ARGS(dbal_text("w")), NULL),
                     DBAL_EUNIQUE);
    const dbal_error *err = dbal_session_error(f.s);
    assert_string_equal(err->sqlstate, "23505");
    assert_string_equal(err->constraint, "pgt_uniq_name");
    assert_non_null(strstr(err->message, "already exists")); /* the detail */
    run(f.s, "DROP TABLE pgt_uniq");
    close_fx(&f);
}

static void affected_rows(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    run(f.s, "DROP TABLE IF EXISTS pgt_aff");
    run(f.s, "CREATE TABLE pgt_aff(x bigint)");
    int64_t n = -1;
    check_ok(f.s, dbal_exec(f.s, "INSERT INTO pgt_aff VALUES (1), (2), (3)", DBAL_NOARGS, &n), "insert");
    assert_int_equal(n, 3);
    check_ok(f.s, dbal_exec(f.s, "UPDATE pgt_aff SET x = x + 1 WHERE x > ?", DBAL_ARGS(dbal_int64(1)), &n),
             "update");
    assert_int_equal(n, 2);
    check_ok(f.s, dbal_exec(f.s, "SELECT * FROM pgt_aff", DBAL_NOARGS, &n), "select");
    assert_int_equal(n, 3);
    check_ok(f.s, dbal_exec(f.s, "DROP TABLE pgt_aff", DBAL_NOARGS, &n), "drop");
    assert_int_equal(n, 0);
    close_fx(&f);
}

static void last_insert_id(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    run(f.s, "SELECT 1"); /* a connection, but no sequence used yet */
    int64_t id = -1;
    assert_int_equal(dbal_last_insert_id(f.s, &id), DBAL_EMISUSE);
    run(f.s, "CREATE TEMP TABLE pgt_ids(id bigserial PRIMARY KEY, v text)");
    run(f.s, "INSERT INTO pgt_ids(v) VALUES ('a'), ('b')");
    check_ok(f.s, dbal_last_insert_id(f.s, &id), "last_insert_id");
    assert_int_equal(id, 2);
    close_fx(&f);
}

static void transaction_options(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    check_ok(f.s, dbal_begin_with(f.s, DBAL_TX_SERIALIZABLE | DBAL_TX_READ_ONLY | DBAL_TX_DEFERRABLE),
             "begin");
    text_is(f.s, "SHOW transaction_isolation", "serializable");
    text_is(f.s, "SHOW transaction_read_only", "on");
    text_is(f.s, "SHOW transaction_deferrable", "on");
    assert_int_equal(dbal_exec(f.s, "CREATE TEMP TABLE pgt_ro(x int)", DBAL_NOARGS, NULL), DBAL_EREADONLY);
    check_ok(f.s, dbal_rollback(f.s), "rollback");
    check_ok(f.s, dbal_begin_with(f.s, DBAL_TX_REPEATABLE_READ), "begin rr");
    text_is(f.s, "SHOW transaction_isolation", "repeatable read");
    check_ok(f.s, dbal_commit(f.s), "commit");
    check_ok(f.s, dbal_begin_with(f.s, DBAL_TX_READ_COMMITTED), "begin rc");
    text_is(f.s, "SHOW transaction_isolation", "read committed");
    check_ok(f.s, dbal_commit(f.s), "commit");
    assert_int_not_equal(dbal_begin_with(f.s, DBAL_TX_READ_COMMITTED | DBAL_TX_SERIALIZABLE), DBAL_OK);
    close_fx(&f);
}

static void connection_lost(void **state)
{
    (void)state;
    fixture f, killer;
    open_default(&f);
    open_default(&killer);
    int64_t pid = int_of(f.s, "SELECT pg_backend_pid()");
    dbal_rows *r = one_row(killer.s, "SELECT pg_terminate_backend(?::int)", DBAL_ARGS(dbal_int64(pid)));
    assert_true(dbal_col_bool(r, 0));
    dbal_rows_close(r);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(dbal_exec(f.s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNLOST);
    assert_string_equal(dbal_session_error(f.s)->sqlstate, "08006");
    dbal_session_close(f.s);
    /* The broken connection was discarded: a new session works. */
    dbal_error err;
    assert_int_equal(dbal_session_open(f.e, &f.s, &err), DBAL_OK);
    assert_int_equal(int_of(f.s, "SELECT 5"), 5);
    close_fx(&f);
    close_fx(&killer);
}

static void idle_session_timeout_is_connlost(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    run(f.s, "SET idle_session_timeout = '100ms'");
    struct timespec ts = {0, 400 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(dbal_exec(f.s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNLOST);
    assert_string_equal(dbal_session_error(f.s)->sqlstate, "08006");
    close_fx(&f);
}

static void copy_is_refused(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    run(f.s, "DROP TABLE IF EXISTS pgt_copy");
    run(f.s, "CREATE TABLE pgt_copy(x int)");
    dbal_rows *r = NULL;
    assert_int_equal(dbal_exec(f.s, "COPY pgt_copy FROM STDIN", DBAL_NOARGS, NULL), DBAL_EUNSUPPORTED);
    assert_int_equal(dbal_query(f.s, "COPY (SELECT 1) TO STDOUT", DBAL_NOARGS, &r), DBAL_EUNSUPPORTED);
    assert_null(r);
    assert_int_equal(dbal_exec(f.s, "COPY (SELECT 1) TO STDOUT", DBAL_NOARGS, NULL), DBAL_EUNSUPPORTED);
    assert_int_equal(int_of(f.s, "SELECT count(*) FROM pgt_copy"), 0); /* still usable */
    run(f.s, "DROP TABLE pgt_copy");
    close_fx(&f);
}

static void pre_ping_pool(void **state)
{
    (void)state;
    char url[1024];
    url_with(url, sizeof url, "pool_pre_ping=1");
    fixture f;
    open_url(&f, url);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(int_of(f.s, "SELECT 3"), 3);
        dbal_session_close(f.s);
        dbal_error err;
        assert_int_equal(dbal_session_open(f.e, &f.s, &err), DBAL_OK);
    }
    close_fx(&f);
}

/* ---- cancel and timeouts ------------------------------------------------- */

static atomic_int query_over;

static void *canceller(void *arg)
{
    dbal_session *s = arg;
    struct timespec ts = {0, 100 * 1000 * 1000};
    /* A cancel that arrives before the statement starts does nothing, so
     * keep asking until the statement is over. */
    while (!atomic_load(&query_over)) {
        nanosleep(&ts, NULL);
        assert_int_equal(dbal_session_cancel(s), DBAL_OK);
    }
    return NULL;
}

static void cancel_from_another_thread(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    assert_int_equal(int_of(f.s, "SELECT 1"), 1); /* connected */
    atomic_store(&query_over, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, canceller, f.s), 0);
    time_t start = time(NULL);
    int rc = dbal_exec(f.s, "SELECT pg_sleep(10)", DBAL_NOARGS, NULL);
    atomic_store(&query_over, 1);
    pthread_join(t, NULL);
    assert_int_equal(rc, DBAL_ECANCELED);
    assert_string_equal(dbal_session_error(f.s)->sqlstate, "57014");
    assert_true(time(NULL) - start < 8);
    assert_int_equal(int_of(f.s, "SELECT 2"), 2); /* still usable */
    close_fx(&f);
}

static void statement_timeout(void **state)
{
    (void)state;
    fixture f;
    open_default(&f);
    check_ok(f.s, dbal_session_set_timeout(f.s, 150), "set timeout");
    /* A cancel while nothing runs is not mistaken for the next one's. */
    assert_int_equal(int_of(f.s, "SELECT 1"), 1);
    dbal_session_cancel(f.s);
    assert_int_equal(dbal_exec(f.s, "SELECT pg_sleep(3)", DBAL_NOARGS, NULL), DBAL_ETIMEOUT);
    assert_string_equal(dbal_session_error(f.s)->sqlstate, "57014");
    text_is(f.s, "SHOW statement_timeout", "150ms");

    /* Changed inside a transaction that rolls back: still in force after. */
    check_ok(f.s, dbal_begin(f.s), "begin");
    check_ok(f.s, dbal_session_set_timeout(f.s, 2000), "set timeout");
    text_is(f.s, "SHOW statement_timeout", "2s");
    check_ok(f.s, dbal_rollback(f.s), "rollback");
    text_is(f.s, "SHOW statement_timeout", "2s");
    check_ok(f.s, dbal_session_set_timeout(f.s, 0), "clear timeout");
    text_is(f.s, "SHOW statement_timeout", "0");
    close_fx(&f);

    char url[1024];
    url_with(url, sizeof url, "statement_timeout=100");
    open_url(&f, url);
    assert_int_equal(dbal_exec(f.s, "SELECT pg_sleep(3)", DBAL_NOARGS, NULL), DBAL_ETIMEOUT);
    close_fx(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unix_socket_in_query),
        cmocka_unit_test(unix_socket_percent_encoded_host),
        cmocka_unit_test(multi_host_first_unreachable),
        cmocka_unit_test(unknown_keyword_is_eurl),
        cmocka_unit_test(keywords_pass_through),
        cmocka_unit_test(wrong_password_not_in_message),
        cmocka_unit_test(ten_million_rows_flat_memory),
        cmocka_unit_test(error_in_the_middle_of_a_stream),
        cmocka_unit_test(statement_while_cursor_open),
        cmocka_unit_test(cursor_closed_early),
        cmocka_unit_test(cache_is_bounded),
        cmocka_unit_test(cache_off_prepares_nothing),
        cmocka_unit_test(cache_keys_on_parameter_types),
        cmocka_unit_test(stale_plan_is_retried),
        cmocka_unit_test(deallocated_statement_is_prepared_again),
        cmocka_unit_test(errors_raised_while_running_are_not_retried),
        cmocka_unit_test(statement_name_taken_is_recovered),
        cmocka_unit_test(bytea_round_trip),
        cmocka_unit_test(special_doubles),
        cmocka_unit_test(jsonb_question_mark_operator),
        cmocka_unit_test(copy_batch_values),
        cmocka_unit_test(copy_batch_types),
        cmocka_unit_test(copy_batch_failure),
        cmocka_unit_test(copy_batch_falls_back),
        cmocka_unit_test(parameter_values),
        cmocka_unit_test(column_types_and_names),
        cmocka_unit_test(placeholder_count_mismatch),
        cmocka_unit_test(text_with_nul_is_edata),
        cmocka_unit_test(unique_violation_details),
        cmocka_unit_test(affected_rows),
        cmocka_unit_test(last_insert_id),
        cmocka_unit_test(transaction_options),
        cmocka_unit_test(connection_lost),
        cmocka_unit_test(idle_session_timeout_is_connlost),
        cmocka_unit_test(copy_is_refused),
        cmocka_unit_test(pre_ping_pool),
        cmocka_unit_test(cancel_from_another_thread),
        cmocka_unit_test(statement_timeout),
    };
    /* For slow runs (valgrind): DBAL_TEST_SKIP=ten_million* and the like. */
    if (getenv("DBAL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("DBAL_TEST_FILTER"));
    if (getenv("DBAL_TEST_SKIP"))
        cmocka_set_skip_filter(getenv("DBAL_TEST_SKIP"));
    int failed = cmocka_run_group_tests_name("postgresql", tests, NULL, NULL);
    const char *url = getenv("DBAL_TEST_PG_URL");
    if (failed == 0 && (!url || !*url) && !truthy(getenv("DBAL_TEST_REQUIRE_PG")))
        return 77; /* every case skipped: tell ctest */
    return failed;
}
