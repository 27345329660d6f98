/*
 * Shared state of the PostgreSQL driver: the engine context, the connection
 * and the cursor, and the functions the driver's files call in each other.
 * Nothing here leaves the module (the build hides every symbol but the entry
 * point).
 */
#ifndef DBAL_PG_INTERNAL_H
#define DBAL_PG_INTERNAL_H

#include "pg_policy.h"
#include "pg_stmt.h"

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
    /* What the engine's first blocking connection found behind the URL
     * (pg_policy_probe); NULL until then. Set by any connection, read by
     * all. */
    _Atomic(const pg_policy *) policy;
} pg_ctx;

/* The session settings of a connection (pg_settings.c). The timeout
 * asked for is the wire's (timeout_ms): it also bounds waits. */
typedef struct pg_settings {
    int timeout_applied; /* what the session has now; -1: not set by us */
    int timeout_due;     /* changed since: SET LOCAL it if inside a block */
    int read_only;       /* set_read_only: every transaction READ ONLY */
} pg_settings;

typedef struct pg_conn {
    pg_wire wire; /* first: it starts with the core's base */
    pg_stmts stmts;
    pg_ctx *ctx;
    int resetting;    /* PG_RESET_*: a reset's answer still to read (pg_reset.c) */
    int reset_prepared; /* the reset's statements are prepared on the server */
    int sql_prepared;   /* the last reset found statements made with SQL PREPARE */
    const pg_policy *policy; /* set once, when connected (pg_conn_adopt) */
    pg_settings settings;
    struct pg_async *async; /* statements in flight in pipeline mode (pg_async.c) */
} pg_conn;

/* pg_engine.c */
int pg_engine_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err);
void pg_engine_close(void *ctx);

/* pg_conn.c */
/* A connection's state around pg, not yet usable; pg_conn_setup finishes
 * it once pg is connected (DBAL_OK or DBAL_ENOMEM). */
pg_conn *pg_conn_alloc(pg_ctx *x, PGconn *pg);
int pg_conn_setup(pg_conn *c);
/* Sets the policy the engine found on c, a new connection: without named
 * statements, its statement cache goes. */
void pg_conn_adopt(pg_conn *c, const pg_policy *p);
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


/* pg_settings.c: the statement timeout and read-only, as c->policy says. */
/* Records the timeout; it is applied with the next command (no I/O). */
int pg_set_timeout(dbal_driver_conn *c, int milliseconds, dbal_error *err);
int pg_set_read_only(dbal_driver_conn *c, int on, dbal_error *err);
/* Idle: the session-level statement timeout, when it differs from what was
 * asked for and the policy has session settings, through run (see
 * pg_conn_owed). */
int pg_settings_owed(pg_conn *c, pg_runner run, dbal_error *err);
/* Inside a transaction block: SET LOCAL of a timeout changed in it. */
int pg_settings_in_block(pg_conn *c, dbal_error *err);
/* Without session settings: before a statement outside a transaction
 * block, when a statement timeout is wanted or the session is read-only,
 * begins a transaction of the driver's own (READ ONLY, SET LOCAL
 * statement_timeout); the statement's end ends it (pg_stmt_unwrap). */
int pg_settings_wrap(pg_conn *c, dbal_error *err);
/* What a BEGIN appends: "; SET LOCAL statement_timeout = N" without
 * session settings, else "". */
void pg_settings_begin(const pg_conn *c, char *buf, size_t cap);

#endif
