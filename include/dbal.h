/*
 * dbal.h - one session/transaction API over PostgreSQL and SQLite.
 *
 * The application never names a database in code: it opens an engine from a
 * URL (by convention read from DATABASE_URL), and the URL's scheme picks a
 * driver module that is loaded at run time.
 *
 * Thread rules, stated once:
 *   - dbal_engine is shareable: any thread may open sessions on it at any time.
 *   - dbal_session is used by one thread at a time (it may move between threads
 *     between calls).
 *   - dbal_rows belongs to its session and follows the session's rule. Close
 *     it before the session; dbal_session_close() closes cursors still open,
 *     and their handles must not be used after that.
 * A function follows the rule of the handle it takes; its comment says so
 * only when it differs ("any thread").
 *
 * fork(): a connection belongs to the process that opened it (libpq's and
 * SQLAlchemy's rule), enforced. A child may use an engine it inherited: its
 * sessions get connections of the child's own (sqlite::memory:, the
 * parent's private database, answers DBAL_EMISUSE). A session that held a
 * connection when the process forked answers DBAL_EMISUSE in the child and
 * sends nothing. Closing inherited engines and sessions in a child frees
 * memory only. Fork while no other thread is inside a dbal call; a
 * dbal_async context cannot be used in a child. README, "fork()", has the
 * details.
 *
 * Error convention: every fallible call returns a dbal_code; DBAL_OK is 0.
 * Calls that create an engine or a session fill an optional caller-owned
 * dbal_error. Everything done on a session keeps its details as the session's
 * last error, read with dbal_session_error(). Every close function accepts
 * NULL.
 *
 * URLs, percent-decoded; the scheme (or its "+driver" part) names the driver
 * module, dbal_<name>.so:
 *
 *   scheme://[user[:password]@][host][:port][,host2[:port2]...][/database][?key=value&...]
 *   sqlite::memory:                      in memory, shared by the engine's sessions
 *   sqlite:///abs/path.db                an absolute path (also sqlite:////abs/path.db)
 *   sqlite://relative.db                 relative to the working directory
 *   postgresql://user:pw@host:5432/db    also postgres://
 *   postgresql:///db?host=/run/postgresql   a unix-socket directory
 *   postgresql://[::1]:5432/db           an IPv6 literal
 *   postgresql://h1:5432,h2:5433/db      several hosts, as libpq tries them
 *
 * Query keys that name an engine option (see dbal_engine_options, and echo=1
 * to log every statement) are dbal's; the others go to the driver: SQLite's
 * journal_mode, synchronous, busy_timeout, foreign_keys, begin, mode, cache,
 * immutable, nolock, vfs and _pragma, or any libpq connection keyword. A bad
 * value or an unknown key is DBAL_EURL when the engine opens.
 */
