/*
 * Migrations (dbal_migrate_up, _down, _status) on sqlite::memory:, a SQLite
 * file and PostgreSQL (DBAL_TEST_PG_URL; each case in a schema of its own):
 * file names and driver variants, the splitter on dollar quotes and trigger
 * bodies, up to the latest and to a version, status, changed and missing
 * files, failures rolled back with file:line, the no-transaction directive,
 * down, dry runs, the history table's name, bad directories and files, the
 * lock's bound, and processes migrating one database at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

enum { MEMORY, FILE_DB, PG };

typedef struct backend {
    int kind;
} backend;

static backend memory_backend = {MEMORY}, file_backend = {FILE_DB}, pg_backend = {PG};

typedef struct fixture {
    int kind;
    const char *driver; /* "sqlite" or "postgresql" */
    char *tmp;
    char dir[600]; /* the migrations */
    char url[1200];
    char schema[64];
    dbal_engine *e;
    dbal_session *s; /* for the checks */
    dbal_error err;  /* the last migration call's */
} fixture;

static int counter;

/* ------------------------------------------------------------ setup */

static void pg_admin(const char *sql)
{
    dbal_engine *e;
    dbal_error err;
    if (dbal_engine_open(&e, getenv("DBAL_TEST_PG_URL"), &err) != DBAL_OK)
        fail_msg("admin engine: %s", err.message);
    dbal_session *s = test_session(e);
    OK(s, dbal_exec(s, sql, DBAL_NOARGS, NULL));
    dbal_session_close(s);
    dbal_engine_close(e);
}

/* An engine on the PostgreSQL test server whose tables go to a schema of
 * the case's own (search_path), so cases and runs never meet. */
static void pg_url(fixture *fx)
{
    const char *url = getenv("DBAL_TEST_PG_URL");
    char sql[128];
    snprintf(fx->schema, sizeof fx->schema, "dbal_mig_%ld_%d", (long)getpid(), ++counter);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", fx->schema);
    pg_admin(sql);
    snprintf(fx->url, sizeof fx->url, "%s%coptions=-csearch_path%%3D%s", url, strchr(url, '?') ? '&' : '?',
             fx->schema);
}

static int setup(void **state)
{
    const backend *b = *state;
    if (b->kind == PG && !getenv("DBAL_TEST_PG_URL"))
        return -1; /* main() leaves these cases out without a server */
    fixture *fx = calloc(1, sizeof *fx);
    fx->kind = b->kind;
    fx->driver = b->kind == PG ? "postgresql" : "sqlite";
    fx->tmp = test_tmpdir();
    snprintf(fx->dir, sizeof fx->dir, "%s/migrations", fx->tmp);
    mkdir(fx->dir, 0755);
    if (b->kind == MEMORY)
        snprintf(fx->url, sizeof fx->url, "sqlite::memory:");
    else if (b->kind == FILE_DB)
        snprintf(fx->url, sizeof fx->url, "sqlite://%s/app.db", fx->tmp);
    else
        pg_url(fx);
    dbal_error err;
    if (dbal_engine_open(&fx->e, fx->url, &err) != DBAL_OK)
        fail_msg("engine %s: %s", fx->url, err.message);
    fx->s = test_session(fx->e);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    dbal_session_close(fx->s);
    dbal_engine_close(fx->e);
    if (fx->kind == PG) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", fx->schema);
        pg_admin(sql);
    }
    test_rmdir(fx->tmp);
    free(fx);
    return 0;
}

/* ------------------------------------------------------------ helpers */

static void put(fixture *fx, const char *name, const char *text)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void drop(fixture *fx, const char *name)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    assert_int_equal(unlink(path), 0);
}

static int up_with(fixture *fx, int64_t target, const dbal_migrate_options *o)
{
    return dbal_migrate_up(fx->e, fx->dir, target, o, &fx->err);
}

static int up(fixture *fx, int64_t target)
{
    return up_with(fx, target, NULL);
}

static int down(fixture *fx, int64_t target)
{
    return dbal_migrate_down(fx->e, fx->dir, target, NULL, &fx->err);
}

