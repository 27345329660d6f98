/*
 * fixture.h - what every file of the conformance suite shares: the fixture
 * a case runs in, the checks (each a macro that passes its file and line),
 * the helpers that run SQL in the fixture, and the shared tables.
 *
 * Every helper that takes a fixture is written for the case's own `f`: the
 * macros name it, so a case reads as its SQL and its expectations.
 */
#ifndef CONF_FIXTURE_H
#define CONF_FIXTURE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, setenv, clock_gettime */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dbal.h>

#include "caps.h"

/* ---- the database under test ---- */

extern const char *g_url;    /* the URL every case opens; NULL: skip every case */
extern char g_display[1024]; /* g_url without a password, for messages */

/* ---- the fixture ---- */

#define MAX_ROWS 8
#define MAX_SESSIONS 4

typedef struct open_rows {
    dbal_rows *r;
    dbal_session *s;
} open_rows;

/* A fresh engine and session per case; cursors and extra sessions the case
 * opens through the helpers are closed at teardown, whatever happened. */
typedef struct fixture {
    dbal_engine *engine;
    dbal_session *s;                   /* the case's session */
    dbal_session *extra[MAX_SESSIONS]; /* other sessions the case opened */
    open_rows rows[MAX_ROWS];          /* cursors still open */
    char *big;                         /* a large buffer, freed at teardown */
} fixture;

/* cmocka's setup and teardown of every case. */
int setup(void **state);
int teardown(void **state);
/* The case's fixture; skips the case when there is no database to run on. */
fixture *fix(void **state);

/* ---- checks (expect.c) ---- */

/* Prints the session's error, for a failure message. */
void describe_session(dbal_session *s);
const char *type_name(dbal_type t);