#ifndef DBAL_H
#define DBAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#include <initializer_list>
extern "C" {
#endif

/* The version of this header: DBAL_VERSION_MAJOR, DBAL_VERSION_MINOR,
 * DBAL_VERSION_PATCH, the text DBAL_VERSION and DBAL_VERSION_NUMBER. The
 * library loaded at run time may be newer: see dbal_version(). These lines
 * are the version's one owner: the build reads them. */
#define DBAL_VERSION_MAJOR 0
#define DBAL_VERSION_MINOR 1
#define DBAL_VERSION_PATCH 0
#define DBAL_VERSION "0.1.0"
/* major * 10000 + minor * 100 + patch */
#define DBAL_VERSION_NUMBER 100

/* Marks the functions the library exports; every other symbol is hidden. */
#if defined(_WIN32)
#define DBAL_API
#elif defined(__GNUC__)
#define DBAL_API __attribute__((visibility("default")))
#else
#define DBAL_API
#endif

/*
 * The result codes. One table generates the enum, dbal_strerror() and
 * dbal_code_name(), so they cannot drift apart. Codes are only ever appended.
 * X(name, value, text)
 */
#define DBAL_CODE_MAP(X)                                                        \
    X(OK, 0, "success")                                                         \
    X(ERROR, 1, "database error")                                               \
    X(EMISUSE, 2, "library used incorrectly")                                   \
    X(EINVAL, 3, "invalid argument")                                            \
    X(ENOMEM, 4, "out of memory")                                               \
    X(EURL, 5, "malformed database URL")                                        \
    X(ENODRIVER, 6, "no driver for this URL scheme")                            \
    X(EDRIVER, 7, "driver module refused")                                      \
    X(ECONNECT, 8, "cannot connect to the database")                            \
    X(ECONNLOST, 9, "connection to the database lost")                          \
    X(EPOOLTIMEOUT, 10, "timed out waiting for a pooled connection")            \
    X(EUNIQUE, 11, "unique constraint violated")                                \
    X(EFOREIGNKEY, 12, "foreign key constraint violated")                       \
    X(ENOTNULL, 13, "not-null constraint violated")                             \
    X(ECHECK, 14, "check constraint violated")                                  \
    X(ECONSTRAINT, 15, "integrity constraint violated")                         \
    X(ESYNTAX, 16, "SQL syntax error")                                          \
    X(EUNDEFINED, 17, "undefined table, column or function")                    \
    X(ESERIALIZATION, 18, "serialization failure, retry the transaction")       \
    X(EDEADLOCK, 19, "deadlock detected, retry the transaction")                \
    X(EBUSY, 20, "database is busy or locked")                                  \
    X(ECANCELED, 21, "statement canceled")                                      \
    X(ETIMEOUT, 22, "statement timed out")                                      \
    X(ETXFAILED, 23, "transaction failed, roll it back")                        \
    X(ETYPE, 24, "value cannot be converted to the requested type")             \
    X(ERANGE, 25, "value out of range")                                         \
    X(ENULL, 26, "value is NULL")                                               \
    X(EREADONLY, 27, "attempt to write in a read-only transaction or database") \
    X(EPERM, 28, "permission denied")                                           \
    X(EDATA, 29, "invalid data for the column type")                            \
    X(EUNSUPPORTED, 30, "not supported by this driver")                         \
    X(EMIGRATION, 31, "applied migrations do not match the migration files")    \
    X(ENOTREPLICATED, 32, "committed, but the standby did not confirm it")      \
    X(ROW, 100, "a row is ready")                                               \
    X(DONE, 101, "no more rows")

/* The result codes as an enum: DBAL_OK, DBAL_ERROR, DBAL_EMISUSE, ...,
 * DBAL_ROW and DBAL_DONE, generated from DBAL_CODE_MAP. Functions return them
 * as int. */
typedef enum dbal_code {
#define DBAL__CODE_ENUM(name, value, text) DBAL_##name = value,
    DBAL_CODE_MAP(DBAL__CODE_ENUM)
#undef DBAL__CODE_ENUM
} dbal_code;

/* Fixed text for a code, for example "unique constraint violated". Static
 * storage; never NULL (unknown codes give "unknown error code"). Any thread. */
DBAL_API const char *dbal_strerror(int code);
/* The code's name, for example "DBAL_EUNIQUE". Static storage; never NULL
 * (unknown codes give "DBAL_UNKNOWN"). Any thread. */
DBAL_API const char *dbal_code_name(int code);

/* Run-time version: dbal_version_number() is DBAL_VERSION_NUMBER and
 * dbal_version() DBAL_VERSION ("major.minor.patch", static storage) of the
 * library that is loaded, which may be newer than the header the caller
 * compiled against. Any thread. */
DBAL_API int dbal_version_number(void);
DBAL_API const char *dbal_version(void);

/*
 * The details of a failure. The struct is caller-owned and holds its strings
 * inline, so nothing in it needs freeing and it stays valid as long as the
 * struct does. Messages never contain a password.
 */
typedef struct dbal_error {
    int code;            /* a dbal_code */
    char sqlstate[6];    /* five characters and NUL; "" when none applies */
    int native_code;     /* the driver's own code (SQLite extended code), or 0 */
    char constraint[64]; /* constraint name when the database reports one, or "" */
    char message[512];   /* one line, never a password */
} dbal_error;

/* Opaque handles: dbal_engine (a database and its pool), dbal_session (a
 * unit of work) and dbal_rows (a cursor), with the thread rules above. */
typedef struct dbal_engine dbal_engine;
typedef struct dbal_session dbal_session;
typedef struct dbal_rows dbal_rows;

/* ---- values ---------------------------------------------------------------- */

/*
 * The type of a value: of a parameter (dbal_value.type) and of a column of
 * the current row (dbal_col_type()). Values are only appended. What a
 * value of each type holds in dbal_value, the same on every driver
 * (README, "Dates, times, numerics, UUIDs and JSON"):
 *   TIMESTAMPTZ  u.i: an instant, microseconds since 1970-01-01 00:00:00 UTC
 *   TIMESTAMP    u.i: a wall-clock reading without a time zone, counted the
 *                same way as if it were UTC
 *   DATE         u.i: days since 1970-01-01
 *   TIME         u.i: microseconds since midnight, 0 to 86400000000
 *   NUMERIC      u.s, len: exact decimal text ("19.90", "-1e-3", "NaN")
 *   UUID         u.p: 16 bytes, len 16
 *   JSON         u.s, len: JSON text
 * Timestamps and dates are proleptic Gregorian, and DBAL_INFINITY /
 * DBAL_NEG_INFINITY stand for PostgreSQL's 'infinity' and '-infinity'.
 */
typedef enum dbal_type {
    DBAL_TYPE_NULL = 0,
    DBAL_TYPE_BOOL = 1,
    DBAL_TYPE_INT64 = 2,
    DBAL_TYPE_DOUBLE = 3,
    DBAL_TYPE_TEXT = 4,
    DBAL_TYPE_BLOB = 5,
    DBAL_TYPE_TIMESTAMP = 6,
    DBAL_TYPE_TIMESTAMPTZ = 7,
    DBAL_TYPE_DATE = 8,
    DBAL_TYPE_TIME = 9,
    DBAL_TYPE_NUMERIC = 10,
    DBAL_TYPE_UUID = 11,
    DBAL_TYPE_JSON = 12
} dbal_type;

/* Defined when this header has the types from DBAL_TYPE_TIMESTAMP to
 * DBAL_TYPE_JSON, their constructors, getters and helpers. */
#define DBAL_HAS_TYPES 1

/* DBAL_INFINITY and DBAL_NEG_INFINITY: a timestamp or a date that is
 * 'infinity' (later than every other) or '-infinity' (earlier than every
 * other), in dbal_value.u.i and the getters. */
#define DBAL_INFINITY INT64_MAX
#define DBAL_NEG_INFINITY INT64_MIN

/*
 * A parameter value. It borrows text and blob bytes: they must stay valid
 * until the call that takes the value returns. Build one with the
 * constructors below.
 */
typedef struct dbal_value {
    dbal_type type;
    size_t len; /* bytes of text (without NUL) or blob */
    union {
        int b;
        int64_t i;
        double d;
        const char *s;
        const void *p;
    } u;
} dbal_value;

/* A parameter list: a borrowed array and its length. */
typedef struct dbal_params {
    const dbal_value *values;
    size_t count;
} dbal_params;

/* SQL NULL, for a parameter of any type. The value constructors are inline,
 * need no library call and allocate nothing; any thread. */
static inline dbal_value dbal_null(void)
{
    dbal_value v;
    v.type = DBAL_TYPE_NULL;
    v.len = 0;
    v.u.i = 0;
    return v;
}

/* A boolean: any non-zero b is true. PostgreSQL receives a boolean; SQLite,
 * which has none, stores 1 or 0. */
static inline dbal_value dbal_bool(int b)
{
    dbal_value v = dbal_null();
    v.type = DBAL_TYPE_BOOL;
    v.u.b = b ? 1 : 0;
    return v;
}

/* A 64-bit integer (PostgreSQL receives an int8; SQLite an INTEGER). */
static inline dbal_value dbal_int64(int64_t i)
{
    dbal_value v = dbal_null();
    v.type = DBAL_TYPE_INT64;
    v.u.i = i;
    return v;
}

/* A double (PostgreSQL receives a float8; SQLite a REAL). Infinities are
 * sent as they are; NaN too, but SQLite makes it NULL. */
static inline dbal_value dbal_double(double d)
{
    dbal_value v = dbal_null();
    v.type = DBAL_TYPE_DOUBLE;
    v.u.d = d;
    return v;
}

/* Text of a known length; it may contain no NUL byte on PostgreSQL. A NULL
 * pointer gives SQL NULL, as None does in Python drivers. */
static inline dbal_value dbal_textn(const char *s, size_t len)
{
    dbal_value v = dbal_null();
    if (s) {
        v.type = DBAL_TYPE_TEXT;
        v.len = len;
        v.u.s = s;
    }
    return v;
}

/* NUL-terminated UTF-8 text. A NULL pointer gives SQL NULL. */
static inline dbal_value dbal_text(const char *s)
{
    size_t n = 0;
    if (s)
        while (s[n])
            n++;
    return dbal_textn(s, n);
}

/* Bytes, NUL bytes allowed. A NULL pointer gives SQL NULL; a non-NULL
 * pointer with length 0 gives an empty blob. */
static inline dbal_value dbal_blob(const void *p, size_t len)
{
    dbal_value v = dbal_null();
    if (p) {
        v.type = DBAL_TYPE_BLOB;
        v.len = len;
        v.u.p = p;
    }
    return v;
}

/*
 * A timestamp with time zone: an instant, in microseconds since 1970-01-01
 * 00:00:00 UTC (DBAL_INFINITY, DBAL_NEG_INFINITY). PostgreSQL receives a
 * timestamptz; SQLite the text "YYYY-MM-DD HH:MM:SS.ffffff+00:00" (in
 * UTC), years 0 to 9999 only (others: DBAL_EDATA, 22008).
 */
static inline dbal_value dbal_timestamptz(int64_t microseconds)
{
    dbal_value v = dbal_null();
    v.type = DBAL_TYPE_TIMESTAMPTZ;
    v.u.i = microseconds;
    return v;
}

/* A timestamp without time zone: a wall-clock reading, counted in
 * microseconds from 1970-01-01 00:00:00 as if it were UTC. PostgreSQL
 * receives a timestamp; SQLite the text "YYYY-MM-DD HH:MM:SS.ffffff",
 * years 0 to 9999 only. */
static inline dbal_value dbal_timestamp(int64_t microseconds)
{
    dbal_value v = dbal_timestamptz(microseconds);
    v.type = DBAL_TYPE_TIMESTAMP;
    return v;
}

/* A date, in days since 1970-01-01 (DBAL_INFINITY, DBAL_NEG_INFINITY).
 * PostgreSQL receives a date; SQLite the text "YYYY-MM-DD", years 0 to
 * 9999 only. */
static inline dbal_value dbal_date(int64_t days)
{
    dbal_value v = dbal_timestamptz(days);
    v.type = DBAL_TYPE_DATE;
    return v;
}

/* A time of day, in microseconds since midnight, 0 to 86400000000
 * (24:00:00) inclusive (others: DBAL_EDATA, 22008). PostgreSQL receives a
 * time; SQLite the text "HH:MM:SS.ffffff". */
static inline dbal_value dbal_time(int64_t microseconds)
{
    dbal_value v = dbal_timestamptz(microseconds);
    v.type = DBAL_TYPE_TIME;
    return v;
}

/*
 * An exact decimal as text of a known length: [+-]digits[.digits][e[+-]n],
 * NaN, Infinity or -Infinity (other text: DBAL_EDATA, 22P02). It never
 * goes through a double. PostgreSQL receives a numeric; SQLite text that
 * its NUMERIC affinity stores as INTEGER or REAL, which keeps 15
 * significant digits: a value with more is refused there (DBAL_ERANGE,
 * 22003) unless it is an integer within int64. A NULL pointer gives SQL
 * NULL.
 */
static inline dbal_value dbal_numericn(const char *s, size_t len)
{
    dbal_value v = dbal_textn(s, len);
    if (s)
        v.type = DBAL_TYPE_NUMERIC;
    return v;
}

/* dbal_numericn() of NUL-terminated text. */
static inline dbal_value dbal_numeric(const char *s)
{
    dbal_value v = dbal_text(s);
    if (s)
        v.type = DBAL_TYPE_NUMERIC;
    return v;
}

/* A UUID, 16 bytes borrowed as a blob's are. PostgreSQL receives a uuid;
 * SQLite the text of 36 lower-case characters (which sorts as PostgreSQL
 * sorts uuids). A NULL pointer gives SQL NULL. */
static inline dbal_value dbal_uuid(const unsigned char *bytes16)
{
    dbal_value v = dbal_blob(bytes16, 16);
    if (bytes16)
        v.type = DBAL_TYPE_UUID;
    return v;
}

/* JSON text of a known length, passed as text: PostgreSQL receives it as a
 * literal of unknown type, so json and jsonb columns both take it; SQLite
 * stores the text (its JSON functions read it). A NULL pointer gives SQL
 * NULL. */
static inline dbal_value dbal_jsonn(const char *s, size_t len)
{
    dbal_value v = dbal_textn(s, len);
    if (s)
        v.type = DBAL_TYPE_JSON;
    return v;
}

/* dbal_jsonn() of NUL-terminated text. */
static inline dbal_value dbal_json(const char *s)
{
    dbal_value v = dbal_text(s);
    if (s)
        v.type = DBAL_TYPE_JSON;
    return v;
}

/*
 * DBAL_ARGS(v1, v2, ...) builds a dbal_params from values in place; the array
 * lives until the end of the enclosing full expression, which covers the
 * call it is passed to. DBAL_NOARGS is the empty list.
 */
#ifdef __cplusplus
} /* extern "C" */
inline dbal_params dbal__params_of(std::initializer_list<dbal_value> l)
{
    dbal_params p = {l.begin(), l.size()};
    return p;
}
#define DBAL_ARGS(...) dbal__params_of({__VA_ARGS__})
#define DBAL_NOARGS (dbal_params{nullptr, 0})
extern "C" {
#else
#define DBAL_ARGS(...)                                \
    ((dbal_params){(const dbal_value[]){__VA_ARGS__}, \
                   sizeof((const dbal_value[]){__VA_ARGS__}) / sizeof(dbal_value)})
#define DBAL_NOARGS ((dbal_params){NULL, 0})
#endif

/* Builds a dbal_params from an array the caller owns; works in C and C++. */
static inline dbal_params dbal_params_array(const dbal_value *values, size_t count)
{
    dbal_params p;
    p.values = values;
    p.count = count;
    return p;
}

/* ---- engine ------------------------------------------------------------------ */

/*
 * Opens an engine for a URL: parses it, loads the driver for its scheme, and
 * sets up the connection pool. No connection is made yet (the first session
 * that runs a statement makes one), so a reachable database is not needed to
 * open an engine; a malformed URL, an unknown scheme or a missing driver fail
 * here. On success *out owns the engine until dbal_engine_close(). On failure
 * *out is NULL and err (optional) says why.
 * Returns DBAL_OK, DBAL_EURL, DBAL_ENODRIVER, DBAL_EDRIVER, DBAL_ENOMEM,
 * DBAL_EINVAL. Any thread.
 */
DBAL_API int dbal_engine_open(dbal_engine **out, const char *url, dbal_error *err);

/*
 * As dbal_engine_open(), with the URL read from the environment variable
 * `var` (for example "DATABASE_URL"); when it is unset or empty, `fallback` is
 * used (for example "sqlite::memory:"). A NULL fallback makes an unset
 * variable DBAL_EURL. Returns what dbal_engine_open() returns. Any thread,
 * but getenv() is not safe against a concurrent setenv().
 */
DBAL_API int dbal_engine_open_env(dbal_engine **out, const char *var, const char *fallback, dbal_error *err);

/*
 * Closes the engine and every idle pooled connection. All sessions must be
 * closed first: sessions still open are reported through the error text of
 * the return value and keep their connections, which are closed when those
 * sessions close. Accepts NULL. Returns DBAL_OK, or DBAL_EMISUSE when sessions
 * were still open (the engine is freed once the last of them closes).
 */
DBAL_API int dbal_engine_close(dbal_engine *engine);

/* The driver's name ("sqlite", "postgresql") of an engine; NULL for a NULL
 * engine. Owned by the engine; valid until it is closed. Any thread. */
DBAL_API const char *dbal_engine_driver(const dbal_engine *engine);

/*
 * Hands a command, one line of text in the driver's own words, to the
 * engine's driver, for drivers that take commands, such as the testing
 * driver's faults and isolation (dbal/testing.h wraps them). Up to
 * reply_cap bytes of the driver's NUL-terminated answer go to reply
 * (optional: NULL with reply_cap 0). Returns DBAL_OK, DBAL_EINVAL (NULL
 * engine or command, or a command the driver does not know),
 * DBAL_EUNSUPPORTED (the driver takes no commands) or the driver's code;
 * err (optional) says why. Any thread.
 */
DBAL_API int dbal_engine_control(dbal_engine *engine, const char *command, char *reply, size_t reply_cap,
                                 dbal_error *err);

/* Counters of an engine's pool, filled by dbal_engine_stats_get(). */
typedef struct dbal_engine_stats {
    int open;           /* connections open now (idle + in use) */
    int idle;           /* connections in the pool, ready */
    int in_use;         /* connections held by sessions */
    int waiting;        /* sessions waiting for a connection */
    uint64_t checkouts; /* total successful checkouts */
    uint64_t timeouts;  /* total DBAL_EPOOLTIMEOUT answers */
    uint64_t connects;  /* total connections made */
    uint64_t discarded; /* connections closed because they were broken */
} dbal_engine_stats;

/*
 * Copies the pool's counters into the caller's *out, all read together under
 * the pool's lock, so they are consistent with one another. Any thread.
 * Returns DBAL_OK, or DBAL_EINVAL when engine or out is NULL.
 */
DBAL_API int dbal_engine_stats_get(dbal_engine *engine, dbal_engine_stats *out);

/* Defined when this header has dbal_engine_replica_count() and
 * dbal_engine_replica_stats_get(). */
#define DBAL_HAS_REPLICA_STATS 1

/* The number of read replicas the engine has (the replicas option, in its
 * order); 0 for a NULL engine or one without replicas. Any thread. */
DBAL_API size_t dbal_engine_replica_count(const dbal_engine *engine);

/*
 * The counters of replica index's own pool (0 .. dbal_engine_replica_count()
 * - 1, in the order the replicas option lists them), as
 * dbal_engine_stats_get() gives the primary's: dbal_engine_stats_get()
 * counts the primary's pool only. Any thread. Returns DBAL_OK, or
 * DBAL_EINVAL when engine or out is NULL or index is out of range.
 */
DBAL_API int dbal_engine_replica_stats_get(dbal_engine *engine, size_t index, dbal_engine_stats *out);

/*
 * Engine options set in code. Every field starts "unset" (negative) after
 * dbal_engine_options_init(); a set field overrides the URL's option of the
 * same name, which overrides the default. The URL options have the same
 * names, meanings and ranges (checked by one rule, with the same message):
 * counts up to 100000, times up to 1e9 seconds, never an infinity or NaN.
 * Defaults are in parentheses.
 */
typedef struct dbal_engine_options {
    size_t size;                     /* set by dbal_engine_options_init; lets fields be appended */
    int pool_size;                   /* connections kept in the pool (5) */
    int max_overflow;                /* more, opened under load, closed when given back (10) */
    double pool_timeout;             /* seconds a session waits for a connection (30) */
    double pool_recycle;             /* seconds before a connection is replaced (-1: never) */
    int pool_pre_ping;               /* 1: check a connection before handing it out (0) */
    int statement_cache_size;        /* prepared statements kept per connection (100) */
    double leak_detection_threshold; /* seconds a session may hold one (0: off) */
    int statement_timeout;           /* milliseconds a statement may run (0: none) */
    /* Read replicas, "host[:port],host[:port]..." ([v6]:port for IPv6):
     * the URL's replica= entries are replaced by these. NULL: unset. The
     * string is copied. See dbal_session_open_with(). */
    const char *replicas;
    /* 1: read-only sessions use the primary when no replica is up (the
     * default); 0: they fail with DBAL_ECONNECT. */
    int replica_fallback;
    /* What a connection's server session loses when a session gives it
     * back: DBAL_POOL_RESET_FULL (the default) or DBAL_POOL_RESET_ROLLBACK. */
    int pool_reset;
} dbal_engine_options;

/* pool_reset: everything a session can change in its server session is
 * undone before the connection serves another session (roles and session
 * authorization, settings, temporary tables, advisory locks, LISTEN,
 * cursors WITH HOLD, statements made with PREPARE, sequence state); README
 * "The connection pool" lists it. The default. */
#define DBAL_POOL_RESET_FULL 1
/* pool_reset: only the open transaction is rolled back, for applications
 * whose sessions never change session state. */
#define DBAL_POOL_RESET_ROLLBACK 2

/* Sets o->size and every option to "unset". Call it before setting fields:
 * o->size tells a newer library which fields the caller's header had.
 * Accepts NULL. Any thread. */
DBAL_API void dbal_engine_options_init(dbal_engine_options *o);
/* dbal_engine_open() with options from code; opts may be NULL. Options out
 * of range, or a struct not set up by dbal_engine_options_init(), are
 * DBAL_EINVAL; otherwise returns what dbal_engine_open() returns. */
DBAL_API int dbal_engine_open_with(dbal_engine **out, const char *url, const dbal_engine_options *opts,
                                   dbal_error *err);

/* What the pool tells an event hook. */
typedef enum dbal_event {
    DBAL_EVENT_CONNECT = 1,  /* a new connection was made */
    DBAL_EVENT_CHECKOUT = 2, /* a session took a connection */
    DBAL_EVENT_CHECKIN = 3,  /* a session gave one back */
    DBAL_EVENT_DISCARD = 4,  /* a broken, recycled or surplus connection was closed */
    DBAL_EVENT_TIMEOUT = 5,  /* a session gave up waiting (DBAL_EPOOLTIMEOUT) */
    DBAL_EVENT_LEAK = 6      /* a session held a connection past leak_detection_threshold */
} dbal_event;

/*
 * dbal_engine_set_event_hook() makes the pool call fn(userdata, event, label)
 * for each dbal_event; fn NULL removes the hook. The pool calls it on the
 * thread of the session concerned, with no lock held; it must not block for
 * long. `label` is the session's label (see dbal_session_open_labeled) or "".
 * Set it before sessions are opened: the pool reads the hook without a lock.
 * Accepts a NULL engine (no effect).
 */
typedef void (*dbal_event_fn)(void *userdata, dbal_event event, const char *label);
DBAL_API void dbal_engine_set_event_hook(dbal_engine *engine, dbal_event_fn fn, void *userdata);

/*
 * Replaces the allocator of dbal and its drivers' own structures (not of
 * libpq or SQLite, which keep theirs). Call it before any other dbal call,
 * once; all three functions are needed (NULL restores the C library's).
 * Their contracts are those of malloc, realloc and free. Not thread-safe:
 * call it while no other thread uses dbal.
 */
DBAL_API void dbal_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                                 void (*free_fn)(void *));

