/*
 * quickstart: the program a new user writes first. It reads DATABASE_URL
 * (default: an in-memory SQLite database), creates a table, inserts inside a
 * transaction, handles a unique violation by its portable code, and queries.
 * The same binary runs unchanged against PostgreSQL.
 */
#include <dbal.h>
#include <stdio.h>

static int add_item(dbal_session *s, int64_t id, const char *name, double price)
{
    dbal_begin(s);
    int rc = dbal_exec(s, "INSERT INTO items(id, name, price) VALUES (?, ?, ?)",
                       DBAL_ARGS(dbal_int64(id), dbal_text(name), dbal_double(price)), NULL);
    if (rc == DBAL_EUNIQUE) { /* an HTTP service would answer 409 here */
        printf("already there: %s (SQLSTATE %s)\n", name, dbal_session_error(s)->sqlstate);
        dbal_rollback(s);
    } else if (rc != DBAL_OK) {
        fprintf(stderr, "insert failed: %s\n", dbal_session_error(s)->message);
        dbal_rollback(s);
    } else {
        rc = dbal_commit(s);
        if (rc == DBAL_OK)
            printf("added: %s\n", name);
    }
    return rc;
}

int main(void)
{
    dbal_engine *db;
    dbal_error err;
    if (dbal_engine_open_env(&db, "DATABASE_URL", "sqlite::memory:", &err) != DBAL_OK) {
        fprintf(stderr, "cannot open database: %s\n", err.message);
        return 1;
    }
    dbal_session *s;
    if (dbal_session_open(db, &s, &err) != DBAL_OK) {
        fprintf(stderr, "%s\n", err.message);
        dbal_engine_close(db);
        return 1;
    }
    int rc = dbal_exec(s, "DROP TABLE IF EXISTS items", DBAL_NOARGS, NULL);
    if (rc == DBAL_OK)
        rc = dbal_exec(s,
                       "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, "
                       "price DOUBLE PRECISION)",
                       DBAL_NOARGS, NULL);
    if (rc != DBAL_OK) {
        fprintf(stderr, "cannot create table: %s\n", dbal_session_error(s)->message);
        dbal_session_close(s);
        dbal_engine_close(db);
        return 1;
    }

    add_item(s, 1, "widget", 9.5);
    add_item(s, 2, "gadget", 24.0);
    add_item(s, 3, "widget", 11.0); /* the same name again: a unique violation */

    dbal_rows *r;
    if (dbal_query(s, "SELECT id, name, price FROM items WHERE price < ? ORDER BY id",
                   DBAL_ARGS(dbal_double(100)), &r) == DBAL_OK) {
        while (dbal_rows_next(r) == DBAL_ROW)
            printf("%lld %s %.2f\n", (long long)dbal_col_int64(r, 0), dbal_col_text(r, 1),
                   dbal_col_double(r, 2));
        dbal_rows_close(r);
    } else {
        fprintf(stderr, "query failed: %s\n", dbal_session_error(s)->message);
    }
    dbal_session_close(s);
    dbal_engine_close(db);
    return 0;
}
