/* numeric's binary form (pg_numeric.h), from PostgreSQL's documented wire
 * format: numeric_send writes it, numeric_recv reads it. */
#include "pg_numeric.h"

#include "decimal.h"

#include <dbal.h>

#include <stdint.h>
#include <string.h>

#define NUMERIC_POS 0x0000
#define NUMERIC_NEG 0x4000
#define NUMERIC_NAN 0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000

static unsigned u16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static int s16(const unsigned char *p)
{
    return (int)(int16_t)(uint16_t)u16(p);
}

size_t pg_numeric_text_size(const unsigned char *p, size_t len)
{
    if (len < 8)
        return 0;
    int ndigits = s16(p), weight = s16(p + 2);
    unsigned dscale = u16(p + 6);
    if (ndigits < 0 || len != 8 + 2 * (size_t)ndigits)
        return 0;
    return 16 + (size_t)(weight > 0 ? weight + 1 : 1) * 4 + dscale + 4;
}

static char *put4(char *out, int dig, int strip)
{
    char d[4] = {(char)('0' + dig / 1000), (char)('0' + dig / 100 % 10), (char)('0' + dig / 10 % 10),
                 (char)('0' + dig % 10)};
    int i = 0;
    if (strip)
        while (i < 3 && d[i] == '0')
            i++;
    for (; i < 4; i++)
        *out++ = d[i];
    return out;
}

size_t pg_numeric_text(const unsigned char *p, size_t len, char *out)
{
    (void)len;
    int ndigits = s16(p), weight = s16(p + 2);
    unsigned sign = u16(p + 4), dscale = u16(p + 6);
    const char *word = sign == NUMERIC_NAN    ? "NaN"
                       : sign == NUMERIC_PINF ? "Infinity"
                       : sign == NUMERIC_NINF ? "-Infinity"
                                              : NULL;
    if (word) {
        size_t n = strlen(word);
        memcpy(out, word, n + 1);
        return n;
    }
    char *cp = out;
    if (sign == NUMERIC_NEG)
        *cp++ = '-';
    int d;
    /* As numeric_out: the integer groups (the first without its leading
     * zeros), then dscale decimals from the groups after the point. */
    if (weight < 0) {
        d = weight + 1;
        *cp++ = '0';
    } else {
        for (d = 0; d <= weight; d++)
            cp = put4(cp, d < ndigits ? u16(p + 8 + 2 * d) : 0, d == 0);
    }
    if (dscale > 0) {
        *cp++ = '.';
        char *end = cp + dscale;
        for (unsigned i = 0; i < dscale; d++, i += 4)
            cp = put4(cp, d >= 0 && d < ndigits ? (int)u16(p + 8 + 2 * d) : 0, 0);
        cp = end;
    }
    *cp = '\0';
    return (size_t)(cp - out);
}

/* The group (power of 10000) holding decimal power e. */
static long group_of(long e)
{
    return e >= 0 ? e / 4 : -((-e + 3) / 4);
}

size_t pg_numeric_binary_size(const char *s, size_t len)
{
    dbal__num n;
    if (dbal__num_scan(s, len, &n) != DBAL_OK)
        return 0;
    if (n.kind != DBAL__NUM_FINITE || n.nsig == 0)
        return 8;
    long high = n.low + n.nsig - 1;
    if (group_of(high) > 32767 || group_of(n.low) < -32768)
        return 0;
    return 8 + 2 * (size_t)(group_of(high) - group_of(n.low) + 1);
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

/* Decimals shown: the digits after the point as written, less the
 * exponent (numeric_in's rule), never below 0. */
static long dscale_of(const char *s, size_t len)
{
    long frac = 0, e = 0;
    size_t i = 0;
    while (i < len && s[i] != '.' && s[i] != 'e' && s[i] != 'E')
        i++;
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            frac++;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int neg = s[++i] == '-';
        i += s[i] == '-' || s[i] == '+';
        for (; i < len; i++)
            e = e * 10 + (s[i] - '0');
        e = neg ? -e : e;
    }
    frac -= e;
    return frac < 0 ? 0 : frac > 16383 ? 16383 : frac;
}

size_t pg_numeric_binary(const char *s, size_t len, unsigned char *out)
{
    dbal__num n;
    dbal__num_scan(s, len, &n);
    memset(out, 0, 8);
    if (n.kind != DBAL__NUM_FINITE) {
        put16(out + 4, n.kind == DBAL__NUM_NAN   ? NUMERIC_NAN
                       : n.kind == DBAL__NUM_INF ? NUMERIC_PINF
                                                 : NUMERIC_NINF);
        return 8;
    }
    put16(out + 6, (unsigned)dscale_of(s, len));
    if (n.nsig == 0)
        return 8;
    long high = n.low + n.nsig - 1, top = group_of(high), bottom = group_of(n.low);
    size_t ngroups = (size_t)(top - bottom + 1);
    memset(out + 8, 0, 2 * ngroups);
    /* Each significant digit, from the first, added to its group. */
    static const unsigned pow10[4] = {1, 10, 100, 1000};
    long power = high, seen = 0;
    for (size_t i = 0; i < len && seen < n.nsig; i++) {
        if (s[i] < '0' || s[i] > '9' || (seen == 0 && s[i] == '0'))
            continue;
        long g = group_of(power);
        unsigned char *slot = out + 8 + 2 * (size_t)(top - g);
        put16(slot, u16(slot) + (unsigned)(s[i] - '0') * pow10[power - 4 * g]);
        power--;
        seen++;
    }
    put16(out, (unsigned)ngroups);
    put16(out + 2, (unsigned)(uint16_t)(int16_t)top);
    put16(out + 4, n.neg ? NUMERIC_NEG : NUMERIC_POS);
    return 8 + 2 * ngroups;
}
