/* What the SQLite driver does beyond the conformance suite: file set-up
 * (WAL, busy timeout, foreign keys), write transactions that cannot deadlock
 * on lock upgrade, the shared in-memory database, URL options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

static char url_buf[512];

static const char *file_url(const char *dir, const char *name, const char *opts)
{
    snprintf(url_buf, sizeof url_buf, "sqlite://%s/%s%s", dir, name, opts ? opts : "");
    return url_buf;
}

static void test_file_defaults(void **state)
{
    char *dir = test_tmpdir();
    dbal_engine *e;
    dbal_session *s;
    char buf[64];
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "a.db", NULL), NULL), DBAL_OK);
    assert_int_equal(dbal_session_open(e, &s, NULL), DBAL_OK);
    assert_string_equal(test_scalar_text(s, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_int_equal(test_scalar(s, "PRAGMA foreign_keys"), 1);
    /* dbal's busy handler, not SQLite's: the pragma that reads SQLite's
     * says 0 (test_busy_timeout and the lock_wait tests check the waits). */
    assert_int_equal(test_scalar(s, "PRAGMA busy_timeout"), 0);
    assert_int_equal(test_scalar(s, "PRAGMA synchronous"), 1); /* NORMAL */
    dbal_session_close(s);
    dbal_engine_close(e);

    /* Each default can be overridden in the URL. */
    assert_int_equal(dbal_engine_open(&e,
                                      file_url(dir, "b.db",
                                               "?journal_mode=delete&busy_timeout=250"
                                               "&foreign_keys=off&_pragma=cache_size(-4000)"),
                                      NULL),
                     DBAL_OK);
    assert_int_equal(dbal_session_open(e, &s, NULL), DBAL_OK);
    assert_string_equal(test_scalar_text(s, "PRAGMA journal_mode", buf, sizeof buf), "delete");
    assert_int_equal(test_scalar(s, "PRAGMA foreign_keys"), 0);
    assert_int_equal(test_scalar(s, "PRAGMA cache_size"), -4000);
    dbal_session_close(s);
    dbal_engine_close(e);
    test_rmdir(dir);
}

static void test_bad_options(void **state)
{
    static const char *const bad[] = {
        "sqlite:///tmp/x.db?nosuch=1",
        "sqlite:///tmp/x.db?journal_mode=bogus",
        "sqlite:///tmp/x.db?busy_timeout=-1",
        "sqlite:///tmp/x.db?_pragma=foo;drop%20table%20t",
        "sqlite:///tmp/x.db?_pragma=a(b)c",
        "sqlite:///tmp/x.db?mode=rwx",
        "sqlite:///tmp/x.db?begin=later",
        "sqlite:///tmp/x.db?_pragma=query_only(1)",
        "sqlite:///tmp/x.db?_pragma=busy_timeout(soon)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dbal_engine *e;
        dbal_error err;
        int rc = dbal_engine_open(&e, bad[i], &err);
        if (rc != DBAL_EURL)
            fail_msg("%s: %s, expected DBAL_EURL", bad[i], dbal_code_name(rc));
        assert_null(e);
        assert_null(strstr(err.message, "pw@"));
    }
}

static void test_cannot_open(void **state)
{
    dbal_engine *e;
    dbal_session *s;
    assert_int_equal(dbal_engine_open(&e, "sqlite:///nonexistent/dir/x.db", NULL), DBAL_OK);
    assert_int_equal(dbal_session_open(e, &s, NULL), DBAL_OK);
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    assert_string_equal(dbal_session_error(s)->sqlstate, "08001");
    /* The path and SQLite's reason, each once. */
    char want[256];
    snprintf(want, sizeof want,
             "cannot open SQLite database '/nonexistent/dir/x.db': unable to open database file (%s)",
             strerror(ENOENT));
    assert_string_equal(dbal_session_error(s)->message, want);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.open, 0);
    dbal_session_close(s);
    dbal_engine_close(e);
}