/*
 * Quotes an identifier (a table or column name chosen at run time) for SQL
 * on every driver: wraps it in double quotes and doubles any inside. Values
 * never need this: pass them as parameters. Writes a NUL-terminated result
 * to out. Returns DBAL_OK, DBAL_EINVAL (NULL, empty, or longer than 1024
 * bytes) or DBAL_ERANGE (cap too small; out is then ""). Any thread.
 */
DBAL_API int dbal_quote_ident(const char *name, char *out, size_t cap);

/* ---- logging ----------------------------------------------------------------- */

/* The level of a log line. dbal logs leaked sessions and engines closed with
 * sessions open at DBAL_LOG_WARNING and, with echo=1, each statement at
 * DBAL_LOG_INFO. */
typedef enum dbal_log_level {
    DBAL_LOG_ERROR = 1,
    DBAL_LOG_WARNING = 2,
    DBAL_LOG_INFO = 3,
    DBAL_LOG_DEBUG = 4
} dbal_log_level;

/*
 * dbal_set_log() sets where dbal's log lines go, process-wide: fn(userdata,
 * level, line) with one line of text, no newline, valid during the call. The
 * default writes errors, warnings and info lines to stderr as "dbal: level:
 * line"; fn NULL silences dbal. Lines never contain a password. Any thread;
 * fn may be called from any thread, so it must be thread-safe, and a line
 * logged while the hook is replaced may still reach the previous one, so its
 * userdata must outlive the change.
 */
