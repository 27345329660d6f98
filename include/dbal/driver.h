/*
 * dbal/driver.h - the driver ABI: what a driver module exports and what the
 * core hands it.
 *
 * A driver is a shared object (dbal_<name>.so) that exports one symbol, a
 * dbal_driver_entry_fn named DBAL_DRIVER_ENTRY(<name>) (so that several
 * drivers can be linked into one static program), or, as drivers built for
 * older cores do, DBAL_DRIVER_ENTRY_SYMBOL. The core calls it once per
 * process with its host table and gets back the driver's table, which must
 * stay valid for the life of the process. Returning NULL means the driver
 * failed its own initialisation; the core then unloads it.
 *
 * Versioning, as sqlite3_io_methods does it: both tables start with an ABI
 * version and their size. Slots are only ever appended, each marked with the
 * version that added it (DBAL_DRIVER_SINCE_<slot>, DBAL_HOST_SINCE_<slot>),
 * and the version is bumped with every append. A slot is used only when the
 * other side's table has it: its version is at least the slot's and its size
 * covers it (DBAL_DRIVER_HAS, DBAL_HOST_HAS; the size alone decided for the
 * async slots of version 1, appended before versions were kept per append,
 * and the size test still guards them). The core refuses a driver whose
 * version is newer than its own, and an optional slot that is NULL means
 * "not supported": the core's fallback is documented on each slot.
 *
 * A driver module links only its own client library, never libdbal: all it
 * needs from the core arrives in the host table.
 *
 * Threads: the core calls a connection (and its rows) from one thread at a
 * time. engine_open/engine_close and connect may run on any thread and
 * concurrently for different engines or connections; `cancel` may be called
 * from any thread while another thread is inside a call on that connection.
 *
 * fork(): a connection belongs to the process that opened it. In a forked
 * child, the core only ever calls disconnect on a connection the parent
 * opened, and engine_close and connect on an engine context the parent
 * opened; their comments say what they must then do.
 */
#ifndef DBAL_DRIVER_H
#define DBAL_DRIVER_H

#include <dbal.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes, which a driver puts in
 * dbal_driver.abi_version, and DBAL_DRIVER_ENTRY_SYMBOL, the name of the
 * entry point the core looks up with dlsym(). */
#define DBAL_DRIVER_ABI_VERSION 6
#define DBAL_DRIVER_ENTRY_SYMBOL "dbal_driver_entry"

/* The ABI version from which a driver takes and gives the value types
 * after DBAL_TYPE_BLOB (DBAL_TYPE_TIMESTAMP to DBAL_TYPE_JSON): it must
 * accept them as parameters (exec, query, exec_batch, async_send), and may
 * return them from col_value and col_type. A driver of an older version
 * is never given one: the core refuses such a parameter with
 * DBAL_EUNSUPPORTED before calling it. No slot came with version 3. */
#define DBAL_DRIVER_TYPES_SINCE 3

/* A driver may export its entry point under a name of its own instead,
 * dbal_<name>_driver_entry, so that several drivers can be linked into one
 * program (each then registered with dbal_register_driver). The core looks
 * that name up first and falls back to DBAL_DRIVER_ENTRY_SYMBOL.
 * DBAL_DRIVER_ENTRY(sqlite) is the identifier dbal_sqlite_driver_entry;
 * DBAL_DRIVER_ENTRY_FORMAT is the symbol as a printf format of the name. */
#define DBAL_DRIVER_ENTRY(name) dbal_##name##_driver_entry
#define DBAL_DRIVER_ENTRY_FORMAT "dbal_%s_driver_entry"

/* How long past a statement's time limit an answer from the server is
 * still waited for. A server enforcing a statement timeout answers within
 * it, error or not; one that says nothing for this much longer is taken to
 * hang, and the connection is given up (a driver marks it broken and fails
 * the call: DBAL_ETIMEOUT when the statement cannot have been applied,
 * DBAL_ECONNLOST when it may have been). */
#define DBAL_TIMEOUT_GRACE_MS 1000

/* Whether table t, of struct type `type`, has `slot` as the side that made
 * it was built: its version is at least `version` and its size covers the
 * slot. */
#define DBAL_TABLE_HAS(t, type, slot, version) \
    ((t)->abi_version >= (unsigned)(version) && offsetof(type, slot) + sizeof((t)->slot) <= (t)->size)
