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
    {SQLITE_CONSTRAINT_ROWID, "23505"}, /* an explicit rowid twice */
};

static const mapping primary[] = {
    {SQLITE_CONSTRAINT, "23000"}, {SQLITE_BUSY, "55P03"},     {SQLITE_LOCKED, "55P03"},
    {SQLITE_INTERRUPT, "57014"},  {SQLITE_READONLY, "25006"}, {SQLITE_NOMEM, "53200"},
    {SQLITE_CANTOPEN, "08001"},   {SQLITE_TOOBIG, "54000"},   {SQLITE_MISMATCH, "22P02"},
    {SQLITE_AUTH, "42501"},       {SQLITE_PERM, "42501"},     {SQLITE_FULL, "53100"},
    {SQLITE_IOERR, "58030"},      {SQLITE_CORRUPT, "XX001"},  {SQLITE_NOTADB, "XX001"},
    {SQLITE_RANGE, "08P01"},
};

/* SQLITE_ERROR covers what PostgreSQL splits into classes; the message is
 * the only thing that tells them apart. Each entry is the SQLSTATE
 * PostgreSQL gives for the same mistake, checked on a server with the
 * equivalent SQL (the messages are SQLite 3.40's, from its source). An entry
 * matches a message that starts with its prefix and holds its fragment
 * after that (either may be NULL); the first entry that matches wins, so a
 * narrow entry stands before a wider one that would also match.
 * Messages left out give XX000; test_sqlite's test_error_messages_unmapped
 * and the README list them. */
