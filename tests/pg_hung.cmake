# A hung PostgreSQL server: every process of the test cluster SIGSTOPped
# while statements, checkouts, cancels and asynchronous operations wait on
# it (tests/test_pg_hung.c). Included from tests/CMakeLists.txt.
#
#   test_pg_hung   against $DBAL_TEST_PG_URL and $DBAL_TEST_PG_DATADIR;
#                  skipped (77) without them unless DBAL_TEST_REQUIRE_PG=1.
#                  Alone (RUN_SERIAL): the server it stops is everyone's.

dbal_test(test_pg_hung SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pg_hung.c)
if(TARGET dbal_postgresql)
  add_dependencies(test_pg_hung dbal_postgresql)
endif()
set_tests_properties(test_pg_hung PROPERTIES
  SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS "postgresql" RUN_SERIAL TRUE)
