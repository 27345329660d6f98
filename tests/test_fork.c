/*
 * fork(): a connection belongs to the process that opened it (the rule
 * libpq and SQLAlchemy document), enforced. A child that closes an engine
 * it inherited frees memory only: the parent's PostgreSQL sessions live on
 * and its sqlite::memory: database stays. A child that uses the engine gets
 * connections of its own (sqlite::memory:, the parent's private database: a
 * clear DBAL_EMISUSE). A child that uses a session holding one of its
 * parent's connections gets DBAL_EMISUSE, and nothing reaches the server.
 *
 * Each case runs on sqlite::memory:, on a SQLite file and, when
 * DBAL_TEST_PG_URL is set, on PostgreSQL (DBAL_TEST_REQUIRE_PG=1 makes its
 * absence a failure). The child reports through a shared page, since
 * cmocka's assertions belong to the parent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include <glob.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

typedef struct backend {
    const char *name;
    char url[600];
    int pg;
    int memory;
} backend;

static backend memory_backend = {.name = "sqlite::memory:", .memory = 1};
static backend file_backend = {.name = "sqlite file"};
static backend pg_backend = {.name = "postgresql", .pg = 1};
static char *tmpdir;

/* What a child says: the line of its first failed check and why. */
typedef struct {
    int line;
    char msg[700];
} child_report;
static child_report *report;

#define CHILD_CHECK(cond, ...)                                      \
    do {                                                            \
        if (!(cond)) {                                              \
            report->line = __LINE__;                                \
            snprintf(report->msg, sizeof report->msg, __VA_ARGS__); \
            return 1;                                               \
        }                                                           \
    } while (0)

/* Runs fn in a child and fails the test with the child's report when it
 * did not return 0. */
static void in_child(int (*fn)(void *), void *arg)
{
    fflush(stdout);
    fflush(stderr);
    memset(report, 0, sizeof *report);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka catches these to report a test as failed: a crashing child
         * must die of it instead. */
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        _exit(fn(arg));
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    /* An in-memory database a failing child opened and left. */
    test_remove_memory_dirs(pid, NULL, 0);
    if (WIFSIGNALED(st))
        fail_msg("the child died of signal %d", WTERMSIG(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("the child failed at line %d: %s", report->line, report->msg);
}

static dbal_engine *open_engine(const backend *b)
{
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, b->url, &err) != DBAL_OK)
        fail_msg("%s: %s", b->url, err.message);
    return e;
}

static void exec_ok(dbal_session *s, const char *sql)
{
    OK(s, dbal_exec(s, sql, DBAL_NOARGS, NULL));
}

/* The server process behind the session's connection (PostgreSQL), 0 on
 * SQLite, -999 when the query fails. */
static int64_t backend_pid(const backend *b, dbal_session *s)
{
    return b->pg ? test_scalar(s, "SELECT pg_backend_pid()") : 0;
}

/* A table t, empty, then one row (id 1) committed. */
static void fresh_table(dbal_engine *e, const char *t)
{
    dbal_session *s;
    char sql[200];
    OK(NULL, dbal_session_open(e, &s, NULL));
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", t);
    exec_ok(s, sql);
    snprintf(sql, sizeof sql, "CREATE TABLE %s(id BIGINT PRIMARY KEY)", t);
    exec_ok(s, sql);
    snprintf(sql, sizeof sql, "INSERT INTO %s(id) VALUES (1)", t);
    exec_ok(s, sql);
    dbal_session_close(s);
}

static int64_t count_of(dbal_session *s, const char *t)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", t);
    return test_scalar(s, sql);
}

typedef struct {
    const backend *b;
    dbal_engine *e;
    dbal_session *s;
    dbal_rows *r;
    int64_t parent_pid; /* the parent's server process */
} fork_case;

/* An engine on b with table t (one row) and a session of the parent that
 * holds a connection, on server process parent_pid. */
static fork_case start_case(const backend *b, const char *t)
{
    fork_case c = {.b = b, .e = open_engine(b)};
    fresh_table(c.e, t);
    OK(NULL, dbal_session_open(c.e, &c.s, NULL));
    c.parent_pid = backend_pid(b, c.s);
    assert_int_equal(count_of(c.s, t), 1);
    return c;
}

/* ------------------------------------------------------------ closing */

/* The files of this process's sqlite::memory: database (one engine open):
 * 0 when found. */
