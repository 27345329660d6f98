/*
 * The PostgreSQL driver's middle layer: statements on one connection's
 * wire. Parameters (pg_params.c), `?` to `$n` and the placeholder count
 * (pg_placeholders.c), the cache of named prepared statements
 * (pg_stmt.c), sending a statement, preparing it on a miss and recovering
 * from a stale one (pg_send.c), and cursors (pg_rows.c, pg_bytea.c). It builds on the wire
 * (pg_wire.h) and the type table (pg_types.h) and calls nothing above:
 * what must happen before a statement is sent (a reset's answer, owed
 * commands, session settings) is pg_conn.h's.
 */
#ifndef DBAL_PG_STMT_H
#define DBAL_PG_STMT_H

#include "pg_types.h"
#include "pg_wire.h"
#include "stmt_cache.h"

#include <stddef.h>
#include <stdint.h>

/* The length of a statement name buffer ("dbal_<id>"). */
#define PG_STMT_NAME_LEN 32

/* Reusable storage for one statement's parameters, grown and never shrunk,
 * so that a connection in its steady state sends without allocating. */
typedef struct pg_params {
    const char **values;
    int *lengths;
    int *formats;
    Oid *types;
    size_t cap;  /* entries in each array above */
    char *arena; /* NUL-terminated copies of text, numbers in network order */
    size_t arena_cap;
} pg_params;

/* What the cache holds for one prepared statement. */
typedef struct pg_stmt {
    uint64_t id;
    int gone;                    /* the server no longer has it: nothing to DEALLOCATE */
    char name[PG_STMT_NAME_LEN]; /* "dbal_<id>", made once: snprintf per call cost 9% of a point select */
    int binary;                  /* its rows are asked for in binary format */
} pg_stmt;

struct pg_rows;

/* A connection's statements: what this layer keeps of one connection. */
typedef struct pg_stmts {
    pg_wire *wire; /* the connection's, of which this is a part */
    /* NULL: statements go unnamed (cache size 0, a policy without named
     * statements, a server that lost our statements or took a name). */
    stmt_cache *cache;
    uint64_t next_id;  /* names dbal_1, dbal_2, ... */
    uint64_t *pending; /* evicted statements to DEALLOCATE once idle */
    size_t npending, pending_cap;
    int closing;      /* the cache is let go: its statements need no DEALLOCATE */
    pg_params params; /* the statement's being sent */
    char *sig;        /* their type letters, part of the cache key */
    size_t sig_cap;
    struct pg_rows *streaming; /* the cursor whose rows are still on the wire */
    struct pg_rows *spare;     /* a closed cursor kept for the next query */
    /* The statement in flight runs in a transaction the driver began for
     * it (pg_settings_wrap): it ends with the statement (pg_stmt_unwrap). */
    int wrapped;
} pg_stmts;

/* ---- pg_stmt.c: the statement cache ---- */

/* Fills a zeroed st, part of the connection whose wire is w. */
void pg_stmts_init(pg_stmts *st, pg_wire *w);
/* Once connected: a cache of cache_size statements (0: none). DBAL_OK or
 * DBAL_ENOMEM. */
int pg_stmts_setup(pg_stmts *st, int cache_size);
/* Frees everything, sending nothing: the server forgets prepared
 * statements with the session. */
void pg_stmts_free(pg_stmts *st);
/* Stops naming statements on this connection, forgetting those it has
 * without DEALLOCATE (through a pooler that would reach another client's
 * server session). */
void pg_stmts_go_unnamed(pg_stmts *st);
/* Forgets every cached statement without DEALLOCATE: a DEALLOCATE ALL is
 * on its way. */
void pg_stmts_forget_all(pg_stmts *st);
/* A new statement for the cache, named dbal_<id> but not prepared yet;
 * NULL when out of memory. */
pg_stmt *pg_stmt_new(pg_stmts *st, int gone, int binary);
/* What the cache does with a statement it lets go (a DEALLOCATE now when
 * idle, else later), for one the cache could not take. */
