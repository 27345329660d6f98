/* item_handlers.c - POST, GET, PUT, DELETE of single items and the list. */
#include "db_errors.h"
#include "handlers.h"
#include "item_store.h"
#include "request_args.h"
#include "unit_of_work.h"

#include <stdio.h>

/* What a unit of work on one item takes and gives. */
typedef struct item_ctx {
    int64_t id;
    const item_input *in;
    json_t *item; /* the stored item; NULL when there is none */
    int deleted;
} item_ctx;

static void item_ctx_reset(item_ctx *c)
{
    json_decref(c->item);
    c->item = NULL;
    c->deleted = 0;
}

static int create_unit(dbal_session *s, void *p)
{
    item_ctx *c = p;
    item_ctx_reset(c);
    return item_store_insert(s, c->in, &c->item);
}

static int get_unit(dbal_session *s, void *p)
{
    item_ctx *c = p;
    item_ctx_reset(c);
    return item_store_get(s, c->id, &c->item);
}

static int update_unit(dbal_session *s, void *p)
{
    item_ctx *c = p;
    item_ctx_reset(c);
    return item_store_update(s, c->id, c->in, &c->item);
}

static int delete_unit(dbal_session *s, void *p)
{
    item_ctx *c = p;
    item_ctx_reset(c);
    return item_store_delete(s, c->id, &c->deleted);
}

/* The body as a validated item; *doc owns the strings *in borrows. */
static int read_item(const http_request *rq, http_reply *rp, json_t **doc, item_input *in)
{
    if (request_json(rq, rp, doc))
        return -1;
    char msg[256];
    if (item_input_parse(*doc, in, msg, sizeof msg) == 0)
        return 0;
    http_reply_error(rp, HTTP_UNPROCESSABLE, msg);
    json_decref(*doc);
    *doc = NULL;
    return -1;
}

static void reply_not_found(http_reply *rp, int64_t id)
{
    char msg[64];
    snprintf(msg, sizeof msg, "item %lld not found", (long long)id);
    http_reply_error(rp, HTTP_NOT_FOUND, msg);
}

/* A failed write of `in`: a duplicate name is a 409 that names it. */
static void reply_write_error(http_reply *rp, const http_request *rq, const dbal_error *err,
                              const item_input *in)
{
    char msg[ITEM_NAME_MAX_BYTES + 64];
    const char *text = NULL;
    if (err->code == DBAL_EUNIQUE) {
        snprintf(msg, sizeof msg, "an item named '%s' already exists", in->name);
        text = msg;
    } else if (err->code == DBAL_ECHECK) {
        text = "field 'price' must be >= 0";
    }
    db_error_reply(rp, rq, err, text);
}

/* Runs a write of the body's item: create (id unused) or update. */
static void write_item(const app *a, const http_request *rq, http_reply *rp, unit_fn fn, int64_t id,
                       int created_status)
{
    json_t *doc;
    item_input in;
    if (read_item(rq, rp, &doc, &in))
        return;
    item_ctx c = {.id = id, .in = &in};
    dbal_error err;
    if (unit_of_work(a->db, rq->label, UNIT_READ_WRITE, fn, &c, &err) != DBAL_OK)
        reply_write_error(rp, rq, &err, &in);
    else if (!c.item)
        reply_not_found(rp, id);
    else {
        http_reply_set(rp, created_status, c.item);
        c.item = NULL;
    }
    item_ctx_reset(&c);
    item_input_free(&in);
    json_decref(doc);
}

void handle_create_item(const app *a, const http_request *rq, http_reply *rp)
{
    write_item(a, rq, rp, create_unit, 0, HTTP_CREATED);
}

void handle_update_item(const app *a, const http_request *rq, http_reply *rp)
{
    int64_t id;
    if (request_id(rq, rp, &id) == 0)
        write_item(a, rq, rp, update_unit, id, HTTP_OK);
}

void handle_get_item(const app *a, const http_request *rq, http_reply *rp)
{
    item_ctx c = {0};
    dbal_error err;
    if (request_id(rq, rp, &c.id))
        return;
    if (unit_of_work(a->db, rq->label, UNIT_READ_ONLY, get_unit, &c, &err) != DBAL_OK)
        db_error_reply(rp, rq, &err, NULL);
    else if (!c.item)
        reply_not_found(rp, c.id);
    else {
        http_reply_set(rp, HTTP_OK, c.item);
        c.item = NULL;
    }
    item_ctx_reset(&c);
}

void handle_delete_item(const app *a, const http_request *rq, http_reply *rp)
{
    item_ctx c = {0};
    dbal_error err;
    if (request_id(rq, rp, &c.id))
        return;
    if (unit_of_work(a->db, rq->label, UNIT_READ_WRITE, delete_unit, &c, &err) != DBAL_OK)
        db_error_reply(rp, rq, &err, NULL);
    else if (!c.deleted)
        reply_not_found(rp, c.id);
    else
        http_reply_set(rp, HTTP_NO_CONTENT, NULL);
}

typedef struct list_ctx {
    item_page page;
    json_t *items;
} list_ctx;

static int list_unit(dbal_session *s, void *p)
{
    list_ctx *c = p;
    json_decref(c->items);
    c->items = NULL;
    return item_store_list(s, &c->page, &c->items);
}

void handle_list_items(const app *a, const http_request *rq, http_reply *rp)
{
    list_ctx c = {{0}, NULL};
    dbal_error err;
    if (request_page(rq, rp, &c.page))
        return;
    if (unit_of_work(a->db, rq->label, UNIT_READ_ONLY, list_unit, &c, &err) != DBAL_OK) {
        json_decref(c.items);
        db_error_reply(rp, rq, &err, NULL);
        return;
    }
    http_reply_set(rp, HTTP_OK,
                   json_pack("{s:o, s:I, s:I}", "items", c.items, "limit", (json_int_t)c.page.limit, "offset",
                             (json_int_t)c.page.offset));
}
