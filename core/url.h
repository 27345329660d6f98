/* Connection URLs: scheme://[user[:password]@][host][:port][,...][/database][?k=v&...] */
#ifndef DBAL_CORE_URL_H
#define DBAL_CORE_URL_H

#include <dbal/driver.h>

/* Engine options, consumed by the core and never passed to a driver. */
typedef struct dbal__engine_opts {
    int pool_size;            /* default 5 */
    int max_overflow;         /* default 10 */
    double pool_timeout;      /* seconds, default 30 */
    double pool_recycle;      /* seconds, < 0 = never (default) */
    int pool_pre_ping;        /* default 0 */
    int statement_cache_size; /* default 100 */
    int echo;                 /* default 0 */
    double leak_detection_threshold; /* seconds, 0 = off (default) */
    int statement_timeout;    /* milliseconds, 0 = none (default) */
    char *replicas;           /* owned: host[:port] list of read replicas, comma-separated, or NULL */
    int replica_fallback;     /* reads go to the primary when no replica is up; default 1 */
    int pool_reset;           /* DBAL_POOL_RESET_*; default DBAL_POOL_RESET_FULL */
} dbal__engine_opts;

typedef struct dbal__url {
    dbal_url pub;          /* what drivers see; points into the fields below */
    dbal__engine_opts opts;
    char *scheme, *driver, *user, *password, *database;
    dbal_url_host *hosts;
    dbal_url_param *params;
    /* An '@' after the end of the authority, with a ':' before it: a
     * password with an unencoded '?', '#', '/' or '@' was cut, and a query
     * option's key or value may be a piece of it. Messages then show
     * neither. */
    int may_hide_password;
} dbal__url;

/* The capacity of dbal_error.message. */
#define DBAL__MESSAGE_CAP sizeof(((dbal_error *)0)->message)

/* Parses and percent-decodes text. Every failure is DBAL_EURL (or
 * DBAL_ENOMEM) with a message that names the part at fault and never contains
 * the password, nor an option's value when the URL may hide a password. */
int dbal__url_parse(const char *text, dbal__url **out, dbal_error *err);

/* Hides, in err's message (a driver's, about the URL's options), every
 * query key and value of a URL that may hide a password: they may be
 * pieces of it. */
void dbal__url_redact(const dbal__url *u, dbal_error *err);

/* Checks the value of a numeric engine option (pool_size, max_overflow,
 * pool_timeout, pool_recycle, statement_cache_size,
 * leak_detection_threshold, statement_timeout), whether it came from a URL
 * or from dbal_engine_options: one set of ranges and one message, "<prefix>
 * <name> must be <range>", with `code`. NaN and infinities are refused.
 * Returns DBAL_OK or code. */
int dbal__engine_option_check(const char *name, double value, const char *prefix, int code, dbal_error *err);
void dbal__url_free(dbal__url *u);

/* Parses a comma-separated list of host, host:port, [v6], [v6]:port into
 * a new array (*n entries; free with dbal__url_hosts_free). DBAL_EURL names
 * `what` and the entry at fault. */
int dbal__url_parse_hosts(const char *list, const char *what, dbal_url_host **out, size_t *n,
                          dbal_error *err);
void dbal__url_hosts_free(dbal_url_host *hosts, size_t n);

/* Whether name is a valid scheme or driver name: [a-z][a-z0-9_]*, at most 32. */
int dbal__valid_name(const char *name, size_t len);

#endif
