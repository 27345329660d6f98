/*
 * A real primary and a streaming standby (started by tests/test_cluster.sh):
 * read replicas (blocking and asynchronous sessions, full replicas passed
 * over, one deadline per checkout, per-replica counters), then failover
 * through a multi-host URL while four threads write through one engine.
 *
 * Environment (set by test_cluster.sh): DBAL_TEST_PRIMARY_PORT,
 * DBAL_TEST_STANDBY_PORT, DBAL_TEST_PRIMARY_DIR, DBAL_TEST_STANDBY_DIR and
 * DBAL_TEST_CLUSTER_SCRIPT (tests/pg_cluster.sh, to stop and promote).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <unistd.h>

#define CREDS "dbal:dbal-test-pw"
#define DB "dbal_test"

static const char *primary_port, *standby_port;

static dbal_engine *open_url(const char *url)
{
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, url, &err) != DBAL_OK)
        fail_msg("engine %s: %s", url, err.message);
    return e;
}

/* An engine on one server, by port. */
static dbal_engine *open_at(const char *port, const char *opts)
{
    char url[512];
    snprintf(url, sizeof url, "postgresql://" CREDS "@127.0.0.1:%s/" DB "?%s", port, opts);
    return open_url(url);
}

static int cluster(const char *verb, const char *dir_var)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s '%s' >/dev/null", getenv("DBAL_TEST_CLUSTER_SCRIPT"), verb,
             getenv(dir_var));
    return system(cmd);
}

/* Runs sql on the server at port in a session of its own. */
static void run_at(const char *port, const char *sql)
{
    dbal_engine *e = open_at(port, "pool_size=1");
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, sql, DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* Waits until the standby has replayed everything the primary has written
 * so far: up to the WAL insert position, since with synchronous_commit=off
 * (tests/pg_cluster.sh) a commit may not have been written out yet. */
static void wait_for_replay(void)
{
    dbal_engine *p = open_at(primary_port, "pool_size=1"), *r = open_at(standby_port, "pool_size=1");
    dbal_session *ps, *rs;
    dbal_session_open(p, &ps, NULL);
    dbal_session_open(r, &rs, NULL);
    char lsn[64];
    test_scalar_text(ps, "SELECT pg_current_wal_insert_lsn()::text", lsn, sizeof lsn);
    assert_true(lsn[0] != '\0');
    int caught_up = 0;
    for (int i = 0; i < 1000 && !caught_up; i++) {
        dbal_rows *q;
        OK(rs, dbal_query(rs, "SELECT pg_last_wal_replay_lsn() >= ?::pg_lsn", DBAL_ARGS(dbal_text(lsn)), &q));
        caught_up = dbal_rows_next(q) == DBAL_ROW && dbal_col_bool(q, 0);
        dbal_rows_close(q);
        if (!caught_up)
            usleep(10000);
    }
    assert_true(caught_up);
    dbal_session_close(ps);
    dbal_session_close(rs);
    dbal_engine_close(p);
    dbal_engine_close(r);
}

/* ---- read replicas ---------------------------------------------------------- */

/* Where a session's statements run: 1 on a standby, 0 on a primary. */
static int64_t on_standby(dbal_session *s)
{
    return test_scalar(s, "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END");
}

static dbal_session *open_ro(dbal_engine *e)
{
    dbal_session *s;
    dbal_error err;
    if (dbal_session_open_with(e, &s, DBAL_SESSION_READ_ONLY, "reader", &err) != DBAL_OK)
        fail_msg("session: %s", err.message);
    return s;
}

static void test_replica_reads(void **state)
{
    (void)state;
    char opts[128];
    snprintf(opts, sizeof opts, "replica=127.0.0.1:%s&pool_size=2", standby_port);
    dbal_engine *e = open_at(primary_port, opts);
    dbal_session *w;
    dbal_session_open(e, &w, NULL);
    OK(w, dbal_exec(w, "DROP TABLE IF EXISTS replica_rows", DBAL_NOARGS, NULL));
    OK(w, dbal_exec(w, "CREATE TABLE replica_rows(id INT PRIMARY KEY)", DBAL_NOARGS, NULL));
    OK(w, dbal_exec(w, "INSERT INTO replica_rows SELECT generate_series(1, 3)", DBAL_NOARGS, NULL));
    assert_int_equal(on_standby(w), 0); /* sessions without the flag: the primary */
    dbal_session_close(w);
    wait_for_replay();

    for (int i = 0; i < 3; i++) {
        dbal_session *r = open_ro(e);
        assert_int_equal(on_standby(r), 1);
        if (test_scalar(r, "SELECT count(*) FROM replica_rows") != 3)
            fail_msg("replica read: %s", dbal_session_error(r)->message);
        EXPECT_RC(r, dbal_exec(r, "INSERT INTO replica_rows VALUES (4)", DBAL_NOARGS, NULL), DBAL_EREADONLY);
        assert_string_equal(dbal_session_error(r)->sqlstate, "25006");
        dbal_session_close(r);
    }
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.connects, 1); /* the primary pool only served the writer */
    dbal_engine_close(e);
}