#define MIGRATE_OK(fx, call)                                                       \
    do {                                                                           \
        int rc_ = (call);                                                          \
        if (rc_ != DBAL_OK)                                                        \
            fail_msg("%s: %s: %s", #call, dbal_code_name(rc_), (fx)->err.message); \
    } while (0)

#define MIGRATE_FAILS(fx, call, want, fragment)                                                           \
    do {                                                                                                  \
        int rc_ = (call);                                                                                 \
        if (rc_ != (want) || !strstr((fx)->err.message, (fragment)) || (fx)->err.code != (want))          \
            fail_msg("%s: %s (%s), expected %s with '%s'", #call, dbal_code_name(rc_), (fx)->err.message, \
                     dbal_code_name(want), (fragment));                                                   \
    } while (0)

/* What status reports, one line per version: "1:applied 2:pending". */
typedef struct status_text {
    char text[512];
    dbal_migration last; /* the last one's fields (its strings are gone) */
    char last_file[600];
} status_text;

static const char *state_name(dbal_migration_state st)
{
    switch (st) {
    case DBAL_MIGRATION_APPLIED: return "applied";
    case DBAL_MIGRATION_PENDING: return "pending";
    case DBAL_MIGRATION_CHANGED: return "changed";
    case DBAL_MIGRATION_MISSING: return "missing";
    }
    return "?";
}

static void collect(void *userdata, const dbal_migration *m)
{
    status_text *t = userdata;
    size_t n = strlen(t->text);
    snprintf(t->text + n, sizeof t->text - n, "%s%lld:%s", n ? " " : "", (long long)m->version,
             state_name(m->state));
    t->last = *m;
    snprintf(t->last_file, sizeof t->last_file, "%s", m->file ? m->file : "");
}

static const char *status(fixture *fx, status_text *t, const dbal_migrate_options *o)
{
    memset(t, 0, sizeof *t);
    MIGRATE_OK(fx, dbal_migrate_status(fx->e, fx->dir, o, collect, t, &fx->err));
    return t->text;
}

static int64_t scalar(fixture *fx, const char *sql)
{
    return test_scalar(fx->s, sql);
}

static int table_exists(fixture *fx, const char *table)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE 1 = 0", table);
    int rc = dbal_exec(fx->s, sql, DBAL_NOARGS, NULL);
    if (rc != DBAL_OK && rc != DBAL_EUNDEFINED)
        fail_msg("%s: %s", sql, dbal_session_error(fx->s)->message);
    return rc == DBAL_OK;
}

/* Progress events as text: "applied 1, skipped 2". */
typedef struct event_text {
    char text[512];
} event_text;

static void on_event(void *userdata, dbal_migrate_event ev, const dbal_migration *m)
{
    static const char *const names[] = {"", "applied", "reverted", "repaired", "skipped"};
    event_text *t = userdata;
    size_t n = strlen(t->text);
    snprintf(t->text + n, sizeof t->text - n, "%s%s %lld", n ? ", " : "", names[ev], (long long)m->version);
}

static const char *variant(fixture *fx, const char *pg, const char *sqlite)
{
    return fx->kind == PG ? pg : sqlite;
}

/* ------------------------------------------------------------ files */

/* The driver's variant wins over the plain file, for up and down; files
 * that are not *.sql are ignored. */
static void variants_chosen_by_driver(void **state)
{
    fixture *fx = *state;
    put(fx, "README.md", "not a migration\n");
    put(fx, "0001_make.sql", "CREATE TABLE made_plain(x INTEGER);\n");
    put(fx, "0001_make.postgresql.sql", "CREATE TABLE made_postgresql(x INTEGER);\n");
    put(fx, "0001_make.sqlite.sql", "CREATE TABLE made_sqlite(x INTEGER);\n");
    put(fx, "0001_make.otherdb.sql", "this would not parse;\n");
    put(fx, "0001_make.down.sql", "DROP TABLE made_plain;\n");
    put(fx, "0001_make.down.sqlite.sql", "DROP TABLE made_sqlite;\n");
    put(fx, "0001_make.down.postgresql.sql", "DROP TABLE made_postgresql;\n");
    put(fx, "002_plain.sql", "CREATE TABLE plain(x INTEGER);\n"); /* leading zeros optional */
    status_text t;
    assert_string_equal(status(fx, &t, NULL), "1:pending 2:pending");
    MIGRATE_OK(fx, up(fx, 0));
    char want[64];
    snprintf(want, sizeof want, "made_%s", fx->driver);
    assert_true(table_exists(fx, want));
    assert_false(table_exists(fx, "made_plain"));
    assert_true(table_exists(fx, "plain"));
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:applied");
    assert_non_null(strstr(t.last_file, "/002_plain.sql"));
    /* 2 has no down file: refused before anything is reverted. */
    MIGRATE_FAILS(fx, down(fx, 0), DBAL_EINVAL, "002_plain.sql has no down file");
    assert_true(table_exists(fx, want));
    put(fx, "002_plain.down.sql", "DROP TABLE plain;\n");
    MIGRATE_OK(fx, down(fx, 0));
    assert_false(table_exists(fx, want));
    assert_false(table_exists(fx, "plain"));
    assert_string_equal(status(fx, &t, NULL), "1:pending 2:pending");
}

