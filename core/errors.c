#include "errors.h"

#include <stdio.h>
#include <string.h>

const char *dbal_strerror(int code)
{
    switch (code) {
#define DBAL__CODE_TEXT(name, value, text) \
    case value: return text;
        DBAL_CODE_MAP(DBAL__CODE_TEXT)
#undef DBAL__CODE_TEXT
    }
    return "unknown error code";
}

const char *dbal_code_name(int code)
{
    switch (code) {
#define DBAL__CODE_NAME(name, value, text) \
    case value: return "DBAL_" #name;
        DBAL_CODE_MAP(DBAL__CODE_NAME)
#undef DBAL__CODE_NAME
    }
    return "DBAL_UNKNOWN";
}

void dbal__error_clear(dbal_error *err)
{
    if (!err)
        return;
    err->code = DBAL_OK;
    err->sqlstate[0] = '\0';
    err->native_code = 0;
    err->constraint[0] = '\0';
    err->message[0] = '\0';
}

int dbal__error_vset(dbal_error *err, int code, const char *sqlstate, int native_code, const char *fmt,
                     va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    err->native_code = native_code;
    err->constraint[0] = '\0';
    if (sqlstate && strlen(sqlstate) == 5)
        memcpy(err->sqlstate, sqlstate, 6);
    else
        err->sqlstate[0] = '\0';
    if (fmt)
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    else
        snprintf(err->message, sizeof err->message, "%s", dbal_strerror(code));
    /* A message is one line: log lines and HTTP answers built from it stay intact. */
    for (char *p = err->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}

int dbal__error_set(dbal_error *err, int code, const char *sqlstate, int native_code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dbal__error_vset(err, code, sqlstate, native_code, fmt, ap);
    va_end(ap);
    return code;
}

int dbal__error_copy(dbal_error *dst, const dbal_error *src)
{
    if (dst && dst != src)
        *dst = *src;
    return src->code;
}

/* Exact SQLSTATEs first, then whole classes (the first two characters). */
static const struct {
    const char *state;
    int code;
} exact[] = {
    {"23505", DBAL_EUNIQUE},    {"23503", DBAL_EFOREIGNKEY},    {"23502", DBAL_ENOTNULL},
    {"23514", DBAL_ECHECK},     {"40001", DBAL_ESERIALIZATION}, {"40P01", DBAL_EDEADLOCK},
    {"42601", DBAL_ESYNTAX},    {"42P01", DBAL_EUNDEFINED},     {"42703", DBAL_EUNDEFINED},
    {"42883", DBAL_EUNDEFINED}, {"42704", DBAL_EUNDEFINED},     {"42P02", DBAL_EUNDEFINED},
    {"42501", DBAL_EPERM},      {"57014", DBAL_ECANCELED},      {"57P01", DBAL_ECONNLOST},
    {"57P02", DBAL_ECONNLOST},  {"57P03", DBAL_ECONNECT},       {"57P05", DBAL_ECONNLOST},
    {"25P02", DBAL_ETXFAILED},  {"25P03", DBAL_ECONNLOST},      {"25006", DBAL_EREADONLY},
    {"22003", DBAL_ERANGE},     {"22012", DBAL_EDATA},          {"53300", DBAL_ECONNECT},
    {"53200", DBAL_ENOMEM},     {"55P03", DBAL_EBUSY},          {"0A000", DBAL_EUNSUPPORTED},
    {"08001", DBAL_ECONNECT},   {"08004", DBAL_ECONNECT},       {"26000", DBAL_EMISUSE},
    {"42804", DBAL_EDATA},      {"XX000", DBAL_ERROR},
};

static const struct {
    const char *cls;
    int code;
} classes[] = {
    {"23", DBAL_ECONSTRAINT}, {"08", DBAL_ECONNLOST},      {"22", DBAL_EDATA},
    {"28", DBAL_ECONNECT},    {"40", DBAL_ESERIALIZATION}, {"42", DBAL_ERROR},
};

int dbal__code_for_sqlstate(const char *s)
{
    if (!s || strlen(s) != 5)
        return DBAL_ERROR;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (memcmp(s, exact[i].state, 5) == 0)
            return exact[i].code;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (memcmp(s, classes[i].cls, 2) == 0)
            return classes[i].code;
    return DBAL_ERROR;
}
