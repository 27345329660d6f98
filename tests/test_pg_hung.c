/*
 * A hung PostgreSQL server: every process of the test cluster stopped with
 * SIGSTOP, as a host that hangs (its kernel still answers TCP, nothing else
 * does). Every call must come back within the bounds the README states
 * (statement timeout + 1000 ms grace, connect_timeout for the pre-ping and
 * the connect after it) and cancel must never block its caller.
 *
 * Needs DBAL_TEST_PG_URL and DBAL_TEST_PG_DATADIR (tests/pg_cluster.sh
 * exports both); skipped (77) without them unless DBAL_TEST_REQUIRE_PG=1.
 * The server is resumed in each test's teardown, at exit, and, should this
 * process die, by a watchdog child that waits on a pipe: a later suite never
 * finds it stopped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_helpers.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/wait.h>

static const char *pg_url;
static const char *datadir;

/* A hung call of the old code returned only once the server was resumed:
 * the watchdog resumes it after this long, so that such a run ends (and
 * fails on its elapsed time) instead of hanging. */
#define WATCHDOG_SECONDS 15
/* The bounds asserted: generous for a slow machine, far below the 9-12 s a
 * hung call took before. */
#define STATEMENT_BOUND 4.0 /* a 1000 ms timeout + 1000 ms grace */
#define INSTANT 0.1         /* cancel and dbal_async_process */

/* ---- stopping and resuming the server ---------------------------------- */

enum { MAX_PIDS = 256 };
static pid_t stopped[MAX_PIDS];
static int nstopped;
static pid_t watchdog = -1;
static int watchdog_pipe = -1;

static pid_t postmaster_pid(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/postmaster.pid", datadir);
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return (pid_t)pid;
}

static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
    const char *p = strrchr(buf, ')');
    long ppid = -1;
    if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1)
        return -1;
    return (pid_t)ppid;
}

/* Sends sig to every pid in list. Only kill(2): also used by the watchdog
 * child, after fork in a process with threads. */
static void signal_all(const pid_t *list, int n, int sig)
{
    for (int i = 0; i < n; i++)
        kill(list[i], sig);
}

static void resume_server(void)
{
    if (nstopped == 0)
        return;
    signal_all(stopped, nstopped, SIGCONT);
    nstopped = 0;
    if (watchdog_pipe >= 0) {
        close(watchdog_pipe); /* the watchdog sees EOF, resumes (again) and exits */
        watchdog_pipe = -1;
    }
    if (watchdog > 0) {
        waitpid(watchdog, NULL, 0);
        watchdog = -1;
    }
}

/* The watchdog: resumes the server when the pipe closes (this process
 * resumed it, or died) or after WATCHDOG_SECONDS. */
static void start_watchdog(void)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[1]);
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        poll(&p, 1, WATCHDOG_SECONDS * 1000);
        signal_all(stopped, nstopped, SIGCONT);
        _exit(0);
    }
    close(fds[0]);
    watchdog = pid;
    watchdog_pipe = fds[1];
}

/* Stops the postmaster alone: the backends run on, and a cancel request,
 * which the postmaster passes on, waits. Returns its pid. */
static pid_t stop_postmaster(void)
{
    pid_t pm = postmaster_pid();
    assert_true(pm > 0);
    nstopped = 0;
    assert_int_equal(kill(pm, SIGSTOP), 0);
    stopped[nstopped++] = pm;
    return pm;
}

/* Stops the postmaster first (it then forks no one new), then each of its
 * children: the backends, checkpointer, walwriter, ... */
static void stop_server(void)
{
    pid_t pm = stop_postmaster();
    DIR *d = opendir("/proc");
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL && nstopped < MAX_PIDS) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || parent_of((pid_t)pid) != pm)
            continue;
        if (kill((pid_t)pid, SIGSTOP) == 0)
            stopped[nstopped++] = (pid_t)pid;
    }
    closedir(d);
    start_watchdog();
}

static void resume_at_exit(void)
{
    resume_server();
}

