/*
 * Inline execution of asynchronous SQLite ops on the loop thread
 * (core/async_inline.c, drivers/sqlite/sqlite_inline.c), on sqlite::memory:
 * and on a SQLite file:
 *
 *   test_async_inline [sqlite-memory|sqlite-file]
 *
 * Linked with the core's objects: the context's counters (ops run inline,
 * handed over after a first attempt, run by workers) say where each op ran,
 * so no test depends on how fast the machine is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "async.h"
#include "test_helpers.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

static const char *kind;
static char url_base[600];
static char *tmpdir;
static int is_file;

static dbal_engine *open_engine(const char *options)
{
    return test_engine_opts(url_base, options);
}

/* An engine with a fresh one-column table. */
static dbal_engine *engine_with_table(const char *options, const char *table)
{
    dbal_engine *e = open_engine(options);
    dbal_session *bs = test_session(e);
    char sql[96];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", table);
    OK(bs, dbal_exec(bs, sql, DBAL_NOARGS, NULL));
    snprintf(sql, sizeof sql, "CREATE TABLE %s(x INTEGER)", table);
    OK(bs, dbal_exec(bs, sql, DBAL_NOARGS, NULL));
    dbal_session_close(bs);
    return e;
}

/* ---- a mixed chain: the same answers with inline execution on and off ---- */

typedef struct step {
    int kind; /* DBAL_ASYNC_* */
    const char *sql;
} step;

static const step chain_steps[] = {
    {DBAL_ASYNC_EXEC, "DROP TABLE IF EXISTS t"},
    {DBAL_ASYNC_EXEC, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)"},
    {DBAL_ASYNC_EXEC, "INSERT INTO t VALUES (1, 'a')"},
    {DBAL_ASYNC_QUERY, "SELECT id, v FROM t"},
    {DBAL_ASYNC_BEGIN, NULL},
    {DBAL_ASYNC_EXEC, "INSERT INTO t VALUES (2, 'b')"},
    {DBAL_ASYNC_QUERY, "SELECT count(*) FROM t"},
    {DBAL_ASYNC_COMMIT, NULL},
    {DBAL_ASYNC_EXEC, "INSERT INTO t VALUES (1, 'duplicate')"},
    {DBAL_ASYNC_QUERY, "SELECT v FROM t ORDER BY id"},
    {DBAL_ASYNC_BEGIN, NULL},
    {DBAL_ASYNC_EXEC, "UPDATE t SET v = 'z'"},
    {DBAL_ASYNC_ROLLBACK, NULL},
    {DBAL_ASYNC_QUERY, "SELECT group_concat(v, ',') FROM t"},
    {DBAL_ASYNC_QUERY, "INSERT INTO t VALUES (3, 'c') RETURNING id, v"},
    {DBAL_ASYNC_EXEC, "DELETE FROM t WHERE id >= 2"},
    {DBAL_ASYNC_QUERY, "SELECT no_such_column FROM t"},
    {DBAL_ASYNC_QUERY, "SELECT id, v FROM t ORDER BY id"},
};
enum { NSTEPS = sizeof chain_steps / sizeof chain_steps[0] };

typedef struct chain {
    dbal_async_session *s;
    int next;
    int in_call; /* inside dbal_async_* of this test: no callback may come */
    int reentered;
    char log[4096];
    size_t len;
} chain;

static void logf_(chain *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->log + c->len, sizeof c->log - c->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->len += (size_t)n < sizeof c->log - c->len ? (size_t)n : sizeof c->log - c->len - 1;
}

static void ask_next(chain *c);

static void on_step(void *ud, const dbal_async_result *res)
{
    chain *c = ud;
    if (c->in_call)
        c->reentered++;
    logf_(c, "[%d] %s %lld", c->next - 1, dbal_code_name(res->code), (long long)res->affected);
    if (res->rows) {
        while (dbal_rows_next(res->rows) == DBAL_ROW)
            for (int i = 0; i < dbal_col_count(res->rows); i++) {
                const char *t = NULL;
                size_t len = 0;
                if (dbal_col_get_text(res->rows, i, &t, &len) == DBAL_OK)
                    logf_(c, " %.*s", (int)len, t);
            }
    }
    logf_(c, "\n");
    if (c->next < NSTEPS)
        ask_next(c);
}

