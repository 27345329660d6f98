/*
 * fork(): a connection belongs to the process that opened it. SQLite says
 * not to carry an open connection across fork(), and the reason is in its
 * unix VFS: POSIX locks are per process, so SQLite keeps, per process, one
 * record of the locks held on each database file (and on its WAL index),
 * and a connection takes a real lock only when that record says the process
 * holds none. A child inherits copies of those records, describing locks
 * that are its parent's. So in a child:
 *
 *   - a connection the parent opened is closed only when that touches
 *     nothing of the parent's: no write transaction open (closing would roll
 *     it back into the shared files) and SQLite's checkpoint on close turned
 *     off (the last connection of a process checkpoints the WAL into the
 *     database and deletes it). Then closing frees the child's memory and
 *     descriptors and the copied lock records with them; the locks
 *     themselves are the parent's and are not released by the child's
 *     close(). With a write transaction open, it is kept as it is, in
 *     memory, until the process exits.
 *   - a new connection to a database file is refused while a connection to
 *     the same file opened by another process is still in this one's
 *     memory: its copied records would let the new connection believe it
 *     holds locks it does not have.
 *   - sqlite::memory: is the private database of the process that opened
 *     the engine: a child cannot connect to it (it could only wait on the
 *     parent's lock) and never removes it (sqlite_engine.c).
 */
#include "sqlite_internal.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every connection in this process's memory, those a fork() copied from
 * the parent included (which keeps the kept ones reachable). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static sq_conn *live;

/* Which file c's main database is: SQLite's lock records are per file. */
static void identify_file(sq_conn *c)
{
    const char *path = sqlite3_db_filename(c->db, "main");
    struct stat st;
    c->has_file = path && *path && stat(path, &st) == 0;
    if (c->has_file) {
        c->dev = st.st_dev;
        c->ino = st.st_ino;
    }
}

/* A connection of another process to c's file, still in this one's
 * memory; under live_lock. */
static const sq_conn *inherited_on_same_file(const sq_conn *c)
{
    for (const sq_conn *o = live; o && c->has_file; o = o->live_next)
        if (o->pid != c->pid && o->has_file && o->dev == c->dev && o->ino == c->ino)
            return o;
    return NULL;
}

int sq_fork_may_connect(const sq_engine *e, dbal_error *err)
{
    pid_t self = getpid();
    if (!e->memory || e->pid == self)
        return DBAL_OK;
    sq_host
        ->set_error(err, DBAL_EMISUSE, NULL, 0,
                    "sqlite::memory: is the database of process %ld, which opened the engine; a connection "
                    "belongs to the process that opened it: open an engine of this process's own (%ld)",
                    (long)e->pid, (long)self);
    return DBAL_EMISUSE;
}

int sq_fork_admit(sq_conn *c, dbal_error *err)
{
    c->pid = getpid();
    identify_file(c);
    pthread_mutex_lock(&live_lock);
    const sq_conn *other = inherited_on_same_file(c);
    long other_pid = other ? (long)other->pid : 0;
    if (!other) {
        c->live_prev = NULL;
        c->live_next = live;
        if (live)
            live->live_prev = c;
        live = c;
    }
    pthread_mutex_unlock(&live_lock);
    if (other) {
        sq_host
            ->set_error(err, DBAL_EMISUSE, NULL, 0,
                        "a connection to this database opened by process %ld before fork() is still open "
                        "in this process (%ld); SQLite keeps one record of a file's locks per process, so a "
                        "new connection here would not be safe: close the engines and sessions inherited "
                        "from it first (in a child, closing them frees memory only)",
                        other_pid, (long)c->pid);
        return DBAL_EMISUSE;
    }
    return DBAL_OK;
}

int sq_fork_may_close(sq_conn *c)
{
    if (c->pid == getpid())
        return 1;
#if SQLITE_VERSION_NUMBER >= 3034000
    if (sqlite3_txn_state(c->db, NULL) != SQLITE_TXN_WRITE) {
        sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
        return 1;
    }
#endif
    return 0;
}

void sq_fork_forget(sq_conn *c)
{
    /* Statements of cursors the parent left open: their cursors are never
     * closed in a child, and an unfinalized statement would keep the
     * handle (and its lock records) alive. None writes: sq_fork_may_close
     * said so. */
    if (c->pid != getpid())
        for (sqlite3_stmt *st; (st = sqlite3_next_stmt(c->db, NULL)) != NULL;)
            sqlite3_finalize(st);
    pthread_mutex_lock(&live_lock);
    if (c->live_prev)
        c->live_prev->live_next = c->live_next;
    else if (live == c)
        live = c->live_next;
    if (c->live_next)
        c->live_next->live_prev = c->live_prev;
    pthread_mutex_unlock(&live_lock);
}
