/* Exact decimal text (decimal.h). */
#include "decimal.h"

#include <dbal.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool word_is(const char *s, size_t len, const char *w)
{
    if (strlen(w) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]) != w[i])
            return false;
    return true;
}

/* NaN and the infinities; 0 when s is none of them. */
static int special(const char *s, size_t len, dbal__num *out)
{
    if (word_is(s, len, "nan")) {
        out->kind = DBAL__NUM_NAN;
        return 1;
    }
    bool neg = len && s[0] == '-';
    size_t i = len && (s[0] == '-' || s[0] == '+');
    if (word_is(s + i, len - i, "infinity") || word_is(s + i, len - i, "inf")) {
        out->kind = neg ? DBAL__NUM_NEG_INF : DBAL__NUM_INF;
        out->neg = neg;
        return 1;
    }
    return 0;
}

/* The exponent after 'e': at most six digits. */
static int exponent(const char *s, size_t len, size_t i, long *e)
{
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    size_t start = i;
    long v = 0;
    for (; i < len && is_digit(s[i]); i++) {
        if (i - start == 6)
            return DBAL_ETYPE;
        v = v * 10 + (s[i] - '0');
    }
    if (i == start || i != len)
        return DBAL_ETYPE;
    *e = neg ? -v : v;
    return DBAL_OK;
}

int dbal__num_scan(const char *s, size_t len, dbal__num *out)
{
    memset(out, 0, sizeof *out);
    if (special(s, len, out))
        return DBAL_OK;
    size_t i = 0;
    if (len && (s[0] == '+' || s[0] == '-'))
        out->neg = s[i++] == '-';
    /* Positions count from the point: the first integer digit of "123"
     * is at 2, the first decimal at -1. */
    size_t k = i;
    while (k < len && is_digit(s[k]))
        k++;
    long pos = (long)(k - i) - 1, high = 0, low = 0;
    bool point = false, seen = false;
    int ndigits = 0;
    for (; i < len; i++) {
        if (s[i] == '.' && !point) {
            point = true;
            continue;
        }
        if (!is_digit(s[i]))
            break;
        ndigits++;
        if (s[i] != '0') {
            if (!seen)
                high = pos;
            low = pos;
            seen = true;
        }
        pos--;
    }
    if (!ndigits)
        return DBAL_ETYPE;
    long e = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        if (exponent(s, len, i + 1, &e) != DBAL_OK)
            return DBAL_ETYPE;
    } else if (i != len) {
        return DBAL_ETYPE;
    }
    out->kind = DBAL__NUM_FINITE;
    out->nsig = seen ? high - low + 1 : 0;
    out->low = seen ? low + e : 0;
    if (!seen)
        out->neg = false;
    return DBAL_OK;
}

int dbal__num_to_int64(const char *s, size_t len, int64_t *out)
{
    dbal__num n;
    if (dbal__num_scan(s, len, &n) != DBAL_OK || n.kind != DBAL__NUM_FINITE || n.low < 0)
        return DBAL_ETYPE;
    if (n.nsig == 0) {
        *out = 0;
        return DBAL_OK;
    }
    if (n.nsig + n.low > 19)
        return DBAL_ERANGE;
    /* The significant digits, in order, then `low` zeros; accumulated as a
     * magnitude that may reach 2^63 (INT64_MIN's). */
    uint64_t v = 0;
    long taken = 0;
    for (size_t i = 0; i < len && taken < n.nsig; i++) {
        if (!is_digit(s[i]) || (taken == 0 && s[i] == '0'))
            continue;
        v = v * 10 + (uint64_t)(s[i] - '0');
        taken++;
        if (v > UINT64_C(9223372036854775808))
            return DBAL_ERANGE;
    }
    for (long z = 0; z < n.low; z++) {
        if (v > UINT64_C(922337203685477580))
            return DBAL_ERANGE;
        v *= 10;
    }
    if (v > (n.neg ? UINT64_C(9223372036854775808) : (uint64_t)INT64_MAX))
        return DBAL_ERANGE;
    *out = n.neg ? (int64_t)(0 - v) : (int64_t)v;
    return DBAL_OK;
}

