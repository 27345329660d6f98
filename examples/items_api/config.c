/* config.c - settings from the environment (see config.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* Parses a whole decimal number in [min, max]; 0 on success. */
static int parse_number(const char *s, unsigned long long min, unsigned long long max,
                        unsigned long long *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "migrations" in the directory of the running executable (Linux's
 * /proc/self/exe), so the service finds its schema wherever it is started
 * from. */
static int default_migrations_dir(config *c, char *msg, size_t cap)
{
    char exe[sizeof c->migrations_buf - 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = NULL;
    if (n > 0) {
        exe[n] = '\0';
        slash = strrchr(exe, '/');
    }
    if (!slash) {
        snprintf(msg, cap, "cannot find the executable's directory: set MIGRATIONS_DIR");
        return -1;
    }
    *slash = '\0';
    snprintf(c->migrations_buf, sizeof c->migrations_buf, "%s/migrations", exe);
    c->migrations_dir = c->migrations_buf;
    return 0;
}

int config_from_env(config *c, char *msg, size_t cap)
{
    unsigned long long v;
    c->database_url = env_or("DATABASE_URL", CONFIG_DEFAULT_DATABASE_URL);
    c->host = env_or("HOST", CONFIG_DEFAULT_HOST);

    const char *port = getenv("PORT");
    c->port = CONFIG_DEFAULT_PORT;
    if (port && *port) {
        if (parse_number(port, 0, 65535, &v)) {
            snprintf(msg, cap, "PORT must be a number from 0 to 65535, got '%s'", port);
            return -1;
        }
        c->port = (unsigned)v;
    }

    const char *max_body = getenv("MAX_BODY_BYTES");
    c->max_body = CONFIG_DEFAULT_MAX_BODY;
    if (max_body && *max_body) {
        if (parse_number(max_body, 1, 1ull << 30, &v)) {
            snprintf(msg, cap, "MAX_BODY_BYTES must be a number from 1 to 1073741824, got '%s'", max_body);
            return -1;
        }
        c->max_body = (size_t)v;
    }
    c->migrations_dir = getenv("MIGRATIONS_DIR");
    if (c->migrations_dir && *c->migrations_dir)
        return 0;
    return default_migrations_dir(c, msg, cap);
}
