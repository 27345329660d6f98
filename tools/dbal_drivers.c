/*
 * dbal drivers: the driver modules the library would find, in the order it
 * searches: each directory of DBAL_DRIVER_PATH, then the installed drivers
 * directory next to libdbal.so (<libdir>/dbal/drivers, found with dladdr as
 * the library finds it).
 *
 * The public API has no way yet to ask the library for a driver's version,
 * so each module is opened here and its entry point called with a host table
 * of the client's own: the C allocator, an error writer, and stubs for the
 * two services (placeholder rewriting, SQLSTATE mapping) that only matter
 * once a driver runs statements, which it never does in this process. No
 * engine is opened after this, so the driver never works with this table.
 * A module that a module of the same name earlier in the search shadows is
 * listed but not opened. When the library grows dbal_driver_list() (see
 * tools/README.md), probe() and the directory walk give way to it.
 */
#include "dbal_cli.h"
#include "driver_table.h"

#include <dbal/driver.h>
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- a host table for reading a driver's table -------------------------------- */

static int no_rewrite(const char *sql, char **out, size_t *out_len, int *nparams)
{
    (void)sql;
    *out = NULL;
    *out_len = 0;
    *nparams = 0;
    return DBAL_EUNSUPPORTED;
}

static int unknown_sqlstate(const char *sqlstate)
{
    (void)sqlstate;
    return DBAL_ERROR;
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static void
set_error(dbal_error *err, int code, const char *sqlstate, int native_code, const char *fmt, ...)
{
    memset(err, 0, sizeof *err);
    err->code = code;
    err->native_code = native_code;
    if (sqlstate)
        snprintf(err->sqlstate, sizeof err->sqlstate, "%s", sqlstate);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
}

/* The probe opens no engine, so a driver that wraps another never asks
 * for it; the slot is there for drivers that check the host has it. */
static int no_load(const char *name, const struct dbal_driver **out, dbal_error *err)
{
    *out = NULL;
    set_error(err, DBAL_ENODRIVER, NULL, 0, "the probe loads no driver (%s)", name);
    return DBAL_ENODRIVER;
}

static const dbal_host probe_host = {
    .abi_version = DBAL_DRIVER_ABI_VERSION,
    .size = sizeof(dbal_host),
    .malloc = malloc,
    .realloc = realloc,
    .free = free,
    .rewrite_dollar = no_rewrite,
    .code_for_sqlstate = unknown_sqlstate,
    .set_error = set_error,
    .load_driver = no_load,
};

/* ---- one module ------------------------------------------------------------------ */

typedef struct module_info {
    char version[64];
    long abi;         /* -1: unknown */
    char status[512]; /* "ok" or why the library would refuse it */
} module_info;

/* Opens the module and checks its table as the library's loader does. A
 * module that passes stays loaded, as the library keeps its drivers. */
static void probe(const char *path, const char *name, module_info *m)
{
    m->version[0] = '\0';
    m->abi = -1;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(m->status, sizeof m->status, "cannot load: %s", dlerror());
        return;
    }
    dbal_driver_entry_fn entry = dbal__driver_entry_of(h, name);
    if (!entry) {
        snprintf(m->status, sizeof m->status, "not a dbal driver: no " DBAL_DRIVER_ENTRY_FORMAT " or %s",
                 name, DBAL_DRIVER_ENTRY_SYMBOL);
        dlclose(h);
        return;
    }
    const dbal_driver *d = entry(&probe_host);
    if (d) {
        m->abi = (long)d->abi_version;
        snprintf(m->version, sizeof m->version, "%s", d->version ? d->version : "");
    }
    char why[160];
    if (dbal__driver_refusal(d, name, why, sizeof why))
        snprintf(m->status, sizeof m->status, "refused: %s", why);
    else
        snprintf(m->status, sizeof m->status, "ok");
    if (strcmp(m->status, "ok") != 0)
        dlclose(h);
}

/* ---- the search ------------------------------------------------------------------- */

typedef struct listing {
    out_result *out;
    const out_options *o;
    char **names; /* drivers listed so far, to spot shadowed ones */
    size_t nnames;
    size_t found, usable;
    char searched[2048]; /* for the message when nothing is found */
    int failed;
} listing;

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int seen(const listing *l, const char *name)
{
    for (size_t i = 0; i < l->nnames; i++)
        if (strcmp(l->names[i], name) == 0)
            return 1;
    return 0;
}

static void text_cell(out_cell *c, const char *s)
{
    c->type = DBAL_TYPE_TEXT;
    c->data = s;
    c->len = strlen(s);
}

