/* The raw sqlite3 side, written as an application without dbal would:
 * prepare, step, read each column by its type, finalize. */
#include "slt.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sqlite_ctx {
    char *path;
    sqlite3 *db;
} sqlite_ctx;

static int sqlite_reset(slt_target *t, char *why, size_t cap)
{
    sqlite_ctx *c = t->ctx;
    sqlite3_close(c->db);
    c->db = NULL;
    if (strcmp(c->path, ":memory:") != 0)
        slt_remove_db_files(c->path);
    if (sqlite3_open(c->path, &c->db) != SQLITE_OK) {
        snprintf(why, cap, "sqlite3_open(%s): %s", c->path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
        return -1;
    }
    sqlite3_extended_result_codes(c->db, 1);
    return 0;
}

static int read_row(sqlite3_stmt *st, slt_outcome *out)
{
    for (int col = 0; col < out->ncols; col++) {
        int rc;
        switch (sqlite3_column_type(st, col)) {
        case SQLITE_INTEGER:
            rc = slt_outcome_add(out, SLT_INT, sqlite3_column_int64(st, col), 0, NULL, 0);
            break;
        case SQLITE_FLOAT:
            rc = slt_outcome_add(out, SLT_REAL, 0, sqlite3_column_double(st, col), NULL, 0);
            break;
        case SQLITE_TEXT: {
            const unsigned char *s = sqlite3_column_text(st, col);
            rc = slt_outcome_add(out, SLT_TEXT, 0, 0, s, (size_t)sqlite3_column_bytes(st, col));
            break;
        }
        case SQLITE_BLOB: {
            const void *p = sqlite3_column_blob(st, col);
            rc = slt_outcome_add(out, SLT_BLOB, 0, 0, p ? p : "", (size_t)sqlite3_column_bytes(st, col));
            break;
        }
        default: rc = slt_outcome_add(out, SLT_NULL, 0, 0, NULL, 0); break;
        }
        if (rc)
            return -1;
    }
    return 0;
}

static void failed(sqlite_ctx *c, slt_outcome *out)
{
    out->failed = 1;
    out->native = sqlite3_extended_errcode(c->db);
    snprintf(out->message, sizeof out->message, "%s", sqlite3_errmsg(c->db));
}

static void sqlite_run(slt_target *t, const char *sql, int is_query, slt_outcome *out)
{
    sqlite_ctx *c = t->ctx;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        failed(c, out);
        return;
    }
    out->ncols = is_query ? sqlite3_column_count(st) : 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (is_query && read_row(st, out))
            break;
    if (rc != SQLITE_DONE)
        failed(c, out);
    else if (!is_query && !sqlite3_stmt_readonly(st))
        out->affected = sqlite3_changes64(c->db);
    sqlite3_finalize(st);
}

static void sqlite_close(slt_target *t)
{
    sqlite_ctx *c = t->ctx;
    sqlite3_close(c->db);
    if (strcmp(c->path, ":memory:") != 0)
        slt_remove_db_files(c->path);
    free(c->path);
    free(c);
}

int slt_sqlite_target(slt_target *t, const char *name, const char *path)
{
    sqlite_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return -1;
    }
    *t = (slt_target){.name = name,
                      .engine = "sqlite",
                      .ctx = c,
                      .reset = sqlite_reset,
                      .run = sqlite_run,
                      .close = sqlite_close};
    return 0;
}
