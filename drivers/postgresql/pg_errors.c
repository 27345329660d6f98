/*
 * Errors: libpq results and messages turned into dbal_error, with the
 * portable code from the SQLSTATE and every message on one line.
 */
#include "pg_wire.h"

#include <stdio.h>
#include <string.h>

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Writes msg to out (cap > 0 bytes) as one line: each line trimmed, blank
 * lines dropped, the rest joined with "; ". libpq's messages end with a
 * newline and continue on indented lines ("\tIs the server running..."). */
static void one_line(char *out, size_t cap, const char *msg)
{
    size_t o = 0;
    const char *p = msg;
    while (*p) {
        const char *e = strchr(p, '\n');
        if (!e)
            e = p + strlen(p);
        const char *b = p, *t = e;
        while (b < t && is_blank(*b))
            b++;
        while (t > b && is_blank(t[-1]))
            t--;
        if (t > b) {
            if (o > 0 && o + 2 < cap) {
                memcpy(out + o, "; ", 2);
                o += 2;
            }
            size_t n = (size_t)(t - b);
            if (n > cap - 1 - o)
                n = cap - 1 - o;
            memcpy(out + o, b, n);
            o += n;
        }
        p = *e ? e + 1 : e;
    }
    out[o] = '\0';
}

/* Returns s with every occurrence of secret replaced by "***", freeing s;
 * NULL (s freed too) when out of memory. */
static char *redact(char *s, const char *secret)
{
    size_t slen = strlen(secret), count = 0;
    for (const char *p = strstr(s, secret); p; p = strstr(p + slen, secret))
        count++;
    if (count == 0)
        return s;
    char *out = pg_host->malloc(strlen(s) - count * slen + count * 3 + 1);
    if (out) {
        char *o = out;
        const char *p = s, *hit;
        while ((hit = strstr(p, secret)) != NULL) {
            memcpy(o, p, (size_t)(hit - p));
            o += hit - p;
            memcpy(o, "***", 3);
            o += 3;
            p = hit + slen;
        }
        strcpy(o, p);
    }
    pg_host->free(s);
    return out;
}

static int is_secret_keyword(const char *key)
{
    return strcmp(key, "password") == 0 || strcmp(key, "sslpassword") == 0;
}

void pg_error_clean(dbal_error *err, int code, const char *sqlstate, const char *msg)
{
    char line[sizeof err->message];
    one_line(line, sizeof line, msg ? msg : "");
    pg_host->set_error(err, code, sqlstate, 0, "%s", line[0] ? line : "unknown PostgreSQL error");
}

void pg_error_redacted(dbal_error *err, int code, const char *sqlstate, const char *msg,
                       const char *const *keywords, const char *const *values)
{
    /* Redact the whole message before it is cut to fit: a cut could
     * otherwise leave the start of a password behind. */
    size_t cap = strlen(msg) * 2 + 1;
    char *s = pg_host->malloc(cap);
    if (s)
        one_line(s, cap, msg);
    for (size_t i = 0; s && keywords[i]; i++)
        if (is_secret_keyword(keywords[i]) && values[i][0])
            s = redact(s, values[i]);
    if (!s) {
        pg_host->set_error(err, code, sqlstate, 0,
                           "cannot connect to PostgreSQL (out of memory while reporting why)");
        return;
    }
    pg_host->set_error(err, code, sqlstate, 0, "%s", s[0] ? s : "unknown PostgreSQL error");
    pg_host->free(s);
}

static void set_constraint(dbal_error *err, const PGresult *res)
{
    const char *name = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    if (!name)
        return;
    size_t n = strlen(name);
    if (n >= sizeof err->constraint)
        n = sizeof err->constraint - 1;
    memcpy(err->constraint, name, n);
    err->constraint[n] = '\0';
}

/* The server's primary message, and its detail when there is one. */
static void server_message(char *out, size_t cap, const PGresult *res, const char *primary)
{
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    char both[1024];
    if (detail)
        snprintf(both, sizeof both, "%s; %s", primary, detail);
    else
        snprintf(both, sizeof both, "%s", primary);
    one_line(out, cap, both);
}

