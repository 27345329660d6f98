/* The SQL scanner; see sql_scan.h. */
#include "sql_scan.h"

#include <stddef.h>
#include <string.h>

bool dbal__sql_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* A dollar-quote tag character. Identifiers also continue with `$`, tags do not. */
static bool is_tag_char(unsigned char c)
{
    return dbal__sql_ident_start(c) || (c >= '0' && c <= '9');
}

bool dbal__sql_in_ident(bool in_ident, unsigned char c)
{
    return in_ident ? (is_tag_char(c) || c == '$') : dbal__sql_ident_start(c);
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

/* p is just past the opening quote q; returns the end of the literal, or
 * NULL when the input ends inside it. A doubled quote stands for itself; in
 * an E'' string (escapes) a backslash hides the next byte. Standard strings
 * can be continued too, but that changes nothing here, as a continued
 * standard literal is scanned the same as two. */
static const char *skip_quoted(const char *p, char q, bool escapes)
{
    const char *next;
    for (;;) {
        if (*p == '\0')
            return NULL;
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
            if (--depth == 0)
                return p + 2;
            p += 2;
        } else {
            p++;
        }
    }
    return NULL;
}

/* p is at a `$` that does not continue an identifier: the length of the
 * dollar-quote delimiter that starts there, or 0 when it is not one (a `$1`
 * parameter, or a lone `$`). */
static size_t dollar_tag(const char *p)
{
    const char *q = p + 1;
    if (dbal__sql_ident_start((unsigned char)*q))
        while (is_tag_char((unsigned char)*q))
            q++;
    return *q == '$' ? (size_t)(q + 1 - p) : 0;
}

/* The body ends only at the very same delimiter, wherever it appears:
 * scan.l re-examines every `$` inside the body. strncmp stops at the
 * input's NUL, so a short tail is never over-read. */
static const char *skip_dollar_body(const char *p, size_t n)
{
    for (const char *q = p + n; (q = strchr(q, '$')) != NULL; q++)
        if (strncmp(q, p, n) == 0)
            return q + n;
    return NULL;
}

static bool found(dbal__sql_skip *out, int kind, const char *end, const char *p)
{
    out->kind = kind;
    out->closed = end != NULL;
    out->end = end ? end : p + strlen(p);
    return true;
}

bool dbal__sql_skip_at(const char *p, unsigned dialect, bool after_ident, dbal__sql_skip *out)
{
    bool pg = dialect & DBAL__SQL_POSTGRESQL;
    switch (*p) {
    case '\'':
    case '"': return found(out, DBAL__SQL_QUOTED, skip_quoted(p + 1, *p, false), p);
    case '`':
        if (dialect & DBAL__SQL_SQLITE)
            return found(out, DBAL__SQL_QUOTED, skip_quoted(p + 1, '`', false), p);
        break;
    case 'E':
    case 'e': /* in "type'...'", e is a letter */
        if (pg && p[1] == '\'' && !after_ident)
            return found(out, DBAL__SQL_QUOTED, skip_quoted(p + 2, '\'', true), p);
        break;
    case '-':
        if (p[1] == '-')
            return found(out, DBAL__SQL_COMMENT, p + 2 + strcspn(p + 2, "\n\r"), p);
        break;
    case '/':
        if (p[1] == '*')
            return found(out, DBAL__SQL_COMMENT, skip_block_comment(p + 2), p);
        break;
    case '$': { /* in a$b$c, $b$ is not a quote */
        size_t n = pg && !after_ident ? dollar_tag(p) : 0;
        if (n)
            return found(out, DBAL__SQL_QUOTED, skip_dollar_body(p, n), p);
        break;
    }
    default: break;
    }
    return false;
}
