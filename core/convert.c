#include "convert.h"

#include "alloc.h"

#include <dbal.h>
#include <errno.h>
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
    for (size_t k = i; k < len; k++)
        if (s[k] < '0' || s[k] > '9')
            return DBAL_ETYPE;
    /* Accumulate as a negative number: INT64_MIN has no positive twin. */
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return DBAL_ETYPE;
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

int dbal__parse_double(const char *s, size_t len, double *out)
{
    char small[64], *buf = small;
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
    } words[] = {{"t", 1},   {"true", 1}, {"y", 1},  {"yes", 1},   {"on", 1},  {"1", 1},
                 {"f", 0},   {"false", 0}, {"n", 0}, {"no", 0},    {"off", 0}, {"0", 0}};
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
    for (int prec = fabs(d) < 2.2250738585072014e-308 ? 1 : 15; prec <= 17; prec++) {
        n = snprintf(buf, DBAL__NUMBUF, "%.*g", prec, d);
        if (strtod_l(buf, NULL, numeric_locale()) == d)
            break;
    }
    uselocale(old);
    return (size_t)n;
}

size_t dbal__format_int64(int64_t i, char buf[DBAL__NUMBUF])
{
    return (size_t)snprintf(buf, DBAL__NUMBUF, "%lld", (long long)i);
}
