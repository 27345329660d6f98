/*
 * statements.c - what one statement gives back: RETURNING rows, rows
 * affected, the last inserted id; placeholders in literals and comments,
 * their count, and more than nine of them.
 */
#include "cases.h"
#include "fixture.h"

/* INSERT ... RETURNING (sql.returning) through dbal_query and dbal_exec,
 * with the generated ids 1, 2, ... of ddl.auto_id. */
void returning(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_SQL_RETURNING, "yes");
    make_auto_table(f);
    for (int k = 1; k <= 2; k++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", k);
        dbal_rows *r = QUERY(f->s, "INSERT INTO conf_auto(name) VALUES (?) RETURNING id, name",
                             DBAL_ARGS(dbal_text(name)));
        EXPECT_I64(dbal_col_count(r), 2);
        EXPECT_STR(dbal_col_name(r, 0), "id");
        EXPECT_STR(dbal_col_name(r, 1), "name");
        NEXT_ROW(r);
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64);
        EXPECT_I64(dbal_col_int64(r, 0), k);
        EXPECT_STR(dbal_col_text(r, 1), name);
        NEXT_DONE(r);
        close_rows(f, r);
    }
    EXPECT_I64(COUNT(f->s, "conf_auto"), 2);
    /* several rows from one statement */
    dbal_rows *r = QUERY(f->s, "INSERT INTO conf_auto(name) VALUES ('a'), ('b') RETURNING id", DBAL_NOARGS);
    int64_t sum = 0;
    int rows = 0, rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        sum += dbal_col_int64(r, 0);
        rows++;
    }
    EXPECT_RC(f->s, rc, DBAL_DONE);
    close_rows(f, r);
    EXPECT_I64(rows, 2);
    EXPECT_I64(sum, 3 + 4);
    /* through dbal_exec the rows are discarded, the insert is not */
    int64_t n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_auto(name) VALUES ('c') RETURNING id", DBAL_NOARGS, &n),
              DBAL_OK);
    EXPECT_I64(n, 1);
    EXPECT_I64(COUNT(f->s, "conf_auto"), 5);
    /* in a transaction, rolled back with it */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_I64(SCALAR(f->s, "INSERT INTO conf_auto(name) VALUES ('d') RETURNING id", DBAL_NOARGS), 6);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_I64(COUNT(f->s, "conf_auto"), 5);
}

void rows_affected(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_aff", "id INTEGER PRIMARY KEY, v TEXT");
    int64_t n = -7;
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_aff(id, v) VALUES (1, 'a'), (2, 'a'), (3, 'b'), (4, 'a')",
                        DBAL_NOARGS, &n),
              DBAL_OK);
    EXPECT_I64(n, 4);
    n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "UPDATE conf_aff SET v = 'c' WHERE v = ?", DBAL_ARGS(dbal_text("a")), &n),
              DBAL_OK);
    EXPECT_I64(n, 3);
    n = -7;
    EXPECT_RC(f->s,
              dbal_exec(f->s, "UPDATE conf_aff SET v = 'd' WHERE v = ?", DBAL_ARGS(dbal_text("zzz")), &n),
              DBAL_OK);
    EXPECT_I64(n, 0);
    n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_aff WHERE id > ?", DBAL_ARGS(dbal_int64(2)), &n),
              DBAL_OK);
    EXPECT_I64(n, 2);
    n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_aff WHERE id > 100", DBAL_NOARGS, &n), DBAL_OK);
    EXPECT_I64(n, 0);
    /* inside a transaction too, and `affected` may be NULL */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "UPDATE conf_aff SET v = 'e'", DBAL_NOARGS, &n), DBAL_OK);
    EXPECT_I64(n, 2);
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_aff WHERE id = 1", DBAL_NOARGS, NULL), DBAL_OK);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    EXPECT_I64(COUNT(f->s, "conf_aff"), 1);
}

