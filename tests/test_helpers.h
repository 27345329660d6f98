/* Small helpers shared by the test programs. */
#ifndef DBAL_TEST_HELPERS_H
#define DBAL_TEST_HELPERS_H

#include <dbal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Fails the test with the session's error when rc is not what was wanted. */
#define EXPECT_RC(s, call, want)                                                                          \
    do {                                                                                                  \
        int rc_ = (call);                                                                                 \
        if (rc_ != (want))                                                                                \
            fail_msg("%s returned %s, expected %s: %s", #call, dbal_code_name(rc_), dbal_code_name(want), \
                     dbal_session_error(s)->message);                                                     \
    } while (0)
#define OK(s, call) EXPECT_RC(s, call, DBAL_OK)

#ifdef fail_msg /* cmocka.h came first: helpers that fail the test */
/* An engine on url with the engine options opts ("a=1&b=2") appended. */
static inline dbal_engine *test_engine_opts(const char *url, const char *opts)
{
    char full[1024];
    snprintf(full, sizeof full, "%s%s%s", url, strchr(url, '?') ? "&" : "?", opts);
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, full, &err) != DBAL_OK)
        fail_msg("engine: %s", err.message);
    return e;
}

/* DBAL_TEST_PG_URL, or NULL when it is not set (the caller skips its
 * PostgreSQL part); fails the test when DBAL_TEST_REQUIRE_PG=1 asks for
 * PostgreSQL and it is not set. */
static inline const char *test_pg_url(void)
{
    const char *url = getenv("DBAL_TEST_PG_URL");
    if (url && *url)
        return url;
    const char *req = getenv("DBAL_TEST_REQUIRE_PG");
    if (req && strcmp(req, "1") == 0)
        fail_msg("DBAL_TEST_REQUIRE_PG=1 but DBAL_TEST_PG_URL is not set");
    return NULL;
}

static inline dbal_session *test_session(dbal_engine *e)
{
    dbal_session *s;
    dbal_error err;
    if (dbal_session_open(e, &s, &err) != DBAL_OK)
        fail_msg("session: %s", err.message);
    return s;
}
#endif

static inline double test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A fresh temporary directory; the caller removes it with test_rmdir. */
static inline char *test_tmpdir(void)
{
    char tmpl[] = "/tmp/dbal-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static inline void test_rmdir(char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(dir);
}

/* Removes the in-memory SQLite directories a (crashed or forked) process
 * left behind: the driver names them dbal-memory-<pid>-XXXXXX in /dev/shm,
 * $TMPDIR or /tmp. Returns how many there were; copies the first path into
 * first[cap] when first is not NULL. */
static inline int test_remove_memory_dirs(pid_t pid, char *first, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    const char *bases[] = {"/dev/shm", "/tmp", tmp && *tmp ? tmp : "/tmp"};
    int n = 0;
    for (size_t i = 0; i < 3; i++) {
        if (i == 2 && strcmp(bases[2], "/tmp") == 0)
            break;
        char pattern[600];
        snprintf(pattern, sizeof pattern, "%s/dbal-memory-%ld-*", bases[i], (long)pid);
        glob_t g;
        if (glob(pattern, 0, NULL, &g) != 0)
            continue;
        for (size_t k = 0; k < g.gl_pathc; k++) {
            if (n++ == 0 && first)
                snprintf(first, cap, "%s", g.gl_pathv[k]);
            char cmd[700];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", g.gl_pathv[k]);
            if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", g.gl_pathv[k]);
        }
        globfree(&g);
    }
    return n;
}

/* The single integer a query returns, or -999 on any failure. */
static inline int64_t test_scalar(dbal_session *s, const char *sql)
{
    dbal_rows *r;
    int64_t v = -999;
    if (dbal_query(s, sql, DBAL_NOARGS, &r) != DBAL_OK)
        return v;
    if (dbal_rows_next(r) == DBAL_ROW)
        dbal_col_get_int64(r, 0, &v);
    dbal_rows_close(r);
    return v;
}

/* The single text a query returns, copied into buf ("" on failure). */
static inline const char *test_scalar_text(dbal_session *s, const char *sql, char *buf, size_t cap)
{
    dbal_rows *r;
    buf[0] = '\0';
    if (dbal_query(s, sql, DBAL_NOARGS, &r) != DBAL_OK)
        return buf;
    if (dbal_rows_next(r) == DBAL_ROW && dbal_col_text(r, 0))
        snprintf(buf, cap, "%s", dbal_col_text(r, 0));
    dbal_rows_close(r);
    return buf;
}

#ifdef fail_msg
#include <sys/epoll.h>
#include <unistd.h>

/* Runs an asynchronous context until nothing is pending (fails the test
 * after limit seconds). Needs cmocka. */
static inline void test_async_run(dbal_async *a, double limit)
{
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev), 0);
    double end = test_now() + limit;
    while (dbal_async_pending(a) > 0) {
        if (test_now() > end)
            fail_msg("%d operations still pending after %.0f s", dbal_async_pending(a), limit);
        epoll_wait(ep, &ev, 1, 200);
        assert_int_equal(dbal_async_process(a), DBAL_OK);
    }
    close(ep);
}
#endif

/* Writes made under a fault: outcome[seq] is 1 when the commit returned
 * DBAL_OK, 0 when the transaction failed before its commit, 2 when the
 * commit's answer was lost. count_sql ("SELECT count(*) FROM t WHERE
 * writer = ? AND seq = ?") finds each: every committed one must be there,
 * no failed one may be. Adds to counts[outcome]. Needs cmocka. */
#ifdef fail_msg
static inline void test_check_writes(dbal_session *s, const char *count_sql, int writer,
                                     const signed char *outcome, int n, int counts[3])
{
    for (int seq = 0; seq < n; seq++) {
        dbal_rows *r;
        OK(s, dbal_query(s, count_sql, DBAL_ARGS(dbal_int64(writer), dbal_int64(seq)), &r));
        assert_int_equal(dbal_rows_next(r), DBAL_ROW);
        int64_t present = dbal_col_int64(r, 0);
        dbal_rows_close(r);
        if (outcome[seq] == 1 && present != 1)
            fail_msg("writer %d seq %d was reported committed but is missing", writer, seq);
        if (outcome[seq] == 0 && present != 0)
            fail_msg("writer %d seq %d was reported failed but is present", writer, seq);
        counts[outcome[seq]]++;
    }
}
#endif
/* Restarts the test PostgreSQL server (pg_ctl restart -m fast) from the
 * variables tests/pg_cluster.sh exports; as the cluster's owner when run
 * as root. Returns system()'s status, -1 when the variables are missing. */
static inline int test_pg_restart(void)
{
    const char *bin = getenv("DBAL_TEST_PG_BINDIR"), *data = getenv("DBAL_TEST_PG_DATADIR");
    const char *user = getenv("DBAL_TEST_PG_CTL_USER"), *log = getenv("DBAL_TEST_PG_LOGFILE");
    if (!bin || !data || !log)
        return -1;
    char cmd[2048];
    int as_user = geteuid() == 0 && user;
    snprintf(cmd, sizeof cmd, "%s%s%s '%s/pg_ctl' restart -m fast -w -t 60 -D '%s' -l '%s' >/dev/null 2>&1",
             as_user ? "runuser -u " : "", as_user ? user : "", as_user ? " --" : "", bin, data, log);
    return system(cmd);
}

#endif