static int memory_files(struct stat *db, struct stat *wal)
{
    const char *tmp = getenv("TMPDIR");
    const char *bases[] = {"/dev/shm", tmp && *tmp ? tmp : "/tmp", "/tmp"};
    for (size_t i = 0; i < 3; i++) {
        char pattern[600];
        glob_t g;
        snprintf(pattern, sizeof pattern, "%s/dbal-memory-%ld-*/memory.db", bases[i], (long)getpid());
        if (glob(pattern, 0, NULL, &g) != 0)
            continue;
        char path[700];
        snprintf(path, sizeof path, "%s-wal", g.gl_pathv[0]);
        int rc = stat(g.gl_pathv[0], db) == 0 && stat(path, wal) == 0 ? 0 : -1;
        globfree(&g);
        return rc;
    }
    return -1;
}

static int child_closes_engine(void *arg)
{
    fork_case *c = arg;
    int rc = dbal_engine_close(c->e);
    CHILD_CHECK(rc == DBAL_OK, "dbal_engine_close in the child: %s", dbal_code_name(rc));
    return 0;
}

/* The parent's idle connection and its database survive a child closing
 * the engine. */
static void child_closing_engine_leaves_parent_alone(void **state)
{
    const backend *b = *state;
    fork_case c = start_case(b, "fork_close");
    dbal_session *s1, *s2;
    dbal_session_close(c.s); /* its connection waits in the pool */
    struct stat db0, wal0, db1, wal1;
    if (b->memory)
        assert_int_equal(memory_files(&db0, &wal0), 0);

    in_child(child_closes_engine, &c);

    if (b->memory) {
        /* Not removed, and not checkpointed either: SQLite's last
         * connection in a process checkpoints the WAL into the database and
         * deletes it, and in the child the parent's lock looks like its
         * own. */
        assert_int_equal(memory_files(&db1, &wal1), 0);
        assert_true(db1.st_size == db0.st_size && db1.st_mtim.tv_nsec == db0.st_mtim.tv_nsec &&
                    db1.st_mtim.tv_sec == db0.st_mtim.tv_sec);
        assert_true(wal1.st_size == wal0.st_size && wal1.st_ino == wal0.st_ino);
    }

    OK(NULL, dbal_session_open(c.e, &s1, NULL));
    int64_t n = count_of(s1, "fork_close");
    if (n != 1)
        fail_msg("%s: after the child closed the engine, the parent's pooled connection answers %lld (%s)",
                 b->name, (long long)n, dbal_session_error(s1)->message);
    if (b->pg)
        assert_int_equal(backend_pid(b, s1), c.parent_pid); /* the same server session, alive */
    /* A second connection, opened after the child left: the database is
     * still where the engine put it. */
    OK(NULL, dbal_session_open(c.e, &s2, NULL));
    n = count_of(s2, "fork_close");
    if (n != 1)
        fail_msg("%s: a new connection of the parent answers %lld (%s)", b->name, (long long)n,
                 dbal_session_error(s2)->message);
    exec_ok(s2, "INSERT INTO fork_close(id) VALUES (2)");
    assert_int_equal(count_of(s1, "fork_close"), 2);
    dbal_session_close(s1);
    dbal_session_close(s2);
    OK(NULL, dbal_engine_close(c.e));
}

/* ------------------------------------------------------------ using the engine */

static int child_uses_engine(void *arg)
{
    fork_case *c = arg;
    dbal_session *s;
    dbal_error err;
    int rc = dbal_session_open(c->e, &s, &err);
    CHILD_CHECK(rc == DBAL_OK, "dbal_session_open: %s", err.message);
    rc = dbal_exec(s, "INSERT INTO fork_use(id) VALUES (2)", DBAL_NOARGS, NULL);
    if (c->b->memory) {
        /* The parent's private database: a clear refusal, not a hang on
         * its locks. */
        CHILD_CHECK(rc == DBAL_EMISUSE, "sqlite::memory: in a child: %s (%s), expected DBAL_EMISUSE",
                    dbal_code_name(rc), dbal_session_error(s)->message);
        CHILD_CHECK(strstr(dbal_session_error(s)->message, "process") != NULL, "message: %s",
                    dbal_session_error(s)->message);
    } else {
        CHILD_CHECK(rc == DBAL_OK, "insert in the child: %s (%s)", dbal_code_name(rc),
                    dbal_session_error(s)->message);
        int64_t n = count_of(s, "fork_use");
        CHILD_CHECK(n == 2, "the child counts %lld rows", (long long)n);
        int64_t pid = backend_pid(c->b, s);
        CHILD_CHECK(!c->b->pg || (pid > 0 && pid != c->parent_pid),
                    "the child's session runs on server process %lld, the parent's is %lld", (long long)pid,
                    (long long)c->parent_pid);
    }
    dbal_session_close(s);
    rc = dbal_engine_close(c->e);
    CHILD_CHECK(rc == DBAL_OK, "dbal_engine_close in the child: %s", dbal_code_name(rc));
    return 0;
}

