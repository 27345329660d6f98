/*
 * types.c - dates, times, timestamps, numerics, UUIDs and JSON: the same
 * value written through dbal reads back as the same value on every
 * driver, at the edges of their ranges, in the same order in SQL, compared
 * with parameters the same way, through batches and the asynchronous API.
 * What differs (ranges, digits, the type of an undeclared value) is in
 * the capability file.
 */
#include "cases.h"
#include "fixture.h"

#include <math.h>
#include <poll.h>

#define TYPES_TABLE                                                                                        \
    "id BIGINT PRIMARY KEY, ts TIMESTAMP, tz TIMESTAMP WITH TIME ZONE, d DATE, t TIME, n NUMERIC(12, 2), " \
    "nx NUMERIC, big NUMERIC(30, 10), u UUID, j JSON"

static void make_types_table(fixture *f)
{
    CREATE_TABLE(f, "conf_types", TYPES_TABLE);
}

/* Microseconds of a date and time, through the public helper. */
static int64_t at(int y, int mo, int d, int h, int mi, int s, int us)
{
    dbal_datetime dt = {y, mo, d, h, mi, s, us};
    int64_t v = 0;
    assert_int_equal(dbal_datetime_to_timestamp(&dt, &v), DBAL_OK);
    return v;
}

static int64_t day(int y, int mo, int d)
{
    dbal_datetime dt = {y, mo, d, 0, 0, 0, 0};
    int64_t v = 0;
    assert_int_equal(dbal_datetime_to_date(&dt, &v), DBAL_OK);
    return v;
}

/* Column col of row id, the cursor on that row. */
static dbal_rows *get(fixture *f, int id, const char *col)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s AS v FROM conf_types WHERE id = ?", col);
    dbal_rows *r = QUERY(f->s, sql, DBAL_ARGS(dbal_int64(id)));
    NEXT_ROW(r);
    return r;
}

static void put(fixture *f, int id, const char *col, dbal_value v)
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO conf_types(id, %s) VALUES (?, ?)", col);
    EXEC_OK(f->s, sql, DBAL_ARGS(dbal_int64(id), v));
}

/* The ids of conf_types in the order of `order`, e.g. "3,1,2". */
static void order_is(fixture *f, const char *order, dbal_params p, const char *want)
{
    char sql[160], got[256] = "";
    snprintf(sql, sizeof sql, "SELECT id FROM conf_types %s", order);
    dbal_rows *r = QUERY(f->s, sql, p);
    while (dbal_rows_next(r) == DBAL_ROW)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", got[0] ? "," : "",
                 (long long)dbal_col_int64(r, 0));
    close_rows(f, r);
    CHECK(strcmp(got, want) == 0, "%s: ids %s, expected %s", order, got, want);
}

static const struct {
    int64_t us;
    const char *text; /* without the +00:00 of timestamptz */
} stamps[] = {
    {0, "1970-01-01 00:00:00.000000"},
    {-1, "1969-12-31 23:59:59.999999"},
    {951827696789012, "2000-02-29 12:34:56.789012"},
    {1709164800000001, "2024-02-29 00:00:00.000001"},
    {-62135596800000000, "0001-01-01 00:00:00.000000"},
    {253402300799999999, "9999-12-31 23:59:59.999999"},
    {DBAL_INFINITY, "infinity"},
    {DBAL_NEG_INFINITY, "-infinity"},
};
#define NSTAMPS (int)(sizeof stamps / sizeof stamps[0])

static void check_stamp(fixture *f, dbal_rows *r, dbal_type type, int k)
{
    char want[64];
    int64_t v = 42;
    int inf = stamps[k].us == DBAL_INFINITY || stamps[k].us == DBAL_NEG_INFINITY;
    snprintf(want, sizeof want, "%s%s", stamps[k].text,
             type == DBAL_TYPE_TIMESTAMPTZ && !inf ? "+00:00" : "");
    EXPECT_TYPE(dbal_col_type(r, 0), type);
    EXPECT_RC(f->s, dbal_col_get_timestamp(r, 0, &v), DBAL_OK);
    EXPECT_I64(v, stamps[k].us);
    EXPECT_STR(dbal_col_text(r, 0), want);
    /* Not an integer, whatever its form. */
    EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &v), DBAL_ETYPE);
}

