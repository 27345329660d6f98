/*
 * errors.c - integrity, syntax and undefined-object errors: the same code
 * and SQLSTATE on every driver, the constraint's name and the native code,
 * and a session that goes on after each.
 */
#include "cases.h"
#include "fixture.h"

/*
 * What dbal_error.constraint holds: the constraint's name for the kinds
 * error.constraint_names lists (kind is "unique", "foreign_key" or "check"),
 * else "" (PostgreSQL names all three; SQLite names only a CHECK constraint,
 * and the driver leaves the field "" rather than pass its table.column off
 * as a name). NOT NULL names none on any driver.
 */
static void expect_constraint_at(fixture *f, const char *kind, const char *name, const char *file, int line)
{
    const char *want = cap_is(CAP_ERROR_CONSTRAINT_NAMES, kind) ? name : "";
    expect_str_at(dbal_session_error(f->s)->constraint, want, "dbal_error.constraint", file, line);
}
#define EXPECT_CONSTRAINT(kind, name) expect_constraint_at(f, (kind), (name), __FILE__, __LINE__)

/* dbal_error.native_code, when the capability file gives it (error.native.*:
 * SQLite's extended result code; 0 on PostgreSQL, which has none). */
static void expect_native_at(fixture *f, enum conf_cap k, const char *file, int line)
{
    long want;
    if (cap_int(k, &want))
        expect_i64_at(dbal_session_error(f->s)->native_code, want, "dbal_error.native_code", file, line);
}
#define EXPECT_NATIVE(k) expect_native_at(f, (k), __FILE__, __LINE__)

void integrity_unique(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_ERROR_CONSTRAINT_NAMES, NULL);
    CREATE_TABLE(f, "conf_u", "id INTEGER PRIMARY KEY, email TEXT CONSTRAINT conf_u_email_key UNIQUE");
    EXEC_OK(f->s, "INSERT INTO conf_u(id, email) VALUES (1, ?)", DBAL_ARGS(dbal_text("a@x")));
    int64_t n = -7;
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_u(id, email) VALUES (2, ?)", DBAL_ARGS(dbal_text("a@x")), &n),
              DBAL_EUNIQUE);
    EXPECT_ERR(f->s, DBAL_EUNIQUE, "23505");
    EXPECT_CONSTRAINT("unique", "conf_u_email_key");
    EXPECT_NATIVE(CAP_ERROR_NATIVE_UNIQUE);
    check_session_recovers(f);
    /* the primary key is a unique constraint too */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_u(id, email) VALUES (1, 'b@x')", DBAL_NOARGS, NULL),
              DBAL_EUNIQUE);
    EXPECT_ERR(f->s, DBAL_EUNIQUE, "23505");
    EXPECT_NATIVE(CAP_ERROR_NATIVE_PRIMARY_KEY);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_u"), 1);
}

void integrity_foreign_key(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_ERROR_CONSTRAINT_NAMES, NULL);
    DROP_TABLE(f, "conf_child");
    CREATE_TABLE(f, "conf_parent", "id INTEGER PRIMARY KEY");
    CREATE_TABLE(f, "conf_child",
                 "id INTEGER PRIMARY KEY, pid BIGINT CONSTRAINT conf_child_pid_fkey "
                 "REFERENCES conf_parent(id)");
    EXEC_OK(f->s, "INSERT INTO conf_parent(id) VALUES (1)", DBAL_NOARGS);
    EXEC_OK(f->s, "INSERT INTO conf_child(id, pid) VALUES (1, 1)", DBAL_NOARGS);
    /* a child without a parent */
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_child(id, pid) VALUES (2, ?)", DBAL_ARGS(dbal_int64(99)),
                        NULL),
              DBAL_EFOREIGNKEY);
    EXPECT_ERR(f->s, DBAL_EFOREIGNKEY, "23503");
    EXPECT_CONSTRAINT("foreign_key", "conf_child_pid_fkey");
    EXPECT_NATIVE(CAP_ERROR_NATIVE_FOREIGN_KEY);
    check_session_recovers(f);
    /* deleting a parent that has a child */
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_parent WHERE id = 1", DBAL_NOARGS, NULL),
              DBAL_EFOREIGNKEY);
    EXPECT_ERR(f->s, DBAL_EFOREIGNKEY, "23503");
    EXPECT_CONSTRAINT("foreign_key", "conf_child_pid_fkey");
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_child"), 1);
    EXPECT_I64(COUNT(f->s, "conf_parent"), 1);
    DROP_TABLE(f, "conf_child");
}

