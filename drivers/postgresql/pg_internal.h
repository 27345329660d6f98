/*
 * Shared state of the PostgreSQL driver: the engine context, the connection
 * and the cursor, and the functions the driver's files call in each other.
 * Nothing here leaves the module (the build hides every symbol but the entry
 * point).
 */
#ifndef DBAL_PG_INTERNAL_H
#define DBAL_PG_INTERNAL_H

#include "pg_types.h"
#include "pg_wire.h"
#include "stmt_cache.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What engine_open worked out once: libpq keyword/value arrays, each
 * NULL-terminated, ready for PQconnectdbParams. */
typedef struct pg_ctx {
    const char **keywords;
    const char **values;
    char *hosts; /* owned: the URL's hosts joined by commas */
    char *ports; /* owned: their ports, an empty entry for "default" */
    int cache_size;
    int check_ms; /* connect_timeout in ms, the bound of a ping; 0: none */
    /* What the engine's first connection found behind the URL: 0 not yet
     * known, PG_DIRECT the server itself, PG_POOLED a pooler such as
     * PgBouncer (see pg_conn.c). Set by any connection, read by all. */
    atomic_int behind;
} pg_ctx;

#define PG_DIRECT 1
#define PG_POOLED 2

/* Reusable storage for one statement's parameters, grown and never shrunk,
 * so that a connection in its steady state sends without allocating. */
typedef struct pg_params {
    const char **values;
    int *lengths;
    int *formats;
    Oid *types;
    size_t cap; /* entries in each array above */
    char *arena; /* NUL-terminated copies of text, numbers in network order */
    size_t arena_cap;
} pg_params;

struct pg_rows;

typedef struct pg_conn {
    pg_wire wire; /* first: it starts with the core's base */
    pg_ctx *ctx;
    stmt_cache *cache;        /* NULL when statement_cache_size is 0 */
    uint64_t next_stmt_id;    /* names dbal_1, dbal_2, ... */
    struct pg_rows *streaming; /* the cursor whose rows are still on the wire */
    struct pg_rows *spare;     /* a closed cursor kept for the next query */
    pg_params params;
    char *sig; /* the parameters' type letters, part of the cache key */
    size_t sig_cap;
    uint64_t *pending; /* evicted statements to DEALLOCATE once idle */
    size_t npending, pending_cap;
    int closing; /* disconnecting: evictions need no DEALLOCATE */
    int timeout_applied; /* what the session has now; -1: not set by us (the
                          * timeout asked for is the wire's: it bounds waits) */
    int timeout_due;     /* changed since: SET LOCAL it if inside a block */
    int resetting;    /* PG_RESET_*: a reset's answer still to read (pg_reset.c) */
    int reset_prepared; /* the reset's statements are prepared on the server */
    int sql_prepared;   /* the last reset found statements made with SQL PREPARE */
    /* Behind a transaction pooler each transaction may run on another
     * server session: no named statements, no session-level SET. */
    int pooled;
    /* A statement outside a transaction block was wrapped in one of the
     * driver's own, so that its SET LOCAL statement_timeout reaches the
     * same server session through a pooler; pg_unwrap commits it. */
    int wrapped;
    int read_only; /* set_read_only: every transaction READ ONLY */
    struct pg_async *async; /* statements in flight in pipeline mode (pg_async.c) */
} pg_conn;

/* One column's decoded bytea, kept per cursor and grown only. */
typedef struct pg_blob {
    unsigned char *data;
    size_t cap, len;
    uint64_t row; /* the row it was decoded for */
} pg_blob;

/* A value of a buffered row. */
typedef struct pg_cell {
    const char *p; /* NULL for SQL NULL */
    int len;
} pg_cell;