void types_timestamp_roundtrip(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, "datetime");
    make_types_table(f);
    CHECK(at(2000, 2, 29, 12, 34, 56, 789012) == stamps[2].us, "the helper and the table disagree");
    for (int k = 0; k < NSTAMPS; k++) {
        put(f, k + 1, "ts", dbal_timestamp(stamps[k].us));
        put(f, k + 101, "tz", dbal_timestamptz(stamps[k].us));
    }
    for (int k = 0; k < NSTAMPS; k++) {
        dbal_rows *r = get(f, k + 1, "ts");
        check_stamp(f, r, DBAL_TYPE_TIMESTAMP, k);
        END(r);
        r = get(f, k + 101, "tz");
        check_stamp(f, r, DBAL_TYPE_TIMESTAMPTZ, k);
        END(r);
    }
    /* A date-time at midnight reads as its date; another does not. */
    dbal_rows *r = get(f, 1, "ts");
    int64_t d = 42;
    EXPECT_RC(f->s, dbal_col_get_date(r, 0, &d), DBAL_OK);
    EXPECT_I64(d, 0);
    END(r);
    r = get(f, 2, "ts");
    EXPECT_RC(f->s, dbal_col_get_date(r, 0, &d), DBAL_ETYPE);
    END(r);
}

void types_date_time_roundtrip(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, "datetime");
    make_types_table(f);
    const struct {
        int64_t days;
        const char *text;
    } dates[] = {{0, "1970-01-01"},
                 {day(2000, 2, 29), "2000-02-29"},
                 {day(1900, 3, 1), "1900-03-01"},
                 {day(1, 1, 1), "0001-01-01"},
                 {day(9999, 12, 31), "9999-12-31"},
                 {DBAL_INFINITY, "infinity"},
                 {DBAL_NEG_INFINITY, "-infinity"}};
    const struct {
        int64_t us;
        const char *text;
    } times[] = {{0, "00:00:00.000000"},
                 {1, "00:00:00.000001"},
                 {45296789012, "12:34:56.789012"},
                 {86399999999, "23:59:59.999999"},
                 {86400000000, "24:00:00.000000"}};
    for (size_t k = 0; k < sizeof dates / sizeof *dates; k++)
        put(f, (int)k + 1, "d", dbal_date(dates[k].days));
    for (size_t k = 0; k < sizeof times / sizeof *times; k++)
        put(f, (int)k + 101, "t", dbal_time(times[k].us));
    for (size_t k = 0; k < sizeof dates / sizeof *dates; k++) {
        dbal_rows *r = get(f, (int)k + 1, "d");
        int64_t v = 42, ts = 42;
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_DATE);
        EXPECT_RC(f->s, dbal_col_get_date(r, 0, &v), DBAL_OK);
        EXPECT_I64(v, dates[k].days);
        EXPECT_STR(dbal_col_text(r, 0), dates[k].text);
        EXPECT_RC(f->s, dbal_col_get_timestamp(r, 0, &ts), DBAL_OK); /* its midnight */
        EXPECT_I64(ts, dates[k].days == DBAL_INFINITY || dates[k].days == DBAL_NEG_INFINITY
                           ? dates[k].days
                           : dates[k].days * INT64_C(86400000000));
        END(r);
    }
    for (size_t k = 0; k < sizeof times / sizeof *times; k++) {
        dbal_rows *r = get(f, (int)k + 101, "t");
        int64_t v = 42;
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_TIME);
        EXPECT_RC(f->s, dbal_col_get_time(r, 0, &v), DBAL_OK);
        EXPECT_I64(v, times[k].us);
        EXPECT_STR(dbal_col_text(r, 0), times[k].text);
        END(r);
    }
    /* A time out of its day never reaches the database. */
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_types(id, t) VALUES (1000, ?)",
                        DBAL_ARGS(dbal_time(86400000001)), NULL),
              DBAL_EDATA);
    EXPECT_ERR(f->s, DBAL_EDATA, "22008");
}

