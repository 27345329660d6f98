/*
 * The PostgreSQL driver's entry point and its table of operations.
 */
#include "pg_driver.h"

#include <stddef.h>

static const dbal_driver pg_driver = {
    .abi_version = DBAL_DRIVER_ABI_VERSION,
    .size = sizeof(dbal_driver),
    .name = "postgresql",
    .version = DBAL_VERSION, /* the driver's; libpq's own is PQlibVersion() */
    .engine_open = pg_engine_open,
    .engine_close = pg_engine_close,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .exec = pg_exec,
    .query = pg_query,
    .rows_next = pg_rows_next,
    .rows_close = pg_rows_close,
    .col_name = pg_col_name,
    .col_value = pg_col_value,
    .col_type = pg_col_type,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .last_insert_id = pg_last_insert_id,
    .ping = pg_ping,
    .cancel = pg_cancel,
    .set_timeout = pg_set_timeout,
    .exec_batch = pg_exec_batch,
    .set_read_only = pg_set_read_only,
    .reset = pg_reset,
    .async_start = pg_async_start,
    .async_stop = pg_async_stop,
    .async_send = pg_async_send,
    .async_io = pg_async_io,
    .async_result = pg_async_result,
    .async_connect_start = pg_async_connect_start,
    .async_connect_poll = pg_async_connect_poll,
    .check = pg_check,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
};

/* The module's one export (a prototype, as every function outside a
 * header has one). */
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(postgresql)(const dbal_host *host);
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(postgresql)(const dbal_host *host)
{
    if (!DBAL_HOST_HAS(host, set_error)) /* the newest host slot it calls */
        return NULL;
    pg_host = host;
    return &pg_driver;
}
