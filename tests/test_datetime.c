/* The calendar arithmetic and text forms of util/datetime.c and
 * util/decimal.c, with no database: every day of PostgreSQL's whole date
 * range and more, leap years, the text forms both ways, UUIDs, exact
 * decimals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "datetime.h"
#include "decimal.h"

#include <dbal.h>
#include <locale.h>
#include <math.h>
#include <string.h>

/* Every day from 4714 BC (year -4713) to 294277, stepped by hand: the
 * day numbers and the dates agree both ways, with no gap. */
static void test_every_day(void **state)
{
    (void)state;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t y = -4713;
    int m = 1, d = 1;
    int64_t z = dbal__days_from_civil(y, m, d);
    for (; y <= 294277; z++) {
        int64_t yy;
        int mm, dd;
        dbal__civil_from_days(z, &yy, &mm, &dd);
        if (yy != y || mm != m || dd != d || dbal__days_from_civil(y, m, d) != z)
            fail_msg("day %lld: %lld-%d-%d, expected %lld-%d-%d", (long long)z, (long long)yy, mm, dd,
                     (long long)y, m, d);
        int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        if (++d > mdays[m - 1] + (m == 2 && leap)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
}

static void test_leap_years_and_epoch(void **state)
{
    (void)state;
    assert_int_equal(dbal__days_from_civil(1970, 1, 1), 0);
    assert_int_equal(dbal__days_from_civil(2000, 1, 1), 10957);
    assert_true(dbal__valid_ymd(2000, 2, 29));
    assert_true(dbal__valid_ymd(2400, 2, 29));
    assert_true(dbal__valid_ymd(2024, 2, 29));
    assert_true(dbal__valid_ymd(0, 2, 29)); /* 1 BC was a leap year */
    assert_false(dbal__valid_ymd(1900, 2, 29));
    assert_false(dbal__valid_ymd(2100, 2, 29));
    assert_false(dbal__valid_ymd(2023, 2, 29));
    assert_false(dbal__valid_ymd(2023, 4, 31));
    assert_false(dbal__valid_ymd(2023, 13, 1));
    assert_int_equal(dbal__days_from_civil(2000, 3, 1) - dbal__days_from_civil(2000, 2, 28), 2);
    assert_int_equal(dbal__days_from_civil(1900, 3, 1) - dbal__days_from_civil(1900, 2, 28), 1);
    int64_t days, tod;
    dbal__split_timestamp(-1, &days, &tod);
    assert_int_equal(days, -1);
    assert_int_equal(tod, DBAL__US_PER_DAY - 1);
}

static void check_format(size_t (*fn)(int64_t, char *), int64_t v, const char *want)
{
    char buf[DBAL__DT_BUF];
    size_t n = fn(v, buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static size_t ts(int64_t us, char *buf)
{
    return dbal__format_timestamp(us, false, buf);
}

static size_t tstz(int64_t us, char *buf)
{
    return dbal__format_timestamp(us, true, buf);
}

static void test_format(void **state)
{
    (void)state;
    check_format(ts, 0, "1970-01-01 00:00:00.000000");
    check_format(tstz, 0, "1970-01-01 00:00:00.000000+00:00");
    check_format(ts, -1, "1969-12-31 23:59:59.999999");
    check_format(ts, INT64_MAX, "infinity");
    check_format(tstz, INT64_MIN, "-infinity");
    check_format(ts, INT64_MAX - 1, "294247-01-10 04:00:54.775806");
    check_format(dbal__format_date, dbal__days_from_civil(0, 1, 1), "0000-01-01");
    check_format(dbal__format_date, dbal__days_from_civil(-44, 3, 15), "-0044-03-15");
    check_format(dbal__format_date, dbal__days_from_civil(5874897, 12, 31), "5874897-12-31");
    check_format(dbal__format_date, INT64_MIN, "-infinity");
    check_format(dbal__format_time, 0, "00:00:00.000000");
    check_format(dbal__format_time, DBAL__US_PER_DAY, "24:00:00.000000");
    check_format(dbal__format_time, 45296789012, "12:34:56.789012");
    check_format(dbal__format_time, -1, "");
}

static int64_t parse_ts(const char *s)
{
    dbal__dt dt;
    int64_t us = 42;
    assert_int_equal(dbal__parse_dt(s, strlen(s), &dt), DBAL_OK);
    assert_int_equal(dbal__dt_timestamp(&dt, &us), DBAL_OK);
    return us;
}

static int parse_rc(const char *s)
{
    dbal__dt dt;
    return dbal__parse_dt(s, strlen(s), &dt);
}

static void test_parse(void **state)
{
    (void)state;
    assert_int_equal(parse_ts("1970-01-01 00:00:00.000000"), 0);
    assert_int_equal(parse_ts("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ts("1970-01-01"), 0);
    assert_int_equal(parse_ts("1970-01-01 01:00:00+01"), 0);
    assert_int_equal(parse_ts("1970-01-01 01:00:00+01:00"), 0);
    assert_int_equal(parse_ts("1970-01-01 01:00:00 +0100"), 0);
    assert_int_equal(parse_ts("1969-12-31 20:30:00-03:30"), 0);
    assert_int_equal(parse_ts("1970-01-01 00:00:00.5"), 500000);
    assert_int_equal(parse_ts("1970-01-01 00:00:00.000001"), 1);
    assert_int_equal(parse_ts("1970-01-01 00:00"), 0);
    assert_int_equal(parse_ts("1969-12-31 24:00:00"), 0);
    assert_int_equal(parse_ts("infinity"), INT64_MAX);
    assert_int_equal(parse_ts("-Infinity"), INT64_MIN);
    /* PostgreSQL's BC suffix and an LMT offset with seconds. */
    assert_int_equal(parse_ts("0044-03-15 12:00:00+00 BC"),
                     dbal__days_from_civil(-43, 3, 15) * DBAL__US_PER_DAY + INT64_C(43200000000));
    assert_int_equal(parse_ts("1900-01-01 00:53:28+00:53:28"),
                     dbal__days_from_civil(1900, 1, 1) * DBAL__US_PER_DAY);
    assert_int_equal(parse_ts("10000-01-01 00:00:00"), dbal__days_from_civil(10000, 1, 1) * DBAL__US_PER_DAY);
    assert_int_equal(parse_ts("0044-03-15 BC"), dbal__days_from_civil(-43, 3, 15) * DBAL__US_PER_DAY);
    assert_int_equal(parse_ts("4714-11-24 00:00:00+00 BC"),
                     dbal__days_from_civil(-4713, 11, 24) * DBAL__US_PER_DAY);
    /* A BC leap day is checked in its own year: 5 BC (-4) is a leap year. */
    assert_int_equal(parse_ts("0005-02-29 BC"), dbal__days_from_civil(-4, 2, 29) * DBAL__US_PER_DAY);
    dbal__dt dt;
    assert_int_equal(dbal__parse_dt("12:34:56.789", 12, &dt), DBAL_OK);
    assert_true(dt.has_time && !dt.has_date);
    assert_int_equal(dt.tod, 45296789000);
    int64_t us;
    assert_int_equal(dbal__dt_timestamp(&dt, &us), DBAL_ETYPE);
    const char *bad[] = {"",
                         "2024-02-30",
                         "2023-02-29 00:00:00",
                         "2024-01-01 25:00:00",
                         "2024-01-01 24:00:01",
                         "2024-01-01 12:60:00",
                         "2024-01-01 12:00:60",
                         "2024-01-01 12:00:00.1234567",
                         "2024-01-01 12:00:00.",
                         "2024-1-01",
                         "24-01-01",
                         "2024-01-01x",
                         "2024-01-01 12:00:00+16",
                         "0000-01-01 BC",
                         "0004-02-29 BC",
                         "-0005-01-01 BC",
                         "infinityx",
                         " 2024-01-01",
                         "12:00:"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (parse_rc(bad[i]) == DBAL_OK)
            fail_msg("'%s' parsed", bad[i]);
    assert_int_equal(parse_rc("12345678-01-01"), DBAL_ERANGE);
    assert_int_equal(dbal__parse_dt("5874897-12-31", 13, &dt), DBAL_OK);
    assert_int_equal(dbal__dt_timestamp(&dt, &us), DBAL_ERANGE);
}

/* Text written reads back as the same value, for a dense sample of the
 * int64 range and the values at its edges. */
static void test_round_trip(void **state)
{
    (void)state;
    const int64_t edges[] = {0, 1, -1, INT64_MAX - 1, INT64_MIN + 1, 951782400000000 /* 2000-02-29 */};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        char buf[DBAL__DT_BUF];
        dbal__format_timestamp(edges[i], true, buf);
        assert_int_equal(parse_ts(buf), edges[i]);
    }
    for (int64_t us = INT64_MIN + 1; us < INT64_MAX - INT64_C(1000003) * 1000003 * 9000;
         us += INT64_C(1000003) * 1000003 * 79) {
        char buf[DBAL__DT_BUF];
        dbal__format_timestamp(us, false, buf);
        if (parse_ts(buf) != us)
            fail_msg("%lld -> %s", (long long)us, buf);
    }
}

static void test_uuid(void **state)
{
    (void)state;
    const unsigned char u[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                                 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
    char buf[37];
    assert_int_equal(dbal__format_uuid(u, buf), 36);
    assert_string_equal(buf, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    const char *good[] = {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
                          "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11",
                          "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        unsigned char out[16];
        assert_int_equal(dbal__parse_uuid(good[i], strlen(good[i]), out), DBAL_OK);
        assert_memory_equal(out, u, 16);
    }
    const char *bad[] = {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",   "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
                         "-a0eebc999c0b4ef8bb6d6bb9bd380a11",     "a0eebc999c0b4ef8bb6d6bb9bd380a11-",
                         "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                         "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        unsigned char out[16];
        if (dbal__parse_uuid(bad[i], strlen(bad[i]), out) == DBAL_OK)
            fail_msg("'%s' parsed", bad[i]);
    }
}

static void check_num(const char *s, dbal__num_kind kind, long nsig, long low)
{
    dbal__num n;
    assert_int_equal(dbal__num_scan(s, strlen(s), &n), DBAL_OK);
    assert_int_equal(n.kind, kind);
    assert_int_equal(n.nsig, nsig);
    assert_int_equal(n.low, low);
}

static int64_t num_int(const char *s, int want_rc)
{
    int64_t v = -42;
    assert_int_equal(dbal__num_to_int64(s, strlen(s), &v), want_rc);
    return v;
}

static void test_decimal_text(void **state)
{
    (void)state;
    check_num("19.90", DBAL__NUM_FINITE, 3, -1);
    check_num("-0.000", DBAL__NUM_FINITE, 0, 0);
    check_num("1000", DBAL__NUM_FINITE, 1, 3);
    check_num("1.5e3", DBAL__NUM_FINITE, 2, 2);
    check_num(".5", DBAL__NUM_FINITE, 1, -1);
    check_num("5.", DBAL__NUM_FINITE, 1, 0);
    check_num("NaN", DBAL__NUM_NAN, 0, 0);
    check_num("-Infinity", DBAL__NUM_NEG_INF, 0, 0);
    check_num("+inf", DBAL__NUM_INF, 0, 0);
    check_num("0.1234567890123456789", DBAL__NUM_FINITE, 19, -19);
    const char *bad[] = {"",          "-",  ".",  "1..2", "1.2.3", "1e", "1e+",
                         "1e1234567", " 1", "1 ", "0x10", "--1",   "1,5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dbal__num n;
        if (dbal__num_scan(bad[i], strlen(bad[i]), &n) == DBAL_OK)
            fail_msg("'%s' scanned", bad[i]);
    }
    assert_int_equal(num_int("19.00", DBAL_OK), 19);
    assert_int_equal(num_int("-9223372036854775808", DBAL_OK), INT64_MIN);
    assert_int_equal(num_int("9223372036854775807.000", DBAL_OK), INT64_MAX);
    assert_int_equal(num_int("1.5e3", DBAL_OK), 1500);
    assert_int_equal(num_int("0", DBAL_OK), 0);
    assert_int_equal(num_int("000012", DBAL_OK), 12);
    num_int("9223372036854775808", DBAL_ERANGE);
    num_int("1e19", DBAL_ERANGE);
    num_int("19.5", DBAL_ETYPE);
    num_int("NaN", DBAL_ETYPE);
    num_int("abc", DBAL_ETYPE);
}

static void check_from_double(double d, int scale, const char *want)
{
    char buf[400];
    size_t n = dbal__num_from_double(d, scale, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_decimal_from_double(void **state)
{
    (void)state;
    check_from_double(19.9, 2, "19.90");
    check_from_double(19.9, -1, "19.9");
    check_from_double(19, 2, "19.00");
    check_from_double(0.1 + 0.2, -1, "0.3");
    check_from_double(0.125, 2, "0.13"); /* half away from zero, as numeric rounds */
    check_from_double(-0.125, 2, "-0.13");
    check_from_double(-0.001, 2, "0.00");
    check_from_double(9.999, 2, "10.00");
    check_from_double(0, 0, "0");
    check_from_double(-0.0, -1, "0");
    check_from_double(1e21, -1, "1000000000000000000000");
    check_from_double(0.001, -1, "0.001");
    check_from_double(123456789012345.0, 1, "123456789012345.0");
    check_from_double(NAN, 2, "NaN");
    check_from_double(-INFINITY, 2, "-Infinity");
    char small[4];
    assert_int_equal(dbal__num_from_double(19.9, 2, small, sizeof small), 0);
    /* The decimal point of the C locale is not the one written. */
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
        check_from_double(19.9, 2, "19.90");
        setlocale(LC_NUMERIC, "C");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_day),    cmocka_unit_test(test_leap_years_and_epoch),
        cmocka_unit_test(test_format),       cmocka_unit_test(test_parse),
        cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_decimal_text), cmocka_unit_test(test_decimal_from_double),
    };
    return cmocka_run_group_tests_name("datetime", tests, NULL, NULL);
}