void pg_stmt_release(pg_stmts *st, pg_stmt *s);
/* "DEALLOCATE dbal_<id>" for an evicted statement of st->pending, which
 * the caller sends once idle (and then sets npending to 0). */
void pg_stmt_deallocate_sql(uint64_t id, char *buf, size_t cap);
/* For the asynchronous path, which cannot wait for a prepare: the name
 * of the cached statement for sql and the types in st->sig. On a miss it
 * is cached at once and *text receives the SQL to send a prepare for first
 * (the caller frees it); with the cache off, name is "" and *text the
 * unnamed statement's SQL. pg_stmt_prepared then says whether that prepare
 * succeeded (a failed one leaves the cache); pg_stmt_forget drops a
 * statement the server no longer runs (gone: nothing to DEALLOCATE). key:
 * the SQL (sql_len bytes), a NUL, then the n type letters. */
int pg_stmt_lookup(pg_stmts *st, const char *sql, size_t n, size_t sql_len, char *name, uint64_t *id,
                   char **text, dbal_error *err);
void pg_stmt_prepared(pg_stmts *st, const char *key, size_t sql_len, size_t n, uint64_t id, int ok);
void pg_stmt_forget(pg_stmts *st, const char *key, size_t sql_len, size_t n, uint64_t id, int gone);

/* ---- pg_send.c: sending a statement ---- */

/* Sends sql (sql_len bytes) with the parameters in st->params in
 * single-row mode, through the cache when it is on (preparing on a miss),
 * and returns its first result (never NULL on DBAL_OK), which the caller
 * clears. *hit is the cached statement when it came from the cache (only
 * such a one can be stale). */
int pg_stmt_send(pg_stmts *st, const char *sql, size_t n, size_t sql_len, pg_stmt **hit, PGresult **first,
                 dbal_error *err);
/* For a batch, before pipeline mode: the name (PG_STMT_NAME_LEN bytes) of
 * a statement prepared for sql (sql_len bytes) with the parameter types
 * now in st->params and st->sig (the cache's, prepared now on a miss; ""
 * for the unnamed statement when the cache is off). */
int pg_stmt_prepare_for(pg_stmts *st, const char *sql, size_t n, size_t sql_len, char *name, dbal_error *err);
/* After pg_stmt_send: when *first says the server no longer runs hit as
 * cached (dropped, or its result type changed), drops it and, when
 * retry_ok (nothing ran), sends once more, replacing *first. */
int pg_stmt_recover(pg_stmts *st, const char *sql, size_t n, size_t sql_len, pg_stmt *hit, int retry_ok,
                    PGresult **first, dbal_error *err);
/* After a failed pg_stmt_send: whether err is our statement name taken in
 * the server session (42P05); then the connection names no more
 * statements, and nothing ran. */
int pg_stmt_name_taken(pg_stmts *st, const dbal_error *err);
/* Ends the driver's own transaction around the statement, if there is
 * one: commits it (a failed one rolls back). Returns DBAL_OK or the
 * commit's error, for a statement that succeeded until then (a deferred
 * constraint); on a connection given up, why: the statement's end was
 * never seen. */
int pg_stmt_unwrap(pg_stmts *st, dbal_error *err);

/* ---- pg_params.c ---- */

/* Converts params into st->params and writes one type letter per
 * parameter to st->sig. DBAL_OK, DBAL_EDATA, DBAL_EINVAL or DBAL_ENOMEM:
 * then nothing is to be sent. */
int pg_stmts_bind(pg_stmts *st, const dbal_value *params, size_t n, dbal_error *err);
void pg_params_free(pg_params *p);

/* ---- pg_placeholders.c ---- */

/* Rewrites each `?` of sql to $1..$n (dbal__sql_rewrite_dollar: not in
 * literals, quoted identifiers or comments; `??` is a literal `?`) into *out
 * (the host allocator's, the caller's to free). A count other than nparams
 * is DBAL_EMISUSE: the statement is not sent. */