/* The connection is gone, or the server said FATAL or PANIC (shutdown,
 * terminated backend, idle session timeout): it ends the session after
 * such an error, even if libpq has not yet seen the socket close. */
static int session_over(const pg_wire *w, const PGresult *res)
{
    if (PQstatus(w->pg) == CONNECTION_BAD)
        return 1;
    const char *severity = res ? PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    return severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0);
}

/* DBAL_ECANCELED or DBAL_ETIMEOUT for an error with SQLSTATE 57014, which
 * PostgreSQL gives both: the driver remembers which one it asked for. */
static int canceled_code(pg_wire *w, const char *primary)
{
    if (atomic_exchange(&w->cancel_requested, 0))
        return DBAL_ECANCELED;
    /* Not ours: the statement timeout, unless someone else canceled it
     * (pg_cancel_backend). The message is only English by default. */
    if (w->timeout_ms > 0 || (primary && strstr(primary, "statement timeout")))
        return DBAL_ETIMEOUT;
    return DBAL_ECANCELED;
}

int pg_error_result(pg_wire *w, const PGresult *res, dbal_error *err)
{
    /* No result because the client stopped waiting for it. */
    if (!res && w->gave_up)
        return pg_wire_error(w, err);
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *fallback = res ? PQresultErrorMessage(res) : PQerrorMessage(w->pg);
    if (session_over(w, res)) {
        /* Whatever the server said last, the connection is gone: the pool
         * must discard it. */
        w->base.broken = 1;
        pg_error_clean(err, DBAL_ECONNLOST, "08006", primary ? primary : fallback);
        return DBAL_ECONNLOST;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int code = state ? pg_host->code_for_sqlstate(state) : DBAL_ERROR;
    if (state && strcmp(state, "57014") == 0)
        code = canceled_code(w, primary);
    if (primary) {
        char line[sizeof err->message];
        server_message(line, sizeof line, res, primary);
        pg_host->set_error(err, code, state, 0, "%s", line);
        set_constraint(err, res);
    } else {
        pg_error_clean(err, code, state, fallback);
    }
    return code;
}

int pg_error_syncrep(pg_wire *w, int rc, dbal_error *err)
{
    if (!w->syncrep[0])
        return rc;
    char state[6];
    memcpy(state, w->syncrep, sizeof state);
    w->syncrep[0] = '\0';
    if (rc != DBAL_OK && rc != DBAL_ECONNLOST)
        return rc;
    /* 57P01: the server's session was terminated during the wait; it
     * closes the connection after the commit. */
    int terminated = strcmp(state, "57P01") == 0;
    pg_host
        ->set_error(err, DBAL_ENOTREPLICATED, state, 0,
                    "the transaction committed on the primary, but its wait for the synchronous standby was "
                    "%s before the standby confirmed it: a failover may lose it%s",
                    terminated ? "ended by the termination of the server session" : "canceled",
                    w->base.broken || terminated ? "; the connection is closed" : "");
    return DBAL_ENOTREPLICATED;
}

int pg_wire_error(const pg_wire *w, dbal_error *err)
{
    *err = w->gave_up_err;
    return w->gave_up;
}

int pg_error_conn(pg_wire *w, dbal_error *err)
{
    return pg_error_result(w, NULL, err);
}

int pg_error_nomem(dbal_error *err)
{
    pg_host->set_error(err, DBAL_ENOMEM, NULL, 0, "out of memory");
    return DBAL_ENOMEM;
}

/* A server's errors read "SEVERITY:  XXXXX: text" at verbose verbosity, one
 * per host tried: the last one's. */
int pg_server_sqlstate(const char *msg, char out[6])
{
    int found = 0;
    for (const char *p = strstr(msg, ":  "); p; p = strstr(p + 1, ":  ")) {
        const char *s = p + 3;
        int ok = 1;
        for (int i = 0; i < 5 && ok; i++)
            ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z');
        if (ok && s[5] == ':' && s[6] == ' ') {
            memcpy(out, s, 5);
            out[5] = '\0';
            found = 1;
        }
    }
    return found;
}
