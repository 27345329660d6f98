/*
 * The PostgreSQL driver's top layer: the engine context and the
 * connection, with what the files of this layer share. A connection is one
 * part per concern, each owned by the file or layer named beside it: the
 * wire (pg_wire.h), its statements (pg_stmt.h), the policy found at
 * connect time (pg_policy.h), the session settings (pg_settings.c), the
 * pool's reset (pg_reset.c), the asynchronous pipeline (pg_async.c).
 *
 * The driver's slots, which pg_driver.c puts in its table, are declared in
 * pg_driver.h; COPY for batches in pg_copy.h.
 */
#ifndef DBAL_PG_CONN_H
#define DBAL_PG_CONN_H

#include "pg_policy.h"
#include "pg_stmt.h"

#include <stdatomic.h>
#include <stddef.h>

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
    int read_only_set;   /* what the server session's default is now (with session settings) */
} pg_settings;

/* Where the reset between two sessions stands (pg_reset.c). */
#define PG_RESET_NONE 0
#define PG_RESET_SENT 1         /* the reset was sent, its answer not read */
#define PG_RESET_DEALLOCATING 2 /* then a DEALLOCATE ALL */
typedef struct pg_reset_state {
    int state;            /* PG_RESET_*: an answer still to read */
    int prepared;         /* the reset's statements are prepared on the server */
    int timeout_prepared; /* and its timeout statement, sent only by some resets */
    int sql_prepared;     /* the last reset found statements made with SQL PREPARE */
} pg_reset_state;

typedef struct pg_conn {
    pg_wire wire; /* first: it starts with the core's base */
    pg_stmts stmts;
    const pg_policy *policy; /* set once, when connected (pg_conn_adopt) */
    pg_settings settings;
    pg_reset_state reset;
    struct pg_async *async; /* statements in flight in pipeline mode (pg_async.c) */
    pg_ctx *ctx;
} pg_conn;

/* ---- pg_conn.c ---- */

/* A connection's state around pg, not yet usable; pg_conn_setup finishes
 * it once pg is connected (DBAL_OK or DBAL_ENOMEM). */
pg_conn *pg_conn_alloc(pg_ctx *x, PGconn *pg);
int pg_conn_setup(pg_conn *c);
/* Sets the policy the engine found on c, a new connection: without named
 * statements, its statement cache goes. */
void pg_conn_adopt(pg_conn *c, const pg_policy *p);
/* Makes the connection ready to send a command: the answer to a reset is
 * read, an open cursor's rows are pulled into its buffer; when idle, what
 * it owes is run (pg_conn_owed), inside a block a changed statement
 * timeout is set. DBAL_OK, or why not: then the command must not be sent. */
int pg_conn_ready(pg_conn *c, dbal_error *err);
/* Sends one command an idle connection owes: waits for its answer
 * (blocking use), or queues it ahead of the statements (pg_async.c). */
typedef int (*pg_runner)(pg_conn *c, const char *sql, dbal_error *err);
/* What an idle connection owes before its next statement, through run:
 * the DEALLOCATEs of evicted statements, the session's statement timeout.
 * DBAL_OK or the first failure that matters (a DEALLOCATE's does not: the
 * statement is gone anyway). */
int pg_conn_owed(pg_conn *c, pg_runner run, dbal_error *err);
/* Runs a parameterless command with the simple protocol on a connection
 * made ready first; *res (optional) receives the successful result, which
 * the caller clears. */
int pg_simple(pg_conn *c, const char *sql, ExecStatusType want, PGresult **res, dbal_error *err);
/* The blocking pg_runner: pg_wire_command of a command that returns no
 * rows. */
int pg_run(pg_conn *c, const char *sql, dbal_error *err);

/* ---- pg_settings.c: the statement timeout and read-only, as c->policy says ---- */

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

/* ---- pg_reset.c ---- */

/* Reads the answer to a reset: DBAL_OK once it is read, DBAL_EBUSY when it
 * has not arrived and wait is 0; with wait 1 waits a bounded time. A
 * failed reset breaks the connection (DBAL_ECONNLOST). */
int pg_reset_collect(pg_conn *c, int wait, dbal_error *err);

/* ---- pg_tx.c ---- */

/* "BEGIN" with the transaction modes that options (DBAL_TX_*) ask for;
 * READ ONLY too when the connection is read_only (set_read_only). */
int pg_begin_sql(unsigned options, int read_only, char *buf, size_t cap, dbal_error *err);

/* ---- pg_async.c ---- */

/* Frees what pg_async_send allocated, at disconnect. */
void pg_async_free(pg_conn *c);

#endif
