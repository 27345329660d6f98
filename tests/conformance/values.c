/*
 * values.c - every value type through a parameter into a table and back:
 * NULL, bool, int64, double (and its special values), text (UTF-8, 1 MB,
 * a NUL byte, invalid UTF-8) and blobs, read with every getter.
 */
#include "cases.h"
#include "fixture.h"

#include <math.h>

void roundtrip_null(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const char *cols[] = {"b", "i", "d", "t", "bl"};
    /* dbal_null(), and the constructors' documented NULL-pointer forms. */
    for (int c = 0; c < 5; c++)
        PUT(c + 1, cols[c], dbal_null());
    PUT(10, "t", dbal_text(NULL));
    PUT(11, "t", dbal_textn(NULL, 3));
    PUT(12, "bl", dbal_blob(NULL, 4));
    for (int c = 0; c < 5; c++) {
        dbal_rows *r = GET(c + 1, cols[c]);
        check_null_value(f, r);
        END(r);
    }
    for (int id = 10; id <= 12; id++) {
        dbal_rows *r = GET(id, id == 12 ? "bl" : "t");
        check_null_value(f, r);
        END(r);
    }
    /* The database sees SQL NULL, not an empty string. */
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE t IS NULL AND bl IS NULL",
                      DBAL_NOARGS),
               8);
}

void roundtrip_bool(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    PUT(1, "b", dbal_bool(1));
    PUT(2, "b", dbal_bool(0));
    PUT(3, "b", dbal_bool(42)); /* any non-zero is true */
    static const int want[] = {1, 0, 1};
    for (int id = 1; id <= 3; id++) {
        dbal_rows *r = GET(id, "b");
        int b = -1;
        CHECK(!dbal_col_is_null(r, 0), "row %d: a bool read back as NULL", id);
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_BOOL);
        EXPECT_I64(dbal_col_bool(r, 0), want[id - 1]);
        EXPECT_RC(f->s, dbal_col_get_bool(r, 0, &b), DBAL_OK);
        EXPECT_I64(b, want[id - 1]);
        END(r);
    }
    /* The database sees real booleans: the parameter compares with TRUE. */
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE b = ?", DBAL_ARGS(dbal_bool(1))), 2);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE b = FALSE", DBAL_NOARGS), 1);
}

void roundtrip_int64(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const int64_t vals[] = {0, 1, -1, INT64_MIN, INT64_MAX};
    const int n = (int)(sizeof vals / sizeof vals[0]);
    for (int k = 0; k < n; k++)
        PUT(k + 1, "i", dbal_int64(vals[k]));
    for (int k = 0; k < n; k++) {
        dbal_rows *r = GET(k + 1, "i");
        int64_t v = 12345;
        char want_text[32];
        snprintf(want_text, sizeof want_text, "%" PRId64, vals[k]);
        CHECK(!dbal_col_is_null(r, 0), "an int64 read back as NULL");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_INT64);
        EXPECT_I64(dbal_col_int64(r, 0), vals[k]);
        EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &v), DBAL_OK);
        EXPECT_I64(v, vals[k]);
        EXPECT_STR(dbal_col_text(r, 0), want_text);
        EXPECT_I64(dbal_col_bytes(r, 0), strlen(want_text));
        CHECK(dbal_col_double(r, 0) == (double)vals[k], "dbal_col_double is %.17g, expected %.17g",
              dbal_col_double(r, 0), (double)vals[k]);
        END(r);
        /* the database compares it as the same 64-bit integer */
        EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE i = ?",
                          DBAL_ARGS(dbal_int64(vals[k]))),
                   1);
    }
}

void roundtrip_double(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const double vals[] = {0.1, -2.5e300, 1e-300, 0.0, 123456.789};
    const int n = (int)(sizeof vals / sizeof vals[0]);
    for (int k = 0; k < n; k++)
        PUT(k + 1, "d", dbal_double(vals[k]));
    for (int k = 0; k < n; k++) {
        dbal_rows *r = GET(k + 1, "d");
        double v = 42;
        CHECK(!dbal_col_is_null(r, 0), "a double read back as NULL");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE);
        CHECK(dbal_col_double(r, 0) == vals[k], "dbal_col_double is %.17g, expected %.17g",
              dbal_col_double(r, 0), vals[k]);
        EXPECT_RC(f->s, dbal_col_get_double(r, 0, &v), DBAL_OK);
        CHECK(v == vals[k], "dbal_col_get_double gave %.17g, expected %.17g", v, vals[k]);
        /* text is a decimal form that reads back as the same double */
        const char *t = dbal_col_text(r, 0);
        CHECK(t != NULL && strtod(t, NULL) == vals[k], "dbal_col_text is \"%s\" for %.17g", t ? t : "(null)",
              vals[k]);
        END(r);
    }
    /* The shortest round-trip form, as PostgreSQL prints it, on every driver. */
    dbal_rows *r = GET(1, "d");
    EXPECT_STR(dbal_col_text(r, 0), "0.1");
    END(r);
}