/* A directory that breaks the naming rule is refused, naming the file. */
static void bad_names_refused(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *file, *fragment;
    } cases[] = {
        {"create_items.sql", "create_items.sql: not a migration file name"},
        {"0000_zero.sql", "0000_zero.sql: not a migration file name"},
        {"0003-dash.sql", "0003-dash.sql: not a migration file name"},
        {"0003_a.b.c.sql", "0003_a.b.c.sql: not a migration file name"},
        {"0003_x.Sqlite.sql", "0003_x.Sqlite.sql: not a migration file name"},
        {"0003_x.postgres.sql", "'postgres' is not a database's name: use postgresql"},
        {"0003_x.sqlite3.sql", "use sqlite"},
        {"99999999999999999999_big.sql", "not a migration file name"},
    };
    put(fx, "0001_ok.sql", "SELECT 1;\n");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        put(fx, cases[i].file, "SELECT 1;\n");
        MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL, cases[i].fragment);
        drop(fx, cases[i].file);
    }
    put(fx, "0001_other.sql", "SELECT 1;\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL, "version 1 has two names");
    drop(fx, "0001_other.sql");
    put(fx, "01_ok.sql", "SELECT 1;\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL, "two files for one role");
    drop(fx, "01_ok.sql");
    put(fx, "0002_only_elsewhere.otherdb.sql", "SELECT 1;\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL, "version 2 (0002_only_elsewhere.otherdb.sql) has no up file");
    drop(fx, "0002_only_elsewhere.otherdb.sql");
    put(fx, "0002_directive.sql", "-- dbal:no-transactions\nSELECT 1;\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL,
                  "0002_directive.sql: unknown directive '-- dbal:no-transactions'");
    drop(fx, "0002_directive.sql");
    /* Nothing ran: the history table was not even made. */
    assert_false(table_exists(fx, "dbal_migrations"));
    MIGRATE_OK(fx, up(fx, 0));
    assert_int_equal(scalar(fx, "SELECT count(*) FROM dbal_migrations"), 1);
}

/* No directory, a directory where a file should be, a file that is not
 * text, a link to nothing: each a clear DBAL_EINVAL. */
static void bad_directory_and_files(void **state)
{
    fixture *fx = *state;
    char path[800];
    snprintf(path, sizeof path, "%s/nowhere", fx->tmp);
    int rc = dbal_migrate_up(fx->e, path, 0, NULL, &fx->err);
    assert_int_equal(rc, DBAL_EINVAL);
    assert_non_null(strstr(fx->err.message, "cannot read the migration directory"));
    assert_non_null(strstr(fx->err.message, "No such file or directory"));
    snprintf(path, sizeof path, "%s/0001_dir.sql", fx->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL, "0001_dir.sql: Is a directory");
    rmdir(path);
    assert_int_equal(symlink("/nonexistent/file.sql", path), 0);
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL, "0001_dir.sql: No such file or directory");
    unlink(path);
    FILE *f = fopen(path, "w");
    fwrite("SELECT 1;\0\1\2", 1, 12, f);
    fclose(f);
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL, "holds a NUL byte");
    unlink(path);
    /* Arguments. */
    assert_int_equal(dbal_migrate_up(NULL, fx->dir, 0, NULL, &fx->err), DBAL_EINVAL);
    assert_int_equal(dbal_migrate_down(fx->e, NULL, 0, NULL, &fx->err), DBAL_EINVAL);
    assert_int_equal(dbal_migrate_status(fx->e, fx->dir, NULL, NULL, NULL, &fx->err), DBAL_EINVAL);
    dbal_migrate_options o;
    memset(&o, 0, sizeof o);
    MIGRATE_FAILS(fx, up_with(fx, 0, &o), DBAL_EINVAL, "dbal_migrate_options_init");
    dbal_migrate_options_init(&o);
    o.table = "bad;name";
    MIGRATE_FAILS(fx, up_with(fx, 0, &o), DBAL_EINVAL, "migration history table 'bad;name'");
    dbal_migrate_options_init(NULL);
}

/* ------------------------------------------------------------ statements */

/* Dollar-quoted function bodies (PostgreSQL) and trigger bodies (SQLite)
 * hold ';' that do not end the statement. */
static void splitter_keeps_bodies_whole(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_log.sql",
        "-- a table, and a trigger that logs into another\n"
        "CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT);\n"
        "CREATE TABLE item_log(name TEXT, note TEXT);\n");
    put(fx, "0002_trigger.sqlite.sql",
        "CREATE TRIGGER item_logged AFTER INSERT ON item\n"
        "BEGIN\n"
        "  INSERT INTO item_log VALUES (NEW.name, 'a; b');\n"
        "  INSERT INTO item_log VALUES (NEW.name, CASE WHEN NEW.id > 0 THEN 'pos;' ELSE 'neg' END);\n"
        "END;\n");
    put(fx, "0002_trigger.postgresql.sql",
        "CREATE FUNCTION item_logged() RETURNS trigger AS $body$\n"
        "BEGIN\n"
        "  INSERT INTO item_log VALUES (NEW.name, 'a; b');\n"
        "  INSERT INTO item_log VALUES (NEW.name, $$pos;$$);\n"
        "  RETURN NEW;\n"
        "END;\n"
        "$body$ LANGUAGE plpgsql;\n"
        "CREATE TRIGGER item_logged AFTER INSERT ON item FOR EACH ROW EXECUTE FUNCTION item_logged();\n");
    put(fx, "0003_quotes.sql",
        "INSERT INTO item(id, name) VALUES (1, 'it''s; fine'); /* a ; in a comment */\n"
        "INSERT INTO \"item\"(id, \"name\") VALUES (2, 'semi;' || '-- not a comment') ;\n");
    MIGRATE_OK(fx, up(fx, 0));
    assert_int_equal(scalar(fx, "SELECT count(*) FROM item_log"), 4);
    assert_int_equal(scalar(fx, "SELECT count(*) FROM item_log WHERE note IN ('a; b', 'pos;')"), 4);
}

/* ------------------------------------------------------------ up, status */

