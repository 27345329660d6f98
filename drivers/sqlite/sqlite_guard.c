/*
 * Settings dbal keeps on every connection, which the application's SQL may
 * read but not change: query_only, which makes read-only sessions and
 * transactions read-only (a statement could otherwise lift it, or leave a
 * pooled connection read-only for the next session), and busy_timeout,
 * whose PRAGMA would replace dbal's busy handler, the one that honours
 * cancel and the statement timeout, with SQLite's.
 *
 * SQLite's authorizer refuses them while the application's SQL is
 * prepared; dbal's own statements run with the guard down. It is asked at
 * prepare time only, so a cached statement costs nothing.
 */
#include "sqlite_internal.h"

#include <limits.h>

#include <strings.h>

static const char query_only_refused[] =
    "PRAGMA query_only cannot be set by a statement: dbal sets it for read-only sessions and transactions "
    "(DBAL_SESSION_READ_ONLY, DBAL_TX_READ_ONLY) and lifts it itself";
static const char busy_timeout_refused[] =
    "PRAGMA busy_timeout cannot be set by a statement: set busy_timeout in the URL (the PRAGMA would replace "
    "dbal's busy handler, which honours cancel and timeouts)";

static int authorize(void *p, int action, const char *name, const char *value, const char *db,
                     const char *trigger)
{
    sq_conn *c = p;
    (void)db;
    (void)trigger;
    if (!c->guard || action != SQLITE_PRAGMA || !value)
        return SQLITE_OK;
    if (strcasecmp(name, "query_only") == 0)
        c->refused = query_only_refused;
    else if (strcasecmp(name, "busy_timeout") == 0)
        c->refused = busy_timeout_refused;
    else
        return SQLITE_OK;
    return SQLITE_DENY;
}

void sq_guard_install(sq_conn *c)
{
    sqlite3_set_authorizer(c->db, authorize, c);
}

int sq_prepare_guarded(sq_conn *c, const char *sql, size_t len, unsigned flags, sqlite3_stmt **st,
                       const char **tail, dbal_error *err)
{
    c->guard = 1;
    c->refused = NULL;
    /* sql ends with a NUL (its length came from strlen): past INT_MAX the
     * int length would wrap, so SQLite reads to the NUL instead and refuses
     * the text itself (SQLITE_TOOBIG past its 1 GB SQL limit). */
    int rc = sqlite3_prepare_v3(c->db, sql, len < INT_MAX ? (int)len + 1 : -1, flags, st, tail);
    c->guard = 0;
    if (rc == SQLITE_OK)
        return DBAL_OK;
    if (!c->refused)
        return sq_error(c->db, rc, err);
    sq_host->set_error(err, DBAL_EPERM, "42501", rc, "%s", c->refused);
    return DBAL_EPERM;
}
