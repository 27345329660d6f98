/* Placeholder handling: applications write `?`; PostgreSQL wants $1..$n. */
#ifndef DBAL_CORE_PLACEHOLDERS_H
#define DBAL_CORE_PLACEHOLDERS_H

#include <stddef.h>

/*
 * Rewrites each `?` placeholder of sql to $1..$n. A `?` inside a single-quoted
 * string ('' escapes, and E'...' with backslash escapes), a double-quoted
 * identifier, a -- comment, a nested C-style comment or a dollar-quoted body
 * ($$...$$, $tag$...$tag$) is left alone, and `??` outside those becomes one
 * literal `?` (for jsonb's ?, ?| and ?& operators). `::` casts are not
 * placeholders and pass through. *out is allocated with dbal__malloc,
 * NUL-terminated, its length in *out_len; *nparams receives n.
 * Returns DBAL_OK or DBAL_ENOMEM (then *out is NULL).
 */
int dbal__rewrite_dollar(const char *sql, char **out, size_t *out_len, int *nparams);

#endif
