/* The driver loader: schemes checked before any file name is made, modules
 * found on DBAL_DRIVER_PATH, malformed modules refused with a clear error,
 * drivers registered by the application, loading from many threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dbal.h>
#include <dbal/driver.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_open_fails(const char *url, int code, const char *needle)
{
    dbal_engine *e = (dbal_engine *)1;
    dbal_error err;
    int rc = dbal_engine_open(&e, url, &err);
    if (rc != code)
        fail_msg("%s: returned %s (%s), expected %s", url, dbal_code_name(rc), err.message,
                 dbal_code_name(code));
    assert_null(e);
    assert_int_equal(err.code, code);
    if (!strstr(err.message, needle))
        fail_msg("%s: message '%s' does not mention '%s'", url, err.message, needle);
    if (strstr(err.message, "topsecret"))
        fail_msg("%s: message '%s' leaks the password", url, err.message);
}

static void test_unknown_scheme(void **state)
{
    (void)state;
    expect_open_fails("nosuch://user:topsecret@host/db", DBAL_ENODRIVER, "dbal_nosuch.so");
    expect_open_fails("sqlite+nosuch:///x.db", DBAL_ENODRIVER, "dbal_nosuch.so");
}

static void test_scheme_is_not_a_path(void **state)
{
    (void)state;
    /* None of these may become a file name: refused as URLs. */
    expect_open_fails("../../tmp/evil://x", DBAL_EURL, "scheme");
    expect_open_fails("a/b://x", DBAL_EURL, "scheme");
    expect_open_fails("/tmp/x://x", DBAL_EURL, "scheme");
    expect_open_fails("sqlite+../x://x", DBAL_EURL, "driver name");
    expect_open_fails("x%2f..://x", DBAL_EURL, "scheme");
}

static void test_malformed_modules(void **state)
{
    (void)state;
    expect_open_fails("badabi://h/db", DBAL_EDRIVER, "ABI version 99");
    expect_open_fails("notadriver://h/db", DBAL_EDRIVER, "not a dbal driver");
    expect_open_fails("failinit://h/db", DBAL_EDRIVER, "failed to initialise");
    expect_open_fails("wrongname://h/db", DBAL_EDRIVER, "calls itself 'somebody_else'");
    expect_open_fails("missingslot://h/db", DBAL_EDRIVER, "'exec'");
    /* Refused modules are not remembered as loaded: same answer again. */
    expect_open_fails("badabi://h/db", DBAL_EDRIVER, "ABI version 99");
}

/* dbal_<name>_driver_entry is looked up before dbal_driver_entry (which
 * this module makes fail). */
static void test_own_entry_first(void **state)
{
    (void)state;
    dbal_engine *e;
    dbal_error err;
    int rc = dbal_engine_open(&e, "ownentry://h/db", &err);
    if (rc != DBAL_OK)
        fail_msg("ownentry: %s: %s", dbal_code_name(rc), err.message);
    assert_string_equal(dbal_engine_driver(e), "ownentry");
    dbal_engine_close(e);
}

static void test_postgres_alias(void **state)
{
    (void)state;
    dbal_engine *e;
    dbal_error err;
    int rc = dbal_engine_open(&e, "postgres://localhost/db", &err);
    if (rc == DBAL_OK) {
        assert_string_equal(dbal_engine_driver(e), "postgresql");
        dbal_engine_close(e);
    } else {
        /* A build without libpq: the alias still names the right module. */
        assert_int_equal(rc, DBAL_ENODRIVER);
        assert_non_null(strstr(err.message, "dbal_postgresql.so"));
    }
}

/* A test double registered by the application. */
static int fake_connects;
static int fake_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err)
{
    *ctx = (void *)cfg->url->database;
    return DBAL_OK;
}
static void fake_close(void *ctx)
{
}
static int fake_connect(void *ctx, dbal_driver_conn **out, dbal_error *err)
{
    fake_connects++;
    err->code = DBAL_ECONNECT;
    snprintf(err->message, sizeof err->message, "fake cannot connect");
    return DBAL_ECONNECT;
}
static void fake_disconnect(dbal_driver_conn *c)
{
}
static int fake_exec(dbal_driver_conn *c, const char *sql, const dbal_value *p, size_t n, int64_t *a,
                     dbal_error *err)
{
    return DBAL_OK;
}
static int fake_query(dbal_driver_conn *c, const char *sql, const dbal_value *p, size_t n,
                      dbal_driver_rows **out, dbal_error *err)
{
    return DBAL_ERROR;
}
static int fake_next(dbal_driver_rows *r, dbal_error *err)
{
    return DBAL_DONE;
}
static void fake_rows_close(dbal_driver_rows *r)
{
}
static const char *fake_col_name(dbal_driver_rows *r, int col)
{
    return "";
}
static void fake_col_value(dbal_driver_rows *r, int col, dbal_value *out)
{
}
static dbal_type fake_col_type(dbal_driver_rows *r, int col)
{
    return DBAL_TYPE_NULL;
}
static int fake_tx(dbal_driver_conn *c, dbal_error *err)
{
    return DBAL_OK;
}
static int fake_begin(dbal_driver_conn *c, unsigned o, dbal_error *err)
{
    return DBAL_OK;
}

