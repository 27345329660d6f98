/*
 * test_hostile.c - hostile values through bound parameters, quoted
 * identifiers, and secrets in error messages.
 *
 *   test_hostile sqlite::memory:    in-memory SQLite
 *   test_hostile sqlite-file        a fresh mkstemp() file under /tmp (deleted after)
 *   test_hostile pg                 PostgreSQL at $DBAL_TEST_PG_URL; every case is
 *                                   skipped (exit 77) when it is unset, unless
 *                                   DBAL_TEST_REQUIRE_PG=1, which makes it fail
 *
 * The promise under test: a value is data, never SQL. Every hostile value
 * (quotes, "'; DROP TABLE t; --", backslashes, $$, ? and $1, NUL bytes,
 * invalid UTF-8, control characters, printf directives, 10 MB) is stored
 * and read back byte for byte, finds its own row when used in a WHERE, and
 * afterwards the table still exists with exactly the rows inserted. Where
 * PostgreSQL cannot hold a value (NUL in text, invalid UTF-8), the answer is
 * DBAL_EDATA and nothing is inserted.
 *
 * dbal_quote_ident: names with quotes, spaces, unicode, SQL in them, used in
 * real CREATE TABLE / INSERT / SELECT; NULL, empty, too long, too small
 * buffer.
 *
 * Secrets: every message provoked with a URL that carries a password (bad
 * options, unknown scheme, bad port, bad percent-encoding, refused
 * connection, a wrong password against the server, ...) is checked for the
 * password: dbal_error.message, dbal_session_error()->message, and every
 * line dbal's log hook receives during the whole run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dbal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ context */

enum kind { SQLITE_MEMORY, SQLITE_FILE, POSTGRESQL };
static enum kind g_kind;
static const char *g_url; /* NULL: PostgreSQL unavailable, skip */
static char g_url_buf[1024];

#define IS_PG (g_kind == POSTGRESQL)
#define SKIP_IF_NO_DB() \
    do {                \
        if (!g_url)     \
            skip();     \
    } while (0)

