/*
 * isolation.c - read-only transactions and sessions, isolation levels, and
 * two sessions at once: what a reader sees of a writer's work, and what a
 * second writer meets.
 */
#include "cases.h"
#include "fixture.h"

#include <time.h>

/* Read-only transactions (tx.read_only): writes fail with DBAL_EREADONLY
 * (25006), which fails the transaction; reading ones commit; a savepoint
 * inside one is read-only too. */
void tx_read_only(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_TX_READ_ONLY, "yes");
    cap_need(CAP_TX_ISOLATION, "serializable");
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    IDS_ARE(f->s, "1"); /* reading is fine */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_tx(id, v) VALUES (2, 'x')", DBAL_NOARGS, NULL),
              DBAL_EREADONLY);
    EXPECT_ERR(f->s, DBAL_EREADONLY, "25006");
    /* a failed statement: the transaction is failed */
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    /* read-only ended with the transaction */
    INSERT_TX(f->s, 3);
    /* a read-only transaction that only reads commits */
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY), DBAL_OK);
    IDS_ARE(f->s, "1,3");
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    INSERT_TX(f->s, 4);
    /* a savepoint inside a read-only transaction is read-only too */
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY | DBAL_TX_SERIALIZABLE), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_tx", DBAL_NOARGS, NULL), DBAL_EREADONLY);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "1,3,4");
}

/* A DBAL_SESSION_READ_ONLY session with no replica to go to runs on the
 * primary and cannot write there either; the connection it used writes
 * again for the next session. */
void session_read_only(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_SESSION_READ_ONLY, "yes");
    cap_need(CAP_TX_READ_ONLY, "yes");
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    dbal_session_close(f->s);
    f->s = NULL;
    dbal_error err;
    CHECK(dbal_session_open_with(f->engine, &f->s, 0x80u, NULL, &err) == DBAL_EINVAL && !f->s,
          "an unknown session flag was accepted");
    CHECK(dbal_session_open_with(f->engine, &f->s, DBAL_SESSION_READ_ONLY, "reader", &err) == DBAL_OK,
          "dbal_session_open_with: %s", err.message);
    IDS_ARE(f->s, "1");
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_tx(id, v) VALUES (2, 'x')", DBAL_NOARGS, NULL),
              DBAL_EREADONLY);
    EXPECT_ERR(f->s, DBAL_EREADONLY, "25006");
    /* in its transactions too, also after a read-only transaction ended */
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_tx", DBAL_NOARGS, NULL), DBAL_EREADONLY);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    REOPEN();
    INSERT_TX(f->s, 3);
    IDS_ARE(f->s, "1,3");
}

void tx_serializable(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_TX_ISOLATION, "serializable");
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_SERIALIZABLE), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK); /* savepoints work inside */
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "1");
}

/* The isolation levels tx.isolation lists begin a transaction; any other
 * is DBAL_EUNSUPPORTED and begins none (SQLite is serializable only). */
void tx_isolation_levels(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_TX_ISOLATION, NULL);
    make_tx_table(f);
    static const unsigned levels[] = {DBAL_TX_REPEATABLE_READ, DBAL_TX_READ_COMMITTED};
    static const char *names[] = {"repeatable_read", "read_committed"};
    for (int k = 0; k < 2; k++) {
        int rc = dbal_begin_with(f->s, levels[k]);
        if (cap_is(CAP_TX_ISOLATION, names[k])) {
            EXPECT_RC(f->s, rc, DBAL_OK);
            EXPECT_I64(dbal_tx_depth(f->s), 1);
            INSERT_TX(f->s, k + 1);
            EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
        } else {
            EXPECT_RC(f->s, rc, DBAL_EUNSUPPORTED);
            EXPECT_ERRCODE(f->s, DBAL_EUNSUPPORTED);
            /* no transaction was begun, the session goes on */
            EXPECT_I64(dbal_tx_depth(f->s), 0);
            EXPECT_RC(f->s, dbal_commit(f->s), DBAL_EMISUSE);
            INSERT_TX(f->s, k + 1); /* autocommit */
        }
    }
    REOPEN();
    IDS_ARE(f->s, "1,2");
}

