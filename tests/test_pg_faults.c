/*
 * The pool against a real PostgreSQL server and real faults: a server
 * restart under load, backends killed while the pool idles, many threads on
 * few connections. Needs DBAL_TEST_PG_URL and, for the restart, the
 * DBAL_TEST_PG_* variables that tests/pg_cluster.sh writes; skipped without
 * them unless DBAL_TEST_REQUIRE_PG=1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static const char *pg_url;

/* The test URL with options appended. */
static const char *url_with(char *buf, size_t cap, const char *opts)
{
    snprintf(buf, cap, "%s%s%s", pg_url, strchr(pg_url, '?') ? "&" : "?", opts);
    return buf;
}

static dbal_engine *open_engine(const char *opts)
{
    char url[1024];
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, url_with(url, sizeof url, opts), &err) != DBAL_OK)
        fail_msg("engine: %s", err.message);
    return e;
}

/* Our connections as the server sees them, by application_name. */
static int64_t backends(dbal_session *admin, const char *app)
{
    dbal_rows *r;
    int64_t n = -1;
    if (dbal_query(admin, "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?",
                   DBAL_ARGS(dbal_text(app)), &r) == DBAL_OK) {
        if (dbal_rows_next(r) == DBAL_ROW)
            n = dbal_col_int64(r, 0);
        dbal_rows_close(r);
    }
    return n;
}

static void terminate_backends(const char *app)
{
    dbal_engine *e = open_engine("application_name=dbal_admin");
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?",
                    DBAL_ARGS(dbal_text(app)), NULL));
    /* pg_terminate_backend only signals: wait until they are gone. */
    for (int i = 0; i < 500 && backends(s, app) > 0; i++)
        usleep(10000);
    assert_int_equal(backends(s, app), 0);
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* Fills the pool with n idle connections. */
static void warm(dbal_engine *e, int n)
{
    dbal_session *s[16];
    for (int i = 0; i < n; i++) {
        dbal_session_open(e, &s[i], NULL);
        OK(s[i], dbal_exec(s[i], "SELECT 1", DBAL_NOARGS, NULL));
    }
    for (int i = 0; i < n; i++)
        dbal_session_close(s[i]);
}

static void test_killed_backends_with_pre_ping(void **state)
{
    dbal_engine *e = open_engine("application_name=dbal_fault_ping&pool_size=3&pool_pre_ping=true");
    warm(e, 3);
    terminate_backends("dbal_fault_ping");
    usleep(600000); /* past pre-ping's 0.5 s bypass window */
    for (int round = 0; round < 3; round++) {
        dbal_session *s[2];
        for (int i = 0; i < 2; i++) {
            dbal_session_open(e, &s[i], NULL);
            OK(s[i], dbal_exec(s[i], "SELECT 1", DBAL_NOARGS, NULL));
        }
        for (int i = 0; i < 2; i++)
            dbal_session_close(s[i]);
    }
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_true(st.discarded >= 1); /* the dead ones were found and replaced */
    assert_int_equal(st.timeouts, 0);
    dbal_engine_close(e);
}

static void test_killed_backends_without_pre_ping(void **state)
{
    dbal_engine *e = open_engine("application_name=dbal_fault_noping&pool_size=2");
    warm(e, 2);
    terminate_backends("dbal_fault_noping");
    /* The server said goodbye to each idle connection (a FATAL message,
     * then EOF): the checkout's look at the socket, which costs no round
     * trip, discards them without pre-ping too, and no statement fails. */
    for (int round = 0; round < 3; round++) {
        dbal_session *s[2];
        for (int i = 0; i < 2; i++) {
            dbal_session_open(e, &s[i], NULL);
            OK(s[i], dbal_exec(s[i], "SELECT 1", DBAL_NOARGS, NULL));
        }
        for (int i = 0; i < 2; i++)
            dbal_session_close(s[i]);
    }
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.discarded, 2);

    /* A connection that dies while a session holds it fails the session's
     * next statement with DBAL_ECONNLOST, which is never run again (it
     * might have committed); the next session gets a new connection. */
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    terminate_backends("dbal_fault_noping");
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNLOST);
    assert_string_equal(dbal_session_error(s)->sqlstate, "08006");
    dbal_session_close(s);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* A session inside a transaction whose connection dies stays failed until
 * it rolls back; then it works on a new connection. */