int pg_stmt_rewrite(const char *sql, size_t nparams, char **out, dbal_error *err);

/* ---- pg_rows.c, pg_bytea.c: cursors ---- */

/* One column's decoded bytea, kept per cursor and grown only. */
typedef struct pg_blob {
    unsigned char *data;
    size_t cap, len;
    uint64_t row; /* the row it was decoded for */
} pg_blob;

/* A value of a buffered row. */
typedef struct pg_cell {
    const char *p; /* NULL for SQL NULL */
    int len;
} pg_cell;

typedef struct pg_rows {
    dbal_driver_rows base;
    pg_stmts *stmts; /* the connection's, which the cursor borrows */
    PGresult *meta;  /* first result: column names and types */
    PGresult *cur;   /* the current row while served from the wire */
    Oid *types;      /* each column's type, from meta */
    int types_cap;
    int binary;      /* values in binary format (see wants_binary, pg_send.c) */
    int first_ready; /* the first row, fetched by query(), is not served yet */
    int done;
    uint64_t rowno;
    pg_blob *blobs; /* ncols entries, made on first bytea or numeric */
    int whole;      /* every row is in meta (the asynchronous API's results) */
    int at;         /* the row of cur that is current: 0 but in whole results */

    /* Rows pulled off the wire because the session sent another command
     * (see pg_rows_spill): each value is a 4-byte length (UINT32_MAX for
     * NULL), its bytes and a NUL. */
    int spilled;
    char *buf;
    size_t buf_len, buf_cap, buf_pos;
    pg_cell *cells;
    int pend_code; /* an error met while spilling, served after the rows */
    dbal_error pend_err;
} pg_rows;

/* A cursor over a query whose first result is `first` (taken). */
int pg_rows_open(pg_stmts *st, PGresult *first, pg_rows **out, dbal_error *err);
/* A cursor over the rows of a complete result (res taken). */
int pg_rows_open_whole(pg_stmts *st, PGresult *res, pg_rows **out, dbal_error *err);
/* Frees a cursor struct that is not open (the connection's spare). */
void pg_rows_free(pg_rows *r);
/* Pulls every row still on the wire into the cursor's buffer. */
void pg_rows_spill(pg_rows *r);
int pg_rows_next(dbal_driver_rows *r, dbal_error *err);
void pg_rows_close(dbal_driver_rows *r);
const char *pg_col_name(dbal_driver_rows *r, int col);
void pg_col_value(dbal_driver_rows *r, int col, dbal_value *out);
dbal_type pg_col_type(dbal_driver_rows *r, int col);
int pg_col_int64(dbal_driver_rows *r, int col, int64_t *out);
int pg_col_double(dbal_driver_rows *r, int col, double *out);
int pg_col_text(dbal_driver_rows *r, int col, const char **out, size_t *len);

/* The current row's value of col as col_value hands it (pg_values.c),
 * from its binary form or its text (p, len bytes, not NULL): numbers,
 * dates and times, UUIDs in their dbal forms, numerics and jsonb as text;
 * what needs decoding is decoded into the column's buffer (r->blobs). */
void pg_value_binary(pg_rows *r, int col, const char *p, int len, dbal_value *out);
void pg_value_text(pg_rows *r, int col, const char *text, int len, dbal_value *out);
/* A binary value of an integer type (int2, int4, int8) or of float8 as
 * pg_value_binary reads it: DBAL_OK, or DBAL_ETYPE for another type. */
int pg_binary_int64(Oid type, const char *p, int len, int64_t *out);
int pg_binary_double(Oid type, const char *p, int len, double *out);

/* Decodes bytea text output (hex "\x..." or the old escape format) into b,
 * followed by a NUL byte. DBAL_OK or DBAL_ENOMEM. */
int pg_bytea_decode(pg_blob *b, const char *text, size_t len);

#endif
