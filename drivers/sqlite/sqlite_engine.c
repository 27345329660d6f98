/* Per-engine setup: URL options, the file URI, and the home of an in-memory
 * database. */
#include "sqlite_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char *sq_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sq_host->malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* A growable string for building the URI. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = sq_host->realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Percent-encodes what SQLite's URI parser would otherwise take as syntax. */
static void put_encoded(buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '%' || *s == '?' || *s == '#' || *s == '&' || *s == '=') {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", (unsigned char)*s);
            put(b, hex, 3);
        } else {
            put(b, s, 1);
        }
    }
}

static int one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return 1;
    return 0;
}

static int bad(dbal_error *err, const char *key, const char *allowed)
{
    sq_host->set_error(err, DBAL_EURL, NULL, 0, "bad database URL: sqlite option '%s' must be %s", key,
                       allowed);
    return DBAL_EURL;
}

static int is_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-'))
            return 0;
    return 1;
}

static int set_busy_timeout(sq_engine *e, const char *key, const char *v, dbal_error *err)
{
    char *end;
    long ms = strtol(v, &end, 10);
    if (!*v || *end || ms < 0 || ms > 3600000)
        return bad(err, key, "milliseconds from 0 to 3600000");
    e->busy_timeout = (int)ms;
    return DBAL_OK;
}

/* _pragma=name(value) or _pragma=name=value; only words, so a URL can never
 * smuggle SQL into the connection set-up. */
static int add_pragma(sq_engine *e, const char *v, dbal_error *err)
{
    char name[64], value[64];
    const char *open = strpbrk(v, "(=");
    size_t nlen = open ? (size_t)(open - v) : strlen(v);
    if (nlen == 0 || nlen >= sizeof name || e->npragmas == SQ_MAX_PRAGMAS)
        return bad(err, "_pragma", "name(value) or name=value, at most 16 of them");
    memcpy(name, v, nlen);
    name[nlen] = '\0';
    value[0] = '\0';
    if (open) {
        size_t vlen = strlen(open + 1);
        if (*open == '(' && (vlen == 0 || open[vlen] != ')'))
            return bad(err, "_pragma", "name(value) or name=value");
        vlen -= *open == '(';
        if (vlen == 0 || vlen >= sizeof value)
            return bad(err, "_pragma", "name(value) or name=value");
        memcpy(value, open + 1, vlen);
        value[vlen] = '\0';
    }
    if (!is_word(name) || (value[0] && !is_word(value)))
        return bad(err, "_pragma", "made of letters, digits, '_' and '-'");
    /* The PRAGMA would put SQLite's busy handler in place of dbal's, which
     * honours cancel and timeouts: it is the busy_timeout option. */
    if (strcasecmp(name, "busy_timeout") == 0)
        return set_busy_timeout(e, "_pragma=busy_timeout", value, err);
    if (strcasecmp(name, "query_only") == 0)
        return bad(err, "_pragma",
                   "another pragma than query_only, which dbal sets for read-only sessions and transactions "
                   "(mode=ro opens the database read-only)");
    char sql[160];
    snprintf(sql, sizeof sql, value[0] ? "PRAGMA %s(%s)" : "PRAGMA %s", name, value);
    if (!(e->pragmas[e->npragmas++] = sq_strdup(sql)))
        return DBAL_ENOMEM;
    return DBAL_OK;
}

static int set_string(char **slot, const char *v)
{
    sq_host->free(*slot);
    *slot = sq_strdup(v);
    return *slot ? DBAL_OK : DBAL_ENOMEM;
}

