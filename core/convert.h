/* Value conversions shared by every driver, so that a column read as an
 * integer, a double or a bool converts the same way on SQLite and
 * PostgreSQL. Text inputs are exactly len bytes (no NUL needed within). All
 * return DBAL_OK, DBAL_ETYPE (not that kind of value) or DBAL_ERANGE. */
#ifndef DBAL_CORE_CONVERT_H
#define DBAL_CORE_CONVERT_H

#include <stddef.h>
#include <stdint.h>

/* Optional sign and decimal digits, nothing else. */
int dbal__parse_int64(const char *s, size_t len, int64_t *out);
/* A decimal or exponent number, NaN, Infinity, -Infinity; locale-independent. */
int dbal__parse_double(const char *s, size_t len, double *out);
/* true/false, t/f, yes/no, y/n, on/off, 1/0 in any case, as PostgreSQL's boolin. */
int dbal__parse_bool(const char *s, size_t len, int *out);
/* Only integral values within int64's range convert. */
int dbal__double_to_int64(double d, int64_t *out);

#define DBAL__NUMBUF 40
/* The shortest text that reads back as d ("0.1", "1e+300", "NaN",
 * "-Infinity"), in PostgreSQL's spelling; returns its length. */
size_t dbal__format_double(double d, char buf[DBAL__NUMBUF]);
size_t dbal__format_int64(int64_t i, char buf[DBAL__NUMBUF]);

#endif
