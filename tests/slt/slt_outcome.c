/* What a library answered, and the two comparisons: dbal against the raw
 * library (typed values, exactly), and a library against the script's
 * expected answer (values formatted as sqllogictest prints them). */
#include "slt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void slt_outcome_reset(slt_outcome *o)
{
    for (size_t i = 0; i < o->nvalues; i++)
        free(o->values[i].bytes);
    o->nvalues = 0;
    o->ncols = 0;
    o->failed = 0;
    o->code = 0;
    o->native = 0;
    o->sqlstate[0] = '\0';
    o->message[0] = '\0';
    o->affected = -1;
}

void slt_outcome_free(slt_outcome *o)
{
    slt_outcome_reset(o);
    free(o->values);
    o->values = NULL;
    o->cap = 0;
}

int slt_outcome_add(slt_outcome *o, slt_vkind kind, int64_t i, double d, const void *bytes, size_t len)
{
    if (o->nvalues == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        slt_value *v = realloc(o->values, cap * sizeof *v);
        if (!v)
            return -1;
        o->values = v;
        o->cap = cap;
    }
    slt_value *v = &o->values[o->nvalues];
    *v = (slt_value){.kind = kind, .i = i, .d = d};
    if (kind == SLT_TEXT || kind == SLT_BLOB) {
        if (!(v->bytes = malloc(len + 1)))
            return -1;
        memcpy(v->bytes, bytes, len);
        v->bytes[len] = '\0';
        v->len = len;
    }
    o->nvalues++;
    return 0;
}

/* ---- dbal against the raw library ---------------------------------------- */

static int value_cmp(const slt_value *a, const slt_value *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    switch (a->kind) {
    case SLT_INT: return a->i < b->i ? -1 : a->i > b->i;
    case SLT_REAL:
        if (isnan(a->d) || isnan(b->d))
            return isnan(a->d) - isnan(b->d);
        return memcmp(&a->d, &b->d, sizeof a->d);
    case SLT_TEXT:
    case SLT_BLOB: {
        int c = memcmp(a->bytes, b->bytes, a->len < b->len ? a->len : b->len);
        return c ? c : a->len < b->len ? -1 : a->len > b->len;
    }
    default: return 0;
    }
}

static int row_cmp(const void *x, const void *y, void *ncols)
{
    const slt_value *a = *(slt_value *const *)x, *b = *(slt_value *const *)y;
    for (int c = 0; c < *(int *)ncols; c++) {
        int d = value_cmp(&a[c], &b[c]);
        if (d)
            return d;
    }
    return 0;
}

/* The rows of o, sorted: the differential compares multisets of rows, as
 * the same SQL may legitimately return rows in another order. */
static slt_value **sorted_rows(const slt_outcome *o, size_t nrows)
{
    slt_value **rows = malloc((nrows ? nrows : 1) * sizeof *rows);
    if (!rows)
        return NULL;
    for (size_t r = 0; r < nrows; r++)
        rows[r] = &o->values[r * (size_t)o->ncols];
    int ncols = o->ncols;
    qsort_r(rows, nrows, sizeof *rows, row_cmp, &ncols);
    return rows;
}

static void describe(const slt_value *v, char *buf, size_t cap)
{
    static const char *kinds[] = {"NULL", "integer", "real", "text", "blob"};
    switch (v->kind) {
    case SLT_INT: snprintf(buf, cap, "integer %" PRId64, v->i); break;
    case SLT_REAL: snprintf(buf, cap, "real %.17g", v->d); break;
    case SLT_TEXT:
    case SLT_BLOB: snprintf(buf, cap, "%s '%.40s' (%zu bytes)", kinds[v->kind], v->bytes, v->len); break;
    default: snprintf(buf, cap, "NULL"); break;
    }
}

static const char *values_diff(const slt_outcome *a, const slt_outcome *b, char *buf, size_t cap)
{
    size_t nrows = a->ncols ? a->nvalues / (size_t)a->ncols : 0;
    slt_value **ra = sorted_rows(a, nrows), **rb = sorted_rows(b, nrows);
    const char *res = NULL;
    for (size_t r = 0; ra && rb && !res && r < nrows; r++)
        for (int c = 0; c < a->ncols && !res; c++) {
            if (value_cmp(&ra[r][c], &rb[r][c]) == 0)
                continue;
            char x[96], y[96];
            describe(&ra[r][c], x, sizeof x);
            describe(&rb[r][c], y, sizeof y);
            snprintf(buf, cap, "sorted row %zu column %d: dbal %s, raw %s", r + 1, c + 1, x, y);
            res = buf;
        }
    if (!ra || !rb)
        res = "out of memory";
    free(ra);
    free(rb);
    return res;
}

const char *slt_outcome_diff(const slt_outcome *d, const slt_outcome *r, int sqlite, char *buf, size_t cap)
{
    if (d->failed != r->failed) {
        snprintf(buf, cap, "dbal %s, raw %s", d->failed ? "failed" : "succeeded",
                 r->failed ? "failed" : "succeeded");
        snprintf(buf + strlen(buf), cap - strlen(buf), ": %s", d->failed ? d->message : r->message);
        return buf;
    }
    if (d->failed) {
        if (sqlite ? d->native != r->native : strcmp(d->sqlstate, r->sqlstate) != 0) {
            snprintf(buf, cap, "different errors: dbal %d/%s \"%s\", raw %d/%s \"%s\"", d->native,
                     d->sqlstate, d->message, r->native, r->sqlstate, r->message);
            return buf;
        }
        return NULL;
    }
    if (d->affected >= 0 && r->affected >= 0 && d->affected != r->affected) {
        snprintf(buf, cap, "rows affected: dbal %" PRId64 ", raw %" PRId64, d->affected, r->affected);
        return buf;
    }
    if (d->ncols != r->ncols || d->nvalues != r->nvalues) {
        snprintf(buf, cap, "shape: dbal %d columns %zu values, raw %d columns %zu values", d->ncols,
                 d->nvalues, r->ncols, r->nvalues);
        return buf;
    }
    return values_diff(d, r, buf, cap);
}