void check_at(int ok, const char *what, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
void expect_rc_at(dbal_session *s, int got, int want, const char *expr, const char *file, int line);
void expect_err_at(dbal_session *s, int code, const char *sqlstate, const char *file, int line);
void expect_errcode_at(dbal_session *s, int code, const char *file, int line);
void expect_i64_at(int64_t got, int64_t want, const char *expr, const char *file, int line);
void expect_str_at(const char *got, const char *want, const char *expr, const char *file, int line);
void expect_type_at(dbal_type got, dbal_type want, const char *expr, const char *file, int line);

/* cond must hold; otherwise the printf-style message says what was found. */
#define CHECK(cond, ...) check_at(!!(cond), #cond, __FILE__, __LINE__, __VA_ARGS__)
/* The call's return code must be `want`; on a mismatch the session's error is printed. */
#define EXPECT_RC(s, call, want) expect_rc_at((s), (call), (want), #call, __FILE__, __LINE__)
/* The session's last error must be `code` with `sqlstate` (and a message). */
#define EXPECT_ERR(s, code, sqlstate) expect_err_at((s), (code), (sqlstate), __FILE__, __LINE__)
/* The session's last error must have code `code` (SQLSTATE not checked). */
#define EXPECT_ERRCODE(s, code) expect_errcode_at((s), (code), __FILE__, __LINE__)
#define EXPECT_I64(got, want) expect_i64_at((int64_t)(got), (int64_t)(want), #got, __FILE__, __LINE__)
#define EXPECT_STR(got, want) expect_str_at((got), (want), #got, __FILE__, __LINE__)
#define EXPECT_TYPE(got, want) expect_type_at((got), (want), #got, __FILE__, __LINE__)

/* ---- SQL in the fixture (fixture.c) ---- */

/* The DDL a capability key gives (CAP_DDL_*): the only SQL that differs
 * between drivers. Skips the case when the driver's file does not give it. */
const char *ddl(enum conf_cap k);

void exec_ok_at(dbal_session *s, const char *sql, dbal_params p, const char *file, int line);
void create_table_at(fixture *f, const char *file, int line, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
void drop_table_at(fixture *f, const char *name, const char *file, int line);
/* Keeps r (a cursor of session s) to be closed at teardown. */
void track(fixture *f, dbal_rows *r, dbal_session *s);
void close_rows(fixture *f, dbal_rows *r);
dbal_rows *query_at(fixture *f, dbal_session *s, const char *sql, dbal_params p, const char *file, int line);
void next_at(fixture *f, dbal_rows *r, int want, const char *file, int line);
int64_t scalar_at(fixture *f, dbal_session *s, const char *sql, dbal_params p, const char *file, int line);
int64_t count_rows_at(fixture *f, dbal_session *s, const char *table, const char *file, int line);
dbal_session *open_extra_at(fixture *f, const char *file, int line);
void close_extra(fixture *f, dbal_session *s);
void reopen_at(fixture *f, const char *file, int line);
/* After an error outside a transaction: the session works, its error is clear. */
void check_session_recovers(fixture *f);

/* The statement must succeed. */
#define EXEC_OK(s, sql, params) exec_ok_at((s), (sql), (params), __FILE__, __LINE__)
/* DROP TABLE IF EXISTS name; CREATE TABLE name (columns, printf-style). */
#define CREATE_TABLE(f, name, ...) create_table_at((f), __FILE__, __LINE__, (name), __VA_ARGS__)
#define DROP_TABLE(f, name) drop_table_at((f), (name), __FILE__, __LINE__)
/* A cursor that must open; closed at teardown unless the case closes it. */
#define QUERY(s, sql, params) query_at(f, (s), (sql), (params), __FILE__, __LINE__)
#define NEXT_ROW(r) next_at(f, (r), DBAL_ROW, __FILE__, __LINE__)
#define NEXT_DONE(r) next_at(f, (r), DBAL_DONE, __FILE__, __LINE__)
/* A query that must give exactly one row with one int64 column: its value. */
#define SCALAR(s, sql, params) scalar_at(f, (s), (sql), (params), __FILE__, __LINE__)
/* SELECT count(*) of a table. */
#define COUNT(s, table) count_rows_at(f, (s), (table), __FILE__, __LINE__)
/* Another session on the case's engine, closed at teardown. */
#define OPEN_EXTRA() open_extra_at(f, __FILE__, __LINE__)
/* Closes the case's session (rolling back what is open) and opens a new one. */
#define REOPEN() reopen_at(f, __FILE__, __LINE__)

/* ---- shared tables (tables.c) ---- */

/* conf_values: id, b BOOLEAN, i BIGINT, d DOUBLE PRECISION, t TEXT, bl (blob). */
void make_values_table(fixture *f);
void put_at(fixture *f, int id, const char *col, dbal_value v, const char *file, int line);
dbal_rows *get_at(fixture *f, int id, const char *col, const char *file, int line);
void end_at(fixture *f, dbal_rows *r, const char *file, int line);
/* Every getter on column 0 of r, which must be NULL. */
void check_null_value(fixture *f, dbal_rows *r);
/* conf_tx: id, v TEXT. */
void make_tx_table(fixture *f);
void insert_tx_at(fixture *f, dbal_session *s, int id, const char *file, int line);
void ids_are_at(fixture *f, dbal_session *s, const char *want, const char *file, int line);
/* conf_auto: a generated id, name TEXT NOT NULL. */
void make_auto_table(fixture *f);

/* Inserts value v into column col of conf_values row id (one row affected). */
#define PUT(id, col, v) put_at(f, (id), (col), (v), __FILE__, __LINE__)
/* Selects column col of row id; the cursor is on that row. */
#define GET(id, col) get_at(f, (id), (col), __FILE__, __LINE__)
/* The cursor must have no more rows; closes it. */
#define END(r) end_at(f, (r), __FILE__, __LINE__)
/* Inserts id into conf_tx through session s. */
#define INSERT_TX(s, id) insert_tx_at(f, (s), (id), __FILE__, __LINE__)
/* The ids in conf_tx as seen by session s, e.g. "1,3" ("" for none). */
#define IDS_ARE(s, want) ids_are_at(f, (s), (want), __FILE__, __LINE__)

/* Text of a BOOLEAN column: "t"/"f" on every driver (dbal.h). */
#define BOOL_TEXT_TRUE "t"
#define BOOL_TEXT_FALSE "f"

#endif
