/*
 * The drivers' statement cache (drivers/common/stmt_cache.c) on its own:
 * LRU order, eviction and release, keys with signatures, the most recent
 * entry's SQL, and a key too long for its 32-bit length refused without
 * being read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stmt_cache.h"

#include <stdlib.h>
#include <string.h>

static dbal_host host = {.abi_version = DBAL_DRIVER_ABI_VERSION,
                         .size = sizeof host,
                         .malloc = malloc,
                         .realloc = realloc,
                         .free = free};

static int released[8];

static void on_release(void *stmt, void *userdata)
{
    (void)userdata;
    released[(intptr_t)stmt]++;
}

static void *put(stmt_cache *c, const char *sql, intptr_t id)
{
    assert_int_equal(stmt_cache_put(c, sql, strlen(sql), NULL, 0, (void *)id), DBAL_OK);
    return (void *)id;
}

static void *get(stmt_cache *c, const char *sql)
{
    return stmt_cache_get(c, sql, strlen(sql), NULL, 0);
}

static void test_lru_eviction(void **state)
{
    (void)state;
    memset(released, 0, sizeof released);
    stmt_cache *c = stmt_cache_new(&host, 2, on_release, NULL);
    assert_non_null(c);
    put(c, "SELECT 1", 1);
    put(c, "SELECT 2", 2);
    assert_string_equal(stmt_cache_head_sql(c), "SELECT 2");
    assert_ptr_equal(get(c, "SELECT 1"), (void *)1); /* now the most recent */
    assert_string_equal(stmt_cache_head_sql(c), "SELECT 1");
    put(c, "SELECT 3", 3); /* evicts SELECT 2, the least recent */
    assert_int_equal(released[2], 1);
    assert_null(get(c, "SELECT 2"));
    assert_ptr_equal(get(c, "SELECT 1"), (void *)1);
    assert_ptr_equal(get(c, "SELECT 3"), (void *)3);
    assert_int_equal(stmt_cache_count(c), 2);
    stmt_cache_remove(c, "SELECT 1", 8, NULL, 0);
    assert_int_equal(released[1], 1);
    assert_int_equal(stmt_cache_count(c), 1);
    stmt_cache_free(c);
    assert_int_equal(released[3], 1);
    assert_int_equal(released[1] + released[2] + released[3], 3);
}

static void test_signature_is_part_of_the_key(void **state)
{
    (void)state;
    memset(released, 0, sizeof released);
    stmt_cache *c = stmt_cache_new(&host, 4, on_release, NULL);
    assert_non_null(c);
    const char *sql = "SELECT $1";
    assert_int_equal(stmt_cache_put(c, sql, strlen(sql), "i", 1, (void *)1), DBAL_OK);
    assert_int_equal(stmt_cache_put(c, sql, strlen(sql), "t", 1, (void *)2), DBAL_OK);
    assert_ptr_equal(stmt_cache_get(c, sql, strlen(sql), "i", 1), (void *)1);
    assert_ptr_equal(stmt_cache_get(c, sql, strlen(sql), "t", 1), (void *)2);
    assert_null(stmt_cache_get(c, sql, strlen(sql), NULL, 0));
    /* A prefix of the SQL is another key. */
    assert_null(stmt_cache_get(c, sql, 7, "i", 1));
    stmt_cache_free(c);
    assert_int_equal(released[1] + released[2], 2);
}

/* The length is kept in 32 bits: a longer key is refused before anything
 * is read or allocated (the pointer here holds only a few bytes), and the
 * caller runs the statement uncached. */
static void test_oversized_key_refused(void **state)
{
    (void)state;
#if SIZE_MAX <= UINT32_MAX
    skip(); /* no such length on a 32-bit size_t */
#endif
    memset(released, 0, sizeof released);
    stmt_cache *c = stmt_cache_new(&host, 4, on_release, NULL);
    assert_non_null(c);
    const char *sql = "SELECT 1";
    assert_int_equal(stmt_cache_put(c, sql, (size_t)UINT32_MAX + 1, NULL, 0, (void *)1), DBAL_ENOMEM);
    assert_int_equal(stmt_cache_put(c, sql, strlen(sql), sql, (size_t)UINT32_MAX + 1, (void *)1),
                     DBAL_ENOMEM);
    assert_int_equal(stmt_cache_count(c), 0);
    put(c, sql, 1);
    assert_ptr_equal(get(c, sql), (void *)1);
    stmt_cache_free(c);
    assert_int_equal(released[1], 1); /* the refused puts did not take it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_signature_is_part_of_the_key),
        cmocka_unit_test(test_oversized_key_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