typedef struct pg_rows {
    dbal_driver_rows base;
    pg_conn *conn;
    PGresult *meta; /* first result: column names and types */
    PGresult *cur;  /* the current row while served from the wire */
    Oid *types;     /* each column's type, from meta */
    int types_cap;
    int binary;     /* values in binary format (see pg_stmt.c) */
    int first_ready; /* the first row, fetched by query(), is not served yet */
    int done;
    uint64_t rowno;
    pg_blob *blobs; /* ncols entries, made on first bytea */
    int whole; /* every row is in meta (the asynchronous API's results) */
    int at;    /* the row of cur that is current: 0 but in whole results */

    /* Rows pulled off the wire because the session sent another command
     * (see pg_rows_spill): each value is a 4-byte length (UINT32_MAX for
     * NULL), its bytes and a NUL. */
    int spilled;
    char *buf;
    size_t buf_len, buf_cap, buf_pos;
    pg_cell *cells;
    int pend_code; /* an error met while spilling, served after the rows */
    dbal_error pend_err;
} pg_rows;

/* pg_engine.c */
int pg_engine_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err);
void pg_engine_close(void *ctx);

/* pg_conn.c */
/* A connection's state around pg, not yet usable; pg_conn_setup finishes
 * it once pg is connected (DBAL_OK or DBAL_ENOMEM). */
pg_conn *pg_conn_alloc(pg_ctx *x, PGconn *pg);
int pg_conn_setup(pg_conn *c);
int pg_connect(void *ctx, dbal_driver_conn **out, dbal_error *err);
void pg_disconnect(dbal_driver_conn *c);
int pg_ping(dbal_driver_conn *c, dbal_error *err);
/* Makes the connection ready to send a command: an open cursor's rows are
 * pulled into its buffer; when idle, what it owes is run (pg_conn_owed),
 * inside a block a changed statement timeout is set. DBAL_OK, or why not:
 * then the command must not be sent. */
int pg_conn_ready(pg_conn *c, dbal_error *err);
/* Sends one command an idle connection owes: waits for its answer
 * (blocking use), or queues it ahead of the statements (pg_async.c). */
typedef int (*pg_runner)(pg_conn *c, const char *sql, dbal_error *err);
/* What an idle connection owes before its next statement, through run:
 * RESET ALL after a session that ran SET (pg_reset), the DEALLOCATEs of
 * evicted statements, the session's statement timeout. DBAL_OK or the
 * first failure that matters (a DEALLOCATE's does not: the statement is
 * gone anyway). */
int pg_conn_owed(pg_conn *c, pg_runner run, dbal_error *err);
/* Stops using named prepared statements on c, forgetting those it has
 * without DEALLOCATE (through a pooler that would reach another client's
 * server session). */
void pg_conn_go_unnamed(pg_conn *c);

/* pg_reset.c */
#define PG_RESET_NONE 0
#define PG_RESET_SENT 1         /* the reset was sent, its answer not read */
#define PG_RESET_DEALLOCATING 2 /* then a DEALLOCATE ALL */
/* Sends what undoes a session's changes to its server session, without
 * waiting for the answer. */
int pg_reset(dbal_driver_conn *c, dbal_error *err);
/* Reads the answer to a reset: DBAL_OK once it is read, DBAL_EBUSY when it
 * has not arrived and wait is 0; with wait 1 waits a bounded time. A
 * failed reset breaks the connection (DBAL_ECONNLOST). */
int pg_reset_collect(pg_conn *c, int wait, dbal_error *err);
/* The driver's check slot: the reset's answer, and a goodbye the server
 * sent while the connection was idle. */
int pg_check(dbal_driver_conn *c, int wait, int *fd, dbal_error *err);


/* pg_params.c */
/* Converts params into c->params and writes one type letter per parameter
 * to sig (n bytes). DBAL_OK, DBAL_EDATA, DBAL_EINVAL or DBAL_ENOMEM. */
int pg_params_build(pg_conn *c, const dbal_value *params, size_t n, char *sig,
                    dbal_error *err);
void pg_params_free(pg_params *p);

