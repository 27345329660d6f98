// dbal.h must compile as C++ and give C++ callers DBAL_ARGS too.
#include <dbal.h>
#include <dbal/driver.h>

#include <cstdio>

int main()
{
    dbal_engine *db = nullptr;
    dbal_error err;
    if (dbal_engine_open(&db, "sqlite::memory:", &err) != DBAL_OK) {
        std::fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    dbal_session *s = nullptr;
    dbal_session_open(db, &s, &err);
    dbal_exec(s, "CREATE TABLE t(a INTEGER, b TEXT, c BLOB)", DBAL_NOARGS, nullptr);
    int rc = dbal_exec(s, "INSERT INTO t VALUES (?, ?, ?)",
                       DBAL_ARGS(dbal_int64(42), dbal_text("from c++"), dbal_blob("\0x", 2)), nullptr);
    dbal_rows *r = nullptr;
    if (rc == DBAL_OK && dbal_query(s, "SELECT a, b, length(c) FROM t", DBAL_NOARGS, &r) == DBAL_OK &&
        dbal_rows_next(r) == DBAL_ROW)
        std::printf("c++: %lld %s %lld\n", (long long)dbal_col_int64(r, 0), dbal_col_text(r, 1),
                    (long long)dbal_col_int64(r, 2));
    dbal_rows_close(r);
    dbal_session_close(s);
    dbal_engine_options o;
    dbal_engine_options_init(&o);
    o.replicas = nullptr;
    if (dbal_session_open_with(db, &s, DBAL_SESSION_READ_ONLY, nullptr, &err) == DBAL_OK &&
        dbal_exec(s, "DELETE FROM t", DBAL_NOARGS, nullptr) != DBAL_EREADONLY)
        rc = 1;
    dbal_session_close(s);
    dbal_engine_close(db);
    return rc;
}
