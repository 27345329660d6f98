/*
 * tw_stmt.c - statements and cursors of the testing driver: faults at the
 * statement point, and, while isolating, a savepoint around each
 * statement outside a transaction, so that one that fails does not fail
 * the test's transaction (PostgreSQL fails a whole transaction on any
 * error; an autocommit statement fails alone). A cursor's savepoint stays
 * open until it closes, or until the connection's next call, so rows
 * still stream.
 */
#include "tw.h"

#include <ctype.h>
#include <string.h>

enum { SQL_PLAIN, SQL_SAVEPOINT, SQL_TRANSACTION };

/* The first word, past blanks and comments, upper-cased into word. */
static const char *first_word(const char *sql, char *word, size_t cap)
{
    for (;;) {
        while (isspace((unsigned char)*sql))
            sql++;
        if (sql[0] == '-' && sql[1] == '-')
            sql += strcspn(sql, "\n");
        else if (sql[0] == '/' && sql[1] == '*') {
            const char *end = strstr(sql + 2, "*/");
            sql = end ? end + 2 : sql + strlen(sql);
        } else
            break;
    }
    size_t n = 0;
    while (n + 1 < cap && isalpha((unsigned char)sql[n])) {
        word[n] = (char)toupper((unsigned char)sql[n]);
        n++;
    }
    word[n] = '\0';
    return sql + n;
}

/* SAVEPOINT, RELEASE and ROLLBACK TO are the core's nested transactions
 * (no fault, no savepoint of ours); BEGIN, COMMIT and their kin would end
 * the test's transaction. */
static int classify(const char *sql)
{
    char word[16], next[16];
    const char *rest = first_word(sql, word, sizeof word);
    if (strcmp(word, "SAVEPOINT") == 0 || strcmp(word, "RELEASE") == 0)
        return SQL_SAVEPOINT;
    if (strcmp(word, "ROLLBACK") == 0) {
        rest = first_word(rest, next, sizeof next);
        if (strcmp(next, "WORK") == 0 || strcmp(next, "TRANSACTION") == 0)
            first_word(rest, next, sizeof next);
        return strcmp(next, "TO") == 0 ? SQL_SAVEPOINT : SQL_TRANSACTION;
    }
    static const char *const tx[] = {"BEGIN", "START", "COMMIT", "END", "ABORT"};
    for (size_t i = 0; i < sizeof tx / sizeof *tx; i++)
        if (strcmp(word, tx[i]) == 0)
            return SQL_TRANSACTION;
    return SQL_PLAIN;
}

/* Before a statement: its point, and a transaction statement refused
 * while isolating. */
static int statement_point(tw_conn *c, const char *sql, int *point, dbal_error *err)
{
    int kind = classify(sql);
    *point = kind == SQL_SAVEPOINT ? TW_AT_NONE : TW_AT_STATEMENT;
    if (kind != SQL_TRANSACTION || !c->shared || !c->eng->isolating)
        return DBAL_OK;
    tw_host->set_error(err, DBAL_EMISUSE, NULL, 0,
                       "testing driver: BEGIN, COMMIT or ROLLBACK run as a statement would end the test's "
                       "transaction: use dbal_begin, dbal_commit and dbal_rollback");
    return DBAL_EMISUSE;
}

/* The core passes this driver the value types of its own ABI version; an
 * inner driver built before them must never see one (it would read u.i
 * as a pointer), as the core refuses them to such a driver. */
static int types_known(tw_conn *c, const dbal_value *params, size_t n, dbal_error *err)
{
    if (c->eng->inner->abi_version >= DBAL_DRIVER_TYPES_SINCE)
        return DBAL_OK;
    for (size_t i = 0; i < n; i++)
        if (params[i].type > DBAL_TYPE_BLOB) {
            tw_host
                ->set_error(err, DBAL_EUNSUPPORTED, NULL, 0,
                            "parameter %zu has a type the %s driver's ABI version predates (pass it as text)",
                            i + 1, c->eng->inner_name);
            return DBAL_EUNSUPPORTED;
        }
    return DBAL_OK;
}

/* A statement's start: its parameters, its point, a refusal, the fault
 * before it. */
