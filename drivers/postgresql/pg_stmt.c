/*
 * The per-connection cache of named prepared statements (dbal_1, dbal_2,
 * ...): its life, its names, the DEALLOCATE of what it lets go, and the
 * asynchronous path's bookkeeping of prepares in flight (preparing and
 * sending is pg_send.c's). With the cache off, or once a connection stops
 * naming statements, statements go unnamed, which is what PgBouncer's
 * transaction mode needs.
 */
#include "pg_stmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void release(void *stmt, void *userdata);

void pg_stmts_init(pg_stmts *st, pg_wire *w)
{
    st->wire = w;
    st->next_id = 1;
}

int pg_stmts_setup(pg_stmts *st, int cache_size)
{
    if (cache_size > 0 && !(st->cache = stmt_cache_new(pg_host, cache_size, release, st)))
        return DBAL_ENOMEM;
    return DBAL_OK;
}

void pg_stmts_free(pg_stmts *st)
{
    st->closing = 1;
    stmt_cache_free(st->cache);
    pg_params_free(&st->params);
    pg_host->free(st->sig);
    pg_host->free(st->pending);
    pg_rows_free(st->spare);
}

void pg_stmts_go_unnamed(pg_stmts *st)
{
    st->closing = 1; /* the cache's release function then sends nothing */
    stmt_cache_free(st->cache);
    st->cache = NULL;
    st->closing = 0;
    st->npending = 0;
}

void pg_stmts_forget_all(pg_stmts *st)
{
    st->closing = 1;
    stmt_cache_clear(st->cache);
    st->closing = 0;
    st->npending = 0;
}

void pg_stmt_deallocate_sql(uint64_t id, char *buf, size_t cap)
{
    snprintf(buf, cap, "DEALLOCATE dbal_%" PRIu64, id);
}

/* Remembers a statement to DEALLOCATE once the connection is idle. When
 * out of memory it is forgotten: the server frees it with the session. */
static void defer(pg_stmts *st, uint64_t id)
{
    if (st->npending == st->pending_cap) {
        size_t cap = st->pending_cap ? st->pending_cap * 2 : 8;
        uint64_t *p = pg_host->realloc(st->pending, cap * sizeof *p);
        if (!p)
            return;
        st->pending = p;
        st->pending_cap = cap;
    }
    st->pending[st->npending++] = id;
}

/* The cache's release function. Evicted statements are freed on the
 * server so that it does not accumulate them. Only outside a transaction
 * block, where a failing DEALLOCATE (someone ran DISCARD ALL) cannot abort
 * the application's transaction, and failing changes nothing: the
 * statement is gone anyway. Inside one the name waits for the next idle
 * moment. */
static void release(void *stmt, void *userdata)
{
    pg_stmts *st = userdata;
    pg_stmt *s = stmt;
    if (!s->gone && !st->closing) {
        PGTransactionStatusType ts = PQtransactionStatus(st->wire->pg);
        /* In pipeline mode (pg_async.c) nothing can be run on the side. */
        if (PQpipelineStatus(st->wire->pg) != PQ_PIPELINE_OFF) {
            defer(st, s->id);
        } else if (ts == PQTRANS_IDLE) {
            char sql[PG_STMT_NAME_LEN + 16];
            dbal_error ignored;
            pg_stmt_deallocate_sql(s->id, sql, sizeof sql);
            pg_wire_command(st->wire, sql, PGRES_COMMAND_OK, NULL, &ignored);
        } else if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            defer(st, s->id);
        }
    }
    pg_host->free(s);
}

void pg_stmt_release(pg_stmts *st, pg_stmt *s)
{
    release(s, st);
}

pg_stmt *pg_stmt_new(pg_stmts *st, int gone, int binary)
{
    pg_stmt *s = pg_host->malloc(sizeof *s);
    if (s) {
        s->id = st->next_id++;
        s->gone = gone;
        s->binary = binary;
        snprintf(s->name, sizeof s->name, "dbal_%" PRIu64, s->id);
    }
    return s;
}

int pg_stmt_lookup(pg_stmts *st, const char *sql, size_t n, size_t sql_len, char *name, uint64_t *id,
                   char **text, dbal_error *err)
{
    *text = NULL;
    *id = 0;
    if (!st->cache) {
        name[0] = '\0';
        return pg_stmt_rewrite(sql, n, text, err);
    }
    pg_stmt *s = stmt_cache_get(st->cache, sql, sql_len, st->sig, n);
    if (s && s->gone) {
        /* Its Parse is still in flight: until the server has said yes, the
         * name may be someone else's (42P05), so run this one unnamed. */
        name[0] = '\0';
        return pg_stmt_rewrite(sql, n, text, err);
    }
    if (!s) {
        int rc = pg_stmt_rewrite(sql, n, text, err);
        if (rc != DBAL_OK)
            return rc;
        /* gone until its prepare has succeeded: there is nothing to free;
         * not binary: the asynchronous path reads text rows. */
        s = pg_stmt_new(st, 1, 0);
        if (!s || stmt_cache_put(st->cache, sql, sql_len, st->sig, n, s) != DBAL_OK) {
            pg_host->free(s);
            pg_host->free(*text);
            *text = NULL;
            return pg_error_nomem(err);
        }
    }
    memcpy(name, s->name, PG_STMT_NAME_LEN);
    *id = s->id;
    return DBAL_OK;
}

/* id: the statement the prepare was for, which the cache entry for the key
 * may no longer be (evicted meanwhile, and the key cached again). */
void pg_stmt_prepared(pg_stmts *st, const char *key, size_t sql_len, size_t n, uint64_t id, int ok)
{
    const char *sig = key + sql_len + 1;
    pg_stmt *s = st->cache ? stmt_cache_get(st->cache, key, sql_len, sig, n) : NULL;
    if (!s || s->id != id) {
        /* Evicted while its prepare was in flight: the release sent no
         * DEALLOCATE (there was nothing yet), so send one now. */
        if (ok && !st->closing)
            defer(st, id);
        return;
    }
    s->gone = !ok;
    if (!ok)
        stmt_cache_remove(st->cache, key, sql_len, sig, n);
}

void pg_stmt_forget(pg_stmts *st, const char *key, size_t sql_len, size_t n, uint64_t id, int gone)
{
    const char *sig = key + sql_len + 1;
    pg_stmt *s = st->cache ? stmt_cache_get(st->cache, key, sql_len, sig, n) : NULL;
    if (s && s->id == id) {
        s->gone = gone;
        stmt_cache_remove(st->cache, key, sql_len, sig, n);
    }
}
