/* The internal library: the splitter on both dialects, fed a line at a
 * time, and the buffer's out-of-memory state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "decode.h"
#include "sha256.h"
#include "sql_scan.h"
#include "sql_split.h"

#include <stdlib.h>
#include <string.h>

#define BOTH (DBAL__SQL_POSTGRESQL | DBAL__SQL_SQLITE)

/* Feeds lines and collects the statements that complete, joined by '|'. */
static void split_lines(unsigned dialect, const char *const *lines, size_t n, char *out, size_t cap)
{
    dbal__splitter sp;
    dbal__statement st;
    dbal__split_init(&sp, dialect, &dbal__alloc_libc);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        assert_true(dbal__split_feed(&sp, lines[i]));
        while (dbal__split_next(&sp, &st) > 0) {
            strncat(out, st.sql, cap - strlen(out) - 2);
            strcat(out, "|");
            free(st.sql);
        }
    }
    if (dbal__split_rest(&sp, &st) > 0) {
        strncat(out, "rest:", cap - strlen(out) - 1);
        strncat(out, st.sql, cap - strlen(out) - 1);
        free(st.sql);
    }
    dbal__split_free(&sp);
}

#define SPLIT(dialect, want, ...)                                                        \
    do {                                                                                 \
        const char *const lines_[] = {__VA_ARGS__};                                      \
        char got_[512];                                                                  \
        split_lines(dialect, lines_, sizeof lines_ / sizeof *lines_, got_, sizeof got_); \
        assert_string_equal(got_, want);                                                 \
    } while (0)

static void test_split_quoting(void **state)
{
    (void)state;
    SPLIT(BOTH, "SELECT 'a;b'|SELECT \"x;\"|", "SELECT 'a;b'; SELECT \"x;\";");
    SPLIT(BOTH, "SELECT E'\\';'|", "SELECT E'\\';';"); /* backslash escape */
    SPLIT(BOTH, "SELECT $$;$$|SELECT $f$ $$; $f$|", "SELECT $$;$$; SELECT $f$ $$; $f$;");
    SPLIT(BOTH, "SELECT 1 /* ; /* ; */ ; */|", "SELECT 1 /* ; /* ; */ ; */;"); /* nested */
    SPLIT(BOTH, "SELECT `a;b`|", "SELECT `a;b`;");
    /* Without SQLite's dialect a backtick is not a quote. */
    SPLIT(DBAL__SQL_POSTGRESQL, "SELECT `a|rest:b`", "SELECT `a;b`");
    /* Without PostgreSQL's, $$ is not a quote (SQLite's $name parameters). */
    SPLIT(DBAL__SQL_SQLITE, "SELECT $$|rest:$$", "SELECT $$;$$");
    /* A number is not an identifier: 1$$ opens a dollar quote, as in scan.l. */
    SPLIT(BOTH, "SELECT 1$$;$$|", "SELECT 1$$;$$;");
    /* Inside an identifier, $ continues it. */
    SPLIT(BOTH, "SELECT a$b|$ FROM t|", "SELECT a$b; $ FROM t;");
}

static void test_split_lines(void **state)
{
    (void)state;
    /* A literal and a comment open across lines; blank statements skipped. */
    SPLIT(BOTH, "SELECT 'a\n;b'|SELECT 2 /* x\n; */|", "SELECT 'a", ";b';;", "SELECT 2 /* x", "; */;");
    SPLIT(BOTH,
          "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b VALUES (1);\n  DELETE FROM c;\nEND|",
          "CREATE TRIGGER t AFTER INSERT ON a BEGIN", "  INSERT INTO b VALUES (1);", "  DELETE FROM c;",
          "END;");
    SPLIT(BOTH, "rest:SELECT 1", "SELECT 1");
    SPLIT(BOTH, "", "-- only a comment", "   ");
}

/* Each statement's line: of its first code byte, past comments and blank
 * lines, counted across every line fed. */
static void test_split_line_numbers(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "-- a header comment",
        "",
        "CREATE TABLE a(x INT); /* two */ CREATE TABLE b(y INT);",
        "  /* a comment",
        "     of two lines */ ;;",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN",
        "  INSERT INTO b VALUES (1);",
        "END;",
        "SELECT $$",
        "$$; SELECT 'x",
        "';",
        "",
        "  SELECT 'rest'",
    };
    static const size_t want[] = {3, 3, 6, 9, 10, 13};
    dbal__splitter sp;
    dbal__statement st;
    size_t n = 0;
    dbal__split_init(&sp, BOTH, &dbal__alloc_libc);
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        assert_true(dbal__split_feed(&sp, lines[i]));
        while (dbal__split_next(&sp, &st) > 0) {
            assert_true(n < 5);
            assert_int_equal(st.line, want[n++]);
            free(st.sql);
        }
    }
    assert_int_equal(n, 5);
    assert_int_equal(dbal__split_rest(&sp, &st), 1);
    assert_int_equal(st.line, want[5]);
    assert_string_equal(st.sql, "SELECT 'rest'");
    free(st.sql);
    dbal__split_free(&sp);
}

/* FIPS 180-4's examples (and NIST's long-message vector), in one call and
 * fed a byte at a time. */
