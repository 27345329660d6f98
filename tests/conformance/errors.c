/*
 * errors.c - integrity, syntax and undefined-object errors: the same code
 * and SQLSTATE on every driver, the constraint's name and the native code,
 * and a session that goes on after each.
 */
#include "fixture.h"

/*
 * CONSTRAINT_NAMES (DIFFERENCES #4): what dbal_error.constraint holds.
 * PostgreSQL names the constraint for UNIQUE, FOREIGN KEY and CHECK.
 * SQLite names only a CHECK constraint (in its message); for the others the
 * driver leaves the field "" rather than pass table.column off as a name.
 */
static const char *sqlite_constraint_name(const char *pg_name, int is_check)
{
    return is_check ? pg_name : "";
}

static void expect_constraint_at(fixture *f, const char *pg_name, int is_check, const char *file,
                                 int line)
{
    const char *want = f->is_pg ? pg_name : sqlite_constraint_name(pg_name, is_check);
    expect_str_at(dbal_session_error(f->s)->constraint, want, "dbal_error.constraint", file,
                  line);
}
#define EXPECT_CONSTRAINT(pg_name, is_check) \
    expect_constraint_at(f, (pg_name), (is_check), __FILE__, __LINE__)

/* dbal_error.native_code: SQLite's extended result code; PostgreSQL has none (0). */
#define SQLITE_CONSTRAINT_CHECK_CODE 275
#define SQLITE_CONSTRAINT_FOREIGNKEY_CODE 787
#define SQLITE_CONSTRAINT_NOTNULL_CODE 1299
#define SQLITE_CONSTRAINT_PRIMARYKEY_CODE 1555
#define SQLITE_CONSTRAINT_UNIQUE_CODE 2067
static void expect_native_at(fixture *f, int sqlite_code, const char *file, int line)
{
    expect_i64_at(dbal_session_error(f->s)->native_code, f->is_pg ? 0 : sqlite_code,
                  "dbal_error.native_code", file, line);
}
#define EXPECT_NATIVE(sqlite_code) expect_native_at(f, (sqlite_code), __FILE__, __LINE__)

void integrity_unique(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_u", "id INTEGER PRIMARY KEY, email TEXT CONSTRAINT conf_u_email_key UNIQUE");
    EXEC_OK(f->s, "INSERT INTO conf_u(id, email) VALUES (1, ?)", DBAL_ARGS(dbal_text("a@x")));
    int64_t n = -7;
    EXPECT_RC(f->s,
              dbal_exec(f->s, "INSERT INTO conf_u(id, email) VALUES (2, ?)",
                        DBAL_ARGS(dbal_text("a@x")), &n),
              DBAL_EUNIQUE);
    EXPECT_ERR(f->s, DBAL_EUNIQUE, "23505");
    EXPECT_CONSTRAINT("conf_u_email_key", 0);
    EXPECT_NATIVE(SQLITE_CONSTRAINT_UNIQUE_CODE);
    check_session_recovers(f);
    /* the primary key is a unique constraint too */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_u(id, email) VALUES (1, 'b@x')", DBAL_NOARGS, NULL),
              DBAL_EUNIQUE);
    EXPECT_ERR(f->s, DBAL_EUNIQUE, "23505");
    EXPECT_NATIVE(SQLITE_CONSTRAINT_PRIMARYKEY_CODE);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_u"), 1);
}

void integrity_foreign_key(void **state)
{
    fixture *f = fix(state);
    DROP_TABLE(f, "conf_child");
    CREATE_TABLE(f, "conf_parent", "id INTEGER PRIMARY KEY");
    CREATE_TABLE(f, "conf_child",
                 "id INTEGER PRIMARY KEY, pid BIGINT CONSTRAINT conf_child_pid_fkey "
                 "REFERENCES conf_parent(id)");
    EXEC_OK(f->s, "INSERT INTO conf_parent(id) VALUES (1)", DBAL_NOARGS);
    EXEC_OK(f->s, "INSERT INTO conf_child(id, pid) VALUES (1, 1)", DBAL_NOARGS);
    /* a child without a parent */
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_child(id, pid) VALUES (2, ?)",
                              DBAL_ARGS(dbal_int64(99)), NULL),
              DBAL_EFOREIGNKEY);
    EXPECT_ERR(f->s, DBAL_EFOREIGNKEY, "23503");
    EXPECT_CONSTRAINT("conf_child_pid_fkey", 0);
    EXPECT_NATIVE(SQLITE_CONSTRAINT_FOREIGNKEY_CODE);
    check_session_recovers(f);
    /* deleting a parent that has a child */
    EXPECT_RC(f->s, dbal_exec(f->s, "DELETE FROM conf_parent WHERE id = 1", DBAL_NOARGS, NULL),
              DBAL_EFOREIGNKEY);
    EXPECT_ERR(f->s, DBAL_EFOREIGNKEY, "23503");
    EXPECT_CONSTRAINT("conf_child_pid_fkey", 0);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_child"), 1);
    EXPECT_I64(COUNT(f->s, "conf_parent"), 1);
    DROP_TABLE(f, "conf_child");
}

void integrity_not_null(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_nn", "id INTEGER PRIMARY KEY, name TEXT NOT NULL");
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_nn(id, name) VALUES (1, ?)",
                              DBAL_ARGS(dbal_null()), NULL),
              DBAL_ENOTNULL);
    EXPECT_ERR(f->s, DBAL_ENOTNULL, "23502");
    EXPECT_CONSTRAINT("", 0); /* neither database names a constraint for NOT NULL */
    EXPECT_NATIVE(SQLITE_CONSTRAINT_NOTNULL_CODE);
    check_session_recovers(f);
    EXPECT_I64(COUNT(f->s, "conf_nn"), 0);
}

void integrity_check(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_chk", "id INTEGER PRIMARY KEY, n BIGINT CONSTRAINT conf_chk_positive CHECK (n > 0)");
    EXEC_OK(f->s, "INSERT INTO conf_chk(id, n) VALUES (1, 5)", DBAL_NOARGS);
    EXPECT_RC(f->s, dbal_exec(f->s, "INSERT INTO conf_chk(id, n) VALUES (2, ?)",
                              DBAL_ARGS(dbal_int64(-5)), NULL),
              DBAL_ECHECK);
    EXPECT_ERR(f->s, DBAL_ECHECK, "23514");
    EXPECT_CONSTRAINT("conf_chk_positive", 1);
    EXPECT_NATIVE(SQLITE_CONSTRAINT_CHECK_CODE);
    check_session_recovers(f);
    int64_t n = -7;
    EXPECT_RC(f->s, dbal_exec(f->s, "UPDATE conf_chk SET n = 0 WHERE id = 1", DBAL_NOARGS, &n),
              DBAL_ECHECK);
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
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT * FROM conf_no_such_table", DBAL_NOARGS, &r),
              DBAL_EUNDEFINED);
    EXPECT_ERR(f->s, DBAL_EUNDEFINED, "42P01");
    check_session_recovers(f);
    /* an undefined column */
    CREATE_TABLE(f, "conf_cols", "id INTEGER PRIMARY KEY");
    EXPECT_RC(f->s, dbal_query(f->s, "SELECT no_such_column FROM conf_cols", DBAL_NOARGS, &r),
              DBAL_EUNDEFINED);
    EXPECT_ERR(f->s, DBAL_EUNDEFINED, "42703");
    check_session_recovers(f);
}
