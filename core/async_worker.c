/*
 * Sessions of drivers without asynchronous slots (SQLite): a few worker
 * threads per context run the blocking API on the session underneath, one
 * op of a session at a time, and hand the outcome back through the
 * context's eventfd. They also finish checkouts that must connect or ping.
 */
#include "async.h"

#include "errors.h"

#define MAX_WORKERS ((int)(sizeof(((dbal_async *)0)->workers) / sizeof(pthread_t)))

static void run_op(dbal_async_op *op)
{
    dbal_session *s = op->as->s;
    dbal_params params = dbal_params_array(op->params, op->nparams);
    dbal_rows *r = NULL;
    int rc;
    switch (op->wire) {
    case DBAL_ASYNC_EXEC: rc = dbal_exec(s, op->sql, params, &op->affected); break;
    case DBAL_ASYNC_QUERY:
        rc = dbal_query(s, op->sql, params, &r);
        if (rc == DBAL_OK) {
            rc = dbal__rows_buffer(r, &op->dr);
            op->rows_m = &dbal__buffered_methods;
            dbal_rows_close(r);
        }
        break;
    case DBAL_ASYNC_BEGIN: rc = dbal_begin_with(s, op->options); break;
    case DBAL_ASYNC_COMMIT: rc = dbal_commit(s); break;
    default: rc = dbal_rollback(s); break;
    }
    op->code = rc;
    dbal__error_copy(&op->err, &s->err);
}

static void run_job(dbal_async_session *as)
{
    if (as->checkout == CO_FINISHING) {
        dbal__conn *conn = NULL;
        as->job_rc = dbal__pool_finish(as->pool, as->s->label, as->job_conn, as->job_slot, &conn,
                                       &as->s->err);
        as->job_conn = conn;
    } else {
        run_op(as->head);
    }
}

static void *worker(void *arg)
{
    dbal_async *a = arg;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (!a->jobs && !a->stopping)
            pthread_cond_wait(&a->work, &a->lock);
        if (a->stopping)
            break;
        dbal_async_session *as = a->jobs;
        a->jobs = as->jnext;
        if (!a->jobs)
            a->jobs_tail = NULL;
        pthread_mutex_unlock(&a->lock);
        run_job(as);
        pthread_mutex_lock(&a->lock);
        as->jnext = a->done;
        a->done = as;
        dbal__async_signal(a);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

void dbal__async_worker_submit(dbal_async_session *as)
{
    dbal_async *a = as->a;
    as->job = 1;
    as->jnext = NULL;
    pthread_mutex_lock(&a->lock);
    if (a->jobs_tail)
        a->jobs_tail->jnext = as;
    else
        a->jobs = as;
    a->jobs_tail = as;
    /* Threads are started as work needs them: a context used only with
     * PostgreSQL's pool warm has none. */
    int busy = 0;
    for (dbal_async_session *j = a->jobs; j; j = j->jnext)
        busy++;
    if (a->nworkers < MAX_WORKERS && busy > 0 &&
        pthread_create(&a->workers[a->nworkers], NULL, worker, a) == 0)
        a->nworkers++;
    pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->lock);
}

dbal_async_session *dbal__async_worker_done(dbal_async *a)
{
    pthread_mutex_lock(&a->lock);
    dbal_async_session *list = a->done, *rev = NULL;
    a->done = NULL;
    pthread_mutex_unlock(&a->lock);
    /* In the order they finished. */
    while (list) {
        dbal_async_session *next = list->jnext;
        list->jnext = rev;
        rev = list;
        list = next;
    }
    return rev;
}

void dbal__async_worker_cancel(dbal_async_op *op)
{
    if (op == op->as->head && op->state == OP_SENT) {
        op->interrupted = 1;
        dbal_session_cancel(op->as->s);
    }
}

dbal_async_session *dbal__async_worker_stop(dbal_async *a)
{
    pthread_mutex_lock(&a->lock);
    a->stopping = 1;
    dbal_async_session *unstarted = a->jobs;
    a->jobs = a->jobs_tail = NULL;
    pthread_cond_broadcast(&a->work);
    pthread_mutex_unlock(&a->lock);
    for (int i = 0; i < a->nworkers; i++)
        pthread_join(a->workers[i], NULL);
    a->nworkers = 0;
    return unstarted;
}
