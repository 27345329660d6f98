/*
 * A pooled PostgreSQL connection serves its next session clean: whatever a
 * session did to its server session (roles, settings however they were
 * made, temporary tables, advisory locks, LISTEN, PREPARE, cursors WITH
 * HOLD, sequence state) is gone, while dbal's own statement cache stays
 * usable; and a connection the server closed while it sat idle in the pool
 * is never handed out when pool_pre_ping is on.
 *
 * Every case runs on pool_size=1 and checks that the second session got
 * the same server session (same backend pid): otherwise the test would
 * pass for the wrong reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_helpers.h"

static const char *pg_url;

/* Runs `dirty` (one or more statements, each ending with ';' + '\n') in
 * one session, then `probe` in the next on the same server session, and
 * returns the probe's text. */
static const char *after(dbal_engine *e, const char *const *dirty, const char *probe, char *buf, size_t cap)
{
    dbal_session *s = test_session(e);
    int64_t pid = test_scalar(s, "SELECT pg_backend_pid()");
    for (; *dirty; dirty++)
        OK(s, dbal_exec(s, *dirty, DBAL_NOARGS, NULL));
    dbal_session_close(s);
    s = test_session(e);
    assert_int_equal(test_scalar(s, "SELECT pg_backend_pid()"), pid);
    test_scalar_text(s, probe, buf, cap);
    dbal_session_close(s);
    return buf;
}

#define AFTER(e, probe, ...) after(e, (const char *const[]){__VA_ARGS__, NULL}, probe, buf, sizeof buf)

static void test_role_and_authorization(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "pool_size=1&max_overflow=0");
    char buf[128], login[64];
    dbal_session *s = test_session(e);
    test_scalar_text(s, "SELECT current_user", login, sizeof login);
    OK(s, dbal_exec(s, "DROP ROLE IF EXISTS dbal_reset_admin", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "CREATE ROLE dbal_reset_admin NOLOGIN", DBAL_NOARGS, NULL));
    dbal_session_close(s);

    char want[160];
    snprintf(want, sizeof want, "%s/%s", login, login);
    assert_string_equal(AFTER(e, "SELECT current_user", "SET ROLE dbal_reset_admin"), login);
    assert_string_equal(AFTER(e, "SELECT current_user || '/' || session_user",
                              "SET SESSION AUTHORIZATION dbal_reset_admin"),
                        want);
    assert_string_equal(AFTER(e, "SELECT current_user || '/' || session_user",
                              "/* note */ SET ROLE dbal_reset_admin"),
                        want);
    assert_string_equal(AFTER(e, "SELECT current_user",
                              "SELECT set_config('role', 'dbal_reset_admin', false)"),
                        login);

    s = test_session(e);
    OK(s, dbal_exec(s, "DROP ROLE dbal_reset_admin", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
}

static void test_settings_however_made(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "pool_size=1&max_overflow=0&statement_timeout=5000");
    char buf[128], path[128];
    dbal_session *s = test_session(e);
    test_scalar_text(s, "SHOW search_path", path, sizeof path);
    dbal_session_close(s);

    assert_string_equal(AFTER(e, "SHOW search_path", "/* note */ SET search_path TO pg_catalog"), path);
    assert_string_equal(AFTER(e, "SHOW search_path", "-- note\nSET search_path TO pg_catalog"), path);
    assert_string_equal(AFTER(e, "SHOW work_mem", "SET/**/work_mem = '7MB'"), "4MB");
    assert_string_equal(AFTER(e, "SHOW search_path", "SELECT set_config('search_path', 'x', false)"), path);
    assert_string_equal(AFTER(e, "SELECT coalesce(current_setting('app.tenant', true), '')",
                              "SELECT set_config('app.tenant', '42', false)"),
                        "");
    assert_string_equal(AFTER(e, "SHOW default_transaction_isolation",
                              "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
                        "read committed");
    /* The engine's own statement timeout is the one setting that stays. */
    assert_string_equal(AFTER(e, "SHOW statement_timeout", "SET statement_timeout = 1"), "5s");
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.connects, 1);
    dbal_engine_close(e);
}