static void test_read_only_mode(void **state)
{
    char *dir = test_tmpdir();
    dbal_engine *e;
    dbal_session *s;
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "ro.db", NULL), NULL), DBAL_OK);
    assert_int_equal(dbal_session_open(e, &s, NULL), DBAL_OK);
    OK(s, dbal_exec(s, "CREATE TABLE t(x INTEGER)", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "INSERT INTO t VALUES (1)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "ro.db", "?mode=ro"), NULL), DBAL_OK);
    assert_int_equal(dbal_session_open(e, &s, NULL), DBAL_OK);
    assert_int_equal(test_scalar(s, "SELECT x FROM t"), 1);
    EXPECT_RC(s, dbal_exec(s, "INSERT INTO t VALUES (2)", DBAL_NOARGS, NULL), DBAL_EREADONLY);
    assert_string_equal(dbal_session_error(s)->sqlstate, "25006");
    dbal_session_close(s);
    dbal_engine_close(e);
    test_rmdir(dir);
}

static void test_one_statement_per_call(void **state)
{
    dbal_engine *e;
    dbal_session *s;
    assert_int_equal(dbal_engine_open(&e, "sqlite::memory:", NULL), DBAL_OK);
    assert_int_equal(dbal_session_open(e, &s, NULL), DBAL_OK);
    EXPECT_RC(s, dbal_exec(s, "CREATE TABLE a(x); CREATE TABLE b(x)", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    EXPECT_RC(s, dbal_exec(s, "   ", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    /* A trailing semicolon and comment are fine. */
    OK(s, dbal_exec(s, "CREATE TABLE c(x); -- done", DBAL_NOARGS, NULL));
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM sqlite_master WHERE name IN ('a','b','c')"), 1);
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* SQLite's SQLITE_ERROR messages map to PostgreSQL's SQLSTATE for the same
 * mistake (the ones the conformance suite cannot write portably); the
 * message stays SQLite's. */
static void test_error_messages_mapped(void **state)
{
    static const struct {
        const char *sql, *sqlstate;
        int code;
    } cases[] = {
        {"DROP TRIGGER no_such_trigger", "42704", DBAL_EUNDEFINED},
        {"DROP INDEX no_such_index", "42704", DBAL_EUNDEFINED},
        {"SELECT 'a' < 'b' COLLATE no_such_collation", "42704", DBAL_EUNDEFINED},
        {"CREATE VIRTUAL TABLE v USING no_such_module", "42704", DBAL_EUNDEFINED},
        {"RELEASE no_such_savepoint", "3B001", DBAL_ERROR},
        {"CREATE TRIGGER t1 AFTER INSERT ON t BEGIN SELECT 1; END", "42710", DBAL_ERROR},
        {"CREATE VIEW t AS SELECT 1", "42P07", DBAL_ERROR},
        {"INSERT INTO t VALUES (1, 2, 3)", "42601", DBAL_ESYNTAX},
        {"SELECT id FROM t GROUP BY 7", "42P10", DBAL_ERROR},
        {"SELECT sum(id) OVER () FROM t WHERE row_number() OVER () > 1", "42P20", DBAL_ERROR},
        {"SELECT id FROM t HAVING id > 1", "42803", DBAL_ERROR},
        {"SELECT sum(9223372036854775807) FROM (SELECT 1 UNION ALL SELECT 2)", "22003", DBAL_ERANGE},
        {"DELETE FROM sqlite_master", "42501", DBAL_EPERM},
        {"INSERT INTO tv VALUES (1)", "42809", DBAL_ERROR},
    };
    dbal_engine *e;
    dbal_session *s;
    assert_int_equal(dbal_engine_open(&e, "sqlite::memory:", NULL), DBAL_OK);
    assert_int_equal(dbal_session_open(e, &s, NULL), DBAL_OK);
    OK(s, dbal_exec(s, "CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER)", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "CREATE TRIGGER t1 AFTER DELETE ON t BEGIN SELECT 1; END", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "CREATE VIEW tv AS SELECT id FROM t", DBAL_NOARGS, NULL));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = dbal_exec(s, cases[i].sql, DBAL_NOARGS, NULL);
        const dbal_error *err = dbal_session_error(s);
        if (rc != cases[i].code || strcmp(err->sqlstate, cases[i].sqlstate) != 0)
            fail_msg("%s: %s %s (%s), expected %s %s", cases[i].sql, dbal_code_name(rc), err->sqlstate,
                     err->message, dbal_code_name(cases[i].code), cases[i].sqlstate);
    }
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* Two sessions of one in-memory engine share its database; a second engine
 * has its own; closing the engine removes its files. */
static void test_memory_engines(void **state)
{
    dbal_engine *e1, *e2;
    dbal_session *a, *b, *c;
    assert_int_equal(dbal_engine_open(&e1, "sqlite::memory:", NULL), DBAL_OK);
    assert_int_equal(dbal_engine_open(&e2, "sqlite://:memory:", NULL), DBAL_OK);
    dbal_session_open(e1, &a, NULL);
    dbal_session_open(e1, &b, NULL);
    dbal_session_open(e2, &c, NULL);
    OK(a, dbal_exec(a, "CREATE TABLE t(x INTEGER)", DBAL_NOARGS, NULL));
    OK(a, dbal_begin(a));
    OK(a, dbal_exec(a, "INSERT INTO t VALUES (7)", DBAL_NOARGS, NULL));
    /* b reads at once (no waiting for a's write lock) and sees no
     * uncommitted row, as on PostgreSQL. */
    double t0 = test_now();
    assert_int_equal(test_scalar(b, "SELECT count(*) FROM t"), 0);
    assert_true(test_now() - t0 < 1.0);
    OK(a, dbal_commit(a));
    assert_int_equal(test_scalar(b, "SELECT x FROM t"), 7);
    EXPECT_RC(c, dbal_exec(c, "SELECT * FROM t", DBAL_NOARGS, NULL), DBAL_EUNDEFINED);
    dbal_session_close(a);
    dbal_session_close(b);
    dbal_session_close(c);
    dbal_engine_close(e1);
    dbal_engine_close(e2);
    DIR *d = opendir("/dev/shm");
    if (d) {
        struct dirent *ent;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "dbal-memory-%ld-", (long)getpid());
        while ((ent = readdir(d)))
            if (strncmp(ent->d_name, prefix, strlen(prefix)) == 0)
                fail_msg("/dev/shm/%s left behind after engine close", ent->d_name);
        closedir(d);
    }
}

/* Writers that read first then write: with BEGIN DEFERRED two of them can
 * both hold read locks and neither can upgrade (SQLite answers BUSY at once,
 * its busy handler cannot wait this out). BEGIN IMMEDIATE makes them queue. */
typedef struct {
    dbal_engine *e;
    int failures;
} worker_arg;

static void *read_then_write(void *p)
{
    worker_arg *w = p;
    for (int i = 0; i < 50; i++) {
        dbal_session *s;
        if (dbal_session_open(w->e, &s, NULL) != DBAL_OK) {
            w->failures++;
            continue;
        }
        int rc = dbal_begin(s);
        int64_t n = rc == DBAL_OK ? test_scalar(s, "SELECT count(*) FROM counter") : -1;
        if (rc == DBAL_OK)
            rc = dbal_exec(s, "INSERT INTO counter(n) VALUES (?)", DBAL_ARGS(dbal_int64(n)), NULL);
        if (rc == DBAL_OK)
            rc = dbal_commit(s);
        if (rc != DBAL_OK) {
            fprintf(stderr, "writer failed: %s\n", dbal_session_error(s)->message);
            w->failures++;
        }
        dbal_session_close(s);
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    char *dir = test_tmpdir();
    dbal_engine *e;
    dbal_session *s;
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "w.db", "?pool_size=4"), NULL), DBAL_OK);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE counter(id INTEGER PRIMARY KEY, n INTEGER)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    pthread_t t[4];
    worker_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_arg){e, 0};
        pthread_create(&t[i], NULL, read_then_write, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    dbal_session_open(e, &s, NULL);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM counter"), 200);
    /* Each writer saw every earlier commit: the counts are 0..199, each once. */
    assert_int_equal(test_scalar(s, "SELECT count(DISTINCT n) FROM counter"), 200);
    dbal_session_close(s);
    dbal_engine_close(e);
    test_rmdir(dir);
}

/* A writer held up longer than busy_timeout gets DBAL_EBUSY, not a hang. */
static void test_busy_timeout(void **state)
{
    char *dir = test_tmpdir();
    dbal_engine *e;
    dbal_session *a, *b;
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "busy.db", "?busy_timeout=100"), NULL), DBAL_OK);
    dbal_session_open(e, &a, NULL);
    dbal_session_open(e, &b, NULL);
    OK(a, dbal_exec(a, "CREATE TABLE t(x)", DBAL_NOARGS, NULL));
    OK(a, dbal_begin(a));
    OK(a, dbal_exec(a, "INSERT INTO t VALUES (1)", DBAL_NOARGS, NULL));
    double t0 = test_now();
    EXPECT_RC(b, dbal_begin(b), DBAL_EBUSY);
    double waited = test_now() - t0;
    assert_true(waited >= 0.09);
    assert_true(waited < 5);
    assert_string_equal(dbal_session_error(b)->sqlstate, "55P03");
    assert_int_equal(dbal_tx_depth(b), 0);
    OK(a, dbal_commit(a));
    OK(b, dbal_begin(b));
    OK(b, dbal_rollback(b));
    dbal_session_close(a);
    dbal_session_close(b);
    dbal_engine_close(e);
    test_rmdir(dir);
}

