/*
 * interrupts.c - a statement stopped by the session's timeout, and by
 * dbal_session_cancel from another thread.
 */
#include "cases.h"
#include "fixture.h"

#include <pthread.h>
#include <time.h>

/* A statement that runs for minutes unless stopped. */
#define SLOW_SQL                                                                            \
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) " \
    "SELECT count(*) AS n FROM c"

/* A statement past the session's timeout (session.timeout) fails with
 * DBAL_ETIMEOUT (57014) and the session goes on working. */
void statement_timeout(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_SESSION_TIMEOUT, "yes");
    EXPECT_RC(f->s, dbal_session_set_timeout(f->s, 200), DBAL_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dbal_rows *r = NULL;
    int rc = dbal_query(f->s, SLOW_SQL, DBAL_NOARGS, &r);
    if (rc == DBAL_OK) {
        rc = dbal_rows_next(r);
        dbal_rows_close(r);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    EXPECT_RC(f->s, rc, DBAL_ETIMEOUT);
    EXPECT_ERR(f->s, DBAL_ETIMEOUT, "57014");
    CHECK(took >= 0.15 && took < 10, "the timeout took %.2fs", took);
    EXPECT_RC(f->s, dbal_session_set_timeout(f->s, 0), DBAL_OK);
    EXPECT_I64(SCALAR(f->s, "SELECT 41 + 1 AS v", DBAL_NOARGS), 42);
    EXPECT_RC(f->s, dbal_session_set_timeout(f->s, -1), DBAL_EINVAL);
}

typedef struct {
    dbal_session *s;
    int rc;
} cancel_arg;

static void *cancel_later(void *p)
{
    cancel_arg *a = p;
    struct timespec nap = {0, 300 * 1000 * 1000};
    nanosleep(&nap, NULL);
    a->rc = dbal_session_cancel(a->s);
    return NULL;
}

/* dbal_session_cancel (session.cancel) from another thread stops the
 * running statement with DBAL_ECANCELED; the session and its connection
 * stay usable. */
void cancel_from_another_thread(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_SESSION_CANCEL, "yes");
    EXPECT_I64(SCALAR(f->s, "SELECT 1 AS v", DBAL_NOARGS), 1); /* holds a connection now */
    cancel_arg a = {f->s, -1};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &a);
    dbal_rows *r = NULL;
    int rc = dbal_query(f->s, SLOW_SQL, DBAL_NOARGS, &r);
    if (rc == DBAL_OK) {
        rc = dbal_rows_next(r);
        dbal_rows_close(r);
    }
    pthread_join(t, NULL);
    EXPECT_RC(f->s, a.rc, DBAL_OK);
    EXPECT_RC(f->s, rc, DBAL_ECANCELED);
    EXPECT_ERR(f->s, DBAL_ECANCELED, "57014");
    EXPECT_I64(SCALAR(f->s, "SELECT 41 + 1 AS v", DBAL_NOARGS), 42);
    /* Nothing running: a cancel is harmless. */
    EXPECT_RC(f->s, dbal_session_cancel(f->s), DBAL_OK);
    EXPECT_I64(SCALAR(f->s, "SELECT 2 AS v", DBAL_NOARGS), 2);
}