/* The core's test for a driver's slot: present and filled. */
#define DBAL_DRIVER_HAS(d, slot) \
    (DBAL_TABLE_HAS(d, dbal_driver, slot, DBAL_DRIVER_SINCE_##slot) && (d)->slot != NULL)
/* A driver's test of the host table, in its entry point: whether the core
 * that loads it has `slot` and every slot before it. A driver names the
 * newest host slot it uses and returns NULL when the host lacks it, so
 * every driver refuses an older core by the same rule. */
#define DBAL_HOST_HAS(h, slot) \
    ((h) != NULL && DBAL_TABLE_HAS(h, dbal_host, slot, DBAL_HOST_SINCE_##slot) && (h)->slot != NULL)

/* One key=value of the URL's query string that the core did not consume. */
typedef struct dbal_url_param {
    const char *key;
    const char *value;
} dbal_url_param;

/* One host of the URL's authority; port is NULL when absent. A host that is
 * an IPv6 literal is given without its brackets. */
typedef struct dbal_url_host {
    const char *host;
    const char *port;
} dbal_url_host;

/*
 * A parsed, percent-decoded URL. Every string is NUL-terminated and owned by
 * the core; it stays valid until engine_close. Absent parts are NULL.
 * For sqlite the database is the file path (relative or absolute) or
 * ":memory:".
 */
typedef struct dbal_url {
    const char *scheme; /* "postgresql" for postgres:// too; before any "+driver" */
    const char *driver; /* the driver's name: the "+driver" part, else the scheme */
    const char *user;
    const char *password; /* never put it in a message */
    const dbal_url_host *hosts;
    size_t nhosts;
    const char *database;
    const dbal_url_param *params; /* driver options only: engine options are removed */
    size_t nparams;
} dbal_url;

/* What the core tells a driver when an engine opens. */
typedef struct dbal_engine_config {
    size_t size; /* sizeof(dbal_engine_config) of the core; fields only appended */
    const dbal_url *url;
    int statement_cache_size; /* prepared statements kept per connection; 0 = none */
    int pool_size;            /* most connections the engine keeps */
} dbal_engine_config;

/*
 * Base of a driver's connection state: the driver allocates a larger struct
 * that starts with this one, as sqlite3_file is extended by each VFS.
 */
typedef struct dbal_driver_conn {
    /* Set by the driver when the connection is unusable (server gone, socket
     * closed): the core discards it instead of pooling it. */
    int broken;
} dbal_driver_conn;

/* Base of a driver's cursor state. */
typedef struct dbal_driver_rows {
    int ncols; /* set by query(); fixed for the cursor's life */
} dbal_driver_rows;

/*
 * The host table: what the core gives a driver. Valid for the life of the
 * process.
 */
typedef struct dbal_host {
    unsigned abi_version;
    size_t size;

    /* ---- ABI version 1 ---- */

    /* The allocator the core uses, so that an application's allocator hook
     * and out-of-memory tests reach drivers too. */
    void *(*malloc)(size_t n);
    void *(*realloc)(void *p, size_t n);
    void (*free)(void *p);

    /*
     * Rewrites `?` placeholders to $1..$n, leaving alone those inside string
     * literals (also E'' and dollar-quoted bodies), quoted identifiers and
     * comments; `??` becomes a literal `?`. *out is allocated with the host
     * allocator and NUL-terminated; *nparams receives n.
     * Returns DBAL_OK or DBAL_ENOMEM. Kept for drivers outside this tree:
     * the PostgreSQL driver has its own scanner.
     */
    int (*rewrite_dollar)(const char *sql, char **out, size_t *out_len, int *nparams);

    /* The portable code for a SQLSTATE ("23505" -> DBAL_EUNIQUE); DBAL_ERROR
     * for one it does not know. */
    int (*code_for_sqlstate)(const char *sqlstate);

    /* Fills an error: code, SQLSTATE (NULL for none), native code and a
     * printf-style message, truncated to fit. Clears the constraint name. */
    void (*set_error)(dbal_error *err, int code, const char *sqlstate, int native_code, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 5, 6)))
#endif
        ;

    /* ---- ABI version 4 ---- */

    /*
     * The core's own loader, for a driver that wraps another (the testing
     * driver): the driver called `name` as a URL's scheme or +name would
     * find it (a registered one, else dbal_<name>.so from DBAL_DRIVER_PATH,
     * else from the installed drivers directory), loaded once per process
     * and checked as the core checks any table. *out stays valid for the
     * life of the process. Call it from engine_open, never from the entry
     * point (the core holds its loader's lock there). Returns DBAL_OK,
     * DBAL_ENODRIVER, DBAL_EDRIVER, DBAL_EINVAL, DBAL_ENOMEM.
     */
    int (*load_driver)(const char *name, const struct dbal_driver **out, dbal_error *err);
} dbal_host;

/* DBAL_HOST_SINCE_*: the ABI version that added each slot of dbal_host,
 * which DBAL_HOST_HAS compares with the core's version. */
#define DBAL_HOST_SINCE_malloc 1
#define DBAL_HOST_SINCE_realloc 1
#define DBAL_HOST_SINCE_free 1
#define DBAL_HOST_SINCE_rewrite_dollar 1
#define DBAL_HOST_SINCE_code_for_sqlstate 1
#define DBAL_HOST_SINCE_set_error 1
#define DBAL_HOST_SINCE_load_driver 4

/*
 * The driver table. Every call that can fail returns a dbal_code and fills
 * err (never NULL when the core calls) on failure.
 */
typedef struct dbal_driver {
    unsigned abi_version; /* DBAL_DRIVER_ABI_VERSION the driver was built for */
    size_t size;          /* sizeof(struct dbal_driver) the driver was built with */
    const char *name;     /* "sqlite" */
    const char *version;  /* the driver's own version text */

    /* ---- ABI version 1: required slots ---- */

    /* Validates the URL and options once per engine and keeps what connect
     * needs in *ctx. Bad options are DBAL_EURL. */
    int (*engine_open)(const dbal_engine_config *cfg, void **ctx, dbal_error *err);
    /* May be called in a forked child of the process that opened ctx; it
     * must then release memory only: nothing the parent still uses (a file,
     * a directory, a server session) is removed or changed. */
    void (*engine_close)(void *ctx);

    /* May be called in a forked child with a ctx its parent opened: it then
     * opens a connection of the child's own, or refuses with DBAL_EMISUSE
     * and a message saying why when the database cannot be reached from
     * another process (a process's private in-memory database). */
    int (*connect)(void *ctx, dbal_driver_conn **out, dbal_error *err);
    /*
     * May be called in a forked child of the process that opened c: a
     * connection belongs to the process that opened it, and the core calls
     * nothing else on c there (not even rows_close for its open cursors,
     * whose memory is then not freed). It must then release memory only:
     * nothing sent on the parent's socket (not even the protocol's goodbye),
     * no transaction rolled back or committed, no file written or removed,
     * no lock of the parent's released. A driver that cannot free some of
     * it without I/O leaves that part alone.
     */
    void (*disconnect)(dbal_driver_conn *c);

    /* Runs one statement, discarding rows; params are already checked for
     * NULL pointers, the placeholder count is the driver's to check
     * (DBAL_EMISUSE). `affected` may be NULL. */
    int (*exec)(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams,
                int64_t *affected, dbal_error *err);

    /* Starts a query. Errors the database reports before the first row are
     * returned here, not from rows_next, so both drivers fail at the same
     * call. The cursor borrows the connection until rows_close. */
    int (*query)(dbal_driver_conn *c, const char *sql, const dbal_value *params, size_t nparams,
                 dbal_driver_rows **out, dbal_error *err);

    /* DBAL_ROW, DBAL_DONE or an error code. */
    int (*rows_next)(dbal_driver_rows *r, dbal_error *err);
    void (*rows_close)(dbal_driver_rows *r);

    /* Column name; col is in range (the core checks). The string stays
     * valid until rows_close: the core hands it to the application as it
     * is. */
    const char *(*col_name)(dbal_driver_rows *r, int col);

    /*
     * The current row's value in the driver's natural form: NULL, INT64,
     * DOUBLE, BOOL, TEXT or BLOB; from ABI 3 also TIMESTAMP, TIMESTAMPTZ,
     * DATE, TIME (u.i, as dbal.h defines them), UUID (16 bytes), NUMERIC
     * and JSON (text). Text and blob bytes must stay valid until
     * the next rows_next/rows_close; text must be followed by a NUL byte at
     * [len] (blob bytes need not be: the core adds one when a blob is read
     * as text).
     * A driver whose wire format is text (PostgreSQL) may hand numbers,
     * dates and times, UUIDs as TEXT: the core converts with one set of
     * rules for every driver, by col_type when text alone is ambiguous.
     * Text of a date or time column should be in the form dbal's text
     * getter gives (dbal_value_format), which the core hands on as it is.
     */
    void (*col_value)(dbal_driver_rows *r, int col, dbal_value *out);

    /* The logical type of the current value (what dbal_col_type() says),
     * which may differ from col_value's form: an int8 column read as TEXT is
     * DBAL_TYPE_INT64. */
    dbal_type (*col_type)(dbal_driver_rows *r, int col);

    /* Transaction control at depth 0. DBAL_TX_* options the database cannot
     * honour are DBAL_EUNSUPPORTED. Savepoints are standard SQL that the
     * core runs through exec (SAVEPOINT / RELEASE / ROLLBACK TO). */
    int (*begin)(dbal_driver_conn *c, unsigned options, dbal_error *err);
    int (*commit)(dbal_driver_conn *c, dbal_error *err);
    int (*rollback)(dbal_driver_conn *c, dbal_error *err);

    /* ---- ABI version 1: optional slots (NULL = not supported) ---- */

    /* Core fallback when NULL: DBAL_EUNSUPPORTED. */
    int (*last_insert_id)(dbal_driver_conn *c, int64_t *out, dbal_error *err);
    /* Health check; core fallback when NULL: exec of "SELECT 1". */
    int (*ping)(dbal_driver_conn *c, dbal_error *err);
    /* Clears session state before the connection is pooled again (the core
     * has already rolled back; not called with pool_reset=rollback). It may
     * send the reset without waiting for its answer: `check` (ABI 2), or
     * the connection's next command, reads it. Core fallback when NULL:
     * nothing. */
    int (*reset)(dbal_driver_conn *c, dbal_error *err);
    /* Interrupts what runs on c; any thread. The interrupted call fails with
     * DBAL_ECANCELED. Must not block: it may return before the request
     * reached the server (the core calls it holding a session's lock, and
     * from an event loop). DBAL_OK means the request is on its way, not
     * that it arrived. Core fallback: EUNSUPPORTED. */
    int (*cancel)(dbal_driver_conn *c);
    /* Statement timeout for the statements that follow, in milliseconds (0:
     * none); one that runs longer fails with DBAL_ETIMEOUT. The core calls it
     * only when the value changes. Core fallback: EUNSUPPORTED when asked
     * for a timeout. */
    int (*set_timeout)(dbal_driver_conn *c, int milliseconds, dbal_error *err);

    /*
     * Runs sql once per row, as one batch, inside a transaction the core has
     * begun. next() gives row i's nparams values (pointer valid until the
     * next call) and returns DBAL_OK, DBAL_DONE (no more rows) or an error
     * to stop with. On failure *failed_row is the row that failed, or
     * (size_t)-1 when none did (next() failed); the core keeps it only for
     * a code a row can cause (not for DBAL_ECONNLOST, a cancel, a
     * timeout, ...). Core fallback when NULL:
     * exec once per row (with the statement cache, one prepared statement).
     */
    int (*exec_batch)(dbal_driver_conn *c, const char *sql, size_t nparams,
                      int (*next)(void *ud, size_t i, const dbal_value **row), void *ud, int64_t *affected,
                      size_t *failed_row, dbal_error *err);

    /*
     * Makes every transaction that follows on c read-only (on = 1), so that
     * writes fail with DBAL_EREADONLY, or lifts that (on = 0). The core sets
     * it for a DBAL_SESSION_READ_ONLY session that runs on the primary and
     * lifts it before the connection goes back to the pool (a failure then
     * discards the connection). The asynchronous API calls it on its loop
     * thread: it must not wait for the server (PostgreSQL's sends the
     * setting with the next command, as set_timeout does). Core fallback
     * when NULL: such a session is not made read-only.
     */
    int (*set_read_only)(dbal_driver_conn *c, int on, dbal_error *err);

    /*
     * ---- ABI version 1, appended: asynchronous statements ----
     * (before versions were kept per append: a version-1 table has them
     * only when its size covers them)
     *
     * A driver that can run statements without blocking and without threads
     * of its own fills all five slots; the core then polls the descriptor
     * async_start gives in the application's event loop (dbal_async_*).
     * Core fallback when any is NULL: the blocking slots above run on the
     * core's worker threads, which signal completion through an eventfd.
     *
     * Statements are queued in order and complete in that order, each one
     * on its own (an error in one does not cancel the next: the driver
     * syncs after each, as the blocking calls would). The core calls these
     * slots from one thread at a time; `cancel` still works from any thread
     * and interrupts the statement the server is running.
     */

    /* Makes c non-blocking and gives the descriptor to poll. Only called
     * when nothing is pending on c. */
    int (*async_start)(dbal_driver_conn *c, int *fd, dbal_error *err);
    /* Back to blocking use, before c returns to the pool; only called when
     * nothing is pending. */
    void (*async_stop)(dbal_driver_conn *c);
    /* Queues one statement of `kind` (DBAL_ASYNC_*; options are BEGIN's
     * DBAL_TX_* flags, sql and params are those of EXEC and QUERY and may be
     * used only during the call). An error means nothing was queued;
     * since ABI 6 (DBAL_DRIVER_SINCE_ASYNC_SEND_BUSY), DBAL_EBUSY means
     * "not yet" (a cancel request of c's still on its way, which could
     * interrupt this statement instead): the core keeps the statement and
     * asks again a few milliseconds later, for as long as the driver says
     * so, so the driver must bound it (the PostgreSQL driver: the 1000 ms
     * grace). From a driver built for an older ABI it is an error. */
    int (*async_send)(dbal_driver_conn *c, int kind, unsigned options, const char *sql,
                      const dbal_value *params, size_t nparams, dbal_error *err);
    /* Does the I/O that can be done now: reads when `ready` (the events
     * that fired, DBAL_ASYNC_WANT_*) says the descriptor is readable, and
     * sends what is queued; *want receives the events to wait for. An
     * error (DBAL_ECONNLOST) marks c broken. When `ready` has
     * DBAL_ASYNC_GIVE_UP, the oldest statement is past its time limit, was
     * interrupted (cancel) and the server has still not answered for
     * DBAL_TIMEOUT_GRACE_MS: the driver gives c up without waiting (closes
     * it, marks it broken) and fails with DBAL_ETIMEOUT when nothing still
     * in flight can be applied, else DBAL_ECONNLOST; the core fails every
     * statement in flight with that error. A driver that ignores the bit
     * keeps waiting for the server. */
    int (*async_io)(dbal_driver_conn *c, unsigned ready, unsigned *want, dbal_error *err);
    /* The outcome of the oldest queued statement: *ready is 0 while it is
     * not complete. When ready, returns its code (and fills err), *affected
     * for EXEC and, for QUERY, *rows: a cursor over every row of the
     * result, read through rows_next and the column slots and closed by
     * rows_close, which must not need the connection to be idle. */
    int (*async_result)(dbal_driver_conn *c, int *ready, dbal_driver_rows **rows, int64_t *affected,
                        dbal_error *err);

    /*
     * Opening a connection without blocking, for the asynchronous API.
     * async_connect_start begins: *out is a connection still being made,
     * to be polled on *fd for *want (DBAL_ASYNC_WANT_*); on failure *out is
     * NULL. async_connect_poll advances it once fd is ready: *fd and *want
     * may change, *done becomes 1 when the connection is made; on failure
     * (DBAL_ECONNECT, err filled without a password) the core disconnects
     * it. The core enforces the time limit. Core fallback when NULL:
     * connect runs on a worker thread.
     */
    int (*async_connect_start)(void *ctx, dbal_driver_conn **out, int *fd, unsigned *want, dbal_error *err);
    int (*async_connect_poll)(dbal_driver_conn *c, int *fd, unsigned *want, int *done, dbal_error *err);

    /* ---- ABI version 2: optional ---- */

    /*
     * Looks at an idle connection before the pool hands it out, without a
     * round trip: what the server sent while the connection sat in the
     * pool (the goodbye of a restart or pg_terminate_backend, EOF), the
     * answer to a reset still under way, a database file replaced under
     * the connection. DBAL_OK: it may be handed out; any other code: the
     * core discards it and takes another. With wait 0 it must not block,
     * and returns DBAL_EBUSY when an answer it needs has not arrived, with
     * *fd the descriptor that becomes readable when it does (or -1): the
     * core calls it again once fd is readable, or with wait 1 where
     * blocking is allowed. With wait 1 it may wait for that answer, a
     * bounded time. fd is not NULL. Core fallback when NULL: the
     * connection is handed out as it is.
     */
    int (*check)(dbal_driver_conn *c, int wait, int *fd, dbal_error *err);

    /* ---- ABI version 4: optional ---- */

    /*
     * A command in the driver's own words for an engine, from
     * dbal_engine_control(): one line of text in, at most `cap` bytes of
     * NUL-terminated text out in `reply` (never NULL; "" when there is
     * nothing to say). Any thread, at any time, also while other threads
     * use the engine's connections: the driver makes it safe. An unknown
     * command is DBAL_EINVAL. Core fallback when NULL: DBAL_EUNSUPPORTED.
     */
    int (*control)(void *ctx, const char *command, char *reply, size_t cap, dbal_error *err);

    /* ---- ABI version 5: optional, typed column access ---- */

    /*
     * The current row's value of col read straight into a C type, without
     * a dbal_value: what the getters try first (dbal_col_int64 and
     * dbal_col_get_int64 ask col_int64; the double getters col_double; the
     * text and blob getters col_text), so that a scan pays for a value
     * what the database's own column call costs. col is in range and the
     * row current (the core checks); the same thread rules as col_value.
     *
     * Each answers DBAL_OK with *out (and *len) only for a value that
     * col_value would hand in that very form, so that the core would take
     * it as it is:
     *   col_int64:  a value col_value hands as DBAL_TYPE_INT64;
     *   col_double: one it hands as DBAL_TYPE_DOUBLE, or as
     *               DBAL_TYPE_INT64 when col_type is not DBAL_TYPE_BOOL
     *               (then *out = (double)the integer);
     *   col_text:   one it hands as DBAL_TYPE_TEXT, NUMERIC or JSON: the
     *               same bytes, NUL at [len], valid as long as col_value's.
     * For any other value (NULL, another form, one that would need
     * decoding or converting: a date's text, a bytea, a number as text)
     * it returns DBAL_ETYPE and leaves *out alone. That answer is never
     * shown to the application: the core then reads the value through
     * col_value and converts it by its one set of rules, so the result
     * and the error are those of a driver without these slots. A slot
     * never parses text, formats a number or fails otherwise; answering
     * DBAL_ETYPE for everything is correct, only slower.
     *
     * Core fallback when NULL (each on its own): col_value for every
     * value.
     */
    int (*col_int64)(dbal_driver_rows *r, int col, int64_t *out);
    int (*col_double)(dbal_driver_rows *r, int col, double *out);
    int (*col_text)(dbal_driver_rows *r, int col, const char **out, size_t *len);

    /* ---- ABI version 6: optional ---- */

    /*
     * Inline execution: lets the asynchronous API run a statement on its
     * loop thread, where a thread hand-over would cost more than the
     * statement, when the driver can promise the statement will not hold
     * the loop. Only for drivers without the async_* slots.
     *
     * With budget_us > 0 it arms the connection: until it is called again
     * with 0, the driver stops any statement (exec, query and the query's
     * rows) that would wait for another connection's lock, run past
     * budget_us microseconds from now (or from its first look at the clock
     * once the statement runs, which a driver may defer: the bound then
     * stretches by the work done before that look), or wait for the disk
     * when the driver chooses so, and guarantees that a statement it
     * stopped changed nothing (no row, no transaction state, nothing the
     * next statement would see). It returns DBAL_OK when armed, or
     * DBAL_DRIVER_HAND_OVER when it cannot promise that in the connection's
     * state (a transaction the application opened with SQL, say): nothing
     * armed. A driver may also find that out at the statement's start
     * instead, and stop the statement there, before it runs (the SQLite
     * driver does: arming then costs no call into the database).
     * With budget_us 0 it disarms and returns DBAL_DRIVER_HAND_OVER when
     * it stopped a statement for one of those reasons (the statement's
     * own code and error are then meaningless: the core runs it again
     * from the start on a worker), else DBAL_OK.
     *
     * The core arms only a connection with no transaction open (depth 0),
     * calls only exec, query, rows_next, col_* and rows_close while armed,
     * on the loop thread, and reads a query's rows to the end before it
     * disarms. Cancel may come from another thread meanwhile, as always.
     * Core fallback when NULL: every statement runs on a worker thread.
     */
    int (*inline_budget)(dbal_driver_conn *c, int budget_us);
} dbal_driver;

/* What inline_budget returns for "cannot promise" and "stopped a statement,
 * nothing applied": never a dbal result code. */
#define DBAL_DRIVER_HAND_OVER (-1)

/* DBAL_DRIVER_SINCE_*: the ABI version that added each slot of dbal_driver,
 * which DBAL_DRIVER_HAS compares with a driver's version. */
#define DBAL_DRIVER_SINCE_engine_open 1
#define DBAL_DRIVER_SINCE_engine_close 1
#define DBAL_DRIVER_SINCE_connect 1
#define DBAL_DRIVER_SINCE_disconnect 1
#define DBAL_DRIVER_SINCE_exec 1
#define DBAL_DRIVER_SINCE_query 1
#define DBAL_DRIVER_SINCE_rows_next 1
#define DBAL_DRIVER_SINCE_rows_close 1
#define DBAL_DRIVER_SINCE_col_name 1
#define DBAL_DRIVER_SINCE_col_value 1
#define DBAL_DRIVER_SINCE_col_type 1
#define DBAL_DRIVER_SINCE_begin 1
#define DBAL_DRIVER_SINCE_commit 1
#define DBAL_DRIVER_SINCE_rollback 1
#define DBAL_DRIVER_SINCE_last_insert_id 1
#define DBAL_DRIVER_SINCE_ping 1
#define DBAL_DRIVER_SINCE_reset 1
#define DBAL_DRIVER_SINCE_cancel 1
#define DBAL_DRIVER_SINCE_set_timeout 1
#define DBAL_DRIVER_SINCE_exec_batch 1
#define DBAL_DRIVER_SINCE_set_read_only 1
#define DBAL_DRIVER_SINCE_async_start 1
#define DBAL_DRIVER_SINCE_async_stop 1
#define DBAL_DRIVER_SINCE_async_send 1
#define DBAL_DRIVER_SINCE_async_io 1
#define DBAL_DRIVER_SINCE_async_result 1
#define DBAL_DRIVER_SINCE_async_connect_start 1
#define DBAL_DRIVER_SINCE_async_connect_poll 1
#define DBAL_DRIVER_SINCE_check 2
#define DBAL_DRIVER_SINCE_control 4
#define DBAL_DRIVER_SINCE_col_int64 5
#define DBAL_DRIVER_SINCE_col_double 5
#define DBAL_DRIVER_SINCE_col_text 5
#define DBAL_DRIVER_SINCE_inline_budget 6
/* Not a slot: async_send's DBAL_EBUSY answer ("not yet") means so from
 * this version on. */
#define DBAL_DRIVER_SINCE_ASYNC_SEND_BUSY 6

/* Kinds of asynchronous statements: DBAL_ASYNC_EXEC, DBAL_ASYNC_QUERY,
 * DBAL_ASYNC_BEGIN, DBAL_ASYNC_COMMIT, DBAL_ASYNC_ROLLBACK. */
#define DBAL_ASYNC_EXEC 1
#define DBAL_ASYNC_QUERY 2
#define DBAL_ASYNC_BEGIN 3
#define DBAL_ASYNC_COMMIT 4
#define DBAL_ASYNC_ROLLBACK 5
/* Events of a descriptor, for async_io and async_connect_*:
 * DBAL_ASYNC_WANT_READ, DBAL_ASYNC_WANT_WRITE; and, in async_io's `ready`
 * only, DBAL_ASYNC_GIVE_UP: give the connection up (see async_io). */
#define DBAL_ASYNC_WANT_READ 0x1u
#define DBAL_ASYNC_WANT_WRITE 0x2u
#define DBAL_ASYNC_GIVE_UP 0x4u

/* What a driver module exported under DBAL_DRIVER_ENTRY_SYMBOL before
 * per-name entry points; a driver now defines DBAL_DRIVER_ENTRY(<name>)
 * with this signature (dbal_driver_entry_fn). */
DBAL_API const dbal_driver *dbal_driver_entry(const dbal_host *host);

#ifdef __cplusplus
}
#endif
#endif /* DBAL_DRIVER_H */