/*
 * Waiting for another connection's write lock honours the statement timeout
 * and cancel, not only busy_timeout (10 s here, far beyond every bound):
 * session a holds the write lock, b waits for it.
 */
typedef struct {
    char *dir;
    dbal_engine *e;
    dbal_session *a, *b;
} lock_fixture;

static void lock_setup(lock_fixture *f)
{
    f->dir = test_tmpdir();
    assert_int_equal(dbal_engine_open(&f->e, file_url(f->dir, "lock.db", "?pool_size=2&busy_timeout=10000"),
                                      NULL),
                     DBAL_OK);
    dbal_session_open(f->e, &f->a, NULL);
    dbal_session_open(f->e, &f->b, NULL);
    OK(f->a, dbal_exec(f->a, "CREATE TABLE t(x INTEGER)", DBAL_NOARGS, NULL));
    assert_int_equal(test_scalar(f->b, "SELECT count(*) FROM t"), 0); /* b holds its connection */
    OK(f->a, dbal_begin(f->a));
    OK(f->a, dbal_exec(f->a, "INSERT INTO t VALUES (1)", DBAL_NOARGS, NULL));
}

static void lock_teardown(lock_fixture *f)
{
    dbal_session_close(f->a);
    dbal_session_close(f->b);
    dbal_engine_close(f->e);
    test_rmdir(f->dir);
}