static dbal_driver fake_table = {
    .abi_version = DBAL_DRIVER_ABI_VERSION,
    .size = sizeof(dbal_driver),
    .name = "fake",
    .version = "1",
    .engine_open = fake_open,
    .engine_close = fake_close,
    .connect = fake_connect,
    .disconnect = fake_disconnect,
    .exec = fake_exec,
    .query = fake_query,
    .rows_next = fake_next,
    .rows_close = fake_rows_close,
    .col_name = fake_col_name,
    .col_value = fake_col_value,
    .col_type = fake_col_type,
    .begin = fake_begin,
    .commit = fake_tx,
    .rollback = fake_tx,
};

static const dbal_driver *fake_entry(const dbal_host *host)
{
    return &fake_table;
}
static const dbal_driver *null_entry(const dbal_host *host)
{
    return NULL;
}

static void test_register_driver(void **state)
{
    (void)state;
    dbal_error err;
    assert_int_equal(dbal_register_driver("Fake", fake_entry, &err), DBAL_EINVAL);
    assert_int_equal(dbal_register_driver("../fake", fake_entry, &err), DBAL_EINVAL);
    assert_int_equal(dbal_register_driver("fake", NULL, &err), DBAL_EINVAL);
    assert_int_equal(dbal_register_driver("nullentry", null_entry, &err), DBAL_EDRIVER);
    assert_int_equal(dbal_register_driver("fake", fake_entry, &err), DBAL_OK);
    assert_int_equal(dbal_register_driver("fake", fake_entry, &err), DBAL_EMISUSE);

    dbal_engine *e;
    assert_int_equal(dbal_engine_open(&e, "fake://h/mydb", &err), DBAL_OK);
    assert_string_equal(dbal_engine_driver(e), "fake");
    /* Lazy checkout: opening a session does not connect ... */
    dbal_session *s;
    assert_int_equal(dbal_session_open(e, &s, &err), DBAL_OK);
    assert_int_equal(fake_connects, 0);
    /* ... the first statement does, and the driver's error comes through. */
    assert_int_equal(dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    assert_int_equal(fake_connects, 1);
    assert_string_equal(dbal_session_error(s)->message, "fake cannot connect");
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.open, 0); /* the failed slot was given back */
    dbal_session_close(s);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

static void *open_sqlite(void *arg)
{
    (void)arg;
    dbal_engine *e;
    dbal_error err;
    intptr_t ok = dbal_engine_open(&e, "sqlite::memory:", &err) == DBAL_OK;
    if (ok)
        dbal_engine_close(e);
    return (void *)ok;
}

static void test_concurrent_first_load(void **state)
{
    (void)state;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, open_sqlite, NULL);
    for (int i = 0; i < 8; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        assert_true(ok != NULL);
    }
}

static void test_env_open(void **state)
{
    (void)state;
    dbal_engine *e;
    dbal_error err;
    unsetenv("DBAL_TEST_URL_VAR");
    assert_int_equal(dbal_engine_open_env(&e, "DBAL_TEST_URL_VAR", "sqlite::memory:", &err), DBAL_OK);
    assert_string_equal(dbal_engine_driver(e), "sqlite");
    dbal_engine_close(e);
    assert_int_equal(dbal_engine_open_env(&e, "DBAL_TEST_URL_VAR", NULL, &err), DBAL_EURL);
    assert_non_null(strstr(err.message, "DBAL_TEST_URL_VAR"));
    setenv("DBAL_TEST_URL_VAR", "nosuch://u:topsecret@h/db", 1);
    assert_int_equal(dbal_engine_open_env(&e, "DBAL_TEST_URL_VAR", "sqlite::memory:", &err), DBAL_ENODRIVER);
    assert_null(strstr(err.message, "topsecret"));
    unsetenv("DBAL_TEST_URL_VAR");
}

static void test_strerror_table(void **state)
{
    (void)state;
    assert_string_equal(dbal_code_name(DBAL_EUNIQUE), "DBAL_EUNIQUE");
    assert_string_equal(dbal_strerror(DBAL_EUNIQUE), "unique constraint violated");
    assert_string_equal(dbal_code_name(DBAL_ROW), "DBAL_ROW");
    assert_string_equal(dbal_strerror(12345), "unknown error code");
    assert_int_equal(DBAL_OK, 0);
    assert_int_equal(dbal_version_number(), DBAL_VERSION_NUMBER);
    assert_string_equal(dbal_version(), DBAL_VERSION);
}

/* A slot is used only when the table's version has it: a version-1 table
 * whose size happens to cover `check` (ABI 2) never has it called. */