/* NaN, +Infinity, -Infinity. What a NaN reads back as is value.nan: NaN
 * (which the database orders above every number, as PostgreSQL does) or
 * NULL (SQLite has no NaN); the infinities round-trip on every driver. */
void roundtrip_double_special(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_NAN, NULL);
    make_values_table(f);
    PUT(1, "d", dbal_double(NAN));
    PUT(2, "d", dbal_double(INFINITY));
    PUT(3, "d", dbal_double(-INFINITY));

    dbal_rows *r = GET(1, "d");
    if (cap_is(CAP_VALUE_NAN, "nan")) {
        double v = 0;
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE);
        EXPECT_RC(f->s, dbal_col_get_double(r, 0, &v), DBAL_OK);
        CHECK(isnan(v), "NaN read back as %g", v);
        EXPECT_STR(dbal_col_text(r, 0), "NaN");
    } else {
        check_null_value(f, r);
    }
    END(r);

    static const double inf[] = {INFINITY, -INFINITY};
    static const char *inf_text[] = {"Infinity", "-Infinity"};
    for (int k = 0; k < 2; k++) {
        double v = 0;
        r = GET(k + 2, "d");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DOUBLE);
        EXPECT_RC(f->s, dbal_col_get_double(r, 0, &v), DBAL_OK);
        CHECK(v == inf[k], "read back %g, expected %g", v, inf[k]);
        CHECK(dbal_col_double(r, 0) == inf[k], "dbal_col_double is %g", dbal_col_double(r, 0));
        EXPECT_STR(dbal_col_text(r, 0), inf_text[k]);
        END(r);
    }
    /* the database orders them as infinities, and a NaN above every number */
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE d > ?",
                      DBAL_ARGS(dbal_double(1e308))),
               cap_is(CAP_VALUE_NAN, "nan") ? 2 : 1);
}

void roundtrip_text(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    static const char utf8[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 "
                               "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82";
    PUT(1, "t", dbal_text(""));
    PUT(2, "t", dbal_text(utf8));
    PUT(3, "t", dbal_textn("abcdef", 3)); /* the length counts, not a NUL */
    PUT(4, "t", dbal_textn("", 0));

    /* empty text is not NULL */
    for (int id = 1; id <= 4; id += 3) {
        dbal_rows *r = GET(id, "t");
        const char *t = NULL;
        size_t len = 99;
        CHECK(!dbal_col_is_null(r, 0), "empty text read back as NULL (row %d)", id);
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_TEXT);
        EXPECT_STR(dbal_col_text(r, 0), "");
        EXPECT_I64(dbal_col_bytes(r, 0), 0);
        EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_OK);
        CHECK(t != NULL && len == 0, "dbal_col_get_text gave %p, %zu", (const void *)t, len);
        END(r);
    }
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE t = ''", DBAL_NOARGS), 2);

    dbal_rows *r = GET(2, "t");
    const char *t = NULL;
    size_t len = 0;
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_TEXT);
    EXPECT_STR(dbal_col_text(r, 0), utf8);
    EXPECT_I64(dbal_col_bytes(r, 0), strlen(utf8));
    EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_OK);
    EXPECT_I64(len, strlen(utf8));
    CHECK(t && memcmp(t, utf8, len) == 0, "dbal_col_get_text bytes differ");
    END(r);
    /* the database sees characters, not bytes: 19 of them in 31 bytes */
    EXPECT_I64(SCALAR(f->s, "SELECT length(t) AS n FROM conf_values WHERE id = 2", DBAL_NOARGS), 19);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE t = ?", DBAL_ARGS(dbal_text(utf8))),
               1);

    r = GET(3, "t");
    EXPECT_STR(dbal_col_text(r, 0), "abc");
    EXPECT_I64(dbal_col_bytes(r, 0), 3);
    END(r);
}

void roundtrip_text_1mb(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    const size_t n = (size_t)1 << 20;
    f->big = malloc(n + 1);
    CHECK(f->big != NULL, "out of memory");
    for (size_t k = 0; k < n; k++)
        f->big[k] = (char)('a' + (k * 7 + k / 1000) % 26);
    f->big[n] = '\0';
    PUT(1, "t", dbal_textn(f->big, n));

    dbal_rows *r = GET(1, "t");
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_TEXT);
    EXPECT_I64(dbal_col_bytes(r, 0), n);
    const char *t = dbal_col_text(r, 0);
    CHECK(t != NULL, "1 MB text read back as NULL");
    EXPECT_I64(strlen(t), n);
    CHECK(memcmp(t, f->big, n) == 0, "1 MB text differs after the round trip");
    END(r);
    EXPECT_I64(SCALAR(f->s, "SELECT length(t) AS n FROM conf_values WHERE id = 1", DBAL_NOARGS), n);
}

