/* The pool: limits, timeouts, reuse, overflow, fairness, many threads, and
 * closing an engine while sessions are open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static char *dir;
static char url[600];

static const char *db_url(const char *opts)
{
    snprintf(url, sizeof url, "sqlite://%s/pool.db%s", dir, opts);
    return url;
}

static int setup(void **state)
{
    dir = test_tmpdir();
    return dir ? 0 : -1;
}

static int teardown(void **state)
{
    test_rmdir(dir);
    return 0;
}

static dbal_engine_stats stats(dbal_engine *e)
{
    dbal_engine_stats st;
    dbal_engine_stats_get(e, &st);
    return st;
}

static void test_lazy_checkout_and_reuse(void **state)
{
    dbal_engine *e;
    assert_int_equal(dbal_engine_open(&e, db_url("?pool_size=2"), NULL), DBAL_OK);
    for (int i = 0; i < 20; i++) {
        dbal_session *s;
        assert_int_equal(dbal_session_open(e, &s, NULL), DBAL_OK);
        if (i == 0)
            assert_int_equal(stats(e).open, 0); /* no statement yet, no connection */
        assert_int_equal(test_scalar(s, "SELECT 1"), 1);
        dbal_session_close(s);
    }
    dbal_engine_stats st = stats(e);
    assert_int_equal(st.connects, 1); /* reused, not reopened */
    assert_int_equal(st.checkouts, 20);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.in_use, 0);
    dbal_engine_close(e);
}

static void test_timeout(void **state)
{
    dbal_engine *e;
    dbal_session *a, *b, *c;
    assert_int_equal(dbal_engine_open(&e, db_url("?pool_size=2&max_overflow=0&pool_timeout=0.2"), NULL),
                     DBAL_OK);
    dbal_session_open(e, &a, NULL);
    dbal_session_open(e, &b, NULL);
    dbal_session_open(e, &c, NULL);
    OK(a, dbal_exec(a, "SELECT 1", DBAL_NOARGS, NULL));
    OK(b, dbal_exec(b, "SELECT 1", DBAL_NOARGS, NULL));
    double t0 = test_now();
    EXPECT_RC(c, dbal_exec(c, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EPOOLTIMEOUT);
    double waited = test_now() - t0;
    assert_true(waited >= 0.19 && waited < 5);
    assert_non_null(strstr(dbal_session_error(c)->message, "pool_timeout"));
    dbal_engine_stats st = stats(e);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.open, 2);
    assert_int_equal(st.waiting, 0);
    /* Once a connection comes back the waiting session gets it. */
    dbal_session_close(a);
    OK(c, dbal_exec(c, "SELECT 1", DBAL_NOARGS, NULL));
    dbal_session_close(b);
    dbal_session_close(c);
    dbal_engine_close(e);
}

static void test_overflow_closed_on_return(void **state)
{
    dbal_engine *e;
    dbal_session *s[4];
    assert_int_equal(dbal_engine_open(&e, db_url("?pool_size=1&max_overflow=2&pool_timeout=0.1"), NULL),
                     DBAL_OK);
    for (int i = 0; i < 4; i++) {
        dbal_session_open(e, &s[i], NULL);
        EXPECT_RC(s[i], dbal_exec(s[i], "SELECT 1", DBAL_NOARGS, NULL), i < 3 ? DBAL_OK : DBAL_EPOOLTIMEOUT);
    }
    assert_int_equal(stats(e).open, 3);
    for (int i = 0; i < 4; i++)
        dbal_session_close(s[i]);
    dbal_engine_stats st = stats(e);
    assert_int_equal(st.open, 1); /* only pool_size connections are kept */
    assert_int_equal(st.idle, 1);
    dbal_engine_close(e);
}

/* A session closed inside a transaction gives back a clean connection. */
static void test_reset_on_return(void **state)
{
    dbal_engine *e;
    dbal_session *s;
    assert_int_equal(dbal_engine_open(&e, db_url("?pool_size=1"), NULL), DBAL_OK);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE IF NOT EXISTS r(x INTEGER)", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, "DELETE FROM r", DBAL_NOARGS, NULL));
    OK(s, dbal_begin(s));
    OK(s, dbal_begin(s));
    OK(s, dbal_exec(s, "INSERT INTO r VALUES (1)", DBAL_NOARGS, NULL));
    dbal_session_close(s); /* no commit */
    dbal_session_open(e, &s, NULL);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM r"), 0);
    OK(s, dbal_begin(s)); /* would fail if the old transaction were still open */
    OK(s, dbal_commit(s));
    dbal_session_close(s);
    assert_int_equal(stats(e).connects, 1);
    dbal_engine_close(e);
}

