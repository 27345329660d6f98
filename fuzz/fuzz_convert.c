/*
 * fuzz_convert: the value conversions every driver shares
 * (dbal__parse_int64, parse_double, parse_bool, double_to_int64,
 * format_double, format_int64), each against a reference.
 *
 *   - parse_int64 agrees with strtoll on [+-]?[0-9]+ (value, or ERANGE when
 *     strtoll overflows) and refuses everything else with ETYPE;
 *   - parse_double, when it accepts, gives exactly strtod's value in the C
 *     locale; a plain decimal number shorter than 64 bytes is accepted;
 *   - parse_bool accepts exactly the documented words, in any case;
 *   - format_double then parse_double gives the same double, bit for bit,
 *     for every finite value (and "NaN", "Infinity", "-Infinity" otherwise);
 *   - double_to_int64 converts exactly the integral doubles in int64's range;
 *   - format_int64 then parse_int64 round-trips;
 *   - date/time text (util/datetime.c): whatever parses as a timestamp is
 *     written and read back as the same microseconds, and so is any int64
 *     written as a timestamp; a date's text reads back as its day number;
 *     a UUID's text as its bytes;
 *   - numeric text (util/decimal.c): an exact int64 reads back from its own
 *     decimal text, and a double written at a scale is numeric text.
 *
 * DBAL_FUZZ_STRICT=1 in the environment adds checks of behaviour that the
 * README promises but the library is known not to give yet (see
 * fuzz/regressions.c): long numeric text, hexadecimal and "nan(...)" text,
 * shortest output of format_double.
 */
#include "convert.h"
#include "datetime.h"
#include "decimal.h"
#include "fuzz_target.h"
#include "dbal.h"

#include <ctype.h>
#include <locale.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "fuzz_convert: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

static int strict = -1;
static locale_t c_loc;

static void init(void)
{
    if (strict < 0) {
        const char *s = getenv("DBAL_FUZZ_STRICT");
        strict = s && *s && strcmp(s, "0") != 0;
        c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    }
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int int_grammar(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i == n)
        return 0;
    for (; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

/* [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)? */
static int decimal_grammar(const char *s, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && is_digit(s[i]))
        i++, d++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, d++;
    }
    if (d == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = 0;
        while (i < n && is_digit(s[i]))
            i++, e++;
        if (e == 0)
            return 0;
    }
    return i == n;
}

/* [+-]? (inf | infinity | nan), any case: what PostgreSQL's float8in takes. */
static int special_grammar(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    static const char *const words[] = {"inf", "infinity", "nan"};
    for (size_t k = 0; k < 3; k++)
        if (n - i == strlen(words[k]) && strncasecmp(s + i, words[k], n - i) == 0)
            return 1;
    return 0;
}

static void check_int64(const char *s, size_t n)
{
    int64_t v = 77;
    int rc = dbal__parse_int64(s, n, &v);
    if (!int_grammar(s, n)) {
        CHECK(v == 77);
        if (rc == DBAL_ERANGE && !strict) {
            /* Known (fuzz/regressions.c): text that starts with an integer
             * too large for int64 is ERANGE even when a non-digit follows. */
            size_t i = (n && (s[0] == '+' || s[0] == '-')) ? 1 : 0, d = 0;
            while (i < n && is_digit(s[i]))
                i++, d++;
            CHECK(d >= 19);
            return;
        }
        CHECK(rc == DBAL_ETYPE);
        return;
    }
    char *z = strndup(s, n);
    CHECK(z);
    errno = 0;
    char *end;
    long long ref = strtoll(z, &end, 10);
    CHECK(*end == '\0');
    if (errno == ERANGE) {
        CHECK(rc == DBAL_ERANGE);
    } else {
        CHECK(rc == DBAL_OK && v == ref);
    }
    free(z);
}

