/*
 * The asynchronous slots: libpq's own non-blocking interface in pipeline
 * mode, no threads. Every statement is followed by a sync, so that each one
 * succeeds or fails on its own exactly as the blocking calls do (an error
 * does not turn the statements queued after it into "pipeline aborted"),
 * while all of them still travel back to back on the socket.
 *
 * A statement's results come back as: its result(s), a NULL that ends them,
 * then the PIPELINE_SYNC of its sync. The outcome is decided at the sync.
 *
 * Nothing here waits for the server: what a connection owes before its
 * first statement (pg_conn_owed) is queued ahead of the statements as the
 * driver's own entries, whose outcomes nobody is told; and a server that
 * stops answering is given up when the core says the time is up
 * (DBAL_ASYNC_GIVE_UP).
 */
#include "pg_driver.h"

#include <stdlib.h>
#include <string.h>

/* The driver's own commands (pg_conn_owed) among the DBAL_ASYNC_* kinds. */
#define PG_ASYNC_OWN 0

/* A statement in flight. */
typedef struct pg_entry {
    int kind;     /* DBAL_ASYNC_* or PG_ASYNC_OWN */
    int ends_tx;  /* a statement whose SQL ends a block for good (pg_wire_ends_tx) */
    int prepared; /* a prepare for it was sent first: its first command */
    int prepare_failed;
    int keyed; /* key holds its statement cache key (the cache is on): the
                * SQL, a NUL, the parameters' type letters */
    char *key; /* the slot's buffer, kept for the slot's next statements */
    size_t key_cap;
    size_t sql_len, nparams;
    uint64_t id; /* the cached statement it runs (0: unnamed) */
} pg_entry;

typedef struct pg_async {
    pg_entry *ring; /* the queued statements, oldest at head */
    size_t head, count, cap;
    int ends;       /* NULLs seen: the oldest statement's commands that are over */
    PGresult *keep; /* the oldest statement's result so far: its first error or its last result */
    int gathered;   /* keep holds rows that came one per result (see gather) */
    int in_block;   /* a transaction block is open once every completed entry ran */
} pg_async;

void pg_async_free(pg_conn *c)
{
    pg_async *a = c->async;
    if (!a)
        return;
    for (size_t i = 0; i < a->cap; i++)
        pg_host->free(a->ring[i].key);
    PQclear(a->keep);
    pg_host->free(a->ring);
    pg_host->free(a);
    c->async = NULL;
}

static int lost(pg_conn *c, dbal_error *err)
{
    c->wire.base.broken = 1;
    pg_error_clean(err, DBAL_ECONNLOST, "08006", PQerrorMessage(c->wire.pg));
    return DBAL_ECONNLOST;
}

static int queue_own(pg_conn *c, const char *sql, dbal_error *err);

int pg_async_start(dbal_driver_conn *base, int *fd, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    if (!c->async) {
        c->async = pg_host->malloc(sizeof *c->async);
        if (!c->async)
            return pg_error_nomem(err);
        memset(c->async, 0, sizeof *c->async);
    }
    /* The connection is non-blocking already (pg_conn_setup). A pooled
     * connection has no cursor open: nothing to pull off the wire first. */
    PGTransactionStatusType ts = PQtransactionStatus(c->wire.pg);
    if (PQstatus(c->wire.pg) != CONNECTION_OK || c->wire.gave_up || !PQenterPipelineMode(c->wire.pg))
        return lost(c, err);
    c->async->in_block = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
    atomic_store(&c->wire.cancel_requested, 0);
    c->wire.syncrep[0] = '\0';
    if (ts == PQTRANS_IDLE) {
        int rc = pg_conn_owed(c, queue_own, err);
        if (rc != DBAL_OK)
            return rc;
    }
    *fd = PQsocket(c->wire.pg);
    return *fd >= 0 ? DBAL_OK : lost(c, err);
}

void pg_async_stop(dbal_driver_conn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (c->wire.base.broken)
        return;
    /* Anything still in the pipeline would reach the connection's next
     * user: such a connection is not pooled again. */
    if (!PQexitPipelineMode(c->wire.pg) || (c->async && c->async->count))
        c->wire.base.broken = 1;
}

/* Room for one more entry, which the caller fills at ring[(head + count) %
 * cap]. Each slot keeps its key buffer, so that a connection in its steady
 * state sends without allocating. */
