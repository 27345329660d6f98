/*
 * The two policies of pg_policy.h, and the question that picks one.
 */
#include "pg_policy.h"

#include <stdlib.h>

const pg_policy pg_policy_direct = {
    .name = "direct",
    .named_statements = 1,
    .session_settings = 1,
};

/* Each transaction may run on another server session: no named
 * statements, no session-level SET. */
const pg_policy pg_policy_pooler = {
    .name = "pooler",
    .named_statements = 0,
    .session_settings = 0,
};

const pg_policy *pg_policy_probe(pg_wire *w, int check_ms)
{
    w->in_doubt = 0;
    w->check_ms = check_ms; /* part of connecting */
    PGresult *res = pg_wire_last(w, PQsendQuery(w->pg, "SELECT pg_backend_pid()"));
    w->check_ms = 0;
    const pg_policy *p = &pg_policy_direct;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        atoi(PQgetvalue(res, 0, 0)) != PQbackendPID(w->pg))
        p = &pg_policy_pooler;
    PQclear(res);
    return w->gave_up ? NULL : p;
}
