/*
 * The PostgreSQL driver's bottom layer: one connection's wire. Its set-up,
 * the server's notices and its close (pg_socket.c); sending and waiting
 * for answers, bounded (pg_wire.c); libpq results and messages turned into
 * dbal_error (pg_errors.c); cancel requests that never block
 * (pg_cancel.c). It knows nothing of statements, transactions or poolers:
 * the layers above (pg_stmt.h and pg_policy.h, then pg_conn.h) build on
 * it, and it calls none of them.
 *
 * Nothing here leaves the module (the build hides every symbol but the
 * entry point).
 */
#ifndef DBAL_PG_WIRE_H
#define DBAL_PG_WIRE_H

#include <dbal/driver.h>
#include <libpq-fe.h>

#include <stdatomic.h>
#include <sys/types.h>

/* The host table (pg_wire.c), set once by the entry point (pg_driver.c). */
extern const dbal_host *pg_host;

/* A connection's cancel handle, shared with the thread sending a request
 * (pg_cancel.c). */
typedef struct pg_canceller pg_canceller;

/*
 * A connection as the wire sees it. It starts with the core's base, and
 * starts the driver's connection (pg_conn.h), so that one pointer is all
 * three. Connections are in libpq's non-blocking mode for good: commands
 * are handed to the PQsend* functions and their answers waited for here.
 */
typedef struct pg_wire {
    dbal_driver_conn base;
    PGconn *pg;
    pid_t pid; /* the process that opened it: in a forked child, its socket is the parent's */
    pg_canceller *canceller;
    atomic_int cancel_requested; /* set by pg_cancel, from any thread */
    /* The statement timeout asked for (-1: never; 0: none). It bounds
     * every wait, and tells a timeout's SQLSTATE 57014 from a cancel's. */
    int timeout_ms;
    /* > 0: the bound of the driver's own check in progress (a ping, the
     * pooler probe), instead of the statement timeout's. */
    int check_ms;
    /* The server could still apply the command in flight if the client
     * gave up on it: set before each command is sent. */
    int in_doubt;
    int notice_fatal; /* the server sent a FATAL or PANIC notice: it is closing */
    /* The SQLSTATE of the server's WARNING that it stopped waiting for the
     * synchronous standby during the command in flight ("": none): that
     * command's commit is on this server only (pg_error_syncrep). */
    char syncrep[6];
    /* The driver canceled the command in flight itself: a commit silent
     * for the statement timeout (see pg_wire.c). */
    int cancel_sent;
    int gave_up; /* the code the connection was given up with; 0: it was not */
    dbal_error gave_up_err;
} pg_wire;

/* ---- pg_socket.c: the connection's life on the wire ---- */

/* Fills a zeroed w for pg, a connection being made (not usable yet). */
void pg_wire_init(pg_wire *w, PGconn *pg);
/* Once pg is connected: the cancel handle, the notice receiver, and
 * non-blocking mode. DBAL_OK, or DBAL_ENOMEM. */
int pg_wire_setup(pg_wire *w);
/* Lets go of the cancel handle and closes the connection; in a forked
 * child without a word on the parent's socket. */
void pg_wire_close(pg_wire *w);
/* Shuts the socket down, so that a command sent on it before the core
 * discards the connection fails rather than runs. */
void pg_wire_shutdown(pg_wire *w);
/* Waits up to `seconds` for the socket to be readable (or writable, while
 * libpq holds unsent bytes); 0 when it was not. */
int pg_wire_readable_within(pg_wire *w, double seconds);
/* Whether the server said goodbye to an idle connection (a FATAL notice,
 * EOF), looking without a round trip and without blocking. */
int pg_wire_closed_while_idle(pg_wire *w);

/* ---- pg_wire.c: every wait for the server, bounded ---- */

/* Waits until PQgetResult can answer without blocking, sending what libpq
 * holds meanwhile. DBAL_OK, or the code the connection was given up with
 * (err filled). */
int pg_wire_wait(pg_wire *w, dbal_error *err);
/* Sends everything libpq holds (COPY data). */
int pg_wire_flush(pg_wire *w, dbal_error *err);
/* PQgetResult, bounded: NULL at the end of the results, or when the
 * connection was given up (w->gave_up says which). */
