/* Batches: one statement, many parameter rows, all or nothing. */
#include "session.h"

#include "alloc.h"
#include "errors.h"
#include "values.h"

typedef struct {
    /* array form */
    const dbal_value *rows;
    size_t nrows;
    /* callback form */
    dbal_batch_fn fn;
    void *userdata;
    dbal_value *buf;
    size_t ncols;
} row_source;

static int next_from_array(void *ud, size_t i, const dbal_value **row)
{
    row_source *src = ud;
    if (i >= src->nrows)
        return DBAL_DONE;
    *row = src->rows + i * src->ncols;
    return DBAL_OK;
}

static int next_from_fn(void *ud, size_t i, const dbal_value **row)
{
    row_source *src = ud;
    int rc = src->fn(src->userdata, i, src->buf);
    *row = src->buf;
    return rc;
}

/* Without a driver batch: exec per row; the statement cache makes it one
 * prepared statement. */
static int exec_each(dbal_session *s, const char *sql, size_t ncols,
                     int (*next)(void *, size_t, const dbal_value **), void *ud, int64_t *affected,
                     size_t *failed_row)
{
    const dbal_driver *d = s->engine->driver;
    for (size_t i = 0;; i++) {
        const dbal_value *row;
        int rc = next(ud, i, &row);
        if (rc == DBAL_DONE)
            return DBAL_OK;
        if (rc == DBAL_EINVAL && s->err.code == DBAL_EINVAL)
            return rc;
        if (rc)
            return dbal__error_set(&s->err, rc, NULL, 0, "the batch's row source failed at row %zu", i);
        int64_t n = 0;
        rc = d->exec(s->conn->dc, sql, row, ncols, &n, &s->err);
        if (rc) {
            *failed_row = i;
            return rc;
        }
        *affected += n;
    }
}

/* The checks dbal_exec makes, for each row of a batch. */
typedef struct checked {
    int (*next)(void *, size_t, const dbal_value **);
    void *ud;
    size_t ncols;
    dbal_session *s;
} checked;

static int next_checked(void *ud, size_t i, const dbal_value **row)
{
    checked *c = ud;
    int rc = c->next(c->ud, i, row);
    if (rc != DBAL_OK)
        return rc;
    for (size_t k = 0; k < c->ncols; k++) {
        const char *why, *sqlstate;
        rc = dbal__value_check(c->s->engine->driver, &(*row)[k], &why, &sqlstate);
        if (rc)
            return dbal__error_set(&c->s->err, rc, sqlstate, 0, "row %zu, parameter %zu %s", i, k + 1, why);
    }
    return DBAL_OK;
}

/* Whether a batch that failed with rc may name a row as the one that
 * failed: a constraint the row violates, a value that does not fit its
 * column, or another database error met at that row (a trigger's RAISE).
 * A lost connection, a cancel, a timeout, a lock or serialization
 * conflict, a statement refused whatever its values, memory: the batch
 * failed, no row did, whatever row the driver was at. */
static int row_may_fail(int rc)
{
    switch (rc) {
    case DBAL_EUNIQUE:
    case DBAL_EFOREIGNKEY:
    case DBAL_ENOTNULL:
    case DBAL_ECHECK:
    case DBAL_ECONSTRAINT:
    case DBAL_EDATA:
    case DBAL_ERANGE:
    case DBAL_ETYPE:
    case DBAL_ERROR: return 1;
    }
    return 0;
}

static int run_batch_claimed(dbal_session *s, const char *sql, size_t ncols, row_source *src,
                             int (*next)(void *, size_t, const dbal_value **), int64_t *affected,
                             size_t *failed_row)
{
    size_t failed_local;
    int64_t total = 0;
    if (!failed_row)
        failed_row = &failed_local;
    *failed_row = (size_t)-1;
    if (affected)
        *affected = 0;
    if (!s)
        return DBAL_EMISUSE;
    dbal__error_clear(&s->err);
    if (!sql)
        return dbal__error_set(&s->err, DBAL_EINVAL, NULL, 0, "sql is NULL");
    int own_tx = s->depth == 0;
    int rc = own_tx ? dbal_begin(s) : s->failed ? dbal__tx_refuse(&s->err) : dbal__session_conn(s);
    if (rc)
        return rc;
    const dbal_driver *d = s->engine->driver;
    checked chk = {next, src, ncols, s};
    if (DBAL_DRIVER_HAS(d, exec_batch))
        rc = d->exec_batch(s->conn->dc, sql, ncols, next_checked, &chk, &total, failed_row, &s->err);
    else
        rc = exec_each(s, sql, ncols, next_checked, &chk, &total, failed_row);
    if (!row_may_fail(rc))
        *failed_row = (size_t)-1;
    if (rc == DBAL_OK && own_tx)
        rc = dbal_commit(s);
    /* Not replicated is still committed (on the primary): its rows count. */
    if (affected && (rc == DBAL_OK || rc == DBAL_ENOTREPLICATED))
        *affected = total;
    if (rc == DBAL_OK)
        return DBAL_OK;
    dbal__session_failed(s, rc);
    if (own_tx && s->depth > 0) {
        dbal_error keep = s->err;
        dbal_rollback(s);
        s->err = keep;
    }
    return rc;
}

/* The batch runs under the session's claim (dbal__session_claim); the
 * begin and commit it makes inside are the same thread's. */
static int run_batch(dbal_session *s, const char *sql, size_t ncols, row_source *src,
                     int (*next)(void *, size_t, const dbal_value **), int64_t *affected, size_t *failed_row)
{
    if (failed_row)
        *failed_row = (size_t)-1;
    int rc;
    DBAL__CLAIMED(rc, s, run_batch_claimed(s, sql, ncols, src, next, affected, failed_row));
    return rc;
}

int dbal_exec_batch(dbal_session *s, const char *sql, const dbal_value *rows, size_t ncols, size_t nrows,
                    int64_t *affected, size_t *failed_row)
{
    if (s && nrows && ncols && !rows) {
        if (failed_row)
            *failed_row = (size_t)-1;
        return dbal__error_set(&s->err, DBAL_EINVAL, NULL, 0, "rows is NULL");
    }
    row_source src = {.rows = rows, .nrows = nrows, .ncols = ncols};
    return run_batch(s, sql, ncols, &src, next_from_array, affected, failed_row);
}

int dbal_exec_batch_fn(dbal_session *s, const char *sql, size_t ncols, dbal_batch_fn fn, void *userdata,
                       int64_t *affected, size_t *failed_row)
{
    if (s && !fn) {
        if (failed_row)
            *failed_row = (size_t)-1;
        return dbal__error_set(&s->err, DBAL_EINVAL, NULL, 0, "fn is NULL");
    }
    dbal_value small[16];
    row_source src = {.fn = fn, .userdata = userdata, .ncols = ncols, .buf = small};
    if (ncols > 16 && !(src.buf = dbal__calloc(ncols, sizeof *src.buf)))
        return s ? dbal__error_set(&s->err, DBAL_ENOMEM, NULL, 0, NULL) : DBAL_ENOMEM;
    int rc = run_batch(s, sql, ncols, &src, next_from_fn, affected, failed_row);
    if (src.buf != small)
        dbal__free(src.buf);
    return rc;
}
