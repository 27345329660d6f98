/* URL parsing: a table of good URLs with what they must parse to, and a
 * table of bad ones with the word their message must contain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "url.h"

typedef struct {
    const char *url;
    const char *scheme, *driver, *user, *password, *database;
    const char *host0, *port0, *host1, *port1;
    size_t nhosts, nparams;
    const char *key0, *value0;
} good_case;

static const good_case good[] = {
    {"sqlite::memory:", "sqlite", "sqlite", NULL, NULL, ":memory:"},
    {"sqlite://:memory:", "sqlite", "sqlite", NULL, NULL, ":memory:"},
    {"sqlite::memory:?pool_size=1&cache=shared", "sqlite", "sqlite", NULL, NULL, ":memory:", .nparams = 1,
     .key0 = "cache", .value0 = "shared"},
    {"sqlite://", "sqlite", "sqlite", NULL, NULL, ":memory:"},
    {"sqlite:///abs/path.db", "sqlite", "sqlite", NULL, NULL, "/abs/path.db"},
    {"sqlite:////abs/path.db", "sqlite", "sqlite", NULL, NULL, "/abs/path.db"},
    {"sqlite://relative.db", "sqlite", "sqlite", NULL, NULL, "relative.db"},
    {"sqlite://dir/rel.db?mode=ro", "sqlite", "sqlite", NULL, NULL, "dir/rel.db", .nparams = 1,
     .key0 = "mode", .value0 = "ro"},
    {"sqlite:///tmp/with%20space.db", "sqlite", "sqlite", NULL, NULL, "/tmp/with space.db"},
    {"sqlite:///x.db?pool_size=3&busy_timeout=10", "sqlite", "sqlite", NULL, NULL, "/x.db", .nparams = 1,
     .key0 = "busy_timeout", .value0 = "10"},
    {"postgresql://u:p@h:5432/db", "postgresql", "postgresql", "u", "p", "db", "h", "5432", .nhosts = 1},
    {"postgres://u@h/db", "postgresql", "postgresql", "u", NULL, "db", "h", NULL, .nhosts = 1},
    {"postgresql://h", "postgresql", "postgresql", NULL, NULL, NULL, "h", NULL, .nhosts = 1},
    {"postgresql:///db?host=/run/postgresql", "postgresql", "postgresql", NULL, NULL, "db", .nparams = 1,
     .key0 = "host", .value0 = "/run/postgresql"},
    {"postgresql://%2Frun%2Fpostgresql/db", "postgresql", "postgresql", NULL, NULL, "db", "/run/postgresql",
     NULL, .nhosts = 1},
    {"postgresql://[::1]:5433/db", "postgresql", "postgresql", NULL, NULL, "db", "::1", "5433", .nhosts = 1},
    {"postgresql://[fe80::1%25eth0]/db", "postgresql", "postgresql", NULL, NULL, "db", "fe80::1%eth0", NULL,
     .nhosts = 1},
    {"postgresql://h1:5432,h2:5433/db?target_session_attrs=read-write", "postgresql", "postgresql", NULL,
     NULL, "db", "h1", "5432", "h2", "5433", .nhosts = 2, .nparams = 1, .key0 = "target_session_attrs",
     .value0 = "read-write"},
    {"postgresql://h1,[::1]:6000/db", "postgresql", "postgresql", NULL, NULL, "db", "h1", NULL, "::1", "6000",
     .nhosts = 2},
    {"postgresql://us%40er:p%3Aw%2Fd%40@h/d%2Fb", "postgresql", "postgresql", "us@er", "p:w/d@", "d/b", "h",
     NULL, .nhosts = 1},
    {"postgresql://u:p@ss@h/db", "postgresql", "postgresql", "u", "p@ss", "db", "h", NULL, .nhosts = 1},
    {"postgresql+mydrv://h/db", "postgresql", "mydrv", NULL, NULL, "db", "h", NULL, .nhosts = 1},
    {"postgresql://h/db?sslmode=require&application_name=a%20b&pool_size=2&echo=true", "postgresql",
     "postgresql", NULL, NULL, "db", "h", NULL, .nhosts = 1, .nparams = 2, .key0 = "sslmode",
     .value0 = "require"},
    {"postgresql://h/db?statement_cache_size=0", "postgresql", "postgresql", NULL, NULL, "db", "h", NULL,
     .nhosts = 1},
    {"postgresql://h/db?&&a=1&", "postgresql", "postgresql", NULL, NULL, "db", "h", NULL, .nhosts = 1,
     .nparams = 1, .key0 = "a", .value0 = "1"},
};

static void eq_or_null(const char *want, const char *got, const char *url, const char *what)
{
    if (!want && !got)
        return;
    if (!want || !got || strcmp(want, got) != 0)
        fail_msg("%s: %s is '%s', expected '%s'", url, what, got ? got : "(null)", want ? want : "(null)");
}

static void test_good_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const good_case *c = &good[i];
        dbal__url *u = NULL;
        dbal_error err;
        int rc = dbal__url_parse(c->url, &u, &err);
        if (rc != DBAL_OK)
            fail_msg("%s: %s", c->url, err.message);
        eq_or_null(c->scheme, u->pub.scheme, c->url, "scheme");
        eq_or_null(c->driver, u->pub.driver, c->url, "driver");
        eq_or_null(c->user, u->pub.user, c->url, "user");
        eq_or_null(c->password, u->pub.password, c->url, "password");
        eq_or_null(c->database, u->pub.database, c->url, "database");
        assert_int_equal(u->pub.nhosts, c->nhosts);
        if (c->nhosts > 0) {
            eq_or_null(c->host0, u->pub.hosts[0].host, c->url, "host 1");
            eq_or_null(c->port0, u->pub.hosts[0].port, c->url, "port 1");
        }
        if (c->nhosts > 1) {
            eq_or_null(c->host1, u->pub.hosts[1].host, c->url, "host 2");
            eq_or_null(c->port1, u->pub.hosts[1].port, c->url, "port 2");
        }
        assert_int_equal(u->pub.nparams, c->nparams);
        if (c->nparams) {
            eq_or_null(c->key0, u->pub.params[0].key, c->url, "first option");
            eq_or_null(c->value0, u->pub.params[0].value, c->url, "first value");
        }
        dbal__url_free(u);
    }
}

static void test_engine_options(void **state)
{
    (void)state;
    dbal__url *u;
    dbal_error err;
    assert_int_equal(dbal__url_parse("postgresql://h/db", &u, &err), DBAL_OK);
    assert_int_equal(u->opts.pool_size, 5);
    assert_int_equal(u->opts.max_overflow, 10);
    assert_true(u->opts.pool_timeout == 30);
    assert_true(u->opts.pool_recycle < 0);
    assert_int_equal(u->opts.statement_cache_size, 100);
    dbal__url_free(u);
    assert_int_equal(dbal__url_parse("postgresql://h/db?pool_size=7&max_overflow=0&pool_timeout=0.25"
                                     "&pool_recycle=3600&pool_pre_ping=true&statement_cache_size=0&echo=1",
                                     &u, &err),
                     DBAL_OK);
    assert_int_equal(u->opts.pool_size, 7);
    assert_int_equal(u->opts.max_overflow, 0);
    assert_true(u->opts.pool_timeout == 0.25);
    assert_true(u->opts.pool_recycle == 3600);
    assert_int_equal(u->opts.pool_pre_ping, 1);
    assert_int_equal(u->opts.statement_cache_size, 0);
    assert_int_equal(u->opts.echo, 1);
    assert_int_equal(u->pub.nparams, 0); /* none of them reaches the driver */
    assert_null(u->opts.replicas);
    assert_int_equal(u->opts.replica_fallback, 1);
    dbal__url_free(u);
    /* replica= is repeatable and each may be a list; all are kept, in order */
    assert_int_equal(dbal__url_parse("postgresql://h/db?replica=r1:5433,r2&sslmode=disable"
                                     "&replica=%5B::1%5D:5434&replica_fallback=off",
                                     &u, &err),
                     DBAL_OK);
    assert_string_equal(u->opts.replicas, "r1:5433,r2,[::1]:5434");
    assert_int_equal(u->opts.replica_fallback, 0);
    assert_int_equal(u->pub.nparams, 1);
    dbal_url_host *hosts;
    size_t n;
    assert_int_equal(dbal__url_parse_hosts(u->opts.replicas, "replica list", &hosts, &n, &err), DBAL_OK);
    assert_int_equal(n, 3);
    assert_string_equal(hosts[0].host, "r1");
    assert_string_equal(hosts[0].port, "5433");
    assert_null(hosts[1].port);
    assert_string_equal(hosts[2].host, "::1");
    dbal__url_hosts_free(hosts, n);
    dbal__url_free(u);
    const char *bad_lists[] = {"r1:0", "r1,,r2", "[::1", ":5432"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(dbal__url_parse_hosts(bad_lists[i], "replica list", &hosts, &n, &err), DBAL_EURL);
        assert_non_null(strstr(err.message, "bad replica list: "));
    }
}

