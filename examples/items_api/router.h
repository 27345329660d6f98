/* router.h - the route table: method and path to handler, 404 and 405. */
#ifndef ITEMS_API_ROUTER_H
#define ITEMS_API_ROUTER_H

#include "app.h"
#include "http_types.h"

/* Finds the route of rq (setting rq->label and rq->param) and runs it. */
void route_request(const app *a, http_request *rq, http_reply *rp);

#endif
