/*
 * The directory and the history side by side: the checks before up runs
 * anything (changed and missing files), and the steps up and down would
 * run, every file read and split first, so that a file refused stops the
 * call before any migration runs.
 */
#include "migrate.h"

#include "alloc.h"
#include "errors.h"

#include <stdio.h>
#include <string.h>

/* The first changed and missing versions, and how many of each. */
typedef struct drift {
    const dbal__mig_row *changed, *missing;
    size_t nchanged, nmissing;
} drift;

static void find_drift(const dbal__mig_ctx *ctx, drift *d)
{
    memset(d, 0, sizeof *d);
    for (size_t i = 0; i < ctx->hist.count; i++) {
        const dbal__mig_row *row = &ctx->hist.rows[i];
        const dbal__mig_file *f = dbal__mig_dir_find(&ctx->dir, row->version);
        if (!f && d->nmissing++ == 0)
            d->missing = row;
        if (f && strcmp(f->checksum, row->checksum) != 0 && d->nchanged++ == 0)
            d->changed = row;
    }
}

static int refuse_changed(dbal__mig_ctx *ctx, const drift *d)
{
    const dbal__mig_file *f = dbal__mig_dir_find(&ctx->dir, d->changed->version);
    return dbal__error_set(&ctx->error, DBAL_EMIGRATION, NULL, 0,
                           "%s has changed since version %lld was applied (checksum %.12s..., applied "
                           "%.12s...)%s: restore the file, or repair to record the new checksum",
                           f->up, (long long)f->version, f->checksum, d->changed->checksum,
                           d->nchanged > 1 ? ", and more files have" : "");
}

static int refuse_missing(dbal__mig_ctx *ctx, const drift *d)
{
    return dbal__error_set(&ctx->error, DBAL_EMIGRATION, NULL, 0,
                           "version %lld (%s) is applied but has no file in %s%s: restore it, or ignore "
                           "missing versions",
                           (long long)d->missing->version, d->missing->name, ctx->path,
                           d->nmissing > 1 ? ", and more versions are missing" : "");
}

/* Records the new checksums of the changed files, in one transaction. */
static int repair(dbal__mig_ctx *ctx)
{
    int rc = dbal__mig_begin(ctx, ctx->touch);
    for (size_t i = 0; rc == DBAL_OK && i < ctx->hist.count; i++) {
        dbal__mig_row *row = &ctx->hist.rows[i];
        const dbal__mig_file *f = dbal__mig_dir_find(&ctx->dir, row->version);
        if (f && strcmp(f->checksum, row->checksum) != 0)
            rc = dbal__mig_history_repair(ctx->s, ctx->table, f);
    }
    if ((rc = dbal__mig_end(ctx, rc)) != DBAL_OK)
        return rc;
    for (size_t i = 0; i < ctx->hist.count; i++) {
        dbal__mig_row *row = &ctx->hist.rows[i];
        const dbal__mig_file *f = dbal__mig_dir_find(&ctx->dir, row->version);
        char *now = f && strcmp(f->checksum, row->checksum) != 0 ? dbal__strdup(f->checksum) : NULL;
        if (now) {
            dbal__free(row->checksum);
            row->checksum = now;
            dbal__mig_progress(ctx, DBAL_MIGRATE_REPAIRED, f, row);
        }
    }
    return DBAL_OK;
}

int dbal__mig_validate(dbal__mig_ctx *ctx)
{
    drift d;
    find_drift(ctx, &d);
    if (d.nchanged && !ctx->opts.repair)
        return refuse_changed(ctx, &d);
    if (d.nmissing && !ctx->opts.ignore_missing)
        return refuse_missing(ctx, &d);
    return d.nchanged && !ctx->opts.dry_run ? repair(ctx) : DBAL_OK;
}

/* ---- plans ---------------------------------------------------------------- */