static void check_double(const char *s, size_t n)
{
    double d = 77;
    int rc = dbal__parse_double(s, n, &d);
    CHECK(rc == DBAL_OK || rc == DBAL_ETYPE || rc == DBAL_ERANGE);
    int plain = decimal_grammar(s, n), special = special_grammar(s, n);
    if (rc == DBAL_OK || rc == DBAL_ERANGE) {
        CHECK(memchr(s, '\0', n) == NULL);
        if (strict)
            CHECK(plain || special); /* no hex, no "nan(...)" */
    }
    if (rc != DBAL_OK && rc != DBAL_ERANGE) {
        CHECK(d == 77);
        if (special)
            CHECK(!"inf/infinity/nan refused");
        if (plain && (n < 64 || strict))
            CHECK(!"a plain decimal number refused");
        return;
    }
    char *z = strndup(s, n);
    CHECK(z);
    if (rc == DBAL_ERANGE) {
        errno = 0;
        double r = strtod_l(z, NULL, c_loc);
        CHECK(errno == ERANGE && isinf(r));
        free(z);
        return;
    }
    double ref = strtod_l(z, NULL, c_loc);
    if (isnan(ref))
        CHECK(isnan(d));
    else
        CHECK(memcmp(&ref, &d, sizeof d) == 0);
    free(z);
}

static void check_bool(const char *s, size_t n)
{
    static const char *const yes[] = {"t", "true", "y", "yes", "on", "1"};
    static const char *const no[] = {"f", "false", "n", "no", "off", "0"};
    int want = -1;
    for (size_t k = 0; k < 6; k++) {
        if (strlen(yes[k]) == n && strncasecmp(s, yes[k], n) == 0 && !memchr(s, '\0', n))
            want = 1;
        if (strlen(no[k]) == n && strncasecmp(s, no[k], n) == 0 && !memchr(s, '\0', n))
            want = 0;
    }
    int b = 77;
    int rc = dbal__parse_bool(s, n, &b);
    if (want < 0)
        CHECK(rc == DBAL_ETYPE && b == 77);
    else
        CHECK(rc == DBAL_OK && b == want);
}

/* Significant decimal digits of a %g-style number: from the first non-zero
 * digit of the mantissa to its last non-zero digit. */
static int sig_digits(const char *buf)
{
    char digits[64];
    int n = 0;
    for (const char *p = buf; *p && *p != 'e' && *p != 'E' && n < 63; p++)
        if (is_digit(*p))
            digits[n++] = *p;
    int first = 0, last = n - 1;
    while (first < n && digits[first] == '0')
        first++;
    while (last >= first && digits[last] == '0')
        last--;
    return last - first + 1;
}

static void check_format_double(double d)
{
    char buf[DBAL__NUMBUF + 8];
    memset(buf, 'Z', sizeof buf);
    size_t n = dbal__format_double(d, buf);
    CHECK(n < DBAL__NUMBUF && buf[n] == '\0' && strlen(buf) == n);
    for (size_t i = DBAL__NUMBUF; i < sizeof buf; i++)
        CHECK(buf[i] == 'Z');
    if (isnan(d)) {
        CHECK(strcmp(buf, "NaN") == 0);
    } else if (isinf(d)) {
        CHECK(strcmp(buf, d < 0 ? "-Infinity" : "Infinity") == 0);
    }
    double back = 0;
    CHECK(dbal__parse_double(buf, n, &back) == DBAL_OK);
    if (isnan(d))
        CHECK(isnan(back));
    else
        CHECK(memcmp(&back, &d, sizeof d) == 0); /* exact, -0 included */
    if (strict && isfinite(d) && d != 0) {
        /* the shortest text that reads back as d */
        int shortest = 17;
        for (int k = 1; k <= 17; k++) {
            char t[64];
            snprintf(t, sizeof t, "%.*g", k, d);
            if (strtod_l(t, NULL, c_loc) == d) {
                shortest = k;
                break;
            }
        }
        if (sig_digits(buf) > shortest) {
            fprintf(stderr, "fuzz_convert: format_double(%a) = %s, not the shortest (%d digits)\n", d, buf,
                    shortest);
            abort();
        }
    }
}