/* pg_placeholders.c */
/* Rewrites each `?` placeholder of sql to $1..$n, leaving alone those in
 * string literals (also E'' and dollar-quoted bodies), quoted identifiers
 * and comments; `??` becomes a literal `?`. *out (NUL-terminated, from the
 * host allocator) is the caller's to free; *nparams receives n. DBAL_OK, or
 * DBAL_ENOMEM with *out NULL. */
int pg_rewrite_dollar(const char *sql, char **out, int *nparams);

/* pg_stmt.c */
/* Sends sql with params in single-row mode, through the statement cache
 * when it is on, and returns its first result (never NULL on DBAL_OK),
 * which the caller clears. A stale cached statement is re-prepared and
 * sent again once when that is safe. */
int pg_send(pg_conn *c, const char *sql, const dbal_value *params, size_t n, PGresult **first,
            dbal_error *err);
/* Rewrites ? to $n, checking the count against nparams (DBAL_EMISUSE). */
int pg_stmt_rewrite(const char *sql, size_t nparams, char **out, dbal_error *err);
/* Makes room for n type letters in c->sig. */
int pg_stmt_sig_reserve(pg_conn *c, size_t n, dbal_error *err);
/* For a batch, before pipeline mode: the name (32 bytes) of a statement
 * prepared for sql (sql_len bytes) with the parameter types now in
 * c->params and c->sig
 * (the cache's, prepared now on a miss; "" for the unnamed statement when
 * the cache is off). */
int pg_stmt_prepare_for(pg_conn *c, const char *sql, size_t n, size_t sql_len, char *name,
                        dbal_error *err);
/* For the asynchronous path, which cannot wait for a prepare: the name
 * (32 bytes) of the cached statement for sql and the types in c->sig. On a miss it is cached at
 * once and *text receives the SQL to send a prepare for first (the caller
 * frees it); with the cache off, name is "" and *text the unnamed
 * statement's SQL. pg_stmt_prepared then says whether that prepare
 * succeeded (a failed one leaves the cache); pg_stmt_forget drops a
 * statement the server no longer runs (gone: nothing to DEALLOCATE). */
int pg_stmt_lookup(pg_conn *c, const char *sql, size_t n, size_t sql_len, char *name, uint64_t *id,
                   char **text, dbal_error *err);
void pg_stmt_prepared(pg_conn *c, const char *key, size_t sql_len, size_t n, uint64_t id, int ok);
void pg_stmt_forget(pg_conn *c, const char *key, size_t sql_len, size_t n, uint64_t id, int gone);
/* The statement cache's release function. */
void pg_stmt_release(void *stmt, void *userdata);
/* Deferred DEALLOCATEs, through run (see pg_conn_owed); only when idle. */
void pg_stmt_owed(pg_conn *c, pg_runner run);

/* pg_exec.c */
int pg_exec(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams,
            int64_t *affected, dbal_error *err);
int pg_query(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams,
             dbal_driver_rows **out, dbal_error *err);
int pg_last_insert_id(dbal_driver_conn *c, int64_t *out, dbal_error *err);
/* Runs a parameterless command with the simple protocol; *res (optional)
 * receives the successful result, which the caller clears. */
int pg_simple(pg_conn *c, const char *sql, ExecStatusType want, PGresult **res,
              dbal_error *err);
/* pg_wire_command of a command that returns no rows: the blocking
 * pg_runner. */
int pg_run(pg_conn *c, const char *sql, dbal_error *err);

/* pg_batch.c */
int pg_exec_batch(dbal_driver_conn *c, const char *sql, size_t nparams,
                  int (*next)(void *ud, size_t i, const dbal_value **row), void *ud,
                  int64_t *affected, size_t *failed_row, dbal_error *err);

/* pg_copy.c */
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

