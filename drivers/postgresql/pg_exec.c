/*
 * The application's statements: exec (rows discarded) and query (a
 * streamed cursor), each made ready, sent and recovered from a stale
 * cached statement here; and last_insert_id.
 */
#include "pg_driver.h"

#include <stdlib.h>
#include <string.h>

static int is_copy(ExecStatusType st)
{
    return st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH;
}

static int refuse_copy(dbal_error *err)
{
    pg_host->set_error(err, DBAL_EUNSUPPORTED, "0A000", 0,
                       "COPY is not supported by dbal; use INSERT or a query");
    return DBAL_EUNSUPPORTED;
}

/* Sends sql with params in single-row mode, through the statement cache
 * when it is on, and returns its first result (never NULL on DBAL_OK),
 * which the caller clears. A stale cached statement is re-prepared and
 * sent again once when that is safe. */
static int send_statement(pg_conn *c, const char *sql, const dbal_value *params, size_t n, PGresult **first,
                          dbal_error *err)
{
    size_t sql_len = strlen(sql);
    int rc = pg_conn_ready(c, err);
    if (rc == DBAL_OK)
        rc = pg_stmts_bind(&c->stmts, params, n, err);
    if (rc != DBAL_OK)
        return rc;
    /* Outside a transaction block the failed attempt changed nothing, so
     * running the statement again is invisible to the application. Inside
     * one, the failure has aborted the transaction: the caller gets it. */
    int retry_ok = PQtransactionStatus(c->wire.pg) == PQTRANS_IDLE;
    pg_stmt *hit;
    rc = pg_settings_wrap(c, err);
    if (rc == DBAL_OK)
        rc = pg_stmt_send(&c->stmts, sql, n, sql_len, &hit, first, err);
    if (rc == DBAL_ERROR && pg_stmt_name_taken(&c->stmts, err))
        return retry_ok ? send_statement(c, sql, params, n, first, err) : rc;
    if (rc != DBAL_OK) {
        dbal_error ignored;
        pg_stmt_unwrap(&c->stmts, &ignored);
        return rc;
    }
    return pg_stmt_recover(&c->stmts, sql, n, sql_len, hit, retry_ok, first, err);
}

/* Folds one result of exec into rc (the first error wins) and *count. */
static int exec_result(pg_conn *c, PGresult *res, int rc, int64_t *count, dbal_error *err)
{
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        *count = strtoll(PQcmdTuples(res), NULL, 10);
    else if (is_copy(st))
        rc = rc == DBAL_OK ? refuse_copy(err) : rc;
    else if (st != PGRES_SINGLE_TUPLE && st != PGRES_EMPTY_QUERY && rc == DBAL_OK)
        rc = pg_error_result(&c->wire, res, err);
    return rc;
}

int pg_exec(dbal_driver_conn *base, const char *sql, const dbal_value *params, size_t nparams,
            int64_t *affected, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    PGresult *res;
    int rc = send_statement(c, sql, params, nparams, &res, err);
    if (rc != DBAL_OK)
        return rc;
    int64_t count = 0;
    /* Read to the end: rows are discarded one by one as they arrive. */
    while (res) {
        ExecStatusType st = PQresultStatus(res);
        rc = exec_result(c, res, rc, &count, err);
        PQclear(res);
        if (is_copy(st))
            break;
        res = pg_wire_result(&c->wire);
    }
    pg_wire_drain(&c->wire);
    dbal_error commit_err;
    int crc = pg_stmt_unwrap(&c->stmts, &commit_err);
    if (rc == DBAL_OK && crc != DBAL_OK) {
        *err = commit_err;
        rc = crc;
    }
    /* A COMMIT run as SQL, or an autocommit statement: its commit may
     * have ended the wait for the synchronous standby early. */
    rc = pg_error_syncrep(&c->wire, rc, err);
    if ((rc == DBAL_OK || rc == DBAL_ENOTREPLICATED) && affected)
        *affected = count;
    return rc;
}

int pg_query(dbal_driver_conn *base, const char *sql, const dbal_value *params, size_t nparams,
             dbal_driver_rows **out, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    PGresult *res;
    *out = NULL;
    int rc = send_statement(c, sql, params, nparams, &res, err);
    if (rc != DBAL_OK)
        return rc;
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK ||
        st == PGRES_EMPTY_QUERY) {
        pg_rows *r;
        rc = pg_rows_open(&c->stmts, res, &r, err);
        if (rc == DBAL_OK)
            *out = &r->base;
        return rc;
    }
    /* Errors reported before the first row belong to query(). */
    rc = is_copy(st) ? refuse_copy(err) : pg_error_result(&c->wire, res, err);
    PQclear(res);
    pg_wire_drain(&c->wire);
    dbal_error ignored;
    pg_stmt_unwrap(&c->stmts, &ignored);
    return rc;
}

int pg_last_insert_id(dbal_driver_conn *base, int64_t *out, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    PGresult *res;
    int rc = pg_simple(c, "SELECT lastval()", PGRES_TUPLES_OK, &res, err);
    if (rc != DBAL_OK) {
        /* 55000: lastval is not yet defined in this session. */
        if (strcmp(err->sqlstate, "55000") == 0) {
            pg_host->set_error(err, DBAL_EMISUSE, "55000", 0,
                               "no sequence value has been generated in this session");
            return DBAL_EMISUSE;
        }
        return rc;
    }
    *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return DBAL_OK;
}
