# valgrind memcheck over the conformance suite and the single-threaded
# suites, in a build without sanitizers (the two cannot share a process).
# Any error or any definite/indirect leak fails the test (exit 99).
# Included from tests/CMakeLists.txt; label "valgrind".
#
#   valgrind_conformance_{sqlite_memory,sqlite_file,postgresql}
#   valgrind_test_{sqlite,url,hostile,fork,typed_columns} (test_fork's
#   children are checked too: valgrind follows fork(), and their exit
#   status counts; test_typed_columns runs PostgreSQL when
#   DBAL_TEST_PG_URL is set)
# (test_misuse forks a child per case: too slow under valgrind, and ASan
# covers it.)
#
# "possible" leaks are not errors: glibc's dlopen keeps pointers into the
# middle of its blocks for the life of the process.

find_program(DBAL_VALGRIND_EXE valgrind)
if(NOT DBAL_VALGRIND_EXE OR DBAL_SANITIZING)
  return()
endif()

set(_dbal_vg ${DBAL_VALGRIND_EXE} --quiet --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect)

foreach(pair "conformance_sqlite_memory;dbal_conformance;sqlite::memory:"
             "conformance_sqlite_file;dbal_conformance;sqlite-file"
             "conformance_postgresql;dbal_conformance;pg"
             "test_sqlite;test_sqlite;"
             "test_url;test_url;"
             "test_hostile;test_hostile;sqlite::memory:"
             "test_fork;test_fork;"
             "test_typed_columns;test_typed_columns;"
             "test_async_inline;test_async_inline;sqlite-memory")
  list(GET pair 0 name)
  list(GET pair 1 exe)
  list(GET pair 2 arg)
  add_test(NAME valgrind_${name} COMMAND ${_dbal_vg} $<TARGET_FILE:${exe}> ${arg})
  set_tests_properties(valgrind_${name} PROPERTIES
    ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
    LABELS "valgrind"
    TIMEOUT 900)
endforeach()
set_tests_properties(valgrind_conformance_postgresql PROPERTIES SKIP_RETURN_CODE 77 LABELS "valgrind;postgresql"
  RESOURCE_LOCK dbal_conformance_pg)
