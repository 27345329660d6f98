/* slt_runner [--pg URL] [--dir TMPDIR] SCRIPT...
 *
 * Runs each sqllogictest script through dbal and through the raw library
 * on three kinds of database (SQLite in memory, a SQLite file, PostgreSQL
 * when --pg or DBAL_TEST_PG_URL gives one), record by record in lockstep,
 * and exits 1 when dbal and the raw library answer any record differently
 * (success or failure, the error, rows affected, the typed values). It also
 * checks the raw library against the script's own answers, so that a
 * runner reading nothing cannot pass, and reports how the two drivers'
 * errors agree where both refuse a record. */
#include "slt.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum { PAIRS_MAX = 3 };

typedef struct pair_stats {
    long run, differ, queries, raw_agrees, dbal_agrees;
} pair_stats;

typedef struct pair {
    const char *name;
    slt_target dbal, raw;
    slt_outcome od, orr;
    pair_stats file, total;
} pair;

/* Where both drivers refused a record: do the codes agree? */
typedef struct cross_stats {
    long both_failed, dialect, same_code, same_sqlstate;
    int shown;
} cross_stats;

/* SQLite errors dbal reports as XX000, by message. */
typedef struct xx000 {
    char message[96];
    long count;
} xx000;

static pair pairs[PAIRS_MAX];
static int npairs;
static cross_stats cross;
static xx000 unmapped[64];
static int nunmapped;
static int verbose;

static int is_dml(const char *sql)
{
    sql += strspn(sql, " \t\n");
    static const char *const verbs[] = {"INSERT", "UPDATE", "DELETE", "REPLACE"};
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strncasecmp(sql, verbs[i], strlen(verbs[i])) == 0)
            return 1;
    return 0;
}

static void note_unmapped(const slt_outcome *o)
{
    if (!o->failed || strcmp(o->sqlstate, "XX000") != 0)
        return;
    char m[96];
    snprintf(m, sizeof m, "%.*s", (int)strcspn(o->message, ":\""), o->message);
    for (int i = 0; i < nunmapped; i++)
        if (strcmp(unmapped[i].message, m) == 0) {
            unmapped[i].count++;
            return;
        }
    if (nunmapped < 64) {
        snprintf(unmapped[nunmapped].message, sizeof unmapped[0].message, "%s", m);
        unmapped[nunmapped++].count = 1;
    }
}

static int agrees_with_script(const slt_record *rec, const slt_outcome *o)
{
    if (rec->kind == SLT_STATEMENT)
        return o->failed == rec->expect_error;
    return slt_matches_expected(rec, o);
}

/* A statement record may hold several statements, which sqllogictest runs
 * one after the other (sqlite3_exec); dbal takes one per call, so both
 * sides are given them one by one, up to the first failure. Boundaries are
 * found with sqlite3_complete(), which knows trigger bodies. */
static void run_statements(slt_target *t, const char *sql, slt_outcome *out)
{
    size_t n = strlen(sql);
    char *buf = malloc(n + 1);
    if (!buf) {
        out->failed = 1;
        snprintf(out->message, sizeof out->message, "out of memory");
        return;
    }
    size_t start = 0;
    for (size_t i = 0; i <= n && !out->failed; i++) {
        if (i < n && sql[i] != ';')
            continue;
        size_t len = i - start + (i < n);
        memcpy(buf, sql + start, len);
        buf[len] = '\0';
        if (i < n && !sqlite3_complete(buf))
            continue;
        if (buf[strspn(buf, " \t\n;")] != '\0') {
            if (i < n)
                buf[len - 1] = '\0'; /* the raw libraries and dbal alike take it without the ';' */
            t->run(t, buf, 0, out);
        }
        start = i + 1;
    }
    free(buf);
}