/* ---- a library against the expected answer ---------------------------- */

/* A real as SQLite prints one: 15 significant digits, and ".0" when that
 * reads as an integer. */
static void sqlite_real(double d, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.15g", d);
    if (!strpbrk(buf, ".eEin"))
        snprintf(buf + strlen(buf), cap - strlen(buf), ".0");
}

/* One value as sqllogictest prints it for a column of type t. */
static void format_value(const slt_value *v, char t, char *buf, size_t cap)
{
    if (v->kind == SLT_NULL) {
        snprintf(buf, cap, "NULL");
    } else if (t == 'I') {
        long long i = v->kind == SLT_INT                         ? v->i
                      : v->kind == SLT_REAL && fabs(v->d) < 9e18 ? (long long)v->d
                      : v->bytes                                 ? strtoll(v->bytes, NULL, 10)
                                                                 : 0;
        snprintf(buf, cap, "%lld", i);
    } else if (t == 'R') {
        double d = v->kind == SLT_INT    ? (double)v->i
                   : v->kind == SLT_REAL ? v->d
                   : v->bytes            ? strtod(v->bytes, NULL)
                                         : 0;
        snprintf(buf, cap, "%.3f", d);
    } else if (v->kind == SLT_INT) {
        snprintf(buf, cap, "%" PRId64, v->i);
    } else if (v->kind == SLT_REAL) {
        sqlite_real(v->d, buf, cap);
    } else if (v->len == 0) {
        snprintf(buf, cap, "(empty)");
    } else {
        size_t n = v->len < cap - 1 ? v->len : cap - 1;
        for (size_t k = 0; k < n; k++)
            buf[k] = v->bytes[k] < ' ' || v->bytes[k] > '~' ? '@' : v->bytes[k];
        buf[n] = '\0';
    }
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int strs_cmp(const void *x, const void *y, void *ncols)
{
    char *const *a = *(char **const *)x, *const *b = *(char **const *)y;
    for (int c = 0; c < *(int *)ncols; c++) {
        int d = strcmp(a[c], b[c]);
        if (d)
            return d;
    }
    return 0;
}

/* Sorts the formatted values in place by the record's mode. */
static int sort_formatted(char **s, size_t n, int ncols, char mode)
{
    if (mode == 'v') {
        qsort(s, n, sizeof *s, str_cmp);
    } else if (mode == 'r' && ncols > 0) {
        size_t nrows = n / (size_t)ncols;
        char ***rows = malloc((nrows ? nrows : 1) * sizeof *rows);
        char **copy = malloc((n ? n : 1) * sizeof *copy);
        if (!rows || !copy) {
            free(rows);
            free(copy);
            return -1;
        }
        for (size_t r = 0; r < nrows; r++)
            rows[r] = &s[r * (size_t)ncols];
        qsort_r(rows, nrows, sizeof *rows, strs_cmp, &ncols);
        for (size_t r = 0; r < nrows; r++)
            memcpy(&copy[r * (size_t)ncols], rows[r], (size_t)ncols * sizeof *copy);
        memcpy(s, copy, n * sizeof *s);
        free(rows);
        free(copy);
    }
    return 0;
}

static int compare_expected(const slt_record *rec, char **s, size_t n)
{
    unsigned long count;
    char hash[33];
    if (rec->nexpected == 1 && sscanf(rec->expected[0], "%lu values hashing to %32s", &count, hash) == 2) {
        size_t total = 0;
        for (size_t i = 0; i < n; i++)
            total += strlen(s[i]) + 1;
        char *all = malloc(total + 1), *p = all;
        if (!all)
            return 0;
        for (size_t i = 0; i < n; i++)
            p += sprintf(p, "%s\n", s[i]);
        char got[33];
        slt_md5_hex(all, total, got);
        free(all);
        return count == n && strcmp(got, hash) == 0;
    }
    if (rec->nexpected != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rec->expected[i], s[i]) != 0)
            return 0;
    return 1;
}

int slt_matches_expected(const slt_record *rec, const slt_outcome *o)
{
    if (o->failed)
        return 0;
    size_t n = o->nvalues, ntypes = strlen(rec->types);
    if (o->ncols != (int)ntypes)
        return 0;
    char **s = calloc(n ? n : 1, sizeof *s);
    int ok = s != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        char buf[512];
        format_value(&o->values[i], rec->types[i % ntypes], buf, sizeof buf);
        ok = (s[i] = strdup(buf)) != NULL;
    }
    ok = ok && sort_formatted(s, n, o->ncols, rec->sort) == 0 && compare_expected(rec, s, n);
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
    return ok;
}

void slt_print_formatted(const slt_record *rec, const slt_outcome *o)
{
    size_t ntypes = rec->types ? strlen(rec->types) : 0;
    if (o->failed || !ntypes) {
        printf("    %s: %s\n", o->failed ? "failed" : "succeeded", o->message);
        return;
    }
    for (size_t i = 0; i < o->nvalues && i < 40; i++) {
        char buf[512];
        format_value(&o->values[i], rec->types[i % ntypes], buf, sizeof buf);
        printf("    %s\n", buf);
    }
}
