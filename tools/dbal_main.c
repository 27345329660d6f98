/*
 * dbal - command-line client for any database dbal has a driver for.
 * Parses the command line and hands over to a command.
 */
#include "dbal_cli.h"
#include "dbal_lineedit.h"

#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: dbal [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  query [URL] SQL [PARAM...]  run one statement and print its rows\n"
    "  exec  [URL] SQL [PARAM...]  run one statement and print how many rows it changed\n"
    "  ping  [URL]                 connect, run SELECT 1, print ok, the driver and timings\n"
    "  shell [URL]                 run statements ending in ';' typed or piped in\n"
    "  drivers                     list the driver modules found, with version and ABI\n"
    "  migrate [URL] up|down|status  schema migrations from a directory of versioned SQL\n"
    "                              files (-d DIR, default migrations; see below)\n"
    "  help                        show this text\n"
    "query and exec take one statement; feed scripts to shell.\n"
    "\n"
    "Examples:\n"
    "  dbal query sqlite:///tmp/app.db \"SELECT * FROM items WHERE price < ?\" float:10\n"
    "  export DATABASE_URL=postgresql://app@localhost/app\n"
    "  dbal exec \"UPDATE items SET price = ? WHERE id = ?\" float:9.5 int:1\n"
    "  dbal query --json \"SELECT id, name FROM items\"\n"
    "  dbal shell < schema.sql\n"
    "  dbal migrate -d db/migrations postgresql://app@localhost/app up\n"
    "\n"
    "URL: the first argument after the command is the database URL when it has\n"
    "no white space and starts with a scheme and a colon (sqlite::memory:,\n"
    "sqlite:///var/lib/app.db, postgresql://user@host/db); otherwise it is the\n"
    "SQL and the URL is taken from DATABASE_URL. Prefer DATABASE_URL for URLs\n"
    "with a password: command lines are visible to other users. Passwords are\n"
    "never printed.\n"
    "\n"
    "PARAM: binds to the next ? placeholder. It is text unless it starts with a\n"
    "type: int:42, float:1.5, bool:true (true/false, t/f, yes/no, on/off, 1/0),\n"
    "null: (SQL NULL), blob:00ff (hex digits), text:... (the rest as text, so\n"
    "text:int:7 is the text \"int:7\"), ts:2024-05-01 12:00:00 (timestamp),\n"
    "tstz:2024-05-01T12:00:00+02:00 (timestamp with time zone), date:2024-05-01,\n"
    "time:12:30:00.5, num:19.90 (exact decimal), uuid:a0eebc99-9c0b-4ef8-bb6d-\n"
    "6bb9bd380a11, json:{\"a\": 1}.\n"
    "\n"
    "migrate:\n"
    "  up [VERSION | --steps N] [--dry-run] [--repair] [--ignore-missing]\n"
    "        apply pending migrations: all, up to VERSION, or the next N\n"
    "  down [VERSION | --steps N] [--dry-run]\n"
    "        revert the last migration, those above VERSION (0: all), or the last N\n"
    "  status  every version: applied, pending, changed (file edited since) or missing\n"
    "  -d DIR, --history-table NAME (default dbal_migrations), --lock-timeout MS (default 60000)\n"
    "  --dry-run prints the statements and changes nothing; --repair records the\n"
    "  checksums of edited files; --ignore-missing goes on when applied versions\n"
    "  have no file.\n"
    "\n"
    "Options (anywhere before --; after -- every argument is SQL or a PARAM):\n"
    "  --table      aligned columns and a (N rows) footer (default)\n"
    "  --csv        CSV with a header line; RFC 4180 quoting; NULL is an empty field\n"
    "  --json       a JSON array of objects: numbers, true/false, null, strings;\n"
    "               blobs as base64 strings\n"
    "  --null=TEXT  how NULL is shown in --table and --csv output (default: nothing)\n"
    "  --version    print the versions of dbal and of the loaded libdbal\n"
    "  -h, --help   show this text\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  the database refused the statement (syntax, constraint, type, ...)\n"
    "  2  usage error: bad command line, wrong number of PARAMs, no URL\n"
    "  3  cannot reach the database: bad URL, no driver, cannot connect, connection lost\n"
    "Errors are one line on stderr: dbal: error: DBAL_<CODE> (SQLSTATE): message\n"
    "\n"
    "Environment:\n"
    "  DATABASE_URL      the database URL when none is given\n"
    "  DBAL_DRIVER_PATH  directories (separated by ':') searched for driver modules\n"
    "                    before the installed ones\n";

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Takes the options out of argv. Returns -1 to go on, else an exit code. */
static int parse(int argc, char **argv, cli_args *a)
{
    int positional_only = 0;
    a->out.format = OUT_TABLE;
    a->out.null_text = "";
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (positional_only || arg[0] != '-' || arg[1] == '\0' || (arg[1] != '-' && strcmp(arg, "-h") != 0)) {
            /* "-", "-5", "SELECT ...": not options */
            if (!a->command)
                a->command = arg;
            else
                a->pos[a->npos++] = arg;
        } else if (strcmp(arg, "--") == 0) {
            positional_only = 1;
        } else if (strcmp(arg, "--table") == 0) {
            a->out.format = OUT_TABLE;
        } else if (strcmp(arg, "--csv") == 0) {
            a->out.format = OUT_CSV;
        } else if (strcmp(arg, "--json") == 0) {
            a->out.format = OUT_JSON;
        } else if (starts(arg, "--null=")) {
            a->out.null_text = arg + strlen("--null=");
        } else if (strcmp(arg, "--null") == 0) {
            if (i + 1 == argc) {
                report_usage("--null needs a value: --null=TEXT");
                return EXIT_USAGE;
            }
            a->out.null_text = argv[++i];
        } else if (a->command && strcmp(a->command, "migrate") == 0 && cli_migrate_option(arg)) {
            a->pos[a->npos++] = arg; /* migrate's own */
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        } else if (strcmp(arg, "--version") == 0) {
            printf("dbal %s (libdbal %s, line editing: %s)\n", DBAL_VERSION, dbal_version(), lr_library());
            return EXIT_OK;
        } else {
            report_usage("unknown option '%s' (dbal --help lists them; put -- before a PARAM that "
                         "starts with --)",
                         arg);
            return EXIT_USAGE;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    cli_args a = {0};
    a.pos = calloc((size_t)argc, sizeof *a.pos);
    if (!a.pos) {
        report_usage("DBAL_ENOMEM: out of memory");
        return EXIT_DB;
    }
    int code = parse(argc, argv, &a);
    if (code >= 0) {
        free(a.pos);
        return code;
    }
    static const struct {
        const char *name;
        int (*run)(const cli_args *);
    } commands[] = {
        {"query", cmd_query}, {"exec", cmd_exec},       {"ping", cmd_ping},
        {"shell", cmd_shell}, {"drivers", cmd_drivers}, {"migrate", cmd_migrate},
    };
    code = -1;
    if (!a.command) {
        fputs(usage_text, stderr);
        code = EXIT_USAGE;
    } else if (strcmp(a.command, "help") == 0) {
        fputs(usage_text, stdout);
        code = EXIT_OK;
    }
    for (size_t i = 0; code < 0 && i < sizeof commands / sizeof *commands; i++)
        if (strcmp(a.command, commands[i].name) == 0)
            code = commands[i].run(&a);
    if (code < 0) {
        report_usage("unknown command '%s' (dbal --help lists them)", a.command);
        code = EXIT_USAGE;
    }
    free(a.pos);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        report_usage("cannot write the output");
        if (code == EXIT_OK)
            code = EXIT_DB;
    }
    return code;
}