static void ask_next(chain *c)
{
    const step *st = &chain_steps[c->next++];
    int rc;
    c->in_call = 1;
    switch (st->kind) {
    case DBAL_ASYNC_EXEC: rc = dbal_async_exec(c->s, st->sql, DBAL_NOARGS, on_step, c, NULL); break;
    case DBAL_ASYNC_QUERY: rc = dbal_async_query(c->s, st->sql, DBAL_NOARGS, on_step, c, NULL); break;
    case DBAL_ASYNC_BEGIN: rc = dbal_async_begin(c->s, 0, on_step, c, NULL); break;
    case DBAL_ASYNC_COMMIT: rc = dbal_async_commit(c->s, on_step, c, NULL); break;
    default: rc = dbal_async_rollback(c->s, on_step, c, NULL); break;
    }
    c->in_call = 0;
    assert_int_equal(rc, DBAL_OK);
}

/* Runs the chain with the engine option `inline_opt`; returns the context's
 * counters in *ran_inline and *on_workers. */
static void run_chain(const char *inline_opt, chain *c, uint64_t *ran_inline, uint64_t *on_workers)
{
    dbal_engine *e = open_engine(inline_opt);
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    memset(c, 0, sizeof *c);
    assert_int_equal(dbal_async_session_open(a, &c->s, NULL), DBAL_OK);
    ask_next(c);
    assert_int_equal(c->len, 0); /* nothing called back inside dbal_async_exec */
    test_async_run(a, 30);
    assert_int_equal(c->next, NSTEPS);
    assert_int_equal(c->reentered, 0);
    *ran_inline = a->inline_ops;
    pthread_mutex_lock(&a->lock);
    *on_workers = a->worker_ops;
    pthread_mutex_unlock(&a->lock);
    dbal_async_session_close(c->s);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

static void test_same_answers_inline_or_not(void **state)
{
    (void)state;
    static chain on, off;
    uint64_t on_inline, on_workers, off_inline, off_workers;
    run_chain("async_inline=0", &off, &off_inline, &off_workers);
    run_chain("async_inline=100000", &on, &on_inline, &on_workers);
    if (getenv("SHOW_LOG"))
        fputs(on.log, stderr);
    assert_string_equal(on.log, off.log);
    /* The answers are the ones wanted, not only the same twice. */
    assert_non_null(strstr(on.log, "[3] DBAL_OK 0 1 a\n"));
    assert_non_null(strstr(on.log, "[6] DBAL_OK 0 2\n"));
    assert_non_null(strstr(on.log, "[8] DBAL_EUNIQUE 0\n"));
    assert_non_null(strstr(on.log, "[13] DBAL_OK 0 a,b\n"));
    assert_non_null(strstr(on.log, "[14] DBAL_OK 0 3 c\n"));
    assert_non_null(strstr(on.log, "[15] DBAL_OK 2\n"));
    assert_non_null(strstr(on.log, "[16] DBAL_EUNDEFINED"));
    assert_non_null(strstr(on.log, "[17] DBAL_OK 0 1 a\n"));
    assert_int_equal(off_inline, 0);
    assert_int_equal(off_workers, NSTEPS);
    /* Inside the transactions (steps 4-7, 10-12) everything goes to a
     * worker; outside, reads and (on the RAM database) writes run inline.
     * A file's writes (steps 0-2, 8, 14, 15) are handed over before they
     * run (their commit could wait for the disk), the failing one (8) too:
     * it fails on the worker, once. */
    assert_int_equal(on_inline, is_file ? 5 : 11);
    assert_int_equal(on_inline + on_workers, NSTEPS);
}

/* ---- a long read: over the budget, run again on a worker ---- */

typedef struct answer {
    int called, code;
    int64_t value;
    int64_t affected;
} answer;

static void record(void *ud, const dbal_async_result *res)
{
    answer *an = ud;
    an->called++;
    an->code = res->code;
    an->affected = res->affected;
    if (res->rows && dbal_rows_next(res->rows) == DBAL_ROW)
        dbal_col_get_int64(res->rows, 0, &an->value);
}

static const char long_read[] =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
    "SELECT sum(x) FROM c";

static void test_long_read_handed_over(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("async_inline=50");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    answer quick = {0}, slow = {0}, after = {0};
    dbal_async_query(s, "SELECT 41 + 1", DBAL_NOARGS, record, &quick, NULL);
    dbal_async_query(s, long_read, DBAL_NOARGS, record, &slow, NULL);
    dbal_async_query(s, "SELECT 7", DBAL_NOARGS, record, &after, NULL);
    test_async_run(a, 30);
    assert_int_equal(quick.code, DBAL_OK);
    assert_int_equal(quick.value, 42);
    assert_int_equal(slow.called, 1);
    assert_int_equal(slow.code, DBAL_OK);
    assert_int_equal(slow.value, (int64_t)300000 * 300001 / 2);
    assert_int_equal(after.value, 7);
    /* The long read was stopped by the budget and run on a worker; the one
     * behind it waited for it there (order kept). */
    assert_int_equal(a->inline_handed_over, 1);
    assert_true(a->inline_ops >= 1);
    pthread_mutex_lock(&a->lock);
    assert_true(a->worker_ops >= 1);
    pthread_mutex_unlock(&a->lock);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- writes: never inline inside a transaction; once when handed over ---- */

static void test_transaction_never_inline(void **state)
{
    (void)state;
    dbal_engine *e = engine_with_table("async_inline=100000", "w");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    answer an[6] = {{0}};
    dbal_async_begin(s, 0, record, &an[0], NULL);
    dbal_async_exec(s, "INSERT INTO w VALUES (1)", DBAL_NOARGS, record, &an[1], NULL);
    dbal_async_query(s, "SELECT count(*) FROM w", DBAL_NOARGS, record, &an[2], NULL);
    dbal_async_commit(s, record, &an[3], NULL);
    test_async_run(a, 30);
    for (int i = 0; i < 4; i++)
        assert_int_equal(an[i].code, DBAL_OK);
    assert_int_equal(an[2].value, 1);
    assert_int_equal(a->inline_ops, 0);
    assert_int_equal(a->inline_handed_over, 0);
    /* A transaction the application began with SQL: the driver refuses
     * the statement at its start, before it runs (the arming itself reads
     * nothing of the connection), so its write goes to the worker, once. */
    dbal_async_exec(s, "BEGIN", DBAL_NOARGS, record, &an[4], NULL);
    test_async_run(a, 30);
    uint64_t before = a->inline_ops;
    dbal_async_exec(s, "INSERT INTO w VALUES (2)", DBAL_NOARGS, record, &an[5], NULL);
    test_async_run(a, 30);
    assert_int_equal(an[5].code, DBAL_OK);
    assert_int_equal(a->inline_ops, before);
    assert_int_equal(a->inline_handed_over, 1);
    dbal_async_exec(s, "ROLLBACK", DBAL_NOARGS, record, &an[4], NULL);
    test_async_run(a, 30);
    assert_int_equal(an[4].code, DBAL_OK);
    dbal_async_close(a);
    dbal_session *bs = test_session(e);
    assert_int_equal(test_scalar(bs, "SELECT count(*) FROM w"), 1);
    dbal_session_close(bs);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* An autocommit write longer than the budget (or, on a file, any write:
 * its commit would wait for the disk) is stopped, rolled back whole, and
 * applied once by the worker. */
static void test_autocommit_write_applied_once(void **state)
{
    (void)state;
    dbal_engine *e = engine_with_table("async_inline=50", "big");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    answer an = {0}, count = {0};
    dbal_async_exec(s,
                    "INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x "
                    "< "
                    "200000) SELECT x FROM c",
                    DBAL_NOARGS, record, &an, NULL);
    dbal_async_query(s, "SELECT count(*) FROM big", DBAL_NOARGS, record, &count, NULL);
    test_async_run(a, 60);
    assert_int_equal(an.code, DBAL_OK);
    assert_int_equal(an.affected, 200000);
    assert_int_equal(count.value, 200000);
    assert_int_equal(a->inline_handed_over, 1);
    /* A short write: inline on the RAM database, handed over on a file. */
    answer small = {0};
    dbal_async_exec(s, "INSERT INTO big VALUES (-1)", DBAL_NOARGS, record, &small, NULL);
    test_async_run(a, 30);
    assert_int_equal(small.code, DBAL_OK);
    assert_int_equal(small.affected, 1);
    assert_int_equal(a->inline_handed_over, is_file ? 2 : 1);
    /* A file's write goes to a worker before it runs, not at its commit:
     * one that fails at run time (integer overflow) fails there, once. */
    answer bad = {0};
    dbal_async_exec(s, "INSERT INTO big VALUES (abs(-9223372036854775807 - 1))", DBAL_NOARGS, record, &bad,
                    NULL);
    test_async_run(a, 30);
    assert_int_equal(bad.called, 1);
    assert_int_not_equal(bad.code, DBAL_OK);
    assert_int_equal(a->inline_handed_over, is_file ? 3 : 1);
    dbal_async_close(a);
    dbal_session *bs = test_session(e);
    assert_int_equal(test_scalar(bs, "SELECT count(*) FROM big"), 200001);
    dbal_session_close(bs);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* SQLite calls the progress handler once more as a statement returns,
 * after its autocommit transaction committed: an interrupt there answers
 * SQLITE_INTERRUPT for a write that is applied. With a budget of 1 us
 * every progress call is past it, so among many short writes some meet
 * that last call; each must still be applied exactly once (not again on
 * a worker). */
static void test_short_writes_applied_once(void **state)
{
    (void)state;
    enum { N = 600 };
    dbal_engine *e = engine_with_table("async_inline=1", "small");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    static answer an[N];
    memset(an, 0, sizeof an);
    for (int i = 0; i < N; i++)
        assert_int_equal(dbal_async_exec(s, "INSERT INTO small VALUES (?)", DBAL_ARGS(dbal_int64(i)), record,
                                         &an[i], NULL),
                         DBAL_OK);
    test_async_run(a, 60);
    for (int i = 0; i < N; i++) {
        assert_int_equal(an[i].called, 1);
        assert_int_equal(an[i].code, DBAL_OK);
        assert_int_equal(an[i].affected, 1);
    }
    dbal_async_close(a);
    dbal_session *bs = test_session(e);
    assert_int_equal(test_scalar(bs, "SELECT count(*) FROM small"), N);
    assert_int_equal(test_scalar(bs, "SELECT count(DISTINCT x) FROM small"), N);
    dbal_session_close(bs);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- another connection holds the write lock ---- */

static void test_busy_lock_handed_over(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("async_inline=100000&busy_timeout=20000");
    dbal_session *holder = test_session(e);
    OK(holder, dbal_exec(holder, "DROP TABLE IF EXISTS locked", DBAL_NOARGS, NULL));
    OK(holder, dbal_exec(holder, "CREATE TABLE locked(x INTEGER)", DBAL_NOARGS, NULL));
    OK(holder, dbal_begin(holder));
    OK(holder, dbal_exec(holder, "INSERT INTO locked VALUES (1)", DBAL_NOARGS, NULL));
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    answer an = {0};
    dbal_async_exec(s, "INSERT INTO locked VALUES (2)", DBAL_NOARGS, record, &an, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev);
    /* The loop comes back from the attempt at once: the op waits on a
     * worker, not on the loop thread (which would wait out busy_timeout,
     * 20 s: the bound below is far from both). */
    for (int i = 0; i < 20 && a->inline_handed_over == 0; i++) {
        epoll_wait(ep, &ev, 1, 100);
        double t0 = test_now();
        dbal_async_process(a);
        assert_true(test_now() - t0 < 10);
    }
    assert_int_equal(a->inline_handed_over, 1);
    assert_int_equal(an.called, 0);
    OK(holder, dbal_commit(holder));
    test_async_run(a, 30);
    close(ep);
    assert_int_equal(an.code, DBAL_OK);
    assert_int_equal(an.affected, 1);
    assert_int_equal(test_scalar(holder, "SELECT count(*) FROM locked"), 2);
    dbal_session_close(holder);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- cancel, close, the bound per process call ---- */

static void test_cancel_before_process(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("async_inline=100000");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    dbal_async_session_open(a, &s, NULL);
    answer warm = {0}, canceled = {0}, next = {0};
    dbal_async_query(s, "SELECT 1", DBAL_NOARGS, record, &warm, NULL);
    test_async_run(a, 30); /* the session has its connection */
    dbal_async_op *op;
    dbal_async_query(s, "SELECT 2", DBAL_NOARGS, record, &canceled, &op);
    dbal_async_query(s, "SELECT 3", DBAL_NOARGS, record, &next, NULL);
    assert_int_equal(canceled.called, 0);
    assert_int_equal(dbal_async_cancel(op), DBAL_OK);
    test_async_run(a, 30);
    assert_int_equal(canceled.called, 1);
    assert_int_equal(canceled.code, DBAL_ECANCELED);
    assert_int_equal(next.code, DBAL_OK);
    assert_int_equal(next.value, 3);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

static void test_close_with_inline_ops_pending(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("async_inline=100000");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s[2];
    answer warm = {0}, an[10] = {{0}};
    for (int i = 0; i < 2; i++) {
        dbal_async_session_open(a, &s[i], NULL);
        dbal_async_query(s[i], "SELECT 1", DBAL_NOARGS, record, &warm, NULL);
    }
    test_async_run(a, 30);
    for (int i = 0; i < 10; i++)
        dbal_async_query(s[i % 2], "SELECT 5", DBAL_NOARGS, record, &an[i], NULL);
    assert_non_null(a->inline_head); /* waiting for the loop */
    dbal_async_close(a);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(an[i].called, 1);
        assert_int_equal(an[i].code, DBAL_ECANCELED);
    }
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

typedef struct pinger {
    dbal_async_session *s;
    int done, limit;
} pinger;

static void ping_again(void *ud, const dbal_async_result *res)
{
    pinger *p = ud;
    assert_int_equal(res->code, DBAL_OK);
    if (++p->done < p->limit)
        dbal_async_query(p->s, "SELECT 1", DBAL_NOARGS, ping_again, p, NULL);
}

/* A chain queued by callbacks runs in the same process call, but no more
 * than a bounded share of it: the descriptor stays readable for the rest,
 * so that the application's loop serves its other descriptors between. */
static void test_chain_bounded_per_process(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("async_inline=100000");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    pinger p = {.limit = 1000};
    dbal_async_session_open(a, &p.s, NULL);
    dbal_async_query(p.s, "SELECT 1", DBAL_NOARGS, ping_again, &p, NULL);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev);
    int calls = 0, most = 0;
    while (dbal_async_pending(a) > 0 && calls < 100000) {
        int before = p.done;
        assert_int_equal(epoll_wait(ep, &ev, 1, 5000), 1);
        dbal_async_process(a);
        calls++;
        if (p.done - before > most)
            most = p.done - before;
    }
    close(ep);
    assert_int_equal(p.done, 1000);
    assert_true(most > 1);    /* a chain, not one op per call */
    assert_true(most <= 257); /* 256 inline, and one the worker may have run */
    assert_true(calls >= 4);  /* not all in one call */
    assert_true(a->inline_ops >= 900);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- what is kept for reuse: ops, buffered cursors and their names ---- */

/* Statements whose column names differ in count, length and by one letter,
 * and parameters from none to more than a kept op's room, one after the
 * other on one session: each answer is what was asked, so no op reuses a
 * room its SQL and parameters do not fit and no cursor keeps the names of
 * the statement before. */
static const char *const reuse_sql[] = {
    "SELECT ? AS a", "SELECT ? AS b", "SELECT ? AS ab, length(?) AS n", "SELECT ? AS ab, length(?) AS m",
    "SELECT ? AS a",
};
enum { NREUSE = sizeof reuse_sql / sizeof reuse_sql[0], REUSE_ROUNDS = 40 };
static const char *const reuse_names[NREUSE][2] = {{"a", NULL},
                                                   {"b", NULL},
                                                   {"ab", "n"},
                                                   {"ab", "m"},
                                                   {"a", NULL}};

typedef struct reuser {
    dbal_async_session *s;
    int i, checked;
    char text[3000];
} reuser;

static void reuse_ask(reuser *r);

/* The text of the i-th query's parameter, len bytes. */
static void reuse_text(char *out, int i, size_t len)
{
    for (size_t k = 0; k < len; k++)
        out[k] = (char)('a' + (i + (int)k) % 26);
    out[len] = '\0';
}

static void reuse_check(void *ud, const dbal_async_result *res)
{
    reuser *r = ud;
    int which = r->i % NREUSE;
    size_t len = (size_t)(r->i * 97 % 2000);
    assert_int_equal(res->code, DBAL_OK);
    assert_int_equal(dbal_col_count(res->rows), reuse_names[which][1] ? 2 : 1);
    assert_string_equal(dbal_col_name(res->rows, 0), reuse_names[which][0]);
    if (reuse_names[which][1])
        assert_string_equal(dbal_col_name(res->rows, 1), reuse_names[which][1]);
    assert_int_equal(dbal_rows_next(res->rows), DBAL_ROW);
    const char *t = NULL;
    size_t got = 0;
    assert_int_equal(dbal_col_get_text(res->rows, 0, &t, &got), DBAL_OK);
    char want[sizeof r->text];
    reuse_text(want, r->i, len);
    assert_int_equal(got, len);
    assert_memory_equal(t, want, len);
    if (reuse_names[which][1])
        assert_int_equal(dbal_col_int64(res->rows, 1), (int64_t)len);
    assert_int_equal(dbal_rows_next(res->rows), DBAL_DONE);
    r->checked++;
    if (++r->i < NREUSE * REUSE_ROUNDS)
        reuse_ask(r);
}

static void reuse_ask(reuser *r)
{
    int which = r->i % NREUSE;
    size_t len = (size_t)(r->i * 97 % 2000);
    reuse_text(r->text, r->i, len);
    dbal_value v[2] = {dbal_textn(r->text, len), dbal_textn(r->text, len)};
    dbal_params params = dbal_params_array(v, reuse_names[which][1] ? 2 : 1);
    assert_int_equal(dbal_async_query(r->s, reuse_sql[which], params, reuse_check, r, NULL), DBAL_OK);
    memset(r->text, '#', len); /* the caller's bytes may change at once: the op has its copy */
}

static void test_reuse_keeps_answers_apart(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("async_inline=100000");
    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    reuser r = {0};
    assert_int_equal(dbal_async_session_open(a, &r.s, NULL), DBAL_OK);
    reuse_ask(&r);
    while (dbal_async_pending(a) > 0)
        dbal_async_process(a);
    assert_int_equal(r.checked, NREUSE * REUSE_ROUNDS);
    assert_true(a->inline_ops >= (uint64_t)r.checked - 1);
    dbal_async_close(a);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- typed values: the buffered cursor answers as the blocking one ---- */

/* Columns with a declared kind (BOOLEAN, DATE, NUMERIC: the driver
 * converts their values), plain ones holding an integer, a text that looks
 * like a number, a real, a blob and NULLs. */
static const char *const typed_rows[] = {
    "INSERT INTO tv VALUES (1, 1, '2024-02-29', 19.5, '42', x'00ff', 2.5, 7)",
    "INSERT INTO tv VALUES (NULL, 0, NULL, 3, 'abc', NULL, NULL, '8')",
    "INSERT INTO tv VALUES (9007199254740993, NULL, '2024-01-01', NULL, '1e3', x'', 1e300, x'41')",
    "INSERT INTO tv VALUES (-5, 2, 'not a date', '12.50', '', 'text in a blob column', 0.0, -0.5)",
};
static const char typed_sql[] = "SELECT i, b, d, n, t, x, r, u FROM tv ORDER BY rowid";

/* Every getter's answer for every value, as one string. */
static void typed_digest(dbal_rows *r, char *out, size_t cap)
{
    size_t len = 0;
    while (dbal_rows_next(r) == DBAL_ROW)
        for (int c = 0; c < dbal_col_count(r) && len < cap; c++) {
            int64_t i = 0;
            double d = 0;
            int b = 0, ts_rc;
            int64_t ts = 0;
            const char *t = NULL;
            size_t n = 0;
            int i_rc = dbal_col_get_int64(r, c, &i), d_rc = dbal_col_get_double(r, c, &d);
            int b_rc = dbal_col_get_bool(r, c, &b), t_rc = dbal_col_get_text(r, c, &t, &n);
            ts_rc = dbal_col_get_timestamp(r, c, &ts);
            len += (size_t)snprintf(out + len, cap - len,
                                    "%s:%d null=%d int=%d/%lld dbl=%d/%.17g bool=%d/%d ts=%d/%lld "
                                    "text=%d/%.*s bytes=%zu|",
                                    dbal_col_name(r, c), dbal_col_type(r, c), dbal_col_is_null(r, c), i_rc,
                                    (long long)i, d_rc, d, b_rc, b, ts_rc, (long long)ts, t_rc,
                                    t_rc == DBAL_OK ? (int)n : 0, t_rc == DBAL_OK ? t : "",
                                    dbal_col_bytes(r, c));
        }
}

typedef struct typed_got {
    int called;
    char digest[2][8192];
} typed_got;

static void on_typed(void *ud, const dbal_async_result *res)
{
    typed_got *g = ud;
    assert_int_equal(res->code, DBAL_OK);
    typed_digest(res->rows, g->digest[g->called++ % 2], sizeof g->digest[0]);
}

static void test_typed_values_like_blocking(void **state)
{
    (void)state;
    dbal_engine *e = open_engine("async_inline=100000");
    dbal_session *bs;
    assert_int_equal(dbal_session_open(e, &bs, NULL), DBAL_OK);
    assert_int_equal(dbal_exec(bs,
                               "CREATE TABLE tv(i INTEGER, b BOOLEAN, d DATE, n NUMERIC(10,2), t TEXT, x "
                               "BLOB, "
                               "r REAL, u)",
                               DBAL_NOARGS, NULL),
                     DBAL_OK);
    for (size_t k = 0; k < sizeof typed_rows / sizeof typed_rows[0]; k++)
        assert_int_equal(dbal_exec(bs, typed_rows[k], DBAL_NOARGS, NULL), DBAL_OK);
    static char want[8192];
    dbal_rows *r;
    assert_int_equal(dbal_query(bs, typed_sql, DBAL_NOARGS, &r), DBAL_OK);
    typed_digest(r, want, sizeof want);
    dbal_rows_close(r);
    dbal_session_close(bs);

    dbal_async *a;
    assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
    dbal_async_session *s;
    assert_int_equal(dbal_async_session_open(a, &s, NULL), DBAL_OK);
    static typed_got got;
    memset(&got, 0, sizeof got);
    /* Twice: the second fills the cursor the first one left. */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(dbal_async_query(s, typed_sql, DBAL_NOARGS, on_typed, &got, NULL), DBAL_OK);
        test_async_run(a, 30);
    }
    assert_int_equal(got.called, 2);
    assert_string_equal(got.digest[0], want);
    assert_string_equal(got.digest[1], want);
    assert_true(strstr(want, "b:1 null=0") != NULL); /* the BOOLEAN column is read as one */
    dbal_async_session_close(s);
    dbal_async_close(a);
    bs = NULL;
    assert_int_equal(dbal_session_open(e, &bs, NULL), DBAL_OK);
    assert_int_equal(dbal_exec(bs, "DROP TABLE tv", DBAL_NOARGS, NULL), DBAL_OK);
    dbal_session_close(bs);
    assert_int_equal(dbal_engine_close(e), DBAL_OK);
}

/* ---- inline reads while other connections come and write ---- */

/* The loop thread runs a chain of point reads inline; another thread opens
 * sessions of the same engine one after another (pool_recycle=0: each gets
 * a new connection, which on sqlite::memory: ends the loop connection's
 * kept snapshot, possibly while the loop arms it for the next read: the
 * arming reads and writes nothing that ending it touches), each writing a
 * row. A read queued after the k-th write returned must see at least k
 * rows; every answer is a count, never an error. */
enum { MEET_WRITES = 8, MEET_READS_AFTER = 200 };

typedef struct meet {
    dbal_async_session *s;
    atomic_int written; /* writes whose commit returned */
    atomic_int reads;   /* answers so far: the writer starts after some */
    atomic_int quit;    /* the test is over: the writer stops waiting */
    int queued_with;    /* `written` when the read in flight was queued */
    int after;          /* reads queued after the last write, answered */
    int stale;          /* reads that missed a write that returned before they were queued */
    int bad;            /* errors, or counts out of range */
    int stop;
} meet;

static void ask_count(meet *m);

static void on_count(void *ud, const dbal_async_result *res)
{
    meet *m = ud;
    int64_t n = -1;
    if (res->code == DBAL_OK && res->rows && dbal_rows_next(res->rows) == DBAL_ROW)
        n = dbal_col_int64(res->rows, 0);
    if (n < 0 || n > MEET_WRITES)
        m->bad++;
    else if (n < m->queued_with)
        m->stale++;
    if (m->queued_with == MEET_WRITES)
        m->after++;
    atomic_fetch_add(&m->reads, 1);
    if (m->after < MEET_READS_AFTER && m->bad == 0)
        ask_count(m);
    else
        m->stop = 1;
}

static void ask_count(meet *m)
{
    m->queued_with = atomic_load(&m->written);
    if (dbal_async_query(m->s, "SELECT count(*) FROM met", DBAL_NOARGS, on_count, m, NULL) != DBAL_OK)
        m->bad++;
}

typedef struct writer_arg {
    dbal_engine *e;
    meet *m;
    int failed;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    for (int k = 0; k < MEET_WRITES; k++) {
        /* Some reads between two writes, so that a new connection meets a
         * kept snapshot each time. */
        int from = atomic_load(&w->m->reads);
        while (atomic_load(&w->m->reads) < from + 20 && !atomic_load(&w->m->quit))
            sched_yield();
        dbal_session *bs;
        if (atomic_load(&w->m->quit) || dbal_session_open(w->e, &bs, NULL) != DBAL_OK) {
            w->failed = 1;
            return NULL;
        }
        if (dbal_exec(bs, "INSERT INTO met VALUES (1)", DBAL_NOARGS, NULL) == DBAL_OK)
            atomic_fetch_add(&w->m->written, 1);
        else
            w->failed = 1;
        dbal_session_close(bs);
    }
    return NULL;
}

static void test_reads_meet_new_connections(void **state)
{
    (void)state;
    for (int round = 0; round < 10; round++) {
        dbal_engine *e = engine_with_table("async_inline=100000&pool_recycle=0", "met");
        dbal_async *a;
        assert_int_equal(dbal_async_open(e, &a, NULL), DBAL_OK);
        static meet m;
        memset(&m, 0, sizeof m);
        assert_int_equal(dbal_async_session_open(a, &m.s, NULL), DBAL_OK);
        static writer_arg w;
        w = (writer_arg){e, &m, 0};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, writer, &w), 0);
        ask_count(&m);
        int ep = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN};
        epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev);
        double end = test_now() + 30;
        while (!m.stop && test_now() < end) {
            epoll_wait(ep, &ev, 1, 10);
            if (dbal_async_process(a) != DBAL_OK)
                break;
        }
        close(ep);
        atomic_store(&m.quit, 1); /* a failed read chain must not leave the writer waiting */
        pthread_join(t, NULL);
        assert_int_equal(w.failed, 0);
        assert_int_equal(atomic_load(&m.written), MEET_WRITES);
        assert_true(m.stop);
        assert_int_equal(m.bad, 0);
        assert_int_equal(m.stale, 0);
        assert_int_equal(m.after, MEET_READS_AFTER);
        assert_true(a->inline_ops > 0);
        test_async_run(a, 30);
        dbal_async_session_close(m.s);
        dbal_async_close(a);
        assert_int_equal(dbal_engine_close(e), DBAL_OK);
    }
}

int main(int argc, char **argv)
{
    kind = argc > 1 ? argv[1] : "sqlite-memory";
    if (strcmp(kind, "sqlite-file") == 0) {
        tmpdir = test_tmpdir();
        snprintf(url_base, sizeof url_base, "sqlite://%s/inline.db", tmpdir);
        is_file = 1;
    } else {
        snprintf(url_base, sizeof url_base, "sqlite::memory:");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_answers_inline_or_not),
        cmocka_unit_test(test_long_read_handed_over),
        cmocka_unit_test(test_transaction_never_inline),
        cmocka_unit_test(test_autocommit_write_applied_once),
        cmocka_unit_test(test_short_writes_applied_once),
        cmocka_unit_test(test_busy_lock_handed_over),
        cmocka_unit_test(test_cancel_before_process),
        cmocka_unit_test(test_close_with_inline_ops_pending),
        cmocka_unit_test(test_chain_bounded_per_process),
        cmocka_unit_test(test_reuse_keeps_answers_apart),
        cmocka_unit_test(test_typed_values_like_blocking),
        cmocka_unit_test(test_reads_meet_new_connections),
    };
    int rc = cmocka_run_group_tests_name(kind, tests, NULL, NULL);
    if (tmpdir)
        test_rmdir(tmpdir);
    return rc;
}
