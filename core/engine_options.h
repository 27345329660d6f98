/* The engine options: one table, DBAL__ENGINE_OPTION_MAP, generates the
 * core's struct of them, their defaults, the keys the URL parser consumes,
 * the checks of dbal_engine_options and the README's table of them
 * (doc/options_table.c, checked by the test readme_options), so that a URL
 * and a program accept exactly the same values with the same messages. The
 * trick is the one DBAL_CODE_MAP plays for the result codes.
 *
 * X(key, field, kind, lo, hi, special, word, def, where, doc)
 *   key      the URL's query key (and the name in messages)
 *   field    the field of dbal__engine_opts and, when `where` is PUBLIC, of
 *            dbal_engine_options (include/dbal.h keeps that struct written by
 *            hand for its documentation; core/options.c checks at compile time
 *            that its fields are these, in this order, with these types)
 *   kind     COUNT (int), MILLIS (int), SECONDS (double), BOOL, POOL_RESET
 *            (the DBAL_POOL_RESET_* words below) or HOSTS (a replica list)
 *   lo, hi   the range of a number (0, 0 for the other kinds)
 *   special, word
 *            a number with a name ("-1 (never)", "0: off"), outside the range
 *            or in it; word is NULL when there is none
 *   def      the default (0 for a list: none)
 *   where    PUBLIC (a field of dbal_engine_options too) or URL (a URL key
 *            only)
 *   doc      the README's "meaning" column; a number's range is appended
 *
 * The order is dbal_engine_options' field order, then the URL-only keys. */
#ifndef DBAL_CORE_ENGINE_OPTIONS_H
#define DBAL_CORE_ENGINE_OPTIONS_H

#include <dbal.h>
#include <stddef.h>

/* clang-format off */
#define DBAL__ENGINE_OPTION_MAP(X)                                                                     \
    X(pool_size, pool_size, COUNT, 1, 100000, 0, NULL, 5, PUBLIC,                                      \
      "connections kept open in the pool")                                                             \
    X(max_overflow, max_overflow, COUNT, 0, 100000, 0, NULL, 10, PUBLIC,                               \
      "connections beyond `pool_size` opened under load and closed when given back; the engine "      \
      "never has more than `pool_size + max_overflow`")                                                \
    X(pool_timeout, pool_timeout, SECONDS, 0, 1e9, 0, NULL, 30, PUBLIC,                                \
      "seconds a session waits for a connection, then `DBAL_EPOOLTIMEOUT`")                            \
    X(pool_recycle, pool_recycle, SECONDS, 0, 1e9, -1, "never", -1, PUBLIC,                            \
      "seconds after which a connection is replaced rather than reused")                               \
    X(pool_pre_ping, pool_pre_ping, BOOL, 0, 0, 0, NULL, 0, PUBLIC,                                    \
      "check a connection before handing it out and replace it if dead; skipped for a connection "     \
      "used in the last 0.5 s (HikariCP's bypass window), so a busy service pays nothing (the "        \
      "checkout still discards a connection the server closed, without a round trip)")                 \
    X(statement_cache_size, statement_cache_size, COUNT, 0, 100000, 0, NULL, 100, PUBLIC,              \
      "prepared statements kept per connection (LRU); 0 turns server-side prepared statements off, "   \
      "as PgBouncer's transaction mode needs")                                                         \
    X(leak_detection_threshold, leak_detection_threshold, SECONDS, 0, 1e9, 0, "off", 0, PUBLIC,        \
      "seconds a session may hold a connection before it is reported as a possible leak, as "          \
      "described below")                                                                               \
    X(statement_timeout, statement_timeout, MILLIS, 0, 2147483647, 0, "none", 0, PUBLIC,               \
      "milliseconds a statement may run, then `DBAL_ETIMEOUT`; a session can change it with "          \
      "`dbal_session_set_timeout`")                                                                    \
    X(replica, replicas, HOSTS, 0, 0, 0, NULL, 0, PUBLIC,                                              \
      "a read replica, `host[:port]` (`[v6]:port`), or a comma-separated list; repeatable. "           \
      "Read-only sessions go there (see [Scaling out](#scaling-out))")                                 \
    X(replica_fallback, replica_fallback, BOOL, 0, 0, 0, NULL, 1, PUBLIC,                              \
      "read-only sessions use the primary when no replica is up; false: they fail with "               \
      "`DBAL_ECONNECT`")                                                                               \
    X(pool_reset, pool_reset, POOL_RESET, 0, 0, 0, NULL, DBAL_POOL_RESET_FULL, PUBLIC,                 \
      "what a connection's server session loses when a session gives it back: `full` (roles, "         \
      "settings, temporary tables, advisory locks, `LISTEN`, `PREPARE`, cursors; see \"The "           \
      "connection pool\") or `rollback` (only the open transaction)")                                  \
    X(echo, echo, BOOL, 0, 0, 0, NULL, 0, URL,                                                         \
      "log each statement (`exec`/`query`, its duration, parameter count, outcome, session label; "    \
      "never parameter values) at `DBAL_LOG_INFO` through the log hook (default: stderr). "            \
      "`DBAL_ECHO=1` in the environment turns it on for every engine")                                 \
    X(async_inline, async_inline, COUNT, 0, 1000000, 0, "off", 100, URL,                               \
      "microseconds an asynchronous operation may run on the loop thread itself, when the driver "     \
      "allows it (SQLite): longer ones, and ones that would wait for a lock, are run again from the "  \
      "start on a worker; 0 runs every one on a worker (see [Asynchronous API](#asynchronous-api))")