/* Years outside 0 to 9999: PostgreSQL's whole range, or refused. */
void types_datetime_range(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_DATETIME_RANGE, NULL);
    make_types_table(f);
    const int64_t bc = day(-43, 3, 15), far = at(10000, 1, 1, 0, 0, 0, 0);
    if (cap_is(CAP_VALUE_DATETIME_RANGE, "years_0_9999")) {
        EXPECT_RC(f->s,
                  dbal_exec(f->s, "INSERT INTO conf_types(id, d) VALUES (1, ?)", DBAL_ARGS(dbal_date(bc)),
                            NULL),
                  DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "22008");
        EXPECT_RC(f->s,
                  dbal_exec(f->s, "INSERT INTO conf_types(id, tz) VALUES (1, ?)",
                            DBAL_ARGS(dbal_timestamptz(far)), NULL),
                  DBAL_EDATA);
        EXPECT_ERR(f->s, DBAL_EDATA, "22008");
        return;
    }
    put(f, 1, "d", dbal_date(bc));
    put(f, 2, "tz", dbal_timestamptz(far));
    put(f, 3, "ts", dbal_timestamp(at(-4712, 1, 1, 0, 0, 0, 0))); /* 4713 BC */
    dbal_rows *r = get(f, 1, "d");
    int64_t v = 0;
    EXPECT_RC(f->s, dbal_col_get_date(r, 0, &v), DBAL_OK);
    EXPECT_I64(v, bc);
    EXPECT_STR(dbal_col_text(r, 0), "-0043-03-15");
    END(r);
    r = get(f, 2, "tz");
    EXPECT_RC(f->s, dbal_col_get_timestamp(r, 0, &v), DBAL_OK);
    EXPECT_I64(v, far);
    EXPECT_STR(dbal_col_text(r, 0), "10000-01-01 00:00:00.000000+00:00");
    END(r);
    r = get(f, 3, "ts");
    EXPECT_STR(dbal_col_text(r, 0), "-4712-01-01 00:00:00.000000");
    END(r);
    /* The end of PostgreSQL's range is past an int64 counted from 1970:
     * the text still reads, the timestamp getter says it does not fit. */
    EXEC_OK(f->s, "INSERT INTO conf_types(id, ts) VALUES (4, '294276-12-31 23:59:59.999999')", DBAL_NOARGS);
    r = get(f, 4, "ts");
    EXPECT_STR(dbal_col_text(r, 0), "294276-12-31 23:59:59.999999");
    EXPECT_RC(f->s, dbal_col_get_timestamp(r, 0, &v), DBAL_ERANGE);
    END(r);
}

/* Text written with offsets (SQL literals) reads as the instant. */
void types_time_zone_offsets(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, "datetime");
    make_types_table(f);
    EXEC_OK(f->s,
            "INSERT INTO conf_types(id, tz) VALUES (1, '2024-03-10 01:30:00-03:30'), "
            "(2, '1969-12-31 20:00:00-04:00'), (3, '2024-01-01 05:30:00+05:30'), (4, '2024-06-30 "
            "23:59:59.5Z')",
            DBAL_NOARGS);
    const int64_t want[] = {at(2024, 3, 10, 5, 0, 0, 0), 0, at(2024, 1, 1, 0, 0, 0, 0),
                            at(2024, 6, 30, 23, 59, 59, 500000)};
    const char *text[] = {"2024-03-10 05:00:00.000000+00:00", "1970-01-01 00:00:00.000000+00:00",
                          "2024-01-01 00:00:00.000000+00:00", "2024-06-30 23:59:59.500000+00:00"};
    for (int k = 0; k < 4; k++) {
        dbal_rows *r = get(f, k + 1, "tz");
        int64_t v = 42;
        EXPECT_RC(f->s, dbal_col_get_timestamp(r, 0, &v), DBAL_OK);
        EXPECT_I64(v, want[k]);
        EXPECT_STR(dbal_col_text(r, 0), text[k]);
        END(r);
    }
}