static int teardown(void **state)
{
    (void)state;
    resume_server();
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* After the server is resumed, the engine works again: a fresh session. */
static void works_again(dbal_engine *e)
{
    resume_server();
    dbal_session *s = test_session(e);
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(s);
}

static void took(const char *what, double t0, double bound)
{
    double t = test_now() - t0;
    printf("# %s: %.3f s (bound %.1f s)\n", what, t, bound);
    if (t >= bound)
        fail_msg("%s took %.3f s, more than %.1f s", what, t, bound);
}

static void message_says(dbal_session *s, const char *part)
{
    const char *msg = dbal_session_error(s)->message;
    if (!strstr(msg, part))
        fail_msg("the message \"%s\" does not say \"%s\"", msg, part);
}

/* A session of e with a statement timeout (0: the engine's), connected
 * and with "SELECT 1" prepared, on a server then stopped. */
static dbal_session *session_on_stopped_server(dbal_engine *e, int timeout_ms)
{
    dbal_session *s = test_session(e);
    if (timeout_ms > 0)
        OK(s, dbal_session_set_timeout(s, timeout_ms));
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    stop_server();
    return s;
}

/* Runs sql on s within STATEMENT_BOUND; it must fail with want, its
 * message saying `says`. */
static void exec_bounded(dbal_session *s, const char *what, const char *sql, dbal_params params, int want,
                         const char *says)
{
    double t0 = test_now();
    int rc = dbal_exec(s, sql, params, NULL);
    took(what, t0, STATEMENT_BOUND);
    EXPECT_RC(s, rc, want);
    message_says(s, says);
}

/* ---- statements ------------------------------------------------------------ */

/* Autocommit: the server may still run the statement when it wakes up, so
 * the outcome is unknown: DBAL_ECONNLOST. (The statements are prepared
 * already, so that the one waited for is the statement itself.) But a
 * statement whose prepare goes unanswered was never sent: DBAL_ETIMEOUT. */
static void test_exec_autocommit(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "application_name=dbal_hung");
    dbal_session *s = session_on_stopped_server(e, 1000);
    exec_bounded(s, "autocommit exec, session timeout 1000 ms", "SELECT 1", DBAL_NOARGS, DBAL_ECONNLOST,
                 "outcome is unknown");
    dbal_session_close(s);
    resume_server();

    s = session_on_stopped_server(e, 1000);
    exec_bounded(s, "autocommit exec waiting for its prepare", "SELECT 2", DBAL_NOARGS, DBAL_ETIMEOUT,
                 "not applied");
    dbal_session_close(s);
    works_again(e);
    dbal_engine_close(e);
}

/* Inside a transaction block nothing is applied: the server rolls back
 * when it finds the connection closed. DBAL_ETIMEOUT, and the transaction
 * is failed like after any failed statement. */
static void test_exec_in_transaction(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "application_name=dbal_hung");
    dbal_session *s = test_session(e);
    OK(s, dbal_exec(s, "CREATE TEMP TABLE hung_t(x int)", DBAL_NOARGS, NULL));
    OK(s, dbal_session_set_timeout(s, 1000));
    OK(s, dbal_begin(s));
    OK(s, dbal_exec(s, "INSERT INTO hung_t VALUES (?)", DBAL_ARGS(dbal_int64(1)), NULL));
    stop_server();
    exec_bounded(s, "exec in a transaction, session timeout 1000 ms", "INSERT INTO hung_t VALUES (?)",
                 DBAL_ARGS(dbal_int64(2)), DBAL_ETIMEOUT, "not applied");
    double t0 = test_now();
    EXPECT_RC(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    OK(s, dbal_rollback(s));
    took("the failed transaction's next statement and rollback", t0, INSTANT);
    dbal_session_close(s);
    works_again(e);
    dbal_engine_close(e);
}

/* The engine's statement_timeout (URL) is bounded the same way. */
static void test_url_statement_timeout(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "application_name=dbal_hung&statement_timeout=1000");
    dbal_session *s = session_on_stopped_server(e, 0);
    exec_bounded(s, "autocommit exec, URL statement_timeout=1000", "SELECT 1", DBAL_NOARGS, DBAL_ECONNLOST,
                 "statement timeout 1000 ms + 1000 ms grace");
    dbal_session_close(s);
    works_again(e);
    dbal_engine_close(e);
}

/* A migration waiting for another process's lock: lock_timeout_ms bounds
 * the wait when the server stops answering too (DBAL_ETIMEOUT), not only
 * when another process holds the lock. The engine's one connection is
 * idle in the pool when the server stops, so the migration gets it without
 * a round trip. */