typedef struct {
    const char *url;
    const char *needle; /* the message names the problem */
} bad_case;

static const bad_case bad[] = {
    {"", "empty"},
    {"no-scheme-here", "scheme"},
    {"Postgresql://h/db", "scheme"},
    {"post gres://h/db", "scheme"},
    {"../../etc://x", "scheme"},
    {"a/b://x", "scheme"},
    {"1pg://h", "scheme"},
    {"postgresql+://h", "driver name"},
    {"postgresql+Bad://h", "driver name"},
    {"postgresql:h/db", "'//'"},
    {"sqlite:relative.db", "'//'"},
    {"sqlite::memory:x", "'//'"},
    {"postgresql://u:secret@h:abc/db", "port"},
    {"postgresql://u:secret@h:0/db", "port"},
    {"postgresql://u:secret@h:65536/db", "port"},
    {"postgresql://u:secret@h:/db", "port"},
    {"postgresql://[::1/db", "']'"},
    {"postgresql://[::1]x/db", "after ']'"},
    {"postgresql://u:secret%zz@h/db", "password"},
    {"postgresql://u:secret%2@h/db", "password"},
    {"postgresql://u:sec%00ret@h/db", "password"},
    {"postgresql://h/d%4", "database name"},
    {"postgresql://h/db?pool_size=0", "pool_size"},
    {"postgresql://h/db?pool_size=abc", "pool_size"},
    {"postgresql://h/db?pool_timeout=-1", "pool_timeout"},
    {"postgresql://h/db?pool_pre_ping=maybe", "pool_pre_ping"},
    {"postgresql://h/db?statement_cache_size=-5", "statement_cache_size"},
    {"postgresql://h/db?max_overflow=x", "max_overflow"},
    {"postgresql://h/db?replica_fallback=maybe", "replica_fallback"},
    {"postgresql://h/db?novalue", "key=value"},
    {"postgresql://h/db?=x", "key=value"},
};