/* A child that uses the engine gets connections of its own. */
static void child_using_engine_gets_own_connections(void **state)
{
    const backend *b = *state;
    fork_case c = start_case(b, "fork_use");
    dbal_session *s;
    dbal_session_close(c.s);

    in_child(child_uses_engine, &c);

    OK(NULL, dbal_session_open(c.e, &s, NULL));
    if (b->pg)
        assert_int_equal(backend_pid(b, s), c.parent_pid);
    assert_int_equal(count_of(s, "fork_use"), b->memory ? 1 : 2);
    dbal_session_close(s);
    OK(NULL, dbal_engine_close(c.e));
}

/* ------------------------------------------------------------ a parent's session */

static int child_uses_parent_session(void *arg)
{
    fork_case *c = arg;
    int rc = dbal_exec(c->s, "INSERT INTO fork_held(id) VALUES (3)", DBAL_NOARGS, NULL);
    CHILD_CHECK(rc == DBAL_EMISUSE, "dbal_exec on the parent's session: %s, expected DBAL_EMISUSE",
                dbal_code_name(rc));
    const char *msg = dbal_session_error(c->s)->message;
    CHILD_CHECK(strstr(msg, "opened by process") && strstr(msg, "belongs to the process that opened it"),
                "message: %s", msg);
    dbal_rows *r = (dbal_rows *)1;
    rc = dbal_query(c->s, "SELECT 1", DBAL_NOARGS, &r);
    CHILD_CHECK(rc == DBAL_EMISUSE && r == NULL, "dbal_query: %s", dbal_code_name(rc));
    rc = dbal_begin(c->s);
    CHILD_CHECK(rc == DBAL_EMISUSE, "dbal_begin: %s", dbal_code_name(rc));
    rc = dbal_commit(c->s);
    CHILD_CHECK(rc == DBAL_EMISUSE, "dbal_commit: %s", dbal_code_name(rc));
    rc = dbal_rollback(c->s);
    CHILD_CHECK(rc == DBAL_EMISUSE, "dbal_rollback: %s", dbal_code_name(rc));
    dbal_value rows[2] = {dbal_int64(4), dbal_int64(5)};
    size_t failed = 0;
    rc = dbal_exec_batch(c->s, "INSERT INTO fork_held(id) VALUES (?)", rows, 1, 2, NULL, &failed);
    CHILD_CHECK(rc == DBAL_EMISUSE && failed == (size_t)-1, "dbal_exec_batch: %s", dbal_code_name(rc));
    int64_t id;
    rc = dbal_last_insert_id(c->s, &id);
    CHILD_CHECK(rc == DBAL_EMISUSE || rc == DBAL_EUNSUPPORTED, "dbal_last_insert_id: %s", dbal_code_name(rc));
    rc = dbal_session_cancel(c->s);
    CHILD_CHECK(rc == DBAL_EMISUSE || rc == DBAL_EUNSUPPORTED, "dbal_session_cancel: %s", dbal_code_name(rc));
    CHILD_CHECK(dbal_tx_depth(c->s) == 1, "depth %d", dbal_tx_depth(c->s));
    /* Closing it frees memory only: the parent's transaction goes on. */
    dbal_session_close(c->s);
    rc = dbal_engine_close(c->e);
    CHILD_CHECK(rc == DBAL_OK, "dbal_engine_close in the child: %s", dbal_code_name(rc));
    if (!c->b->pg && !c->b->memory) {
        /* SQLite: the parent's connection in its write transaction cannot
         * be closed here without rolling it back, so it stays in this
         * process's memory, and so do SQLite's records of the file's locks:
         * no new connection to the file in this process. */
        dbal_engine *e;
        dbal_session *s;
        CHILD_CHECK(dbal_engine_open(&e, c->b->url, NULL) == DBAL_OK, "dbal_engine_open");
        dbal_session_open(e, &s, NULL);
        rc = dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
        CHILD_CHECK(rc == DBAL_EMISUSE &&
                        strstr(dbal_session_error(s)->message, "still open in this process"),
                    "a new engine on the file: %s (%s)", dbal_code_name(rc), dbal_session_error(s)->message);
        dbal_session_close(s);
        dbal_engine_close(e);
    }
    return 0;
}