static void test_migrate_lock_wait(void **state)
{
    (void)state;
    char dir[] = "/tmp/dbal-hung-migrate-XXXXXX", file[600];
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/0001_t.sql", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("CREATE TABLE hung_migrated(x int);\n", f);
    fclose(f);
    /* pool_reset=rollback: no reset is sent when the session gives the
     * connection back, so none is still unanswered when the server stops
     * (reading one is the checkout's wait, bounded by its own 5 s, not
     * lock_timeout_ms's). */
    dbal_engine *e =
        test_engine_opts(pg_url, "application_name=dbal_hung&pool_size=1&max_overflow=0&pool_reset=rollback");
    dbal_session *s = test_session(e);
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    stop_server();
    dbal_migrate_options o;
    dbal_migrate_options_init(&o);
    o.lock_timeout_ms = 1000;
    dbal_error err;
    double t0 = test_now();
    int rc = dbal_migrate_up(e, dir, 0, &o, &err);
    took("migration waiting for its lock, lock_timeout_ms 1000", t0, STATEMENT_BOUND);
    assert_int_equal(rc, DBAL_ETIMEOUT);
    unlink(file);
    rmdir(dir);
    works_again(e);
    dbal_engine_close(e);
}

/* A query whose first row does not come, and a cursor whose next rows do
 * not come. */
static void test_query_and_rows_next(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "application_name=dbal_hung");
    dbal_session *s = session_on_stopped_server(e, 1000);
    dbal_rows *r;
    double t0 = test_now();
    int rc = dbal_query(s, "SELECT 1", DBAL_NOARGS, &r);
    took("query, session timeout 1000 ms", t0, STATEMENT_BOUND);
    EXPECT_RC(s, rc, DBAL_ECONNLOST);
    dbal_session_close(s);
    resume_server();

    /* Rows that never end: the server stops in the middle of them. */
    s = test_session(e);
    /* A target-list set-returning function streams its rows (one in FROM
     * would be materialised first). */
    OK(s, dbal_session_set_timeout(s, 1500));
    OK(s, dbal_query(s, "SELECT generate_series(1, 1000000000)", DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    stop_server();
    t0 = test_now();
    int64_t n = 0;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW && test_now() - t0 < 30)
        n++;
    printf("# %lld rows read after the server stopped\n", (long long)n);
    took("rows_next, session timeout 1500 ms", t0, STATEMENT_BOUND);
    EXPECT_RC(s, rc, DBAL_ECONNLOST);
    t0 = test_now();
    dbal_rows_close(r);
    took("closing that cursor", t0, INSTANT);
    dbal_session_close(s);
    works_again(e);
    dbal_engine_close(e);
}

/* pool_pre_ping of a connection idle past the 0.5 s bypass: the ping is
 * bounded by connect_timeout, and so is the connect that replaces the
 * connection it found hung. */
static void test_pre_ping_checkout(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "application_name=dbal_hung&pool_pre_ping=1&connect_timeout=2");
    dbal_session *s = test_session(e);
    OK(s, dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    usleep(600 * 1000);
    stop_server();
    s = test_session(e);
    double t0 = test_now();
    int rc = dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
    took("pre-ping checkout, connect_timeout=2", t0, 2 * 2 + 2.5);
    EXPECT_RC(s, rc, DBAL_ECONNECT);
    dbal_session_close(s);
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    assert_true(st.discarded >= 1);
    works_again(e);
    dbal_engine_close(e);
}

/* ---- cancel ------------------------------------------------------------------ */

typedef struct {
    dbal_session *s;
    double cancel_took, second_took;
    int rc;
} canceller_arg;

static void *cancel_later(void *p)
{
    canceller_arg *a = p;
    usleep(300 * 1000); /* the statement is waiting for the server by now */
    double t0 = test_now();
    a->rc = dbal_session_cancel(a->s);
    a->cancel_took = test_now() - t0;
    t0 = test_now();
    dbal_session_cancel(a->s); /* one is in flight already */
    a->second_took = test_now() - t0;
    return NULL;
}

