/*
 * request_args.h - reading a request's inputs: the JSON body, the {id} path
 * segment, the paging arguments. Each returns 0, or -1 after filling the
 * reply with a 422 that says what is wrong.
 */
#ifndef ITEMS_API_REQUEST_ARGS_H
#define ITEMS_API_REQUEST_ARGS_H

#include "http_types.h"
#include "item_store.h"

#include <jansson.h>
#include <stdint.h>

#define PAGE_DEFAULT_LIMIT 50
#define PAGE_MAX_LIMIT 1000

/* The body as a JSON object or array (*doc owned by the caller). */
int request_json(const http_request *rq, http_reply *rp, json_t **doc);

/* The {id} segment as a 64-bit integer. */
int request_id(const http_request *rq, http_reply *rp, int64_t *id);

/* ?limit= (1..PAGE_MAX_LIMIT, default PAGE_DEFAULT_LIMIT), ?offset= (>= 0,
 * default 0) and ?q= (UTF-8; borrowed from the request; empty: no filter). */
int request_page(const http_request *rq, http_reply *rp, item_page *page);

#endif
