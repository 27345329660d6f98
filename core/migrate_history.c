/*
 * The migration history table: one row per applied version, with the
 * checksum of the file as applied. Its DDL is the same on every driver.
 */
#include "migrate.h"

#include "alloc.h"
#include "errors.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int ident_ok(const char *p, size_t n)
{
    if (n == 0 || n > 63 || (p[0] >= '0' && p[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int dbal__mig_table_check(const char *table, dbal_error *err)
{
    const char *dot = strchr(table, '.');
    int ok = dot ? ident_ok(table, (size_t)(dot - table)) && ident_ok(dot + 1, strlen(dot + 1))
                 : ident_ok(table, strlen(table));
    if (ok)
        return DBAL_OK;
    return dbal__error_set(err, DBAL_EINVAL, NULL, 0,
                           "migration history table '%.200s': expected name or schema.name, each of letters, "
                           "digits and _ (at most 63), not starting with a digit",
                           table);
}

const char *dbal__mig_history_ddl(const char *table, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "CREATE TABLE IF NOT EXISTS %s (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT "
             "NOT NULL, applied_at TEXT NOT NULL, duration_ms BIGINT NOT NULL)",
             table);
    return buf;
}

static char *col_dup(dbal_rows *r, int col)
{
    const char *t = dbal_col_text(r, col);
    return dbal__strdup(t ? t : "");
}

static int add_row(dbal__mig_history *h, size_t *cap, dbal_rows *r)
{
    if (h->count == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        dbal__mig_row *more = dbal__realloc(h->rows, n * sizeof *more);
        if (!more)
            return DBAL_ENOMEM;
        h->rows = more;
        *cap = n;
    }
    dbal__mig_row *row = &h->rows[h->count++];
    row->version = dbal_col_int64(r, 0);
    row->duration_ms = dbal_col_int64(r, 4);
    row->name = col_dup(r, 1);
    row->checksum = col_dup(r, 2);
    row->applied_at = col_dup(r, 3);
    return row->name && row->checksum && row->applied_at ? DBAL_OK : DBAL_ENOMEM;
}

/* A table of that name without the history's columns is not taken for an
 * absent one. */
static int absent(dbal_session *s, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE 1 = 0", table);
    return dbal_exec(s, sql, DBAL_NOARGS, NULL) == DBAL_EUNDEFINED;
}

int dbal__mig_history_read(dbal_session *s, const char *table, dbal__mig_history *out)
{
    char sql[256];
    size_t cap = 0;
    dbal_rows *r;
    memset(out, 0, sizeof *out);
    snprintf(sql, sizeof sql,
             "SELECT version, name, checksum, applied_at, duration_ms FROM %s ORDER BY version", table);
    int rc = dbal_query(s, sql, DBAL_NOARGS, &r);
    if (rc == DBAL_EUNDEFINED && absent(s, table))
        return DBAL_OK;
    if (rc != DBAL_OK)
        return rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW)
        if ((rc = add_row(out, &cap, r)) != DBAL_OK)
            break;
    dbal_rows_close(r);
    if (rc == DBAL_DONE)
        return DBAL_OK;
    dbal__mig_history_free(out);
    return rc;
}

void dbal__mig_history_free(dbal__mig_history *h)
{
    for (size_t i = 0; i < h->count; i++) {
        dbal__free(h->rows[i].name);
        dbal__free(h->rows[i].checksum);
        dbal__free(h->rows[i].applied_at);
    }
    dbal__free(h->rows);
    memset(h, 0, sizeof *h);
}

const dbal__mig_row *dbal__mig_history_find(const dbal__mig_history *h, int64_t version)
{
    for (size_t i = 0; i < h->count; i++)
        if (h->rows[i].version == version)
            return &h->rows[i];
    return NULL;
}

int dbal__mig_history_has(dbal_session *s, const char *table, int64_t version, int *has)
{
    char sql[256];
    dbal_rows *r;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE version = ?", table);
    int rc = dbal_query(s, sql, DBAL_ARGS(dbal_int64(version)), &r);
    if (rc != DBAL_OK)
        return rc;
    int64_t n = 0;
    if ((rc = dbal_rows_next(r)) == DBAL_ROW)
        rc = dbal_col_get_int64(r, 0, &n);
    dbal_rows_close(r);
    *has = n > 0;
    return rc == DBAL_DONE ? DBAL_OK : rc;
}

/* Made here, so the time zone of neither the database nor the process
 * changes it. */
void dbal__mig_utc_now(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

int dbal__mig_history_insert(dbal_session *s, const char *table, const dbal__mig_file *f, const char *at,
                             int64_t ms)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s (version, name, checksum, applied_at, duration_ms) VALUES (?, ?, ?, ?, ?)",
             table);
    return dbal_exec(s, sql,
                     DBAL_ARGS(dbal_int64(f->version), dbal_text(f->name), dbal_text(f->checksum),
                               dbal_text(at), dbal_int64(ms)),
                     NULL);
}

int dbal__mig_history_delete(dbal_session *s, const char *table, int64_t version)
{
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE version = ?", table);
    return dbal_exec(s, sql, DBAL_ARGS(dbal_int64(version)), NULL);
}

int dbal__mig_history_repair(dbal_session *s, const char *table, const dbal__mig_file *f)
{
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE %s SET checksum = ?, name = ? WHERE version = ?", table);
    return dbal_exec(s, sql, DBAL_ARGS(dbal_text(f->checksum), dbal_text(f->name), dbal_int64(f->version)),
                     NULL);
}