static int versioned_checks;
static dbal_driver_conn versioned_conn;
static int versioned_connect(void *ctx, dbal_driver_conn **out, dbal_error *err)
{
    *out = &versioned_conn;
    return DBAL_OK;
}
static int versioned_check(dbal_driver_conn *c, int wait, int *fd, dbal_error *err)
{
    versioned_checks++;
    return DBAL_OK;
}

static dbal_driver v1_table, v2_table;
static const dbal_driver *v1_entry(const dbal_host *host)
{
    return &v1_table;
}
static const dbal_driver *v2_entry(const dbal_host *host)
{
    return &v2_table;
}

static int checks_on_reuse(const char *name)
{
    dbal_error err;
    char url[64];
    snprintf(url, sizeof url, "%s://h/db", name);
    versioned_checks = 0;
    dbal_engine *e;
    assert_int_equal(dbal_engine_open(&e, url, &err), DBAL_OK);
    for (int i = 0; i < 2; i++) { /* the second session takes the idle connection */
        dbal_session *s;
        assert_int_equal(dbal_session_open(e, &s, &err), DBAL_OK);
        assert_int_equal(dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_OK);
        dbal_session_close(s);
    }
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
    return versioned_checks;
}

static void test_slot_versions(void **state)
{
    (void)state;
    dbal_error err;
    v1_table = fake_table;
    v1_table.abi_version = 1;
    v1_table.name = "vone";
    v1_table.connect = versioned_connect;
    v1_table.check = versioned_check;
    v2_table = v1_table;
    v2_table.abi_version = 2;
    v2_table.name = "vtwo";
    assert_int_equal(dbal_register_driver("vone", v1_entry, &err), DBAL_OK);
    assert_int_equal(dbal_register_driver("vtwo", v2_entry, &err), DBAL_OK);
    assert_int_equal(checks_on_reuse("vone"), 0);
    assert_int_equal(checks_on_reuse("vtwo"), 1);

    /* The typed column slots (ABI 5) by the same rule: a version-4 table,
     * or one whose size ends before them, does not have them, whatever
     * lies there (test_typed_columns reads real rows through both). */
    dbal_driver t = fake_table;
    t.col_int64 = (int (*)(dbal_driver_rows *, int, int64_t *))1;
    assert_true(DBAL_DRIVER_HAS(&t, col_int64));
    assert_false(DBAL_DRIVER_HAS(&t, col_text)); /* not filled */
    t.abi_version = 4;
    assert_false(DBAL_DRIVER_HAS(&t, col_int64));
    t.abi_version = 5;
    t.size = offsetof(dbal_driver, col_int64);
    assert_false(DBAL_DRIVER_HAS(&t, col_int64));

    /* inline_budget (ABI 6) likewise: an ABI-5 table never has it. */
    t = fake_table;
    t.inline_budget = (int (*)(dbal_driver_conn *, int))1;
    assert_true(DBAL_DRIVER_HAS(&t, inline_budget));
    t.abi_version = 5;
    assert_false(DBAL_DRIVER_HAS(&t, inline_budget));
    t.abi_version = 6;
    t.size = offsetof(dbal_driver, inline_budget);
    assert_false(DBAL_DRIVER_HAS(&t, inline_budget));

    /* The host table by the same rule, as a driver's entry point tests it. */
    dbal_host h = {.abi_version = 1, .size = sizeof h, .set_error = NULL};
    assert_false(DBAL_HOST_HAS(&h, set_error)); /* not filled */
    h.set_error = (void (*)(dbal_error *, int, const char *, int, const char *, ...))1;
    assert_true(DBAL_HOST_HAS(&h, set_error));
    h.size = offsetof(dbal_host, set_error);
    assert_false(DBAL_HOST_HAS(&h, set_error)); /* a smaller, older core */
    h.size = sizeof h;
    h.abi_version = 0;
    assert_false(DBAL_HOST_HAS(&h, set_error));
    assert_false(DBAL_HOST_HAS((const dbal_host *)NULL, set_error));
}

int main(void)
{
    /* A directory that does not exist first: the search must go on. */
    const char *real = getenv("DBAL_DRIVER_PATH");
    char path[4096];
    snprintf(path, sizeof path, "/nonexistent/dir::%s:%s", TEST_DRIVER_DIR, real ? real : "");
    setenv("DBAL_DRIVER_PATH", path, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_scheme),        cmocka_unit_test(test_scheme_is_not_a_path),
        cmocka_unit_test(test_malformed_modules),     cmocka_unit_test(test_own_entry_first),
        cmocka_unit_test(test_postgres_alias),        cmocka_unit_test(test_register_driver),
        cmocka_unit_test(test_concurrent_first_load), cmocka_unit_test(test_env_open),
        cmocka_unit_test(test_strerror_table),        cmocka_unit_test(test_slot_versions),
    };
    return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
