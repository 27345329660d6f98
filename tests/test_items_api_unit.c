/*
 * test_items_api_unit.c - the example service's tests on the testing kit
 * (include/dbal/testing.h): its real HTTP server, handlers and units of
 * work, in this process, on an engine of the testing driver. Each test is
 * rolled back; the database says no when a test asks it to.
 *
 *   test_items_api_unit sqlite | postgresql
 *
 * sqlite is sqlite::memory:; postgresql $DBAL_TEST_PG_URL (exit 77 when
 * unset, a failure when DBAL_TEST_REQUIRE_PG is set). The schema is the
 * service's migrations (ITEMS_API_MIGRATIONS), applied once, inside the
 * run's transaction. After the run an engine without the testing driver
 * finds nothing of it on PostgreSQL.
 */
#include <dbal/testing.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app.h"
#include "http_server.h"
#include "unit_of_work.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static app g_app;
static http_server g_srv;
static char g_schema[64];

typedef struct reply {
    int status;
    char body[4096];
} reply;

/* One request over a new connection, as a client would send it. */
static reply request(const char *method, const char *path, const char *body)
{
    reply r = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_srv.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        fail_msg("cannot connect to the service on port %u", g_srv.port);
    char head[512];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     method, path, blen);
    if (write(fd, head, (size_t)n) != n || (blen && write(fd, body, blen) != (ssize_t)blen))
        fail_msg("cannot send %s %s", method, path);
    char all[8192];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof all - 1 && (k = read(fd, all + got, sizeof all - 1 - got)) > 0)
        got += (size_t)k;
    all[got] = '\0';
    close(fd);
    const char *sep = strstr(all, "\r\n\r\n");
    if (sscanf(all, "HTTP/1.%*d %d", &r.status) != 1 || !sep)
        fail_msg("not an HTTP answer to %s %s: %s", method, path, all);
    snprintf(r.body, sizeof r.body, "%s", sep + 4);
    return r;
}

#define EXPECT_STATUS(r, want)                                                          \
    do {                                                                                \
        if ((r).status != (want))                                                       \
            fail_msg("status %d, expected %d; body: %s", (r).status, (want), (r).body); \
    } while (0)

static void add_fault(const char *spec)
{
    dbal_error err;
    if (dbal_testing_fault_add(g_app.db, spec, NULL, &err) != DBAL_OK)
        fail_msg("fault %s: %s", spec, err.message);
}

/* ---- the group ------------------------------------------------------------------ */

