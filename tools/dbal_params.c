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

static int parse_one(const char *arg, dbal_value *v, void **owned)
{
    int rc = 0;
    const char *what = NULL;
    if (starts(arg, "int:"))
        rc = parse_int(arg + 4, v), what = "an integer (int:42)";
    else if (starts(arg, "float:"))
        rc = parse_float(arg + 6, v), what = "a number (float:1.5)";
    else if (starts(arg, "bool:"))
        rc = parse_bool(arg + 5, v), what = "true or false (bool:true)";
    else if (starts(arg, "null:"))
        rc = arg[5] ? -1 : 0, *v = dbal_null(), what = "nothing after it (null:)";
    else if (starts(arg, "blob:"))
        rc = parse_blob(arg + 5, v, owned), what = "an even number of hex digits (blob:deadbeef)";
    else if (starts(arg, "text:"))
        *v = dbal_text(arg + 5);
    else
        *v = dbal_text(arg);
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
