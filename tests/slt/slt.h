/* The sqllogictest differential runner: SQLite's sqllogictest scripts run
 * through dbal and through the raw library (sqlite3, libpq) on the same kind
 * of database, record by record; any difference between dbal and the raw
 * library is a failure. See README.md in this directory. */
#ifndef SLT_H
#define SLT_H

#include <stddef.h>
#include <stdint.h>

/* ---- records --------------------------------------------------------------- */

typedef enum slt_kind { SLT_STATEMENT, SLT_QUERY, SLT_HALT, SLT_HASH_THRESHOLD } slt_kind;

typedef struct slt_record {
    slt_kind kind;
    int line;        /* of the record's first line, for messages */
    char *skipif[8]; /* engines the record is not for */
    int nskipif;
    char *onlyif[8]; /* engines it is only for */
    int nonlyif;
    int expect_error; /* statement error */
    char *sql;
    char *types;     /* query: one of T, I, R per column */
    char sort;       /* 'n'osort, 'r'owsort, 'v'aluesort */
    char **expected; /* query: the lines after ----, or a hash line */
    size_t nexpected;
    int threshold; /* SLT_HASH_THRESHOLD */
} slt_record;

/* Reads the next record of a script; 0 at the end, -1 on a malformed one
 * (with a message on stderr). */
typedef struct slt_script slt_script;
slt_script *slt_script_open(const char *path);
int slt_script_next(slt_script *s, slt_record *rec);
void slt_script_close(slt_script *s);
void slt_record_free(slt_record *rec);
/* 1 when the record runs on an engine named engine ("sqlite", "postgresql"). */
int slt_record_applies(const slt_record *rec, const char *engine);

/* ---- what a library answered --------------------------------------------- */

/* A value as the library typed it. Bools count as integers 0/1: SQLite has
 * none, and the corpus declares none. */
typedef enum slt_vkind { SLT_NULL, SLT_INT, SLT_REAL, SLT_TEXT, SLT_BLOB } slt_vkind;

typedef struct slt_value {
    slt_vkind kind;
    int64_t i;
    double d;
    char *bytes; /* text or blob, NUL-terminated */
    size_t len;
} slt_value;

typedef struct slt_outcome {
    int failed;       /* the statement or query raised an error */
    int code;         /* dbal's code (dbal targets) */
    char sqlstate[6]; /* "" when none */
    int native;       /* SQLite's extended code, or 0 */
    char message[512];
    int64_t affected; /* statements: rows changed, -1 when not known */
    int ncols;
    slt_value *values; /* row-major, ncols per row */
    size_t nvalues;
    size_t cap;
} slt_outcome;

void slt_outcome_reset(slt_outcome *o);
void slt_outcome_free(slt_outcome *o);
/* Appends one value; bytes are copied. Returns -1 when out of memory. */
int slt_outcome_add(slt_outcome *o, slt_vkind kind, int64_t i, double d, const void *bytes, size_t len);

/* ---- targets: one library on one database ----------------------------- */

typedef struct slt_target slt_target;
struct slt_target {
    const char *name;   /* "dbal sqlite-memory", "raw sqlite3 :memory:", ... */
    const char *engine; /* "sqlite" or "postgresql": what skipif/onlyif name */
    void *ctx;
    /* Opens a fresh, empty database for the next script. */
    int (*reset)(slt_target *t, char *why, size_t cap);
    /* Runs one statement (is_query 0) or query; fills out. */
    void (*run)(slt_target *t, const char *sql, int is_query, slt_outcome *out);
    void (*close)(slt_target *t);
    int halted; /* a halt record applied to it in this script */
};

/* url: sqlite::memory:, sqlite://FILE or a PostgreSQL URL. */
int slt_dbal_target(slt_target *t, const char *name, const char *url, const char *schema);
/* path ":memory:" or a file that is removed at each reset. */
int slt_sqlite_target(slt_target *t, const char *name, const char *path);
int slt_libpq_target(slt_target *t, const char *name, const char *conninfo, const char *schema);

/* Removes a SQLite database file and its -wal, -shm and -journal. */
void slt_remove_db_files(const char *path);
/* The step-th statement (from 0) that gives a PostgreSQL session an empty
 * schema of its own as its search path; NULL after the last. */
const char *slt_schema_step(const char *schema, int step, char *buf, size_t cap);

/* ---- comparing ------------------------------------------------------------- */

/* Where two outcomes differ, in words; NULL when they agree (the same
 * failure, or the same values as a multiset of rows). */
const char *slt_outcome_diff(const slt_outcome *dbal, const slt_outcome *raw, int sqlite, char *buf,
                             size_t cap);
/* 1 when a query's values, formatted as sqllogictest does, sorted by the
 * record's mode and hashed past the threshold, are the expected ones. */
int slt_matches_expected(const slt_record *rec, const slt_outcome *o);

/* The values as sqllogictest prints them, unsorted, for -v. */
void slt_print_formatted(const slt_record *rec, const slt_outcome *o);

void slt_md5_hex(const char *data, size_t len, char out[33]);

#endif