static void test_cancel_from_another_thread(void **state)
{
    (void)state;
    dbal_engine *e = test_engine_opts(pg_url, "application_name=dbal_hung");
    dbal_session *s = session_on_stopped_server(e, 2000);
    canceller_arg a = {.s = s};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &a), 0);
    double t0 = test_now();
    int rc = dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
    pthread_join(t, NULL);
    printf("# dbal_session_cancel: %.3f s, again: %.3f s; the statement: %s after %.3f s\n", a.cancel_took,
           a.second_took, dbal_code_name(rc), test_now() - t0);
    assert_int_equal(a.rc, DBAL_OK);
    assert_true(a.cancel_took < INSTANT);
    assert_true(a.second_took < INSTANT);
    /* The cancel never reached the stopped server: the statement ends on
     * its timeout's bound, outcome unknown. */
    EXPECT_RC(s, rc, DBAL_ECONNLOST);
    assert_true(test_now() - t0 < 3.0 + 2.0);
    dbal_session_close(s);
    works_again(e);
    dbal_engine_close(e);
}

/* ---- the asynchronous API ---------------------------------------------------- */

typedef struct {
    int called, code;
    double at;
    char message[512];
} outcome;

static void record(void *ud, const dbal_async_result *res)
{
    outcome *o = ud;
    o->called++;
    o->code = res->code;
    o->at = test_now();
    snprintf(o->message, sizeof o->message, "%s", res->error->message);
}

/* Runs the loop until o is called back or `limit` seconds pass; fails if
 * one dbal_async_process call takes INSTANT or more while the server is
 * stopped (a working one may make it connect, which takes longer under
 * valgrind). */
static void loop_until(dbal_async *a, const outcome *o, double limit)
{
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev), 0);
    double end = test_now() + limit, slowest = 0;
    while (!o->called && test_now() < end) {
        epoll_wait(ep, &ev, 1, 50);
        double t0 = test_now();
        assert_int_equal(dbal_async_process(a), DBAL_OK);
        double t = test_now() - t0;
        if (nstopped > 0 && t > slowest)
            slowest = t;
    }
    close(ep);
    printf("# slowest dbal_async_process: %.3f s\n", slowest);
    if (slowest >= INSTANT)
        fail_msg("dbal_async_process blocked the loop for %.3f s", slowest);
}

static dbal_async_session *async_session(dbal_async *a, int timeout_ms)
{
    dbal_async_session *as;
    dbal_error err;
    assert_int_equal(dbal_async_session_open(a, &as, &err), DBAL_OK);
    assert_int_equal(dbal_async_session_set_timeout(as, timeout_ms), DBAL_OK);
    outcome warm = {0};
    assert_int_equal(dbal_async_exec(as, "SELECT 1", DBAL_NOARGS, record, &warm, NULL), DBAL_OK);
    loop_until(a, &warm, 10);
    assert_int_equal(warm.code, DBAL_OK);
    return as;
}

typedef struct {
    dbal_engine *e;
    dbal_async *a;
    dbal_async_session *as;
} async_fixture;

/* An asynchronous session with a 1000 ms timeout, connected (inside a
 * transaction when in_tx), on a server then stopped. */
static void async_on_stopped_server(async_fixture *f, int in_tx)
{
    dbal_error err;
    f->e = test_engine_opts(pg_url, "application_name=dbal_hung");
    assert_int_equal(dbal_async_open(f->e, &f->a, &err), DBAL_OK);
    f->as = async_session(f->a, 1000);
    if (in_tx) {
        outcome begun = {0};
        assert_int_equal(dbal_async_begin(f->as, 0, record, &begun, NULL), DBAL_OK);
        loop_until(f->a, &begun, 10);
        assert_int_equal(begun.code, DBAL_OK);
    }
    stop_server();
}

/* o, queued at t0, came back with want within STATEMENT_BOUND. */
static void completed_bounded(const char *what, const outcome *o, double t0, int want)
{
    assert_int_equal(o->called, 1);
    printf("# %s: %s after %.3f s: %s\n", what, dbal_code_name(o->code), o->at - t0, o->message);
    assert_true(o->at - t0 < STATEMENT_BOUND);
    assert_int_equal(o->code, want);
}

static void async_close_fixture(async_fixture *f)
{
    dbal_async_session_close(f->as);
    dbal_async_close(f->a);
    works_again(f->e);
    dbal_engine_close(f->e);
}

/* An operation past its timeout is interrupted (the cancel request cannot
 * reach a stopped server), then given up with its connection once the
 * grace has passed; the loop is never blocked meanwhile. */