static void run_pair(pair *p, const slt_record *rec, const char *script)
{
    if (p->dbal.halted || !slt_record_applies(rec, p->dbal.engine))
        return;
    int is_query = rec->kind == SLT_QUERY;
    slt_outcome_reset(&p->od);
    slt_outcome_reset(&p->orr);
    if (is_query) {
        p->dbal.run(&p->dbal, rec->sql, 1, &p->od);
        p->raw.run(&p->raw, rec->sql, 1, &p->orr);
    } else {
        run_statements(&p->dbal, rec->sql, &p->od);
        run_statements(&p->raw, rec->sql, &p->orr);
    }
    if (!is_dml(rec->sql))
        p->od.affected = p->orr.affected = -1;
    p->file.run++;
    p->file.queries += is_query;
    p->file.raw_agrees += agrees_with_script(rec, &p->orr);
    p->file.dbal_agrees += agrees_with_script(rec, &p->od);
    char why[768];
    const char *diff = slt_outcome_diff(&p->od, &p->orr, strcmp(p->dbal.engine, "sqlite") == 0, why,
                                        sizeof why);
    if (diff) {
        p->file.differ++;
        printf("DIFFER %s:%d [%s] %s\n  %s\n", script, rec->line, p->name, diff, rec->sql);
    } else if (verbose && !agrees_with_script(rec, &p->orr)) {
        printf("script disagrees %s:%d [%s], raw sqlite3/libpq answered:\n", script, rec->line, p->name);
        slt_print_formatted(rec, &p->orr);
    }
}

/* The first pair is SQLite in memory, the last PostgreSQL when there is one. */
static void compare_drivers(const slt_record *rec, const char *script)
{
    if (npairs < 3 || !slt_record_applies(rec, "sqlite") || !slt_record_applies(rec, "postgresql"))
        return;
    const slt_outcome *s = &pairs[0].od, *g = &pairs[2].od;
    note_unmapped(s);
    if (!s->failed || !g->failed)
        return;
    cross.both_failed++;
    if (strcmp(g->sqlstate, "42601") == 0 && strcmp(s->sqlstate, "42601") != 0) {
        cross.dialect++; /* SQLite's dialect, which PostgreSQL cannot parse: not the same mistake */
        return;
    }
    cross.same_code += s->code == g->code;
    cross.same_sqlstate += strcmp(s->sqlstate, g->sqlstate) == 0;
    if (s->code != g->code && cross.shown++ < 10)
        printf("errors differ %s:%d: sqlite %s \"%s\", postgresql %s \"%s\"\n", script, rec->line,
               s->sqlstate, s->message, g->sqlstate, g->message);
}

static void add_stats(pair_stats *to, const pair_stats *from)
{
    to->run += from->run;
    to->differ += from->differ;
    to->queries += from->queries;
    to->raw_agrees += from->raw_agrees;
    to->dbal_agrees += from->dbal_agrees;
}

static void print_stats(const char *name, const pair_stats *s)
{
    printf("  %-14s %6ld records (%ld queries), %ld differ; script's answer: raw %ld, dbal %ld\n", name,
           s->run, s->queries, s->differ, s->raw_agrees, s->dbal_agrees);
}

static int reset_all(void)
{
    char why[512];
    for (int i = 0; i < npairs; i++) {
        slt_target *ts[2] = {&pairs[i].dbal, &pairs[i].raw};
        for (int k = 0; k < 2; k++) {
            ts[k]->halted = 0;
            if (ts[k]->reset(ts[k], why, sizeof why)) {
                fprintf(stderr, "%s: %s\n", ts[k]->name, why);
                return -1;
            }
        }
        memset(&pairs[i].file, 0, sizeof pairs[i].file);
    }
    return 0;
}

