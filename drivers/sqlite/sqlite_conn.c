/* Connections: open with the engine's settings, transaction control. */
#include "sqlite_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void release_stmt(void *stmt, void *userdata)
{
    sq_stmt *s = stmt;
    sq_conn *c = userdata;
    if (c->last == s)
        c->last = NULL; /* its key goes with the entry */
    if (s->busy) {
        s->evicted = 1; /* the cursor reading it finalizes it */
        return;
    }
    sq_stmt_free(s);
}

/* The driver's own statements run on the statement clock as the
 * application's do: BEGIN IMMEDIATE waits for the write lock, and COMMIT
 * may wait for readers outside WAL mode. */
static int run(sq_conn *c, const char *sql, dbal_error *err)
{
    sq_start_clock(c);
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DBAL_OK : sq_fail(c, rc, err);
}

/* BEGIN, COMMIT and ROLLBACK come with every transaction: prepared once per
 * connection, they cost a step and a reset, where sqlite3_exec parsed and
 * finalized their text each time (≈ 8,000 instructions a transaction in
 * bench W7). */
sqlite3_stmt *sq_tx_stmt(sq_conn *c, int which)
{
    static const char *const text[] =
        {[SQ_TX_DEFERRED] = "BEGIN DEFERRED", [SQ_TX_COMMIT] = "COMMIT", [SQ_TX_ROLLBACK] = "ROLLBACK"};
    sqlite3_stmt **st = &c->tx[which];
    const char *sql = which == SQ_TX_BEGIN ? c->engine->begin_sql : text[which];
    if (!*st && sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
    }
    return *st;
}

/* On the statement clock, as run()'s. */
static int run_tx(sq_conn *c, int which, dbal_error *err)
{
    sqlite3_stmt *st = sq_tx_stmt(c, which);
    if (!st)
        return sq_fail(c, sqlite3_errcode(c->db), err);
    sq_start_clock(c);
    int rc = sqlite3_step(st);
    int out = rc == SQLITE_DONE ? DBAL_OK : sq_fail(c, rc, err);
    sqlite3_reset(st);
    return out;
}

/* Settings every connection of the engine gets. The busy handler comes
 * first: switching to WAL itself needs a lock another connection may hold. */
