/*
 * Migrations (dbal_migrate_up, _down, _status; include/dbal.h says what
 * they promise). The pieces, one file each:
 *   migrate_files.c    the directory: names, versions, driver variants,
 *                      the files' bytes, checksums and directives
 *   migrate_script.c   a file cut into statements, each with its line
 *   migrate_history.c  the history table
 *   migrate_lock.c     one process at a time: PostgreSQL's advisory lock,
 *                      SQLite's write lock with a deadline
 *   migrate_run.c      one migration applied or reverted, and its errors
 *   migrate_plan.c     the directory and the history side by side: states,
 *                      the checks before anything runs, what to run
 *   migrate.c          the public calls
 */
#ifndef DBAL_CORE_MIGRATE_H
#define DBAL_CORE_MIGRATE_H

#include <dbal.h>

#include "sha256.h"

#include <stddef.h>
#include <stdint.h>

/* ---- the directory ---------------------------------------------------------- */

/* One version as the directory has it, for one driver. */
typedef struct dbal__mig_file {
    int64_t version;
    char *name; /* "create_items" */
    char *up;   /* path of the up file used on the driver */
    char *down; /* path of the down file used on the driver, or NULL */
    char *sql;  /* the up file's bytes, NUL-terminated */
    size_t len;
    char checksum[DBAL__SHA256_HEX_LEN];
    int no_tx; /* -- dbal:no-transaction */
} dbal__mig_file;

typedef struct dbal__mig_dir {
    dbal__mig_file *files; /* ascending versions */
    size_t count;
} dbal__mig_dir;

/* Reads the directory for the named driver. DBAL_EINVAL (err names the
 * file or the directory), DBAL_ENOMEM. */
int dbal__mig_dir_read(const char *dir, const char *driver, dbal__mig_dir *out, dbal_error *err);
void dbal__mig_dir_free(dbal__mig_dir *d);
const dbal__mig_file *dbal__mig_dir_find(const dbal__mig_dir *d, int64_t version);
/* A whole file's bytes, NUL-terminated (*len without it). A NUL byte in
 * it, or a file that cannot be read, is DBAL_EINVAL. */
int dbal__mig_read_file(const char *path, char **out, size_t *len, dbal_error *err);
/* The -- dbal: directives among the first comment lines: *no_tx.
 * DBAL_EINVAL for an unknown one. */
int dbal__mig_directives(const char *path, const char *sql, int *no_tx, dbal_error *err);

/* ---- statements ------------------------------------------------------------- */

typedef struct dbal__mig_stmt {
    char *sql; /* without the final ';' */
    int line;  /* where its code starts, from 1 */
} dbal__mig_stmt;

typedef struct dbal__mig_script {
    dbal__mig_stmt *stmts;
    size_t count;
} dbal__mig_script;

/* Cuts sql into statements in the driver's dialect; a transaction
 * statement (BEGIN, COMMIT, ...) is DBAL_EINVAL naming path:line. */
int dbal__mig_split(const char *path, const char *sql, const char *driver, dbal__mig_script *out,
                    dbal_error *err);
void dbal__mig_script_free(dbal__mig_script *sc);

/* ---- the history table ------------------------------------------------------- */

typedef struct dbal__mig_row {
    int64_t version;
    char *name;
    char *checksum;
    char *applied_at;
    int64_t duration_ms;
} dbal__mig_row;

typedef struct dbal__mig_history {
    dbal__mig_row *rows; /* ascending versions */
    size_t count;
} dbal__mig_history;

/* "name" or "schema.name", each part an unquoted identifier of at most 63
 * bytes. DBAL_EINVAL otherwise. */
int dbal__mig_table_check(const char *table, dbal_error *err);
/* The history; an absent table is an empty history. Errors are the
 * session's. */
int dbal__mig_history_read(dbal_session *s, const char *table, dbal__mig_history *out);
void dbal__mig_history_free(dbal__mig_history *h);
const dbal__mig_row *dbal__mig_history_find(const dbal__mig_history *h, int64_t version);
/* The statement that makes the table when it is missing, into buf. */
const char *dbal__mig_history_ddl(const char *table, char *buf, size_t cap);
/* Now, in UTC, as 2024-05-01T12:00:00.123Z. */
#define DBAL__MIG_AT_LEN 40
void dbal__mig_utc_now(char *buf, size_t cap);
/* Whether the version is recorded, read in the session's transaction. */
int dbal__mig_history_has(dbal_session *s, const char *table, int64_t version, int *has);
/* Records f as applied at `at` (dbal__mig_utc_now) after ms of work. */
int dbal__mig_history_insert(dbal_session *s, const char *table, const dbal__mig_file *f, const char *at,
                             int64_t ms);
