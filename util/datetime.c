/* Calendar arithmetic and the date/time text forms (datetime.h). The day
 * number conversions are the era-based ones of Howard Hinnant's
 * "chrono-Compatible Low-Level Date Algorithms": exact over the whole
 * int64 range used here, no tables, no floating point. */
#include "datetime.h"

#include "decode.h"

#include <dbal.h>
#include <string.h>

int64_t dbal__days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void dbal__civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

bool dbal__valid_ymd(int64_t y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

void dbal__split_timestamp(int64_t us, int64_t *days, int64_t *tod)
{
    int64_t q = us / DBAL__US_PER_DAY, r = us % DBAL__US_PER_DAY;
    if (r < 0) {
        r += DBAL__US_PER_DAY;
        q--;
    }
    *days = q;
    *tod = r;
}

/* ---- writing ---- */

static char *put_digits(char *p, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static size_t put_infinity(int sign, char *buf)
{
    const char *s = sign > 0 ? "infinity" : "-infinity";
    size_t n = strlen(s);
    memcpy(buf, s, n + 1);
    return n;
}

static char *put_date(char *p, int64_t days)
{
    int64_t y;
    int m, d;
    dbal__civil_from_days(days, &y, &m, &d);
    if (y < 0)
        *p++ = '-';
    p = put_digits(p, (uint64_t)(y < 0 ? -y : y), 4);
    *p++ = '-';
    p = put_digits(p, (uint64_t)m, 2);
    *p++ = '-';
    return put_digits(p, (uint64_t)d, 2);
}

static char *put_time(char *p, int64_t tod)
{
    int64_t s = tod / 1000000;
    p = put_digits(p, (uint64_t)(s / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(s / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(s % 60), 2);
    *p++ = '.';
    return put_digits(p, (uint64_t)(tod % 1000000), 6);
}

size_t dbal__format_date(int64_t days, char *buf)
{
    if (days == INT64_MAX || days == INT64_MIN)
        return put_infinity(days == INT64_MAX ? 1 : -1, buf);
    if (days > DBAL__MAX_DAYS || days < -DBAL__MAX_DAYS) {
        buf[0] = '\0';
        return 0;
    }
    char *p = put_date(buf, days);
    *p = '\0';
    return (size_t)(p - buf);
}

size_t dbal__format_time(int64_t us, char *buf)
{
    if (us < 0 || us > DBAL__US_PER_DAY) {
        buf[0] = '\0';
        return 0;
    }
    char *p = put_time(buf, us);
    *p = '\0';
    return (size_t)(p - buf);
}

size_t dbal__format_day_time(int64_t days, int64_t tod, bool tz, char *buf)
{
    char *p = put_date(buf, days);
    *p++ = ' ';
    p = put_time(p, tod);
    if (tz) {
        memcpy(p, "+00:00", 6);
        p += 6;
    }
    *p = '\0';
    return (size_t)(p - buf);
}

size_t dbal__format_timestamp(int64_t us, bool tz, char *buf)
{
    if (us == INT64_MAX || us == INT64_MIN)
        return put_infinity(us == INT64_MAX ? 1 : -1, buf);
    int64_t days, tod;
    dbal__split_timestamp(us, &days, &tod);
    return dbal__format_day_time(days, tod, tz, buf);
}

/* ---- reading ---- */

typedef struct cursor {
    const char *s;
    size_t len, at;
} cursor;

static int peek(const cursor *c)
{
    return c->at < c->len ? (unsigned char)c->s[c->at] : -1;
}

static bool accept(cursor *c, int ch)
{
    if (peek(c) != ch)
        return false;
    c->at++;
    return true;
}

/* Exactly n digits (n <= 9) as a number, or -1. */
static int64_t digits(cursor *c, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        int ch = peek(c);
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
        c->at++;
    }
    return v;
}

static bool word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    if (c->len - c->at < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = c->s[c->at + i];
        if ((ch >= 'A' && ch <= 'Z' ? ch + 32 : ch) != w[i])
            return false;
    }
    c->at += n;
    return true;
}

/* [-]YYYY-MM-DD with four to seven year digits. */
/* bc: the text ends in " BC", so the year is 1 - y: checked as that year,
 * whose leap day may differ (5 BC is a leap year, 4 BC is not). */
static int read_date(cursor *c, dbal__dt *dt, bool bc)
{
    bool neg = accept(c, '-');
    size_t start = c->at;
    int64_t y = 0;
    while (peek(c) >= '0' && peek(c) <= '9') {
        if (c->at - start == 7)
            return DBAL_ERANGE;
        y = y * 10 + (peek(c) - '0');
        c->at++;
    }
    if (c->at - start < 4 || !accept(c, '-'))
        return DBAL_ETYPE;
    int64_t m = digits(c, 2);
    if (m < 0 || !accept(c, '-'))
        return DBAL_ETYPE;
    int64_t d = digits(c, 2);
    if (bc && (neg || y < 1))
        return DBAL_ETYPE;
    y = bc ? 1 - y : neg ? -y : y;
    if (d < 0 || !dbal__valid_ymd(y, (int)m, (int)d))
        return DBAL_ETYPE;
    dt->has_date = true;
    dt->days = dbal__days_from_civil(y, (int)m, (int)d);
    return DBAL_OK;
}

/* HH:MM[:SS[.f{1,6}]], up to 24:00:00 exactly. */
static int read_time(cursor *c, dbal__dt *dt)
{
    int64_t h = digits(c, 2), mi = -1, s = 0, us = 0;
    if (h >= 0 && accept(c, ':'))
        mi = digits(c, 2);
    if (mi < 0)
        return DBAL_ETYPE;
    if (accept(c, ':') && (s = digits(c, 2)) < 0)
        return DBAL_ETYPE;
    if (accept(c, '.')) {
        int n = 0;
        for (; peek(c) >= '0' && peek(c) <= '9'; n++, c->at++) {
            if (n == 6)
                return DBAL_ETYPE;
            us = us * 10 + (peek(c) - '0');
        }
        if (n == 0)
            return DBAL_ETYPE;
        for (; n < 6; n++)
            us *= 10;
    }
    if (mi > 59 || s > 59 || h > 24 || (h == 24 && (mi || s || us)))
        return DBAL_ETYPE;
    dt->has_time = true;
    dt->tod = ((h * 60 + mi) * 60 + s) * 1000000 + us;
    return DBAL_OK;
}

/* Z, or +-HH[[:]MM[[:]SS]], up to 15:59:59 as PostgreSQL allows. */
static int read_offset(cursor *c, dbal__dt *dt)
{
    size_t back = c->at;
    accept(c, ' ');
    int sign = peek(c);
    if (sign == 'Z' || sign == 'z') {
        c->at++;
        dt->has_offset = true;
        return DBAL_OK;
    }
    if (sign != '+' && sign != '-') {
        c->at = back;
        return DBAL_OK;
    }
    c->at++;
    int64_t h = digits(c, 2), m = 0, s = 0;
    if (h < 0 || h > 15)
        return DBAL_ETYPE;
    bool colon = accept(c, ':');
    if ((colon || (peek(c) >= '0' && peek(c) <= '9')) && (m = digits(c, 2)) < 0)
        return DBAL_ETYPE;
    if ((accept(c, ':') && (s = digits(c, 2)) < 0) || m > 59 || s > 59)
        return DBAL_ETYPE;
    dt->has_offset = true;
    dt->offset = (int32_t)((h * 3600 + m * 60 + s) * (sign == '-' ? -1 : 1));
    return DBAL_OK;
}

int dbal__parse_dt(const char *s, size_t len, dbal__dt *out)
{
    cursor c = {s, len, 0};
    memset(out, 0, sizeof *out);
    if (word(&c, "infinity") || word(&c, "+infinity"))
        out->inf = 1;
    else if (word(&c, "-infinity"))
        out->inf = -1;
    if (out->inf)
        return c.at == len ? DBAL_OK : DBAL_ETYPE;
    /* A time alone has its colon third: HH:MM. */
    bool bc = len >= 3 && s[len - 3] == ' ' && (s[len - 2] | 0x20) == 'b' && (s[len - 1] | 0x20) == 'c';
    int rc = len > 2 && s[2] == ':' ? read_time(&c, out) : read_date(&c, out, bc);
    /* A time after 'T' or a space; " BC" after a date alone is no time. */
    int sep = peek(&c), next = c.at + 1 < len ? (unsigned char)s[c.at + 1] : -1;
    if (rc == DBAL_OK && out->has_date && (sep == 'T' || sep == 't' || sep == ' ') && next >= '0' &&
        next <= '9') {
        c.at++;
        rc = read_time(&c, out);
    }
    if (rc == DBAL_OK && out->has_time)
        rc = read_offset(&c, out);
    if (rc == DBAL_OK && out->has_date && bc && !word(&c, " bc"))
        return DBAL_ETYPE; /* read_date took the year as BC */
    return rc == DBAL_OK && c.at != len ? DBAL_ETYPE : rc;
}

int dbal__dt_timestamp(const dbal__dt *dt, int64_t *us)
{
    if (dt->inf) {
        *us = dt->inf > 0 ? INT64_MAX : INT64_MIN;
        return DBAL_OK;
    }
    if (!dt->has_date)
        return DBAL_ETYPE;
    /* Day numbers of seven-digit years times a day's microseconds can pass
     * int64: check before multiplying and adding. */
    int64_t d = dt->days, t = dt->tod;
    if (d < 0 && t > 0) { /* the same instant, the time negative */
        d++;
        t -= DBAL__US_PER_DAY;
    }
    if (d > INT64_MAX / DBAL__US_PER_DAY || d < INT64_MIN / DBAL__US_PER_DAY)
        return DBAL_ERANGE;
    int64_t v = d * DBAL__US_PER_DAY;
    if ((t > 0 && v > INT64_MAX - t) || (t < 0 && v < INT64_MIN - t))
        return DBAL_ERANGE;
    v += t;
    int64_t off = (int64_t)dt->offset * 1000000;
    if ((off > 0 && v < INT64_MIN + 1 + off) || (off < 0 && v > INT64_MAX - 1 + off))
        return DBAL_ERANGE;
    v -= off;
    if (v == INT64_MAX || v == INT64_MIN)
        return DBAL_ERANGE; /* the infinities are spelled out */
    *us = v;
    return DBAL_OK;
}

int dbal__timestamp_date(int64_t us, int64_t *days)
{
    int64_t tod;
    if (us == INT64_MAX || us == INT64_MIN) {
        *days = us;
        return DBAL_OK;
    }
    dbal__split_timestamp(us, days, &tod);
    return tod ? DBAL_ETYPE : DBAL_OK;
}

int dbal__dt_date(const dbal__dt *dt, int64_t *days)
{
    if (dt->inf) {
        *days = dt->inf > 0 ? INT64_MAX : INT64_MIN;
        return DBAL_OK;
    }
    if (!dt->has_date)
        return DBAL_ETYPE;
    if (!dt->has_offset) {
        *days = dt->days;
        return dt->tod ? DBAL_ETYPE : DBAL_OK;
    }
    int64_t us;
    int rc = dbal__dt_timestamp(dt, &us);
    return rc ? rc : dbal__timestamp_date(us, days);
}

int dbal__dt_time(const dbal__dt *dt, int64_t *us)
{
    if (dt->has_date || !dt->has_time || dt->has_offset || dt->inf)
        return DBAL_ETYPE;
    *us = dt->tod;
    return DBAL_OK;
}

int dbal__dt_read(int kind, const char *s, size_t len, int64_t *out)
{
    dbal__dt dt;
    int rc = dbal__parse_dt(s, len, &dt);
    if (rc)
        return rc;
    return kind == DBAL_TYPE_DATE   ? dbal__dt_date(&dt, out)
           : kind == DBAL_TYPE_TIME ? dbal__dt_time(&dt, out)
                                    : dbal__dt_timestamp(&dt, out);
}

/* ---- UUIDs ---- */

size_t dbal__format_uuid(const unsigned char u[16], char *buf)
{
    static const char hex[] = "0123456789abcdef";
    char *p = buf;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[u[i] >> 4];
        *p++ = hex[u[i] & 15];
    }
    *p = '\0';
    return 36;
}

int dbal__parse_uuid(const char *s, size_t len, unsigned char out[16])
{
    size_t i = 0, end = len;
    if (len >= 2 && s[0] == '{') {
        if (s[len - 1] != '}')
            return DBAL_ETYPE;
        i = 1;
        end = len - 1;
    }
    int n = 0;
    for (; i < end && n < 32; i++) {
        /* A hyphen only after a whole group of four, never last. */
        if (s[i] == '-' && n > 0 && n % 4 == 0 && s[i - 1] != '-' && i + 1 < end)
            continue;
        int v = dbal__hex_value(s[i]);
        if (v < 0)
            return DBAL_ETYPE;
        if (n % 2 == 0)
            out[n / 2] = (unsigned char)(v << 4);
        else
            out[n / 2] |= (unsigned char)v;
        n++;
    }
    return n == 32 && i == end ? DBAL_OK : DBAL_ETYPE;
}