static int configure(sq_conn *c, dbal_error *err)
{
    sq_engine *e = c->engine;
    char sql[96];
    sq_install_handlers(c);
    sqlite3_extended_result_codes(c->db, 1);
    int rc = run(c, e->foreign_keys ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF", err);
    if (rc == DBAL_OK && e->journal_mode) {
        /* Converting a new file to WAL takes its write lock from under a
         * read lock, which SQLite refuses at once while another connection
         * converts it too (seen in 4% of rounds of eight connections
         * opening a new file): a refusal to wait out, as a lock is. */
        snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", e->journal_mode);
        sq_start_clock(c);
        int src = sq_exec_retrying(c, sql);
        if (src != SQLITE_OK)
            rc = sq_fail(c, src, err);
    }
    if (rc == DBAL_OK && e->synchronous) {
        snprintf(sql, sizeof sql, "PRAGMA synchronous=%s", e->synchronous);
        rc = run(c, sql, err);
    }
    if (rc == DBAL_OK && e->mmap_size >= 0) {
        snprintf(sql, sizeof sql, "PRAGMA mmap_size=%lld", e->mmap_size);
        rc = run(c, sql, err);
    }
    for (int i = 0; rc == DBAL_OK && i < e->npragmas; i++)
        rc = run(c, e->pragmas[i], err);
    sq_guard_install(c);
    return rc;
}

int sq_connect(void *ctx, dbal_driver_conn **out, dbal_error *err)
{
    sq_engine *e = ctx;
    int rc = sq_fork_may_connect(e, err);
    if (rc != DBAL_OK)
        return rc;
    sq_conn *c = sq_host->malloc(sizeof *c);
    if (!c) {
        sq_host->set_error(err, DBAL_ENOMEM, "53200", 0, "out of memory");
        return DBAL_ENOMEM;
    }
    memset(c, 0, sizeof *c);
    c->engine = e;
    rc = sq_open_file(c, err);
    if (rc != DBAL_OK) {
        sq_host->free(c);
        return rc;
    }
    if ((rc = sq_fork_admit(c, err)) != DBAL_OK) {
        sqlite3_close_v2(c->db);
        sq_host->free(c);
        return rc;
    }
    /* Counted before anything it runs can commit (an _pragma may). */
    sq_snap_join(c);
    rc = configure(c, err);
    if (rc == DBAL_OK && e->cache_size > 0) {
        c->cache = stmt_cache_new(sq_host, e->cache_size, release_stmt, c);
        if (!c->cache) {
            sq_host->set_error(err, DBAL_ENOMEM, "53200", 0, "out of memory");
            rc = DBAL_ENOMEM;
        }
    }
    if (rc != DBAL_OK) {
        sq_snap_leave(c);
        sq_fork_forget(c);
        sqlite3_close_v2(c->db);
        sq_host->free(c);
        return rc;
    }
    sq_snap_exit(c);
    *out = &c->base;
    return DBAL_OK;
}

void sq_disconnect(dbal_driver_conn *base)
{
    sq_conn *c = (sq_conn *)base;
    if (!sq_fork_may_close(c))
        return; /* a parent's, in a child: kept untouched (sqlite_fork.c) */
    /* In a forked child nothing else of the parent's runs on c (driver.h),
     * and a copy of another thread's state could never change. */
    if (c->pid == getpid())
        sq_snap_enter(c);
    sq_snap_leave(c);
    sq_host->free(c->spare);
    stmt_cache_free(c->cache);
    for (size_t i = 0; i < sizeof c->tx / sizeof c->tx[0]; i++)
        sqlite3_finalize(c->tx[i]);
    sq_fork_forget(c);
    /* _v2: any statement a caller leaked is finalized with the handle. */
    sqlite3_close_v2(c->db);
    sq_host->free(c);
}

static int begin(sq_conn *c, unsigned options, dbal_error *err)
{
    int rc = sq_snap_end(c, err);
    if (rc != DBAL_OK)
        return rc;
    if (options & (DBAL_TX_READ_COMMITTED | DBAL_TX_REPEATABLE_READ)) {
        sq_host->set_error(err, DBAL_EUNSUPPORTED, "0A000", 0,
                           "SQLite transactions are always serializable; READ COMMITTED and REPEATABLE "
                           "READ are not available");
        return DBAL_EUNSUPPORTED;
    }
    if (options & DBAL_TX_READ_ONLY || c->read_only) {
        /* A read-only transaction takes no write lock, so DEFERRED; query_only
         * makes writes fail as PostgreSQL's READ ONLY does (25006). */
        rc = run_tx(c, SQ_TX_DEFERRED, err);
        if (rc == DBAL_OK && (rc = run(c, "PRAGMA query_only=1", err)) != DBAL_OK)
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        c->read_only_tx = rc == DBAL_OK;
        return rc;
    }
    return run_tx(c, SQ_TX_BEGIN, err);
}

int sq_begin(dbal_driver_conn *base, unsigned options, dbal_error *err)
{
    sq_conn *c = (sq_conn *)base;
    sq_snap_enter(c);
    int rc = begin(c, options, err);
    sq_snap_exit(c);
    return rc;
}

static void end_read_only(sq_conn *c)
{
    if (c->read_only_tx) {
        if (!c->read_only) /* a read-only session stays read-only */
            sqlite3_exec(c->db, "PRAGMA query_only=0", NULL, NULL, NULL);
        c->read_only_tx = 0;
    }
}

int sq_set_read_only(dbal_driver_conn *base, int on, dbal_error *err)
{
    sq_conn *c = (sq_conn *)base;
    sq_snap_enter(c);
    int rc = sq_snap_end(c, err);
    if (rc == DBAL_OK)
        rc = run(c, on ? "PRAGMA query_only=1" : "PRAGMA query_only=0", err);
    if (rc == DBAL_OK)
        c->read_only = on;
    sq_snap_exit(c);
    return rc;
}

int sq_commit(dbal_driver_conn *base, dbal_error *err)
{
    sq_conn *c = (sq_conn *)base;
    sq_snap_enter(c);
    int rc = run_tx(c, SQ_TX_COMMIT, err);
    if (rc == DBAL_OK)
        end_read_only(c);
    sq_snap_exit(c);
    return rc;
}

int sq_rollback(dbal_driver_conn *base, dbal_error *err)
{
    sq_conn *c = (sq_conn *)base;
    sq_snap_enter(c);
    /* Some errors (SQLITE_FULL, IOERR, BUSY in places) end the transaction
     * themselves; rolling back nothing is then success. */
    int rc = sqlite3_get_autocommit(c->db) ? DBAL_OK : run_tx(c, SQ_TX_ROLLBACK, err);
    end_read_only(c);
    sq_snap_exit(c);
    return rc;
}

int sq_last_insert_id(dbal_driver_conn *base, int64_t *out, dbal_error *err)
{
    /* 0 means nothing was inserted on this connection: answer as
     * PostgreSQL's lastval() does, rather than with an id that is no row's. */
    sq_conn *c = (sq_conn *)base;
    sq_snap_enter(c);
    int64_t id = sqlite3_last_insert_rowid(c->db);
    sq_snap_exit(c);
    if (id == 0) {
        sq_host->set_error(err, DBAL_EMISUSE, "55000", 0, "no row has been inserted on this connection yet");
        return DBAL_EMISUSE;
    }
    *out = id;
    return DBAL_OK;
}

int sq_ping(dbal_driver_conn *base, dbal_error *err)
{
    /* An open SQLite handle has no server to lose; what it can lose is its
     * file. */
    int fd;
    return sq_check(base, 1, &fd, err);
}