/* A replica that is down is skipped: every read lands on the one that is
 * up, round-robin or not. */
static void test_replica_down_is_skipped(void **state)
{
    (void)state;
    char opts[128];
    snprintf(opts, sizeof opts, "replica=127.0.0.1:1&replica=127.0.0.1:%s", standby_port);
    dbal_engine *e = open_at(primary_port, opts);
    for (int i = 0; i < 6; i++) {
        dbal_session *r = open_ro(e);
        assert_int_equal(on_standby(r), 1);
        dbal_session_close(r);
    }
    dbal_engine_close(e);
}

/* Replicas given in code replace the URL's. */
static void test_replicas_from_code(void **state)
{
    (void)state;
    char url[256], list[64];
    snprintf(url, sizeof url, "postgresql://" CREDS "@127.0.0.1:%s/" DB "?replica=127.0.0.1:1", primary_port);
    snprintf(list, sizeof list, "127.0.0.1:%s", standby_port);
    dbal_engine_options o;
    dbal_engine_options_init(&o);
    o.replicas = list;
    o.replica_fallback = 0;
    dbal_engine *e;
    dbal_error err;
    assert_int_equal(dbal_engine_open_with(&e, url, &o, &err), DBAL_OK);
    dbal_session *r = open_ro(e);
    assert_int_equal(on_standby(r), 1);
    dbal_session_close(r);
    dbal_engine_close(e);
    /* A malformed list is the URL's error, at open. */
    o.replicas = "127.0.0.1:99999";
    assert_int_equal(dbal_engine_open_with(&e, url, &o, &err), DBAL_EURL);
    assert_non_null(strstr(err.message, "replica"));
}

/* With no replica up, reads use the primary (read-only there too), or fail
 * when replica_fallback is off. Run after the failover: the old primary,
 * named as the replica, is down. */
