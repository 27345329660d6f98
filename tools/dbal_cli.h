/*
 * dbal_cli.h - what the pieces of the dbal command-line client share: exit
 * codes, the parsed command line, the open database, and the commands.
 */
#ifndef DBAL_CLI_H
#define DBAL_CLI_H

#include "dbal_output.h"

#include <dbal.h>
#include <stdio.h>

/* Exit codes, documented in --help and tools/README.md. */
enum {
    EXIT_OK = 0,
    EXIT_DB = 1,    /* the database refused a statement */
    EXIT_USAGE = 2, /* bad command line, wrong parameter count, no URL */
    EXIT_CONN = 3   /* bad URL, missing driver, cannot connect, connection lost */
};

/* The command line after options are taken out. */
typedef struct cli_args {
    const char *command;
    out_options out;
    const char **pos; /* positional arguments after the command */
    int npos;
} cli_args;

/* An engine and one session on it, opened from a URL. */
typedef struct cli_db {
    dbal_engine *engine;
    dbal_session *session;
    char *password[2]; /* the URL's password as written and percent-decoded, to redact */
    dbal_error err;    /* the last failure of run_query / run_exec */
} cli_db;

/* Whether an argument is a URL rather than SQL (see --help). */
int cli_is_url(const char *arg);

/* The URL to use: `given` when not NULL, else $DATABASE_URL. NULL (after
 * reporting the problem) when there is none. */
const char *cli_url(const char *given);

/*
 * Opens an engine and a session. Returns EXIT_OK, or the exit code after
 * reporting the error.
 */
int db_open(cli_db *db, const char *url);
void db_close(cli_db *db);

/* The exit code for a dbal_code. */
int exit_code_for(int code);

/* Prints "dbal: error: DBAL_NAME (SQLSTATE): message" on stderr, with the
 * URL's password (if db is not NULL) replaced by ***. */
void report_error(const cli_db *db, const dbal_error *e);
/* Prints "dbal: error: <printf text>" on stderr. */
void report_usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Reports db->err and returns its exit code. */
int report_db_error(const cli_db *db);

/* Statements. Both return a dbal_code; a failure is kept in db->err, not
 * reported. */
int run_query(cli_db *db, const char *sql, dbal_params params, const out_options *o, FILE *f);
int run_exec(cli_db *db, const char *sql, dbal_params params, int64_t *affected);
/* op > 0: begin with DBAL_TX_* options; 0: commit; < 0: roll back. */
int run_tx(cli_db *db, int op, unsigned options);

/* Monotonic time in milliseconds. */
double now_ms(void);

/* Commands; each returns the exit code. */
int cmd_query(const cli_args *a);
int cmd_exec(const cli_args *a);
int cmd_ping(const cli_args *a);
int cmd_drivers(const cli_args *a);
int cmd_shell(const cli_args *a);
int cmd_migrate(const cli_args *a);

/* Whether arg is one of migrate's own options (--dry-run, --steps=N, ...),
 * which the command line hands to it. */
int cli_migrate_option(const char *arg);

#endif /* DBAL_CLI_H */
