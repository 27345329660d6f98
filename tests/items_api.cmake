# The items_api example service, end to end over HTTP (tests/test_items_api.sh).
# Included from tests/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/items_api.cmake)
#
#   items_api_sqlite       a temporary SQLite file
#   items_api_postgresql   $DBAL_TEST_PG_URL, with a server restart and a
#                          stop/start under load; skipped (77) when it is unset,
#                          failed when unset and DBAL_TEST_REQUIRE_PG=1
#
# Needs the service (built only when libmicrohttpd and jansson are found),
# curl and python3 at run time.

if(NOT TARGET items_api)
  message(STATUS "items_api tests not added: the items_api example is not built")
  return()
endif()

# The service in this process, on the testing kit: each test rolled back,
# faults injected (tests/test_items_api_unit.c); and the service's binary
# started with fault= in its URL (tests/test_items_api_faults.sh).
if(TARGET dbal_testkit)
  dbal_add_test(test_items_api_unit SOURCES test_items_api_unit.c LIBS dbal_testkit items_api_objs ARGS sqlite
                LABELS items_api PROPERTIES TIMEOUT 120)
  target_compile_definitions(test_items_api_unit
    PRIVATE ITEMS_API_MIGRATIONS="${PROJECT_SOURCE_DIR}/examples/items_api/migrations")
  add_test(NAME test_items_api_unit_postgresql COMMAND test_items_api_unit postgresql)
  dbal_test_properties(test_items_api_unit_postgresql LABELS "items_api;postgresql"
                       PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
if(TARGET dbal_testing)
  add_test(NAME test_items_api_faults
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_items_api_faults.sh $<TARGET_FILE:items_api>)
  dbal_test_properties(test_items_api_faults LABELS items_api PROPERTIES TIMEOUT 120)
endif()

find_package(PkgConfig QUIET)
pkg_check_modules(ITEMS_API_CLIENT_JANSSON QUIET IMPORTED_TARGET jansson)
find_program(ITEMS_API_CURL curl)
find_program(ITEMS_API_PYTHON3 python3)
if(NOT ITEMS_API_CLIENT_JANSSON_FOUND OR NOT ITEMS_API_CURL OR NOT ITEMS_API_PYTHON3)
  message(STATUS "items_api tests not added: they need jansson, curl and python3")
  return()
endif()

find_package(Threads REQUIRED)
add_executable(items_api_client ${CMAKE_CURRENT_LIST_DIR}/items_api_client.c)
target_link_libraries(items_api_client PRIVATE PkgConfig::ITEMS_API_CLIENT_JANSSON Threads::Threads dbal_build)
set_target_properties(items_api_client PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

foreach(db sqlite postgresql)
  add_test(NAME items_api_${db}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_items_api.sh
                   $<TARGET_FILE:items_api> $<TARGET_FILE:items_api_client> ${db})
  set_tests_properties(items_api_${db} PROPERTIES
    ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
    LABELS "items_api"
    SKIP_RETURN_CODE 77
    TIMEOUT 300)
endforeach()
# It stops and restarts the server: nothing else may use it meanwhile.
set_tests_properties(items_api_postgresql PROPERTIES LABELS "items_api;postgresql" RUN_SERIAL TRUE)
