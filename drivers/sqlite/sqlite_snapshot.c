/*
 * sqlite::memory: keeps the read snapshot of a connection between its
 * statements while the connection is the engine's only one.
 *
 * The in-memory database is a WAL database shared by the engine's
 * connections. Outside a transaction every statement opens and ends a WAL
 * read transaction (read marks, the WAL index header, page one), which made
 * a point select cost 1.2 times what it costs on SQLite's private :memory:
 * (callgrind: 5,556 instructions against 4,555), and inside an open read
 * transaction it costs 3,696. While a connection is the engine's only one
 * no other connection can commit, so a snapshot it took is still the latest
 * at its next statement: the connection begins a deferred transaction
 * before a plain read (a readonly statement starting with SELECT, WITH or
 * VALUES) and keeps it until something else must run (a write, a
 * transaction of the application's, PRAGMA ...), which ends it first.
 *
 * A second connection (the pool opens one for a second session at once)
 * changes that: it counts itself in e->nconn and e->opened before it can
 * commit, and a holder lets go of its snapshot at its next statement start
 * or end. A holder that is idle between statements cannot be waited for
 * (its session may stay open and unused for hours, and while it holds a
 * snapshot the WAL cannot be checkpointed past it), so the new connection
 * ends that snapshot itself, on the holder's handle: each connection is
 * PARKED while it holds a snapshot and no statement or cursor of its own
 * runs (ACTIVE otherwise), and the new
 * connection takes it from PARKED to EVICTING (a compare-and-swap) before it
 * touches the handle; the holder takes it from PARKED to ACTIVE at each
 * call, waiting while it is EVICTING. Store-then-load on both sides (the
 * holder parks then reads nconn; the newcomer counts itself then reads the
 * state), all sequentially consistent, so at least one of them sees the
 * other.
 */
#include "sqlite_internal.h"

#include <sched.h>
#include <string.h>
#include <strings.h>

enum { SQ_ACTIVE, SQ_PARKED, SQ_EVICTING };

/* Whether sql is a plain read: the statement SQLite calls readonly (which
 * BEGIN, ATTACH and some PRAGMAs are too, and which must not run inside a
 * transaction of ours) and begins with SELECT, WITH or VALUES. */
