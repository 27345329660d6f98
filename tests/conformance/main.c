/*
 * main.c - the dbal conformance suite (tests/conformance/).
 *
 * One program, the same cases, run once per database URL:
 *
 *   test_conformance sqlite::memory:     in-memory SQLite
 *   test_conformance sqlite-file         a fresh mkstemp() file under /tmp, used as
 *                                        sqlite:///tmp/dbal_conf_XXXXXX and deleted
 *                                        (with its -wal/-shm/-journal) at the end
 *   test_conformance pg                  PostgreSQL at $DBAL_TEST_PG_URL; when that is
 *                                        unset every case is skipped (exit status 77,
 *                                        which ctest reports as "skipped") unless
 *                                        DBAL_TEST_REQUIRE_PG=1, which makes it fail
 *   test_conformance <any dbal URL>      that database
 *
 * DBAL_CONF_FILTER=pattern (cmocka's * and ? wildcards) runs only matching cases.
 *
 * Every case gets a fresh engine and session (setup/teardown) and makes its own
 * tables (DROP TABLE IF EXISTS first, names prefixed conf_). The SQL is the
 * same on both databases; the only per-driver DDL is in ddl() below.
 *
 * The promise under test: a program tested on SQLite behaves the same on
 * PostgreSQL. Where the two databases truly differ, the difference is listed
 * here, in this one table, and nowhere else; each case that meets one says
 * "see DIFFERENCES #n".
 *
 * DIFFERENCES between the drivers (the README's "differences between drivers"
 * table is copied from this one; each row was observed on SQLite 3.40 and
 * PostgreSQL 15)
 *
 * | # | difference | SQLite | PostgreSQL | how the suite handles it |
 * |---|------------|--------|------------|--------------------------|
 * | 1 | column type names | BLOB; an auto id is INTEGER PRIMARY KEY (an alias of the rowid) | BYTEA; an auto id is BIGSERIAL PRIMARY KEY. INTEGER is 32-bit, so int64 value columns are BIGINT on both | ddl() picks the two names per driver; BIGINT, DOUBLE PRECISION, BOOLEAN, TEXT are spelled the same on both |
 * | 2 | NaN in a DOUBLE PRECISION column | stored as NULL (SQLite has no NaN) | stored and read back as NaN | roundtrip_double_special expects NULL on SQLite, NaN on PostgreSQL; +Infinity and -Infinity round-trip on both |
 * | 3 | isolation levels | DBAL_TX_READ_COMMITTED and DBAL_TX_REPEATABLE_READ are DBAL_EUNSUPPORTED and no transaction is begun; DBAL_TX_SERIALIZABLE (what SQLite always is) and DBAL_TX_READ_ONLY work | all levels work | tx_isolation_levels expects EUNSUPPORTED on SQLite, OK on PostgreSQL; tx_serializable and tx_read_only are the same on both |
 * | 4 | dbal_error.constraint | "" for UNIQUE, NOT NULL and FOREIGN KEY (SQLite's message names table.column, or nothing for FOREIGN KEY, not a constraint); the name for a named CHECK constraint | the constraint's name for UNIQUE, FOREIGN KEY and CHECK; "" for NOT NULL (PostgreSQL reports the column, not a constraint) | integrity_* check exactly these answers (code and SQLSTATE are the same on both) |
 * | 5 | dbal_last_insert_id when nothing was inserted | DBAL_EMISUSE (the rowid is 0) | DBAL_EMISUSE (lastval() is undefined) | the same on both, not a difference any more; kept so the numbers stay stable |
 * | 6 | dbal_last_insert_id after an insert that gives the id explicitly | that rowid | unchanged (no sequence was used) | not tested: the suite only relies on generated ids |
 * | 7 | text with a NUL byte (dbal_textn) | stored and read back byte for byte | refused: DBAL_EDATA | text_nul_and_invalid_utf8 checks both answers |
 * | 8 | text that is not valid UTF-8 | stored and read back byte for byte | refused by a UTF8 database: DBAL_EDATA, SQLSTATE 22021 | text_nul_and_invalid_utf8 checks both answers |
 * | 9 | unquoted identifiers, unaliased result columns | kept as written ("Foo"); an unaliased expression is named by its text ("1+1") | folded to lower case ("foo"); an unaliased expression is "?column?" | not tested; the suite names every result column with a lower-case alias |
 * | 10 | PostgreSQL-only syntax: nested C comments, $$ dollar quotes $$, E'' strings, ::casts, ?? for jsonb's ? operator | none of these is SQLite SQL (SELECT ?? is a syntax error) | understood; dbal's placeholder rewrite leaves a ? inside them alone and turns ?? into ? | not used; the suite uses only '...' literals, "..." identifiers, -- and C-style comments (not nested) |
 * | 11 | auto ids after a rolled-back insert | INTEGER PRIMARY KEY without AUTOINCREMENT gives max(rowid)+1: the rolled-back id comes again | sequences are not transactional: the id is used up, the next insert leaves a gap | returning relies on ids only before its rollback |
 * | 12 | a parameter whose type does not fit the column | stored as given (type affinity): dbal_int64 into BOOLEAN and dbal_bool into BIGINT are accepted, 'abc' into BIGINT is stored as TEXT, 2.5 into BIGINT stays 2.5 | dbal_int64 into BOOLEAN and dbal_bool into BIGINT fail with DBAL_EDATA, SQLSTATE 42804; 'abc' into BIGINT fails with DBAL_EDATA, 22P02; 2.5 into BIGINT is rounded to 2 | param_type_strictness checks each answer. Use the constructor that fits the column; numeric text into BIGINT and an integer into DOUBLE PRECISION are the same on both |
 * | 13 | the type of a value no column declares, e.g. SELECT ? with dbal_bool(1) | DBAL_TYPE_INT64, text "1" (the SQLite driver reports BOOL only for a column declared BOOLEAN) | DBAL_TYPE_BOOL, text "t" | undeclared_types_and_dialect; dbal_col_bool gives 1 on both |
 * | 14 | SQL dialect, e.g. integer division by zero | SELECT 1/0 gives NULL | DBAL_EDATA, SQLSTATE 22012, from dbal_query | undeclared_types_and_dialect checks this one; other dialect differences belong to the databases and are out of scope |
 * | 15 | two sessions writing at once | one writer at a time (BEGIN IMMEDIATE): the second waits up to busy_timeout (5000 ms by default), then DBAL_EBUSY, SQLSTATE 55P03 | row locks: a writer of other rows goes on at once | concurrent_writers, on a SQLite file through a second engine with busy_timeout=200. Skipped on sqlite::memory:, whose database a second engine cannot open, so the test would have to wait out 5 s |
 *
 * Behaviour that is the SAME on both, and tested as such: every value type
 * round-trips with the same dbal_col_type (BOOLEAN columns are BOOL on SQLite
 * too); the conversion rules of dbal.h (bools read as text are "t"/"f",
 * doubles as their shortest exact decimal, "Infinity"/"-Infinity"/"NaN"
 * spelled as PostgreSQL does); integrity errors have the same code and
 * SQLSTATE, and so do syntax and undefined-object errors; foreign keys are
 * enforced on SQLite too; a failed statement fails the transaction
 * (DBAL_ETXFAILED, 25P02) and commit then rolls back; savepoints; closing a
 * session rolls back; RETURNING; rows affected; placeholders in literals and
 * comments; placeholder count mismatch (DBAL_EMISUSE, SQLSTATE "", nothing
 * sent); 100,000 rows streamed; statements and a second cursor while a cursor
 * is open; a reader does not wait for a writer and sees only committed rows
 * (sqlite::memory: too: the driver keeps it as a WAL database in RAM);
 * dbal_transact; read-only transactions (DBAL_EREADONLY, 25006).
 */