static void test_objects_locks_and_listens(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "pool_size=1&max_overflow=0");
    char buf[128];
    assert_string_equal(AFTER(e, "SELECT (to_regclass('pg_temp.reset_tmp') IS NULL)::text",
                              "CREATE TEMP TABLE reset_tmp(x int)"),
                        "true");
    assert_string_equal(AFTER(e,
                              "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND pid = "
                              "pg_backend_pid()",
                              "SELECT pg_advisory_lock(4242)"),
                        "0");
    assert_string_equal(AFTER(e, "SELECT count(*)::text FROM pg_listening_channels()",
                              "LISTEN dbal_reset_chan"),
                        "0");
    assert_string_equal(AFTER(e, "SELECT string_agg(name, ',') FROM pg_cursors", "BEGIN",
                              "DECLARE reset_cur CURSOR WITH HOLD FOR SELECT 1", "COMMIT"),
                        "");
    /* lastval() is not defined in a fresh session. */
    dbal_session *s = test_session(e);
    OK(s, dbal_exec(s, "CREATE SEQUENCE IF NOT EXISTS reset_seq", DBAL_NOARGS, NULL));
    assert_true(test_scalar(s, "SELECT nextval('reset_seq')") > 0);
    dbal_session_close(s);
    s = test_session(e);
    EXPECT_RC(s, dbal_exec(s, "SELECT lastval()", DBAL_NOARGS, NULL), DBAL_ERROR);
    assert_string_equal(dbal_session_error(s)->sqlstate, "55000");
    OK(s, dbal_exec(s, "DROP SEQUENCE reset_seq", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* The application's PREPARE is dropped; dbal's cache knows what went with
 * it, so that a cached statement still runs, inside a transaction too
 * (where a stale one could not be prepared again and sent). */
static void test_prepared_statements(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "pool_size=1&max_overflow=0");
    char buf[128];
    const char *cached = "SELECT ?::int + 1";
    dbal_session *s = test_session(e);
    assert_int_equal(test_scalar(s, "SELECT 41"), 41);
    dbal_rows *r;
    OK(s, dbal_query(s, cached, DBAL_ARGS(dbal_int64(1)), &r));
    dbal_rows_close(r);
    dbal_session_close(s);

    assert_string_equal(AFTER(e, "SELECT count(*)::text FROM pg_prepared_statements WHERE from_sql",
                              "PREPARE app_stmt AS SELECT 1"),
                        "0");
    assert_string_equal(AFTER(e, "SELECT count(*)::text FROM pg_prepared_statements WHERE from_sql",
                              "DO $$BEGIN EXECUTE 'PREPARE app_stmt2 AS SELECT 2'; END$$"),
                        "0");
    s = test_session(e);
    OK(s, dbal_begin(s));
    OK(s, dbal_query(s, cached, DBAL_ARGS(dbal_int64(1)), &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_int_equal(dbal_col_int64(r, 0), 2);
    dbal_rows_close(r);
    OK(s, dbal_commit(s));
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM pg_prepared_statements WHERE from_sql"), 0);
    dbal_session_close(s);

    /* Without PREPARE, the cache survives the reset: nothing is prepared
     * again (the server's count of our statements stays). */
    s = test_session(e);
    OK(s, dbal_query(s, cached, DBAL_ARGS(dbal_int64(1)), &r));
    dbal_rows_close(r);
    int64_t before = test_scalar(s, "SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql");
    dbal_session_close(s);
    s = test_session(e);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql"),
                     before);
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* The reset sends the statement timeout's statement only for a session
 * that had a timeout: a connection first given back without one, then by a
 * session with one, must still be reset (the statement prepared by the
 * reset that first sends it) and keep its server session. */
static void test_timeout_after_resets_without(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "pool_size=1&max_overflow=0");
    dbal_session *s = test_session(e);
    int64_t pid = test_scalar(s, "SELECT pg_backend_pid()");
    dbal_session_close(s);
    for (int i = 0; i < 3; i++) {
        s = test_session(e);
        assert_int_equal(dbal_session_set_timeout(s, 900 + i), DBAL_OK);
        assert_int_equal(test_scalar(s, "SELECT pg_backend_pid()"), pid);
        dbal_session_close(s);
    }
    s = test_session(e);
    assert_int_equal(test_scalar(s, "SELECT pg_backend_pid()"), pid);
    char buf[32];
    assert_string_equal(test_scalar_text(s, "SHOW statement_timeout", buf, sizeof buf), "0");
    dbal_session_close(s);
    dbal_engine_stats st;
    assert_int_equal(dbal_engine_stats_get(e, &st), DBAL_OK);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.discarded, 0);
    dbal_engine_close(e);
}

/* pool_reset=rollback: the application said its sessions change nothing,
 * and a SET then stays (documented). */
static void test_rollback_only_reset(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "pool_size=1&max_overflow=0&pool_reset=rollback");
    char buf[128];
    assert_string_equal(AFTER(e, "SHOW work_mem", "SET work_mem = '7MB'"), "7MB");
    dbal_session *s = test_session(e);
    OK(s, dbal_begin(s));
    OK(s, dbal_exec(s, "CREATE TEMP TABLE rb_tmp(x int)", DBAL_NOARGS, NULL));
    dbal_session_close(s); /* the open transaction is rolled back */
    s = test_session(e);
    assert_string_equal(test_scalar_text(s, "SELECT (to_regclass('pg_temp.rb_tmp') IS NULL)::text", buf,
                                         sizeof buf),
                        "true");
    dbal_session_close(s);
    dbal_engine_close(e);

    dbal_error err;
    char url[1024];
    snprintf(url, sizeof url, "%s%spool_reset=sometimes", pg_url, strchr(pg_url, '?') ? "&" : "?");
    assert_int_equal(dbal_engine_open(&e, url, &err), DBAL_EURL);
    assert_non_null(strstr(err.message, "pool_reset"));
}

