# The PostgreSQL driver's own suite (libpq URLs, streaming, the statement
# cache, cancel, ...). Included from tests/CMakeLists.txt.
#
#   test_postgresql   against $DBAL_TEST_PG_URL; skipped (exit 77) when it is
#                     unset, failed when unset and DBAL_TEST_REQUIRE_PG=1

if(NOT CMOCKA_LIBRARY OR NOT CMOCKA_INCLUDE_DIR)
  find_library(CMOCKA_LIBRARY cmocka REQUIRED)
  find_path(CMOCKA_INCLUDE_DIR cmocka.h REQUIRED)
endif()

add_executable(test_postgresql ${CMAKE_CURRENT_LIST_DIR}/test_postgresql.c)
target_include_directories(test_postgresql PRIVATE ${CMOCKA_INCLUDE_DIR})
target_link_libraries(test_postgresql PRIVATE dbal ${CMOCKA_LIBRARY} Threads::Threads m)
target_compile_definitions(test_postgresql PRIVATE _GNU_SOURCE)
set_target_properties(test_postgresql PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
# The suite loads dbal_postgresql.so: build it first when it is built at all.
if(TARGET dbal_postgresql)
  add_dependencies(test_postgresql dbal_postgresql)
endif()

add_test(NAME test_postgresql COMMAND test_postgresql)
set_tests_properties(test_postgresql PROPERTIES
  ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
  LABELS "postgresql"
  SKIP_RETURN_CODE 77
  TIMEOUT 300)

# A pooled connection's next session starts clean (pool_reset), and one the
# server closed while idle is not handed out.
dbal_test(test_pg_reset SOURCES test_pg_reset.c)
set_tests_properties(test_pg_reset PROPERTIES
  LABELS "postgresql"
  SKIP_RETURN_CODE 77
  TIMEOUT 120)
if(TARGET dbal_postgresql)
  add_dependencies(test_pg_reset dbal_postgresql)
endif()