static void test_connection_lost_in_transaction(void **state)
{
    dbal_engine *e = open_engine("application_name=dbal_fault_tx&pool_size=1");
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_begin(s));
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    terminate_backends("dbal_fault_tx");
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNLOST);
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_RC(s, dbal_commit(s), DBAL_ETXFAILED);
    assert_int_equal(dbal_tx_depth(s), 0);
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* ---- many threads, few connections ---- */

typedef struct {
    dbal_engine *e;
    int sessions;
    int failures;
} many_arg;

static void *many_sessions(void *p)
{
    many_arg *a = p;
    for (int i = 0; i < a->sessions; i++) {
        dbal_session *s;
        if (dbal_session_open(a->e, &s, NULL) != DBAL_OK ||
            dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL) != DBAL_OK) {
            fprintf(stderr, "session failed: %s\n", dbal_session_error(s)->message);
            a->failures++;
        }
        dbal_session_close(s);
    }
    return NULL;
}

static atomic_int sampling;
static void *sample_backends(void *p)
{
    int64_t *max = p;
    dbal_engine *e = open_engine("application_name=dbal_admin2");
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    while (atomic_load(&sampling)) {
        int64_t n = backends(s, "dbal_many");
        if (n > *max)
            *max = n;
        usleep(5000);
    }
    dbal_session_close(s);
    dbal_engine_close(e);
    return NULL;
}

static void test_many_threads_few_connections(void **state)
{
    enum { THREADS = 64 };
    int per_thread = getenv("DBAL_TEST_QUICK") ? 100 : 1000;
    dbal_engine *e = open_engine("application_name=dbal_many&pool_size=4&max_overflow=2&pool_timeout=120");
    int64_t max_seen = 0;
    pthread_t sampler, t[THREADS];
    many_arg a[THREADS];
    atomic_store(&sampling, 1);
    pthread_create(&sampler, NULL, sample_backends, &max_seen);
    double t0 = test_now();
    for (int i = 0; i < THREADS; i++) {
        a[i] = (many_arg){e, per_thread, 0};
        pthread_create(&t[i], NULL, many_sessions, &a[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].failures, 0);
    }
    double took = test_now() - t0;
    atomic_store(&sampling, 0);
    pthread_join(sampler, NULL);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    printf("# %d sessions on 64 threads in %.2fs; server saw at most %lld of our connections; "
           "%llu connects\n",
           THREADS * per_thread, took, (long long)max_seen, (unsigned long long)st.connects);
    assert_true(max_seen >= 1 && max_seen <= 6);
    assert_int_equal(st.checkouts, (uint64_t)THREADS * per_thread);
    assert_int_equal(st.timeouts, 0);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.waiting, 0);
    assert_true(st.open <= 4 && st.idle == st.open);
    assert_true(st.connects <= 6 + st.discarded + 64); /* overflow ones come and go, but not per session */
    dbal_engine_close(e);
}

/* ---- a server restart under load ---- */

enum { WRITERS = 8, MAX_WRITES = 100000 };

typedef struct {
    dbal_engine *e;
    int id;
    int n;
    signed char outcome[MAX_WRITES]; /* 1 committed, 0 failed before commit, 2 unknown */
    double first_ok_after_restart;
} writer;

static atomic_int writing;
static _Atomic double restarted_at;

static void *write_rows(void *p)
{
    writer *w = p;
    while (atomic_load(&writing) && w->n < MAX_WRITES) {
        int seq = w->n++;
        dbal_session *s;
        dbal_session_open(w->e, &s, NULL);
        int rc = dbal_begin(s);
        if (rc == DBAL_OK)
            rc = dbal_exec(s, "INSERT INTO fault_writes(writer, seq) VALUES (?, ?)",
                           DBAL_ARGS(dbal_int64(w->id), dbal_int64(seq)), NULL);
        if (rc == DBAL_OK) {
            rc = dbal_commit(s);
            /* A commit whose answer was lost may or may not have happened. */
            w->outcome[seq] = rc == DBAL_OK ? 1 : rc == DBAL_ECONNLOST ? 2 : 0;
        } else {
            w->outcome[seq] = 0;
        }
        dbal_session_close(s);
        double back = atomic_load(&restarted_at);
        if (rc == DBAL_OK && back > 0 && w->first_ok_after_restart == 0 && test_now() >= back)
            w->first_ok_after_restart = test_now();
        usleep(rc == DBAL_OK ? 1000 : 5000);
    }
    return NULL;
}