/* Terminates every backend of application_name `app` but the caller's. */
static void terminate(const char *app)
{
    dbal_engine *e = test_engine_opts(pg_url, "application_name=dbal_reset_killer");
    dbal_session *s = test_session(e);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '%s'",
             app);
    assert_true(test_scalar(s, sql) >= 1);
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* Item 7: inside the pre-ping bypass window (a connection returned less
 * than 0.5 s ago), a connection whose server session was terminated is
 * not handed out: no statement meets it. */
static void test_terminated_inside_pre_ping_window(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "application_name=dbal_window&pool_size=3&pool_pre_ping=1");
    dbal_session *s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = test_session(e);
        OK(s[i], dbal_exec(s[i], "SELECT 1", DBAL_NOARGS, NULL));
    }
    for (int i = 0; i < 3; i++)
        dbal_session_close(s[i]);
    terminate("dbal_window");
    usleep(50 * 1000); /* the goodbye reaches the client's socket */
    for (int i = 0; i < 3; i++) {
        s[i] = test_session(e);
        OK(s[i], dbal_exec(s[i], "SELECT 1", DBAL_NOARGS, NULL));
    }
    for (int i = 0; i < 3; i++)
        dbal_session_close(s[i]);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.discarded, 3);
    dbal_engine_close(e);
}

int main(void)
{
    pg_url = getenv("DBAL_TEST_PG_URL");
    if (!pg_url || !*pg_url) {
        if (getenv("DBAL_TEST_REQUIRE_PG") && strcmp(getenv("DBAL_TEST_REQUIRE_PG"), "1") == 0) {
            fprintf(stderr, "test_pg_reset: DBAL_TEST_REQUIRE_PG=1 but DBAL_TEST_PG_URL is not set\n");
            return 1;
        }
        printf("test_pg_reset: DBAL_TEST_PG_URL not set, skipped\n");
        return 77;
    }
    dbal_set_log(NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_and_authorization),
        cmocka_unit_test(test_settings_however_made),
        cmocka_unit_test(test_objects_locks_and_listens),
        cmocka_unit_test(test_prepared_statements),
        cmocka_unit_test(test_timeout_after_resets_without),
        cmocka_unit_test(test_rollback_only_reset),
        cmocka_unit_test(test_terminated_inside_pre_ping_window),
    };
    return cmocka_run_group_tests_name("pg_reset", tests, NULL, NULL);
}
