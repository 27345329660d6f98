/*
 * The migration calls: dbal_migrate_up, dbal_migrate_down,
 * dbal_migrate_status (include/dbal.h). Each reads the directory, opens one
 * session of its own, and (up and down) takes the lock before it reads the
 * history, so that what it runs is decided by what is recorded then.
 */
#include "migrate.h"

#include "engine.h"
#include "errors.h"
#include "pool.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_LOCK_TIMEOUT_MS 60000

void dbal_migrate_options_init(dbal_migrate_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->lock_timeout_ms = -1;
}

/* The caller's options, with the defaults for what it left unset (or its
 * header did not have). */
static int take_options(dbal__mig_ctx *ctx, const dbal_migrate_options *o)
{
    dbal_migrate_options_init(&ctx->opts);
    if (o) {
        if (o->size < sizeof(size_t) || o->size > sizeof *o)
            return dbal__error_set(&ctx->error, DBAL_EINVAL, NULL, 0,
                                   "dbal_migrate_options was not set up with dbal_migrate_options_init()");
        memcpy(&ctx->opts, o, o->size);
        ctx->opts.size = sizeof ctx->opts;
    }
    if (ctx->opts.lock_timeout_ms < 0)
        ctx->opts.lock_timeout_ms = DEFAULT_LOCK_TIMEOUT_MS;
    const char *table = ctx->opts.table ? ctx->opts.table : DBAL_MIGRATE_TABLE;
    int rc = dbal__mig_table_check(table, &ctx->error);
    if (rc == DBAL_OK) {
        snprintf(ctx->table, sizeof ctx->table, "%s", table);
        snprintf(ctx->touch, sizeof ctx->touch, "DELETE FROM %s WHERE version < 0", table);
    }
    return rc;
}

static int open_ctx(dbal__mig_ctx *ctx, dbal_engine *e, const char *dir, const dbal_migrate_options *o)
{
    memset(ctx, 0, sizeof *ctx);
    if (!e || !dir)
        return dbal__error_set(&ctx->error, DBAL_EINVAL, NULL, 0, "migrations: engine and dir are required");
    ctx->engine = e;
    ctx->path = dir;
    /* The database's dialect picks the variants, not the driver module: a
     * driver that wraps another (postgresql+testing://) runs the same SQL. */
    ctx->driver = dbal__engine_scheme(e);
    int rc = take_options(ctx, o);
    if (rc == DBAL_OK)
        rc = dbal__mig_dir_read(dir, ctx->driver, &ctx->dir, &ctx->error);
    if (rc == DBAL_OK)
        rc = dbal_session_open_labeled(e, &ctx->s, "dbal_migrate", &ctx->error);
    return rc;
}

static int finish(dbal__mig_ctx *ctx, int rc, dbal_error *err)
{
    if (ctx->s)
        dbal__mig_unlock(ctx);
    dbal_session_close(ctx->s);
    dbal__mig_dir_free(&ctx->dir);
    dbal__mig_history_free(&ctx->hist);
    if (rc == DBAL_OK)
        dbal__error_clear(err);
    else
        dbal__error_copy(err, &ctx->error);
    return rc;
}

static int make_table(dbal__mig_ctx *ctx)
{
    char ddl[400];
    int rc = dbal__mig_begin(ctx, dbal__mig_history_ddl(ctx->table, ddl, sizeof ddl));
    return rc == DBAL_OK ? dbal__mig_end(ctx, DBAL_OK) : dbal__mig_fail(ctx, rc);
}

/* The lock, the table and the history, as up and down see them; a dry run
 * takes no lock and makes nothing. */
static int prepare(dbal__mig_ctx *ctx)
{
    int rc = DBAL_OK;
    if (!ctx->opts.dry_run && (rc = dbal__mig_lock(ctx)) == DBAL_OK)
        rc = make_table(ctx);
    if (rc == DBAL_OK && (rc = dbal__mig_history_read(ctx->s, ctx->table, &ctx->hist)) != DBAL_OK)
        return dbal__mig_fail(ctx, rc);
    if (rc == DBAL_OK && ctx->hist.count)
        ctx->at = ctx->hist.rows[ctx->hist.count - 1].version;
    return rc;
}

static int run_plan(dbal__mig_ctx *ctx, dbal__mig_plan *plan)
{
    int rc = DBAL_OK;
    for (size_t i = 0; rc == DBAL_OK && i < plan->count; i++)
        rc = dbal__mig_run(ctx, &plan->steps[i]);
    dbal__mig_plan_free(plan);
    return rc;
}

int dbal_migrate_up(dbal_engine *e, const char *dir, int64_t target, const dbal_migrate_options *o,
                    dbal_error *err)
{
    dbal__mig_ctx ctx;
    dbal__mig_plan plan;
    int rc = open_ctx(&ctx, e, dir, o);
    ctx.up = 1;
    if (rc == DBAL_OK)
        rc = prepare(&ctx);
    if (rc == DBAL_OK)
        rc = dbal__mig_validate(&ctx);
    if (rc == DBAL_OK && (rc = dbal__mig_plan_up(&ctx, target, &plan)) == DBAL_OK)
        rc = run_plan(&ctx, &plan);
    return finish(&ctx, rc, err);
}

int dbal_migrate_down(dbal_engine *e, const char *dir, int64_t target, const dbal_migrate_options *o,
                      dbal_error *err)
{
    dbal__mig_ctx ctx;
    dbal__mig_plan plan;
    int rc = open_ctx(&ctx, e, dir, o);
    if (rc == DBAL_OK)
        rc = prepare(&ctx);
    if (rc == DBAL_OK && (rc = dbal__mig_plan_down(&ctx, target, &plan)) == DBAL_OK)
        rc = run_plan(&ctx, &plan);
    return finish(&ctx, rc, err);
}

/* Both lists are in ascending versions: walked together, as a merge. */
static void report(const dbal__mig_ctx *ctx, dbal_migrate_fn fn, void *userdata)
{
    size_t i = 0, k = 0;
    const dbal__mig_dir *d = &ctx->dir;
    const dbal__mig_history *h = &ctx->hist;
    while (i < d->count || k < h->count) {
        const dbal__mig_file *f = i < d->count ? &d->files[i] : NULL;
        const dbal__mig_row *row = k < h->count ? &h->rows[k] : NULL;
        if (f && row && f->version != row->version) {
            if (f->version < row->version)
                row = NULL;
            else
                f = NULL;
        }
        dbal_migration m;
        dbal__mig_describe(f, row, &m);
        fn(userdata, &m);
        i += f != NULL;
        k += row != NULL;
    }
}

int dbal_migrate_status(dbal_engine *e, const char *dir, const dbal_migrate_options *o, dbal_migrate_fn fn,
                        void *userdata, dbal_error *err)
{
    dbal__mig_ctx ctx;
    if (!fn) {
        dbal__error_set(err, DBAL_EINVAL, NULL, 0, "dbal_migrate_status: fn is required");
        return DBAL_EINVAL;
    }
    int rc = open_ctx(&ctx, e, dir, o);
    if (rc == DBAL_OK && (rc = dbal__mig_history_read(ctx.s, ctx.table, &ctx.hist)) != DBAL_OK)
        dbal__mig_fail(&ctx, rc);
    if (rc == DBAL_OK)
        report(&ctx, fn, userdata);
    return finish(&ctx, rc, err);
}