static const struct {
    const char *prefix, *fragment, *sqlstate;
} messages[] = {
    /* undefined objects */
    {"no such table", NULL, "42P01"},
    {"no such view", NULL, "42P01"},
    {"unable to identify the object to be reindexed", NULL, "42P01"}, /* REINDEX nosuch */
    {"ON clause references tables to its right", NULL, "42P01"},
    {"no such column", NULL, "42703"},
    {"table ", " has no column named ", "42703"},
    {"cannot join using column", NULL, "42703"},
    {"unknown column ", " in foreign key definition", "42703"},
    /* PostgreSQL does not see output names in WHERE: "column s does not exist" */
    {"misuse of aliased aggregate", NULL, "42703"},
    {"misuse of aliased window function", NULL, "42703"},
    {NULL, " ORDER BY term does not match any column in the result set", "42703"},
    {"no such function", NULL, "42883"},
    {"wrong number of arguments to function", NULL, "42883"},
    {"DISTINCT aggregates must have exactly one argument", NULL, "42883"}, /* count(DISTINCT a, b) */
    {"'", "' is not a function", "42883"},                                 /* SELECT * FROM t(1) */
    {"no such index", NULL, "42704"},
    {"no such trigger", NULL, "42704"},
    {"no such collation sequence", NULL, "42704"},
    {"no such module", NULL, "42704"},
    {"no such window", NULL, "42704"},
    {"unknown datatype for ", NULL, "42704"}, /* STRICT table */
    {"parameters are not allowed in views", NULL, "42P02"},
    {"parameters prohibited in ", NULL, "42P02"},
    {"variable number must be between ?1 and ", NULL, "42P02"},
    {"no such savepoint", NULL, "3B001"},
    {"unknown database ", NULL, "3F000"}, /* CREATE TABLE nosuch.t: schema "nosuch" does not exist */
    /* duplicate objects */
    {"duplicate column name", NULL, "42701"},
    {"trigger ", " already exists", "42710"},
    {"table ", " already exists", "42P07"},
    {"view ", " already exists", "42P07"},
    {"index ", " already exists", "42P07"},
    {"there is already another table or index with this name", NULL, "42P07"},
    {"there is already a table named ", NULL, "42P07"},
    {"there is already an index named ", NULL, "42P07"},
    {"duplicate WITH table name", NULL, "42712"},
    {"target object/alias may not appear in FROM clause", NULL, "42712"}, /* UPDATE t ... FROM t */
    /* syntax and shape */
    {"near \"", NULL, "42601"},
    {"incomplete input", NULL, "42601"},
    {"unrecognized token", NULL, "42601"},
    {"syntax error", NULL, "42601"},
    {"unknown table option", NULL, "42601"},
    {NULL, " clause should come after ", "42601"}, /* ORDER BY before UNION */
    {"unknown join type", NULL, "42601"},
    {"a NATURAL join may not have an ON or USING clause", NULL, "42601"},
    {"a JOIN clause is required before ", NULL, "42601"},
    {"ORDER BY without LIMIT on ", NULL, "42601"},
    {"missing datatype for ", NULL, "42601"},
    {"error in generated column \"", NULL, "42601"}, /* DEFAULT and GENERATED on one column */
    {"expressions prohibited in PRIMARY KEY and UNIQUE constraints", NULL, "42601"},
    {"no tables specified", NULL, "42601"}, /* SELECT * */
    {"JSON path error near ", NULL, "42601"},
    {"sub-select returns", NULL, "42601"},
    {"row value misused", NULL, "42601"},
    {"IN(...) element has ", NULL, "42601"},
    {"all VALUES must have the same number of terms", NULL, "42601"},
    {"table ", " values for ", "42P10"}, /* WITH x(a, b) AS (SELECT 1) */
    {NULL, " values for ", "42601"},     /* "3 values for 2 columns" */
    {"table ", " values were supplied", "42601"},
    {NULL, " columns assigned ", "42601"},    /* UPDATE t SET (a, b) = (1, 2, 3) */
    {"expected ", " columns for '", "42601"}, /* CREATE VIEW v(a, b) AS SELECT 1 */
    {"SELECTs to the left and right of ", " do not have the same number of result columns", "42601"},
    {NULL, " BY term out of range", "42P10"}, /* ORDER BY / GROUP BY position */
    {NULL, "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint", "42P10"},
    {"ambiguous column name", NULL, "42702"},
    {"ambiguous reference to ", " in USING()", "42702"},
    /* aggregates and windows */
    {"misuse of aggregate", NULL, "42803"},
    {"aggregate functions are not allowed", NULL, "42803"},
    {"a GROUP BY clause is required before HAVING", NULL, "42803"},
    {"HAVING clause on a non-aggregate query", NULL, "42803"},
    {"misuse of window function", NULL, "42P20"},
    {"RANGE with offset PRECEDING/FOLLOWING requires one ORDER BY expression", NULL, "42P20"},
    {"unsupported frame specification", NULL, "42P20"},
    {"cannot override ", " of window: ", "42P20"},
    {NULL, " may not be used as a window function", "42809"},
    {"FILTER may not be used with non-aggregate ", NULL, "42809"},
    {"FILTER clause may only be used with aggregate window functions", NULL, "0A000"},
    {"DISTINCT is not supported for window functions", NULL, "0A000"},
    {"second argument to nth_value must be a positive integer", NULL, "22016"},
    {"argument of ntile must be a positive integer", NULL, "22014"},
    {"frame starting offset must be a non-negative ", NULL, "22013"},
    {"frame ending offset must be a non-negative ", NULL, "22013"},
    /* recursive queries */
    {"recursive aggregate queries not supported", NULL, "42P19"},
    {"multiple references to recursive table", NULL, "42P19"},
    {"multiple recursive references", NULL, "42P19"},
    {"recursive reference in a subquery", NULL, "42P19"},
    {"circular reference", NULL, "42P19"},
    /* values */
    {"integer overflow", NULL, "22003"},
    {"hex literal too big", NULL, "22003"},
    {"ESCAPE expression must be a single character", NULL, "22025"},
    {"malformed JSON", NULL, "22P02"},
    {"json_", "() needs an odd number of arguments", "22023"},
    {"json_object() requires an even number of arguments", NULL, "22023"},
    {"Cannot add a NOT NULL column with default value NULL", NULL, "23502"}, /* a table with rows */
    /* definitions PostgreSQL refuses too */
    {"table ", " has more than one primary key", "42P16"},
    {"temporary table name must be unqualified", NULL, "42P16"},
    {"foreign key mismatch", NULL, "42830"},
    {"foreign key on ", " should reference only one column of table ", "42830"},
    {"number of columns in foreign key does not match", NULL, "42830"},
    {"subqueries prohibited in ", NULL, "0A000"},
    {"default value of column [", "] is not constant", "0A000"},
    {"non-deterministic ", NULL, "42P17"}, /* functions in an index or generated column */
    {"generated column loop on ", NULL, "42P17"},
    {"view ", " is circularly defined", "42P17"},
    {"cannot INSERT into generated column ", NULL, "428C9"},
    {"cannot UPDATE generated column ", NULL, "428C9"},
    {"object name reserved for internal use", NULL, "42939"},
    {"index associated with UNIQUE or PRIMARY KEY constraint cannot be dropped", NULL, "2BP01"},
    /* the wrong kind of object */
    {"use DROP TABLE to delete table ", NULL, "42809"},
    {"use DROP VIEW to delete view ", NULL, "42809"},
    {"Cannot add a column to a view", NULL, "42809"},
    {"cannot drop column from view ", NULL, "42809"},
    {"views may not be indexed", NULL, "42809"},
    {"virtual tables may not be indexed", NULL, "42809"},
    {"cannot create trigger on system table", NULL, "42501"},
    {"cannot create ", " trigger on view: ", "42809"},
    {"cannot create INSTEAD OF trigger on table: ", NULL, "42809"},
    {"cannot modify ", " because it is a view", "55000"},
    /* protected objects */
    {"table ", " may not be modified", "42501"},
    {"table ", " may not be dropped", "42501"},
    {"table ", " may not be altered", "42501"},
    {"table ", " may not be indexed", "42501"},
    {"not authorized", NULL, "42501"}, /* load_extension() while loading is off */
    /* limits */
    {"too many terms in ", NULL, "54001"}, /* compound SELECT, ORDER BY, GROUP BY */
    {"too many FROM clause terms", NULL, "54001"},
    {"at most ", " tables in a join", "54001"},
    {"too many levels of trigger recursion", NULL, "54001"},
    {"Expression tree is too large", NULL, "54001"},
    {"parser stack overflow", NULL, "54001"},
    {"LIKE or GLOB pattern too complex", NULL, "54001"},
    {"too many columns", NULL, "54011"},
    {"too many SQL variables", NULL, "54023"},
    {"too many arguments on ", NULL, "54023"},
    /* transactions */
    {"cannot start a transaction within a transaction", NULL, "25001"},
    {NULL, " from within a transaction", "25001"}, /* VACUUM, temp_store, journal_mode=wal */
    {"Safety level may not be changed inside a transaction", NULL, "25001"},
    {"cannot commit - no transaction is active", NULL, "25P01"},
    {"cannot rollback - no transaction is active", NULL, "25P01"},
};

