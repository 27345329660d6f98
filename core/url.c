#include "url.h"

#include "alloc.h"
#include "decode.h"
#include "errors.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define URL_ERR(err, ...) dbal__error_set(err, DBAL_EURL, NULL, 0, "bad database URL: " __VA_ARGS__)

int dbal__valid_name(const char *name, size_t len)
{
    if (len == 0 || len > 32 || name[0] < 'a' || name[0] > 'z')
        return 0;
    for (size_t i = 1; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* Percent-decodes s[0..len) into a new string. `what` names the part for
 * the message; the part's text itself is never quoted (it may be a secret). */
static int decode(const char *s, size_t len, const char *what, char **out, dbal_error *err)
{
    char *d = dbal__malloc(len + 1);
    if (!d)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    size_t n;
    if (!dbal__percent_decode(s, len, d, &n, true)) {
        dbal__free(d);
        return URL_ERR(err, "invalid percent-encoding in the %s", what);
    }
    *out = d;
    return DBAL_OK;
}

/* A refused option value: err says what the option must be; the value
 * itself is shown only when the URL cannot hold a password that a '?',
 * '#', '/' or '@' left unencoded has cut into the query string (then the
 * "value" may well be a piece of it). Returns the negated code. */
static int bad_value(const dbal__url *u, const char *v, dbal_error *err)
{
    if (err && !u->may_hide_password) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n, ", got '%s'", v);
        /* A message is one line: a decoded value may hold control bytes. */
        for (char *p = err->message + n; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    }
    return -DBAL_EURL;
}

/* Replaces in msg each occurrence of s with "***": anywhere when s has 4
 * bytes or more, else only where quoted ('s' or "s"), so that a message is
 * not shredded for a one-letter key. */
static void redact(char msg[DBAL__MESSAGE_CAP], const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return;
    char out[DBAL__MESSAGE_CAP];
    size_t o = 0;
    for (const char *p = msg; *p && o + 1 < sizeof out;) {
        int quoted = p > msg && (p[-1] == '\'' || p[-1] == '"');
        if (strncmp(p, s, n) == 0 && (n >= 4 || (quoted && p[n] == p[-1]))) {
            o += (size_t)snprintf(out + o, sizeof out - o, "***");
            if (o >= sizeof out)
                o = sizeof out - 1;
            p += n;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    memcpy(msg, out, o + 1);
}

static int parse_query(dbal__url *u, const char *q, size_t len, dbal_error *err)
{
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += q[i] == '&';
    u->params = dbal__calloc(cap, sizeof *u->params);
    if (!u->params)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    const char *p = q, *end = q + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop == p) { /* tolerate "a=1&&b=2" and a trailing '&' */
            p = stop + 1;
            continue;
        }
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (!eq || eq == p)
            return URL_ERR(err, "query option %zu is not key=value", u->pub.nparams + 1);
        char *k = NULL, *v = NULL; /* -O3 cannot see that decode() sets them on success */
        if (decode(p, (size_t)(eq - p), "option name", &k, err))
            return err ? err->code : DBAL_EURL;
        if (decode(eq + 1, (size_t)(stop - eq - 1), "option value", &v, err)) {
            dbal__free(k);
            return err ? err->code : DBAL_EURL;
        }
        int used = dbal__engine_opts_from_url(&u->opts, k, v, err);
        if (used == -DBAL_EURL)
            used = bad_value(u, v, err);
        if (used != 0) {
            dbal__free(k);
            dbal__free(v);
            if (used < 0)
                return -used;
        } else {
            u->params[u->pub.nparams].key = k;
            u->params[u->pub.nparams].value = v;
            u->pub.nparams++;
        }
        p = stop + 1;
    }
    return DBAL_OK;
}

static int parse_port(const char *s, size_t len, size_t index, char **out, dbal_error *err)
{
    if (len == 0 || len > 5)
        return URL_ERR(err, "port of host %zu must be a number from 1 to 65535", index);
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return URL_ERR(err, "port of host %zu must be a number from 1 to 65535", index);
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return URL_ERR(err, "port of host %zu must be a number from 1 to 65535", index);
    *out = dbal__strndup(s, len);
    return *out ? DBAL_OK : dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
}

/* One entry of a comma-separated host list: host, [v6], host:port, [v6]:port. */
static int parse_host(dbal_url_host *h, const char *s, size_t len, size_t index, dbal_error *err)
{
    const char *hend = s + len, *port = NULL;
    const char *hs = s;
    if (len && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb)
            return URL_ERR(err, "host %zu has '[' without ']'", index);
        hs = s + 1;
        hend = rb;
        if (rb + 1 < s + len) {
            if (rb[1] != ':')
                return URL_ERR(err, "unexpected text after ']' in host %zu", index);
            port = rb + 2;
        }
    } else {
        const char *colon = NULL;
        for (const char *p = s; p < s + len; p++)
            if (*p == ':')
                colon = p;
        if (colon) {
            hend = colon;
            port = colon + 1;
        }
    }
    char *host = NULL, *portstr = NULL;
    if (hend > hs && decode(hs, (size_t)(hend - hs), "host", &host, err))
        return err ? err->code : DBAL_EURL;
    h->host = host;
    if (port) {
        int rc = parse_port(port, (size_t)(s + len - port), index, &portstr, err);
        if (rc)
            return rc;
        h->port = portstr;
    }
    return DBAL_OK;
}