#include "cases.h"
#include "fixture.h"

#include <sys/stat.h>
#include <unistd.h>

static const struct CMUnitTest tests[] = {
#define CONF_ENTRY(name) cmocka_unit_test_setup_teardown(name, setup, teardown),
    CONF_CASES(CONF_ENTRY)
#undef CONF_ENTRY
};

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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s sqlite::memory: | sqlite-file | pg | <dbal URL>\n", argv[0]);
        return 2;
    }
    const char *arg = argv[1];
    const size_t ncases = sizeof tests / sizeof tests[0];
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

    char group[1100];
    if (skipping) {
        snprintf(g_display, sizeof g_display, "postgresql");
        printf("conformance on postgresql (DBAL_TEST_PG_URL unset: every case skipped): %zu cases\n",
               ncases);
        snprintf(group, sizeof group, "conformance[postgresql: skipped]");
    } else {
        url_without_password(g_url, g_display, sizeof g_display);
        printf("conformance on %s: %zu cases\n", g_display, ncases);
        snprintf(group, sizeof group, "conformance[%s]", g_display);
    }
    fflush(stdout);

    /* DBAL_CONF_FILTER=pattern runs only the matching cases (while debugging) */
    const char *filter = getenv("DBAL_CONF_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    int failed = cmocka_run_group_tests_name(group, tests, NULL, NULL);

    if (path[0]) {
        /* The cases must have used this very file (not, say, a relative
         * "tmp/dbal_conf_..." made from a misread URL). */
        struct stat st;
        char side[80];
        int used = stat(path, &st) == 0 && st.st_size > 0;
        if (!used) {
            fprintf(stderr, "conformance: %s is still empty after the run: the URL %s did not "
                            "open it\n", path, url);
            failed++;
        }
        unlink(path);
        static const char *suffix[] = {"-wal", "-shm", "-journal"};
        for (int k = 0; k < 3; k++) {
            snprintf(side, sizeof side, "%s%s", path, suffix[k]);
            unlink(side);
        }
    }
    if (skipping && failed == 0)
        return 77; /* ctest: SKIP_RETURN_CODE */
    return failed == 0 ? 0 : 1;
}