static void test_restart_under_load(void **state)
{
    if (!getenv("DBAL_TEST_PG_DATADIR")) {
        if (getenv("DBAL_TEST_REQUIRE_PG"))
            fail_msg("DBAL_TEST_PG_DATADIR is not set: cannot restart the server");
        skip();
    }
    dbal_engine *e = open_engine("application_name=dbal_restart&pool_size=4&pool_timeout=30");
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "DROP TABLE IF EXISTS fault_writes", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "CREATE TABLE fault_writes(writer INT, seq INT, PRIMARY KEY (writer, seq))",
                    DBAL_NOARGS, NULL));
    dbal_session_close(s);

    static writer w[WRITERS];
    pthread_t t[WRITERS];
    atomic_store(&writing, 1);
    atomic_store(&restarted_at, 0.0);
    for (int i = 0; i < WRITERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].e = e;
        w[i].id = i;
        pthread_create(&t[i], NULL, write_rows, &w[i]);
    }
    usleep(500000);
    assert_int_equal(test_pg_restart(), 0);
    atomic_store(&restarted_at, test_now());
    usleep(2000000);
    atomic_store(&writing, 0);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);

    /* Every write the library called committed is there; none it called
     * failed is; the unknown ones may be either. */
    dbal_session_open(e, &s, NULL);
    int counts[3] = {0};
    for (int i = 0; i < WRITERS; i++)
        test_check_writes(s, "SELECT count(*) FROM fault_writes WHERE writer = ? AND seq = ?", i,
                          w[i].outcome, w[i].n, counts);
    int committed = counts[1], failed = counts[0], unknown = counts[2];
    dbal_session_close(s);
    /* Within a second of the server being back, every writer succeeded. */
    double slowest = 0;
    for (int i = 0; i < WRITERS; i++) {
        assert_true(w[i].first_ok_after_restart > 0);
        double d = w[i].first_ok_after_restart - atomic_load(&restarted_at);
        if (d > slowest)
            slowest = d;
    }
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    printf("# restart under load: %d committed, %d failed, %d unknown (commit answer lost); "
           "every writer succeeded again %.3fs after the server was back; %llu connections discarded\n",
           committed, failed, unknown, slowest, (unsigned long long)st.discarded);
    assert_true(committed > 0);
    /* The bound is a second; sanitizers slow every step several
     * times over, so their builds get more room. */
    double bound = getenv("TSAN_OPTIONS") || getenv("ASAN_OPTIONS") ? 3.0 : 1.0;
    assert_true(slowest < bound);
    dbal_engine_close(e);
}

/* A session's SET does not leak into the next user of the connection;
 * SET LOCAL ends with its transaction anyway. */
static void test_settings_reset_on_return(void **state)
{
    dbal_engine *e = open_engine("application_name=dbal_reset&pool_size=1&statement_timeout=5000");
    dbal_session *s;
    char buf[64];
    dbal_session_open(e, &s, NULL);
    assert_string_equal(test_scalar_text(s, "SHOW work_mem", buf, sizeof buf), "4MB");
    OK(s, dbal_exec(s, "SET work_mem = '7MB'", DBAL_NOARGS, NULL));
    assert_string_equal(test_scalar_text(s, "SHOW work_mem", buf, sizeof buf), "7MB");
    dbal_session_close(s);
    dbal_session_open(e, &s, NULL);
    assert_string_equal(test_scalar_text(s, "SHOW work_mem", buf, sizeof buf), "4MB");
    /* The engine's statement timeout survives the RESET ALL. */
    assert_string_equal(test_scalar_text(s, "SHOW statement_timeout", buf, sizeof buf), "5s");
    dbal_session_close(s);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.connects, 1); /* the same connection, cleaned */
    dbal_engine_close(e);
}

