/*
 * The asynchronous API in a libuv loop: dbal's one descriptor is a
 * uv_poll_t; each query's callback queues the next one, so that 8 chains of
 * 25 queries run at once on the loop thread, next to a libuv timer that
 * keeps ticking (the loop is never blocked by the database).
 *
 *   DATABASE_URL=postgresql://... ./async_libuv
 *   ./async_libuv                      (sqlite::memory:)
 *
 * Prints "200 queries, 0 failed"; exits 1 on any failure.
 */
#include <dbal.h>

#include <stdio.h>
#include <uv.h>

enum { CHAINS = 8, PER_CHAIN = 25 };

static dbal_async *ctx;
static uv_poll_t poll_handle;
static uv_timer_t ticker;
static int done, failed, ticks;

typedef struct chain {
    int next; /* the next value to ask for */
} chain;

static void on_answer(void *userdata, const dbal_async_result *res);

static void ask(dbal_async_session *s, chain *c)
{
    if (dbal_async_query(s, "SELECT ? + 1000", DBAL_ARGS(dbal_int64(c->next)), on_answer, c, NULL) != DBAL_OK)
        failed++;
}

static void on_answer(void *userdata, const dbal_async_result *res)
{
    chain *c = userdata;
    if (res->code != DBAL_OK || dbal_rows_next(res->rows) != DBAL_ROW ||
        dbal_col_int64(res->rows, 0) != c->next + 1000) {
        fprintf(stderr, "query %d: %s\n", c->next, res->error->message);
        failed++;
    }
    done++;
    /* Callbacks may queue more work on their session. */
    if (++c->next % PER_CHAIN != 0)
        ask(res->session, c);
    else
        dbal_async_session_close(res->session);
}

static void stop_when_idle(void)
{
    if (dbal_async_pending(ctx) == 0) {
        uv_poll_stop(&poll_handle);
        uv_timer_stop(&ticker);
        uv_close((uv_handle_t *)&poll_handle, NULL);
        uv_close((uv_handle_t *)&ticker, NULL);
    }
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)h;
    (void)status;
    (void)events;
    dbal_async_process(ctx);
    stop_when_idle();
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    ticks++;
}

int main(void)
{
    dbal_engine *db;
    dbal_error err;
    if (dbal_engine_open_env(&db, "DATABASE_URL", "sqlite::memory:", &err) != DBAL_OK ||
        dbal_async_open(db, &ctx, &err) != DBAL_OK) {
        fprintf(stderr, "cannot open: %s\n", err.message);
        return 1;
    }
    uv_loop_t *loop = uv_default_loop();
    uv_poll_init(loop, &poll_handle, dbal_async_fd(ctx));
    uv_poll_start(&poll_handle, UV_READABLE, on_readable);
    uv_timer_init(loop, &ticker);
    uv_timer_start(&ticker, on_tick, 1, 1);

    static chain chains[CHAINS];
    for (int i = 0; i < CHAINS; i++) {
        dbal_async_session *s;
        if (dbal_async_session_open(ctx, &s, &err) != DBAL_OK)
            return 1;
        chains[i].next = i * PER_CHAIN;
        ask(s, &chains[i]);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);

    printf("%d queries, %d failed\n", done, failed);
    dbal_async_close(ctx);
    dbal_engine_close(db);
    return failed || done != CHAINS * PER_CHAIN ? 1 : 0;
}