static pg_entry *next_entry(pg_async *a)
{
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        pg_entry *r = pg_host->malloc(cap * sizeof *r);
        if (!r)
            return NULL;
        /* The ring is full: every old slot moves, its buffer with it. */
        for (size_t i = 0; i < a->cap; i++)
            r[i] = a->ring[(a->head + i) % a->cap];
        memset(r + a->cap, 0, (cap - a->cap) * sizeof *r);
        pg_host->free(a->ring);
        a->ring = r;
        a->head = 0;
        a->cap = cap;
    }
    pg_entry *e = &a->ring[(a->head + a->count) % a->cap];
    char *key = e->key;
    size_t key_cap = e->key_cap;
    memset(e, 0, sizeof *e);
    e->key = key;
    e->key_cap = key_cap;
    return e;
}

/* Makes e's key buffer hold at least len bytes; 0 when out of memory. */
static int key_room(pg_entry *e, size_t len)
{
    if (len <= e->key_cap)
        return 1;
    char *key = pg_host->malloc(len);
    if (!key)
        return 0;
    pg_host->free(e->key);
    e->key = key;
    e->key_cap = len;
    return 1;
}

/* A command the connection owes (a pg_runner), queued as an entry of the
 * driver's own with a sync of its own, so that one failing (a DEALLOCATE
 * of a statement already gone) does not abort the next. */
static int queue_own(pg_conn *c, const char *sql, dbal_error *err)
{
    pg_entry *e = next_entry(c->async);
    if (!e)
        return pg_error_nomem(err);
    e->kind = PG_ASYNC_OWN;
    if (!PQsendQueryParams(c->wire.pg, sql, 0, NULL, NULL, NULL, NULL, 0) || !PQpipelineSync(c->wire.pg))
        return lost(c, err);
    c->async->count++;
    return DBAL_OK;
}

/* Through the statement cache: on a miss the prepare travels just ahead of
 * the execute, so that nothing waits for its answer. */
static int send_statement(pg_conn *c, pg_entry *e, const char *sql, const dbal_value *params, size_t n,
                          dbal_error *err)
{
    size_t sql_len = strlen(sql), key_len = sql_len + 1 + n;
    e->ends_tx = pg_wire_ends_tx(sql);
    int rc = pg_stmts_bind(&c->stmts, params, n, err);
    char name[PG_STMT_NAME_LEN], *text = NULL;
    if (rc == DBAL_OK)
        rc = pg_stmt_lookup(&c->stmts, sql, n, sql_len, name, &e->id, &text, err);
    if (rc == DBAL_OK && c->stmts.cache && !(e->keyed = key_room(e, key_len)))
        rc = pg_error_nomem(err);
    if (rc != DBAL_OK) {
        pg_host->free(text);
        return rc;
    }
    if (e->keyed) {
        memcpy(e->key, sql, sql_len + 1);
        memcpy(e->key + sql_len + 1, c->stmts.sig, n);
        e->sql_len = sql_len;
        e->nparams = n;
    }
    const pg_params *p = &c->stmts.params;
    int ok;
    if (name[0]) {
        e->prepared = text != NULL;
        ok = (!text || PQsendPrepare(c->wire.pg, name, text, (int)n, p->types)) &&
             PQsendQueryPrepared(c->wire.pg, name, (int)n, p->values, p->lengths, p->formats, 0);
    } else {
        ok = PQsendQueryParams(c->wire.pg, text, (int)n, p->types, p->values, p->lengths, p->formats, 0);
    }
    pg_host->free(text);
    if (!ok)
        return lost(c, err);
    return DBAL_OK;
}

int pg_async_send(dbal_driver_conn *base, int kind, unsigned options, const char *sql,
                  const dbal_value *params, size_t nparams, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    pg_async *a = c->async;
    if (!a || PQpipelineStatus(c->wire.pg) == PQ_PIPELINE_OFF) {
        pg_host->set_error(err, DBAL_EMISUSE, NULL, 0, "async_send before async_start");
        return DBAL_EMISUSE;
    }
    /* A cancel request on its way reaches whatever statement runs when it
     * arrives (an idle server ignores it): a statement sent now could be
     * interrupted in place of the one the request was meant for, which
     * completed first. The core asks again shortly. */
    if (pg_cancel_holds(&c->wire))
        return DBAL_EBUSY;
    /* Nothing in flight and no request on its way: a cancel asked for
     * before is not this statement's (its 57014 is a timeout's). */
    if (a->count == 0 && atomic_load(&c->wire.cancel_requested))
        atomic_store(&c->wire.cancel_requested, 0);
    /* Room first: a statement sent but not remembered would shift every
     * later outcome by one. */
    pg_entry *e = next_entry(a);
    if (!e)
        return pg_error_nomem(err);
    e->kind = kind;
    char begin[192];
    int rc = DBAL_OK;
    switch (kind) {
    case DBAL_ASYNC_EXEC:
    case DBAL_ASYNC_QUERY: rc = send_statement(c, e, sql, params, nparams, err); break;
    case DBAL_ASYNC_BEGIN:
        rc = pg_begin_sql(options, c->settings.read_only, begin, sizeof begin, err);
        if (rc == DBAL_OK && !PQsendQueryParams(c->wire.pg, begin, 0, NULL, NULL, NULL, NULL, 0))
            rc = lost(c, err);
        break;
    default:
        if (!PQsendQueryParams(c->wire.pg, kind == DBAL_ASYNC_COMMIT ? "COMMIT" : "ROLLBACK", 0, NULL, NULL,
                               NULL, NULL, 0))
            rc = lost(c, err);
        break;
    }
    if (rc != DBAL_OK)
        return rc;
    if (!PQpipelineSync(c->wire.pg))
        return lost(c, err);
    a->count++;
    return DBAL_OK;
}

