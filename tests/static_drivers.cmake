# Both in-tree drivers linked into one program. Included from
# tests/CMakeLists.txt.
#
#   test_static_drivers   the SQLite and PostgreSQL drivers built as static
#                         libraries and linked into one test program, which
#                         registers both (dbal_register_driver with
#                         dbal_<name>_driver_entry) and runs statements with
#                         DBAL_DRIVER_PATH on an empty directory; no module is
#                         loaded. PostgreSQL when DBAL_TEST_PG_URL is set.
#
# Each static library is made from its module target (dbal_<name>, made by
# dbal_add_driver): the same sources, include directories, definitions and
# libraries. Both carry drivers/common/stmt_cache.c; the linker takes it
# from the first archive only.

find_package(SQLite3 REQUIRED) # SQLite::SQLite3 is not visible from drivers/sqlite

function(_dbal_static_driver name)
  get_target_property(sources dbal_${name} SOURCES)
  get_target_property(dir dbal_${name} SOURCE_DIR)
  list(TRANSFORM sources PREPEND "${dir}/" REGEX "^[^/]")
  add_library(dbal_${name}_static STATIC ${sources})
  target_include_directories(dbal_${name}_static PRIVATE $<TARGET_PROPERTY:dbal_${name},INCLUDE_DIRECTORIES>)
  target_compile_definitions(dbal_${name}_static PRIVATE $<TARGET_PROPERTY:dbal_${name},COMPILE_DEFINITIONS>)
  get_target_property(libs dbal_${name} LINK_LIBRARIES)
  target_link_libraries(dbal_${name}_static PUBLIC ${libs})
endfunction()

_dbal_static_driver(sqlite)
set(_dbal_static_libs dbal_sqlite_static)
if(TARGET dbal_postgresql)
  _dbal_static_driver(postgresql)
  list(APPEND _dbal_static_libs dbal_postgresql_static)
endif()

# dbal_add_linked_drivers_test(NAME): the test program NAME.c with both
# drivers linked in (HAVE_POSTGRESQL when the PostgreSQL one is built) and
# DBAL_DRIVER_PATH on an empty directory, so that no module is loaded.
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/tests/no-drivers)
function(dbal_add_linked_drivers_test name)
  dbal_add_test(${name} SOURCES ${name}.c LIBS ${_dbal_static_libs})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  if(TARGET dbal_postgresql)
    target_compile_definitions(${name} PRIVATE HAVE_POSTGRESQL)
  endif()
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "DBAL_DRIVER_PATH=${PROJECT_BINARY_DIR}/tests/no-drivers")
endfunction()

dbal_add_linked_drivers_test(test_static_drivers)