static void test_bad_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dbal__url *u = (dbal__url *)1;
        dbal_error err;
        int rc = dbal__url_parse(bad[i].url, &u, &err);
        if (rc != DBAL_EURL)
            fail_msg("%s: returned %d, expected DBAL_EURL", bad[i].url, rc);
        assert_null(u);
        assert_int_equal(err.code, DBAL_EURL);
        if (!strstr(err.message, bad[i].needle))
            fail_msg("%s: message '%s' does not mention '%s'", bad[i].url, err.message, bad[i].needle);
        if (strstr(err.message, "secret"))
            fail_msg("%s: message '%s' leaks the password", bad[i].url, err.message);
    }
}

/* The numeric engine options have one set of ranges and messages, shared
 * with dbal_engine_options (dbal__engine_option_check). Non-finite values
 * and times past 1e9 seconds are refused: the pool's deadlines are computed
 * from them. */
static void test_option_limits(void **state)
{
    (void)state;
    static const struct {
        const char *option, *value;
        int ok;
    } cases[] = {
        {"pool_timeout", "1e19", 0},
        {"pool_timeout", "inf", 0},
        {"pool_timeout", "nan", 0},
        {"pool_timeout", "-1", 0},
        {"pool_timeout", "-inf", 0},
        {"pool_timeout", "1e400", 0},
        {"pool_timeout", "1e9x", 0},
        {"pool_timeout", "", 0},
        {"pool_timeout", "1e9", 1},
        {"pool_timeout", "0", 1},
        {"pool_timeout", "0.25", 1},
        {"pool_recycle", "1e19", 0},
        {"pool_recycle", "nan", 0},
        {"pool_recycle", "-0.5", 0},
        {"pool_recycle", "-2", 0},
        {"pool_recycle", "-1", 1},
        {"pool_recycle", "3600", 1},
        {"leak_detection_threshold", "inf", 0},
        {"leak_detection_threshold", "-1", 0},
        {"pool_size", "1.5", 0},
        {"pool_size", "100001", 0},
        {"statement_timeout", "2147483648", 0},
        {"statement_timeout", "2147483647", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char url[200];
        snprintf(url, sizeof url, "postgresql://h/db?%s=%s", cases[i].option, cases[i].value);
        dbal__url *u = NULL;
        dbal_error err, direct;
        int rc = dbal__url_parse(url, &u, &err);
        dbal__url_free(u);
        if (cases[i].ok) {
            if (rc != DBAL_OK)
                fail_msg("%s: %s", url, err.message);
            continue;
        }
        if (rc != DBAL_EURL)
            fail_msg("%s: accepted", url);
        /* The message is the check's, plus the value: this URL has no
         * password it could be a piece of. */
        assert_int_equal(dbal__engine_option_check(cases[i].option, 1e19, "bad database URL: ", DBAL_EURL,
                                                   &direct),
                         DBAL_EURL);
        char want[600];
        snprintf(want, sizeof want, "%s, got '%s'", direct.message, cases[i].value);
        assert_string_equal(err.message, want);
    }
    dbal_error err;
    assert_int_equal(dbal__engine_option_check("pool_timeout", 1e19, "", DBAL_EINVAL, &err), DBAL_EINVAL);
    assert_string_equal(err.message, "pool_timeout must be a number of seconds from 0 to 1e9");
    assert_int_equal(dbal__engine_option_check("pool_timeout", 1e9, "", DBAL_EINVAL, &err), DBAL_OK);
}

/* A password with an unencoded '?', '#', '/' or '@' is cut by the parser,
 * and its tail lands in the query string: an option's value may then be a
 * piece of it, and no message shows one when the URL has the shape of a
 * user name and password. */
static void test_option_values_hidden_behind_passwords(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "postgresql://app:1234?pool_size=Zq9Secret@db/app",
        "postgresql://app:1234?echo=Zq9Secret@db/app",
        "postgresql://app:12/ab?pool_timeout=Zq9Secret@db/app",
        "postgresql://app:12@ab?replica_fallback=Zq9Secret@db/app",
        "postgresql://app:12#ab?pool_recycle=Zq9Secret@db/app",
        "sqlite://app:pw?statement_timeout=Zq9Secret@db/app",
        "sqlite://app:pw#1?pool_pre_ping=Zq9Secret@db/app",
        "sqlite://app:pw/x?max_overflow=Zq9Secret@db/app",
        "sqlite://app:pw@x?leak_detection_threshold=Zq9Secret@db/app",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        dbal__url *u = NULL;
        dbal_error err;
        if (dbal__url_parse(urls[i], &u, &err) != DBAL_EURL)
            fail_msg("%s: accepted", urls[i]);
        if (strstr(err.message, "Zq9"))
            fail_msg("%s: the message shows a piece of the password: %s", urls[i], err.message);
    }
    /* Without a password, or with one the parser saw whole, the value
     * helps, and is shown. */
    static const char *const clear[] = {"postgresql://app@db/app?pool_size=Zq9",
                                        "postgresql://app:pw@db/app?pool_size=Zq9",
                                        "postgresql://app:p@ss@db:5432/app?pool_size=Zq9"};
    for (size_t i = 0; i < sizeof clear / sizeof clear[0]; i++) {
        dbal__url *u = NULL;
        dbal_error err;
        assert_int_equal(dbal__url_parse(clear[i], &u, &err), DBAL_EURL);
        if (!strstr(err.message, "got 'Zq9'"))
            fail_msg("%s: %s", clear[i], err.message);
    }
}