static int apply_param(sq_engine *e, buf *uri_params, const char *k, const char *v, dbal_error *err)
{
    static const char *const modes[] = {"ro", "rw", "rwc", "memory", NULL};
    static const char *const caches[] = {"shared", "private", NULL};
    static const char *const bools[] = {"0", "1", "true", "false", "on", "off", NULL};
    static const char *const journals[] = {"wal",      "WAL",     "delete",  "DELETE", "truncate",
                                           "TRUNCATE", "persist", "PERSIST", "memory", "MEMORY",
                                           "off",      "OFF",     NULL};
    static const char *const syncs[] = {"off",   "normal", "full", "extra", "OFF", "NORMAL", "FULL",
                                        "EXTRA", "0",      "1",    "2",     "3",   NULL};
    static const char *const begins[] = {"deferred", "immediate", "exclusive", NULL};
    if (strcmp(k, "mode") == 0 || strcmp(k, "cache") == 0 || strcmp(k, "immutable") == 0 ||
        strcmp(k, "nolock") == 0 || strcmp(k, "vfs") == 0) {
        if ((strcmp(k, "mode") == 0 && !one_of(v, modes)) ||
            (strcmp(k, "cache") == 0 && !one_of(v, caches)) ||
            ((strcmp(k, "immutable") == 0 || strcmp(k, "nolock") == 0) && !one_of(v, bools)) ||
            (strcmp(k, "vfs") == 0 && !is_word(v)))
            return bad(err, k, "a value SQLite accepts (see its URI filename documentation)");
        if (strcmp(k, "vfs") == 0)
            e->vfs_named = 1;
        if (strcmp(k, "mode") == 0 && strcmp(v, "ro") == 0)
            e->flags = (e->flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
        /* rwc is what the flags say already; in the URI it would refuse the
         * opens without SQLITE_OPEN_CREATE that follow the first (see
         * sqlite_file.c). */
        if (strcmp(k, "mode") == 0 && strcmp(v, "rwc") == 0)
            return DBAL_OK;
        put(uri_params, "&", 1);
        put(uri_params, k, strlen(k));
        put(uri_params, "=", 1);
        put_encoded(uri_params, v);
        return DBAL_OK;
    }
    if (strcmp(k, "busy_timeout") == 0)
        return set_busy_timeout(e, k, v, err);
    if (strcmp(k, "foreign_keys") == 0) {
        if (!one_of(v, bools))
            return bad(err, k, "on or off");
        e->foreign_keys = strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "on") == 0;
        return DBAL_OK;
    }
    if (strcmp(k, "mmap_size") == 0) {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (!*v || *end || n < 0 || n > SQ_MMAP_MAX)
            return bad(err, k, "bytes from 0 to 1099511627776");
        e->mmap_size = n;
        return DBAL_OK;
    }
    if (strcmp(k, "journal_mode") == 0)
        return one_of(v, journals) ? set_string(&e->journal_mode, v)
                                   : bad(err, k, "wal, delete, truncate, persist, memory or off");
    if (strcmp(k, "synchronous") == 0)
        return one_of(v, syncs) ? set_string(&e->synchronous, v) : bad(err, k, "off, normal, full or extra");
    if (strcmp(k, "begin") == 0) {
        if (!one_of(v, begins))
            return bad(err, k, "deferred, immediate or exclusive");
        e->begin_sql = strcmp(v, "deferred") == 0    ? "BEGIN DEFERRED"
                       : strcmp(v, "exclusive") == 0 ? "BEGIN EXCLUSIVE"
                                                     : "BEGIN IMMEDIATE";
        return DBAL_OK;
    }
    if (strcmp(k, "_pragma") == 0)
        return add_pragma(e, v, err);
    static const char unknown[] =
        "bad database URL: unknown sqlite option '%s' (known: mode, cache, immutable, "
        "nolock, vfs, busy_timeout, foreign_keys, mmap_size, journal_mode, "
        "synchronous, begin, _pragma)";
    sq_host->set_error(err, DBAL_EURL, NULL, 0, unknown, k);
    return DBAL_EURL;
}

/*
 * sqlite::memory: must give every pooled session one database, isolated as
 * PostgreSQL isolates them: a reader does not wait for a writer and sees only
 * committed rows. Neither shared cache (table locks, SQLITE_LOCKED) nor the
 * memdb VFS (readers blocked by any writer) does that; WAL does. So the
 * database is a WAL file in a private directory on tmpfs (sqlite_memdir.c).
 */
static int build_uri(sq_engine *e, const dbal_url *url, buf *uri_params, dbal_error *err)
{
    buf b = {0};
    const char *path = url->database ? url->database : ":memory:";
    if (strcmp(path, ":memory:") == 0) {
        e->memory = 1;
        int oom = 0;
        if (!(e->memdir = sq_memdir_make(&e->lock_fd, &oom))) {
            if (oom) {
                sq_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
                return DBAL_ENOMEM;
            }
            sq_host->set_error(err, DBAL_ECONNECT, "08001", 0,
                               "cannot create a directory for the in-memory database in /dev/shm or /tmp");
            return DBAL_ECONNECT;
        }
        put(&b, "file:", 5);
        put_encoded(&b, e->memdir);
        put(&b, "/memory.db", 10);
        size_t n = strlen(e->memdir);
        if ((e->path = sq_host->malloc(n + sizeof "/memory.db"))) {
            memcpy(e->path, e->memdir, n);
            memcpy(e->path + n, "/memory.db", sizeof "/memory.db");
        }
        /* The directory is private to this process, which is unix-excl's
         * case: one lock on the file for the process and the WAL index in
         * heap memory instead of two fcntl() calls per statement on the -shm
         * file, while the engine's connections keep WAL's isolation. */
        if (!e->vfs_named)
            put(uri_params, "&vfs=unix-excl", 14);
    } else {
        put(&b, "file:", 5);
        put_encoded(&b, path);
        e->path = sq_strdup(path);
    }
    if (uri_params->len) {
        put(&b, "?", 1);
        put(&b, uri_params->p + 1, uri_params->len - 1); /* drop the leading '&' */
    }
    if (b.oom || uri_params->oom || !e->path)
        return sq_host->free(b.p), DBAL_ENOMEM;
    e->uri = b.p;
    return DBAL_OK;
}

