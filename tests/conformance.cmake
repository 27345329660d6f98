# The conformance suite: one program, the same cases on every database URL.
# Included from tests/CMakeLists.txt (include(conformance.cmake)).
#
#   conformance_sqlite_memory   sqlite::memory:
#   conformance_sqlite_file     a fresh mkstemp() file under /tmp (deleted after)
#   conformance_postgresql      $DBAL_TEST_PG_URL; skipped (exit 77) when unset,
#                               failed when unset and DBAL_TEST_REQUIRE_PG=1

# cmocka: use the target tests/CMakeLists.txt made if there is one, else find it.
if(TARGET cmocka::cmocka)
  set(_dbal_conf_cmocka cmocka::cmocka)
elseif(TARGET cmocka)
  set(_dbal_conf_cmocka cmocka)
elseif(TARGET PkgConfig::CMOCKA)
  set(_dbal_conf_cmocka PkgConfig::CMOCKA)
else()
  # tests/CMakeLists.txt finds CMOCKA_INCLUDE_DIR and CMOCKA_LIBRARY; reuse them.
  if(CMOCKA_INCLUDE_DIR AND CMOCKA_LIBRARY)
    set(DBAL_CONF_CMOCKA_INCLUDE_DIR ${CMOCKA_INCLUDE_DIR})
    set(DBAL_CONF_CMOCKA_LIBRARY ${CMOCKA_LIBRARY})
  else()
    find_path(DBAL_CONF_CMOCKA_INCLUDE_DIR cmocka.h)
    find_library(DBAL_CONF_CMOCKA_LIBRARY cmocka)
  endif()
  if(NOT DBAL_CONF_CMOCKA_INCLUDE_DIR OR NOT DBAL_CONF_CMOCKA_LIBRARY)
    message(FATAL_ERROR "cmocka not found (apt-get install libcmocka-dev)")
  endif()
  add_library(dbal_conf_cmocka INTERFACE)
  target_include_directories(dbal_conf_cmocka INTERFACE ${DBAL_CONF_CMOCKA_INCLUDE_DIR})
  target_link_libraries(dbal_conf_cmocka INTERFACE ${DBAL_CONF_CMOCKA_LIBRARY})
  set(_dbal_conf_cmocka dbal_conf_cmocka)
endif()

# One file per area of the suite (tests/conformance/), one list of cases
# (tests/conformance/cases.h).
file(GLOB _dbal_conf_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/conformance/*.c)
add_executable(test_conformance ${_dbal_conf_sources})
target_link_libraries(test_conformance PRIVATE dbal ${_dbal_conf_cmocka} m Threads::Threads)
target_compile_definitions(test_conformance PRIVATE _GNU_SOURCE)

add_test(NAME conformance_sqlite_memory COMMAND test_conformance sqlite::memory:)
add_test(NAME conformance_sqlite_file COMMAND test_conformance sqlite-file)
add_test(NAME conformance_postgresql COMMAND test_conformance pg)
set_tests_properties(conformance_sqlite_memory conformance_sqlite_file conformance_postgresql
  PROPERTIES
    ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
    LABELS "conformance"
    TIMEOUT 300)
# Without DBAL_TEST_PG_URL every case is skipped and the program exits 77.
# Every run of the suite on PostgreSQL makes the same tables in the same
# database: one at a time (valgrind.cmake and pgbouncer.cmake take the lock
# too).
set_tests_properties(conformance_postgresql PROPERTIES SKIP_RETURN_CODE 77 RESOURCE_LOCK dbal_conformance_pg)
