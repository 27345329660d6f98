#include "loader.h"

#include "alloc.h"
#include "driver_table.h"
#include "errors.h"
#include "url.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct registered {
    struct registered *next;
    char name[33];
    const dbal_driver *driver;
    void *handle; /* NULL for drivers registered by the application */
} registered;

/* Drivers stay loaded until exit: engines, and pointers into a driver's
 * static data, may outlive any one user of it. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static registered *registry;

static registered *lookup(const char *name)
{
    for (registered *r = registry; r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static int check_table(const char *name, const char *origin, const dbal_driver *d, dbal_error *err)
{
    char why[160];
    if (dbal__driver_refusal(d, name, why, sizeof why))
        return dbal__error_set(err, DBAL_EDRIVER, NULL, 0, "driver '%s' (%s) %s", name, origin, why);
    return DBAL_OK;
}

static int add(const char *name, const dbal_driver *d, void *handle, dbal_error *err)
{
    registered *r = dbal__calloc(1, sizeof *r);
    if (!r)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->driver = d;
    r->handle = handle;
    r->next = registry;
    registry = r;
    return DBAL_OK;
}

/* The installed drivers directory, found from where libdbal itself was
 * loaded, so that a library installed under any prefix (or in the build
 * tree, which mirrors the installed layout) finds its own drivers and never
 * looks into a directory compiled in elsewhere. */
static int default_dir(char *buf, size_t cap)
{
    Dl_info info;
    if (!dladdr((void *)&dbal__driver_find, &info) || !info.dli_fname)
        return 0;
    char lib[PATH_MAX];
    if (!realpath(info.dli_fname, lib))
        return 0;
    const char *slash = strrchr(lib, '/');
    if (!slash)
        return 0;
    int n = snprintf(buf, cap, "%.*s/dbal/drivers", (int)(slash - lib), lib);
    return n > 0 && (size_t)n < cap;
}

static int open_module(const char *name, const char *path, const dbal_driver **out, dbal_error *err)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return dbal__error_set(err, DBAL_EDRIVER, NULL, 0, "cannot load driver '%s': %s", name, dlerror());
    dbal_driver_entry_fn entry = dbal__driver_entry_of(h, name);
    if (!entry) {
        dlclose(h);
        return dbal__error_set(err, DBAL_EDRIVER, NULL, 0,
                               "%s is not a dbal driver (no " DBAL_DRIVER_ENTRY_FORMAT " or %s symbol)", path,
                               name, DBAL_DRIVER_ENTRY_SYMBOL);
    }
    const dbal_driver *d = entry(&dbal__host);
    int rc = check_table(name, path, d, err);
    if (rc == DBAL_OK)
        rc = add(name, d, h, err);
    if (rc != DBAL_OK) {
        dlclose(h);
        return rc;
    }
    *out = d;
    return DBAL_OK;
}

/* Tries dir/dbal_<name>.so; 1 if the file exists (then *rc is the outcome). */
static int try_dir(const char *dir, size_t dlen, const char *name, const dbal_driver **out, int *rc,
                   dbal_error *err)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%.*s/dbal_%s.so", (int)dlen, dir, name);
    if (dlen == 0 || n < 0 || (size_t)n >= sizeof path || access(path, F_OK) != 0)
        return 0;
    *rc = open_module(name, path, out, err);
    return 1;
}

static int load(const char *name, const dbal_driver **out, dbal_error *err)
{
    int rc = DBAL_ENODRIVER;
    /* secure_getenv: a set-uid program must not load code named by its caller. */
    const char *env = secure_getenv("DBAL_DRIVER_PATH");
    for (const char *p = env; p && *p;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (try_dir(p, len, name, out, &rc, err))
            return rc;
        p = colon ? colon + 1 : p + len;
    }
    char dir[PATH_MAX];
    int have_dir = default_dir(dir, sizeof dir);
    if (have_dir && try_dir(dir, strlen(dir), name, out, &rc, err))
        return rc;
    return dbal__error_set(err, DBAL_ENODRIVER, NULL, 0,
                           "no driver for scheme '%s': dbal_%s.so is not in DBAL_DRIVER_PATH (%s) "
                           "nor in %s",
                           name, name, env && *env ? env : "unset", have_dir ? dir : "(unknown)");
}

int dbal__driver_find(const char *name, const dbal_driver **out, dbal_error *err)
{
    if (!name || !dbal__valid_name(name, strlen(name)))
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                               "driver names are lowercase letters, digits and '_'");
    pthread_mutex_lock(&registry_lock);
    registered *r = lookup(name);
    int rc = DBAL_OK;
    if (r)
        *out = r->driver;
    else
        rc = load(name, out, err);
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

int dbal_register_driver(const char *name, dbal_driver_entry_fn entry, dbal_error *err)
{
    dbal__error_clear(err);
    if (!name || !dbal__valid_name(name, strlen(name)) || !entry)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                               "dbal_register_driver needs a name of lowercase letters, digits and "
                               "'_', and an entry function");
    const dbal_driver *d = entry(&dbal__host);
    int rc = check_table(name, "registered", d, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&registry_lock);
    if (lookup(name))
        rc = dbal__error_set(err, DBAL_EMISUSE, NULL, 0, "a driver named '%s' is already registered", name);
    else
        rc = add(name, d, NULL, err);
    pthread_mutex_unlock(&registry_lock);
    return rc;
}
