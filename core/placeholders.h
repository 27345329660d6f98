/* Placeholder handling: applications write `?`; PostgreSQL wants $1..$n. */
#ifndef DBAL_CORE_PLACEHOLDERS_H
#define DBAL_CORE_PLACEHOLDERS_H

#include <stddef.h>

/* dbal__sql_rewrite_dollar (util/sql_params.h) with the core's allocator. */
int dbal__rewrite_dollar(const char *sql, char **out, size_t *out_len, int *nparams);

#endif
