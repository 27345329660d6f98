/* db_errors.c - dbal codes to HTTP answers (see db_errors.h). */
#include "db_errors.h"

#include "log.h"

int db_error_status(int code)
{
    switch (code) {
    case DBAL_EUNIQUE:
    case DBAL_ECONSTRAINT:
    case DBAL_EFOREIGNKEY: return HTTP_CONFLICT;
    case DBAL_ECHECK:
    case DBAL_ENOTNULL:
    case DBAL_EDATA:
    case DBAL_ERANGE: return HTTP_UNPROCESSABLE;
    case DBAL_ECONNECT:
    case DBAL_ECONNLOST:
    case DBAL_ENOTREPLICATED:
    case DBAL_EPOOLTIMEOUT:
    case DBAL_EBUSY:
    case DBAL_ETIMEOUT:
    case DBAL_ECANCELED:
    case DBAL_ESERIALIZATION:
    case DBAL_EDEADLOCK: return HTTP_UNAVAILABLE;
    default: return HTTP_INTERNAL_ERROR;
    }
}

static const char *default_message(int status, int code)
{
    if (status == HTTP_UNAVAILABLE)
        return "database unavailable, try again later";
    if (status == HTTP_INTERNAL_ERROR)
        return "internal database error";
    return dbal_strerror(code); /* e.g. "check constraint violated" */
}

void db_error_reply(http_reply *rp, const http_request *rq, const dbal_error *err, const char *message)
{
    int status = db_error_status(err->code);
    if (status >= 500) /* dbal's messages never hold a password */
        log_line("%s %s: %s (%s, SQLSTATE %s)", rq->method, rq->path, err->message, dbal_code_name(err->code),
                 err->sqlstate[0] ? err->sqlstate : "-");
    json_t *body = json_pack("{s:s, s:s?, s:s}", "error",
                             message ? message : default_message(status, err->code), "sqlstate",
                             err->sqlstate[0] ? err->sqlstate : NULL, "code", dbal_code_name(err->code));
    http_reply_set(rp, status, body);
}
