/*
 * W6: peak resident memory of the W3 scan at a tenth of the rows and at all
 * of them. Each measurement runs in a fresh process (this program, exec'd
 * again with --w6-child), so that nothing the parent allocated before
 * counts: the child opens its side, fills the table when the database is
 * its own (sqlite-memory), resets the kernel's high-water mark, scans, and
 * prints its RSS before the scan and its peak (VmHWM) during it.
 */
#include "bench_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "5" resets VmHWM to the current RSS (Linux 4.0 and later). */
static int reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* argv: BACKEND VARIANT ROWS FILL_ROWS [FILE] */
int bench_w6_child(int argc, char **argv)
{
    if (argc < 4) {
        bench_fail("w6-child", "usage", "BACKEND VARIANT ROWS FILL_ROWS [FILE]");
        return 2;
    }
    const char *backend = argv[0], *variant = argv[1], *file = argc > 4 ? argv[4] : "";
    long rows = strtol(argv[2], NULL, 10);
    bench_cfg cfg = {.scan_rows = strtol(argv[3], NULL, 10)};
    const bench_side_ops *ops = NULL;
    bench_fn fn = NULL;
    void *ctx = NULL;
    int rc = -1, memory = strcmp(backend, "sqlite-memory") == 0, is_dbal = strcmp(variant, "dbal") == 0;

    if (strcmp(backend, "postgresql") == 0) {
#ifdef BENCH_HAVE_PG
        const char *url = getenv("DBAL_BENCH_PG_URL");
        if (is_dbal) {
            rc = bench_dbal_open(url, &ctx);
        } else {
            char *conninfo = bench_pg_conninfo(url ? url : "");
            rc = conninfo ? bench_pg_open(conninfo, &ctx) : -1;
            free(conninfo);
        }
        ops = is_dbal ? &bench_dbal_ops : &bench_pg_ops;
        fn = strcmp(variant, "raw-single-row") == 0 ? bench_pg_w3_single_row : ops->w3;
#endif
    } else if (is_dbal) {
        char url[600];
        snprintf(url, sizeof url, "sqlite://%s", memory ? ":memory:" : file);
        rc = bench_dbal_open(url, &ctx);
        ops = &bench_dbal_ops;
        fn = ops->w3;
    } else {
        rc = bench_sqlite_open(file, memory ? BENCH_SQLITE_MEMORY : BENCH_SQLITE_FILE, &ctx);
        ops = &bench_sqlite_ops;
        fn = ops->w3;
    }
    if (rc || !fn)
        return 1;
    /* A private database holds the whole table, whatever the scan reads,
     * so that both sizes start from the same RSS. */
    if (memory)
        rc = bench_setup(ops, ctx, &bench_sqlite_dialect, &cfg, 1);
    long before = -1, peak = -1, mapped = -1;
    uint64_t sum = 0;
    if (rc == 0) {
        int reset = reset_peak();
        before = bench_status_kb("VmRSS");
        long mapped_before = bench_status_kb("RssFile") + bench_status_kb("RssShmem");
        rc = fn(ctx, &cfg, rows, &sum);
        peak = bench_status_kb("VmHWM");
        /* Pages of the database file that the scan mapped (mmap_size) count
         * in VmRSS but are the file's, not memory the scan allocated; they
         * stay mapped while the connection is open, so read now. */
        mapped = bench_status_kb("RssFile") + bench_status_kb("RssShmem") - mapped_before;
        if (reset)
            fprintf(stderr, "bench: w6-child: cannot reset VmHWM; the peak includes the set-up\n");
    }
    ops->close(ctx);
    if (rc)
        return 1;
    printf("%ld %ld %ld\n", before, peak, mapped);
    return 0;
}

/* Runs one child; fills *before, *peak and *mapped (kB). */
static int measure(const char *self, const bench_w6_target *t, const char *variant, long rows, long fill_rows,
                   long *before, long *peak, long *mapped)
{
    char rows_s[32], fill_s[32];
    snprintf(rows_s, sizeof rows_s, "%ld", rows);
    snprintf(fill_s, sizeof fill_s, "%ld", fill_rows);
    char *const argv[] = {"dbal_bench",
                          "--w6-child",
                          (char *)t->backend,
                          (char *)variant,
                          rows_s,
                          fill_s,
                          (char *)(t->file ? t->file : ""),
                          NULL};
    long vals[3];
    *before = *peak = *mapped = -1;
    if (bench_child(self, argv, vals, 3))
        return bench_fail("W6", variant, "the measuring child process failed");
    *before = vals[0], *peak = vals[1], *mapped = vals[2];
    return 0;
}

int bench_w6_run(const bench_opts *o, const bench_cfg *cfg, const bench_w6_target *t)
{
    static const struct {
        const char *variant, *label;
        int dbal, pg_only;
    } variants[] = {
        {"dbal", "W6", 1, 0},
        {"raw", "W6-raw", 0, 0},
        {"raw-single-row", "W6-raw-singlerow", 0, 1},
    };
    const long small = cfg->scan_rows / 10, large = cfg->scan_rows;
    int pg = strcmp(t->backend, "postgresql") == 0, rc = 0;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        if ((variants[i].dbal ? !o->dbal : !o->raw) || (variants[i].pg_only && !pg))
            continue;
        long b1, p1, m1, b2, p2, m2;
        if (measure(o->self, t, variants[i].variant, small, large, &b1, &p1, &m1) ||
            measure(o->self, t, variants[i].variant, large, large, &b2, &p2, &m2)) {
            printf("%s %s - - -\n", variants[i].label, t->backend);
            rc = -1;
            continue;
        }
        printf("%s %s %ld %ld %.3f\n", variants[i].label, t->backend, p1, p2, (double)p2 / (double)p1);
        printf("# %s %s: RSS before the scan %ld / %ld kB, growth during it %ld / %ld kB, of which pages of "
               "the database file mapped (mmap_size) %ld / %ld kB (%ld / %ld rows)\n",
               variants[i].label, t->backend, b1, b2, p1 - b1, p2 - b2, m1, m2, small, large);
        fflush(stdout);
    }
    return rc;
}