/* Whether the server could still apply something in the pipeline if the
 * client gave up now: a statement outside a transaction block, or one
 * that ends a block, among the entries not complete. */
static int pipeline_in_doubt(const pg_async *a)
{
    int block = a->in_block;
    for (size_t i = 0; i < a->count; i++) {
        const pg_entry *e = &a->ring[(a->head + i) % a->cap];
        if (e->kind == DBAL_ASYNC_BEGIN)
            block = 1;
        else if (e->kind == DBAL_ASYNC_ROLLBACK)
            block = 0;
        else if (e->kind == DBAL_ASYNC_COMMIT || e->ends_tx ||
                 ((e->kind == DBAL_ASYNC_EXEC || e->kind == DBAL_ASYNC_QUERY) && !block))
            return 1;
    }
    return 0;
}

/* What a completed entry did to the transaction block. */
static void track_block(pg_async *a, const pg_entry *e, int rc)
{
    if (e->kind == DBAL_ASYNC_BEGIN && rc == DBAL_OK)
        a->in_block = 1;
    else if (e->kind == DBAL_ASYNC_COMMIT || e->kind == DBAL_ASYNC_ROLLBACK || e->ends_tx)
        a->in_block = 0;
}

int pg_async_io(dbal_driver_conn *base, unsigned ready, unsigned *want, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    *want = DBAL_ASYNC_WANT_READ;
    if (c->wire.base.broken)
        return DBAL_ECONNLOST;
    if (ready & DBAL_ASYNC_GIVE_UP) {
        c->wire.in_doubt = pipeline_in_doubt(c->async);
        return pg_wire_give_up(&c->wire, DBAL_TIMEOUT_GRACE_MS,
                               "to the cancel of an operation past its timeout", err);
    }
    /* After the WARNING that ends a commit's wait for the synchronous
     * standby, the server may close the session: the commit's outcome is
     * pg_async_result's to tell. */
    if ((ready & DBAL_ASYNC_WANT_READ) && !PQconsumeInput(c->wire.pg))
        return c->wire.syncrep[0] ? DBAL_OK : lost(c, err);
    int f = PQflush(c->wire.pg);
    if (f < 0)
        return lost(c, err);
    if (f > 0)
        *want |= DBAL_ASYNC_WANT_WRITE;
    return DBAL_OK;
}

static int ok_status(ExecStatusType st)
{
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY;
}

/* The outcome of the statement whose sync has arrived; takes res. */
static int outcome(pg_conn *c, int kind, PGresult *res, dbal_driver_rows **rows, int64_t *affected,
                   dbal_error *err)
{
    if (!res || !ok_status(PQresultStatus(res))) {
        int rc = res ? pg_error_result(&c->wire, res, err) : DBAL_OK;
        if (rc == DBAL_OK) {
            pg_host->set_error(err, DBAL_ERROR, NULL, 0, "PostgreSQL sent no result for the statement");
            rc = DBAL_ERROR;
        }
        PQclear(res);
        return rc;
    }
    if (kind == DBAL_ASYNC_QUERY) {
        pg_rows *r;
        int rc = pg_rows_open_whole(&c->stmts, res, &r, err);
        if (rc == DBAL_OK)
            *rows = &r->base;
        return rc;
    }
    int rc = DBAL_OK;
    if (kind == DBAL_ASYNC_EXEC)
        *affected = strtoll(PQcmdTuples(res), NULL, 10);
    /* COMMIT of a failed transaction succeeds with the tag ROLLBACK. */
    if (kind == DBAL_ASYNC_COMMIT && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        pg_host->set_error(err, DBAL_ETXFAILED, "25P02", 0,
                           "the transaction was rolled back because a statement in it failed");
        rc = DBAL_ETXFAILED;
    }
    PQclear(res);
    return rc;
}

