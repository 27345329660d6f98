/* The database file an engine opens. */
#include "sqlite_internal.h"

#include <string.h>

/* SQLite's reason ("unable to open database file") and the system's
 * ("No such file or directory"), with the path, each once. */
static void cannot_open(sq_engine *e, sqlite3 *db, int rc, dbal_error *err)
{
    int sys = db ? sqlite3_system_errno(db) : 0;
    char buf[128];
    const char *why = sys ? strerror_r(sys, buf, sizeof buf) : NULL;
    sq_host->set_error(err, DBAL_ECONNECT, "08001", rc, "cannot open SQLite database '%s': %s%s%s%s", e->path,
                       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), why ? " (" : "", why ? why : "",
                       why ? ")" : "");
}

int sq_open_file(sq_conn *c, dbal_error *err)
{
    sq_engine *e = c->engine;
    int rc = sqlite3_open_v2(e->uri, &c->db, e->flags, NULL);
    if (rc == SQLITE_OK)
        return DBAL_OK;
    cannot_open(e, c->db, rc, err);
    sqlite3_close_v2(c->db);
    c->db = NULL;
    return DBAL_ECONNECT;
}
