#include <dbal.h>
#include <stdio.h>

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
        return 1;
    }
    dbal_exec(s,
              "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, "
              "name TEXT UNIQUE NOT NULL, price DOUBLE PRECISION)",
              DBAL_NOARGS, NULL);

    dbal_begin(s);
    int rc = dbal_exec(s, "INSERT INTO items(id, name, price) VALUES (?, ?, ?)",
                       DBAL_ARGS(dbal_int64(1), dbal_text("widget"), dbal_double(9.5)),
                       NULL /* OUT, optional: rows affected */);
    if (rc == DBAL_EUNIQUE) { /* answer 409: same code and SQLSTATE on both databases */
        printf("already there: %s\n", dbal_session_error(s)->sqlstate);
        dbal_rollback(s);
    } else if (rc != DBAL_OK) {
        fprintf(stderr, "%s\n", dbal_session_error(s)->message);
        dbal_rollback(s);
    } else {
        dbal_commit(s);
    }

    dbal_rows *r;
    if (dbal_query(s, "SELECT id, name FROM items WHERE price < ?", DBAL_ARGS(dbal_double(10)), &r) ==
        DBAL_OK) {
        while (dbal_rows_next(r) == DBAL_ROW)
            printf("%lld %s\n", (long long)dbal_col_int64(r, 0), dbal_col_text(r, 1));
        dbal_rows_close(r);
    }
    dbal_session_close(s);
    dbal_engine_close(db);
    return 0;
}
