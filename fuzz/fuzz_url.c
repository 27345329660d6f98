/*
 * fuzz_url: dbal__url_parse + dbal__url_free on arbitrary bytes.
 *
 * Checks, besides "no crash, no leak, no UB" (the sanitizers):
 *   - a failure is DBAL_EURL or DBAL_ENOMEM with a non-empty one-line message;
 *   - a success has valid scheme/driver names, numeric ports, engine options
 *     in their documented ranges, and (when the URL has a user:password@
 *     part) exactly the percent-decoded password of a reference split;
 *   - no error message contains the password: the input's password part is
 *     replaced by a canary (plain and percent-encoded), which must never
 *     show up in the message, whatever else the URL gets wrong.
 */
#include "fuzz_target.h"
#include "url.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_url: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static const char CANARY[] = "xK9canaryPW7";         /* no URL syntax in it */
static const char CANARY_ENC[] = "%78K9can%61ryPW7"; /* decodes to CANARY */

/* Where the password of text is, by the grammar in the README: after
 * "scheme://", the authority runs to the first '/' or '?'; user info is what
 * precedes its last '@'; the password follows the first ':' of the user
 * info. Only for the authority form (not sqlite's file form). Returns 1 and
 * the span when there is a password part. */
static int password_span(const char *text, size_t *start, size_t *len)
{
    const char *colon = strchr(text, ':');
    if (!colon || strncmp(colon + 1, "//", 2) != 0)
        return 0;
    if ((size_t)(colon - text) >= 6 && strncmp(text, "sqlite", 6) == 0 &&
        (colon - text == 6 || text[6] == '+'))
        return 0; /* file form: no user info */
    const char *a = colon + 3;
    size_t alen = strcspn(a, "/?");
    const char *at = NULL;
    for (const char *p = a; p < a + alen; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return 0;
    const char *pc = memchr(a, ':', (size_t)(at - a));
    if (!pc)
        return 0;
    *start = (size_t)(pc + 1 - text);
    *len = (size_t)(at - pc - 1);
    return 1;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out (n + 1 bytes); 0 when malformed. */
static int pct_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (i + 2 >= n)
            return 0;
        int hi = hexv(s[i + 1]), lo = hexv(s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return 0;
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return 1;
}

static int valid_name(const char *s)
{
    return s && dbal__valid_name(s, strlen(s));
}

static void check_success(const char *text, const dbal__url *u)
{
    CHECK(u->pub.scheme == u->scheme && valid_name(u->scheme));
    CHECK(u->pub.driver == u->driver && valid_name(u->driver));
    CHECK(strcmp(u->scheme, "postgres") != 0); /* always spelled postgresql */
    CHECK(u->pub.user == u->user && u->pub.password == u->password && u->pub.database == u->database);
    for (size_t i = 0; i < u->pub.nhosts; i++) {
        const dbal_url_host *h = &u->pub.hosts[i];
        if (h->host)
            (void)strlen(h->host);
        if (h->port) {
            size_t n = strlen(h->port);
            CHECK(n >= 1 && n <= 5 && strspn(h->port, "0123456789") == n);
            long v = strtol(h->port, NULL, 10);
            CHECK(v >= 1 && v <= 65535);
        }
    }
    for (size_t i = 0; i < u->pub.nparams; i++) {
        CHECK(u->pub.params[i].key && u->pub.params[i].key[0]);
        CHECK(u->pub.params[i].value);
        (void)strlen(u->pub.params[i].value);
        /* engine options never reach a driver */
        for (size_t k = 0; k < dbal__engine_noptions; k++)
            CHECK(strcmp(u->pub.params[i].key, dbal__engine_options[k].key) != 0);
    }
    const dbal__engine_opts *o = &u->opts;
    CHECK(o->pool_size >= 1 && o->pool_size <= 100000);
    CHECK(o->max_overflow >= 0 && o->max_overflow <= 100000);
    CHECK(o->pool_timeout >= 0 && o->pool_timeout == o->pool_timeout);
    CHECK(o->pool_recycle == o->pool_recycle);
    CHECK(o->pool_pre_ping == 0 || o->pool_pre_ping == 1);
    CHECK(o->echo == 0 || o->echo == 1);
    CHECK(o->statement_cache_size >= 0 && o->statement_cache_size <= 100000);
    CHECK(o->leak_detection_threshold >= 0);
    CHECK(o->statement_timeout >= 0);
    CHECK(o->replica_fallback == 0 || o->replica_fallback == 1);
    CHECK(o->pool_reset == DBAL_POOL_RESET_FULL || o->pool_reset == DBAL_POOL_RESET_ROLLBACK);

    /* The password is what the grammar says it is. */
    size_t ps, pl;
    int has = password_span(text, &ps, &pl);
    if (has) {
        char *dec = malloc(pl + 1);
        CHECK(dec);
        int ok = pct_decode(text + ps, pl, dec);
        CHECK(ok); /* the parse succeeded, so the password decoded */
        CHECK(u->password && strcmp(u->password, dec) == 0);
        free(dec);
    } else if (strcmp(u->scheme, "sqlite") != 0) {
        CHECK(u->password == NULL);
    }
}

/* Parses text; checks the outcome; returns the code and copies the message. */
static int parse_one(const char *text, char *msg, size_t cap)
{
    dbal__url *u = (dbal__url *)1;
    dbal_error err;
    memset(&err, 0x5a, sizeof err);
    int rc = dbal__url_parse(text, &u, &err);
    if (rc == DBAL_OK) {
        CHECK(u != NULL);
        check_success(text, u);
        dbal__url_free(u);
        if (msg)
            msg[0] = '\0';
        return rc;
    }
    CHECK(u == NULL);
    CHECK(rc == DBAL_EURL || rc == DBAL_ENOMEM);
    CHECK(err.code == rc);
    CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
    CHECK(err.message[0] != '\0');
    CHECK(strchr(err.message, '\n') == NULL && strchr(err.message, '\r') == NULL);
    /* Without an error struct, nothing is written anywhere. */
    u = (dbal__url *)1;
    CHECK(dbal__url_parse(text, &u, NULL) == rc && u == NULL);
    if (msg)
        snprintf(msg, cap, "%s", err.message);
    return rc;
}

/* text with [start, start+len) replaced by repl. */
static char *splice(const char *text, size_t start, size_t len, const char *repl)
{
    size_t tl = strlen(text), rl = strlen(repl);
    char *s = malloc(tl - len + rl + 1);
    CHECK(s);
    memcpy(s, text, start);
    memcpy(s + start, repl, rl);
    memcpy(s + start + rl, text + start + len, tl - start - len + 1);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The parser takes a C string: the bytes up to the first NUL. */
    char *text = malloc(size + 1);
    CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0';

    char msg[sizeof(((dbal_error *)0)->message)];
    parse_one(text, msg, sizeof msg);

    /* Secrets: whatever else is wrong with the URL, the password it carries
     * never appears in the message. */
    size_t ps, pl;
    if (!strstr(text, "K9") && !strstr(text, "canary") && !strstr(text, "ryPW") &&
        password_span(text, &ps, &pl)) {
        const char *const canaries[] = {CANARY, CANARY_ENC};
        for (size_t k = 0; k < 2; k++) {
            char *t = splice(text, ps, pl, canaries[k]);
            if (parse_one(t, msg, sizeof msg) != DBAL_OK) {
                if (strstr(msg, "K9") || strstr(msg, "canary") || strstr(msg, "ryPW")) {
                    fprintf(stderr, "fuzz_url: password in the message\n  url: %s\n  message: %s\n", t, msg);
                    abort();
                }
            }
            free(t);
        }
    }
    free(text);
    return 0;
}
