/* item_store.c - the SQL of the service, the same on SQLite and PostgreSQL.
 * The schema is made by the migrations (migrations/, applied at startup). */
#include "item_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_COLUMNS "id, name, price, tags"

int item_store_check_schema(dbal_session *s)
{
    /* A table made by someone else under this name fails here, at startup. */
    return dbal_exec(s, "SELECT " ITEM_COLUMNS " FROM items WHERE 1 = 0", DBAL_NOARGS, NULL);
}

/* The current row (id, name, price, tags) as JSON. */
static json_t *row_to_item(dbal_rows *r)
{
    return item_to_json(dbal_col_int64(r, 0), dbal_col_text(r, 1), dbal_col_double(r, 2),
                        dbal_col_text(r, 3));
}

/* Runs a query returning at most one item; *out is NULL when it returns none. */
static int query_one_item(dbal_session *s, const char *sql, dbal_params params, json_t **out)
{
    *out = NULL;
    dbal_rows *r;
    int rc = dbal_query(s, sql, params, &r);
    if (rc != DBAL_OK)
        return rc;
    rc = dbal_rows_next(r);
    if (rc == DBAL_ROW) {
        *out = row_to_item(r);
        rc = *out ? DBAL_OK : DBAL_ENOMEM;
    } else if (rc == DBAL_DONE) {
        rc = DBAL_OK;
    }
    dbal_rows_close(r);
    return rc;
}

static dbal_value name_value(const item_input *in)
{
    return dbal_textn(in->name, in->name_len);
}

int item_store_insert(dbal_session *s, const item_input *in, json_t **out)
{
    return query_one_item(s, "INSERT INTO items(name, price, tags) VALUES (?, ?, ?) RETURNING " ITEM_COLUMNS,
                          DBAL_ARGS(name_value(in), dbal_double(in->price), dbal_text(in->tags_json)), out);
}

int item_store_get(dbal_session *s, int64_t id, json_t **out)
{
    return query_one_item(s, "SELECT " ITEM_COLUMNS " FROM items WHERE id = ?", DBAL_ARGS(dbal_int64(id)),
                          out);
}

int item_store_update(dbal_session *s, int64_t id, const item_input *in, json_t **out)
{
    return query_one_item(
        s, "UPDATE items SET name = ?, price = ?, tags = ? WHERE id = ? RETURNING " ITEM_COLUMNS,
        DBAL_ARGS(name_value(in), dbal_double(in->price), dbal_text(in->tags_json), dbal_int64(id)), out);
}

int item_store_delete(dbal_session *s, int64_t id, int *deleted)
{
    int64_t n = 0;
    int rc = dbal_exec(s, "DELETE FROM items WHERE id = ?", DBAL_ARGS(dbal_int64(id)), &n);
    *deleted = rc == DBAL_OK && n > 0;
    return rc;
}

/* "%text%" for LIKE ... ESCAPE '!', with the user's %, _ and ! escaped so
 * that they match themselves. NULL when out of memory. */
static char *like_substring_pattern(const char *text)
{
    size_t n = strlen(text);
    char *p = malloc(2 * n + 3), *w = p;
    if (!p)
        return NULL;
    *w++ = '%';
    for (const char *c = text; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '!')
            *w++ = '!';
        *w++ = *c;
    }
    *w++ = '%';
    *w = '\0';
    return p;
}

static int collect_items(dbal_rows *r, json_t *items)
{
    int rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        if (json_array_append_new(items, row_to_item(r)) != 0)
            return DBAL_ENOMEM;
    }
    return rc == DBAL_DONE ? DBAL_OK : rc;
}

int item_store_list(dbal_session *s, const item_page *page, json_t **items)
{
    *items = NULL;
    char *pattern = NULL;
    dbal_rows *r;
    int rc;
    if (page->q) {
        if (!(pattern = like_substring_pattern(page->q)))
            return DBAL_ENOMEM;
        /* lower() on both sides: LIKE is case-insensitive on SQLite and
         * case-sensitive on PostgreSQL; this makes both insensitive (ASCII). */
        rc = dbal_query(s,
                        "SELECT " ITEM_COLUMNS " FROM items"
                        " WHERE lower(name) LIKE lower(CAST(? AS TEXT)) ESCAPE '!'"
                        " ORDER BY id LIMIT ? OFFSET ?",
                        DBAL_ARGS(dbal_text(pattern), dbal_int64(page->limit), dbal_int64(page->offset)), &r);
    } else {
        rc = dbal_query(s, "SELECT " ITEM_COLUMNS " FROM items ORDER BY id LIMIT ? OFFSET ?",
                        DBAL_ARGS(dbal_int64(page->limit), dbal_int64(page->offset)), &r);
    }
    free(pattern);
    if (rc != DBAL_OK)
        return rc;
    json_t *list = json_array();
    rc = list ? collect_items(r, list) : DBAL_ENOMEM;
    dbal_rows_close(r);
    if (rc == DBAL_OK)
        *items = list;
    else
        json_decref(list);
    return rc;
}

