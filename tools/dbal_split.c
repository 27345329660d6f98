/* Cutting the shell's input into statements; see dbal_split.h. */
#include "dbal_split.h"

#include <dbal.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    NORMAL,
    SQUOTE,   /* '...' */
    ESQUOTE,  /* E'...', backslash escapes */
    DQUOTE,   /* "..." */
    BACKTICK, /* `...` (SQLite, MySQL) */
    LINE_COMMENT,
    BLOCK_COMMENT,
    DOLLAR /* $tag$...$tag$ */
};

static int ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

static int ident_char(unsigned char c)
{
    return ident_start(c) || isdigit(c) || c == '$';
}

static void reset(splitter *sp)
{
    sp->pos = 0;
    sp->state = NORMAL;
    sp->comment_depth = 0;
    sp->nonblank = 0;
    sp->words = 0;
    sp->first[0] = '\0';
    sp->returning = 0;
    sp->create_block = 0;
    sp->block_depth = 0;
}

void split_init(splitter *sp)
{
    memset(sp, 0, sizeof *sp);
    reset(sp);
}

void split_free(splitter *sp)
{
    free(sp->buf);
    memset(sp, 0, sizeof *sp);
}

int split_feed(splitter *sp, const char *line)
{
    size_t n = strlen(line);
    if (sp->len + n + 2 > sp->cap) {
        size_t cap = sp->cap ? sp->cap : 256;
        while (cap < sp->len + n + 2)
            cap *= 2;
        char *p = realloc(sp->buf, cap);
        if (!p) {
            sp->failed = 1;
            return -1;
        }
        sp->buf = p;
        sp->cap = cap;
    }
    memcpy(sp->buf + sp->len, line, n);
    sp->len += n;
    sp->buf[sp->len++] = '\n';
    sp->buf[sp->len] = '\0';
    return 0;
}

int split_idle(const splitter *sp)
{
    return !sp->nonblank && sp->state != BLOCK_COMMENT;
}

