/*
 * A connection's life on the wire, around the waits of pg_wire.c: its
 * set-up once connected, the server's notices, its close (also in a forked
 * child), and the looks at its socket that need no round trip.
 */
#include "pg_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Whether a notice is the WARNING with which PostgreSQL ends a commit's
 * wait for the synchronous standby (a cancel: 01000; the session
 * terminated: 57P01, then the connection closes): the commit stands on
 * this server, the standby may not have it. Its SQLSTATE is the generic
 * one and its text is translated with lc_messages, so it is known by the
 * place the server raised it, which every server since 9.1 reports in
 * every language: the function SyncRepWaitForLSN of syncrep.c. Without
 * that place (a proxy that drops the field): by the English text, or as a
 * WARNING that came while a command that commits waited after a cancel.
 */
static int is_syncrep_warning(const pg_wire *w, const PGresult *res)
{
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (!severity || strcmp(severity, "WARNING") != 0)
        return 0;
    const char *function = PQresultErrorField(res, PG_DIAG_SOURCE_FUNCTION);
    const char *file = PQresultErrorField(res, PG_DIAG_SOURCE_FILE);
    if (function || file)
        return (function && strcmp(function, "SyncRepWaitForLSN") == 0) ||
               (file && strcmp(file, "syncrep.c") == 0);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (primary && strstr(primary, "wait for synchronous replication"))
        return 1;
    return w->in_doubt && (w->cancel_sent || atomic_load(&w->cancel_requested));
}

/* libpq prints notices (WARNING, NOTICE) to stderr by default; a library
 * must not write to the application's stderr. A FATAL one that comes while
 * the connection is idle is the server's goodbye (pg_check); the one that
 * ends a wait for the synchronous standby changes the command's outcome. */
static void on_notice(void *arg, const PGresult *res)
{
    pg_wire *w = arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0))
        w->notice_fatal = 1;
    if (is_syncrep_warning(w, res)) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        snprintf(w->syncrep, sizeof w->syncrep, "%s", state && strlen(state) == 5 ? state : "01000");
    }
}

void pg_wire_init(pg_wire *w, PGconn *pg)
{
    w->pg = pg;
    w->timeout_ms = -1; /* never asked for: the server's own setting */
    w->pid = getpid();
    atomic_init(&w->cancel_requested, 0);
}

int pg_wire_setup(pg_wire *w)
{
    w->canceller = pg_canceller_new(w->pg);
    if (!w->canceller)
        return DBAL_ENOMEM;
    PQsetNoticeReceiver(w->pg, on_notice, w);
    /* For good: every wait for the server is pg_wire.c's, bounded. It
     * fails only when libpq cannot flush what it holds, which a connection
     * just made does not: one that did would be of no use. */
    if (PQsetnonblocking(w->pg, 1) != 0)
        w->base.broken = 1;
    return DBAL_OK;
}

/*
 * In a forked child the socket is also the parent's: PQfinish would send
 * Terminate on it (over SSL, a close_notify alert first), ending the
 * parent's server session. A fresh, unconnected socket takes the
 * descriptor's place first, atomically (dup3: no other thread can get the
 * number meanwhile), so libpq's goodbye fails harmlessly and the parent's
 * socket stays open in the parent. Returns 0 when that cannot be done (no
 * descriptor to spare): the PGconn must then be left alone, leaked.
 */
static int detach_from_parent(PGconn *pg)
{
    int fd = PQsocket(pg);
    if (fd < 0)
        return 1;
    int blank = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (blank < 0)
        return 0;
    int rc;
    while ((rc = dup3(blank, fd, O_CLOEXEC)) < 0 && (errno == EINTR || errno == EBUSY))
        ;
    close(blank);
    return rc == fd;
}

void pg_wire_close(pg_wire *w)
{
    pg_canceller_release(w->canceller); /* never waits: it may run on an event loop */
    if (w->pid == getpid() || detach_from_parent(w->pg))
        PQfinish(w->pg);
}

void pg_wire_shutdown(pg_wire *w)
{
    int fd = PQsocket(w->pg);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

int pg_wire_readable_within(pg_wire *w, double seconds)
{
    int unsent = PQflush(w->pg) > 0;
    struct pollfd pfd = {.fd = PQsocket(w->pg), .events = POLLIN | (unsent ? POLLOUT : 0)};
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        double left = seconds - ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9);
        if (left < 0)
            left = 0;
        int n = poll(&pfd, 1, (int)(left * 1000));
        if (n > 0 || (n < 0 && errno != EINTR))
            return 1; /* an error is for PQconsumeInput to report */
        if (n == 0)
            return 0;
    }
}

/* The server has nothing to say to a client that asked nothing but a
 * goodbye (a FATAL error, then EOF: a restart, pg_terminate_backend,
 * idle_session_timeout) or a notification. A poll(), and a read that does
 * not block (libpq's socket never blocks), whose bytes PQisBusy parses (a
 * FATAL goes to on_notice). The goodbye may already sit in libpq's buffer,
 * read with a reset's answer. */
int pg_wire_closed_while_idle(pg_wire *w)
{
    struct pollfd pfd = {.fd = PQsocket(w->pg), .events = POLLIN | POLLRDHUP};
    if (pfd.fd < 0)
        return 1;
    if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)))
        return 1;
    if (!PQconsumeInput(w->pg))
        return 1;
    PQisBusy(w->pg);
    return PQstatus(w->pg) != CONNECTION_OK || w->notice_fatal;
}
