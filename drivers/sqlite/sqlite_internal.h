/* The SQLite driver's shared state; one file per concern beside it. */
#ifndef DBAL_SQLITE_INTERNAL_H
#define DBAL_SQLITE_INTERNAL_H

#include "stmt_cache.h"

#include <dbal/driver.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/types.h>

extern const dbal_host *sq_host;

#define SQ_MAX_PRAGMAS 16
/* mmap_size: the default for sqlite::memory:, and the largest accepted
 * (SQLite lowers it further to its compile-time SQLITE_MAX_MMAP_SIZE). */
#define SQ_MMAP_MEMORY (256LL << 20)
#define SQ_MMAP_MAX (1LL << 40)

/* Per-engine settings, parsed once from the URL. */
typedef struct sq_engine {
    char *uri;        /* what sqlite3_open_v2 gets */
    int memory;       /* sqlite::memory: one RAM database for all the engine's connections */
    char *memdir;     /* its private directory on tmpfs, removed at engine close */
    int lock_fd;      /* memdir's lock, held while the engine is open (sqlite_memdir.c) */
    int vfs_named;    /* the URL chose a VFS */
    int flags;        /* SQLITE_OPEN_* */
    int busy_timeout; /* milliseconds */
    int foreign_keys;
    long long mmap_size; /* bytes read through a memory map; -1: SQLite's default */
    char *journal_mode;  /* NULL: leave as is */
    char *synchronous;   /* NULL: leave as is */
    const char *begin_sql;
    char *pragmas[SQ_MAX_PRAGMAS]; /* "PRAGMA name(value)" from _pragma= */
    int npragmas;
    int cache_size;
    pid_t pid;  /* the process that opened it, owner of memdir */
    char *path; /* the database file, as the engine's connections open it */
    /* The file the first connection opened, which later ones must find at
     * path (sqlite_file.c). */
    pthread_mutex_t file_lock;
    int file_known;
    dev_t file_dev;
    ino_t file_ino;
    /* sqlite::memory:'s connections, for the snapshots they keep
     * (sqlite_snapshot.c): how many are open, how many were ever opened,
     * and the list of them. */
    atomic_int nconn;
    atomic_uint opened;
    pthread_mutex_t conns_lock;
    struct sq_conn *conns;
} sq_engine;

/* What a result column's declared type says (sqlite_types.c): the
 * logical type of its values (DBAL_TYPE_NULL: none beyond the storage
 * class), the scale of NUMERIC(p, s) (-1: none), and the column's buffer
 * for numerics made text. */
typedef struct sq_col {
    dbal_type kind;
    int scale;
    char *buf;
    size_t cap;
} sq_col;

/* A prepared statement and whether a cursor is reading it. */
typedef struct sq_stmt {
    sqlite3_stmt *st;
    /* Its result columns' declared types, read once per preparation
     * (SQLite prepares again after a schema change: `reprepared` counts). */
    sq_col *cols; /* NULL when no column has a kind */
    int ncols;
    int reprepared;
    int nparams; /* its placeholders: fixed by the SQL text, which a re-preparation keeps */
    /* Flags as bytes, not ints: one per cached statement is 40 bytes, not
     * 56 (a 48-byte malloc chunk instead of 64; W8-stmt in bench/run). */
    unsigned char cached;     /* owned by the cache */
    unsigned char busy;       /* a cursor is reading it */
    unsigned char evicted;    /* the cache let go while busy: finalize when the cursor closes */
    unsigned char described;  /* cols was read for this preparation */
    unsigned char plain_read; /* sq_plain_read: may run in the snapshot kept between statements */
} sq_stmt;

