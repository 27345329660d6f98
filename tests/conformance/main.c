/*
 * main.c - dbal-conformance: the conformance suite, the same cases on any
 * database URL.
 *
 *   dbal-conformance [--caps FILE] URL
 *
 * URL is any dbal URL; the driver it names must be loadable (installed, or
 * in DBAL_DRIVER_PATH). Two more forms serve dbal's own test suite:
 *   sqlite-file   a fresh mkstemp() file under /tmp, used as
 *                 sqlite:///tmp/dbal_conf_XXXXXX and deleted (with its
 *                 -wal/-shm/-journal) at the end
 *   pg            PostgreSQL at $DBAL_TEST_PG_URL; when that is unset every
 *                 case is skipped (exit status 77, which ctest reports as
 *                 "skipped") unless DBAL_TEST_REQUIRE_PG=1 makes it fail
 *
 * What the driver can and cannot do comes from its capability file (caps.h;
 * README.md in this directory describes the keys): FILE, else <driver>.caps
 * in the installed data directory (<datadir>/dbal/conformance, found from
 * this program's own place, which the build tree mirrors). A case that
 * needs what the driver does not have is skipped, and says why.
 *
 * DBAL_CONF_FILTER=pattern (cmocka's * and ? wildcards) runs only matching
 * cases.
 *
 * Every case gets a fresh engine and session (setup/teardown) and makes its
 * own tables (DROP TABLE IF EXISTS first, names prefixed conf_). The SQL is
 * the same on every driver but for the DDL the capability file gives.
 *
 * Exit status: 0 when every case passed or was skipped, 1 when one failed
 * (or the database could not be opened), 2 for a usage error or a bad or
 * missing capability file, 77 as said for `pg`.
 */
#include "cases.h"
#include "fixture.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef DBAL_CONF_CAPS_DIR
#define DBAL_CONF_CAPS_DIR "../share/dbal/conformance" /* from the program's directory */
#endif

static const struct CMUnitTest tests[] = {
#define CONF_ENTRY(name) cmocka_unit_test_setup_teardown(name, setup, teardown),
    CONF_CASES(CONF_ENTRY)
#undef CONF_ENTRY
};

static void usage(FILE *out, const char *argv0)
{
    fprintf(out,
            "usage: %s [--caps FILE] URL\n"
            "Runs the dbal conformance suite on the database URL names. FILE says what its\n"
            "driver can do (default: <driver>.caps in %s next to this program).\n"
            "URL may also be sqlite-file (a temporary SQLite file) or pg ($DBAL_TEST_PG_URL).\n",
            argv0, DBAL_CONF_CAPS_DIR);
}

/* The URL with any password removed: "postgresql://user:pw@h/db" gives
 * "postgresql://user@h/db", and a password=... query option becomes
 * password=***. */
static void url_without_password(const char *url, char *out, size_t n)
{
    snprintf(out, n, "%s", url);
    char *auth = strstr(out, "://");
    if (auth) {
        auth += 3;
        size_t alen = strcspn(auth, "/?#");
        char *at = NULL;
        for (size_t k = 0; k < alen; k++)
            if (auth[k] == '@')
                at = auth + k;
        if (at) {
            char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon)
                memmove(colon, at, strlen(at) + 1);
        }
    }
    char *q = strchr(out, '?');
    while (q) {
        char *p = strstr(q, "password=");
        if (!p)
            break;
        if (p[-1] != '?' && p[-1] != '&') {
            q = p + 1;
            continue;
        }
        char *v = p + strlen("password=");
        char *end = v + strcspn(v, "&#");
        char rest[512];
        snprintf(rest, sizeof rest, "%s", end);
        if ((size_t)(v - out) + 3 + strlen(rest) + 1 <= n)
            snprintf(v, n - (size_t)(v - out), "***%s", rest);
        q = v + 3;
    }
}

static int truthy(const char *s)
{
    return s && *s && strcmp(s, "0") != 0;
}

/* The driver's name for url, as the library resolves it (an alias such as
 * postgres:// included), into name[cap]. 0, or -1 after saying why. */
static int driver_of(const char *url, char *name, size_t cap)
{
    dbal_engine *e = NULL;
    dbal_error err;
    int rc = dbal_engine_open(&e, url, &err);
    if (rc != DBAL_OK) {
        fprintf(stderr, "conformance: cannot open %s: %s: %s\n", g_display, dbal_code_name(rc), err.message);
        return -1;
    }
    snprintf(name, cap, "%s", dbal_engine_driver(e));
    dbal_engine_close(e);
    return 0;
}

/* <this program's directory>/DBAL_CONF_CAPS_DIR/<driver>.caps into out[cap]. */
static int default_caps(const char *driver, char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    int len = snprintf(out, cap, "%s/%s/%s.caps", self, DBAL_CONF_CAPS_DIR, driver);
    return len > 0 && (size_t)len < cap ? 0 : -1;
}

