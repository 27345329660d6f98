/*
 * test_static_drivers.c - both in-tree drivers linked into one program.
 *
 * Each driver exports its entry point under a name of its own
 * (dbal_<name>_driver_entry), so the SQLite and PostgreSQL drivers, built as
 * static libraries from their modules' sources, link into this one program
 * without a clash, and the program registers both with
 * dbal_register_driver. DBAL_DRIVER_PATH names an empty directory, and the
 * test checks that no driver module was loaded: every statement ran on the
 * linked-in code. PostgreSQL runs when DBAL_TEST_PG_URL is set (skipped
 * otherwise, failed when DBAL_TEST_REQUIRE_PG=1 asks for it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include <dbal.h>
#include <dbal/driver.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the drivers' static libraries define. */
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(sqlite)(const dbal_host *host);
#ifdef HAVE_POSTGRESQL
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(postgresql)(const dbal_host *host);
#endif

static int module_seen(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    const char *slash = strrchr(info->dlpi_name, '/');
    const char *base = slash ? slash + 1 : info->dlpi_name;
    if (strncmp(base, "dbal_", 5) == 0) {
        snprintf(data, 512, "%s", info->dlpi_name);
        return 1;
    }
    return 0;
}

/* Fails when any dbal_<name>.so module is mapped into the process. */
static void assert_no_module_loaded(void)
{
    char found[512] = "";
    if (dl_iterate_phdr(module_seen, found))
        fail_msg("a driver module was loaded: %s", found);
}

static int register_both(void **state)
{
    (void)state;
    dbal_error err;
    if (dbal_register_driver("sqlite", DBAL_DRIVER_ENTRY(sqlite), &err) != DBAL_OK) {
        fprintf(stderr, "registering sqlite: %s\n", err.message);
        return -1;
    }
#ifdef HAVE_POSTGRESQL
    if (dbal_register_driver("postgresql", DBAL_DRIVER_ENTRY(postgresql), &err) != DBAL_OK) {
        fprintf(stderr, "registering postgresql: %s\n", err.message);
        return -1;
    }
#endif
    return 0;
}

/* Opens url, runs one statement with a parameter and checks its answer. */
static void run_statement(const char *url, const char *want_driver)
{
    dbal_engine *e = NULL;
    dbal_session *s = NULL;
    dbal_error err;
    int rc = dbal_engine_open(&e, url, &err);
    if (rc != DBAL_OK)
        fail_msg("dbal_engine_open: %s: %s", dbal_code_name(rc), err.message);
    assert_string_equal(dbal_engine_driver(e), want_driver);
    rc = dbal_session_open(e, &s, &err);
    if (rc != DBAL_OK)
        fail_msg("dbal_session_open: %s: %s", dbal_code_name(rc), err.message);
    dbal_rows *r = NULL;
    rc = dbal_query(s, "SELECT 40 + ? AS n", DBAL_ARGS(dbal_int64(2)), &r);
    if (rc != DBAL_OK)
        fail_msg("dbal_query: %s: %s", dbal_code_name(rc), dbal_session_error(s)->message);
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_int_equal(dbal_col_int64(r, 0), 42);
    assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    dbal_rows_close(r);
    dbal_session_close(s);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
    assert_no_module_loaded();
}

static void sqlite_linked_in(void **state)
{
    (void)state;
    run_statement("sqlite::memory:", "sqlite");
}

static void postgresql_linked_in(void **state)
{
    (void)state;
#ifdef HAVE_POSTGRESQL
    const char *url = test_pg_url();
    if (url) {
        run_statement(url, "postgresql");
        return;
    }
#endif
    skip();
}

/* A registered name is taken: the module of that name is never looked for. */
static void names_are_taken(void **state)
{
    (void)state;
    dbal_error err;
    assert_int_equal(dbal_register_driver("sqlite", DBAL_DRIVER_ENTRY(sqlite), &err), DBAL_EMISUSE);
    assert_no_module_loaded();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sqlite_linked_in),
        cmocka_unit_test(postgresql_linked_in),
        cmocka_unit_test(names_are_taken),
    };
    return cmocka_run_group_tests(tests, register_both, NULL);
}
