# The testing kit (include/dbal/testing.h, drivers/testing, testing/).
# Included from tests/CMakeLists.txt.
#
#   test_testing{,_sqlite_file,_postgresql}  the kit on itself: isolation
#         when the code under test commits, every fault point, fixtures
#         and assertions, on sqlite::memory:, a SQLite file and PostgreSQL
#         ($DBAL_TEST_PG_URL; skipped (77) when unset, failed when unset and
#         DBAL_TEST_REQUIRE_PG=1); afterwards nothing is left behind
#   valgrind_test_testing_{sqlite,postgresql}  test_testing under memcheck
#   conformance_testing_{sqlite,postgresql}  the conformance suite through
#         the testing driver with no rule: it is transparent
if(NOT TARGET dbal_testkit)
  message(STATUS "testing kit tests not added: libdbal-testing is not built")
  return()
endif()

dbal_add_test(test_testing SOURCES test_testing.c LIBS dbal_testkit ARGS sqlite PROPERTIES TIMEOUT 120)
add_test(NAME test_testing_sqlite_file COMMAND test_testing sqlite-file)
add_test(NAME test_testing_postgresql COMMAND test_testing postgresql)
dbal_test_properties(test_testing_sqlite_file test_testing_postgresql PROPERTIES TIMEOUT 120)
set_tests_properties(test_testing_postgresql PROPERTIES LABELS postgresql SKIP_RETURN_CODE 77)

# The same under valgrind memcheck (label valgrind): the driver's shared
# connection, rules and delays, the fixtures' and assertions' memory.
find_program(DBAL_VALGRIND_EXE valgrind)
if(DBAL_VALGRIND_EXE AND NOT DBAL_SANITIZING)
  foreach(_dbal_kind sqlite postgresql)
    add_test(NAME valgrind_test_testing_${_dbal_kind}
      COMMAND ${DBAL_VALGRIND_EXE} --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
              --errors-for-leak-kinds=definite,indirect $<TARGET_FILE:test_testing> ${_dbal_kind})
    dbal_test_properties(valgrind_test_testing_${_dbal_kind} LABELS valgrind PROPERTIES TIMEOUT 900)
  endforeach()
  set_tests_properties(valgrind_test_testing_postgresql PROPERTIES LABELS "valgrind;postgresql"
                       SKIP_RETURN_CODE 77)
endif()

if(TARGET dbal_conformance)
  set(_dbal_caps_dir ${PROJECT_BINARY_DIR}/bin/${_dbal_conf_caps_rel})
  add_test(NAME conformance_testing_sqlite
           COMMAND dbal_conformance --caps ${_dbal_caps_dir}/sqlite.caps "sqlite+testing::memory:")
  # The URL of $DBAL_TEST_PG_URL with +testing; skipped as conformance_postgresql is.
  add_test(NAME conformance_testing_postgresql
           COMMAND bash -c "if [ -z \"$DBAL_TEST_PG_URL\" ]; then [ -n \"$DBAL_TEST_REQUIRE_PG\" ] && exit 1; exit 77; fi
                            exec \"$0\" --caps \"$1\" \"$(sed 's|^postgres\\(ql\\)\\{0,1\\}:|postgresql+testing:|' <<<\"$DBAL_TEST_PG_URL\")\""
                   $<TARGET_FILE:dbal_conformance> ${_dbal_caps_dir}/postgresql.caps)
  dbal_test_properties(conformance_testing_sqlite conformance_testing_postgresql LABELS conformance
                       PROPERTIES TIMEOUT 300)
  set_tests_properties(conformance_testing_postgresql PROPERTIES
    LABELS "conformance;postgresql" SKIP_RETURN_CODE 77 RESOURCE_LOCK dbal_conformance_pg)
endif()

# test_testing_kit: the kit from an installed prefix: what it installs, the
# driver built outside the tree with the driver kit, the README's example
# compiled with pkg-config and CMake and run (tests/test_testing_kit.sh).
# Not in sanitizer builds: a plain program cannot load a sanitized library.
if(NOT DBAL_SANITIZE AND TARGET dbal_conformance AND TARGET dbal_cli)
  add_test(NAME test_testing_kit
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_testing_kit.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(test_testing_kit PROPERTIES TIMEOUT 600 LABELS postgresql)
endif()