/* pg_tx.c */
int pg_begin(dbal_driver_conn *c, unsigned options, dbal_error *err);
int pg_commit(dbal_driver_conn *c, dbal_error *err);
int pg_rollback(dbal_driver_conn *c, dbal_error *err);
int pg_set_read_only(dbal_driver_conn *c, int on, dbal_error *err);
/* "BEGIN" with the transaction modes that options (DBAL_TX_*) ask for;
 * READ ONLY too when the connection is read_only (set_read_only). */
int pg_begin_sql(unsigned options, int read_only, char *buf, size_t cap, dbal_error *err);

/* pg_async.c: the asynchronous slots, libpq's pipeline mode. */
int pg_async_start(dbal_driver_conn *c, int *fd, dbal_error *err);
void pg_async_stop(dbal_driver_conn *c);
int pg_async_send(dbal_driver_conn *c, int kind, unsigned options, const char *sql,
                  const dbal_value *params, size_t nparams, dbal_error *err);
int pg_async_io(dbal_driver_conn *c, unsigned ready, unsigned *want, dbal_error *err);
int pg_async_result(dbal_driver_conn *c, int *ready, dbal_driver_rows **rows, int64_t *affected,
                    dbal_error *err);
int pg_async_connect_start(void *ctx, dbal_driver_conn **out, int *fd, unsigned *want,
                           dbal_error *err);
int pg_async_connect_poll(dbal_driver_conn *c, int *fd, unsigned *want, int *done, dbal_error *err);
/* Frees what pg_async_send allocated, at disconnect. */
void pg_async_free(pg_conn *c);


/* pg_timeout.c */
/* Records the timeout; it is applied with the next command (no I/O). */
int pg_set_timeout(dbal_driver_conn *c, int milliseconds, dbal_error *err);
/* Idle: the session-level statement timeout, when it differs from what was
 * asked for, through run (see pg_conn_owed). */
int pg_timeout_owed(pg_conn *c, pg_runner run, dbal_error *err);
/* Inside a transaction block: SET LOCAL of a timeout changed in it. */
int pg_timeout_in_block(pg_conn *c, dbal_error *err);
/* Behind a pooler: before a statement outside a transaction block, when a
 * statement timeout is wanted or the session is read-only, begins a
 * transaction of the driver's own (READ ONLY, SET LOCAL statement_timeout),
 * since a session-level setting would not stay with this client. */
int pg_timeout_wrap(pg_conn *c, dbal_error *err);
/* Ends that transaction, if there is one: commits it (a failed one rolls
 * back). Returns DBAL_OK or the commit's error, for a statement that
 * succeeded until then (a deferred constraint); on a connection given up
 * (pg_wire.c), why: the statement's end was never seen. */
int pg_unwrap(pg_conn *c, dbal_error *err);
/* "; SET LOCAL statement_timeout = N" for a BEGIN behind a pooler, or "". */
void pg_timeout_local(const pg_conn *c, char *buf, size_t cap);

/* pg_rows.c */
/* A cursor over a query whose first result is `first` (taken). */
int pg_rows_open(pg_conn *c, PGresult *first, pg_rows **out, dbal_error *err);
/* A cursor over the rows of a complete result (res taken). */
int pg_rows_open_whole(pg_conn *c, PGresult *res, pg_rows **out, dbal_error *err);
/* Frees a cursor struct that is not open (the connection's spare). */
void pg_rows_free(pg_rows *r);
/* Pulls every row still on the wire into the cursor's buffer. */
void pg_rows_spill(pg_rows *r);
int pg_rows_next(dbal_driver_rows *r, dbal_error *err);
void pg_rows_close(dbal_driver_rows *r);
const char *pg_col_name(dbal_driver_rows *r, int col);
void pg_col_value(dbal_driver_rows *r, int col, dbal_value *out);
dbal_type pg_col_type(dbal_driver_rows *r, int col);

/* pg_bytea.c */
/* Decodes bytea text output (hex "\x..." or the old escape format) into b,
 * followed by a NUL byte. DBAL_OK or DBAL_ENOMEM. */
int pg_bytea_decode(pg_blob *b, const char *text, size_t len);


#endif
