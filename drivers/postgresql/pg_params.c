/*
 * Parameters: dbal values turned into libpq's parallel arrays (values,
 * lengths, formats, type OIDs), plus the type signature that is part of the
 * statement cache key, because a prepared statement fixes the types of its
 * parameters.
 */
#include "pg_stmt.h"

#include <limits.h>
#include <string.h>

/* Numbers, dates and times go in binary format: 8 bytes in network order
 * (a date 4), no decimal formatting here nor parsing on the server, exact
 * for doubles (NaN and the infinities included), and independent of the
 * session's TimeZone and DateStyle. Numerics go as text with numeric's
 * OID: exact, never through a double. */
#define NUM_LEN 8

/* Grows the four arrays to hold n parameters, in one block. */
static int grow_arrays(pg_params *p, size_t n)
{
    if (n <= p->cap)
        return DBAL_OK;
    size_t cap = p->cap ? p->cap : 8;
    while (cap < n)
        cap *= 2;
    /* Pointers first so that every array is aligned for its type. */
    size_t each = sizeof(char *) + sizeof(Oid) + 2 * sizeof(int);
    char *block = pg_host->malloc(cap * each);
    if (!block)
        return DBAL_ENOMEM;
    pg_host->free(p->values);
    p->values = (const char **)block;
    p->types = (Oid *)(block + cap * sizeof(char *));
    p->lengths = (int *)(block + cap * (sizeof(char *) + sizeof(Oid)));
    p->formats = p->lengths + cap;
    p->cap = cap;
    return DBAL_OK;
}

static int grow_arena(pg_params *p, size_t need)
{
    if (need <= p->arena_cap)
        return DBAL_OK;
    size_t cap = p->arena_cap ? p->arena_cap : 256;
    while (cap < need)
        cap *= 2;
    char *a = pg_host->malloc(cap);
    if (!a)
        return DBAL_ENOMEM;
    pg_host->free(p->arena);
    p->arena = a;
    p->arena_cap = cap;
    return DBAL_OK;
}

/* Bytes of arena the values need: text is copied because libpq reads text
 * parameters up to a NUL, and dbal_textn() values need not have one. */
static size_t arena_need(const dbal_value *v, size_t n)
{
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].type == DBAL_TYPE_TEXT || v[i].type == DBAL_TYPE_NUMERIC || v[i].type == DBAL_TYPE_JSON)
            need += v[i].len + 1;
        else if (v[i].type != DBAL_TYPE_NULL && v[i].type != DBAL_TYPE_BOOL && v[i].type != DBAL_TYPE_BLOB &&
                 v[i].type != DBAL_TYPE_UUID)
            need += NUM_LEN;
    }
    return need;
}

/* Checks what the server cannot take, before anything is sent. */
static int check_value(const dbal_value *v, size_t i, dbal_error *err)
{
    int textual = v->type == DBAL_TYPE_TEXT || v->type == DBAL_TYPE_NUMERIC || v->type == DBAL_TYPE_JSON;
    if (textual && memchr(v->u.s, '\0', v->len)) {
        pg_host->set_error(err, DBAL_EDATA, "22021", 0,
                           "text parameter %zu contains a NUL byte, which PostgreSQL text "
                           "cannot hold (send it as a blob)",
                           i + 1);
        return DBAL_EDATA;
    }
    if ((textual || v->type == DBAL_TYPE_BLOB) && v->len >= INT_MAX) {
        pg_host->set_error(err, DBAL_EDATA, "54000", 0,
                           "parameter %zu is too large (%zu bytes) for PostgreSQL", i + 1, v->len);
        return DBAL_EDATA;
    }
    if (v->type > DBAL_TYPE_JSON) {
        pg_host->set_error(err, DBAL_EINVAL, NULL, 0, "parameter %zu has an unknown type %d", i + 1,
                           (int)v->type);
        return DBAL_EINVAL;
    }
    if ((v->type == DBAL_TYPE_TIMESTAMP || v->type == DBAL_TYPE_TIMESTAMPTZ || v->type == DBAL_TYPE_DATE) &&
        !pg_binary_fits(v)) {
        pg_host->set_error(err, DBAL_EDATA, "22008", 0, "parameter %zu: %s out of range", i + 1,
                           v->type == DBAL_TYPE_DATE ? "date" : "timestamp");
        return DBAL_EDATA;
    }
    return DBAL_OK;
}

static const char *put_be64(uint64_t u, char **arena)
{
    unsigned char *p = (unsigned char *)*arena;
    for (int k = 7; k >= 0; k--, u >>= 8)
        p[k] = (unsigned char)u;
    *arena += NUM_LEN;
    return (const char *)p;
}

/* A value sent in binary: its bytes, length and OID. */
static void binary(pg_params *p, size_t i, const char *bytes, int len, Oid type)
{
    p->values[i] = bytes;
    p->lengths[i] = len;
    p->formats[i] = 1;
    p->types[i] = type;
}

static const char *put_text(const dbal_value *v, char **arena)
{
    char *s = *arena;
    memcpy(s, v->u.s, v->len);
    s[v->len] = '\0';
    *arena += v->len + 1;
    return s;
}

/* Dates and times: counted from 2000-01-01, the infinities as
 * PostgreSQL's own (an int32's extremes for a date). */
