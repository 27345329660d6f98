# Tests of the command-line client (tools/) and of the installed package:
# included from tests/CMakeLists.txt.

if(TARGET dbal_cli)
  # The client run for real on a SQLite file, and on PostgreSQL when
  # DBAL_TEST_PG_URL is set (77: skipped).
  add_test(NAME test_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh sqlite $<TARGET_FILE:dbal_cli>)
  add_test(NAME test_cli_pg COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh postgresql $<TARGET_FILE:dbal_cli>)
  dbal_test_properties(test_cli test_cli_pg PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
  set_tests_properties(test_cli_pg PROPERTIES LABELS postgresql)
  # The library and every driver module report the version of include/dbal.h.
  add_test(NAME test_version COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_version.sh ${PROJECT_VERSION} $<TARGET_FILE:dbal_cli>)
  dbal_test_properties(test_version)
endif()

# An application's view of an installed dbal through CMake, of dbal as a
# part of its build, and the Debian packages. Not in sanitizer builds: a plain program cannot load a sanitized
# library.
if(NOT DBAL_SANITIZING)
  add_test(NAME test_cmake_consumer
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cmake_consumer.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  add_test(NAME test_cpack_deb
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cpack_deb.sh ${PROJECT_BINARY_DIR})
  # dbal built inside another project with add_subdirectory(): a build of its
  # own, in a temporary directory.
  add_test(NAME test_cmake_subproject
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cmake_subproject.sh ${PROJECT_SOURCE_DIR})
  set_tests_properties(test_cmake_consumer test_cpack_deb test_cmake_subproject PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