/* After 300 ms, from another thread: cancel b, or commit a. */
typedef struct {
    dbal_session *s;
    int commit;
    int rc;
    pthread_t thread;
} later_arg;

static void *later_run(void *p)
{
    later_arg *l = p;
    usleep(300000);
    l->rc = l->commit ? dbal_commit(l->s) : dbal_session_cancel(l->s);
    return NULL;
}

static void later(later_arg *l, dbal_session *s, int commit)
{
    *l = (later_arg){.s = s, .commit = commit, .rc = -1};
    assert_int_equal(pthread_create(&l->thread, NULL, later_run, l), 0);
}

static void later_join(later_arg *l)
{
    pthread_join(l->thread, NULL);
    assert_int_equal(l->rc, DBAL_OK);
}

/* Asserts that the call took from lo to hi seconds since t0. */
static void took(double t0, double lo, double hi, const char *what)
{
    double t = test_now() - t0;
    if (t < lo || t > hi)
        fail_msg("%s took %.3f s, expected %.2f to %.2f s", what, t, lo, hi);
}

static void test_lock_wait_timeout(void **state)
{
    lock_fixture f;
    lock_setup(&f);
    assert_int_equal(dbal_session_set_timeout(f.b, 500), DBAL_OK);
    double t0 = test_now();
    EXPECT_RC(f.b, dbal_exec(f.b, "INSERT INTO t VALUES (2)", DBAL_NOARGS, NULL), DBAL_ETIMEOUT);
    took(t0, 0.45, 2.0, "an INSERT waiting for the write lock, timeout 500 ms");
    assert_string_equal(dbal_session_error(f.b)->sqlstate, "57014");
    t0 = test_now();
    EXPECT_RC(f.b, dbal_begin(f.b), DBAL_ETIMEOUT); /* BEGIN IMMEDIATE waits too */
    took(t0, 0.45, 2.0, "BEGIN IMMEDIATE waiting for the write lock, timeout 500 ms");
    assert_int_equal(dbal_tx_depth(f.b), 0);
    /* The session goes on once the lock is free. */
    OK(f.a, dbal_commit(f.a));
    OK(f.b, dbal_exec(f.b, "INSERT INTO t VALUES (3)", DBAL_NOARGS, NULL));
    assert_int_equal(test_scalar(f.b, "SELECT count(*) FROM t"), 2);
    lock_teardown(&f);
}