typedef struct sq_conn {
    dbal_driver_conn base;
    sqlite3 *db;
    sq_engine *engine;
    stmt_cache *cache; /* NULL when statement_cache_size is 0 */
    /* The cache's most recent entry when it is free to run again, and its
     * key (the cache's copy of its SQL): the statement that comes back is
     * found with one strcmp. NULL when not known; the cache's release
     * forgets it. */
    struct sq_stmt *last;
    const char *last_sql;
    int read_only_tx;    /* query_only was set by begin */
    int read_only;       /* query_only set for the session (set_read_only) */
    int timeout_ms;      /* statement timeout, 0 = none */
    double deadline;     /* monotonic seconds the running statement must end by */
    int stopped;         /* SQ_STOPPED_*: why the running statement was stopped */
    int committed;       /* the running statement committed a write: never interrupted after */
    int ending_snapshot; /* end_held's COMMIT is running, maybe on a newcomer's thread */
    double busy_since;   /* when the current wait for a lock began */
    /* Inline execution (sqlite_inline.c): the budget in seconds (> 0 while
     * armed), its end (monotonic seconds, 0 until the progress handler's
     * first look while armed), and whether a statement was stopped since
     * the connection was armed. */
    double inline_budget;
    double inline_until;
    int inline_stopped;
    int inline_used;             /* armed once: the progress handler stays at inline's period */
    int inline_ram;              /* its commits wait for no disk (sqlite_inline.c), known once armed */
    int progress_steps;          /* the progress handler's period as installed (0: none) */
    atomic_int cancel_requested; /* set by sq_cancel, from any thread */
    int guard;                   /* the application's SQL is being prepared (sqlite_guard.c) */
    const char *refused;         /* why the guard refused it */
    struct sq_rows *spare;       /* a closed cursor kept for the next query */
    /* The driver's own transaction statements (SQ_TX_*), prepared on
     * first use (sq_tx_stmt). */
    sqlite3_stmt *tx[4];
    /* fork(): who opened it, its file, and its place among the process's
     * connections (sqlite_fork.c). */
    pid_t pid;
    int has_file;
    dev_t dev;
    ino_t ino;
    struct sq_conn *live_prev, *live_next;
    /* The snapshot kept between statements (sqlite_snapshot.c). */
    int snapshots;             /* the engine is sqlite::memory: */
    int held;                  /* a transaction of the driver's own holds it */
    unsigned held_gen;         /* engine->opened when it was taken */
    int cursors;               /* open cursors */
    atomic_int state;          /* SQ_ACTIVE, SQ_PARKED or SQ_EVICTING */
    int parked;                /* this connection's thread left it PARKED */
    struct sq_conn *next_conn; /* in engine->conns */
} sq_conn;

struct sq_rows;
typedef struct sq_rows {
    dbal_driver_rows base;
    sq_conn *conn;
    sq_stmt *stmt;
    sqlite3_stmt *st; /* stmt->st, one load less per value */
    sq_col *cols;     /* stmt->cols */
    int pending;      /* query() stepped onto the first row already */
    int done;
} sq_rows;

/* The transaction statements the driver runs itself, one set per
 * connection for begin, commit and rollback and for the snapshot
 * (sqlite_snapshot.c): the engine's BEGIN (its begin_sql), BEGIN DEFERRED,
 * COMMIT and ROLLBACK. sq_tx_stmt: c->tx[which], prepared on first use
 * (reset after each step); NULL when it cannot be prepared. */
enum { SQ_TX_BEGIN, SQ_TX_DEFERRED, SQ_TX_COMMIT, SQ_TX_ROLLBACK };
sqlite3_stmt *sq_tx_stmt(struct sq_conn *c, int which);

/* Fills err from the connection's last error, with the SQLSTATE PostgreSQL
 * would give. Returns the dbal code. */
int sq_error(sqlite3 *db, int rc, dbal_error *err);

/* Opens c->db on the engine's file (sqlite_file.c): DBAL_ECONNECT with the
 * path and SQLite's and the system's reasons, or because the file the engine
 * first opened is no longer at its path. */
int sq_open_file(sq_conn *c, dbal_error *err);
/* The check slot: DBAL_OK, or DBAL_ECONNLOST (and c marked broken) when
 * its database file was deleted, renamed or replaced since it was opened.
 * No I/O but one stat(); never DBAL_EBUSY. */
