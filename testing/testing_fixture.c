/*
 * testing_fixture.c - cmocka fixtures: an isolating engine per group, made
 * from DBAL_TEST_URL, with its schema; each test rolled back to it.
 */
#include <dbal/testing.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    dbal_testing_fixture pub; /* first: cmocka's state points here */
    char *url;
    char schema[64];
} fixture;

void dbal_testing_config_init(dbal_testing_config *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->size = sizeof *c;
    c->own_schema = 1;
}

static int say(const char *what, const dbal_error *err)
{
    print_error("dbal_testing: %s: %s (%s%s%s)\n", what, err->message, dbal_code_name(err->code),
                err->sqlstate[0] ? ", SQLSTATE " : "", err->sqlstate);
    return -1;
}

static int is_postgresql(const char *url)
{
    size_t n = strcspn(url, ":+");
    return (n == 10 && strncmp(url, "postgresql", n) == 0) || (n == 8 && strncmp(url, "postgres", n) == 0);
}

/* PostgreSQL: a schema of the run's own, alone on search_path, so that two
 * runs on one database never meet (nor find a table the other made).
 * Inside the run's transaction: the rollback drops it. */
static int own_schema(fixture *f, dbal_error *err)
{
    static unsigned runs;
    snprintf(f->schema, sizeof f->schema, "dbal_testing_%ld_%u", (long)getpid(), runs++);
    char create[96], path[96];
    snprintf(create, sizeof create, "CREATE SCHEMA %s", f->schema);
    snprintf(path, sizeof path, "SET LOCAL search_path TO %s", f->schema);
    dbal_session *s;
    int rc = dbal_session_open_labeled(f->pub.engine, &s, "dbal_testing: schema", err);
    if (rc != DBAL_OK)
        return rc;
    rc = dbal_exec(s, create, DBAL_NOARGS, NULL);
    if (rc == DBAL_OK)
        rc = dbal_exec(s, path, DBAL_NOARGS, NULL);
    if (rc != DBAL_OK)
        *err = *dbal_session_error(s);
    dbal_session_close(s);
    f->pub.schema = f->schema;
    return rc;
}

/* The schema, inside the run's transaction, then marked. */
static int make_schema(fixture *f, const dbal_testing_config *cfg)
{
    dbal_error err;
    dbal_engine *e = f->pub.engine;
    if (dbal_testing_isolate(e, &err) != DBAL_OK)
        return say("cannot begin isolation", &err);
    if (cfg->own_schema && is_postgresql(f->url) && own_schema(f, &err) != DBAL_OK)
        return say("cannot make the run's schema", &err);
    if (cfg->migrations && dbal_migrate_up(e, cfg->migrations, 0, NULL, &err) != DBAL_OK)
        return say("cannot apply the migrations", &err);
    int rc = cfg->schema ? cfg->schema(e, cfg->userdata) : DBAL_OK;
    if (rc != DBAL_OK) {
        print_error("dbal_testing: the schema function failed: %s\n", dbal_code_name(rc));
        return -1;
    }
    if (dbal_testing_mark(e, &err) != DBAL_OK)
        return say("cannot mark the schema", &err);
    return 0;
}

static void fixture_free(fixture *f)
{
    if (f->pub.engine && dbal_engine_close(f->pub.engine) != DBAL_OK)
        print_error("dbal_testing: sessions were still open when the engine closed\n");
    free(f->url);
    free(f);
}

int dbal_testing_group_setup(void **state)
{
    return dbal_testing_group_setup_with(state, NULL);
}

int dbal_testing_group_setup_with(void **state, const dbal_testing_config *given)
{
    dbal_testing_config cfg;
    dbal_testing_config_init(&cfg);
    if (given && given->size == 0) {
        print_error("dbal_testing: the config was not set up with dbal_testing_config_init\n");
        return -1;
    }
    if (given)
        memcpy(&cfg, given, given->size < sizeof cfg ? given->size : sizeof cfg);
    const char *var = cfg.url_variable ? cfg.url_variable : "DBAL_TEST_URL";
    const char *url = getenv(var);
    if (!url || !*url)
        url = cfg.default_url ? cfg.default_url : DBAL_TESTING_DEFAULT_URL;
    fixture *f = calloc(1, sizeof *f);
    if (!f || !(f->url = strdup(url))) {
        free(f);
        print_error("dbal_testing: out of memory\n");
        return -1;
    }
    f->pub.url = f->url;
    f->pub.userdata = cfg.userdata;
    dbal_error err;
    if (dbal_testing_engine_open(&f->pub.engine, url, NULL, &err) != DBAL_OK) {
        print_error("dbal_testing: cannot open the database of %s: %s\n", var, err.message); /* no password */
        fixture_free(f);
        return -1;
    }
    if (make_schema(f, &cfg) != 0) {
        fixture_free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int dbal_testing_group_teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    dbal_error err;
    int rc = dbal_testing_end(f->pub.engine, &err) == DBAL_OK ? 0 : say("cannot roll the run back", &err);
    fixture_free(f);
    *state = NULL;
    return rc;
}

int dbal_testing_setup(void **state)
{
    fixture *f = *state;
    if (!f) {
        print_error("dbal_testing_setup: no fixture: run the tests with dbal_testing_group_setup\n");
        return -1;
    }
    dbal_error err;
    dbal_testing_fault_clear(f->pub.engine, NULL);
    if (dbal_session_open_labeled(f->pub.engine, &f->pub.session, "dbal_testing: fixture->session", &err))
        return say("cannot open the test's session", &err);
    return 0;
}

int dbal_testing_teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return -1;
    int rc = 0;
    dbal_session_close(f->pub.session);
    f->pub.session = NULL;
    dbal_engine_stats st;
    dbal_engine_stats_get(f->pub.engine, &st);
    if (st.in_use > 0) {
        print_error("dbal_testing: the test left %d session(s) open: its sessions, and those of the code it "
                    "calls, must be closed\n",
                    st.in_use);
        rc = -1;
    }
    dbal_testing_fault_clear(f->pub.engine, NULL);
    dbal_error err;
    if (dbal_testing_rollback(f->pub.engine, &err) != DBAL_OK)
        rc = say("cannot roll the test back", &err);
    return rc;
}
