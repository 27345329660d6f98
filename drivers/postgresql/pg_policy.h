/*
 * What a connection may rely on, which depends on what is behind the URL:
 * the server itself, or a transaction pooler (PgBouncer in transaction
 * mode), which may run each transaction on another server session and hand
 * ours to another client in between. Decided once per engine, by its first
 * blocking connection (pg_policy_probe), and set on every connection when
 * it is made; the code that acts on a decision reads it here instead of
 * asking "is there a pooler?".
 *
 * Builds on the wire (pg_wire.h) only.
 */
#ifndef DBAL_PG_POLICY_H
#define DBAL_PG_POLICY_H

#include "pg_wire.h"

typedef struct pg_policy {
    const char *name; /* "direct" or "pooler" */
    /* Named prepared statements stay with this client: the statement
     * cache is kept (pg_conn_adopt), and the reset's statements are
     * prepared once and run by name (pg_reset.c). */
    int named_statements;
    /* A session-level SET stays with this client: the statement timeout
     * and read-only are set once for the session; otherwise for each
     * transaction, with SET LOCAL at BEGIN and a transaction of the
     * driver's own around a statement outside one (pg_settings.c). */
    int session_settings;
} pg_policy;

extern const pg_policy pg_policy_direct;
extern const pg_policy pg_policy_pooler;

/* Asks the server behind w, just connected, which one applies: a pooler
 * answers the startup with a cancel key of its own, so the backend pid
 * libpq was given is not the pid of the server session that runs the
 * statements. Waits at most check_ms (0: no bound); NULL when the server
 * did not answer within it (w is then given up). A question that fails
 * otherwise says "direct": a pooler missed then still shows itself by the
 * errors the statement layer recovers from (pg_stmt_recover,
 * pg_stmt_name_taken). */
const pg_policy *pg_policy_probe(pg_wire *w, int check_ms);

#endif
