/*
 * One migration applied or reverted: in a transaction of its own that also
 * writes its history row, or statement by statement (-- dbal:no-transaction)
 * with the row written after the last one; or, in a dry run, its
 * statements given to the caller. A failure names the file and the line of
 * the statement, keeping the database's code and SQLSTATE.
 */
#include "migrate.h"

#include "errors.h"
#include "pool.h"

#include <stdio.h>
#include <string.h>

int dbal__mig_fail(dbal__mig_ctx *ctx, int rc)
{
    const dbal_error *e = dbal_session_error(ctx->s);
    if (e->code == rc)
        ctx->error = *e;
    else
        dbal__error_set(&ctx->error, rc, NULL, 0, NULL);
    return rc;
}

void dbal__mig_describe(const dbal__mig_file *f, const dbal__mig_row *row, dbal_migration *m)
{
    memset(m, 0, sizeof *m);
    m->version = f ? f->version : row->version;
    m->name = f ? f->name : row->name;
    m->state = !row                                      ? DBAL_MIGRATION_PENDING
               : !f                                      ? DBAL_MIGRATION_MISSING
               : strcmp(f->checksum, row->checksum) != 0 ? DBAL_MIGRATION_CHANGED
                                                         : DBAL_MIGRATION_APPLIED;
    m->file = f ? f->up : NULL;
    m->down_file = f ? f->down : NULL;
    m->checksum = f ? f->checksum : NULL;
    m->applied_checksum = row ? row->checksum : NULL;
    m->applied_at = row ? row->applied_at : NULL;
    m->duration_ms = row ? row->duration_ms : -1;
    m->no_transaction = f ? f->no_tx : 0;
}

void dbal__mig_progress(const dbal__mig_ctx *ctx, dbal_migrate_event ev, const dbal__mig_file *f,
                        const dbal__mig_row *row)
{
    if (!ctx->opts.progress)
        return;
    dbal_migration m;
    dbal__mig_describe(f, row, &m);
    if (ev == DBAL_MIGRATE_SKIPPED) /* what the other process did */
        m.state = ctx->up ? DBAL_MIGRATION_APPLIED : DBAL_MIGRATION_PENDING;
    ctx->opts.progress(ctx->opts.userdata, ev, &m);
}

/* The error of the statement at path:line, which failed with rc; `after`
 * says what became of the migration. The session's error had the details
 * (a rollback since has kept them). */
static int statement_failed(dbal__mig_ctx *ctx, const char *path, int line, int rc, const char *after)
{
    dbal__mig_fail(ctx, rc);
    dbal_error db = ctx->error;
    dbal__error_set(&ctx->error, db.code, db.sqlstate, db.native_code, "%s:%d: %s (%s)", path, line,
                    db.message, after);
    memcpy(ctx->error.constraint, db.constraint, sizeof db.constraint);
    return rc;
}

static int run_statements(dbal__mig_ctx *ctx, const dbal__mig_step *st, int *line)
{
    for (size_t i = 0; i < st->script.count; i++) {
        int rc = dbal_exec(ctx->s, st->script.stmts[i].sql, DBAL_NOARGS, NULL);
        if (rc != DBAL_OK) {
            *line = st->script.stmts[i].line;
            return rc;
        }
    }
    return DBAL_OK;
}

/* The history's side of a step, in the step's transaction: the row
 * written (up) or deleted (down). */
static int record(dbal__mig_ctx *ctx, const dbal__mig_step *st, double t0, dbal__mig_row *row)
{
    if (!ctx->up)
        return dbal__mig_history_delete(ctx->s, ctx->table, st->f->version);
    dbal__mig_utc_now(row->applied_at, DBAL__MIG_AT_LEN);
    row->duration_ms = (int64_t)((dbal__now() - t0) * 1000 + 0.5);
    return dbal__mig_history_insert(ctx->s, ctx->table, st->f, row->applied_at, row->duration_ms);
}

/* The step is done: the version the database is at, and the progress
 * callback. */
static void done(dbal__mig_ctx *ctx, const dbal__mig_step *st, dbal__mig_row *row)
{
    if (ctx->up && st->f->version > ctx->at)
        ctx->at = st->f->version;
    for (size_t i = 0; !ctx->up && i < ctx->hist.count; i++) /* the highest left below it */
        if (ctx->hist.rows[i].version < st->f->version)
            ctx->at = ctx->hist.rows[i].version;
    if (!ctx->up && (ctx->hist.count == 0 || ctx->hist.rows[0].version >= st->f->version))
        ctx->at = 0;
    dbal__mig_progress(ctx, ctx->up ? DBAL_MIGRATE_APPLIED : DBAL_MIGRATE_REVERTED, st->f,
                       ctx->up ? row : NULL);
}

