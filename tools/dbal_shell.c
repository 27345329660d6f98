/*
 * dbal shell: reads statements ending in ';' and runs them on one session,
 * so a transaction can span several of them.
 *
 * On a terminal it prompts, keeps a history, goes on after an error, and
 * Ctrl-C cancels the running statement. Reading a script from a pipe or a
 * file it stops at the first failing statement and exits with its code;
 * a last statement without ';' is run at the end of the input.
 */
#include "dbal_cli.h"
#include "dbal_interrupt.h"
#include "dbal_lineedit.h"
#include "dbal_split.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct shell {
    cli_db db;
    const out_options *o;
    int interactive;
    int timing;
} shell;

static const char help[] = "Statements end with ';' and run when it is typed. Rows are printed for\n"
                           "SELECT, WITH, VALUES, SHOW, EXPLAIN, PRAGMA and anything with RETURNING;\n"
                           "INSERT, UPDATE, DELETE print the rows they changed.\n"
                           "BEGIN, COMMIT and ROLLBACK are dbal's: a BEGIN inside a transaction makes\n"
                           "a savepoint, and the prompt shows dbal*> while a transaction is open.\n"
                           "Ctrl-C cancels a running statement.\n"
                           "  \\q              quit (so does Ctrl-D)\n"
                           "  \\timing [on|off] show how long each statement takes\n"
                           "  \\?              this help\n";

static int print_done(const shell *sh, const char *what)
{
    if (sh->o->format == OUT_TABLE)
        printf("%s\n", what);
    return EXIT_OK;
}

/* Runs one statement and prints its outcome; returns the exit code. */
static int run_statement(shell *sh, const statement *st)
{
    unsigned tx_options;
    stmt_kind kind = stmt_classify(st, &tx_options);
    if (kind == STMT_TX_OTHER) {
        report_usage("'%s' is not a transaction statement the shell knows: use BEGIN [ISOLATION LEVEL "
                     "...] [READ ONLY] [DEFERRABLE], COMMIT, ROLLBACK (SQLite's locking mode is the "
                     "URL option begin=deferred|immediate|exclusive)",
                     st->sql);
        return EXIT_USAGE;
    }
    int64_t affected = 0;
    int rc;
    double t0 = now_ms();
    if (sh->interactive)
        interrupt_arm();
    switch (kind) {
    case STMT_ROWS: rc = run_query(&sh->db, st->sql, DBAL_NOARGS, sh->o, stdout); break;
    case STMT_CHANGE:
    case STMT_OTHER: rc = run_exec(&sh->db, st->sql, DBAL_NOARGS, &affected); break;
    case STMT_BEGIN: rc = run_tx(&sh->db, 1, tx_options); break;
    case STMT_COMMIT: rc = run_tx(&sh->db, 0, 0); break;
    default: rc = run_tx(&sh->db, -1, 0); break;
    }
    if (sh->interactive)
        interrupt_disarm();
    double elapsed = now_ms() - t0;
    if (rc != DBAL_OK) {
        fflush(stdout);
        return report_db_error(&sh->db);
    }
    if (kind == STMT_CHANGE)
        out_affected(stdout, sh->o, affected);
    else if (kind == STMT_OTHER)
        print_done(sh, "OK");
    else if (kind == STMT_BEGIN)
        print_done(sh, dbal_tx_depth(sh->db.session) > 1 ? "SAVEPOINT" : "BEGIN");
    else if (kind == STMT_COMMIT)
        print_done(sh, "COMMIT");
    else if (kind == STMT_ROLLBACK)
        print_done(sh, "ROLLBACK");
    if (sh->timing)
        printf("Time: %.3f ms\n", elapsed);
    return EXIT_OK;
}