/* ORDER BY and comparisons with parameters give the same answers. */
void types_order_and_compare(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, "datetime");
    make_types_table(f);
    /* Ids in an order that is none of the columns' orders. */
    const int ids[] = {5, 2, 8, 1, 7, 3, 6, 4};
    for (int k = 0; k < NSTAMPS; k++) {
        int64_t days = stamps[k].us == DBAL_INFINITY || stamps[k].us == DBAL_NEG_INFINITY
                           ? stamps[k].us
                           : (stamps[k].us - ((stamps[k].us % 86400000000) + 86400000000) % 86400000000) /
                                 INT64_C(86400000000);
        EXEC_OK(f->s, "INSERT INTO conf_types(id, ts, tz, d, t) VALUES (?, ?, ?, ?, ?)",
                DBAL_ARGS(dbal_int64(ids[k]), dbal_timestamp(stamps[k].us), dbal_timestamptz(stamps[k].us),
                          dbal_date(days), dbal_time((int64_t)k * 3600000000 * (k % 2 ? 3 : 1))));
    }
    /* -infinity, 0001, 1969, 1970, 2000, 2024, 9999, infinity */
    order_is(f, "ORDER BY ts", DBAL_NOARGS, "4,7,2,5,8,1,3,6");
    order_is(f, "ORDER BY tz DESC", DBAL_NOARGS, "6,3,1,8,5,2,7,4");
    order_is(f, "ORDER BY d, id", DBAL_NOARGS, "4,7,2,5,8,1,3,6");
    order_is(f, "ORDER BY t", DBAL_NOARGS, "5,8,2,7,6,1,3,4");
    order_is(f, "WHERE tz >= ? AND tz < ? ORDER BY tz",
             DBAL_ARGS(dbal_timestamptz(-1), dbal_timestamptz(stamps[3].us)), "2,5,8");
    order_is(f, "WHERE ts > ? ORDER BY ts", DBAL_ARGS(dbal_timestamp(stamps[5].us)), "6");
    order_is(f, "WHERE d = ?", DBAL_ARGS(dbal_date(day(2000, 2, 29))), "8");
    order_is(f, "WHERE d < ? ORDER BY d", DBAL_ARGS(dbal_date(0)), "4,7,2");
    order_is(f, "WHERE t BETWEEN ? AND ? ORDER BY t", DBAL_ARGS(dbal_time(3600000000), dbal_time(7200000000)),
             "8");
    dbal_rows *r = QUERY(f->s, "SELECT max(tz) AS m FROM conf_types WHERE tz < ?",
                         DBAL_ARGS(dbal_timestamptz(DBAL_INFINITY)));
    NEXT_ROW(r);
    int64_t v = 0;
    EXPECT_RC(f->s, dbal_col_get_timestamp(r, 0, &v), DBAL_OK);
    EXPECT_I64(v, stamps[5].us);
    EXPECT_STR(dbal_col_text(r, 0), "9999-12-31 23:59:59.999999+00:00");
    close_rows(f, r);
}

void types_numeric(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, "numeric");
    make_types_table(f);
    const char *in[] = {"19.90", "19.9", "0", "-0.5", "1234567890.12", "1e3", "-0.125"};
    const char *out[] = {"19.90", "19.90", "0.00", "-0.50", "1234567890.12", "1000.00", "-0.13"};
    for (int k = 0; k < 7; k++)
        put(f, k + 1, "n", dbal_numeric(in[k]));
    for (int k = 0; k < 7; k++) {
        dbal_rows *r = get(f, k + 1, "n");
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_NUMERIC);
        EXPECT_STR(dbal_col_text(r, 0), out[k]);
        double d = 0;
        EXPECT_RC(f->s, dbal_col_get_double(r, 0, &d), DBAL_OK);
        CHECK(fabs(d - atof(out[k])) < 1e-9, "%s read as %g", out[k], d);
        END(r);
    }
    /* int64 only exactly: 1000.00 is 1000, 19.90 is no integer. */
    int64_t i = 42;
    dbal_rows *r = get(f, 6, "n");
    EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &i), DBAL_OK);
    EXPECT_I64(i, 1000);
    END(r);
    r = get(f, 1, "n");
    EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &i), DBAL_ETYPE);
    END(r);
    order_is(f, "WHERE n IS NOT NULL ORDER BY n, id", DBAL_NOARGS, "4,7,3,1,2,6,5");
    order_is(f, "WHERE n > ? ORDER BY id", DBAL_ARGS(dbal_numeric("19.89")), "1,2,5,6");
    order_is(f, "WHERE n = ? ORDER BY id", DBAL_ARGS(dbal_numeric("19.9")), "1,2");
    /* A NUMERIC without scale keeps what was written; NaN where numeric has it. */
    put(f, 20, "nx", dbal_numeric("0.5"));
    put(f, 21, "nx", dbal_numeric("NaN"));
    put(f, 22, "nx", dbal_numeric("-12345"));
    r = get(f, 20, "nx");
    EXPECT_STR(dbal_col_text(r, 0), "0.5");
    END(r);
    r = get(f, 21, "nx");
    EXPECT_STR(dbal_col_text(r, 0), "NaN");
    double d = 0;
    EXPECT_RC(f->s, dbal_col_get_double(r, 0, &d), DBAL_OK);
    CHECK(isnan(d), "NaN read as %g", d);
    EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &i), DBAL_ETYPE);
    END(r);
    r = get(f, 22, "nx");
    EXPECT_STR(dbal_col_text(r, 0), "-12345");
    EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &i), DBAL_OK);
    EXPECT_I64(i, -12345);
    END(r);
    /* Numeric text that is no number never reaches the database. */
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_types(id, n) VALUES (30, ?)", DBAL_ARGS(dbal_numeric("1,5")),
                        NULL),
              DBAL_EDATA);
    EXPECT_ERR(f->s, DBAL_EDATA, "22P02");
    /* An int64 past 15 digits is exact on every driver. */
    put(f, 31, "big", dbal_numeric("9223372036854775807"));
    r = get(f, 31, "big");
    EXPECT_STR(dbal_col_text(r, 0), "9223372036854775807.0000000000");
    EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &i), DBAL_OK);
    EXPECT_I64(i, INT64_MAX);
    END(r);
}