/* Two sessions open at once see each other's committed work and only that:
 * PostgreSQL's READ COMMITTED; SQLite in WAL mode (the driver's default for
 * files, and for sqlite::memory:, which it keeps as a WAL database in RAM). */
void concurrent_sessions_isolation(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    dbal_session *s2 = OPEN_EXTRA();
    IDS_ARE(s2, "1");
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    /* uncommitted work is invisible to the other session, which does not
     * wait for the writer (SQLite's busy timeout is 5 s by default) */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    IDS_ARE(s2, "1");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(waited < 2.0, "the reader waited %.1f s for the writer", waited);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    /* committed work is visible to it, while both sessions are open */
    IDS_ARE(s2, "1,2");
    /* and the other way round */
    EXPECT_RC(s2, dbal_begin(s2), DBAL_OK);
    INSERT_TX(s2, 3);
    EXPECT_RC(s2, dbal_commit(s2), DBAL_OK);
    IDS_ARE(f->s, "1,2,3");
    close_extra(f, s2);
}

/*
 * Two writers at once (tx.writers). With row locks (PostgreSQL) a second
 * session writes another row at once. One writer at a time (SQLite's BEGIN
 * IMMEDIATE): the second waits as long as the URL option
 * tx.writer_wait_option allows (in milliseconds; 200 here), fails with
 * DBAL_EBUSY, 55P03, and succeeds once the first has committed. That wait
 * is an engine's option, so the second writer has an engine of its own;
 * where another engine does not reach the same database (sqlite::memory:,
 * private to its engine) the case is skipped.
 */
void concurrent_writers(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_TX_WRITERS, NULL);
    make_tx_table(f);
    if (cap_is(CAP_TX_WRITERS, "row_locks")) {
        EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
        INSERT_TX(f->s, 1);
        dbal_session *s2 = OPEN_EXTRA();
        INSERT_TX(s2, 2);
        close_extra(f, s2);
        EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    } else {
        cap_need(CAP_TX_WRITER_WAIT_OPTION, NULL);
        char url2[700];
        snprintf(url2, sizeof url2, "%s%c%s=200", g_url, strchr(g_url, '?') ? '&' : '?',
                 cap(CAP_TX_WRITER_WAIT_OPTION));
        dbal_engine *e2 = NULL;
        dbal_session *s2 = NULL;
        dbal_error err;
        EXPECT_RC(NULL, dbal_engine_open(&e2, url2, &err), DBAL_OK);
        EXPECT_RC(NULL, dbal_session_open(e2, &s2, &err), DBAL_OK);
        dbal_rows *probe = NULL;
        int rc = dbal_query(s2, "SELECT id FROM conf_tx", DBAL_NOARGS, &probe);
        dbal_rows_close(probe);
        if (rc == DBAL_EUNDEFINED) {
            dbal_session_close(s2);
            dbal_engine_close(e2);
            print_message("    skipped: another engine on %s does not reach the same database\n", g_display);
            skip();
        }
        EXPECT_RC(s2, rc, DBAL_OK);
        EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
        INSERT_TX(f->s, 1);
        rc = dbal_exec(s2, "INSERT INTO conf_tx(id, v) VALUES (2, 'x')", DBAL_NOARGS, NULL);
        int code = dbal_session_error(s2)->code;
        char state5[6];
        memcpy(state5, dbal_session_error(s2)->sqlstate, 6);
        if (rc == DBAL_EBUSY) {
            EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
            rc = dbal_exec(s2, "INSERT INTO conf_tx(id, v) VALUES (2, 'x')", DBAL_NOARGS, NULL);
        }
        dbal_session_close(s2);
        dbal_engine_close(e2);
        CHECK(code == DBAL_EBUSY && strcmp(state5, "55P03") == 0,
              "second writer: %s \"%s\", expected DBAL_EBUSY \"55P03\"", dbal_code_name(code), state5);
        EXPECT_RC(NULL, rc, DBAL_OK); /* once the first committed */
    }
    REOPEN();
    IDS_ARE(f->s, "1,2");
}