/* A backslash command. Returns the exit code; *quit is set by \q. */
static int meta(shell *sh, const char *line, int *quit)
{
    char cmd[32] = "", arg[32] = "", extra[2] = "";
    int n = sscanf(line, " %31s %31s %1s", cmd, arg, extra);
    if (strcmp(cmd, "\\q") == 0 && n == 1) {
        *quit = 1;
    } else if (strcmp(cmd, "\\timing") == 0 && n <= 2) {
        if (n == 1)
            sh->timing = !sh->timing;
        else if (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0)
            sh->timing = strcmp(arg, "on") == 0;
        else
            goto bad;
        printf("Timing is %s.\n", sh->timing ? "on" : "off");
    } else if ((strcmp(cmd, "\\?") == 0 || strcmp(cmd, "\\h") == 0) && n == 1) {
        fputs(help, stdout);
    } else {
        goto bad;
    }
    return EXIT_OK;
bad:
    report_usage("unknown command '%s': \\? lists the commands", line + strspn(line, " \t"));
    return EXIT_USAGE;
}

static const char *prompt(const shell *sh, const splitter *sp)
{
    if (!sh->interactive)
        return NULL;
    if (!dbal__split_idle(sp))
        return "...> ";
    return dbal_tx_depth(sh->db.session) > 0 ? "dbal*> " : "dbal> ";
}

/* Runs the statements the input holds so far; returns the exit code of the
 * first failure that ends the shell, else EXIT_OK. */
static int drain(shell *sh, splitter *sp)
{
    statement st;
    while (dbal__split_next(sp, &st) > 0) {
        int code = run_statement(sh, &st);
        free(st.sql);
        if (code != EXIT_OK && !sh->interactive)
            return code;
    }
    if (sp->text.failed) {
        report_usage("DBAL_ENOMEM: out of memory");
        return EXIT_DB;
    }
    return EXIT_OK;
}

int cmd_shell(const cli_args *a)
{
    if (a->npos > 1) {
        report_usage("shell takes only a URL: dbal shell [URL] (statements come from stdin)");
        return EXIT_USAGE;
    }
    const char *url = cli_url(a->npos ? a->pos[0] : NULL);
    if (!url)
        return EXIT_USAGE;
    shell sh = {.o = &a->out, .interactive = isatty(STDIN_FILENO)};
    int code = db_open(&sh.db, url);
    if (code != EXIT_OK)
        return code;
    /* Connect now, so that a wrong URL or a server that is down shows at
     * once rather than after the first statement is typed. */
    if (run_exec(&sh.db, "SELECT 1", DBAL_NOARGS, NULL) != DBAL_OK) {
        code = report_db_error(&sh.db);
        db_close(&sh.db);
        return code;
    }
    line_reader *lr = lr_open(sh.interactive);
    if (!lr) {
        db_close(&sh.db);
        report_usage("DBAL_ENOMEM: out of memory");
        return EXIT_DB;
    }
    if (sh.interactive) {
        printf("dbal %s on %s. End statements with ';'; \\? for help, \\q to quit.\n", dbal_version(),
               dbal_engine_driver(sh.db.engine));
        /* When the watcher cannot start, Ctrl-C simply ends the shell. */
        (void)interrupt_start(sh.db.session);
    }
    splitter sp;
    dbal__split_init(&sp, SHELL_DIALECT, &dbal__alloc_libc);
    int quit = 0;
    char *line;
    while (!quit && code == EXIT_OK && (line = lr_read(lr, prompt(&sh, &sp))) != NULL) {
        lr_remember(lr, line);
        if (dbal__split_idle(&sp) && line[strspn(line, " \t")] == '\\') {
            int mc = meta(&sh, line, &quit);
            if (!sh.interactive)
                code = mc;
        } else if (!dbal__split_feed(&sp, line)) {
            report_usage("DBAL_ENOMEM: out of memory");
            code = EXIT_DB;
        } else {
            code = drain(&sh, &sp);
        }
        free(line);
    }
    statement st;
    if (code == EXIT_OK && !quit && dbal__split_rest(&sp, &st) > 0) {
        code = run_statement(&sh, &st);
        free(st.sql);
    }
    if (sh.interactive && !quit)
        putchar('\n'); /* after ^D, leave the terminal on a fresh line */
    if (sh.interactive)
        interrupt_stop();
    dbal__split_free(&sp);
    lr_close(lr);
    db_close(&sh.db);
    return code;
}