#define OK(s, call)                                                                             \
    do {                                                                                        \
        int rc_ = (call);                                                                       \
        if (rc_ != DBAL_OK)                                                                     \
            fail_msg("%s: %s: %s", #call, dbal_code_name(rc_), dbal_session_error(s)->message); \
    } while (0)

/* Log lines dbal sends during the whole run, for the secret checks. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[4096];
static size_t log_count;

static void collect_log(void *userdata, dbal_log_level level, const char *line)
{
    (void)userdata;
    (void)level;
    pthread_mutex_lock(&log_lock);
    if (log_count < sizeof log_lines / sizeof log_lines[0])
        log_lines[log_count++] = strdup(line);
    pthread_mutex_unlock(&log_lock);
}

typedef struct fixture {
    dbal_engine *e;
    dbal_session *s;
} fixture;

static const char *blob_type(void)
{
    return IS_PG ? "BYTEA" : "BLOB";
}

/* Fresh table hostile(id BIGINT PRIMARY KEY, txt TEXT, bin BLOB/BYTEA). */
static int setup(void **state)
{
    if (!g_url) {
        *state = NULL;
        return 0;
    }
    fixture *f = calloc(1, sizeof *f);
    dbal_error err;
    if (dbal_engine_open(&f->e, g_url, &err) != DBAL_OK) {
        fprintf(stderr, "engine open: %s\n", err.message);
        return -1;
    }
    if (dbal_session_open(f->e, &f->s, &err) != DBAL_OK) {
        fprintf(stderr, "session open: %s\n", err.message);
        return -1;
    }
    char sql[200];
    if (dbal_exec(f->s, "DROP TABLE IF EXISTS hostile", DBAL_NOARGS, NULL) != DBAL_OK)
        return -1;
    snprintf(sql, sizeof sql, "CREATE TABLE hostile(id BIGINT PRIMARY KEY, txt TEXT, bin %s)", blob_type());
    if (dbal_exec(f->s, sql, DBAL_NOARGS, NULL) != DBAL_OK) {
        fprintf(stderr, "create: %s\n", dbal_session_error(f->s)->message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    if (f->s) {
        dbal_exec(f->s, "DROP TABLE IF EXISTS hostile", DBAL_NOARGS, NULL);
        dbal_session_close(f->s);
    }
    int rc = dbal_engine_close(f->e);
    free(f);
    return rc == DBAL_OK ? 0 : -1;
}

static int64_t scalar(dbal_session *s, const char *sql, dbal_params p)
{
    dbal_rows *r;
    int64_t v = -999;
    int rc = dbal_query(s, sql, p, &r);
    if (rc != DBAL_OK)
        fail_msg("%s: %s: %s", sql, dbal_code_name(rc), dbal_session_error(s)->message);
    if (dbal_rows_next(r) == DBAL_ROW)
        assert_int_equal(dbal_col_get_int64(r, 0, &v), DBAL_OK);
    assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    dbal_rows_close(r);
    return v;
}

/* The table is still there, with exactly `rows` rows. */
static void assert_table_intact(dbal_session *s, int64_t rows)
{
    assert_int_equal(scalar(s, "SELECT count(*) FROM hostile", DBAL_NOARGS), rows);
}

/* Inserts text v as row id, reads it back byte for byte (twice: by id and
 * by the value itself), then checks the table. */
static void text_roundtrip(dbal_session *s, int64_t id, const char *v, size_t len)
{
    int64_t affected = -1;
    int rc = dbal_exec(s, "INSERT INTO hostile(id, txt) VALUES (?, ?)",
                       DBAL_ARGS(dbal_int64(id), dbal_textn(v, len)), &affected);
    if (rc != DBAL_OK)
        fail_msg("insert of a %zu-byte text: %s: %s", len, dbal_code_name(rc),
                 dbal_session_error(s)->message);
    assert_int_equal(affected, 1);

    dbal_rows *r;
    OK(s, dbal_query(s, "SELECT txt, id FROM hostile WHERE id = ?", DBAL_ARGS(dbal_int64(id)), &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    const char *t = NULL;
    size_t tl = 0;
    OK(s, dbal_col_get_text(r, 0, &t, &tl));
    assert_non_null(t);
    if (tl != len)
        fail_msg("text of %zu bytes came back as %zu bytes", len, tl);
    assert_memory_equal(t, v, len);
    assert_int_equal(t[len], '\0');
    assert_int_equal(dbal_col_type(r, 0), DBAL_TYPE_TEXT);
    size_t bl = 0;
    const void *b = dbal_col_blob(r, 0, &bl);
    assert_int_equal(bl, len);
    assert_memory_equal(b, v, len);
    assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    dbal_rows_close(r);

    /* The value finds exactly its own row. */
    int64_t n = scalar(s, "SELECT count(*) FROM hostile WHERE txt = ? AND id = ?",
                       DBAL_ARGS(dbal_textn(v, len), dbal_int64(id)));
    assert_int_equal(n, 1);
}

static void blob_roundtrip(dbal_session *s, int64_t id, const void *v, size_t len)
{
    int rc = dbal_exec(s, "INSERT INTO hostile(id, bin) VALUES (?, ?)",
                       DBAL_ARGS(dbal_int64(id), dbal_blob(v, len)), NULL);
    if (rc != DBAL_OK)
        fail_msg("insert of a %zu-byte blob: %s: %s", len, dbal_code_name(rc),
                 dbal_session_error(s)->message);
    dbal_rows *r;
    OK(s, dbal_query(s, "SELECT bin FROM hostile WHERE id = ?", DBAL_ARGS(dbal_int64(id)), &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_int_equal(dbal_col_type(r, 0), DBAL_TYPE_BLOB);
    size_t bl = 12345;
    const void *b = dbal_col_blob(r, 0, &bl);
    assert_non_null(b); /* an empty blob too */
    if (bl != len)
        fail_msg("blob of %zu bytes came back as %zu bytes", len, bl);
    assert_memory_equal(b, v, len);
    assert_int_equal(dbal_col_bytes(r, 0), len);
    /* as text: the same bytes with a NUL added */
    const char *t;
    size_t tl;
    OK(s, dbal_col_get_text(r, 0, &t, &tl));
    assert_int_equal(tl, len);
    assert_memory_equal(t, v, len);
    assert_int_equal(t[len], '\0');
    assert_int_equal(dbal_rows_next(r), DBAL_DONE);
    dbal_rows_close(r);
    assert_int_equal(scalar(s, "SELECT count(*) FROM hostile WHERE bin = ? AND id = ?",
                            DBAL_ARGS(dbal_blob(v, len), dbal_int64(id))),
                     1);
}

/* ------------------------------------------------------------ values */

/* Text that is SQL, quoting or placeholder syntax, valid UTF-8, no NUL. */
static const char *const hostile_texts[] = {
    "'",
    "''",
    "'''",
    "\"",
    "\"\"",
    "'; DROP TABLE hostile; --",
    "Robert'); DROP TABLE hostile;--",
    "' OR '1'='1",
    "1; DELETE FROM hostile",
    "\\",
    "\\\\",
    "\\'",
    "\\'; DROP TABLE hostile; --",
    "'\\'",
    "\\x00\\0\\n",
    "E'\\''",
    "$$",
    "$$; DROP TABLE hostile; $$",
    "$tag$ x $tag$",
    "$1",
    "$1 $2 $99999",
    "?",
    "??",
    "? ? ?",
    "?; DROP TABLE hostile; --",
    "$1 ?",
    "-- comment",
    "/* open comment",
    "*/",
    "/* nested /* */",
    "%s%s%s%n%x%p%%",
    "{}[]()<>;:,.!@#&*^~`|",
    "\t\r\n\v\f\x01\x02\x1b[31m\x7f",
    "line1\nline2\r\nline3",
    "h\xc3\xa9llo w\xc3\xb6rld \xe2\x98\x83 \xf0\x9d\x84\x9e \xf0\x9f\x98\x80",
    "\xe2\x80\xae reversed \xe2\x80\xac",
    "\xef\xbb\xbf BOM",
    "\xef\xbf\xbf\xf4\x8f\xbf\xbf", /* U+FFFF, U+10FFFF */
    "",
    " ",
    "NULL",
    "null",
    "\\N",
    "true",
    "0x41",
    "1e999",
    "-0",
    "NaN",
};

static void values_hostile_text(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    size_t n = sizeof hostile_texts / sizeof hostile_texts[0];
    for (size_t i = 0; i < n; i++) {
        text_roundtrip(f->s, (int64_t)i + 1, hostile_texts[i], strlen(hostile_texts[i]));
        assert_table_intact(f->s, (int64_t)i + 1);
    }
    /* all of them in one statement, as several parameters */
    dbal_value v[sizeof hostile_texts / sizeof hostile_texts[0]];
    for (size_t i = 0; i < n; i++)
        v[i] = dbal_text(hostile_texts[i]);
    char sql[4096] = "SELECT count(*) FROM hostile WHERE txt IN (";
    for (size_t i = 0; i < n; i++)
        strcat(sql, i ? ", ?" : "?");
    strcat(sql, ")");
    assert_int_equal(scalar(f->s, sql, dbal_params_array(v, n)), (int64_t)n);
    assert_table_intact(f->s, (int64_t)n);
}

/* The hostile texts inside a transaction and through a batch. */
static void values_hostile_batch_and_tx(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    size_t n = sizeof hostile_texts / sizeof hostile_texts[0];
    dbal_value *rows = calloc(2 * n, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        rows[2 * i] = dbal_int64((int64_t)i + 1);
        rows[2 * i + 1] = dbal_text(hostile_texts[i]);
    }
    int64_t affected = 0;
    size_t failed = 7;
    OK(f->s,
       dbal_exec_batch(f->s, "INSERT INTO hostile(id, txt) VALUES (?, ?)", rows, 2, n, &affected, &failed));
    assert_int_equal(affected, (int64_t)n);
    assert_int_equal(failed, (size_t)-1);
    free(rows);
    for (size_t i = 0; i < n; i++) {
        char *back = NULL;
        dbal_rows *r;
        OK(f->s, dbal_query(f->s, "SELECT txt FROM hostile WHERE id = ?",
                            DBAL_ARGS(dbal_int64((int64_t)i + 1)), &r));
        assert_int_equal(dbal_rows_next(r), DBAL_ROW);
        back = strdup(dbal_col_text(r, 0));
        dbal_rows_close(r);
        assert_string_equal(back, hostile_texts[i]);
        free(back);
    }
    OK(f->s, dbal_begin(f->s));
    OK(f->s, dbal_exec(f->s, "UPDATE hostile SET txt = ? WHERE id = ?",
                       DBAL_ARGS(dbal_text("'; DROP TABLE hostile; --"), dbal_int64(1)), NULL));
    OK(f->s, dbal_begin(f->s)); /* savepoint */
    OK(f->s, dbal_exec(f->s, "UPDATE hostile SET txt = ? WHERE id = ?",
                       DBAL_ARGS(dbal_text("$$ ? $1 \\' \""), dbal_int64(2)), NULL));
    OK(f->s, dbal_rollback(f->s));
    OK(f->s, dbal_commit(f->s));
    assert_int_equal(scalar(f->s, "SELECT count(*) FROM hostile WHERE txt = ?",
                            DBAL_ARGS(dbal_text("'; DROP TABLE hostile; --"))),
                     2); /* row 1 and the original row 6 */
    assert_table_intact(f->s, (int64_t)n);
}

static void values_text_with_nul(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    static const char with_nul[][12] = {"\0", "a\0b", "\0\0\0", "'\0; DROP", "x\0"};
    static const size_t lens[] = {1, 3, 3, 8, 2};
    int64_t inserted = 0;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        if (!IS_PG) {
            text_roundtrip(f->s, (int64_t)i + 1, with_nul[i], lens[i]);
            inserted++;
        } else {
            int rc = dbal_exec(f->s, "INSERT INTO hostile(id, txt) VALUES (?, ?)",
                               DBAL_ARGS(dbal_int64((int64_t)i + 1), dbal_textn(with_nul[i], lens[i])), NULL);
            assert_int_equal(rc, DBAL_EDATA);
            const dbal_error *e = dbal_session_error(f->s);
            assert_int_equal(e->code, DBAL_EDATA);
            assert_string_equal(e->sqlstate, "22021");
            assert_true(e->message[0] != '\0');
            /* the session goes on */
            assert_int_equal(scalar(f->s, "SELECT 1", DBAL_NOARGS), 1);
        }
        assert_table_intact(f->s, inserted);
    }
    /* NUL bytes in a blob are fine everywhere */
    blob_roundtrip(f->s, 100, "a\0b\0\0c", 6);
    assert_table_intact(f->s, inserted + 1);
    if (IS_PG) {
        /* inside a transaction the refusal fails the transaction, as any
         * failed statement does, and a rollback recovers */
        OK(f->s, dbal_begin(f->s));
        assert_int_equal(dbal_exec(f->s, "INSERT INTO hostile(id, txt) VALUES (?, ?)",
                                   DBAL_ARGS(dbal_int64(200), dbal_textn("a\0b", 3)), NULL),
                         DBAL_EDATA);
        assert_int_equal(dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
        OK(f->s, dbal_rollback(f->s));
        assert_table_intact(f->s, inserted + 1);
    }
}

static void values_invalid_utf8(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    static const char *const bad[] = {
        "\xff",
        "\xfe\xff",
        "abc\x80",
        "\xc3\x28",         /* bad continuation */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong */
        "\xed\xa0\x80",     /* UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x82",         /* truncated */
        "'\xff'; DROP TABLE hostile; --",
        "\xc3", /* truncated at the end */
    };
    int64_t inserted = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!IS_PG) {
            text_roundtrip(f->s, (int64_t)i + 1, bad[i], strlen(bad[i]));
            inserted++;
        } else {
            int rc = dbal_exec(f->s, "INSERT INTO hostile(id, txt) VALUES (?, ?)",
                               DBAL_ARGS(dbal_int64((int64_t)i + 1), dbal_text(bad[i])), NULL);
            if (rc != DBAL_EDATA)
                fail_msg("invalid UTF-8 #%zu: %s (%s), expected DBAL_EDATA", i, dbal_code_name(rc),
                         dbal_session_error(f->s)->message);
            assert_string_equal(dbal_session_error(f->s)->sqlstate, "22021");
            assert_true(dbal_session_error(f->s)->message[0] != '\0');
            assert_int_equal(scalar(f->s, "SELECT 1", DBAL_NOARGS), 1);
        }
        assert_table_intact(f->s, inserted);
        /* as a blob the same bytes are fine on both */
        blob_roundtrip(f->s, 1000 + (int64_t)i, bad[i], strlen(bad[i]));
        inserted++;
        assert_table_intact(f->s, inserted);
    }
}

static void values_all_bytes_blob(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    unsigned char all[512];
    for (int i = 0; i < 512; i++)
        all[i] = (unsigned char)(i < 256 ? i : 511 - i);
    blob_roundtrip(f->s, 1, all, sizeof all);
    blob_roundtrip(f->s, 2, "", 0);      /* empty, not NULL */
    blob_roundtrip(f->s, 3, "\\x41", 4); /* looks like bytea hex output */
    blob_roundtrip(f->s, 4, "\\\\", 2);  /* looks like bytea escape output */
    blob_roundtrip(f->s, 5, "\\000", 4);
    blob_roundtrip(f->s, 6, "'; DROP TABLE hostile; --", 25);
    blob_roundtrip(f->s, 7, "\0", 1);
    assert_table_intact(f->s, 7);
    /* a NULL pointer is SQL NULL, not an empty blob */
    OK(f->s, dbal_exec(f->s, "INSERT INTO hostile(id, bin) VALUES (?, ?)",
                       DBAL_ARGS(dbal_int64(8), dbal_blob(NULL, 0)), NULL));
    assert_int_equal(scalar(f->s, "SELECT count(*) FROM hostile WHERE bin IS NULL AND id = 8", DBAL_NOARGS),
                     1);
    if (IS_PG) {
        /* the driver also decodes the old escape output format */
        OK(f->s, dbal_exec(f->s, "SET bytea_output = 'escape'", DBAL_NOARGS, NULL));
        dbal_rows *r;
        OK(f->s, dbal_query(f->s, "SELECT bin FROM hostile WHERE id = ?", DBAL_ARGS(dbal_int64(1)), &r));
        assert_int_equal(dbal_rows_next(r), DBAL_ROW);
        size_t len = 0;
        const void *b = dbal_col_blob(r, 0, &len);
        assert_int_equal(len, sizeof all);
        assert_memory_equal(b, all, sizeof all);
        dbal_rows_close(r);
        for (int64_t id = 2; id <= 7; id++) {
            OK(f->s, dbal_query(f->s, "SELECT bin FROM hostile WHERE id = ?", DBAL_ARGS(dbal_int64(id)), &r));
            assert_int_equal(dbal_rows_next(r), DBAL_ROW);
            b = dbal_col_blob(r, 0, &len);
            static const size_t want_len[] = {0, 0, 0, 4, 2, 4, 25, 1};
            static const char *const want[] =
                {"", "", "", "\\x41", "\\\\", "\\000", "'; DROP TABLE hostile; --", "\0"};
            assert_int_equal(len, want_len[id]);
            assert_memory_equal(b, want[id], len);
            dbal_rows_close(r);
        }
        OK(f->s, dbal_exec(f->s, "RESET bytea_output", DBAL_NOARGS, NULL));
    }
}

/* 10 MB of text and of binary: stored and read back byte for byte. */
static void values_ten_megabytes(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    const size_t n = 10u * 1024 * 1024;
    char *text = malloc(n + 1);
    unsigned char *bin = malloc(n);
    uint32_t x = 2463534242u;
    static const char alphabet[] = "abcXYZ019 '\"\\$?;-/*\n\t\xc3\xa9";
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        bin[i] = (unsigned char)x;
        text[i] = alphabet[x % (sizeof alphabet - 3)]; /* ASCII only: no split UTF-8 */
    }
    memcpy(text + n - 2, "\xc3\xa9", 2); /* one valid multibyte character at the very end */
    text[n] = '\0';
    text_roundtrip(f->s, 1, text, n);
    blob_roundtrip(f->s, 2, bin, n);
    assert_table_intact(f->s, 2);
    /* length on the database side too */
    assert_int_equal(scalar(f->s,
                            IS_PG ? "SELECT octet_length(txt) FROM hostile WHERE id = 1"
                                  : "SELECT length(CAST(txt AS BLOB)) FROM hostile WHERE id = 1",
                            DBAL_NOARGS),
                     (int64_t)n);
    assert_int_equal(scalar(f->s,
                            IS_PG ? "SELECT octet_length(bin) FROM hostile WHERE id = 2"
                                  : "SELECT length(bin) FROM hostile WHERE id = 2",
                            DBAL_NOARGS),
                     (int64_t)n);
    free(text);
    free(bin);
}

/* Statement text that is more than one statement never runs the second. */
static void values_stacked_statements_refused(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    OK(f->s, dbal_exec(f->s, "INSERT INTO hostile(id, txt) VALUES (1, 'a')", DBAL_NOARGS, NULL));
    static const char *const stacked[] = {
        "INSERT INTO hostile(id, txt) VALUES (2, 'b'); DROP TABLE hostile",
        "SELECT 1; DROP TABLE hostile",
        "INSERT INTO hostile(id, txt) VALUES (?, 'c'); DELETE FROM hostile",
    };
    for (size_t i = 0; i < 3; i++) {
        int rc = i == 2 ? dbal_exec(f->s, stacked[i], DBAL_ARGS(dbal_int64(3)), NULL)
                        : dbal_exec(f->s, stacked[i], DBAL_NOARGS, NULL);
        if (rc == DBAL_OK)
            fail_msg("\"%s\" ran", stacked[i]);
        assert_true(dbal_session_error(f->s)->message[0] != '\0');
        assert_table_intact(f->s, 1);
    }
}

/* A numeric text longer than 63 bytes is still numeric text: the README
 * promises doubles from "numeric text", and PostgreSQL sends numeric values
 * of any length as text. */
static void values_long_numeric_text_reads_as_double(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    char big[100];
    memset(big, '0', sizeof big);
    big[0] = '1';
    big[71] = '\0'; /* 1e70, 71 characters */
    const char *sql = IS_PG ? "SELECT CAST(? AS numeric)" : "SELECT ?";
    dbal_rows *r;
    OK(f->s, dbal_query(f->s, sql, DBAL_ARGS(dbal_text(big)), &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    double d = 0;
    int rc = dbal_col_get_double(r, 0, &d);
    dbal_rows_close(r);
    if (rc != DBAL_OK || d != 1e70)
        fail_msg("a 71-character numeric text read as a double: %s, %g (expected 1e+70)", dbal_code_name(rc),
                 d);
    /* a numeric with many decimals, as PostgreSQL prints numeric(80,70) */
    char frac[100] = "0.5";
    memset(frac + 3, '0', 70);
    frac[73] = '\0';
    OK(f->s, dbal_query(f->s, sql, DBAL_ARGS(dbal_text(frac)), &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    d = 0;
    rc = dbal_col_get_double(r, 0, &d);
    dbal_rows_close(r);
    if (rc != DBAL_OK || d != 0.5)
        fail_msg("\"0.5000...0\" (73 characters) read as a double: %s, %g", dbal_code_name(rc), d);
}

/* ------------------------------------------------------------ quote_ident */

static void quote_ident_answers(void **state)
{
    (void)state;
    char out[64];
    memset(out, 'X', sizeof out);
    assert_int_equal(dbal_quote_ident(NULL, out, sizeof out), DBAL_EINVAL);
    assert_string_equal(out, "");
    memset(out, 'X', sizeof out);
    assert_int_equal(dbal_quote_ident("", out, sizeof out), DBAL_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(dbal_quote_ident("a", NULL, 10), DBAL_EINVAL);
    assert_int_equal(dbal_quote_ident(NULL, NULL, 0), DBAL_EINVAL);

    assert_int_equal(dbal_quote_ident("abc", out, sizeof out), DBAL_OK);
    assert_string_equal(out, "\"abc\"");
    assert_int_equal(dbal_quote_ident("a\"b", out, sizeof out), DBAL_OK);
    assert_string_equal(out, "\"a\"\"b\"");
    assert_int_equal(dbal_quote_ident("\"", out, sizeof out), DBAL_OK);
    assert_string_equal(out, "\"\"\"\"");
    assert_int_equal(dbal_quote_ident("\"\"", out, sizeof out), DBAL_OK);
    assert_string_equal(out, "\"\"\"\"\"\"");
    assert_int_equal(dbal_quote_ident("'; DROP TABLE t; --", out, sizeof out), DBAL_OK);
    assert_string_equal(out, "\"'; DROP TABLE t; --\"");

    /* exact fit, one byte short (then ""), and nothing written with cap 0 */
    assert_int_equal(dbal_quote_ident("abc", out, 6), DBAL_OK);
    assert_string_equal(out, "\"abc\"");
    memset(out, 'X', sizeof out);
    assert_int_equal(dbal_quote_ident("abc", out, 5), DBAL_ERANGE);
    assert_string_equal(out, "");
    memset(out, 'X', sizeof out);
    assert_int_equal(dbal_quote_ident("a\"b", out, 6), DBAL_ERANGE); /* "a""b" needs 7 */
    assert_string_equal(out, "");
    assert_int_equal(dbal_quote_ident("a\"b", out, 7), DBAL_OK);
    assert_string_equal(out, "\"a\"\"b\"");
    memset(out, 'X', sizeof out);
    assert_int_equal(dbal_quote_ident("abc", out, 0), DBAL_ERANGE);
    assert_int_equal(out[0], 'X');
    assert_int_equal(dbal_quote_ident("abc", out, 1), DBAL_ERANGE);
    assert_int_equal(out[0], '\0');
    assert_int_equal(out[1], 'X');

    /* 1024 bytes is the longest name; 1025 is EINVAL whatever the buffer */
    char *name = malloc(1026), *big = malloc(4096);
    memset(name, 'n', 1025);
    name[1024] = '\0';
    assert_int_equal(dbal_quote_ident(name, big, 4096), DBAL_OK);
    assert_int_equal(strlen(big), 1026);
    assert_int_equal(dbal_quote_ident(name, big, 1027), DBAL_OK);
    assert_int_equal(dbal_quote_ident(name, big, 1026), DBAL_ERANGE);
    name[1024] = 'n';
    name[1025] = '\0';
    assert_int_equal(dbal_quote_ident(name, big, 4096), DBAL_EINVAL);
    assert_string_equal(big, "");
    /* 1024 quotes: 2050 bytes quoted */
    memset(name, '"', 1024);
    name[1024] = '\0';
    assert_int_equal(dbal_quote_ident(name, big, 4096), DBAL_OK);
    assert_int_equal(strlen(big), 2050);
    assert_int_equal(dbal_quote_ident(name, big, 2050), DBAL_ERANGE);
    assert_int_equal(dbal_quote_ident(name, big, 2051), DBAL_OK);
    free(name);
    free(big);
}

static void quote_ident_in_real_sql(void **state)
{
    SKIP_IF_NO_DB();
    fixture *f = *state;
    static const char *const names[] = {
        "with space",
        "a\"b",
        "\"quoted\"",
        "\"",
        "Mixed Case",
        "select",
        "table",
        "'; DROP TABLE hostile; --",
        "?",
        "$1",
        "-- not a comment",
        "/* not a comment */",
        "a.b",
        "\xc3\xbcn\xc3\xaf"
        "c\xc3\xb6"
        "d\xc3\xa9 \xe8\xa1\xa8",
        "\xf0\x9f\x98\x80",
        "tab\there",
        "back\\slash",
        "%s%n",
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk", /* 63 bytes */
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *name = names[i];
        char qt[300], qc[300], sql[1400];
        /* the table is the name itself; the column is the name too */
        assert_int_equal(dbal_quote_ident(name, qt, sizeof qt), DBAL_OK);
        assert_int_equal(dbal_quote_ident(name, qc, sizeof qc), DBAL_OK);
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", qt);
        OK(f->s, dbal_exec(f->s, sql, DBAL_NOARGS, NULL));
        snprintf(sql, sizeof sql, "CREATE TABLE %s (%s BIGINT, other TEXT)", qt, qc);
        int rc = dbal_exec(f->s, sql, DBAL_NOARGS, NULL);
        if (rc != DBAL_OK)
            fail_msg("name #%zu [%s]: %s: %s", i, name, sql, dbal_session_error(f->s)->message);
        snprintf(sql, sizeof sql, "INSERT INTO %s (%s, other) VALUES (?, ?)", qt, qc);
        OK(f->s, dbal_exec(f->s, sql, DBAL_ARGS(dbal_int64((int64_t)i), dbal_text(name)), NULL));
        snprintf(sql, sizeof sql, "SELECT %s AS %s, other FROM %s WHERE %s = ?", qc, qc, qt, qc);
        dbal_rows *r;
        OK(f->s, dbal_query(f->s, sql, DBAL_ARGS(dbal_int64((int64_t)i)), &r));
        assert_int_equal(dbal_rows_next(r), DBAL_ROW);
        assert_string_equal(dbal_col_name(r, 0), name);
        assert_int_equal(dbal_col_int64(r, 0), (int64_t)i);
        assert_string_equal(dbal_col_text(r, 1), name);
        assert_int_equal(dbal_rows_next(r), DBAL_DONE);
        dbal_rows_close(r);
        snprintf(sql, sizeof sql, "DROP TABLE %s", qt);
        OK(f->s, dbal_exec(f->s, sql, DBAL_NOARGS, NULL));
        assert_table_intact(f->s, 0);
    }
}

/* ------------------------------------------------------------ secrets */

static const char SECRET[] = "S3cr3tPa55-xyz";

/* Fails when text holds the secret, or a fair piece of it. */
static void assert_no_secret(const char *what, const char *text, const char *secret)
{
    if (!text)
        return;
    size_t sl = strlen(secret);
    if (strstr(text, secret))
        fail_msg("%s contains the password: %s", what, text);
    /* a piece of 6 or more bytes left by truncation or partial redaction */
    if (sl >= 8) {
        char piece[7];
        for (size_t i = 0; i + 6 <= sl; i++) {
            memcpy(piece, secret + i, 6);
            piece[6] = '\0';
            if (strstr(text, piece))
                fail_msg("%s contains a piece of the password (%s): %s", what, piece, text);
        }
    }
}

static void assert_log_clean(const char *secret)
{
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < log_count; i++)
        assert_no_secret("a log line", log_lines[i], secret);
    pthread_mutex_unlock(&log_lock);
}

static int have_pg_driver(void)
{
    dbal_engine *e;
    if (dbal_engine_open(&e, "postgresql://localhost/x", NULL) != DBAL_OK)
        return 0;
    dbal_engine_close(e);
    return 1;
}

static int unit_ok(dbal_session *s, void *ud)
{
    (void)ud;
    return dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
}

/* Opens url and, if that works, runs a statement, a query, a transaction
 * and dbal_transact; every message on the way must be free of secret.
 * Returns the first failing code. */
static int provoke(const char *url, const char *secret)
{
    dbal_engine *e = NULL;
    dbal_error err;
    memset(&err, 0, sizeof err);
    int rc = dbal_engine_open(&e, url, &err);
    if (rc != DBAL_OK) {
        assert_true(err.message[0] != '\0');
        assert_no_secret("dbal_engine_open's message", err.message, secret);
        assert_null(e);
        /* the same through the environment */
        setenv("DBAL_HOSTILE_URL", url, 1);
        assert_int_equal(dbal_engine_open_env(&e, "DBAL_HOSTILE_URL", NULL, &err), rc);
        assert_no_secret("dbal_engine_open_env's message", err.message, secret);
        unsetenv("DBAL_HOSTILE_URL");
        assert_log_clean(secret);
        return rc;
    }
    dbal_session *s;
    OK(NULL, dbal_session_open(e, &s, &err));
    int first = dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
    assert_no_secret("dbal_exec's message", dbal_session_error(s)->message, secret);
    dbal_rows *r = NULL;
    int q = dbal_query(s, "SELECT 1", DBAL_NOARGS, &r);
    assert_no_secret("dbal_query's message", dbal_session_error(s)->message, secret);
    if (q == DBAL_OK)
        dbal_rows_close(r);
    dbal_begin(s);
    assert_no_secret("dbal_begin's message", dbal_session_error(s)->message, secret);
    dbal_rollback(s);
    int64_t id;
    dbal_last_insert_id(s, &id);
    assert_no_secret("dbal_last_insert_id's message", dbal_session_error(s)->message, secret);
    dbal_value rows[2] = {dbal_int64(1), dbal_int64(2)};
    dbal_exec_batch(s, "SELECT ?", rows, 1, 2, NULL, NULL);
    assert_no_secret("dbal_exec_batch's message", dbal_session_error(s)->message, secret);
    /* an engine closed with a session open logs; the session then frees it */
    assert_int_equal(dbal_engine_close(e), DBAL_EMISUSE);
    dbal_session_close(s);
    /* dbal_transact fills err */
    OK(NULL, dbal_engine_open(&e, url, &err));
    memset(&err, 0, sizeof err);
    dbal_transact(e, unit_ok, NULL, 1, &err);
    assert_no_secret("dbal_transact's message", err.message, secret);
    OK(NULL, dbal_engine_close(e));
    assert_log_clean(secret);
    return first;
}

/* Messages about URLs that carry a password: none may contain it. */
static void secrets_bad_urls(void **state)
{
    (void)state;
    struct {
        const char *url;
        int want;
    } cases[] = {
        {"postgresql://u:S3cr3tPa55-xyz@127.0.0.1:99999/db", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@127.0.0.1:0/db", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@127.0.0.1:54x/db", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@127.0.0.1:/db", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@[::1/db", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@[::1]x/db", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@h1,h2:bad/db", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@h/db?pool_size=0", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@h/db?pool_size=abc", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@h/db?pool_timeout=-1", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@h/db?pool_pre_ping=maybe", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@h/db?sslmode", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@h/db?=x", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@h/db?x=%zz", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz@h/d%zzb", DBAL_EURL},
        {"postgresql://u:S3cr3t%zzPa55-xyz@h/db", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz%@h/db", DBAL_EURL},
        {"postgresql://u:S3cr3tPa55-xyz%00@h/db", DBAL_EURL},
        {"Postgresql://u:S3cr3tPa55-xyz@h/db", DBAL_EURL},
        {"postgresql:u:S3cr3tPa55-xyz@h/db", DBAL_EURL},
        {"postgresql+Bad://u:S3cr3tPa55-xyz@h/db", DBAL_EURL},
        {"mysql://u:S3cr3tPa55-xyz@h/db", DBAL_ENODRIVER},
        {"postgresql+nosuchdriver://u:S3cr3tPa55-xyz@h/db", DBAL_ENODRIVER},
        {"../postgresql://u:S3cr3tPa55-xyz@h/db", DBAL_EURL},
        {"u:S3cr3tPa55-xyz@h/db", DBAL_EURL}, /* "u" is the scheme, and no // follows */
        {"u://u:S3cr3tPa55-xyz@h/db", DBAL_ENODRIVER},
        {"S3cr3tPa55-xyz", DBAL_EURL},
    };
    int pg = have_pg_driver();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dbal_engine *e = (dbal_engine *)1;
        dbal_error err;
        int rc = dbal_engine_open(&e, cases[i].url, &err);
        if (rc == DBAL_ENODRIVER && !pg && strncmp(cases[i].url, "postgresql://", 13) == 0)
            continue; /* built without the PostgreSQL driver */
        if (rc != cases[i].want)
            fail_msg("%s: %s (%s), expected %s", cases[i].url, dbal_code_name(rc), err.message,
                     dbal_code_name(cases[i].want));
        assert_null(e);
        assert_true(err.message[0] != '\0');
        /* The last case is the bare password: the message may not echo it either. */
        assert_no_secret(cases[i].url, err.message, SECRET);
        assert_no_secret(cases[i].url, err.message, "S3cr3t%zzPa55-xyz");
    }
    assert_log_clean(SECRET);
}

/* A password with an unencoded '?', '#', '/' or '@': the parser cuts it,
 * its tail lands in the query string and comes back as an option's value
 * (or key) in the message about it. None may show any of it, whether the
 * core or the driver writes the message. */
static void secrets_password_cut_by_delimiters(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "postgresql://app:1234?echo=S3cr3tPa55-xyz@db/app",
        "postgresql://app:1234?pool_size=S3cr3tPa55-xyz@db/app",
        "postgresql://app:12/ab?pool_timeout=S3cr3tPa55-xyz@db/app",
        "postgresql://app:12@ab?pool_pre_ping=S3cr3tPa55-xyz@db/app",
        "postgresql://app:12#ab?statement_timeout=S3cr3tPa55-xyz@db/app",
        "postgresql://app:1234?S3cr3tPa55-xyz=1@db/app",
        "postgresql://app:12/ab?S3cr3tPa55-xyz@db/app",
        "sqlite://app:pw1234?echo=S3cr3tPa55-xyz@db/app",
        "sqlite://app:pw@12?max_overflow=S3cr3tPa55-xyz@db/app",
        "sqlite://app:pw#12?S3cr3tPa55-xyz=1@db/app",
        "sqlite://app:pw/12?journal_mode=S3cr3tPa55-xyz@db/app",
        "sqlite://app:pw/12?busy_timeout=S3cr3tPa55-xyz/db@app",
    };
    int pg = have_pg_driver();
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        if (!pg && strncmp(urls[i], "postgresql:", 11) == 0)
            continue;
        dbal_engine *e = (dbal_engine *)1;
        dbal_error err;
        int rc = dbal_engine_open(&e, urls[i], &err);
        if (rc != DBAL_EURL)
            fail_msg("%s: %s (%s), expected DBAL_EURL", urls[i], dbal_code_name(rc), err.message);
        assert_null(e);
        assert_no_secret(urls[i], err.message, SECRET);
    }
    assert_log_clean(SECRET);
}

/* Connections refused or impossible: the messages come from libpq, which
 * names hosts, ports, sockets and users, never the password. No server
 * needed. */
static void secrets_refused_connections(void **state)
{
    (void)state;
    if (!have_pg_driver())
        skip();
    static const char *const urls[] = {
        "postgresql://u:S3cr3tPa55-xyz@127.0.0.1:1/db",
        "postgresql://u:S3cr3tPa55-xyz@127.0.0.1:1,127.0.0.1:2/db?connect_timeout=2",
        "postgresql://u@127.0.0.1:1/db?password=S3cr3tPa55-xyz",
        "postgresql://u:S3cr3t@Pa55-xyz@127.0.0.1:1/db", /* an unencoded @ in the password */
        "postgresql://u:S3cr3tPa55-xyz@%2Ftmp%2Fdbal-no-such-dir/db",
        "postgresql://S3cr3tPa55-xyz:S3cr3tPa55-xyz@127.0.0.1:1/S3cr3tPa55-xyz",
        "postgresql://u:S3cr3tPa55-xyz@127.0.0.1:1/db?sslmode=require&application_name=x",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        const char *secret = i == 3 ? "S3cr3t@Pa55-xyz" : SECRET;
        int rc = provoke(urls[i], secret);
        if (rc != DBAL_ECONNECT)
            fail_msg("%s: %s, expected DBAL_ECONNECT", urls[i], dbal_code_name(rc));
    }
}

/* The URL of the test server with its password replaced by pw (and the
 * database by db when not NULL). */
static void with_password(char *out, size_t cap, const char *pw, const char *db)
{
    const char *auth = strstr(g_url, "://") + 3;
    size_t alen = strcspn(auth, "/?");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    const char *rest = at ? at : auth - 1;
    const char *user_end = colon ? colon : rest;
    const char *path = auth + alen;
    int n;
    if (at)
        n = snprintf(out, cap, "%.*s:%s%.*s", (int)(user_end - g_url), g_url, pw, (int)(path - at), at);
    else
        n = snprintf(out, cap, "%.*s", (int)(path - g_url), g_url);
    if (db)
        snprintf(out + n, cap - (size_t)n, "/%s", db);
    else
        snprintf(out + n, cap - (size_t)n, "%s", path);
}

static void url_password(char *out, size_t cap)
{
    const char *auth = strstr(g_url, "://") + 3;
    size_t alen = strcspn(auth, "/?");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    out[0] = '\0';
    if (colon)
        snprintf(out, cap, "%.*s", (int)(at - colon - 1), colon + 1);
}

/* Against the real server: a wrong password, a missing database, errors in
 * statements; neither the wrong nor the right password shows anywhere. */
static void secrets_against_server(void **state)
{
    (void)state;
    if (!IS_PG || !g_url)
        skip();
    char url[1200], real_pw[256];
    url_password(real_pw, sizeof real_pw);

    with_password(url, sizeof url, "S3cr3tPa55-wrong", NULL);
    int rc = provoke(url, "S3cr3tPa55-wrong");
    assert_int_equal(rc, DBAL_ECONNECT);

    /* a long wrong password: redacted before the message is cut to fit */
    char longpw[700];
    memset(longpw, 'Q', 600);
    memcpy(longpw, "S3cr3tPa55", 10);
    longpw[600] = '\0';
    with_password(url, sizeof url, longpw, NULL);
    assert_int_equal(provoke(url, longpw), DBAL_ECONNECT);

    /* the right password, a database that does not exist */
    with_password(url, sizeof url, real_pw, "dbal_no_such_database");
    rc = provoke(url, real_pw[0] ? real_pw : "\x01");
    assert_int_equal(rc, DBAL_ECONNECT);

    /* the right password and database: statement errors, engine closed with
     * a session holding a connection (logged), a leak report (logged) */
    if (real_pw[0]) {
        snprintf(url, sizeof url, "%s%sleak_detection_threshold=0.01", g_url, strchr(g_url, '?') ? "&" : "?");
        dbal_engine *e;
        dbal_error err;
        OK(NULL, dbal_engine_open(&e, url, &err));
        dbal_session *a, *b;
        OK(NULL, dbal_session_open_labeled(e, &a, "hostile-holder", &err));
        OK(a, dbal_exec(a, "SELECT 1", DBAL_NOARGS, NULL));
        usleep(50 * 1000);
        OK(NULL, dbal_session_open(e, &b, &err));
        OK(b, dbal_exec(b, "SELECT 1", DBAL_NOARGS, NULL)); /* checkout: reports a */
        assert_int_not_equal(dbal_exec(b, "SELECT * FROM no_such_table_hostile", DBAL_NOARGS, NULL), DBAL_OK);
        assert_no_secret("a statement error", dbal_session_error(b)->message, real_pw);
        assert_int_not_equal(dbal_exec(b, "SELECT 1/0", DBAL_NOARGS, NULL), DBAL_OK);
        assert_no_secret("a statement error", dbal_session_error(b)->message, real_pw);
        assert_int_equal(dbal_engine_close(e), DBAL_EMISUSE);
        dbal_session_close(a);
        dbal_session_close(b);
        int leak_logged = 0;
        pthread_mutex_lock(&log_lock);
        for (size_t i = 0; i < log_count; i++)
            leak_logged |= strstr(log_lines[i], "hostile-holder") != NULL;
        pthread_mutex_unlock(&log_lock);
        assert_true(leak_logged);
        assert_log_clean(real_pw);
    }
    assert_log_clean("S3cr3tPa55");
}

/* ------------------------------------------------------------ hostile URLs */

/* A SQLite path whose characters mean something in SQLite's URI filenames
 * (?, #, &, =, %) names exactly that file: nothing is smuggled into the
 * URI's parameters (here: mode=ro), and option values are words only. */
static void urls_hostile_sqlite_paths(void **state)
{
    (void)state;
    if (IS_PG)
        skip();
    char *dir = strdup("/tmp/dbal-hostile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char url[600], file[600];
    snprintf(url, sizeof url, "sqlite://%s/we%%3Fird%%23na%%26me%%3D%%25.db%%3Fmode%%3Dro", dir);
    snprintf(file, sizeof file, "%s/we?ird#na&me=%%.db?mode=ro", dir);
    dbal_engine *e;
    dbal_error err;
    OK(NULL, dbal_engine_open(&e, url, &err));
    dbal_session *s;
    OK(NULL, dbal_session_open(e, &s, &err));
    OK(s, dbal_exec(s, "CREATE TABLE t(x BIGINT)", DBAL_NOARGS, NULL)); /* writable: not mode=ro */
    OK(s, dbal_exec(s, "INSERT INTO t VALUES (1)", DBAL_NOARGS, NULL));
    dbal_session_close(s);
    OK(NULL, dbal_engine_close(e));
    if (access(file, F_OK) != 0)
        fail_msg("%s was not created (url %s)", file, url);
    static const char *const bad[] = {
        "sqlite::memory:?_pragma=foreign_keys(0);DROP TABLE t",
        "sqlite::memory:?_pragma=foreign_keys=0%3B%20DROP%20TABLE%20t",
        "sqlite::memory:?_pragma=a'b",
        "sqlite::memory:?journal_mode=wal;DROP",
        "sqlite::memory:?vfs=unix%26mode%3Dro",
        "sqlite::memory:?mode=ro%26cache%3Dshared",
        "sqlite::memory:?busy_timeout=1%3B",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e = (dbal_engine *)1;
        int rc = dbal_engine_open(&e, bad[i], &err);
        if (rc != DBAL_EURL)
            fail_msg("%s: %s, expected DBAL_EURL", bad[i], dbal_code_name(rc));
        assert_null(e);
        assert_true(err.message[0] != '\0');
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

/* PostgreSQL: URL values reach libpq as values of their keywords, never as
 * connection-string syntax. */
static void urls_hostile_pg_values(void **state)
{
    (void)state;
    if (!IS_PG || !g_url)
        skip();
    char url[1400];
    /* an application_name with quotes, spaces and keyword=value in it */
    const char *app = "x' host=192.0.2.1 port=1 dbname='other";
    snprintf(url, sizeof url,
             "%s%sapplication_name=x%%27%%20host%%3D192.0.2.1%%20port%%3D1%%20dbname%%3D%%27other", g_url,
             strchr(g_url, '?') ? "&" : "?");
    dbal_engine *e;
    dbal_error err;
    OK(NULL, dbal_engine_open(&e, url, &err));
    dbal_session *s;
    OK(NULL, dbal_session_open(e, &s, &err));
    dbal_rows *r;
    OK(s, dbal_query(s, "SELECT current_setting('application_name'), current_database()", DBAL_NOARGS, &r));
    assert_int_equal(dbal_rows_next(r), DBAL_ROW);
    assert_string_equal(dbal_col_text(r, 0), app);
    assert_string_not_equal(dbal_col_text(r, 1), "other");
    dbal_rows_close(r);
    dbal_session_close(s);
    OK(NULL, dbal_engine_close(e));

    /* a database name that is a connection string stays a (missing) name */
    char pw[256];
    url_password(pw, sizeof pw);
    with_password(url, sizeof url, pw, "dbal_test%20host%3D192.0.2.1%20port%3D1");
    OK(NULL, dbal_engine_open(&e, url, &err));
    OK(NULL, dbal_session_open(e, &s, &err));
    int rc = dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
    assert_int_equal(rc, DBAL_ECONNECT);
    if (!strstr(dbal_session_error(s)->message, "does not exist"))
        fail_msg("expected 'database ... does not exist', got: %s", dbal_session_error(s)->message);
    dbal_session_close(s);
    OK(NULL, dbal_engine_close(e));
    /* an option name that is not a libpq keyword is refused when the engine opens */
    snprintf(url, sizeof url, "%s%shost%%3D192.0.2.1=1", g_url, strchr(g_url, '?') ? "&" : "?");
    assert_int_equal(dbal_engine_open(&e, url, &err), DBAL_EURL);
}

/* ------------------------------------------------------------ main */

static int truthy(const char *s)
{
    return s && *s && strcmp(s, "0") != 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s sqlite::memory: | sqlite-file | pg\n", argv[0]);
        return 2;
    }
    dbal_set_log(collect_log, NULL);
    char path[64] = "";
    int skipping = 0;
    if (strcmp(argv[1], "sqlite-file") == 0) {
        g_kind = SQLITE_FILE;
        snprintf(path, sizeof path, "/tmp/dbal_hostile_XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0) {
            perror("mkstemp");
            return 1;
        }
        close(fd);
        snprintf(g_url_buf, sizeof g_url_buf, "sqlite://%s", path);
        g_url = g_url_buf;
    } else if (strcmp(argv[1], "pg") == 0) {
        g_kind = POSTGRESQL;
        const char *env = getenv("DBAL_TEST_PG_URL");
        if (env && *env) {
            snprintf(g_url_buf, sizeof g_url_buf, "%s", env);
            g_url = g_url_buf;
        } else if (truthy(getenv("DBAL_TEST_REQUIRE_PG"))) {
            fprintf(stderr, "test_hostile: DBAL_TEST_REQUIRE_PG is set but DBAL_TEST_PG_URL is not\n");
            return 1;
        } else {
            skipping = 1;
            g_url = NULL;
        }
    } else {
        g_kind = SQLITE_MEMORY;
        g_url = argv[1];
    }

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(values_hostile_text),
        T(values_hostile_batch_and_tx),
        T(values_text_with_nul),
        T(values_invalid_utf8),
        T(values_all_bytes_blob),
        T(values_ten_megabytes),
        T(values_stacked_statements_refused),
        T(values_long_numeric_text_reads_as_double),
        cmocka_unit_test(quote_ident_answers),
        T(quote_ident_in_real_sql),
        cmocka_unit_test(secrets_bad_urls),
        cmocka_unit_test(secrets_password_cut_by_delimiters),
        cmocka_unit_test(secrets_refused_connections),
        cmocka_unit_test(secrets_against_server),
        cmocka_unit_test(urls_hostile_sqlite_paths),
        cmocka_unit_test(urls_hostile_pg_values),
    };
    char group[64];
    snprintf(group, sizeof group, "hostile[%s]",
             g_kind == POSTGRESQL    ? (skipping ? "postgresql: skipped" : "postgresql")
             : g_kind == SQLITE_FILE ? "sqlite file"
                                     : "sqlite::memory:");
    const char *filter = getenv("DBAL_TEST_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    int failed = cmocka_run_group_tests_name(group, tests, NULL, NULL);
    if (path[0]) {
        static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
        for (int k = 0; k < 4; k++) {
            char side[80];
            snprintf(side, sizeof side, "%s%s", path, suffix[k]);
            unlink(side);
        }
    }
    for (size_t i = 0; i < log_count; i++)
        free(log_lines[i]);
    dbal_set_log(NULL, NULL);
    if (skipping && failed == 0)
        return 77;
    return failed == 0 ? 0 : 1;
}
