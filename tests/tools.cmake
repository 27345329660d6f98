# Tests of the command-line client (tools/) and of the installed package:
# included from tests/CMakeLists.txt.

if(TARGET dbal_cli)
  # The client run for real on a SQLite file, and on PostgreSQL when
  # DBAL_TEST_PG_URL is set (77: skipped).
  add_test(NAME test_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh sqlite $<TARGET_FILE:dbal_cli>)
  add_test(NAME test_cli_pg COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh postgresql $<TARGET_FILE:dbal_cli>)
  set_tests_properties(test_cli test_cli_pg PROPERTIES
    ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
    SKIP_RETURN_CODE 77
    TIMEOUT 300)
  set_tests_properties(test_cli_pg PROPERTIES LABELS postgresql)
  # The library and every driver module report the version of include/dbal.h.
  add_test(NAME test_version COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_version.sh ${PROJECT_VERSION} $<TARGET_FILE:dbal_cli>)
  set_tests_properties(test_version PROPERTIES ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}")
endif()

# An application's view of an installed dbal through CMake, and the Debian
# packages. Not in sanitizer builds: a plain program cannot load a sanitized
# library.
if(NOT DBAL_SANITIZE)
  add_test(NAME test_cmake_consumer
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cmake_consumer.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  add_test(NAME test_cpack_deb
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_cpack_deb.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(test_cmake_consumer test_cpack_deb PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
