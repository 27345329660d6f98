/*
 * Values as col_value hands them: binary results decoded (numbers in
 * network order, bool one byte, dates and times as int64s counted from
 * 2000-01-01, uuid 16 bytes, numeric into numeric_out's text, jsonb after
 * its version byte), and text results read (bytea unescaped, dates and
 * times as PostgreSQL writes them with DateStyle ISO, offsets applied).
 * What needs decoding goes into the column's own buffer, once per row: a
 * second column must not overwrite the first one's bytes.
 */
#include "pg_numeric.h"
#include "pg_stmt.h"

#include "datetime.h"

#include <string.h>

/* Column col's buffer, with room for `need` bytes. */
static pg_blob *buffer(pg_rows *r, int col, size_t need)
{
    if (!r->blobs) {
        r->blobs = pg_host->malloc((size_t)r->base.ncols * sizeof *r->blobs);
        if (!r->blobs)
            return NULL;
        memset(r->blobs, 0, (size_t)r->base.ncols * sizeof *r->blobs);
    }
    pg_blob *b = &r->blobs[col];
    if (b->cap < need) {
        unsigned char *d = pg_host->realloc(b->data, need);
        if (!d)
            return NULL;
        b->data = d;
        b->cap = need;
    }
    return b;
}

/* An unsigned big-endian integer of n bytes (n <= 8). */
static uint64_t be(const char *p, int n)
{
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy((char *)&v + 8 - n, p, (size_t)n);
    v = __builtin_bswap64(v);
#else
    for (int k = 0; k < n; k++)
        v = v << 8 | (unsigned char)p[k];
#endif
    return v;
}

static void text_value(const char *p, size_t len, dbal_value *out)
{
    out->type = DBAL_TYPE_TEXT;
    out->u.s = p;
    out->len = len;
}

/* A timestamp's int64 of microseconds since 2000. The last 30 years of
 * PostgreSQL's range (294247 to 294276) are past an int64 counted from
 * 1970: they come as text, which the getters refuse with DBAL_ERANGE. */
static void timestamp_value(pg_rows *r, int col, Oid type, int64_t v, dbal_value *out)
{
    out->type = type == PG_TIMESTAMPTZOID ? DBAL_TYPE_TIMESTAMPTZ : DBAL_TYPE_TIMESTAMP;
    if (v == INT64_MAX || v == INT64_MIN) {
        out->u.i = v;
    } else if (v < INT64_MAX - PG_EPOCH_US) {
        out->u.i = v + PG_EPOCH_US;
    } else {
        pg_blob *b = buffer(r, col, DBAL__DT_BUF);
        int64_t days, tod;
        dbal__split_timestamp(v, &days, &tod);
        if (b) {
            size_t n = dbal__format_day_time(days + PG_EPOCH_DAYS, tod, type == PG_TIMESTAMPTZOID,
                                             (char *)b->data);
            text_value((const char *)b->data, n, out);
        } else {
            *out = dbal_null(); /* out of memory: col_value cannot say so */
        }
    }
}

static void numeric_value(pg_rows *r, int col, const char *p, int len, dbal_value *out)
{
    size_t need = pg_numeric_text_size((const unsigned char *)p, (size_t)len);
    pg_blob *b = need ? buffer(r, col, need) : NULL;
    if (!b) {
        *out = dbal_null();
        return;
    }
    text_value((const char *)b->data, pg_numeric_text((const unsigned char *)p, (size_t)len, (char *)b->data),
               out);
}

int pg_binary_int64(Oid type, const char *p, int len, int64_t *out)
{
    if (type == PG_INT8OID && len == 8)
        *out = (int64_t)be(p, 8);
    else if (type == PG_INT4OID && len == 4)
        *out = (int32_t)(uint32_t)be(p, 4);
    else if (type == PG_INT2OID && len == 2)
        *out = (int16_t)(uint16_t)be(p, 2);
    else
        return DBAL_ETYPE;
    return DBAL_OK;
}

