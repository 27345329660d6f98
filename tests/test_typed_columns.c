/*
 * test_typed_columns.c - the typed column slots (driver ABI 5: col_int64,
 * col_double, col_text) give what the general path gives.
 *
 * Each in-tree driver, linked in, is registered three times under other
 * names: "five", its own table with counters around col_value and the
 * typed slots; "four", the same table claiming ABI version 4, and "short",
 * version 5 with a size that ends before the typed slots. In the last two
 * the typed slots are traps: the core must not call a slot the table's
 * version or size does not have, and reads every value through col_value,
 * as it reads an older driver's. Every getter on every value of a table
 * of many types must then give the same answer through all of them: the
 * same value, the same code and the same error (code, SQLSTATE,
 * message). On SQLite the asynchronous API's buffered rows, which have
 * typed reads of their own, are compared too. PostgreSQL runs when
 * DBAL_TEST_PG_URL is set, in binary rows and in text rows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_helpers.h"

#include <dbal.h>
#include <dbal/driver.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(sqlite)(const dbal_host *host);
#ifdef HAVE_POSTGRESQL
DBAL_API const dbal_driver *DBAL_DRIVER_ENTRY(postgresql)(const dbal_host *host);
#endif

/* ---- the driver under test, seen three ways ---- */

static const dbal_driver *real; /* the driver the running test reads */
static struct {
    int values, typed, typed_ok, trapped;
} counts;

static void counted_value(dbal_driver_rows *r, int col, dbal_value *out)
{
    counts.values++;
    real->col_value(r, col, out);
}

static int counted(int rc)
{
    counts.typed++;
    counts.typed_ok += rc == DBAL_OK;
    return rc;
}

static int counted_int64(dbal_driver_rows *r, int col, int64_t *out)
{
    return counted(real->col_int64(r, col, out));
}

static int counted_double(dbal_driver_rows *r, int col, double *out)
{
    return counted(real->col_double(r, col, out));
}

static int counted_text(dbal_driver_rows *r, int col, const char **out, size_t *len)
{
    return counted(real->col_text(r, col, out, len));
}

/* A slot the core must never call: the table does not have it. */
static int trap_int64(dbal_driver_rows *r, int col, int64_t *out)
{
    (void)r, (void)col, (void)out;
    counts.trapped++;
    return DBAL_ETYPE;
}

static int trap_double(dbal_driver_rows *r, int col, double *out)
{
    (void)r, (void)col, (void)out;
    counts.trapped++;
    return DBAL_ETYPE;
}

static int trap_text(dbal_driver_rows *r, int col, const char **out, size_t *len)
{
    (void)r, (void)col, (void)out, (void)len;
    counts.trapped++;
    return DBAL_ETYPE;
}

enum { FIVE, FOUR, SHORT, NVIEWS };
static const char *const view_names[NVIEWS] = {"five", "four", "short"};
static const dbal_driver *reals[2]; /* [0] SQLite's table, [1] PostgreSQL's */
static dbal_driver tables[2][NVIEWS];
static char names[2][NVIEWS][32];

/* One view of a real driver's table. */
static const dbal_driver *view(int drv, int v, const dbal_driver *d)
{
    if (!d)
        return NULL;
    dbal_driver *t = &tables[drv][v];
    reals[drv] = d;
    *t = *d;
    t->name = names[drv][v];
    t->col_value = counted_value;
    if (v == FIVE) {
        t->col_int64 = counted_int64;
        t->col_double = counted_double;
        t->col_text = counted_text;
        return t;
    }
    t->col_int64 = trap_int64;
    t->col_double = trap_double;
    t->col_text = trap_text;
    if (v == FOUR)
        t->abi_version = 4;
    else
        t->size = offsetof(dbal_driver, col_int64);
    return t;
}

#define ENTRY(drv, v, real_entry)                                   \
    static const dbal_driver *entry_##drv##_##v(const dbal_host *h) \
    {                                                               \
        return view(drv, v, real_entry(h));                         \
    }
