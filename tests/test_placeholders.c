/* Tests for dbal__rewrite_dollar(): `?` placeholders to PostgreSQL's $n. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dbal.h"
#include "placeholders.h"

struct rewrite_case {
    const char *in;
    const char *out;
    int nparams;
};

/* Every expectation was worked out by hand from PostgreSQL's lexer rules, and
 * each output was fed to a PostgreSQL 15 server (PREPARE, then the parameter
 * count or the lexer's error) to confirm it sees the same boundaries. The
 * comments say what a sloppier scanner would get wrong. */
static const struct rewrite_case cases[] = {
    /* plain */
    {"", "", 0},
    {"SELECT 1", "SELECT 1", 0},
    {"?", "$1", 1},
    {"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2", 2},
    {"? ? ?", "$1 $2 $3", 3},
    {"SELECT ?-?", "SELECT $1-$2", 2}, /* a single - is an operator */
    {"SELECT ?/?", "SELECT $1/$2", 2}, /* a single / is an operator */
    /* ten and more: two-digit numbers */
    {"?,?,?,?,?,?,?,?,?,?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10", 10},
    {"INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
     "INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)", 12},
    /* ?? is a literal ?, greedily from the left */
    {"??", "?", 0},
    {"???", "?$1", 1},
    {"????", "??", 0},
    {"?????", "??$1", 1},
    {"SELECT data ?? 'key' FROM t WHERE id = ?", "SELECT data ? 'key' FROM t WHERE id = $1", 1},
    {"SELECT d ??| ARRAY['a','b'], d ??& ?", "SELECT d ?| ARRAY['a','b'], d ?& $1", 1},
    {"SELECT d @?? '$.a ? (@ > 1)'", "SELECT d @? '$.a ? (@ > 1)'", 0},
    {"SELECT '?\?', ?\?", "SELECT '?\?', ?",
     0}, /* ?? inside a literal is not collapsed; ?\? dodges trigraphs */
    /* casts */
    {"SELECT ?::int", "SELECT $1::int", 1},
    {"SELECT ?::text[], ?::jsonb", "SELECT $1::text[], $2::jsonb", 2},
    {"SELECT CAST(? AS int), ?::int::text", "SELECT CAST($1 AS int), $2::int::text", 2},
    /* standard strings */
    {"SELECT '?'", "SELECT '?'", 0},
    {"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1},
    {"SELECT '''?''', ?", "SELECT '''?''', $1", 1},
    {"SELECT '', ?", "SELECT '', $1", 1},     /* '' right after the opening quote */
    {"SELECT '\\', ?", "SELECT '\\', $1", 1}, /* no backslash escapes here */
    {"SELECT 'a'\n'?', ?", "SELECT 'a'\n'?', $1", 1},
    {"SELECT U&'d\\0061t\\+000061 ?', ?", "SELECT U&'d\\0061t\\+000061 ?', $1", 1},
    {"SELECT '-- /* $$', ?", "SELECT '-- /* $$', $1", 1},
    /* E'' strings */
    {"SELECT E'\\'?', ?", "SELECT E'\\'?', $1", 1},                     /* \' does not end it */
    {"SELECT e'\\\\', ?", "SELECT e'\\\\', $1", 1},                     /* \\ is one backslash */
    {"SELECT E'a''?', ?", "SELECT E'a''?', $1", 1},                     /* '' works there too */
    {"SELECT E'a'\n'\\'?', ?", "SELECT E'a'\n'\\'?', $1", 1},           /* continued E string */
    {"SELECT E'a'\r'\\'?', ?", "SELECT E'a'\r'\\'?', $1", 1},           /* a CR is a newline too */
    {"SELECT E'a''\\'?', ?", "SELECT E'a''\\'?', $1", 1},               /* '' then \' in one literal */
    {"SELECT E'a' '\\', ?", "SELECT E'a' '\\', $1", 1},                 /* no newline: no continuation */
    {"SELECT E'a' -- c\n'\\'?', ?", "SELECT E'a' -- c\n'\\'?', $1", 1}, /* -- may sit in the gap */
    {"SELECT E'a'\n -- x\n '\\'?'", "SELECT E'a'\n -- x\n '\\'?'", 0},
    {"SELECT E'a' /* c */\n'\\'?', ?", "SELECT E'a' /* c */\n'\\'$1', ?", 1}, /* a block comment ends it */
    {"SELECT E'a' -- c", "SELECT E'a' -- c", 0},
    {"SELECT typee'\\', ?", "SELECT typee'\\', $1", 1}, /* the e belongs to an identifier */
    {"SELECT x, E'\\\\'", "SELECT x, E'\\\\'", 0},
    /* quoted identifiers */
    {"SELECT \"col?\" FROM t WHERE x = ?", "SELECT \"col?\" FROM t WHERE x = $1", 1},
    {"SELECT \"a\"\"?\" FROM t WHERE x = ?", "SELECT \"a\"\"?\" FROM t WHERE x = $1", 1},
    {"SELECT \"it's\", ?", "SELECT \"it's\", $1", 1},
    /* line comments */
    {"SELECT 1 -- why?\n, ?", "SELECT 1 -- why?\n, $1", 1},
    {"SELECT ? -- trailing?", "SELECT $1 -- trailing?", 1},
    {"SELECT 1 --?\r?", "SELECT 1 --?\r$1", 1},
    {"SELECT ? -- don't\n, ?", "SELECT $1 -- don't\n, $2", 2}, /* no string in a comment */
    {"SELECT ?--?\n?", "SELECT $1--?\n$2", 2},
    /* block comments, which nest */
    {"SELECT /* ? */ ?", "SELECT /* ? */ $1", 1},
    {"SELECT /* a /* b */ ? */ ?", "SELECT /* a /* b */ ? */ $1", 1},
    {"SELECT /*/ ? */ ?", "SELECT /*/ ? */ $1", 1}, /* the / of the opener does not close */
    {"SELECT /**/ ?", "SELECT /**/ $1", 1},
    {"SELECT /* it's $$ */ ?", "SELECT /* it's $$ */ $1", 1},
    /* dollar quotes */
    {"SELECT $$?$$, ?", "SELECT $$?$$, $1", 1},
    {"SELECT $$it's$$, ?", "SELECT $$it's$$, $1", 1},
    {"SELECT $fn$ a $$ ? $$ b $fn$, ?", "SELECT $fn$ a $$ ? $$ b $fn$, $1", 1},
    {"SELECT $a$ ? $b$ ? $a$, ?", "SELECT $a$ ? $b$ ? $a$, $1", 1},
    {"SELECT $t$ ? $T$ ? $t$ ?", "SELECT $t$ ? $T$ ? $t$ $1", 1}, /* tags are case-sensitive */
    {"SELECT $a1$?$a1$, ?", "SELECT $a1$?$a1$, $1", 1},
    {"SELECT $t$ x$t$, ?", "SELECT $t$ x$t$, $1", 1}, /* the closing tag needs no separator */
    {"SELECT $t$ $tt$ ? $t$, ?", "SELECT $t$ $tt$ ? $t$, $1", 1},
    {"SELECT $$x$$::text, ?", "SELECT $$x$$::text, $1", 1},
    {"SELECT ?$a$?$a$", "SELECT $1$a$?$a$", 1},
    {"SELECT 1$$?$$", "SELECT 1$$?$$", 0}, /* a number is not an identifier */
    /* $ followed by digits is a parameter, not a tag */
    {"SELECT $1::int, ?", "SELECT $1::int, $1", 1},
    {"SELECT $1$ ? $1$, ?", "SELECT $1$ $1 $1$, $2", 2},
    {"SELECT $abc, ?", "SELECT $abc, $1", 1}, /* no closing $: not a quote */
    {"SELECT ?$", "SELECT $1$", 1},
    /* $ inside identifiers */
    {"SELECT a$b$c, ?", "SELECT a$b$c, $1", 1},
    {"SELECT a$$, ?, $$", "SELECT a$$, $1, $$", 1},
    {"SELECT x_1$t$, ? $t$", "SELECT x_1$t$, $1 $t$", 1},
    {"SELECT \xc3\xa9$x$?$x$", "SELECT \xc3\xa9$x$ $1$x$", 1}, /* bytes >= 0x80 are letters */
    /* $n kept apart from letters and digits around it */
    {"SELECT 1 WHERE 'a' LIKE?", "SELECT 1 WHERE 'a' LIKE $1", 1},     /* not LIKE$1 */
    {"SELECT 1 WHERE ?AND ?OR?", "SELECT 1 WHERE $1 AND $2 OR $3", 3}, /* not $1AND */
    {"SELECT ?1, ?_", "SELECT $1 1, $2 _", 2},                         /* not $11 */
    {"SELECT a$?", "SELECT a$ $1", 1},
    {"SELECT a?$x$ ? $x$", "SELECT a $1$x$ ? $x$", 1}, /* a ? ends the identifier */
    {"SELECT a??$x$?$x$", "SELECT a?$x$?$x$", 0},
    {"SELECT ?\xc3\xa9", "SELECT $1 \xc3\xa9", 1},
    /* non-ASCII text */
    {"SELECT 'h\xc3\xa9llo ?', ?, '\xc3\xb1'", "SELECT 'h\xc3\xa9llo ?', $1, '\xc3\xb1'", 1},
    {"SELECT \"na\xc3\xafve?\" FROM t WHERE x = ? -- \xc3\xbc ?",
     "SELECT \"na\xc3\xafve?\" FROM t WHERE x = $1 -- \xc3\xbc ?", 1},
    {"SELECT \xff\xfe, ?", "SELECT \xff\xfe, $1", 1},
    /* unterminated: copied to the end */
    {"SELECT 'unterminated ?", "SELECT 'unterminated ?", 0},
    {"SELECT ?, 'unterminated ?", "SELECT $1, 'unterminated ?", 1},
    {"SELECT 'it''", "SELECT 'it''", 0},
    {"SELECT \"unterminated ?", "SELECT \"unterminated ?", 0},
    {"SELECT E'ends in a backslash \\", "SELECT E'ends in a backslash \\", 0},
    {"SELECT E'a'\n  ", "SELECT E'a'\n  ", 0}, /* continuation lookahead hits the end */
    {"SELECT ? /* unterminated ? /* */", "SELECT $1 /* unterminated ? /* */", 1},
    {"SELECT ?, $$ unterminated ?", "SELECT $1, $$ unterminated ?", 1},
    {"SELECT ?, $q$ ? $q", "SELECT $1, $q$ ? $q", 1},
    {"'", "'", 0},
    {"E'", "E'", 0},
    {"\"", "\"", 0},
    {"-- ?", "-- ?", 0},
    {"/*", "/*", 0},
    {"/*/", "/*/", 0},
    {"$$", "$$", 0},
    {"$", "$", 0},
    {"-", "-", 0},
};

static char *copy_exact(const char *s)
{
    /* An exactly sized heap copy, so ASan and valgrind see any read past the NUL. */
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    assert_non_null(c);
    memcpy(c, s, n);
    return c;
}

static void test_table(void **state)
{
    (void)state;
    size_t i, failures = 0;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *in = copy_exact(cases[i].in), *out = NULL;
        size_t out_len = 12345;
        int n = -1;
        int rc = dbal__rewrite_dollar(in, &out, &out_len, &n);
        assert_int_equal(rc, DBAL_OK);
        assert_non_null(out);
        if (strcmp(out, cases[i].out) != 0 || out_len != strlen(cases[i].out) || n != cases[i].nparams) {
            print_error("case %zu: input   \"%s\"\n"
                        "          expected \"%s\" (%d params)\n"
                        "          got      \"%s\" (%d params, out_len %zu)\n",
                        i, cases[i].in, cases[i].out, cases[i].nparams, out, n, out_len);
            failures++;
        }
        dbal__free(out);
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* 1 MiB of "?," pairs: 524288 parameters, so six-digit numbers and a large
 * output; compared in full against an independently built expectation. */
static void test_long_input(void **state)
{
    (void)state;
    const size_t pairs = 512 * 1024;
    char *in = malloc(pairs * 2 + 1), *expected = malloc(pairs * 9 + 1), *e = expected;
    char *out = NULL;
    size_t i, out_len = 0;
    int n = 0;
    assert_non_null(in);
    assert_non_null(expected);
    for (i = 0; i < pairs; i++) {
        in[2 * i] = '?';
        in[2 * i + 1] = ',';
        e += sprintf(e, "$%zu,", i + 1);
    }
    in[pairs * 2] = '\0';

    assert_int_equal(dbal__rewrite_dollar(in, &out, &out_len, &n), DBAL_OK);
    assert_int_equal(n, 524288);
    assert_int_equal(out_len, (size_t)(e - expected));
    assert_int_equal(strlen(out), out_len);
    assert_true(out_len > 9);
    assert_string_equal(out + out_len - 9, ",$524288,");
    assert_memory_equal(out, expected, out_len);
    dbal__free(out);
    free(expected);
    free(in);
}

/* A long dollar-quoted body full of `?` and near-miss delimiters. */
static void test_long_dollar_body(void **state)
{
    (void)state;
    const size_t reps = 100000;
    const char *chunk = "? $ta$ $t $$ '"; /* 14 bytes, never "$tag$" */
    size_t i, len = 0, out_len = 0;
    char *in = malloc(6 + reps * 14 + 9 + 1), *out = NULL;
    int n = -1;
    assert_non_null(in);
    memcpy(in, "$tag$ ", 6);
    len = 6;
    for (i = 0; i < reps; i++, len += 14)
        memcpy(in + len, chunk, 14);
    memcpy(in + len, "$tag$, ?", 9);
    len += 8;
    assert_int_equal(dbal__rewrite_dollar(in, &out, &out_len, &n), DBAL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out_len, len + 1);
    assert_memory_equal(out, in, len - 1);
    assert_string_equal(out + len - 1, "$1");
    dbal__free(out);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_long_input),
        cmocka_unit_test(test_long_dollar_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
