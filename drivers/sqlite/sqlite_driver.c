/* The SQLite driver's entry point and table. */
#include "sqlite_internal.h"

const dbal_host *sq_host;

static const dbal_driver driver = {
    .abi_version = DBAL_DRIVER_ABI_VERSION,
    .size = sizeof(dbal_driver),
    .name = "sqlite",
    .version = DBAL_VERSION, /* the driver's; SQLite's own is sqlite3_libversion() */
    .engine_open = sq_engine_open,
    .engine_close = sq_engine_close,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .exec = sq_exec,
    .query = sq_query,
    .rows_next = sq_rows_next,
    .rows_close = sq_rows_close,
    .col_name = sq_col_name,
    .col_value = sq_col_value,
    .col_type = sq_col_type,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .last_insert_id = sq_last_insert_id,
    .ping = sq_ping,
    .reset = NULL,
    .cancel = sq_cancel,
    .set_timeout = sq_set_timeout,
    .set_read_only = sq_set_read_only,
    .check = sq_check,
    .col_int64 = sq_col_int64,
    .col_double = sq_col_double,
    .col_text = sq_col_text,
    .inline_budget = sq_inline_budget,
};

/* The module's one export (a prototype, as every function outside a
 * header has one). */
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(sqlite)(const dbal_host *host);
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(sqlite)(const dbal_host *host)
{
    if (!DBAL_HOST_HAS(host, set_error)) /* the newest host slot it calls */
        return NULL;
    sq_host = host;
    /* The library's mutexes are not needed for one connection per thread,
     * but the build may be SQLITE_THREADSAFE=0, where sharing is unsafe. */
    if (!sqlite3_threadsafe())
        return NULL;
    return &driver;
}