void integrity_not_null(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_nn", "id INTEGER PRIMARY KEY, name TEXT NOT NULL");
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_nn(id, name) VALUES (1, ?)", DBAL_ARGS(dbal_null()), NULL),
              DBAL_ENOTNULL);
    EXPECT_ERR(f->s, DBAL_ENOTNULL, "23502");
    EXPECT_CONSTRAINT("not_null", ""); /* no driver names a constraint for NOT NULL */
    EXPECT_NATIVE(CAP_ERROR_NATIVE_NOT_NULL);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_nn"), 0);
}

void integrity_check(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_ERROR_CONSTRAINT_NAMES, NULL);
    CREATE_TABLE(f, "conf_chk",
                 "id INTEGER PRIMARY KEY, n BIGINT CONSTRAINT conf_chk_positive CHECK (n > 0)");
    EXEC_OK(f->s, "INSERT INTO conf_chk(id, n) VALUES (1, 5)", DBAL_NOARGS);
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_chk(id, n) VALUES (2, ?)", DBAL_ARGS(dbal_int64(-5)), NULL),
              DBAL_ECHECK);
    EXPECT_ERR(f->s, DBAL_ECHECK, "23514");
    EXPECT_CONSTRAINT("check", "conf_chk_positive");
    EXPECT_NATIVE(CAP_ERROR_NATIVE_CHECK);
    check_session_recovers(f);
    int64_t n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "UPDATE conf_chk SET n = 0 WHERE id = 1", DBAL_NOARGS, &n), DBAL_ECHECK);
    EXPECT_ERR(f->s, DBAL_ECHECK, "23514");
    check_session_recovers(f);
    EXPECT_I64(SCALAR(f->s, "SELECT n FROM conf_chk WHERE id = 1", DBAL_NOARGS), 5);
}

void error_syntax(void **state)
{
    fixture *f = fix(state);
    EXPECT_RC(f->s, dbal_exec(f->s, "SELEC 1", DBAL_NOARGS, NULL), DBAL_ESYNTAX);
    EXPECT_ERR(f->s, DBAL_ESYNTAX, "42601");
    check_session_recovers(f);
    /* dbal_query reports it itself, not at the first dbal_rows_next */
    dbal_rows *r = NULL;
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT 1 FROM WHERE", DBAL_NOARGS, &r), DBAL_ESYNTAX);
    EXPECT_ERR(f->s, DBAL_ESYNTAX, "42601");
    check_session_recovers(f);
}

void error_undefined(void **state)
{
    fixture *f = fix(state);
    DROP_TABLE(f, "conf_no_such_table");
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_no_such_table VALUES (1)", DBAL_NOARGS, NULL),
              DBAL_EUNDEFINED);
    EXPECT_ERR(f->s, DBAL_EUNDEFINED, "42P01");
    check_session_recovers(f);
    dbal_rows *r = NULL;
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT * FROM conf_no_such_table", DBAL_NOARGS, &r), DBAL_EUNDEFINED);
    EXPECT_ERR(f->s, DBAL_EUNDEFINED, "42P01");
    check_session_recovers(f);
    /* an undefined column */
    CREATE_TABLE(f, "conf_cols", "id INTEGER PRIMARY KEY");
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT no_such_column FROM conf_cols", DBAL_NOARGS, &r),
              DBAL_EUNDEFINED);
    EXPECT_ERR(f->s, DBAL_EUNDEFINED, "42703");
    check_session_recovers(f);
}

/* One mistake, one code and SQLSTATE on every driver (PostgreSQL's), for
 * the classes an application meets: SQLite says most of them only in its
 * message, which the driver maps. */
static void expect_mistake_at(fixture *f, const char *sql, int code, const char *sqlstate, const char *file,
                              int line)
{
    int rc = dbal_exec(f->s, sql, DBAL_NOARGS, NULL);
    expect_i64_at(rc, code, sql, file, line);
    expect_str_at(dbal_session_error(f->s)->sqlstate, sqlstate, sql, file, line);
    check_session_recovers(f);
}
#define EXPECT_MISTAKE(sql, code, state) expect_mistake_at(f, (sql), (code), (state), __FILE__, __LINE__)