static void check_double_to_int64(double d)
{
    int64_t v = 77;
    int rc = dbal__double_to_int64(d, &v);
    if (!isfinite(d) || d != floor(d)) {
        CHECK(rc == DBAL_ETYPE && v == 77);
    } else if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        CHECK(rc == DBAL_OK && (double)v == d);
    } else {
        CHECK(rc == DBAL_ERANGE && v == 77);
    }
}

static void check_format_int64(int64_t i)
{
    char buf[DBAL__NUMBUF];
    size_t n = dbal__format_int64(i, buf);
    CHECK(n < DBAL__NUMBUF && strlen(buf) == n);
    int64_t back = 0;
    CHECK(dbal__parse_int64(buf, n, &back) == DBAL_OK && back == i);
}

static void check_datetime(const char *s, size_t n)
{
    dbal__dt dt;
    int64_t us, again;
    char buf[DBAL__DT_BUF];
    if (dbal__parse_dt(s, n, &dt) == DBAL_OK && dbal__dt_timestamp(&dt, &us) == DBAL_OK) {
        size_t len = dbal__format_timestamp(us, true, buf);
        CHECK(dbal__parse_dt(buf, len, &dt) == DBAL_OK && dbal__dt_timestamp(&dt, &again) == DBAL_OK);
        CHECK(again == us);
    }
    unsigned char u[16], u2[16];
    if (dbal__parse_uuid(s, n, u) == DBAL_OK) {
        dbal__format_uuid(u, buf);
        CHECK(dbal__parse_uuid(buf, 36, u2) == DBAL_OK && memcmp(u, u2, 16) == 0);
    }
    int64_t i;
    dbal__num num;
    if (dbal__num_to_int64(s, n, &i) == DBAL_OK)
        CHECK(dbal__num_scan(s, n, &num) == DBAL_OK && num.kind == DBAL__NUM_FINITE && num.low >= 0);
}

/* An int64 as a timestamp and as a date, written and read back. */
static void check_datetime_of(int64_t v, double d)
{
    char buf[DBAL__DT_BUF], num[400];
    dbal__dt dt;
    int64_t back;
    size_t len = dbal__format_timestamp(v, false, buf);
    CHECK(dbal__parse_dt(buf, len, &dt) == DBAL_OK && dbal__dt_timestamp(&dt, &back) == DBAL_OK && back == v);
    int64_t days = v / 1000; /* a wide range of day numbers, past seven-digit years too */
    len = dbal__format_date(days, buf);
    if (dbal__parse_dt(buf, len, &dt) == DBAL_OK)
        CHECK(dbal__dt_date(&dt, &back) == DBAL_OK && back == days);
    int scale = (int)((uint64_t)v % 12) - 1;
    size_t n = dbal__num_from_double(d, scale, num, sizeof num);
    dbal__num parsed;
    CHECK(n > 0 && n == strlen(num) && dbal__num_scan(num, n, &parsed) == DBAL_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    /* An exact-size copy, so that ASan sees any read past len. */
    char *s = malloc(size ? size : 1);
    CHECK(s);
    memcpy(s, data, size);
    check_int64(s, size);
    check_double(s, size);
    check_bool(s, size);
    if (size >= 8) {
        double d;
        int64_t i;
        memcpy(&d, data, 8);
        memcpy(&i, data, 8);
        check_format_double(d);
        check_double_to_int64(d);
        check_format_int64(i);
        check_datetime_of(i, d);
    }
    check_datetime(s, size);
    /* Text the fuzzer can reach through a number: format, then parse. */
    if (size >= 8) {
        double d;
        memcpy(&d, data + size - 8, 8);
        check_format_double(d);
    }
    free(s);
    return 0;
}