/*
 * dbal_last_insert_id (session.last_insert_id). Before the session's first
 * statement there is no connection: DBAL_EMISUSE. With nothing inserted
 * yet (PostgreSQL's lastval() is undefined, SQLite's rowid is 0):
 * DBAL_EMISUSE too.
 */
void last_insert_id(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_SESSION_LAST_INSERT_ID, "yes");
    int64_t id = -7;
    /* a session that has run nothing has no connection yet */
    EXPECT_RC(f->s, dbal_last_insert_id(f->s, &id), DBAL_EMISUSE);
    make_auto_table(f);
    EXPECT_RC(f->s, dbal_last_insert_id(f->s, &id), DBAL_EMISUSE);
    EXPECT_I64(id, -7); /* untouched on failure */
    for (int k = 1; k <= 3; k++) {
        EXEC_OK(f->s, "INSERT INTO conf_auto(name) VALUES (?)", DBAL_ARGS(dbal_text("x")));
        id = -7;
        EXPECT_RC(f->s, dbal_last_insert_id(f->s, &id), DBAL_OK);
        EXPECT_I64(id, k);
    }
    /* it is the id the database gave */
    EXPECT_I64(SCALAR(f->s, "SELECT max(id) AS m FROM conf_auto", DBAL_NOARGS), 3);
    /* inside a transaction as well */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXEC_OK(f->s, "INSERT INTO conf_auto(name) VALUES ('y')", DBAL_NOARGS);
    EXPECT_RC(f->s, dbal_last_insert_id(f->s, &id), DBAL_OK);
    EXPECT_I64(id, 4);
    EXPECT_I64(SCALAR(f->s, "SELECT id FROM conf_auto WHERE name = 'y'", DBAL_NOARGS), id);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
}

void placeholders_in_literals_and_comments(void **state)
{
    fixture *f = fix(state);
    dbal_rows *r = QUERY(f->s, "SELECT '?' AS a, ? AS b -- ?\n", DBAL_ARGS(dbal_text("p")));
    EXPECT_I64(dbal_col_count(r), 2);
    NEXT_ROW(r);
    EXPECT_STR(dbal_col_text(r, 0), "?");
    EXPECT_STR(dbal_col_text(r, 1), "p");
    NEXT_DONE(r);
    close_rows(f, r);

    EXPECT_I64(SCALAR(f->s, "SELECT /* ? */ ? AS b", DBAL_ARGS(dbal_int64(7))), 7);
    EXPECT_I64(SCALAR(f->s, "SELECT ? AS b /* ? ? */", DBAL_ARGS(dbal_int64(8))), 8);
    EXPECT_I64(SCALAR(f->s, "SELECT ? AS b -- trailing ?", DBAL_ARGS(dbal_int64(9))), 9);

    r = QUERY(f->s, "SELECT 'it''s ?' AS a, ? AS b, 1 AS \"c?d\"", DBAL_ARGS(dbal_text("q")));
    EXPECT_STR(dbal_col_name(r, 2), "c?d");
    NEXT_ROW(r);
    EXPECT_STR(dbal_col_text(r, 0), "it's ?");
    EXPECT_STR(dbal_col_text(r, 1), "q");
    EXPECT_I64(dbal_col_int64(r, 2), 1);
    NEXT_DONE(r);
    close_rows(f, r);

    /* the same through dbal_exec, with the count checked on the way */
    CREATE_TABLE(f, "conf_ph", "id INTEGER PRIMARY KEY, v TEXT");
    EXEC_OK(f->s, "INSERT INTO conf_ph(id, v) VALUES (?, '?') -- ?", DBAL_ARGS(dbal_int64(1)));
    EXEC_OK(f->s, "INSERT INTO conf_ph(id, v) /* ? */ VALUES (2, ?)", DBAL_ARGS(dbal_text("x?")));
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_ph WHERE v IN ('?', 'x?')", DBAL_NOARGS), 2);
}