void error_same_mistake(void **state)
{
    fixture *f = fix(state);
    cap_need(CAP_ERROR_CLASSES, "yes");
    EXEC_OK(f->s, "DROP VIEW IF EXISTS conf_mv", DBAL_NOARGS);
    CREATE_TABLE(f, "conf_m", "id INTEGER PRIMARY KEY, n INTEGER");
    EXEC_OK(f->s, "INSERT INTO conf_m(id, n) VALUES (1, 10)", DBAL_NOARGS);
    EXEC_OK(f->s, "CREATE VIEW conf_mv AS SELECT id FROM conf_m", DBAL_NOARGS);
    /* undefined objects */
    EXPECT_MISTAKE("DROP TABLE conf_no_such_table", DBAL_EUNDEFINED, "42P01");
    EXPECT_MISTAKE("DROP VIEW conf_no_such_view", DBAL_EUNDEFINED, "42P01");
    EXPECT_MISTAKE("DROP INDEX conf_no_such_index", DBAL_EUNDEFINED, "42704");
    EXPECT_MISTAKE("UPDATE conf_m SET no_such_column = 1", DBAL_EUNDEFINED, "42703");
    EXPECT_MISTAKE("INSERT INTO conf_m(no_such_column) VALUES (1)", DBAL_EUNDEFINED, "42703");
    EXPECT_MISTAKE("SELECT conf_no_such_function(1)", DBAL_EUNDEFINED, "42883");
    EXPECT_MISTAKE("SELECT * FROM conf_m(1)", DBAL_EUNDEFINED, "42883");
    EXPECT_MISTAKE("SELECT sum(n) OVER w FROM conf_m", DBAL_EUNDEFINED, "42704");
    EXPECT_MISTAKE("SELECT * FROM conf_m a LEFT JOIN conf_m b ON a.id = c.id JOIN conf_m c ON true",
                   DBAL_EUNDEFINED, "42P01");
    /* an output name where PostgreSQL does not see it */
    EXPECT_MISTAKE("SELECT sum(n) AS s FROM conf_m ORDER BY sum(s)", DBAL_EUNDEFINED, "42703");
    EXPECT_MISTAKE("SELECT id FROM conf_m UNION SELECT id FROM conf_m ORDER BY n", DBAL_EUNDEFINED, "42703");
    /* a parameter where none may be */
    EXPECT_RC(f->s, dbal_exec(f->s, "CREATE VIEW conf_mv2 AS SELECT ? AS a", DBAL_ARGS(dbal_int64(1)), NULL),
              DBAL_EUNDEFINED);
    EXPECT_ERR(f->s, DBAL_EUNDEFINED, "42P02");
    check_session_recovers(f);
    /* values */
    EXPECT_MISTAKE("SELECT abs(-9223372036854775807 - 1)", DBAL_ERANGE, "22003");
    EXPECT_MISTAKE("SELECT 'a' LIKE 'a' ESCAPE 'ab'", DBAL_EDATA, "22025");
    EXPECT_MISTAKE("SELECT ntile(0) OVER () FROM conf_m", DBAL_EDATA, "22014");
    EXPECT_MISTAKE("SELECT nth_value(n, 0) OVER () FROM conf_m", DBAL_EDATA, "22016");
    EXPECT_MISTAKE("SELECT sum(n) OVER (ROWS -1 PRECEDING) FROM conf_m", DBAL_EDATA, "22013");
    /* width and shape */
    EXPECT_MISTAKE("SELECT 1 IN (SELECT id, n FROM conf_m)", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("INSERT INTO conf_m(id) VALUES (1, 2)", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("INSERT INTO conf_m VALUES (1, 2, 3)", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("UPDATE conf_m SET (id, n) = (1, 2, 3)", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("VALUES (1), (1, 2)", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("SELECT (1, 2) IN ((1, 2), (1, 2, 3))", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("SELECT id FROM conf_m UNION SELECT id, n FROM conf_m", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("SELECT *", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("SELECT * FROM conf_m NATURAL JOIN conf_mv ON true", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("DELETE FROM conf_m ORDER BY id", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("WITH x(a, b) AS (SELECT 1) SELECT * FROM x", DBAL_ERROR, "42P10");
    EXPECT_MISTAKE("SELECT id FROM conf_m ORDER BY 5", DBAL_ERROR, "42P10");
    EXPECT_MISTAKE("SELECT id FROM conf_m GROUP BY 5", DBAL_ERROR, "42P10");
    EXPECT_MISTAKE("INSERT INTO conf_m VALUES (1, 1) ON CONFLICT (n) DO NOTHING", DBAL_ERROR, "42P10");
    EXPECT_MISTAKE("SELECT id FROM conf_m a, conf_m b", DBAL_ERROR, "42702");
    EXPECT_MISTAKE("WITH a AS (SELECT 1), a AS (SELECT 2) SELECT 1", DBAL_ERROR, "42712");
    EXPECT_MISTAKE("UPDATE conf_m SET n = 1 FROM conf_m", DBAL_ERROR, "42712");
    /* aggregates, windows, recursion */
    EXPECT_MISTAKE("SELECT id FROM conf_m WHERE count(*) > 1", DBAL_ERROR, "42803");
    EXPECT_MISTAKE("SELECT id FROM conf_m GROUP BY sum(n)", DBAL_ERROR, "42803");
    EXPECT_MISTAKE("SELECT id FROM conf_m WHERE row_number() OVER () > 1", DBAL_ERROR, "42P20");
    EXPECT_MISTAKE("SELECT sum(n) OVER (RANGE 1 PRECEDING) FROM conf_m", DBAL_ERROR, "42P20");
    EXPECT_MISTAKE("SELECT sum(n) OVER (w ORDER BY id) FROM conf_m WINDOW w AS (ORDER BY n)", DBAL_ERROR,
                   "42P20");
    EXPECT_MISTAKE("SELECT abs(n) OVER () FROM conf_m", DBAL_ERROR, "42809");
    EXPECT_MISTAKE("SELECT abs(n) FILTER (WHERE n > 0) FROM conf_m", DBAL_ERROR, "42809");
    EXPECT_MISTAKE("SELECT count(DISTINCT n) OVER () FROM conf_m", DBAL_EUNSUPPORTED, "0A000");
    EXPECT_MISTAKE("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT max(x) + 1 FROM r WHERE x < 3) "
                   "SELECT * FROM r",
                   DBAL_ERROR, "42P19");
    EXPECT_MISTAKE("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT r.x FROM r, r AS r2) SELECT * FROM r",
                   DBAL_ERROR, "42P19");
    /* the wrong kind of object */
    EXPECT_MISTAKE("DROP VIEW conf_m", DBAL_ERROR, "42809");
    EXPECT_MISTAKE("DROP TABLE conf_mv", DBAL_ERROR, "42809");
    EXPECT_MISTAKE("CREATE INDEX conf_mv_id ON conf_mv(id)", DBAL_ERROR, "42809");
    /* a savepoint that is not there. (COMMIT with no transaction is
     * misuse through the API on every driver, tx_depth_and_misuse; as SQL
     * PostgreSQL only warns, SQLite fails with the warning's 25P01.) */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXPECT_RC(f->s, dbal_exec(f->s, "ROLLBACK TO SAVEPOINT conf_no_such_savepoint", DBAL_NOARGS, NULL),
              DBAL_ERROR);
    EXPECT_ERR(f->s, DBAL_ERROR, "3B001");
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    check_session_recovers(f);
    EXEC_OK(f->s, "DROP VIEW conf_mv", DBAL_NOARGS);

    /* definitions PostgreSQL refuses too */
    EXEC_OK(f->s, "CREATE INDEX conf_m_n ON conf_m(n)", DBAL_NOARGS);
    CREATE_TABLE(f, "conf_g", "a INTEGER, b INTEGER GENERATED ALWAYS AS (a + 1) STORED");
    DROP_TABLE(f, "conf_m2");
    /* duplicates */
    EXPECT_MISTAKE("CREATE TABLE conf_m(id INTEGER)", DBAL_ERROR, "42P07");
    EXPECT_MISTAKE("CREATE INDEX conf_m_n ON conf_m(n)", DBAL_ERROR, "42P07");
    EXPECT_MISTAKE("CREATE TABLE conf_m2(a INTEGER, a INTEGER)", DBAL_ERROR, "42701");
    EXPECT_MISTAKE("CREATE TABLE conf_m2(a INTEGER PRIMARY KEY, b INTEGER PRIMARY KEY)", DBAL_ERROR, "42P16");
    /* what a definition names */
    EXPECT_MISTAKE("CREATE TABLE conf_no_such_schema.conf_m2(a INTEGER)", DBAL_ERROR, "3F000");
    EXPECT_MISTAKE("CREATE TABLE conf_m2(a INTEGER, FOREIGN KEY(no_such_column) REFERENCES conf_m(id))",
                   DBAL_EUNDEFINED, "42703");
    EXPECT_MISTAKE("CREATE TABLE conf_m2(a INTEGER, b INTEGER, FOREIGN KEY(a, b) REFERENCES conf_m(id))",
                   DBAL_ERROR, "42830");
    /* what a definition may hold */
    EXPECT_MISTAKE("CREATE TABLE conf_m2(a INTEGER CHECK (a IN (SELECT id FROM conf_m)))", DBAL_EUNSUPPORTED,
                   "0A000");
    EXPECT_MISTAKE("CREATE TABLE conf_m2(a INTEGER, b INTEGER DEFAULT (a))", DBAL_EUNSUPPORTED, "0A000");
    EXPECT_MISTAKE("CREATE TABLE conf_m2(a INTEGER, b INTEGER DEFAULT 1 GENERATED ALWAYS AS (a) STORED)",
                   DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("CREATE INDEX conf_m_r ON conf_m((random()))", DBAL_ERROR, "42P17");
    /* generated columns written to, a NOT NULL column added to a table with
     * rows */
    EXPECT_MISTAKE("INSERT INTO conf_g(a, b) VALUES (1, 2)", DBAL_ERROR, "428C9");
    EXPECT_MISTAKE("UPDATE conf_g SET b = 1", DBAL_ERROR, "428C9");
    EXPECT_MISTAKE("ALTER TABLE conf_m ADD COLUMN z INTEGER NOT NULL", DBAL_ENOTNULL, "23502");
    DROP_TABLE(f, "conf_g");
}
