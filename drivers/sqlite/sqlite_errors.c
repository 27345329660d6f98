/* SQLite's result codes mapped to the SQLSTATE PostgreSQL gives for the same
 * failure, so that applications branch on one set of codes. */
#include "sqlite_internal.h"

#include <string.h>

typedef struct {
    int rc;
    const char *sqlstate;
} mapping;

/* Extended codes first: they are what tells a unique violation from a
 * foreign key one. */
static const mapping extended[] = {
    {SQLITE_CONSTRAINT_UNIQUE, "23505"},     {SQLITE_CONSTRAINT_PRIMARYKEY, "23505"},
    {SQLITE_CONSTRAINT_FOREIGNKEY, "23503"}, {SQLITE_CONSTRAINT_NOTNULL, "23502"},
    {SQLITE_CONSTRAINT_CHECK, "23514"},      {SQLITE_BUSY_SNAPSHOT, "40001"},
};

static const mapping primary[] = {
    {SQLITE_CONSTRAINT, "23000"}, {SQLITE_BUSY, "55P03"},     {SQLITE_LOCKED, "55P03"},
    {SQLITE_INTERRUPT, "57014"},  {SQLITE_READONLY, "25006"}, {SQLITE_NOMEM, "53200"},
    {SQLITE_CANTOPEN, "08001"},   {SQLITE_TOOBIG, "54000"},   {SQLITE_MISMATCH, "42804"},
    {SQLITE_AUTH, "42501"},       {SQLITE_PERM, "42501"},     {SQLITE_FULL, "53100"},
    {SQLITE_IOERR, "58030"},      {SQLITE_CORRUPT, "XX001"},  {SQLITE_NOTADB, "XX001"},
    {SQLITE_RANGE, "08P01"},
};

/* SQLITE_ERROR covers what PostgreSQL splits into classes; the message is
 * the only thing that tells them apart. */
static const struct {
    const char *prefix;
    const char *sqlstate;
} messages[] = {
    {"no such table", "42P01"}, {"no such column", "42703"},   {"no such function", "42883"},
    {"near \"", "42601"},       {"incomplete input", "42601"}, {"unrecognized token", "42601"},
    {"syntax error", "42601"},  {"no such index", "42704"},    {"no such savepoint", "3B001"},
};

static const char *sqlstate_for(int rc, const char *msg)
{
    for (size_t i = 0; i < sizeof extended / sizeof extended[0]; i++)
        if (extended[i].rc == rc)
            return extended[i].sqlstate;
    for (size_t i = 0; i < sizeof primary / sizeof primary[0]; i++)
        if (primary[i].rc == (rc & 0xff))
            return primary[i].sqlstate;
    if ((rc & 0xff) == SQLITE_ERROR && msg) {
        for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
            if (strncmp(msg, messages[i].prefix, strlen(messages[i].prefix)) == 0)
                return messages[i].sqlstate;
        if (strstr(msg, "already exists"))
            return "42P07";
        if (strstr(msg, "has no column named"))
            return "42703";
    }
    return "XX000";
}

int sq_error(sqlite3 *db, int rc, dbal_error *err)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (db && sqlite3_extended_errcode(db) != SQLITE_OK &&
        (rc & 0xff) == (sqlite3_extended_errcode(db) & 0xff))
        rc = sqlite3_extended_errcode(db);
    const char *state = sqlstate_for(rc, msg);
    int code = sq_host->code_for_sqlstate(state);
    if (strcmp(state, "XX000") == 0)
        code = DBAL_ERROR;
    sq_host->set_error(err, code, state, rc, "%s", msg);
    /* SQLite names a constraint only for CHECK ("CHECK constraint failed:
     * price_positive"); for UNIQUE and NOT NULL it names table.column, which
     * is no constraint name, so the field stays empty as documented. */
    const char *failed = rc == SQLITE_CONSTRAINT_CHECK ? strstr(msg, "constraint failed: ") : NULL;
    if (failed) {
        size_t n = strlen(failed + 19);
        if (n >= sizeof err->constraint)
            n = sizeof err->constraint - 1;
        memcpy(err->constraint, failed + 19, n);
        err->constraint[n] = '\0';
    }
    return code;
}
