/*
 * The driver's slots (dbal/driver.h) that the top layer's files define,
 * for the table in pg_driver.c. The cursor slots are pg_stmt.h's, the
 * cancel slot pg_wire.h's.
 *
 * The driver in layers, bottom to top; a file includes the header of its
 * own layer, which includes those below, and calls nothing above
 * (tools/check_include_cycles.py keeps the headers acyclic):
 *
 *   pg_types.h   the type table                    pg_types.c
 *   pg_wire.h    set-up, waits, errors, cancel      pg_socket.c pg_wire.c
 *                                                  pg_errors.c pg_cancel.c
 *   pg_stmt.h    parameters, `?`, statement cache,  pg_params.c pg_placeholders.c
 *                sending, cursors                  pg_stmt.c pg_send.c
 *                                                  pg_rows.c pg_bytea.c
 *   pg_policy.h  direct or pooler, found once       pg_policy.c
 *   pg_conn.h    engine, connection, settings,      pg_engine.c pg_conn.c
 *                reset; pg_copy.h; this header      pg_settings.c pg_reset.c
 *                                                  pg_exec.c pg_tx.c pg_batch.c
 *                                                  pg_copy.c pg_async.c pg_driver.c
 */
#ifndef DBAL_PG_DRIVER_H
#define DBAL_PG_DRIVER_H

#include "pg_conn.h"

/* pg_engine.c */
int pg_engine_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err);
void pg_engine_close(void *ctx);

/* pg_conn.c */
int pg_connect(void *ctx, dbal_driver_conn **out, dbal_error *err);
void pg_disconnect(dbal_driver_conn *c);
int pg_ping(dbal_driver_conn *c, dbal_error *err);

/* pg_exec.c */
int pg_exec(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams, int64_t *affected,
            dbal_error *err);
int pg_query(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams,
             dbal_driver_rows **out, dbal_error *err);
int pg_last_insert_id(dbal_driver_conn *c, int64_t *out, dbal_error *err);

/* pg_tx.c */
int pg_begin(dbal_driver_conn *c, unsigned options, dbal_error *err);
int pg_commit(dbal_driver_conn *c, dbal_error *err);
int pg_rollback(dbal_driver_conn *c, dbal_error *err);

/* pg_settings.c */
/* Records the timeout; it is applied with the next command (no I/O). */
int pg_set_timeout(dbal_driver_conn *c, int milliseconds, dbal_error *err);
int pg_set_read_only(dbal_driver_conn *c, int on, dbal_error *err);

/* pg_batch.c */
int pg_exec_batch(dbal_driver_conn *c, const char *sql, size_t nparams,
                  int (*next)(void *ud, size_t i, const dbal_value **row), void *ud, int64_t *affected,
                  size_t *failed_row, dbal_error *err);

/* pg_reset.c */
/* Sends what undoes a session's changes to its server session, without
 * waiting for the answer. */
int pg_reset(dbal_driver_conn *c, dbal_error *err);
/* The check slot: the reset's answer, and a goodbye the server sent while
 * the connection was idle. */
int pg_check(dbal_driver_conn *c, int wait, int *fd, dbal_error *err);

/* pg_async.c: the asynchronous slots, libpq's pipeline mode. */
int pg_async_start(dbal_driver_conn *c, int *fd, dbal_error *err);
void pg_async_stop(dbal_driver_conn *c);
int pg_async_send(dbal_driver_conn *c, int kind, unsigned options, const char *sql, const dbal_value *params,
                  size_t nparams, dbal_error *err);
int pg_async_io(dbal_driver_conn *c, unsigned ready, unsigned *want, dbal_error *err);
int pg_async_result(dbal_driver_conn *c, int *ready, dbal_driver_rows **rows, int64_t *affected,
                    dbal_error *err);
int pg_async_connect_start(void *ctx, dbal_driver_conn **out, int *fd, unsigned *want, dbal_error *err);
int pg_async_connect_poll(dbal_driver_conn *c, int *fd, unsigned *want, int *done, dbal_error *err);

#endif
