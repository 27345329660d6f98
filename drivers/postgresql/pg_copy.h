/*
 * Batches of plain inserts through COPY (pg_copy.c), for pg_batch.c.
 */
#ifndef DBAL_PG_COPY_H
#define DBAL_PG_COPY_H

#include "pg_conn.h"

typedef struct pg_copy pg_copy;

/* *out is a plan to load the batch with COPY when sql is a plain INSERT
 * of placeholders into a table COPY can fill exactly as the INSERTs would,
 * else NULL (the pipeline does it). An error only when the catalog query
 * failed (the transaction is then aborted). */
int pg_copy_plan(pg_conn *c, const char *sql, size_t nparams, pg_copy **out, dbal_error *err);
void pg_copy_free(pg_copy *cp);
/* Sends rows from *i (*row is that row) through COPY until one does not
 * fit its columns: DBAL_DONE when every row went, DBAL_OK when the
 * pipeline must go on at *i with *row, else the failure (*failed_row set
 * when the server's error names the row). */
int pg_copy_run(pg_conn *c, pg_copy *cp, int (*next)(void *, size_t, const dbal_value **), void *ud,
                size_t *i, const dbal_value **row, int64_t *affected, size_t *failed_row, dbal_error *err);

#endif