/* More significant digits than a double holds: exact, or refused. */
void types_numeric_digits(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_NUMERIC_DIGITS, NULL);
    make_types_table(f);
    const char *v = "12345678901234567890.1234567891";
    if (cap_is(CAP_VALUE_NUMERIC_DIGITS, "15")) {
        EXPECT_RC(f->s,
                  dbal_exec(f->s, "INSERT INTO conf_types(id, big) VALUES (1, ?)", DBAL_ARGS(dbal_numeric(v)),
                            NULL),
                  DBAL_ERANGE);
        EXPECT_ERR(f->s, DBAL_ERANGE, "22003");
        put(f, 2, "big", dbal_numeric("123456789012345")); /* 15 digits: kept */
        dbal_rows *r = get(f, 2, "big");
        EXPECT_STR(dbal_col_text(r, 0), "123456789012345.0000000000");
        END(r);
        return;
    }
    put(f, 1, "big", dbal_numeric(v));
    dbal_rows *r = get(f, 1, "big");
    EXPECT_STR(dbal_col_text(r, 0), v);
    END(r);
    order_is(f, "WHERE big > ?", DBAL_ARGS(dbal_numeric("12345678901234567890.123456789")), "1");
}

void types_uuid(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, "uuid");
    make_types_table(f);
    static const unsigned char u[4][16] =
        {{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11},
         {0},
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
         {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}};
    const char *text[] = {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000",
                          "ffffffff-ffff-ffff-ffff-ffffffffffff", "12345678-9abc-def0-1234-56789abcdef0"};
    for (int k = 0; k < 4; k++)
        put(f, k + 1, "u", dbal_uuid(u[k]));
    for (int k = 0; k < 4; k++) {
        dbal_rows *r = get(f, k + 1, "u");
        unsigned char got[16] = {0};
        EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_UUID);
        EXPECT_RC(f->s, dbal_col_get_uuid(r, 0, got), DBAL_OK);
        CHECK(memcmp(got, u[k], 16) == 0, "uuid %d read back other bytes", k);
        EXPECT_STR(dbal_col_text(r, 0), text[k]);
        END(r);
    }
    order_is(f, "WHERE u IS NOT NULL ORDER BY u", DBAL_NOARGS, "2,4,1,3");
    order_is(f, "WHERE u = ?", DBAL_ARGS(dbal_uuid(u[0])), "1");
    /* The same literal in SQL on every driver. */
    order_is(f, "WHERE u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", DBAL_NOARGS, "1");
}

void types_json(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, "json");
    make_types_table(f);
    const char *doc = "{\"a\": [1, 2.5, null], \"b\": \"x\\u00e9\", \"c\": {\"d\": true}}";
    put(f, 1, "j", dbal_json(doc));
    put(f, 2, "j", dbal_jsonn("[1, 2]xyz", 6));
    dbal_rows *r = get(f, 1, "j");
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_JSON);
    EXPECT_STR(dbal_col_text(r, 0), doc);
    END(r);
    r = get(f, 2, "j");
    EXPECT_STR(dbal_col_text(r, 0), "[1, 2]");
    END(r);
    /* The database's own JSON operators read it. */
    r = QUERY(f->s, "SELECT j ->> 'b' AS b FROM conf_types WHERE id = 1", DBAL_NOARGS);
    NEXT_ROW(r);
    EXPECT_STR(dbal_col_text(r, 0), "x\xc3\xa9");
    close_rows(f, r);
}

/* A value no column declares (SELECT ?): typed or text, and the getters
 * read it the same either way. */