void param_count_mismatch(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_pc", "id INTEGER PRIMARY KEY, v TEXT");
    dbal_rows *r = NULL;
    /* too few */
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_pc(id, v) VALUES (?, ?)", DBAL_ARGS(dbal_int64(1)), NULL),
              DBAL_EMISUSE);
    EXPECT_ERR(f->s, DBAL_EMISUSE, "");
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT ? AS a, ? AS b", DBAL_ARGS(dbal_int64(1)), &r), DBAL_EMISUSE);
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT ? AS a", DBAL_NOARGS, &r), DBAL_EMISUSE);
    /* too many */
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_pc(id, v) VALUES (?, ?)",
                        DBAL_ARGS(dbal_int64(1), dbal_text("a"), dbal_text("b")), NULL),
              DBAL_EMISUSE);
    EXPECT_ERR(f->s, DBAL_EMISUSE, "");
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT 1 AS a", DBAL_ARGS(dbal_int64(1)), &r), DBAL_EMISUSE);
    /* a placeholder in a literal does not count */
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT '?' AS a", DBAL_ARGS(dbal_int64(1)), &r), DBAL_EMISUSE);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_pc"), 0);

    /* inside a transaction: nothing was sent, the transaction is not failed */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXEC_OK(f->s, "INSERT INTO conf_pc(id, v) VALUES (1, 'a')", DBAL_NOARGS);
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_pc(id, v) VALUES (?, ?)", DBAL_ARGS(dbal_int64(2)), NULL),
              DBAL_EMISUSE);
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT ? AS a", DBAL_ARGS(dbal_int64(1), dbal_int64(2)), &r),
              DBAL_EMISUSE);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    EXEC_OK(f->s, "INSERT INTO conf_pc(id, v) VALUES (?, ?)", DBAL_ARGS(dbal_int64(2), dbal_text("b")));
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    EXPECT_I64(COUNT(f->s, "conf_pc"), 2);
}

void many_parameters(void **state)
{
    fixture *f = fix(state);
    /* twelve columns, each its own parameter: $1 and $10..$12 must not mix */
    dbal_value v[12];
    for (int k = 0; k < 12; k++)
        v[k] = dbal_int64((k + 1) * 11);
    dbal_rows *r = QUERY(f->s,
                         "SELECT ? AS c1, ? AS c2, ? AS c3, ? AS c4, ? AS c5, ? AS c6, ? AS c7, "
                         "? AS c8, ? AS c9, ? AS c10, ? AS c11, ? AS c12",
                         dbal_params_array(v, 12));
    EXPECT_I64(dbal_col_count(r), 12);
    NEXT_ROW(r);
    for (int k = 0; k < 12; k++)
        EXPECT_I64(dbal_col_int64(r, k), (k + 1) * 11);
    NEXT_DONE(r);
    close_rows(f, r);

    /* 1000 parameters in one INSERT */
    CREATE_TABLE(f, "conf_many", "id INTEGER PRIMARY KEY, v BIGINT");
    enum { ROWS = 500 };
    static dbal_value p[2 * ROWS];
    static char sql[16 + 40 + ROWS * 8];
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO conf_many(id, v) VALUES ");
    for (int k = 0; k < ROWS; k++) {
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s(?, ?)", k ? ", " : "");
        p[2 * k] = dbal_int64(k + 1);
        p[2 * k + 1] = dbal_int64((int64_t)(k + 1) * 1000003);
    }
    CHECK(len < sizeof sql - 1, "statement buffer too small");
    int64_t n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, sql, dbal_params_array(p, 2 * ROWS), &n), DBAL_OK);
    EXPECT_I64(n, ROWS);
    EXPECT_I64(SCALAR(f->s, "SELECT sum(v) AS s FROM conf_many", DBAL_NOARGS),
               (int64_t)ROWS * (ROWS + 1) / 2 * 1000003);
    EXPECT_I64(SCALAR(f->s, "SELECT v FROM conf_many WHERE id = ?", DBAL_ARGS(dbal_int64(437))),
               (int64_t)437 * 1000003);
}
