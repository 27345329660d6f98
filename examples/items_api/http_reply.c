/* http_reply.c - filling a reply (see http_types.h). */
#include "http_types.h"

void http_reply_set(http_reply *rp, int status, json_t *body)
{
    json_decref(rp->body);
    rp->status = status;
    rp->body = body;
    if (status != HTTP_NO_CONTENT && !body) /* json_pack ran out of memory */
        rp->status = HTTP_INTERNAL_ERROR;
}

void http_reply_error(http_reply *rp, int status, const char *message)
{
    http_reply_set(rp, status, json_pack("{s:s, s:n}", "error", message, "sqlstate"));
}
