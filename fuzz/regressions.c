/*
 * Unit tests of what fuzzing (fuzz/fuzz_convert.c, DBAL_FUZZ_STRICT=1) found
 * in the value conversions, and of the boundaries around them. Each failing
 * case names the promise it checks (README "Values and conversions",
 * core/convert.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "convert.h"
#include "dbal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int parse_double(const char *s, double *d)
{
    return dbal__parse_double(s, strlen(s), d);
}

/* Boundaries that hold today; kept so that a fix elsewhere cannot move them. */
static void conversions_boundaries(void **state)
{
    (void)state;
    int64_t i = 0;
    assert_int_equal(dbal__parse_int64("9223372036854775807", 19, &i), DBAL_OK);
    assert_true(i == INT64_MAX);
    assert_int_equal(dbal__parse_int64("-9223372036854775808", 20, &i), DBAL_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(dbal__parse_int64("9223372036854775808", 19, &i), DBAL_ERANGE);
    assert_int_equal(dbal__parse_int64("-9223372036854775809", 20, &i), DBAL_ERANGE);
    assert_int_equal(dbal__parse_int64("", 0, &i), DBAL_ETYPE);
    assert_int_equal(dbal__parse_int64("-", 1, &i), DBAL_ETYPE);
    assert_int_equal(dbal__parse_int64("42.0", 4, &i), DBAL_ETYPE);
    assert_int_equal(dbal__parse_int64("1\0", 2, &i), DBAL_ETYPE);
    double d = 0;
    assert_int_equal(parse_double("1e308", &d), DBAL_OK);
    assert_int_equal(parse_double("1e309", &d), DBAL_ERANGE);
    assert_int_equal(parse_double(" 1", &d), DBAL_ETYPE);
    assert_int_equal(parse_double("1 ", &d), DBAL_ETYPE);
    assert_int_equal(parse_double("0x10", &d), DBAL_ETYPE);
    assert_int_equal(parse_double("-Infinity", &d), DBAL_OK);
    assert_true(isinf(d) && d < 0);
    assert_int_equal(parse_double("4.9406564584124654e-324", &d), DBAL_OK);
    assert_true(d == 5e-324);
    char buf[DBAL__NUMBUF];
    assert_string_equal((dbal__format_double(0.1, buf), buf), "0.1");
    assert_string_equal((dbal__format_double(1e300, buf), buf), "1e+300");
    assert_string_equal((dbal__format_double(-0.0, buf), buf), "-0");
    assert_int_equal(dbal__double_to_int64(9223372036854775808.0, &i), DBAL_ERANGE);
    assert_int_equal(dbal__double_to_int64(-9223372036854775808.0, &i), DBAL_OK);
    assert_true(i == INT64_MIN);
}

/* convert.h: parse_int64 takes "optional sign and decimal digits, nothing
 * else"; anything else is DBAL_ETYPE ("not that kind of value"). Text that
 * merely starts with more than 19 digits is not an integer out of range. */
static void int64_non_integer_text_is_etype(void **state)
{
    (void)state;
    int64_t i = 0;
    static const char *const cases[] = {"99999999999999999999.5", "12345678901234567890abc",
                                        "-99999999999999999999e3", "100000000000000000000 "};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc = dbal__parse_int64(cases[k], strlen(cases[k]), &i);
        if (rc != DBAL_ETYPE)
            fail_msg("dbal__parse_int64(\"%s\") = %s, expected DBAL_ETYPE (not an integer)", cases[k],
                     dbal_code_name(rc));
    }
}

/* README: doubles from "numeric text"; PostgreSQL sends numeric values, of
 * any length, as text. A 64-byte limit makes 1e70 (71 characters) and
 * numeric(80,70) values unreadable as doubles. */
static void double_from_long_numeric_text(void **state)
{
    (void)state;
    char big[128];
    memset(big, '0', sizeof big);
    big[0] = '1';
    big[71] = '\0';
    double d = 0;
    int rc = parse_double(big, &d);
    if (rc != DBAL_OK || d != 1e70)
        fail_msg("dbal__parse_double(\"1\" followed by 70 zeros) = %s, expected DBAL_OK and 1e70",
                 dbal_code_name(rc));
    char frac[128] = "3.";
    memset(frac + 2, '1', 100);
    frac[102] = '\0';
    rc = parse_double(frac, &d);
    if (rc != DBAL_OK || fabs(d - 3.1111111111111111) > 1e-15)
        fail_msg("dbal__parse_double(\"3.111...\" of 102 characters) = %s, expected DBAL_OK",
                 dbal_code_name(rc));
}

/* The text forms PostgreSQL's float8in accepts are decimal numbers, Infinity
 * and NaN; hexadecimal floats are refused ("0x10" already is), with a sign
 * too, and so is C's "nan(...)". */
static void double_refuses_signed_hex_and_nan_payload(void **state)
{
    (void)state;
    static const char *const cases[] = {"-0x10", "+0x10", "-0X1p4", "+0x.8", "nan(123)", "-nan(0x7)"};
    double d = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc = parse_double(cases[k], &d);
        if (rc != DBAL_ETYPE)
            fail_msg("dbal__parse_double(\"%s\") = %s (%g), expected DBAL_ETYPE", cases[k],
                     dbal_code_name(rc), d);
    }
}

/* convert.h: format_double gives "the shortest text that reads back as d";
 * for subnormal doubles it gives 15 digits where fewer read back. */
static void format_double_is_shortest_for_subnormals(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *want;
    } cases[] = {{5e-324, "5e-324"}, {1e-320, "1e-320"}, {2.5e-322, "2.5e-322"}};
    char buf[DBAL__NUMBUF];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        dbal__format_double(cases[k].d, buf);
        if (strcmp(buf, cases[k].want) != 0)
            fail_msg("dbal__format_double(%a) = \"%s\", expected the shortest form \"%s\"", cases[k].d, buf,
                     cases[k].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conversions_boundaries),
        cmocka_unit_test(int64_non_integer_text_is_etype),
        cmocka_unit_test(double_from_long_numeric_text),
        cmocka_unit_test(double_refuses_signed_hex_and_nan_payload),
        cmocka_unit_test(format_double_is_shortest_for_subnormals),
    };
    return cmocka_run_group_tests_name("fuzz_regressions", tests, NULL, NULL);
}
