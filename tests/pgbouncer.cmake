# The conformance suite through PgBouncer in transaction pooling mode, with
# the statement cache off and on (tests/test_pgbouncer.sh). Included from
# tests/CMakeLists.txt.
#
#   test_pgbouncer   a throwaway pgbouncer in front of $DBAL_TEST_PG_URL's
#                    server; skipped (77) without it or without the pgbouncer
#                    program, failed then when DBAL_TEST_REQUIRE_PG=1

add_test(NAME test_pgbouncer
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_pgbouncer.sh $<TARGET_FILE:dbal_conformance>)
set_tests_properties(test_pgbouncer PROPERTIES
  ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
  LABELS "cluster;postgresql"
  SKIP_RETURN_CODE 77
  RESOURCE_LOCK dbal_conformance_pg
  TIMEOUT 300)