int sq_check(dbal_driver_conn *c, int wait, int *fd, dbal_error *err);

/* Keeps the application's SQL from changing the settings dbal manages
 * (sqlite_guard.c): installed once per connection; application statements
 * are prepared through sq_prepare_guarded (DBAL_EPERM when refused). */
void sq_guard_install(sq_conn *c);
int sq_prepare_guarded(sq_conn *c, const char *sql, size_t len, unsigned flags, sqlite3_stmt **st,
                       const char **tail, dbal_error *err);

int sq_connect(void *ctx, dbal_driver_conn **out, dbal_error *err);
void sq_disconnect(dbal_driver_conn *c);
int sq_exec(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams, int64_t *affected,
            dbal_error *err);
int sq_query(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams,
             dbal_driver_rows **out, dbal_error *err);
int sq_rows_next(dbal_driver_rows *r, dbal_error *err);
void sq_rows_close(dbal_driver_rows *r);
const char *sq_col_name(dbal_driver_rows *r, int col);
void sq_col_value(dbal_driver_rows *r, int col, dbal_value *out);
dbal_type sq_col_type(dbal_driver_rows *r, int col);
int sq_col_int64(dbal_driver_rows *r, int col, int64_t *out);
int sq_col_double(dbal_driver_rows *r, int col, double *out);
int sq_col_text(dbal_driver_rows *r, int col, const char **out, size_t *len);

int sq_begin(dbal_driver_conn *c, unsigned options, dbal_error *err);
int sq_set_read_only(dbal_driver_conn *c, int on, dbal_error *err);
int sq_commit(dbal_driver_conn *c, dbal_error *err);
int sq_rollback(dbal_driver_conn *c, dbal_error *err);
int sq_last_insert_id(dbal_driver_conn *c, int64_t *out, dbal_error *err);
int sq_ping(dbal_driver_conn *c, dbal_error *err);
int sq_cancel(dbal_driver_conn *c);
int sq_set_timeout(dbal_driver_conn *c, int milliseconds, dbal_error *err);
int sq_inline_budget(dbal_driver_conn *c, int budget_us);
/* At the start of a statement on an armed connection (between
 * sq_snap_enter and sq_snap_exit): DBAL_OK, or DBAL_EBUSY with
 * inline_stopped set when it cannot run inline. */
int sq_inline_start(sq_conn *c, dbal_error *err);

/* Why a statement was stopped before its end: its deadline passed, or
 * sq_cancel was called (sqlite3_interrupt reports that one itself unless
 * the statement was waiting for a lock). */
#define SQ_STOPPED_TIMEOUT 1
#define SQ_STOPPED_CANCEL 2
/* Installs the busy handler that waits up to the engine's busy_timeout but
 * stops at a cancel or the statement's deadline; once per connection. */
void sq_install_handlers(sq_conn *c);
/* Installs the progress handler the connection needs now: the statement
 * timeout's check, and inline execution's budget while it is armed. */
void sq_install_progress(sq_conn *c);
double sq_now(void);
/* Runs one of the driver's own statements in autocommit mode, again and
 * again while SQLite refuses it with SQLITE_BUSY without asking the busy
 * handler (a read lock it cannot upgrade), as long as a wait for a lock
 * may last. Returns SQLite's code. */
int sq_exec_retrying(sq_conn *c, const char *sql);
/* Starts the statement clock, before each statement (transaction control
 * included); sq_fail reports a statement's failure, telling a timeout or a
 * cancel from an error. */
void sq_start_clock(sq_conn *c);
int sq_fail(sq_conn *c, int rc, dbal_error *err);

/* fork() (sqlite_fork.c). sq_fork_may_connect: DBAL_EMISUSE (err says
 * why) when the engine's database is another process's (sqlite::memory:).
 * sq_fork_admit: a new connection's record, or DBAL_EMISUSE when it would
 * share SQLite's lock records with a connection another process opened.
 * sq_fork_may_close: whether disconnect may close c (in a child, only
 * without a write transaction, and then without the checkpoint on close);
 * sq_fork_forget: forgets the record, just before the close. */