/* ---- one table, two paths: a URL and dbal_engine_options ------------------- */

static const dbal__engine_option *option_named(const char *key)
{
    for (size_t i = 0; i < dbal__engine_noptions; i++)
        if (strcmp(dbal__engine_options[i].key, key) == 0)
            return &dbal__engine_options[i];
    fail_msg("no engine option %s", key);
    return NULL;
}

/* Sets the field of dbal_engine_options that option names to v; 0 when an
 * int field cannot hold v (a fraction, NaN, past INT_MAX). */
static int set_in_code(dbal_engine_options *in, const dbal__engine_option *opt, double v)
{
    char *at = (char *)in + opt->public_offset;
    if (opt->kind == DBAL__OPT_SECONDS) {
        *(double *)at = v;
        return 1;
    }
    if (v != floor(v) || v < INT_MIN || v > INT_MAX) /* also NaN */
        return 0;
    *(int *)at = (int)v;
    return 1;
}

/* Whether two sets of options hold the same values (their padding aside). */
static void assert_same_opts(const dbal__engine_opts *a, const dbal__engine_opts *b)
{
    for (size_t i = 0; i < dbal__engine_noptions; i++) {
        const dbal__engine_option *opt = &dbal__engine_options[i];
        const char *x = (const char *)a + opt->offset, *y = (const char *)b + opt->offset;
        if (opt->kind == DBAL__OPT_HOSTS) {
            const char *l1 = *(char *const *)x, *l2 = *(char *const *)y;
            if (l1 || l2)
                assert_string_equal(l1 ? l1 : "(null)", l2 ? l2 : "(null)");
        } else if (opt->kind == DBAL__OPT_SECONDS) {
            assert_memory_equal(x, y, sizeof(double));
        } else {
            assert_memory_equal(x, y, sizeof(int));
        }
    }
}