static int run_script(const char *path)
{
    slt_script *s = slt_script_open(path);
    if (!s) {
        perror(path);
        return -1;
    }
    if (reset_all()) {
        slt_script_close(s);
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    slt_record rec;
    int rc;
    while ((rc = slt_script_next(s, &rec)) > 0) {
        for (int i = 0; i < npairs; i++) {
            if (rec.kind == SLT_HALT && slt_record_applies(&rec, pairs[i].dbal.engine))
                pairs[i].dbal.halted = 1;
            else if (rec.kind == SLT_STATEMENT || rec.kind == SLT_QUERY)
                run_pair(&pairs[i], &rec, path);
        }
        if (rec.kind == SLT_STATEMENT || rec.kind == SLT_QUERY)
            compare_drivers(&rec, path);
        slt_record_free(&rec);
    }
    slt_script_close(s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%s (%.1f s)\n", path, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    for (int i = 0; i < npairs; i++) {
        print_stats(pairs[i].name, &pairs[i].file);
        add_stats(&pairs[i].total, &pairs[i].file);
    }
    return rc < 0 ? -1 : 0;
}

static int open_pairs(const char *dir, const char *pg)
{
    static char dbal_file[1024], raw_file[1024];
    snprintf(dbal_file, sizeof dbal_file, "sqlite://%s/slt-dbal.db", dir);
    snprintf(raw_file, sizeof raw_file, "%s/slt-raw.db", dir);
    pairs[0].name = "sqlite-memory";
    pairs[1].name = "sqlite-file";
    if (slt_dbal_target(&pairs[0].dbal, "dbal sqlite::memory:", "sqlite::memory:", NULL) ||
        slt_sqlite_target(&pairs[0].raw, "sqlite3 :memory:", ":memory:") ||
        slt_dbal_target(&pairs[1].dbal, "dbal sqlite file", dbal_file, NULL) ||
        slt_sqlite_target(&pairs[1].raw, "sqlite3 file", raw_file))
        return -1;
    npairs = 2;
    if (!pg)
        return 0;
    /* Schemas of this process's own: two runs on one database stay apart. */
    static char dbal_schema[64], raw_schema[64];
    snprintf(dbal_schema, sizeof dbal_schema, "slt_dbal_%ld", (long)getpid());
    snprintf(raw_schema, sizeof raw_schema, "slt_raw_%ld", (long)getpid());
    pairs[2].name = "postgresql";
    if (slt_dbal_target(&pairs[2].dbal, "dbal postgresql", pg, dbal_schema) ||
        slt_libpq_target(&pairs[2].raw, "libpq", pg, raw_schema))
        return -1;
    npairs = 3;
    return 0;
}

static void report(void)
{
    printf("\n=== total\n");
    for (int i = 0; i < npairs; i++)
        print_stats(pairs[i].name, &pairs[i].total);
    if (npairs == 3)
        printf("records both drivers refuse: %ld, %ld of them SQLite dialect PostgreSQL cannot parse; of the "
               "other %ld, same dbal code %ld, same SQLSTATE %ld\n",
               cross.both_failed, cross.dialect, cross.both_failed - cross.dialect, cross.same_code,
               cross.same_sqlstate);
    for (int i = 0; i < nunmapped; i++)
        printf("SQLite error still XX000 (%ld): %s\n", unmapped[i].count, unmapped[i].message);
}

/* The raw library answering the script as its authors recorded is what
 * shows this runner reads results at all; SQLite versions differ in a few
 * answers, hence a floor and not equality. */
static int sane(void)
{
    const pair_stats *s = &pairs[0].total;
    if (s->run == 0 || s->raw_agrees * 100 < s->run * 99) {
        printf("FAIL: raw sqlite3 agrees with the scripts on %ld of %ld records: the runner is broken\n",
               s->raw_agrees, s->run);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *pg = getenv("DBAL_TEST_PG_URL"), *dir = getenv("TMPDIR");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc)
            pg = argv[++i];
        else if (strcmp(argv[i], "--no-pg") == 0)
            pg = NULL;
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else
            break;
    }
    if (i == argc) {
        fprintf(stderr, "usage: slt_runner [--pg URL | --no-pg] [--dir TMPDIR] [-v] SCRIPT...\n");
        return 2;
    }
    if (pg && !*pg)
        pg = NULL;
    if (!pg && getenv("DBAL_TEST_REQUIRE_PG") && strcmp(getenv("DBAL_TEST_REQUIRE_PG"), "1") == 0) {
        fprintf(stderr, "slt_runner: DBAL_TEST_REQUIRE_PG=1 but no PostgreSQL URL\n");
        return 1;
    }
    int failed = open_pairs(dir && *dir ? dir : "/tmp", pg) != 0;
    for (; !failed && i < argc; i++)
        failed = run_script(argv[i]) != 0;
    report();
    long differ = 0;
    for (int k = 0; k < npairs; k++) {
        differ += pairs[k].total.differ;
        if (pairs[k].dbal.close)
            pairs[k].dbal.close(&pairs[k].dbal);
        if (pairs[k].raw.close)
            pairs[k].raw.close(&pairs[k].raw);
        slt_outcome_free(&pairs[k].od);
        slt_outcome_free(&pairs[k].orr);
    }
    if (failed)
        printf("FAIL: the run stopped (see above)\n");
    else if (!sane())
        failed = 1;
    printf("%s: %ld records differ between dbal and the raw libraries\n", failed || differ ? "FAIL" : "PASS",
           differ);
    return failed || differ ? 1 : 0;
}
