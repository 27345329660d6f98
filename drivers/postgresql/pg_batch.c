/*
 * Batches: plain inserts through COPY where it does the same (pg_copy.c),
 * everything else through libpq's pipeline mode: the rows of one statement are sent
 * back to back and their results read afterwards, so a batch of N rows costs
 * N / CHUNK round trips instead of N. The core runs every batch inside a
 * transaction, so the syncs between chunks commit nothing.
 */
#include "pg_copy.h"
#include "pg_driver.h"

#include <stdlib.h>
#include <string.h>

/* Rows sent before their results are read. Bounded so that neither side's
 * socket buffer can fill while the other waits (the deadlock libpq's
 * pipeline documentation warns of): a chunk of small results is far below
 * the kernel's buffer sizes. */
#define CHUNK 256

typedef struct {
    pg_conn *c;
    const char *sql;
    size_t n, sql_len;
    char name[PG_STMT_NAME_LEN]; /* the prepared statement of the first row's types */
    char *sig;                   /* its type letters */
    char *text;                  /* ? rewritten, for rows whose types differ; made lazily */
    int64_t affected;
    size_t failed_row;
    int rc;
} batch;

/* Sends row i: as the prepared statement when its non-NULL values have the
 * prepared types, else with its own types (NULLs fit any type). */
static int send_row(batch *b, const dbal_value *row, dbal_error *err)
{
    pg_conn *c = b->c;
    int rc = pg_stmts_bind(&c->stmts, row, b->n, err);
    if (rc != DBAL_OK)
        return rc;
    const char *sig = c->stmts.sig;
    int same = 1;
    for (size_t k = 0; k < b->n && same; k++)
        same = sig[k] == b->sig[k] || row[k].type == DBAL_TYPE_NULL;
    const pg_params *p = &c->stmts.params;
    int ok;
    if (same) {
        ok = PQsendQueryPrepared(c->wire.pg, b->name, (int)b->n, p->values, p->lengths, p->formats, 0);
    } else {
        if (!b->text && (rc = pg_stmt_rewrite(b->sql, b->n, &b->text, err)) != DBAL_OK)
            return rc;
        ok = PQsendQueryParams(c->wire.pg, b->text, (int)b->n, p->types, p->values, p->lengths, p->formats,
                               0);
    }
    return ok ? DBAL_OK : pg_error_conn(&c->wire, err);
}

/* Reads the results of rows [first, first + count) and the sync after them. */
static void read_chunk(batch *b, size_t first, size_t count, dbal_error *err)
{
    pg_conn *c = b->c;
    for (size_t i = 0; i < count; i++) {
        PGresult *res;
        while ((res = pg_wire_result(&c->wire)) != NULL) {
            ExecStatusType st = PQresultStatus(res);
            if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
                b->affected += strtoll(PQcmdTuples(res), NULL, 10);
            } else if (st != PGRES_PIPELINE_ABORTED && b->rc == DBAL_OK) {
                b->rc = pg_error_result(&c->wire, res, err);
                b->failed_row = first + i;
            }
            PQclear(res);
        }
        if (c->wire.base.broken) {
            if (c->wire.gave_up && b->rc == DBAL_OK)
                b->rc = pg_wire_error(&c->wire, err);
            return;
        }
    }
    PGresult *sync = pg_wire_result(&c->wire); /* PGRES_PIPELINE_SYNC */
    if (!sync && b->rc == DBAL_OK)
        b->rc = pg_error_conn(&c->wire, err);
    PQclear(sync);
}

/* Prepares for the first row's types, outside pipeline mode (PQprepare
 * is not allowed in it). */
static int prepare_first(batch *b, const dbal_value *row, dbal_error *err)
{
    pg_conn *c = b->c;
    int rc = pg_stmts_bind(&c->stmts, row, b->n, err);
    if (rc == DBAL_OK)
        rc = pg_stmt_prepare_for(&c->stmts, b->sql, b->n, b->sql_len, b->name, err);
    if (rc != DBAL_OK)
        return rc;
    if (!(b->sig = pg_host->malloc(b->n + 1)))
        return pg_error_nomem(err);
    memcpy(b->sig, c->stmts.sig, b->n);
    return DBAL_OK;
}

/* Sends up to CHUNK rows from *i (the row at `start`, *row, is fetched
 * already); *more becomes 0 when the row source has no more or fails (then
 * b->rc). Returns how many rows went. */