/* Parses "sqlite::memory:?<option>=<text>"; the message without its prefix
 * and the value goes to why. */
static int through_url(const char *option, const char *text, dbal__engine_opts *opts, char *why, size_t cap)
{
    char url[256];
    snprintf(url, sizeof url, "sqlite::memory:?%s=%s", option, text);
    dbal__url *u = NULL;
    dbal_error err;
    int rc = dbal__url_parse(url, &u, &err);
    if (rc == DBAL_OK) {
        *opts = u->opts;
        opts->replicas = NULL; /* freed with u */
        dbal__url_free(u);
        return rc;
    }
    static const char prefix[] = "bad database URL: ";
    assert_int_equal(strncmp(err.message, prefix, sizeof prefix - 1), 0);
    snprintf(why, cap, "%s", err.message + sizeof prefix - 1);
    char *got = strstr(why, ", got '");
    assert_non_null(got);
    *got = '\0';
    return rc;
}

static int through_code(const dbal_engine_options *in, dbal__engine_opts *opts, char *why, size_t cap)
{
    dbal_error err;
    dbal__engine_opts_default(opts);
    int rc = dbal__engine_opts_apply(opts, in, &err);
    static const char prefix[] = "dbal_engine_options: ";
    if (rc == DBAL_OK)
        return rc;
    assert_int_equal(strncmp(err.message, prefix, sizeof prefix - 1), 0);
    snprintf(why, cap, "%s", err.message + sizeof prefix - 1);
    return rc;
}

