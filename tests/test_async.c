/*
 * The asynchronous API on a real database: many operations in flight on one
 * thread, transactions and errors as the blocking API gives them, cancel,
 * timeouts, pool exhaustion, closing with work pending and (PostgreSQL) a
 * server restart in the middle of it all.
 *
 *   test_async sqlite-file | sqlite-memory | postgresql
 *
 * postgresql needs DBAL_TEST_PG_URL (skipped, 77, without it unless
 * DBAL_TEST_REQUIRE_PG=1); the restart also needs DBAL_TEST_PG_DATADIR and
 * the other variables tests/pg_cluster.sh exports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_helpers.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

static const char *kind;   /* argv[1] */
static char url_base[600]; /* without engine options */
static char *tmpdir;
static int is_pg;

static dbal_engine *open_engine(const char *options)
{
    char url[900];
    snprintf(url, sizeof url, "%s%s%s", url_base, strchr(url_base, '?') ? "&" : "?", options);
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, url, &err) != DBAL_OK)
        fail_msg("engine: %s", err.message);
    return e;
}

/* Runs the application's side of the loop: wait on the one descriptor,
 * process, until nothing is pending. Fails after `limit` seconds: a hang. */
static void run_until_idle(dbal_async *a, double limit)
{
    test_async_run(a, limit);
}

/* Threads of this process: PostgreSQL's asynchronous path must start none. */
static int thread_count(void)
{
    glob_t g;
    int n = glob("/proc/self/task/*", 0, NULL, &g) == 0 ? (int)g.gl_pathc : -1;
    globfree(&g);
    return n;
}

/* ---- 1,000 queries in flight ---- */

typedef struct expect {
    int64_t n;
    char text[32];
    int called;
    int code;
} expect;

static int verified;

static void check_row(void *ud, const dbal_async_result *res)
{
    expect *x = ud;
    x->called++;
    x->code = res->code;
    if (res->code != DBAL_OK)
        fail_msg("query %lld: %s: %s", (long long)x->n, dbal_code_name(res->code), res->error->message);
    assert_non_null(res->rows);
    assert_int_equal(dbal_col_count(res->rows), 2);
    assert_string_equal(dbal_col_name(res->rows, 0), "n");
    assert_int_equal(dbal_rows_next(res->rows), DBAL_ROW);
    assert_int_equal(dbal_col_int64(res->rows, 0), x->n * 3 + 1);
    assert_string_equal(dbal_col_text(res->rows, 1), x->text);
    assert_int_equal(dbal_rows_next(res->rows), DBAL_DONE);
    verified++;
}

