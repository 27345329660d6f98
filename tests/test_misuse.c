/*
 * test_misuse.c - the API used wrongly: every call answers with its
 * documented code and a message, and nothing crashes.
 *
 *   test_misuse sqlite::memory:    SQLite
 *   test_misuse pg                 PostgreSQL at $DBAL_TEST_PG_URL; skipped (exit 77)
 *                                  when unset, unless DBAL_TEST_REQUIRE_PG=1
 *
 * Covered: NULL handles and NULL out-pointers for every public function;
 * commit/rollback without a transaction; begin with options inside one;
 * column getters with no current row, after DBAL_DONE, out of range and
 * negative; dbal_rows_next after DBAL_DONE; parameter lists with count > 0
 * and values NULL, text/blob values with a NULL pointer built by hand,
 * invalid dbal_type values (also inside batches); placeholder count
 * mismatches; huge parameter counts (70,000 and 300,000; PostgreSQL allows
 * 65,535); a closed engine (its sessions keep working, new ones are refused);
 * a session used by a second thread while another is inside a call on it.
 * Not covered, by contract: handles used after they were closed.
 *
 * A call that might crash runs in a forked child (in_child), so that one
 * crash fails one case and the rest of the suite still reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include <dbal.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *g_url;
static int g_pg;
static char g_url_buf[1024];

#define SKIP_IF_NO_DB() \
    do {                \
        if (!g_url)     \
            skip();     \
    } while (0)

/* call returns want, and the session's error says so with a message. */
#define EXPECT(s, call, want)                                                                           \
    do {                                                                                                \
        int rc_ = (call);                                                                               \
        if (rc_ != (want))                                                                              \
            fail_msg("line %d: %s returned %s, expected %s (%s)", __LINE__, #call, dbal_code_name(rc_), \
                     dbal_code_name(want), dbal_session_error(s)->message);                             \
        if (dbal_session_error(s)->code != (want))                                                      \
            fail_msg("line %d: %s: session error code %s, expected %s", __LINE__, #call,                \
                     dbal_code_name(dbal_session_error(s)->code), dbal_code_name(want));                \
        if (dbal_session_error(s)->message[0] == '\0')                                                  \
            fail_msg("line %d: %s: no message", __LINE__, #call);                                       \
    } while (0)

/* The same for calls that fill a dbal_error. */
#define EXPECT_ERR(err, call, want)                                                                     \
    do {                                                                                                \
        int rc_ = (call);                                                                               \
        if (rc_ != (want))                                                                              \
            fail_msg("line %d: %s returned %s, expected %s (%s)", __LINE__, #call, dbal_code_name(rc_), \
                     dbal_code_name(want), (err).message);                                              \
        if ((err).code != (want) || (err).message[0] == '\0')                                           \
            fail_msg("line %d: %s: error code %s, message \"%s\"", __LINE__, #call,                     \
                     dbal_code_name((err).code), (err).message);                                        \
    } while (0)

typedef struct fixture {
    dbal_engine *e;
    dbal_session *s;
} fixture;

static int setup(void **state)
{
    *state = NULL;
    if (!g_url)
        return 0;
    fixture *f = calloc(1, sizeof *f);
    dbal_error err;
    if (dbal_engine_open(&f->e, g_url, &err) != DBAL_OK || dbal_session_open(f->e, &f->s, &err) != DBAL_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    if (dbal_exec(f->s, "DROP TABLE IF EXISTS misuse", DBAL_NOARGS, NULL) != DBAL_OK ||
        dbal_exec(f->s, "CREATE TABLE misuse(id BIGINT PRIMARY KEY, name TEXT)", DBAL_NOARGS, NULL) !=
            DBAL_OK) {
        fprintf(stderr, "setup: %s\n", dbal_session_error(f->s)->message);
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
    dbal_exec(f->s, "DROP TABLE IF EXISTS misuse", DBAL_NOARGS, NULL);
    dbal_session_close(f->s);
    int rc = dbal_engine_close(f->e);
    free(f);
    return rc == DBAL_OK ? 0 : -1;
}

static int64_t count_rows(dbal_session *s)
{
    dbal_rows *r;
    int64_t n = -1;
    OK(s, dbal_query(s, "SELECT count(*) FROM misuse", DBAL_NOARGS, &r));
    if (dbal_rows_next(r) == DBAL_ROW)
        n = dbal_col_int64(r, 0);
    dbal_rows_close(r);
    return n;
}

/* The session still works. */
static void assert_usable(dbal_session *s)
{
    dbal_rows *r;
    OK(s, dbal_query(s, "SELECT 41 + 1", DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_int_equal(dbal_col_int64(r, 0), 42);
    dbal_rows_close(r);
}

/* Where a forked child leaves its answer (shared with the parent). */
static volatile int *child_answer;
#define NO_ANSWER INT_MIN

/*
 * Runs fn(arg) in a forked child and returns fn's answer. When the child
 * died of a signal: 1000 + the signal; when it exited without answering (a
 * sanitizer's report, exit(1)): 2000 + its exit status. The answer travels
 * through shared memory, not the exit status, because the child leaves with
 * _exit without closing what it shares with the parent (its connections),
 * which valgrind would count against its exit status.
 */
static int in_child(int (*fn)(void *), void *arg)
{
    fflush(stdout);
    fflush(stderr);
    *child_answer = NO_ANSWER;
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork failed");
    if (pid == 0) {
        /* cmocka catches these to report a test as failed and go on: a
         * crashing child must die of it instead */
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        *child_answer = fn(arg);
        _exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        fail_msg("waitpid failed");
    test_remove_memory_dirs(pid, NULL, 0);
    if (WIFSIGNALED(st))
        return 1000 + WTERMSIG(st);
    if (*child_answer == NO_ANSWER)
        return 2000 + WEXITSTATUS(st);
    return *child_answer;
}

/* What in_child's answer means, for messages. */
static const char *child_outcome(int st, char *buf, size_t cap)
{
    if (st >= 2000)
        snprintf(buf, cap, "exited with status %d without an answer (a sanitizer's report above?)",
                 st - 2000);
    else if (st >= 1000)
        snprintf(buf, cap, "crashed (signal %d)", st - 1000);
    else if (st == 200)
        snprintf(buf, cap, "DBAL_EINVAL without a message");
    else if (st == 201 || st == 202)
        snprintf(buf, cap, "could not set up its own %s", st == 201 ? "engine and session" : "table");
    else
        snprintf(buf, cap, "returned %s", dbal_code_name(st));
    return buf;
}

#define CHILD_EXPECT(fn, arg, want)                                                                       \
    do {                                                                                                  \
        int st_ = in_child(fn, arg);                                                                      \
        char how_[120];                                                                                   \
        if (st_ != (want))                                                                                \
            fail_msg("line %d: %s %s, expected %s", __LINE__, #fn, child_outcome(st_, how_, sizeof how_), \
                     dbal_code_name(want));                                                               \
    } while (0)

/* ------------------------------------------------------------ NULL handles */

static const struct dbal_driver *null_entry(const struct dbal_host *h)
{
    (void)h;
    return NULL;
}

static int fn_ok(dbal_session *s, void *ud)
{
    (void)s;
    (void)ud;
    return DBAL_OK;
}

static int batch_rows(void *ud, size_t row, dbal_value *values)
{
    (void)ud;
    if (row >= 2)
        return DBAL_DONE;
    values[0] = dbal_int64((int64_t)row + 100);
    values[1] = dbal_text("b");
    return DBAL_OK;
}

static int getters_all_null(void *arg)
{
    (void)arg;
    int rc[4] = {dbal_col_get_int64(NULL, 0, NULL), dbal_col_get_double(NULL, 0, NULL),
                 dbal_col_get_bool(NULL, 0, NULL), dbal_col_get_text(NULL, 0, NULL, NULL)};
    for (int i = 1; i < 4; i++)
        if (rc[i] != rc[0])
            return 250;
    return rc[0];
}

/* Calls that need no database. */
static void null_handles_no_engine(void **state)
{
    (void)state;
    dbal_error err;
    dbal_engine *e = (dbal_engine *)1;

    EXPECT_ERR(err, dbal_engine_open(NULL, "sqlite::memory:", &err), DBAL_EINVAL);
    e = (dbal_engine *)1;
    int rc = dbal_engine_open(&e, NULL, &err);
    if (rc != DBAL_EURL && rc != DBAL_EINVAL)
        fail_msg("dbal_engine_open(url NULL) = %s", dbal_code_name(rc));
    assert_null(e);
    assert_true(err.message[0] != '\0');
    e = (dbal_engine *)1;
    EXPECT_ERR(err, dbal_engine_open(&e, "", &err), DBAL_EURL);
    assert_null(e);
    assert_int_equal(dbal_engine_open(NULL, "sqlite::memory:", NULL), DBAL_EINVAL);
    assert_int_equal(dbal_engine_open(&e, NULL, NULL), rc);

    EXPECT_ERR(err, dbal_engine_open_with(NULL, "sqlite::memory:", NULL, &err), DBAL_EINVAL);
    dbal_engine_options bad;
    memset(&bad, 0, sizeof bad); /* not set up by dbal_engine_options_init */
    e = (dbal_engine *)1;
    EXPECT_ERR(err, dbal_engine_open_with(&e, "sqlite::memory:", &bad, &err), DBAL_EINVAL);
    assert_null(e);
    dbal_engine_options o;
    dbal_engine_options_init(&o);
    o.pool_size = 0;
    EXPECT_ERR(err, dbal_engine_open_with(&e, "sqlite::memory:", &o, &err), DBAL_EINVAL);
    dbal_engine_options_init(NULL);

    e = (dbal_engine *)1;
    EXPECT_ERR(err, dbal_engine_open_env(&e, NULL, NULL, &err), DBAL_EURL);
    assert_null(e);
    unsetenv("DBAL_MISUSE_UNSET_VARIABLE");
    EXPECT_ERR(err, dbal_engine_open_env(&e, "DBAL_MISUSE_UNSET_VARIABLE", NULL, &err), DBAL_EURL);
    assert_null(e);
    EXPECT_ERR(err, dbal_engine_open_env(NULL, "DBAL_MISUSE_UNSET_VARIABLE", "sqlite::memory:", &err),
               DBAL_EINVAL);
    assert_int_equal(dbal_engine_open_env(NULL, NULL, NULL, NULL), DBAL_EURL);

    assert_int_equal(dbal_engine_close(NULL), DBAL_OK);
    assert_null(dbal_engine_driver(NULL));
    char reply[8] = "x";
    EXPECT_ERR(err, dbal_engine_control(NULL, "fault clear", reply, sizeof reply, &err), DBAL_EINVAL);
    assert_string_equal(reply, "");
    assert_int_equal(dbal_engine_control(NULL, NULL, NULL, 0, NULL), DBAL_EINVAL);
    dbal_engine_stats st;
    assert_int_equal(dbal_engine_stats_get(NULL, &st), DBAL_EINVAL);
    dbal_engine_set_event_hook(NULL, NULL, NULL);

    EXPECT_ERR(err, dbal_register_driver(NULL, null_entry, &err), DBAL_EINVAL);
    EXPECT_ERR(err, dbal_register_driver("misuse", NULL, &err), DBAL_EINVAL);
    EXPECT_ERR(err, dbal_register_driver("", null_entry, &err), DBAL_EINVAL);
    EXPECT_ERR(err, dbal_register_driver("../x", null_entry, &err), DBAL_EINVAL);
    EXPECT_ERR(err, dbal_register_driver("misuse", null_entry, &err), DBAL_EDRIVER);
    assert_int_equal(dbal_register_driver(NULL, NULL, NULL), DBAL_EINVAL);

    dbal_session *s = (dbal_session *)1;
    EXPECT_ERR(err, dbal_session_open(NULL, &s, &err), DBAL_EINVAL);
    EXPECT_ERR(err, dbal_session_open_labeled(NULL, &s, "x", &err), DBAL_EINVAL);
    assert_int_equal(dbal_session_open(NULL, NULL, NULL), DBAL_EINVAL);
    dbal_session_close(NULL);
    const dbal_error *se = dbal_session_error(NULL);
    assert_non_null(se);
    assert_int_equal(se->code, DBAL_EMISUSE);
    assert_true(se->message[0] != '\0');

    assert_int_equal(dbal_session_cancel(NULL), DBAL_EMISUSE);
    assert_int_equal(dbal_session_set_timeout(NULL, 10), DBAL_EMISUSE);
    assert_int_equal(dbal_begin(NULL), DBAL_EMISUSE);
    assert_int_equal(dbal_begin_with(NULL, DBAL_TX_SERIALIZABLE), DBAL_EMISUSE);
    assert_int_equal(dbal_commit(NULL), DBAL_EMISUSE);
    assert_int_equal(dbal_rollback(NULL), DBAL_EMISUSE);
    assert_int_equal(dbal_tx_depth(NULL), 0);
    int64_t n = 5;
    assert_int_equal(dbal_exec(NULL, "SELECT 1", DBAL_NOARGS, &n), DBAL_EMISUSE);
    dbal_rows *r = (dbal_rows *)1;
    assert_int_equal(dbal_query(NULL, "SELECT 1", DBAL_NOARGS, &r), DBAL_EMISUSE);
    assert_int_equal(dbal_query(NULL, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    dbal_value rows[2] = {dbal_int64(1), dbal_int64(2)};
    size_t failed = 0;
    assert_int_equal(dbal_exec_batch(NULL, "SELECT ?", rows, 1, 2, &n, &failed), DBAL_EMISUSE);
    assert_int_equal(failed, (size_t)-1);
    assert_int_equal(dbal_exec_batch_fn(NULL, "SELECT ?", 1, batch_rows, NULL, &n, &failed), DBAL_EMISUSE);
    assert_int_equal(dbal_exec_batch_fn(NULL, "SELECT ?", 1, NULL, NULL, NULL, NULL), DBAL_EMISUSE);
    assert_int_equal(dbal_last_insert_id(NULL, &n), DBAL_EMISUSE);
    assert_int_equal(dbal_last_insert_id(NULL, NULL), DBAL_EMISUSE);
    EXPECT_ERR(err, dbal_transact(NULL, fn_ok, NULL, 0, &err), DBAL_EINVAL);
    assert_int_equal(dbal_transact(NULL, NULL, NULL, 0, NULL), DBAL_EINVAL);

    assert_int_equal(dbal_rows_next(NULL), DBAL_EMISUSE);
    dbal_rows_close(NULL);
    assert_int_equal(dbal_col_count(NULL), 0);
    assert_null(dbal_col_name(NULL, 0));
    assert_int_equal(dbal_col_type(NULL, 0), DBAL_TYPE_NULL);
    assert_true(dbal_col_is_null(NULL, 0));
    assert_int_equal(dbal_col_int64(NULL, 0), 0);
    assert_true(dbal_col_double(NULL, 0) == 0.0);
    assert_int_equal(dbal_col_bool(NULL, 0), 0);
    assert_null(dbal_col_text(NULL, 0));
    size_t len = 99;
    assert_null(dbal_col_blob(NULL, 0, &len));
    assert_int_equal(len, 0);
    assert_null(dbal_col_blob(NULL, 0, NULL));
    assert_int_equal(dbal_col_bytes(NULL, 0), 0);
    int64_t i64;
    double d;
    int b;
    const char *t;
    assert_int_equal(dbal_col_get_int64(NULL, 0, &i64), DBAL_EMISUSE);
    assert_int_equal(dbal_col_get_double(NULL, 0, &d), DBAL_EMISUSE);
    assert_int_equal(dbal_col_get_bool(NULL, 0, &b), DBAL_EMISUSE);
    assert_int_equal(dbal_col_get_text(NULL, 0, &t, &len), DBAL_EMISUSE);
    /* both NULL: the cursor is what is missing */
    CHILD_EXPECT(getters_all_null, NULL, DBAL_EMISUSE);

    assert_string_equal(dbal_strerror(-1), "unknown error code");
    assert_string_equal(dbal_strerror(99999), "unknown error code");
    assert_string_equal(dbal_code_name(INT_MIN), "DBAL_UNKNOWN");
    assert_string_equal(dbal_code_name(DBAL_EMISUSE), "DBAL_EMISUSE");
    char q[8];
    assert_int_equal(dbal_quote_ident(NULL, q, sizeof q), DBAL_EINVAL);
    assert_int_equal(dbal_quote_ident("x", NULL, 0), DBAL_EINVAL);
    dbal_set_log(NULL, NULL); /* silences; set back below */
    dbal_set_log(NULL, NULL);
    assert_non_null(dbal_version());
    assert_int_equal(dbal_version_number(), DBAL_VERSION_NUMBER);
}

/* NULL out-pointers and NULL SQL on real handles. */
static void null_arguments_on_a_session(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    dbal_error err;
    EXPECT_ERR(err, dbal_session_open(f->e, NULL, &err), DBAL_EINVAL);
    EXPECT_ERR(err, dbal_session_open_labeled(f->e, NULL, "label", &err), DBAL_EINVAL);
    dbal_session *s2;
    OK(NULL, dbal_session_open_labeled(f->e, &s2, NULL, &err)); /* no label is fine */
    dbal_session_close(s2);
    char longlabel[300];
    memset(longlabel, 'L', sizeof longlabel - 1);
    longlabel[sizeof longlabel - 1] = '\0';
    OK(NULL, dbal_session_open_labeled(f->e, &s2, longlabel, &err)); /* cut to 63 bytes */
    OK(s2, dbal_exec(s2, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(s2);
    assert_int_equal(dbal_engine_stats_get(f->e, NULL), DBAL_EINVAL);

    int64_t n = 5;
    EXPECT(f->s, dbal_exec(f->s, NULL, DBAL_NOARGS, &n), DBAL_EINVAL);
    assert_int_equal(n, 0);
    dbal_rows *r = (dbal_rows *)1;
    EXPECT(f->s, dbal_query(f->s, NULL, DBAL_NOARGS, &r), DBAL_EINVAL);
    assert_null(r);
    EXPECT(f->s, dbal_query(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EINVAL);
    EXPECT(f->s, dbal_last_insert_id(f->s, NULL), DBAL_EINVAL);
    size_t failed = 0;
    dbal_value rows[2] = {dbal_int64(1), dbal_text("a")};
    EXPECT(f->s, dbal_exec_batch(f->s, NULL, rows, 2, 1, &n, &failed), DBAL_EINVAL);
    assert_int_equal(failed, (size_t)-1);
    EXPECT(f->s, dbal_exec_batch(f->s, "INSERT INTO misuse(id, name) VALUES (?, ?)", NULL, 2, 3, &n, &failed),
           DBAL_EINVAL);
    assert_int_equal(failed, (size_t)-1);
    EXPECT(f->s,
           dbal_exec_batch_fn(f->s, "INSERT INTO misuse(id, name) VALUES (?, ?)", 2, NULL, NULL, &n, &failed),
           DBAL_EINVAL);
    EXPECT(f->s, dbal_exec_batch_fn(f->s, NULL, 2, batch_rows, NULL, &n, &failed), DBAL_EINVAL);
    EXPECT(f->s, dbal_session_set_timeout(f->s, -1), DBAL_EINVAL);
    EXPECT_ERR(err, dbal_transact(f->e, NULL, NULL, 0, &err), DBAL_EINVAL);
    /* optional out-pointers really are optional */
    OK(f->s, dbal_exec(f->s, "INSERT INTO misuse(id, name) VALUES (1, 'x')", DBAL_NOARGS, NULL));
    OK(f->s, dbal_exec_batch(f->s, "INSERT INTO misuse(id, name) VALUES (?, ?)",
                             (dbal_value[]){dbal_int64(2), dbal_text("y")}, 2, 1, NULL, NULL));
    OK(f->s, dbal_exec_batch_fn(f->s, "INSERT INTO misuse(id, name) VALUES (?, ?)", 2, batch_rows, NULL, NULL,
                                NULL));
    assert_int_equal(count_rows(f->s), 4);
    assert_usable(f->s);
}

/* The dbal_col_get_* out-pointers: the header allows no NULL, so a NULL
 * must be DBAL_EINVAL, not a crash. */
typedef struct colget_ctx {
    dbal_rows *r;
    int which;
} colget_ctx;

static int colget_null_out(void *arg)
{
    colget_ctx *c = arg;
    size_t len;
    switch (c->which) {
    case 0: return dbal_col_get_int64(c->r, 0, NULL);
    case 1: return dbal_col_get_double(c->r, 0, NULL);
    case 2: return dbal_col_get_bool(c->r, 0, NULL);
    default: return dbal_col_get_text(c->r, 0, NULL, &len);
    }
}

static void null_out_pointers_of_getters(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    dbal_rows *r;
    OK(f->s, dbal_query(f->s, "SELECT 1", DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    for (int which = 0; which < 4; which++) {
        colget_ctx c = {r, which};
        CHILD_EXPECT(colget_null_out, &c, DBAL_EINVAL);
    }
    /* len is optional for dbal_col_get_text */
    const char *t = NULL;
    OK(f->s, dbal_col_get_text(r, 0, &t, NULL));
    assert_string_equal(t, "1");
    dbal_rows_close(r);
}

/* ------------------------------------------------------------ transactions */

static void tx_misuse(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    dbal_session *s = f->s;
    EXPECT(s, dbal_commit(s), DBAL_EMISUSE);
    EXPECT(s, dbal_rollback(s), DBAL_EMISUSE);
    assert_int_equal(dbal_tx_depth(s), 0);
    assert_usable(s);

    OK(s, dbal_begin(s));
    OK(s, dbal_exec(s, "INSERT INTO misuse(id, name) VALUES (1, 'a')", DBAL_NOARGS, NULL));
    /* options on a nested begin */
    static const unsigned opts[] = {DBAL_TX_SERIALIZABLE,
                                    DBAL_TX_READ_ONLY,
                                    DBAL_TX_READ_COMMITTED,
                                    DBAL_TX_DEFERRABLE | DBAL_TX_SERIALIZABLE | DBAL_TX_READ_ONLY,
                                    0x80u,
                                    0xffffffffu};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        EXPECT(s, dbal_begin_with(s, opts[i]), DBAL_EMISUSE);
        assert_int_equal(dbal_tx_depth(s), 1);
    }
    /* ... does not fail the transaction: it is a misuse, nothing was sent */
    OK(s, dbal_exec(s, "INSERT INTO misuse(id, name) VALUES (2, 'b')", DBAL_NOARGS, NULL));
    OK(s, dbal_begin(s)); /* a plain nested begin is a savepoint */
    assert_int_equal(dbal_tx_depth(s), 2);
    EXPECT(s, dbal_begin_with(s, DBAL_TX_SERIALIZABLE), DBAL_EMISUSE);
    assert_int_equal(dbal_tx_depth(s), 2);
    OK(s, dbal_commit(s));
    OK(s, dbal_commit(s));
    assert_int_equal(dbal_tx_depth(s), 0);
    EXPECT(s, dbal_commit(s), DBAL_EMISUSE);
    EXPECT(s, dbal_rollback(s), DBAL_EMISUSE);
    assert_int_equal(count_rows(s), 2);

    /* more rollbacks than begins */
    OK(s, dbal_begin(s));
    OK(s, dbal_begin(s));
    OK(s, dbal_rollback(s));
    OK(s, dbal_rollback(s));
    EXPECT(s, dbal_rollback(s), DBAL_EMISUSE);
    assert_usable(s);
}

/* Options that are no DBAL_TX_* value are an invalid argument on every
 * driver, not silently a default transaction. */
static void tx_unknown_options(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    dbal_session *s = f->s;
    static const unsigned bad[] = {0x80u, 0x100u, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = dbal_begin_with(s, bad[i]);
        if (rc == DBAL_OK) {
            dbal_rollback(s);
            fail_msg("dbal_begin_with(0x%x) began a transaction; expected DBAL_EINVAL (or DBAL_EUNSUPPORTED)",
                     bad[i]);
        }
        if (rc != DBAL_EINVAL && rc != DBAL_EUNSUPPORTED)
            fail_msg("dbal_begin_with(0x%x) = %s", bad[i], dbal_code_name(rc));
        assert_true(dbal_session_error(s)->message[0] != '\0');
        assert_int_equal(dbal_tx_depth(s), 0);
    }
    /* two isolation levels at once */
    int rc = dbal_begin_with(s, DBAL_TX_READ_COMMITTED | DBAL_TX_SERIALIZABLE);
    if (rc == DBAL_OK)
        fail_msg("two isolation levels at once began a transaction");
    assert_true(dbal_session_error(s)->message[0] != '\0');
    assert_int_equal(dbal_tx_depth(s), 0);
    assert_usable(s);
}

/* ------------------------------------------------------------ cursors */

static void rows_misuse(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    dbal_session *s = f->s;
    OK(s, dbal_exec(s, "INSERT INTO misuse(id, name) VALUES (1, 'one')", DBAL_NOARGS, NULL));
    dbal_rows *r;
    OK(s, dbal_query(s, "SELECT id AS a, name AS b FROM misuse", DBAL_NOARGS, &r));
    assert_int_equal(dbal_col_count(r), 2);
    assert_string_equal(dbal_col_name(r, 0), "a"); /* names need no row */
    assert_string_equal(dbal_col_name(r, 1), "b");
    assert_null(dbal_col_name(r, 2));
    assert_null(dbal_col_name(r, -1));
    assert_null(dbal_col_name(r, INT_MAX));
    assert_null(dbal_col_name(r, INT_MIN));

    /* no current row yet */
    int64_t i64 = 77;
    double d = 7.5;
    int b = 7;
    const char *t = "x";
    size_t len = 9;
    EXPECT(s, dbal_col_get_int64(r, 0, &i64), DBAL_EMISUSE);
    EXPECT(s, dbal_col_get_double(r, 0, &d), DBAL_EMISUSE);
    EXPECT(s, dbal_col_get_bool(r, 0, &b), DBAL_EMISUSE);
    EXPECT(s, dbal_col_get_text(r, 1, &t, &len), DBAL_EMISUSE);
    assert_null(t);
    assert_int_equal(dbal_col_int64(r, 0), 0);
    assert_null(dbal_col_text(r, 1));
    assert_true(dbal_col_is_null(r, 0));
    assert_int_equal(dbal_col_type(r, 0), DBAL_TYPE_NULL);
    assert_int_equal(dbal_session_error(s)->code, DBAL_EMISUSE);
    assert_null(dbal_col_blob(r, 1, &len));
    assert_int_equal(len, 0);
    assert_int_equal(dbal_col_bytes(r, 1), 0);

    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    /* out of range and negative */
    static const int bad_cols[] = {2, 3, -1, -2, INT_MAX, INT_MIN, 1000000};
    for (size_t k = 0; k < sizeof bad_cols / sizeof bad_cols[0]; k++) {
        int c = bad_cols[k];
        EXPECT(s, dbal_col_get_int64(r, c, &i64), DBAL_EINVAL);
        EXPECT(s, dbal_col_get_double(r, c, &d), DBAL_EINVAL);
        EXPECT(s, dbal_col_get_bool(r, c, &b), DBAL_EINVAL);
        EXPECT(s, dbal_col_get_text(r, c, &t, &len), DBAL_EINVAL);
        assert_int_equal(dbal_col_int64(r, c), 0);
        assert_true(dbal_col_double(r, c) == 0.0);
        assert_int_equal(dbal_col_bool(r, c), 0);
        assert_null(dbal_col_text(r, c));
        assert_null(dbal_col_blob(r, c, &len));
        assert_int_equal(len, 0);
        assert_int_equal(dbal_col_bytes(r, c), 0);
        assert_true(dbal_col_is_null(r, c));
        assert_int_equal(dbal_col_type(r, c), DBAL_TYPE_NULL);
        assert_int_equal(dbal_session_error(s)->code, DBAL_EINVAL);
        assert_true(dbal_session_error(s)->message[0] != '\0');
    }
    /* the row is still fine */
    assert_int_equal(dbal_col_int64(r, 0), 1);
    assert_string_equal(dbal_col_text(r, 1), "one");
    /* a conversion that cannot be made */
    EXPECT(s, dbal_col_get_int64(r, 1, &i64), DBAL_ETYPE);
    EXPECT(s, dbal_col_get_bool(r, 1, &b), DBAL_ETYPE);

    assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    /* after DONE: no current row, and DONE again, however often */
    EXPECT(s, dbal_col_get_int64(r, 0, &i64), DBAL_EMISUSE);
    EXPECT(s, dbal_col_get_text(r, 1, &t, &len), DBAL_EMISUSE);
    assert_null(dbal_col_text(r, 1));
    EXPECT(s, dbal_col_get_int64(r, 5, &i64), DBAL_EINVAL);
    for (int k = 0; k < 5; k++)
        assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    EXPECT(s, dbal_col_get_int64(r, 0, &i64), DBAL_EMISUSE);
    dbal_rows_close(r);

    /* a query without rows */
    OK(s, dbal_query(s, "SELECT id FROM misuse WHERE id < 0", DBAL_NOARGS, &r));
    for (int k = 0; k < 3; k++)
        assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    EXPECT(s, dbal_col_get_int64(r, 0, &i64), DBAL_EMISUSE);
    dbal_rows_close(r);

    /* a statement without columns, run as a query */
    OK(s, dbal_query(s, "UPDATE misuse SET name = 'uno' WHERE id = 1", DBAL_NOARGS, &r));
    assert_int_equal(dbal_col_count(r), 0);
    assert_null(dbal_col_name(r, 0));
    assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    EXPECT(s, dbal_col_get_int64(r, 0, &i64), DBAL_EINVAL);
    dbal_rows_close(r);

    /* a cursor left open is closed by the session; the fixture closes it */
    OK(s, dbal_query(s, "SELECT id FROM misuse", DBAL_NOARGS, &r));
    assert_usable(s);
}

/* ------------------------------------------------------------ parameters */

static const char INSERT2[] = "INSERT INTO misuse(id, name) VALUES (?, ?)";

static void params_misuse(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    dbal_session *s = f->s;
    dbal_rows *r = (dbal_rows *)1;

    /* count > 0, values NULL */
    dbal_params p = {NULL, 2};
    EXPECT(s, dbal_exec(s, INSERT2, p, NULL), DBAL_EINVAL);
    EXPECT(s, dbal_query(s, "SELECT ?, ?", p, &r), DBAL_EINVAL);
    assert_null(r);
    p.count = SIZE_MAX;
    EXPECT(s, dbal_exec(s, INSERT2, p, NULL), DBAL_EINVAL);

    /* text and blob with a NULL pointer, built by hand */
    dbal_value v[2];
    v[0] = dbal_int64(1);
    v[1].type = DBAL_TYPE_TEXT;
    v[1].len = 5;
    v[1].u.s = NULL;
    EXPECT(s, dbal_exec(s, INSERT2, dbal_params_array(v, 2), NULL), DBAL_EINVAL);
    EXPECT(s, dbal_query(s, "SELECT ?, ?", dbal_params_array(v, 2), &r), DBAL_EINVAL);
    v[1].len = 0;
    EXPECT(s, dbal_exec(s, INSERT2, dbal_params_array(v, 2), NULL), DBAL_EINVAL);
    v[1].type = DBAL_TYPE_BLOB;
    v[1].len = 3;
    v[1].u.p = NULL;
    EXPECT(s, dbal_exec(s, INSERT2, dbal_params_array(v, 2), NULL), DBAL_EINVAL);

    /* invalid types */
    static const int bad_types[] = {13, 14, 99, -1, INT_MAX, INT_MIN};
    for (size_t k = 0; k < sizeof bad_types / sizeof bad_types[0]; k++) {
        memset(&v[1], 0, sizeof v[1]);
        v[1].type = (dbal_type)bad_types[k];
        v[1].u.i = 12345; /* not a pointer */
        v[1].len = 8;
        EXPECT(s, dbal_exec(s, INSERT2, dbal_params_array(v, 2), NULL), DBAL_EINVAL);
        EXPECT(s, dbal_query(s, "SELECT ?, ?", dbal_params_array(v, 2), &r), DBAL_EINVAL);
    }

    /* placeholder count mismatch: DBAL_EMISUSE before anything is sent */
    EXPECT(s, dbal_exec(s, INSERT2, DBAL_ARGS(dbal_int64(1)), NULL), DBAL_EMISUSE);
    EXPECT(s, dbal_exec(s, INSERT2, DBAL_ARGS(dbal_int64(1), dbal_text("a"), dbal_null()), NULL),
           DBAL_EMISUSE);
    EXPECT(s, dbal_exec(s, "SELECT 1", DBAL_ARGS(dbal_int64(1)), NULL), DBAL_EMISUSE);
    EXPECT(s, dbal_query(s, "SELECT ?", DBAL_NOARGS, &r), DBAL_EMISUSE);
    assert_null(r);
    EXPECT(s, dbal_exec(s, "SELECT '?', ?", DBAL_ARGS(dbal_int64(1), dbal_int64(2)), NULL), DBAL_EMISUSE);

    /* none of that inserted anything, or failed a transaction */
    assert_int_equal(count_rows(s), 0);
    OK(s, dbal_begin(s));
    EXPECT(s, dbal_exec(s, INSERT2, (dbal_params){NULL, 2}, NULL), DBAL_EINVAL);
    EXPECT(s, dbal_exec(s, INSERT2, DBAL_ARGS(dbal_int64(1)), NULL), DBAL_EMISUSE);
    OK(s, dbal_exec(s, INSERT2, DBAL_ARGS(dbal_int64(1), dbal_text("a")), NULL));
    OK(s, dbal_commit(s));
    assert_int_equal(count_rows(s), 1);
    assert_usable(s);
}

/* The same checks for the values of a batch (array and callback forms). */
typedef struct batch_ctx {
    dbal_session *s;
    int kind; /* 0: text NULL pointer, 1: blob NULL pointer, 2: bad type, 3: negative type */
    int callback;
} batch_ctx;

static void bad_value(dbal_value *v, int kind)
{
    memset(v, 0, sizeof *v);
    switch (kind) {
    case 0:
        v->type = DBAL_TYPE_TEXT;
        v->len = 5;
        v->u.s = NULL;
        break;
    case 1:
        v->type = DBAL_TYPE_BLOB;
        v->len = 5;
        v->u.p = NULL;
        break;
    case 2:
        v->type = (dbal_type)99;
        v->len = 8;
        v->u.i = 12345;
        break;
    default:
        v->type = (dbal_type)-1;
        v->len = 8;
        v->u.i = 12345;
        break;
    }
}

static int bad_batch_rows(void *ud, size_t row, dbal_value *values)
{
    batch_ctx *c = ud;
    if (row >= 3)
        return DBAL_DONE;
    values[0] = dbal_int64((int64_t)row + 10);
    if (row == 1)
        bad_value(&values[1], c->kind);
    else
        values[1] = dbal_text("ok");
    return DBAL_OK;
}

/* In the child: a connection of its own (the parent's socket must not
 * carry anything the child sends), the table made if this is a fresh
 * in-memory database. */
static int run_bad_batch(void *arg)
{
    batch_ctx *c = arg;
    size_t failed = 0;
    int rc;
    dbal_engine *e;
    if (dbal_engine_open(&e, g_url, NULL) != DBAL_OK || dbal_session_open(e, &c->s, NULL) != DBAL_OK)
        return 201;
    if (dbal_exec(c->s, "CREATE TABLE IF NOT EXISTS misuse(id BIGINT PRIMARY KEY, name TEXT)", DBAL_NOARGS,
                  NULL) != DBAL_OK ||
        dbal_exec(c->s, "DELETE FROM misuse", DBAL_NOARGS, NULL) != DBAL_OK)
        return 202;
    if (c->callback) {
        rc = dbal_exec_batch_fn(c->s, INSERT2, 2, bad_batch_rows, c, NULL, &failed);
    } else {
        dbal_value rows[6] = {dbal_int64(10), dbal_text("ok"), dbal_int64(11),
                              dbal_null(),    dbal_int64(12),  dbal_text("ok")};
        bad_value(&rows[3], c->kind);
        rc = dbal_exec_batch(c->s, INSERT2, rows, 2, 3, NULL, &failed);
    }
    if (rc == DBAL_EINVAL && dbal_session_error(c->s)->message[0] == '\0')
        rc = 200;                                             /* no message */
    dbal_exec(c->s, "DELETE FROM misuse", DBAL_NOARGS, NULL); /* what a wrongly accepted batch inserted */
    dbal_session_close(c->s);
    dbal_engine_close(e);
    return rc;
}

static void params_misuse_in_batches(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    static const char *const kinds[] = {"a text with a NULL pointer", "a blob with a NULL pointer",
                                        "dbal_type 99", "dbal_type -1"};
    char report[2048] = "";
    for (int callback = 0; callback < 2; callback++) {
        for (int kind = 0; kind < 4; kind++) {
            batch_ctx c = {f->s, kind, callback};
            int st = in_child(run_bad_batch, &c);
            if (st == DBAL_EINVAL)
                continue;
            char line[300], how[120];
            snprintf(line, sizeof line, "\n  %s form, row 1 has %s: %s", callback ? "callback" : "array",
                     kinds[kind], child_outcome(st, how, sizeof how));
            strncat(report, line, sizeof report - strlen(report) - 1);
        }
    }
    if (report[0])
        fail_msg("batches with invalid values must fail with DBAL_EINVAL, as dbal_exec does:%s", report);
    /* batch placeholder mismatch: EMISUSE, nothing inserted */
    dbal_value rows[3] = {dbal_int64(1), dbal_int64(2), dbal_int64(3)};
    size_t failed = 0;
    int rc = dbal_exec_batch(f->s, INSERT2, rows, 1, 3, NULL, &failed);
    if (rc != DBAL_EMISUSE)
        fail_msg("a batch with 1 value per row for 2 placeholders: %s", dbal_code_name(rc));
    assert_true(dbal_session_error(f->s)->message[0] != '\0');
    assert_int_equal(count_rows(f->s), 0);
    assert_usable(f->s);
}

/* "SELECT ? IN (?, ?, ...)": n placeholders, true when the first value is
 * among the others. */
static char *in_list_sql(size_t n)
{
    char *sql = malloc(3 * n + 32);
    char *p = sql + sprintf(sql, "SELECT ? IN (");
    for (size_t i = 1; i < n; i++)
        p += sprintf(p, i > 1 ? ",?" : "?");
    strcpy(p, ")");
    return sql;
}

static void params_huge_counts(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    dbal_session *s = f->s;
    size_t sizes[] = {g_pg ? 65535 : 32766, 65536, 70000, 300000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        char *sql = in_list_sql(n);
        dbal_value *v = malloc(n * sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = dbal_int64((int64_t)(i == 0 ? n - 1 : i));
        dbal_rows *r = NULL;
        int rc = dbal_query(s, sql, dbal_params_array(v, n), &r);
        /* PostgreSQL takes at most 65535 parameters; SQLite's limit is a
         * build option (32766 by default, 250000 in Debian's build), so
         * there a count within the limit works and one beyond fails. */
        int must_fail = g_pg ? n > 65535 : n > 250000;
        int must_work = g_pg ? n <= 65535 : n <= 32766;
        if (rc == DBAL_OK) {
            if (must_fail)
                fail_msg("%zu parameters were accepted", n);
            assert_int_equal(dbal_rows_next(r), DBAL_ROW);
            assert_int_equal(dbal_col_bool(r, 0), 1);
            dbal_rows_close(r);
        } else {
            if (must_work)
                fail_msg("%zu parameters: %s: %s", n, dbal_code_name(rc), dbal_session_error(s)->message);
            assert_null(r);
            assert_true(dbal_session_error(s)->message[0] != '\0');
            if (rc == DBAL_ENOMEM || rc == DBAL_ECONNLOST)
                fail_msg("%zu parameters: %s (%s)", n, dbal_code_name(rc), dbal_session_error(s)->message);
        }
        /* exec and a batch of two such rows answer alike */
        int rc2 = dbal_exec(s, sql, dbal_params_array(v, n), NULL);
        assert_int_equal(rc2 == DBAL_OK, rc == DBAL_OK);
        if (rc2 != DBAL_OK)
            assert_true(dbal_session_error(s)->message[0] != '\0');
        dbal_value *two = malloc(2 * n * sizeof *two);
        memcpy(two, v, n * sizeof *v);
        memcpy(two + n, v, n * sizeof *v);
        size_t failed = 7;
        int rc3 = dbal_exec_batch(s, sql, two, n, 2, NULL, &failed);
        assert_int_equal(rc3 == DBAL_OK, rc == DBAL_OK);
        if (rc3 != DBAL_OK)
            assert_true(dbal_session_error(s)->message[0] != '\0');
        free(two);
        free(v);
        free(sql);
        assert_usable(s);
        assert_int_equal(dbal_tx_depth(s), 0);
    }
}

/* ------------------------------------------------------------ closed engine */

static void closed_engine(void **state)
{
    SKIP_IF_NO_DB();
    (void)state;
    dbal_engine *e;
    dbal_error err;
    OK(NULL, dbal_engine_open(&e, g_url, &err));
    dbal_session *holder, *idle, *in_tx;
    OK(NULL, dbal_session_open(e, &holder, &err));
    OK(NULL, dbal_session_open(e, &idle, &err));
    OK(NULL, dbal_session_open(e, &in_tx, &err));
    OK(holder, dbal_exec(holder, "DROP TABLE IF EXISTS misuse_closed", DBAL_NOARGS, NULL));
    OK(holder, dbal_exec(holder, "CREATE TABLE misuse_closed(id BIGINT)", DBAL_NOARGS, NULL));
    dbal_rows *open_cursor;
    OK(holder, dbal_query(holder, "SELECT 1 UNION ALL SELECT 2", DBAL_NOARGS, &open_cursor));
    /* (on SQLite a transaction takes the write lock at begin: in_tx writes
     * and commits before holder writes again) */
    OK(in_tx, dbal_begin(in_tx));
    OK(in_tx, dbal_exec(in_tx, "SELECT 1", DBAL_NOARGS, NULL));

    assert_int_equal(dbal_engine_close(e), DBAL_EMISUSE);

    /* sessions holding a connection go on: statements, cursors, transactions */
    OK(in_tx, dbal_exec(in_tx, "INSERT INTO misuse_closed VALUES (5)", DBAL_NOARGS, NULL));
    OK(in_tx, dbal_commit(in_tx));
    assert_int_equal(dbal_rows_next(open_cursor), DBAL_ROW);
    assert_int_equal(dbal_rows_next(open_cursor), DBAL_ROW);
    assert_int_equal(dbal_rows_next(open_cursor), DBAL_DONE);
    dbal_rows_close(open_cursor);
    OK(holder, dbal_exec(holder, "INSERT INTO misuse_closed VALUES (1)", DBAL_NOARGS, NULL));
    OK(holder, dbal_begin(holder));
    OK(holder, dbal_exec(holder, "INSERT INTO misuse_closed VALUES (2)", DBAL_NOARGS, NULL));
    OK(holder, dbal_commit(holder));
    dbal_value rows[2] = {dbal_int64(3), dbal_int64(4)};
    OK(holder, dbal_exec_batch(holder, "INSERT INTO misuse_closed VALUES (?)", rows, 1, 2, NULL, NULL));
    dbal_rows *r;
    OK(holder, dbal_query(holder, "SELECT count(*) FROM misuse_closed", DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_int_equal(dbal_col_int64(r, 0), 5);
    dbal_rows_close(r);
    assert_non_null(dbal_engine_driver(e));
    /* the in-tree drivers take no commands */
    dbal_error cerr;
    assert_int_equal(dbal_engine_control(e, "fault clear", NULL, 0, &cerr), DBAL_EUNSUPPORTED);
    assert_string_equal(cerr.sqlstate, "0A000");
    assert_int_equal(dbal_engine_control(e, NULL, NULL, 0, &cerr), DBAL_EINVAL);

    /* a session without a connection is refused, with a message, every time */
    EXPECT(idle, dbal_exec(idle, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    r = (dbal_rows *)1;
    EXPECT(idle, dbal_query(idle, "SELECT 1", DBAL_NOARGS, &r), DBAL_EMISUSE);
    assert_null(r);
    EXPECT(idle, dbal_begin(idle), DBAL_EMISUSE);
    assert_int_equal(dbal_tx_depth(idle), 0);
    EXPECT(idle, dbal_exec_batch(idle, "INSERT INTO misuse_closed VALUES (?)", rows, 1, 2, NULL, NULL),
           DBAL_EMISUSE);
    EXPECT(idle, dbal_exec(idle, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EMISUSE);

    /* no new session, no unit of work */
    dbal_session *late = (dbal_session *)1;
    EXPECT_ERR(err, dbal_session_open(e, &late, &err), DBAL_EMISUSE);
    assert_null(late);
    EXPECT_ERR(err, dbal_session_open_labeled(e, &late, "late", &err), DBAL_EMISUSE);
    EXPECT_ERR(err, dbal_transact(e, fn_ok, NULL, 3, &err), DBAL_EMISUSE);
    dbal_engine_stats st;
    assert_int_equal(dbal_engine_stats_get(e, &st), DBAL_OK);
    assert_int_equal(st.idle, 0);

    OK(holder, dbal_exec(holder, "DROP TABLE misuse_closed", DBAL_NOARGS, NULL));
    dbal_session_close(idle);
    dbal_session_close(in_tx);
    dbal_session_close(holder); /* the last one frees the engine */
}

/* Closing the engine while only sessions without connections are open. */
static void closed_engine_idle_sessions_only(void **state)
{
    SKIP_IF_NO_DB();
    (void)state;
    dbal_engine *e;
    dbal_error err;
    OK(NULL, dbal_engine_open(&e, g_url, &err));
    dbal_session *a, *b;
    OK(NULL, dbal_session_open(e, &a, &err));
    OK(a, dbal_exec(a, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(a); /* its connection is idle in the pool now */
    OK(NULL, dbal_session_open(e, &b, &err));
    assert_int_equal(dbal_engine_close(e), DBAL_EMISUSE);
    EXPECT(b, dbal_exec(b, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    EXPECT(b, dbal_last_insert_id(b, &(int64_t){0}), DBAL_EMISUSE);
    dbal_session_close(b);
}

/* ------------------------------------------------------------ cancel, timeout */

/* A cancel with nothing running has no effect (dbal.h), also not on the
 * next statement; odd timeouts are accepted or refused, never crash. */
static void cancel_and_timeout_when_idle(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    dbal_error err;
    dbal_session *s;
    OK(NULL, dbal_session_open(f->e, &s, &err));
    assert_int_equal(dbal_session_cancel(s), DBAL_OK); /* no connection yet */
    assert_usable(s);
    assert_int_equal(dbal_session_cancel(s), DBAL_OK); /* connection idle */
    assert_int_equal(dbal_session_cancel(s), DBAL_OK);
    assert_usable(s);
    OK(s, dbal_begin(s));
    assert_int_equal(dbal_session_cancel(s), DBAL_OK);
    OK(s, dbal_exec(s, "INSERT INTO misuse(id, name) VALUES (1, 'a')", DBAL_NOARGS, NULL));
    OK(s, dbal_commit(s));
    EXPECT(s, dbal_session_set_timeout(s, -5), DBAL_EINVAL);
    EXPECT(s, dbal_session_set_timeout(s, INT_MIN), DBAL_EINVAL);
    OK(s, dbal_session_set_timeout(s, INT_MAX));
    assert_usable(s);
    OK(s, dbal_session_set_timeout(s, 0));
    assert_usable(s);
    dbal_session_close(s);
    assert_int_equal(count_rows(f->s), 1);
}

/* ------------------------------------------------------ two threads at once */

typedef struct endless_arg {
    dbal_session *s;
    int rc;          /* read after the join */
    atomic_int done; /* the statement has returned */
} endless_arg;

/* Runs a statement that only a cancel ends, retrying while the main thread
 * holds the session (it is refused then too). */
static void *run_endless(void *p)
{
    endless_arg *a = p;
    const char *sql = g_pg ? "SELECT pg_sleep(60)"
                           : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                             "SELECT count(*) FROM c";
    while ((a->rc = dbal_exec(a->s, sql, DBAL_NOARGS, NULL)) == DBAL_EMISUSE)
        ;
    atomic_store(&a->done, 1);
    return NULL;
}

/* A session used by a second thread while the first is inside a call: the
 * second is refused with DBAL_EMISUSE and nothing else happens; the first
 * call goes on undisturbed; once it returns, any thread may use the
 * session. Under TSan this also proves the refusal touches nothing shared. */
static void two_threads_at_once(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    endless_arg a = {.s = f->s, .rc = -1};
    atomic_init(&a.done, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_endless, &a), 0);
    int refused = 0;
    for (int i = 0; i < 2000 && !refused; i++) {
        int64_t n = 0;
        int rc = dbal_exec(f->s, "INSERT INTO misuse(id, name) VALUES (?, 'x')", DBAL_ARGS(dbal_int64(i)),
                           &n);
        if (rc == DBAL_EMISUSE) {
            refused = 1;
            /* Each kind of call that runs statements is refused alike. */
            dbal_rows *r = (dbal_rows *)&a; /* must be set to NULL */
            assert_int_equal(dbal_query(f->s, "SELECT 1", DBAL_NOARGS, &r), DBAL_EMISUSE);
            assert_null(r);
            assert_int_equal(dbal_begin(f->s), DBAL_EMISUSE);
            assert_int_equal(dbal_commit(f->s), DBAL_EMISUSE);
            assert_int_equal(dbal_rollback(f->s), DBAL_EMISUSE);
            dbal_value row[2] = {dbal_int64(-1), dbal_text("y")};
            size_t failed_row = 0;
            assert_int_equal(dbal_exec_batch(f->s, "INSERT INTO misuse(id, name) VALUES (?, ?)", row, 2, 1,
                                             NULL, &failed_row),
                             DBAL_EMISUSE);
            assert_true(failed_row == (size_t)-1);
        } else {
            /* The other thread has not started its statement yet. */
            assert_int_equal(rc, DBAL_OK);
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(refused);
    /* Stop the other thread's statement, which must not have noticed. A
     * cancel that arrives before the statement has started is lost: repeat. */
    for (int i = 0; i < 1000 && !atomic_load(&a.done); i++) {
        assert_int_equal(dbal_session_cancel(f->s), DBAL_OK);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.rc, DBAL_ECANCELED);
    assert_int_equal(dbal_session_error(f->s)->code, DBAL_ECANCELED);
    /* Free again: this thread may use it, and nothing of the refused
     * batch was written. */
    int64_t n = count_rows(f->s);
    OK(f->s, dbal_exec(f->s, "INSERT INTO misuse(id, name) VALUES (-2, 'z')", DBAL_NOARGS, NULL));
    assert_int_equal(count_rows(f->s), n + 1);
    dbal_rows *r;
    OK(f->s, dbal_query(f->s, "SELECT count(*) FROM misuse WHERE id = -1", DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_int_equal(dbal_col_int64(r, 0), 0);
    dbal_rows_close(r);
}

/* ------------------------------------------------------------ SQL oddities */

static void sql_oddities(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    dbal_session *s = f->s;
    static const char *const odd[] = {"",
                                      " ",
                                      ";",
                                      "-- only a comment",
                                      "/* only a comment */",
                                      "SELECT",
                                      "SELECT 1; SELECT 2",
                                      "\x01\x02",
                                      "SELECT '\xff'"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        int rc = dbal_exec(s, odd[i], DBAL_NOARGS, NULL);
        if (rc != DBAL_OK)
            assert_true(dbal_session_error(s)->message[0] != '\0');
        dbal_rows *r = NULL;
        rc = dbal_query(s, odd[i], DBAL_NOARGS, &r);
        if (rc == DBAL_OK) {
            while (dbal_rows_next(r) == DBAL_ROW)
                ;
            dbal_rows_close(r);
        } else {
            assert_null(r);
            assert_true(dbal_session_error(s)->message[0] != '\0');
        }
        assert_usable(s);
    }
    /* a statement inside a transaction that fails for a misuse does not
     * fail the transaction; one the database refuses does */
    OK(s, dbal_begin(s));
    EXPECT(s, dbal_exec(s, "SELECT ?", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    assert_int_not_equal(dbal_exec(s, "SELECT * FROM no_such_table_misuse", DBAL_NOARGS, NULL), DBAL_OK);
    EXPECT(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT(s, dbal_commit(s), DBAL_ETXFAILED);
    assert_int_equal(dbal_tx_depth(s), 0);
    assert_usable(s);
}

/* ------------------------------------------------------------ main */

static int truthy(const char *v)
{
    return v && *v && strcmp(v, "0") != 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s sqlite::memory: | pg | <dbal URL>\n", argv[0]);
        return 2;
    }
    child_answer = mmap(NULL, sizeof *child_answer, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                        0);
    if (child_answer == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* The allocator hook, before any other dbal call as documented: an
     * incomplete set (and NULLs) means the C library's allocator. Every case
     * below then runs on it. */
    dbal_set_allocator(malloc, NULL, NULL);
    dbal_set_allocator(NULL, realloc, free);
    dbal_set_allocator(NULL, NULL, NULL);
    int skipping = 0;
    if (strcmp(argv[1], "pg") == 0) {
        g_pg = 1;
        const char *env = getenv("DBAL_TEST_PG_URL");
        if (env && *env) {
            snprintf(g_url_buf, sizeof g_url_buf, "%s", env);
            g_url = g_url_buf;
        } else if (truthy(getenv("DBAL_TEST_REQUIRE_PG"))) {
            fprintf(stderr, "test_misuse: DBAL_TEST_REQUIRE_PG is set but DBAL_TEST_PG_URL is not\n");
            return 1;
        } else {
            skipping = 1;
        }
    } else {
        g_url = argv[1];
        g_pg = strncmp(g_url, "postgres", 8) == 0;
    }
    /* The closed-engine cases log warnings by design. */
    dbal_set_log(NULL, NULL);

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_handles_no_engine),
        T(null_arguments_on_a_session),
        T(null_out_pointers_of_getters),
        T(tx_misuse),
        T(tx_unknown_options),
        T(rows_misuse),
        T(params_misuse),
        T(params_misuse_in_batches),
        T(params_huge_counts),
        cmocka_unit_test(closed_engine),
        cmocka_unit_test(closed_engine_idle_sessions_only),
        T(cancel_and_timeout_when_idle),
        T(two_threads_at_once),
        T(sql_oddities),
    };
    const char *filter = getenv("DBAL_TEST_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    int failed = cmocka_run_group_tests_name(g_pg ? (skipping ? "misuse[postgresql: skipped]"
                                                              : "misuse[postgresql]")
                                                  : "misuse[sqlite]",
                                             tests, NULL, NULL);
    if (skipping && failed == 0)
        return 77;
    return failed == 0 ? 0 : 1;
}
