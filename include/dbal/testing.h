/*
 * dbal/testing.h - the testing kit: an application's database code tested
 * on sqlite::memory: with no setup, and on PostgreSQL by setting one
 * variable, each test rolled back, with the failures a real database
 * gives injected on demand. libdbal-testing (pkg-config dbal-testing,
 * CMake dbal::testing); README, "Testing your application".
 *
 * It has three parts, all on the testing driver (dbal_testing.so), which
 * wraps the real driver of a URL: sqlite+testing::memory:,
 * postgresql+testing://host/db.
 *
 *   - Isolation: everything the code under test does, commits included,
 *     stays inside one transaction of the testing driver's, on one real
 *     connection that all the engine's sessions use in turn, and is rolled
 *     back. A transaction the code begins is a savepoint in it.
 *   - Faults: rules, given as text (the same text as a URL's fault=
 *     parameter), that make a chosen call fail with the code a real
 *     database would give: ACTION[:ARG]@POINT[#N][*COUNT][~TEXT].
 *   - cmocka fixtures and assertions built on both.
 *
 * Thread rules are dbal's; the isolation calls run between tests, while
 * no session uses the engine. Functions return dbal codes unless they
 * say otherwise; err is optional wherever it appears.
 */
#ifndef DBAL_TESTING_H
#define DBAL_TESTING_H

#include <dbal.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The name of the testing driver, and of its module dbal_testing.so. */
#define DBAL_TESTING_DRIVER "testing"
/* The URL the fixtures use when DBAL_TEST_URL is unset or empty. */
#define DBAL_TESTING_DEFAULT_URL "sqlite::memory:"

/*
 * Writes to out the URL of the testing driver over url's database:
 * "sqlite::memory:" gives "sqlite+testing::memory:"; a URL that names a
 * driver, "sqlite+mine:///t.db", gives "sqlite+testing:///t.db?inner=mine".
 * Returns DBAL_OK, DBAL_EURL (no scheme, or testing already) or
 * DBAL_ERANGE (cap too small). Any thread.
 */
DBAL_API int dbal_testing_url(const char *url, char *out, size_t cap);

/*
 * Opens an engine on the testing driver over url's database (see
 * dbal_testing_url), with engine options opts (NULL: the URL's and the
 * defaults). Returns what dbal_engine_open_with() returns, and DBAL_EURL
 * or DBAL_ERANGE from dbal_testing_url. Any thread.
 */
DBAL_API int dbal_testing_engine_open(dbal_engine **out, const char *url, const dbal_engine_options *opts,
                                      dbal_error *err);

/*
 * Isolation, on an engine of the testing driver. dbal_testing_isolate()
 * begins the transaction that holds everything that follows, on one real
 * connection that every connection of the engine's pool uses from then
 * on, one call at a time, so each session sees what the others did,
 * committed or not; transactions of several sessions nest and must end in
 * the reverse order (else DBAL_EMISUSE). dbal_testing_mark() makes what is
 * there now (a schema) the point each dbal_testing_rollback() returns to
 * (without a mark: the begin); dbal_testing_end() rolls everything back
 * and ends isolation (the pool's connections are replaced). Call them
 * while no session is inside a transaction, and dbal_testing_isolate() and
 * dbal_testing_end() while no other thread uses the engine (they replace
 * its connections; the fixtures call them in group setup and teardown),
 * which is not checked. Returns DBAL_OK, DBAL_EMISUSE
 * (not isolating, already isolating, a transaction open),
 * DBAL_EUNSUPPORTED (not the testing driver), DBAL_ECONNLOST (the real
 * connection was lost, and the test's work with it) or the database's
 * code.
 */
DBAL_API int dbal_testing_isolate(dbal_engine *engine, dbal_error *err);
DBAL_API int dbal_testing_mark(dbal_engine *engine, dbal_error *err);
DBAL_API int dbal_testing_rollback(dbal_engine *engine, dbal_error *err);
DBAL_API int dbal_testing_end(dbal_engine *engine, dbal_error *err);