/* Every value of every numeric and boolean option that either path takes or
 * refuses: the same value is accepted by both, or refused by both with the
 * same words. Before DBAL__ENGINE_OPTION_MAP, code accepted any non-negative
 * boolean (2 was true) where a URL wanted 0/1 or a word, took -infinity
 * for "unset" where a URL refused it, and checked dbal_engine_options'
 * replicas/replica_fallback/pool_reset against the caller's size but not
 * the fields before them. */
static void test_url_and_code_agree(void **state)
{
    (void)state;
    static const struct {
        const char *option, *text;
        double value;
        int ok;
    } cases[] = {
        {"pool_size", "1", 1, 1},
        {"pool_size", "100000", 100000, 1},
        {"pool_size", "0", 0, 0},
        {"pool_size", "100001", 100001, 0},
        {"pool_size", "1.5", 1.5, 0}, /* an int field cannot say it: the URL's case only */
        {"pool_size", "2147483648", 2147483648.0, 0},
        {"max_overflow", "0", 0, 1},
        {"max_overflow", "100000", 100000, 1},
        {"max_overflow", "100001", 100001, 0},
        {"statement_cache_size", "0", 0, 1},
        {"statement_cache_size", "100000", 100000, 1},
        {"statement_cache_size", "100001", 100001, 0},
        {"statement_timeout", "0", 0, 1},
        {"statement_timeout", "2147483647", 2147483647, 1},
        {"statement_timeout", "2147483648", 2147483648.0, 0},
        {"pool_timeout", "0", 0, 1},
        {"pool_timeout", "0.25", 0.25, 1},
        {"pool_timeout", "1e9", 1e9, 1},
        {"pool_timeout", "1000000001", 1e9 + 1, 0},
        {"pool_timeout", "1e19", 1e19, 0},
        {"pool_timeout", "inf", INFINITY, 0},
        {"pool_timeout", "-inf", -INFINITY, 0},
        {"pool_timeout", "nan", NAN, 0},
        {"pool_recycle", "-1", -1, 1},
        {"pool_recycle", "0", 0, 1},
        {"pool_recycle", "3600", 3600, 1},
        {"pool_recycle", "1e9", 1e9, 1},
        {"pool_recycle", "-0.5", -0.5, 0},
        {"pool_recycle", "1e19", 1e19, 0},
        {"pool_recycle", "inf", INFINITY, 0},
        {"pool_recycle", "-inf", -INFINITY, 0},
        {"pool_recycle", "nan", NAN, 0},
        {"leak_detection_threshold", "0", 0, 1},
        {"leak_detection_threshold", "2.5", 2.5, 1},
        {"leak_detection_threshold", "1e9", 1e9, 1},
        {"leak_detection_threshold", "1000000001", 1e9 + 1, 0},
        {"leak_detection_threshold", "inf", INFINITY, 0},
        {"leak_detection_threshold", "nan", NAN, 0},
        {"pool_pre_ping", "0", 0, 1},
        {"pool_pre_ping", "1", 1, 1},
        {"pool_pre_ping", "2", 2, 0},
        {"replica_fallback", "0", 0, 1},
        {"replica_fallback", "1", 1, 1},
        {"replica_fallback", "2", 2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const dbal__engine_option *opt = option_named(cases[i].option);
        dbal__engine_opts by_url, by_code;
        char url_why[512] = "", code_why[512] = "";
        int url_rc = through_url(cases[i].option, cases[i].text, &by_url, url_why, sizeof url_why);
        if ((url_rc == DBAL_OK) != cases[i].ok)
            fail_msg("%s=%s in a URL: %s", cases[i].option, cases[i].text, url_rc ? url_why : "accepted");
        dbal_engine_options in;
        dbal__engine_options_unset(&in);
        if (!set_in_code(&in, opt, cases[i].value))
            continue;
        int code_rc = through_code(&in, &by_code, code_why, sizeof code_why);
        if ((code_rc == DBAL_OK) != cases[i].ok)
            fail_msg("%s = %s in code: %s", cases[i].option, cases[i].text, code_rc ? code_why : "accepted");
        if (!cases[i].ok) {
            assert_int_equal(url_rc, DBAL_EURL);
            assert_int_equal(code_rc, DBAL_EINVAL);
            assert_string_equal(url_why, code_why);
        } else {
            assert_memory_equal((char *)&by_url + opt->offset, (char *)&by_code + opt->offset,
                                opt->kind == DBAL__OPT_SECONDS ? sizeof(double) : sizeof(int));
        }
    }
    /* pool_reset: the URL's words are the code's constants. */
    static const struct {
        const char *word;
        int value;
    } resets[] = {{"full", DBAL_POOL_RESET_FULL}, {"rollback", DBAL_POOL_RESET_ROLLBACK}};
    for (size_t i = 0; i < 2; i++) {
        dbal__engine_opts by_url, by_code;
        char why[512];
        assert_int_equal(through_url("pool_reset", resets[i].word, &by_url, why, sizeof why), DBAL_OK);
        dbal_engine_options in;
        dbal__engine_options_unset(&in);
        in.pool_reset = resets[i].value;
        assert_int_equal(through_code(&in, &by_code, why, sizeof why), DBAL_OK);
        assert_int_equal(by_url.pool_reset, resets[i].value);
        assert_int_equal(by_code.pool_reset, resets[i].value);
    }
    char why[512];
    dbal__engine_opts opts;
    assert_int_equal(through_url("pool_reset", "sometimes", &opts, why, sizeof why), DBAL_EURL);
    assert_string_equal(why, "pool_reset must be full or rollback");
    assert_int_equal(through_url("pool_reset", "FULL", &opts, why, sizeof why), DBAL_EURL);
    static const int bad_resets[] = {0, 3, INT_MAX};
    for (size_t i = 0; i < 3; i++) {
        dbal_engine_options in;
        dbal__engine_options_unset(&in);
        in.pool_reset = bad_resets[i];
        assert_int_equal(through_code(&in, &opts, why, sizeof why), DBAL_EINVAL);
        assert_string_equal(why, "pool_reset must be DBAL_POOL_RESET_FULL or DBAL_POOL_RESET_ROLLBACK");
    }
}

/* What only one path can say. A URL: the words for booleans, the numbers
 * strtol (integers) and strtod (seconds) read, leading blanks and '+'
 * included, and echo. Code: a negative number is "unset" (pool_recycle:
 * below -1), where a URL refuses it. */
static void test_url_only_and_code_only(void **state)
{
    (void)state;
    static const struct {
        const char *option, *text;
        int ok;
    } spellings[] = {
        {"pool_pre_ping", "true", 1},
        {"pool_pre_ping", "yes", 1},
        {"pool_pre_ping", "on", 1},
        {"pool_pre_ping", "false", 1},
        {"pool_pre_ping", "no", 1},
        {"pool_pre_ping", "off", 1},
        {"pool_pre_ping", "TRUE", 0},
        {"pool_pre_ping", "", 0},
        {"pool_pre_ping", "maybe", 0},
        {"echo", "1", 1},
        {"echo", "off", 1},
        {"echo", "2", 0},
        {"pool_size", "+5", 1},
        {"pool_size", "%205", 1},
        {"pool_size", "5%20", 0},
        {"pool_size", "0x10", 0},
        {"pool_size", "1e3", 0},
        {"pool_size", "-0", 0},
        {"max_overflow", "-0", 1},
        {"pool_timeout", "1e3", 1},
        {"pool_timeout", "0x10", 1},
        {"pool_timeout", "INF", 0},
        {"pool_timeout", "", 0},
        {"pool_timeout", "1e9x", 0},
        {"pool_timeout", "1e400", 0},
        {"pool_timeout", "-1", 0},
        {"pool_recycle", "-2", 0},
        {"pool_recycle", "-1.0", 1},
        {"statement_timeout", "-1", 0},
        {"leak_detection_threshold", "-1", 0},
    };
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        dbal__engine_opts opts;
        char why[512];
        int rc = through_url(spellings[i].option, spellings[i].text, &opts, why, sizeof why);
        if ((rc == DBAL_OK) != spellings[i].ok)
            fail_msg("%s=%s in a URL: %s", spellings[i].option, spellings[i].text, rc ? why : "accepted");
    }
    /* Negative in code: unset, the URL's (here the default) value stays. */
    static const struct {
        const char *option;
        double value;
    } unset[] = {{"pool_size", -1},
                 {"pool_size", INT_MIN},
                 {"max_overflow", -1},
                 {"pool_timeout", -5},
                 {"pool_recycle", -2},
                 {"pool_recycle", -1e300},
                 {"pool_pre_ping", -1},
                 {"replica_fallback", -7},
                 {"pool_reset", -1},
                 {"statement_timeout", -1},
                 {"leak_detection_threshold", -0.5}};
    dbal__engine_opts defaults;
    dbal__engine_opts_default(&defaults);
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++) {
        dbal_engine_options in;
        dbal__engine_options_unset(&in);
        assert_true(set_in_code(&in, option_named(unset[i].option), unset[i].value));
        dbal__engine_opts opts;
        char why[512];
        assert_int_equal(through_code(&in, &opts, why, sizeof why), DBAL_OK);
        assert_same_opts(&opts, &defaults);
    }
}