static void test_lock_wait_cancel(void **state)
{
    lock_fixture f;
    lock_setup(&f);
    later_arg l;
    later(&l, f.b, 0);
    double t0 = test_now();
    EXPECT_RC(f.b, dbal_exec(f.b, "INSERT INTO t VALUES (2)", DBAL_NOARGS, NULL), DBAL_ECANCELED);
    took(t0, 0.25, 2.0, "an INSERT waiting for the write lock, canceled after 300 ms");
    later_join(&l);
    assert_string_equal(dbal_session_error(f.b)->sqlstate, "57014");
    later(&l, f.b, 0);
    t0 = test_now();
    EXPECT_RC(f.b, dbal_begin(f.b), DBAL_ECANCELED);
    took(t0, 0.25, 2.0, "BEGIN IMMEDIATE waiting for the write lock, canceled after 300 ms");
    later_join(&l);
    assert_int_equal(dbal_tx_depth(f.b), 0);
    OK(f.a, dbal_commit(f.a));
    OK(f.b, dbal_exec(f.b, "INSERT INTO t VALUES (3)", DBAL_NOARGS, NULL));
    lock_teardown(&f);
}

/* Without a timeout the wait ends when the lock is given up; and a cancel
 * asked for while no statement ran is not taken by the next one. */
static void test_lock_wait_released(void **state)
{
    lock_fixture f;
    lock_setup(&f);
    assert_int_equal(dbal_session_cancel(f.b), DBAL_OK);
    later_arg l;
    later(&l, f.a, 1);
    double t0 = test_now();
    OK(f.b, dbal_exec(f.b, "INSERT INTO t VALUES (2)", DBAL_NOARGS, NULL));
    took(t0, 0.25, 2.0, "an INSERT waiting for a write lock released after 300 ms");
    later_join(&l);
    OK(f.a, dbal_begin(f.a));
    assert_int_equal(dbal_session_cancel(f.b), DBAL_OK);
    later(&l, f.a, 1);
    t0 = test_now();
    OK(f.b, dbal_begin(f.b));
    took(t0, 0.25, 2.0, "BEGIN IMMEDIATE waiting for a write lock released after 300 ms");
    later_join(&l);
    OK(f.b, dbal_commit(f.b));
    assert_int_equal(test_scalar(f.b, "SELECT count(*) FROM t"), 2);
    lock_teardown(&f);
}

/* Eight connections opening a new file at once, each switching it to WAL:
 * SQLite refuses all but one at once (no busy handler asked); they must
 * wait, not fail with DBAL_EBUSY. 200 new files, or 3 s (valgrind). */
typedef struct {
    dbal_engine *e;
    pthread_barrier_t *start;
    int failures;
} opener_arg;

