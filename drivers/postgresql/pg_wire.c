/*
 * Waiting for the server, bounded. libpq's blocking calls (PQexec,
 * PQgetResult, PQprepare, ...) wait as long as the server takes, and a hung
 * server (a stopped process, a frozen host whose kernel still answers TCP)
 * takes forever. So the driver keeps its connections in libpq's
 * non-blocking mode, sends with the PQsend* functions and waits here:
 * poll() on the socket, and only when PQisBusy says the answer is not there
 * yet, so that a result already read costs no system call.
 *
 * A wait ends without an answer when the server has sent nothing for the
 * connection's bound (bound_ms): the statement timeout plus
 * DBAL_TIMEOUT_GRACE_MS when a timeout is set, since the server then answers
 * on its own within the timeout, error or not; connect_timeout during the
 * driver's own health check; never otherwise, as with libpq. Anything the
 * server sends restarts the count: rows streaming, one batch's results
 * after another, are signs of life.
 *
 * Over TLS, bytes already decrypted but not yet taken by libpq are
 * invisible to poll(): libpq's own blocking wait asks TLS for them, and so
 * does this one (tls_pending). (PostgreSQL's TLS records are at most 8 kB,
 * which libpq always takes in one read; a server sending larger ones would
 * otherwise leave some behind.)
 *
 * Then the client gives the connection up (pg_wire_give_up): marked broken,
 * its socket shut down, and every later call on it fails at once with the
 * same error. The code says whether the server can still apply what it was
 * sent: DBAL_ETIMEOUT when it cannot (a statement inside a transaction block,
 * not its COMMIT: the server rolls the block back when it finds the
 * connection gone), DBAL_ECONNLOST, outcome unknown, when it can (an
 * autocommit statement, a COMMIT).
 */
#include "pg_wire.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The only mutable global: set once by the entry point (pg_driver.c),
 * before the core calls anything else. */
const dbal_host *pg_host;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How long a wait may go without a word from the server, in ms; -1: no
 * bound. */
static int bound_ms(const pg_wire *w)
{
    if (w->check_ms > 0)
        return w->check_ms;
    if (w->timeout_ms <= 0)
        return -1;
    /* A timeout near INT_MAX ms (24 days) must not overflow with the grace. */
    return w->timeout_ms > INT_MAX - DBAL_TIMEOUT_GRACE_MS ? INT_MAX : w->timeout_ms + DBAL_TIMEOUT_GRACE_MS;
}

/* OpenSSL's, the only TLS library libpq 15 can use; weak, so that the
 * driver loads with a libpq built without it (there is then no TLS). */
extern int SSL_pending(const void *ssl) __attribute__((weak));

/* Whether TLS holds decrypted bytes libpq has not read yet. */
static int tls_pending(const pg_wire *w)
{
    if (!SSL_pending || !PQsslInUse(w->pg))
        return 0;
    void *ssl = PQsslStruct(w->pg, "OpenSSL");
    return ssl && SSL_pending(ssl) > 0;
}

/* One poll() of the socket for events: 1 when something happened (*revents),
 * 0 when ms (-1: no bound) passed in silence, -1 when there is no socket to
 * wait on (libpq then reports the failure itself, without blocking). */
static int wait_socket_ms(pg_wire *w, short events, short *revents, int ms)
{
    int fd = PQsocket(w->pg);
    if (fd < 0)
        return -1;
    if ((events & POLLIN) && tls_pending(w)) {
        *revents = POLLIN; /* readable, though the socket is not */
        return 1;
    }
    double end = ms >= 0 ? now() + ms / 1e3 : 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, ms);
        if (n > 0) {
            *revents = p.revents;
            return 1;
        }
        if (n == 0 || errno != EINTR)
            return 0;
        if (ms >= 0) {
            double left = end - now();
            ms = left <= 0 ? 0 : left * 1e3 >= INT_MAX - 1 ? INT_MAX : (int)(left * 1e3) + 1;
        }
    }
}

static int wait_socket(pg_wire *w, short events, short *revents)
{
    return wait_socket_ms(w, events, revents, bound_ms(w));
}