static size_t send_chunk(batch *b, int (*next)(void *, size_t, const dbal_value **), void *ud, size_t start,
                         size_t *i, const dbal_value **row, int *more, dbal_error *err)
{
    size_t sent = 0;
    int rc;
    while (*more && b->rc == DBAL_OK && sent < CHUNK) {
        if (*i > start && (rc = next(ud, *i, row)) != DBAL_OK) {
            *more = 0;
            if (rc != DBAL_DONE) { /* the row source gave up: stop after what was sent */
                if (!(rc == DBAL_EINVAL && err->code == DBAL_EINVAL))
                    pg_host->set_error(err, rc, NULL, 0, "the batch's row source failed at row %zu", *i);
                b->rc = rc;
            }
            break;
        }
        if ((rc = send_row(b, *row, err)) != DBAL_OK) {
            b->rc = rc;
            b->failed_row = *i;
            break;
        }
        ++*i;
        sent++;
    }
    return sent;
}

/* Sends rows from `start` (whose row is `row`) in chunks, each followed by
 * a sync; the next chunk goes out before the previous one's results are
 * read, so that the server always has work while the client reads. */
static int run_pipeline(batch *b, int (*next)(void *, size_t, const dbal_value **), void *ud, size_t start,
                        const dbal_value *row, dbal_error *err)
{
    pg_conn *c = b->c;
    int rc;
    if ((rc = prepare_first(b, row, err)) != DBAL_OK) {
        b->failed_row = start;
        return rc;
    }
    c->wire.in_doubt = pg_wire_in_doubt(&c->wire, b->sql);
    if (!PQenterPipelineMode(c->wire.pg))
        return pg_error_conn(&c->wire, err);
    size_t i = start, prev_first = 0, prev_count = 0;
    int more = 1;
    dbal_error later;
    while (more || prev_count) {
        size_t first = i;
        size_t sent = send_chunk(b, next, ud, start, &i, &row, &more, err);
        if (b->rc != DBAL_OK)
            more = 0;
        if (sent > 0 && !PQpipelineSync(c->wire.pg)) {
            if (b->rc == DBAL_OK)
                b->rc = pg_error_conn(&c->wire, err);
            break;
        }
        if (prev_count > 0) {
            read_chunk(b, prev_first, prev_count, b->rc == DBAL_OK ? err : &later);
            if (b->rc != DBAL_OK)
                more = 0;
        }
        if (c->wire.base.broken)
            break;
        prev_first = first;
        prev_count = sent;
    }
    if (!c->wire.base.broken)
        PQexitPipelineMode(c->wire.pg);
    return b->rc;
}

static int run(batch *b, int (*next)(void *, size_t, const dbal_value **), void *ud, dbal_error *err)
{
    const dbal_value *row;
    int rc = next(ud, 0, &row);
    if (rc == DBAL_DONE)
        return DBAL_OK;
    if (rc != DBAL_OK)
        return rc;
    size_t i = 0;
    pg_copy *cp;
    if ((rc = pg_copy_plan(b->c, b->sql, b->n, &cp, err)) != DBAL_OK) {
        b->failed_row = 0;
        return rc;
    }
    if (cp) {
        rc = pg_copy_run(b->c, cp, next, ud, &i, &row, &b->affected, &b->failed_row, err);
        pg_copy_free(cp);
        if (rc == DBAL_DONE)
            return DBAL_OK;
        if (rc != DBAL_OK)
            return rc;
    }
    return run_pipeline(b, next, ud, i, row, err);
}

int pg_exec_batch(dbal_driver_conn *base, const char *sql, size_t nparams,
                  int (*next)(void *ud, size_t i, const dbal_value **row), void *ud, int64_t *affected,
                  size_t *failed_row, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    int rc = pg_conn_ready(c, err);
    if (rc != DBAL_OK) {
        *failed_row = (size_t)-1;
        return rc;
    }
    batch b = {.c = c, .sql = sql, .n = nparams, .failed_row = (size_t)-1};
    b.sql_len = strlen(sql);
    rc = run(&b, next, ud, err);
    pg_host->free(b.sig);
    pg_host->free(b.text);
    *failed_row = b.failed_row;
    if (rc == DBAL_OK)
        *affected = b.affected;
    return rc;
}
