/* The driver registry: drivers registered by the application and modules
 * loaded from disk, each loaded once per process and kept until exit. */
#ifndef DBAL_CORE_LOADER_H
#define DBAL_CORE_LOADER_H

#include <dbal/driver.h>

/* Finds the driver called name: a registered one, else dbal_<name>.so from
 * DBAL_DRIVER_PATH, else from the drivers directory next to libdbal.
 * Returns DBAL_OK, DBAL_ENODRIVER, DBAL_EDRIVER, DBAL_EINVAL, DBAL_ENOMEM. */
int dbal__driver_find(const char *name, const dbal_driver **out, dbal_error *err);

/* The host table handed to every driver. */
extern const dbal_host dbal__host;

#endif