/*
 * A command that commits goes on after the server has turned its
 * statement timeout off: the commit's wait for a synchronous standby (and
 * deferred constraints) is bounded by nothing on the server, and a standby
 * that does not answer keeps it waiting for good, committed here but not
 * visible, holding its locks, even after the client has gone. So once such
 * a command has been silent for the statement timeout, the driver cancels
 * it itself, and waits the grace for the answer: the server then ends the
 * wait with a WARNING and the commit's success (DBAL_ENOTREPLICATED, see
 * pg_error_syncrep), or fails a deferred constraint's work
 * (DBAL_ETIMEOUT). The bound stays the statement timeout plus the grace.
 * Returns what wait_socket would have: 0 when both passed in silence.
 */
static int wait_commit(pg_wire *w, short events, short *revents)
{
    if (!w->in_doubt || w->cancel_sent || w->check_ms > 0 || w->timeout_ms <= 0)
        return wait_socket(w, events, revents);
    /* A quarter of the grace first: the server's own statement_timeout
     * (the same value) ends a statement that is still running, and a
     * second cancel racing it could arrive after it, at the next command. */
    int margin = DBAL_TIMEOUT_GRACE_MS / 4;
    int first = w->timeout_ms > INT_MAX - margin ? INT_MAX : w->timeout_ms + margin;
    int r = wait_socket_ms(w, events, revents, first);
    if (r != 0)
        return r;
    w->cancel_sent = 1;
    pg_cancel_send(w);
    return wait_socket_ms(w, events, revents, DBAL_TIMEOUT_GRACE_MS - margin);
}

static int give_up(pg_wire *w, dbal_error *err)
{
    char why[96];
    if (w->check_ms > 0)
        snprintf(why, sizeof why, "connect_timeout");
    else
        snprintf(why, sizeof why, "statement timeout %d ms + %d ms grace", w->timeout_ms,
                 DBAL_TIMEOUT_GRACE_MS);
    return pg_wire_give_up(w, bound_ms(w), why, err);
}

int pg_wire_give_up(pg_wire *w, int waited_ms, const char *why, dbal_error *err)
{
    if (!w->gave_up) {
        /* libpq's own calls on the connection now fail at once instead of
         * waiting (PQfinish's goodbye too); the descriptor itself is closed
         * with the connection, which the core discards. */
        pg_wire_shutdown(w);
        w->base.broken = 1;
        w->gave_up = w->in_doubt ? DBAL_ECONNLOST : DBAL_ETIMEOUT;
        pg_host->set_error(&w->gave_up_err, w->gave_up, w->in_doubt ? "08006" : "57014", 0,
                           "the client gave up after %d ms without an answer from the server (%s) and closed "
                           "the connection; %s",
                           waited_ms, why,
                           w->in_doubt ? "the outcome is unknown: the server may still apply the statement"
                                       : "the statement was not applied: the server rolls its transaction "
                                         "back when it finds the connection closed");
    }
    return pg_wire_error(w, err);
}

/* Waits while libpq says PQgetResult would block (the caller has just
 * seen PQisBusy say so). */
