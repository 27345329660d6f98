/*
 * The connection pool: at most pool_size + max_overflow connections, idle
 * ones reused most-recently-used first, waiters served in arrival order and
 * for at most pool_timeout seconds.
 */
#ifndef DBAL_CORE_POOL_H
#define DBAL_CORE_POOL_H

#include "url.h"

#include <dbal/driver.h>
#include <pthread.h>
#include <string.h>

#define DBAL__LABEL_LEN 64

typedef struct dbal__conn {
    struct dbal__conn *next;         /* in the idle list */
    struct dbal__conn *uprev, *unext; /* in the in-use list, for leak reports */
    dbal_driver_conn *dc;
    double created;      /* monotonic seconds */
    double last_used;    /* monotonic seconds of the last successful use */
    double checked_out;  /* when the current holder took it */
    int leak_reported;
    int timeout_ms;      /* the statement timeout the driver has now */
    char label[DBAL__LABEL_LEN]; /* the holder's label */
} dbal__conn;

/* Copies a session label (NULL: none), cut to fit: on every checkout, so
 * without snprintf, which cost a third of a pooled session's overhead. */
static inline void dbal__label_copy(char dst[DBAL__LABEL_LEN], const char *label)
{
    size_t n = label ? strnlen(label, DBAL__LABEL_LEN - 1) : 0;
    if (n)
        memcpy(dst, label, n);
    dst[n] = '\0';
}

typedef struct dbal__waiter dbal__waiter;

typedef struct dbal__pool {
    pthread_mutex_t lock;
    const dbal_driver *driver;
    void *driver_ctx;
    dbal__engine_opts opts;
    dbal__conn *idle;   /* most recently returned first */
    int nidle;
    int nopen;          /* connections open or being opened */
    dbal__waiter *wait_head, *wait_tail;
    int nwaiting;
    int closing;
    dbal__conn *in_use; /* checked-out connections, most recent first */
    dbal_engine_stats stats;
    dbal_event_fn hook;
    void *hook_userdata;
} dbal__pool;

int dbal__pool_init(dbal__pool *p, const dbal_driver *d, void *ctx, const dbal__engine_opts *o);
/* Closes idle connections and fails waiters; connections in use are closed
 * when they come back. */
void dbal__pool_shutdown(dbal__pool *p);
void dbal__pool_destroy(dbal__pool *p);

/* Takes a connection: an idle one (checked per pool_recycle and
 * pool_pre_ping), a new one while under the limit, or one given back within
 * pool_timeout. Returns DBAL_OK, DBAL_EPOOLTIMEOUT, DBAL_ECONNECT, ... */
int dbal__pool_checkout(dbal__pool *p, const char *label, dbal__conn **out, dbal_error *err);
/* Gives a connection back; a broken one, or one over pool_size, is closed. */
void dbal__pool_return(dbal__pool *p, dbal__conn *c);

void dbal__pool_stats(dbal__pool *p, dbal_engine_stats *out);
/* Logs every connection held past leak_detection_threshold (each once). */
void dbal__pool_report_leaks(dbal__pool *p, int all);

double dbal__now(void);

#endif
