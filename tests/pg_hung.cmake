# A hung PostgreSQL server: every process of the test cluster SIGSTOPped
# while statements, checkouts, cancels and asynchronous operations wait on
# it (tests/test_pg_hung.c). Included from tests/CMakeLists.txt.
#
#   test_pg_hung   against $DBAL_TEST_PG_URL and $DBAL_TEST_PG_DATADIR;
#                  skipped (77) without them unless DBAL_TEST_REQUIRE_PG=1.
#                  Alone (RUN_SERIAL): the server it stops is everyone's.

dbal_add_test(test_pg_hung SOURCES test_pg_hung.c LABELS postgresql
              PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL TRUE)