int pg_binary_double(Oid type, const char *p, int len, double *out)
{
    if (type != PG_FLOAT8OID || len != 8)
        return DBAL_ETYPE;
    uint64_t u = be(p, 8);
    memcpy(out, &u, sizeof u);
    return DBAL_OK;
}

void pg_value_binary(pg_rows *r, int col, const char *p, int len, dbal_value *out)
{
    Oid type = r->types[col];
    out->len = 0;
    if (pg_binary_int64(type, p, len, &out->u.i) == DBAL_OK) {
        out->type = DBAL_TYPE_INT64;
    } else if (pg_binary_double(type, p, len, &out->u.d) == DBAL_OK) {
        out->type = DBAL_TYPE_DOUBLE;
    } else if (type == PG_TIMEOID && len == 8) {
        out->type = DBAL_TYPE_TIME;
        out->u.i = (int64_t)be(p, 8);
    } else if (type == PG_BOOLOID && len == 1) {
        *out = dbal_bool(p[0] != 0);
    } else if ((type == PG_TIMESTAMPOID || type == PG_TIMESTAMPTZOID) && len == 8) {
        timestamp_value(r, col, type, (int64_t)be(p, 8), out);
    } else if (type == PG_DATEOID && len == 4) {
        int32_t d = (int32_t)(uint32_t)be(p, 4);
        out->type = DBAL_TYPE_DATE;
        out->u.i = d == INT32_MAX ? INT64_MAX : d == INT32_MIN ? INT64_MIN : (int64_t)d + PG_EPOCH_DAYS;
    } else if (type == PG_UUIDOID && len == 16) {
        out->type = DBAL_TYPE_UUID;
        out->u.p = p;
        out->len = 16;
    } else if (type == PG_NUMERICOID) {
        numeric_value(r, col, p, len, out);
    } else if (type == PG_JSONBOID && len >= 1 && p[0] == 1) {
        text_value(p + 1, (size_t)len - 1, out); /* version 1, then the text */
    } else {
        out->type = type == PG_BYTEAOID ? DBAL_TYPE_BLOB : DBAL_TYPE_TEXT;
        out->u.p = p;
        out->len = (size_t)len;
    }
}

/* Decodes a bytea value once per row. */
static const pg_blob *decoded(pg_rows *r, int col, const char *text, int len)
{
    pg_blob *b = buffer(r, col, 0);
    if (!b)
        return NULL;
    if (b->data && b->row == r->rowno)
        return b;
    if (pg_bytea_decode(b, text, (size_t)len) != DBAL_OK)
        return NULL;
    b->row = r->rowno;
    return b;
}

/* A date or time in text (the asynchronous API's rows, a statement with
 * a column of a type read only as text) as its int64; text that does not
 * read (another DateStyle) stays text. */
static void temporal_text(dbal_type kind, const char *text, int len, dbal_value *out)
{
    int64_t v;
    text_value(text, (size_t)len, out);
    if (dbal__dt_read(kind, text, (size_t)len, &v) == DBAL_OK) {
        out->type = kind;
        out->u.i = v;
        out->len = 0;
    }
}

void pg_value_text(pg_rows *r, int col, const char *text, int len, dbal_value *out)
{
    dbal_type kind = pg_type_of(r->types[col])->type;
    const pg_blob *b;
    switch (kind) {
    case DBAL_TYPE_BLOB:
        /* Out of memory for a bytea falls through to its text form:
         * col_value has no way to report an error. */
        if ((b = decoded(r, col, text, len)) != NULL) {
            *out = dbal_blob(b->data, b->len);
            return;
        }
        break;
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ:
    case DBAL_TYPE_DATE:
    case DBAL_TYPE_TIME: temporal_text(kind, text, len, out); return;
    default: break;
    }
    *out = dbal_textn(text, (size_t)len);
}