static void up_to_a_version_and_to_the_latest(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER);\n");
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER);\n");
    put(fx, "0005_c.sql", "CREATE TABLE c(x INTEGER);\n");
    put(fx, "0007_d.sql", "CREATE TABLE d(x INTEGER);\n");
    MIGRATE_FAILS(fx, up(fx, 3), DBAL_EINVAL, "no migration has version 3");
    MIGRATE_OK(fx, up(fx, 2));
    status_text t;
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:applied 5:pending 7:pending");
    MIGRATE_OK(fx, up(fx, -1)); /* one step */
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:applied 5:applied 7:pending");
    MIGRATE_OK(fx, up(fx, 0));
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:applied 5:applied 7:applied");
    MIGRATE_OK(fx, up(fx, 0)); /* nothing to do */
    assert_int_equal(scalar(fx, "SELECT count(*) FROM dbal_migrations"), 4);
    /* The record: name, checksum of the file, ISO 8601 UTC time, duration. */
    char buf[128], hex[DBAL__SHA256_HEX_LEN];
    const char *text = "CREATE TABLE d(x INTEGER);\n";
    dbal__sha256_hex(text, strlen(text), hex);
    assert_string_equal(test_scalar_text(fx->s, "SELECT checksum FROM dbal_migrations WHERE version = 7", buf,
                                         sizeof buf),
                        hex);
    assert_string_equal(test_scalar_text(fx->s, "SELECT name FROM dbal_migrations WHERE version = 7", buf,
                                         sizeof buf),
                        "d");
    test_scalar_text(fx->s, "SELECT applied_at FROM dbal_migrations WHERE version = 7", buf, sizeof buf);
    assert_int_equal(strlen(buf), 24);
    assert_true(buf[4] == '-' && buf[10] == 'T' && buf[19] == '.' && buf[23] == 'Z');
    assert_true(scalar(fx, "SELECT duration_ms FROM dbal_migrations WHERE version = 7") >= 0);
    assert_int_equal(t.last.version, 7);
    assert_int_equal(t.last.state, DBAL_MIGRATION_APPLIED);
    assert_true(t.last.duration_ms >= 0);
    assert_null(t.last.down_file);
}

static void status_states(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER);\n");
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER);\n");
    put(fx, "0003_c.sql", "CREATE TABLE c(x INTEGER);\n");
    put(fx, "0004_d.sql", "CREATE TABLE d(x INTEGER);\n");
    status_text t;
    /* No history table yet: everything pending, and status made nothing. */
    assert_string_equal(status(fx, &t, NULL), "1:pending 2:pending 3:pending 4:pending");
    assert_false(table_exists(fx, "dbal_migrations"));
    MIGRATE_OK(fx, up(fx, 3));
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER, y INTEGER);\n");
    drop(fx, "0003_c.sql");
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:changed 3:missing 4:pending");
}

/* An applied file edited since: refused, naming it and both checksums;
 * repair records the new checksum (and applies what is pending). */
static void changed_file_refused_then_repaired(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER);\n");
    MIGRATE_OK(fx, up(fx, 0));
    char before[DBAL__SHA256_HEX_LEN], after[DBAL__SHA256_HEX_LEN];
    dbal__sha256_hex("CREATE TABLE a(x INTEGER);\n", 27, before);
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER, y INTEGER);\n");
    dbal__sha256_hex("CREATE TABLE a(x INTEGER, y INTEGER);\n", 38, after);
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER);\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EMIGRATION, "/0001_a.sql has changed since version 1 was applied");
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%.12s", after);
    assert_non_null(strstr(fx->err.message, prefix));
    snprintf(prefix, sizeof prefix, "%.12s", before);
    assert_non_null(strstr(fx->err.message, prefix));
    assert_false(table_exists(fx, "b")); /* nothing ran */
    dbal_migrate_options o;
    dbal_migrate_options_init(&o);
    o.repair = 1;
    event_text events = {""};
    o.progress = on_event;
    o.userdata = &events;
    MIGRATE_OK(fx, up_with(fx, 0, &o));
    status_text t;
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:applied");
    char buf[80];
    test_scalar_text(fx->s, "SELECT checksum FROM dbal_migrations WHERE version = 1", buf, sizeof buf);
    assert_string_equal(buf, after);
    /* Repair records; it does not run the file again. */
    EXPECT_RC(fx->s, dbal_exec(fx->s, "SELECT y FROM a", DBAL_NOARGS, NULL), DBAL_EUNDEFINED);
    assert_string_equal(events.text, "repaired 1, applied 2");
}

/* A version in the history without its file: reported, and up refuses
 * unless told to ignore it. */
static void missing_version_reported(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER);\n");
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER);\n");
    MIGRATE_OK(fx, up(fx, 0));
    drop(fx, "0002_b.sql");
    put(fx, "0003_c.sql", "CREATE TABLE c(x INTEGER);\n");
    put(fx, "0003_c.down.sql", "DROP TABLE c;\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EMIGRATION, "version 2 (b) is applied but has no file in");
    assert_false(table_exists(fx, "c"));
    dbal_migrate_options o;
    dbal_migrate_options_init(&o);
    o.ignore_missing = 1;
    MIGRATE_OK(fx, up_with(fx, 0, &o));
    status_text t;
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:missing 3:applied");
    MIGRATE_FAILS(fx, down(fx, 1), DBAL_EINVAL, "cannot revert version 2 (b): it has no file in");
}

