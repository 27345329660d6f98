# The driver kit as a driver author outside this tree uses it. Included from
# tests/CMakeLists.txt.
#
#   test_driver_kit   installs the build to a temporary prefix, builds
#                     tests/kit_driver (the minisqlite driver) elsewhere with
#                     find_package(dbal) and dbal_add_driver(), and runs the
#                     installed dbal-conformance on it (tests/test_driver_kit.sh)
#
# Not in sanitizer builds: a plain program cannot load a sanitized library.
if(NOT DBAL_SANITIZE AND TARGET dbal_conformance)
  add_test(NAME test_driver_kit
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_driver_kit.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties(test_driver_kit PROPERTIES TIMEOUT 600)
endif()
