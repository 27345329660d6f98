/*
 * The database file an engine opened, and only that one.
 *
 * A file deleted (or renamed away) while the engine is open splits it in
 * two: its open connections go on with the unlinked file, which no one
 * will read again, while a new connection would create an empty database
 * at the path, next to the old one's -wal and -shm files, which SQLite
 * could then pair with it. A file renamed over the path has the same
 * second half. So the first connection records which file it opened
 * (device and inode), later connections open that file or fail (never
 * creating it), and sq_check tells the pool that an idle connection's file
 * is no longer at the path. Reopening the engine, once its sessions are
 * closed, starts afresh.
 */
#include "sqlite_internal.h"

#include <string.h>
#include <sys/stat.h>

/* Whether the file at the path is the one the engine's first connection
 * opened; that connection records it. A path with no file behind it before
 * anything was recorded (mode=memory, a VFS of its own) is not checked. */
static int same_file(sq_engine *e, dbal_error *err)
{
    struct stat st;
    int missing = stat(e->path, &st) != 0;
    int rc = DBAL_OK;
    pthread_mutex_lock(&e->file_lock);
    if (!e->file_known && !missing) {
        e->file_known = 1;
        e->file_dev = st.st_dev;
        e->file_ino = st.st_ino;
    } else if (e->file_known && missing) {
        sq_host
            ->set_error(err, DBAL_ECONNECT, "08001", SQLITE_READONLY_DBMOVED,
                        "the database file '%s' was deleted or renamed while the engine had it open: dbal "
                        "does not create it anew (an empty database would take its place); close and reopen "
                        "the engine",
                        e->path);
        rc = DBAL_ECONNECT;
    } else if (e->file_known && (st.st_dev != e->file_dev || st.st_ino != e->file_ino)) {
        sq_host
            ->set_error(err, DBAL_ECONNECT, "08001", SQLITE_READONLY_DBMOVED,
                        "the database file '%s' was replaced by another file while the engine had it open: "
                        "close and reopen the engine to use the new one",
                        e->path);
        rc = DBAL_ECONNECT;
    }
    pthread_mutex_unlock(&e->file_lock);
    return rc;
}

static int file_known(sq_engine *e)
{
    pthread_mutex_lock(&e->file_lock);
    int known = e->file_known;
    pthread_mutex_unlock(&e->file_lock);
    return known;
}

/* SQLite's reason ("unable to open database file") and the system's
 * ("No such file or directory"), with the path, each once. */
static void cannot_open(sq_engine *e, sqlite3 *db, int rc, dbal_error *err)
{
    int sys = db ? sqlite3_system_errno(db) : 0;
    char buf[128];
    const char *why = sys ? strerror_r(sys, buf, sizeof buf) : NULL;
    sq_host->set_error(err, DBAL_ECONNECT, "08001", rc, "cannot open SQLite database '%s': %s%s%s%s", e->path,
                       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), why ? " (" : "", why ? why : "",
                       why ? ")" : "");
}

int sq_open_file(sq_conn *c, dbal_error *err)
{
    sq_engine *e = c->engine;
    int known = file_known(e);
    int rc = sqlite3_open_v2(e->uri, &c->db, known ? e->flags & ~SQLITE_OPEN_CREATE : e->flags, NULL);
    if (rc == SQLITE_OK && same_file(e, err) == DBAL_OK)
        return DBAL_OK;
    /* A failed open names the file that is gone rather than SQLite's
     * generic reason, when that is what happened. */
    if (rc != SQLITE_OK && (!known || same_file(e, err) == DBAL_OK))
        cannot_open(e, c->db, rc, err);
    sqlite3_close_v2(c->db);
    c->db = NULL;
    return DBAL_ECONNECT;
}

int sq_check(dbal_driver_conn *base, int wait, int *fd, dbal_error *err)
{
    sq_conn *c = (sq_conn *)base;
    (void)wait; /* it never waits for anything */
    *fd = -1;
    if (base->broken) {
        sq_host->set_error(err, DBAL_ECONNLOST, "08006", 0, "the connection is broken");
        return DBAL_ECONNLOST;
    }
    /* One stat() of the path in SQLite's unix VFS; other VFSes answer
     * SQLITE_NOTFOUND and are taken as not moved. */
    int moved = 0;
    sq_snap_enter(c);
    int rc = sqlite3_file_control(c->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved);
    sq_snap_exit(c);
    if (rc != SQLITE_OK || !moved)
        return DBAL_OK;
    base->broken = 1;
    sq_host->set_error(err, DBAL_ECONNLOST, "08006", SQLITE_READONLY_DBMOVED,
                       "the database file '%s' was deleted, renamed or replaced while open",
                       sqlite3_db_filename(c->db, "main"));
    return DBAL_ECONNLOST;
}