/* pool_reset's values: X(word in a URL, constant in code). */
#define DBAL__POOL_RESET_MAP(X)          \
    X(full, DBAL_POOL_RESET_FULL)         \
    X(rollback, DBAL_POOL_RESET_ROLLBACK)
/* clang-format on */

/* The C type of each kind, in the core and in dbal_engine_options. */
#define DBAL__OPT_CTYPE_COUNT int
#define DBAL__OPT_CTYPE_MILLIS int
#define DBAL__OPT_CTYPE_SECONDS double
#define DBAL__OPT_CTYPE_BOOL int
#define DBAL__OPT_CTYPE_POOL_RESET int
#define DBAL__OPT_CTYPE_HOSTS char *
#define DBAL__OPT_PUBLIC_CTYPE_COUNT int
#define DBAL__OPT_PUBLIC_CTYPE_MILLIS int
#define DBAL__OPT_PUBLIC_CTYPE_SECONDS double
#define DBAL__OPT_PUBLIC_CTYPE_BOOL int
#define DBAL__OPT_PUBLIC_CTYPE_POOL_RESET int
#define DBAL__OPT_PUBLIC_CTYPE_HOSTS const char *

/* DBAL__OPT_IF_<where>(code): code for the PUBLIC options only. */
#define DBAL__OPT_IF_PUBLIC(...) __VA_ARGS__
#define DBAL__OPT_IF_URL(...)

/* The options as the core keeps them (the engine's and each pool's copy). */
typedef struct dbal__engine_opts {
#define DBAL__OPT_FIELD(key, field, kind, lo, hi, special, word, def, where, doc) \
    DBAL__OPT_CTYPE_##kind field;
    DBAL__ENGINE_OPTION_MAP(DBAL__OPT_FIELD)
#undef DBAL__OPT_FIELD
} dbal__engine_opts;

typedef enum dbal__opt_kind {
    DBAL__OPT_COUNT,
    DBAL__OPT_MILLIS,
    DBAL__OPT_SECONDS,
    DBAL__OPT_BOOL,
    DBAL__OPT_POOL_RESET,
    DBAL__OPT_HOSTS
} dbal__opt_kind;

/* One row of the table, as data. */
typedef struct dbal__engine_option {
    const char *key;
    dbal__opt_kind kind;
    double lo, hi, special, def;
    const char *lo_text, *hi_text, *special_text, *word, *def_text;
    size_t offset;        /* in dbal__engine_opts */
    int public;           /* a field of dbal_engine_options too */
    size_t public_offset; /* in dbal_engine_options */
    size_t public_size;
} dbal__engine_option;

/* The table's rows, in its order. */
extern const dbal__engine_option dbal__engine_options[];
extern const size_t dbal__engine_noptions;

/* The defaults: every option's `def`. */
void dbal__engine_opts_default(dbal__engine_opts *o);
/* Frees what o owns (the replica list). */
void dbal__engine_opts_release(dbal__engine_opts *o);

/* Consumes a URL's key=value when key is an engine option. Returns 1 when
 * it was one and its value is good, 0 when it belongs to the driver, and
 * -DBAL_EURL (err: "bad database URL: <key> must be ...") or -DBAL_ENOMEM. */
int dbal__engine_opts_from_url(dbal__engine_opts *o, const char *key, const char *value, dbal_error *err);

/* Sets every field of *in to "unset" (what dbal_engine_options_init does). */
void dbal__engine_options_unset(dbal_engine_options *in);
/* Options from code override o's: every set field is checked by the URL's
 * rule, with its message after "dbal_engine_options: " and DBAL_EINVAL. A
 * struct not made by dbal_engine_options_init() is DBAL_EINVAL; in may be
 * NULL. */
int dbal__engine_opts_apply(dbal__engine_opts *o, const dbal_engine_options *in, dbal_error *err);

/* Checks the value of a numeric engine option (pool_size, max_overflow,
 * pool_timeout, pool_recycle, statement_cache_size,
 * leak_detection_threshold, statement_timeout), whether it came from a URL
 * or from dbal_engine_options: one set of ranges and one message, "<prefix>
 * <name> must be <range>", with `code`. NaN and infinities are refused.
 * Returns DBAL_OK or code. */
int dbal__engine_option_check(const char *name, double value, const char *prefix, int code, dbal_error *err);

/* The words a value of the option's kind must be, for messages: "an integer
 * from 1 to 100000", "true or false", ...; `in_code` spells pool_reset's
 * values as the constants, else as the URL's words. Static storage or buf. */
const char *dbal__engine_option_range(const dbal__engine_option *opt, int in_code, char *buf, size_t cap);

#endif
