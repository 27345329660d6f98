/* The unit-of-work helper: FastAPI's Depends(get_db) plus
 * `async with session.begin()`, with retries of transient failures. */
#include "session.h"

#include "errors.h"

static int transient(int rc)
{
    return rc == DBAL_ESERIALIZATION || rc == DBAL_EDEADLOCK || rc == DBAL_EBUSY;
}

static int run_once(dbal_session *s, dbal_transact_fn fn, void *userdata)
{
    int rc = dbal_begin(s);
    if (rc)
        return rc;
    rc = fn(s, userdata);
    if (rc == DBAL_OK)
        return dbal_commit(s);
    /* Keep the error that made fn give up, not the rollback's. */
    dbal_error why = s->err;
    if (s->depth > 0) {
        while (s->depth > 1)
            dbal_rollback(s);
        dbal_rollback(s);
    }
    if (why.code == DBAL_OK)
        dbal__error_set(&why, rc, NULL, 0, "the unit of work returned %s", dbal_code_name(rc));
    s->err = why;
    return rc;
}

int dbal_transact(dbal_engine *e, dbal_transact_fn fn, void *userdata, unsigned retries, dbal_error *err)
{
    dbal__error_clear(err);
    if (!e || !fn)
        return dbal__error_set(err, DBAL_EINVAL, NULL, 0, "dbal_transact: engine and fn are required");
    dbal_session *s;
    int rc = dbal_session_open(e, &s, err);
    if (rc)
        return rc;
    for (unsigned attempt = 0;; attempt++) {
        rc = run_once(s, fn, userdata);
        if (rc == DBAL_OK || !transient(rc) || attempt >= retries)
            break;
    }
    if (rc)
        dbal__error_copy(err, &s->err);
    dbal_session_close(s);
    return rc;
}
