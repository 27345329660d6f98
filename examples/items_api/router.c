/* router.c - routes, matched segment by segment; "{id}" matches one segment. */
#include "router.h"

#include "handlers.h"

#include <string.h>

typedef struct route {
    const char *method;
    const char *pattern;
    const char *label; /* the session label: "METHOD pattern" */
    handler_fn handler;
} route;

/* A literal pattern comes before a {param} one that also matches its path. */
static const route routes[] = {
    {"GET", "/health", "GET /health", handle_health},
    {"GET", "/items", "GET /items", handle_list_items},
    {"POST", "/items", "POST /items", handle_create_item},
    {"POST", "/items/bulk", "POST /items/bulk", handle_bulk_create},
    {"GET", "/items/{id}", "GET /items/{id}", handle_get_item},
    {"PUT", "/items/{id}", "PUT /items/{id}", handle_update_item},
    {"DELETE", "/items/{id}", "DELETE /items/{id}", handle_delete_item},
};
enum { NROUTES = sizeof routes / sizeof routes[0] };

/* Length of the segment at s (up to the next '/' or the end). */
static size_t segment_len(const char *s)
{
    return strcspn(s, "/");
}

/* Whether path matches pattern; *param and *param_len receive the {param}
 * segment of the path (not NUL-terminated), or NULL. */
static int path_matches(const char *pattern, const char *path, const char **param, size_t *param_len)
{
    *param = NULL;
    while (*pattern == '/' && *path == '/') {
        pattern++, path++;
        size_t pl = segment_len(pattern), sl = segment_len(path);
        if (pattern[0] == '{') {
            if (sl == 0)
                return 0;
            *param = path;
            *param_len = sl;
        } else if (pl != sl || strncmp(pattern, path, pl) != 0) {
            return 0;
        }
        pattern += pl;
        path += sl;
    }
    return *pattern == '\0' && *path == '\0';
}

/* "GET, PUT, DELETE": the methods of every route with this pattern. */
static void allowed_methods(const char *pattern, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; i < NROUTES; i++) {
        if (strcmp(routes[i].pattern, pattern) != 0)
            continue;
        if (out[0])
            strncat(out, ", ", cap - strlen(out) - 1);
        strncat(out, routes[i].method, cap - strlen(out) - 1);
    }
}

/* The first pattern that matches the path, or NULL. */
static const char *match_pattern(const char *path, const char **param, size_t *param_len)
{
    for (int i = 0; i < NROUTES; i++)
        if (path_matches(routes[i].pattern, path, param, param_len))
            return routes[i].pattern;
    return NULL;
}

/* Runs route r with its {param} segment copied out of the path. */
static void run_route(const route *r, const app *a, http_request *rq, http_reply *rp, const char *param,
                      size_t param_len)
{
    char segment[64] = "";
    if (param && param_len < sizeof segment) { /* longer: no integer, so "" */
        memcpy(segment, param, param_len);
        segment[param_len] = '\0';
    }
    rq->param = param ? segment : NULL;
    rq->label = r->label;
    r->handler(a, rq, rp);
    rq->param = NULL;
}

void route_request(const app *a, http_request *rq, http_reply *rp)
{
    const char *param = NULL;
    size_t param_len = 0;
    const char *pattern = match_pattern(rq->path, &param, &param_len);
    if (!pattern) {
        http_reply_error(rp, HTTP_NOT_FOUND, "no such route");
        return;
    }
    for (int i = 0; i < NROUTES; i++) {
        if (strcmp(routes[i].pattern, pattern) == 0 && strcmp(routes[i].method, rq->method) == 0) {
            run_route(&routes[i], a, rq, rp, param, param_len);
            return;
        }
    }
    http_reply_error(rp, HTTP_METHOD_NOT_ALLOWED, "method not allowed on this route");
    allowed_methods(pattern, rp->allow, sizeof rp->allow);
}
