/*
 * dbal migrate [URL] up|down|status ...: schema migrations through the
 * library's dbal_migrate_* calls (include/dbal.h); tools/README.md has the
 * command's forms and output.
 */
#include "dbal_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char migrate_usage[] =
    "dbal migrate [URL] up|down|status [VERSION | --steps N] [-d DIR] [options]: dbal --help lists them";

/* The command line of migrate. */
typedef struct migrate_args {
    const char *url;
    const char *action; /* up, down, status */
    const char *dir;
    int64_t target; /* dbal_migrate_up/down's */
    int have_target;
    long long steps;
    int dry_run;
    dbal_migrate_options o;
} migrate_args;

static int is_option(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

int cli_migrate_option(const char *arg)
{
    static const char *const names[] = {"--dry-run",       "--repair", "--ignore-missing", "--steps",
                                        "--history-table", "--dir",    "--lock-timeout"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (is_option(arg, names[i]))
            return 1;
    return 0;
}

/* A whole number in [min, max]; -1 when it is not one. */
static int number(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max || *s == '+' || *s == ' ')
        return -1;
    *out = v;
    return 0;
}

/* The value of an option: after '=' or the next argument. NULL (after
 * saying so) when there is none. */
static const char *value_of(const cli_args *a, int *i, const char *name)
{
    const char *arg = a->pos[*i], *eq = strchr(arg, '=');
    if (eq && strncmp(arg, "--", 2) == 0)
        return eq + 1;
    if (*i + 1 < a->npos)
        return a->pos[++*i];
    report_usage("%s needs a value (%s)", name, migrate_usage);
    return NULL;
}

/* An option of migrate at a->pos[*i]: -1 to go on, else an exit code. */
static int take_option(const cli_args *a, int *i, migrate_args *m)
{
    const char *arg = a->pos[*i], *v = NULL;
    long long n;
    if (strcmp(arg, "--dry-run") == 0)
        m->dry_run = 1;
    else if (strcmp(arg, "--repair") == 0)
        m->o.repair = 1;
    else if (strcmp(arg, "--ignore-missing") == 0)
        m->o.ignore_missing = 1;
    else if (strcmp(arg, "-d") == 0 || is_option(arg, "--dir"))
        return (m->dir = value_of(a, i, "-d")) ? -1 : EXIT_USAGE;
    else if (is_option(arg, "--history-table"))
        return (m->o.table = value_of(a, i, "--history-table")) ? -1 : EXIT_USAGE;
    else if (is_option(arg, "--lock-timeout")) {
        if ((v = value_of(a, i, "--lock-timeout")) && number(v, 0, 1000000000, &n) == 0)
            m->o.lock_timeout_ms = (int)n;
        else
            return v ? (report_usage("--lock-timeout takes milliseconds, not '%s'", v), EXIT_USAGE)
                     : EXIT_USAGE;
    } else if (is_option(arg, "--steps")) {
        if ((v = value_of(a, i, "--steps")) && number(v, 1, 1000000000, &n) == 0)
            m->steps = n;
        else
            return v ? (report_usage("--steps takes a number from 1, not '%s'", v), EXIT_USAGE) : EXIT_USAGE;
    } else {
        report_usage("migrate: unknown option '%s' (%s)", arg, migrate_usage);
        return EXIT_USAGE;
    }
    return -1;
}

/* [URL] ACTION [VERSION], read from the words that are not options. */
static int take_words(const char *const *w, int n, migrate_args *m)
{
    int k = 0;
    long long v;
    if (k < n && cli_is_url(w[k]))
        m->url = w[k++];
    if (k < n && (strcmp(w[k], "up") == 0 || strcmp(w[k], "down") == 0 || strcmp(w[k], "status") == 0))
        m->action = w[k++];
    if (!m->action) {
        report_usage("migrate needs up, down or status%s%s (%s)", k < n ? ", not " : "", k < n ? w[k] : "",
                     migrate_usage);
        return EXIT_USAGE;
    }
    int down = strcmp(m->action, "down") == 0, status = strcmp(m->action, "status") == 0;
    if (k < n && !status && number(w[k], down ? 0 : 1, INT64_MAX, &v) == 0) {
        m->target = v;
        m->have_target = 1;
        k++;
    }
    if (k < n || (m->have_target && m->steps) || (status && (m->steps || m->dry_run))) {
        report_usage("migrate %s: unexpected %s (%s)", m->action, k < n ? w[k] : "option", migrate_usage);
        return EXIT_USAGE;
    }
    if (m->steps)
        m->target = -m->steps;
    else if (down && !m->have_target)
        m->target = -1; /* one step */
    return EXIT_OK;
}

static int parse_migrate(const cli_args *a, migrate_args *m)
{
    const char *words[4];
    int nwords = 0, code;
    memset(m, 0, sizeof *m);
    dbal_migrate_options_init(&m->o);
    m->dir = "migrations";
    for (int i = 0; i < a->npos; i++) {
        if (a->pos[i][0] == '-' && a->pos[i][1] != '\0') {
            if ((code = take_option(a, &i, m)) >= 0)
                return code;
        } else if (nwords == 4) {
            report_usage("migrate: unexpected '%s' (%s)", a->pos[i], migrate_usage);
            return EXIT_USAGE;
        } else {
            words[nwords++] = a->pos[i];
        }
    }
    if ((code = take_words(words, nwords, m)) != EXIT_OK)
        return code;
    return (m->url = cli_url(m->url)) ? EXIT_OK : EXIT_USAGE;
}

/* ---- output ---------------------------------------------------------------- */

static void on_progress(void *userdata, dbal_migrate_event ev, const dbal_migration *m)
{
    int *count = userdata;
    (*count)++;
    switch (ev) {
    case DBAL_MIGRATE_APPLIED:
        printf("applied %" PRId64 " %s (%s, %" PRId64 " ms)\n", m->version, m->name, m->file, m->duration_ms);
        break;
    case DBAL_MIGRATE_REVERTED:
        printf("reverted %" PRId64 " %s (%s)\n", m->version, m->name, m->down_file);
        break;
    case DBAL_MIGRATE_REPAIRED:
        printf("repaired %" PRId64 " %s: recorded checksum %.12s... of %s\n", m->version, m->name,
               m->checksum, m->file);
        break;
    case DBAL_MIGRATE_SKIPPED:
        printf("skipped %" PRId64 " %s: another process %s it first\n", m->version, m->name,
               m->state == DBAL_MIGRATION_APPLIED ? "applied" : "reverted");
        break;
    }
    fflush(stdout);
}

/* A dry run's statements, as a script: each after a comment naming where
 * it comes from. */
static void on_statement(void *userdata, const char *file, int line, const char *sql)
{
    int *count = userdata;
    (*count)++;
    printf("-- %s:%d\n%s;\n", file, line, sql);
}

/* Where the database stands: the highest applied version, how many pending. */
typedef struct standing {
    int64_t version;
    int pending;
} standing;

static void tally(void *userdata, const dbal_migration *m)
{
    standing *st = userdata;
    if (m->state == DBAL_MIGRATION_PENDING)
        st->pending++;
    else if (m->version > st->version)
        st->version = m->version;
}

static void print_standing(dbal_engine *e, const migrate_args *m, int ran)
{
    standing st = {0, 0};
    dbal_error err;
    if (dbal_migrate_status(e, m->dir, &m->o, tally, &st, &err) != DBAL_OK)
        return;
    printf("%sat version %" PRId64 ", %d pending\n", ran ? "" : "nothing to do: ", st.version, st.pending);
}

typedef struct status_out {
    out_result *res;
    int failed;
} status_out;

static void status_row(void *userdata, const dbal_migration *m)
{
    static const char *const states[] = {"", "applied", "pending", "changed", "missing"};
    status_out *so = userdata;
    char version[24], ms[24];
    snprintf(version, sizeof version, "%" PRId64, m->version);
    snprintf(ms, sizeof ms, "%" PRId64, m->duration_ms);
    const char *state = states[m->state];
    out_cell cells[6] = {
        {DBAL_TYPE_INT64, version, strlen(version)},
        {DBAL_TYPE_TEXT, m->name, strlen(m->name)},
        {DBAL_TYPE_TEXT, state, strlen(state)},
        {m->applied_at ? DBAL_TYPE_TEXT : DBAL_TYPE_NULL, m->applied_at,
         m->applied_at ? strlen(m->applied_at) : 0},
        {m->applied_at ? DBAL_TYPE_INT64 : DBAL_TYPE_NULL, m->applied_at ? ms : NULL,
         m->applied_at ? strlen(ms) : 0},
        {m->file ? DBAL_TYPE_TEXT : DBAL_TYPE_NULL, m->file, m->file ? strlen(m->file) : 0},
    };
    if (out_row(so->res, cells) != 0)
        so->failed = 1;
}

static int no_memory(dbal_error *err)
{
    memset(err, 0, sizeof *err);
    err->code = DBAL_ENOMEM;
    snprintf(err->message, sizeof err->message, "%s", dbal_strerror(DBAL_ENOMEM));
    return DBAL_ENOMEM;
}

static int print_status(dbal_engine *e, const migrate_args *m, const out_options *o, dbal_error *err)
{
    static const char *const names[] = {"version", "name", "state", "applied_at", "duration_ms", "file"};
    status_out so = {out_begin(stdout, o, 6, names), 0};
    if (!so.res)
        return no_memory(err);
    int rc = dbal_migrate_status(e, m->dir, &m->o, status_row, &so, err);
    if (rc == DBAL_OK && !so.failed)
        return out_end(so.res) == 0 ? DBAL_OK : no_memory(err);
    out_abort(so.res);
    return rc == DBAL_OK ? no_memory(err) : rc;
}

/* ---- the command ------------------------------------------------------------- */

static int run_migrate(cli_db *db, migrate_args *m, const out_options *o, dbal_error *err)
{
    int count = 0;
    if (strcmp(m->action, "status") == 0)
        return print_status(db->engine, m, o, err);
    m->o.userdata = &count;
    if (m->dry_run)
        m->o.dry_run = on_statement;
    else
        m->o.progress = on_progress;
    int rc = strcmp(m->action, "up") == 0 ? dbal_migrate_up(db->engine, m->dir, m->target, &m->o, err)
                                          : dbal_migrate_down(db->engine, m->dir, m->target, &m->o, err);
    if (rc == DBAL_OK && m->dry_run)
        printf("-- dry run: %d statement%s, nothing was changed\n", count, count == 1 ? "" : "s");
    else if (rc == DBAL_OK)
        print_standing(db->engine, m, count);
    return rc;
}

int cmd_migrate(const cli_args *a)
{
    migrate_args m;
    int code = parse_migrate(a, &m);
    if (code != EXIT_OK)
        return code;
    cli_db db;
    if ((code = db_open(&db, m.url)) != EXIT_OK)
        return code;
    dbal_error err;
    if (run_migrate(&db, &m, &a->out, &err) != DBAL_OK) {
        report_error(&db, &err);
        code = exit_code_for(err.code);
    }
    db_close(&db);
    return code;
}