static int word_is(const char *w, size_t n, const char *kw)
{
    return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

/* A top-level word: remembers what classification and block bodies need. */
static void word(splitter *sp, const char *w, size_t n)
{
    sp->words++;
    if (sp->words == 1) {
        size_t k = n < sizeof sp->first - 1 ? n : sizeof sp->first - 1;
        for (size_t i = 0; i < k; i++)
            sp->first[i] = (char)toupper((unsigned char)w[i]);
        sp->first[k] = '\0';
    }
    if (word_is(w, n, "RETURNING"))
        sp->returning = 1;
    /* CREATE [OR REPLACE] [TEMP] [CONSTRAINT] TRIGGER | FUNCTION | PROCEDURE */
    if (sp->words <= 5 && strcmp(sp->first, "CREATE") == 0 &&
        (word_is(w, n, "TRIGGER") || word_is(w, n, "FUNCTION") || word_is(w, n, "PROCEDURE")))
        sp->create_block = 1;
    if (sp->create_block) {
        if (word_is(w, n, "BEGIN") || word_is(w, n, "CASE"))
            sp->block_depth++;
        else if (word_is(w, n, "END") && sp->block_depth > 0)
            sp->block_depth--;
    }
}

/* Length of a dollar-quote tag ($$ or $name$) starting at s[0] == '$', or 0. */
static size_t dollar_tag(const char *s)
{
    size_t i = 1;
    if (s[i] != '$') {
        if (!ident_start((unsigned char)s[i]) || s[i] == '$')
            return 0;
        while (ident_char((unsigned char)s[i]) && s[i] != '$')
            i++;
        if (s[i] != '$')
            return 0;
    }
    return i + 1;
}

/* Scans from sp->pos; returns the index of a statement-ending ';', or
 * (size_t)-1 when the buffer holds no complete statement. */
static size_t scan(splitter *sp)
{
    char *b = sp->buf;
    for (size_t i = sp->pos; i < sp->len; i++) {
        char c = b[i], next = b[i + 1]; /* b[len] is NUL */
        switch (sp->state) {
        case NORMAL:
            if (c == '-' && next == '-') {
                sp->state = LINE_COMMENT;
                i++;
            } else if (c == '/' && next == '*') {
                sp->state = BLOCK_COMMENT;
                sp->comment_depth = 1;
                i++;
            } else if (c == ';') {
                if (sp->block_depth == 0) {
                    sp->pos = i + 1;
                    return i;
                }
            } else if (isspace((unsigned char)c)) {
                /* nothing */
            } else {
                sp->nonblank = 1;
                if (c == '\'') {
                    int e = i > 0 && (b[i - 1] == 'e' || b[i - 1] == 'E') &&
                            (i < 2 || !ident_char((unsigned char)b[i - 2]));
                    sp->state = e ? ESQUOTE : SQUOTE;
                } else if (c == '"') {
                    sp->state = DQUOTE;
                } else if (c == '`') {
                    sp->state = BACKTICK;
                } else if (c == '$' && (i == 0 || !ident_char((unsigned char)b[i - 1])) &&
                           dollar_tag(b + i)) {
                    sp->tag_start = i;
                    sp->tag_len = dollar_tag(b + i);
                    sp->state = DOLLAR;
                    i += sp->tag_len - 1;
                } else if (ident_start((unsigned char)c)) {
                    size_t end = i;
                    while (end < sp->len && ident_char((unsigned char)b[end]))
                        end++;
                    if (!(end - i == 1 && (c == 'e' || c == 'E') && b[end] == '\''))
                        word(sp, b + i, end - i);
                    i = end - 1;
                } else if (isdigit((unsigned char)c)) {
                    while (i + 1 < sp->len && (isalnum((unsigned char)b[i + 1]) || b[i + 1] == '.'))
                        i++;
                }
            }
            break;
        case SQUOTE:
        case DQUOTE:
        case BACKTICK: {
            char q = sp->state == SQUOTE ? '\'' : sp->state == DQUOTE ? '"' : '`';
            if (c == q) {
                if (next == q)
                    i++;
                else
                    sp->state = NORMAL;
            }
            break;
        }
        case ESQUOTE:
            if (c == '\\')
                i++;
            else if (c == '\'' && next == '\'')
                i++;
            else if (c == '\'')
                sp->state = NORMAL;
            break;
        case LINE_COMMENT:
            if (c == '\n')
                sp->state = NORMAL;
            break;
        case BLOCK_COMMENT:
            if (c == '/' && next == '*') {
                sp->comment_depth++;
                i++;
            } else if (c == '*' && next == '/') {
                i++;
                if (--sp->comment_depth == 0)
                    sp->state = NORMAL;
            }
            break;
        case DOLLAR:
            if (c == '$' && i + sp->tag_len <= sp->len &&
                memcmp(b + i, b + sp->tag_start, sp->tag_len) == 0) {
                i += sp->tag_len - 1;
                sp->state = NORMAL;
            }
            break;
        }
    }
    sp->pos = sp->len;
    return (size_t)-1;
}

/* Makes a statement of buf[0..end) and drops buf[0..drop) from the buffer. */
static int take(splitter *sp, size_t end, size_t drop, statement *st)
{
    const char *s = sp->buf;
    while (end > 0 && isspace((unsigned char)s[end - 1]))
        end--;
    size_t start = 0;
    while (start < end && isspace((unsigned char)s[start]))
        start++;
    st->sql = malloc(end - start + 1);
    if (st->sql) {
        memcpy(st->sql, s + start, end - start);
        st->sql[end - start] = '\0';
    } else {
        sp->failed = 1;
    }
    memcpy(st->first, sp->first, sizeof st->first);
    st->returning = sp->returning;
    memmove(sp->buf, sp->buf + drop, sp->len - drop + 1);
    sp->len -= drop;
    reset(sp);
    return st->sql != NULL;
}

int split_next(splitter *sp, statement *st)
{
    for (;;) {
        if (!sp->buf)
            return 0;
        size_t semi = scan(sp);
        if (semi == (size_t)-1)
            return 0;
        if (sp->nonblank)
            return take(sp, semi, semi + 1, st);
        /* ";" alone: drop it and go on. */
        memmove(sp->buf, sp->buf + semi + 1, sp->len - semi);
        sp->len -= semi + 1;
        reset(sp);
    }
}

int split_rest(splitter *sp, statement *st)
{
    if (!sp->buf)
        return 0;
    scan(sp);
    if (!sp->nonblank) {
        sp->len = 0;
        sp->buf[0] = '\0';
        reset(sp);
        return 0;
    }
    return take(sp, sp->len, sp->len, st);
}

/* ---- classification ---------------------------------------------------------- */

/* Upper-cased words of a statement that has no quotes or comments, split on
 * space and commas; 0 when it has something else or too many words. */
static int simple_words(const char *sql, char words[][16], int max)
{
    int n = 0;
    if (strpbrk(sql, "'\"`$-/;(") != NULL)
        return 0;
    const char *p = sql;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == ','))
            p++;
        if (!*p)
            break;
        size_t len = 0;
        while (p[len] && !isspace((unsigned char)p[len]) && p[len] != ',')
            len++;
        if (n == max || len >= 16)
            return 0;
        for (size_t i = 0; i < len; i++)
            words[n][i] = (char)toupper((unsigned char)p[i]);
        words[n][len] = '\0';
        n++;
        p += len;
    }
    return n;
}