static void emit(listing *l, const char *name, const char *path, const module_info *m)
{
    static const char *const columns[] = {"name", "version", "abi", "status", "path"};
    if (!l->out && !(l->out = out_begin(stdout, l->o, 5, columns))) {
        l->failed = 1;
        return;
    }
    char abi[24];
    out_cell cells[5];
    text_cell(&cells[0], name);
    text_cell(&cells[1], m->version);
    if (!m->version[0]) /* not read: unknown, not empty */
        cells[1] = (out_cell){DBAL_TYPE_NULL, NULL, 0};
    if (m->abi >= 0) {
        snprintf(abi, sizeof abi, "%ld", m->abi);
        cells[2] = (out_cell){DBAL_TYPE_INT64, abi, strlen(abi)};
    } else {
        cells[2] = (out_cell){DBAL_TYPE_NULL, NULL, 0};
    }
    text_cell(&cells[3], m->status);
    text_cell(&cells[4], path);
    if (out_row(l->out, cells) != 0)
        l->failed = 1;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_module(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 8 && strncmp(e->d_name, "dbal_", 5) == 0 && strcmp(e->d_name + n - 3, ".so") == 0;
}

static void note_searched(listing *l, const char *dir)
{
    size_t used = strlen(l->searched);
    snprintf(l->searched + used, sizeof l->searched - used, "%s%s", used ? ", " : "", dir);
}

static void list_dir(listing *l, const char *dir)
{
    note_searched(l, dir);
    struct dirent **ents;
    int n = scandir(dir, &ents, is_module, by_name);
    if (n < 0)
        return; /* a directory that does not exist holds no drivers */
    for (int i = 0; i < n; i++) {
        const char *file = ents[i]->d_name;
        char name[64], path[PATH_MAX];
        size_t nlen = strlen(file) - strlen("dbal_") - strlen(".so");
        snprintf(name, sizeof name, "%.*s", (int)nlen, file + 5);
        snprintf(path, sizeof path, "%s/%s", dir, file);
        module_info m = {.abi = -1};
        if (!valid_name(file + 5, nlen)) {
            snprintf(m.status, sizeof m.status, "ignored: a driver name is made of a-z 0-9 and _");
        } else if (seen(l, name)) {
            snprintf(m.status, sizeof m.status, "shadowed by the %s driver listed above", name);
        } else {
            probe(path, name, &m);
            char **names = realloc(l->names, (l->nnames + 1) * sizeof *names);
            if (names && (names[l->nnames] = strdup(name)) != NULL)
                l->nnames++;
            if (names)
                l->names = names;
            if (strcmp(m.status, "ok") == 0)
                l->usable++;
        }
        l->found++;
        emit(l, name, path, &m);
        free(ents[i]);
    }
    free(ents);
}

/* The installed drivers directory: <directory of libdbal.so>/dbal/drivers. */
static int installed_dir(char *buf, size_t cap)
{
    Dl_info info;
    char lib[PATH_MAX];
    const char *(*fn)(void) = dbal_version;
    void *addr;
    memcpy(&addr, &fn, sizeof addr); /* function to object pointer, as POSIX allows */
    if (!dladdr(addr, &info) || !info.dli_fname || !realpath(info.dli_fname, lib))
        return 0;
    char *slash = strrchr(lib, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    int n = snprintf(buf, cap, "%s/dbal/drivers", lib);
    return n > 0 && (size_t)n < cap;
}

/* Lists dir unless the same directory was listed already. */
static void visit(listing *l, const char *dir, char (*done)[PATH_MAX], size_t *ndone, size_t max)
{
    char real[PATH_MAX];
    const char *key = realpath(dir, real) ? real : dir;
    for (size_t i = 0; i < *ndone; i++)
        if (strcmp(done[i], key) == 0)
            return;
    if (*ndone < max)
        snprintf(done[(*ndone)++], PATH_MAX, "%s", key);
    list_dir(l, dir);
}

int cmd_drivers(const cli_args *a)
{
    enum { MAX_DIRS = 32 };
    if (a->npos > 0) {
        report_usage("drivers takes no arguments");
        return EXIT_USAGE;
    }
    listing l = {.o = &a->out};
    static char done[MAX_DIRS][PATH_MAX];
    size_t ndone = 0;
    /* secure_getenv, as the library reads it: ignored in set-uid programs. */
    const char *env = secure_getenv("DBAL_DRIVER_PATH");
    for (const char *p = env; p && *p;) {
        size_t len = strcspn(p, ":");
        if (len > 0 && len < PATH_MAX) {
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%.*s", (int)len, p);
            visit(&l, dir, done, &ndone, MAX_DIRS);
        }
        p += len + (p[len] == ':');
    }
    char dir[PATH_MAX];
    if (installed_dir(dir, sizeof dir))
        visit(&l, dir, done, &ndone, MAX_DIRS);

    int code = EXIT_OK;
    if (l.out && !l.failed)
        out_end(l.out);
    else
        out_abort(l.out);
    if (l.failed) {
        report_usage("DBAL_ENOMEM: out of memory");
        code = EXIT_DB;
    } else if (l.found == 0) {
        report_usage("DBAL_ENODRIVER: no driver modules (dbal_<name>.so) in %s",
                     l.searched[0] ? l.searched
                                   : "any directory: DBAL_DRIVER_PATH is unset and libdbal's "
                                     "directory is unknown");
        code = EXIT_CONN;
    } else if (l.usable == 0) {
        report_usage("DBAL_EDRIVER: none of the driver modules found can be used");
        code = EXIT_CONN;
    }
    for (size_t i = 0; i < l.nnames; i++)
        free(l.names[i]);
    free(l.names);
    return code;
}
