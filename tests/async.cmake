# The asynchronous API (dbal_async_*): one program, run once per database.
# Included from tests/CMakeLists.txt.
#
#   test_async                         sqlite::memory:
#   test_async_sqlite_file             a real SQLite file
#   test_async_postgresql              $DBAL_TEST_PG_URL, with a server
#                                      restart when pg_cluster.sh's
#                                      variables are set; skipped (77)
#                                      without a server

dbal_add_test(test_async SOURCES test_async.c LABELS threads PROPERTIES TIMEOUT 600)
foreach(db sqlite-file postgresql)
  string(REPLACE "-" "_" name ${db})
  add_test(NAME test_async_${name} COMMAND test_async ${db})
  dbal_test_properties(test_async_${name} LABELS threads PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endforeach()
set_tests_properties(test_async_postgresql PROPERTIES LABELS "postgresql;threads" RUN_SERIAL TRUE)

# The examples, on SQLite and (when DBAL_TEST_PG_URL is set) PostgreSQL.
foreach(example async_epoll async_libuv)
  if(TARGET ${example})
    add_test(NAME example_${example} COMMAND ${example})
    add_test(NAME example_${example}_postgresql COMMAND sh -c
      "[ -n \"$DBAL_TEST_PG_URL\" ] || exit 77; DATABASE_URL=\"$DBAL_TEST_PG_URL\" exec \"$0\"" $<TARGET_FILE:${example}>)
    set_tests_properties(example_${example} PROPERTIES
      ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT};DATABASE_URL=" LABELS threads)
    dbal_test_properties(example_${example}_postgresql LABELS postgresql threads PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endforeach()

# The README's example compiles unchanged and runs. Not in sanitizer builds:
# a plain program cannot load a sanitized library.
if(NOT DBAL_SANITIZING)
  add_test(NAME test_readme_async COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_readme_async.sh
           ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  dbal_test_properties(test_readme_async)
endif()

# Inline execution on the loop thread (core/async_inline.c): linked with the
# core's objects, whose counters say where each op ran.
#   test_async_inline                  sqlite::memory:
#   test_async_inline_sqlite_file      a real SQLite file
dbal_add_test(test_async_inline SOURCES test_async_inline.c LIBS dbal_core LABELS threads PROPERTIES TIMEOUT 300)
add_test(NAME test_async_inline_sqlite_file COMMAND test_async_inline sqlite-file)
dbal_test_properties(test_async_inline_sqlite_file LABELS threads PROPERTIES TIMEOUT 300)
