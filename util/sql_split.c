/* Cutting SQL text into statements; see sql_split.h. */
#include "sql_split.h"

#include "sql_scan.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static void reset(dbal__splitter *sp)
{
    sp->pos = 0;
    sp->in_ident = false;
    sp->open = DBAL__SQL_CODE;
    sp->nonblank = 0;
    sp->words = 0;
    sp->first[0] = '\0';
    sp->returning = 0;
    sp->create_block = 0;
    sp->block_depth = 0;
    sp->start = 0;
}

/* The statement's code begins at text[i]: the first time only. */
static void code_at(dbal__splitter *sp, size_t i)
{
    if (!sp->nonblank)
        sp->start = i;
    sp->nonblank = 1;
}

static size_t newlines(const char *s, size_t n)
{
    size_t count = 0;
    if (!s)
        return 0;
    for (const char *p = s, *end = s + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        count++;
    return count;
}

/* Drops text[0..n), counting the lines it held. */
static void drop(dbal__splitter *sp, size_t n)
{
    sp->lines += newlines(sp->text.data, n);
    dbal__buf_drop(&sp->text, n);
}

void dbal__split_init(dbal__splitter *sp, unsigned dialect, const dbal__alloc *a)
{
    memset(sp, 0, sizeof *sp);
    sp->text = (dbal__buf)DBAL__BUF_INIT(a);
    sp->dialect = dialect;
    reset(sp);
}

void dbal__split_free(dbal__splitter *sp)
{
    dbal__buf_free(&sp->text);
}

bool dbal__split_feed(dbal__splitter *sp, const char *line)
{
    return dbal__buf_append_str(&sp->text, line) && dbal__buf_append(&sp->text, "\n", 1);
}

bool dbal__split_idle(const dbal__splitter *sp)
{
    return !sp->nonblank && sp->open != DBAL__SQL_COMMENT;
}

static int word_is(const char *w, size_t n, const char *kw)
{
    return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

/* A top-level word: remembers what classification and block bodies need. */
static void word(dbal__splitter *sp, const char *w, size_t n)
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

/* The end of the code token at b[i]: a word (handed to word()), a number
 * (1e5 is not the word e5), or one other byte. */
static size_t token(dbal__splitter *sp, const char *b, size_t i)
{
    unsigned char c = (unsigned char)b[i];
    size_t end = i + 1;
    if (!sp->in_ident && dbal__sql_ident_start(c)) {
        while (dbal__sql_in_ident(true, (unsigned char)b[end]))
            end++;
        word(sp, b + i, end - i);
        sp->in_ident = true;
    } else if (!sp->in_ident && isdigit(c)) {
        while (isalnum((unsigned char)b[end]) || b[end] == '.')
            end++;
    } else {
        sp->in_ident = dbal__sql_in_ident(sp->in_ident, c);
    }
    return end;
}

/* Scans from sp->pos; returns the index of a statement-ending ';', or
 * (size_t)-1 when the text holds no complete statement. */
static size_t scan(dbal__splitter *sp)
{
    const char *b = sp->text.data;
    size_t i = sp->pos;
    while (i < sp->text.len) {
        dbal__sql_skip skip;
        if (dbal__sql_skip_at(b + i, sp->dialect, sp->in_ident, &skip)) {
            if (skip.kind == DBAL__SQL_QUOTED)
                code_at(sp, i);
            if (!skip.closed) { /* rescanned from its start when more comes */
                sp->open = skip.kind;
                sp->pos = i;
                return (size_t)-1;
            }
            i = (size_t)(skip.end - b);
            sp->in_ident = false;
        } else if (b[i] == ';' && sp->block_depth == 0) {
            sp->pos = i + 1;
            return i;
        } else if (isspace((unsigned char)b[i])) {
            sp->in_ident = false;
            i++;
        } else {
            code_at(sp, i);
            i = token(sp, b, i);
        }
    }
    sp->open = DBAL__SQL_CODE;
    sp->pos = i;
    return (size_t)-1;
}

/* Makes a statement of text[0..end) and drops text[0..n_drop). */
static int take(dbal__splitter *sp, size_t end, size_t n_drop, dbal__statement *st)
{
    const char *s = sp->text.data;
    while (end > 0 && isspace((unsigned char)s[end - 1]))
        end--;
    size_t start = 0;
    while (start < end && isspace((unsigned char)s[start]))
        start++;
    st->sql = sp->text.a->realloc(NULL, end - start + 1);
    if (!st->sql) {
        sp->text.failed = true; /* the splitter's out-of-memory state */
        return -1;
    }
    memcpy(st->sql, s + start, end - start);
    st->sql[end - start] = '\0';
    memcpy(st->first, sp->first, sizeof st->first);
    st->returning = sp->returning;
    st->line = sp->lines + newlines(s, sp->start) + 1;
    drop(sp, n_drop);
    reset(sp);
    return 1;
}

int dbal__split_next(dbal__splitter *sp, dbal__statement *st)
{
    if (sp->text.failed)
        return -1;
    for (;;) {
        if (!sp->text.data)
            return 0;
        size_t semi = scan(sp);
        if (semi == (size_t)-1)
            return 0;
        if (sp->nonblank)
            return take(sp, semi, semi + 1, st);
        /* ";" alone: drop it and go on. */
        drop(sp, semi + 1);
        reset(sp);
    }
}

int dbal__split_rest(dbal__splitter *sp, dbal__statement *st)
{
    if (sp->text.failed)
        return -1;
    if (!sp->text.data)
        return 0;
    scan(sp);
    if (!sp->nonblank) {
        sp->lines += newlines(sp->text.data, sp->text.len);
        dbal__buf_clear(&sp->text);
        reset(sp);
        return 0;
    }
    return take(sp, sp->text.len, sp->text.len, st);
}
