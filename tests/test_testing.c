/*
 * test_testing.c - the testing kit (include/dbal/testing.h) on itself:
 * isolation that holds when the code under test commits, each fault at
 * each point with its code, the fixtures and the assertions.
 *
 *   test_testing sqlite | sqlite-file | postgresql
 *
 * sqlite is sqlite::memory:, sqlite-file a temporary file, postgresql
 * $DBAL_TEST_PG_URL (exit 77 when unset, a failure when DBAL_TEST_REQUIRE_PG
 * is set). After the run, an engine without the testing driver finds
 * nothing left of it: no table in the file, no schema on PostgreSQL.
 */
#include <dbal/testing.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_helpers.h"

#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>

static const char *g_kind;
static char g_schema[64]; /* the run's PostgreSQL schema, checked after it */

#define FX(state) ((dbal_testing_fixture *)*(state))

static int make_table(dbal_engine *e, void *userdata)
{
    (void)userdata;
    dbal_session *s;
    if (dbal_session_open(e, &s, NULL) != DBAL_OK)
        return DBAL_ERROR;
    int rc = dbal_exec(s,
                       "CREATE TABLE kit_items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, "
                       "CONSTRAINT kit_items_name_key UNIQUE (name))",
                       DBAL_NOARGS, NULL);
    dbal_session_close(s);
    return rc;
}

static int group_setup(void **state)
{
    dbal_testing_config cfg;
    dbal_testing_config_init(&cfg);
    cfg.schema = make_table;
    int rc = dbal_testing_group_setup_with(state, &cfg);
    if (rc == 0 && FX(state)->schema)
        snprintf(g_schema, sizeof g_schema, "%s", FX(state)->schema);
    return rc;
}

static int insert(dbal_session *s, int64_t id, const char *name)
{
    return dbal_exec(s, "INSERT INTO kit_items (id, name) VALUES (?, ?)",
                     DBAL_ARGS(dbal_int64(id), dbal_text(name)), NULL);
}

/* A unit of work for dbal_transact: inserts the item named userdata,
 * with an id of its own. */
static int insert_unit(dbal_session *s, void *userdata)
{
    static int64_t next_id = 100;
    return insert(s, next_id++, userdata);
}

static void add_fault(dbal_engine *e, const char *spec, int *id)
{
    dbal_error err;
    if (dbal_testing_fault_add(e, spec, id, &err) != DBAL_OK)
        fail_msg("fault %s: %s", spec, err.message);
}

/* ---- isolation ---------------------------------------------------------------- */

/* The code under test commits, twice; the next test finds nothing. */
static void commits_are_kept_in_the_test(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    dbal_session *s = fx->session;
    OK(s, dbal_begin(s));
    OK(s, insert(s, 1, "widget"));
    OK(s, dbal_commit(s));
    assert_int_equal(dbal_tx_depth(s), 0);
    dbal_session_close(s);
    fx->session = NULL;
    dbal_error err;
    assert_int_equal(dbal_transact(fx->engine, insert_unit, "gadget", 0, &err), DBAL_OK);
    dbal_assert_rows(fx->engine, "SELECT id, name FROM kit_items ORDER BY id", DBAL_NOARGS,
                     "1|widget\n100|gadget");
}

static void commits_of_the_last_test_are_gone(void **state)
{
    dbal_assert_count(FX(state)->engine, "kit_items", 0);
}

/* PostgreSQL: another connection sees none of it, not even the schema. */
static void nothing_is_visible_outside(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    OK(fx->session, insert(fx->session, 1, "widget"));
    if (!fx->schema)
        skip();
    dbal_engine *plain;
    dbal_error err;
    assert_int_equal(dbal_engine_open(&plain, fx->url, &err), DBAL_OK);
    dbal_assert_rows(plain, "SELECT count(*) FROM pg_namespace WHERE nspname = ?",
                     DBAL_ARGS(dbal_text(fx->schema)), "0");
    dbal_engine_close(plain);
}

