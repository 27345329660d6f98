# Migrations (dbal_migrate_*), included from tests/CMakeLists.txt:
#   test_migrate           tests/test_migrate.c on sqlite::memory:, a SQLite
#                          file and PostgreSQL ($DBAL_TEST_PG_URL): files and
#                          variants, status, changed and missing files,
#                          failures, directives, down, dry runs, the lock's
#                          bound, 6 processes migrating at once
#   valgrind_test_migrate  the same under valgrind memcheck (label valgrind)
#   test_cli_migrate{,_pg} `dbal migrate` (tests/test_cli_migrate.sh) on a
#                          SQLite file and on PostgreSQL: output, exit codes,
#                          6 processes at once
# The PostgreSQL key of the migration lock is computed in the test from
# util's SHA-256, as the README documents it.
dbal_add_test(test_migrate SOURCES test_migrate.c ../util/sha256.c LABELS postgresql PROPERTIES TIMEOUT 300)
target_include_directories(test_migrate PRIVATE ${PROJECT_SOURCE_DIR}/util)

find_program(DBAL_VALGRIND_EXE valgrind)
if(DBAL_VALGRIND_EXE AND NOT DBAL_SANITIZING)
  add_test(NAME valgrind_test_migrate
    COMMAND ${DBAL_VALGRIND_EXE} --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
            --errors-for-leak-kinds=definite,indirect --trace-children=no $<TARGET_FILE:test_migrate>)
  dbal_test_properties(valgrind_test_migrate LABELS "valgrind;postgresql" PROPERTIES TIMEOUT 900)
endif()

if(TARGET dbal_cli)
  add_test(NAME test_cli_migrate COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_migrate.sh sqlite $<TARGET_FILE:dbal_cli>)
  add_test(NAME test_cli_migrate_pg
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_migrate.sh postgresql $<TARGET_FILE:dbal_cli>)
  dbal_test_properties(test_cli_migrate test_cli_migrate_pg PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
  set_tests_properties(test_cli_migrate_pg PROPERTIES LABELS postgresql)
endif()