/* dbal_engine_options_init (dbal__engine_options_unset) leaves every field
 * unset; a caller's struct from
 * an older header (a smaller size) has its missing fields unset; replicas
 * replace the URL's. */
static void test_options_in_code(void **state)
{
    (void)state;
    dbal_engine_options in;
    dbal__engine_options_unset(&in);
    assert_int_equal(in.size, sizeof in);
    assert_true(in.pool_recycle < -1);
    assert_null(in.replicas);
    dbal__engine_opts opts, defaults;
    dbal__engine_opts_default(&defaults);
    char why[512];
    assert_int_equal(through_code(&in, &opts, why, sizeof why), DBAL_OK);
    assert_same_opts(&opts, &defaults);

    in.pool_size = 7;
    in.replicas = "r1:5433,r2";
    in.pool_reset = 12345; /* past the size below: never read */
    in.size = offsetof(dbal_engine_options, replicas);
    assert_int_equal(through_code(&in, &opts, why, sizeof why), DBAL_OK);
    assert_int_equal(opts.pool_size, 7);
    assert_null(opts.replicas);
    in.size = offsetof(dbal_engine_options, pool_size) + sizeof in.pool_size;
    in.max_overflow = 100001; /* past the size: never read */
    assert_int_equal(through_code(&in, &opts, why, sizeof why), DBAL_OK);
    assert_int_equal(opts.max_overflow, defaults.max_overflow);

    dbal__url *u;
    dbal_error err;
    assert_int_equal(dbal__url_parse("postgresql://h/db?replica=a&replica=b:5", &u, &err), DBAL_OK);
    assert_string_equal(u->opts.replicas, "a,b:5");
    dbal__engine_options_unset(&in);
    in.replicas = "c";
    assert_int_equal(dbal__engine_opts_apply(&u->opts, &in, &err), DBAL_OK);
    assert_string_equal(u->opts.replicas, "c");
    dbal__url_free(u);

    dbal__engine_options_unset(&in);
    in.size = sizeof(size_t) - 1;
    assert_int_equal(dbal__engine_opts_apply(&opts, &in, &err), DBAL_EINVAL);
    assert_non_null(strstr(err.message, "dbal_engine_options_init"));
    in.size = sizeof in + 1;
    assert_int_equal(dbal__engine_opts_apply(&opts, &in, &err), DBAL_EINVAL);
}

static void test_null_url(void **state)
{
    (void)state;
    dbal__url *u;
    dbal_error err;
    assert_int_equal(dbal__url_parse(NULL, &u, &err), DBAL_EURL);
    assert_null(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_urls),
        cmocka_unit_test(test_engine_options),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_option_limits),
        cmocka_unit_test(test_option_values_hidden_behind_passwords),
        cmocka_unit_test(test_url_and_code_agree),
        cmocka_unit_test(test_url_only_and_code_only),
        cmocka_unit_test(test_options_in_code),
        cmocka_unit_test(test_null_url),
    };
    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
