/* Finding and judging a driver's table; see driver_table.h. */
#include "driver_table.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

dbal_driver_entry_fn dbal__driver_entry_of(void *handle, const char *name)
{
    char own[96];
    snprintf(own, sizeof own, DBAL_DRIVER_ENTRY_FORMAT, name);
    void *sym = dlsym(handle, own);
    if (!sym)
        sym = dlsym(handle, DBAL_DRIVER_ENTRY_SYMBOL);
    dbal_driver_entry_fn entry = NULL;
    if (sym)
        memcpy(&entry, &sym, sizeof entry); /* object to function pointer, as POSIX allows */
    return entry;
}

/* The first required slot d leaves empty, or NULL. */
static const char *missing_slot(const dbal_driver *d)
{
#define REQUIRE(slot) \
    if (!d->slot)     \
        return #slot;
    REQUIRE(engine_open)
    REQUIRE(engine_close)
    REQUIRE(connect)
    REQUIRE(disconnect)
    REQUIRE(exec)
    REQUIRE(query)
    REQUIRE(rows_next)
    REQUIRE(rows_close)
    REQUIRE(col_name)
    REQUIRE(col_value)
    REQUIRE(col_type)
    REQUIRE(begin)
    REQUIRE(commit)
    REQUIRE(rollback)
#undef REQUIRE
    return NULL;
}

const char *dbal__driver_refusal(const dbal_driver *d, const char *name, char *why, size_t cap)
{
    const char *slot;
    if (!d)
        snprintf(why, cap, "failed to initialise");
    else if (d->abi_version == 0 || d->abi_version > DBAL_DRIVER_ABI_VERSION)
        snprintf(why, cap, "has ABI version %u; this library supports 1 to %d", d->abi_version,
                 DBAL_DRIVER_ABI_VERSION);
    else if (d->size < offsetof(dbal_driver, last_insert_id))
        snprintf(why, cap, "has a table of %zu bytes, too small for ABI %u", d->size, d->abi_version);
    else if ((slot = missing_slot(d)) != NULL)
        snprintf(why, cap, "lacks the required function '%s'", slot);
    else if (!d->name || strcmp(d->name, name) != 0)
        snprintf(why, cap, "calls itself '%s', expected '%s'", d->name ? d->name : "(null)", name);
    else
        return NULL;
    return why;
}