void types_undeclared(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_UNDECLARED_TYPES, NULL);
    static const unsigned char u[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                                        0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
    int typed = cap_is(CAP_VALUE_UNDECLARED_TYPES, "typed");
    dbal_rows *r = QUERY(f->s, "SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e",
                         DBAL_ARGS(dbal_timestamptz(stamps[2].us), dbal_date(day(2024, 2, 29)), dbal_time(1),
                                   dbal_numeric("19.90"), dbal_uuid(u)));
    NEXT_ROW(r);
    EXPECT_TYPE(dbal_col_type(r, 0), typed ? DBAL_TYPE_TIMESTAMPTZ : DBAL_TYPE_TEXT);
    EXPECT_TYPE(dbal_col_type(r, 3), typed ? DBAL_TYPE_NUMERIC : DBAL_TYPE_TEXT);
    int64_t v = 0;
    unsigned char got[16];
    EXPECT_RC(f->s, dbal_col_get_timestamp(r, 0, &v), DBAL_OK);
    EXPECT_I64(v, stamps[2].us);
    EXPECT_STR(dbal_col_text(r, 0), "2000-02-29 12:34:56.789012+00:00");
    EXPECT_RC(f->s, dbal_col_get_date(r, 1, &v), DBAL_OK);
    EXPECT_I64(v, day(2024, 2, 29));
    EXPECT_STR(dbal_col_text(r, 1), "2024-02-29");
    EXPECT_RC(f->s, dbal_col_get_time(r, 2, &v), DBAL_OK);
    EXPECT_I64(v, 1);
    EXPECT_STR(dbal_col_text(r, 3), "19.90");
    EXPECT_RC(f->s, dbal_col_get_uuid(r, 4, got), DBAL_OK);
    CHECK(memcmp(got, u, 16) == 0, "the uuid read back other bytes");
    EXPECT_STR(dbal_col_text(r, 4), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    close_rows(f, r);
}

static dbal_value row_value(int i, int col, unsigned char (*u)[16], char (*num)[32])
{
    switch (col) {
    case 0: return dbal_int64(i + 1);
    case 1: return dbal_timestamp(stamps[i % NSTAMPS].us);
    case 2: return dbal_timestamptz(stamps[(i + 3) % NSTAMPS].us);
    case 3: return i % 5 ? dbal_date(day(2000, 1, 1) + i) : dbal_null();
    case 4: return dbal_time((int64_t)i * 1000001);
    case 5: snprintf(num[i], sizeof num[i], "%d.%02d", i - 100, i % 100); return dbal_numeric(num[i]);
    case 6: memset(u[i], i, 16); return dbal_uuid(u[i]);
    default: return dbal_json(i % 2 ? "{\"k\": 1}" : "[]");
    }
}

/* Every value read back from row i of conf_types as row_value wrote it. */
static void check_rows(fixture *f, dbal_rows *r, int nrows, unsigned char (*u)[16], char (*num)[32])
{
    for (int i = 0; i < nrows; i++) {
        CHECK(dbal_rows_next(r) == DBAL_ROW, "row %d is missing", i);
        int64_t v;
        unsigned char got[16];
        for (int col = 1; col < 8; col++) {
            dbal_value want = row_value(i, col, u, num);
            char wt[DBAL_VALUE_TEXT_MAX + 32];
            if (want.type == DBAL_TYPE_NULL) {
                CHECK(dbal_col_is_null(r, col), "row %d col %d is not NULL", i, col);
                continue;
            }
            assert_int_equal(dbal_value_format(want, wt, sizeof wt, NULL), DBAL_OK);
            const char *got_text = dbal_col_text(r, col);
            CHECK(got_text && strcmp(got_text, wt) == 0, "row %d col %d: %s, expected %s", i, col,
                  got_text ? got_text : "NULL", wt);
            EXPECT_TYPE(dbal_col_type(r, col), want.type);
        }
        EXPECT_RC(f->s, dbal_col_get_timestamp(r, 2, &v), DBAL_OK);
        EXPECT_I64(v, row_value(i, 2, u, num).u.i);
        EXPECT_RC(f->s, dbal_col_get_uuid(r, 6, got), DBAL_OK);
        CHECK(memcmp(got, u[i], 16) == 0, "row %d: other uuid bytes", i);
    }
}

#define BATCH_ROWS 300

void types_batch(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, "datetime");
    cap_need(CAP_VALUE_TYPES, "numeric");
    cap_need(CAP_VALUE_TYPES, "uuid");
    cap_need(CAP_VALUE_TYPES, "json");
    make_types_table(f);
    static dbal_value rows[BATCH_ROWS * 8];
    static unsigned char u[BATCH_ROWS][16];
    static char num[BATCH_ROWS][32];
    for (int i = 0; i < BATCH_ROWS; i++)
        for (int col = 0; col < 8; col++)
            rows[i * 8 + col] = row_value(i, col, u, num);
    int64_t n = 0;
    size_t failed = 0;
    /* A plain INSERT: PostgreSQL loads it with COPY. */
    EXPECT_RC(f->s,
              dbal_exec_batch(f->s,
                              "INSERT INTO conf_types(id, ts, tz, d, t, n, u, j) VALUES (?, ?, ?, ?, ?, ?, "
                              "?, ?)",
                              rows, 8, BATCH_ROWS, &n, &failed),
              DBAL_OK);
    EXPECT_I64(n, BATCH_ROWS);
    dbal_rows *r = QUERY(f->s, "SELECT id, ts, tz, d, t, n, u, j FROM conf_types ORDER BY id", DBAL_NOARGS);
    check_rows(f, r, BATCH_ROWS, u, num);
    NEXT_DONE(r);
    close_rows(f, r);
}