typedef void (*dbal_log_fn)(void *userdata, dbal_log_level level, const char *line);
DBAL_API void dbal_set_log(dbal_log_fn fn, void *userdata);

/* ---- driver registration -------------------------------------------------- */

struct dbal_driver;
struct dbal_host;
/* The entry point a driver module exports (see dbal/driver.h). */
typedef const struct dbal_driver *(*dbal_driver_entry_fn)(const struct dbal_host *host);

/*
 * Registers a driver under `name` (a scheme, [a-z][a-z0-9_]*), for static
 * builds and test doubles; it takes precedence over modules on disk. The
 * driver table is checked as a loaded module's would be. Any thread.
 * Returns DBAL_OK, DBAL_EINVAL (bad name), DBAL_EDRIVER (table refused),
 * DBAL_EMISUSE (name already registered), DBAL_ENOMEM.
 */
DBAL_API int dbal_register_driver(const char *name, dbal_driver_entry_fn entry, dbal_error *err);

/* ---- sessions ------------------------------------------------------------- */

/*
 * Opens a session: one unit of work on one thread. The pooled connection is
 * taken lazily, on the first statement, and given back on close. On success
 * *out owns the session until dbal_session_close(); on failure it is NULL
 * and err (optional) says why. Any thread.
 * Returns DBAL_OK, DBAL_EINVAL, DBAL_ENOMEM, DBAL_EMISUSE (engine closing).
 */
DBAL_API int dbal_session_open(dbal_engine *engine, dbal_session **out, dbal_error *err);

/*
 * As dbal_session_open(), with a label (copied; at most 63 bytes kept) that
 * leak reports and event hooks name, such as DBAL_HERE ("file.c:123") or a
 * request's route. A NULL label is "". Returns what dbal_session_open()
 * returns.
 */
DBAL_API int dbal_session_open_labeled(dbal_engine *engine, dbal_session **out, const char *label,
                                       dbal_error *err);

/* DBAL_HERE: a session label naming the place in the source, "file.c:123". */
#define DBAL__STR2(x) #x
#define DBAL__STR(x) DBAL__STR2(x)
#define DBAL_HERE (__FILE__ ":" DBAL__STR(__LINE__))

/* Defined when this header has read replicas (dbal_session_open_with(),
 * DBAL_SESSION_READ_ONLY, the replicas engine options). */
#define DBAL_HAS_REPLICAS 1

/* Flag of dbal_session_open_with(). Reads only: routed to a read replica
 * of the engine (round-robin over the replicas that are up; a replica that
 * refused a connection is left alone for a few seconds, one that is full,
 * or whose connections are all in use, is passed over while another can
 * serve), or to the primary when none is up and replica_fallback allows
 * it; the whole checkout within one pool_timeout. Writes fail with
 * DBAL_EREADONLY wherever the session runs. A replica lags behind the
 * primary: a replica session may not see what another session has just
 * committed. */
#define DBAL_SESSION_READ_ONLY 0x01u

/*
 * dbal_session_open_with: as dbal_session_open_labeled(), with
 * DBAL_SESSION_* flags (0: a session on the primary, as dbal_session_open()
 * opens; label may be NULL). Without replicas, DBAL_SESSION_READ_ONLY
 * sessions use the primary, read-only. Returns DBAL_OK, DBAL_EINVAL (an
 * unknown flag), DBAL_ENOMEM, DBAL_EMISUSE (engine closing). Any thread.
 */
DBAL_API int dbal_session_open_with(dbal_engine *engine, dbal_session **out, unsigned flags,
                                    const char *label, dbal_error *err);

/*
 * Interrupts the statement the session is running, from any thread (the
 * session must stay open during the call). The interrupted call returns
 * DBAL_ECANCELED. Nothing running: no effect. Returns at once, whatever the
 * server does: DBAL_OK means the request is on its way, or
 * DBAL_EUNSUPPORTED when the driver cannot cancel.
 */
DBAL_API int dbal_session_cancel(dbal_session *s);

/*
 * Sets the statement timeout of this session in milliseconds (0: none),
 * overriding the engine's statement_timeout until the session closes. A
 * statement that runs longer fails with DBAL_ETIMEOUT; a driver that cannot
 * time statements out fails them with DBAL_EUNSUPPORTED instead. On
 * PostgreSQL it also bounds the wait for a server that does not answer at
 * all: after the timeout plus 1000 ms of silence the connection is given up
 * and the call fails with DBAL_ETIMEOUT when the statement cannot have been
 * applied (inside a transaction), else DBAL_ECONNLOST (README: a hung
 * server). A commit still waiting for a synchronous standby when the
 * timeout passes is canceled by the driver and returns DBAL_ENOTREPLICATED
 * (README: Failover). Returns DBAL_OK, DBAL_EINVAL (negative milliseconds) or
 * DBAL_EMISUSE (NULL session).
 */
DBAL_API int dbal_session_set_timeout(dbal_session *s, int milliseconds);

/*
 * Closes the session: rolls back an open transaction, then gives the
 * connection back to the pool (a connection that cannot be reset is closed
 * instead). Any dbal_rows still open on it are closed. The session and its
 * error are freed. Accepts NULL.
 */
DBAL_API void dbal_session_close(dbal_session *s);

/* The session's last error: code DBAL_OK when the last call succeeded.
 * Owned by the session; valid until the next call on it or its close. Never
 * NULL: a NULL session gives a static DBAL_EMISUSE error. */
DBAL_API const dbal_error *dbal_session_error(const dbal_session *s);

/* ---- transactions ----------------------------------------------------------- */

/* Options of dbal_begin_with(), or-ed; 0 is the database's default. */
#define DBAL_TX_READ_COMMITTED 0x01u  /* PostgreSQL; SQLite: EUNSUPPORTED */
#define DBAL_TX_REPEATABLE_READ 0x02u /* PostgreSQL; SQLite: EUNSUPPORTED */
#define DBAL_TX_SERIALIZABLE 0x04u    /* both: SQLite is always serializable */
#define DBAL_TX_READ_ONLY 0x08u       /* both: SQLite uses query_only */
#define DBAL_TX_DEFERRABLE 0x10u      /* PostgreSQL, with SERIALIZABLE READ ONLY */

/*
 * Begins a transaction; inside a transaction it makes a SAVEPOINT instead, and
 * the matching commit/rollback releases / rolls back to it. The session takes
 * its connection now if it has none, so pool and connection errors
 * (DBAL_EPOOLTIMEOUT, DBAL_ECONNECT) can come from here.
 * Returns DBAL_OK or an error code (the session's error has details).
 */
DBAL_API int dbal_begin(dbal_session *s);
/* As dbal_begin() with DBAL_TX_* options. Unknown option bits are
 * DBAL_EINVAL; options the driver cannot honour DBAL_EUNSUPPORTED; options
 * on a nested begin DBAL_EMISUSE (a savepoint cannot change them). */
DBAL_API int dbal_begin_with(dbal_session *s, unsigned options);

/*
 * Commits the innermost transaction level. If a statement failed inside the
 * transaction, it is rolled back instead and DBAL_ETXFAILED is returned, as
 * PostgreSQL does on both drivers. Without a transaction: DBAL_EMISUSE.
 * Otherwise returns DBAL_OK or the database's error (a deferred constraint,
 * a serialization failure, a lost connection: DBAL_ECONNLOST), or
 * DBAL_ENOTREPLICATED: committed on the primary, but its wait for the
 * synchronous standby was cut short (timeout, cancel) before the standby
 * confirmed it, so a failover may lose it (README: Failover).
 */