/* Waiters are served in the order they came. */
typedef struct {
    dbal_engine *e;
    int id;
    atomic_int *order;
    atomic_int *next;
} waiter_arg;

static void *wait_then_record(void *p)
{
    waiter_arg *w = p;
    dbal_session *s;
    dbal_session_open(w->e, &s, NULL);
    if (dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL) == DBAL_OK)
        w->order[atomic_fetch_add(w->next, 1)] = w->id;
    usleep(20000);
    dbal_session_close(s);
    return NULL;
}

static void test_fifo(void **state)
{
    dbal_engine *e;
    dbal_session *holder;
    assert_int_equal(dbal_engine_open(&e, db_url("?pool_size=1&max_overflow=0&pool_timeout=10"), NULL),
                     DBAL_OK);
    dbal_session_open(e, &holder, NULL);
    OK(holder, dbal_exec(holder, "SELECT 1", DBAL_NOARGS, NULL));
    atomic_int order[4] = {0}, next = 0;
    pthread_t t[4];
    waiter_arg w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (waiter_arg){e, i + 1, order, &next};
        pthread_create(&t[i], NULL, wait_then_record, &w[i]);
        /* Let each one queue up before the next arrives. */
        for (int spin = 0; spin < 200 && stats(e).waiting < i + 1; spin++)
            usleep(1000);
        assert_int_equal(stats(e).waiting, i + 1);
    }
    dbal_session_close(holder);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(order[i], i + 1);
    dbal_engine_close(e);
}

/* Many threads, few connections: the limit holds, nothing deadlocks, every
 * committed row is there and the counters add up. */
typedef struct {
    dbal_engine *e;
    int failures;
    atomic_int *max_open;
} hammer_arg;

static int insert_one(dbal_session *s, void *p)
{
    return dbal_exec(s, "INSERT INTO h(v) VALUES (?)", DBAL_ARGS(dbal_int64((intptr_t)p)), NULL);
}

static void *hammer(void *p)
{
    hammer_arg *h = p;
    for (int i = 0; i < 100; i++) {
        dbal_error err;
        if (dbal_transact(h->e, insert_one, (void *)(intptr_t)i, 5, &err) != DBAL_OK) {
            fprintf(stderr, "transact: %s\n", err.message);
            h->failures++;
        }
        int open = stats(h->e).open;
        int seen = atomic_load(h->max_open);
        while (open > seen && !atomic_compare_exchange_weak(h->max_open, &seen, open))
            ;
    }
    return NULL;
}