/*
 * Adds a fault rule to the engine's, in the text a URL's fault= takes:
 *
 *   ACTION[:ARG]@POINT[#N][*COUNT][~TEXT]
 *
 * ACTION: unique[:CONSTRAINT], foreignkey[:C], notnull[:C], check[:C],
 * serialization, deadlock, busy, timeout, canceled, readonly (each the
 * error its SQLSTATE gives on PostgreSQL), lost (the connection lost
 * before the call reached the server: nothing ran), lost_after (lost
 * after it ran: its effect stays, unless a transaction it was in is
 * rolled back with the connection), refused, pool (at connect and
 * checkout: DBAL_ECONNECT, DBAL_EPOOLTIMEOUT), delay:MS (then the call
 * runs; a cancel or the session's timeout cuts the wait short), or
 * error:SQLSTATE (the code dbal gives that SQLSTATE). POINT: statement,
 * begin, commit, rollback, connect or checkout. It fires at the Nth event
 * at POINT counted from now (default: the next), COUNT times (a number,
 * or always; default once); ~TEXT (last, any characters) limits it to
 * statements whose SQL contains TEXT, in any case. The first rule due
 * fires; every matching rule counts the event. *id (optional) receives
 * the rule's number. Returns DBAL_OK, DBAL_EINVAL (a malformed rule: err
 * says which part), DBAL_EUNSUPPORTED (not the testing driver). Any
 * thread.
 */
DBAL_API int dbal_testing_fault_add(dbal_engine *engine, const char *spec, int *id, dbal_error *err);
/* Removes every rule, and their counts. Returns DBAL_OK or
 * DBAL_EUNSUPPORTED. Any thread. */
DBAL_API int dbal_testing_fault_clear(dbal_engine *engine, dbal_error *err);
/* How many times rule id has fired (id 0: all rules since the last
 * clear); -1 for an unknown rule or an engine not of the testing
 * driver. Any thread. */
DBAL_API long dbal_testing_fault_fired(dbal_engine *engine, int id);

/* ---- cmocka fixtures -------------------------------------------------------- */

/* Makes the schema, once per run, inside the run's transaction: the
 * engine is the fixture's. Returns DBAL_OK or a code (the run stops). */
typedef int (*dbal_testing_schema_fn)(dbal_engine *engine, void *userdata);

/*
 * How the group setup makes the fixture. Set it up with
 * dbal_testing_config_init(), then set fields.
 */
typedef struct dbal_testing_config {
    size_t size;                   /* set by dbal_testing_config_init; lets fields be appended */
    const char *url_variable;      /* the environment variable with the URL (NULL: "DBAL_TEST_URL") */
    const char *default_url;       /* when it is unset or empty (NULL: DBAL_TESTING_DEFAULT_URL) */
    const char *migrations;        /* a directory for dbal_migrate_up(), or NULL */
    dbal_testing_schema_fn schema; /* called after the migrations, or NULL */
    void *userdata;                /* given to schema, and kept in the fixture */
    int own_schema; /* PostgreSQL: 1 (default) a schema of the run's own, first in search_path */
} dbal_testing_config;

/* Sets c->size and every field to its default. Accepts NULL. */
DBAL_API void dbal_testing_config_init(dbal_testing_config *c);

/*
 * What the fixtures keep in cmocka's state: the group's, which each test
 * of the group receives as *state. Fields are only appended.
 */
typedef struct dbal_testing_fixture {
    dbal_engine *engine;   /* the testing driver over the URL's database, isolating */
    dbal_session *session; /* each test's own session (no connection until its first statement) */
    const char *url;       /* the URL as given (DBAL_TEST_URL or the default) */
    const char *schema;    /* PostgreSQL: the run's own schema, rolled back with it; else NULL */
    void *userdata;        /* the config's */
} dbal_testing_fixture;