void roundtrip_blob(void **state)
{
    fixture *f = fix(state);
    make_values_table(f);
    unsigned char bytes[300];
    memset(bytes, 0, sizeof bytes); /* leading and trailing NULs */
    for (int k = 0; k < 256; k++)
        bytes[k + 20] = (unsigned char)k;
    PUT(1, "bl", dbal_blob(bytes, sizeof bytes));
    PUT(2, "bl", dbal_blob("", 0)); /* non-NULL pointer, length 0: an empty blob */

    dbal_rows *r = GET(1, "bl");
    size_t len = 0;
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_BLOB);
    CHECK(!dbal_col_is_null(r, 0), "blob read back as NULL");
    const unsigned char *p = dbal_col_blob(r, 0, &len);
    CHECK(p != NULL, "dbal_col_blob returned NULL");
    EXPECT_I64(len, sizeof bytes);
    EXPECT_I64(dbal_col_bytes(r, 0), sizeof bytes);
    CHECK(memcmp(p, bytes, sizeof bytes) == 0, "blob bytes differ after the round trip");
    /* text of a blob: its bytes */
    const char *t = NULL;
    len = 0;
    EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_OK);
    CHECK(t != NULL && len == sizeof bytes && memcmp(t, bytes, len) == 0,
          "dbal_col_get_text of a blob gave %zu bytes", len);
    END(r);
    EXPECT_I64(SCALAR(f->s, "SELECT length(bl) AS n FROM conf_values WHERE id = 1", DBAL_NOARGS),
               sizeof bytes);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_values WHERE bl = ?",
                      DBAL_ARGS(dbal_blob(bytes, sizeof bytes))),
               1);

    r = GET(2, "bl");
    len = 99;
    CHECK(!dbal_col_is_null(r, 0), "empty blob read back as NULL");
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_BLOB);
    CHECK(dbal_col_blob(r, 0, &len) != NULL, "dbal_col_blob of an empty blob is NULL");
    EXPECT_I64(len, 0);
    EXPECT_I64(dbal_col_bytes(r, 0), 0);
    END(r);
    EXPECT_I64(SCALAR(f->s, "SELECT length(bl) AS n FROM conf_values WHERE id = 2", DBAL_NOARGS), 0);
}

/* Text with a NUL byte (value.text_nul) and text that is not UTF-8
 * (value.invalid_utf8): stored byte for byte, or refused with DBAL_EDATA
 * (22021 for the bad UTF-8). Either way the session goes on. */
void text_nul_and_invalid_utf8(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TEXT_NUL, NULL);
    cap_need(CAP_VALUE_INVALID_UTF8, NULL);
    make_values_table(f);
    static const char with_nul[] = {'a', '\0', 'b'};
    static const char bad_utf8[] = "ab\xff\xfe";
    int rc1 = dbal_exec(f->s, "INSERT INTO conf_values(id, t) VALUES (1, ?)",
                        DBAL_ARGS(dbal_textn(with_nul, 3)), NULL);
    if (cap_is(CAP_VALUE_TEXT_NUL, "refused")) {
        EXPECT_RC(f->s, rc1, DBAL_EDATA);
    } else {
        EXPECT_RC(f->s, rc1, DBAL_OK);
        dbal_rows *r = GET(1, "t");
        EXPECT_I64(dbal_col_bytes(r, 0), 3);
        size_t len = 0;
        const char *t = NULL;
        EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_OK);
        CHECK(len == 3 && memcmp(t, with_nul, 3) == 0, "text with a NUL came back as %zu bytes", len);
        END(r);
    }
    int rc2 = dbal_exec(f->s, "INSERT INTO conf_values(id, t) VALUES (2, ?)", DBAL_ARGS(dbal_text(bad_utf8)),
                        NULL);
    if (cap_is(CAP_VALUE_INVALID_UTF8, "refused")) {
        EXPECT_RC(f->s, rc2, DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "22021");
    } else {
        EXPECT_RC(f->s, rc2, DBAL_OK);
        dbal_rows *r = GET(2, "t");
        EXPECT_STR(dbal_col_text(r, 0), bad_utf8);
        END(r);
    }
    /* either way the session goes on */
    EXPECT_I64(SCALAR(f->s, "SELECT 7 AS n", DBAL_NOARGS), 7);
}