static void *open_at_once(void *p)
{
    opener_arg *o = p;
    dbal_session *s;
    dbal_session_open(o->e, &s, NULL);
    pthread_barrier_wait(o->start);
    if (dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL) != DBAL_OK) {
        fprintf(stderr, "opening a new file: %s\n", dbal_session_error(s)->message);
        o->failures++;
    }
    dbal_session_close(s);
    return NULL;
}

static void test_new_file_opened_at_once(void **state)
{
    enum { N = 8 };
    char *dir = test_tmpdir();
    double end = test_now() + 3;
    int failures = 0;
    for (int round = 0; round < 200 && test_now() < end; round++) {
        char name[32];
        snprintf(name, sizeof name, "new%d.db", round);
        dbal_engine *e;
        assert_int_equal(dbal_engine_open(&e, file_url(dir, name, "?pool_size=8"), NULL), DBAL_OK);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, N);
        pthread_t t[N];
        opener_arg o[N];
        for (int i = 0; i < N; i++) {
            o[i] = (opener_arg){e, &start, 0};
            pthread_create(&t[i], NULL, open_at_once, &o[i]);
        }
        for (int i = 0; i < N; i++) {
            pthread_join(t[i], NULL);
            failures += o[i].failures;
        }
        pthread_barrier_destroy(&start);
        dbal_engine_close(e);
    }
    assert_int_equal(failures, 0);
    test_rmdir(dir);
}

/* Running the same SQL again while a cursor reads its cached statement. */
static void test_same_sql_nested(void **state)
{
    dbal_engine *e;
    dbal_session *s;
    assert_int_equal(dbal_engine_open(&e, "sqlite::memory:?statement_cache_size=1", NULL), DBAL_OK);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE t(x INTEGER)", DBAL_NOARGS, NULL));
    for (int i = 1; i <= 3; i++)
        OK(s, dbal_exec(s, "INSERT INTO t VALUES (?)", DBAL_ARGS(dbal_int64(i)), NULL));
    const char *sql = "SELECT x FROM t WHERE x >= ? ORDER BY x";
    dbal_rows *outer, *inner;
    OK(s, dbal_query(s, sql, DBAL_ARGS(dbal_int64(1)), &outer));
    int64_t sum = 0;
    while (dbal_rows_next(outer) == DBAL_ROW) {
        OK(s, dbal_query(s, sql, DBAL_ARGS(dbal_int64(dbal_col_int64(outer, 0))), &inner));
        while (dbal_rows_next(inner) == DBAL_ROW)
            sum += dbal_col_int64(inner, 0);
        dbal_rows_close(inner);
        /* Another statement evicts the one the outer cursor reads (cache of 1). */
        assert_int_equal(test_scalar(s, "SELECT 1"), 1);
    }
    dbal_rows_close(outer);
    assert_int_equal(sum, (1 + 2 + 3) + (2 + 3) + 3);
    dbal_session_close(s);
    dbal_engine_close(e);
}

static void test_path_with_special_characters(void **state)
{
    char *dir = test_tmpdir();
    dbal_engine *e;
    dbal_session *s;
    char url[600];
    snprintf(url, sizeof url, "sqlite://%s/we%%20ird%%3Fname%%23x.db", dir);
    assert_int_equal(dbal_engine_open(&e, url, NULL), DBAL_OK);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE t(x)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
    char path[600];
    snprintf(path, sizeof path, "%s/we ird?name#x.db", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fclose(f);
    test_rmdir(dir);
}

/*
 * A database file deleted while the engine is open: the engine's idle
 * connections still point at the unlinked file, and a new connection would
 * create an empty one beside it. Checkout notices (SQLite's HAS_MOVED) and
 * refuses, rather than write where no one will ever read.
 */
static void deleted_under(int pre_ping)
{
    char *dir = test_tmpdir();
    dbal_engine *e;
    dbal_session *s;
    char path[600];
    snprintf(path, sizeof path, "%s/gone.db", dir);
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "gone.db", pre_ping ? "?pool_pre_ping=true" : NULL),
                                      NULL),
                     DBAL_OK);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE t(x INTEGER)", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "INSERT INTO t VALUES (1)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    assert_int_equal(unlink(path), 0);
    if (pre_ping)
        usleep(600000); /* past pre-ping's bypass window for a connection just used */
    dbal_session_open(e, &s, NULL);
    EXPECT_RC(s, dbal_exec(s, "INSERT INTO t VALUES (2)", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    assert_non_null(strstr(dbal_session_error(s)->message, "gone.db' was deleted or renamed"));
    assert_int_equal(access(path, F_OK), -1); /* no empty database made in its place */
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.discarded, 1);
    /* And every checkout after: the engine does not come back by itself. */
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    dbal_session_close(s);
    dbal_engine_close(e);
    /* Reopening the engine is the way to start on a new file. */
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "gone.db", NULL), NULL), DBAL_OK);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE t(x INTEGER)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
    test_rmdir(dir);
}