enum { ITEM_BATCH_COLUMNS = 3 };

int item_store_insert_batch(dbal_session *s, const item_input *in, size_t n, size_t *failed_row)
{
    *failed_row = (size_t)-1;
    if (n == 0)
        return DBAL_OK;
    dbal_value *rows = calloc(n * ITEM_BATCH_COLUMNS, sizeof *rows);
    if (!rows)
        return DBAL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        dbal_value *row = rows + i * ITEM_BATCH_COLUMNS;
        row[0] = name_value(&in[i]);
        row[1] = dbal_double(in[i].price);
        row[2] = dbal_text(in[i].tags_json);
    }
    int rc = dbal_exec_batch(s, "INSERT INTO items(name, price, tags) VALUES (?, ?, ?)", rows,
                             ITEM_BATCH_COLUMNS, n, NULL, failed_row);
    free(rows);
    return rc;
}

/* Names are looked up IDS_CHUNK at a time with one constant statement (one
 * prepared statement on PostgreSQL); a short last chunk is padded with NULLs,
 * which match nothing. */
enum { IDS_CHUNK = 50 };
#define PARAMS_5 "?, ?, ?, ?, ?"
#define PARAMS_10 PARAMS_5 ", " PARAMS_5
#define PARAMS_50 PARAMS_10 ", " PARAMS_10 ", " PARAMS_10 ", " PARAMS_10 ", " PARAMS_10
static const char ids_by_name_sql[] = "SELECT id, name FROM items WHERE name IN (" PARAMS_50 ")";

/* Adds name -> id for the first `count` names of `in` to by_name. */
static int lookup_chunk(dbal_session *s, const item_input *in, size_t count, json_t *by_name)
{
    dbal_value values[IDS_CHUNK];
    for (size_t i = 0; i < IDS_CHUNK; i++)
        values[i] = i < count ? name_value(&in[i]) : dbal_null();
    dbal_rows *r;
    int rc = dbal_query(s, ids_by_name_sql, dbal_params_array(values, IDS_CHUNK), &r);
    if (rc != DBAL_OK)
        return rc;
    while ((rc = dbal_rows_next(r)) == DBAL_ROW) {
        if (json_object_set_new(by_name, dbal_col_text(r, 1), json_integer(dbal_col_int64(r, 0))) != 0) {
            rc = DBAL_ENOMEM;
            break;
        }
    }
    dbal_rows_close(r);
    return rc == DBAL_DONE ? DBAL_OK : rc;
}

/* The ids of `in`, in its order, from the name -> id map. */
static json_t *ids_in_order(const item_input *in, size_t n, json_t *by_name)
{
    json_t *ids = json_array();
    for (size_t i = 0; ids && i < n; i++) {
        json_t *id = json_object_get(by_name, in[i].name);
        if (json_array_append(ids, id ? id : json_null()) != 0) {
            json_decref(ids);
            ids = NULL;
        }
    }
    return ids;
}

int item_store_ids_by_name(dbal_session *s, const item_input *in, size_t n, json_t **ids)
{
    *ids = NULL;
    json_t *by_name = json_object();
    if (!by_name)
        return DBAL_ENOMEM;
    int rc = DBAL_OK;
    for (size_t first = 0; rc == DBAL_OK && first < n; first += IDS_CHUNK) {
        size_t count = n - first < IDS_CHUNK ? n - first : IDS_CHUNK;
        rc = lookup_chunk(s, in + first, count, by_name);
    }
    if (rc == DBAL_OK && !(*ids = ids_in_order(in, n, by_name)))
        rc = DBAL_ENOMEM;
    json_decref(by_name);
    return rc;
}

int item_store_ping(dbal_session *s)
{
    return dbal_exec(s, "SELECT 1", DBAL_NOARGS, NULL);
}
