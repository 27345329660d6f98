/*
 * batch.c - dbal_exec_batch and dbal_exec_batch_fn: every row in, a failing
 * row reported and the batch undone, inside a caller's transaction too.
 */
#include "cases.h"
#include "fixture.h"

/* Batches: all rows in, affected counted; a failing row reported and the
 * whole batch undone; inside a caller's transaction the failure fails it. */
void batch_array(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_batch", "id BIGINT PRIMARY KEY, name TEXT NOT NULL, price DOUBLE PRECISION");
    enum { N = 2000 };
    static dbal_value rows[N * 3];
    static char names[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "item-%d", i);
        rows[i * 3] = dbal_int64(i + 1);
        rows[i * 3 + 1] = dbal_text(names[i]);
        rows[i * 3 + 2] = i % 7 ? dbal_double(i * 0.5) : dbal_null();
    }
    int64_t n = -7;
    size_t failed = 12345;
    EXPECT_RC(f->s,
              dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name, price) VALUES (?, ?, ?)", rows, 3, N,
                              &n, &failed),
              DBAL_OK);
    EXPECT_I64(n, N);
    EXPECT_I64(failed, (int64_t)(size_t)-1);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch", DBAL_NOARGS), N);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch WHERE price IS NULL", DBAL_NOARGS),
               (N + 6) / 7);
    EXPECT_I64(SCALAR(f->s, "SELECT id AS v FROM conf_batch WHERE name = 'item-1999'", DBAL_NOARGS), 2000);
    EXPECT_RC(f->s, dbal_tx_depth(f->s), 0); /* its own transaction ended */

    /* A duplicate at row 700: nothing of this batch stays. */
    for (int i = 0; i < N; i++)
        rows[i * 3] = dbal_int64(N + 1 + i);
    rows[700 * 3] = dbal_int64(5);
    EXPECT_RC(f->s,
              dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name, price) VALUES (?, ?, ?)", rows, 3, N,
                              &n, &failed),
              DBAL_EUNIQUE);
    EXPECT_ERR(f->s, DBAL_EUNIQUE, "23505");
    EXPECT_I64(failed, 700);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch", DBAL_NOARGS), N);

    /* Inside the caller's transaction: the failure fails the transaction. */
    EXPECT_RC(f->s, dbal_begin(f->s), DBAL_OK);
    EXEC_OK(f->s, "INSERT INTO conf_batch(id, name) VALUES (999999, 'before')", DBAL_NOARGS);
    EXPECT_RC(f->s,
              dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name, price) VALUES (?, ?, ?)", rows, 3, N,
                              &n, &failed),
              DBAL_EUNIQUE);
    EXPECT_I64(failed, 700);
    EXPECT_RC(f->s, dbal_exec(f->s, "SELECT 1", DBAL_NOARGS, NULL), DBAL_ETXFAILED);
    EXPECT_RC(f->s, dbal_rollback(f->s), DBAL_OK);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch", DBAL_NOARGS), N);

    /* A placeholder count that does not match: nothing sent, nothing failed. */
    EXPECT_RC(f->s,
              dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name) VALUES (?, ?)", rows, 3, 2, &n,
                              &failed),
              DBAL_EMISUSE);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batch", DBAL_NOARGS), N);
    /* An empty batch is fine. */
    EXPECT_RC(f->s,
              dbal_exec_batch(f->s, "INSERT INTO conf_batch(id, name, price) VALUES (?, ?, ?)", rows, 3, 0,
                              &n, &failed),
              DBAL_OK);
    EXPECT_I64(n, 0);
}

typedef struct {
    int produced;
    int limit;
    int fail_at;
    char name[32];
} batch_gen;

static int generate_row(void *userdata, size_t row, dbal_value *values)
{
    batch_gen *g = userdata;
    if ((int)row == g->fail_at)
        return DBAL_EINVAL;
    if ((int)row >= g->limit)
        return DBAL_DONE;
    snprintf(g->name, sizeof g->name, "gen-%zu", row);
    values[0] = dbal_int64((int64_t)row);
    values[1] = dbal_text(g->name); /* valid until the next call, as promised */
    g->produced++;
    return DBAL_OK;
}

void batch_callback(void **state)
{
    fixture *f = fix(state);
    CREATE_TABLE(f, "conf_batchfn", "id BIGINT PRIMARY KEY, name TEXT NOT NULL");
    batch_gen g = {.limit = 5000, .fail_at = -1};
    int64_t n = 0;
    size_t failed = 0;
    EXPECT_RC(f->s,
              dbal_exec_batch_fn(f->s, "INSERT INTO conf_batchfn(id, name) VALUES (?, ?)", 2, generate_row,
                                 &g, &n, &failed),
              DBAL_OK);
    EXPECT_I64(n, 5000);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batchfn", DBAL_NOARGS), 5000);
    EXPECT_I64(SCALAR(f->s, "SELECT count(DISTINCT name) AS n FROM conf_batchfn", DBAL_NOARGS), 5000);
    /* The row source gives up half way: its code comes back, nothing stays. */
    EXEC_OK(f->s, "DELETE FROM conf_batchfn", DBAL_NOARGS);
    g = (batch_gen){.limit = 5000, .fail_at = 2500};
    EXPECT_RC(f->s,
              dbal_exec_batch_fn(f->s, "INSERT INTO conf_batchfn(id, name) VALUES (?, ?)", 2, generate_row,
                                 &g, &n, &failed),
              DBAL_EINVAL);
    EXPECT_I64(failed, (int64_t)(size_t)-1);
    EXPECT_I64(SCALAR(f->s, "SELECT count(*) AS n FROM conf_batchfn", DBAL_NOARGS), 0);
}
