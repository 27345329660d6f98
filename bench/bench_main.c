/*
 * dbal_bench: runs each workload through dbal and through raw sqlite3 /
 * libpq in the same process, alternating sides round after round, and
 * prints one line per workload:
 *
 *   workload backend dbal_ops_s raw_ops_s ratio
 *
 * where ratio is the median over the rounds of (dbal time per operation) /
 * (raw time per operation), each round pairing runs made back to back.
 * Lines starting with '#' are comments. See bench/README.md.
 */
#include "bench.h"
#include "bench_run.h"

#include <dbal.h>
#include <sqlite3.h>
#ifdef BENCH_HAVE_PG
#include <libpq-fe.h>
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int bench_fail(const char *side, const char *what, const char *detail)
{
    size_t n = strlen(detail);
    while (n > 0 && (detail[n - 1] == '\n' || detail[n - 1] == ' '))
        n--; /* libpq's messages end with a newline */
    fprintf(stderr, "bench: %s: %s: %.*s\n", side, what, (int)n, detail);
    return -1;
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- options ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: dbal_bench [--backend NAME]... [--rounds N] [--quick] [--rows N]\n"
               "                  [--workload W1,W2,...] [--side dbal|raw]\n"
               "  --backend NAME  sqlite-memory, sqlite-file or postgresql; repeatable;\n"
               "                  default: all available (postgresql when DBAL_BENCH_PG_URL,\n"
               "                  or else DBAL_TEST_PG_URL, is set)\n"
               "  --rounds N      timed rounds per workload, the median is printed (default 5)\n"
               "  --quick         small counts: a smoke run of a few seconds\n"
               "  --rows N        rows of the W3 scan table (default 1000000; W6 scans N/10 and N)\n"
               "  --workload LIST only these of W1..W8 and W3t (default all)\n"
               "  --side S        run only the dbal or only the raw side (for profiling)\n");
}

static long parse_count(const char *flag, const char *v, long min)
{
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || n < min) {
        fprintf(stderr, "dbal_bench: %s needs a number >= %ld\n", flag, min);
        exit(2);
    }
    return n;
}

static unsigned parse_workloads(const char *list)
{
    unsigned mask = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (strcasecmp(w, "W3t") == 0 || strcasecmp(w, "W7") == 0 || strcasecmp(w, "W8") == 0) {
            mask |= 1u << (w[2] == 't' || w[2] == 'T' ? BENCH_W3T : w[1] == '7' ? BENCH_W7 : BENCH_W8);
            continue;
        }
        if ((w[0] != 'W' && w[0] != 'w') || w[1] < '1' || w[1] > '0' + BENCH_NWORKLOADS || w[2]) {
            fprintf(stderr, "dbal_bench: unknown workload '%s' (W1..W8, W3t)\n", w);
            exit(2);
        }
        mask |= 1u << (w[1] - '1');
    }
    return mask;
}

static void parse_args(int argc, char **argv, bench_opts *o)
{
    int quick = 0;
    long rows = 0;
    *o = (bench_opts){.rounds = 5,
                      .workloads = ((1u << BENCH_NWORKLOADS) - 1) | 1u << BENCH_W3T | 1u << BENCH_W7 |
                                   1u << BENCH_W8,
                      .dbal = 1,
                      .raw = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--backend") == 0 && v) {
            if (o->nbackends == BENCH_MAX_BACKENDS || !bench_backend_known(v)) {
                fprintf(stderr, "dbal_bench: unknown backend '%s' (sqlite-memory, sqlite-file, postgresql)\n",
                        v);
                exit(2);
            }
            o->backends[o->nbackends++] = v;
            i++;
        } else if (strcmp(a, "--rounds") == 0) {
            o->rounds = (int)parse_count(a, v, 1);
            if (o->rounds > BENCH_MAX_ROUNDS)
                o->rounds = BENCH_MAX_ROUNDS;
            i++;
        } else if (strcmp(a, "--rows") == 0) {
            rows = parse_count(a, v, 10);
            i++;
        } else if (strcmp(a, "--workload") == 0 && v) {
            o->workloads = parse_workloads(v);
            i++;
        } else if (strcmp(a, "--side") == 0 && v && (strcmp(v, "dbal") == 0 || strcmp(v, "raw") == 0)) {
            o->dbal = strcmp(v, "dbal") == 0;
            o->raw = !o->dbal;
            i++;
        } else if (strcmp(a, "--quick") == 0) {
            quick = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            usage(stderr);
            exit(2);
        }
    }
    o->quick = quick;
    o->self = argv[0];
    o->n = (bench_counts){
        .w1_sqlite = quick ? 5000 : 100000,
        .w1_pg = quick ? 1000 : 20000,
        .kv_rows = quick ? 1000 : 10000,
        .w2 = quick ? 1000 : 10000,
        .w3_rows = rows    ? rows
                   : quick ? 20000
                           : 1000000,
        .w4 = quick ? 500 : 10000,
        .w4_connect = quick ? 10 : 200,
        .w5 = quick ? 2000 : 100000,
        .w7 = quick ? 80 : 2000,
        .w7_scale = quick ? 1 : 8,
        .w8_conns = quick ? 5 : 20,
        .w8_stmts = quick ? 20 : 100,
    };
}

