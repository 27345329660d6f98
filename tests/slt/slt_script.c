/* Reading sqllogictest scripts, written from the format's description
 * (https://www.sqlite.org/sqllogictest/doc/trunk/about.wiki): records are
 * separated by blank lines; '#' lines are comments; skipif/onlyif lines
 * come before a record's first line. */
#include "slt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slt_script {
    FILE *f;
    int line;
    char *buf;
    size_t cap;
};

slt_script *slt_script_open(const char *path)
{
    slt_script *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (!(s->f = fopen(path, "r"))) {
        free(s);
        return NULL;
    }
    return s;
}

void slt_script_close(slt_script *s)
{
    if (!s)
        return;
    fclose(s->f);
    free(s->buf);
    free(s);
}

/* The next line without its end, or NULL at the end of the file. */
static char *next_line(slt_script *s)
{
    ssize_t n = getline(&s->buf, &s->cap, s->f);
    if (n < 0)
        return NULL;
    s->line++;
    while (n > 0 && (s->buf[n - 1] == '\n' || s->buf[n - 1] == '\r'))
        s->buf[--n] = '\0';
    return s->buf;
}

static int blank(const char *l)
{
    return l[strspn(l, " \t")] == '\0';
}

static char *dup_word(const char *l, int n)
{
    /* The n-th blank-separated word of l (0-based), or NULL. */
    for (int i = 0;; i++) {
        l += strspn(l, " \t");
        size_t w = strcspn(l, " \t");
        if (w == 0)
            return NULL;
        if (i == n)
            return strndup(l, w);
        l += w;
    }
}

static int append(char **text, const char *line)
{
    size_t old = *text ? strlen(*text) : 0, add = strlen(line);
    char *p = realloc(*text, old + add + 2);
    if (!p)
        return -1;
    if (old)
        p[old++] = '\n';
    memcpy(p + old, line, add + 1);
    *text = p;
    return 0;
}

/* SQL lines up to a blank line or (queries) "----"; then the results. */
static int read_body(slt_script *s, slt_record *rec)
{
    char *l;
    int in_results = 0;
    while ((l = next_line(s)) && !blank(l)) {
        if (rec->kind == SLT_QUERY && !in_results && strcmp(l, "----") == 0) {
            in_results = 1;
            continue;
        }
        if (!in_results) {
            if (append(&rec->sql, l))
                return -1;
            continue;
        }
        char **e = realloc(rec->expected, (rec->nexpected + 1) * sizeof *e);
        if (!e)
            return -1;
        rec->expected = e;
        if (!(e[rec->nexpected] = strdup(l)))
            return -1;
        rec->nexpected++;
    }
    return rec->sql ? 0 : -1;
}

static int header(slt_script *s, const char *l, slt_record *rec)
{
    if (strncmp(l, "statement ", 10) == 0) {
        rec->kind = SLT_STATEMENT;
        rec->expect_error = strstr(l + 10, "error") != NULL;
        return read_body(s, rec);
    }
    if (strncmp(l, "query ", 6) == 0) {
        rec->kind = SLT_QUERY;
        rec->types = dup_word(l, 1);
        char *sort = dup_word(l, 2);
        rec->sort = sort ? sort[0] : 'n';
        free(sort);
        return rec->types ? read_body(s, rec) : -1;
    }
    if (strncmp(l, "hash-threshold", 14) == 0) {
        rec->kind = SLT_HASH_THRESHOLD;
        rec->threshold = atoi(l + 14);
        return 0;
    }
    if (strcmp(l, "halt") == 0) {
        rec->kind = SLT_HALT;
        return 0;
    }
    return -1;
}

int slt_script_next(slt_script *s, slt_record *rec)
{
    char *l;
    memset(rec, 0, sizeof *rec);
    while ((l = next_line(s))) {
        if (blank(l) || l[0] == '#')
            continue;
        if (!rec->line)
            rec->line = s->line;
        if (strncmp(l, "skipif ", 7) == 0 || strncmp(l, "onlyif ", 7) == 0) {
            int skip = l[0] == 's';
            char **list = skip ? rec->skipif : rec->onlyif;
            int *n = skip ? &rec->nskipif : &rec->nonlyif;
            if (*n < 8)
                list[(*n)++] = dup_word(l, 1);
            continue;
        }
        if (header(s, l, rec) == 0)
            return 1;
        fprintf(stderr, "line %d: malformed record: %s\n", rec->line, l);
        return -1;
    }
    return 0;
}

void slt_record_free(slt_record *rec)
{
    for (int i = 0; i < rec->nskipif; i++)
        free(rec->skipif[i]);
    for (int i = 0; i < rec->nonlyif; i++)
        free(rec->onlyif[i]);
    for (size_t i = 0; i < rec->nexpected; i++)
        free(rec->expected[i]);
    free(rec->expected);
    free(rec->sql);
    free(rec->types);
    memset(rec, 0, sizeof *rec);
}

int slt_record_applies(const slt_record *rec, const char *engine)
{
    for (int i = 0; i < rec->nskipif; i++)
        if (rec->skipif[i] && strcmp(rec->skipif[i], engine) == 0)
            return 0;
    if (rec->nonlyif == 0)
        return 1;
    for (int i = 0; i < rec->nonlyif; i++)
        if (rec->onlyif[i] && strcmp(rec->onlyif[i], engine) == 0)
            return 1;
    return 0;
}
