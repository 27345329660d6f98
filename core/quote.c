/* Identifier quoting for the rare name that must be chosen at run time. */
#include <dbal.h>

#include <string.h>

int dbal_quote_ident(const char *name, char *out, size_t cap)
{
    if (out && cap)
        out[0] = '\0';
    if (!name || !*name || strlen(name) > 1024 || !out)
        return DBAL_EINVAL;
    size_t need = 3; /* two quotes and the NUL */
    for (const char *p = name; *p; p++)
        need += *p == '"' ? 2 : 1;
    if (need > cap)
        return DBAL_ERANGE;
    char *o = out;
    *o++ = '"';
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            *o++ = '"';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    return DBAL_OK;
}
