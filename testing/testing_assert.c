/*
 * testing_assert.c - assertions on the database for cmocka tests: rows of
 * a query, a table's count, an error's code and SQLSTATE. A failure
 * prints the SQL and both values, then fails the test through cmocka.
 */
#include <dbal/testing.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a failure message is built in: libc's memory, and on out of
 * memory a message that says so. */
typedef dbal__buf text;
#define TEXT_INIT DBAL__BUF_INIT(&dbal__alloc_libc)

static void put(text *t, const char *s, size_t n)
{
    dbal__buf_append(t, s, n);
}

static void put_str(text *t, const char *s)
{
    dbal__buf_append_str(t, s);
}

static const char *str(const text *t)
{
    return t->failed ? "(out of memory)" : t->data ? t->data : "";
}

/* The rows as the expected text has them: "1|widget\n2|gadget". */
static int rows_text(dbal_session *s, const char *sql, dbal_params params, text *out, size_t *nrows)
{
    dbal_rows *r;
    int rc = dbal_query(s, sql, params, &r);
    if (rc != DBAL_OK)
        return rc;
    *nrows = 0;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        if ((*nrows)++)
            put_str(out, "\n");
        for (int col = 0; col < dbal_col_count(r); col++) {
            const char *v = dbal_col_is_null(r, col) ? "NULL" : dbal_col_text(r, col);
            if (col)
                put_str(out, "|");
            put_str(out, v ? v : "(unreadable)");
        }
    }
    dbal_rows_close(r);
    return rc == DBAL_DONE ? DBAL_OK : rc;
}

static void param_text(text *t, const dbal_value *v)
{
    char buf[64];
    switch (v->type) {
    case DBAL_TYPE_NULL: put_str(t, "NULL"); return;
    case DBAL_TYPE_BOOL: put_str(t, v->u.b ? "true" : "false"); return;
    case DBAL_TYPE_INT64: snprintf(buf, sizeof buf, "%lld", (long long)v->u.i); break;
    case DBAL_TYPE_DOUBLE: snprintf(buf, sizeof buf, "%.17g", v->u.d); break;
    case DBAL_TYPE_TEXT:
        put_str(t, "'");
        put(t, v->u.s, v->len);
        put_str(t, "'");
        return;
    default: snprintf(buf, sizeof buf, "(%zu bytes)", v->len); break;
    }
    put_str(t, buf);
}

static void params_text(text *t, dbal_params params)
{
    for (size_t i = 0; i < params.count; i++) {
        if (i)
            put_str(t, ", ");
        param_text(t, &params.values[i]);
    }
}

/* The lines of a row set, each indented, for a failure message. */
static void indented(text *t, const char *rows)
{
    const char *p = rows;
    while (*p) {
        size_t n = strcspn(p, "\n");
        put_str(t, "    ");
        put(t, p, n);
        put_str(t, "\n");
        p += n + (p[n] == '\n');
    }
}

static size_t count_lines(const char *rows)
{
    size_t n = *rows ? 1 : 0;
    for (const char *p = rows; *p; p++)
        if (*p == '\n' && p[1])
            n++;
    return n;
}

static void failed_query(const char *what, const char *sql, const dbal_error *err, const char *file, int line)
{
    print_error("%s: the query failed: %s (%s, SQLSTATE %s)\n  SQL: %s\n", what, err->message,
                dbal_code_name(err->code), err->sqlstate[0] ? err->sqlstate : "-", sql);
    _fail(file, line);
}

/* Runs the query on a session of its own; *rows gets the text. 0 or the
 * code (err filled). */
static int run(dbal_engine *e, const char *sql, dbal_params params, text *rows, size_t *nrows,
               dbal_error *err)
{
    dbal_session *s;
    int rc = dbal_session_open_labeled(e, &s, "dbal_assert", err);
    if (rc != DBAL_OK)
        return rc;
    rc = rows_text(s, sql, params, rows, nrows);
    if (rc != DBAL_OK)
        *err = *dbal_session_error(s);
    dbal_session_close(s);
    return rc;
}

void dbal_testing_assert_rows(dbal_engine *e, const char *sql, dbal_params params, const char *expected,
                              const char *file, int line)
{
    text got = TEXT_INIT, msg = TEXT_INIT;
    size_t nrows = 0;
    dbal_error err;
    if (run(e, sql, params, &got, &nrows, &err) != DBAL_OK) {
        dbal__buf_free(&got);
        failed_query("dbal_assert_rows", sql, &err, file, line);
        return;
    }
    size_t elen = strlen(expected);
    if (elen && expected[elen - 1] == '\n')
        elen--; /* a final newline is optional */
    if (!got.failed && got.len == elen && memcmp(str(&got), expected, elen) == 0) {
        dbal__buf_free(&got);
        return;
    }
    char head[96];
    put_str(&msg, "  SQL:      ");
    put_str(&msg, sql);
    put_str(&msg, "\n  params:   ");
    params_text(&msg, params);
    snprintf(head, sizeof head, "\n  expected: %zu row(s)\n", count_lines(expected));
    put_str(&msg, head);
    indented(&msg, expected);
    snprintf(head, sizeof head, "  actual:   %zu row(s)\n", nrows);
    put_str(&msg, head);
    indented(&msg, str(&got));
    print_error("dbal_assert_rows: the rows differ\n%s", str(&msg));
    dbal__buf_free(&got);
    dbal__buf_free(&msg);
    _fail(file, line);
}

void dbal_testing_assert_count(dbal_engine *e, const char *table, long long n, const char *file, int line)
{
    size_t len = strlen(table) + 32;
    char *sql = malloc(len);
    if (!sql) {
        print_error("dbal_assert_count: out of memory\n");
        _fail(file, line);
        return;
    }
    snprintf(sql, len, "SELECT count(*) FROM %s", table);
    text got = TEXT_INIT;
    size_t nrows = 0;
    dbal_error err;
    if (run(e, sql, DBAL_NOARGS, &got, &nrows, &err) != DBAL_OK) {
        dbal__buf_free(&got);
        failed_query("dbal_assert_count", sql, &err, file, line);
        free(sql);
        return;
    }
    char want[32];
    snprintf(want, sizeof want, "%lld", n);
    if (strcmp(str(&got), want) != 0) {
        print_error("dbal_assert_count: %s has %s row(s), expected %s\n  SQL: %s\n", table, str(&got), want,
                    sql);
        dbal__buf_free(&got);
        free(sql);
        _fail(file, line);
        return;
    }
    dbal__buf_free(&got);
    free(sql);
}

void dbal_testing_assert_error(const dbal_error *err, int code, const char *sqlstate, const char *file,
                               int line)
{
    if (!err) {
        print_error("dbal_assert_error: the error is NULL\n");
        _fail(file, line);
        return;
    }
    if (err->code == code && (!sqlstate || strcmp(err->sqlstate, sqlstate) == 0))
        return;
    print_error("dbal_assert_error: expected %s%s%s, got %s (SQLSTATE %s): %s\n", dbal_code_name(code),
                sqlstate ? " with SQLSTATE " : "", sqlstate ? sqlstate : "", dbal_code_name(err->code),
                err->sqlstate[0] ? err->sqlstate : "none", err->message[0] ? err->message : "(no message)");
    _fail(file, line);
}
