/* The public date, time and UUID helpers: dbal_datetime conversions,
 * dbal_value_format and dbal_parse_*, over util's arithmetic and text
 * forms (util/datetime.h), which the drivers share. */
#include "convert.h"
#include "datetime.h"
#include "values.h"

#include <dbal.h>
#include <limits.h>
#include <string.h>

static int fill(int64_t days, int64_t tod, dbal_datetime *out)
{
    int64_t y;
    int m, d;
    dbal__civil_from_days(days, &y, &m, &d);
    if (y > INT_MAX || y < INT_MIN)
        return DBAL_ERANGE;
    int64_t s = tod / 1000000;
    *out = (dbal_datetime){.year = (int)y,
                           .month = m,
                           .day = d,
                           .hour = (int)(s / 3600),
                           .minute = (int)(s / 60 % 60),
                           .second = (int)(s % 60),
                           .microsecond = (int)(tod % 1000000)};
    return DBAL_OK;
}

int dbal_datetime_from_timestamp(int64_t microseconds, dbal_datetime *out)
{
    if (!out)
        return DBAL_EINVAL;
    if (microseconds == DBAL_INFINITY || microseconds == DBAL_NEG_INFINITY)
        return DBAL_ERANGE;
    int64_t days, tod;
    dbal__split_timestamp(microseconds, &days, &tod);
    return fill(days, tod, out);
}

int dbal_datetime_from_date(int64_t days, dbal_datetime *out)
{
    if (!out)
        return DBAL_EINVAL;
    /* Beyond this, years no longer fit an int (and the arithmetic's
     * intermediate products would pass int64). */
    const int64_t limit = INT64_C(784000000000);
    if (days == DBAL_INFINITY || days == DBAL_NEG_INFINITY || days > limit || days < -limit)
        return DBAL_ERANGE;
    return fill(days, 0, out);
}

int dbal_datetime_to_date(const dbal_datetime *dt, int64_t *out)
{
    if (!dt || !out || !dbal__valid_ymd(dt->year, dt->month, dt->day))
        return DBAL_EINVAL;
    *out = dbal__days_from_civil(dt->year, dt->month, dt->day);
    return DBAL_OK;
}

int dbal_datetime_to_timestamp(const dbal_datetime *dt, int64_t *out)
{
    if (!dt || !out || !dbal__valid_ymd(dt->year, dt->month, dt->day) || dt->hour < 0 || dt->hour > 23 ||
        dt->minute < 0 || dt->minute > 59 || dt->second < 0 || dt->second > 59 || dt->microsecond < 0 ||
        dt->microsecond > 999999)
        return DBAL_EINVAL;
    dbal__dt p = {.has_date = true,
                  .has_time = true,
                  .days = dbal__days_from_civil(dt->year, dt->month, dt->day),
                  .tod = ((dt->hour * INT64_C(60) + dt->minute) * 60 + dt->second) * 1000000 +
                         dt->microsecond};
    return dbal__dt_timestamp(&p, out);
}

int dbal__value_text(const dbal_value *v, char *buf, size_t *n)
{
    switch (v->type) {
    case DBAL_TYPE_BOOL: *n = 1, memcpy(buf, v->u.b ? "t" : "f", 2); break;
    case DBAL_TYPE_INT64: *n = dbal__format_int64(v->u.i, buf); break;
    case DBAL_TYPE_DOUBLE: *n = dbal__format_double(v->u.d, buf); break;
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ:
        *n = dbal__format_timestamp(v->u.i, v->type == DBAL_TYPE_TIMESTAMPTZ, buf);
        break;
    case DBAL_TYPE_DATE:
        if (!(*n = dbal__format_date(v->u.i, buf)))
            return DBAL_ERANGE;
        break;
    case DBAL_TYPE_TIME:
        if (!(*n = dbal__format_time(v->u.i, buf)))
            return DBAL_ETYPE;
        break;
    case DBAL_TYPE_UUID:
        if (!v->u.p || v->len != 16)
            return DBAL_ETYPE;
        *n = dbal__format_uuid(v->u.p, buf);
        break;
    default: return DBAL_ETYPE;
    }
    return DBAL_OK;
}

int dbal_value_format(dbal_value v, char *out, size_t cap, size_t *len)
{
    if (!out)
        return DBAL_EINVAL;
    char buf[DBAL__DT_BUF];
    const char *src = buf;
    size_t n = 0;
    if (v.type == DBAL_TYPE_TEXT || v.type == DBAL_TYPE_NUMERIC || v.type == DBAL_TYPE_JSON) {
        if (!v.u.s)
            return DBAL_ETYPE;
        src = v.u.s;
        n = v.len;
    } else {
        int rc = dbal__value_text(&v, buf, &n);
        if (rc)
            return rc;
    }
    if (cap == 0)
        return DBAL_ERANGE;
    if (n >= cap) {
        out[0] = '\0';
        return DBAL_ERANGE;
    }
    memcpy(out, src, n);
    out[n] = '\0';
    if (len)
        *len = n;
    return DBAL_OK;
}

/* The dbal_parse_* of a date or time type. */
static int parse(int kind, const char *text, int64_t *out)
{
    int64_t v;
    if (!text || !out)
        return DBAL_EINVAL;
    int rc = dbal__dt_read(kind, text, strlen(text), &v);
    if (rc == DBAL_OK)
        *out = v;
    return rc;
}

int dbal_parse_timestamp(const char *text, int64_t *out)
{
    return parse(DBAL_TYPE_TIMESTAMP, text, out);
}

int dbal_parse_date(const char *text, int64_t *out)
{
    return parse(DBAL_TYPE_DATE, text, out);
}

int dbal_parse_time(const char *text, int64_t *out)
{
    return parse(DBAL_TYPE_TIME, text, out);
}

int dbal_parse_uuid(const char *text, unsigned char out[16])
{
    unsigned char u[16];
    if (!text || !out)
        return DBAL_EINVAL;
    int rc = dbal__parse_uuid(text, strlen(text), u);
    if (rc == DBAL_OK)
        memcpy(out, u, 16);
    return rc;
}
