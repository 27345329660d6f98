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

dbal_add_test(test_hostile SOURCES test_hostile.c ARGS sqlite::memory: LABELS hardening PROPERTIES TIMEOUT 600)
add_test(NAME test_hostile_sqlite_file COMMAND test_hostile sqlite-file)
add_test(NAME test_hostile_postgresql COMMAND test_hostile pg)
dbal_test_properties(test_hostile_sqlite_file LABELS hardening PROPERTIES TIMEOUT 600)

dbal_add_test(test_misuse SOURCES test_misuse.c ARGS sqlite::memory: LABELS hardening PROPERTIES TIMEOUT 600)
add_test(NAME test_misuse_postgresql COMMAND test_misuse pg)

dbal_test_properties(test_hostile_postgresql test_misuse_postgresql LABELS hardening postgresql
                     PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

dbal_add_test(test_oom SOURCES test_oom.c LABELS hardening PROPERTIES TIMEOUT 1200)

dbal_add_test(test_fuzz_regressions SOURCES ../fuzz/regressions.c LIBS dbal_core LABELS hardening)

# The fuzz targets with a plain main() (fuzz/replay.c) instead of libFuzzer,
# over the core's objects (fuzz/ builds the libFuzzer programs).
if(DBAL_BUILD_FUZZ)
  foreach(target url placeholders convert loader)
    dbal_add_test(fuzz_replay_${target} SOURCES ../fuzz/replay.c ../fuzz/fuzz_${target}.c LIBS dbal_core
                  ARGS ${PROJECT_SOURCE_DIR}/fuzz/corpus/${target} LABELS hardening fuzz PROPERTIES TIMEOUT 300)
  endforeach()
endif()
