/*
 * item_store.h - the items table: every SQL statement of the service. Each
 * function runs inside the caller's transaction (see unit_of_work.h) and
 * returns DBAL_OK or a dbal code whose details are the session's error.
 */
#ifndef ITEMS_API_ITEM_STORE_H
#define ITEMS_API_ITEM_STORE_H

#include "item.h"

#include <dbal.h>
#include <jansson.h>

/* Checks that the table the migrations made has the expected columns. */
int item_store_check_schema(dbal_session *s);

/* Inserts; *out receives the stored item. DBAL_EUNIQUE: the name exists. */
int item_store_insert(dbal_session *s, const item_input *in, json_t **out);

/* *out receives the item, or NULL when there is none with that id. */
int item_store_get(dbal_session *s, int64_t id, json_t **out);

/* Replaces name, price and tags; *out receives the item, NULL when absent. */
int item_store_update(dbal_session *s, int64_t id, const item_input *in, json_t **out);

/* *deleted is 1 when the item existed. */
int item_store_delete(dbal_session *s, int64_t id, int *deleted);

typedef struct item_page {
    int64_t limit;
    int64_t offset;
    const char *q; /* name substring (case-insensitive for ASCII), or NULL */
} item_page;

/* *items receives a JSON array of items ordered by id. */
int item_store_list(dbal_session *s, const item_page *page, json_t **items);

/* Inserts n items with one dbal_exec_batch, all or nothing; on failure
 * *failed_row is the index of the item that failed. */
int item_store_insert_batch(dbal_session *s, const item_input *in, size_t n, size_t *failed_row);

/* *ids receives the ids of the named items, in the order of `in`. */
int item_store_ids_by_name(dbal_session *s, const item_input *in, size_t n, json_t **ids);

/* A round trip to the database. */
int item_store_ping(dbal_session *s);

#endif
