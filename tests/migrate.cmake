# Migrations (dbal_migrate_*), included from tests/CMakeLists.txt:
#   test_migrate           tests/test_migrate.c on sqlite::memory:, a SQLite
#                          file and PostgreSQL ($DBAL_TEST_PG_URL): files and
#                          variants, status, changed and missing files,
#                          failures, directives, down, dry runs, the lock's
#                          bound, 6 processes migrating at once
#   valgrind_test_migrate  the same under valgrind memcheck (label valgrind)
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