int sq_plain_read(sqlite3_stmt *st, const char *sql)
{
    if (!sqlite3_stmt_readonly(st))
        return 0;
    if (!(sql = sq_skip_noise(sql, '(')))
        return 0;
    static const char *const words[] = {"SELECT", "WITH", "VALUES"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if (strncasecmp(sql, words[i], n) != 0)
            continue;
        char next = sql[n]; /* sql holds the word: [n] is at most its NUL */
        return !((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
                 (next >= '0' && next <= '9') || next == '_');
    }
    return 0;
}

/* Ends the snapshot: COMMIT of a transaction that wrote nothing. COMMIT, not
 * ROLLBACK, which would abort a cursor still reading. Called by the
 * connection's own thread, or by a new connection's while it is EVICTING. */
static int end_held(sq_conn *c)
{
    if (!c->held)
        return SQLITE_OK;
    /* Prepared before the snapshot was taken (sq_snap_before): a newcomer
     * ending it from its own thread never prepares on this handle. */
    sqlite3_stmt *commit = c->tx[SQ_TX_COMMIT];
    /* Never interrupted: the progress handler, which SQLite may call here
     * too (it counts a statement's steps across its runs), returns at once
     * without reading the connection's clock or inline fields, which the
     * owner may be writing meanwhile when a newcomer ends the snapshot. */
    c->ending_snapshot = 1;
    int rc = sqlite3_step(commit);
    c->ending_snapshot = 0;
    sqlite3_reset(commit);
    if (rc == SQLITE_DONE || sqlite3_get_autocommit(c->db)) {
        c->held = 0;
        return SQLITE_OK;
    }
    return rc;
}

static int still_alone(const sq_conn *c)
{
    sq_engine *e = c->engine;
    return atomic_load(&e->nconn) == 1 && atomic_load(&e->opened) == c->held_gen;
}

void sq_snap_unpark(sq_conn *c)
{
    c->parked = 0;
    for (;;) {
        int s = SQ_PARKED;
        if (atomic_compare_exchange_weak(&c->state, &s, SQ_ACTIVE))
            return;
        if (s == SQ_EVICTING)
            sched_yield(); /* a COMMIT on a RAM database: microseconds */
    }
}

void sq_snap_park(sq_conn *c)
{
    c->parked = 1;
    atomic_store(&c->state, SQ_PARKED);
    if (still_alone(c))
        return;
    /* A connection came while this one ran: end the snapshot here, unless
     * the newcomer is already ending it. */
    int s = SQ_PARKED;
    if (atomic_compare_exchange_strong(&c->state, &s, SQ_ACTIVE)) {
        end_held(c);
        atomic_store(&c->state, SQ_PARKED);
    }
}

int sq_snap_before(sq_conn *c, int plain_read, dbal_error *err)
{
    if (!c->snapshots)
        return DBAL_OK;
    if (c->held) {
        if (sqlite3_get_autocommit(c->db)) {
            c->held = 0; /* an error rolled it back */
        } else if (!plain_read || !still_alone(c)) {
            sq_start_clock(c);
            int rc = end_held(c);
            if (rc != SQLITE_OK)
                return sq_fail(c, rc, err);
        }
    }
    if (c->held || !plain_read || c->cursors > 0 || !sqlite3_get_autocommit(c->db))
        return DBAL_OK;
    sq_engine *e = c->engine;
    unsigned gen = atomic_load(&e->opened);
    if (atomic_load(&e->nconn) != 1)
        return DBAL_OK;
#if SQLITE_VERSION_NUMBER >= 3039000
    /* An attached file may have writers in other processes. */
    if (sqlite3_db_name(c->db, 2) != NULL)
        return DBAL_OK;
#else
    /* Before 3.39 an attached database cannot be seen from here: no
     * snapshot, rather than one that could hide another process's commit. */
    return DBAL_OK;
#endif
    sqlite3_stmt *begin = sq_tx_stmt(c, SQ_TX_DEFERRED);
    if (!begin || !sq_tx_stmt(c, SQ_TX_COMMIT)) {
        /* Not worth failing the statement for: it runs without. */
        c->snapshots = 0;
        return DBAL_OK;
    }
    int rc = sqlite3_step(begin);
    sqlite3_reset(begin);
    if (rc == SQLITE_DONE) {
        c->held = 1;
        c->held_gen = gen;
    }
    return DBAL_OK;
}

int sq_snap_end(sq_conn *c, dbal_error *err)
{
    if (!c->snapshots || !c->held)
        return DBAL_OK;
    sq_start_clock(c);
    int rc = end_held(c);
    return rc == SQLITE_OK ? DBAL_OK : sq_fail(c, rc, err);
}

void sq_snap_join(sq_conn *c)
{
    sq_engine *e = c->engine;
    c->snapshots = e->memory;
    if (!c->snapshots)
        return;
    atomic_init(&c->state, SQ_ACTIVE);
    /* nconn before opened: a holder reads opened then nconn, so one that
     * counted this connection in opened sees it in nconn too. */
    atomic_fetch_add(&e->nconn, 1);
    atomic_fetch_add(&e->opened, 1);
    pthread_mutex_lock(&e->conns_lock);
    for (sq_conn *o = e->conns; o; o = o->next_conn) {
        int s = SQ_PARKED;
        if (atomic_compare_exchange_strong(&o->state, &s, SQ_EVICTING)) {
            end_held(o);
            atomic_store(&o->state, SQ_PARKED);
        }
    }
    c->next_conn = e->conns;
    e->conns = c;
    pthread_mutex_unlock(&e->conns_lock);
}

void sq_snap_leave(sq_conn *c)
{
    if (!c->snapshots)
        return;
    sq_engine *e = c->engine;
    pthread_mutex_lock(&e->conns_lock);
    for (sq_conn **p = &e->conns; *p; p = &(*p)->next_conn)
        if (*p == c) {
            *p = c->next_conn;
            break;
        }
    pthread_mutex_unlock(&e->conns_lock);
    atomic_fetch_sub(&e->nconn, 1);
}
