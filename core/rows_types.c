/* The getters of dates, times and UUIDs (dbal_col_get_timestamp and its
 * kin). A driver hands such a value in its own form (an int64, 16 bytes)
 * when it could read it, else as text: both are accepted here, so that
 * the getters agree on every driver and on the asynchronous API's rows. */
#include "rows.h"

#include "datetime.h"
#include "errors.h"

#include <string.h>

/* Text-like forms: what a text-format driver or SQLite hands. */
static int is_text(const dbal_value *v)
{
    return v->type == DBAL_TYPE_TEXT || v->type == DBAL_TYPE_NUMERIC || v->type == DBAL_TYPE_JSON;
}

static int date_to_timestamp(int64_t days, int64_t *out)
{
    if (days == DBAL_INFINITY || days == DBAL_NEG_INFINITY) {
        *out = days;
        return DBAL_OK;
    }
    dbal__dt dt = {.has_date = true, .days = days};
    return dbal__dt_timestamp(&dt, out);
}

/* The common start of every getter here: *v is the value, or a code. */
static int value_of(dbal_rows *r, int col, const void *out, const char *fn, dbal_value *v)
{
    if (r && !out)
        return dbal__error_set(r->err, DBAL_EINVAL, NULL, 0, "%s: out is NULL", fn);
    int rc = dbal__rows_value(r, col, v);
    if (rc == DBAL_OK && v->type == DBAL_TYPE_NULL)
        rc = DBAL_ENULL;
    return rc;
}

static int failed(dbal_rows *r, int col, int rc, const char *want)
{
    return rc == DBAL_ENULL || rc == DBAL_ETYPE || rc == DBAL_ERANGE
               ? dbal__rows_conversion_error(r, col, rc, want)
               : rc;
}

int dbal_col_get_timestamp(dbal_rows *r, int col, int64_t *out)
{
    dbal_value v;
    int64_t t = 0;
    int rc = value_of(r, col, out, "dbal_col_get_timestamp", &v);
    if (rc == DBAL_OK) {
        if (v.type == DBAL_TYPE_TIMESTAMPTZ || v.type == DBAL_TYPE_TIMESTAMP)
            t = v.u.i;
        else if (v.type == DBAL_TYPE_DATE)
            rc = date_to_timestamp(v.u.i, &t);
        else
            rc = is_text(&v) ? dbal__dt_read(DBAL_TYPE_TIMESTAMP, v.u.s, v.len, &t) : DBAL_ETYPE;
    }
    if (rc)
        return failed(r, col, rc, "a timestamp");
    *out = t;
    return DBAL_OK;
}

int dbal_col_get_date(dbal_rows *r, int col, int64_t *out)
{
    dbal_value v;
    int64_t d = 0;
    int rc = value_of(r, col, out, "dbal_col_get_date", &v);
    if (rc == DBAL_OK) {
        if (v.type == DBAL_TYPE_DATE)
            d = v.u.i;
        else if (v.type == DBAL_TYPE_TIMESTAMPTZ || v.type == DBAL_TYPE_TIMESTAMP)
            rc = dbal__timestamp_date(v.u.i, &d);
        else
            rc = is_text(&v) ? dbal__dt_read(DBAL_TYPE_DATE, v.u.s, v.len, &d) : DBAL_ETYPE;
    }
    if (rc)
        return failed(r, col, rc, "a date");
    *out = d;
    return DBAL_OK;
}

int dbal_col_get_time(dbal_rows *r, int col, int64_t *out)
{
    dbal_value v;
    int64_t t = 0;
    int rc = value_of(r, col, out, "dbal_col_get_time", &v);
    if (rc == DBAL_OK) {
        if (v.type == DBAL_TYPE_TIME)
            t = v.u.i;
        else
            rc = is_text(&v) ? dbal__dt_read(DBAL_TYPE_TIME, v.u.s, v.len, &t) : DBAL_ETYPE;
    }
    if (rc)
        return failed(r, col, rc, "a time");
    *out = t;
    return DBAL_OK;
}

int dbal_col_get_uuid(dbal_rows *r, int col, unsigned char out[16])
{
    dbal_value v;
    unsigned char u[16];
    int rc = value_of(r, col, out, "dbal_col_get_uuid", &v);
    if (rc == DBAL_OK) {
        if ((v.type == DBAL_TYPE_UUID || v.type == DBAL_TYPE_BLOB) && v.len == 16)
            memcpy(u, v.u.p, 16);
        else
            rc = is_text(&v) ? dbal__parse_uuid(v.u.s, v.len, u) : DBAL_ETYPE;
    }
    if (rc)
        return failed(r, col, rc, "a UUID");
    memcpy(out, u, 16);
    return DBAL_OK;
}
