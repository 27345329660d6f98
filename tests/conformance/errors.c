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
    CREATE_TABLE(f, "conf_m", "id INTEGER PRIMARY KEY, n INTEGER");
    EXPECT_MISTAKE("DROP VIEW conf_no_such_view", DBAL_EUNDEFINED, "42P01");
    EXPECT_MISTAKE("SELECT conf_no_such_function(1)", DBAL_EUNDEFINED, "42883");
    EXPECT_MISTAKE("SELECT abs(-9223372036854775807 - 1)", DBAL_ERANGE, "22003");
    EXPECT_MISTAKE("SELECT 1 IN (SELECT id, n FROM conf_m)", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("INSERT INTO conf_m(id) VALUES (1, 2)", DBAL_ESYNTAX, "42601");
    EXPECT_MISTAKE("SELECT id FROM conf_m ORDER BY 5", DBAL_ERROR, "42P10");
    EXPECT_MISTAKE("SELECT id FROM conf_m a, conf_m b", DBAL_ERROR, "42702");
    EXPECT_MISTAKE("SELECT id FROM conf_m WHERE count(*) > 1", DBAL_ERROR, "42803");
    EXPECT_MISTAKE("SELECT id FROM conf_m UNION SELECT id, n FROM conf_m", DBAL_ESYNTAX, "42601");
    DROP_TABLE(f, "conf_m2");
    EXPECT_MISTAKE("CREATE TABLE conf_m2(a INTEGER, a INTEGER)", DBAL_ERROR, "42701");
    EXPECT_MISTAKE("CREATE TABLE conf_m(id INTEGER)", DBAL_ERROR, "42P07");
}
