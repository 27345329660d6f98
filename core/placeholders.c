/* `?` to `$n` rewriting, lent to drivers through the host table (the
 * scanner itself is util/sql_params.c, which the PostgreSQL driver links). */
#include "placeholders.h"

#include "alloc.h"
#include "sql_params.h"

int dbal__rewrite_dollar(const char *sql, char **out, size_t *out_len, int *nparams)
{
    return dbal__sql_rewrite_dollar(sql, dbal__malloc, out, out_len, nparams);
}
