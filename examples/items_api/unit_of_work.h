/*
 * unit_of_work.h - FastAPI's `Depends(get_db)` + `session.begin()` in C: each
 * request runs in one session, labelled with its route, and one transaction,
 * committed when the work succeeds and rolled back on any error.
 */
#ifndef ITEMS_API_UNIT_OF_WORK_H
#define ITEMS_API_UNIT_OF_WORK_H

#include <dbal.h>

/* Transient failures (serialization, deadlock, SQLite's busy) are retried
 * this many more times; a lost connection never is. */
#define UNIT_OF_WORK_RETRIES 3

/*
 * The work: runs statements on s and returns DBAL_OK, or the code of the
 * statement that failed (whose details are then the session's error). It
 * may run more than once (see UNIT_OF_WORK_RETRIES), so it must reset what
 * it writes into ctx each time.
 */
typedef int (*unit_fn)(dbal_session *s, void *ctx);

/* Kinds of unit. A read-only one matters on SQLite, whose default
 * `begin=immediate` would otherwise take the write lock for every GET. */
enum unit_kind { UNIT_READ_WRITE = 0, UNIT_READ_ONLY = 1 };

/*
 * Opens a session labelled `label`, begins, runs fn, commits or rolls back,
 * closes the session. Returns DBAL_OK or the first failure's code, with its
 * details in *err (always filled: code DBAL_OK on success).
 */
int unit_of_work(dbal_engine *db, const char *label, enum unit_kind kind, unit_fn fn, void *ctx,
                 dbal_error *err);

#endif
