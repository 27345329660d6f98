/*
 * dialect.c - where the databases' SQL truly differs: a parameter whose type
 * does not fit its column, a value no column declares, division by zero.
 */
#include "fixture.h"

/* DIFFERENCES #12: a parameter whose type does not match the column. */
void param_type_strictness(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    int rc;
    dbal_rows *r;

    /* dbal_int64 into a BOOLEAN column, dbal_bool into a BIGINT column */
    rc = dbal_exec(f->s, "INSERT INTO conf_values(id, b) VALUES (1, ?)", DBAL_ARGS(dbal_int64(1)), NULL);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "42804");
    } else {
        EXPECT_RC(f->s, rc, DBAL_OK);
        r = GET(1, "b");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_BOOL);
        EXPECT_I64(dbal_col_bool(r, 0), 1);
        END(r);
    }
    rc = dbal_exec(f->s, "INSERT INTO conf_values(id, i) VALUES (2, ?)", DBAL_ARGS(dbal_bool(1)), NULL);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "42804");
    } else {
        EXPECT_RC(f->s, rc, DBAL_OK);
        r = GET(2, "i");
        EXPECT_I64(dbal_col_int64(r, 0), 1);
        END(r);
    }

    /* text that is not a number, into a BIGINT column */
    rc = dbal_exec(f->s, "INSERT INTO conf_values(id, i) VALUES (3, ?)", DBAL_ARGS(dbal_text("abc")), NULL);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "22P02");
    } else {
        EXPECT_RC(f->s, rc, DBAL_OK); /* type affinity: kept as text */
        r = GET(3, "i");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_TEXT);
        EXPECT_STR(dbal_col_text(r, 0), "abc");
        END(r);
    }

    /* a non-integral double into a BIGINT column */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_values(id, i) VALUES (4, ?)",
                              DBAL_ARGS(dbal_double(2.5)), NULL),
              DBAL_OK);
    r = GET(4, "i");
    if (f->is_pg) {
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64); /* rounded (half to even) */
        EXPECT_I64(dbal_col_int64(r, 0), 2);
    } else {
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE); /* kept as 2.5 */
        CHECK(dbal_col_double(r, 0) == 2.5, "%g", dbal_col_double(r, 0));
    }
    END(r);

    /* the same on both: numeric text into BIGINT, an integer into DOUBLE */
    EXEC_OK(f->s, "INSERT INTO conf_values(id, i, d) VALUES (5, ?, ?)",
            DBAL_ARGS(dbal_text("42"), dbal_int64(7)));
    r = QUERY(f->s, "SELECT i, d FROM conf_values WHERE id = 5", DBAL_NOARGS);
    NEXT_ROW(r);
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64);
    EXPECT_I64(dbal_col_int64(r, 0), 42);
    EXPECT_TYPE(dbal_col_type(r, 1), DBAL_TYPE_DOUBLE);
    CHECK(dbal_col_double(r, 1) == 7.0, "%g", dbal_col_double(r, 1));
    NEXT_DONE(r);
    close_rows(f, r);
}

/* DIFFERENCES #13 and #14: values that no column declares. */
void undeclared_types_and_dialect(void **state)
{
    fixture *f = fix(state);
    /* a bool parameter selected back: PostgreSQL knows it is a bool, SQLite
     * has only the integer; dbal_col_bool reads both */
    dbal_rows *r = QUERY(f->s, "SELECT ? AS x", DBAL_ARGS(dbal_bool(1)));
    NEXT_ROW(r);
    EXPECT_TYPE(dbal_col_type(r, 0), f->is_pg ? DBAL_TYPE_BOOL : DBAL_TYPE_INT64);
    EXPECT_STR(dbal_col_text(r, 0), f->is_pg ? "t" : "1");
    EXPECT_I64(dbal_col_bool(r, 0), 1);
    NEXT_DONE(r);
    close_rows(f, r);

    /* integer division by zero */
    r = NULL;
    int rc = dbal_query(f->s, "SELECT 1 / 0 AS x", DBAL_NOARGS, &r);
    if (f->is_pg) {
        EXPECT_RC(f->s, rc, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "22012");
    } else {
        EXPECT_RC(f->s, rc, DBAL_OK);
        track(f, r, f->s);
        NEXT_ROW(r);
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_NULL);
        NEXT_DONE(r);
        close_rows(f, r);
    }
    check_session_recovers(f);
}