static void test_file_deleted(void **state)
{
    deleted_under(0); /* the driver's check at every checkout */
    deleted_under(1);
}

/* Connections after the first open the file without SQLITE_OPEN_CREATE; a
 * URL's mode=rwc must not make SQLite refuse them. */
static void test_mode_rwc(void **state)
{
    char *dir = test_tmpdir();
    dbal_engine *e;
    dbal_session *a, *b;
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "rwc.db", "?mode=rwc"), NULL), DBAL_OK);
    dbal_session_open(e, &a, NULL);
    dbal_session_open(e, &b, NULL);
    OK(a, dbal_exec(a, "CREATE TABLE t(x INTEGER)", DBAL_NOARGS, NULL));
    assert_int_equal(test_scalar(b, "SELECT count(*) FROM t"), 0);
    dbal_session_close(a);
    dbal_session_close(b);
    dbal_engine_close(e);
    test_rmdir(dir);
}

/* Another database renamed over the file: the engine refuses it too (a
 * new file beside the old one's -wal could pair with it), until reopened. */
static void test_file_replaced(void **state)
{
    char *dir = test_tmpdir();
    dbal_engine *e, *other;
    dbal_session *s;
    char path[600], other_path[600];
    snprintf(path, sizeof path, "%s/main.db", dir);
    snprintf(other_path, sizeof other_path, "%s/other.db", dir);
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "main.db", "?pool_pre_ping=1"), NULL), DBAL_OK);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE t(x INTEGER)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    assert_int_equal(dbal_engine_open(&other, file_url(dir, "other.db", NULL), NULL), DBAL_OK);
    dbal_session_open(other, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE u(y INTEGER)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(other);
    assert_int_equal(rename(other_path, path), 0);
    usleep(600000);
    dbal_session_open(e, &s, NULL);
    EXPECT_RC(s, dbal_exec(s, "SELECT count(*) FROM t", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    assert_non_null(strstr(dbal_session_error(s)->message, "main.db' was replaced by another file"));
    dbal_session_close(s);
    dbal_engine_close(e);
    /* The old file's -wal is still at the path (SQLite does not checkpoint
     * a moved file on close) and would be read as the new file's: whoever
     * replaces a database file removes it, the engine closed. */
    for (size_t i = 0; i < 2; i++) {
        char side[620];
        snprintf(side, sizeof side, "%s%s", path, i ? "-shm" : "-wal");
        unlink(side);
    }
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "main.db", NULL), NULL), DBAL_OK);
    dbal_session_open(e, &s, NULL);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM u"), 0);
    dbal_session_close(s);
    dbal_engine_close(e);
    test_rmdir(dir);
}

/* query_only is dbal's to set: an application statement cannot lift it in
 * a read-only session or transaction, nor leave a pooled connection in it. */
