/*
 * Transaction control at depth 0. Savepoints are plain SQL that the core
 * runs through exec.
 */
#include "pg_driver.h"

#include <stdio.h>
#include <string.h>

#define TX_ISOLATION (DBAL_TX_READ_COMMITTED | DBAL_TX_REPEATABLE_READ | DBAL_TX_SERIALIZABLE)
#define TX_ALL (TX_ISOLATION | DBAL_TX_READ_ONLY | DBAL_TX_DEFERRABLE)

static const char *isolation_name(unsigned iso)
{
    switch (iso) {
    case DBAL_TX_READ_COMMITTED: return "ISOLATION LEVEL READ COMMITTED";
    case DBAL_TX_REPEATABLE_READ: return "ISOLATION LEVEL REPEATABLE READ";
    default: return "ISOLATION LEVEL SERIALIZABLE";
    }
}

static void append(char *buf, size_t cap, const char **sep, const char *mode)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", *sep, mode);
    *sep = ", ";
}

int pg_begin_sql(unsigned options, int read_only, char *buf, size_t cap, dbal_error *err)
{
    unsigned iso = options & TX_ISOLATION;
    if (options & ~TX_ALL) {
        pg_host->set_error(err, DBAL_EUNSUPPORTED, NULL, 0, "unknown transaction options 0x%x",
                           options & ~TX_ALL);
        return DBAL_EUNSUPPORTED;
    }
    if (iso & (iso - 1)) {
        pg_host->set_error(err, DBAL_EINVAL, NULL, 0,
                           "more than one isolation level asked for (options 0x%x)", options);
        return DBAL_EINVAL;
    }
    const char *sep = " ";
    snprintf(buf, cap, "BEGIN");
    if (iso)
        append(buf, cap, &sep, isolation_name(iso));
    if (options & DBAL_TX_READ_ONLY || read_only)
        append(buf, cap, &sep, "READ ONLY");
    if (options & DBAL_TX_DEFERRABLE)
        append(buf, cap, &sep, "DEFERRABLE");
    return DBAL_OK;
}

int pg_begin(dbal_driver_conn *base, unsigned options, dbal_error *err)
{
    char sql[192];
    int rc = pg_begin_sql(options, ((pg_conn *)base)->settings.read_only, sql, sizeof sql, err);
    if (rc != DBAL_OK)
        return rc;
    size_t n = strlen(sql);
    pg_settings_begin((pg_conn *)base, sql + n, sizeof sql - n);
    return pg_simple((pg_conn *)base, sql, PGRES_COMMAND_OK, NULL, err);
}

int pg_commit(dbal_driver_conn *base, dbal_error *err)
{
    pg_wire *w = &((pg_conn *)base)->wire;
    PGresult *res = NULL;
    /* The commit may have ended its wait for the synchronous standby
     * early: it stands here, the standby may not have it. */
    int rc = pg_error_syncrep(w, pg_simple((pg_conn *)base, "COMMIT", PGRES_COMMAND_OK, &res, err), err);
    if (rc != DBAL_OK) {
        PQclear(res);
        return rc;
    }
    /* COMMIT of a failed transaction succeeds with the tag ROLLBACK. */
    int rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
    PQclear(res);
    if (rolled_back) {
        pg_host->set_error(err, DBAL_ETXFAILED, "25P02", 0,
                           "the transaction was rolled back because a statement in it failed");
        return DBAL_ETXFAILED;
    }
    return DBAL_OK;
}

int pg_rollback(dbal_driver_conn *base, dbal_error *err)
{
    pg_conn *c = (pg_conn *)base;
    int rc = pg_simple(c, "ROLLBACK", PGRES_COMMAND_OK, NULL, err);
    /* Given up on a server that did not answer: closing the connection
     * rolls the transaction back just as surely. */
    return c->wire.gave_up ? DBAL_OK : rc;
}
