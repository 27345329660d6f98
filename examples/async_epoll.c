/*
 * The asynchronous API in a plain epoll loop: 100 point queries in flight
 * on one thread, over 4 sessions, then a transaction. The same program runs
 * on SQLite and PostgreSQL:
 *
 *   DATABASE_URL=postgresql://... ./async_epoll
 *   ./async_epoll                      (sqlite::memory:)
 *
 * It prints the sum of the answers and "committed 2 rows"; it exits 1 on
 * any failure.
 */
#include <dbal.h>

#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

static long long sum;
static int failures;

static void on_square(void *userdata, const dbal_async_result *res)
{
    long long i = (long long)(intptr_t)userdata;
    if (res->code != DBAL_OK) {
        fprintf(stderr, "query %lld: %s\n", i, res->error->message);
        failures++;
        return;
    }
    /* The rows are complete: read them as from any cursor. */
    while (dbal_rows_next(res->rows) == DBAL_ROW)
        sum += dbal_col_int64(res->rows, 0);
}

static void on_step(void *userdata, const dbal_async_result *res)
{
    if (res->code != DBAL_OK) {
        fprintf(stderr, "%s: %s (SQLSTATE %s)\n", (const char *)userdata, res->error->message,
                res->error->sqlstate);
        failures++;
    }
}

static void on_count(void *userdata, const dbal_async_result *res)
{
    (void)userdata;
    if (res->code == DBAL_OK && dbal_rows_next(res->rows) == DBAL_ROW)
        printf("committed %lld rows\n", (long long)dbal_col_int64(res->rows, 0));
    else
        failures++;
}

int main(void)
{
    dbal_engine *db;
    dbal_async *a;
    dbal_error err;
    if (dbal_engine_open_env(&db, "DATABASE_URL", "sqlite::memory:", &err) != DBAL_OK ||
        dbal_async_open(db, &a, &err) != DBAL_OK) {
        fprintf(stderr, "cannot open: %s\n", err.message);
        return 1;
    }

    /* The application's own loop watches one descriptor for dbal. */
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = dbal_async_fd(a)};
    epoll_ctl(ep, EPOLL_CTL_ADD, dbal_async_fd(a), &ev);

    /* 100 queries on 4 sessions, all queued at once. A session keeps its
     * connection until closed; closing it right away lets it finish its
     * queue and then give the connection back. */
    for (int s = 0; s < 4; s++) {
        dbal_async_session *as;
        if (dbal_async_session_open(a, &as, &err) != DBAL_OK)
            return 1;
        for (int i = s; i < 100; i += 4)
            dbal_async_query(as, "SELECT ? * ?", DBAL_ARGS(dbal_int64(i), dbal_int64(i)), on_square,
                             (void *)(intptr_t)i, NULL);
        dbal_async_session_close(as);
    }

    /* A unit of work: its steps are queued in order and run in order. */
    dbal_async_session *tx;
    dbal_async_session_open(a, &tx, &err);
    dbal_async_exec(tx, "CREATE TABLE IF NOT EXISTS async_demo(id INTEGER PRIMARY KEY, name TEXT)",
                    DBAL_NOARGS, on_step, "create", NULL);
    dbal_async_exec(tx, "DELETE FROM async_demo", DBAL_NOARGS, on_step, "delete", NULL);
    dbal_async_begin(tx, 0, on_step, "begin", NULL);
    dbal_async_exec(tx, "INSERT INTO async_demo(id, name) VALUES (?, ?), (?, ?)",
                    DBAL_ARGS(dbal_int64(1), dbal_text("widget"), dbal_int64(2), dbal_text("gadget")),
                    on_step, "insert", NULL);
    dbal_async_commit(tx, on_step, "commit", NULL);
    dbal_async_query(tx, "SELECT count(*) FROM async_demo", DBAL_NOARGS, on_count, NULL, NULL);
    dbal_async_exec(tx, "DROP TABLE async_demo", DBAL_NOARGS, on_step, "drop", NULL);
    dbal_async_session_close(tx);

    while (dbal_async_pending(a) > 0) {
        struct epoll_event got;
        if (epoll_wait(ep, &got, 1, 5000) < 0)
            break;
        dbal_async_process(a); /* does the ready I/O, calls the callbacks */
    }

    printf("sum of squares 0..99 = %lld\n", sum);
    close(ep);
    dbal_async_close(a);
    dbal_engine_close(db);
    return failures || sum != 328350 ? 1 : 0;
}