static int parse_hosts(dbal__url *u, const char *s, size_t len, dbal_error *err)
{
    if (len == 0)
        return DBAL_OK;
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += s[i] == ',';
    u->hosts = dbal__calloc(n, sizeof *u->hosts);
    if (!u->hosts)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    const char *p = s, *end = s + len;
    for (size_t i = 0; i < n; i++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        u->pub.nhosts = i + 1;
        int rc = parse_host(&u->hosts[i], p, (size_t)(stop - p), i + 1, err);
        if (rc)
            return rc;
        p = stop + 1;
    }
    return DBAL_OK;
}

int dbal__url_parse_hosts(const char *list, const char *what, dbal_url_host **out, size_t *n, dbal_error *err)
{
    dbal__url tmp = {0};
    *out = NULL;
    *n = 0;
    int rc = parse_hosts(&tmp, list, strlen(list), err);
    for (size_t i = 0; rc == DBAL_OK && i < tmp.pub.nhosts; i++)
        if (!tmp.hosts[i].host)
            rc = URL_ERR(err, "host %zu has no name", i + 1);
    static const char prefix[] = "bad database URL: ";
    if (rc == DBAL_EURL && err && strncmp(err->message, prefix, sizeof prefix - 1) == 0) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "bad %s: %.400s", what, err->message + sizeof prefix - 1);
        memcpy(err->message, msg, sizeof msg);
    }
    if (rc != DBAL_OK) {
        dbal__url_hosts_free(tmp.hosts, tmp.pub.nhosts);
        return rc;
    }
    *out = tmp.hosts;
    *n = tmp.pub.nhosts;
    return DBAL_OK;
}

void dbal__url_hosts_free(dbal_url_host *hosts, size_t n)
{
    for (size_t i = 0; hosts && i < n; i++) {
        dbal__free((char *)hosts[i].host);
        dbal__free((char *)hosts[i].port);
    }
    dbal__free(hosts);
}

static int parse_userinfo(dbal__url *u, const char *s, size_t len, dbal_error *err)
{
    const char *colon = memchr(s, ':', len);
    size_t ulen = colon ? (size_t)(colon - s) : len;
    if (ulen && decode(s, ulen, "user name", &u->user, err))
        return err ? err->code : DBAL_EURL;
    if (colon && decode(colon + 1, (size_t)(s + len - colon - 1), "password", &u->password, err))
        return err ? err->code : DBAL_EURL;
    return DBAL_OK;
}

/* sqlite:///abs, sqlite:////abs (SQLAlchemy), sqlite://rel, sqlite://:memory:,
 * sqlite:// (memory, as in SQLAlchemy). */
static int parse_file_path(dbal__url *u, const char *s, size_t len, dbal_error *err)
{
    if (len == 0)
        return (u->database = dbal__strdup(":memory:")) ? DBAL_OK
                                                        : dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    if (s[0] == '/')
        while (len > 1 && s[1] == '/')
            s++, len--;
    if (decode(s, len, "database path", &u->database, err))
        return err ? err->code : DBAL_EURL;
    return DBAL_OK;
}

static int parse_authority_form(dbal__url *u, const char *s, size_t len, dbal_error *err)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    /* The last '@' ends the user info, so an unencoded '@' in a password
     * still parses. */
    const char *at = NULL;
    for (const char *p = s; p < s + alen; p++)
        if (*p == '@')
            at = p;
    const char *hosts = s;
    if (at) {
        int rc = parse_userinfo(u, s, (size_t)(at - s), err);
        if (rc)
            return rc;
        hosts = at + 1;
    }
    int rc = parse_hosts(u, hosts, (size_t)(s + alen - hosts), err);
    if (rc)
        return rc;
    if (slash && slash + 1 < s + len) {
        if (decode(slash + 1, (size_t)(s + len - slash - 1), "database name", &u->database, err))
            return err ? err->code : DBAL_EURL;
    }
    return DBAL_OK;
}