/* ------------------------------------------------------------ failures */

/* A failing statement rolls its migration back (the database stays at the
 * version before), and the error names file:line with the database's code,
 * SQLSTATE and message. */
static void failing_statement_rolls_back(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER PRIMARY KEY);\nINSERT INTO a VALUES (1);\n");
    put(fx, "0002_b.sql",
        "-- b, and a typo\n"
        "CREATE TABLE b(x INTEGER);\n"
        "INSERT INTO b VALUES (1);\n"
        "\n"
        "CREATE TABLEE c(x INTEGER);\n");
    put(fx, "0003_c.sql", "CREATE TABLE c(x INTEGER);\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_ESYNTAX, "/0002_b.sql:5: ");
    assert_string_equal(fx->err.sqlstate, "42601");
    assert_non_null(
        strstr(fx->err.message, "applying version 2 rolled back; the database stays at version 1"));
    assert_false(table_exists(fx, "b"));
    status_text t;
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:pending 3:pending");
    /* A constraint keeps its code too. */
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER);\nINSERT INTO a VALUES (1);\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EUNIQUE, "/0002_b.sql:2: ");
    assert_string_equal(fx->err.sqlstate, "23505");
    assert_false(table_exists(fx, "b"));
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER);\n");
    MIGRATE_OK(fx, up(fx, 0));
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:applied 3:applied");
}

/* BEGIN or COMMIT in a file would end dbal's transaction: refused before
 * anything runs, naming file:line. */
static void transaction_statements_refused(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER);\n");
    put(fx, "0002_b.sql", "BEGIN;\nCREATE TABLE b(x INTEGER);\nCOMMIT;\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL, "/0002_b.sql:1: BEGIN: a migration cannot end or begin");
    assert_false(table_exists(fx, "a"));
    put(fx, "0002_b.sql", "SAVEPOINT s;\nCREATE TABLE b(x INTEGER);\nROLLBACK TO SAVEPOINT s;\nEND;\n");
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EINVAL, "/0002_b.sql:4: END");
    put(fx, "0002_b.sql", "SAVEPOINT s;\nCREATE TABLE b(x INTEGER);\nROLLBACK TO SAVEPOINT s;\n");
    MIGRATE_OK(fx, up(fx, 0));
    assert_true(table_exists(fx, "a"));
    assert_false(table_exists(fx, "b"));
}

/* -- dbal:no-transaction: statements one by one (CREATE INDEX
 * CONCURRENTLY on PostgreSQL); a failure half-way leaves those before it
 * and records nothing, and the error says so. */
static void no_transaction_directive(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER, y INTEGER);\n");
    put(fx, "0002_index.sql",
        variant(fx,
                "-- builds without locking writers out\n"
                "-- dbal:no-transaction\n"
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_x ON a(x);\n"
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_y ON a(y);\n"
                "CREATE INDEX CONCURRENTLY a_bad ON no_such_table(x);\n",
                "-- dbal:no-transaction\n"
                "CREATE INDEX IF NOT EXISTS a_x ON a(x);\n"
                "CREATE INDEX IF NOT EXISTS a_y ON a(y);\n"
                "CREATE INDEX a_bad ON no_such_table(x);\n"));
    MIGRATE_FAILS(fx, up(fx, 0), DBAL_EUNDEFINED, variant(fx, "/0002_index.sql:5: ", "/0002_index.sql:4: "));
    assert_non_null(strstr(fx->err.message, "a no-transaction migration: the statements before this one stay "
                                            "applied and nothing was recorded"));
    status_text t;
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:pending");
    assert_int_equal(t.last.no_transaction, 1);
    /* The index made before the failure is there. */
    if (fx->kind == PG)
        assert_int_equal(scalar(fx, "SELECT count(*) FROM pg_indexes WHERE indexname = 'a_y'"), 1);
    else
        assert_int_equal(scalar(fx, "SELECT count(*) FROM sqlite_master WHERE name = 'a_y'"), 1);
    put(fx, "0002_index.sql",
        variant(fx,
                "-- dbal:no-transaction\n"
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_x ON a(x);\n"
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_y ON a(y);\n",
                "-- dbal:no-transaction\n"
                "CREATE INDEX IF NOT EXISTS a_x ON a(x);\n"
                "CREATE INDEX IF NOT EXISTS a_y ON a(y);\n"));
    MIGRATE_OK(fx, up(fx, 0));
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:applied");
}

/* ------------------------------------------------------------ down */

