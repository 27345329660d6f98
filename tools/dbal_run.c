/*
 * Opening the database, running statements, reporting errors.
 */
#include "dbal_cli.h"
#include "dbal_encode.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_is_url(const char *arg)
{
    /* scheme ':' with no white space anywhere: sqlite::memory:,
     * sqlite:///x.db, postgresql://... SQL always has a space or no colon
     * right after its first word. */
    size_t i = 0;
    if (!((arg[0] >= 'a' && arg[0] <= 'z') || (arg[0] >= 'A' && arg[0] <= 'Z')))
        return 0;
    while (arg[i] && arg[i] != ':') {
        char c = arg[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
              c == '-' || c == '.' || c == '_'))
            return 0;
        i++;
    }
    if (arg[i] != ':')
        return 0;
    return strpbrk(arg, " \t\r\n\f\v") == NULL;
}

const char *cli_url(const char *given)
{
    if (given)
        return given;
    const char *env = getenv("DATABASE_URL");
    if (env && *env)
        return env;
    report_usage("no database URL: give one before the SQL (for example sqlite:///tmp/app.db) "
                 "or set DATABASE_URL");
    return NULL;
}

int exit_code_for(int code)
{
    switch (code) {
    case DBAL_OK: return EXIT_OK;
    case DBAL_EMISUSE:
    case DBAL_EINVAL: return EXIT_USAGE;
    case DBAL_EURL:
    case DBAL_ENODRIVER:
    case DBAL_EDRIVER:
    case DBAL_ECONNECT:
    case DBAL_ECONNLOST:
    case DBAL_EPOOLTIMEOUT: return EXIT_CONN;
    default: return EXIT_DB;
    }
}

/* ---- passwords ------------------------------------------------------------- */

/* Leniently: a password as the user wrote it may hold a stray '%'. */
static char *percent_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t n;
    if (out)
        dbal__percent_decode(s, len, out, &n, false);
    return out;
}

/* Keeps the URL's password, as written and decoded, so that no message the
 * client prints can show it even if a driver put it in one. It is found
 * where the library finds it: between the first ':' and the last '@' of the
 * authority, or as a password= option. */
static void remember_password(cli_db *db, const char *url)
{
    const char *p = NULL, *end = NULL;
    const char *auth = strstr(url, "://");
    if (auth) {
        auth += 3;
        size_t alen = strcspn(auth, "/?");
        const char *at = NULL;
        for (const char *q = auth; q < auth + alen; q++)
            if (*q == '@')
                at = q;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon)
            p = colon + 1, end = at;
    }
    const char *opt = strstr(url, "password=");
    if (!p && opt && opt > url && (opt[-1] == '?' || opt[-1] == '&')) {
        p = opt + strlen("password=");
        end = p + strcspn(p, "&#");
    }
    if (!p || end == p)
        return;
    db->password[0] = malloc((size_t)(end - p) + 1);
    if (db->password[0]) {
        memcpy(db->password[0], p, (size_t)(end - p));
        db->password[0][end - p] = '\0';
    }
    db->password[1] = percent_decode(p, (size_t)(end - p));
}

/* Copies msg to out (cap bytes), with every occurrence of the password
 * replaced by *** and line breaks by spaces. */
static void clean_message(const cli_db *db, const char *msg, char *out, size_t cap)
{
    size_t o = 0;
    while (*msg && o + 1 < cap) {
        size_t skip = 0;
        for (int k = 0; db && k < 2 && !skip; k++) {
            const char *pw = db->password[k];
            if (pw && *pw && strncmp(msg, pw, strlen(pw)) == 0)
                skip = strlen(pw);
        }
        if (skip) {
            for (const char *r = "***"; *r && o + 1 < cap; r++)
                out[o++] = *r;
            msg += skip;
            continue;
        }
        out[o++] = (*msg == '\n' || *msg == '\r') ? ' ' : *msg;
        msg++;
    }
    out[o] = '\0';
}

/* ---- reporting ------------------------------------------------------------- */

