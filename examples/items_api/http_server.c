/* http_server.c - libmicrohttpd glue: request bodies, dispatch, replies. */
#include "http_server.h"

#include "log.h"
#include "router.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Per-request state, from the first call of the access handler until
 * libmicrohttpd reports the request completed. */
typedef struct request_state {
    char *body;
    size_t len, cap;
    int rejected; /* over the limit: the rest of the body is discarded, then 413 */
    size_t discarded;
    int replied; /* a reply is queued */
    struct timespec started;
} request_state;

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- what handlers use (http_types.h) ------------------------------------ */

const char *http_query_arg(const http_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- replies --------------------------------------------------------------- */

static enum MHD_Result send_text(struct MHD_Connection *conn, int status, char *text, const char *allow)
{
    size_t len = text ? strlen(text) : 0;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text ? text : (char *)"",
                                                                text ? MHD_RESPMEM_MUST_FREE
                                                                     : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    if (len)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (allow && *allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Prices print with 15 significant digits: every decimal a client sent with
 * up to 15 digits comes back as written (0.1, not 0.10000000000000001). */
#define JSON_OUT_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

static enum MHD_Result send_reply(struct MHD_Connection *conn, const http_reply *rp)
{
    if (!rp->body)
        return send_text(conn, rp->status, NULL, rp->allow);
    char *text = json_dumps(rp->body, JSON_OUT_FLAGS);
    if (!text)
        return send_text(conn, HTTP_INTERNAL_ERROR, strdup("{\"error\":\"out of memory\",\"sqlstate\":null}"),
                         NULL);
    return send_text(conn, rp->status, text, rp->allow);
}

static enum MHD_Result reply_too_large(struct MHD_Connection *conn, request_state *st, size_t max,
                                       const char *method, const char *url)
{
    st->rejected = st->replied = 1;
    log_line("%s %s %d %.1fms", method, url, HTTP_CONTENT_TOO_LARGE, ms_since(&st->started));
    char msg[96];
    snprintf(msg, sizeof msg, "request body larger than %zu bytes", max);
    http_reply rp = {0};
    http_reply_error(&rp, HTTP_CONTENT_TOO_LARGE, msg);
    enum MHD_Result ret = send_reply(conn, &rp);
    json_decref(rp.body);
    return ret;
}

/* ---- the access handler's three phases ----------------------------------- */

/* First call: headers only. A declared length over the limit is refused
 * before any of the body is read. */
static enum MHD_Result begin_request(http_server *srv, struct MHD_Connection *conn, const char *method,
                                     const char *url, void **con_cls)
{
    request_state *st = calloc(1, sizeof *st);
    if (!st)
        return MHD_NO;
    clock_gettime(CLOCK_MONOTONIC, &st->started);
    *con_cls = st;
    const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull(length, NULL, 10) > srv->max_body)
        return reply_too_large(conn, st, srv->max_body, method, url);
    return MHD_YES;
}

/* A body with no declared length that goes over the limit is read to its
 * end and discarded (libmicrohttpd cannot queue a reply in the middle of an
 * upload), then answered 413; past DISCARD_FACTOR times the limit the
 * connection is dropped instead. */
enum { DISCARD_FACTOR = 8 };

/* Later calls with data: accumulate, within the limit. */
static enum MHD_Result receive_body(http_server *srv, request_state *st, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0; /* consumed, kept or not */
    if (!st->rejected && n > srv->max_body - st->len) {
        st->rejected = 1;
        free(st->body);
        st->body = NULL;
        st->len = st->cap = 0;
    }
    if (st->rejected) {
        st->discarded += n;
        return st->discarded / DISCARD_FACTOR > srv->max_body ? MHD_NO : MHD_YES;
    }
    if (st->len + n + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < st->len + n + 1)
            cap *= 2;
        char *body = realloc(st->body, cap);
        if (!body)
            return MHD_NO;
        st->body = body;
        st->cap = cap;
    }
    memcpy(st->body + st->len, data, n);
    st->len += n;
    st->body[st->len] = '\0';
    return MHD_YES;
}

/* Last call: the whole request is here. */
static enum MHD_Result dispatch(http_server *srv, struct MHD_Connection *conn, request_state *st,
                                const char *url, const char *method)
{
    http_request rq = {.method = method,
                       .path = url,
                       .body = st->body ? st->body : "",
                       .body_len = st->len,
                       .conn = conn};
    http_reply rp = {.status = HTTP_INTERNAL_ERROR};
    route_request(srv->app, &rq, &rp);
    enum MHD_Result ret = send_reply(conn, &rp);
    json_decref(rp.body);
    log_line("%s %s %d %.1fms", method, url, rp.status, ms_since(&st->started));
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
    (void)version;
    http_server *srv = cls;
    request_state *st = *con_cls;
    if (!st)
        return begin_request(srv, conn, method, url, con_cls);
    if (st->replied) { /* refused on its headers: ignore the rest */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size)
        return receive_body(srv, st, upload_data, upload_size);
    if (st->rejected)
        return reply_too_large(conn, st, srv->max_body, method, url);
    return dispatch(srv, conn, st, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)conn, (void)why;
    request_state *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* ---- daemon ------------------------------------------------------------------ */

typedef union {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
} listen_addr;

/* Parses an IPv4 or IPv6 literal; returns MHD_USE_IPv6 for the latter, 0
 * for the former, -1 when it is neither. */
static int parse_host(const char *host, unsigned port, listen_addr *addr)
{
    memset(addr, 0, sizeof *addr);
    if (inet_pton(AF_INET, host, &addr->v4.sin_addr) == 1) {
        addr->v4.sin_family = AF_INET;
        addr->v4.sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &addr->v6.sin6_addr) == 1) {
        addr->v6.sin6_family = AF_INET6;
        addr->v6.sin6_port = htons((uint16_t)port);
        return MHD_USE_IPv6;
    }
    return -1;
}

enum { LISTEN_BACKLOG = 1024, IDLE_CONNECTION_TIMEOUT_S = 60, MAX_CONNECTIONS = 1000 };

int http_server_start(http_server *srv, const app *a, const config *cfg, char *msg, size_t cap)
{
    listen_addr addr;
    int family_flag = parse_host(cfg->host, cfg->port, &addr);
    if (family_flag < 0) {
        snprintf(msg, cap, "HOST must be an IPv4 or IPv6 address, got '%s'", cfg->host);
        return -1;
    }
    *srv = (http_server){.app = a, .max_body = cfg->max_body};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG | (unsigned)family_flag;
    srv->daemon = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv,
                                   MHD_OPTION_SOCK_ADDR, &addr.sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                                   srv, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)LISTEN_BACKLOG,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_CONNECTION_TIMEOUT_S,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(msg, cap, "cannot listen on %s port %u (in use?)", cfg->host, cfg->port);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : cfg->port;
    return 0;
}

void http_server_stop(http_server *srv)
{
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
}
