# Hardening suites. Included from tests/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/hardening.cmake)
#
#   test_hostile                 hostile values through parameters, dbal_quote_ident,
#   test_hostile_sqlite_file     no password in any message or log line; on
#   test_hostile_postgresql      sqlite::memory:, a SQLite file, $DBAL_TEST_PG_URL
#   test_misuse                  the API used wrongly (NULLs, no row, bad types,
#   test_misuse_postgresql       huge parameter counts, closed engine): SQLite, PostgreSQL
#   test_oom                     out of memory at every allocation (SQLite)
#   test_fuzz_regressions        the conversions, where fuzzing found them wrong
#   fuzz_replay_<target>         each fuzz target's checks over its seed corpus
#                                (fuzz/corpus/<target>/), with any compiler; the
#                                libFuzzer builds are in fuzz/ (fuzz/run)
#
# The PostgreSQL variants exit 77 (skipped) without DBAL_TEST_PG_URL, and fail
# instead when DBAL_TEST_REQUIRE_PG=1.

dbal_test(test_hostile SOURCES test_hostile.c ARGS sqlite::memory:)
add_test(NAME test_hostile_sqlite_file COMMAND test_hostile sqlite-file)
add_test(NAME test_hostile_postgresql COMMAND test_hostile pg)
set_tests_properties(test_hostile test_hostile_sqlite_file test_hostile_postgresql PROPERTIES
  ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
  LABELS "hardening"
  TIMEOUT 600)

dbal_test(test_misuse SOURCES test_misuse.c ARGS sqlite::memory:)
add_test(NAME test_misuse_postgresql COMMAND test_misuse pg)
set_tests_properties(test_misuse test_misuse_postgresql PROPERTIES
  ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
  LABELS "hardening"
  TIMEOUT 600)

set_tests_properties(test_hostile_postgresql test_misuse_postgresql PROPERTIES
  SKIP_RETURN_CODE 77
  LABELS "hardening;postgresql")
if(TARGET dbal_postgresql)
  add_dependencies(test_hostile dbal_postgresql)
  add_dependencies(test_misuse dbal_postgresql)
endif()

dbal_test(test_oom SOURCES test_oom.c)
set_tests_properties(test_oom PROPERTIES LABELS "hardening" TIMEOUT 1200)

dbal_unit_test(test_fuzz_regressions SOURCES ${CMAKE_SOURCE_DIR}/fuzz/regressions.c ${CMAKE_SOURCE_DIR}/core/convert.c ${CMAKE_SOURCE_DIR}/core/alloc.c
               ${CMAKE_SOURCE_DIR}/core/errors.c)
target_link_libraries(test_fuzz_regressions PRIVATE m)
set_tests_properties(test_fuzz_regressions PROPERTIES LABELS "hardening")

# The fuzz targets with a plain main() (fuzz/replay.c) instead of libFuzzer.
set(_dbal_core ${CMAKE_SOURCE_DIR}/core)
file(GLOB _dbal_core_sources ${_dbal_core}/*.c)
set(_replay_url_sources ${_dbal_core}/url.c ${_dbal_core}/options.c ${_dbal_core}/alloc.c ${_dbal_core}/errors.c)
set(_replay_placeholders_sources ${_dbal_core}/placeholders.c ${_dbal_core}/alloc.c)
set(_replay_convert_sources ${_dbal_core}/convert.c ${_dbal_core}/alloc.c)
set(_replay_loader_sources ${_dbal_core_sources})
foreach(target url placeholders convert loader)
  add_executable(fuzz_replay_${target} ${CMAKE_SOURCE_DIR}/fuzz/replay.c ${CMAKE_SOURCE_DIR}/fuzz/fuzz_${target}.c
                 ${_replay_${target}_sources})
  target_include_directories(fuzz_replay_${target} PRIVATE ${_dbal_core} ${CMAKE_SOURCE_DIR}/include)
  target_compile_definitions(fuzz_replay_${target} PRIVATE _GNU_SOURCE)
  target_link_libraries(fuzz_replay_${target} PRIVATE ${CMAKE_DL_LIBS} Threads::Threads m)
  set_target_properties(fuzz_replay_${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME fuzz_replay_${target} COMMAND fuzz_replay_${target} ${CMAKE_SOURCE_DIR}/fuzz/corpus/${target})
  set_tests_properties(fuzz_replay_${target} PROPERTIES LABELS "hardening;fuzz" TIMEOUT 300)
endforeach()
