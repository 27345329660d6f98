/*
 * Cursors: what dbal_rows_* and dbal_col_* read, whoever made the rows.
 *
 * A cursor reads through a methods table, as SQLite's sqlite3_file reads
 * through its pMethods: a driver's cursors use their engine's table (the
 * driver's cursor slots), rows that a worker read to the end use the
 * buffered table (async_rows.c). What happens around a cursor (the
 * connection it borrows, where its errors go, what closing gives back)
 * belongs to its owner, a session or an async context, through hooks.
 * The getters' conversion rules are then one set for every kind of rows.
 */
#ifndef DBAL_CORE_ROWS_H
#define DBAL_CORE_ROWS_H

#include "buf.h"

#include <dbal/driver.h>
#include <sys/types.h>

typedef struct dbal__cursor_methods {
    int (*next)(dbal_driver_rows *dr, dbal_error *err); /* DBAL_ROW, DBAL_DONE or a code */
    void (*close)(dbal_driver_rows *dr);
    const char *(*name)(dbal_driver_rows *dr, int col);
    void (*value)(dbal_driver_rows *dr, int col, dbal_value *out); /* the value's form */
    dbal_type (*type)(dbal_driver_rows *dr, int col);              /* its logical type */
    /* The value read straight into a C type, or DBAL_ETYPE when it is not
     * in that form (driver.h's col_int64 ...): then value and the core's
     * rules decide. Never NULL: a driver without the slots gets a stub
     * that always says DBAL_ETYPE. */
    int (*int64)(dbal_driver_rows *dr, int col, int64_t *out);
    int (*dbl)(dbal_driver_rows *dr, int col, double *out);
    int (*text)(dbal_driver_rows *dr, int col, const char **out, size_t *len);
} dbal__cursor_methods;

typedef struct dbal__rows_hooks {
    /* DBAL_OK when the rows may be read in this process, else the code to
     * fail with (and, when report is set, the reason in the cursor's error).
     * NULL: always. */
    int (*usable)(dbal_rows *r, int report);
    /* A read failed with rc; returns the code to give the caller. NULL: rc. */
    int (*failed)(dbal_rows *r, int rc);
    /* The cursor is closed (its rows and buffers released): the owner
     * unlinks it and frees or keeps r. Required. */
    void (*closed)(dbal_rows *r);
} dbal__rows_hooks;

struct dbal_rows {
    const dbal__cursor_methods *m;
    dbal_driver_rows *dr;
    dbal_error *err; /* where the cursor's errors go */
    const dbal__rows_hooks *hooks;
    void *owner;            /* the session or async context, for the hooks */
    dbal_rows *prev, *next; /* in the owner's list of open cursors */
    int on_row;             /* next returned DBAL_ROW and the row is current */
    pid_t pid;              /* the process that opened it; in another, hooks->usable decides */
    int ncols;              /* dr->ncols, fixed for the cursor's life */
    char (*numbuf)[48];     /* per-column text of numbers, dates, UUIDs, made on first use */
    dbal__buf *blobtext;    /* per-column NUL-terminated copies of blobs read as text */
};

/* Makes r (zeroed, or closed and kept) a cursor over dr read through m,
 * with its errors in err and its owner's hooks. */
void dbal__rows_open(dbal_rows *r, const dbal__cursor_methods *m, dbal_driver_rows *dr, dbal_error *err,
                     const dbal__rows_hooks *hooks, void *owner);

/* The current value of col in its form: DBAL_OK, or the code (with the
 * cursor's error set) when there is no such column or no current row. */
int dbal__rows_value(dbal_rows *r, int col, dbal_value *v);
/* Sets the cursor's error for a value of col that could not be read as
 * `want` ("a timestamp") with code rc (DBAL_ENULL, DBAL_ETYPE,
 * DBAL_ERANGE); returns rc. */
int dbal__rows_conversion_error(dbal_rows *r, int col, int rc, const char *want);

/* A driver's cursor slots as a methods table. */
void dbal__cursor_methods_of(const dbal_driver *d, dbal__cursor_methods *out);

#endif
