/*
 * Cancel requests, which never block the caller. PQcancel opens a
 * connection of its own to the server, sends the request and waits until
 * the server closes that connection: a hung server never does, and the
 * caller (dbal_session_cancel holding the session's lock, or the
 * asynchronous API's loop) would wait with it. So the request is sent by a
 * detached thread of the driver's, and pg_cancel returns at once.
 *
 * The thread outlives nothing it needs: it holds a reference to the cancel
 * handle, which the connection shares (pg_canceller), so a connection may
 * be closed while its cancel is still on the way. At most one request per
 * connection is on the way at a time: asking again meanwhile only marks the
 * statement as canceled, since the request already sent interrupts the same
 * statement. Against a server that stays hung, that one thread waits as
 * long as the server does.
 */
#include "pg_wire.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

struct pg_canceller {
    PGcancel *cancel;
    atomic_int refs;    /* the connection's, and the thread's while one runs */
    atomic_int sending; /* a thread is sending a request */
    atomic_llong since; /* when it began (CLOCK_MONOTONIC, ms) */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pg_canceller *pg_canceller_new(PGconn *pg)
{
    pg_canceller *k = pg_host->malloc(sizeof *k);
    if (!k)
        return NULL;
    k->cancel = PQgetCancel(pg);
    if (!k->cancel) {
        pg_host->free(k);
        return NULL;
    }
    atomic_init(&k->refs, 1);
    atomic_init(&k->sending, 0);
    atomic_init(&k->since, 0);
    return k;
}

void pg_canceller_release(pg_canceller *k)
{
    if (k && atomic_fetch_sub(&k->refs, 1) == 1) {
        PQfreeCancel(k->cancel);
        pg_host->free(k);
    }
}

/* Requests on their way in this process (its threads: a forked child has
 * none of them). */
static atomic_int requests_on_way;
static atomic_int requests_pid;

/* A request still on its way when the process exits is cut short, and
 * reaches a pooler as a half-made connection (PgBouncer 1.18 exits on
 * that: "bad client state"). So the exit, not the close of a connection,
 * gives such requests a moment to finish (a few milliseconds from a live
 * server); bounded, so that a hung server costs at most that moment. */
#define CANCEL_GRACE_MS 50

__attribute__((destructor)) static void let_requests_finish(void)
{
    if (atomic_load(&requests_pid) != (int)getpid())
        return;
    for (int i = 0; i < CANCEL_GRACE_MS && atomic_load(&requests_on_way) > 0; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* A request still on its way when the next command goes out could reach
 * the server while that command runs, and interrupt it instead of the one
 * it was meant for (the server ignores a cancel between commands). So a
 * blocking command first lets it arrive: PQcancel returns once the server
 * has signalled its backend. Bounded, for a server that does not answer
 * the request. */
int pg_cancel_settle(pg_wire *w)
{
    pg_canceller *k = w->canceller;
    for (int i = 0; k && i < DBAL_TIMEOUT_GRACE_MS && atomic_load(&k->sending); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return !pg_cancel_in_flight(w);
}

int pg_cancel_in_flight(const pg_wire *w)
{
    return w->canceller && atomic_load(&w->canceller->sending);
}

/* The asynchronous path cannot wait as pg_cancel_settle does: its next
 * command is held back instead, for as long as the blocking path would
 * wait, and then sent all the same. */
int pg_cancel_holds(const pg_wire *w)
{
    return pg_cancel_in_flight(w) && now_ms() - atomic_load(&w->canceller->since) < DBAL_TIMEOUT_GRACE_MS;
}

static void *send_request(void *arg)
{
    pg_canceller *k = arg;
    char errbuf[256];
    /* A request that fails changes nothing: the statement runs on, as if
     * it had come too late. */
    PQcancel(k->cancel, errbuf, (int)sizeof errbuf);
    atomic_store(&k->sending, 0);
    pg_canceller_release(k);
    atomic_fetch_sub(&requests_on_way, 1);
    return NULL;
}

int pg_cancel(dbal_driver_conn *base)
{
    pg_wire *w = (pg_wire *)base;
    if (!w || !w->canceller)
        return DBAL_ERROR;
    atomic_store(&w->cancel_requested, 1);
    return pg_cancel_send(w);
}

int pg_cancel_send(pg_wire *w)
{
    if (!w->canceller)
        return DBAL_ERROR;
    pg_canceller *k = w->canceller;
    int idle = 0;
    if (!atomic_compare_exchange_strong(&k->sending, &idle, 1))
        return DBAL_OK; /* the request on its way interrupts the same statement */
    atomic_store(&k->since, now_ms());
    atomic_fetch_add(&k->refs, 1);
    atomic_store(&requests_pid, (int)getpid());
    atomic_fetch_add(&requests_on_way, 1);
    pthread_attr_t attr;
    pthread_t t;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&t, &attr, send_request, k);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        atomic_store(&k->sending, 0);
        pg_canceller_release(k);
        atomic_fetch_sub(&requests_on_way, 1);
        return DBAL_ERROR;
    }
    return DBAL_OK;
}