static void test_async_timeout(void **state)
{
    (void)state;
    async_fixture f;
    async_on_stopped_server(&f, 0);
    outcome o = {0};
    double t0 = test_now();
    assert_int_equal(dbal_async_exec(f.as, "SELECT 2", DBAL_NOARGS, record, &o, NULL), DBAL_OK);
    loop_until(f.a, &o, WATCHDOG_SECONDS + 5);
    completed_bounded("timed-out async op", &o, t0, DBAL_ECONNLOST);
    dbal_async_session_close(f.as);
    resume_server();
    f.as = async_session(f.a, 1000); /* the context works again */
    async_close_fixture(&f);
}

/* The same inside a transaction: nothing can have been applied, so
 * DBAL_ETIMEOUT; the transaction is failed until it is rolled back. */
static void test_async_timeout_in_transaction(void **state)
{
    (void)state;
    async_fixture f;
    async_on_stopped_server(&f, 1);
    outcome o = {0}, next = {0}, rolled = {0};
    double t0 = test_now();
    assert_int_equal(dbal_async_exec(f.as, "SELECT 2", DBAL_NOARGS, record, &o, NULL), DBAL_OK);
    loop_until(f.a, &o, WATCHDOG_SECONDS + 5);
    completed_bounded("timed-out async op in a transaction", &o, t0, DBAL_ETIMEOUT);
    assert_int_equal(dbal_async_exec(f.as, "SELECT 3", DBAL_NOARGS, record, &next, NULL), DBAL_OK);
    assert_int_equal(dbal_async_rollback(f.as, record, &rolled, NULL), DBAL_OK);
    loop_until(f.a, &rolled, 1);
    assert_int_equal(next.code, DBAL_ETXFAILED);
    assert_int_equal(rolled.code, DBAL_OK);
    async_close_fixture(&f);
}

/* dbal_async_cancel returns at once; the op still ends on its timeout. */
static void test_async_cancel(void **state)
{
    (void)state;
    async_fixture f;
    async_on_stopped_server(&f, 0);
    outcome o = {0};
    dbal_async_op *op;
    double t0 = test_now();
    assert_int_equal(dbal_async_exec(f.as, "SELECT 2", DBAL_NOARGS, record, &o, &op), DBAL_OK);
    double t1 = test_now();
    assert_int_equal(dbal_async_process(f.a), DBAL_OK);
    assert_int_equal(dbal_async_cancel(op), DBAL_OK);
    took("dbal_async_process and dbal_async_cancel", t1, INSTANT);
    loop_until(f.a, &o, WATCHDOG_SECONDS + 5);
    completed_bounded("canceled async op", &o, t0, DBAL_ECONNLOST);
    async_close_fixture(&f);
}

/* An asynchronous session without a timeout, on an engine of one
 * connection, whose postmaster is then stopped: a cancel request waits,
 * the backend runs on. */
static dbal_async_session *one_connection_postmaster_stopped(dbal_engine **e, dbal_async **a)
{
    dbal_error err;
    *e = test_engine_opts(pg_url, "application_name=dbal_hung&pool_size=1&max_overflow=0");
    assert_int_equal(dbal_async_open(*e, a, &err), DBAL_OK);
    dbal_async_session *as = async_session(*a, 0);
    stop_postmaster();
    start_watchdog();
    return as;
}

/* A cancel request still on its way when its op completes stays with its
 * connection: the next async session does not get that connection until
 * the request has arrived (here it does not, so the connection goes and a
 * new one is made), and the request cannot interrupt the next session's
 * statement. Without that, the late request lands on the next statement
 * the connection runs: DBAL_ECANCELED for a session that cancelled
 * nothing. */
static void test_async_late_cancel_stays_behind(void **state)
{
    (void)state;
    dbal_error err;
    dbal_engine *e;
    dbal_async *a;
    dbal_async_session *as = one_connection_postmaster_stopped(&e, &a);
    double t0 = test_now();
    outcome first = {0};
    dbal_async_op *op;
    assert_int_equal(dbal_async_exec(as, "SELECT pg_sleep(0.5)", DBAL_NOARGS, record, &first, &op), DBAL_OK);
    assert_int_equal(dbal_async_process(a), DBAL_OK);
    assert_int_equal(dbal_async_cancel(op), DBAL_OK); /* its request waits for the postmaster */
    loop_until(a, &first, 10);
    printf("# the cancelled op: %s after %.3f s\n", dbal_code_name(first.code), first.at - t0);
    dbal_async_session_close(as);

    dbal_async_session *next;
    assert_int_equal(dbal_async_session_open(a, &next, &err), DBAL_OK);
    outcome o = {0};
    assert_int_equal(dbal_async_exec(next, "SELECT pg_sleep(2)", DBAL_NOARGS, record, &o, NULL), DBAL_OK);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev), 0);
    while (!o.called && test_now() - t0 < 15) {
        if (nstopped > 0 && test_now() - t0 > 2.0)
            resume_server(); /* the request arrives: on a statement, if one of ours runs there */
        epoll_wait(ep, &ev, 1, 20);
        assert_int_equal(dbal_async_process(a), DBAL_OK);
    }
    close(ep);
    printf("# the next session's statement: %s after %.3f s: %s\n", dbal_code_name(o.code), o.at - t0,
           o.message);
    assert_int_equal(o.called, 1);
    assert_int_equal(o.code, DBAL_OK);
    dbal_async_session_close(next);
    dbal_async_close(a);
    works_again(e);
    dbal_engine_close(e);
}