static void test_pool_exhaustion(void **state)
{
    dbal_engine *e = open_engine("application_name=dbal_exhaust&pool_size=1&max_overflow=0&pool_timeout=0.3");
    dbal_session *a, *b;
    dbal_session_open(e, &a, NULL);
    dbal_session_open(e, &b, NULL);
    OK(a, dbal_begin(a));
    double t0 = test_now();
    EXPECT_RC(b, dbal_exec(b, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EPOOLTIMEOUT);
    double took = test_now() - t0;
    assert_true(took >= 0.29 && took < 5);
    dbal_session_close(a);
    OK(b, dbal_exec(b, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(b);
    dbal_engine_close(e);
}

/* ---- a server that refuses connections because it is full ---- */

/* The test URL with another role's credentials. */
static const char *url_as(char *buf, size_t cap, const char *userinfo, const char *opts)
{
    const char *auth = strstr(pg_url, "://");
    assert_non_null(auth);
    auth += 3;
    const char *at = strchr(auth, '@'), *end = auth + strcspn(auth, "/?");
    const char *hosts = at && at < end ? at + 1 : auth;
    snprintf(buf, cap, "%.*s%s@%s%s%s", (int)(auth - pg_url), pg_url, userinfo, hosts,
             strchr(pg_url, '?') ? "&" : "?", opts);
    return buf;
}

static dbal_engine *open_limited(const char *opts)
{
    char url[1024];
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, url_as(url, sizeof url, "dbal_limited:limited-pw", opts), &err) != DBAL_OK)
        fail_msg("engine: %s", err.message);
    return e;
}

typedef struct {
    dbal_session *s;
    dbal_engine *e;
    useconds_t after;
} release_arg;

static void *release_later(void *p)
{
    release_arg *a = p;
    usleep(a->after);
    dbal_session_close(a->s);
    dbal_engine_close(a->e);
    return NULL;
}

/* A role limited to one connection makes the server answer 53300 ("too
 * many connections for role") as a full server does: sessions wait within
 * pool_timeout for the server to make room, then fail with that SQLSTATE. */
static void test_server_full_waits(void **state)
{
    dbal_engine *admin = open_engine("application_name=dbal_admin3");
    dbal_session *as;
    dbal_session_open(admin, &as, NULL);
    OK(as, dbal_exec(as, "DROP ROLE IF EXISTS dbal_limited", DBAL_NOARGS, NULL));
    OK(as, dbal_exec(as, "CREATE ROLE dbal_limited LOGIN PASSWORD 'limited-pw' CONNECTION LIMIT 1",
                     DBAL_NOARGS, NULL));

    dbal_engine *holder = open_limited("pool_size=1");
    dbal_session *h;
    dbal_session_open(holder, &h, NULL);
    OK(h, dbal_exec(h, "SELECT 1", DBAL_NOARGS, NULL));

    /* Full all along: the wait ends at pool_timeout with the server's
     * SQLSTATE, not at once. */
    dbal_engine *e = open_limited("pool_size=1&pool_timeout=0.5");
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    double t0 = test_now();
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    double took = test_now() - t0;
    assert_string_equal(dbal_session_error(s)->sqlstate, "53300");
    assert_null(strstr(dbal_session_error(s)->message, "limited-pw"));
    assert_true(took >= 0.45);
    dbal_session_close(s);
    dbal_engine_close(e);

    /* Room made while waiting: the session gets in. */
    e = open_limited("pool_size=1&pool_timeout=30");
    dbal_session_open(e, &s, NULL);
    release_arg rel = {h, holder, 300000};
    pthread_t t;
    pthread_create(&t, NULL, release_later, &rel);
    t0 = test_now();
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    took = test_now() - t0;
    pthread_join(t, NULL);
    assert_true(took >= 0.25);
    dbal_session_close(s);
    dbal_engine_close(e);

    /* Other refusals are not waited out: a wrong password fails at once. */
    char url[1024];
    dbal_error err;
    assert_int_equal(dbal_engine_open(&e, url_as(url, sizeof url, "dbal_limited:wrong-pw", "pool_timeout=30"),
                                      &err),
                     DBAL_OK);
    dbal_session_open(e, &s, NULL);
    t0 = test_now();
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    assert_string_equal(dbal_session_error(s)->sqlstate, "28P01");
    assert_true(test_now() - t0 < 15);
    dbal_session_close(s);
    dbal_engine_close(e);

    OK(as, dbal_exec(as, "DROP ROLE dbal_limited", DBAL_NOARGS, NULL));
    dbal_session_close(as);
    dbal_engine_close(admin);
}

/* Rows for a batch whose connection is killed at row kill_at: the row
 * source (which runs inside the batch, on its thread) terminates the
 * batch's server process, then keeps producing rows. */
typedef struct {
    const char *app;
    size_t kill_at, nrows;
    int killed;
} killing_rows;

static int rows_then_kill(void *ud, size_t row, dbal_value *values)
{
    killing_rows *k = ud;
    if (row >= k->nrows)
        return DBAL_DONE;
    if (row == k->kill_at) {
        terminate_backends(k->app);
        k->killed = 1;
    }
    values[0] = dbal_int64((int64_t)row);
    values[1] = dbal_int64((int64_t)row * 7);
    return DBAL_OK;
}

/* A batch whose connection dies fails with DBAL_ECONNLOST and names no
 * row: no row failed. Through COPY (a plain INSERT of placeholders) and
 * through the pipeline (ON CONFLICT, RETURNING). */
static void test_batch_connection_lost_names_no_row(void **state)
{
    (void)state;
    static const char *const sqls[] = {
        "INSERT INTO fault_batch(id, v) VALUES (?, ?)",
        "INSERT INTO fault_batch(id, v) VALUES (?, ?) ON CONFLICT DO NOTHING",
        "INSERT INTO fault_batch(id, v) VALUES (?, ?) RETURNING id",
    };
    dbal_engine *e = open_engine("application_name=dbal_batch_victim");
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "DROP TABLE IF EXISTS fault_batch", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "CREATE TABLE fault_batch(id BIGINT PRIMARY KEY, v BIGINT)", DBAL_NOARGS, NULL));
    for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++) {
        killing_rows k = {.app = "dbal_batch_victim", .kill_at = 5000, .nrows = 300000};
        size_t failed = 12345;
        int64_t n = -1;
        int rc = dbal_exec_batch_fn(s, sqls[i], 2, rows_then_kill, &k, &n, &failed);
        assert_true(k.killed);
        if (rc != DBAL_ECONNLOST || failed != (size_t)-1)
            fail_msg("%s: %s (%s), failed_row %zd; expected DBAL_ECONNLOST and no row", sqls[i],
                     dbal_code_name(rc), dbal_session_error(s)->message, (ssize_t)failed);
        assert_int_equal(n, 0);
        /* The session goes on, on a new connection; nothing was kept. */
        assert_int_equal(dbal_tx_depth(s), 0);
        assert_int_equal(test_scalar(s, "SELECT count(*) FROM fault_batch"), 0);
    }
    OK(s, dbal_exec(s, "DROP TABLE fault_batch", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
}

int main(void)
{
    pg_url = getenv("DBAL_TEST_PG_URL");
    if (!pg_url || !*pg_url) {
        if (getenv("DBAL_TEST_REQUIRE_PG") && strcmp(getenv("DBAL_TEST_REQUIRE_PG"), "1") == 0) {
            fprintf(stderr, "test_pg_faults: DBAL_TEST_REQUIRE_PG=1 but DBAL_TEST_PG_URL is not set\n");
            return 1;
        }
        printf("test_pg_faults: DBAL_TEST_PG_URL not set, skipped\n");
        return 77;
    }
    dbal_set_log(NULL, NULL); /* engines closed mid-fault are expected here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_backends_with_pre_ping),
        cmocka_unit_test(test_killed_backends_without_pre_ping),
        cmocka_unit_test(test_connection_lost_in_transaction),
        cmocka_unit_test(test_pool_exhaustion),
        cmocka_unit_test(test_server_full_waits),
        cmocka_unit_test(test_settings_reset_on_return),
        cmocka_unit_test(test_many_threads_few_connections),
        cmocka_unit_test(test_restart_under_load),
        cmocka_unit_test(test_batch_connection_lost_names_no_row),
    };
    return cmocka_run_group_tests_name("pg_faults", tests, NULL, NULL);
}
