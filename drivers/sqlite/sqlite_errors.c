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
 * the only thing that tells them apart. Each entry is the SQLSTATE
 * PostgreSQL gives for the same mistake. A prefix matches the start of the
 * message, a fragment anywhere in it (for messages that begin with a name:
 * "table t has 2 columns but 3 values were supplied"). */
static const struct {
    const char *text;
    int anywhere; /* 0: a prefix; 1: a fragment */
    const char *sqlstate;
} messages[] = {
    /* undefined objects */
    {"no such table", 0, "42P01"},
    {"no such view", 0, "42P01"},
    {"no such column", 0, "42703"},
    {"has no column named", 1, "42703"},
    {"cannot join using column", 0, "42703"},
    {"no such function", 0, "42883"},
    {"wrong number of arguments to function", 0, "42883"},
    {"no such index", 0, "42704"},
    {"no such trigger", 0, "42704"},
    {"no such collation sequence", 0, "42704"},
    {"no such module", 0, "42704"},
    {"no such savepoint", 0, "3B001"},
    {"unknown database", 0, "3D000"},
    /* duplicate objects */
    {"duplicate column name", 0, "42701"},
    /* syntax and shape */
    {"near \"", 0, "42601"},
    {"incomplete input", 0, "42601"},
    {"unrecognized token", 0, "42601"},
    {"syntax error", 0, "42601"},
    {"sub-select returns", 0, "42601"},
    {"row value misused", 0, "42601"},
    {"values for", 1, "42601"},           /* "3 values for 2 columns" */
    {"values were supplied", 1, "42601"}, /* "table t has 2 columns but 3 values were supplied" */
    {"do not have the same number of result columns", 1, "42601"},
    {"term out of range", 1, "42P10"}, /* ORDER BY / GROUP BY position */
    {"ambiguous column name", 0, "42702"},
    /* aggregates and windows */
    {"misuse of aggregate", 0, "42803"},
    {"misuse of window function", 0, "42P20"},
    {"aggregate functions are not allowed", 0, "42803"},
    {"a GROUP BY clause is required before HAVING", 0, "42803"},
    {"HAVING clause on a non-aggregate query", 0, "42803"},
    /* numbers */
    {"integer overflow", 0, "22003"},
    /* limits */
    {"too many terms in compound SELECT", 0, "54001"},
    {"too many columns", 0, "54011"},
    {"too many SQL variables", 0, "54023"},
    {"too many levels of trigger recursion", 0, "54001"},
    {"Expression tree is too large", 0, "54001"},
    {"parser stack overflow", 0, "54001"},
    /* transactions and objects in the wrong state */
    {"cannot start a transaction within a transaction", 0, "25001"},
    {"cannot commit - no transaction is active", 0, "25P01"},
    {"cannot rollback - no transaction is active", 0, "25P01"},
    {"foreign key mismatch", 0, "42830"},
    {"may not be modified", 1, "42501"},
    {"may not be dropped", 1, "42501"},
    {"because it is a view", 1, "42809"},
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
        /* "trigger t already exists": PostgreSQL's duplicate_object; a
         * table, view or index that exists is duplicate_table. */
        if (strstr(msg, "already exists") || strstr(msg, "there is already another table or index"))
            return strncmp(msg, "trigger ", 8) == 0 ? "42710" : "42P07";
        for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++) {
            const char *t = messages[i].text;
            if (messages[i].sqlstate &&
                (messages[i].anywhere ? strstr(msg, t) != NULL : strncmp(msg, t, strlen(t)) == 0))
                return messages[i].sqlstate;
        }
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