/*
 * Rows that come one result each. libpq (15) keeps the single-row mode of
 * the connection's last blocking query for the first query of a pipeline,
 * so the rows of a query may arrive as PGRES_SINGLE_TUPLE results: they
 * are gathered into one result, as they would have come. Returns 0 when
 * out of memory (the statement then fails).
 */
static int gather(pg_async *a, PGresult *row)
{
    if (!a->gathered) {
        PQclear(a->keep);
        a->keep = PQcopyResult(row, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
        a->gathered = a->keep != NULL;
        return a->gathered;
    }
    int n = PQntuples(a->keep);
    for (int col = 0; col < PQnfields(row); col++) {
        int null = PQgetisnull(row, 0, col);
        if (!PQsetvalue(a->keep, n, col, null ? NULL : PQgetvalue(row, 0, col),
                        null ? -1 : PQgetlength(row, 0, col)))
            return 0;
    }
    return 1;
}

/* Takes one result of the oldest statement. */
static void take(pg_conn *c, pg_async *a, PGresult *res)
{
    pg_entry *e = &a->ring[a->head];
    if (e->prepared && a->ends == 0) {
        /* The prepare's own answer: only its failure matters. */
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        pg_stmt_prepared(&c->stmts, e->key, e->sql_len, e->nparams, e->id, ok);
        if (ok) {
            PQclear(res);
            return;
        }
        e->prepare_failed = 1;
    }
    ExecStatusType st = PQresultStatus(res);
    if (a->keep && !ok_status(PQresultStatus(a->keep))) {
        PQclear(res);
    } else if (st == PGRES_SINGLE_TUPLE) {
        if (!gather(a, res)) {
            /* A result of this status fails the statement: out of memory. */
            PQclear(a->keep);
            a->keep = PQmakeEmptyPGresult(c->wire.pg, PGRES_FATAL_ERROR);
            a->gathered = 0;
        }
        PQclear(res);
    } else if (a->gathered && st == PGRES_TUPLES_OK && e->kind == DBAL_ASYNC_QUERY) {
        PQclear(res); /* the end of the gathered rows */
    } else {
        PQclear(a->keep);
        a->keep = res;
    }
}

/* A cached statement the server has dropped (26000) or whose result type
 * DDL changed (0A000): the next use prepares it again. The statement that
 * met it fails (it cannot be sent again in its place in the pipeline). */
static void forget_stale(pg_conn *c, const pg_entry *e, const dbal_error *err)
{
    if (!e->keyed || e->prepared)
        return;
    if (strcmp(err->sqlstate, "26000") == 0 || strcmp(err->sqlstate, "0A000") == 0)
        pg_stmt_forget(&c->stmts, e->key, e->sql_len, e->nparams, e->id, strcmp(err->sqlstate, "26000") == 0);
    if (strcmp(err->sqlstate, "26000") == 0)
        /* The server session lost our statement (a pooler the engine did
         * not detect, DISCARD ALL): name no more of them here, as the
         * blocking path does. */
        pg_stmts_go_unnamed(&c->stmts);
}

/* Takes the oldest entry off the ring, with its result so far (*keep,
 * the caller's to clear). */
static pg_entry pop(pg_async *a, PGresult **keep)
{
    pg_entry e = a->ring[a->head];
    a->head = (a->head + 1) % a->cap;
    a->count--;
    a->ends = 0;
    *keep = a->keep;
    a->keep = NULL;
    a->gathered = 0;
    return e;
}

/* The outcome of the application's statement e, complete (its sync read)
 * or lost with the connection (bad); takes keep. */
static int complete(pg_conn *c, const pg_entry *e, PGresult *keep, int bad, dbal_driver_rows **rows,
                    int64_t *affected, dbal_error *err)
{
    int rc;
    if (bad) {
        /* The statements after this one are lost with the connection:
         * the core fails them without asking. */
        rc = keep ? pg_error_result(&c->wire, keep, err) : DBAL_OK;
        PQclear(keep);
        if (rc != DBAL_ECONNLOST)
            rc = lost(c, err);
    } else {
        rc = outcome(c, e->kind, keep, rows, affected, err);
        if (rc != DBAL_OK)
            forget_stale(c, e, err);
        track_block(c->async, e, rc);
    }
    /* A query's rows are out already: like the blocking query, it keeps
     * its success (README: not covered yet). */
    if (e->kind == DBAL_ASYNC_QUERY)
        c->wire.syncrep[0] = '\0';
    return pg_error_syncrep(&c->wire, rc, err);
}

int pg_async_result(dbal_driver_conn *base, int *ready, dbal_driver_rows **rows, int64_t *affected,
                    dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    pg_async *a = c->async;
    *ready = 0;
    *rows = NULL;
    *affected = 0;
    if (!a)
        return DBAL_OK;
    /* The driver's own entries complete silently: a statement's outcome,
     * or none yet, is what comes back. */
    while (a->count > 0) {
        int bad = PQstatus(c->wire.pg) == CONNECTION_BAD;
        if (!bad && PQisBusy(c->wire.pg))
            return DBAL_OK;
        if (!bad) {
            PGresult *res = PQgetResult(c->wire.pg);
            if (!res) {
                a->ends++; /* the end of one command's results */
                continue;
            }
            if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
                take(c, a, res);
                continue;
            }
            PQclear(res);
        }
        PGresult *keep;
        pg_entry e = pop(a, &keep);
        if (e.kind == PG_ASYNC_OWN) {
            c->wire.syncrep[0] = '\0';
            PQclear(keep); /* nobody waits for it; a failure shows in what follows */
            continue;
        }
        *ready = 1;
        return complete(c, &e, keep, bad, rows, affected, err);
    }
    return DBAL_OK;
}