static int message_matches(const char *msg, const char *prefix, const char *fragment)
{
    if (prefix) {
        size_t n = strlen(prefix);
        if (strncmp(msg, prefix, n) != 0)
            return 0;
        msg += n;
    }
    return !fragment || strstr(msg, fragment) != NULL;
}

static const char *sqlstate_for(int rc, const char *msg)
{
#ifdef SQLITE_CONSTRAINT_DATATYPE
    /* A STRICT table refuses a value: PostgreSQL's invalid text for the
     * column's type (22P02) or, for a blob, datatype_mismatch (42804). */
    if (rc == SQLITE_CONSTRAINT_DATATYPE)
        return msg && strncmp(msg, "cannot store TEXT value", 23) == 0 ? "22P02" : "42804";
#endif
    for (size_t i = 0; i < sizeof extended / sizeof extended[0]; i++)
        if (extended[i].rc == rc)
            return extended[i].sqlstate;
    for (size_t i = 0; i < sizeof primary / sizeof primary[0]; i++)
        if (primary[i].rc == (rc & 0xff))
            return primary[i].sqlstate;
    if ((rc & 0xff) == SQLITE_ERROR && msg)
        for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
            if (message_matches(msg, messages[i].prefix, messages[i].fragment))
                return messages[i].sqlstate;
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
