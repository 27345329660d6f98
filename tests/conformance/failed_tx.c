/*
 * failed_tx.c - a failed statement fails its transaction: every statement
 * after it is DBAL_ETXFAILED (25P02) until a rollback (to a savepoint, or
 * the whole transaction), and commit rolls back instead.
 */
#include "cases.h"
#include "fixture.h"

static void fail_one_at(fixture *f, const char *file, int line)
{
    /* id 1 exists: a unique violation */
    int rc = dbal_exec(f->s, "INSERT INTO conf_tx(id, v) VALUES (1, 'dup')", DBAL_NOARGS, NULL);
    expect_rc_at(f->s, rc, DBAL_EUNIQUE, "duplicate insert", file, line);
}
#define FAIL_ONE() fail_one_at(f, __FILE__, __LINE__)

void txfailed_next_statement_and_commit(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1); /* committed */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    FAIL_ONE();
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    /* every statement now fails with 25P02, exec and query alike */
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_ERR(f->s, DBAL_ETXFAILED, "25P02");
    dbal_rows *r = NULL;
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT id FROM conf_tx", DBAL_NOARGS, &r), DBAL_ETXFAILED);
    EXPECT_ERR(f->s, DBAL_ETXFAILED, "25P02");
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_tx(id, v) VALUES (3, 'x')", DBAL_NOARGS, NULL),
              DBAL_ETXFAILED);
    /* commit rolls back and says so */
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_ETXFAILED);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    /* the session is usable again, and nothing of the transaction persisted */
    IDS_ARE(f->s, "1");
    REOPEN();
    IDS_ARE(f->s, "1");
}

void txfailed_rollback_recovers(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    FAIL_ONE();
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    check_session_recovers(f);
    IDS_ARE(f->s, "1");
    /* a new transaction on the same session works */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 3);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "1,3");
}

void txfailed_savepoint_recovers(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK); /* savepoint */
    INSERT_TX(f->s, 3);
    FAIL_ONE();
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_ERR(f->s, DBAL_ETXFAILED, "25P02");
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK); /* to the savepoint */
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    /* the outer transaction is healthy again, without 3 */
    IDS_ARE(f->s, "1,2");
    INSERT_TX(f->s, 4);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    REOPEN();
    IDS_ARE(f->s, "1,2,4");
}

/* dbal_commit on a failed savepoint level: "it is rolled back instead and
 * DBAL_ETXFAILED is returned" -- the innermost level only. */
void txfailed_commit_of_failed_savepoint(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 3);
    FAIL_ONE();
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_ETXFAILED);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    IDS_ARE(f->s, "1,2");
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "1,2");
}
