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

int sq_inline_budget(dbal_driver_conn *base, int budget_us)
{
    sq_conn *c = (sq_conn *)base;
    if (budget_us <= 0) {
        /* Disarming touches no SQLite state, only two fields of ours that
         * a connection ending this one's snapshot (sqlite_snapshot.c's
         * end_held) never reaches: during its COMMIT of a read the progress
         * handler returns at once, and the COMMIT waits for no lock. So no
         * need to take the connection back from it first. */
        int rc = c->inline_stopped ? DBAL_DRIVER_HAND_OVER : DBAL_OK; /* set only while armed */
        c->inline_until = 0;
        c->inline_stopped = 0;
        return rc;
    }
    sq_snap_enter(c);
    int rc = DBAL_OK;
    if (!sqlite3_get_autocommit(c->db) && !c->held) {
        rc = DBAL_DRIVER_HAND_OVER; /* a transaction the application began with SQL */
    } else {
        if (!c->inline_used) {
            c->inline_used = 1;
            c->inline_ram = sq_memdir_in_ram(c->engine); /* a string compare: once */
            sq_install_progress(c);
        }
        c->inline_until = sq_now() + budget_us / 1e6;
        c->inline_stopped = 0;
    }
    sq_snap_exit(c);
    return rc;
}