/* A session that held a connection when the process forked is refused in
 * the child, which sends nothing on it: not even the rollback of closing. */
static void child_using_parent_session_is_refused(void **state)
{
    const backend *b = *state;
    fork_case c = start_case(b, "fork_held");
    OK(c.s, dbal_begin(c.s));
    exec_ok(c.s, "INSERT INTO fork_held(id) VALUES (2)");

    in_child(child_uses_parent_session, &c);

    exec_ok(c.s, "INSERT INTO fork_held(id) VALUES (6)");
    if (b->pg)
        assert_int_equal(backend_pid(b, c.s), c.parent_pid);
    OK(c.s, dbal_commit(c.s));
    assert_int_equal(count_of(c.s, "fork_held"), 3);
    assert_int_equal(test_scalar(c.s, "SELECT count(*) FROM fork_held WHERE id IN (3, 4, 5)"), 0);
    dbal_session_close(c.s);
    OK(NULL, dbal_engine_close(c.e));
}

/* ------------------------------------------------------------ a parent's session still open */

/* One statement on a new session of e, which is then closed. */
static int try_engine(dbal_engine *e, char *msg, size_t cap)
{
    dbal_session *s;
    if (dbal_session_open(e, &s, NULL) != DBAL_OK)
        return -1;
    int rc = dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
    snprintf(msg, cap, "%s", dbal_session_error(s)->message);
    dbal_session_close(s);
    return rc;
}

static int child_with_parent_session_open(void *arg)
{
    fork_case *c = arg;
    char msg[600];
    dbal_engine *fresh;
    CHILD_CHECK(dbal_engine_open(&fresh, c->b->url, NULL) == DBAL_OK, "dbal_engine_open");
    int rc = try_engine(c->e, msg, sizeof msg), rc_fresh = try_engine(fresh, msg, sizeof msg);
    if (c->b->pg) {
        /* Nothing of libpq's is shared between connections. */
        CHILD_CHECK(rc == DBAL_OK && rc_fresh == DBAL_OK, "inherited engine: %s, new engine: %s (%s)",
                    dbal_code_name(rc), dbal_code_name(rc_fresh), msg);
    } else if (c->b->memory) {
        /* The inherited engine's database is the parent's; a new engine
         * has one of its own. */
        CHILD_CHECK(rc == DBAL_EMISUSE && rc_fresh == DBAL_OK, "inherited engine: %s, new engine: %s (%s)",
                    dbal_code_name(rc), dbal_code_name(rc_fresh), msg);
    } else {
        /* The parent's connection, still held by its session, is in this
         * process's memory with SQLite's records of the file's locks: no
         * new connection to that file, from any engine, until it goes. */
        CHILD_CHECK(rc == DBAL_EMISUSE && rc_fresh == DBAL_EMISUSE &&
                        strstr(msg, "still open in this process"),
                    "inherited engine: %s, new engine: %s (%s)", dbal_code_name(rc), dbal_code_name(rc_fresh),
                    msg);
        dbal_session_close(c->s); /* frees memory only */
        rc = try_engine(c->e, msg, sizeof msg);
        CHILD_CHECK(rc == DBAL_OK, "inherited engine after closing the parent's session: %s (%s)",
                    dbal_code_name(rc), msg);
        rc = try_engine(fresh, msg, sizeof msg);
        CHILD_CHECK(rc == DBAL_OK, "new engine after closing the parent's session: %s (%s)",
                    dbal_code_name(rc), msg);
    }
    dbal_engine_close(fresh);
    /* The engine, with the parent's session still open here unless it was
     * closed above (which is worth a warning in the log). */
    dbal_set_log(NULL, NULL);
    rc = dbal_engine_close(c->e);
    CHILD_CHECK(rc == (c->b->pg || c->b->memory ? DBAL_EMISUSE : DBAL_OK), "dbal_engine_close: %s",
                dbal_code_name(rc));
    return 0;
}

/* A child forked while a session of the parent holds a connection. */
static void child_with_parent_session_open_connects_when_safe(void **state)
{
    const backend *b = *state;
    fork_case c = start_case(b, "fork_open");

    in_child(child_with_parent_session_open, &c);

    exec_ok(c.s, "INSERT INTO fork_open(id) VALUES (2)");
    assert_int_equal(count_of(c.s, "fork_open"), 2);
    if (b->pg)
        assert_int_equal(backend_pid(b, c.s), c.parent_pid);
    dbal_session_close(c.s);
    OK(NULL, dbal_engine_close(c.e));
}

