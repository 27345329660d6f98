#include "convert.h"

#include "alloc.h"

#include <dbal.h>
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Numbers go to and from text in the C locale whatever the application set
 * with setlocale(): a German locale must not turn 1.5 into "1,5". */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static locale_t numeric_locale(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale;
}

int dbal__parse_int64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return DBAL_ETYPE;
    /* Up to 18 digits cannot overflow: no check per digit. */
    if (len - i <= 18) {
        int64_t v = 0;
        for (; i < len; i++) {
            unsigned d = (unsigned)(unsigned char)s[i] - '0';
            if (d > 9)
                return DBAL_ETYPE;
            v = v * 10 + (int64_t)d;
        }
        *out = neg ? -v : v;
        return DBAL_OK;
    }
    for (size_t k = i; k < len; k++)
        if (s[k] < '0' || s[k] > '9')
            return DBAL_ETYPE;
    /* Accumulate as a negative number: INT64_MIN has no positive twin. */
    int64_t v = 0;
    for (; i < len; i++) {
        int d = s[i] - '0';
        if (v < (INT64_MIN + d) / 10)
            return DBAL_ERANGE;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return DBAL_ERANGE;
        v = -v;
    }
    *out = v;
    return DBAL_OK;
}

/* Clinger's fast path: a decimal of at most 15 digits is an exact double,
 * and so is a power of ten up to 1e22, so one multiplication or division
 * rounds the same way strtod does. Only with plain double arithmetic (no
 * x87 excess precision, which would round twice). Returns 0 when the text
 * is not that simple and strtod must decide. */
static int fast_double(const char *s, size_t len, double *out)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+'))
        neg = s[i++] == '-';
    uint64_t m = 0;
    int digits = 0, frac = 0, exp = 0;
    for (; i < len && (unsigned)(unsigned char)s[i] - '0' <= 9; i++, digits++)
        m = m * 10 + (uint64_t)(s[i] - '0');
    if (i < len && s[i] == '.') {
        for (i++; i < len && (unsigned)(unsigned char)s[i] - '0' <= 9; i++, digits++, frac++)
            m = m * 10 + (uint64_t)(s[i] - '0');
    }
    if (digits == 0 || digits > 15)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0, edigits = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        for (; i < len && (unsigned)(unsigned char)s[i] - '0' <= 9 && edigits < 4; i++, edigits++)
            exp = exp * 10 + (s[i] - '0');
        if (edigits == 0)
            return 0;
        if (eneg)
            exp = -exp;
    }
    if (i != len)
        return 0;
    exp -= frac;
    if (exp < -22 || exp > 22)
        return 0;
    double d = (double)m;
    d = exp < 0 ? d / pow10[-exp] : d * pow10[exp];
    *out = neg ? -d : d;
    return 1;
#else
    (void)s;
    (void)len;
    (void)out;
    return 0;
#endif
}

int dbal__parse_double(const char *s, size_t len, double *out)
{
    char small[64], *buf = small;
    if (fast_double(s, len, out))
        return DBAL_OK;
    if (len == 0 || s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
        return DBAL_ETYPE;
    /* Only decimal digits, sign, point, exponent, or a word: no hex floats,
     * no "nan(...)". */
    size_t i = s[0] == '+' || s[0] == '-';
    if (i < len && (s[i] < '0' || s[i] > '9') && s[i] != '.') {
        static const char *const words[] = {"inf", "infinity", "nan"};
        int ok = 0;
        for (size_t k = 0; k < 3; k++)
            ok |= len - i == strlen(words[k]) && strncasecmp(s + i, words[k], len - i) == 0;
        if (!ok)
            return DBAL_ETYPE;
    } else {
        for (size_t k = i; k < len; k++)
            if (!strchr("0123456789.eE+-", s[k]) || s[k] == '\0')
                return DBAL_ETYPE;
    }
    if (len >= sizeof small && !(buf = dbal__malloc(len + 1)))
        return DBAL_ENOMEM;
    memcpy(buf, s, len); /* strtod needs a terminator; s may not have one */
    buf[len] = '\0';
    char *end;
    errno = 0;
    double d = strtod_l(buf, &end, numeric_locale());
    int rc = DBAL_OK;
    if (end != buf + len)
        rc = DBAL_ETYPE;
    else if (errno == ERANGE && isinf(d))
        rc = DBAL_ERANGE;
    if (buf != small)
        dbal__free(buf);
    if (rc == DBAL_OK)
        *out = d;
    return rc;
}

int dbal__parse_bool(const char *s, size_t len, int *out)
{
    static const struct {
        const char *word;
        int value;
    } words[] = {{"t", 1}, {"true", 1},  {"y", 1}, {"yes", 1}, {"on", 1},  {"1", 1},
                 {"f", 0}, {"false", 0}, {"n", 0}, {"no", 0},  {"off", 0}, {"0", 0}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strlen(words[i].word) == len && strncasecmp(s, words[i].word, len) == 0) {
            *out = words[i].value;
            return DBAL_OK;
        }
    }
    return DBAL_ETYPE;
}

int dbal__double_to_int64(double d, int64_t *out)
{
    if (!isfinite(d) || d != floor(d))
        return DBAL_ETYPE;
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return DBAL_ERANGE;
    *out = (int64_t)d;
    return DBAL_OK;
}

size_t dbal__format_double(double d, char buf[DBAL__NUMBUF])
{
    if (isnan(d))
        return (size_t)snprintf(buf, DBAL__NUMBUF, "NaN");
    if (isinf(d))
        return (size_t)snprintf(buf, DBAL__NUMBUF, d < 0 ? "-Infinity" : "Infinity");
    locale_t old = uselocale(numeric_locale());
    int n = 0;
    /* Subnormals have fewer than 15 significant digits: start lower. */
    int prec = fabs(d) < 2.2250738585072014e-308 ? 1 : 15;
    for (; prec <= 17; prec++) {
        n = snprintf(buf, DBAL__NUMBUF, "%.*g", prec, d);
        if (strtod_l(buf, NULL, numeric_locale()) == d)
            break;
    }
    /* PostgreSQL's float8out writes 1e15 and above in exponent form
     * whatever the digits; %g keeps fixed form up to the precision. */
    if (prec > 15 && fabs(d) >= 1e15 && !strchr(buf, 'e'))
        n = snprintf(buf, DBAL__NUMBUF, "%.*e", prec - 1, d);
    uselocale(old);
    return (size_t)n;
}

size_t dbal__format_int64(int64_t i, char buf[DBAL__NUMBUF])
{
    return (size_t)snprintf(buf, DBAL__NUMBUF, "%lld", (long long)i);
}