static void test_replica_fallback(void **state)
{
    (void)state;
    char opts[128];
    snprintf(opts, sizeof opts, "replica=127.0.0.1:%s", primary_port);
    dbal_engine *e = open_at(standby_port, opts); /* the new primary */
    dbal_session *r = open_ro(e);
    assert_int_equal(on_standby(r), 0);
    assert_int_equal(test_scalar(r, "SELECT count(*) FROM replica_rows"), 3);
    EXPECT_RC(r, dbal_exec(r, "INSERT INTO replica_rows VALUES (5)", DBAL_NOARGS, NULL), DBAL_EREADONLY);
    dbal_session_close(r);
    /* The read-only setting went with the session: the next user of the
     * connection writes. */
    dbal_session *w;
    dbal_session_open(e, &w, NULL);
    OK(w, dbal_exec(w, "INSERT INTO replica_rows VALUES (5)", DBAL_NOARGS, NULL));
    dbal_session_close(w);
    dbal_engine_close(e);

    snprintf(opts, sizeof opts, "replica=127.0.0.1:%s&replica_fallback=false", primary_port);
    e = open_at(standby_port, opts);
    r = open_ro(e);
    EXPECT_RC(r, dbal_exec(r, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    assert_non_null(strstr(dbal_session_error(r)->message, "replica_fallback"));
    dbal_session_close(r);
    dbal_engine_close(e);
}

/* ---- replicas on the asynchronous API ------------------------------------- */

typedef struct outcome {
    int code;
    char sqlstate[6];
    char message[512];
    int64_t value;
    int called;
} outcome;

static void record(void *ud, const dbal_async_result *res)
{
    outcome *o = ud;
    o->called++;
    o->code = res->code;
    memcpy(o->sqlstate, res->error->sqlstate, sizeof o->sqlstate);
    snprintf(o->message, sizeof o->message, "%s", res->error->message);
    if (res->rows && dbal_rows_next(res->rows) == DBAL_ROW)
        o->value = dbal_col_int64(res->rows, 0);
}

#define STANDBY_SQL "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END"

/* Where an async session of these flags runs (its first query), and what a
 * write there answers: o[0] the query, o[1] the write. */
static void async_where(dbal_engine *e, unsigned flags, outcome o[2])
{
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_error err;
    assert_int_equal(dbal_async_session_open_with(a, &s, flags, "async reader", &err), DBAL_OK);
    memset(o, 0, 2 * sizeof *o);
    dbal_async_query(s, STANDBY_SQL, DBAL_NOARGS, record, &o[0], NULL);
    dbal_async_exec(s, "INSERT INTO replica_rows VALUES (100)", DBAL_NOARGS, record, &o[1], NULL);
    dbal_async_session_close(s);
    test_async_run(a, 30);
    dbal_async_close(a);
}

static void test_async_replica_reads(void **state)
{
    (void)state;
    char opts[160];
    /* The first replica is down: skipped, as by a blocking session. */
    snprintf(opts, sizeof opts, "replica=127.0.0.1:1&replica=127.0.0.1:%s&pool_size=2", standby_port);
    dbal_engine *e = open_at(primary_port, opts);
    outcome o[2];
    for (int i = 0; i < 3; i++) {
        async_where(e, DBAL_SESSION_READ_ONLY, o);
        if (o[0].code != DBAL_OK)
            fail_msg("async replica read: %s", o[0].message);
        assert_int_equal(o[0].value, 1);
        assert_int_equal(o[1].code, DBAL_EREADONLY);
        assert_string_equal(o[1].sqlstate, "25006");
    }
    /* Without the flag: the primary. */
    async_where(e, 0, o);
    assert_int_equal(o[0].value, 0);
    assert_int_equal(o[1].code, DBAL_OK);
    run_at(primary_port, "DELETE FROM replica_rows WHERE id = 100");
    dbal_engine_close(e);
}

/* No replica up: the primary, read-only there too, and the next user of the
 * connection writes; or DBAL_ECONNECT with replica_fallback off. */
static void test_async_replica_fallback(void **state)
{
    (void)state;
    dbal_engine *e = open_at(primary_port, "replica=127.0.0.1:1&pool_size=1");
    outcome o[2];
    async_where(e, DBAL_SESSION_READ_ONLY, o);
    assert_int_equal(o[0].code, DBAL_OK);
    assert_int_equal(o[0].value, 0);
    assert_int_equal(o[1].code, DBAL_EREADONLY);
    dbal_session *w;
    dbal_session_open(e, &w, NULL);
    OK(w, dbal_exec(w, "DELETE FROM replica_rows WHERE id = 100", DBAL_NOARGS, NULL));
    dbal_session_close(w);
    dbal_engine_close(e);

    e = open_at(primary_port, "replica=127.0.0.1:1&replica_fallback=false");
    async_where(e, DBAL_SESSION_READ_ONLY, o);
    assert_int_equal(o[0].code, DBAL_ECONNECT);
    assert_non_null(strstr(o[0].message, "replica_fallback"));
    dbal_engine_close(e);
}

/* ---- full replicas, one deadline, counters per replica ------------------------ */

#define LIMITED "dbal_ro_limited:limited-pw"

/* The role dbal_ro_limited may hold one connection per server; *holder holds
 * the standby's. */
static dbal_engine *fill_standby(dbal_session **held)
{
    run_at(primary_port, "DROP ROLE IF EXISTS dbal_ro_limited");
    run_at(primary_port, "CREATE ROLE dbal_ro_limited LOGIN PASSWORD 'limited-pw' CONNECTION LIMIT 1");
    wait_for_replay();
    char url[256];
    snprintf(url, sizeof url, "postgresql://" LIMITED "@127.0.0.1:%s/" DB "?pool_size=1", standby_port);
    dbal_engine *holder = open_url(url);
    dbal_session_open(holder, held, NULL);
    OK(*held, dbal_exec(*held, "SELECT 1", DBAL_NOARGS, NULL));
    return holder;
}

static dbal_engine *open_limited(const char *replicas, const char *opts)
{
    char url[512];
    snprintf(url, sizeof url, "postgresql://" LIMITED "@127.0.0.1:%s/" DB "?%s&%s", primary_port, replicas,
             opts);
    return open_url(url);
}

/* The standby is full for the role: a read-only session is served at once
 * by the other replica (the primary, named as one), never made to wait for
 * the full one; the counters of each replica's pool say where reads went. */
static void test_full_replica_skipped(void **state)
{
    (void)state;
    dbal_session *held;
    dbal_engine *holder = fill_standby(&held);
    char replicas[128];
    snprintf(replicas, sizeof replicas, "replica=127.0.0.1:%s&replica=127.0.0.1:%s", standby_port,
             primary_port);
    dbal_engine *e = open_limited(replicas, "pool_size=1&pool_timeout=5");
    assert_int_equal(dbal_engine_replica_count(e), 2);
    for (int i = 0; i < 4; i++) {
        double t0 = test_now();
        dbal_session *r = open_ro(e);
        assert_int_equal(on_standby(r), 0);
        assert_true(test_now() - t0 < 1.0);
        dbal_session_close(r);
    }
    outcome o[2];
    for (int i = 0; i < 4; i++) {
        double t0 = test_now();
        async_where(e, DBAL_SESSION_READ_ONLY, o);
        if (o[0].code != DBAL_OK)
            fail_msg("async read: %s", o[0].message);
        assert_int_equal(o[0].value, 0);
        assert_true(test_now() - t0 < 1.0);
    }
    dbal_engine_stats st0, st1, primary;
    assert_int_equal(dbal_engine_replica_stats_get(e, 0, &st0), DBAL_OK);
    assert_int_equal(dbal_engine_replica_stats_get(e, 1, &st1), DBAL_OK);
    assert_int_equal(dbal_engine_stats_get(e, &primary), DBAL_OK);
    assert_int_equal(st0.checkouts, 0); /* the full standby served nothing */
    assert_int_equal(st0.open, 0);
    assert_int_equal(st1.checkouts, 8);
    assert_int_equal(st1.connects, 1);
    assert_int_equal(st1.idle, 1);
    assert_int_equal(primary.checkouts, 0); /* the engine's own pool: not used */
    assert_int_equal(dbal_engine_replica_stats_get(e, 2, &st0), DBAL_EINVAL);
    assert_int_equal(dbal_engine_replica_stats_get(NULL, 0, &st0), DBAL_EINVAL);
    assert_int_equal(dbal_engine_replica_count(NULL), 0);
    dbal_engine_close(e);
    dbal_session_close(held);
    dbal_engine_close(holder);
}

/* Every replica full (the standby, named twice): the checkout waits it out
 * within one pool_timeout, not one per replica, then fails with the
 * server's SQLSTATE; a full replica is up, so the primary does not serve.
 * And every replica's pool in use: one pool_timeout too. */
static void test_replica_one_deadline(void **state)
{
    (void)state;
    dbal_session *held;
    dbal_engine *holder = fill_standby(&held);
    char replicas[128];
    snprintf(replicas, sizeof replicas, "replica=127.0.0.1:%s&replica=127.0.0.1:%s", standby_port,
             standby_port);
    dbal_engine *e = open_limited(replicas, "pool_size=1&pool_timeout=1");
    double t0 = test_now();
    dbal_session *r = open_ro(e);
    EXPECT_RC(r, dbal_exec(r, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ECONNECT);
    double took = test_now() - t0;
    assert_string_equal(dbal_session_error(r)->sqlstate, "53300");
    dbal_session_close(r);
    printf("# every replica full: the blocking checkout failed after %.2fs (pool_timeout=1)\n", took);
    assert_true(took >= 0.9 && took < 1.8);

    outcome o[2];
    t0 = test_now();
    async_where(e, DBAL_SESSION_READ_ONLY, o);
    took = test_now() - t0;
    printf("# every replica full: the async checkout failed after %.2fs (pool_timeout=1)\n", took);
    assert_int_equal(o[0].code, DBAL_ECONNECT);
    assert_string_equal(o[0].sqlstate, "53300");
    assert_true(took >= 0.9 && took < 1.8);
    dbal_engine_close(e);
    dbal_session_close(held);
    dbal_engine_close(holder);

    /* Both replicas' pools in use (one connection each). */
    snprintf(replicas, sizeof replicas,
             "replica=127.0.0.1:%s&replica=127.0.0.1:%s&pool_size=1&max_overflow=0"
             "&pool_timeout=0.5",
             standby_port, standby_port);
    e = open_at(primary_port, replicas);
    dbal_session *a = open_ro(e), *b = open_ro(e);
    assert_int_equal(on_standby(a), 1);
    assert_int_equal(on_standby(b), 1);
    t0 = test_now();
    r = open_ro(e);
    EXPECT_RC(r, dbal_exec(r, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EPOOLTIMEOUT);
    took = test_now() - t0;
    dbal_session_close(r);
    assert_true(took >= 0.4 && took < 0.9);
    dbal_session_close(a);
    dbal_session_close(b);
    dbal_engine_close(e);
}

/* ---- failover under load ---------------------------------------------------- */

enum { WRITERS = 4, MAX_WRITES = 200000 };

typedef struct {
    dbal_engine *e;
    int id;
    int n;
    signed char outcome[MAX_WRITES]; /* 1 committed, 0 failed before commit, 2 unknown */
    int lost_mid_tx;                 /* ECONNLOST inside a transaction */
    int unexpected;                  /* a code failover cannot explain */
    char unexpected_msg[600];
    _Atomic double first_ok_after_stop; /* the first commit begun once the primary was down */
} writer;

static atomic_int writing;
static _Atomic double down_at; /* when the primary had stopped */

static int failover_code(int rc)
{
    return rc == DBAL_ECONNLOST || rc == DBAL_ECONNECT || rc == DBAL_ETXFAILED;
}

static void *write_rows(void *p)
{
    writer *w = p;
    while (atomic_load(&writing) && w->n < MAX_WRITES) {
        int seq = w->n++;
        double began = test_now();
        int after_stop = atomic_load(&down_at) > 0 && began >= atomic_load(&down_at);
        dbal_session *s;
        dbal_session_open(w->e, &s, NULL);
        int rc = dbal_begin(s), in_tx = rc == DBAL_OK;
        if (rc == DBAL_OK)
            rc = dbal_exec(s, "INSERT INTO failover_writes(writer, seq) VALUES (?, ?)",
                           DBAL_ARGS(dbal_int64(w->id), dbal_int64(seq)), NULL);
        if (rc == DBAL_OK)
            rc = dbal_exec(s, "UPDATE failover_writes SET twice = true WHERE writer = ? AND seq = ?",
                           DBAL_ARGS(dbal_int64(w->id), dbal_int64(seq)), NULL);
        if (rc == DBAL_OK) {
            rc = dbal_commit(s);
            /* A commit whose answer was lost may or may not have happened. */
            w->outcome[seq] = rc == DBAL_OK ? 1 : rc == DBAL_ECONNLOST ? 2 : 0;
        } else {
            w->outcome[seq] = 0;
            if (in_tx && rc == DBAL_ECONNLOST) {
                /* Never a silent retry on another connection: the
                 * transaction stays failed until it is rolled back. */
                w->lost_mid_tx++;
                int again = dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
                if (again != DBAL_ETXFAILED && !w->unexpected++)
                    snprintf(w->unexpected_msg, sizeof w->unexpected_msg,
                             "after ECONNLOST in a transaction the next statement gave %s",
                             dbal_code_name(again));
                dbal_rollback(s);
            }
        }
        if (rc != DBAL_OK && !failover_code(rc) && !w->unexpected++)
            snprintf(w->unexpected_msg, sizeof w->unexpected_msg, "%s: %s", dbal_code_name(rc),
                     dbal_session_error(s)->message);
        dbal_session_close(s);
        if (rc == DBAL_OK && after_stop && atomic_load(&w->first_ok_after_stop) == 0)
            atomic_store(&w->first_ok_after_stop, test_now());
        usleep(rc == DBAL_OK ? 1000 : 5000);
    }
    return NULL;
}

static int all_back(writer *w)
{
    for (int i = 0; i < WRITERS; i++)
        if (atomic_load(&w[i].first_ok_after_stop) == 0)
            return 0;
    return 1;
}

static void test_failover(void **state)
{
    (void)state;
    char url[512];
    snprintf(url, sizeof url,
             "postgresql://" CREDS "@127.0.0.1:%s,127.0.0.1:%s/" DB
             "?target_session_attrs=read-write&connect_timeout=2&pool_size=4&application_name=dbal_failover",
             primary_port, standby_port);
    dbal_engine *e = open_url(url);
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "DROP TABLE IF EXISTS failover_writes", DBAL_NOARGS, NULL));
    OK(s,
       dbal_exec(s,
                 "CREATE TABLE failover_writes(writer INT, seq INT, twice BOOL, PRIMARY KEY (writer, seq))",
                 DBAL_NOARGS, NULL));
    dbal_session_close(s);

    static writer w[WRITERS];
    pthread_t t[WRITERS];
    atomic_store(&writing, 1);
    atomic_store(&down_at, 0.0);
    for (int i = 0; i < WRITERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].e = e;
        w[i].id = i;
        pthread_create(&t[i], NULL, write_rows, &w[i]);
    }
    /* A session in the middle of a transaction when the primary goes. */
    dbal_session *mid;
    dbal_session_open(e, &mid, NULL);
    OK(mid, dbal_begin(mid));
    OK(mid, dbal_exec(mid, "INSERT INTO failover_writes(writer, seq) VALUES (99, 1)", DBAL_NOARGS, NULL));
    usleep(700000);
    double t_stop = test_now();
    assert_int_equal(cluster("stop", "DBAL_TEST_PRIMARY_DIR"), 0);
    double t_stopped = test_now();
    atomic_store(&down_at, t_stopped);
    assert_int_equal(cluster("promote", "DBAL_TEST_STANDBY_DIR"), 0);
    double t_promoted = test_now();
    for (int i = 0; i < 3000 && !all_back(w); i++)
        usleep(10000);
    usleep(300000);
    atomic_store(&writing, 0);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);

    /* It learns that its connection was lost, and nothing is redone on the
     * new primary behind its back. */
    EXPECT_RC(mid,
              dbal_exec(mid, "INSERT INTO failover_writes(writer, seq) VALUES (99, 2)", DBAL_NOARGS, NULL),
              DBAL_ECONNLOST);
    EXPECT_RC(mid, dbal_exec(mid, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_RC(mid, dbal_commit(mid), DBAL_ETXFAILED);
    OK(mid, dbal_exec(mid, "SELECT 1", DBAL_NOARGS, NULL)); /* a new connection, to the new primary */
    assert_int_equal(test_scalar(mid, "SELECT count(*) FROM failover_writes WHERE writer = 99"), 0);
    dbal_session_close(mid);

    /* On the new primary, through the same engine: every write reported
     * committed is there (whole: both statements), none reported failed is. */
    dbal_session_open(e, &s, NULL);
    int counts[3] = {0}, lost_mid_tx = 0;
    for (int i = 0; i < WRITERS; i++) {
        if (w[i].unexpected)
            fail_msg("writer %d: %s", i, w[i].unexpected_msg);
        lost_mid_tx += w[i].lost_mid_tx;
        test_check_writes(s, "SELECT count(*) FROM failover_writes WHERE writer = ? AND seq = ?", i,
                          w[i].outcome, w[i].n, counts);
    }
    int committed = counts[1], failed = counts[0], unknown = counts[2];
    /* Never half a transaction. */
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM failover_writes WHERE twice IS NOT TRUE"), 0);
    assert_int_equal(test_scalar(s, "SELECT CASE WHEN pg_is_in_recovery() THEN 0 ELSE 1 END"), 1);
    dbal_session_close(s);
    double slowest = 0;
    for (int i = 0; i < WRITERS; i++) {
        if (w[i].first_ok_after_stop == 0)
            fail_msg("writer %d never wrote again after the failover", i);
        double d = w[i].first_ok_after_stop - t_stop;
        if (d > slowest)
            slowest = d;
    }
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    printf("# failover: pg_ctl stop took %.3fs, pg_ctl promote %.3fs; writes succeeded again on every thread "
           "%.3fs after the stop began (%.3fs after promote was run)\n",
           t_stopped - t_stop, t_promoted - t_stopped, slowest, slowest - (t_stopped - t_stop));
    printf("# failover: %d committed, %d failed, %d unknown (commit answer lost), %d transactions "
           "lost their connection midway (ECONNLOST, then ETXFAILED until rollback); %llu connections "
           "discarded\n",
           committed, failed, unknown, lost_mid_tx, (unsigned long long)st.discarded);
    assert_true(committed > 0);
    assert_true(st.discarded > 0);
    dbal_engine_close(e);
}

int main(void)
{
    primary_port = getenv("DBAL_TEST_PRIMARY_PORT");
    standby_port = getenv("DBAL_TEST_STANDBY_PORT");
    if (!primary_port || !standby_port || !getenv("DBAL_TEST_CLUSTER_SCRIPT")) {
        fprintf(stderr, "test_cluster: run it through tests/test_cluster.sh\n");
        return 1;
    }
    dbal_set_log(NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replica_reads),          cmocka_unit_test(test_replica_down_is_skipped),
        cmocka_unit_test(test_replicas_from_code),     cmocka_unit_test(test_async_replica_reads),
        cmocka_unit_test(test_async_replica_fallback), cmocka_unit_test(test_full_replica_skipped),
        cmocka_unit_test(test_replica_one_deadline),   cmocka_unit_test(test_failover),
        cmocka_unit_test(test_replica_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
