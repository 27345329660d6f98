/* `?` placeholders: applications write `?`; PostgreSQL wants $1..$n. */
#ifndef DBAL_UTIL_SQL_PARAMS_H
#define DBAL_UTIL_SQL_PARAMS_H

#include <stddef.h>

/*
 * Rewrites each `?` placeholder of sql to $1..$n. A `?` inside a single-quoted
 * string ('' escapes, and E'...' with backslash escapes), a double-quoted
 * identifier, a -- comment, a nested C-style comment or a dollar-quoted body
 * ($$...$$, $tag$...$tag$) is left alone, and `??` outside those becomes one
 * literal `?` (for jsonb's ?, ?| and ?& operators). `::` casts are not
 * placeholders and pass through. Malformed input (an unterminated string,
 * comment or dollar quote) is copied to the end, so that the server, not
 * dbal, reports the syntax error. *out is allocated with alloc,
 * NUL-terminated, its length in *out_len; *nparams receives n.
 * Returns DBAL_OK or DBAL_ENOMEM (then *out is NULL).
 */
int dbal__sql_rewrite_dollar(const char *sql, void *(*alloc)(size_t), char **out, size_t *out_len,
                             int *nparams);

#endif
