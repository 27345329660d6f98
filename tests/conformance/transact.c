/*
 * transact.c - dbal_transact: a unit of work committed, rolled back on an
 * error, retried on a serialization failure, every connection given back.
 */
#include "cases.h"
#include "fixture.h"

typedef struct unit {
    int calls;
    int depth_seen;
    int id;
    int ret; /* what fn returns after its insert; -1: return the insert's code */
} unit;

static int unit_fn(dbal_session *s, void *userdata)
{
    unit *u = userdata;
    u->calls++;
    u->depth_seen = dbal_tx_depth(s);
    int rc = dbal_exec(s, "INSERT INTO conf_tx(id, v) VALUES (?, 'u')", DBAL_ARGS(dbal_int64(u->id)), NULL);
    if (u->ret == -1)
        return rc;
    if (rc != DBAL_OK)
        return rc;
    return u->ret;
}

void transact(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    /* the unit of work takes its own connection; give this one back */
    dbal_session_close(f->s);
    f->s = NULL;

    dbal_error err;
    /* success commits */
    unit u = {0, 0, 2, DBAL_OK};
    memset(&err, 0, sizeof err);
    EXPECT_RC(NULL, dbal_transact(f->engine, unit_fn, &u, 0, &err), DBAL_OK);
    EXPECT_I64(u.calls, 1);
    EXPECT_I64(u.depth_seen, 1);

    /* an error from fn rolls back, and its code passes through */
    unit e = {0, 0, 3, DBAL_ECHECK};
    memset(&err, 0, sizeof err);
    EXPECT_RC(NULL, dbal_transact(f->engine, unit_fn, &e, 3, &err), DBAL_ECHECK);
    EXPECT_I64(e.calls, 1); /* not a retryable code */
    EXPECT_I64(err.code, DBAL_ECHECK);

    /* a database error inside fn: code and details pass through */
    unit d = {0, 0, 1, -1};
    memset(&err, 0, sizeof err);
    EXPECT_RC(NULL, dbal_transact(f->engine, unit_fn, &d, 0, &err), DBAL_EUNIQUE);
    EXPECT_I64(err.code, DBAL_EUNIQUE);
    EXPECT_STR(err.sqlstate, "23505");

    /* a serialization failure is retried `retries` more times */
    unit sf = {0, 0, 4, DBAL_ESERIALIZATION};
    memset(&err, 0, sizeof err);
    EXPECT_RC(NULL, dbal_transact(f->engine, unit_fn, &sf, 2, &err), DBAL_ESERIALIZATION);
    EXPECT_I64(sf.calls, 3);

    /* only the first unit's work is there, and the pool got every connection back */
    REOPEN();
    IDS_ARE(f->s, "1,2");
    dbal_engine_stats st;
    EXPECT_RC(f->s, dbal_engine_stats_get(f->engine, &st), DBAL_OK);
    EXPECT_I64(st.waiting, 0);
    CHECK(st.in_use <= 1, "%d connections in use with one session open", st.in_use);
}