static int parse_scheme(dbal__url *u, const char *text, size_t len, dbal_error *err)
{
    const char *plus = memchr(text, '+', len);
    size_t slen = plus ? (size_t)(plus - text) : len;
    if (!dbal__valid_name(text, slen))
        return URL_ERR(err, "scheme must be lowercase letters, digits and '_' (for example "
                            "postgresql:// or sqlite://)");
    if (plus && !dbal__valid_name(plus + 1, len - slen - 1))
        return URL_ERR(err, "driver name after '+' must be lowercase letters, digits and '_'");
    if (slen == 8 && memcmp(text, "postgres", 8) == 0)
        u->scheme = dbal__strdup("postgresql");
    else
        u->scheme = dbal__strndup(text, slen);
    u->driver = plus ? dbal__strndup(plus + 1, len - slen - 1) : dbal__strdup(u->scheme ? u->scheme : "");
    if (!u->scheme || !u->driver)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    return DBAL_OK;
}

static int parse(dbal__url *u, const char *text, dbal_error *err)
{
    const char *colon = strchr(text, ':');
    if (!colon)
        return URL_ERR(err, "no scheme (expected for example postgresql://host/db or sqlite::memory:)");
    int rc = parse_scheme(u, text, (size_t)(colon - text), err);
    if (rc)
        return rc;
    const char *rest = colon + 1;
    int file_form = strcmp(u->scheme, "sqlite") == 0;
    if (strncmp(rest, "//", 2) != 0) {
        if (!file_form || strncmp(rest, ":memory:", 8) != 0 || (rest[8] != '\0' && rest[8] != '?'))
            return URL_ERR(err, "expected '//' after '%s:'", u->scheme);
        if (!(u->database = dbal__strdup(":memory:")))
            return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
        return rest[8] == '?' ? parse_query(u, rest + 9, strlen(rest + 9), err) : DBAL_OK;
    }
    rest += 2;
    const char *q = strchr(rest, '?');
    size_t blen = q ? (size_t)(q - rest) : strlen(rest);
    rc = file_form ? parse_file_path(u, rest, blen, err) : parse_authority_form(u, rest, blen, err);
    if (rc)
        return rc;
    return q ? parse_query(u, q + 1, strlen(q + 1), err) : DBAL_OK;
}

/* Whether a password may have spilled into the path or the query string.
 * The parser ends the authority at the first '/' or '?', so a password
 * with one of those unencoded (or a '#' or '@' before them) is cut there,
 * and its tail reads as a database name or as options: the sign is an '@'
 * after the cut with a ':' ("user:pass") before it. An option's key or
 * value may then be a piece of the password, and messages show neither. */
static int may_hide_password(const char *text)
{
    const char *rest = strchr(text, ':');
    if (!rest)
        return 0;
    rest++;
    if (strncmp(rest, "//", 2) == 0)
        rest += 2;
    const char *at = strrchr(rest + strcspn(rest, "/?"), '@'), *colon = strchr(rest, ':');
    return at && colon && colon < at;
}

void dbal__url_redact(const dbal__url *u, dbal_error *err)
{
    if (!err || !u->may_hide_password)
        return;
    for (size_t i = 0; i < u->pub.nparams; i++) {
        redact(err->message, u->params[i].key);
        redact(err->message, u->params[i].value);
    }
}

int dbal__url_parse(const char *text, dbal__url **out, dbal_error *err)
{
    *out = NULL;
    if (!text || !*text)
        return URL_ERR(err, "empty");
    dbal__url *u = dbal__calloc(1, sizeof *u);
    if (!u)
        return dbal__error_set(err, DBAL_ENOMEM, NULL, 0, NULL);
    dbal__engine_opts_default(&u->opts);
    u->may_hide_password = may_hide_password(text);
    int rc = parse(u, text, err);
    if (rc) {
        dbal__url_free(u);
        return rc;
    }
    u->pub.scheme = u->scheme;
    u->pub.driver = u->driver;
    u->pub.user = u->user;
    u->pub.password = u->password;
    u->pub.database = u->database;
    u->pub.hosts = u->hosts;
    u->pub.params = u->params;
    *out = u;
    return DBAL_OK;
}

void dbal__url_free(dbal__url *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->pub.nhosts; i++) {
        dbal__free((char *)u->hosts[i].host);
        dbal__free((char *)u->hosts[i].port);
    }
    for (size_t i = 0; i < u->pub.nparams; i++) {
        dbal__free((char *)u->params[i].key);
        dbal__free((char *)u->params[i].value);
    }
    dbal__engine_opts_release(&u->opts);
    if (u->password) /* do not leave the secret in freed memory */
        memset(u->password, 0, strlen(u->password));
    dbal__free(u->hosts);
    dbal__free(u->params);
    dbal__free(u->scheme);
    dbal__free(u->driver);
    dbal__free(u->user);
    dbal__free(u->password);
    dbal__free(u->database);
    dbal__free(u);
}