static void down_steps_and_targets(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER);\n");
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER);\n");
    put(fx, "0002_b.down.sql", "DROP TABLE b;\n");
    put(fx, "0003_c.sql", "CREATE TABLE c(x INTEGER);\n");
    put(fx, "0003_c.down.sql", "DROP TABLE c;\n");
    put(fx, "0004_d.sql", "CREATE TABLE d(x INTEGER);\n");
    put(fx, "0004_d.down.sql", "-- dbal:no-transaction\nDROP TABLE d;\n");
    MIGRATE_OK(fx, up(fx, 0));
    status_text t;
    MIGRATE_OK(fx, down(fx, -1));
    assert_false(table_exists(fx, "d"));
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:applied 3:applied 4:pending");
    MIGRATE_FAILS(fx, down(fx, 0), DBAL_EINVAL, "cannot revert version 1: ");
    assert_non_null(strstr(fx->err.message, "(0001_a.down.sql); nothing was reverted"));
    assert_true(table_exists(fx, "c"));
    MIGRATE_FAILS(fx, down(fx, 9), DBAL_EINVAL, "no migration has version 9");
    dbal_migrate_options o;
    dbal_migrate_options_init(&o);
    event_text events = {""};
    o.progress = on_event;
    o.userdata = &events;
    MIGRATE_OK(fx, dbal_migrate_down(fx->e, fx->dir, 1, &o, &fx->err));
    assert_string_equal(events.text, "reverted 3, reverted 2");
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:pending 3:pending 4:pending");
    assert_false(table_exists(fx, "b"));
    MIGRATE_OK(fx, down(fx, 1)); /* nothing above 1 */
    /* A failing down file rolls back too. */
    MIGRATE_OK(fx, up(fx, 0));
    put(fx, "0004_d.down.sql", "DROP TABLE d;\nDROP TABLE nothing_here;\n");
    MIGRATE_FAILS(fx, down(fx, -1), DBAL_EUNDEFINED, "/0004_d.down.sql:2: ");
    assert_non_null(
        strstr(fx->err.message, "reverting version 4 rolled back; the database stays at version 4"));
    assert_true(table_exists(fx, "d"));
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:applied 3:applied 4:applied");
}

/* ------------------------------------------------------------ dry run, table */

typedef struct dry_text {
    char text[1024];
} dry_text;

static void on_statement(void *userdata, const char *file, int line, const char *sql)
{
    dry_text *t = userdata;
    const char *base = strrchr(file, '/') + 1;
    size_t n = strlen(t->text);
    snprintf(t->text + n, sizeof t->text - n, "%s:%d: %s\n", base, line, sql);
}

static void dry_run_changes_nothing(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER);\n\n-- two\nINSERT INTO a VALUES (1);\n");
    put(fx, "0001_a.down.sql", "DROP TABLE a;\n");
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER);\n");
    dbal_migrate_options o;
    dbal_migrate_options_init(&o);
    dry_text dry = {""};
    o.dry_run = on_statement;
    o.userdata = &dry;
    MIGRATE_OK(fx, up_with(fx, 0, &o));
    assert_string_equal(dry.text, "0001_a.sql:1: CREATE TABLE a(x INTEGER)\n"
                                  "0001_a.sql:4: -- two\nINSERT INTO a VALUES (1)\n"
                                  "0002_b.sql:1: CREATE TABLE b(x INTEGER)\n");
    assert_false(table_exists(fx, "a"));
    assert_false(table_exists(fx, "dbal_migrations"));
    MIGRATE_OK(fx, up(fx, 1));
    dry.text[0] = '\0';
    MIGRATE_OK(fx, up_with(fx, 0, &o));
    assert_string_equal(dry.text, "0002_b.sql:1: CREATE TABLE b(x INTEGER)\n");
    dry.text[0] = '\0';
    MIGRATE_OK(fx, dbal_migrate_down(fx->e, fx->dir, 0, &o, &fx->err));
    assert_string_equal(dry.text, "0001_a.down.sql:1: DROP TABLE a\n");
    assert_true(table_exists(fx, "a"));
    status_text t;
    assert_string_equal(status(fx, &t, NULL), "1:applied 2:pending");
}

static void history_table_option(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE IF NOT EXISTS a(x INTEGER);\n");
    dbal_migrate_options o;
    dbal_migrate_options_init(&o);
    o.table = "app_schema_history";
    MIGRATE_OK(fx, up_with(fx, 0, &o));
    assert_int_equal(scalar(fx, "SELECT count(*) FROM app_schema_history"), 1);
    assert_false(table_exists(fx, "dbal_migrations"));
    status_text t;
    assert_string_equal(status(fx, &t, &o), "1:applied");
    assert_string_equal(status(fx, &t, NULL), "1:pending"); /* another history */
    /* A table of that name that is not a history is not taken for one. */
    OK(fx->s, dbal_exec(fx->s, "CREATE TABLE not_history(v INTEGER)", DBAL_NOARGS, NULL));
    o.table = "not_history";
    MIGRATE_FAILS(fx, dbal_migrate_status(fx->e, fx->dir, &o, collect, &t, &fx->err), DBAL_EUNDEFINED, "");
    if (fx->kind == PG) { /* schema.name */
        char name[128];
        snprintf(name, sizeof name, "%s.qualified_history", fx->schema);
        o.table = name;
        MIGRATE_OK(fx, up_with(fx, 0, &o));
        assert_int_equal(scalar(fx, "SELECT count(*) FROM qualified_history"), 1);
    }
}

/* ------------------------------------------------------------ several processes */

/* Another holder of the lock: migrations wait at most lock_timeout_ms,
 * however long the engine's busy_timeout, then DBAL_EBUSY. */