static int is(const char *w, const char *kw)
{
    return strcmp(w, kw) == 0;
}

/* Transaction modes after BEGIN / START TRANSACTION; -1 when not understood. */
static long tx_modes(char words[][16], int i, int n)
{
    unsigned opts = 0;
    while (i < n) {
        if (i + 2 < n && is(words[i], "ISOLATION") && is(words[i + 1], "LEVEL")) {
            i += 2;
            if (is(words[i], "SERIALIZABLE")) {
                opts |= DBAL_TX_SERIALIZABLE;
                i += 1;
            } else if (i + 1 < n && is(words[i], "REPEATABLE") && is(words[i + 1], "READ")) {
                opts |= DBAL_TX_REPEATABLE_READ;
                i += 2;
            } else if (i + 1 < n && is(words[i], "READ") &&
                       (is(words[i + 1], "COMMITTED") || is(words[i + 1], "UNCOMMITTED"))) {
                opts |= DBAL_TX_READ_COMMITTED;
                i += 2;
            } else {
                return -1;
            }
        } else if (i + 1 < n && is(words[i], "READ") && is(words[i + 1], "ONLY")) {
            opts |= DBAL_TX_READ_ONLY;
            i += 2;
        } else if (i + 1 < n && is(words[i], "READ") && is(words[i + 1], "WRITE")) {
            i += 2;
        } else if (is(words[i], "DEFERRABLE")) {
            opts |= DBAL_TX_DEFERRABLE;
            i += 1;
        } else if (i + 1 < n && is(words[i], "NOT") && is(words[i + 1], "DEFERRABLE")) {
            i += 2;
        } else {
            return -1;
        }
    }
    return (long)opts;
}

stmt_kind stmt_classify(const statement *st, unsigned *tx_options)
{
    static const char *const rows[] = {"SELECT", "WITH", "VALUES", "TABLE", "SHOW",
                                       "EXPLAIN", "PRAGMA", "FETCH"};
    static const char *const changes[] = {"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE"};
    char w[8][16];
    int n = simple_words(st->sql, w, 8);
    *tx_options = 0;
    if (n > 0) {
        int opt_word = (n >= 2 && (is(w[1], "WORK") || is(w[1], "TRANSACTION"))) ? 2 : 1;
        long modes = -1;
        if (is(w[0], "BEGIN"))
            modes = tx_modes(w, opt_word, n);
        else if (n >= 2 && is(w[0], "START") && is(w[1], "TRANSACTION"))
            modes = tx_modes(w, 2, n);
        if (modes >= 0) {
            *tx_options = (unsigned)modes;
            return STMT_BEGIN;
        }
        if (n == opt_word && (is(w[0], "COMMIT") || is(w[0], "END")))
            return STMT_COMMIT;
        if (n == opt_word && (is(w[0], "ROLLBACK") || is(w[0], "ABORT")))
            return STMT_ROLLBACK;
        if (is(w[0], "ROLLBACK") && n > opt_word && is(w[opt_word], "TO"))
            return STMT_OTHER; /* ROLLBACK TO SAVEPOINT: plain SQL */
    }
    static const char *const tx_words[] = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"};
    for (size_t i = 0; i < sizeof tx_words / sizeof *tx_words; i++)
        if (is(st->first, tx_words[i]) && (n > 0 || !is(st->first, "ROLLBACK")))
            return STMT_TX_OTHER;
    if (st->returning)
        return STMT_ROWS;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        if (is(st->first, rows[i]))
            return STMT_ROWS;
    for (size_t i = 0; i < sizeof changes / sizeof *changes; i++)
        if (is(st->first, changes[i]))
            return STMT_CHANGE;
    return STMT_OTHER;
}
