/*
 * expect.c - the conformance suite's checks: each compares what a call gave
 * with what was wanted and, on a mismatch, prints both (and the session's
 * error) before failing the case. fixture.h has the macros that pass the
 * file and line.
 */
#include "cases.h"
#include "fixture.h"

void describe_session(dbal_session *s)
{
    if (!s)
        return;
    const dbal_error *e = dbal_session_error(s);
    if (!e) {
        print_error("    session error: (null)\n");
        return;
    }
    print_error("    session error: %s sqlstate=\"%s\" native=%d constraint=\"%s\" message=\"%s\"\n",
                dbal_code_name(e->code), e->sqlstate, e->native_code, e->constraint, e->message);
}

void check_at(int ok, const char *what, const char *file, int line, const char *fmt, ...)
{
    if (ok)
        return;
    va_list ap;
    char buf[1024];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    print_error("%s:%d: check failed: %s: %s\n", file, line, what, buf);
    _fail(file, line);
}

void expect_rc_at(dbal_session *s, int got, int want, const char *expr, const char *file, int line)
{
    if (got == want)
        return;
    print_error("%s:%d: %s returned %s (%d), expected %s (%d)\n", file, line, expr, dbal_code_name(got), got,
                dbal_code_name(want), want);
    describe_session(s);
    _fail(file, line);
}

/* The session's last error must be `code` with `sqlstate`. */
void expect_err_at(dbal_session *s, int code, const char *sqlstate, const char *file, int line)
{
    const dbal_error *e = dbal_session_error(s);
    if (!e) {
        print_error("%s:%d: dbal_session_error returned NULL\n", file, line);
        _fail(file, line);
    }
    if (e->code != code || strcmp(e->sqlstate, sqlstate) != 0) {
        print_error("%s:%d: session error is %s \"%s\", expected %s \"%s\"\n", file, line,
                    dbal_code_name(e->code), e->sqlstate, dbal_code_name(code), sqlstate);
        describe_session(s);
        _fail(file, line);
    }
    if (code != DBAL_OK && e->message[0] == '\0') {
        print_error("%s:%d: session error %s has an empty message\n", file, line, dbal_code_name(code));
        _fail(file, line);
    }
}

/* The session's last error must have code `code` (SQLSTATE not checked). */
void expect_errcode_at(dbal_session *s, int code, const char *file, int line)
{
    const dbal_error *e = dbal_session_error(s);
    if (!e || e->code != code) {
        print_error("%s:%d: session error is %s, expected %s\n", file, line,
                    e ? dbal_code_name(e->code) : "(null)", dbal_code_name(code));
        describe_session(s);
        _fail(file, line);
    }
}

void expect_i64_at(int64_t got, int64_t want, const char *expr, const char *file, int line)
{
    if (got == want)
        return;
    print_error("%s:%d: %s is %" PRId64 ", expected %" PRId64 "\n", file, line, expr, got, want);
    _fail(file, line);
}

void expect_str_at(const char *got, const char *want, const char *expr, const char *file, int line)
{
    if (got && want && strcmp(got, want) == 0)
        return;
    if (!got && !want)
        return;
    print_error("%s:%d: %s is %s%s%s, expected %s%s%s\n", file, line, expr, got ? "\"" : "",
                got ? got : "NULL", got ? "\"" : "", want ? "\"" : "", want ? want : "NULL",
                want ? "\"" : "");
    _fail(file, line);
}

const char *type_name(dbal_type t)
{
    switch (t) {
    case DBAL_TYPE_NULL: return "NULL";
    case DBAL_TYPE_BOOL: return "BOOL";
    case DBAL_TYPE_INT64: return "INT64";
    case DBAL_TYPE_DOUBLE: return "DOUBLE";
    case DBAL_TYPE_TEXT: return "TEXT";
    case DBAL_TYPE_BLOB: return "BLOB";
    case DBAL_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DBAL_TYPE_TIMESTAMPTZ: return "TIMESTAMPTZ";
    case DBAL_TYPE_DATE: return "DATE";
    case DBAL_TYPE_TIME: return "TIME";
    case DBAL_TYPE_NUMERIC: return "NUMERIC";
    case DBAL_TYPE_UUID: return "UUID";
    case DBAL_TYPE_JSON: return "JSON";
    }
    return "?";
}

void expect_type_at(dbal_type got, dbal_type want, const char *expr, const char *file, int line)
{
    if (got == want)
        return;
    print_error("%s:%d: %s is DBAL_TYPE_%s (%d), expected DBAL_TYPE_%s\n", file, line, expr, type_name(got),
                (int)got, type_name(want));
    _fail(file, line);
}
