/*
 * The aligned table, psql's layout: a centred header, a separator, one line
 * per row, columns separated by " | ". Numbers are right-aligned, everything
 * else left-aligned; no line ends in spaces. Text is shown so that it cannot
 * break the layout: control characters as \n, \r, \t or \xNN, bytes that are
 * not UTF-8 as \xNN; blobs as \x and hex digits.
 */
#include "dbal_encode.h"
#include "dbal_formats.h"

#include <stdlib.h>
#include <string.h>

/* A growable byte string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_repeat(sbuf *b, char c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_put(b, &c, 1);
}

/* Display form of a cell, appended to b, NUL-terminated. */
static void render(sbuf *b, const out_cell *c, const char *null_text)
{
    static const char hex[] = "0123456789abcdef";
    if (c->type == DBAL_TYPE_NULL) {
        sb_puts(b, null_text);
    } else if (c->type == DBAL_TYPE_BLOB) {
        const unsigned char *p = (const unsigned char *)c->data;
        sb_puts(b, "\\x");
        for (size_t i = 0; i < c->len; i++) {
            char two[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
            sb_put(b, two, 2);
        }
    } else {
        const unsigned char *p = (const unsigned char *)c->data;
        for (size_t i = 0; i < c->len;) {
            uint32_t cp;
            size_t n = utf8_decode(p + i, c->len - i, &cp);
            if (n == 1 && (cp < 0x20 || cp == 0x7F)) {
                const char *esc = cp == '\n' ? "\\n" : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : NULL;
                if (esc) {
                    sb_puts(b, esc);
                } else {
                    char x[4] = {'\\', 'x', hex[cp >> 4], hex[cp & 15]};
                    sb_put(b, x, 4);
                }
            } else if (n == 0) {
                char x[4] = {'\\', 'x', hex[p[i] >> 4], hex[p[i] & 15]};
                sb_put(b, x, 4);
                n = 1;
            } else {
                sb_put(b, (const char *)p + i, n);
            }
            i += n;
        }
    }
    sb_put(b, "", 1); /* the terminating NUL is part of the row block */
}

/* Terminal columns of rendered (valid UTF-8) text. */
static size_t display_width(const char *s)
{
    size_t w = 0, len = strlen(s);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n == 0) { /* null_text may be anything */
            n = 1;
            cp = '?';
        }
        w += (size_t)char_width(cp);
        i += n;
    }
    return w;
}

struct table {
    int ncols;
    const char *const *names; /* borrowed from the out_result */
    size_t *width;
    int *numeric; /* 1: only numbers seen so far; 0: something else; -1: nothing yet */
    char **rows;  /* each: ncols NUL-terminated strings back to back */
    size_t nrows, cap;
};

table *table_new(int ncols, const char *const *names)
{
    table *t = calloc(1, sizeof *t);
    size_t n = ncols > 0 ? (size_t)ncols : 1;
    if (!t || !(t->width = calloc(n, sizeof *t->width)) || !(t->numeric = calloc(n, sizeof *t->numeric))) {
        table_free(t);
        return NULL;
    }
    t->ncols = ncols;
    t->names = names;
    for (int i = 0; i < ncols; i++) {
        t->width[i] = display_width(names[i]);
        t->numeric[i] = -1;
    }
    return t;
}

int table_add(table *t, const out_cell *cells, const char *null_text)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **rows = realloc(t->rows, cap * sizeof *rows);
        if (!rows)
            return -1;
        t->rows = rows;
        t->cap = cap;
    }
    sbuf b = {0};
    for (int i = 0; i < t->ncols; i++)
        render(&b, &cells[i], null_text);
    if (b.failed || (t->ncols > 0 && !b.p)) {
        free(b.p);
        return -1;
    }
    const char *s = b.p;
    for (int i = 0; i < t->ncols; i++, s += strlen(s) + 1) {
        size_t w = display_width(s);
        if (w > t->width[i])
            t->width[i] = w;
        if (cells[i].type == DBAL_TYPE_INT64 || cells[i].type == DBAL_TYPE_DOUBLE ||
            cells[i].type == DBAL_TYPE_NUMERIC) {
            if (t->numeric[i] == -1)
                t->numeric[i] = 1;
        } else if (cells[i].type != DBAL_TYPE_NULL) {
            t->numeric[i] = 0;
        }
    }
    t->rows[t->nrows++] = b.p;
    return 0;
}

enum align { LEFT, RIGHT, CENTER };

static void cell(sbuf *line, const char *s, size_t width, enum align a)
{
    size_t pad = width - display_width(s);
    size_t before = a == RIGHT ? pad : a == CENTER ? pad / 2 : 0;
    sb_repeat(line, ' ', before);
    sb_puts(line, s);
    sb_repeat(line, ' ', pad - before);
}

/* Writes the line without trailing spaces, then empties it. */
static void flush_line(sbuf *line, FILE *f)
{
    size_t n = line->len;
    while (n > 0 && line->p[n - 1] == ' ')
        n--;
    if (n > 0)
        fwrite(line->p, 1, n, f);
    putc('\n', f);
    line->len = 0;
}

void table_print(const table *t, FILE *f)
{
    if (t->ncols == 0)
        return;
    sbuf line = {0};
    for (int i = 0; i < t->ncols; i++) {
        sb_puts(&line, i ? "| " : " ");
        cell(&line, t->names[i], t->width[i], CENTER);
        sb_puts(&line, " ");
    }
    flush_line(&line, f);
    for (int i = 0; i < t->ncols; i++) {
        if (i)
            sb_puts(&line, "+");
        sb_repeat(&line, '-', t->width[i] + 2);
    }
    flush_line(&line, f);
    for (size_t r = 0; r < t->nrows; r++) {
        const char *s = t->rows[r];
        for (int i = 0; i < t->ncols; i++, s += strlen(s) + 1) {
            sb_puts(&line, i ? "| " : " ");
            cell(&line, s, t->width[i], t->numeric[i] == 1 ? RIGHT : LEFT);
            sb_puts(&line, " ");
        }
        flush_line(&line, f);
    }
    free(line.p);
}

void table_free(table *t)
{
    if (!t)
        return;
    for (size_t r = 0; r < t->nrows; r++)
        free(t->rows[r]);
    free(t->rows);
    free(t->width);
    free(t->numeric);
    free(t);
}