static int wait_busy(pg_wire *w, dbal_error *err)
{
    do {
        /* A large command may not have gone out whole: the rest is sent as
         * the server reads it. */
        int pending = PQflush(w->pg);
        if (pending < 0)
            return DBAL_OK; /* a failure is reported by the result libpq makes of it */
        short ev = 0;
        int r = wait_commit(w, (short)(POLLIN | (pending ? POLLOUT : 0)), &ev);
        if (r == 0)
            return give_up(w, err);
        if (r < 0 || ((ev & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(w->pg)))
            return DBAL_OK;
    } while (PQisBusy(w->pg));
    return DBAL_OK;
}

int pg_wire_wait(pg_wire *w, dbal_error *err)
{
    if (w->gave_up)
        return pg_wire_error(w, err);
    return PQisBusy(w->pg) ? wait_busy(w, err) : DBAL_OK;
}

int pg_wire_flush(pg_wire *w, dbal_error *err)
{
    if (w->gave_up)
        return pg_wire_error(w, err);
    int pending;
    while ((pending = PQflush(w->pg)) > 0) {
        short ev = 0;
        int r = wait_socket(w, POLLIN | POLLOUT, &ev);
        if (r == 0)
            return give_up(w, err);
        /* The server may answer while we send (an error ending a COPY). */
        if (r < 0 || ((ev & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(w->pg)))
            break;
    }
    return pending == 0 ? DBAL_OK : pg_error_conn(w, err);
}

PGresult *pg_wire_result(pg_wire *w)
{
    dbal_error ignored;
    return pg_wire_wait(w, &ignored) == DBAL_OK ? PQgetResult(w->pg) : NULL;
}

static int is_copy(ExecStatusType st)
{
    return st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH;
}

static int is_error(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE;
}

PGresult *pg_wire_last(pg_wire *w, int sent)
{
    if (!sent)
        return NULL;
    PGresult *keep = NULL, *res;
    while ((res = pg_wire_result(w)) != NULL) {
        if (is_copy(PQresultStatus(res))) {
            PQclear(keep); /* the connection now waits for COPY data: stop here */
            return res;
        }
        if (keep && is_error(keep)) {
            PQclear(res);
        } else {
            PQclear(keep);
            keep = res;
        }
    }
    if (w->gave_up) {
        PQclear(keep);
        return NULL;
    }
    return keep;
}

/* A COPY started by the application's SQL would leave libpq waiting for
 * data forever: end it, so that the connection stays usable. */
static void end_copy(pg_wire *w, ExecStatusType st)
{
    if (st != PGRES_COPY_OUT) {
        PQputCopyEnd(w->pg, "COPY is not supported by dbal"); /* sent by the next wait */
        return;
    }
    char *buf;
    int n;
    while ((n = PQgetCopyData(w->pg, &buf, 1)) >= 0) {
        if (n > 0) {
            PQfreemem(buf);
            continue;
        }
        short ev = 0;
        int r = wait_socket(w, POLLIN, &ev);
        if (r == 0) {
            dbal_error ignored;
            give_up(w, &ignored);
            return;
        }
        if (r < 0 || !PQconsumeInput(w->pg))
            return;
    }
}

void pg_wire_drain(pg_wire *w)
{
    PGresult *res;
    while ((res = pg_wire_result(w)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        if (is_copy(st))
            end_copy(w, st);
    }
}

int pg_wire_command(pg_wire *w, const char *sql, ExecStatusType want, PGresult **out, dbal_error *err)
{
    /* The driver's own commands apply nothing but a COMMIT. */
    w->in_doubt = pg_wire_ends_tx(sql);
    w->cancel_sent = 0;
    PGresult *res = pg_wire_last(w, PQsendQuery(w->pg, sql));
    if (PQresultStatus(res) != want) {
        int rc = pg_error_result(w, res, err);
        PQclear(res);
        return rc == DBAL_OK ? DBAL_ERROR : rc;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return DBAL_OK;
}

/* Whether sql begins with word, as a whole word, in any case. */
static int starts_with(const char *sql, const char *word)
{
    size_t n = strlen(word);
    char next = sql[n];
    return strncasecmp(sql, word, n) == 0 && !(next == '_' || (next >= '0' && next <= '9') ||
                                               (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z'));
}

int pg_wire_ends_tx(const char *sql)
{
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r')
        sql++;
    /* PREPARE TRANSACTION makes the block durable; a plain PREPARE is
     * taken for one too, which only costs a more careful answer. The first
     * letter settles most statements: this runs for every asynchronous one. */
    switch (*sql | 0x20) {
    case 'c': return starts_with(sql, "COMMIT");
    case 'e': return starts_with(sql, "END");
    case 'p': return starts_with(sql, "PREPARE");
    default: return 0;
    }
}

int pg_wire_in_doubt(const pg_wire *w, const char *sql)
{
    PGTransactionStatusType ts = PQtransactionStatus(w->pg);
    return !(ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) || pg_wire_ends_tx(sql);
}