static int group_setup(void **state)
{
    dbal_testing_config cfg;
    dbal_testing_config_init(&cfg);
    cfg.migrations = ITEMS_API_MIGRATIONS;
    if (dbal_testing_group_setup_with(state, &cfg) != 0)
        return -1;
    dbal_testing_fixture *fx = *state;
    if (fx->schema)
        snprintf(g_schema, sizeof g_schema, "%s", fx->schema);
    g_app.db = fx->engine;
    config c = {.host = "127.0.0.1", .port = 0, .max_body = 1 << 20};
    char msg[256];
    if (http_server_start(&g_srv, &g_app, &c, msg, sizeof msg) != 0) {
        print_error("cannot start the service: %s\n", msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    http_server_stop(&g_srv);
    return dbal_testing_group_teardown(state);
}

/* ---- tests ------------------------------------------------------------------------ */

static void create_and_read(void **state)
{
    dbal_testing_fixture *fx = *state;
    reply r = request("POST", "/items", "{\"name\": \"widget\", \"price\": 9.5}");
    EXPECT_STATUS(r, 201);
    assert_non_null(strstr(r.body, "\"name\": \"widget\"") ? r.body : strstr(r.body, "\"name\":\"widget\""));
    r = request("GET", "/items", NULL);
    EXPECT_STATUS(r, 200);
    assert_non_null(strstr(r.body, "widget"));
    dbal_assert_rows(fx->engine, "SELECT name, price, tags FROM items", DBAL_NOARGS, "widget|9.5|[]");
}

/* The item the last test committed (through the service's unit of work)
 * is gone: each test starts from the migrated, empty schema. */
static void the_last_test_left_nothing(void **state)
{
    dbal_testing_fixture *fx = *state;
    dbal_assert_count(fx->engine, "items", 0);
    reply r = request("GET", "/items", NULL);
    EXPECT_STATUS(r, 200);
    assert_non_null(strstr(r.body, "\"items\": []") ? r.body : strstr(r.body, "\"items\":[]"));
    dbal_assert_rows(fx->engine, "SELECT version FROM dbal_migrations", DBAL_NOARGS, "1");
}

/* A unique violation the database reports (injected: no first item was
 * ever made) is a 409 that names the item. */
static void unique_violation_is_409(void **state)
{
    dbal_testing_fixture *fx = *state;
    add_fault("unique:items_name_key@statement~INSERT INTO items");
    reply r = request("POST", "/items", "{\"name\": \"gadget\", \"price\": 1}");
    EXPECT_STATUS(r, 409);
    assert_non_null(strstr(r.body, "an item named 'gadget' already exists"));
    assert_non_null(strstr(r.body, "23505"));
    assert_non_null(strstr(r.body, "DBAL_EUNIQUE"));
    dbal_assert_count(fx->engine, "items", 0);
    EXPECT_STATUS(request("POST", "/items", "{\"name\": \"gadget\", \"price\": 1}"), 201);
}

/* The connection lost under a request: 503, nothing stored, and the next
 * request is served on a new connection. */
static void lost_connection_is_503(void **state)
{
    dbal_testing_fixture *fx = *state;
    add_fault("lost@statement~INSERT INTO items");
    reply r = request("POST", "/items", "{\"name\": \"lost\", \"price\": 1}");
    EXPECT_STATUS(r, 503);
    assert_non_null(strstr(r.body, "DBAL_ECONNLOST"));
    dbal_assert_count(fx->engine, "items", 0);
    EXPECT_STATUS(request("POST", "/items", "{\"name\": \"found\", \"price\": 1}"), 201);
    dbal_assert_rows(fx->engine, "SELECT name FROM items", DBAL_NOARGS, "found");
}

/* Lost after the commit ran: the client hears 503, yet the item is there,
 * which is why a retried POST must expect a 409. */
static void lost_after_commit_is_503_but_stored(void **state)
{
    dbal_testing_fixture *fx = *state;
    add_fault("lost_after@commit");
    EXPECT_STATUS(request("POST", "/items", "{\"name\": \"maybe\", \"price\": 1}"), 503);
    dbal_assert_rows(fx->engine, "SELECT name FROM items", DBAL_NOARGS, "maybe");
    EXPECT_STATUS(request("POST", "/items", "{\"name\": \"maybe\", \"price\": 1}"), 409);
}

/* A serialization failure at commit: the unit of work runs again and
 * the client never knows; one that never clears is a 503 after the
 * retries. */
static void serialization_failure_is_retried(void **state)
{
    dbal_testing_fixture *fx = *state;
    int id;
    dbal_testing_fault_add(fx->engine, "serialization@commit", &id, NULL);
    EXPECT_STATUS(request("POST", "/items", "{\"name\": \"retried\", \"price\": 2}"), 201);
    assert_int_equal(dbal_testing_fault_fired(fx->engine, id), 1);
    dbal_assert_rows(fx->engine, "SELECT name FROM items", DBAL_NOARGS, "retried");

    dbal_testing_fault_add(fx->engine, "serialization@commit*always", &id, NULL);
    reply r = request("POST", "/items", "{\"name\": \"never\", \"price\": 2}");
    EXPECT_STATUS(r, 503);
    assert_non_null(strstr(r.body, "40001"));
    assert_int_equal(dbal_testing_fault_fired(fx->engine, id), 1 + UNIT_OF_WORK_RETRIES);
    dbal_assert_count(fx->engine, "items", 1);
}

/* The database refusing connections, or the pool running dry: 503. */
static void no_connection_is_503(void **state)
{
    (void)state;
    add_fault("refused@checkout");
    reply r = request("GET", "/health", NULL);
    EXPECT_STATUS(r, 503);
    EXPECT_STATUS(request("GET", "/health", NULL), 200);
    add_fault("pool@checkout");
    r = request("POST", "/items", "{\"name\": \"x\", \"price\": 1}");
    EXPECT_STATUS(r, 503);
    assert_non_null(strstr(r.body, "DBAL_EPOOLTIMEOUT"));
}

/* A read of the list fails alone: the service's GET is read-only, so a
 * write slipped into it would fail too (the testing driver keeps
 * DBAL_TX_READ_ONLY inside the test's transaction). */
static void a_failed_read_is_503_and_the_rest_goes_on(void **state)
{
    dbal_testing_fixture *fx = *state;
    EXPECT_STATUS(request("POST", "/items", "{\"name\": \"a\", \"price\": 1}"), 201);
    add_fault("timeout@statement~FROM items");
    EXPECT_STATUS(request("GET", "/items", NULL), 503);
    EXPECT_STATUS(request("GET", "/items", NULL), 200);
    dbal_assert_count(fx->engine, "items", 1);
}

/* ---- the run ---------------------------------------------------------------------- */

#define UNIT(f) cmocka_unit_test_setup_teardown(f, dbal_testing_setup, dbal_testing_teardown)

/* PostgreSQL: a plain engine, after the run, finds not even its schema. */
static int nothing_left(void)
{
    if (!g_schema[0])
        return 0;
    dbal_engine *e;
    dbal_session *s;
    dbal_rows *r;
    int64_t n = -1;
    if (dbal_engine_open(&e, getenv("DBAL_TEST_URL"), NULL) != DBAL_OK)
        return 1;
    if (dbal_session_open(e, &s, NULL) == DBAL_OK &&
        dbal_query(s, "SELECT count(*) FROM pg_namespace WHERE nspname = ?", DBAL_ARGS(dbal_text(g_schema)),
                   &r) == DBAL_OK) {
        if (dbal_rows_next(r) == DBAL_ROW)
            n = dbal_col_int64(r, 0);
        dbal_rows_close(r);
    }
    dbal_session_close(s);
    dbal_engine_close(e);
    printf("%s after the run: %lld left\n", g_schema, (long long)n);
    return n == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "sqlite";
    if (strcmp(kind, "postgresql") == 0) {
        const char *pg = getenv("DBAL_TEST_PG_URL"), *req = getenv("DBAL_TEST_REQUIRE_PG");
        if (!pg || !*pg) {
            fprintf(stderr, "DBAL_TEST_PG_URL is unset\n");
            return req && *req ? 1 : 77;
        }
        setenv("DBAL_TEST_URL", pg, 1);
    } else {
        setenv("DBAL_TEST_URL", "sqlite::memory:", 1);
    }
    const struct CMUnitTest tests[] = {
        UNIT(create_and_read),
        UNIT(the_last_test_left_nothing),
        UNIT(unique_violation_is_409),
        UNIT(lost_connection_is_503),
        UNIT(lost_after_commit_is_503_but_stored),
        UNIT(serialization_failure_is_retried),
        UNIT(no_connection_is_503),
        UNIT(a_failed_read_is_503_and_the_rest_goes_on),
    };
    int rc = cmocka_run_group_tests_name(kind, tests, group_setup, group_teardown);
    return rc | nothing_left();
}