DBAL_API int dbal_commit(dbal_session *s);
/* Rolls back the innermost level (to its savepoint when nested). Returns
 * DBAL_OK, DBAL_EMISUSE without a transaction, or the database's error. A
 * rollback that succeeds leaves the session's last error as it was, so the
 * failure that caused it can still be read. */
DBAL_API int dbal_rollback(dbal_session *s);
/* Nesting depth: 0 outside a transaction, 1 in one, 2+ in savepoints; 0 for
 * a NULL session. */
DBAL_API int dbal_tx_depth(const dbal_session *s);

/* ---- statements ------------------------------------------------------------- */

/*
 * Runs one statement with `?` placeholders bound to `params`. Rows it returns
 * are discarded. `affected` (optional) receives the rows inserted, updated or
 * deleted. A placeholder count that does not match params.count is
 * DBAL_EMISUSE, before anything is sent.
 * Returns DBAL_OK or an error code (details in dbal_session_error()); an
 * autocommit statement, or COMMIT/END run as SQL, can return
 * DBAL_ENOTREPLICATED as dbal_commit does (committed on the primary only).
 */
DBAL_API int dbal_exec(dbal_session *s, const char *sql, dbal_params params, int64_t *affected);

/*
 * Batches: one statement run once per row of parameters, the way a bulk
 * insert should be done. On PostgreSQL the rows travel in pipeline mode
 * (many statements per round trip); on SQLite one prepared statement is
 * reused. The batch is all or nothing: outside a transaction it runs in one
 * of its own; inside the caller's transaction a failure fails that
 * transaction (roll it back, as after any failed statement). `affected`
 * (optional) receives the total rows affected; `failed_row` (optional)
 * receives the 0-based index of the row that failed, or (size_t)-1: also
 * when the failure is not a row's (a lost connection, a cancel, a timeout,
 * a lock or serialization conflict, a statement refused whatever its
 * values).
 * Returns DBAL_OK or the code of the failure (details in
 * dbal_session_error()); a NULL rows or fn is DBAL_EINVAL. Outside a
 * transaction it can return DBAL_ENOTREPLICATED as dbal_commit does: the
 * batch committed on the primary only, and `affected` has its total.
 *
 * dbal_exec_batch takes nrows * ncols values, row after row.
 */
#define DBAL_HAS_BATCH 1
DBAL_API int dbal_exec_batch(dbal_session *s, const char *sql, const dbal_value *rows, size_t ncols,
                             size_t nrows, int64_t *affected, size_t *failed_row);

/*
 * dbal_exec_batch_fn() is dbal_exec_batch() with rows produced by a
 * callback: fn fills values[0..ncols) for row `row` (borrowed bytes must stay
 * valid until the next call of fn or the end of the batch) and returns
 * DBAL_OK, DBAL_DONE when there are no more rows, or an error code that
 * stops the batch and is returned (failed_row is then (size_t)-1). fn runs
 * on the caller's thread, during the call.
 */
typedef int (*dbal_batch_fn)(void *userdata, size_t row, dbal_value *values);
DBAL_API int dbal_exec_batch_fn(dbal_session *s, const char *sql, size_t ncols, dbal_batch_fn fn,
                                void *userdata, int64_t *affected, size_t *failed_row);

/*
 * Runs a query and returns a cursor over its rows in *out, streamed from the
 * database. Errors the database reports before the first row are returned
 * here, on every driver. The caller closes the cursor with dbal_rows_close();
 * while it is open, the session may run other statements. On failure *out is
 * NULL. Returns DBAL_OK or an error code (details in dbal_session_error()).
 */
DBAL_API int dbal_query(dbal_session *s, const char *sql, dbal_params params, dbal_rows **out);

/*
 * The id of the last row inserted on this session's connection, in *out:
 * SQLite's rowid; on PostgreSQL the value last produced by a sequence in this
 * session (lastval()), DBAL_EMISUSE when none was. Prefer RETURNING, which
 * works on both databases. Returns DBAL_OK, DBAL_EMISUSE (no statement has
 * run on the session yet), DBAL_EINVAL (out NULL), DBAL_EUNSUPPORTED (the
 * driver has none) or the driver's error.
 */
DBAL_API int dbal_last_insert_id(dbal_session *s, int64_t *out);

/*
 * dbal_transact() runs a unit of work: opens a session, begins, calls
 * fn(session, userdata) on the caller's thread, commits when fn returns
 * DBAL_OK and rolls back otherwise; the connection is always given back.
 * When the transaction fails with DBAL_ESERIALIZATION or DBAL_EDEADLOCK (or
 * DBAL_EBUSY on SQLite), the whole unit is run again, up to `retries` more
 * times, so fn must be safe to repeat. fn must not close the session. Returns
 * fn's code, the commit's, or DBAL_EINVAL (engine or fn NULL) and the codes of
 * dbal_session_open(). err (optional) receives the details of a failure.
 * Any thread.
 */
typedef int (*dbal_transact_fn)(dbal_session *s, void *userdata);
DBAL_API int dbal_transact(dbal_engine *engine, dbal_transact_fn fn, void *userdata, unsigned retries,
                           dbal_error *err);

/* ---- migrations ------------------------------------------------------------- */

/*
 * Schema migrations: a directory of versioned SQL files, applied in order,
 * each in a transaction of its own, and recorded in a history table, so that
 * one history runs on SQLite in tests and on PostgreSQL in production.
 *
 * Files. NNNN_name.sql applies version NNNN (a positive integer, leading
 * zeros optional; name: letters, digits, '_' and '-'); NNNN_name.down.sql,
 * optional, reverts it. NNNN_name.<driver>.sql and
 * NNNN_name.down.<driver>.sql are variants for one database (the URL's
 * scheme, postgresql or sqlite, whatever driver a "+name" picks: the
 * name dbal_engine_driver() gives for the in-tree drivers), used in place
 * of the plain file there. Every version needs an up file for the
 * engine's database (a file of comments only applies nothing and records the
 * version). Every *.sql file of the directory must be named so: a malformed
 * name, two names for one version, or two files for one role are
 * DBAL_EINVAL naming the files. Other files (README.md, .gitkeep), hidden
 * files and directories are ignored.
 *
 * Statements are cut at ';' by the SQL scanner of both dialects (quotes,
 * comments, dollar quotes, CREATE TRIGGER ... BEGIN ... END bodies) and run
 * with dbal_exec(), so a literal `?` is written `??` (PostgreSQL's jsonb
 * operators). BEGIN, COMMIT, ROLLBACK and END statements are refused
 * (DBAL_EINVAL): each migration is one transaction of dbal's, with its
 * history row. A comment line `-- dbal:no-transaction` among a file's
 * first comment lines runs its statements outside a transaction, one by
 * one (for CREATE INDEX CONCURRENTLY); if one fails, those before it stay
 * applied and nothing is recorded, so write them to be re-run (IF NOT
 * EXISTS). Any other `-- dbal:` directive is DBAL_EINVAL.
 *
 * History. The table (dbal_migrations by default) holds version BIGINT
 * PRIMARY KEY, name, checksum (the SHA-256 of the file as applied, in hex),
 * applied_at (ISO 8601 UTC text) and duration_ms; it is created when
 * missing. A failed migration is rolled back: the database stays at the
 * version before it, and the error names the file and the line of the
 * failing statement, with the database's message; its code and SQLSTATE
 * are the database's (DBAL_ESYNTAX for a syntax error).
 *
 * Several processes. On PostgreSQL, up and down hold a session advisory
 * lock (its key derived from the history table's schema-qualified name)
 * while they work, and read the history again once they have it: the
 * others wait, then find nothing to do. Through PgBouncer in transaction mode a session lock is not
 * held: migrate through a direct URL. On SQLite (and other drivers) each
 * migration's transaction takes the database's write lock first and checks
 * again that its version is not yet recorded, so each version is applied
 * once, by whichever process gets there first. Either wait is bounded by
 * lock_timeout_ms: then DBAL_EBUSY. A server that stops answering while
 * it is waited on ends the wait too: DBAL_ETIMEOUT after the time left
 * (at least 1 s on PostgreSQL, 100 ms on SQLite, so that 0 is one try)
 * plus the statement timeout's grace (DBAL_TIMEOUT_GRACE_MS of
 * dbal/driver.h, 1000 ms).
 */
#define DBAL_HAS_MIGRATE 1

/* The history table's default name. */
#define DBAL_MIGRATE_TABLE "dbal_migrations"

/* Where a version stands: its file applied as it is now, not yet applied,
 * applied from a file that has changed since (the checksums differ), or
 * applied from a file that is no longer in the directory. */
typedef enum dbal_migration_state {
    DBAL_MIGRATION_APPLIED = 1,
    DBAL_MIGRATION_PENDING = 2,
    DBAL_MIGRATION_CHANGED = 3,
    DBAL_MIGRATION_MISSING = 4
} dbal_migration_state;