int dbal__mig_history_delete(dbal_session *s, const char *table, int64_t version);
int dbal__mig_history_repair(dbal_session *s, const char *table, const dbal__mig_file *f);

/* ---- a run --------------------------------------------------------------------- */

/* One migration to apply or revert: the file run and its statements. */
typedef struct dbal__mig_step {
    const dbal__mig_file *f;
    const char *path; /* f->up or f->down */
    int no_tx;        /* that file's directive */
    dbal__mig_script script;
} dbal__mig_step;

typedef struct dbal__mig_plan {
    dbal__mig_step *steps; /* in the order they run */
    size_t count;
} dbal__mig_plan;

/* What one call works with. */
typedef struct dbal__mig_ctx {
    dbal_engine *engine;
    dbal_session *s;
    const char *driver;
    const char *path;          /* the directory, as given */
    dbal_migrate_options opts; /* the caller's, completed with the defaults */
    char table[128];
    double deadline; /* when the current lock wait ends (dbal__now() seconds) */
    int64_t lock_key;
    int locked;      /* the PostgreSQL advisory lock is held */
    int up;          /* applying (else reverting) */
    int64_t at;      /* the highest version applied, as far as this call knows */
    char touch[200]; /* a write to the history that takes the write lock first */
    dbal__mig_dir dir;
    dbal__mig_history hist;
    dbal_error error; /* a failure's details, for the caller's err */
} dbal__mig_ctx;

/* Waits for the PostgreSQL advisory lock (nothing on other drivers), at
 * most lock_timeout_ms: DBAL_OK or DBAL_EBUSY, with ctx->error set. */
int dbal__mig_lock(dbal__mig_ctx *ctx);
void dbal__mig_unlock(dbal__mig_ctx *ctx);
/* Begins a transaction that holds the database's write lock, taken by
 * running first_sql first (on SQLite: waiting at most lock_timeout_ms,
 * past the engine's busy_timeout). Errors are the session's. */
int dbal__mig_begin(dbal__mig_ctx *ctx, const char *first_sql);
/* Keeps the session's error, rolls back, puts the error back: the
 * failure, not the rollback, is what is reported. */
void dbal__mig_rollback(dbal_session *s);
/* Ends a transaction of dbal__mig_begin: commits when rc is DBAL_OK, else
 * rolls back; returns DBAL_OK or the failure, kept in ctx->error. */
int dbal__mig_end(dbal__mig_ctx *ctx, int rc);

/* Fills m from a file and its history row (either may be NULL). */
void dbal__mig_describe(const dbal__mig_file *f, const dbal__mig_row *row, dbal_migration *m);
void dbal__mig_progress(const dbal__mig_ctx *ctx, dbal_migrate_event ev, const dbal__mig_file *f,
                        const dbal__mig_row *row);

/* Applies or reverts one step (or gives its statements to the dry run).
 * ctx->error has the details of a failure. */
int dbal__mig_run(dbal__mig_ctx *ctx, const dbal__mig_step *st);

/* The checks before up: changed files (refused, or repaired with
 * opts.repair), missing ones (refused unless opts.ignore_missing). */
int dbal__mig_validate(dbal__mig_ctx *ctx);
/* What up and down would run, in order, every file read and split before
 * anything runs: DBAL_EINVAL for a bad target, a version down cannot
 * revert, or a file refused (ctx->error says which). */
int dbal__mig_plan_up(dbal__mig_ctx *ctx, int64_t target, dbal__mig_plan *out);
int dbal__mig_plan_down(dbal__mig_ctx *ctx, int64_t target, dbal__mig_plan *out);
void dbal__mig_plan_free(dbal__mig_plan *p);

/* ctx->error from the session's error (or rc's text). Returns rc. */
int dbal__mig_fail(dbal__mig_ctx *ctx, int rc);

#endif
