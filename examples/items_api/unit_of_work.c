/* unit_of_work.c - one session and one transaction per request. */
#include "unit_of_work.h"

#include <string.h>

static int is_transient(int rc)
{
    return rc == DBAL_ESERIALIZATION || rc == DBAL_EDEADLOCK || rc == DBAL_EBUSY;
}

/* begin, fn, commit; on failure keep the failing call's error and roll back. */
static int run_once(dbal_session *s, enum unit_kind kind, unit_fn fn, void *ctx, dbal_error *err)
{
    int rc = dbal_begin_with(s, kind == UNIT_READ_ONLY ? DBAL_TX_READ_ONLY : 0);
    if (rc == DBAL_OK)
        rc = fn(s, ctx);
    if (rc == DBAL_OK)
        rc = dbal_commit(s); /* a failed commit leaves no transaction open */
    if (rc == DBAL_OK)
        return DBAL_OK;
    *err = *dbal_session_error(s);
    if (err->code == DBAL_OK)
        err->code = rc; /* fn gave up without a statement failing */
    if (dbal_tx_depth(s) > 0)
        dbal_rollback(s);
    return rc;
}

int unit_of_work(dbal_engine *db, const char *label, enum unit_kind kind, unit_fn fn, void *ctx,
                 dbal_error *err)
{
    memset(err, 0, sizeof *err);
    dbal_session *s;
    int rc = dbal_session_open_labeled(db, &s, label, err);
    if (rc != DBAL_OK)
        return rc;
    for (int attempt = 0;; attempt++) {
        rc = run_once(s, kind, fn, ctx, err);
        if (rc == DBAL_OK || !is_transient(rc) || attempt >= UNIT_OF_WORK_RETRIES)
            break;
    }
    dbal_session_close(s);
    if (rc == DBAL_OK)
        memset(err, 0, sizeof *err);
    return rc;
}