/* One version, as the directory and the history have it. Every pointer is
 * owned by dbal and valid during the callback it is given to. */
typedef struct dbal_migration {
    int64_t version;
    const char *name; /* from the file's name, or from the history when missing */
    dbal_migration_state state;
    const char *file;             /* the up file used on this driver; NULL when missing */
    const char *down_file;        /* the down file used on this driver; NULL when there is none */
    const char *checksum;         /* the up file's SHA-256, 64 hex digits; NULL when missing */
    const char *applied_checksum; /* as recorded; NULL when not applied */
    const char *applied_at;       /* as recorded, "2024-05-01T12:00:00.123Z"; NULL when not applied */
    int64_t duration_ms;          /* as recorded; -1 when not applied */
    int no_transaction;           /* the file has the -- dbal:no-transaction directive */
} dbal_migration;

/* What dbal_migrate_up() and dbal_migrate_down() tell their progress
 * callback: a migration applied and recorded; reverted (its down file run
 * and its record deleted); repaired (the changed file's checksum recorded);
 * skipped, because another process applied or reverted it first. Values are
 * only appended. */
typedef enum dbal_migrate_event {
    DBAL_MIGRATE_APPLIED = 1,
    DBAL_MIGRATE_REVERTED = 2,
    DBAL_MIGRATE_REPAIRED = 3,
    DBAL_MIGRATE_SKIPPED = 4
} dbal_migrate_event;

/* The callbacks, called on the caller's thread during the call:
 * dbal_migrate_fn gets a version of dbal_migrate_status(),
 * dbal_migrate_progress_fn an event of dbal_migrate_up() or _down(), and
 * dbal_migrate_sql_fn a dry run's statement (`file` and `line` say where it
 * starts; the SQL has no final ';'). */
typedef void (*dbal_migrate_fn)(void *userdata, const dbal_migration *m);
typedef void (*dbal_migrate_progress_fn)(void *userdata, dbal_migrate_event event, const dbal_migration *m);
typedef void (*dbal_migrate_sql_fn)(void *userdata, const char *file, int line, const char *sql);

/*
 * Options of the migration calls; NULL options are the defaults. Set them
 * up with dbal_migrate_options_init(), then set fields.
 */
typedef struct dbal_migrate_options {
    size_t size;                       /* set by dbal_migrate_options_init; lets fields be appended */
    const char *table;                 /* history table, "name" or "schema.name" (NULL: DBAL_MIGRATE_TABLE) */
    int lock_timeout_ms;               /* wait for another process's migration (-1: 60000; 0: one try) */
    int repair;                        /* 1: up records changed files' checksums instead of refusing */
    int ignore_missing;                /* 1: up goes on when applied versions have no file */
    dbal_migrate_sql_fn dry_run;       /* not NULL: up and down give it their statements, change nothing */
    dbal_migrate_progress_fn progress; /* optional: each migration applied, reverted, repaired or skipped */
    void *userdata;                    /* given to dry_run and progress */
} dbal_migrate_options;

/* Sets o->size and every migration option to its default (no table name:
 * DBAL_MIGRATE_TABLE; lock_timeout_ms -1: 60000; no repair, no
 * ignore_missing, no callbacks). Accepts NULL. Any thread. */
DBAL_API void dbal_migrate_options_init(dbal_migrate_options *o);

/*
 * Applies the pending migrations of directory `dir`, in version order:
 * all of them (target 0), those up to and including version target
 * (target > 0, which must be a version of the directory), or the next
 * -target of them (target < 0). Before anything runs, every version is
 * checked against the history: an applied file that has changed is
 * DBAL_EMIGRATION naming it and both checksums (unless opts->repair, which
 * records the new checksum), and an applied version whose file is gone is
 * DBAL_EMIGRATION (unless opts->ignore_missing). With opts->dry_run the
 * statements of what would be applied are given to it in order and nothing
 * is changed, not even the history table made. Opens one session of its
 * own on the engine. err (optional) receives the details of a failure.
 * Returns DBAL_OK, DBAL_EINVAL (arguments, the directory, a file, the
 * target), DBAL_EMIGRATION, DBAL_EBUSY (lock_timeout_ms passed), DBAL_ENOMEM,
 * or the code of the failing statement or connection. Any thread.
 */
DBAL_API int dbal_migrate_up(dbal_engine *engine, const char *dir, int64_t target,
                             const dbal_migrate_options *opts, dbal_error *err);

/*
 * Reverts applied migrations, the highest version first, each with its
 * down file in a transaction of its own (or not, by its directive) that
 * also deletes its history row: those above version target (target >= 0;
 * 0 reverts them all), or the last -target of them (target < 0; -1 is one
 * step). Each one must have a down file for the engine's driver: a version
 * without one is DBAL_EINVAL naming it, before anything runs. Checksums
 * are not checked (reverting and applying again is how an edited
 * migration is re-run). opts, the lock and the codes are dbal_migrate_up()'s.
 */
DBAL_API int dbal_migrate_down(dbal_engine *engine, const char *dir, int64_t target,
                               const dbal_migrate_options *opts, dbal_error *err);

/*
 * Calls fn(userdata, m) for every version the directory or the history
 * knows, in version order, with its state: applied, pending, changed or
 * missing. Reads only (no lock; a missing history table means nothing is
 * applied); opts gives the table. Returns DBAL_OK, DBAL_EINVAL,
 * DBAL_ENOMEM or the database's error. Any thread.
 */
DBAL_API int dbal_migrate_status(dbal_engine *engine, const char *dir, const dbal_migrate_options *opts,
                                 dbal_migrate_fn fn, void *userdata, dbal_error *err);

/* ---- asynchronous API (event loops) ------------------------------------------ */

/*
 * Many statements in flight on one thread, for servers built around an event
 * loop (epoll, libuv, libev). A dbal_async context belongs to one engine and
 * one loop thread; it exposes ONE file descriptor, dbal_async_fd(), that the
 * application watches for readability in its own loop (it aggregates the
 * database sockets, the completion signals of worker threads and the
 * timers); when it is readable, the application calls dbal_async_process(),
 * which does the I/O that is ready and calls the completion callbacks.
 *
 * On PostgreSQL this is libpq's non-blocking interface in pipeline mode: the
 * statements of one session travel back to back, new connections are
 * opened without blocking (within pool_timeout), no thread is started
 * (only pool_pre_ping's check of an idle connection runs on a worker
 * thread, and so do new connections of an engine whose URL names several
 * hosts: libpq's non-blocking connect has no connect_timeout to move on
 * from a host that does not answer). On SQLite (and any driver without asynchronous slots) a few
 * worker threads of the context run the blocking calls, a session's queued
 * operations one after the other on one worker, and signal completions in
 * batches. The application code is the same for both.
 *
 * Rules:
 *   - A context, its sessions and operations are used by the thread that
 *     calls dbal_async_process(); callbacks run on it, inside that call.
 *   - A call that queues an operation and returns an error never calls the
 *     callback; one that returns DBAL_OK calls it exactly once, from a later
 *     dbal_async_process() (or dbal_async_close()), never from the call.
 *   - The operations of one session complete in the order they were queued.
 *   - Errors are those of the blocking API: same codes, SQLSTATE and rules
 *     (a statement that fails inside a transaction fails the transaction; a
 *     connection that died is discarded, never handed out again, and its
 *     pending operations fail with DBAL_ECONNLOST, never retried).
 */
#define DBAL_HAS_ASYNC 1

/* Opaque handles: dbal_async (a context: one engine, one loop thread),
 * dbal_async_session (its unit of work) and dbal_async_op (one queued
 * operation, for dbal_async_cancel), with the rules above. */
typedef struct dbal_async dbal_async;
typedef struct dbal_async_session dbal_async_session;
typedef struct dbal_async_op dbal_async_op;

/* What a callback receives; valid only during the callback. */
typedef struct dbal_async_result {
    int code;                    /* DBAL_OK or an error code; a commit (or an autocommit
                                    exec) can end DBAL_ENOTREPLICATED as the blocking
                                    API's: committed on the primary only */
    const dbal_error *error;     /* the details; code DBAL_OK on success */
    dbal_rows *rows;             /* dbal_async_query: every row, read with dbal_rows_next and
                                    the dbal_col_* getters; owned by dbal, do not close it.
                                    A getter that fails (a conversion) says why in `error`.
                                    NULL for other operations and on failure */
    int64_t affected;            /* dbal_async_exec: rows inserted, updated or deleted */
    dbal_async_session *session; /* where the operation ran; more may be queued on it */
    dbal_async_op *op;
} dbal_async_result;

/* A completion callback: called once per operation, on the loop thread,
 * from dbal_async_process() (or dbal_async_close()). */
typedef void (*dbal_async_fn)(void *userdata, const dbal_async_result *res);

/*
 * Opens a context on an engine for the calling thread's event loop. It holds
 * a reference on the engine: close it before the engine. Returns DBAL_OK,
 * DBAL_EINVAL, DBAL_ENOMEM, DBAL_EMISUSE (engine closing), DBAL_ERROR (the
 * system refused a descriptor; err says why).
 */