static char put_temporal(pg_params *p, size_t i, const dbal_value *v, char **arena)
{
    int64_t x = v->u.i;
    int inf = x == INT64_MAX || x == INT64_MIN;
    switch (v->type) {
    case DBAL_TYPE_DATE: {
        int32_t d = inf ? (x > 0 ? INT32_MAX : INT32_MIN) : (int32_t)(x - PG_EPOCH_DAYS);
        /* The first four of eight big-endian bytes. */
        const char *b = put_be64((uint64_t)(uint32_t)d << 32, arena);
        binary(p, i, b, 4, PG_DATEOID);
        return 'a';
    }
    case DBAL_TYPE_TIME: binary(p, i, put_be64((uint64_t)x, arena), NUM_LEN, PG_TIMEOID); return 'm';
    default:
        binary(p, i, put_be64((uint64_t)(inf ? x : x - PG_EPOCH_US), arena), NUM_LEN,
               v->type == DBAL_TYPE_TIMESTAMPTZ ? PG_TIMESTAMPTZOID : PG_TIMESTAMPOID);
        return v->type == DBAL_TYPE_TIMESTAMPTZ ? 'z' : 's';
    }
}

/* Fills slot i for v; *arena advances past what the value used. Returns
 * the type letter for the cache key: OID 0 (let the server infer) is one
 * letter for text and NULL alike, since both prepare the same way. */
static char put_value(pg_params *p, size_t i, const dbal_value *v, char **arena)
{
    p->lengths[i] = 0;
    p->formats[i] = 0;
    p->types[i] = 0;
    p->values[i] = NULL;
    switch (v->type) {
    case DBAL_TYPE_BOOL:
        p->values[i] = v->u.b ? "\1" : "\0";
        p->lengths[i] = 1;
        p->formats[i] = 1;
        p->types[i] = PG_BOOLOID;
        return 'b';
    case DBAL_TYPE_INT64:
        p->values[i] = put_be64((uint64_t)v->u.i, arena);
        p->lengths[i] = NUM_LEN;
        p->formats[i] = 1;
        p->types[i] = PG_INT8OID;
        return 'i';
    case DBAL_TYPE_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->u.d, sizeof u);
        p->values[i] = put_be64(u, arena);
        p->lengths[i] = NUM_LEN;
        p->formats[i] = 1;
        p->types[i] = PG_FLOAT8OID;
        return 'd';
    }
    case DBAL_TYPE_TEXT:
        p->values[i] = put_text(v, arena);
        p->lengths[i] = (int)v->len;
        return 't';
    case DBAL_TYPE_BLOB:
        /* Binary format: the bytes go as they are, NUL bytes and all. */
        binary(p, i, v->u.p, (int)v->len, PG_BYTEAOID);
        return 'x';
    case DBAL_TYPE_UUID: binary(p, i, v->u.p, 16, PG_UUIDOID); return 'u';
    case DBAL_TYPE_NUMERIC:
        p->values[i] = put_text(v, arena);
        p->lengths[i] = (int)v->len;
        p->types[i] = PG_NUMERICOID;
        return 'n';
    case DBAL_TYPE_JSON:
        /* Unknown, as text is: json and jsonb columns, and jsonb's
         * operators, all take it. */
        p->values[i] = put_text(v, arena);
        p->lengths[i] = (int)v->len;
        return 't';
    case DBAL_TYPE_TIMESTAMP:
    case DBAL_TYPE_TIMESTAMPTZ:
    case DBAL_TYPE_DATE:
    case DBAL_TYPE_TIME: return put_temporal(p, i, v, arena);
    default: return 't';
    }
}

/* Fills p for params, and sig (n bytes) with their type letters. */
static int build(pg_params *p, const dbal_value *params, size_t n, char *sig, dbal_error *err)
{
    if (n > PQ_QUERY_PARAM_MAX_LIMIT) {
        pg_host->set_error(err, DBAL_EINVAL, NULL, 0, "%zu parameters given, PostgreSQL takes at most %d", n,
                           PQ_QUERY_PARAM_MAX_LIMIT);
        return DBAL_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = check_value(&params[i], i, err);
        if (rc != DBAL_OK)
            return rc;
    }
    if (grow_arrays(p, n) != DBAL_OK || grow_arena(p, arena_need(params, n)) != DBAL_OK)
        return pg_error_nomem(err);
    char *arena = p->arena;
    for (size_t i = 0; i < n; i++)
        sig[i] = put_value(p, i, &params[i], &arena);
    return DBAL_OK;
}

/* The cache key is the SQL, in place, and one type letter per parameter,
 * written to st->sig. */
static int sig_reserve(pg_stmts *st, size_t n, dbal_error *err)
{
    if (n > st->sig_cap || !st->sig) {
        char *k = pg_host->malloc(n ? n : 1);
        if (!k)
            return pg_error_nomem(err);
        pg_host->free(st->sig);
        st->sig = k;
        st->sig_cap = n;
    }
    return DBAL_OK;
}

int pg_stmts_bind(pg_stmts *st, const dbal_value *params, size_t n, dbal_error *err)
{
    int rc = sig_reserve(st, n, err);
    return rc == DBAL_OK ? build(&st->params, params, n, st->sig, err) : rc;
}

void pg_params_free(pg_params *p)
{
    pg_host->free(p->values);
    pg_host->free(p->arena);
    memset(p, 0, sizeof *p);
}
