/* Filling dbal_error values and mapping SQLSTATEs to portable codes. */
#ifndef DBAL_CORE_ERRORS_H
#define DBAL_CORE_ERRORS_H

#include <dbal.h>
#include <stdarg.h>

/* Sets every field of err (which may be NULL); a NULL fmt uses the code's
 * fixed text. Returns code, so callers can `return dbal__error_set(...)`. */
int dbal__error_set(dbal_error *err, int code, const char *sqlstate, int native_code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
int dbal__error_vset(dbal_error *err, int code, const char *sqlstate, int native_code, const char *fmt,
                     va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 0)))
#endif
    ;
/* Resets err to DBAL_OK with empty strings. Accepts NULL. */
void dbal__error_clear(dbal_error *err);
/* Copies src into dst when dst is not NULL; returns src->code. */
int dbal__error_copy(dbal_error *dst, const dbal_error *src);

/* The portable code for a five-character SQLSTATE; DBAL_ERROR if unknown. */
int dbal__code_for_sqlstate(const char *sqlstate);

#endif