ENTRY(0, FIVE, DBAL_DRIVER_ENTRY(sqlite))
ENTRY(0, FOUR, DBAL_DRIVER_ENTRY(sqlite))
ENTRY(0, SHORT, DBAL_DRIVER_ENTRY(sqlite))
#ifdef HAVE_POSTGRESQL
ENTRY(1, FIVE, DBAL_DRIVER_ENTRY(postgresql))
ENTRY(1, FOUR, DBAL_DRIVER_ENTRY(postgresql))
ENTRY(1, SHORT, DBAL_DRIVER_ENTRY(postgresql))
#endif

static int register_views(void **state)
{
    (void)state;
    dbal_driver_entry_fn entries[2][NVIEWS] = {{entry_0_FIVE, entry_0_FOUR, entry_0_SHORT},
#ifdef HAVE_POSTGRESQL
                                               {entry_1_FIVE, entry_1_FOUR, entry_1_SHORT}
#endif
    };
    for (int drv = 0; drv < 2; drv++)
        for (int v = 0; v < NVIEWS && entries[drv][v]; v++) {
            dbal_error err;
            snprintf(names[drv][v], sizeof names[drv][v], "%s%s", drv ? "pg" : "sqlite", view_names[v]);
            if (dbal_register_driver(names[drv][v], entries[drv][v], &err) != DBAL_OK) {
                fprintf(stderr, "registering %s: %s\n", names[drv][v], err.message);
                return -1;
            }
        }
    return 0;
}

/* ---- what every getter says of one value ---- */

static void put(char *out, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    if (n < cap)
        vsnprintf(out + n, cap - n, fmt, ap);
    va_end(ap);
}

static void put_error(char *out, size_t cap, int rc, const dbal_error *e)
{
    if (rc == DBAL_OK)
        return;
    put(out, cap, "[%s %s %s '%s']", dbal_code_name(rc), dbal_code_name(e->code), e->sqlstate, e->message);
}

static void put_bytes(char *out, size_t cap, const char *p, size_t len)
{
    put(out, cap, "%zu:", len);
    for (size_t i = 0; p && i < len && i < 48; i++)
        put(out, cap,
            (unsigned char)p[i] >= 0x20 && p[i] != '\\' && (unsigned char)p[i] < 0x7f ? "%c" : "\\%02x",
            (unsigned char)p[i]);
}

/* Every getter, in one fixed order, into out. The error of a failed call
 * is read from e, where the cursor's errors go. */
static void read_cell(dbal_rows *r, const dbal_error *e, int col, char *out, size_t cap)
{
    int64_t i = -1;
    double d = -1;
    int b = -1;
    const char *t = NULL;
    size_t len = 0;
    int rc;
    out[0] = '\0';
    put(out, cap, "type=%d null=%d", dbal_col_type(r, col), dbal_col_is_null(r, col));

    rc = dbal_col_get_int64(r, col, &i);
    put(out, cap, " get_int64=%s:%" PRId64, dbal_code_name(rc), rc ? (int64_t)-1 : i);
    put_error(out, cap, rc, e);
    put(out, cap, " int64=%" PRId64, dbal_col_int64(r, col));

    rc = dbal_col_get_double(r, col, &d);
    put(out, cap, " get_double=%s:%a", dbal_code_name(rc), rc ? -1.0 : d);
    put_error(out, cap, rc, e);
    put(out, cap, " double=%a", dbal_col_double(r, col));

    rc = dbal_col_get_text(r, col, &t, &len);
    put(out, cap, " get_text=%s:", dbal_code_name(rc));
    put_bytes(out, cap, rc ? NULL : t, rc ? 0 : len);
    put_error(out, cap, rc, e);
    rc = dbal_col_get_text(r, col, &t, NULL); /* len is optional */
    put(out, cap, " get_text_nolen=%s:%s", dbal_code_name(rc), rc ? "-" : t);
    t = dbal_col_text(r, col);
    put(out, cap, " text=%s", t ? t : "(null)");
    t = dbal_col_blob(r, col, &len);
    put(out, cap, " blob=%s:", t ? "p" : "(null)");
    put_bytes(out, cap, t, len);
    put(out, cap, " bytes=%zu", dbal_col_bytes(r, col));

    rc = dbal_col_get_bool(r, col, &b);
    put(out, cap, " get_bool=%s:%d", dbal_code_name(rc), rc ? -1 : b);
    put_error(out, cap, rc, e);
    rc = dbal_col_get_timestamp(r, col, &i);
    put(out, cap, " get_timestamp=%s:%" PRId64, dbal_code_name(rc), rc ? (int64_t)-1 : i);
    put_error(out, cap, rc, e);
}

