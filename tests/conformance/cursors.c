/*
 * cursors.c - reading results: 100,000 rows streamed, a cursor closed
 * early, statements and a second cursor while one is open, column names and
 * out-of-range columns, and how long the getters' pointers stay valid.
 */
#include "cases.h"
#include "fixture.h"

#define CTE_100K                                                                             \
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100000) SELECT " \
    "x FROM c"
#define CTE_N "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?) SELECT x FROM c"

void stream_100k(void **state)
{
    fixture *f = fix(state);
    dbal_rows *r = QUERY(f->s, CTE_100K, DBAL_NOARGS);
    EXPECT_I64(dbal_col_count(r), 1);
    EXPECT_STR(dbal_col_name(r, 0), "x");
    int64_t sum = 0, rows = 0, last = 0;
    int rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        int64_t x = dbal_col_int64(r, 0);
        if (x != last + 1) {
            close_rows(f, r);
            fail_msg("row %" PRId64 " is %" PRId64 ", expected %" PRId64, rows, x, last + 1);
        }
        last = x;
        sum += x;
        rows++;
    }
    EXPECT_RC(f->s, rc, DBAL_DONE);
    EXPECT_RC(f->s, dbal_rows_next(r), DBAL_DONE); /* stays done */
    close_rows(f, r);
    EXPECT_I64(rows, 100000);
    EXPECT_I64(sum, INT64_C(5000050000));
    /* with the bound as a parameter */
    EXPECT_I64(SCALAR(f->s,
                      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < ?) "
                      "SELECT sum(x) AS s FROM c",
                      DBAL_ARGS(dbal_int64(1000))),
               500500);
}

void stream_close_early(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    dbal_rows *r = QUERY(f->s, CTE_100K, DBAL_NOARGS);
    for (int k = 1; k <= 5; k++) {
        NEXT_ROW(r);
        EXPECT_I64(dbal_col_int64(r, 0), k);
    }
    close_rows(f, r);
    /* the session is usable at once, with the right answers */
    EXPECT_I64(SCALAR(f->s, "SELECT 41 + 1 AS v", DBAL_NOARGS), 42);
    /* inside a transaction: closing early does not fail or end it */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    INSERT_TX(f->s, 1);
    r = QUERY(f->s, CTE_100K, DBAL_NOARGS);
    NEXT_ROW(r);
    close_rows(f, r);
    EXPECT_I64(dbal_tx_depth(f->s), 1);
    INSERT_TX(f->s, 2);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    /* a cursor closed before its first row */
    r = QUERY(f->s, CTE_100K, DBAL_NOARGS);
    close_rows(f, r);
    REOPEN();
    IDS_ARE(f->s, "1,2");
    /* dbal_rows_close(NULL) is allowed */
    dbal_rows_close(NULL);
}

