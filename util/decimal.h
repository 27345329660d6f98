/*
 * decimal.h - exact decimal text (SQL NUMERIC values) without going
 * through a double: checking it, counting its significant digits, taking
 * an integer out of it exactly, and writing a double as such a text. The
 * C locale is never consulted.
 */
#ifndef DBAL_UTIL_DECIMAL_H
#define DBAL_UTIL_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum dbal__num_kind {
    DBAL__NUM_FINITE = 0,
    DBAL__NUM_NAN = 1,
    DBAL__NUM_INF = 2,    /* Infinity */
    DBAL__NUM_NEG_INF = 3 /* -Infinity */
} dbal__num_kind;

/* What a numeric text holds. A finite value is sig digits d1..dn (no
 * leading or trailing zeros), the last of them at power of ten `low`
 * ("19.90": 199, low -1); zero has nsig 0. */
typedef struct dbal__num {
    dbal__num_kind kind;
    bool neg;
    long nsig;
    long low;
} dbal__num;

/* Reads [+-]digits[.digits][e[+-]digits] (digits on at least one side of
 * the point; an exponent of at most six digits), NaN, [+-]Infinity or
 * [+-]inf in any case: what PostgreSQL's numeric input takes, without its
 * surrounding spaces. DBAL_OK or DBAL_ETYPE. */
int dbal__num_scan(const char *s, size_t len, dbal__num *out);

/* The value as an int64 when it is exactly one: DBAL_OK, DBAL_ETYPE (not
 * numeric text, a fraction, NaN, an infinity) or DBAL_ERANGE. */
int dbal__num_to_int64(const char *s, size_t len, int64_t *out);

/*
 * A double as numeric text in fixed notation, from its 15 significant
 * digits (so that what was written with 15 or fewer reads back as
 * written), rounded half away from zero to `scale` decimals and padded to
 * them when scale >= 0, as a NUMERIC(p, scale) column shows it; all its
 * digits when scale < 0. NaN, Infinity, -Infinity as PostgreSQL spells
 * them; never "-0". Returns the length, or 0 when cap is too small.
 */
size_t dbal__num_from_double(double d, int scale, char *buf, size_t cap);

#endif
