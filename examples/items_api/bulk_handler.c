/* bulk_handler.c - POST /items/bulk: many items in one batch, all or nothing. */
#include "db_errors.h"
#include "handlers.h"
#include "item_store.h"
#include "request_args.h"
#include "unit_of_work.h"

#include <stdio.h>
#include <stdlib.h>

#define BULK_MAX_ITEMS 1000

typedef struct bulk_ctx {
    item_input *in;
    size_t n;
    size_t failed_row; /* index of the item the batch failed on, or (size_t)-1 */
    json_t *ids;
} bulk_ctx;

static int bulk_unit(dbal_session *s, void *p)
{
    bulk_ctx *c = p;
    json_decref(c->ids);
    c->ids = NULL;
    int rc = item_store_insert_batch(s, c->in, c->n, &c->failed_row);
    if (rc == DBAL_OK)
        rc = item_store_ids_by_name(s, c->in, c->n, &c->ids);
    return rc;
}

static void free_inputs(item_input *in, size_t n)
{
    for (size_t i = 0; in && i < n; i++)
        item_input_free(&in[i]);
    free(in);
}

/* Adds "index" (and "name") to an error reply about item i. */
static void name_the_item(http_reply *rp, size_t i, const char *name)
{
    if (!rp->body)
        return;
    json_object_set_new(rp->body, "index", json_integer((json_int_t)i));
    if (name)
        json_object_set_new(rp->body, "name", json_string(name));
}

/* Validates every element of the array doc into c->in. */
static int read_items(const json_t *doc, http_reply *rp, bulk_ctx *c)
{
    if (!json_is_array(doc)) {
        http_reply_error(rp, HTTP_UNPROCESSABLE, "the body must be a JSON array of items");
        return -1;
    }
    c->n = json_array_size(doc);
    if (c->n > BULK_MAX_ITEMS) {
        char msg[80];
        snprintf(msg, sizeof msg, "at most %d items per bulk request", BULK_MAX_ITEMS);
        http_reply_error(rp, HTTP_UNPROCESSABLE, msg);
        return -1;
    }
    c->in = calloc(c->n ? c->n : 1, sizeof *c->in);
    if (!c->in) {
        http_reply_error(rp, HTTP_INTERNAL_ERROR, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < c->n; i++) {
        char why[256], msg[300];
        if (item_input_parse(json_array_get(doc, i), &c->in[i], why, sizeof why) == 0)
            continue;
        snprintf(msg, sizeof msg, "item %zu: %s", i, why);
        http_reply_error(rp, HTTP_UNPROCESSABLE, msg);
        name_the_item(rp, i, NULL);
        return -1;
    }
    return 0;
}

static void reply_batch_error(http_reply *rp, const http_request *rq, const dbal_error *err,
                              const bulk_ctx *c)
{
    size_t i = c->failed_row;
    if (i >= c->n) { /* not a row's fault: the database or the id lookup */
        db_error_reply(rp, rq, err, NULL);
        return;
    }
    char msg[ITEM_NAME_MAX_BYTES + 80];
    if (err->code == DBAL_EUNIQUE)
        snprintf(msg, sizeof msg, "item %zu: an item named '%s' already exists; nothing was inserted", i,
                 c->in[i].name);
    else
        snprintf(msg, sizeof msg, "item %zu: %s; nothing was inserted", i, dbal_strerror(err->code));
    db_error_reply(rp, rq, err, msg);
    name_the_item(rp, i, c->in[i].name);
}

void handle_bulk_create(const app *a, const http_request *rq, http_reply *rp)
{
    json_t *doc;
    if (request_json(rq, rp, &doc))
        return;
    bulk_ctx c = {.failed_row = (size_t)-1};
    if (read_items(doc, rp, &c) == 0) {
        dbal_error err;
        if (unit_of_work(a->db, rq->label, UNIT_READ_WRITE, bulk_unit, &c, &err) != DBAL_OK) {
            reply_batch_error(rp, rq, &err, &c);
        } else {
            http_reply_set(rp, HTTP_CREATED, json_pack("{s:O}", "ids", c.ids));
        }
    }
    json_decref(c.ids);
    free_inputs(c.in, c.n);
    json_decref(doc);
}
