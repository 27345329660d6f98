/* The engine options as data (from DBAL__ENGINE_OPTION_MAP), and the one
 * rule that checks them, whether they come from a URL or from
 * dbal_engine_options. */
#include "engine_options.h"

#include "alloc.h"
#include "errors.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT_IS_PUBLIC_PUBLIC 1
#define OPT_IS_PUBLIC_URL 0
#define OPT_OFFSET_PUBLIC(field) offsetof(dbal_engine_options, field)
#define OPT_OFFSET_URL(field) 0
#define OPT_SIZE_PUBLIC(field) sizeof(((dbal_engine_options *)0)->field)
#define OPT_SIZE_URL(field) 0

/* One row of the table per option. */
/* clang-format off */
#define OPT_ROW(key, field, kind, lo, hi, special, word, def, where, doc)                              \
    {#key, DBAL__OPT_##kind, lo, hi, special, def, #lo, #hi, #special, word, #def,                       \
     offsetof(dbal__engine_opts, field), OPT_IS_PUBLIC_##where, OPT_OFFSET_##where(field),               \
     OPT_SIZE_##where(field)},
const dbal__engine_option dbal__engine_options[] = {DBAL__ENGINE_OPTION_MAP(OPT_ROW)};
#undef OPT_ROW
/* clang-format on */
const size_t dbal__engine_noptions = sizeof dbal__engine_options / sizeof dbal__engine_options[0];

/* include/dbal.h writes dbal_engine_options by hand, for its comments: it
 * must have the table's PUBLIC fields, in the table's order, with their
 * types, and nothing else (it is ABI). A struct built from the table has
 * the same size and every field at the same offset. */
struct options_from_table {
    size_t size;
#define OPT_MIRROR(key, field, kind, lo, hi, special, word, def, where, doc) \
    DBAL__OPT_IF_##where(DBAL__OPT_PUBLIC_CTYPE_##kind field;)
    DBAL__ENGINE_OPTION_MAP(OPT_MIRROR)
#undef OPT_MIRROR
};
_Static_assert(sizeof(struct options_from_table) == sizeof(dbal_engine_options),
               "dbal_engine_options and DBAL__ENGINE_OPTION_MAP's PUBLIC rows differ");
#define OPT_SAME(key, field, kind, lo, hi, special, word, def, where, doc)                                 \
    DBAL__OPT_IF_##where(                                                                                  \
        _Static_assert(offsetof(struct options_from_table, field) == offsetof(dbal_engine_options, field), \
                       "dbal_engine_options." #field " is not where DBAL__ENGINE_OPTION_MAP puts it");     \
        _Static_assert(_Generic(((dbal_engine_options *)0)->field, DBAL__OPT_PUBLIC_CTYPE_##kind : 1,      \
                                default : 0),                                                              \
                       "dbal_engine_options." #field " has another type in DBAL__ENGINE_OPTION_MAP");)
DBAL__ENGINE_OPTION_MAP(OPT_SAME)
#undef OPT_SAME
/* Same size and offsets leave room for a field of the header's in padding:
 * one positional initializer per PUBLIC row must fill every field. */
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wmissing-field-initializers"
#define OPT_ZERO(key, field, kind, lo, hi, special, word, def, where, doc) DBAL__OPT_IF_##where(0, )
_Static_assert(sizeof((dbal_engine_options){0, DBAL__ENGINE_OPTION_MAP(OPT_ZERO)}) != 0,
               "dbal_engine_options has a field DBAL__ENGINE_OPTION_MAP lacks");
#undef OPT_ZERO
#pragma GCC diagnostic pop

static const struct {
    const char *word, *constant;
    int value;
} pool_reset_values[] = {
#define OPT_RESET_VALUE(word, constant) {#word, #constant, constant},
    DBAL__POOL_RESET_MAP(OPT_RESET_VALUE)
#undef OPT_RESET_VALUE
};
#define NRESET (sizeof pool_reset_values / sizeof pool_reset_values[0])

static int is_number(const dbal__engine_option *opt)
{
    return opt->kind == DBAL__OPT_COUNT || opt->kind == DBAL__OPT_MILLIS || opt->kind == DBAL__OPT_SECONDS;
}

/* In dbal_engine_options, a number below this is "unset": below 0, or
 * below the named value when that is negative (pool_recycle's -1). */
static double unset_below(const dbal__engine_option *opt)
{
    return opt->word && opt->special < 0 ? opt->special : 0;
}

const char *dbal__engine_option_range(const dbal__engine_option *opt, int in_code, char *buf, size_t cap)
{
    if (opt->kind == DBAL__OPT_BOOL)
        return "true or false";
    if (opt->kind == DBAL__OPT_HOSTS)
        return "a list of host[:port]";
    size_t n = 0;
    buf[0] = '\0';
    if (opt->kind == DBAL__OPT_POOL_RESET) {
        for (size_t i = 0; i < NRESET && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", i == 0 ? "" : " or ",
                                  in_code ? pool_reset_values[i].constant : pool_reset_values[i].word);
        return buf;
    }
    const char *unit = opt->kind == DBAL__OPT_COUNT    ? "an integer"
                       : opt->kind == DBAL__OPT_MILLIS ? "milliseconds, an integer"
                                                       : "a number of seconds";
    n = (size_t)snprintf(buf, cap, "%s from %s to %s", unit, opt->lo_text, opt->hi_text);
    if (opt->word && n < cap) {
        if (opt->special >= opt->lo && opt->special <= opt->hi)
            snprintf(buf + n, cap - n, " (%s: %s)", opt->special_text, opt->word);
        else
            snprintf(buf + n, cap - n, ", or %s (%s)", opt->special_text, opt->word);
    }
    return buf;
}

static const dbal__engine_option *find(const char *key)
{
    for (size_t i = 0; i < dbal__engine_noptions; i++)
        if (strcmp(dbal__engine_options[i].key, key) == 0)
            return &dbal__engine_options[i];
    return NULL;
}

/* "<prefix><key> must be <range>", with code. */
static int refuse(const dbal__engine_option *opt, int in_code, const char *prefix, int code, dbal_error *err)
{
    char range[128];
    return dbal__error_set(err, code, NULL, 0, "%s%s must be %s", prefix, opt->key,
                           dbal__engine_option_range(opt, in_code, range, sizeof range));
}

/* NaN fails every comparison. A time is at most 1e9 seconds (31 years):
 * enough for "never", and a deadline computed from it cannot overflow. */
static int number_ok(const dbal__engine_option *opt, double v)
{
    if (opt->word && v == opt->special)
        return 1;
    return v >= opt->lo && v <= opt->hi && (opt->kind == DBAL__OPT_SECONDS || v == floor(v));
}

int dbal__engine_option_check(const char *name, double v, const char *prefix, int code, dbal_error *err)
{
    const dbal__engine_option *opt = find(name);
    if (!opt || !is_number(opt))
        return dbal__error_set(err, code, NULL, 0, "%sunknown engine option %s", prefix, name);
    return number_ok(opt, v) ? DBAL_OK : refuse(opt, 0, prefix, code, err);
}

void dbal__engine_opts_default(dbal__engine_opts *o)
{
#define OPT_DEFAULT(key, field, kind, lo, hi, special, word, def, where, doc) .field = def,
    *o = (dbal__engine_opts){DBAL__ENGINE_OPTION_MAP(OPT_DEFAULT)};
#undef OPT_DEFAULT
}

void dbal__engine_opts_release(dbal__engine_opts *o)
{
    for (size_t i = 0; i < dbal__engine_noptions; i++) {
        if (dbal__engine_options[i].kind != DBAL__OPT_HOSTS)
            continue;
        char **list = (char **)((char *)o + dbal__engine_options[i].offset);
        dbal__free(*list);
        *list = NULL;
    }
}

/* Stores a checked value in the field at `at` of the option's kind. */
static void store(const dbal__engine_option *opt, void *at, double v)
{
    if (opt->kind == DBAL__OPT_SECONDS)
        *(double *)at = v;
    else
        *(int *)at = (int)v;
}

/* Adds a list to the one at *list (a URL's replica= is repeatable, and each
 * may be a list: all are joined), or replaces it (from code). */
static int take_list(char **list, const char *v, int append, dbal_error *err)
{
    size_t have = append && *list ? strlen(*list) : 0, n = strlen(v);
    char *joined = dbal__malloc(have + n + 2);
    if (!joined)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    if (have)
        memcpy(joined, *list, have);
    snprintf(joined + have, n + 2, "%s%s", have ? "," : "", v);
    dbal__free(*list);
    *list = joined;
    return DBAL_OK;
}

/* The number v says, or NaN when it is not one (of the kind the option
 * takes), which the check then refuses. */
static double parse_number(const char *v, int integer)
{
    char *end;
    errno = 0;
    double x = integer ? (double)strtol(v, &end, 10) : strtod(v, &end);
    return !*v || *end || errno ? NAN : x;
}

static int parse_bool(const char *v)
{
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0)
            return 1;
        if (strcmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

int dbal__engine_opts_from_url(dbal__engine_opts *o, const char *key, const char *v, dbal_error *err)
{
    static const char prefix[] = "bad database URL: ";
    const dbal__engine_option *opt = find(key);
    if (!opt)
        return 0;
    void *at = (char *)o + opt->offset;
    double x = NAN;
    switch (opt->kind) {
    case DBAL__OPT_COUNT:
    case DBAL__OPT_MILLIS:
    case DBAL__OPT_SECONDS:
        x = parse_number(v, opt->kind != DBAL__OPT_SECONDS);
        if (!number_ok(opt, x))
            return -refuse(opt, 0, prefix, DBAL_EURL, err);
        break;
    case DBAL__OPT_BOOL:
        if ((x = parse_bool(v)) < 0)
            return -refuse(opt, 0, prefix, DBAL_EURL, err);
        break;
    case DBAL__OPT_POOL_RESET:
        for (size_t i = 0; i < NRESET; i++)
            if (strcmp(v, pool_reset_values[i].word) == 0)
                x = pool_reset_values[i].value;
        if (isnan(x))
            return -refuse(opt, 0, prefix, DBAL_EURL, err);
        break;
    case DBAL__OPT_HOSTS: return take_list(at, v, 1, err) == DBAL_OK ? 1 : -DBAL_ENOMEM;
    }
    store(opt, at, x);
    return 1;
}

void dbal__engine_options_unset(dbal_engine_options *in)
{
    memset(in, 0, sizeof *in);
    in->size = sizeof *in;
    for (size_t i = 0; i < dbal__engine_noptions; i++) {
        const dbal__engine_option *opt = &dbal__engine_options[i];
        void *at = (char *)in + opt->public_offset;
        if (!opt->public || opt->kind == DBAL__OPT_HOSTS)
            continue; /* a list is unset when NULL */
        store(opt, at, is_number(opt) ? unset_below(opt) - 1 : -1);
    }
}

int dbal__engine_opts_apply(dbal__engine_opts *o, const dbal_engine_options *in, dbal_error *err)
{
    static const char prefix[] = "dbal_engine_options: ";
    if (!in)
        return DBAL_OK;
    if (in->size < sizeof(size_t) || in->size > sizeof *in)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                               "dbal_engine_options was not set up with dbal_engine_options_init()");
    for (size_t i = 0; i < dbal__engine_noptions; i++) {
        const dbal__engine_option *opt = &dbal__engine_options[i];
        /* A field the caller's (older) header did not have is unset. */
        if (!opt->public || opt->public_offset + opt->public_size > in->size)
            continue;
        const void *from = (const char *)in + opt->public_offset;
        void *at = (char *)o + opt->offset;
        if (opt->kind == DBAL__OPT_HOSTS) {
            const char *list = *(const char *const *)from;
            if (list && take_list(at, list, 0, err) != DBAL_OK)
                return DBAL_ENOMEM;
            continue;
        }
        double v = opt->kind == DBAL__OPT_SECONDS ? *(const double *)from : *(const int *)from;
        /* Unset: negative (NaN is not below anything, and -infinity is an
         * infinity: both are set, and refused). */
        if (v < unset_below(opt) && !isinf(v))
            continue;
        int ok = is_number(opt) ? number_ok(opt, v) : opt->kind == DBAL__OPT_BOOL ? v == 0 || v == 1 : 0;
        for (size_t k = 0; opt->kind == DBAL__OPT_POOL_RESET && k < NRESET; k++)
            ok |= v == pool_reset_values[k].value;
        if (!ok)
            return refuse(opt, 1, prefix, DBAL_EINVAL, err);
        store(opt, at, v);
    }
    return DBAL_OK;
}