DBAL_API int dbal_async_open(dbal_engine *engine, dbal_async **out, dbal_error *err);

/*
 * The descriptor to watch for readability (level-triggered: it stays
 * readable while there is work for dbal_async_process; it may also be
 * readable once with none, when a deadline's timer rings for an operation
 * that has completed). Owned by the context; valid until dbal_async_close.
 * Never watch it for writability. -1 when a is NULL. Loop thread.
 */
DBAL_API int dbal_async_fd(const dbal_async *a);

/*
 * Does the I/O that is ready without blocking, fails operations whose time
 * is up, and calls the callbacks of completed operations. Call it when the
 * descriptor is readable (calling it at other times is harmless). Returns
 * DBAL_OK, or DBAL_EMISUSE when called from one of its own callbacks.
 */
DBAL_API int dbal_async_process(dbal_async *a);

/* Operations queued and not yet called back (0 when a is NULL). Loop
 * thread. */
DBAL_API int dbal_async_pending(const dbal_async *a);

/*
 * Closes the context: operations not yet complete are called back, those
 * that never reached the database with DBAL_ECANCELED, those that may have
 * (sent on PostgreSQL, whose connection is then discarded) with
 * DBAL_ECONNLOST: their outcome is unknown, as after a lost connection (a
 * commit may have committed); on SQLite the statement a worker runs is
 * interrupted and reports what happened. Sessions still open are closed. Called from a
 * callback, it happens when dbal_async_process returns (the handle must not
 * be used after that). Accepts NULL.
 */
DBAL_API void dbal_async_close(dbal_async *a);

/*
 * Opens a session on the context: a unit of work, as dbal_session_open()
 * does. Its pooled connection is checked out when the first operation is
 * queued, without blocking the loop: while the pool is exhausted the
 * operations wait (at most pool_timeout, then they fail with
 * DBAL_EPOOLTIMEOUT). As a blocking session does, it keeps the connection
 * until it is closed: close it when its unit of work is queued (see
 * dbal_async_session_close). Returns DBAL_OK, DBAL_EINVAL, DBAL_ENOMEM,
 * DBAL_EMISUSE (the context or the engine is closing).
 */
DBAL_API int dbal_async_session_open(dbal_async *a, dbal_async_session **out, dbal_error *err);

/*
 * As dbal_async_session_open(), with dbal_session_open_with()'s
 * DBAL_SESSION_* flags and label (NULL: none). A DBAL_SESSION_READ_ONLY
 * session is routed as a blocking one is: to a read replica that is up
 * (one that is full or whose connections are all in use is passed over
 * while another can serve), else to the primary, read-only there, when
 * replica_fallback allows it; the whole checkout, backoff from full
 * servers included, within one pool_timeout. Returns DBAL_OK, DBAL_EINVAL
 * (an unknown flag), DBAL_ENOMEM, DBAL_EMISUSE (the context or the engine
 * is closing).
 */
DBAL_API int dbal_async_session_open_with(dbal_async *a, dbal_async_session **out, unsigned flags,
                                          const char *label, dbal_error *err);

/*
 * Closes the session once its queued operations are complete (their
 * callbacks are still called); a transaction still open then is rolled back
 * and the connection goes back to the pool. The handle must not be used
 * after this call. Accepts NULL.
 */
DBAL_API void dbal_async_session_close(dbal_async_session *s);

/*
 * A time limit, in milliseconds from the moment each later operation of the
 * session is queued (0: none): an operation not complete by then is
 * interrupted and fails with DBAL_ETIMEOUT. On PostgreSQL, one the server
 * still does not answer 1000 ms later is given up with its connection:
 * DBAL_ETIMEOUT when nothing in flight can have been applied, else
 * DBAL_ECONNLOST. Returns DBAL_OK, DBAL_EINVAL (negative milliseconds) or
 * DBAL_EMISUSE (NULL session).
 */
DBAL_API int dbal_async_session_set_timeout(dbal_async_session *s, int milliseconds);

/*
 * Queue one statement with `?` placeholders bound to params (copied: the
 * caller's values may go away at once). cb (optional) gets the outcome with
 * userdata; *op (optional) receives a handle for dbal_async_cancel, valid
 * until the callback returns. Returns DBAL_OK, DBAL_EINVAL, DBAL_ENOMEM,
 * DBAL_EMISUSE (the session is closed), and the parameter checks of the
 * blocking calls: DBAL_EDATA (numeric text that is no number, a time out
 * of its day), DBAL_EUNSUPPORTED (a type the driver predates).
 */
DBAL_API int dbal_async_exec(dbal_async_session *s, const char *sql, dbal_params params, dbal_async_fn cb,
                             void *userdata, dbal_async_op **op);
/* As dbal_async_exec; the result's rows hold every row of the query. */
DBAL_API int dbal_async_query(dbal_async_session *s, const char *sql, dbal_params params, dbal_async_fn cb,
                              void *userdata, dbal_async_op **op);

/*
 * dbal_async_begin, dbal_async_commit, dbal_async_rollback: transaction
 * control, queued like statements. One level only: a begin
 * queued while a transaction is (or will be) open, and a commit or rollback
 * without one, are DBAL_EMISUSE at once (use SAVEPOINT statements for nested
 * levels). options are dbal_begin_with()'s. A commit of a transaction in
 * which a statement failed rolls back and completes with DBAL_ETXFAILED.
 * cb, userdata and op as for dbal_async_exec. Returns DBAL_OK, DBAL_EINVAL
 * (unknown options), DBAL_ENOMEM, DBAL_EMISUSE (as above, or the session is
 * closed).
 */
DBAL_API int dbal_async_begin(dbal_async_session *s, unsigned options, dbal_async_fn cb, void *userdata,
                              dbal_async_op **op);
DBAL_API int dbal_async_commit(dbal_async_session *s, dbal_async_fn cb, void *userdata, dbal_async_op **op);
DBAL_API int dbal_async_rollback(dbal_async_session *s, dbal_async_fn cb, void *userdata, dbal_async_op **op);

/*
 * Cancels an operation: one still waiting its turn never reaches the
 * database and is called back with DBAL_ECANCELED, in its turn (callbacks
 * always come in queue order); one the database is running is interrupted,
 * and fails with DBAL_ECANCELED unless it completed first (its callback
 * then says what happened). Inside a transaction a canceled (or timed-out)
 * operation fails the transaction as a failed statement does: the
 * operations after it fail with DBAL_ETXFAILED and the commit rolls back
 * and answers DBAL_ETXFAILED; when the canceled operation is the begin, the
 * operations up to its commit or rollback are not run (never autocommitted)
 * and fail with DBAL_ETXFAILED, the commit too, the rollback succeeds. A
 * queued rollback is not canceled. An op queued behind others of its session on
 * PostgreSQL is interrupted when its turn comes; as with any cancel, one
 * that completes just before the request arrives lets it reach the
 * statement sent after it. The connection stays usable. Returns at once,
 * whatever the server does: DBAL_OK, DBAL_EMISUSE (op NULL),
 * DBAL_EUNSUPPORTED (the driver cannot interrupt).
 */
DBAL_API int dbal_async_cancel(dbal_async_op *op);

/* ---- cursors ---------------------------------------------------------------- */

/* Advances to the next row: DBAL_ROW, DBAL_DONE, or an error code (details
 * in the session's error). After DBAL_DONE or an error there is no current
 * row. A NULL cursor is DBAL_EMISUSE. */
DBAL_API int dbal_rows_next(dbal_rows *r);
/* Closes the cursor and discards unread rows; pointers read from it become
 * invalid. Accepts NULL. */
DBAL_API void dbal_rows_close(dbal_rows *r);

/* Number of result columns, known before the first row; 0 for a NULL
 * cursor. */
DBAL_API int dbal_col_count(dbal_rows *r);
/* Column name, owned by the cursor, valid until it is closed; NULL when the
 * index is out of range. */
DBAL_API const char *dbal_col_name(dbal_rows *r, int col);
/* dbal_col_type() is the type of the current row's value in column col
 * (DBAL_TYPE_NULL for NULL): the column's logical type, the same on every
 * driver, so an int8 column is DBAL_TYPE_INT64 even where the driver reads
 * it as text, a PostgreSQL timestamptz and a SQLite column declared
 * TIMESTAMPTZ are DBAL_TYPE_TIMESTAMPTZ (README, "Dates, times, numerics,
 * UUIDs and JSON", lists the declared types SQLite's driver recognises).
 * dbal_col_is_null() is 1 when the value is NULL, 0 otherwise.
 * A column out of range, or no current row, reads as NULL. */
DBAL_API dbal_type dbal_col_type(dbal_rows *r, int col);
DBAL_API int dbal_col_is_null(dbal_rows *r, int col);

