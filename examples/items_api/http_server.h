/*
 * http_server.h - the HTTP side, on libmicrohttpd: one thread per connection
 * (requests run concurrently and may block on the database), request bodies
 * accumulated up to a limit (larger: 413), JSON replies.
 */
#ifndef ITEMS_API_HTTP_SERVER_H
#define ITEMS_API_HTTP_SERVER_H

#include "app.h"
#include "config.h"

#include <stddef.h>

struct MHD_Daemon;

typedef struct http_server {
    struct MHD_Daemon *daemon;
    const app *app;
    size_t max_body;
    unsigned port; /* the port bound (useful with PORT=0) */
} http_server;

/* Binds cfg->host:cfg->port and starts serving. Returns 0, or -1 with msg. */
int http_server_start(http_server *srv, const app *a, const config *cfg, char *msg, size_t cap);

/* Stops accepting, waits for the requests in flight, frees the daemon. */
void http_server_stop(http_server *srv);

#endif