/* Whether another process has already done this step: the version is
 * recorded (up) or no longer is (down). */
static int done_elsewhere(dbal__mig_ctx *ctx, const dbal__mig_step *st, int *yes)
{
    int has = 0, rc = dbal__mig_history_has(ctx->s, ctx->table, st->f->version, &has);
    *yes = ctx->up ? has : !has;
    return rc;
}

static int run_in_transaction(dbal__mig_ctx *ctx, const dbal__mig_step *st, dbal__mig_row *row)
{
    int rc = dbal__mig_begin(ctx, ctx->touch), skip = 0, line = 0;
    if (rc == DBAL_OK && (rc = done_elsewhere(ctx, st, &skip)) == DBAL_OK && skip) {
        dbal__mig_rollback(ctx->s);
        dbal__mig_progress(ctx, DBAL_MIGRATE_SKIPPED, st->f, NULL);
        return DBAL_OK;
    }
    if (rc != DBAL_OK) {
        dbal__mig_rollback(ctx->s);
        return dbal__mig_fail(ctx, rc);
    }
    double t0 = dbal__now();
    if ((rc = run_statements(ctx, st, &line)) != DBAL_OK) {
        char after[160];
        dbal__mig_rollback(ctx->s);
        snprintf(after, sizeof after, "%s version %lld rolled back; the database stays at version %lld",
                 ctx->up ? "applying" : "reverting", (long long)st->f->version, (long long)ctx->at);
        return statement_failed(ctx, st->path, line, rc, after);
    }
    if ((rc = dbal__mig_end(ctx, record(ctx, st, t0, row))) != DBAL_OK)
        return rc;
    done(ctx, st, row);
    return DBAL_OK;
}

/* A no-transaction migration whose statements ran but whose history row
 * was not written (the write lock not had in time, the connection lost):
 * the schema changed and the history does not say so, which the error
 * must. */
static int not_recorded(dbal__mig_ctx *ctx, const dbal__mig_step *st, int rc)
{
    dbal_error db = ctx->error;
    dbal__error_set(&ctx->error, db.code, db.sqlstate, db.native_code,
                    "%s: a no-transaction migration: its statements ran, but recording it failed (%s); the "
                    "next up runs them again",
                    st->path, db.message);
    memcpy(ctx->error.constraint, db.constraint, sizeof db.constraint);
    return rc;
}

/* -- dbal:no-transaction: each statement on its own, then the history in a
 * transaction that checks again that no other process recorded it. */
static int run_alone(dbal__mig_ctx *ctx, const dbal__mig_step *st, dbal__mig_row *row)
{
    int skip = 0, line = 0, rc = done_elsewhere(ctx, st, &skip);
    if (rc != DBAL_OK)
        return dbal__mig_fail(ctx, rc);
    if (skip) {
        dbal__mig_progress(ctx, DBAL_MIGRATE_SKIPPED, st->f, NULL);
        return DBAL_OK;
    }
    double t0 = dbal__now();
    if ((rc = run_statements(ctx, st, &line)) != DBAL_OK)
        return statement_failed(ctx, st->path, line, rc,
                                "a no-transaction migration: the statements before this one stay applied and "
                                "nothing was recorded; make them safe to run again, then run it again");
    if ((rc = dbal__mig_begin(ctx, ctx->touch)) != DBAL_OK)
        return not_recorded(ctx, st, dbal__mig_fail(ctx, rc));
    if ((rc = done_elsewhere(ctx, st, &skip)) == DBAL_OK && !skip)
        rc = record(ctx, st, t0, row);
    if ((rc = dbal__mig_end(ctx, rc)) != DBAL_OK)
        return not_recorded(ctx, st, rc);
    done(ctx, st, row);
    return DBAL_OK;
}

int dbal__mig_run(dbal__mig_ctx *ctx, const dbal__mig_step *st)
{
    if (ctx->opts.dry_run) {
        for (size_t i = 0; i < st->script.count; i++)
            ctx->opts.dry_run(ctx->opts.userdata, st->path, st->script.stmts[i].line,
                              st->script.stmts[i].sql);
        return DBAL_OK;
    }
    char at[DBAL__MIG_AT_LEN] = "";
    dbal__mig_row row = {st->f->version, st->f->name, (char *)st->f->checksum, at, 0};
    return st->no_tx ? run_alone(ctx, st, &row) : run_in_transaction(ctx, st, &row);
}
