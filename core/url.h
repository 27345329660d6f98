/* Connection URLs: scheme://[user[:password]@][host][:port][,...][/database][?k=v&...] */
#ifndef DBAL_CORE_URL_H
#define DBAL_CORE_URL_H

#include "engine_options.h"

#include <dbal/driver.h>

typedef struct dbal__url {
    dbal_url pub; /* what drivers see; points into the fields below */
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