typedef struct async_check {
    fixture *f;
    unsigned char (*u)[16];
    char (*num)[32];
    int done;
} async_check;

static void async_rows(void *ud, const dbal_async_result *res)
{
    async_check *c = ud;
    fixture *f = c->f;
    c->done = 1;
    CHECK(res->code == DBAL_OK, "the query failed: %s", res->error->message);
    check_rows(f, res->rows, 40, c->u, c->num);
}

/* The asynchronous API's rows (text rows on PostgreSQL) read the same. */
void types_async(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, "datetime");
    cap_need(CAP_VALUE_TYPES, "uuid");
    make_types_table(f);
    static unsigned char u[40][16];
    static char num[40][32];
    for (int i = 0; i < 40; i++) {
        dbal_value v[8];
        for (int col = 0; col < 8; col++)
            v[col] = row_value(i, col, u, num);
        EXEC_OK(f->s, "INSERT INTO conf_types(id, ts, tz, d, t, n, u, j) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                dbal_params_array(v, 8));
    }
    dbal_async *a;
    dbal_async_session *as;
    dbal_error err;
    assert_int_equal(dbal_async_open(f->engine, &a, &err), DBAL_OK);
    assert_int_equal(dbal_async_session_open(a, &as, &err), DBAL_OK);
    async_check c = {f, u, num, 0};
    assert_int_equal(dbal_async_query(as, "SELECT id, ts, tz, d, t, n, u, j FROM conf_types ORDER BY id",
                                      DBAL_NOARGS, async_rows, &c, NULL),
                     DBAL_OK);
    for (int spins = 0; !c.done && spins < 10000; spins++) {
        struct pollfd p = {dbal_async_fd(a), POLLIN, 0};
        poll(&p, 1, 100);
        dbal_async_process(a);
    }
    CHECK(c.done, "the query never completed");
    dbal_async_session_close(as);
    dbal_async_close(a);
}

/* A driver that does not take a type refuses it before anything is sent. */
void types_refused(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_VALUE_TYPES, NULL);
    if (cap_is(CAP_VALUE_TYPES, "datetime") && cap_is(CAP_VALUE_TYPES, "numeric") &&
        cap_is(CAP_VALUE_TYPES, "uuid") && cap_is(CAP_VALUE_TYPES, "json"))
        skip();
    static const unsigned char u[16] = {1};
    const struct {
        const char *word;
        dbal_value v;
    } vals[] = {{"datetime", dbal_timestamptz(0)},
                {"datetime", dbal_date(0)},
                {"numeric", dbal_numeric("1")},
                {"uuid", dbal_uuid(u)},
                {"json", dbal_json("1")}};
    for (size_t k = 0; k < sizeof vals / sizeof *vals; k++) {
        if (cap_is(CAP_VALUE_TYPES, vals[k].word))
            continue;
        dbal_rows *r = NULL;
        EXPECT_RC(f->s, dbal_query(f->s, "SELECT ? AS v", DBAL_ARGS(vals[k].v), &r), DBAL_EUNSUPPORTED);
        CHECK(r == NULL, "a cursor came back");
    }
}
