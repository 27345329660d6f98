# DbalDriver.cmake - dbal_add_driver(), which builds a dbal driver module.
#
# The same file builds the in-tree drivers (included by the top-level
# CMakeLists.txt) and is installed with the CMake package, where
# find_package(dbal) includes it:
#
#   find_package(dbal 0.1 CONFIG REQUIRED)
#   dbal_add_driver(mydb SOURCES mydb.c LIBS MyDB::client)
#
# dbal_add_driver(<name> SOURCES <file>... [LIBS <library>...])
#   Makes the target dbal_<name>: a MODULE library built as dbal_<name>.so,
#   the file the core loads for URLs of the scheme <name>. It links the
#   LIBS and dbal::driver_headers (the include directory of <dbal/driver.h>,
#   nothing to link), never libdbal: all a driver needs from the core comes
#   in the host table. Symbols are hidden but for the entry point the driver
#   marks DBAL_API, and -Wl,--no-undefined makes a library missing from
#   LIBS a link error rather than a failure to load.
#
# Settings read from the caller's scope, all optional (the in-tree build
# sets them; a driver built against an installed dbal usually needs none):
#   DBAL_DRIVER_OUTPUT_DIRECTORY       where dbal_<name>.so is built
#   DBAL_DRIVER_INSTALL_DESTINATION    install(TARGETS) to this directory,
#                                      in the install component driver_<name>
#   DBAL_DRIVER_INCLUDE_DIRS           more private include directories
#   DBAL_DRIVER_DEFINITIONS            private compile definitions
#   DBAL_DRIVER_LINK_LIBRARIES         more private link libraries (flags
#                                      targets, such as dbal's dbal_build)
#   DBAL_DRIVER_LINK_OPTIONS           instead of -Wl,--no-undefined (a
#                                      sanitized clang build needs none)
#
# Every driver target made is appended to the global property
# DBAL_DRIVER_TARGETS, for whatever must be built before the drivers load.
#
# To load a module from its build directory, point DBAL_DRIVER_PATH at it;
# dbal-conformance (installed with the package) runs the conformance suite
# against it.

function(dbal_add_driver name)
  cmake_parse_arguments(D "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT D_SOURCES)
    message(FATAL_ERROR "dbal_add_driver(${name}): no SOURCES")
  endif()
  if(D_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "dbal_add_driver(${name}): unexpected arguments: ${D_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR "dbal_add_driver(${name}): a driver name is a-z, 0-9 and _, starting with a letter")
  endif()
  add_library(dbal_${name} MODULE ${D_SOURCES})
  target_link_libraries(dbal_${name} PRIVATE dbal::driver_headers ${D_LIBS} ${DBAL_DRIVER_LINK_LIBRARIES})
  target_include_directories(dbal_${name} PRIVATE ${DBAL_DRIVER_INCLUDE_DIRS})
  target_compile_definitions(dbal_${name} PRIVATE ${DBAL_DRIVER_DEFINITIONS})
  if(DEFINED DBAL_DRIVER_LINK_OPTIONS)
    target_link_options(dbal_${name} PRIVATE ${DBAL_DRIVER_LINK_OPTIONS})
  else()
    target_link_options(dbal_${name} PRIVATE -Wl,--no-undefined)
  endif()
  set_property(GLOBAL APPEND PROPERTY DBAL_DRIVER_TARGETS dbal_${name})
  set_target_properties(dbal_${name} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DBAL_DRIVER_OUTPUT_DIRECTORY)
    set_target_properties(dbal_${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${DBAL_DRIVER_OUTPUT_DIRECTORY})
  endif()
  if(DBAL_DRIVER_INSTALL_DESTINATION)
    install(TARGETS dbal_${name} LIBRARY DESTINATION ${DBAL_DRIVER_INSTALL_DESTINATION} COMPONENT driver_${name})
  endif()
endfunction()