static void test_thousand_in_flight(void **state)
{
    (void)state;
    enum { NQ = 1000, NS = 32 };
    dbal_engine *e = open_engine("pool_size=8&max_overflow=0");
    dbal_async *a;
    dbal_error err;
    assert_int_equal(dbal_async_open(e, &a, &err), DBAL_OK);
    dbal_async_session *s[NS];
    for (int i = 0; i < NS; i++)
        assert_int_equal(dbal_async_session_open(a, &s[i], &err), DBAL_OK);
    static expect x[NQ];
    verified = 0;
    for (int i = 0; i < NQ; i++) {
        x[i] = (expect){.n = i};
        snprintf(x[i].text, sizeof x[i].text, "row-%d", i);
        char buf[32];
        snprintf(buf, sizeof buf, "row-%d", i);
        /* The text is the caller's stack buffer: the call copies it. */
        assert_int_equal(dbal_async_query(s[i % NS], "SELECT ? * 3 + 1 AS n, ? AS s",
                                          DBAL_ARGS(dbal_int64(i), dbal_text(buf)), check_row, &x[i], NULL),
                         DBAL_OK);
    }
    assert_int_equal(dbal_async_pending(a), NQ);
    for (int i = 0; i < NQ; i++)
        assert_int_equal(x[i].called, 0); /* never from the call that queues */
    /* Each session gives its connection back once its queries are done,
     * so that the sessions waiting for one get it. */
    for (int i = 0; i < NS; i++)
        dbal_async_session_close(s[i]);
    dbal_engine_stats st;
    run_until_idle(a, 120);
    assert_int_equal(verified, NQ);
    for (int i = 0; i < NQ; i++)
        assert_int_equal(x[i].called, 1);
    dbal_engine_stats_get(e, &st);
    assert_true(st.open <= 8);
    assert_int_equal(st.timeouts, 0);
    if (is_pg)
        assert_int_equal(thread_count(), 1); /* connects and statements: no thread */
    dbal_async_close(a);
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- transactions and errors ---- */

typedef struct outcome {
    int code;
    char sqlstate[6];
    int64_t affected;
    int64_t value;
    int called;
} outcome;

static void record(void *ud, const dbal_async_result *res)
{
    outcome *o = ud;
    o->called++;
    o->code = res->code;
    memcpy(o->sqlstate, res->error->sqlstate, sizeof o->sqlstate);
    o->affected = res->affected;
    if (res->rows && dbal_rows_next(res->rows) == DBAL_ROW)
        o->value = dbal_col_int64(res->rows, 0);
}

static void test_transactions_and_errors(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("pool_size=2");
    dbal_session *bs;
    assert_int_equal(dbal_session_open(e, &bs, NULL), DBAL_OK);
    dbal_exec(bs, "DROP TABLE IF EXISTS async_items", DBAL_NOARGS, NULL);
    OK(bs, dbal_exec(bs, "CREATE TABLE async_items(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)",
                     DBAL_NOARGS, NULL));
    dbal_session_close(bs);

    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    assert_int_equal(dbal_async_session_open(a, &s, NULL), DBAL_OK);
    /* Misuse is refused at once, and its callback is never called. */
    outcome never = {0};
    assert_int_equal(dbal_async_commit(s, record, &never, NULL), DBAL_EMISUSE);
    assert_int_equal(dbal_async_exec(s, NULL, DBAL_NOARGS, record, &never, NULL), DBAL_EINVAL);

    outcome o[10] = {{0}};
    assert_int_equal(dbal_async_begin(s, 0, record, &o[0], NULL), DBAL_OK);
    assert_int_equal(dbal_async_begin(s, 0, record, &never, NULL), DBAL_EMISUSE); /* one level */
    dbal_async_exec(s, "INSERT INTO async_items(id, name) VALUES (?, ?)",
                    DBAL_ARGS(dbal_int64(1), dbal_text("widget")), record, &o[1], NULL);
    dbal_async_commit(s, record, &o[2], NULL);
    /* A unique violation inside a transaction fails it: the commit rolls
     * back and says DBAL_ETXFAILED, as the blocking API does. */
    dbal_async_begin(s, 0, record, &o[3], NULL);
    dbal_async_exec(s, "INSERT INTO async_items(id, name) VALUES (?, ?)",
                    DBAL_ARGS(dbal_int64(2), dbal_text("gadget")), record, &o[4], NULL);
    dbal_async_exec(s, "INSERT INTO async_items(id, name) VALUES (?, ?)",
                    DBAL_ARGS(dbal_int64(3), dbal_text("widget")), record, &o[5], NULL);
    dbal_async_exec(s, "INSERT INTO async_items(id, name) VALUES (?, ?)",
                    DBAL_ARGS(dbal_int64(4), dbal_text("other")), record, &o[6], NULL);
    dbal_async_commit(s, record, &o[7], NULL);
    dbal_async_query(s, "SELECT count(*) FROM async_items", DBAL_NOARGS, record, &o[8], NULL);
    /* A placeholder count that does not match fails that op only, in turn. */
    dbal_async_exec(s, "SELECT ?", DBAL_NOARGS, record, &o[9], NULL);
    run_until_idle(a, 30);
    assert_int_equal(never.called, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(o[i].called, 1);
    assert_int_equal(o[0].code, DBAL_OK);
    assert_int_equal(o[1].code, DBAL_OK);
    assert_int_equal(o[1].affected, 1);
    assert_int_equal(o[2].code, DBAL_OK);
    assert_int_equal(o[4].code, DBAL_OK);
    assert_int_equal(o[5].code, DBAL_EUNIQUE);
    assert_string_equal(o[5].sqlstate, "23505");
    assert_int_equal(o[6].code, DBAL_ETXFAILED);
    assert_string_equal(o[6].sqlstate, "25P02");
    assert_int_equal(o[7].code, DBAL_ETXFAILED);
    assert_int_equal(o[8].code, DBAL_OK);
    assert_int_equal(o[8].value, 1);
    assert_int_equal(o[9].code, DBAL_EMISUSE);

    /* A session closed inside a transaction rolls it back. */
    outcome b = {0}, ins = {0};
    dbal_async_begin(s, 0, record, &b, NULL);
    dbal_async_exec(s, "INSERT INTO async_items(id, name) VALUES (5, 'lost')", DBAL_NOARGS, record, &ins,
                    NULL);
    dbal_async_session_close(s);
    run_until_idle(a, 30);
    assert_int_equal(ins.code, DBAL_OK);
    dbal_async_close(a);
    assert_int_equal(dbal_session_open(e, &bs, NULL), DBAL_OK);
    dbal_rows *r;
    OK(bs, dbal_query(bs, "SELECT count(*) FROM async_items", DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_int_equal(dbal_col_int64(r, 0), 1);
    dbal_rows_close(r);
    OK(bs, dbal_exec(bs, "DROP TABLE async_items", DBAL_NOARGS, NULL));
    dbal_session_close(bs);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- rows read as the blocking API reads them ---- */

typedef struct snapshot {
    int called, code, ncols, nrows;
    char text[4][8][64]; /* [row][col] text, "<NULL>" for NULL */
    int type[4][8];
    size_t bytes[4][8];
    char name[8][32];
} snapshot;

static void take_snapshot(dbal_rows *r, snapshot *sn)
{
    sn->ncols = dbal_col_count(r);
    for (int c = 0; c < sn->ncols && c < 8; c++)
        snprintf(sn->name[c], sizeof sn->name[c], "%s", dbal_col_name(r, c));
    while (sn->nrows < 4 && dbal_rows_next(r) == DBAL_ROW) {
        for (int c = 0; c < sn->ncols && c < 8; c++) {
            const char *t = dbal_col_text(r, c);
            sn->type[sn->nrows][c] = dbal_col_type(r, c);
            sn->bytes[sn->nrows][c] = dbal_col_bytes(r, c);
            snprintf(sn->text[sn->nrows][c], 64, "%s", t ? t : "<NULL>");
        }
        sn->nrows++;
    }
}

static void on_snapshot(void *ud, const dbal_async_result *res)
{
    snapshot *sn = ud;
    sn->called++;
    sn->code = res->code;
    if (res->rows)
        take_snapshot(res->rows, sn);
}

static void test_rows_like_blocking(void **state)
{
    (void)state;
    const char *sql = "SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e, 7 AS f UNION ALL "
                      "SELECT NULL, NULL, NULL, NULL, NULL, 8";
    dbal_value v[5] = {dbal_null(), dbal_double(2.5), dbal_blob("a\0b", 3), dbal_text("x y"),
                       dbal_int64(-9007199254740993LL)};
    dbal_engine *e = open_engine("pool_size=2");
    dbal_session *bs;
    dbal_session_open(e, &bs, NULL);
    dbal_rows *r;
    OK(bs, dbal_query(bs, sql, dbal_params_array(v, 5), &r));
    static snapshot want, got;
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    take_snapshot(r, &want);
    dbal_rows_close(r);
    dbal_session_close(bs);

    dbal_async *a;
    dbal_async_open(e, &a, NULL);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    dbal_async_query(s, sql, dbal_params_array(v, 5), on_snapshot, &got, NULL);
    dbal_async_session_close(s);
    run_until_idle(a, 30);
    dbal_async_close(a);
    assert_int_equal(got.code, DBAL_OK);
    assert_int_equal(got.ncols, want.ncols);
    assert_int_equal(got.nrows, 2);
    assert_int_equal(got.nrows, want.nrows);
    for (int c = 0; c < want.ncols; c++)
        assert_string_equal(got.name[c], want.name[c]);
    for (int row = 0; row < want.nrows; row++)
        for (int c = 0; c < want.ncols; c++) {
            assert_int_equal(got.type[row][c], want.type[row][c]);
            assert_int_equal(got.bytes[row][c], want.bytes[row][c]);
            assert_string_equal(got.text[row][c], want.text[row][c]);
        }
    assert_string_equal(got.text[0][3], "x y");
    assert_string_equal(got.text[1][0], "<NULL>");
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- a blocking thread hands the only connection to the loop ---- */

typedef struct conn_holder {
    dbal_engine *e;
    int holding;
    pthread_mutex_t m;
    pthread_cond_t c;
} conn_holder;

/* A getter that fails on a result's rows says why in the result's error,
 * on the worker's buffered rows and the driver's own alike. */
typedef struct getter_failure {
    int called, code, error_code;
    char message[sizeof(((dbal_error *)0)->message)];
} getter_failure;

static void on_text_as_int(void *ud, const dbal_async_result *res)
{
    getter_failure *g = ud;
    g->called++;
    assert_int_equal(res->code, DBAL_OK);
    assert_int_equal(dbal_rows_next(res->rows), DBAL_ROW);
    int64_t i;
    g->code = dbal_col_get_int64(res->rows, 0, &i);
    g->error_code = res->error->code;
    snprintf(g->message, sizeof g->message, "%s", res->error->message);
}

static void test_getter_error_in_result(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("pool_size=1");
    dbal_async *a;
    OK(NULL, dbal_async_open(e, &a, NULL));
    dbal_async_session *s;
    OK(NULL, dbal_async_session_open(a, &s, NULL));
    getter_failure g = {0};
    OK(NULL, dbal_async_query(s, "SELECT 'seven' AS n", DBAL_NOARGS, on_text_as_int, &g, NULL));
    dbal_async_session_close(s);
    run_until_idle(a, 30);
    assert_int_equal(g.called, 1);
    assert_int_equal(g.code, DBAL_ETYPE);
    assert_int_equal(g.error_code, DBAL_ETYPE);
    assert_non_null(strstr(g.message, "cannot be read as an integer"));
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

static void *hold_connection(void *arg)
{
    conn_holder *h = arg;
    dbal_session *s;
    dbal_session_open(h->e, &s, NULL);
    dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
    pthread_mutex_lock(&h->m);
    h->holding = 1;
    pthread_cond_signal(&h->c);
    pthread_mutex_unlock(&h->m);
    usleep(200000);
    dbal_session_close(s); /* the pool hands it to the waiting async session */
    return NULL;
}

static void test_handover_from_a_thread(void **state)
{
    (void)state;
    conn_holder h = {.e = open_engine("pool_size=1&max_overflow=0&pool_timeout=30")};
    pthread_mutex_init(&h.m, NULL);
    pthread_cond_init(&h.c, NULL);
    pthread_t t;
    pthread_create(&t, NULL, hold_connection, &h);
    pthread_mutex_lock(&h.m);
    while (!h.holding)
        pthread_cond_wait(&h.c, &h.m);
    pthread_mutex_unlock(&h.m);
    dbal_async *a;
    dbal_async_open(h.e, &a, NULL);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    outcome o = {0};
    dbal_async_query(s, "SELECT 3", DBAL_NOARGS, record, &o, NULL);
    dbal_async_session_close(s);
    dbal_engine_stats st;
    dbal_engine_stats_get(h.e, &st);
    assert_int_equal(st.waiting, 1); /* in the pool's line, the loop not blocked */
    run_until_idle(a, 30);
    pthread_join(t, NULL);
    assert_int_equal(o.code, DBAL_OK);
    assert_int_equal(o.value, 3);
    dbal_async_close(a);
    dbal_engine_stats_get(h.e, &st);
    assert_int_equal(st.timeouts, 0);
    assert_int_equal(st.connects, 1);
    pthread_mutex_destroy(&h.m);
    pthread_cond_destroy(&h.c);
    assert_int_equal(dbal_engine_close(h.e), DBAL_OK);
}

/* ---- cancel and timeout ---- */

static const char *long_query(void)
{
    return is_pg ? "SELECT pg_sleep(60)"
                 : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
}

/* Waits until the op has surely reached the database. */
static void settle(dbal_async *a, double seconds)
{
    double end = test_now() + seconds;
    while (test_now() < end) {
        dbal_async_process(a);
        usleep(10000);
    }
}

/* A long query no other test runs, so that pg_stat_activity tells it apart. */
#define MARKED_SLEEP "SELECT pg_sleep(60) AS close_with_work_pending"

/* Runs the loop until PostgreSQL runs `marked`, a long query no other test
 * runs (seen from a connection of another engine), at most 30 s: on a
 * loaded machine 0.2 s may not be enough for the query to be sent. SQLite:
 * settle(a, 0.2). */
static void settle_running(dbal_async *a, const char *marked)
{
    if (!is_pg) {
        settle(a, 0.2);
        return;
    }
    dbal_engine *watch = open_engine("pool_size=1");
    dbal_session *ws;
    assert_int_equal(dbal_session_open(watch, &ws, NULL), DBAL_OK);
    double end = test_now() + 30;
    int64_t running = 0;
    while (running == 0 && test_now() < end) {
        settle(a, 0.05);
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = '%s'", marked);
        running = test_scalar(ws, sql);
    }
    assert_int_equal(running, 1);
    dbal_session_close(ws);
    dbal_engine_close(watch);
}

static void test_cancel_mid_flight(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("pool_size=1&max_overflow=0");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    assert_int_equal(dbal_async_session_open(a, &s, NULL), DBAL_OK);
    outcome slow = {0}, queued = {0}, after = {0};
    dbal_async_op *op, *op2;
    double t0 = test_now();
    assert_int_equal(dbal_async_query(s, long_query(), DBAL_NOARGS, record, &slow, &op), DBAL_OK);
    settle(a, 0.3);
    assert_int_equal(dbal_async_cancel(op), DBAL_OK);
    run_until_idle(a, 30);
    assert_int_equal(slow.called, 1);
    assert_int_equal(slow.code, DBAL_ECANCELED);
    assert_true(test_now() - t0 < 30); /* interrupted, not waited out */
    /* The connection stays usable. */
    dbal_async_query(s, "SELECT 41 + 1", DBAL_NOARGS, record, &after, NULL);
    run_until_idle(a, 30);
    assert_int_equal(after.code, DBAL_OK);
    assert_int_equal(after.value, 42);

    /* An op that has not reached the database yet is removed. A second
     * session waits for the only connection, which the first one holds. */
    dbal_async_session *s2;
    assert_int_equal(dbal_async_session_open(a, &s2, NULL), DBAL_OK);
    dbal_async_query(s2, "SELECT 1", DBAL_NOARGS, record, &queued, &op2);
    assert_int_equal(dbal_async_cancel(op2), DBAL_OK);
    run_until_idle(a, 30);
    assert_int_equal(queued.called, 1);
    assert_int_equal(queued.code, DBAL_ECANCELED);
    dbal_async_session_close(s2);
    dbal_async_session_close(s);
    dbal_async_close(a);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

static void test_timeout(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("pool_size=2");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    assert_int_equal(dbal_async_session_open(a, &s, NULL), DBAL_OK);
    assert_int_equal(dbal_async_session_set_timeout(s, 200), DBAL_OK);
    outcome slow = {0}, after = {0};
    dbal_async_query(s, long_query(), DBAL_NOARGS, record, &slow, NULL);
    run_until_idle(a, 30);
    assert_int_equal(slow.code, DBAL_ETIMEOUT);
    assert_string_equal(slow.sqlstate, "57014");
    assert_int_equal(dbal_async_session_set_timeout(s, 0), DBAL_OK);
    dbal_async_query(s, "SELECT 7", DBAL_NOARGS, record, &after, NULL);
    run_until_idle(a, 30);
    assert_int_equal(after.code, DBAL_OK);
    assert_int_equal(after.value, 7);
    dbal_async_session_close(s);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* Short deadlines, over and over: each endless query ends with
 * DBAL_ETIMEOUT, however its deadline falls against the op's start (on the
 * worker path a cancel that came before the statement started used to be
 * forgotten, and the query then ran for good). Not on PostgreSQL: there a
 * deadline of a few milliseconds lets the cancel request overtake its
 * statement (it travels on a connection of its own), the server ignores
 * it, and the op is given up with its connection after the grace
 * (DBAL_ECONNLOST), as README says for a server that answers no cancel. */
static void test_short_deadlines(void **state)
{
    (void)state;
    if (is_pg)
        skip();
    dbal_engine *e = open_engine("pool_size=1");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    assert_int_equal(dbal_async_session_open(a, &s, NULL), DBAL_OK);
    for (int i = 0; i < 60; i++) {
        assert_int_equal(dbal_async_session_set_timeout(s, 1 + i % 4), DBAL_OK);
        outcome o = {0};
        double t0 = test_now();
        dbal_async_query(s, long_query(), DBAL_NOARGS, record, &o, NULL);
        run_until_idle(a, 30);
        if (o.code != DBAL_ETIMEOUT || test_now() - t0 > 5)
            fail_msg("run %d: %s after %.2f s", i, dbal_code_name(o.code), test_now() - t0);
    }
    dbal_async_session_close(s);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* The context has one timer, set for the soonest deadline and moved only
 * when a sooner one comes (not once per op): a deadline later than the
 * timer's is met after the timer rings early, for an op that completed
 * meanwhile; a deadline sooner than the timer's moves it. */
static void test_deadlines_later_and_sooner(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("pool_size=2");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s1, *s2;
    assert_int_equal(dbal_async_session_open(a, &s1, NULL), DBAL_OK);

    /* The timer is set for the quick op's deadline and left there. */
    outcome quick = {0}, later = {0};
    assert_int_equal(dbal_async_session_set_timeout(s1, 200), DBAL_OK);
    dbal_async_query(s1, "SELECT 1", DBAL_NOARGS, record, &quick, NULL);
    run_until_idle(a, 30);
    assert_int_equal(quick.code, DBAL_OK);
    assert_int_equal(dbal_async_session_set_timeout(s1, 400), DBAL_OK);
    dbal_async_query(s1, long_query(), DBAL_NOARGS, record, &later, NULL);
    run_until_idle(a, 30);
    assert_int_equal(later.code, DBAL_ETIMEOUT);
    dbal_async_session_close(s1);
    dbal_async_close(a);

    /* A new context (its timer not set): a far deadline first, then a near
     * one on another session. */
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    assert_int_equal(dbal_async_session_open(a, &s1, NULL), DBAL_OK);
    assert_int_equal(dbal_async_session_open(a, &s2, NULL), DBAL_OK);
    outcome far = {0}, near = {0};
    dbal_async_op *far_op;
    assert_int_equal(dbal_async_session_set_timeout(s2, 20000), DBAL_OK);
    dbal_async_query(s2, long_query(), DBAL_NOARGS, record, &far, &far_op);
    settle(a, 0.1);
    assert_int_equal(dbal_async_session_set_timeout(s1, 200), DBAL_OK);
    dbal_async_query(s1, long_query(), DBAL_NOARGS, record, &near, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev), 0);
    double end = test_now() + 15;
    while (!near.called && test_now() < end) {
        epoll_wait(ep, &ev, 1, 200);
        dbal_async_process(a);
    }
    close(ep);
    assert_int_equal(near.called, 1);
    assert_int_equal(near.code, DBAL_ETIMEOUT);
    assert_int_equal(far.called, 0); /* its deadline is still far off */
    assert_int_equal(dbal_async_cancel(far_op), DBAL_OK);
    run_until_idle(a, 30);
    assert_int_equal(far.code, DBAL_ECANCELED);
    dbal_async_session_close(s1);
    dbal_async_session_close(s2);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- cancel and timeouts inside a transaction ---- */

static int order_seq;

typedef struct ordered {
    outcome o;
    int seq;
    char message[sizeof(((dbal_error *)0)->message)];
} ordered;

static void record_ordered(void *ud, const dbal_async_result *res)
{
    ordered *x = ud;
    record(&x->o, res);
    x->seq = ++order_seq;
    snprintf(x->message, sizeof x->message, "%s", res->error->message);
}

static int64_t balance(dbal_engine *e, int id)
{
    dbal_session *s;
    dbal_session_open(e, &s, NULL);
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT bal FROM acct WHERE id = %d", id);
    int64_t v = test_scalar(s, sql);
    if (v == -999)
        fail_msg("%s: %s", sql, dbal_session_error(s)->message);
    dbal_session_close(s);
    return v;
}

enum { CANCEL_CREDIT, CANCEL_BEGIN, TIME_OUT_CREDIT };

/* begin, debit, credit, commit queued while another session holds the
 * only connection; one of them canceled or timed out before it runs. */
static void transfer_with(int what, ordered r[4])
{
    dbal_engine *e = open_engine("pool_size=1&max_overflow=0");
    dbal_session *bs;
    dbal_session_open(e, &bs, NULL);
    OK(bs, dbal_exec(bs, "DROP TABLE IF EXISTS acct", DBAL_NOARGS, NULL));
    OK(bs,
       dbal_exec(bs, "CREATE TABLE acct(id INTEGER PRIMARY KEY, bal BIGINT NOT NULL)", DBAL_NOARGS, NULL));
    OK(bs, dbal_exec(bs, "INSERT INTO acct VALUES (1, 100), (2, 0)", DBAL_NOARGS, NULL));
    dbal_session_close(bs);

    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *holder, *s;
    dbal_async_session_open(a, &holder, NULL);
    dbal_async_session_open(a, &s, NULL);
    outcome hb = {0}, hr = {0};
    dbal_async_begin(holder, 0, record, &hb, NULL);
    run_until_idle(a, 30);
    assert_int_equal(hb.code, DBAL_OK);

    memset(r, 0, 4 * sizeof *r);
    order_seq = 0;
    dbal_async_op *ops[4];
    assert_int_equal(dbal_async_begin(s, 0, record_ordered, &r[0], &ops[0]), DBAL_OK);
    assert_int_equal(dbal_async_exec(s, "UPDATE acct SET bal = bal - 10 WHERE id = 1", DBAL_NOARGS,
                                     record_ordered, &r[1], &ops[1]),
                     DBAL_OK);
    if (what == TIME_OUT_CREDIT)
        dbal_async_session_set_timeout(s, 200);
    assert_int_equal(dbal_async_exec(s, "UPDATE acct SET bal = bal + 10 WHERE id = 2", DBAL_NOARGS,
                                     record_ordered, &r[2], &ops[2]),
                     DBAL_OK);
    dbal_async_session_set_timeout(s, 0); /* the credit keeps its own 200 ms */
    assert_int_equal(dbal_async_commit(s, record_ordered, &r[3], &ops[3]), DBAL_OK);
    if (what == CANCEL_CREDIT)
        assert_int_equal(dbal_async_cancel(ops[2]), DBAL_OK);
    if (what == CANCEL_BEGIN)
        assert_int_equal(dbal_async_cancel(ops[0]), DBAL_OK);
    settle(a, 0.5); /* the credit's deadline passes while it waits */
    dbal_async_rollback(holder, record, &hr, NULL);
    dbal_async_session_close(holder);
    run_until_idle(a, 30);
    dbal_async_session_close(s);
    dbal_async_close(a);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r[i].o.called, 1);
        assert_int_equal(r[i].seq, i + 1); /* called back in queue order */
    }
    /* Nothing of the transfer was stored. */
    assert_int_equal(balance(e, 1), 100);
    assert_int_equal(balance(e, 2), 0);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

static void test_cancel_inside_transaction(void **state)
{
    (void)state;
    ordered r[4];
    transfer_with(CANCEL_CREDIT, r);
    assert_int_equal(r[0].o.code, DBAL_OK);
    assert_int_equal(r[1].o.code, DBAL_OK);
    assert_int_equal(r[2].o.code, DBAL_ECANCELED);
    assert_int_equal(r[3].o.code, DBAL_ETXFAILED);

    transfer_with(CANCEL_BEGIN, r);
    assert_int_equal(r[0].o.code, DBAL_ECANCELED);
    assert_int_equal(r[1].o.code, DBAL_ETXFAILED);
    assert_int_equal(r[2].o.code, DBAL_ETXFAILED);
    assert_int_equal(r[3].o.code, DBAL_ETXFAILED);

    transfer_with(TIME_OUT_CREDIT, r);
    assert_int_equal(r[0].o.code, DBAL_OK);
    assert_int_equal(r[1].o.code, DBAL_OK);
    assert_int_equal(r[2].o.code, DBAL_ETIMEOUT);
    assert_non_null(strstr(r[2].message, "200 ms"));
    assert_int_equal(r[3].o.code, DBAL_ETXFAILED);
}

/* Closing the context: an op that may have reached the database is
 * DBAL_ECONNLOST (its outcome is unknown: here it commits), one that never
 * left is DBAL_ECANCELED. */
static void test_close_reports_sent_as_unknown(void **state)
{
    (void)state;
    if (!is_pg)
        skip(); /* SQLite's worker finishes what runs: its real outcome */
    dbal_engine *e = open_engine("pool_size=1&max_overflow=0");
    dbal_session *bs;
    dbal_session_open(e, &bs, NULL);
    OK(bs, dbal_exec(bs, "DROP TABLE IF EXISTS closed_t", DBAL_NOARGS, NULL));
    OK(bs, dbal_exec(bs, "CREATE TABLE closed_t(x INTEGER)", DBAL_NOARGS, NULL));
    dbal_session_close(bs);
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s, *s2;
    dbal_async_session_open(a, &s, NULL);
    dbal_async_session_open(a, &s2, NULL);
    outcome ins = {0}, never = {0};
    dbal_async_exec(s, "INSERT INTO closed_t SELECT 1 FROM pg_sleep(0.3)", DBAL_NOARGS, record, &ins, NULL);
    settle(a, 0.1);
    dbal_async_exec(s2, "INSERT INTO closed_t VALUES (2)", DBAL_NOARGS, record, &never, NULL);
    dbal_async_close(a);
    assert_int_equal(ins.called, 1);
    assert_int_equal(ins.code, DBAL_ECONNLOST);
    assert_string_equal(ins.sqlstate, "08006");
    assert_int_equal(never.called, 1);
    assert_int_equal(never.code, DBAL_ECANCELED);
    usleep(600 * 1000);
    dbal_session_open(e, &bs, NULL);
    assert_int_equal(test_scalar(bs, "SELECT count(*) FROM closed_t WHERE x = 1"), 1); /* it did commit */
    assert_int_equal(test_scalar(bs, "SELECT count(*) FROM closed_t WHERE x = 2"), 0);
    OK(bs, dbal_exec(bs, "DROP TABLE closed_t", DBAL_NOARGS, NULL));
    dbal_session_close(bs);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- the pool ---- */

static void test_pool_timeout(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("pool_size=1&max_overflow=0&pool_timeout=0.3");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *holder, *waiter;
    dbal_async_session_open(a, &holder, NULL);
    dbal_async_session_open(a, &waiter, NULL);
    outcome b = {0}, w = {0}, w2 = {0}, r = {0};
    dbal_async_begin(holder, 0, record, &b, NULL);
    run_until_idle(a, 30);
    assert_int_equal(b.code, DBAL_OK);
    dbal_async_query(waiter, "SELECT 1", DBAL_NOARGS, record, &w, NULL);
    run_until_idle(a, 30);
    assert_int_equal(w.code, DBAL_EPOOLTIMEOUT);
    /* Once the connection is given back, the waiting side gets it. */
    dbal_async_query(waiter, "SELECT 2", DBAL_NOARGS, record, &w2, NULL);
    dbal_async_rollback(holder, record, &r, NULL);
    dbal_async_session_close(holder);
    run_until_idle(a, 30);
    assert_int_equal(r.code, DBAL_OK);
    assert_int_equal(w2.code, DBAL_OK);
    assert_int_equal(w2.value, 2);
    dbal_async_session_close(waiter);
    dbal_async_close(a);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

static void test_close_with_work_pending(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("pool_size=2&max_overflow=0");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    enum { N = 40 };
    outcome o[N] = {{0}};
    dbal_async_session *s[4];
    for (int i = 0; i < 4; i++)
        dbal_async_session_open(a, &s[i], NULL);
    dbal_async_query(s[0], is_pg ? MARKED_SLEEP : long_query(), DBAL_NOARGS, record, &o[0], NULL);
    for (int i = 1; i < N; i++)
        dbal_async_query(s[i % 4], "SELECT 1", DBAL_NOARGS, record, &o[i], NULL);
    settle_running(a, MARKED_SLEEP);
    dbal_async_close(a); /* sessions still open: closed with it */
    for (int i = 0; i < N; i++) {
        assert_int_equal(o[i].called, 1);
        if (o[i].code != DBAL_OK && o[i].code != DBAL_ECANCELED && o[i].code != DBAL_ECONNLOST)
            fail_msg("op %d: %s (%s)", i, dbal_code_name(o[i].code), o[i].sqlstate);
    }
    /* Sent to PostgreSQL: its outcome is unknown; SQLite's worker is
     * interrupted and reports what happened. */
    assert_int_equal(o[0].code, is_pg ? DBAL_ECONNLOST : DBAL_ECANCELED);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.in_use, 0);
    /* The engine still works. */
    dbal_session *bs;
    dbal_session_open(e, &bs, NULL);
    OK(bs, dbal_exec(bs, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(bs);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

typedef struct closer {
    dbal_async *a;
    int calls, closed, codes_ok;
} closer;

static void close_on_first(void *ud, const dbal_async_result *res)
{
    closer *c = ud;
    c->calls++;
    c->codes_ok += res->code == DBAL_OK || res->code == DBAL_ECANCELED || res->code == DBAL_ECONNLOST;
    if (!c->closed) {
        c->closed = 1;
        dbal_async_close(c->a); /* done when dbal_async_process returns */
    }
}

static void test_close_from_callback(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("pool_size=2");
    closer c = {0};
    assert_int_equal(dbal_async_open(e, &c.a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(c.a, &s, NULL);
    for (int i = 0; i < 5; i++)
        dbal_async_query(s, "SELECT 1", DBAL_NOARGS, close_on_first, &c, NULL);
    struct pollfd p = {.fd = dbal_async_fd(c.a), .events = POLLIN};
    double end = test_now() + 30;
    while (!c.closed && test_now() < end) {
        poll(&p, 1, 200);
        dbal_async_process(c.a);
    }
    assert_true(c.closed);
    assert_int_equal(c.calls, 5); /* the rest were called back by the close */
    assert_int_equal(c.codes_ok, 5);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- statement names someone else took ---- */

/* The application PREPAREd the names the driver's statement cache would
 * use (or a pooler the engine has not detected shares the server session):
 * a statement whose prepare is still in flight must never be executed by
 * name, or it runs the other statement and returns its rows without an
 * error. Every answer is the query's own or an error, never another's. */
static void test_statement_names_taken(void **state)
{
    (void)state;
    if (!is_pg)
        skip();
    dbal_engine *e = open_engine("pool_size=1");
    dbal_session *bs;
    OK(NULL, dbal_session_open(e, &bs, NULL));
    /* Each of these statements is cached under the next name (dbal_1,
     * dbal_2, ...) and takes a name 200 further on: when the async
     * statements come, their names are taken, by statements of the same
     * parameter type that answer something else. */
    char sql[96];
    for (int i = 1; i <= 200; i++) {
        snprintf(sql, sizeof sql, "PREPARE dbal_%d(bigint) AS SELECT $1 - 1", i + 200);
        OK(bs, dbal_exec(bs, sql, DBAL_NOARGS, NULL));
    }
    dbal_session_close(bs); /* its connection, PREPAREd names and all, is the one the pool keeps */

    dbal_async *a;
    OK(NULL, dbal_async_open(e, &a, NULL));
    dbal_async_session *s;
    OK(NULL, dbal_async_session_open(a, &s, NULL));
    enum { N = 30 };
    outcome o[N];
    memset(o, 0, sizeof o);
    for (int i = 0; i < N; i++)
        dbal_async_query(s, i % 2 ? "SELECT ? + 100" : "SELECT ? + 200", DBAL_ARGS(dbal_int64(i)), record,
                         &o[i], NULL);
    dbal_async_session_close(s);
    run_until_idle(a, 30);
    dbal_async_close(a);
    int answered = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(o[i].called, 1);
        if (o[i].code == DBAL_OK) {
            assert_int_equal(o[i].value, i + (i % 2 ? 100 : 200));
            answered++;
        }
    }
    /* Only the first use of each statement may fail (its prepare met the
     * taken name); the rest ran unnamed and answered. */
    assert_true(answered >= N - 2);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* A statement evicted from the cache while its prepare is still in flight
 * is deallocated once the prepare is answered: the server never keeps more
 * of our statements than the cache holds. */
static void test_evicted_in_flight(void **state)
{
    (void)state;
    if (!is_pg)
        skip();
    dbal_engine *e = open_engine("pool_size=1&statement_cache_size=2");
    dbal_async *a;
    OK(NULL, dbal_async_open(e, &a, NULL));
    dbal_async_session *s;
    OK(NULL, dbal_async_session_open(a, &s, NULL));
    enum { N = 40 };
    outcome o[N];
    memset(o, 0, sizeof o);
    char sql[5][48];
    for (int k = 0; k < 5; k++)
        snprintf(sql[k], sizeof sql[k], "SELECT ? + %d", 1000 * (k + 1));
    for (int i = 0; i < N; i++)
        dbal_async_query(s, sql[i % 5], DBAL_ARGS(dbal_int64(i)), record, &o[i], NULL);
    dbal_async_session_close(s);
    run_until_idle(a, 30);
    dbal_async_close(a);
    for (int i = 0; i < N; i++) {
        assert_int_equal(o[i].code, DBAL_OK);
        assert_int_equal(o[i].value, i + 1000 * (i % 5 + 1));
    }
    /* The same (only) connection, blocking now: its deferred DEALLOCATEs
     * have run when it was given back and taken again. */
    dbal_session *bs;
    OK(NULL, dbal_session_open(e, &bs, NULL));
    int64_t kept = test_scalar(bs, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'dbal\\_%' "
                                   "AND name NOT LIKE 'dbal\\_reset\\_%'");
    dbal_session_close(bs);
    assert_true(kept >= 1);
    assert_true(kept <= 2);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* More statements in flight on one connection than its first ring of
 * entries holds (16), each with its statement cache key, the ring growing
 * under them: a cached statement that DDL made stale (0A000) fails where
 * it was already sent and is forgotten by its key; the next ones prepare
 * it again and answer with the new columns. */
static int columns_seen;

static void record_columns(void *ud, const dbal_async_result *res)
{
    record(ud, res);
    if (res->rows)
        columns_seen = dbal_col_count(res->rows);
}

static void test_stale_statement_many_in_flight(void **state)
{
    (void)state;
    if (!is_pg)
        skip();
    dbal_engine *e = open_engine("pool_size=2");
    dbal_session *bs;
    OK(NULL, dbal_session_open(e, &bs, NULL));
    dbal_exec(bs, "DROP TABLE IF EXISTS async_stale", DBAL_NOARGS, NULL);
    OK(bs, dbal_exec(bs, "CREATE TABLE async_stale(id BIGINT PRIMARY KEY)", DBAL_NOARGS, NULL));
    OK(bs, dbal_exec(bs, "INSERT INTO async_stale VALUES (1)", DBAL_NOARGS, NULL));
    dbal_async *a;
    OK(NULL, dbal_async_open(e, &a, NULL));
    dbal_async_session *s;
    OK(NULL, dbal_async_session_open(a, &s, NULL));
    const char *sql = "SELECT * FROM async_stale WHERE id >= ?";
    enum { N = 40 };
    outcome o[N];
    memset(o, 0, sizeof o);
    dbal_async_query(s, sql, DBAL_ARGS(dbal_int64(0)), record_columns, &o[0], NULL);
    run_until_idle(a, 30);
    assert_int_equal(o[0].code, DBAL_OK);
    assert_int_equal(columns_seen, 1);

    /* The session keeps its connection: the cached statement is stale. */
    OK(bs, dbal_exec(bs, "ALTER TABLE async_stale ADD COLUMN extra TEXT", DBAL_NOARGS, NULL));
    for (int i = 1; i < N / 2; i++)
        dbal_async_query(s, sql, DBAL_ARGS(dbal_int64(0)), record_columns, &o[i], NULL);
    run_until_idle(a, 30);
    int stale = 0;
    for (int i = 1; i < N / 2; i++) {
        assert_int_equal(o[i].called, 1);
        if (o[i].code != DBAL_OK) {
            assert_string_equal(o[i].sqlstate, "0A000");
            stale++;
        }
    }
    assert_true(stale >= 1);
    columns_seen = 0;
    for (int i = N / 2; i < N; i++)
        dbal_async_query(s, sql, DBAL_ARGS(dbal_int64(0)), record_columns, &o[i], NULL);
    dbal_async_session_close(s);
    run_until_idle(a, 30);
    for (int i = N / 2; i < N; i++) {
        assert_int_equal(o[i].code, DBAL_OK);
        assert_int_equal(o[i].value, 1);
    }
    assert_int_equal(columns_seen, 2);
    dbal_async_close(a);
    dbal_exec(bs, "DROP TABLE async_stale", DBAL_NOARGS, NULL);
    dbal_session_close(bs);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- a server that refuses connections (PostgreSQL) ---- */

static void test_connect_refused(void **state)
{
    (void)state;
    if (!is_pg)
        skip();
    /* Port 1 on loopback: nothing listens there. */
    dbal_engine *e;
    assert_int_equal(dbal_engine_open(&e, "postgresql://nobody:secret-pw@127.0.0.1:1/none?pool_size=2", NULL),
                     DBAL_OK);
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    outcome o[3] = {{0}};
    for (int i = 0; i < 3; i++)
        dbal_async_query(s, "SELECT 1", DBAL_NOARGS, record, &o[i], NULL);
    dbal_async_session_close(s);
    run_until_idle(a, 60);
    for (int i = 0; i < 3; i++)
        assert_int_equal(o[i].code, DBAL_ECONNECT);
    dbal_async_close(a);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.open, 0); /* the slot went back */
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* A server full for the role (53300): the async checkout reports the
 * server's SQLSTATE and waits it out with backoff within pool_timeout, as
 * the blocking checkout does. */
static void test_connect_server_full(void **state)
{
    (void)state;
    if (!is_pg)
        skip();
    dbal_engine *admin = open_engine("application_name=dbal_async_admin");
    dbal_session *as;
    dbal_session_open(admin, &as, NULL);
    OK(as, dbal_exec(as, "DROP ROLE IF EXISTS dbal_async_limited", DBAL_NOARGS, NULL));
    OK(as, dbal_exec(as, "CREATE ROLE dbal_async_limited LOGIN PASSWORD 'limited-pw' CONNECTION LIMIT 1",
                     DBAL_NOARGS, NULL));
    const char *at = strchr(strstr(url_base, "://") + 3, '@');
    char base[700];
    snprintf(base, sizeof base, "postgresql://dbal_async_limited:limited-pw@%s", at + 1);

    char url[900];
    dbal_engine *holder, *e;
    snprintf(url, sizeof url, "%s%spool_size=1", base, strchr(base, '?') ? "&" : "?");
    assert_int_equal(dbal_engine_open(&holder, url, NULL), DBAL_OK);
    dbal_session *h;
    dbal_session_open(holder, &h, NULL);
    OK(h, dbal_exec(h, "SELECT 1", DBAL_NOARGS, NULL));

    snprintf(url, sizeof url, "%s%spool_size=1&pool_timeout=0.6", base, strchr(base, '?') ? "&" : "?");
    assert_int_equal(dbal_engine_open(&e, url, NULL), DBAL_OK);
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    outcome full = {0}, later = {0};
    double t0 = test_now();
    dbal_async_query(s, "SELECT 1", DBAL_NOARGS, record, &full, NULL);
    run_until_idle(a, 30);
    assert_int_equal(full.code, DBAL_ECONNECT);
    assert_string_equal(full.sqlstate, "53300");
    assert_true(test_now() - t0 >= 0.5); /* waited out, not failed at once */

    /* Room made while waiting: the operation runs. */
    snprintf(url, sizeof url, "%s%spool_size=1&pool_timeout=30", base, strchr(base, '?') ? "&" : "?");
    dbal_async_session_close(s);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
    assert_int_equal(dbal_engine_open(&e, url, NULL), DBAL_OK);
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session_open(a, &s, NULL);
    dbal_async_query(s, "SELECT 5", DBAL_NOARGS, record, &later, NULL);
    settle(a, 0.3);
    dbal_session_close(h);
    dbal_engine_close(holder); /* its connection too: room for one */
    run_until_idle(a, 30);
    assert_int_equal(later.code, DBAL_OK);
    assert_int_equal(later.value, 5);
    dbal_async_session_close(s);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
    OK(as, dbal_exec(as, "DROP ROLE dbal_async_limited", DBAL_NOARGS, NULL));
    dbal_session_close(as);
    dbal_engine_close(admin);
}

/* ---- a connection lost inside a transaction (PostgreSQL) ---- */

static void terminate(dbal_engine *e, int64_t pid)
{
    dbal_session *bs;
    dbal_session_open(e, &bs, NULL);
    OK(bs, dbal_exec(bs, "SELECT pg_terminate_backend(?::int)", DBAL_ARGS(dbal_int64(pid)), NULL));
    /* pg_terminate_backend only signals: wait until it is gone. */
    for (int i = 0; i < 500; i++) {
        dbal_rows *r;
        OK(bs, dbal_query(bs, "SELECT count(*) FROM pg_stat_activity WHERE pid = ?::int",
                          DBAL_ARGS(dbal_int64(pid)), &r));
        int gone = dbal_rows_next(r) == DBAL_ROW && dbal_col_int64(r, 0) == 0;
        dbal_rows_close(r);
        if (gone)
            break;
        usleep(10000);
    }
    dbal_session_close(bs);
}

/* Begins and returns the backend's pid. */
static int64_t begin_and_pid(dbal_async *a, dbal_async_session *s)
{
    outcome b = {0}, pid = {0};
    dbal_async_begin(s, 0, record, &b, NULL);
    dbal_async_query(s, "SELECT pg_backend_pid()", DBAL_NOARGS, record, &pid, NULL);
    run_until_idle(a, 30);
    assert_int_equal(b.code, DBAL_OK);
    assert_int_equal(pid.code, DBAL_OK);
    return pid.value;
}

static int one(dbal_async *a, dbal_async_session *s, int what, outcome *o)
{
    *o = (outcome){0};
    if (what == 0)
        dbal_async_exec(s, "SELECT 1", DBAL_NOARGS, record, o, NULL);
    else if (what == 1)
        dbal_async_commit(s, record, o, NULL);
    else
        dbal_async_rollback(s, record, o, NULL);
    run_until_idle(a, 30);
    assert_int_equal(o->called, 1);
    return o->code;
}

static void test_connection_lost_in_transaction(void **state)
{
    (void)state;
    if (!is_pg)
        skip();
    dbal_engine *e = open_engine("pool_size=2");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);

    /* One op at a time: exactly the blocking API's answers (see
     * test_pg_faults.c, test_connection_lost_in_transaction). */
    terminate(e, begin_and_pid(a, s));
    outcome o;
    assert_int_equal(one(a, s, 0, &o), DBAL_ECONNLOST);
    assert_string_equal(o.sqlstate, "08006");
    assert_int_equal(one(a, s, 0, &o), DBAL_ETXFAILED);
    assert_int_equal(one(a, s, 1, &o), DBAL_ETXFAILED);
    assert_int_equal(one(a, s, 0, &o), DBAL_OK); /* a new connection */

    /* Pipelined: the ops sent on the dead connection all fail with
     * DBAL_ECONNLOST (whether the server ran them is unknown; a commit is
     * never reported as rolled back when it might have happened); the
     * rollback succeeds; the session then works on a new connection. */
    terminate(e, begin_and_pid(a, s));
    outcome p[4] = {{0}};
    dbal_async_exec(s, "SELECT 1", DBAL_NOARGS, record, &p[0], NULL);
    dbal_async_exec(s, "SELECT 2", DBAL_NOARGS, record, &p[1], NULL);
    dbal_async_rollback(s, record, &p[2], NULL);
    dbal_async_query(s, "SELECT 3", DBAL_NOARGS, record, &p[3], NULL);
    run_until_idle(a, 30);
    assert_int_equal(p[0].code, DBAL_ECONNLOST);
    assert_int_equal(p[1].code, DBAL_ECONNLOST);
    assert_int_equal(p[2].code, DBAL_OK);
    assert_true(p[3].code == DBAL_ECONNLOST || p[3].code == DBAL_OK);
    assert_int_equal(one(a, s, 0, &o), DBAL_OK);
    dbal_async_session_close(s);
    dbal_async_close(a);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.discarded, 2);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- a server restart in the middle of async work (PostgreSQL) ---- */

static void test_server_restart(void **state)
{
    (void)state;
    if (!is_pg)
        skip();
    if (!getenv("DBAL_TEST_PG_DATADIR")) {
        if (getenv("DBAL_TEST_REQUIRE_PG"))
            fail_msg("DBAL_TEST_PG_DATADIR is not set: cannot restart the server");
        skip();
    }
    dbal_engine *e = open_engine("pool_size=4&max_overflow=0&pool_timeout=30");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    enum { NS = 8, PER = 25 };
    static outcome o[NS * PER];
    memset(o, 0, sizeof o);
    dbal_async_session *s[NS];
    for (int i = 0; i < NS; i++) {
        dbal_async_session_open(a, &s[i], NULL);
        for (int j = 0; j < PER; j++)
            dbal_async_query(s[i], "SELECT 1 FROM pg_sleep(0.05)", DBAL_NOARGS, record, &o[i * PER + j],
                             NULL);
        dbal_async_session_close(s[i]);
    }
    settle(a, 0.3);
    /* The loop is not served while pg_ctl runs: what the restart breaks is
     * found when it is. */
    assert_int_equal(test_pg_restart(), 0);
    run_until_idle(a, 120);
    int ok = 0, failed = 0;
    for (int i = 0; i < NS * PER; i++) {
        assert_int_equal(o[i].called, 1);
        if (o[i].code == DBAL_OK)
            ok++;
        else
            failed++;
    }
    printf("# restart: %d ok, %d failed\n", ok, failed);
    assert_true(failed > 0);
    /* New work succeeds: dead connections were discarded, not reused. */
    for (int i = 0; i < NS; i++) {
        dbal_async_session_open(a, &s[i], NULL);
        for (int j = 0; j < PER; j++) {
            o[i * PER + j] = (outcome){0};
            dbal_async_query(s[i], "SELECT 5", DBAL_NOARGS, record, &o[i * PER + j], NULL);
        }
        dbal_async_session_close(s[i]);
    }
    run_until_idle(a, 120);
    for (int i = 0; i < NS * PER; i++) {
        if (o[i].code != DBAL_OK)
            fail_msg("after the restart, op %d: %s", i, dbal_code_name(o[i].code));
        assert_int_equal(o[i].value, 5);
    }
    dbal_async_close(a);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_true(st.discarded > 0);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- a session's queue as one batch ---- */

/* Creates table `name` anew with the given columns. */
static void fresh_table(dbal_engine *e, const char *name, const char *columns)
{
    dbal_session *bs;
    char sql[200];
    assert_int_equal(dbal_session_open(e, &bs, NULL), DBAL_OK);
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", name);
    dbal_exec(bs, sql, DBAL_NOARGS, NULL);
    snprintf(sql, sizeof sql, "CREATE TABLE %s(%s)", name, columns);
    OK(bs, dbal_exec(bs, sql, DBAL_NOARGS, NULL));
    dbal_session_close(bs);
}

/* The table's row count (WHERE `where` when not NULL), then the table
 * dropped when drop is set. */
static int64_t count_rows(dbal_engine *e, const char *name, const char *where, int drop)
{
    dbal_session *bs;
    char sql[200];
    assert_int_equal(dbal_session_open(e, &bs, NULL), DBAL_OK);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s%s%s", name, where ? " WHERE " : "",
             where ? where : "");
    int64_t n = test_scalar(bs, sql);
    if (drop) {
        snprintf(sql, sizeof sql, "DROP TABLE %s", name);
        OK(bs, dbal_exec(bs, sql, DBAL_NOARGS, NULL));
    }
    dbal_session_close(bs);
    return n;
}

/* What an op of a batch must answer: kind 0 an insert of id with v = id *
 * 7 (dup: the id is taken, DBAL_EUNIQUE), 1 the count of rows so far, 2
 * the v of an earlier id, 3 three texts of `len` bytes (another shape of
 * result; long ones are too big for a kept buffer). */
typedef struct bop {
    int kind, dup, seq, code;
    int64_t id, want;
    size_t len;
    char sqlstate[6];
} bop;

static int bop_seq;

static void check_bop(void *ud, const dbal_async_result *res)
{
    bop *b = ud;
    b->seq = ++bop_seq;
    b->code = res->code;
    memcpy(b->sqlstate, res->error->sqlstate, sizeof b->sqlstate);
    if (res->code != DBAL_OK || b->kind == 0)
        return;
    if (dbal_rows_next(res->rows) != DBAL_ROW)
        fail_msg("op %d: no row", b->seq);
    if (b->kind == 3) {
        assert_int_equal(dbal_col_count(res->rows), 3);
        assert_string_equal(dbal_col_name(res->rows, 2), "c");
        for (int c = 0; c < 3; c++) {
            const char *t = dbal_col_text(res->rows, c);
            assert_non_null(t);
            assert_int_equal(strlen(t), b->len);
            assert_int_equal(t[0], 'a' + c);
        }
    } else {
        assert_int_equal(dbal_col_count(res->rows), 1);
        assert_int_equal(dbal_col_int64(res->rows, 0), b->want);
    }
    assert_int_equal(dbal_rows_next(res->rows), DBAL_DONE);
}

/* Hundreds of ops queued at once on one session run in queue order (each
 * query sees exactly the inserts queued before it), answer in that order,
 * and a failure in the middle fails that op alone; in a transaction it
 * fails the transaction. One session's ops never take more than one worker
 * thread. */
static void test_batch_in_order(void **state)
{
    (void)state;
    enum { N = 400 };
    dbal_engine *e = open_engine("pool_size=2&max_overflow=0");
    fresh_table(e, "batch_t", "id BIGINT PRIMARY KEY, v BIGINT NOT NULL");
    int threads_before = thread_count();
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    assert_int_equal(dbal_async_session_open(a, &s, NULL), DBAL_OK);
    static bop b[N];
    static char text[3][6001];
    int64_t inserted = 0, last_id = -1;
    bop_seq = 0;
    for (int i = 0; i < N; i++) {
        b[i] = (bop){.kind = i % 4};
        if (i == 200) {
            b[i] = (bop){.kind = 0, .dup = 1, .id = 0}; /* the first id again */
        } else if (b[i].kind == 0) {
            b[i].id = last_id = i;
            inserted++;
        } else if (b[i].kind == 1) {
            b[i].want = inserted;
        } else if (b[i].kind == 2) {
            b[i].want = last_id * 7;
        } else {
            b[i].len = (size_t)(i * 15 % 6000) + 1;
        }
        int rc;
        if (b[i].kind == 0)
            rc = dbal_async_exec(s, "INSERT INTO batch_t(id, v) VALUES (?, ?)",
                                 DBAL_ARGS(dbal_int64(b[i].id), dbal_int64(b[i].id * 7)), check_bop, &b[i],
                                 NULL);
        else if (b[i].kind == 1)
            rc = dbal_async_query(s, "SELECT count(*) FROM batch_t", DBAL_NOARGS, check_bop, &b[i], NULL);
        else if (b[i].kind == 2)
            rc = dbal_async_query(s, "SELECT v FROM batch_t WHERE id = ?", DBAL_ARGS(dbal_int64(last_id)),
                                  check_bop, &b[i], NULL);
        else {
            for (int c = 0; c < 3; c++) {
                memset(text[c], 'a' + c, b[i].len);
                text[c][b[i].len] = '\0';
            }
            rc = dbal_async_query(s, "SELECT ? AS a, ? AS b, ? AS c",
                                  DBAL_ARGS(dbal_text(text[0]), dbal_text(text[1]), dbal_text(text[2])),
                                  check_bop, &b[i], NULL);
        }
        assert_int_equal(rc, DBAL_OK);
    }
    /* A transaction queued behind them, failing in its middle. */
    bop t[5] = {{.kind = 0, .id = 100000}, {.kind = 0, .dup = 1, .id = 4}, {.kind = 0, .id = 100001}};
    assert_int_equal(dbal_async_begin(s, 0, check_bop, &t[3], NULL), DBAL_OK);
    for (int i = 0; i < 3; i++)
        dbal_async_exec(s, "INSERT INTO batch_t(id, v) VALUES (?, ?)",
                        DBAL_ARGS(dbal_int64(t[i].id), dbal_int64(t[i].id * 7)), check_bop, &t[i], NULL);
    dbal_async_commit(s, check_bop, &t[4], NULL);
    run_until_idle(a, 120);
    for (int i = 0; i < N; i++) {
        if (b[i].seq != i + 1)
            fail_msg("op %d called back as number %d", i, b[i].seq);
        if (b[i].dup) {
            assert_int_equal(b[i].code, DBAL_EUNIQUE);
            assert_string_equal(b[i].sqlstate, "23505");
        } else if (b[i].code != DBAL_OK) {
            fail_msg("op %d: %s", i, dbal_code_name(b[i].code));
        }
    }
    assert_int_equal(t[3].seq, N + 1); /* the begin */
    assert_int_equal(t[3].code, DBAL_OK);
    assert_int_equal(t[0].code, DBAL_OK);
    assert_int_equal(t[1].code, DBAL_EUNIQUE);
    assert_int_equal(t[2].code, DBAL_ETXFAILED);
    assert_int_equal(t[4].code, DBAL_ETXFAILED);
    assert_int_equal(t[4].seq, N + 5);
    /* A session's ops run one after the other: never on two threads. */
    assert_int_equal(thread_count(), threads_before + (is_pg ? 0 : 1));
    dbal_async_session_close(s);
    dbal_async_close(a);
    int64_t stored = count_rows(e, "batch_t", NULL, 1);
    if (stored != inserted)
        fail_msg("%lld rows stored, %lld inserted", (long long)stored, (long long)inserted);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* Cancels and timeouts of ops a worker has been handed but has not
 * started (queued behind a long query on a connection), and of the one it
 * runs: each fails alone, in its turn, and what was canceled never ran;
 * inside a transaction it fails the transaction. SQLite: PostgreSQL sends
 * the whole queue at once (a cancel there interrupts the connection). */
static void test_cancel_and_timeout_in_batch(void **state)
{
    (void)state;
    if (is_pg)
        skip();
    dbal_engine *e = open_engine("pool_size=1&max_overflow=0");
    fresh_table(e, "batch_c", "id INTEGER PRIMARY KEY");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    assert_int_equal(dbal_async_session_open(a, &s, NULL), DBAL_OK);
    enum { N = 16 };
    ordered r[N];
    dbal_async_op *op[N];
    memset(r, 0, sizeof r);
    order_seq = 0;
    /* 0: a long query, canceled while it runs; 1..9: inserts, 5 canceled
     * before it starts. */
    assert_int_equal(dbal_async_query(s, long_query(), DBAL_NOARGS, record_ordered, &r[0], &op[0]), DBAL_OK);
    for (int i = 1; i < 10; i++)
        dbal_async_exec(s, "INSERT INTO batch_c(id) VALUES (?)", DBAL_ARGS(dbal_int64(i)), record_ordered,
                        &r[i], &op[i]);
    settle(a, 0.2); /* the worker runs op 0 and has the others */
    assert_int_equal(dbal_async_cancel(op[5]), DBAL_OK);
    assert_int_equal(dbal_async_cancel(op[0]), DBAL_OK);
    run_until_idle(a, 30);
    /* 10: a long query that times out; 11..15 a transaction whose 13 (a
     * long query) times out, queued behind it. */
    dbal_async_session_set_timeout(s, 300);
    dbal_async_query(s, long_query(), DBAL_NOARGS, record_ordered, &r[10], &op[10]);
    dbal_async_session_set_timeout(s, 0);
    dbal_async_begin(s, 0, record_ordered, &r[11], &op[11]);
    dbal_async_exec(s, "INSERT INTO batch_c(id) VALUES (12)", DBAL_NOARGS, record_ordered, &r[12], &op[12]);
    dbal_async_session_set_timeout(s, 300);
    dbal_async_query(s, long_query(), DBAL_NOARGS, record_ordered, &r[13], &op[13]);
    dbal_async_session_set_timeout(s, 0);
    dbal_async_exec(s, "INSERT INTO batch_c(id) VALUES (14)", DBAL_NOARGS, record_ordered, &r[14], &op[14]);
    dbal_async_commit(s, record_ordered, &r[15], &op[15]);
    run_until_idle(a, 30);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].o.called, 1);
        assert_int_equal(r[i].seq, i + 1);
    }
    assert_int_equal(r[0].o.code, DBAL_ECANCELED);
    assert_int_equal(r[5].o.code, DBAL_ECANCELED);
    assert_non_null(strstr(r[5].message, "before it reached the database"));
    for (int i = 1; i < 10; i++)
        if (i != 5)
            assert_int_equal(r[i].o.code, DBAL_OK);
    assert_int_equal(r[10].o.code, DBAL_ETIMEOUT);
    assert_int_equal(r[11].o.code, DBAL_OK);
    assert_int_equal(r[12].o.code, DBAL_OK);
    assert_int_equal(r[13].o.code, DBAL_ETIMEOUT);
    assert_int_equal(r[14].o.code, DBAL_ETXFAILED);
    assert_int_equal(r[15].o.code, DBAL_ETXFAILED);
    dbal_async_session_close(s);
    dbal_async_close(a);
    /* 1..9 but 5; nothing of the failed transaction. */
    assert_int_equal(count_rows(e, "batch_c", "id IN (5, 12, 14)", 0), 0);
    assert_int_equal(count_rows(e, "batch_c", NULL, 1), 8);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* Closing the context while sessions have long queues: every op is called
 * back once; an insert that says DBAL_OK is stored, one that says
 * DBAL_ECANCELED is not (DBAL_ECONNLOST: either). */
static void test_close_during_batch(void **state)
{
    (void)state;
    enum { PER = 40 };
    dbal_engine *e = open_engine("pool_size=2&max_overflow=0");
    fresh_table(e, "batch_x", "id INTEGER PRIMARY KEY");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s[2];
    outcome slow = {0}, o[2 * PER];
    memset(o, 0, sizeof o);
    for (int k = 0; k < 2; k++)
        assert_int_equal(dbal_async_session_open(a, &s[k], NULL), DBAL_OK);
    const char *marked = "SELECT pg_sleep(60) AS close_during_batch";
    dbal_async_query(s[0], is_pg ? marked : long_query(), DBAL_NOARGS, record, &slow, NULL);
    for (int i = 0; i < 2 * PER; i++)
        dbal_async_exec(s[i % 2], "INSERT INTO batch_x(id) VALUES (?)", DBAL_ARGS(dbal_int64(i)), record,
                        &o[i], NULL);
    settle_running(a, marked);
    dbal_async_close(a);
    assert_int_equal(slow.called, 1);
    int stored_at_least = 0, stored_at_most = 0;
    for (int i = 0; i < 2 * PER; i++) {
        assert_int_equal(o[i].called, 1);
        if (o[i].code == DBAL_OK) {
            stored_at_least++;
            stored_at_most++;
        } else if (o[i].code == DBAL_ECONNLOST) {
            stored_at_most++;
        } else if (o[i].code != DBAL_ECANCELED) {
            fail_msg("insert %d: %s", i, dbal_code_name(o[i].code));
        }
        if (!is_pg && i % 2 == 0)
            assert_int_equal(o[i].code, DBAL_ECANCELED); /* behind the long query: never ran */
    }
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.in_use, 0);
    int64_t stored = count_rows(e, "batch_x", NULL, 1);
    if (stored < stored_at_least || stored > stored_at_most)
        fail_msg("%lld stored; %d said DBAL_OK, %d may have run", (long long)stored, stored_at_least,
                 stored_at_most);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

int main(int argc, char **argv)
{
    kind = argc > 1 ? argv[1] : "sqlite-memory";
    if (strcmp(kind, "postgresql") == 0) {
        const char *pg = getenv("DBAL_TEST_PG_URL");
        if (!pg || !*pg) {
            if (getenv("DBAL_TEST_REQUIRE_PG") && strcmp(getenv("DBAL_TEST_REQUIRE_PG"), "1") == 0) {
                fprintf(stderr, "test_async: DBAL_TEST_REQUIRE_PG=1 but DBAL_TEST_PG_URL is not set\n");
                return 1;
            }
            printf("test_async: DBAL_TEST_PG_URL not set, skipped\n");
            return 77;
        }
        snprintf(url_base, sizeof url_base, "%s", pg);
        is_pg = 1;
    } else if (strcmp(kind, "sqlite-file") == 0) {
        tmpdir = test_tmpdir();
        snprintf(url_base, sizeof url_base, "sqlite://%s/async.db", tmpdir);
    } else {
        snprintf(url_base, sizeof url_base, "sqlite::memory:");
    }
    dbal_set_log(NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thousand_in_flight),
        cmocka_unit_test(test_transactions_and_errors),
        cmocka_unit_test(test_rows_like_blocking),
        cmocka_unit_test(test_getter_error_in_result),
        cmocka_unit_test(test_handover_from_a_thread),
        cmocka_unit_test(test_cancel_mid_flight),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_short_deadlines),
        cmocka_unit_test(test_deadlines_later_and_sooner),
        cmocka_unit_test(test_cancel_inside_transaction),
        cmocka_unit_test(test_close_reports_sent_as_unknown),
        cmocka_unit_test(test_pool_timeout),
        cmocka_unit_test(test_close_with_work_pending),
        cmocka_unit_test(test_close_from_callback),
        cmocka_unit_test(test_batch_in_order),
        cmocka_unit_test(test_cancel_and_timeout_in_batch),
        cmocka_unit_test(test_close_during_batch),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_connect_server_full),
        cmocka_unit_test(test_statement_names_taken),
        cmocka_unit_test(test_evicted_in_flight),
        cmocka_unit_test(test_stale_statement_many_in_flight),
        cmocka_unit_test(test_connection_lost_in_transaction),
        cmocka_unit_test(test_server_restart),
    };
    int rc = cmocka_run_group_tests_name(kind, tests, NULL, NULL);
    if (tmpdir)
        test_rmdir(tmpdir);
    return rc;
}