static void lock_wait_is_bounded(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER);\n");
    int64_t holder = 0;
    if (fx->kind == PG) { /* the advisory lock's key, as documented */
        unsigned char d[DBAL__SHA256_LEN];
        char name[128];
        snprintf(name, sizeof name, "dbal_migrate:%s.dbal_migrations", fx->schema);
        dbal__sha256 c;
        dbal__sha256_init(&c);
        dbal__sha256_update(&c, name, strlen(name));
        dbal__sha256_final(&c, d);
        uint64_t key = 0;
        for (int i = 0; i < 8; i++)
            key = key << 8 | d[i];
        OK(fx->s, dbal_exec(fx->s, "SELECT pg_advisory_lock(?)", DBAL_ARGS(dbal_int64((int64_t)key)), NULL));
        holder = scalar(fx, "SELECT pg_backend_pid()");
    } else {
        OK(fx->s, dbal_begin(fx->s)); /* BEGIN IMMEDIATE: the write lock */
    }
    dbal_migrate_options o;
    dbal_migrate_options_init(&o);
    o.lock_timeout_ms = 300;
    double t0 = test_now();
    MIGRATE_FAILS(fx, up_with(fx, 0, &o), DBAL_EBUSY, "timed out after 300 ms waiting for another process");
    double took = test_now() - t0;
    printf("# lock_timeout_ms=300 on %s: DBAL_EBUSY after %.0f ms: %s\n", fx->driver, took * 1000,
           fx->err.message);
    assert_true(took >= 0.29 && took < 3.0);
    if (fx->kind == PG) {
        char pid[64];
        snprintf(pid, sizeof pid, "held by server process %lld", (long long)holder);
        assert_non_null(strstr(fx->err.message, pid));
        OK(fx->s, dbal_exec(fx->s, "SELECT pg_advisory_unlock_all()", DBAL_NOARGS, NULL));
    } else {
        OK(fx->s, dbal_rollback(fx->s));
    }
    MIGRATE_OK(fx, up(fx, 0));
}

/* Another process records a version between this one's reading of the
 * history and its turn: found again inside the migration's transaction,
 * and skipped. */
typedef struct interloper {
    fixture *fx;
    event_text events;
} interloper;

static void record_next_elsewhere(void *userdata, dbal_migrate_event ev, const dbal_migration *m)
{
    interloper *it = userdata;
    on_event(&it->events, ev, m);
    if (ev == DBAL_MIGRATE_APPLIED && m->version == 1)
        OK(it->fx->s,
           dbal_exec(it->fx->s,
                     "INSERT INTO dbal_migrations(version, name, checksum, applied_at, duration_ms) "
                     "VALUES (2, 'b', 'elsewhere', '2024-01-01T00:00:00.000Z', 0)",
                     DBAL_NOARGS, NULL));
}

static void version_recorded_meanwhile_is_skipped(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_a.sql", "CREATE TABLE a(x INTEGER);\n");
    put(fx, "0002_b.sql", "CREATE TABLE b(x INTEGER);\n");
    put(fx, "0003_c.sql", "-- dbal:no-transaction\nCREATE TABLE c(x INTEGER);\n");
    interloper it = {fx, {""}};
    dbal_migrate_options o;
    dbal_migrate_options_init(&o);
    o.progress = record_next_elsewhere;
    o.userdata = &it;
    MIGRATE_OK(fx, up_with(fx, 0, &o));
    assert_string_equal(it.events.text, "applied 1, skipped 2, applied 3");
    assert_false(table_exists(fx, "b"));
    assert_true(table_exists(fx, "c"));
}

#define NPROC 6

typedef struct proc_result {
    int rc;
    int applied, skipped;
    double ms;
    char message[200];
} proc_result;

static void count_event(void *userdata, dbal_migrate_event ev, const dbal_migration *m)
{
    proc_result *r = userdata;
    (void)m;
    r->applied += ev == DBAL_MIGRATE_APPLIED;
    r->skipped += ev == DBAL_MIGRATE_SKIPPED;
}

/* A child: waits at the barrier, then migrates through an engine of its
 * own. */
static void child(const char *url, const char *dir, int barrier, proc_result *r)
{
    char c;
    while (read(barrier, &c, 1) < 0 && errno == EINTR)
        ;
    double t0 = test_now();
    dbal_engine *e;
    dbal_error err;
    r->rc = dbal_engine_open(&e, url, &err);
    if (r->rc == DBAL_OK) {
        dbal_migrate_options o;
        dbal_migrate_options_init(&o);
        o.progress = count_event;
        o.userdata = r;
        r->rc = dbal_migrate_up(e, dir, 0, &o, &err);
        dbal_engine_close(e);
    }
    r->ms = (test_now() - t0) * 1000;
    snprintf(r->message, sizeof r->message, "%.150s", r->rc ? err.message : "");
    _exit(r->rc == DBAL_OK ? 0 : 1);
}

/* NPROC processes released together through a pipe: every one succeeds,
 * each version is applied exactly once (its log row, its table made
 * without IF NOT EXISTS, its history row). */