static void test_sha256_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmno"
         "pqrst"
         "nopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[DBAL__SHA256_HEX_LEN];
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        dbal__sha256_hex(v[i].in, strlen(v[i].in), hex);
        assert_string_equal(hex, v[i].hex);
        dbal__sha256 c;
        unsigned char d[DBAL__SHA256_LEN];
        dbal__sha256_init(&c);
        for (const char *p = v[i].in; *p; p++)
            dbal__sha256_update(&c, p, 1);
        dbal__sha256_final(&c, d);
        for (int k = 0; k < DBAL__SHA256_LEN; k++)
            assert_int_equal(d[k],
                             (unsigned)strtoul((char[]){v[i].hex[2 * k], v[i].hex[2 * k + 1], 0}, NULL, 16));
    }
    /* One million 'a's, in uneven parts. */
    static char a[1000];
    memset(a, 'a', sizeof a);
    dbal__sha256 c;
    unsigned char d[DBAL__SHA256_LEN];
    dbal__sha256_init(&c);
    for (int k = 0; k < 1000; k++) {
        dbal__sha256_update(&c, a, 333);
        dbal__sha256_update(&c, a, 667);
    }
    dbal__sha256_final(&c, d);
    static const unsigned char million[DBAL__SHA256_LEN] = {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92,
                                                            0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
                                                            0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e,
                                                            0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    assert_memory_equal(d, million, sizeof million);
}

static void test_split_idle(void **state)
{
    (void)state;
    dbal__splitter sp;
    dbal__split_init(&sp, BOTH, &dbal__alloc_libc);
    dbal__statement st;
    assert_true(dbal__split_idle(&sp));
    assert_true(dbal__split_feed(&sp, "/* open"));
    assert_int_equal(dbal__split_next(&sp, &st), 0);
    assert_false(dbal__split_idle(&sp)); /* inside a comment: the prompt continues */
    assert_true(dbal__split_feed(&sp, "*/"));
    assert_int_equal(dbal__split_next(&sp, &st), 0);
    assert_true(dbal__split_idle(&sp));
    assert_true(dbal__split_feed(&sp, "SELECT"));
    assert_int_equal(dbal__split_next(&sp, &st), 0);
    assert_false(dbal__split_idle(&sp));
    dbal__split_free(&sp);
}

/* An allocator that fails after `budget` calls. */
static int budget;
static void *tight_realloc(void *p, size_t n)
{
    return budget-- > 0 ? realloc(p, n) : NULL;
}
static const dbal__alloc tight = {tight_realloc, free};

static void test_buf_out_of_memory(void **state)
{
    (void)state;
    budget = 1;
    dbal__buf b = DBAL__BUF_INIT(&tight);
    assert_true(dbal__buf_append_str(&b, "abc"));
    assert_string_equal(b.data, "abc");
    char big[200];
    memset(big, 'x', sizeof big);
    assert_false(dbal__buf_append(&b, big, sizeof big)); /* needs to grow: refused */
    assert_true(b.failed);
    budget = 10;
    assert_false(dbal__buf_append(&b, "d", 1)); /* stays failed until cleared */
    assert_string_equal(b.data, "abc");         /* and what it held is intact */
    dbal__buf_clear(&b);
    assert_true(dbal__buf_append(&b, "de", 2));
    dbal__buf_drop(&b, 1);
    assert_string_equal(b.data, "e");
    assert_false(dbal__buf_reserve(&b, SIZE_MAX)); /* overflow is a failure, not a wrap */
    dbal__buf_free(&b);

    /* The splitter reports its allocator's failure instead of a statement. */
    budget = 1;
    dbal__splitter sp;
    dbal__split_init(&sp, BOTH, &tight);
    assert_true(dbal__split_feed(&sp, "SELECT 1;"));
    dbal__statement st;
    assert_int_equal(dbal__split_next(&sp, &st), -1);
    assert_true(sp.text.failed);
    dbal__split_free(&sp);
}

static void test_percent_decode(void **state)
{
    (void)state;
    char out[32];
    size_t n;
    assert_true(dbal__percent_decode("a%2Fb%3a", 8, out, &n, true));
    assert_string_equal(out, "a/b:");
    assert_int_equal(n, 4);
    /* A URL refuses a stray '%', a short escape and a NUL byte ... */
    assert_false(dbal__percent_decode("100%", 4, out, &n, true));
    assert_false(dbal__percent_decode("%4", 2, out, &n, true));
    assert_false(dbal__percent_decode("a%00b", 5, out, &n, true));
    /* ... which the lenient form copies as they are. */
    assert_true(dbal__percent_decode("100%-%4g%00", 11, out, &n, false));
    assert_string_equal(out, "100%-%4g%00");
    /* len bounds the input: an escape cut by it is not read past len. */
    assert_true(dbal__percent_decode("%41%42", 4, out, &n, false));
    assert_string_equal(out, "A%");
    assert_int_equal(dbal__hex_value('F'), 15);
    assert_int_equal(dbal__hex_value('g'), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_quoting),  cmocka_unit_test(test_split_lines),
        cmocka_unit_test(test_split_idle),     cmocka_unit_test(test_split_line_numbers),
        cmocka_unit_test(test_sha256_vectors), cmocka_unit_test(test_buf_out_of_memory),
        cmocka_unit_test(test_percent_decode),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