PGresult *pg_wire_result(pg_wire *w);
/* What PQexec returned, for a command just handed to a PQsend* function
 * (sent: what it returned): the first error, else the last result, the
 * others read and dropped; a COPY result at once. NULL when it was not sent
 * or the connection was given up. */
PGresult *pg_wire_last(pg_wire *w, int sent);
/* Reads and discards results until libpq has none left. */
void pg_wire_drain(pg_wire *w);
/* Runs one of the driver's own commands, without parameters, with the
 * simple protocol on a connection ready for it; *res (optional) receives
 * the result when its status is want, which the caller clears. */
int pg_wire_command(pg_wire *w, const char *sql, ExecStatusType want, PGresult **res, dbal_error *err);
/* Gives the connection up after waited_ms without an answer (why: what
 * bound that was), with DBAL_ETIMEOUT or, when w->in_doubt, DBAL_ECONNLOST;
 * later waits on it fail at once with the same error. */
int pg_wire_give_up(pg_wire *w, int waited_ms, const char *why, dbal_error *err);
/* Whether sql ends a transaction block for good (COMMIT, END, PREPARE
 * TRANSACTION). */
int pg_wire_ends_tx(const char *sql);
/* Whether the server could still apply the application's statement sql,
 * about to be sent, if the client gave up waiting for it: always outside a
 * transaction block, inside one only when sql ends it. */
int pg_wire_in_doubt(const pg_wire *w, const char *sql);

/* ---- pg_errors.c ---- */

/* Fills err from a failed result and returns its code; a connection that is
 * gone is marked broken and reported as DBAL_ECONNLOST. */
int pg_error_result(pg_wire *w, const PGresult *res, dbal_error *err);
/* As pg_error_result, for a failure libpq reports only on the connection. */
int pg_error_conn(pg_wire *w, dbal_error *err);
/* Fills err with msg on one line (lines joined with "; "). */
void pg_error_clean(dbal_error *err, int code, const char *sqlstate, const char *msg);
/* As pg_error_clean, with the value of every password keyword of a
 * connection's keyword/value arrays (NULL-terminated) in msg replaced by
 * "***". */
void pg_error_redacted(dbal_error *err, int code, const char *sqlstate, const char *msg,
                       const char *const *keywords, const char *const *values);
int pg_error_nomem(dbal_error *err);
/* rc as the command that just ended returns it, unless the server stopped
 * waiting for the synchronous standby during it (w->syncrep): then its
 * commit is on this server only, and a success or the connection's loss
 * (a WARNING, then the session's end) is DBAL_ENOTREPLICATED. Clears
 * w->syncrep. */
int pg_error_syncrep(pg_wire *w, int rc, dbal_error *err);
/* err = why the connection was given up (pg_wire_give_up); returns its
 * code, 0 when it was not. */
int pg_wire_error(const pg_wire *w, dbal_error *err);
/* The last SQLSTATE a server wrote into a verbose connection error
 * message; 0 when there is none. */
int pg_server_sqlstate(const char *msg, char out[6]);

/* ---- pg_cancel.c ---- */

/* The cancel handle of pg, with the connection's reference; NULL when out
 * of memory. */
pg_canceller *pg_canceller_new(PGconn *pg);
/* Lets go of one reference (NULL: nothing); the last frees it. A
 * connection closing lets go of its own and never waits: a request on its
 * way keeps the handle (the process's exit gives it a moment, pg_cancel.c). */
void pg_canceller_release(pg_canceller *k);
/* Before a blocking command: waits (up to DBAL_TIMEOUT_GRACE_MS) for a
 * cancel request on its way to arrive, so that it cannot interrupt the
 * command; 0 when one is still on its way after that. */
int pg_cancel_settle(pg_wire *w);
/* Whether a cancel request is still on its way to the server. */
int pg_cancel_in_flight(const pg_wire *w);
/* Whether an asynchronous command must wait for a request on its way (for
 * at most DBAL_TIMEOUT_GRACE_MS from its start, as pg_cancel_settle). */
int pg_cancel_holds(const pg_wire *w);
/* The cancel slot: returns at once, the request is sent by a thread. */
int pg_cancel(dbal_driver_conn *c);
/* As pg_cancel, for a cancel of the driver's own: the statement it
 * interrupts keeps the code its own timeout would give. */
int pg_cancel_send(pg_wire *w);

#endif