void report_error(const cli_db *db, const dbal_error *e)
{
    char msg[1024];
    clean_message(db, e->message[0] ? e->message : dbal_strerror(e->code), msg, sizeof msg);
    if (e->sqlstate[0])
        fprintf(stderr, "dbal: error: %s (%s): %s\n", dbal_code_name(e->code), e->sqlstate, msg);
    else
        fprintf(stderr, "dbal: error: %s: %s\n", dbal_code_name(e->code), msg);
}

void report_usage(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) /* one line, whatever the arguments hold */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "dbal: error: %s\n", msg);
}

int report_db_error(const cli_db *db)
{
    report_error(db, &db->err);
    return exit_code_for(db->err.code);
}

/* Keeps the details of a failed statement in db->err. */
static int failed(cli_db *db, int rc)
{
    const dbal_error *e = dbal_session_error(db->session);
    if (e->code == rc) {
        db->err = *e;
    } else { /* the client's own failure (out of memory) */
        memset(&db->err, 0, sizeof db->err);
        db->err.code = rc;
        snprintf(db->err.message, sizeof db->err.message, "%s", dbal_strerror(rc));
    }
    return rc;
}

/* ---- the database ---------------------------------------------------------- */

int db_open(cli_db *db, const char *url)
{
    dbal_error err;
    memset(db, 0, sizeof *db);
    remember_password(db, url);
    /* One connection is all a client needs. */
    dbal_engine_options o;
    dbal_engine_options_init(&o);
    o.pool_size = 1;
    o.max_overflow = 0;
    int rc = dbal_engine_open_with(&db->engine, url, &o, &err);
    if (rc == DBAL_OK)
        rc = dbal_session_open(db->engine, &db->session, &err);
    if (rc != DBAL_OK) {
        report_error(db, &err);
        db_close(db);
        return exit_code_for(rc);
    }
    return EXIT_OK;
}

void db_close(cli_db *db)
{
    dbal_session_close(db->session);
    dbal_engine_close(db->engine);
    for (int k = 0; k < 2; k++) {
        if (db->password[k])
            memset(db->password[k], 0, strlen(db->password[k]));
        free(db->password[k]);
    }
    memset(db, 0, sizeof *db);
}

/* ---- statements ------------------------------------------------------------ */

int run_query(cli_db *db, const char *sql, dbal_params params, const out_options *o, FILE *f)
{
    dbal_rows *r;
    int rc = dbal_query(db->session, sql, params, &r);
    if (rc != DBAL_OK)
        return failed(db, rc);
    int ncols = dbal_col_count(r);
    size_t n = ncols > 0 ? (size_t)ncols : 1;
    const char **names = calloc(n, sizeof *names);
    out_cell *cells = calloc(n, sizeof *cells);
    out_result *res = NULL;
    if (names && cells) {
        for (int i = 0; i < ncols; i++)
            names[i] = dbal_col_name(r, i);
        res = out_begin(f, o, ncols, names);
    }
    if (!res) {
        rc = DBAL_ENOMEM;
        goto done;
    }
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        for (int i = 0; i < ncols; i++)
            out_cell_from_row(r, i, &cells[i]);
        if (out_row(res, cells) != 0) {
            rc = DBAL_ENOMEM;
            break;
        }
    }
    if (rc == DBAL_DONE) {
        rc = DBAL_OK;
        out_end(res);
    } else {
        out_abort(res);
    }
done:
    free(names);
    free(cells);
    if (rc != DBAL_OK)
        failed(db, rc);
    dbal_rows_close(r);
    return rc;
}

int run_exec(cli_db *db, const char *sql, dbal_params params, int64_t *affected)
{
    int rc = dbal_exec(db->session, sql, params, affected);
    return rc == DBAL_OK ? rc : failed(db, rc);
}

int run_tx(cli_db *db, int op, unsigned options)
{
    int rc = op < 0   ? dbal_rollback(db->session)
             : op > 0 ? dbal_begin_with(db->session, options)
                      : dbal_commit(db->session);
    return rc == DBAL_OK ? rc : failed(db, rc);
}

double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
