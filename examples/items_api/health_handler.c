/* health_handler.c - GET /health: 200 when the database answers, else 503. */
#include "handlers.h"
#include "item_store.h"
#include "log.h"
#include "unit_of_work.h"

static int ping_unit(dbal_session *s, void *ctx)
{
    (void)ctx;
    return item_store_ping(s);
}

void handle_health(const app *a, const http_request *rq, http_reply *rp)
{
    dbal_error err;
    if (unit_of_work(a->db, rq->label, UNIT_READ_ONLY, ping_unit, NULL, &err) == DBAL_OK) {
        http_reply_set(rp, HTTP_OK,
                       json_pack("{s:s, s:s}", "status", "ok", "database", dbal_engine_driver(a->db)));
        return;
    }
    log_line("health check failed: %s (%s)", err.message, dbal_code_name(err.code));
    http_reply_set(rp, HTTP_UNAVAILABLE,
                   json_pack("{s:s, s:s?, s:s}", "error", "database unavailable", "sqlstate",
                             err.sqlstate[0] ? err.sqlstate : NULL, "code", dbal_code_name(err.code)));
}