static void nested_levels_keep_their_meaning(void **state)
{
    dbal_session *s = FX(state)->session;
    OK(s, dbal_begin(s));
    OK(s, insert(s, 1, "a"));
    OK(s, dbal_begin(s));
    OK(s, insert(s, 2, "b"));
    OK(s, dbal_rollback(s));
    OK(s, dbal_begin(s));
    OK(s, insert(s, 3, "c"));
    OK(s, dbal_commit(s));
    OK(s, dbal_commit(s));
    OK(s, dbal_begin(s));
    OK(s, insert(s, 4, "d"));
    OK(s, dbal_rollback(s));
    dbal_session_close(s);
    FX(state)->session = NULL;
    dbal_assert_rows(FX(state)->engine, "SELECT name FROM kit_items ORDER BY id", DBAL_NOARGS, "a\nc\n");
}

/* Outside a transaction a failed statement fails alone (PostgreSQL would
 * fail the test's whole transaction without the statement's savepoint). */
static void a_failed_statement_fails_alone(void **state)
{
    dbal_session *s = FX(state)->session;
    OK(s, insert(s, 1, "a"));
    EXPECT_RC(s, insert(s, 2, "a"), DBAL_EUNIQUE);
    dbal_assert_error(dbal_session_error(s), DBAL_EUNIQUE, "23505");
    EXPECT_RC(s, dbal_exec(s, "SELECT * FROM kit_no_such_table", DBAL_NOARGS, NULL), DBAL_EUNDEFINED);
    OK(s, insert(s, 3, "b"));
    OK(s, dbal_begin(s));
    EXPECT_RC(s, insert(s, 4, "a"), DBAL_EUNIQUE);
    EXPECT_RC(s, insert(s, 5, "c"), DBAL_ETXFAILED);
    OK(s, dbal_rollback(s));
    OK(s, insert(s, 6, "d"));
    dbal_rows *r;
    OK(s, dbal_query(s, "SELECT count(*) FROM kit_items", DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_int_equal(dbal_col_int64(r, 0), 3);
    dbal_rows_close(r);
}

static void transaction_statements_are_refused(void **state)
{
    dbal_session *s = FX(state)->session;
    EXPECT_RC(s, dbal_exec(s, "COMMIT", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    EXPECT_RC(s, dbal_exec(s, "  begin", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    EXPECT_RC(s, dbal_exec(s, "ROLLBACK", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    assert_non_null(strstr(dbal_session_error(s)->message, "dbal_rollback"));
}

/* Sessions take turns on the test's connection: each sees the others'
 * work; their transactions nest, and end in the reverse order. */
static void sessions_share_the_connection(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    dbal_session *a = fx->session, *b = test_session(fx->engine);
    OK(a, insert(a, 1, "by a"));
    OK(b, dbal_begin(b));
    OK(b, insert(b, 2, "by b"));
    dbal_rows *r;
    OK(a, dbal_query(a, "SELECT count(*) FROM kit_items", DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_int_equal(dbal_col_int64(r, 0), 2);
    dbal_rows_close(r);
    OK(a, dbal_begin(a));
    OK(a, insert(a, 3, "nested in b"));
    OK(a, dbal_commit(a));
    OK(b, dbal_commit(b));

    OK(a, dbal_begin(a));
    OK(a, insert(a, 4, "a, out of order"));
    OK(b, dbal_begin(b));
    OK(b, insert(b, 5, "b, inside a"));
    EXPECT_RC(a, dbal_commit(a), DBAL_EMISUSE);
    assert_non_null(strstr(dbal_session_error(a)->message, "must end after"));
    OK(b, dbal_commit(b));
    dbal_session_close(a);
    fx->session = NULL;
    dbal_session_close(b);
    /* One connection cannot undo a's work alone: it stays (README). */
    dbal_assert_rows(fx->engine, "SELECT id FROM kit_items ORDER BY id", DBAL_NOARGS, "1\n2\n3\n4\n5");
}

static void read_only_transactions_stay_read_only(void **state)
{
    dbal_session *s = FX(state)->session;
    OK(s, dbal_begin_with(s, DBAL_TX_READ_ONLY));
    EXPECT_RC(s, insert(s, 1, "a"), DBAL_EREADONLY);
    OK(s, dbal_rollback(s));
    OK(s, dbal_begin_with(s, DBAL_TX_READ_ONLY));
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    OK(s, dbal_commit(s));
    OK(s, dbal_begin(s));
    OK(s, insert(s, 1, "a"));
    OK(s, dbal_commit(s));
    OK(s, insert(s, 2, "b"));
}

/* ---- faults ------------------------------------------------------------------- */

static void unique_violation_on_the_nth_statement(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    dbal_session *s = fx->session;
    int id;
    add_fault(fx->engine, "unique:kit_items_name_key@statement#2", &id);
    OK(s, insert(s, 1, "a"));
    EXPECT_RC(s, insert(s, 2, "b"), DBAL_EUNIQUE);
    const dbal_error *err = dbal_session_error(s);
    dbal_assert_error(err, DBAL_EUNIQUE, "23505");
    assert_string_equal(err->constraint, "kit_items_name_key");
    assert_non_null(strstr(err->message, "kit_items_name_key"));
    OK(s, insert(s, 3, "c"));
    assert_int_equal(dbal_testing_fault_fired(fx->engine, id), 1);
    assert_int_equal(dbal_testing_fault_fired(fx->engine, 0), 1);
    dbal_assert_rows(fx->engine, "SELECT id FROM kit_items ORDER BY id", DBAL_NOARGS, "1\n3");
}

static void pattern_and_count(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    dbal_session *s = fx->session;
    add_fault(fx->engine, "deadlock@statement*2~insert into KIT_ITEMS", NULL);
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    EXPECT_RC(s, insert(s, 1, "a"), DBAL_EDEADLOCK);
    dbal_assert_error(dbal_session_error(s), DBAL_EDEADLOCK, "40P01");
    EXPECT_RC(s, insert(s, 1, "a"), DBAL_EDEADLOCK);
    OK(s, insert(s, 1, "a"));
    assert_int_equal(dbal_testing_fault_fired(fx->engine, 0), 2);
    assert_int_equal(dbal_testing_fault_clear(fx->engine, NULL), DBAL_OK);
    assert_int_equal(dbal_testing_fault_fired(fx->engine, 0), 0);
}

/* dbal_transact runs the unit again after a serialization failure. */
static void serialization_failure_retried(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    int id;
    add_fault(fx->engine, "serialization@commit", &id);
    dbal_error err;
    assert_int_equal(dbal_transact(fx->engine, insert_unit, "retried", 3, &err), DBAL_OK);
    assert_int_equal(dbal_testing_fault_fired(fx->engine, id), 1);
    dbal_assert_rows(fx->engine, "SELECT name FROM kit_items", DBAL_NOARGS, "retried");

    add_fault(fx->engine, "deadlock@commit*always", &id);
    assert_int_equal(dbal_transact(fx->engine, insert_unit, "never", 2, &err), DBAL_EDEADLOCK);
    dbal_assert_error(&err, DBAL_EDEADLOCK, "40P01");
    assert_int_equal(dbal_testing_fault_fired(fx->engine, id), 3);
    dbal_assert_rows(fx->engine, "SELECT name FROM kit_items", DBAL_NOARGS, "retried");
}

/* Lost before the statement ran: the open transaction goes with the
 * connection; the test's earlier work stays. */
static void lost_before(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    dbal_session *s = fx->session;
    OK(s, insert(s, 1, "kept"));
    OK(s, dbal_begin(s));
    OK(s, insert(s, 2, "undone"));
    add_fault(fx->engine, "lost@statement", NULL);
    EXPECT_RC(s, insert(s, 3, "never"), DBAL_ECONNLOST);
    dbal_assert_error(dbal_session_error(s), DBAL_ECONNLOST, "08006");
    OK(s, dbal_rollback(s));
    OK(s, insert(s, 4, "after"));
    dbal_assert_rows(fx->engine, "SELECT name FROM kit_items ORDER BY id", DBAL_NOARGS, "kept\nafter");
}

/* Lost after it ran: an autocommit statement's effect stays; a commit
 * that is lost after it ran has committed. */
static void lost_after(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    dbal_session *s = fx->session;
    add_fault(fx->engine, "lost_after@statement", NULL);
    EXPECT_RC(s, insert(s, 1, "ran"), DBAL_ECONNLOST);
    OK(s, dbal_begin(s));
    OK(s, insert(s, 2, "committed"));
    add_fault(fx->engine, "lost_after@commit", NULL);
    EXPECT_RC(s, dbal_commit(s), DBAL_ECONNLOST);
    assert_int_equal(dbal_tx_depth(s), 0);
    OK(s, dbal_begin(s));
    OK(s, insert(s, 3, "undone"));
    add_fault(fx->engine, "lost_after@statement", NULL);
    EXPECT_RC(s, insert(s, 4, "undone too"), DBAL_ECONNLOST);
    OK(s, dbal_rollback(s));
    dbal_assert_rows(fx->engine, "SELECT name FROM kit_items ORDER BY id", DBAL_NOARGS, "ran\ncommitted");
}

static void errors_by_sqlstate(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    dbal_session *s = fx->session;
    add_fault(fx->engine, "error:42P01@statement", NULL);
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EUNDEFINED);
    dbal_assert_error(dbal_session_error(s), DBAL_EUNDEFINED, "42P01");
    add_fault(fx->engine, "timeout@statement", NULL);
    dbal_rows *r;
    EXPECT_RC(s, dbal_query(s, "SELECT 1", DBAL_NOARGS, &r), DBAL_ETIMEOUT);
    dbal_assert_error(dbal_session_error(s), DBAL_ETIMEOUT, "57014");
    add_fault(fx->engine, "busy@begin", NULL);
    EXPECT_RC(s, dbal_begin(s), DBAL_EBUSY);
    assert_int_equal(dbal_tx_depth(s), 0);
    add_fault(fx->engine, "check:kit_items_check@statement", NULL);
    int64_t id = 1;
    dbal_value rows[2] = {dbal_int64(id), dbal_text("x")};
    EXPECT_RC(s, dbal_exec_batch(s, "INSERT INTO kit_items (id, name) VALUES (?, ?)", rows, 2, 1, NULL, NULL),
              DBAL_ECHECK);
    dbal_assert_count(fx->engine, "kit_items", 0);
}

static double elapsed_since(double t0)
{
    return test_now() - t0;
}

static void *cancel_later(void *s)
{
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    dbal_session_cancel(s);
    return NULL;
}

/* A delay is a slow server: the statement timeout and a cancel end it. */
static void delays(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    dbal_session *s = fx->session;
    add_fault(fx->engine, "delay:60@statement", NULL);
    double t0 = test_now();
    OK(s, insert(s, 1, "slow"));
    assert_true(elapsed_since(t0) >= 0.055);

    add_fault(fx->engine, "delay:5000@statement", NULL);
    OK(s, dbal_session_set_timeout(s, 100));
    t0 = test_now();
    EXPECT_RC(s, insert(s, 2, "timed out"), DBAL_ETIMEOUT);
    assert_true(elapsed_since(t0) < 2.0);
    OK(s, dbal_session_set_timeout(s, 0));

    add_fault(fx->engine, "delay:5000@statement", NULL);
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, s);
    t0 = test_now();
    EXPECT_RC(s, insert(s, 3, "canceled"), DBAL_ECANCELED);
    pthread_join(t, NULL);
    assert_true(elapsed_since(t0) < 2.0);
    dbal_assert_rows(fx->engine, "SELECT name FROM kit_items", DBAL_NOARGS, "slow");
}

/* At checkout: the pool's connection is refused, a new one too; the
 * checkout after that works, and the test's work is still there. */
static void checkout_faults(void **state)
{
    dbal_testing_fixture *fx = FX(state);
    OK(fx->session, insert(fx->session, 1, "before"));
    dbal_session_close(fx->session);
    fx->session = NULL;
    add_fault(fx->engine, "refused@checkout", NULL);
    dbal_session *s = test_session(fx->engine);
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    dbal_assert_error(dbal_session_error(s), DBAL_ECONNECT, "08001");
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    add_fault(fx->engine, "pool@checkout", NULL);
    s = test_session(fx->engine);
    EXPECT_RC(s, dbal_begin(s), DBAL_EPOOLTIMEOUT);
    OK(s, insert(s, 2, "after"));
    dbal_session_close(s);
    dbal_assert_rows(fx->engine, "SELECT name FROM kit_items ORDER BY id", DBAL_NOARGS, "before\nafter");
}

static void malformed_rules(void **state)
{
    dbal_engine *e = FX(state)->engine;
    static const char *const bad[][2] = {
        {"unique", "no '@POINT'"},
        {"oops@statement", "unknown action"},
        {"unique@nowhere", "unknown point"},
        {"delay@statement", "milliseconds"},
        {"serialization:x@commit", "no argument"},
        {"lost@connect", "refused"},
        {"refused@statement", "connect and checkout"},
        {"unique@statement#0", "#N"},
        {"unique@statement*x", "*COUNT"},
        {"unique@commit~INSERT", "~TEXT"},
        {"error:abc@statement", "SQLSTATE"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dbal_error err;
        int id = -1;
        if (dbal_testing_fault_add(e, bad[i][0], &id, &err) != DBAL_EINVAL || !strstr(err.message, bad[i][1]))
            fail_msg("%s: %s, expected EINVAL saying '%s'", bad[i][0], err.message, bad[i][1]);
        assert_int_equal(id, 0);
    }
    assert_int_equal(dbal_testing_fault_fired(e, 99), -1);
    char reply[8];
    dbal_error err;
    assert_int_equal(dbal_engine_control(e, "hello", reply, sizeof reply, &err), DBAL_EINVAL);
    assert_int_equal(dbal_testing_isolate(e, &err), DBAL_EMISUSE); /* already */
}

/* ---- without the fixtures ------------------------------------------------------- */

static void faults_from_the_url(void **state)
{
    (void)state;
    dbal_engine *e;
    dbal_error err;
    assert_int_equal(
        dbal_engine_open(&e, "sqlite+testing::memory:?fault=refused@connect&fault=unique:u_key@statement#2",
                         &err),
        DBAL_OK);
    assert_string_equal(dbal_engine_driver(e), "testing");
    dbal_session *s = test_session(e);
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    OK(s, dbal_exec(s, "CREATE TABLE u (x INTEGER)", DBAL_NOARGS, NULL));
    EXPECT_RC(s, dbal_exec(s, "INSERT INTO u VALUES (1)", DBAL_NOARGS, NULL), DBAL_EUNIQUE);
    assert_string_equal(dbal_session_error(s)->constraint, "u_key");
    OK(s, dbal_exec(s, "INSERT INTO u VALUES (1)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    assert_int_equal(dbal_testing_fault_fired(e, 0), 2);
    dbal_engine_close(e);

    assert_int_equal(dbal_engine_open(&e, "sqlite+testing::memory:?fault=unique@nowhere", &err), DBAL_EURL);
    assert_non_null(strstr(err.message, "unknown point"));
    assert_int_equal(dbal_engine_open(&e, "sqlite+testing::memory:?inner=testing", &err), DBAL_EURL);
    assert_int_equal(dbal_engine_open(&e, "sqlite+testing::memory:?inner=nosuchdriver", &err),
                     DBAL_ENODRIVER);

    assert_int_equal(dbal_engine_open(&e, "sqlite::memory:", &err), DBAL_OK);
    assert_int_equal(dbal_testing_fault_add(e, "lost@commit", NULL, &err), DBAL_EUNSUPPORTED);
    assert_int_equal(dbal_testing_fault_fired(e, 0), -1);
    assert_int_equal(dbal_testing_isolate(e, &err), DBAL_EUNSUPPORTED);
    dbal_engine_close(e);
}

static void testing_urls(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(dbal_testing_url("sqlite::memory:", out, sizeof out), DBAL_OK);
    assert_string_equal(out, "sqlite+testing::memory:");
    assert_int_equal(dbal_testing_url("postgresql://u@h/db?sslmode=disable", out, sizeof out), DBAL_OK);
    assert_string_equal(out, "postgresql+testing://u@h/db?sslmode=disable");
    assert_int_equal(dbal_testing_url("sqlite+minisqlite:///t.db", out, sizeof out), DBAL_OK);
    assert_string_equal(out, "sqlite+testing:///t.db?inner=minisqlite");
    assert_int_equal(dbal_testing_url("sqlite+testing::memory:", out, sizeof out), DBAL_EURL);
    assert_int_equal(dbal_testing_url("nothing", out, sizeof out), DBAL_EURL);
    assert_int_equal(dbal_testing_url("sqlite::memory:", out, 8), DBAL_ERANGE);
    assert_string_equal(out, "");
}

static void record(void *ud, const dbal_async_result *res)
{
    *(int *)ud = res->code;
}

/* Faults reach asynchronous statements: the core runs the testing
 * driver's blocking calls on its workers. */
static void async_statements_meet_faults(void **state)
{
    (void)state;
    dbal_engine *e;
    assert_int_equal(dbal_engine_open(&e, "sqlite+testing::memory:?fault=serialization@statement~SELECT",
                                      NULL),
                     DBAL_OK);
    dbal_async *a;
    dbal_async_session *as;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    assert_int_equal(dbal_async_session_open(a, &as, NULL), DBAL_OK);
    int first = -1, second = -1;
    assert_int_equal(dbal_async_query(as, "SELECT 1", DBAL_NOARGS, record, &first, NULL), DBAL_OK);
    assert_int_equal(dbal_async_exec(as, "SELECT 2", DBAL_NOARGS, record, &second, NULL), DBAL_OK);
    for (int i = 0; i < 500 && dbal_async_pending(a) > 0; i++) {
        struct pollfd p = {.fd = dbal_async_fd(a), .events = POLLIN};
        poll(&p, 1, 20);
        dbal_async_process(a);
    }
    assert_int_equal(first, DBAL_ESERIALIZATION);
    assert_int_equal(second, DBAL_OK);
    assert_int_equal(dbal_testing_fault_fired(e, 0), 1);
    dbal_async_session_close(as);
    dbal_async_close(a);
    dbal_engine_close(e);
}

/* ---- assertions that fail ---------------------------------------------------------- */

static void failing_rows(void **state)
{
    dbal_assert_rows(FX(state)->engine, "SELECT ? || 'x', NULL", DBAL_ARGS(dbal_text("a")), "ax|NULL\nmore");
}

/* A child runs a failing assertion; its report names the SQL, the
 * parameters and both row sets. */
static void assertion_reports(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        dup2(fds[1], 1);
        const struct CMUnitTest t[] = {
            cmocka_unit_test_setup_teardown(failing_rows, dbal_testing_setup, dbal_testing_teardown)};
        _exit(
            cmocka_run_group_tests_name("failing", t, dbal_testing_group_setup, dbal_testing_group_teardown));
    }
    close(fds[1]);
    char out[8192];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof out - 1 && (got = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    static const char *const want[] = {"the rows differ", "SQL:      SELECT ? || 'x', NULL",
                                       "params:   'a'",   "expected: 2 row(s)",
                                       "    more",        "actual:   1 row(s)",
                                       "    ax|NULL",     "test_testing.c:"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(out, want[i]))
            fail_msg("the report lacks '%s':\n%s", want[i], out);
}

/* ---- the run -------------------------------------------------------------------- */

#define KIT_TEST(f) cmocka_unit_test_setup_teardown(f, dbal_testing_setup, dbal_testing_teardown)

/* What the run left: a plain engine on the URL finds no table (SQLite
 * file) and no schema (PostgreSQL). */
static int nothing_left(const char *url)
{
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, url, &err) != DBAL_OK)
        return fprintf(stderr, "cannot reopen: %s\n", err.message), 1;
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    const char *sql = g_schema[0] ? "SELECT count(*) FROM pg_namespace WHERE nspname = ?"
                                  : "SELECT count(*) FROM sqlite_master WHERE ? <> ''";
    dbal_rows *r;
    int64_t n = -1;
    if (dbal_query(s, sql, DBAL_ARGS(dbal_text(g_schema[0] ? g_schema : "x")), &r) == DBAL_OK &&
        dbal_rows_next(r) == DBAL_ROW)
        n = dbal_col_int64(r, 0);
    dbal_rows_close(r);
    dbal_session_close(s);
    dbal_engine_close(e);
    printf("%s after the run: %lld left\n", g_schema[0] ? g_schema : "the SQLite file", (long long)n);
    return n == 0 ? 0 : 1;
}

static int choose_url(const char *kind, char *file, size_t cap)
{
    if (strcmp(kind, "sqlite") == 0)
        return setenv("DBAL_TEST_URL", "sqlite::memory:", 1), 0;
    if (strcmp(kind, "sqlite-file") == 0) {
        char url[256];
        snprintf(file, cap, "/tmp/dbal-test-testing-%ld.db", (long)getpid());
        snprintf(url, sizeof url, "sqlite://%s", file);
        return setenv("DBAL_TEST_URL", url, 1), 0;
    }
    const char *pg = getenv("DBAL_TEST_PG_URL");
    if (!pg || !*pg) {
        const char *req = getenv("DBAL_TEST_REQUIRE_PG");
        fprintf(stderr, "DBAL_TEST_PG_URL is unset%s\n",
                req && *req ? " but DBAL_TEST_REQUIRE_PG is set" : "");
        return req && *req ? 1 : 77;
    }
    return setenv("DBAL_TEST_URL", pg, 1), 0;
}

int main(int argc, char **argv)
{
    g_kind = argc > 1 ? argv[1] : "sqlite";
    char file[128] = "";
    int rc = choose_url(g_kind, file, sizeof file);
    if (rc)
        return rc;
    const struct CMUnitTest kit[] = {
        KIT_TEST(commits_are_kept_in_the_test),
        KIT_TEST(commits_of_the_last_test_are_gone),
        KIT_TEST(nothing_is_visible_outside),
        KIT_TEST(nested_levels_keep_their_meaning),
        KIT_TEST(a_failed_statement_fails_alone),
        KIT_TEST(transaction_statements_are_refused),
        KIT_TEST(sessions_share_the_connection),
        KIT_TEST(read_only_transactions_stay_read_only),
        KIT_TEST(unique_violation_on_the_nth_statement),
        KIT_TEST(pattern_and_count),
        KIT_TEST(serialization_failure_retried),
        KIT_TEST(lost_before),
        KIT_TEST(lost_after),
        KIT_TEST(errors_by_sqlstate),
        KIT_TEST(delays),
        KIT_TEST(checkout_faults),
        KIT_TEST(malformed_rules),
    };
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(faults_from_the_url),
        cmocka_unit_test(testing_urls),
        cmocka_unit_test(async_statements_meet_faults),
        cmocka_unit_test(assertion_reports),
    };
    rc = cmocka_run_group_tests_name(g_kind, kit, group_setup, dbal_testing_group_teardown);
    if (strcmp(g_kind, "sqlite") == 0)
        rc |= cmocka_run_group_tests_name("without fixtures", plain, NULL, NULL);
    if (strcmp(g_kind, "sqlite") != 0)
        rc |= nothing_left(getenv("DBAL_TEST_URL"));
    if (file[0])
        unlink(file);
    return rc;
}
