/*
 * A migration file cut into statements by the one splitter (util/), in the
 * dialect of the engine's driver, each with the line where it starts.
 */
#include "migrate.h"

#include "alloc.h"
#include "errors.h"
#include "sql_scan.h"
#include "sql_split.h"

#include <string.h>
#include <strings.h>

static unsigned dialect_of(const char *driver)
{
    if (strcmp(driver, "postgresql") == 0)
        return DBAL__SQL_POSTGRESQL;
    if (strcmp(driver, "sqlite") == 0)
        return DBAL__SQL_SQLITE;
    return DBAL__SQL_POSTGRESQL | DBAL__SQL_SQLITE; /* another driver: what either would take */
}

/* BEGIN, START [TRANSACTION], COMMIT, END, ROLLBACK (but ROLLBACK TO),
 * ABORT: they would end dbal's transaction behind its back. The splitter's
 * first word is CREATE for a trigger whose body has BEGIN. */
static int is_transaction_statement(const dbal__statement *st)
{
    static const char *const words[] = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        if (strcmp(st->first, words[i]) != 0)
            continue;
        if (strcmp(st->first, "ROLLBACK") == 0) {
            const char *p = st->sql + strlen("ROLLBACK");
            p += strspn(p, " \t\r\n");
            if (strncasecmp(p, "WORK", 4) == 0 || strncasecmp(p, "TRANSACTION", 11) == 0)
                p += strcspn(p, " \t\r\n"), p += strspn(p, " \t\r\n");
            if (strncasecmp(p, "TO", 2) == 0)
                return 0;
        }
        return 1;
    }
    return 0;
}

static int push(dbal__mig_script *sc, size_t *cap, dbal__statement *st)
{
    if (sc->count == *cap) {
        size_t n = *cap ? *cap * 2 : 8;
        dbal__mig_stmt *more = dbal__realloc(sc->stmts, n * sizeof *more);
        if (!more)
            return DBAL_ENOMEM;
        sc->stmts = more;
        *cap = n;
    }
    sc->stmts[sc->count].sql = st->sql;
    sc->stmts[sc->count].line = st->line > 0x7fffffff ? 0x7fffffff : (int)st->line;
    sc->count++;
    return DBAL_OK;
}

/* Takes the next statement (the rest, when last) into sc; *got is 0 when
 * there was none. */
static int take(const char *path, dbal__splitter *sp, int last, dbal__mig_script *sc, size_t *cap, int *got,
                dbal_error *err)
{
    dbal__statement st;
    *got = last ? dbal__split_rest(sp, &st) : dbal__split_next(sp, &st);
    if (*got <= 0)
        return *got < 0 ? dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL) : DBAL_OK;
    if (is_transaction_statement(&st)) {
        dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                        "%s:%zu: %s: a migration cannot end or begin transactions: each runs in one of its "
                        "own (-- dbal:no-transaction runs it outside any)",
                        path, st.line, st.first);
        dbal__free(st.sql);
        return DBAL_EINVAL;
    }
    if (push(sc, cap, &st) != DBAL_OK) {
        dbal__free(st.sql);
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    }
    return DBAL_OK;
}

int dbal__mig_split(const char *path, const char *sql, const char *driver, dbal__mig_script *out,
                    dbal_error *err)
{
    dbal__splitter sp;
    size_t cap = 0;
    memset(out, 0, sizeof *out);
    dbal__split_init(&sp, dialect_of(driver), &dbal__alloc_core);
    int got = 1;
    int rc = dbal__split_feed(&sp, sql) ? DBAL_OK : dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    while (rc == DBAL_OK && got)
        rc = take(path, &sp, 0, out, &cap, &got, err);
    if (rc == DBAL_OK)
        rc = take(path, &sp, 1, out, &cap, &got, err);
    dbal__split_free(&sp);
    if (rc != DBAL_OK)
        dbal__mig_script_free(out);
    return rc;
}

void dbal__mig_script_free(dbal__mig_script *sc)
{
    for (size_t i = 0; i < sc->count; i++)
        dbal__free(sc->stmts[i].sql);
    dbal__free(sc->stmts);
    memset(sc, 0, sizeof *sc);
}