/* ---- shared inputs ---------------------------------------------------------- */

/* The names inserted by W2 and W5, "item-00000001"..., made once. */
static int make_inputs(const bench_opts *o, bench_cfg *cfg, char **name_block)
{
    long nnames = o->n.w5 > o->n.w2 ? o->n.w5 : o->n.w2;
    long nkeys = o->n.w1_sqlite > o->n.w1_pg ? o->n.w1_sqlite : o->n.w1_pg;
    enum { NAME_LEN = 16 };
    int64_t *keys = malloc((size_t)nkeys * sizeof *keys);
    const char **names = malloc((size_t)nnames * sizeof *names);
    size_t *lens = malloc((size_t)nnames * sizeof *lens);
    char *block = malloc((size_t)nnames * NAME_LEN);
    if (!keys || !names || !lens || !block) {
        free(keys), free(names), free(lens), free(block);
        return bench_fail("bench", "inputs", "out of memory");
    }
    for (long i = 0; i < nnames; i++) {
        char *p = block + (size_t)i * NAME_LEN;
        lens[i] = (size_t)snprintf(p, NAME_LEN, "item-%08ld", i + 1);
        names[i] = p;
    }
    /* A fixed pseudo-random sequence (an LCG), the same for every side. */
    uint64_t x = 88172645463325252ull;
    for (long i = 0; i < nkeys; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        keys[i] = (int64_t)((x >> 33) % (uint64_t)o->n.kv_rows) + 1;
    }
    *cfg = (bench_cfg){.kv_rows = o->n.kv_rows,
                       .scan_rows = o->n.w3_rows,
                       .keys = keys,
                       .nkeys = nkeys,
                       .names = names,
                       .name_lens = lens,
                       .nnames = nnames};
    *name_block = block;
    return 0;
}

static void free_inputs(bench_cfg *cfg, char *name_block)
{
    free((void *)cfg->keys);
    free((void *)cfg->names);
    free((void *)cfg->name_lens);
    free(name_block);
}

static void print_header(const bench_opts *o)
{
    char cpu[128] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            snprintf(cpu, sizeof cpu, "%s", strchr(line, ':') + 2);
            cpu[strcspn(cpu, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
    printf("# dbal %s, sqlite %s", dbal_version(), sqlite3_libversion());
#ifdef BENCH_HAVE_PG
    printf(", libpq %d", PQlibVersion());
#endif
    printf("; %ld cpus (%s)\n", sysconf(_SC_NPROCESSORS_ONLN), cpu);
    printf("# rounds %d%s; W1 %ld (sqlite) / %ld (postgresql) lookups in %ld rows, W2 %ld, W3 %ld rows, "
           "W4 %ld (connect: %ld), W5 %ld, W6 %ld and %ld rows, W7 %ld transactions at scale %ld\n",
           o->rounds, o->quick ? " (quick)" : "", o->n.w1_sqlite, o->n.w1_pg, o->n.kv_rows, o->n.w2,
           o->n.w3_rows, o->n.w4, o->n.w4_connect, o->n.w5, o->n.w3_rows / 10, o->n.w3_rows, o->n.w7,
           o->n.w7_scale);
    printf("# ratio = dbal time / raw time per operation, median of paired rounds (< 1: dbal faster)\n");
    printf("# workload backend dbal_ops_s raw_ops_s ratio\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--w6-child") == 0)
        return bench_w6_child(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "--w8-child") == 0)
        return bench_w8_child(argc - 2, argv + 2);

    bench_opts o;
    parse_args(argc, argv, &o);
    print_header(&o);
    /* The test suite's server when no benchmark server is named. */
    const char *pg_url = getenv("DBAL_BENCH_PG_URL");
    if ((!pg_url || !*pg_url) && (pg_url = getenv("DBAL_TEST_PG_URL")) && *pg_url)
        setenv("DBAL_BENCH_PG_URL", pg_url, 1); /* for the W6 child processes */
    if (o.nbackends == 0) {
        o.backends[o.nbackends++] = "sqlite-memory";
        o.backends[o.nbackends++] = "sqlite-file";
#ifdef BENCH_HAVE_PG
        if (pg_url && *pg_url)
            o.backends[o.nbackends++] = "postgresql";
        else
            printf("# postgresql: skipped (neither DBAL_BENCH_PG_URL nor DBAL_TEST_PG_URL is set)\n");
#else
        printf("# postgresql: skipped (built without libpq)\n");
#endif
    }

    bench_cfg cfg;
    char *name_block = NULL;
    if (make_inputs(&o, &cfg, &name_block))
        return 1;
    int failed = 0;
    for (int i = 0; i < o.nbackends; i++)
        failed |= bench_run_backend(&o, &cfg, o.backends[i], pg_url) != 0;
    free_inputs(&cfg, name_block);
    return failed ? 1 : 0;
}