/* Runs the loop until o is called back, resuming the server `resume`
 * seconds after `after` was called back (the cancel request then arrives);
 * returns the slowest dbal_async_process. */
static double loop_resuming(dbal_async *a, const outcome *o, const outcome *after, double resume)
{
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev), 0);
    double end = test_now() + 15, slowest = 0;
    while (!o->called && test_now() < end) {
        if (nstopped > 0 && after->called && test_now() - after->at > resume)
            resume_server(); /* the request arrives: on a statement, if one of ours runs there */
        epoll_wait(ep, &ev, 1, 20);
        double t1 = test_now();
        assert_int_equal(dbal_async_process(a), DBAL_OK);
        if (test_now() - t1 > slowest)
            slowest = test_now() - t1;
    }
    close(ep);
    return slowest;
}

/* Queues the next op from the callback of the first, as a request/response
 * loop does. */
typedef struct {
    outcome first, next;
    dbal_async_session *as;
    const char *sql;
} chained;

static void record_then_queue(void *ud, const dbal_async_result *res)
{
    chained *c = ud;
    record(&c->first, res);
    assert_int_equal(dbal_async_exec(c->as, c->sql, DBAL_NOARGS, record, &c->next, NULL), DBAL_OK);
}

/* Within one session: a cancel request still on its way when its op
 * completes must not reach the op sent next. The postmaster is stopped, so
 * the request waits; the canceled op completes on its own (OK); the next
 * op, queued from its callback, must not start before the request has
 * arrived, which it does once the postmaster is resumed (before the 1000 ms
 * grace). Without the hold, the next op's pg_sleep(2) is running when the
 * request arrives: DBAL_ECANCELED for an op nobody canceled. */
static void test_async_late_cancel_same_session(void **state)
{
    (void)state;
    dbal_engine *e;
    dbal_async *a;
    chained c = {.as = one_connection_postmaster_stopped(&e, &a), .sql = "SELECT pg_sleep(2)"};
    double t0 = test_now();
    dbal_async_op *op;
    assert_int_equal(dbal_async_exec(c.as, "SELECT pg_sleep(0.3)", DBAL_NOARGS, record_then_queue, &c, &op),
                     DBAL_OK);
    assert_int_equal(dbal_async_process(a), DBAL_OK);
    assert_int_equal(dbal_async_cancel(op), DBAL_OK); /* its request waits for the postmaster */
    double slowest = loop_resuming(a, &c.next, &c.first, 0.3);
    printf("# the cancelled op: %s after %.3f s; the next op: %s after %.3f s: %s; slowest process %.3f s\n",
           dbal_code_name(c.first.code), c.first.at - t0, dbal_code_name(c.next.code), c.next.at - t0,
           c.next.message, slowest);
    assert_int_equal(c.first.code, DBAL_OK); /* done before its request could arrive */
    assert_int_equal(c.next.called, 1);
    assert_int_equal(c.next.code, DBAL_OK);
    assert_true(slowest < INSTANT); /* held without blocking the loop */
    dbal_async_session_close(c.as);
    dbal_async_close(a);
    works_again(e);
    dbal_engine_close(e);
}

/* The same with the next op already in the pipeline when the cancel is
 * asked for: it cannot be held back, and the late request interrupts it.
 * It fails saying so and is never sent again: an autocommit statement can
 * have done something that its failure did not undo (here a procedure
 * that commits a row before it is interrupted; sent again, the row was
 * there twice). */
