/* PARAM arguments to dbal_value. */
#include "dbal_params.h"

#include "dbal_cli.h"
#include "dbal_encode.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int parse_int(const char *s, dbal_value *v)
{
    char *end;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0' || errno == ERANGE)
        return -1;
    *v = dbal_int64(i);
    return 0;
}

static int parse_float(const char *s, dbal_value *v)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0' || (errno == ERANGE && (d > 1 || d < -1)))
        return -1;
    *v = dbal_double(d);
    return 0;
}

static int parse_bool(const char *s, dbal_value *v)
{
    static const char *const yes[] = {"true", "t", "yes", "y", "on", "1"};
    static const char *const no[] = {"false", "f", "no", "n", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *v = dbal_bool(1);
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *v = dbal_bool(0);
            return 0;
        }
    }
    return -1;
}

/* Hex digits, optionally after "\x" or "0x". */
static int parse_blob(const char *s, dbal_value *v, void **owned)
{
    if (starts(s, "\\x") || starts(s, "0x"))
        s += 2;
    size_t n = strlen(s);
    if (n % 2)
        return -1;
    unsigned char *p = malloc(n / 2 + 1);
    if (!p)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = dbal__hex_value(s[2 * i]), lo = dbal__hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(p);
            return -1;
        }
        p[i] = (unsigned char)(hi << 4 | lo);
    }
    *owned = p;
    *v = dbal_blob(p, n / 2);
    return 0;
}

/* Dates and times as dbal_parse_* reads them (ISO 8601, offsets applied). */
static int parse_temporal(const char *s, dbal_type type, dbal_value *v)
{
    int64_t x;
    int rc = type == DBAL_TYPE_DATE   ? dbal_parse_date(s, &x)
             : type == DBAL_TYPE_TIME ? dbal_parse_time(s, &x)
                                      : dbal_parse_timestamp(s, &x);
    if (rc != DBAL_OK)
        return -1;
    *v = dbal_timestamptz(x);
    v->type = type;
    return 0;
}

static int parse_uuid(const char *s, dbal_value *v, void **owned)
{
    unsigned char *u = malloc(16);
    if (!u || dbal_parse_uuid(s, u) != DBAL_OK) {
        free(u);
        return -1;
    }
    *owned = u;
    *v = dbal_uuid(u);
    return 0;
}

/* The prefixes of the types after blob: 0 with the value, -1 when what
 * follows does not read (*what says what should), 1 for no such prefix. */
static int parse_typed(const char *arg, dbal_value *v, void **owned, const char **what)
{
    static const struct {
        const char *prefix;
        dbal_type type;
        const char *what;
    } typed[] = {
        {"tstz:", DBAL_TYPE_TIMESTAMPTZ, "an ISO 8601 timestamp (tstz:2024-05-01T12:00:00+02:00)"},
        {"ts:", DBAL_TYPE_TIMESTAMP, "an ISO 8601 timestamp (ts:2024-05-01 12:00:00.5)"},
        {"date:", DBAL_TYPE_DATE, "a date (date:2024-05-01)"},
        {"time:", DBAL_TYPE_TIME, "a time (time:12:30:00)"},
        {"num:", DBAL_TYPE_NUMERIC, "a decimal number (num:19.90)"},
        {"uuid:", DBAL_TYPE_UUID, "a UUID (uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11)"},
        {"json:", DBAL_TYPE_JSON, "JSON text (json:{\"a\": 1})"},
    };
    for (size_t i = 0; i < sizeof typed / sizeof *typed; i++) {
        if (!starts(arg, typed[i].prefix))
            continue;
        const char *rest = arg + strlen(typed[i].prefix);
        *what = typed[i].what;
        switch (typed[i].type) {
        case DBAL_TYPE_NUMERIC: *v = dbal_numeric(rest); return 0; /* the library checks it */
        case DBAL_TYPE_JSON: *v = dbal_json(rest); return 0;
        case DBAL_TYPE_UUID: return parse_uuid(rest, v, owned);
        default: return parse_temporal(rest, typed[i].type, v);
        }
    }
    return 1;
}

/* The prefixes of the first types, and plain text. */
static int parse_basic(const char *arg, dbal_value *v, void **owned, const char **what)
{
    int rc = 0;
    if (starts(arg, "int:"))
        rc = parse_int(arg + 4, v), *what = "an integer (int:42)";
    else if (starts(arg, "float:"))
        rc = parse_float(arg + 6, v), *what = "a number (float:1.5)";
    else if (starts(arg, "bool:"))
        rc = parse_bool(arg + 5, v), *what = "true or false (bool:true)";
    else if (starts(arg, "null:"))
        rc = arg[5] ? -1 : 0, *v = dbal_null(), *what = "nothing after it (null:)";
    else if (starts(arg, "blob:"))
        rc = parse_blob(arg + 5, v, owned), *what = "an even number of hex digits (blob:deadbeef)";
    else if (starts(arg, "text:"))
        *v = dbal_text(arg + 5);
    else
        *v = dbal_text(arg);
    return rc;
}

static int parse_one(const char *arg, dbal_value *v, void **owned)
{
    const char *what = NULL;
    int rc = parse_typed(arg, v, owned, &what);
    if (rc == 1)
        rc = parse_basic(arg, v, owned, &what);
    if (rc != 0)
        report_usage("parameter '%s' needs %s", arg, what);
    return rc;
}

int params_parse(const char *const *args, int n, cli_params *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return 0;
    out->values = calloc((size_t)n, sizeof *out->values);
    out->owned = calloc((size_t)n, sizeof *out->owned);
    if (!out->values || !out->owned) {
        params_free(out);
        report_usage("out of memory");
        return -1;
    }
    out->count = (size_t)n;
    for (int i = 0; i < n; i++) {
        if (parse_one(args[i], &out->values[i], &out->owned[i]) != 0) {
            params_free(out);
            return -1;
        }
    }
    return 0;
}

void params_free(cli_params *p)
{
    for (size_t i = 0; p->owned && i < p->count; i++)
        free(p->owned[i]);
    free(p->owned);
    free(p->values);
    memset(p, 0, sizeof *p);
}
