/* `?` placeholders on the PostgreSQL dialect of the one SQL scanner
 * (util/sql_params.c, linked into the driver), and the parameter count the
 * driver owns: a statement whose placeholders and parameters disagree is
 * DBAL_EMISUSE and never sent. */
#include "pg_stmt.h"

#include "sql_params.h"

int pg_stmt_rewrite(const char *sql, size_t nparams, char **out, dbal_error *err)
{
    int count;
    size_t len;
    if (dbal__sql_rewrite_dollar(sql, pg_host->malloc, out, &len, &count) != DBAL_OK)
        return pg_error_nomem(err);
    if (count < 0 || (size_t)count != nparams) {
        pg_host->free(*out);
        *out = NULL;
        pg_host->set_error(err, DBAL_EMISUSE, NULL, 0,
                           "statement has %d placeholder%s, %zu parameter%s given", count,
                           count == 1 ? "" : "s", nparams, nparams == 1 ? "" : "s");
        return DBAL_EMISUSE;
    }
    return DBAL_OK;
}
