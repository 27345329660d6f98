/* URL parsing: a table of good URLs with what they must parse to, and a
 * table of bad ones with the word their message must contain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
    {"sqlite::memory:?pool_size=1&cache=shared", "sqlite", "sqlite", NULL, NULL, ":memory:",
     .nparams = 1, .key0 = "cache", .value0 = "shared"},
    {"sqlite://", "sqlite", "sqlite", NULL, NULL, ":memory:"},
    {"sqlite:///abs/path.db", "sqlite", "sqlite", NULL, NULL, "/abs/path.db"},
    {"sqlite:////abs/path.db", "sqlite", "sqlite", NULL, NULL, "/abs/path.db"},
    {"sqlite://relative.db", "sqlite", "sqlite", NULL, NULL, "relative.db"},
    {"sqlite://dir/rel.db?mode=ro", "sqlite", "sqlite", NULL, NULL, "dir/rel.db", .nparams = 1,
     .key0 = "mode", .value0 = "ro"},
    {"sqlite:///tmp/with%20space.db", "sqlite", "sqlite", NULL, NULL, "/tmp/with space.db"},
    {"sqlite:///x.db?pool_size=3&busy_timeout=10", "sqlite", "sqlite", NULL, NULL, "/x.db",
     .nparams = 1, .key0 = "busy_timeout", .value0 = "10"},
    {"postgresql://u:p@h:5432/db", "postgresql", "postgresql", "u", "p", "db", "h", "5432",
     .nhosts = 1},
    {"postgres://u@h/db", "postgresql", "postgresql", "u", NULL, "db", "h", NULL, .nhosts = 1},
    {"postgresql://h", "postgresql", "postgresql", NULL, NULL, NULL, "h", NULL, .nhosts = 1},
    {"postgresql:///db?host=/run/postgresql", "postgresql", "postgresql", NULL, NULL, "db",
     .nparams = 1, .key0 = "host", .value0 = "/run/postgresql"},
    {"postgresql://%2Frun%2Fpostgresql/db", "postgresql", "postgresql", NULL, NULL, "db",
     "/run/postgresql", NULL, .nhosts = 1},
    {"postgresql://[::1]:5433/db", "postgresql", "postgresql", NULL, NULL, "db", "::1", "5433",
     .nhosts = 1},
    {"postgresql://[fe80::1%25eth0]/db", "postgresql", "postgresql", NULL, NULL, "db",
     "fe80::1%eth0", NULL, .nhosts = 1},
    {"postgresql://h1:5432,h2:5433/db?target_session_attrs=read-write", "postgresql",
     "postgresql", NULL, NULL, "db", "h1", "5432", "h2", "5433", .nhosts = 2, .nparams = 1,
     .key0 = "target_session_attrs", .value0 = "read-write"},
    {"postgresql://h1,[::1]:6000/db", "postgresql", "postgresql", NULL, NULL, "db", "h1", NULL,
     "::1", "6000", .nhosts = 2},
    {"postgresql://us%40er:p%3Aw%2Fd%40@h/d%2Fb", "postgresql", "postgresql", "us@er", "p:w/d@",
     "d/b", "h", NULL, .nhosts = 1},
    {"postgresql://u:p@ss@h/db", "postgresql", "postgresql", "u", "p@ss", "db", "h", NULL,
     .nhosts = 1},
    {"postgresql+mydrv://h/db", "postgresql", "mydrv", NULL, NULL, "db", "h", NULL, .nhosts = 1},
    {"postgresql://h/db?sslmode=require&application_name=a%20b&pool_size=2&echo=true",
     "postgresql", "postgresql", NULL, NULL, "db", "h", NULL, .nhosts = 1, .nparams = 2,
     .key0 = "sslmode", .value0 = "require"},
    {"postgresql://h/db?statement_cache_size=0", "postgresql", "postgresql", NULL, NULL, "db",
     "h", NULL, .nhosts = 1},
    {"postgresql://h/db?&&a=1&", "postgresql", "postgresql", NULL, NULL, "db", "h", NULL,
     .nhosts = 1, .nparams = 1, .key0 = "a", .value0 = "1"},
};

static void eq_or_null(const char *want, const char *got, const char *url, const char *what)
{
    if (!want && !got)
        return;
    if (!want || !got || strcmp(want, got) != 0)
        fail_msg("%s: %s is '%s', expected '%s'", url, what, got ? got : "(null)",
                 want ? want : "(null)");
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
        {"pool_timeout", "1e19", 0},  {"pool_timeout", "inf", 0},   {"pool_timeout", "nan", 0},
        {"pool_timeout", "-1", 0},    {"pool_timeout", "-inf", 0},  {"pool_timeout", "1e400", 0},
        {"pool_timeout", "1e9x", 0},  {"pool_timeout", "", 0},      {"pool_timeout", "1e9", 1},
        {"pool_timeout", "0", 1},     {"pool_timeout", "0.25", 1},  {"pool_recycle", "1e19", 0},
        {"pool_recycle", "nan", 0},   {"pool_recycle", "-0.5", 0},  {"pool_recycle", "-2", 0},
        {"pool_recycle", "-1", 1},    {"pool_recycle", "3600", 1},  {"leak_detection_threshold", "inf", 0},
        {"leak_detection_threshold", "-1", 0}, {"pool_size", "1.5", 0}, {"pool_size", "100001", 0},
        {"statement_timeout", "2147483648", 0}, {"statement_timeout", "2147483647", 1},
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
        assert_int_equal(dbal__engine_option_check(cases[i].option, 1e19, "bad database URL: ", DBAL_EURL, &direct),
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
        cmocka_unit_test(test_null_url),
    };
    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