static void test_many_threads(void **state)
{
    enum { THREADS = 16 };
    dbal_engine *e;
    dbal_session *s;
    assert_int_equal(dbal_engine_open(&e, db_url("?pool_size=3&max_overflow=1&pool_timeout=60"), NULL),
                     DBAL_OK);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE h(id INTEGER PRIMARY KEY, v INTEGER)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    atomic_int max_open = 0;
    pthread_t t[THREADS];
    hammer_arg h[THREADS];
    for (int i = 0; i < THREADS; i++) {
        h[i] = (hammer_arg){e, 0, &max_open};
        pthread_create(&t[i], NULL, hammer, &h[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(h[i].failures, 0);
    }
    assert_true(atomic_load(&max_open) <= 4);
    dbal_session_open(e, &s, NULL);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM h"), THREADS * 100);
    dbal_session_close(s);
    dbal_engine_stats st = stats(e);
    assert_int_equal(st.checkouts, 2 + THREADS * 100);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.waiting, 0);
    assert_true(st.open <= 3);
    dbal_engine_close(e);
}

/* dbal_engine_close with sessions open: it says so, refuses new work, and
 * the last session to close frees the engine (ASan/valgrind check that). */
static void test_close_engine_with_open_sessions(void **state)
{
    dbal_engine *e;
    dbal_session *busy, *idle_session;
    assert_int_equal(dbal_engine_open(&e, db_url(""), NULL), DBAL_OK);
    dbal_session_open(e, &busy, NULL);
    dbal_session_open(e, &idle_session, NULL);
    OK(busy, dbal_begin(busy));
    assert_int_equal(dbal_engine_close(e), DBAL_EMISUSE);
    /* The session that holds a connection finishes its work... */
    OK(busy, dbal_exec(busy, "SELECT 1", DBAL_NOARGS, NULL));
    OK(busy, dbal_commit(busy));
    /* ...one that has none cannot get one... */
    EXPECT_RC(idle_session, dbal_exec(idle_session, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EMISUSE);
    /* ...and no new session opens. */
    dbal_session *late;
    dbal_error err;
    assert_int_equal(dbal_session_open(e, &late, &err), DBAL_EMISUSE);
    dbal_session_close(busy);
    dbal_session_close(idle_session);
}

/* Fails like a serialization failure until its third run. */
static int flaky(dbal_session *s, void *p)
{
    int *runs = p;
    int rc = dbal_exec(s, "INSERT INTO tr(v) VALUES (?)", DBAL_ARGS(dbal_int64(*runs)), NULL);
    if (rc)
        return rc;
    return ++*runs < 3 ? DBAL_ESERIALIZATION : DBAL_OK;
}

static int duplicate(dbal_session *s, void *p)
{
    int *runs = p;
    ++*runs;
    return dbal_exec(s, "INSERT INTO tr(v) VALUES (100), (100)", DBAL_NOARGS, NULL);
}

static void test_transact_retries_and_errors(void **state)
{
    dbal_engine *e;
    dbal_session *s;
    dbal_error err;
    assert_int_equal(dbal_engine_open(&e, db_url(""), NULL), DBAL_OK);
    assert_int_equal(dbal_transact(e, NULL, NULL, 0, &err), DBAL_EINVAL);
    dbal_session_open(e, &s, NULL);
    OK(s, dbal_exec(s, "CREATE TABLE tr(v INTEGER UNIQUE)", DBAL_NOARGS, NULL));

    int runs = 0;
    assert_int_equal(dbal_transact(e, flaky, &runs, 1, &err), DBAL_ESERIALIZATION);
    assert_int_equal(runs, 2);                                      /* one retry allowed */
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM tr"), 0); /* both rolled back */

    runs = 0;
    assert_int_equal(dbal_transact(e, flaky, &runs, 5, &err), DBAL_OK);
    assert_int_equal(runs, 3);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM tr"), 1); /* only the last run stays */
    assert_int_equal(test_scalar(s, "SELECT v FROM tr"), 2);

    runs = 0;
    assert_int_equal(dbal_transact(e, duplicate, &runs, 5, &err), DBAL_EUNIQUE);
    assert_int_equal(runs, 1); /* an integrity error is not retried */
    assert_string_equal(err.sqlstate, "23505");
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM tr"), 1);
    dbal_session_close(s);
    assert_int_equal(stats(e).in_use, 0);
    dbal_engine_close(e);
}

/* Log lines and events, captured. */
static pthread_mutex_t capture_lock = PTHREAD_MUTEX_INITIALIZER;
static char captured[4096];
static int events[8];

static void capture_log(void *userdata, dbal_log_level level, const char *line)
{
    pthread_mutex_lock(&capture_lock);
    size_t n = strlen(captured);
    snprintf(captured + n, sizeof captured - n, "%d:%s\n", (int)level, line);
    pthread_mutex_unlock(&capture_lock);
}

static void count_event(void *userdata, dbal_event ev, const char *label)
{
    pthread_mutex_lock(&capture_lock);
    events[ev]++;
    pthread_mutex_unlock(&capture_lock);
}

static void test_leak_detection_and_events(void **state)
{
    dbal_engine *e;
    dbal_session *leaky, *other;
    captured[0] = '\0';
    memset(events, 0, sizeof events);
    dbal_set_log(capture_log, NULL);
    assert_int_equal(dbal_engine_open(&e,
                                      db_url("?leak_detection_threshold=0.05&pool_size=2&max_overflow=0"
                                             "&pool_timeout=0.1"),
                                      NULL),
                     DBAL_OK);
    dbal_engine_set_event_hook(e, count_event, NULL);
    assert_int_equal(dbal_session_open_labeled(e, &leaky, "GET /slow", NULL), DBAL_OK);
    OK(leaky, dbal_exec(leaky, "SELECT 1", DBAL_NOARGS, NULL));
    usleep(100000);
    /* The next checkout notices the session that has held on too long. */
    assert_int_equal(dbal_session_open_labeled(e, &other, DBAL_HERE, NULL), DBAL_OK);
    OK(other, dbal_exec(other, "SELECT 1", DBAL_NOARGS, NULL));
    assert_non_null(strstr(captured, "possible session leak"));
    assert_non_null(strstr(captured, "GET /slow"));
    assert_null(strstr(captured, "test_pool.c")); /* the fresh one is not reported */
    /* Reported once, not at every checkout. */
    dbal_session *third;
    dbal_session_open(e, &third, NULL);
    EXPECT_RC(third, dbal_exec(third, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EPOOLTIMEOUT);
    /* The timeout names the longest holder. */
    assert_non_null(strstr(dbal_session_error(third)->message, "GET /slow"));
    dbal_session_close(third);

    /* Closing the engine with sessions open reports them. */
    captured[0] = '\0';
    assert_int_equal(dbal_engine_close(e), DBAL_EMISUSE);
    assert_non_null(strstr(captured, "still open"));
    assert_non_null(strstr(captured, "GET /slow"));
    assert_non_null(strstr(captured, "test_pool.c:"));
    dbal_session_close(leaky);
    dbal_session_close(other);
    dbal_set_log(NULL, NULL);
    assert_int_equal(events[DBAL_EVENT_CONNECT], 2);
    assert_int_equal(events[DBAL_EVENT_CHECKOUT], 2);
    assert_int_equal(events[DBAL_EVENT_TIMEOUT], 1);
    assert_int_equal(events[DBAL_EVENT_LEAK], 1 + 2);
    assert_int_equal(events[DBAL_EVENT_CHECKIN], 2);
}

/* e has one connection and a short pool_timeout: a second session times
 * out, soon. Closes e. */
static void assert_one_connection_short_wait(dbal_engine *e)
{
    dbal_session *a, *b;
    dbal_session_open(e, &a, NULL);
    dbal_session_open(e, &b, NULL);
    OK(a, dbal_exec(a, "SELECT 1", DBAL_NOARGS, NULL));
    double t0 = test_now();
    EXPECT_RC(b, dbal_exec(b, "SELECT 1", DBAL_NOARGS, NULL), DBAL_EPOOLTIMEOUT);
    assert_true(test_now() - t0 < 5);
    dbal_session_close(a);
    dbal_session_close(b);
    dbal_engine_close(e);
}

static void test_options_in_code(void **state)
{
    dbal_engine_options o;
    dbal_engine_options_init(&o);
    o.pool_size = 1;
    o.max_overflow = 0;
    o.pool_timeout = 0.05;
    dbal_engine *e;
    dbal_error err;
    /* Code wins over the URL. */
    assert_int_equal(dbal_engine_open_with(&e, db_url("?pool_size=5&pool_timeout=30"), &o, &err), DBAL_OK);
    assert_one_connection_short_wait(e);
    /* An options struct that was never initialised is refused. */
    dbal_engine_options junk;
    memset(&junk, 0, sizeof junk);
    assert_int_equal(dbal_engine_open_with(&e, db_url(""), &junk, &err), DBAL_EINVAL);
    assert_null(e);
}

/* pool_timeout and the other times have one validation, in the URL and in
 * code: 1e19, infinities, NaN are refused with the same message; a negative
 * value in code is "unset" (the header's rule), in a URL an error. */
static void test_option_limits(void **state)
{
    (void)state;
    static const double refused[] = {1e19, INFINITY, NAN, 1e9 + 1};
    static const char *const as_text[] = {"1e19", "inf", "nan", "1000000001"};
    dbal_engine *e;
    dbal_error err, url_err;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        dbal_engine_options o;
        dbal_engine_options_init(&o);
        o.pool_timeout = refused[i];
        e = (dbal_engine *)1;
        if (dbal_engine_open_with(&e, db_url(""), &o, &err) != DBAL_EINVAL)
            fail_msg("pool_timeout = %g in code was accepted", refused[i]);
        assert_null(e);
        assert_string_equal(err.message,
                            "dbal_engine_options: pool_timeout must be a number of seconds from 0 to 1e9");
        char opt[64];
        snprintf(opt, sizeof opt, "?pool_timeout=%s", as_text[i]);
        if (dbal_engine_open(&e, db_url(opt), &url_err) != DBAL_EURL)
            fail_msg("%s in the URL was accepted", opt);
        /* The same words after each one's prefix. */
        assert_non_null(strstr(url_err.message, "pool_timeout must be a number of seconds from 0 to 1e9"));
        o.pool_timeout = -1;
        o.pool_recycle = refused[i];
        assert_int_equal(dbal_engine_open_with(&e, db_url(""), &o, &err), DBAL_EINVAL);
        assert_non_null(strstr(err.message, "pool_recycle must be"));
        o.pool_recycle = -2;
        o.leak_detection_threshold = refused[i];
        assert_int_equal(dbal_engine_open_with(&e, db_url(""), &o, &err), DBAL_EINVAL);
        assert_non_null(strstr(err.message, "leak_detection_threshold must be"));
    }
    assert_int_equal(dbal_engine_open(&e, db_url("?pool_timeout=-1"), &err), DBAL_EURL);
    /* Negative in code: unset, so the URL's 0.05 s holds. */
    dbal_engine_options o;
    dbal_engine_options_init(&o);
    o.pool_timeout = -5;
    OK(NULL, dbal_engine_open_with(&e, db_url("?pool_size=1&max_overflow=0&pool_timeout=0.05"), &o, &err));
    assert_one_connection_short_wait(e);
}

static void *give_back_later(void *arg)
{
    usleep(300 * 1000);
    dbal_session_close(arg);
    return NULL;
}

/* The longest pool_timeout there is: a session waits for a connection
 * without spinning, and gets the one given back. */
static void test_longest_wait(void **state)
{
    (void)state;
    dbal_engine *e;
    OK(NULL, dbal_engine_open(&e, db_url("?pool_size=1&max_overflow=0&pool_timeout=1e9"), NULL));
    dbal_session *holder, *waiter;
    dbal_session_open(e, &holder, NULL);
    dbal_session_open(e, &waiter, NULL);
    OK(holder, dbal_exec(holder, "SELECT 1", DBAL_NOARGS, NULL));
    pthread_t t;
    pthread_create(&t, NULL, give_back_later, holder);
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    double t0 = test_now();
    OK(waiter, dbal_exec(waiter, "SELECT 1", DBAL_NOARGS, NULL));
    double waited = test_now() - t0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    pthread_join(t, NULL);
    if (waited < 0.2 || cpu > waited / 2)
        fail_msg("waited %.3f s using %.3f s of CPU", waited, cpu);
    dbal_session_close(waiter);
    dbal_engine_close(e);
}

static void test_engine_statement_timeout(void **state)
{
    dbal_engine *e;
    dbal_session *s;
    assert_int_equal(dbal_engine_open(&e, db_url("?statement_timeout=100"), NULL), DBAL_OK);
    dbal_session_open(e, &s, NULL);
    EXPECT_RC(s,
              dbal_exec(s,
                        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                        "WHERE x < 1000000000) SELECT count(*) FROM c",
                        DBAL_NOARGS, NULL),
              DBAL_ETIMEOUT);
    /* A session may lift it for itself, and the pooled connection goes back
     * to the engine's timeout for the next session. */
    OK(s, dbal_session_set_timeout(s, 0));
    OK(s, dbal_exec(s,
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                    "WHERE x < 300000) SELECT count(*) FROM c",
                    DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_session_open(e, &s, NULL);
    EXPECT_RC(s,
              dbal_exec(s,
                        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                        "WHERE x < 1000000000) SELECT count(*) FROM c",
                        DBAL_NOARGS, NULL),
              DBAL_ETIMEOUT);
    dbal_session_close(s);
    assert_int_equal(stats(e).connects, 1);
    dbal_engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lazy_checkout_and_reuse),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_overflow_closed_on_return),
        cmocka_unit_test(test_reset_on_return),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_many_threads),
        cmocka_unit_test(test_close_engine_with_open_sessions),
        cmocka_unit_test(test_transact_retries_and_errors),
        cmocka_unit_test(test_leak_detection_and_events),
        cmocka_unit_test(test_options_in_code),
        cmocka_unit_test(test_option_limits),
        cmocka_unit_test(test_longest_wait),
        cmocka_unit_test(test_engine_statement_timeout),
    };
    return cmocka_run_group_tests_name("pool", tests, setup, teardown);
}
