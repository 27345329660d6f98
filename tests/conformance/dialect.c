/*
 * dialect.c - where the databases' SQL truly differs: a parameter whose type
 * does not fit its column, a value no column declares, division by zero.
 */
#include "cases.h"
#include "fixture.h"

/*
 * A parameter whose type does not match the column (param.type_mismatch):
 * stored as given (SQLite's type affinity), or refused with DBAL_EDATA,
 * 42804 for an int64 into BOOLEAN or a bool into BIGINT and 22P02 for
 * 'abc' into BIGINT (PostgreSQL); and a non-integral double into BIGINT
 * (param.double_into_bigint): kept as the double, or rounded. Use the
 * constructor that fits the column: numeric text into BIGINT and an
 * integer into DOUBLE PRECISION are the same everywhere.
 */
void param_type_strictness(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_PARAM_TYPE_MISMATCH, NULL);
    cap_need(CAP_PARAM_DOUBLE_INTO_BIGINT, NULL);
    make_values_table(f);
    const int refused = cap_is(CAP_PARAM_TYPE_MISMATCH, "refused");
    int rc;
    dbal_rows *r;

    /* dbal_int64 into a BOOLEAN column, dbal_bool into a BIGINT column */
    rc = dbal_exec(f->s, "INSERT INTO conf_values(id, b) VALUES (1, ?)", DBAL_ARGS(dbal_int64(1)), NULL);
    if (refused) {
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
    if (refused) {
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
    if (refused) {
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
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_values(id, i) VALUES (4, ?)", DBAL_ARGS(dbal_double(2.5)),
                        NULL),
              DBAL_OK);
    r = GET(4, "i");
    if (cap_is(CAP_PARAM_DOUBLE_INTO_BIGINT, "rounded")) {
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64); /* rounded (half to even) */
        EXPECT_I64(dbal_col_int64(r, 0), 2);
    } else {
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE); /* kept as 2.5 */
        CHECK(dbal_col_double(r, 0) == 2.5, "%g", dbal_col_double(r, 0));
    }
    END(r);

    /* the same everywhere: numeric text into BIGINT, an integer into DOUBLE */
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

/*
 * Values that no column declares. A bool parameter selected back
 * (value.undeclared_bool): a BOOL that reads as "t" (PostgreSQL knows it is
 * a bool), or an INT64 that reads as "1" (SQLite has only the integer);
 * dbal_col_bool reads both. Integer division by zero
 * (sql.division_by_zero): NULL, or DBAL_EDATA (22012) from dbal_query.
 */
void undeclared_types_and_dialect(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_UNDECLARED_BOOL, NULL);
    cap_need(CAP_SQL_DIVISION_BY_ZERO, NULL);
    const int is_bool = cap_is(CAP_VALUE_UNDECLARED_BOOL, "bool");
    dbal_rows *r = QUERY(f->s, "SELECT ? AS x", DBAL_ARGS(dbal_bool(1)));
    NEXT_ROW(r);
    EXPECT_TYPE(dbal_col_type(r, 0), is_bool ? DBAL_TYPE_BOOL : DBAL_TYPE_INT64);
    EXPECT_STR(dbal_col_text(r, 0), is_bool ? "t" : "1");
    EXPECT_I64(dbal_col_bool(r, 0), 1);
    NEXT_DONE(r);
    close_rows(f, r);

    /* integer division by zero */
    r = NULL;
    int rc = dbal_query(f->s, "SELECT 1 / 0 AS x", DBAL_NOARGS, &r);
    if (cap_is(CAP_SQL_DIVISION_BY_ZERO, "error")) {
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
