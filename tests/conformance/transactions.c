/*
 * transactions.c - begin, commit and rollback, savepoints (nested begin),
 * closing a session with a transaction open, and the depth rules.
 */
#include "cases.h"
#include "fixture.h"

void tx_commit_persists(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    INSERT_TX(f->s, 1);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    IDS_ARE(f->s, "1,2");
    REOPEN(); /* a second session sees the committed rows */
    IDS_ARE(f->s, "1,2");
}

void tx_rollback_discards(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    INSERT_TX(f->s, 1); /* autocommit */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    EXEC_OK(f->s, "DELETE FROM conf_tx WHERE id = 1", DBAL_NOARGS);
    IDS_ARE(f->s, "2"); /* the transaction sees its own work */
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    IDS_ARE(f->s, "1");
    REOPEN();
    IDS_ARE(f->s, "1");
}

void tx_close_rolls_back(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK); /* a savepoint too */
    INSERT_TX(f->s, 2);
    REOPEN(); /* closes the session with the transaction open */
    IDS_ARE(f->s, "");
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    /* the connection went back to the pool clean: a new transaction works */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    INSERT_TX(f->s, 3);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "3");
}

void tx_savepoint_rollback_inner(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 2);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 3);
    INSERT_TX(f->s, 3);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK); /* discards 3 */
    EXPECT_I64(dbal_tx_depth(f->s), 2);
    IDS_ARE(f->s, "1,2");
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK); /* discards 2 */
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    IDS_ARE(f->s, "1");
    INSERT_TX(f->s, 4); /* the outer level goes on */
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    REOPEN();
    IDS_ARE(f->s, "1,4");
}

void tx_savepoint_commit_inner_rollback_outer(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 1);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK); /* releases the savepoint */
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    IDS_ARE(f->s, "1,2");
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK); /* discards both */
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    IDS_ARE(f->s, "");
    REOPEN();
    IDS_ARE(f->s, "");
    /* and a second round of savepoints on the same session works */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 5);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 6);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    IDS_ARE(f->s, "5,6");
}

void tx_depth_and_misuse(void **state)
{
    fixture *f = fix(state);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_EMISUSE);
    EXPECT_ERR(f->s, DBAL_EMISUSE, "");
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_EMISUSE);
    EXPECT_ERR(f->s, DBAL_EMISUSE, "");
    EXPECT_I64(dbal_tx_depth(f->s), 0);
    /* after a real statement (the connection is taken) too */
    check_session_recovers(f);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_EMISUSE);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_EMISUSE);
    /* options on a nested begin are misuse, and change nothing */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_begin_with(f->s, DBAL_TX_READ_ONLY), DBAL_EMISUSE);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    EXPECT_I64(SCALAR(f->s, "SELECT 2 AS two", DBAL_NOARGS), 2); /* not a failed transaction */
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    /* one commit too many */
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_EMISUSE);
    EXPECT_I64(dbal_tx_depth(f->s), 0);
}