static void test_query_only_is_dbal_s(void **state)
{
    static const char *const lifts[] = {"PRAGMA query_only=0", "pragma QUERY_ONLY = false",
                                        "PRAGMA main.query_only(0)"};
    dbal_engine *e;
    dbal_session *ro, *rw;
    assert_int_equal(dbal_engine_open(&e, "sqlite::memory:", NULL), DBAL_OK);
    dbal_session_open(e, &rw, NULL);
    OK(rw, dbal_exec(rw, "CREATE TABLE t(x INTEGER)", DBAL_NOARGS, NULL));
    assert_int_equal(dbal_session_open_with(e, &ro, DBAL_SESSION_READ_ONLY, NULL, NULL), DBAL_OK);
    for (size_t i = 0; i < sizeof lifts / sizeof lifts[0]; i++) {
        EXPECT_RC(ro, dbal_exec(ro, lifts[i], DBAL_NOARGS, NULL), DBAL_EPERM);
        assert_non_null(strstr(dbal_session_error(ro)->message, "query_only"));
    }
    assert_int_equal(test_scalar(ro, "PRAGMA query_only"), 1); /* reading it is fine */
    EXPECT_RC(ro, dbal_exec(ro, "INSERT INTO t VALUES (1)", DBAL_NOARGS, NULL), DBAL_EREADONLY);
    OK(rw, dbal_begin_with(rw, DBAL_TX_READ_ONLY));
    EXPECT_RC(rw, dbal_exec(rw, "PRAGMA query_only=0", DBAL_NOARGS, NULL), DBAL_EPERM);
    OK(rw, dbal_rollback(rw));
    EXPECT_RC(rw, dbal_exec(rw, "PRAGMA query_only=1", DBAL_NOARGS, NULL), DBAL_EPERM);
    OK(rw, dbal_exec(rw, "INSERT INTO t VALUES (1)", DBAL_NOARGS, NULL));
    dbal_session_close(ro);
    dbal_session_close(rw);
    dbal_engine_close(e);
}

/* busy_timeout stays what the URL says: a statement cannot replace dbal's
 * busy handler (which honours cancel and timeouts) with SQLite's; and
 * _pragma=busy_timeout(ms) is the URL's busy_timeout. */
static void test_busy_timeout_is_dbal_s(void **state)
{
    char *dir = test_tmpdir();
    dbal_engine *e;
    dbal_session *a, *b;
    assert_int_equal(dbal_engine_open(&e, file_url(dir, "bt.db", "?_pragma=busy_timeout(100)"), NULL),
                     DBAL_OK);
    dbal_session_open(e, &a, NULL);
    dbal_session_open(e, &b, NULL);
    EXPECT_RC(a, dbal_exec(a, "PRAGMA busy_timeout=20000", DBAL_NOARGS, NULL), DBAL_EPERM);
    assert_non_null(strstr(dbal_session_error(a)->message, "busy_timeout"));
    OK(a, dbal_exec(a, "CREATE TABLE t(x)", DBAL_NOARGS, NULL));
    OK(a, dbal_begin(a));
    double t0 = test_now();
    EXPECT_RC(b, dbal_begin(b), DBAL_EBUSY);
    took(t0, 0.09, 2.0, "BEGIN IMMEDIATE with _pragma=busy_timeout(100)");
    OK(a, dbal_rollback(a));
    dbal_session_close(a);
    dbal_session_close(b);
    dbal_engine_close(e);
    test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_defaults),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_cannot_open),
        cmocka_unit_test(test_read_only_mode),
        cmocka_unit_test(test_one_statement_per_call),
        cmocka_unit_test(test_error_messages_mapped),
        cmocka_unit_test(test_memory_engines),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_busy_timeout),
        cmocka_unit_test(test_same_sql_nested),
        cmocka_unit_test(test_path_with_special_characters),
        cmocka_unit_test(test_lock_wait_timeout),
        cmocka_unit_test(test_lock_wait_cancel),
        cmocka_unit_test(test_lock_wait_released),
        cmocka_unit_test(test_file_deleted),
        cmocka_unit_test(test_mode_rwc),
        cmocka_unit_test(test_file_replaced),
        cmocka_unit_test(test_query_only_is_dbal_s),
        cmocka_unit_test(test_busy_timeout_is_dbal_s),
        cmocka_unit_test(test_new_file_opened_at_once),
    };
    return cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
}
