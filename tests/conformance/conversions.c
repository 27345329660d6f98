/*
 * conversions.c - the conversion rules of dbal.h, the same on every driver:
 * which getters read which column types, with which codes.
 */
#include "cases.h"
#include "fixture.h"

#include <math.h>

/*
 * conf_conv rows (inserted through parameters):
 *   id  n     t                        b      d        z
 *   1   42    'abc'                    TRUE   2.5      NULL
 *   2   1     '123'                    FALSE  3.0      0
 *   3   0     'true'                   NULL   1e300    NULL
 *   4   7     '99999999999999999999'   NULL   -0.5     NULL
 *   5   -3    '2.5'                    NULL   -1e300   NULL
 *   6   0     'f'                      NULL   0        NULL
 *   7   0     '12abc'                  NULL   0        NULL
 *   8   0     'NaN'                    NULL   0        NULL
 *   9   0     '-Infinity'              NULL   0        NULL
 *   10  0     ''                       NULL   1e15     NULL
 */
static void conv_insert_at(fixture *f, int id, int64_t n, const char *t, dbal_value b, double d, dbal_value z,
                           const char *file, int line)
{
    exec_ok_at(f->s, "INSERT INTO conf_conv(id, n, t, b, d, z) VALUES (?, ?, ?, ?, ?, ?)",
               DBAL_ARGS(dbal_int64(id), dbal_int64(n), dbal_text(t), b, dbal_double(d), z), file, line);
}
#define CONV_INSERT(...) conv_insert_at(f, __VA_ARGS__, __FILE__, __LINE__)

static void make_conv_table(fixture *f)
{
    CREATE_TABLE(f, "conf_conv",
                 "id INTEGER PRIMARY KEY, n BIGINT, t TEXT, b BOOLEAN, d DOUBLE PRECISION, "
                 "z BIGINT");
    CONV_INSERT(1, 42, "abc", dbal_bool(1), 2.5, dbal_null());
    CONV_INSERT(2, 1, "123", dbal_bool(0), 3.0, dbal_int64(0));
    CONV_INSERT(3, 0, "true", dbal_null(), 1e300, dbal_null());
    CONV_INSERT(4, 7, "99999999999999999999", dbal_null(), -0.5, dbal_null());
    CONV_INSERT(5, -3, "2.5", dbal_null(), -1e300, dbal_null());
    CONV_INSERT(6, 0, "f", dbal_null(), 0, dbal_null());
    CONV_INSERT(7, 0, "12abc", dbal_null(), 0, dbal_null());
    CONV_INSERT(8, 0, "NaN", dbal_null(), 0, dbal_null());
    CONV_INSERT(9, 0, "-Infinity", dbal_null(), 0, dbal_null());
    CONV_INSERT(10, 0, "", dbal_null(), 1e15, dbal_null());
}

static dbal_rows *conv_row_at(fixture *f, int id, const char *file, int line)
{
    dbal_rows *r = query_at(f, f->s, "SELECT n, t, b, d, z FROM conf_conv WHERE id = ?",
                            DBAL_ARGS(dbal_int64(id)), file, line);
    next_at(f, r, DBAL_ROW, file, line);
    return r;
}
#define CONV_ROW(id) conv_row_at(f, (id), __FILE__, __LINE__)
enum { C_N, C_T, C_B, C_D, C_Z };

/* The conversions every program relies on. */
void conversions_basic(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    dbal_rows *r = CONV_ROW(1);
    int64_t i = 0;
    double d = 0;
    int b = -1;

    /* integer column */
    EXPECT_TYPE(dbal_col_type(r, C_N), DBAL_TYPE_INT64);
    EXPECT_I64(dbal_col_int64(r, C_N), 42);
    CHECK(dbal_col_double(r, C_N) == 42.0, "dbal_col_double(42) is %g", dbal_col_double(r, C_N));
    EXPECT_RC(f->s, dbal_col_get_double(r, C_N, &d), DBAL_OK);
    CHECK(d == 42.0, "dbal_col_get_double(42) is %g", d);
    EXPECT_STR(dbal_col_text(r, C_N), "42");
    EXPECT_I64(dbal_col_bytes(r, C_N), 2);

    /* text that is not a number */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ETYPE);
    EXPECT_I64(dbal_col_int64(r, C_T), 0);
    EXPECT_ERRCODE(f->s, DBAL_ETYPE); /* "the session's error then says DBAL_ETYPE" */
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_ETYPE);
    EXPECT_STR(dbal_col_text(r, C_T), "abc");

    /* NULL */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_Z, &i), DBAL_ENULL);
    EXPECT_I64(dbal_col_int64(r, C_Z), 0);

    /* boolean column */
    EXPECT_TYPE(dbal_col_type(r, C_B), DBAL_TYPE_BOOL);
    EXPECT_I64(dbal_col_bool(r, C_B), 1);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_B, &b), DBAL_OK);
    EXPECT_I64(b, 1);

    /* double column */
    EXPECT_TYPE(dbal_col_type(r, C_D), DBAL_TYPE_DOUBLE);
    CHECK(dbal_col_double(r, C_D) == 2.5, "dbal_col_double(2.5) is %g", dbal_col_double(r, C_D));
    EXPECT_STR(dbal_col_text(r, C_D), "2.5");
    END(r);

    r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_B, &b), DBAL_OK);
    EXPECT_I64(b, 0);
    EXPECT_I64(dbal_col_bool(r, C_B), 0);
    END(r);
}