/* The in-memory database is made, in its journal mode, before any pooled
 * connection opens it: connections that meet on a brand-new database while
 * one of them converts it to WAL can get SQLITE_BUSY without the busy
 * handler being asked (seen with 4 connections opening at once). */
static int create_memory_database(sq_engine *e, dbal_error *err)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(e->uri, &db, e->flags, NULL);
    if (rc == SQLITE_OK && e->journal_mode) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", e->journal_mode);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        sq_host->set_error(err, DBAL_ECONNECT, "08001", rc, "cannot create the in-memory database: %s",
                           db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return DBAL_ECONNECT;
    }
    sqlite3_close_v2(db);
    return DBAL_OK;
}

int sq_engine_open(const dbal_engine_config *cfg, void **ctx, dbal_error *err)
{
    sq_engine *e = sq_host->malloc(sizeof *e);
    if (!e) {
        sq_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    memset(e, 0, sizeof *e);
    e->pid = getpid();
    e->lock_fd = -1;
    if (pthread_mutex_init(&e->file_lock, NULL) != 0) {
        sq_host->free(e);
        sq_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    atomic_init(&e->nconn, 0);
    atomic_init(&e->opened, 0);
    if (pthread_mutex_init(&e->conns_lock, NULL) != 0) {
        pthread_mutex_destroy(&e->file_lock);
        sq_host->free(e);
        sq_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
        return DBAL_ENOMEM;
    }
    e->flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
    e->busy_timeout = 5000;
    e->foreign_keys = 1;
    e->mmap_size = -1;
    e->begin_sql = "BEGIN IMMEDIATE";
    e->cache_size = cfg->statement_cache_size;
    buf uri_params = {0};
    int rc = DBAL_OK;
    for (size_t i = 0; rc == DBAL_OK && i < cfg->url->nparams; i++)
        rc = apply_param(e, &uri_params, cfg->url->params[i].key, cfg->url->params[i].value, err);
    if (rc == DBAL_OK)
        rc = build_uri(e, cfg->url, &uri_params, err);
    sq_host->free(uri_params.p);
    if (rc == DBAL_OK && !e->journal_mode && !(e->flags & SQLITE_OPEN_READONLY))
        rc = set_string(&e->journal_mode, "WAL");
    /* A scan of a RAM database reads its pages in place instead of copying
     * each into the page cache with a pread(): W3 1.22 -> 1.13 of raw
     * :memory:. Not on a disk (files, and sqlite::memory:'s fallback
     * directory when there is no /dev/shm): there an I/O error while
     * reading a mapped page is a SIGBUS, not an error code (SQLite's
     * mmap.html). */
    if (rc == DBAL_OK && e->mmap_size < 0 && sq_memdir_in_ram(e))
        e->mmap_size = SQ_MMAP_MEMORY;
    /* A RAM database has nothing to make durable: no syncs at all. */
    if (rc == DBAL_OK && !e->synchronous && e->memory)
        rc = set_string(&e->synchronous, "OFF");
    if (rc == DBAL_OK && !e->synchronous && e->journal_mode && strcmp(e->journal_mode, "WAL") == 0)
        rc = set_string(&e->synchronous, "NORMAL");
    if (rc == DBAL_OK && e->memory)
        rc = create_memory_database(e, err);
    if (rc != DBAL_OK) {
        if (rc == DBAL_ENOMEM)
            sq_host->set_error(err, rc, NULL, 0, "out of memory");
        sq_engine_close(e);
        return rc;
    }
    *ctx = e;
    return DBAL_OK;
}

void sq_engine_close(void *ctx)
{
    sq_engine *e = ctx;
    if (!e)
        return;
    if (e->memdir) {
        /* Only the process that made it: in a forked child the database
         * is still the parent's. */
        if (e->pid == getpid())
            sq_memdir_remove(e->memdir, e->lock_fd);
        else if (e->lock_fd >= 0)
            close(e->lock_fd); /* the parent's copy keeps its lock */
        sq_host->free(e->memdir);
    }
    for (int i = 0; i < e->npragmas; i++)
        sq_host->free(e->pragmas[i]);
    sq_host->free(e->journal_mode);
    sq_host->free(e->synchronous);
    sq_host->free(e->uri);
    sq_host->free(e->path);
    pthread_mutex_destroy(&e->file_lock);
    pthread_mutex_destroy(&e->conns_lock);
    sq_host->free(e);
}
