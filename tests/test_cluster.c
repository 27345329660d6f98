/*
 * A real primary and a streaming standby (started by tests/test_cluster.sh):
 * read replicas, then failover through a multi-host URL while four threads
 * write through one engine.
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
static void __attribute__((unused)) run_at(const char *port, const char *sql)
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
        cmocka_unit_test(test_replica_reads),      cmocka_unit_test(test_replica_down_is_skipped),
        cmocka_unit_test(test_replicas_from_code), cmocka_unit_test(test_failover),
        cmocka_unit_test(test_replica_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
