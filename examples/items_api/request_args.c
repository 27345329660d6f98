/* request_args.c - body, path and query arguments of a request. */
#include "request_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int request_json(const http_request *rq, http_reply *rp, json_t **doc)
{
    json_error_t error;
    *doc = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &error);
    if (*doc)
        return 0;
    char msg[256 + sizeof error.text];
    snprintf(msg, sizeof msg, "malformed JSON body: %s (line %d, column %d)", error.text, error.line,
             error.column);
    http_reply_error(rp, HTTP_UNPROCESSABLE, msg);
    return -1;
}

/* A whole, optionally signed, decimal integer. */
static int parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int request_id(const http_request *rq, http_reply *rp, int64_t *id)
{
    if (parse_int64(rq->param, id) == 0)
        return 0;
    http_reply_error(rp, HTTP_UNPROCESSABLE, "the item id must be a 64-bit integer");
    return -1;
}

static int page_arg(const http_request *rq, http_reply *rp, const char *name, int64_t min, int64_t max,
                    int64_t *out)
{
    const char *v = http_query_arg(rq, name);
    if (!v)
        return 0; /* keep the default */
    if (parse_int64(v, out) == 0 && *out >= min && *out <= max)
        return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "query argument '%s' must be an integer from %lld to %lld", name,
             (long long)min, (long long)max);
    http_reply_error(rp, HTTP_UNPROCESSABLE, msg);
    return -1;
}

/* Whether s is valid UTF-8 (jansson refuses to make a JSON string of
 * anything else), so that both databases see the same text. */
static int is_utf8(const char *s)
{
    json_t *js = json_string(s);
    json_decref(js);
    return js != NULL;
}

int request_page(const http_request *rq, http_reply *rp, item_page *page)
{
    page->limit = PAGE_DEFAULT_LIMIT;
    page->offset = 0;
    page->q = http_query_arg(rq, "q");
    if (page->q && !*page->q)
        page->q = NULL; /* ?q= : no filter */
    if (page->q && !is_utf8(page->q)) {
        http_reply_error(rp, HTTP_UNPROCESSABLE, "query argument 'q' must be UTF-8 text");
        return -1;
    }
    if (page_arg(rq, rp, "limit", 1, PAGE_MAX_LIMIT, &page->limit))
        return -1;
    return page_arg(rq, rp, "offset", 0, INT64_MAX, &page->offset);
}
