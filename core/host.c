/* The host table: what the core lends to driver modules, which do not link
 * libdbal themselves. */
#include "alloc.h"
#include "errors.h"
#include "loader.h"
#include "placeholders.h"

#include <stdarg.h>

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static void
host_set_error(dbal_error *err, int code, const char *sqlstate, int native_code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dbal__error_vset(err, code, sqlstate, native_code, fmt, ap);
    va_end(ap);
}

/* The loader as a driver that wraps another needs it: the same search, the
 * same checks, the same registry (a wrapped driver is loaded once). */
static int host_load_driver(const char *name, const dbal_driver **out, dbal_error *err)
{
    if (!out)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "load_driver: out is NULL");
    *out = NULL;
    return dbal__driver_find(name, out, err);
}

const dbal_host dbal__host = {
    .abi_version = DBAL_DRIVER_ABI_VERSION,
    .size = sizeof(dbal_host),
    .malloc = dbal__malloc,
    .realloc = dbal__realloc,
    .free = dbal__free,
    .rewrite_dollar = dbal__rewrite_dollar,
    .code_for_sqlstate = dbal__code_for_sqlstate,
    .set_error = host_set_error,
    .load_driver = host_load_driver,
};