/*
 * Group setup and teardown (dbal_testing_group_setup_with(),
 * dbal_testing_group_teardown()), for cmocka_run_group_tests(). The setup
 * reads the URL, opens the engine (dbal_testing_engine_open), begins
 * isolation, on PostgreSQL creates the run's own schema (dbal_testing_<pid>_<n>) and
 * puts it alone on search_path, applies cfg->migrations with
 * dbal_migrate_up(), calls cfg->schema, and marks that as where every
 * test starts. Nothing of it is ever committed: the teardown rolls it all
 * back and closes the engine, so a run leaves nothing behind.
 * dbal_testing_group_setup() is dbal_testing_group_setup_with() with the
 * defaults (no schema). They return 0, or -1 after printing why (cmocka
 * then fails the group). The state must be the group's (NULL initially).
 */
DBAL_API int dbal_testing_group_setup(void **state);
DBAL_API int dbal_testing_group_setup_with(void **state, const dbal_testing_config *cfg);
DBAL_API int dbal_testing_group_teardown(void **state);

/*
 * Per-test setup and teardown (dbal_testing_setup(),
 * dbal_testing_teardown()), for cmocka_unit_test_setup_teardown(): the
 * setup clears the fault rules and opens fixture->session; the teardown
 * closes it (a test may close it first and set it to NULL), clears the
 * rules and rolls the test's work back (dbal_testing_rollback), so the
 * next test starts from the mark. A session the test left open is
 * reported and fails the teardown (its transaction, if any, is rolled back
 * with the test's work). They return 0, or -1 after printing why.
 */
DBAL_API int dbal_testing_setup(void **state);
DBAL_API int dbal_testing_teardown(void **state);

/* ---- assertions --------------------------------------------------------------- */

/*
 * Assertions for cmocka tests; a failure prints what differs and fails
 * the test, as cmocka's assert_* do. Each opens a session of its own on
 * the engine and closes it; on an isolating engine they see the test's
 * work, committed or not.
 *
 * dbal_assert_rows(engine, sql, params, expected): the query's rows, as
 * text, equal expected: one line per row, values separated by '|', NULL
 * as NULL, numbers as dbal_col_text() gives them ("" is no row; a final
 * newline is optional). On failure it prints the SQL, the parameters, and
 * both sets of rows.
 *
 * dbal_assert_count(engine, table, n): SELECT count(*) FROM table (table
 * is put in the SQL as written) is n.
 *
 * dbal_assert_error(err, code, sqlstate): err (a const dbal_error *, such
 * as dbal_session_error(s)) has the code and, unless sqlstate is NULL,
 * the SQLSTATE; on failure it prints both and the message.
 */
#define dbal_assert_rows(engine, sql, params, expected) \
    dbal_testing_assert_rows((engine), (sql), (params), (expected), __FILE__, __LINE__)
#define dbal_assert_count(engine, table, n) \
    dbal_testing_assert_count((engine), (table), (n), __FILE__, __LINE__)
#define dbal_assert_error(err, code, sqlstate) \
    dbal_testing_assert_error((err), (code), (sqlstate), __FILE__, __LINE__)

/* The functions behind the dbal_assert_* macros, which pass the caller's
 * file and line: dbal_testing_assert_rows(), dbal_testing_assert_count()
 * and dbal_testing_assert_error(). */
DBAL_API void dbal_testing_assert_rows(dbal_engine *engine, const char *sql, dbal_params params,
                                       const char *expected, const char *file, int line);
DBAL_API void dbal_testing_assert_count(dbal_engine *engine, const char *table, long long n, const char *file,
                                        int line);
DBAL_API void dbal_testing_assert_error(const dbal_error *err, int code, const char *sqlstate,
                                        const char *file, int line);

#ifdef __cplusplus
}
#endif
#endif /* DBAL_TESTING_H */
