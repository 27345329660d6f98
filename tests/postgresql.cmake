# The PostgreSQL driver's own suite (libpq URLs, streaming, the statement
# cache, cancel, ...). Included from tests/CMakeLists.txt.
#
#   test_postgresql   against $DBAL_TEST_PG_URL; skipped (exit 77) when it is
#                     unset, failed when unset and DBAL_TEST_REQUIRE_PG=1

dbal_add_test(test_postgresql SOURCES test_postgresql.c LABELS postgresql PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)

# A pooled connection's next session starts clean (pool_reset), and one the
# server closed while idle is not handed out.
dbal_add_test(test_pg_reset SOURCES test_pg_reset.c LABELS postgresql PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