static int statement_start(tw_conn *c, const char *sql, const dbal_value *params, size_t n, int *point,
                           tw_fault *f, dbal_error *err)
{
    int rc = types_known(c, params, n, err);
    if (rc == DBAL_OK)
        rc = statement_point(c, sql, point, err);
    return rc == DBAL_OK ? tw_before(c, *point, sql, f, err) : rc;
}

int tw_exec(dbal_driver_conn *base, const char *sql, const dbal_value *params, size_t nparams,
            int64_t *affected, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    tw_fault f;
    int point;
    int rc = statement_start(c, sql, params, nparams, &point, &f, err);
    if (rc != DBAL_OK)
        return rc;
    if (point == TW_AT_STATEMENT && (rc = tw_auto_open(c, err)) != DBAL_OK)
        return tw_after(c, &f, rc, err);
    rc = c->eng->inner->exec(c->inner, sql, params, nparams, affected, err);
    return tw_after(c, &f, tw_auto_end(c, rc, err), err);
}

int tw_query(dbal_driver_conn *base, const char *sql, const dbal_value *params, size_t nparams,
             dbal_driver_rows **out, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    tw_rows *r = tw_host->malloc(sizeof *r);
    if (!r) {
        tw_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    memset(r, 0, sizeof *r);
    r->conn = c;
    tw_fault f;
    int point;
    int rc = statement_start(c, sql, params, nparams, &point, &f, err);
    if (rc != DBAL_OK) {
        tw_host->free(r);
        return rc;
    }
    if (point == TW_AT_STATEMENT)
        rc = tw_auto_open(c, err);
    if (rc == DBAL_OK)
        rc = c->eng->inner->query(c->inner, sql, params, nparams, &r->inner, err);
    if (rc == DBAL_OK && f.action == TW_LOST_AFTER)
        c->eng->inner->rows_close(r->inner); /* it ran; its rows never arrive */
    if (rc != DBAL_OK || f.action == TW_LOST_AFTER) {
        tw_host->free(r);
        return tw_after(c, &f, tw_auto_end(c, rc, err), err);
    }
    r->base.ncols = r->inner->ncols;
    if (c->auto_open)
        c->auto_owner = r;
    *out = &r->base;
    return tw_after(c, &f, DBAL_OK, err);
}

/* A cursor's calls: on the shared connection, one at a time with the
 * others' (its statement savepoint stays open). */
int tw_rows_next(dbal_driver_rows *base, dbal_error *err)
{
    tw_rows *r = (tw_rows *)base;
    tw_conn *c = r->conn;
    int rc = tw_enter(c, 1, err);
    if (rc != DBAL_OK)
        return rc;
    rc = c->eng->inner->rows_next(r->inner, err);
    if (rc != DBAL_ROW && rc != DBAL_DONE && c->auto_owner == r)
        c->auto_failed = 1;
    if (c->inner->broken)
        c->base.broken = 1;
    tw_leave(c);
    return rc;
}

void tw_rows_close(dbal_driver_rows *base)
{
    tw_rows *r = (tw_rows *)base;
    tw_conn *c = r->conn;
    dbal_error ignored; /* a failure to settle shows at the next call */
    int entered = tw_enter(c, 1, &ignored) == DBAL_OK;
    c->eng->inner->rows_close(r->inner); /* freeing memory needs no turn */
    if (entered && c->auto_owner == r)
        tw_settle(c, &ignored);
    if (entered)
        tw_leave(c);
    tw_host->free(r);
}

/* The current row is the cursor's, but another connection's call on the
 * shared connection may pull the rest of its rows in meanwhile: one at a
 * time. */
static int turn_take(tw_conn *c)
{
    /* Read once: whether to unlock is decided by what was locked. */
    int shared = c->shared != NULL;
    if (shared)
        pthread_mutex_lock(&c->eng->iso_lock);
    return shared;
}

static void turn_give(tw_conn *c, int taken)
{
    if (taken)
        pthread_mutex_unlock(&c->eng->iso_lock);
}

const char *tw_col_name(dbal_driver_rows *base, int col)
{
    tw_rows *r = (tw_rows *)base;
    int taken = turn_take(r->conn);
    const char *name = r->conn->eng->inner->col_name(r->inner, col);
    turn_give(r->conn, taken);
    return name;
}

void tw_col_value(dbal_driver_rows *base, int col, dbal_value *out)
{
    tw_rows *r = (tw_rows *)base;
    int taken = turn_take(r->conn);
    r->conn->eng->inner->col_value(r->inner, col, out);
    turn_give(r->conn, taken);
}

dbal_type tw_col_type(dbal_driver_rows *base, int col)
{
    tw_rows *r = (tw_rows *)base;
    int taken = turn_take(r->conn);
    dbal_type t = r->conn->eng->inner->col_type(r->inner, col);
    turn_give(r->conn, taken);
    return t;
}

/* The typed slots forward to the wrapped driver's, under the same turn as
 * col_value; a wrapped driver without them (older than ABI 5) answers
 * DBAL_ETYPE for every value, which sends the core to col_value, as it
 * would go without the testing driver. One definition for the three: they
 * differ only in the out parameters. */
#define FORWARD_TYPED(slot, params, args)               \
    int tw_##slot params                                \
    {                                                   \
        tw_rows *r = (tw_rows *)base;                   \
        const dbal_driver *inner = r->conn->eng->inner; \
        if (!DBAL_DRIVER_HAS(inner, slot))              \
            return DBAL_ETYPE;                          \
        int taken = turn_take(r->conn);                 \
        int rc = inner->slot args;                      \
        turn_give(r->conn, taken);                      \
        return rc;                                      \
    }
FORWARD_TYPED(col_int64, (dbal_driver_rows * base, int col, int64_t *out), (r->inner, col, out))
FORWARD_TYPED(col_double, (dbal_driver_rows * base, int col, double *out), (r->inner, col, out))
FORWARD_TYPED(col_text, (dbal_driver_rows * base, int col, const char **out, size_t *len),
              (r->inner, col, out, len))
#undef FORWARD_TYPED

/* The core's fallback for a driver without exec_batch: one exec per row. */
static int batch_by_rows(tw_conn *c, const char *sql, size_t nparams,
                         int (*next)(void *ud, size_t i, const dbal_value **row), void *ud, int64_t *affected,
                         size_t *failed_row, dbal_error *err)
{
    int64_t total = 0;
    for (size_t i = 0;; i++) {
        const dbal_value *row;
        int rc = next(ud, i, &row);
        if (rc == DBAL_DONE)
            break;
        int64_t n = 0;
        if (rc == DBAL_OK && (rc = c->eng->inner->exec(c->inner, sql, row, nparams, &n, err)) != DBAL_OK)
            *failed_row = i;
        if (rc != DBAL_OK)
            return rc;
        total += n;
    }
    if (affected)
        *affected = total;
    return DBAL_OK;
}

/* A batch's rows, checked as statement_start checks parameters. */
typedef struct checked_rows {
    tw_conn *c;
    int (*next)(void *ud, size_t i, const dbal_value **row);
    void *ud;
    size_t nparams;
    dbal_error *err;
} checked_rows;

static int next_checked(void *ud, size_t i, const dbal_value **row)
{
    checked_rows *cr = ud;
    int rc = cr->next(cr->ud, i, row);
    return rc == DBAL_OK ? types_known(cr->c, *row, cr->nparams, cr->err) : rc;
}

int tw_exec_batch(dbal_driver_conn *base, const char *sql, size_t nparams,
                  int (*next)(void *ud, size_t i, const dbal_value **row), void *ud, int64_t *affected,
                  size_t *failed_row, dbal_error *err)
{
    tw_conn *c = (tw_conn *)base;
    tw_fault f;
    *failed_row = (size_t)-1;
    int rc = tw_before(c, TW_AT_STATEMENT, sql, &f, err);
    if (rc == DBAL_OK)
        rc = tw_auto_open(c, err);
    if (rc != DBAL_OK)
        return tw_after(c, &f, rc, err);
    checked_rows cr = {c, next, ud, nparams, err};
    if (DBAL_DRIVER_HAS(c->eng->inner, exec_batch))
        rc = c->eng->inner->exec_batch(c->inner, sql, nparams, next_checked, &cr, affected, failed_row, err);
    else
        rc = batch_by_rows(c, sql, nparams, next_checked, &cr, affected, failed_row, err);
    return tw_after(c, &f, tw_auto_end(c, rc, err), err);
}
