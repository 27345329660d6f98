/* Driver modules that the loader must refuse, one per build flavour:
 * BAD_ABI, FAIL_INIT, WRONG_NAME, MISSING_SLOT, NOT_A_DRIVER; and OWN_ENTRY,
 * which it must take through its own entry name, dbal_ownentry_driver_entry,
 * though its dbal_driver_entry fails. */
#include <dbal/driver.h>

#ifndef NOT_A_DRIVER
static int nop_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err)
{
    *ctx = NULL;
    return DBAL_OK;
}
static void nop_close(void *ctx)
{
}
static int nop_connect(void *ctx, dbal_driver_conn **out, dbal_error *err)
{
    return DBAL_ECONNECT;
}
static void nop_disconnect(dbal_driver_conn *c)
{
}
__attribute__((unused)) static int nop_exec(dbal_driver_conn *c, const char *sql, const dbal_value *p,
                                            size_t n, int64_t *a, dbal_error *err)
{
    return DBAL_ERROR;
}
static int nop_query(dbal_driver_conn *c, const char *sql, const dbal_value *p, size_t n,
                     dbal_driver_rows **out, dbal_error *err)
{
    return DBAL_ERROR;
}
static int nop_next(dbal_driver_rows *r, dbal_error *err)
{
    return DBAL_DONE;
}
static void nop_rows_close(dbal_driver_rows *r)
{
}
static const char *nop_col_name(dbal_driver_rows *r, int col)
{
    return "";
}
static void nop_col_value(dbal_driver_rows *r, int col, dbal_value *out)
{
}
static dbal_type nop_col_type(dbal_driver_rows *r, int col)
{
    return DBAL_TYPE_NULL;
}
static int nop_tx(dbal_driver_conn *c, dbal_error *err)
{
    return DBAL_OK;
}
static int nop_begin(dbal_driver_conn *c, unsigned o, dbal_error *err)
{
    return DBAL_OK;
}

__attribute__((unused)) static const dbal_driver table = {
#ifdef BAD_ABI
    .abi_version = 99,
#else
    .abi_version = DBAL_DRIVER_ABI_VERSION,
#endif
    .size = sizeof(dbal_driver),
#ifdef WRONG_NAME
    .name = "somebody_else",
#else
    .name = DRIVER_NAME,
#endif
    .version = "test",
    .engine_open = nop_open,
    .engine_close = nop_close,
    .connect = nop_connect,
    .disconnect = nop_disconnect,
#ifndef MISSING_SLOT
    .exec = nop_exec,
#endif
    .query = nop_query,
    .rows_next = nop_next,
    .rows_close = nop_rows_close,
    .col_name = nop_col_name,
    .col_value = nop_col_value,
    .col_type = nop_col_type,
    .begin = nop_begin,
    .commit = nop_tx,
    .rollback = nop_tx,
};

#ifdef OWN_ENTRY
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(ownentry)(const dbal_host *host);
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(ownentry)(const dbal_host *host)
{
    return &table;
}
#endif

DBAL_API const dbal_driver *dbal_driver_entry(const dbal_host *host)
{
#if defined(FAIL_INIT) || defined(OWN_ENTRY)
    return NULL;
#else
    return &table;
#endif
}
#else
DBAL_API int not_the_entry_point(void);
DBAL_API int not_the_entry_point(void)
{
    return 42;
}
#endif