/* d's 15 significant digits (trailing zeros dropped) into dig, the first
 * at power of ten *high; returns how many. printf's decimal point may be
 * any text in some locales: only the digits and the exponent are read. */
static int digits15(double d, char dig[17], long *high)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.14e", fabs(d));
    int n = 0;
    const char *p = tmp;
    dig[0] = '0';
    for (; *p && *p != 'e' && *p != 'E'; p++)
        if (is_digit(*p) && n < 15)
            dig[n++] = *p;
    long e = 0;
    if (*p)
        sscanf(p + 1, "%ld", &e);
    while (n > 1 && dig[n - 1] == '0')
        n--;
    *high = e;
    return dig[0] == '0' ? 0 : n;
}

/* Rounds the n digits (first at power high) to keep powers >= -scale,
 * half away from zero; returns the new count (0: zero). */
static int round_at(char dig[17], int n, long *high, int scale)
{
    long keep = *high + scale + 1; /* digits that stay */
    if (keep >= n)
        return n;
    if (keep < 0)
        return 0;
    bool up = dig[keep] >= '5';
    n = (int)keep;
    for (int i = n - 1; up && i >= 0; i--) {
        up = dig[i] == '9';
        dig[i] = up ? '0' : (char)(dig[i] + 1);
    }
    if (up) { /* 9.99 -> 10.0: one more digit in front */
        memmove(dig + 1, dig, (size_t)n);
        dig[0] = '1';
        n++;
        ++*high;
    }
    while (n > 0 && dig[n - 1] == '0')
        n--;
    return n;
}

/* The common case without printf: a value with at most `scale` decimals
 * (19.9 at scale 2), whose scaled value is within a rounding error of an
 * integer below 2^53. 0 when it is not that case. */
static size_t scaled_integer(double d, int scale, char *buf, size_t cap)
{
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (scale < 0 || scale > 9 || !(fabs(d) < 1e15))
        return 0;
    double x = d * pow10[scale], r = nearbyint(x);
    if (fabs(x - r) > 1e-7 * (fabs(r) > 1 ? fabs(r) : 1) || fabs(r) >= 9007199254740992.0)
        return 0;
    uint64_t v = (uint64_t)fabs(r);
    char tmp[40];
    int n = 0;
    for (int k = 0; k < scale || v || n <= scale; k++, v /= 10) {
        if (k == scale && scale > 0)
            tmp[n++] = '.';
        tmp[n++] = (char)('0' + v % 10);
    }
    int neg = r < 0;
    if ((size_t)n + (size_t)neg + 1 > cap)
        return 0;
    char *p = buf;
    if (neg)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    *p = '\0';
    return (size_t)(p - buf);
}

size_t dbal__num_from_double(double d, int scale, char *buf, size_t cap)
{
    size_t fast = scaled_integer(d, scale, buf, cap);
    if (fast)
        return fast;
    const char *word = isnan(d) ? "NaN" : isinf(d) ? (d < 0 ? "-Infinity" : "Infinity") : NULL;
    if (word) {
        size_t w = strlen(word);
        if (w + 1 > cap)
            return 0;
        memcpy(buf, word, w + 1);
        return w;
    }
    char dig[17];
    long high;
    int n = digits15(d, dig, &high);
    if (scale >= 0)
        n = round_at(dig, n, &high, scale);
    long low = n ? high - n + 1 : 0;
    long first = n && high > 0 ? high : 0;
    long last = scale >= 0 ? -scale : (low < 0 ? low : 0);
    size_t need = (size_t)(first - last + 4);
    if (need > cap)
        return 0;
    char *p = buf;
    if (n && d < 0)
        *p++ = '-';
    for (long pos = first; pos >= last; pos--) {
        if (pos == -1)
            *p++ = '.';
        long idx = high - pos;
        *p++ = n && idx >= 0 && idx < n ? dig[idx] : '0';
    }
    *p = '\0';
    return (size_t)(p - buf);
}