void stream_statement_while_cursor_open(void **state)
{
    fixture *f = fix(state);
    make_tx_table(f);
    dbal_rows *a = QUERY(f->s, CTE_N, DBAL_ARGS(dbal_int64(1000)));
    int64_t sum = 0, rows = 0;
    int rc;
    while ((rc = dbal_rows_next(a)) == DBAL_ROW) {
        int64_t x = dbal_col_int64(a, 0);
        sum += x;
        rows++;
        if (x % 100 == 0) {
            /* a write and a read on the same session, cursor still open */
            INSERT_TX(f->s, (int)x);
            EXPECT_I64(COUNT(f->s, "conf_tx"), x / 100);
            EXPECT_I64(SCALAR(f->s, "SELECT ? + 1 AS v", DBAL_ARGS(dbal_int64(x))), x + 1);
            /* the cursor's current row is not disturbed */
            EXPECT_I64(dbal_col_int64(a, 0), x);
        }
    }
    EXPECT_RC(f->s, rc, DBAL_DONE);
    close_rows(f, a);
    EXPECT_I64(rows, 1000);
    EXPECT_I64(sum, 500500);
    EXPECT_I64(COUNT(f->s, "conf_tx"), 10);

    /* two cursors read in turns */
    a = QUERY(f->s, CTE_N, DBAL_ARGS(dbal_int64(300)));
    dbal_rows *b = QUERY(f->s, "SELECT id FROM conf_tx ORDER BY id", DBAL_NOARGS);
    int64_t sa = 0, sb = 0;
    int ra, rb, na = 0, nb = 0;
    do {
        ra = dbal_rows_next(a);
        if (ra == DBAL_ROW) {
            sa += dbal_col_int64(a, 0);
            na++;
        }
        rb = dbal_rows_next(b);
        if (rb == DBAL_ROW) {
            sb += dbal_col_int64(b, 0);
            nb++;
        }
    } while (ra == DBAL_ROW || rb == DBAL_ROW);
    EXPECT_RC(f->s, ra, DBAL_DONE);
    EXPECT_RC(f->s, rb, DBAL_DONE);
    close_rows(f, b);
    close_rows(f, a);
    EXPECT_I64(na, 300);
    EXPECT_I64(sa, 45150);
    EXPECT_I64(nb, 10);
    EXPECT_I64(sb, 5500);

    /* in a transaction: the work done while the cursor is open commits */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    a = QUERY(f->s, CTE_N, DBAL_ARGS(dbal_int64(50)));
    NEXT_ROW(a);
    INSERT_TX(f->s, 5000);
    NEXT_ROW(a);
    EXPECT_I64(dbal_col_int64(a, 0), 2);
    close_rows(f, a);
    EXPECT_RC(f->s, dbal_commit(f->s), DBAL_OK);
    REOPEN();
    EXPECT_I64(COUNT(f->s, "conf_tx"), 11);
}

void columns_names_and_range(void **state)
{
    fixture *f = fix(state);
    dbal_rows *r = QUERY(f->s, "SELECT 1 AS one, 'x' AS two, NULL AS three", DBAL_NOARGS);
    EXPECT_I64(dbal_col_count(r), 3);
    EXPECT_STR(dbal_col_name(r, 0), "one");
    EXPECT_STR(dbal_col_name(r, 1), "two");
    EXPECT_STR(dbal_col_name(r, 2), "three");
    CHECK(dbal_col_name(r, 3) == NULL, "dbal_col_name(3) is not NULL");
    CHECK(dbal_col_name(r, -1) == NULL, "dbal_col_name(-1) is not NULL");
    NEXT_ROW(r);
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64);
    EXPECT_TYPE(dbal_col_type(r, 1), DBAL_TYPE_TEXT);
    EXPECT_TYPE(dbal_col_type(r, 2), DBAL_TYPE_NULL);
    /* out of range on a row: safe answers, no crash (dbal.h documents only
     * dbal_col_name; the suite expects the NULL-value answers and an error
     * code from the get_ forms) */
    static const int bad[] = {3, -1, 1000};
    for (int k = 0; k < 3; k++) {
        int c = bad[k];
        int64_t i = 0;
        size_t len = 5;
        CHECK(dbal_col_name(r, c) == NULL, "dbal_col_name(%d)", c);
        EXPECT_TYPE(dbal_col_type(r, c), DBAL_TYPE_NULL);
        CHECK(dbal_col_text(r, c) == NULL, "dbal_col_text(%d) not NULL", c);
        CHECK(dbal_col_blob(r, c, &len) == NULL, "dbal_col_blob(%d) not NULL", c);
        EXPECT_I64(dbal_col_int64(r, c), 0);
        CHECK(dbal_col_double(r, c) == 0.0, "dbal_col_double(%d)", c);
        EXPECT_I64(dbal_col_bool(r, c), 0);
        EXPECT_I64(dbal_col_bytes(r, c), 0);
        int rc = dbal_col_get_int64(r, c, &i);
        CHECK(rc != DBAL_OK && rc != DBAL_ROW && rc != DBAL_DONE, "dbal_col_get_int64(%d) returned %s", c,
              dbal_code_name(rc));
    }
    /* the row is still readable */
    EXPECT_I64(dbal_col_int64(r, 0), 1);
    EXPECT_STR(dbal_col_text(r, 1), "x");
    NEXT_DONE(r);
    EXPECT_I64(dbal_col_count(r), 3); /* fixed for the cursor's life */
    close_rows(f, r);

    /* an empty result still has its columns */
    r = QUERY(f->s, "SELECT 1 AS one, 2 AS two WHERE 1 = 0", DBAL_NOARGS);
    EXPECT_I64(dbal_col_count(r), 2);
    EXPECT_STR(dbal_col_name(r, 1), "two");
    NEXT_DONE(r);
    close_rows(f, r);

    /* table columns, in table order */
    CREATE_TABLE(f, "conf_names", "id INTEGER PRIMARY KEY, first_name TEXT, amount DOUBLE PRECISION");
    r = QUERY(f->s, "SELECT * FROM conf_names", DBAL_NOARGS);
    EXPECT_I64(dbal_col_count(r), 3);
    EXPECT_STR(dbal_col_name(r, 0), "id");
    EXPECT_STR(dbal_col_name(r, 1), "first_name");
    EXPECT_STR(dbal_col_name(r, 2), "amount");
    NEXT_DONE(r);
    close_rows(f, r);
}