/*
 * dbal_col_int64(), dbal_col_double() and dbal_col_bool() read column col
 * (0-based) of the current row. Pointers that getters return are owned by
 * the cursor and valid until the next dbal_rows_next() or dbal_rows_close().
 * Conversions are the same on every driver: integers from integers, from
 * bools (0/1), from integral doubles and from text that is exactly an
 * integer; doubles from numbers (not bools) and numeric text (NaN,
 * Infinity); bools from integers 0/1 and from the text true/false, t/f,
 * yes/no, on/off, 1/0; text from any value: numbers in their shortest exact
 * decimal form, bools "t"/"f" (also a 0/1 in a SQLite column declared
 * BOOLEAN), blobs as their bytes, dates, times and UUIDs as
 * dbal_value_format() writes them. A numeric converts to int64 only when
 * it is exactly an integer ("19.00", not "19.50"), to double rounded; a
 * date, time, timestamp or UUID to none of them (DBAL_ETYPE): read them
 * with dbal_col_get_timestamp() and its kin below.
 * The plain getters return 0 / NULL when the value is NULL or cannot be
 * converted (the session's error then says DBAL_ETYPE or DBAL_ERANGE); the
 * dbal_col_get_* forms return the code, DBAL_ENULL for NULL. A column index
 * out of range, or no current row, reads like NULL (dbal_col_is_null is
 * true, dbal_col_type DBAL_TYPE_NULL) and the dbal_col_get_* forms return
 * DBAL_EINVAL / DBAL_EMISUSE.
 */
DBAL_API int64_t dbal_col_int64(dbal_rows *r, int col);
DBAL_API double dbal_col_double(dbal_rows *r, int col);
DBAL_API int dbal_col_bool(dbal_rows *r, int col);
/* The value as NUL-terminated text, converted as above; NULL for SQL NULL
 * or a failure (see the session's error). Owned by the cursor. */
DBAL_API const char *dbal_col_text(dbal_rows *r, int col);
/* The bytes of a text or blob value (of other values, their text); *len
 * (optional) receives the length. NULL for SQL NULL or a failure; a non-NULL
 * pointer for an empty blob. Owned by the cursor. */
DBAL_API const void *dbal_col_blob(dbal_rows *r, int col, size_t *len);
/* Length in bytes of the value read as text or blob (the text of a number);
 * 0 for NULL. */
DBAL_API size_t dbal_col_bytes(dbal_rows *r, int col);

/*
 * The getters that return a code: dbal_col_get_int64(), dbal_col_get_double(),
 * dbal_col_get_bool() and dbal_col_get_text() store the converted value in
 * *out and return DBAL_OK, or DBAL_ENULL (NULL value), DBAL_ETYPE (not
 * convertible), DBAL_ERANGE (does not fit), DBAL_EINVAL (column out of range,
 * out NULL), DBAL_EMISUSE (no current row, NULL cursor), DBAL_ENOMEM. The
 * numeric forms leave *out alone on failure. dbal_col_get_text() gives
 * NUL-terminated bytes owned by the cursor, valid until the next
 * dbal_rows_next() or dbal_rows_close(), and their length in *len
 * (optional).
 */
DBAL_API int dbal_col_get_int64(dbal_rows *r, int col, int64_t *out);
DBAL_API int dbal_col_get_double(dbal_rows *r, int col, double *out);
DBAL_API int dbal_col_get_bool(dbal_rows *r, int col, int *out);
DBAL_API int dbal_col_get_text(dbal_rows *r, int col, const char **out, size_t *len);

/*
 * The getters of the types after DBAL_TYPE_BLOB, returning a code as the
 * dbal_col_get_* forms above do (DBAL_ENULL, DBAL_ETYPE, DBAL_ERANGE,
 * DBAL_EINVAL, DBAL_EMISUSE; *out left alone on failure):
 *   dbal_col_get_timestamp: microseconds since 1970-01-01 00:00:00 of a
 *     timestamp with or without time zone (see dbal_type), of a date (its
 *     midnight), or of text in ISO 8601 (an offset in the text is applied;
 *     text without one is read as UTC).
 *   dbal_col_get_date: days since 1970-01-01 of a date, of a timestamp at
 *     exactly midnight, or of such text.
 *   dbal_col_get_time: microseconds since midnight of a time, or of text
 *     "HH:MM[:SS[.ffffff]]".
 *   dbal_col_get_uuid: the 16 bytes of a uuid, of its text (as PostgreSQL
 *     reads it), or of a 16-byte blob.
 * Numeric and JSON values are read with the text getter (or converted by
 * dbal_col_get_int64 and dbal_col_get_double, exactly or not at all for
 * int64). The text getter gives these types as dbal_value_format() writes
 * them, whatever the driver and its session's time zone.
 */
DBAL_API int dbal_col_get_timestamp(dbal_rows *r, int col, int64_t *out);
DBAL_API int dbal_col_get_date(dbal_rows *r, int col, int64_t *out);
DBAL_API int dbal_col_get_time(dbal_rows *r, int col, int64_t *out);
DBAL_API int dbal_col_get_uuid(dbal_rows *r, int col, unsigned char out[16]);

/* ---- dates and times ----------------------------------------------------- */

/*
 * A date and time broken down, proleptic Gregorian, in astronomical year
 * numbering as ISO 8601 has it: year 0 is 1 BC, year -43 is 44 BC
 * (PostgreSQL writes a year y <= 0 as 1 - y followed by " BC"). None of
 * the helpers below read TZ, the locale or the system's time zone files:
 * they are arithmetic, and the same in every process. Any thread.
 */
typedef struct dbal_datetime {
    int year;
    int month;       /* 1 to 12 */
    int day;         /* 1 to 31 */
    int hour;        /* 0 to 23 */
    int minute;      /* 0 to 59 */
    int second;      /* 0 to 59 */
    int microsecond; /* 0 to 999999 */
} dbal_datetime;

/*
 * dbal_datetime_from_timestamp() breaks down microseconds since 1970-01-01
 * 00:00:00 (a timestamp of either kind); dbal_datetime_to_timestamp()
 * counts them back. dbal_datetime_from_date() breaks down days since
 * 1970-01-01 (the time fields 0); dbal_datetime_to_date() counts them from
 * year, month and day (the time fields are not read). They return DBAL_OK,
 * DBAL_EINVAL (a NULL pointer, a field out of its range, a day the month
 * does not have), DBAL_ERANGE (an infinity, or a result that does not fit).
 */
DBAL_API int dbal_datetime_from_timestamp(int64_t microseconds, dbal_datetime *out);
DBAL_API int dbal_datetime_to_timestamp(const dbal_datetime *dt, int64_t *out);
DBAL_API int dbal_datetime_from_date(int64_t days, dbal_datetime *out);
DBAL_API int dbal_datetime_to_date(const dbal_datetime *dt, int64_t *out);

/* Room for the text dbal_value_format() writes of any value but text,
 * blob, numeric and JSON, with its NUL. */
#define DBAL_VALUE_TEXT_MAX 48

/*
 * Writes a value's text, NUL-terminated, to out (cap bytes), its length in
 * *len (optional): what dbal_col_text() gives for it. Timestamps
 * "YYYY-MM-DD HH:MM:SS.ffffff", with "+00:00" after it (UTC) for
 * timestamptz; dates "YYYY-MM-DD"; times "HH:MM:SS.ffffff" (always six
 * fraction digits); "infinity" and "-infinity"; years past 9999 with more
 * digits, years before 0 with a minus sign. UUIDs in 36 lower-case
 * characters; bools "t"/"f"; numbers as the getters write them; text,
 * numeric and JSON copied. Returns DBAL_OK, DBAL_ETYPE (a blob, SQL NULL,
 * a time out of its range, an unknown type), DBAL_EINVAL (out NULL) or
 * DBAL_ERANGE (cap too small; out is then ""). Any thread.
 */
DBAL_API int dbal_value_format(dbal_value v, char *out, size_t cap, size_t *len);

/*
 * Read NUL-terminated text into a value. dbal_parse_timestamp() takes
 * ISO 8601: "YYYY-MM-DD", then optionally 'T' or ' ' and
 * "HH:MM[:SS[.ffffff]]", then optionally "Z" or "+HH[:MM]" / "-HH[:MM]"
 * (applied: the result is the instant in UTC), then optionally " BC";
 * also "infinity" and "-infinity", and all that PostgreSQL writes with
 * DateStyle ISO. dbal_parse_date() takes a date of that form (or a
 * timestamp at midnight without an offset); dbal_parse_time() a time
 * "HH:MM[:SS[.ffffff]]"; dbal_parse_uuid() 32 hex digits in either case,
 * hyphens after any group of four, optionally in braces. Return DBAL_OK,
 * DBAL_ETYPE (not such text), DBAL_ERANGE (out of range), DBAL_EINVAL
 * (a NULL pointer). Any thread.
 */
DBAL_API int dbal_parse_timestamp(const char *text, int64_t *out);
DBAL_API int dbal_parse_date(const char *text, int64_t *out);
DBAL_API int dbal_parse_time(const char *text, int64_t *out);
DBAL_API int dbal_parse_uuid(const char *text, unsigned char out[16]);

#ifdef __cplusplus
}
#endif
#endif /* DBAL_H */