static int add_step(dbal__mig_ctx *ctx, dbal__mig_plan *p, const dbal__mig_file *f, const char *path,
                    const char *sql, int no_tx)
{
    dbal__mig_step *more = dbal__realloc(p->steps, (p->count + 1) * sizeof *more);
    if (!more)
        return dbal__error_set(&ctx->error, DBAL_ENOMEM, NULL, 0, NULL);
    p->steps = more;
    dbal__mig_step *st = &p->steps[p->count];
    memset(st, 0, sizeof *st);
    st->f = f;
    st->path = path;
    st->no_tx = no_tx;
    int rc = dbal__mig_split(path, sql, ctx->driver, &st->script, &ctx->error);
    if (rc == DBAL_OK)
        p->count++;
    return rc;
}

void dbal__mig_plan_free(dbal__mig_plan *p)
{
    for (size_t i = 0; i < p->count; i++)
        dbal__mig_script_free(&p->steps[i].script);
    dbal__free(p->steps);
    memset(p, 0, sizeof *p);
}

static int unknown_target(dbal__mig_ctx *ctx, int64_t target)
{
    return dbal__error_set(&ctx->error, DBAL_EINVAL, NULL, 0, "no migration has version %lld in %s",
                           (long long)target, ctx->path);
}

int dbal__mig_plan_up(dbal__mig_ctx *ctx, int64_t target, dbal__mig_plan *out)
{
    memset(out, 0, sizeof *out);
    if (target > 0 && !dbal__mig_dir_find(&ctx->dir, target))
        return unknown_target(ctx, target);
    int rc = DBAL_OK;
    for (size_t i = 0; rc == DBAL_OK && i < ctx->dir.count; i++) {
        const dbal__mig_file *f = &ctx->dir.files[i];
        if ((target > 0 && f->version > target) || (target < 0 && out->count == (size_t)-target))
            break;
        if (!dbal__mig_history_find(&ctx->hist, f->version))
            rc = add_step(ctx, out, f, f->up, f->sql, f->no_tx);
    }
    if (rc != DBAL_OK)
        dbal__mig_plan_free(out);
    return rc;
}

static int cannot_revert(dbal__mig_ctx *ctx, const dbal__mig_row *row, const dbal__mig_file *f)
{
    if (!f)
        return dbal__error_set(&ctx->error, DBAL_EINVAL, NULL, 0,
                               "cannot revert version %lld (%s): it has no file in %s; nothing was reverted",
                               (long long)row->version, row->name, ctx->path);
    const char *base = strrchr(f->up, '/') + 1; /* the path is dir/name */
    return dbal__error_set(&ctx->error, DBAL_EINVAL, NULL, 0,
                           "cannot revert version %lld: %s has no down file for the %s driver "
                           "(%.*s.down.sql); "
                           "nothing was reverted",
                           (long long)f->version, f->up, ctx->driver, (int)strcspn(base, "."), base);
}

/* The step that reverts f: its down file read, its directives. */
static int add_down_step(dbal__mig_ctx *ctx, dbal__mig_plan *p, const dbal__mig_file *f)
{
    char *sql;
    size_t len;
    int no_tx = 0, rc = dbal__mig_read_file(f->down, &sql, &len, &ctx->error);
    if (rc == DBAL_OK && (rc = dbal__mig_directives(f->down, sql, &no_tx, &ctx->error)) == DBAL_OK)
        rc = add_step(ctx, p, f, f->down, sql, no_tx);
    dbal__free(sql);
    return rc;
}

int dbal__mig_plan_down(dbal__mig_ctx *ctx, int64_t target, dbal__mig_plan *out)
{
    memset(out, 0, sizeof *out);
    if (target > 0 && !dbal__mig_dir_find(&ctx->dir, target) && !dbal__mig_history_find(&ctx->hist, target))
        return unknown_target(ctx, target);
    int rc = DBAL_OK;
    for (size_t i = ctx->hist.count; rc == DBAL_OK && i-- > 0;) {
        const dbal__mig_row *row = &ctx->hist.rows[i];
        if ((target >= 0 && row->version <= target) || (target < 0 && out->count == (size_t)-target))
            break;
        const dbal__mig_file *f = dbal__mig_dir_find(&ctx->dir, row->version);
        rc = f && f->down ? add_down_step(ctx, out, f) : cannot_revert(ctx, row, f);
    }
    if (rc != DBAL_OK)
        dbal__mig_plan_free(out);
    return rc;
}