static void processes_migrating_at_once(void **state)
{
    fixture *fx = *state;
    put(fx, "0001_log.sql",
        "CREATE TABLE mig_log(version INTEGER NOT NULL);\n"
        "INSERT INTO mig_log VALUES (1);\n"
        "CREATE TABLE t1(x INTEGER);\n");
    put(fx, "0002_slow.sql",
        variant(fx, "INSERT INTO mig_log VALUES (2);\nSELECT pg_sleep(0.3);\nCREATE TABLE t2(x INTEGER);\n",
                "INSERT INTO mig_log VALUES (2);\n"
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
                "SELECT count(*) FROM n;\n"
                "CREATE TABLE t2(x INTEGER);\n"));
    put(fx, "0003_more.sql", "INSERT INTO mig_log VALUES (3);\nCREATE TABLE t3(x INTEGER);\n");
    /* A child may not open a SQLite file its parent's connection holds. */
    dbal_session_close(fx->s);
    dbal_engine_close(fx->e);
    proc_result *res = mmap(NULL, NPROC * sizeof *res, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                            0);
    assert_true(res != MAP_FAILED);
    memset(res, 0, NPROC * sizeof *res);
    int barrier[2];
    assert_int_equal(pipe(barrier), 0);
    pid_t pids[NPROC];
    for (int i = 0; i < NPROC; i++) {
        fflush(NULL);
        if ((pids[i] = fork()) == 0) {
            close(barrier[1]);
            child(fx->url, fx->dir, barrier[0], &res[i]);
        }
        assert_true(pids[i] > 0);
    }
    close(barrier[0]);
    usleep(200000);    /* every child at its read */
    close(barrier[1]); /* releases them all at once */
    int ok = 0, applied = 0, skipped = 0;
    for (int i = 0; i < NPROC; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
        applied += res[i].applied;
        skipped += res[i].skipped;
        printf("# %s process %d: %s, applied %d, skipped %d, %.0f ms %s\n", fx->driver, i,
               dbal_code_name(res[i].rc), res[i].applied, res[i].skipped, res[i].ms, res[i].message);
    }
    dbal_error err;
    assert_int_equal(dbal_engine_open(&fx->e, fx->url, &err), DBAL_OK);
    fx->s = test_session(fx->e);
    int64_t logs = scalar(fx, "SELECT count(*) FROM mig_log");
    int64_t distinct = scalar(fx, "SELECT count(DISTINCT version) FROM mig_log");
    int64_t history = scalar(fx, "SELECT count(*) FROM dbal_migrations");
    printf("# %s, %d processes at once: %d succeeded; log rows %lld (versions %lld), history rows %lld, "
           "applied events %d, skipped events %d\n",
           fx->driver, NPROC, ok, (long long)logs, (long long)distinct, (long long)history, applied, skipped);
    munmap(res, NPROC * sizeof *res);
    assert_int_equal(ok, NPROC);
    assert_int_equal(logs, 3);
    assert_int_equal(distinct, 3);
    assert_int_equal(history, 3);
    assert_int_equal(applied, 3);
    assert_true(table_exists(fx, "t1") && table_exists(fx, "t2") && table_exists(fx, "t3"));
}

/* ------------------------------------------------------------ main */

#define CASE(fn, b)                                    \
    {                                                  \
#b ": " #fn, fn, setup, teardown, &b##_backend \
    }
#define ON_EACH(fn) CASE(fn, memory), CASE(fn, file), CASE(fn, pg)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ON_EACH(variants_chosen_by_driver),
        CASE(bad_names_refused, memory),
        CASE(bad_directory_and_files, memory),
        ON_EACH(splitter_keeps_bodies_whole),
        ON_EACH(up_to_a_version_and_to_the_latest),
        ON_EACH(status_states),
        ON_EACH(changed_file_refused_then_repaired),
        ON_EACH(missing_version_reported),
        ON_EACH(failing_statement_rolls_back),
        ON_EACH(transaction_statements_refused),
        ON_EACH(no_transaction_directive),
        ON_EACH(down_steps_and_targets),
        ON_EACH(dry_run_changes_nothing),
        ON_EACH(history_table_option),
        ON_EACH(version_recorded_meanwhile_is_skipped),
        CASE(lock_wait_is_bounded, file),
        CASE(lock_wait_is_bounded, pg),
        CASE(processes_migrating_at_once, file),
        CASE(processes_migrating_at_once, pg),
    };
    /* Without a server the PostgreSQL cases are left out, unless
     * DBAL_TEST_REQUIRE_PG=1, which makes their setup fail. */
    const char *url = getenv("DBAL_TEST_PG_URL"), *req = getenv("DBAL_TEST_REQUIRE_PG");
    int have_pg = (url && *url) || (req && strcmp(req, "1") == 0);
    struct CMUnitTest run[sizeof tests / sizeof *tests];
    size_t n = 0;
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
        if (have_pg || ((const backend *)tests[i].initial_state)->kind != PG)
            run[n++] = tests[i];
    if (!have_pg)
        printf("migrate: DBAL_TEST_PG_URL is not set: the PostgreSQL cases are skipped\n");
    return _cmocka_run_group_tests("migrate", run, n, NULL, NULL);
}