/* "integers from integers, from bools (0/1), from integral doubles and from
 * text that is exactly an integer" -- and nothing else, on every driver. */
void conversions_int64_rules(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    int64_t i = 0;

    dbal_rows *r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_OK); /* '123' */
    EXPECT_I64(i, 123);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_OK); /* 3.0 */
    EXPECT_I64(i, 3);
    END(r);

    r = CONV_ROW(1);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_ETYPE); /* 2.5 is not integral */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_B, &i), DBAL_OK);    /* bool TRUE: 1 */
    EXPECT_I64(i, 1);
    END(r);
    r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_B, &i), DBAL_OK); /* bool FALSE: 0 */
    EXPECT_I64(i, 0);
    END(r);

    r = CONV_ROW(10);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_OK); /* 1e15: integral, fits */
    EXPECT_I64(i, INT64_C(1000000000000000));
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ETYPE); /* '' */
    END(r);

    r = CONV_ROW(3);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_ERANGE); /* 1e300: integral, too big */
    EXPECT_I64(dbal_col_int64(r, C_D), 0);
    EXPECT_ERRCODE(f->s, DBAL_ERANGE);
    END(r);

    r = CONV_ROW(5);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_ERANGE); /* -1e300 */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ETYPE);  /* '2.5' */
    END(r);

    r = CONV_ROW(4);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ERANGE); /* '99999999999999999999' */
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_D, &i), DBAL_ETYPE);  /* -0.5 */
    END(r);

    r = CONV_ROW(7);
    EXPECT_RC(f->s, dbal_col_get_int64(r, C_T, &i), DBAL_ETYPE); /* '12abc' */
    END(r);
}

/* "doubles from numbers and numeric text (NaN, Infinity)"; text of a double
 * is its shortest round-trip decimal form, spelled as PostgreSQL does. */
void conversions_double_rules(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    double d = 0;

    dbal_rows *r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_OK); /* '123' */
    CHECK(d == 123.0, "'123' as a double is %g", d);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_Z, &d), DBAL_OK); /* integer 0 */
    CHECK(d == 0.0, "0 as a double is %g", d);
    EXPECT_STR(dbal_col_text(r, C_D), "3");
    END(r);

    r = CONV_ROW(3);
    EXPECT_STR(dbal_col_text(r, C_D), "1e+300");
    END(r);

    r = CONV_ROW(5);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_OK); /* '2.5' */
    CHECK(d == 2.5, "'2.5' as a double is %g", d);
    EXPECT_STR(dbal_col_text(r, C_D), "-1e+300");
    END(r);

    r = CONV_ROW(7);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_ETYPE); /* '12abc' */
    END(r);

    /* a bool is not a number (only integers convert from bools) */
    r = CONV_ROW(1);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_B, &d), DBAL_ETYPE);
    END(r);

    r = CONV_ROW(8);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_OK); /* 'NaN' */
    CHECK(isnan(d), "'NaN' as a double is %g", d);
    END(r);

    r = CONV_ROW(9);
    EXPECT_RC(f->s, dbal_col_get_double(r, C_T, &d), DBAL_OK); /* '-Infinity' */
    CHECK(d == -INFINITY, "'-Infinity' as a double is %g", d);
    END(r);
}

/* "bools from integers 0/1 and from true/false/t/f/yes/no/on/off/1/0". */
void conversions_bool_rules(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    int b = -1;

    dbal_rows *r = CONV_ROW(2);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_N, &b), DBAL_OK); /* integer 1 */
    EXPECT_I64(b, 1);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_Z, &b), DBAL_OK); /* integer 0 */
    EXPECT_I64(b, 0);
    END(r);

    r = CONV_ROW(3);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_T, &b), DBAL_OK); /* 'true' */
    EXPECT_I64(b, 1);
    END(r);

    r = CONV_ROW(6);
    b = -1;
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_T, &b), DBAL_OK); /* 'f' */
    EXPECT_I64(b, 0);
    END(r);

    r = CONV_ROW(4);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_N, &b), DBAL_ETYPE); /* 7: only 0 and 1 are bools */
    END(r);

    /* doubles are not bools, not even 0.0 and 1.0 */
    r = CONV_ROW(6);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_D, &b), DBAL_ETYPE); /* 0.0 */
    END(r);

    r = CONV_ROW(7);
    EXPECT_RC(f->s, dbal_col_get_bool(r, C_T, &b), DBAL_ETYPE); /* '12abc' */
    END(r);

    r = QUERY(f->s, "SELECT 'yes' AS a, 'off' AS b, 'maybe' AS c, '' AS d", DBAL_NOARGS);
    NEXT_ROW(r);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 0, &b), DBAL_OK);
    EXPECT_I64(b, 1);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 1, &b), DBAL_OK);
    EXPECT_I64(b, 0);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 2, &b), DBAL_ETYPE);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 3, &b), DBAL_ETYPE);
    END(r);
}

/* Text of a BOOLEAN column: "t"/"f" on every driver (dbal.h). */
void conversions_bool_as_text(void **state)
{
    fixture *f = fix(state);
    make_conv_table(f);
    dbal_rows *r = CONV_ROW(1);
    EXPECT_STR(dbal_col_text(r, C_B), BOOL_TEXT_TRUE);
    END(r);
    r = CONV_ROW(2);
    EXPECT_STR(dbal_col_text(r, C_B), BOOL_TEXT_FALSE);
    END(r);
}
