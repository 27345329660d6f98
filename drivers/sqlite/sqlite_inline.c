/*
 * Inline execution (driver.h's inline_budget): the asynchronous API runs a
 * statement on its loop thread when the driver promises that it cannot
 * hold the loop, because a thread hand-over (~10 us on a VM) costs more
 * than a point select (~1 us).
 *
 * What the promise rests on, while armed:
 * - no wait for another connection's lock: the busy handler gives up at
 *   once (sqlite_timeout.c's wait_step), and any SQLITE_BUSY counts as
 *   stopped;
 * - no unbounded CPU: the progress handler interrupts the statement past
 *   the budget (composed with the statement timeout's, sqlite_timeout.c);
 * - no wait for the disk: on a file database a statement that writes
 *   (its commit is an fsync in the rollback journal and in WAL with
 *   synchronous=FULL) is handed over before it runs (sqlite_stmt.c's
 *   start), and the commit hook (sqlite_timeout.c) refuses any commit
 *   while armed, which makes SQLite roll it back. sqlite::memory: commits
 *   to a WAL on tmpfs, where nothing waits for a disk. Reading a file
 *   database goes through the page cache.
 * - nothing applied when stopped: the core arms only outside a transaction
 *   (checked here too: an application's BEGIN sent as SQL, whose writes an
 *   interrupt would roll back whole, is refused), so a stopped statement
 *   ran in its own implicit transaction, which SQLite rolls back (an
 *   interrupted, busy or hook-refused write), or was a read in the
 *   snapshot sqlite::memory: keeps (sqlite_snapshot.c), which an interrupt
 *   of a read-only statement leaves as it was. A statement whose write
 *   committed is never stopped after (the progress handler's last call,
 *   sqlite_timeout.c): it is done, and must not run again.
 */
#include "sqlite_internal.h"

/* Arming touches no SQLite state and reads no clock, so it needs neither
 * sq_snap_enter nor a time: what needs the handle waits for the statement
 * (sq_inline_start, inside its own enter), and the budget's end is taken at
 * the progress handler's first look (sqlite_timeout.c), at most
 * INLINE_STEPS virtual machine steps into the statement. A point select
 * never gets there: an op on sqlite::memory: then pays no clock read and no
 * park for being inline. Neither side touches a field that a connection
 * ending this one's snapshot (sqlite_snapshot.c's end_held) reaches: during
 * its COMMIT of a read the progress handler returns at once, and the
 * COMMIT waits for no lock and fires no commit hook (SQLite 3.40's
 * vdbeCommit calls the hook, and takes a lock, only for a btree in a write
 * transaction; ending a WAL read transaction waits for nothing). Checked by
 * test_async_inline's test_reads_meet_new_connections under TSan. */
int sq_inline_budget(dbal_driver_conn *base, int budget_us)
{
    sq_conn *c = (sq_conn *)base;
    int rc = DBAL_OK;
    if (budget_us <= 0 && c->inline_stopped)
        rc = DBAL_DRIVER_HAND_OVER; /* set only while armed */
    c->inline_budget = budget_us > 0 ? budget_us / 1e6 : 0;
    c->inline_until = 0;
    c->inline_stopped = 0;
    return rc;
}

int sq_inline_start(sq_conn *c, dbal_error *err)
{
    if (!c->inline_used) {
        c->inline_used = 1;
        c->inline_ram = sq_memdir_in_ram(c->engine); /* a string compare: once */
        sq_install_progress(c);
    }
    if (sqlite3_get_autocommit(c->db) || c->held)
        return DBAL_OK;
    c->inline_stopped = 1;
    sq_host->set_error(err, DBAL_EBUSY, NULL, 0,
                       "a transaction the application began with SQL: handed over to a worker");
    return DBAL_EBUSY;
}