#define MAX_ROWS 40
#define MAX_COLS 20
#define CELL 1600
typedef struct grid {
    int nrows, ncols;
    char cell[MAX_ROWS][MAX_COLS][CELL];
} grid;

static void read_grid(dbal_rows *r, const dbal_error *e, grid *g)
{
    g->ncols = dbal_col_count(r);
    assert_true(g->ncols <= MAX_COLS);
    g->nrows = 0;
    int rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        assert_true(g->nrows < MAX_ROWS);
        for (int col = 0; col < g->ncols; col++)
            read_cell(r, e, col, g->cell[g->nrows][col], CELL);
        g->nrows++;
    }
    assert_int_equal(rc, DBAL_DONE);
}

static void query_grid(dbal_engine *e, const char *sql, grid *g)
{
    dbal_session *s = test_session(e);
    dbal_rows *r;
    OK(s, dbal_query(s, sql, DBAL_NOARGS, &r));
    read_grid(r, dbal_session_error(s), g);
    dbal_rows_close(r);
    dbal_session_close(s);
}

static void assert_same(const grid *want, const grid *got, const char *what)
{
    assert_int_equal(got->nrows, want->nrows);
    assert_int_equal(got->ncols, want->ncols);
    for (int row = 0; row < want->nrows; row++)
        for (int col = 0; col < want->ncols; col++)
            if (strcmp(want->cell[row][col], got->cell[row][col]) != 0)
                fail_msg("%s, row %d, column %d:\n  typed:   %s\n  general: %s", what, row, col,
                         want->cell[row][col], got->cell[row][col]);
}

static grid grids[NVIEWS + 1]; /* one per view, and the buffered rows */

/* The query through each view of the driver: the same answers, typed
 * slots used by the first only. */
static void compare_views(dbal_engine *const engines[NVIEWS], const char *sql, const char *what)
{
    char label[128];
    for (int v = 0; v < NVIEWS; v++) {
        memset(&counts, 0, sizeof counts);
        query_grid(engines[v], sql, &grids[v]);
        assert_int_equal(counts.trapped, 0);
        if (v == FIVE) {
            assert_true(counts.typed_ok > 0); /* the typed path answered ... */
            assert_true(counts.values > 0);   /* ... and the general one, for the rest */
        } else {
            assert_int_equal(counts.typed, 0);
        }
    }
    for (int v = FOUR; v < NVIEWS; v++) {
        snprintf(label, sizeof label, "%s, the %s view", what, view_names[v]);
        assert_same(&grids[FIVE], &grids[v], label);
    }
    assert_true(grids[FIVE].nrows > 0);
}