/* ------------------------------------------------------------ a parent's cursor */

#define CURSOR_ROWS 100000

static int child_reads_parent_cursor(void *arg)
{
    fork_case *c = arg;
    int rc = dbal_rows_next(c->r);
    CHILD_CHECK(rc == DBAL_EMISUSE, "dbal_rows_next on the parent's cursor: %s, expected DBAL_EMISUSE",
                dbal_code_name(rc));
    /* The child leaves without closing: a cursor's close may read the rest
     * of its rows, which are the parent's. */
    return 0;
}

/* A cursor the parent is reading (its rows still on the wire, on
 * PostgreSQL) cannot be read in the child, which would take the parent's
 * rows. */
static void child_reading_parent_cursor_is_refused(void **state)
{
    const backend *b = *state;
    fork_case c = {.b = b, .e = open_engine(b)};
    OK(NULL, dbal_session_open(c.e, &c.s, NULL));
    char sql[200];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) SELECT i FROM n",
             CURSOR_ROWS);
    OK(c.s, dbal_query(c.s, sql, DBAL_NOARGS, &c.r));
    assert_int_equal(dbal_rows_next(c.r), DBAL_ROW);
    assert_int_equal(dbal_col_int64(c.r, 0), 1);

    in_child(child_reads_parent_cursor, &c);

    int64_t want = 2, got = 0;
    int rc;
    while ((rc = dbal_rows_next(c.r)) == DBAL_ROW) {
        if (dbal_col_int64(c.r, 0) != want)
            fail_msg("%s: row %lld reads %lld after the fork", b->name, (long long)want,
                     (long long)dbal_col_int64(c.r, 0));
        want++;
        got++;
    }
    if (rc != DBAL_DONE || got != CURSOR_ROWS - 1)
        fail_msg("%s: the parent read %lld more rows and %s (%s)", b->name, (long long)got,
                 dbal_code_name(rc), dbal_session_error(c.s)->message);
    dbal_rows_close(c.r);
    dbal_session_close(c.s);
    OK(NULL, dbal_engine_close(c.e));
}

/* ------------------------------------------------------------ setup */

static int setup_backend(void **state)
{
    backend *b = *state;
    if (b->pg) {
        const char *url = getenv("DBAL_TEST_PG_URL");
        if (!url || !*url) {
            const char *req = getenv("DBAL_TEST_REQUIRE_PG");
            if (req && strcmp(req, "1") == 0)
                fail_msg("DBAL_TEST_REQUIRE_PG=1 but DBAL_TEST_PG_URL is not set");
            skip();
        }
        snprintf(b->url, sizeof b->url, "%s", url);
    } else if (b->memory) {
        snprintf(b->url, sizeof b->url, "sqlite::memory:");
    } else {
        snprintf(b->url, sizeof b->url, "sqlite://%s/fork.db", tmpdir);
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    report = mmap(NULL, sizeof *report, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    tmpdir = test_tmpdir();
    return report == MAP_FAILED || !tmpdir ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    munmap(report, sizeof *report);
    test_rmdir(tmpdir);
    /* What a failed case left open. */
    test_remove_memory_dirs(getpid(), NULL, 0);
    return 0;
}

#define ON_EACH(fn)                                              \
    {"memory: " #fn, fn, setup_backend, NULL, &memory_backend},  \
        {"file: " #fn, fn, setup_backend, NULL, &file_backend},  \
    {                                                            \
        "postgresql: " #fn, fn, setup_backend, NULL, &pg_backend \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        ON_EACH(child_closing_engine_leaves_parent_alone),
        ON_EACH(child_using_engine_gets_own_connections),
        ON_EACH(child_using_parent_session_is_refused),
        ON_EACH(child_with_parent_session_open_connects_when_safe),
        ON_EACH(child_reading_parent_cursor_is_refused),
    };
    /* Without a server the PostgreSQL cases are left out (a skip() in a
     * case's setup would count as a failure). */
    const char *url = getenv("DBAL_TEST_PG_URL"), *req = getenv("DBAL_TEST_REQUIRE_PG");
    int have_pg = (url && *url) || (req && strcmp(req, "1") == 0);
    struct CMUnitTest run[sizeof tests / sizeof *tests];
    size_t n = 0;
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
        if (have_pg || !((const backend *)tests[i].initial_state)->pg)
            run[n++] = tests[i];
    if (!have_pg)
        printf("fork: DBAL_TEST_PG_URL is not set: the PostgreSQL cases are skipped\n");
    return _cmocka_run_group_tests("fork", run, n, setup, teardown);
}
