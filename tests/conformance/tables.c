/*
 * tables.c - the tables several areas of the conformance suite share:
 * conf_values (one column per value type), conf_tx (ids, for transactions)
 * and conf_auto (a generated id).
 */
#include "cases.h"
#include "fixture.h"

void make_values_table(fixture *f)
{
    CREATE_TABLE(f, "conf_values",
                 "id INTEGER PRIMARY KEY, b BOOLEAN, i BIGINT, d DOUBLE PRECISION, t TEXT, bl %s",
                 ddl(CAP_DDL_BLOB));
}

void put_at(fixture *f, int id, const char *col, dbal_value v, const char *file, int line)
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO conf_values(id, %s) VALUES (?, ?)", col);
    int64_t n = -7;
    int rc = dbal_exec(f->s, sql, DBAL_ARGS(dbal_int64(id), v), &n);
    if (rc != DBAL_OK) {
        print_error("%s:%d: insert of a DBAL_TYPE_%s into %s returned %s\n", file, line, type_name(v.type),
                    col, dbal_code_name(rc));
        describe_session(f->s);
        _fail(file, line);
    }
    expect_i64_at(n, 1, "rows affected by the insert", file, line);
}

/* Selects column `col` of row `id`; the cursor is on that row. */
dbal_rows *get_at(fixture *f, int id, const char *col, const char *file, int line)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM conf_values WHERE id = ?", col);
    dbal_rows *r = query_at(f, f->s, sql, DBAL_ARGS(dbal_int64(id)), file, line);
    expect_i64_at(dbal_col_count(r), 1, "dbal_col_count", file, line);
    next_at(f, r, DBAL_ROW, file, line);
    return r;
}

void end_at(fixture *f, dbal_rows *r, const char *file, int line)
{
    next_at(f, r, DBAL_DONE, file, line);
    close_rows(f, r);
}

/* Every getter on a NULL value. */
void check_null_value(fixture *f, dbal_rows *r)
{
    int64_t i = 5;
    double d = 5;
    int b = 5;
    const char *t = "x";
    size_t len = 5;
    CHECK(dbal_col_is_null(r, 0), "dbal_col_is_null is %d", dbal_col_is_null(r, 0));
    EXPECT_TYPE(dbal_col_type(r, 0), DBAL_TYPE_NULL);
    CHECK(dbal_col_text(r, 0) == NULL, "dbal_col_text of NULL is not NULL");
    CHECK(dbal_col_blob(r, 0, &len) == NULL, "dbal_col_blob of NULL is not NULL");
    EXPECT_I64(dbal_col_bytes(r, 0), 0);
    EXPECT_I64(dbal_col_int64(r, 0), 0);
    CHECK(dbal_col_double(r, 0) == 0.0, "dbal_col_double of NULL is %g", dbal_col_double(r, 0));
    EXPECT_I64(dbal_col_bool(r, 0), 0);
    EXPECT_RC(f->s, dbal_col_get_int64(r, 0, &i), DBAL_ENULL);
    EXPECT_RC(f->s, dbal_col_get_double(r, 0, &d), DBAL_ENULL);
    EXPECT_RC(f->s, dbal_col_get_bool(r, 0, &b), DBAL_ENULL);
    EXPECT_RC(f->s, dbal_col_get_text(r, 0, &t, &len), DBAL_ENULL);
}

void make_tx_table(fixture *f)
{
    CREATE_TABLE(f, "conf_tx", "id INTEGER PRIMARY KEY, v TEXT");
}

void insert_tx_at(fixture *f, dbal_session *s, int id, const char *file, int line)
{
    int64_t n = -7;
    int rc = dbal_exec(s, "INSERT INTO conf_tx(id, v) VALUES (?, ?)",
                       DBAL_ARGS(dbal_int64(id), dbal_text("x")), &n);
    if (rc != DBAL_OK) {
        print_error("%s:%d: insert of id %d returned %s\n", file, line, id, dbal_code_name(rc));
        describe_session(s);
        _fail(file, line);
    }
    expect_i64_at(n, 1, "rows affected", file, line);
}

void ids_are_at(fixture *f, dbal_session *s, const char *want, const char *file, int line)
{
    char got[256] = "";
    dbal_rows *r = query_at(f, s, "SELECT id FROM conf_tx ORDER BY id", DBAL_NOARGS, file, line);
    int rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        size_t len = strlen(got);
        snprintf(got + len, sizeof got - len, "%s%" PRId64, len ? "," : "", dbal_col_int64(r, 0));
    }
    expect_rc_at(s, rc, DBAL_DONE, "dbal_rows_next", file, line);
    close_rows(f, r);
    expect_str_at(got, want, "ids in conf_tx", file, line);
}

void make_auto_table(fixture *f)
{
    CREATE_TABLE(f, "conf_auto", "id %s, name TEXT NOT NULL", ddl(CAP_DDL_AUTO_ID));
}