/* One typed read of a plain integer: no dbal_value made. */
static void typed_read_skips_col_value(dbal_engine *e, const char *sql)
{
    dbal_session *s = test_session(e);
    dbal_rows *r;
    OK(s, dbal_query(s, sql, DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    memset(&counts, 0, sizeof counts);
    assert_int_equal(dbal_col_int64(r, 0), 42);
    assert_true(dbal_col_double(r, 1) == 2.5);
    assert_string_equal(dbal_col_text(r, 2), "abc");
    assert_int_equal(counts.values, 0);
    assert_int_equal(counts.typed_ok, 3);
    dbal_rows_close(r);
    dbal_session_close(s);
}

static dbal_engine *open_view(int drv, int v, const char *scheme, const char *rest)
{
    char url[512];
    snprintf(url, sizeof url, "%s+%s%.400s", scheme, names[drv][v], rest);
    return test_engine_opts(url, "pool_size=2");
}

/* ---- SQLite ---- */

static const char sqlite_columns[] =
    "CREATE TABLE typed (k INTEGER PRIMARY KEY, x, i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC(10, 2), "
    "bo BOOLEAN, ts TIMESTAMP, d DATE, j JSON, u UUID)";
#define SQLITE_VALUE_COLS 11

static void sqlite_fill(dbal_session *s)
{
    OK(s, dbal_exec(s, sqlite_columns, DBAL_NOARGS, NULL));
    const dbal_value values[] = {
        dbal_null(),
        dbal_int64(0),
        dbal_int64(1),
        dbal_int64(42),
        dbal_int64(-7),
        dbal_int64(INT64_MAX),
        dbal_int64(INT64_MIN),
        dbal_double(1.5),
        dbal_double(2.0),
        dbal_double(-0.0),
        dbal_double(0.1),
        dbal_double(1e300),
        dbal_double(9.3e18),
        dbal_text("42"),
        dbal_text(" 42"),
        dbal_text("1.5"),
        dbal_text("abc"),
        dbal_text(""),
        dbal_text("t"),
        dbal_text("off"),
        dbal_text("2024-02-29 12:34:56"),
        dbal_text("2024-02-29"),
        dbal_text("9223372036854775808"),
        dbal_text("1e5"),
        dbal_text("NaN"),
        dbal_text("{\"a\": 1}"),
        dbal_text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        dbal_blob("\x01\x02", 2),
        dbal_blob("", 0),
        dbal_blob("42", 2),
        dbal_bool(1),
        dbal_bool(0),
    };
    OK(s, dbal_begin(s));
    for (size_t k = 0; k < sizeof values / sizeof *values; k++) {
        dbal_value row[SQLITE_VALUE_COLS + 1];
        row[0] = dbal_int64((int64_t)k);
        for (int c = 1; c <= SQLITE_VALUE_COLS; c++)
            row[c] = values[k];
        OK(s, dbal_exec(s, "INSERT INTO typed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        dbal_params_array(row, SQLITE_VALUE_COLS + 1), NULL));
    }
    OK(s, dbal_commit(s));
}

static void on_rows(void *ud, const dbal_async_result *res)
{
    assert_int_equal(res->code, DBAL_OK);
    read_grid(res->rows, res->error, ud);
}

static void sqlite_typed_agrees(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    assert_non_null(dir);
    char rest[300];
    snprintf(rest, sizeof rest, "://%s/typed.db", dir);
    dbal_engine *engines[NVIEWS];
    for (int v = 0; v < NVIEWS; v++)
        engines[v] = open_view(0, v, "sqlite", rest);
    assert_non_null(real = reals[0]);
    dbal_session *s = test_session(engines[FIVE]);
    sqlite_fill(s);
    dbal_session_close(s);

    compare_views(engines, "SELECT * FROM typed ORDER BY k", "SQLite");
    /* Values no column declares. */
    compare_views(engines, "SELECT 42, 2.5, 'abc', NULL, x'00ff', 1 = 1, '7', 7.0", "SQLite, expressions");
    typed_read_skips_col_value(engines[FIVE], "SELECT 42, 2.5, 'abc'");

    /* The worker's buffered rows (SQLite has no asynchronous slots). */
    dbal_async *a;
    dbal_async_session *as;
    assert_int_equal(dbal_async_open(engines[FOUR], &a, NULL), DBAL_OK);
    assert_int_equal(dbal_async_session_open(a, &as, NULL), DBAL_OK);
    memset(&grids[NVIEWS], 0, sizeof grids[NVIEWS]);
    assert_int_equal(dbal_async_query(as, "SELECT * FROM typed ORDER BY k", DBAL_NOARGS, on_rows,
                                      &grids[NVIEWS], NULL),
                     DBAL_OK);
    dbal_async_session_close(as);
    test_async_run(a, 30);
    dbal_async_close(a);
    query_grid(engines[FIVE], "SELECT * FROM typed ORDER BY k", &grids[FIVE]);
    assert_same(&grids[FIVE], &grids[NVIEWS], "SQLite, the asynchronous API's buffered rows");

    for (int v = 0; v < NVIEWS; v++)
        assert_int_equal(dbal_engine_close(engines[v]), DBAL_OK);
    test_rmdir(dir);
}

/* ---- PostgreSQL ---- */

#ifdef HAVE_POSTGRESQL
/* Every column type the driver reads in binary, and float4, which it
 * reads only as text: a statement with it has text rows. */
static const char pg_table[] =
    "CREATE TABLE dbal_typed_cols (k int4, i2 int2, i4 int4, i8 int8, f8 float8, n numeric(30, 2), t text, "
    "vc varchar(40), bp char(4), bo bool, by bytea, js json, jb jsonb, d date, ts timestamptz, u uuid, f4 "
    "float4)";
static const char pg_rows[] =
    "INSERT INTO dbal_typed_cols VALUES "
    "(0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
    "(1, 1, 2, 42, 2.5, 19.00, '42', 'abc', 'ab', true, '\\x0102', '{\"a\": 1}', '{\"a\": 1}', '2024-02-29', "
    "'2024-02-29 12:00:00+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1.5), "
    "(2, -32768, -2147483648, -9223372036854775808, 'NaN', 19.50, '1.5', '', 't', false, '\\x', '\"s\"', "
    "'[]', 'infinity', '-infinity', '00000000-0000-0000-0000-000000000000', '-Infinity'), "
    "(3, 0, 0, 9223372036854775807, 1e300, -0.5, 't', '9223372036854775808', '0', true, '\\x3432', '7', "
    "'7', '1970-01-01', '1970-01-01 00:00:00+00', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 0), "
    "(4, 7, 7, 7, -0.0, 1234567890123456789012.25, ' 42', 'NaN', 'off', false, '\\x00', 'null', 'null', "
    "'0001-01-01', '2000-01-01 00:00:00+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 3.25), "
    /* Text the length of a binary value: 2, 4 and 8 bytes, a float8's 8. */
    "(5, 10, 1234, 12345678, 1234.125, 12345.25, '12345678', '1234', '12', true, '\\x3132333435363738', "
    "'12345678', '1234', '2024-01-01', '2024-01-01 00:00:00+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
    "1234.5)";
static const char pg_binary_query[] = "SELECT k, i2, i4, i8, f8, n, t, vc, bp, bo, by, js, jb, d, ts, u "
                                      "FROM dbal_typed_cols ORDER BY k";
static const char pg_text_query[] = "SELECT * FROM dbal_typed_cols ORDER BY k";
#endif

static void postgresql_typed_agrees(void **state)
{
    (void)state;
#ifdef HAVE_POSTGRESQL
    const char *url = test_pg_url();
    const char *rest = url ? strstr(url, "://") : NULL;
    if (!rest)
        skip();
    dbal_engine *engines[NVIEWS];
    for (int v = 0; v < NVIEWS; v++)
        engines[v] = open_view(1, v, "postgresql", rest);
    assert_non_null(real = reals[1]);
    dbal_session *s = test_session(engines[FIVE]);
    OK(s, dbal_exec(s, "DROP TABLE IF EXISTS dbal_typed_cols", DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, pg_table, DBAL_NOARGS, NULL));
    OK(s, dbal_exec(s, pg_rows, DBAL_NOARGS, NULL));
    compare_views(engines, pg_binary_query, "PostgreSQL, binary rows");
    compare_views(engines, pg_text_query, "PostgreSQL, text rows");
    compare_views(engines, "SELECT 42::int8, 2.5::float8, 'abc'::text, NULL::int4, 1.5::float4",
                  "PostgreSQL, expressions");
    typed_read_skips_col_value(engines[FIVE], "SELECT 42::int8, 2.5::float8, 'abc'::text");
    OK(s, dbal_exec(s, "DROP TABLE dbal_typed_cols", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    for (int v = 0; v < NVIEWS; v++)
        assert_int_equal(dbal_engine_close(engines[v]), DBAL_OK);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sqlite_typed_agrees),
        cmocka_unit_test(postgresql_typed_agrees),
    };
    return cmocka_run_group_tests(tests, register_views, NULL);
}
