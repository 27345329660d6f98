/*
 * driver_table.h - how a driver module is found in a loaded object and how
 * its table is judged: one rule for the library's loader and for the CLI's
 * `dbal drivers`, which must say what the loader would do.
 */
#ifndef DBAL_UTIL_DRIVER_TABLE_H
#define DBAL_UTIL_DRIVER_TABLE_H

#include <dbal/driver.h>

/* The entry point of the module `handle` loaded for driver `name`: its own
 * DBAL_DRIVER_ENTRY(<name>) first, then DBAL_DRIVER_ENTRY_SYMBOL. NULL when
 * it has neither. */
dbal_driver_entry_fn dbal__driver_entry_of(void *handle, const char *name);

/* Why table d (what the entry point returned) would be refused for `name`:
 * NULL when it would not, else a message after the driver's name and
 * origin ("has ABI version 9; ...", "lacks the required function 'exec'",
 * "calls itself 'x', expected 'y'"), written into why. */
const char *dbal__driver_refusal(const dbal_driver *d, const char *name, char *why, size_t cap);

#endif
