/*
 * fuzz_loader: the driver-name handling of dbal_engine_open.
 *
 * dbal_engine_open("<fuzzed bytes>://x") runs the scheme through the URL
 * parser and the loader. DBAL_DRIVER_PATH is set to an empty private
 * directory (with empty list entries around it, which must not mean the
 * working directory), so no driver can be found:
 *   - the answer is DBAL_EURL or DBAL_ENODRIVER, with a message, *out NULL;
 *   - dlopen() is never called (this program interposes it and aborts);
 *   - every file the loader probes (it interposes access() too) is
 *     <that directory>/dbal_<name>.so or <the default drivers directory>/
 *     dbal_<name>.so, with <name> a valid driver name: no path made of
 *     fuzzed bytes ("../", "/", NUL, ...) ever reaches the file system.
 * dbal_register_driver(<bytes>, entry that fails) must answer DBAL_EINVAL
 * for an invalid name and DBAL_EDRIVER for a valid one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fuzz_target.h"
#include "loader.h"
#include "url.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz_loader: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static char driver_dir[PATH_MAX];  /* DBAL_DRIVER_PATH's one real entry */
static char default_dir[PATH_MAX]; /* where the core looks next: <exe dir>/dbal/drivers */
static int in_call;                /* inside a dbal call under test */
static unsigned long probes;

/* The loader must never load anything while the fuzzer drives it. */
void *dlopen(const char *file, int mode)
{
    if (in_call) {
        fprintf(stderr, "fuzz_loader: dlopen(\"%s\") called while opening an engine\n",
                file ? file : "(null)");
        abort();
    }
    void *(*real)(const char *, int);
    void *sym = dlsym(RTLD_NEXT, "dlopen");
    memcpy(&real, &sym, sizeof real);
    return real(file, mode);
}

static int under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 0 || strncmp(path, dir, n) != 0 || strncmp(path + n, "/dbal_", 6) != 0)
        return 0;
    const char *name = path + n + 6;
    size_t len = strlen(name);
    if (len < 4 || strcmp(name + len - 3, ".so") != 0)
        return 0;
    return dbal__valid_name(name, len - 3);
}

int access(const char *path, int mode)
{
    if (in_call) {
        probes++;
        if (!under(path, driver_dir) && !under(path, default_dir)) {
            fprintf(stderr, "fuzz_loader: the loader probed \"%s\"\n", path);
            abort();
        }
    }
    int (*real)(const char *, int);
    void *sym = dlsym(RTLD_NEXT, "access");
    memcpy(&real, &sym, sizeof real);
    return real(path, mode);
}

static void cleanup(void)
{
    if (driver_dir[0])
        rmdir(driver_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char tmpl[] = "/tmp/dbal-fuzz-loader-XXXXXX";
    CHECK(mkdtemp(tmpl));
    snprintf(driver_dir, sizeof driver_dir, "%s", tmpl);
    atexit(cleanup);
    char path[3 * PATH_MAX];
    snprintf(path, sizeof path, "::%s::", driver_dir);
    setenv("DBAL_DRIVER_PATH", path, 1);
    /* The core's own fallback directory: next to the binary that holds it
     * (here the core is compiled into this program). */
    Dl_info info;
    char exe[PATH_MAX];
    if (dladdr((void *)&dbal__driver_find, &info) && info.dli_fname && realpath(info.dli_fname, exe)) {
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(default_dir, sizeof default_dir, "%.4000s/dbal/drivers", exe);
        }
    }
    dbal_set_log(NULL, NULL);
    return 0;
}

static const dbal_driver *failing_entry(const dbal_host *host)
{
    (void)host;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!driver_dir[0])
        LLVMFuzzerInitialize(NULL, NULL);
    char *url = malloc(size + 5);
    CHECK(url);
    memcpy(url, data, size);
    memcpy(url + size, "://x", 5);

    dbal_engine *e = (dbal_engine *)1;
    dbal_error err;
    memset(&err, 0x5a, sizeof err);
    in_call = 1;
    int rc = dbal_engine_open(&e, url, &err);
    in_call = 0;
    if (rc != DBAL_EURL && rc != DBAL_ENODRIVER) {
        fprintf(stderr, "fuzz_loader: dbal_engine_open(\"%s\") = %s: %s\n", url, dbal_code_name(rc),
                rc == DBAL_OK ? "" : err.message);
        abort();
    }
    CHECK(e == NULL);
    CHECK(err.code == rc);
    CHECK(memchr(err.message, '\0', sizeof err.message) && err.message[0]);
    CHECK(!strchr(err.message, '\n'));

    /* The same without an error struct. */
    in_call = 1;
    int rc2 = dbal_engine_open(&e, url, NULL);
    in_call = 0;
    CHECK(rc2 == rc && e == NULL);

    /* Registration validates the name the same way. */
    char *name = malloc(size + 1);
    CHECK(name);
    memcpy(name, data, size);
    name[size] = '\0';
    in_call = 1;
    rc = dbal_register_driver(name, failing_entry, &err);
    in_call = 0;
    CHECK(rc == (dbal__valid_name(name, strlen(name)) ? DBAL_EDRIVER : DBAL_EINVAL));
    CHECK(err.code == rc && err.message[0]);
    free(name);
    free(url);
    return 0;
}
