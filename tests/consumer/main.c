/* Built by tests/consumer/CMakeLists.txt against an installed dbal. */
#include <dbal.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    dbal_engine *db;
    dbal_session *s;
    dbal_rows *r;
    dbal_error err;
    if (dbal_engine_open_env(&db, "DATABASE_URL", "sqlite::memory:", &err) != DBAL_OK ||
        dbal_session_open(db, &s, &err) != DBAL_OK) {
        fprintf(stderr, "consumer: %s: %s\n", dbal_code_name(err.code), err.message);
        return 1;
    }
    int rc = dbal_exec(s, "CREATE TABLE t(n BIGINT, label TEXT)", DBAL_NOARGS, NULL);
    if (rc == DBAL_OK)
        rc = dbal_exec(s, "INSERT INTO t VALUES (?, ?)", DBAL_ARGS(dbal_int64(42), dbal_text("from cmake")),
                       NULL);
    if (rc == DBAL_OK)
        rc = dbal_query(s, "SELECT n, label FROM t", DBAL_NOARGS, &r);
    if (rc != DBAL_OK) {
        fprintf(stderr, "consumer: %s\n", dbal_session_error(s)->message);
        return 1;
    }
    while (dbal_rows_next(r) == DBAL_ROW)
        printf("consumer: %lld %s\n", (long long)dbal_col_int64(r, 0), dbal_col_text(r, 1));
    dbal_rows_close(r);
    printf("package %s, header %s, library %s, driver %s\n", CONSUMER_PACKAGE_VERSION, DBAL_VERSION,
           dbal_version(), dbal_engine_driver(db));
    dbal_session_close(s);
    dbal_engine_close(db);
    return strcmp(CONSUMER_PACKAGE_VERSION, dbal_version()) == 0 ? 0 : 1;
}