void column_pointers_stay_valid(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const unsigned char blob[] = {1, 0, 2, 0, 3};
    EXEC_OK(f->s, "INSERT INTO conf_values(id, b, i, d, t, bl) VALUES (?, ?, ?, ?, ?, ?)",
            DBAL_ARGS(dbal_int64(1), dbal_bool(1), dbal_int64(-123456789), dbal_double(0.25),
                      dbal_text("some text"), dbal_blob(blob, sizeof blob)));
    EXEC_OK(f->s, "INSERT INTO conf_values(id, b, i, d, t, bl) VALUES (?, ?, ?, ?, ?, ?)",
            DBAL_ARGS(dbal_int64(2), dbal_bool(0), dbal_int64(5), dbal_double(-8), dbal_text("other"),
                      dbal_blob("x", 1)));
    dbal_rows *r = QUERY(f->s, "SELECT id, b, i, d, t, bl FROM conf_values ORDER BY id", DBAL_NOARGS);
    NEXT_ROW(r);
    /* the text of every column at once: each pointer stays valid until the
     * next row, whatever else is read meanwhile */
    const char *tb = dbal_col_text(r, 1);
    const char *ti = dbal_col_text(r, 2);
    const char *td = dbal_col_text(r, 3);
    const char *tt = dbal_col_text(r, 4);
    size_t blen = 0;
    const void *pb = dbal_col_blob(r, 5, &blen);
    const char *tid = dbal_col_text(r, 0);
    /* other getters on the same columns, in between */
    EXPECT_I64(dbal_col_int64(r, 2), -123456789);
    CHECK(dbal_col_double(r, 3) == 0.25, "double");
    EXPECT_I64(dbal_col_bool(r, 1), 1);
    EXPECT_I64(dbal_col_bytes(r, 4), 9);
    EXPECT_STR(dbal_col_text(r, 2), "-123456789"); /* asked again */
    EXPECT_STR(tb, BOOL_TEXT_TRUE);
    EXPECT_STR(ti, "-123456789");
    EXPECT_STR(td, "0.25");
    EXPECT_STR(tt, "some text");
    EXPECT_STR(tid, "1");
    CHECK(pb != NULL && blen == sizeof blob && memcmp(pb, blob, blen) == 0, "blob changed");
    NEXT_ROW(r);
    EXPECT_STR(dbal_col_text(r, 2), "5");
    EXPECT_STR(dbal_col_text(r, 3), "-8");
    EXPECT_STR(dbal_col_text(r, 1), BOOL_TEXT_FALSE);
    NEXT_DONE(r);
    close_rows(f, r);
}
