/*
 * http_types.h - what a handler sees of a request and what it answers,
 * independent of the HTTP library underneath (libmicrohttpd, see
 * http_server.c).
 */
#ifndef ITEMS_API_HTTP_TYPES_H
#define ITEMS_API_HTTP_TYPES_H

#include <jansson.h>
#include <stddef.h>

/* The status codes this service answers with. */
enum http_status {
    HTTP_OK = 200,
    HTTP_CREATED = 201,
    HTTP_NO_CONTENT = 204,
    HTTP_NOT_FOUND = 404,
    HTTP_METHOD_NOT_ALLOWED = 405,
    HTTP_CONFLICT = 409,
    HTTP_CONTENT_TOO_LARGE = 413,
    HTTP_UNPROCESSABLE = 422,
    HTTP_INTERNAL_ERROR = 500,
    HTTP_UNAVAILABLE = 503
};

struct MHD_Connection;

typedef struct http_request {
    const char *method;
    const char *path; /* without the query string */
    const char *body; /* NUL-terminated; "" when there is none */
    size_t body_len;
    const char *label; /* "METHOD /route/{param}", set by the router */
    const char *param; /* the {id} segment of the path, or NULL */
    struct MHD_Connection *conn;
} http_request;

typedef struct http_reply {
    int status;
    json_t *body;   /* owned; NULL for no body (204) */
    char allow[64]; /* Allow header of a 405, or "" */
} http_reply;

/* A query-string argument, percent-decoded, or NULL when absent. */
const char *http_query_arg(const http_request *rq, const char *name);

/* Sets the reply (taking ownership of body). */
void http_reply_set(http_reply *rp, int status, json_t *body);

/* {"error": message, "sqlstate": null}: an error that is not the database's. */
void http_reply_error(http_reply *rp, int status, const char *message);

#endif