int sq_fork_may_connect(const sq_engine *e, dbal_error *err);
int sq_fork_admit(sq_conn *c, dbal_error *err);
int sq_fork_may_close(sq_conn *c);
void sq_fork_forget(sq_conn *c);

/* The snapshot sqlite::memory: keeps between statements while the
 * connection is the engine's only one (sqlite_snapshot.c).
 * sq_plain_read: whether a prepared statement may run in it.
 * sq_snap_enter / sq_snap_exit: around every slot that uses c->db (exit
 * keeps c active while a cursor is open). sq_snap_before: at a statement's
 * start, ends the snapshot unless the statement is a plain read and no
 * other connection came, and takes one for a plain read. sq_snap_end: ends
 * it (before BEGIN and PRAGMA query_only). sq_snap_join / sq_snap_leave: a
 * connection of the engine opens (ending the others' snapshots) or closes. */
int sq_plain_read(sqlite3_stmt *st, const char *sql);
/* sql past whitespace, comments and the character `also` (0: none); NULL
 * at a comment that never ends (sqlite_stmt.c). */
const char *sq_skip_noise(const char *sql, char also);
void sq_snap_unpark(sq_conn *c);
void sq_snap_park(sq_conn *c);
/* Inline: a connection without a snapshot (every one but sqlite::memory:'s
 * and, there, any with a write) pays a test, not a call, per slot. */
static inline void sq_snap_enter(sq_conn *c)
{
    if (c->parked)
        sq_snap_unpark(c);
}
static inline void sq_snap_exit(sq_conn *c)
{
    /* Only a connection that holds a snapshot parks: the others have
     * nothing a newcomer must end. */
    if (c->held && c->cursors == 0)
        sq_snap_park(c);
}
int sq_snap_before(sq_conn *c, int plain_read, dbal_error *err);
int sq_snap_end(sq_conn *c, dbal_error *err);
void sq_snap_join(sq_conn *c);
void sq_snap_leave(sq_conn *c);

/* sqlite::memory:'s directory (sqlite_memdir.c). sq_memdir_make: makes it
 * under /dev/shm (else $TMPDIR, /tmp) with its lock held on *lock_fd, and
 * sweeps that base of stale ones; NULL when none could be made (*oom set
 * when for want of memory). sq_memdir_remove: removes it and drops the
 * lock. sq_memdir_sweep: removes the stale directories under base. */
char *sq_memdir_make(int *lock_fd, int *oom);
void sq_memdir_remove(const char *dir, int lock_fd);
void sq_memdir_sweep(const char *base);
/* Whether e is sqlite::memory: in RAM: its directory on /dev/shm (the
 * fallbacks may be on a disk), where nothing waits for or fails on one. */
int sq_memdir_in_ram(const sq_engine *e);

/* Finalizes a statement and frees what it holds. */
void sq_stmt_free(sq_stmt *s);

/* Dates, times, numerics, UUIDs and JSON (sqlite_types.c).
 * sq_types_describe: reads s's result columns' declared types, unless
 * already read for its current preparation. sq_bind_typed: binds one of
 * the types after DBAL_TYPE_BLOB in its storage form (text, numbers).
 * sq_typed_value: turns the value of a column with a kind into its form
 * (an int64 of a date read from its text, a numeric's text at its scale);
 * sq_typed_type: the logical type of such a value of storage class
 * `storage`. */
void sq_types_describe(sq_stmt *s);
void sq_types_free(sq_stmt *s);
int sq_bind_typed(sq_conn *c, sqlite3_stmt *st, int idx, const dbal_value *v, dbal_error *err);
void sq_typed_value(sq_col *col, dbal_value *out);
dbal_type sq_typed_type(const sq_col *col, int storage);

int sq_engine_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err);
void sq_engine_close(void *ctx);

#endif
