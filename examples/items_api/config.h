/*
 * config.h - the service's settings, read from the environment.
 *
 *   DATABASE_URL    default "sqlite://items.db" (a file in the working directory)
 *   HOST            address to listen on, default 127.0.0.1 (0.0.0.0: every interface)
 *   PORT            default 8000; 0 picks a free port (printed at startup)
 *   MAX_BODY_BYTES  largest request body accepted, default 1 MiB (larger: 413)
 *   MIGRATIONS_DIR  the schema's migrations, applied at startup; default
 *                   "migrations" beside the executable (the build copies
 *                   examples/items_api/migrations there)
 */
#ifndef ITEMS_API_CONFIG_H
#define ITEMS_API_CONFIG_H

#include <stddef.h>

#define CONFIG_DEFAULT_DATABASE_URL "sqlite://items.db"
#define CONFIG_DEFAULT_HOST "127.0.0.1"
#define CONFIG_DEFAULT_PORT 8000
#define CONFIG_DEFAULT_MAX_BODY (1024 * 1024)

typedef struct config {
    const char *database_url; /* never printed: it may hold a password */
    const char *host;
    unsigned port;
    size_t max_body;
    const char *migrations_dir;
    char migrations_buf[4096]; /* the default, made from the executable's path */
} config;

/* Fills c from the environment. Returns 0, or -1 with a message in msg. */
int config_from_env(config *c, char *msg, size_t cap);

#endif