/* Finds and reads the capability file; 0, or 2 (the exit status) after
 * saying why not. */
static int load_caps(const char *given)
{
    char path[PATH_MAX + 64];
    if (given) {
        snprintf(path, sizeof path, "%s", given);
    } else {
        char driver[64];
        if (driver_of(g_url, driver, sizeof driver) != 0)
            return 1;
        if (default_caps(driver, path, sizeof path) != 0 || access(path, F_OK) != 0) {
            fprintf(stderr,
                    "conformance: no capability file for the driver '%s' (looked for %s); "
                    "give one with --caps FILE\n",
                    driver, path);
            return 2;
        }
    }
    if (caps_load(path) != 0)
        return 2;
    char real[PATH_MAX];
    printf("capabilities: %s\n", realpath(path, real) ? real : path);
    return 0;
}

/* Runs every case on g_url (NULL: every case skips). The number that failed. */
static int run(int skipping)
{
    const size_t ncases = sizeof tests / sizeof tests[0];
    char group[1100];
    if (skipping) {
        snprintf(g_display, sizeof g_display, "postgresql");
        printf("conformance on postgresql (DBAL_TEST_PG_URL unset: every case skipped): %zu cases\n", ncases);
        snprintf(group, sizeof group, "conformance[postgresql: skipped]");
    } else {
        printf("conformance on %s: %zu cases\n", g_display, ncases);
        snprintf(group, sizeof group, "conformance[%s]", g_display);
    }
    fflush(stdout);

    /* DBAL_CONF_FILTER=pattern runs only the matching cases (while debugging) */
    const char *filter = getenv("DBAL_CONF_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests_name(group, tests, NULL, NULL);
}

/* Removes the sqlite-file file and its side files. When the cases ran,
 * they must have used this very file (not, say, a relative
 * "tmp/dbal_conf_..." made from a misread URL): 1 when they did not. */
static int remove_temp_file(const char *path, const char *url, int ran)
{
    struct stat st;
    char side[80];
    int unused = ran && !(stat(path, &st) == 0 && st.st_size > 0);
    if (unused)
        fprintf(stderr, "conformance: %s is still empty after the run: the URL %s did not open it\n", path,
                url);
    unlink(path);
    static const char *suffix[] = {"-wal", "-shm", "-journal"};
    for (int k = 0; k < 3; k++) {
        snprintf(side, sizeof side, "%s%s", path, suffix[k]);
        unlink(side);
    }
    return unused;
}

int main(int argc, char **argv)
{
    const char *caps_file = NULL;
    const char *arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if (strcmp(argv[i], "--caps") == 0 && i + 1 < argc) {
            caps_file = argv[++i];
        } else if (argv[i][0] == '-' || arg) {
            usage(stderr, argv[0]);
            return 2;
        } else {
            arg = argv[i];
        }
    }
    if (!arg) {
        usage(stderr, argv[0]);
        return 2;
    }
    char url[600];
    char path[64] = "";
    int skipping = 0;

    if (strcmp(arg, "sqlite-file") == 0) {
        snprintf(path, sizeof path, "/tmp/dbal_conf_XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0) {
            perror("mkstemp");
            return 1;
        }
        close(fd);
        snprintf(url, sizeof url, "sqlite://%s", path); /* sqlite:///tmp/... */
        g_url = url;
    } else if (strcmp(arg, "pg") == 0) {
        const char *env = getenv("DBAL_TEST_PG_URL");
        if (env && *env) {
            snprintf(url, sizeof url, "%s", env);
            g_url = url;
        } else if (truthy(getenv("DBAL_TEST_REQUIRE_PG"))) {
            fprintf(stderr,
                    "\n*** conformance on postgresql: DBAL_TEST_REQUIRE_PG=%s but DBAL_TEST_PG_URL "
                    "is not set.\n*** Start a server (tests/pg_cluster.sh start DIR; source "
                    "DIR/env) or unset DBAL_TEST_REQUIRE_PG.\n\n",
                    getenv("DBAL_TEST_REQUIRE_PG"));
            return 1;
        } else {
            skipping = 1;
            g_url = NULL;
        }
    } else {
        g_url = arg;
    }

    int status = 0;
    if (!skipping) {
        url_without_password(g_url, g_display, sizeof g_display);
        status = load_caps(caps_file);
    }
    int ran = status == 0;
    if (ran)
        status = run(skipping) == 0 ? (skipping ? 77 : 0) : 1; /* 77: ctest's SKIP_RETURN_CODE */
    if (path[0] && remove_temp_file(path, url, ran))
        status = 1;
    return status;
}