static unsigned want_of(PostgresPollingStatusType st)
{
    return st == PGRES_POLLING_WRITING ? DBAL_ASYNC_WANT_WRITE : DBAL_ASYNC_WANT_READ;
}

/* The connection is made at verbose verbosity (see pg_async_connect_start),
 * so that a refusal carries the server's SQLSTATE, as the blocking connect
 * reports it: 53300 (full) is what the core waits out. */
static int connect_failed(PGconn *pg, const pg_ctx *x, dbal_error *err)
{
    char state[6];
    pg_error_redacted(err, DBAL_ECONNECT, "08001", PQerrorMessage(pg), x->keywords, x->values);
    if (pg_server_sqlstate(PQerrorMessage(pg), state))
        memcpy(err->sqlstate, state, sizeof state);
    return DBAL_ECONNECT;
}

int pg_async_connect_start(void *ctx, dbal_driver_conn **out, int *fd, unsigned *want, dbal_error *err)
{
    pg_ctx *x = ctx;
    *out = NULL;
    /* expand_dbname 0, as pg_connect does. */
    PGconn *pg = PQconnectStartParams(x->keywords, x->values, 0);
    if (!pg)
        return pg_error_nomem(err);
    if (PQstatus(pg) == CONNECTION_BAD) {
        int rc = connect_failed(pg, x, err);
        PQfinish(pg);
        return rc;
    }
    pg_conn *c = pg_conn_alloc(x, pg);
    if (!c) {
        PQfinish(pg);
        return pg_error_nomem(err);
    }
    PQsetErrorVerbosity(pg, PQERRORS_VERBOSE);
    /* libpq's rule: poll as if PQconnectPoll had said "writing". */
    *fd = PQsocket(pg);
    *want = DBAL_ASYNC_WANT_WRITE;
    *out = &c->wire.base;
    return DBAL_OK;
}

int pg_async_connect_poll(dbal_driver_conn *base, int *fd, unsigned *want, int *done, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    PostgresPollingStatusType st = PQconnectPoll(c->wire.pg);
    *done = 0;
    *fd = PQsocket(c->wire.pg);
    if (st == PGRES_POLLING_FAILED)
        return connect_failed(c->wire.pg, c->ctx, err);
    if (st != PGRES_POLLING_OK) {
        *want = want_of(st);
        return DBAL_OK;
    }
    PQsetErrorVerbosity(c->wire.pg, PQERRORS_DEFAULT);
    if (pg_conn_setup(c) != DBAL_OK)
        return pg_error_nomem(err);
    /* Asking whether a pooler is in between would block the loop: an
     * engine learns it from its first blocking connection (pg_connect);
     * until then a pooler shows itself by the errors pg_stmt_recover and
     * pg_stmt_name_taken see. */
    const pg_policy *policy = atomic_load(&c->ctx->policy);
    pg_conn_adopt(c, policy ? policy : &pg_policy_direct);
    *done = 1;
    return DBAL_OK;
}