static void test_async_late_cancel_pipelined(void **state)
{
    (void)state;
    dbal_engine *setup = test_engine_opts(pg_url, "application_name=dbal_hung_setup");
    dbal_session *s = test_session(setup);
    OK(s, dbal_exec(s, "DROP TABLE IF EXISTS hung_once", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "CREATE TABLE hung_once (x int)", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s,
                    "CREATE OR REPLACE PROCEDURE hung_once_p() LANGUAGE plpgsql AS $$ BEGIN "
                    "INSERT INTO hung_once VALUES (1); COMMIT; PERFORM pg_sleep(2); END $$",
                    DBAL_NOARGS, NULL));
    dbal_engine *e;
    dbal_async *a;
    dbal_async_session *as = one_connection_postmaster_stopped(&e, &a);
    outcome first = {0}, next = {0};
    dbal_async_op *op;
    assert_int_equal(dbal_async_exec(as, "SELECT pg_sleep(0.3)", DBAL_NOARGS, record, &first, &op), DBAL_OK);
    assert_int_equal(dbal_async_exec(as, "CALL hung_once_p()", DBAL_NOARGS, record, &next, NULL), DBAL_OK);
    assert_int_equal(dbal_async_process(a), DBAL_OK);
    assert_int_equal(dbal_async_cancel(op), DBAL_OK); /* its request waits for the postmaster */
    double slowest = loop_resuming(a, &next, &first, 0.3);
    printf("# the cancelled op: %s; the next op: %s: %s; slowest process %.3f s\n",
           dbal_code_name(first.code), dbal_code_name(next.code), next.message, slowest);
    assert_int_equal(first.code, DBAL_OK);
    assert_int_equal(next.called, 1);
    assert_int_equal(next.code, DBAL_ECANCELED);
    assert_non_null(strstr(next.message, "meant for an earlier operation"));
    assert_true(slowest < INSTANT);
    dbal_async_session_close(as);
    dbal_async_close(a);
    works_again(e);
    dbal_engine_close(e);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM hung_once"), 1); /* one CALL, one row */
    OK(s, dbal_exec(s, "DROP TABLE hung_once", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "DROP PROCEDURE hung_once_p", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(setup);
}

/* Inside a transaction the statement the late request interrupted failed
 * its transaction, and cannot run again: it fails saying the cancel was
 * another op's, and the commit rolls back. */
static void test_async_late_cancel_in_transaction(void **state)
{
    (void)state;
    dbal_engine *e;
    dbal_async *a;
    dbal_async_session *as = one_connection_postmaster_stopped(&e, &a);
    outcome begun = {0}, first = {0}, next = {0}, committed = {0};
    dbal_async_op *op;
    assert_int_equal(dbal_async_begin(as, 0, record, &begun, NULL), DBAL_OK);
    assert_int_equal(dbal_async_exec(as, "SELECT pg_sleep(0.3)", DBAL_NOARGS, record, &first, &op), DBAL_OK);
    assert_int_equal(dbal_async_exec(as, "SELECT pg_sleep(2)", DBAL_NOARGS, record, &next, NULL), DBAL_OK);
    assert_int_equal(dbal_async_commit(as, record, &committed, NULL), DBAL_OK);
    assert_int_equal(dbal_async_process(a), DBAL_OK);
    assert_int_equal(dbal_async_cancel(op), DBAL_OK);
    loop_resuming(a, &committed, &first, 0.3);
    printf("# the cancelled op: %s; the next op: %s: %s; the commit: %s\n", dbal_code_name(first.code),
           dbal_code_name(next.code), next.message, dbal_code_name(committed.code));
    assert_int_equal(first.code, DBAL_OK);
    assert_int_equal(next.code, DBAL_ECANCELED);
    assert_non_null(strstr(next.message, "meant for an earlier operation"));
    assert_int_equal(committed.code, DBAL_ETXFAILED);
    dbal_async_session_close(as);
    dbal_async_close(a);
    works_again(e);
    dbal_engine_close(e);
}

/* What a connection owes before its next statement (the RESET ALL of a
 * session that ran SET, a changed statement timeout) never makes the loop
 * wait: it travels ahead of the statements. Nor does giving a connection
 * back after a SET. */
static void test_async_bookkeeping(void **state)
{
    (void)state;
    dbal_engine *e =
        test_engine_opts(pg_url,
                         "application_name=dbal_hung&pool_size=1&max_overflow=0&statement_timeout=1000");
    dbal_session *s = test_session(e);
    OK(s, dbal_session_set_timeout(s, 5000));
    OK(s, dbal_exec(s, "SET work_mem = '7MB'", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    async_fixture f = {.e = e};
    dbal_error err;
    assert_int_equal(dbal_async_open(e, &f.a, &err), DBAL_OK);
    assert_int_equal(dbal_async_session_open(f.a, &f.as, &err), DBAL_OK);
    assert_int_equal(dbal_async_session_set_timeout(f.as, 1000), DBAL_OK);
    stop_server();
    outcome o = {0};
    double t0 = test_now();
    assert_int_equal(dbal_async_exec(f.as, "SELECT 1", DBAL_NOARGS, record, &o, NULL), DBAL_OK);
    took("queueing on a connection whose reset may be unanswered", t0, INSTANT);
    loop_until(f.a, &o, WATCHDOG_SECONDS + 5);
    /* Either the reset's answer came before the stop and the op was sent
     * (then given up: its outcome unknown), or the connection still waits
     * for it and the op timed out before it left (nothing applied). */
    completed_bounded("its op", &o, t0, o.code == DBAL_ETIMEOUT ? DBAL_ETIMEOUT : DBAL_ECONNLOST);
    dbal_async_session_close(f.as);
    resume_server();

    f.as = async_session(f.a, 1000);
    outcome set = {0};
    assert_int_equal(dbal_async_exec(f.as, "SET work_mem = '8MB'", DBAL_NOARGS, record, &set, NULL), DBAL_OK);
    loop_until(f.a, &set, 10);
    assert_int_equal(set.code, DBAL_OK);
    stop_server();
    t0 = test_now();
    dbal_async_session_close(f.as);
    assert_int_equal(dbal_async_process(f.a), DBAL_OK);
    took("closing an asynchronous session that ran SET", t0, INSTANT);
    dbal_async_close(f.a);
    resume_server();
    s = test_session(e);
    char buf[32];
    assert_string_equal(test_scalar_text(s, "SHOW work_mem", buf, sizeof buf), "4MB");
    dbal_session_close(s);
    dbal_engine_close(e);
}

int main(void)
{
    pg_url = getenv("DBAL_TEST_PG_URL");
    datadir = getenv("DBAL_TEST_PG_DATADIR");
    if (!pg_url || !*pg_url || !datadir || !*datadir) {
        if (getenv("DBAL_TEST_REQUIRE_PG"))
            fprintf(stderr, "DBAL_TEST_PG_URL and DBAL_TEST_PG_DATADIR are required\n");
        return getenv("DBAL_TEST_REQUIRE_PG") ? 1 : 77;
    }
    atexit(resume_at_exit);
    /* DBAL_TEST_FILTER / DBAL_TEST_SKIP: cmocka patterns picking the cases
     * (under valgrind the 0.1 s bounds of the asynchronous cases are too
     * tight: DBAL_TEST_SKIP=test_async*). */
    if (getenv("DBAL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("DBAL_TEST_FILTER"));
    if (getenv("DBAL_TEST_SKIP"))
        cmocka_set_skip_filter(getenv("DBAL_TEST_SKIP"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_exec_autocommit, teardown),
        cmocka_unit_test_teardown(test_exec_in_transaction, teardown),
        cmocka_unit_test_teardown(test_url_statement_timeout, teardown),
        cmocka_unit_test_teardown(test_migrate_lock_wait, teardown),
        cmocka_unit_test_teardown(test_query_and_rows_next, teardown),
        cmocka_unit_test_teardown(test_pre_ping_checkout, teardown),
        cmocka_unit_test_teardown(test_cancel_from_another_thread, teardown),
        cmocka_unit_test_teardown(test_async_timeout, teardown),
        cmocka_unit_test_teardown(test_async_timeout_in_transaction, teardown),
        cmocka_unit_test_teardown(test_async_cancel, teardown),
        cmocka_unit_test_teardown(test_async_bookkeeping, teardown),
        cmocka_unit_test_teardown(test_async_late_cancel_stays_behind, teardown),
        cmocka_unit_test_teardown(test_async_late_cancel_same_session, teardown),
        cmocka_unit_test_teardown(test_async_late_cancel_pipelined, teardown),
        cmocka_unit_test_teardown(test_async_late_cancel_in_transaction, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
