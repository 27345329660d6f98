/*
 * db_errors.h - a database failure as an HTTP answer:
 *
 *   DBAL_EUNIQUE, DBAL_ECONSTRAINT, DBAL_EFOREIGNKEY      409
 *   DBAL_ECHECK, DBAL_ENOTNULL, DBAL_EDATA, DBAL_ERANGE   422
 *   DBAL_ECONNECT, DBAL_ECONNLOST, DBAL_ENOTREPLICATED,
 *   DBAL_EPOOLTIMEOUT, DBAL_EBUSY, DBAL_ETIMEOUT, DBAL_ECANCELED,
 *   DBAL_ESERIALIZATION, DBAL_EDEADLOCK (retries spent)   503
 *   anything else                                         500
 *
 * The body is {"error": message, "sqlstate": "23505" or null, "code": "DBAL_EUNIQUE"}.
 * 5xx answers carry a fixed message; the database's own goes to the log.
 */
#ifndef ITEMS_API_DB_ERRORS_H
#define ITEMS_API_DB_ERRORS_H

#include "http_types.h"

#include <dbal.h>

int db_error_status(int code);

/* Fills rp for the failure err of request rq; message NULL picks one by code. */
void db_error_reply(http_reply *rp, const http_request *rq, const dbal_error *err, const char *message);

#endif
