/*
 * handlers.h - one function per route. Each reads the request, runs one
 * unit of work (one labelled session, one transaction) and fills the reply.
 */
#ifndef ITEMS_API_HANDLERS_H
#define ITEMS_API_HANDLERS_H

#include "app.h"
#include "http_types.h"

typedef void (*handler_fn)(const app *a, const http_request *rq, http_reply *rp);

void handle_create_item(const app *a, const http_request *rq, http_reply *rp); /* POST /items */
void handle_get_item(const app *a, const http_request *rq, http_reply *rp);    /* GET /items/{id} */
void handle_list_items(const app *a, const http_request *rq, http_reply *rp);  /* GET /items */
void handle_update_item(const app *a, const http_request *rq, http_reply *rp); /* PUT /items/{id} */
void handle_delete_item(const app *a, const http_request *rq, http_reply *rp); /* DELETE /items/{id} */
void handle_bulk_create(const app *a, const http_request *rq, http_reply *rp); /* POST /items/bulk */
void handle_health(const app *a, const http_request *rq, http_reply *rp);      /* GET /health */

#endif
