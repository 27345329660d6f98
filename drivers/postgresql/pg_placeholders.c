/*
 * `?` to `$n` for the statements the driver sends: the driver's own copy of
 * the scanner the core lends through the host table (rewrite_dollar), so
 * that the driver needs nothing of the host but its allocator and its error
 * functions. The host's slot stays in the ABI for drivers built elsewhere.
 *
 * The scanner follows PostgreSQL's lexer (src/backend/parser/scan.l) just far
 * enough to know which `?` are outside literals and comments: everything it
 * skips is copied byte for byte, and malformed input (an unterminated string,
 * comment or dollar quote) is copied to the end so that the server, not dbal,
 * reports the syntax error.
 */
#include "pg_stmt.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The output bound below allows 10 digits per placeholder number. */
_Static_assert(INT_MAX <= 2147483647, "placeholder numbers must fit in 10 digits");

/* Bytes >= 0x80 are letters to PostgreSQL (any multibyte character can start
 * an identifier); taking unsigned char keeps that test meaningful where plain
 * char is signed. */
static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* A dollar-quote tag character. Identifiers also continue with `$`, tags do not. */
static bool is_tag_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* p is at a quote that closed an E'' string. As in the SQL standard, a next
 * quote after whitespace holding a newline (-- comments allowed, not block
 * comments) continues the same literal, and the escape rules carry over to it.
 * Returns just past that quote, or NULL when the literal really ended. */
static const char *e_continuation(const char *p)
{
    bool newline = false;
    for (p++;; p++) {
        if (p[0] == '-' && p[1] == '-')
            p += strcspn(p, "\n\r");
        if (!is_space(*p))
            break;
        newline = newline || *p == '\n' || *p == '\r';
    }
    return newline && *p == '\'' ? p + 1 : NULL;
}

/* p is just past the opening quote q; returns the end of the literal. A doubled
 * quote stands for itself; in an E'' string (escapes) a backslash hides the
 * next byte. Standard strings can be continued too, but that changes nothing
 * here, as a continued standard literal is scanned the same as two. */
static const char *skip_quoted(const char *p, char q, bool escapes)
{
    const char *next;
    for (;;) {
        if (*p == '\0')
            return p;
        if (*p == '\\' && escapes) {
            if (*++p != '\0') /* a trailing backslash must not step over the NUL */
                p++;
        } else if (*p != q) {
            p++;
        } else if (p[1] == q) {
            p += 2;
        } else if (escapes && (next = e_continuation(p)) != NULL) {
            p = next;
        } else {
            return p + 1;
        }
    }
}

/* p is just past the opening slash-star. Unlike the SQL standard, PostgreSQL
 * nests these comments, so a `*` `/` only ends the outermost one. */
static const char *skip_block_comment(const char *p)
{
    size_t depth = 1;
    while (*p != '\0') {
        if (p[0] == '/' && p[1] == '*') {
            depth++;
            p += 2;
        } else if (p[0] == '*' && p[1] == '/') {
            p += 2;
            if (--depth == 0)
                break;
        } else {
            p++;
        }
    }
    return p;
}

/* p is at a `$` that does not continue an identifier. Returns the end of the
 * dollar-quoted literal that starts there, or NULL when it is not one (a `$1`
 * parameter, or a lone `$`). The body ends only at the very same delimiter,
 * wherever it appears: scan.l re-examines every `$` inside the body. */
static const char *skip_dollar_quote(const char *p, const char *end)
{
    const char *q = p + 1;
    size_t n;
    if (is_ident_start((unsigned char)*q))
        while (is_tag_char((unsigned char)*q))
            q++;
    if (*q != '$')
        return NULL;
    n = (size_t)(q + 1 - p);
    /* strncmp stops at the input's NUL, so a short tail is never over-read. */
    for (q++; (q = strchr(q, '$')) != NULL; q++)
        if (strncmp(q, p, n) == 0)
            return q + n;
    return end;
}

static char *put_param(char *o, int n)
{
    char digits[10];
    size_t k = 0;
    do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    *o++ = '$';
    while (k > 0)
        *o++ = digits[--k];
    return o;
}

int pg_rewrite_dollar(const char *sql, char **out, int *nparams)
{
    size_t len = strlen(sql), marks = 0;
    const char *end = sql + len, *p;
    char *buf, *o;
    int n = 0;
    bool in_ident = false; /* the previous byte belongs to an unquoted identifier */

    /* Counting every `?`, quoted or not, bounds the output in one cheap pass so
     * the scanner never has to grow its buffer. */
    for (p = sql; (p = strchr(p, '?')) != NULL; p++)
        marks++;
    *out = NULL;
    *nparams = 0;
    /* A `?` grows by at most 12 bytes: "$", 10 digits and two spaces. */
    if (marks > INT_MAX || marks > (SIZE_MAX - len - 1) / 12)
        return DBAL_ENOMEM; /* more parameters than can be numbered or stored */
    buf = pg_host->malloc(len + marks * 12 + 1);
    if (buf == NULL)
        return DBAL_ENOMEM;

    for (p = sql, o = buf; *p != '\0';) {
        unsigned char c = (unsigned char)*p;
        const char *skip = NULL; /* end of a literal or comment starting at p */

        if (c == '?') {
            if (p[1] == '?') {
                *o++ = '?';
                p += 2;
            } else {
                /* Keep $n a token of its own: glued to a letter before it, it
                 * would continue that identifier (LIKE? is not LIKE$1), and
                 * before one it would be "trailing junk" ($1AND) or another
                 * number (?1 is not $11). */
                if (in_ident)
                    *o++ = ' ';
                o = put_param(o, ++n);
                if (is_tag_char((unsigned char)p[1]))
                    *o++ = ' ';
                p++;
            }
            in_ident = false;
            continue;
        }
        if (c == '\'' || c == '"')
            skip = skip_quoted(p + 1, (char)c, false);
        else if ((c == 'E' || c == 'e') && p[1] == '\'' && !in_ident)
            skip = skip_quoted(p + 2, '\'', true); /* in "type'...'", e is a letter */
        else if (c == '-' && p[1] == '-')
            skip = p + 2 + strcspn(p + 2, "\n\r");
        else if (c == '/' && p[1] == '*')
            skip = skip_block_comment(p + 2);
        else if (c == '$' && !in_ident)
            skip = skip_dollar_quote(p, end); /* in a$b$c, $b$ is not a quote */

        if (skip != NULL) {
            memcpy(o, p, (size_t)(skip - p));
            o += skip - p;
            p = skip;
            in_ident = false;
        } else {
            /* A number is not an identifier: 1$$...$$ opens a dollar quote. */
            in_ident = in_ident ? (is_tag_char(c) || c == '$') : is_ident_start(c);
            *o++ = *p++;
        }
    }
    *o = '\0';
    *out = buf;
    *nparams = n;
    return DBAL_OK;
}

/* The count is checked here, before anything of the statement is sent:
 * the server would only say "bind message supplies 1 parameters, but
 * prepared statement requires 2". */
int pg_stmt_rewrite(const char *sql, size_t nparams, char **out, dbal_error *err)
{
    int count;
    if (pg_rewrite_dollar(sql, out, &count) != DBAL_OK)
        return pg_error_nomem(err);
    if (count < 0 || (size_t)count != nparams) {
        pg_host->free(*out);
        *out = NULL;
        pg_host->set_error(err, DBAL_EMISUSE, NULL, 0,
                           "statement has %d placeholder%s, %zu parameter%s given", count,
                           count == 1 ? "" : "s", nparams, nparams == 1 ? "" : "s");
        return DBAL_EMISUSE;
    }
    return DBAL_OK;
}
