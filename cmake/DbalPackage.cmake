# DbalPackage.cmake - what an installed dbal offers to other builds, and
# its Debian packages. Included at the end of the top-level CMakeLists.txt,
# after every install() rule:
#
#   include(${PROJECT_SOURCE_DIR}/cmake/DbalPackage.cmake)
#
# It needs the library's install(TARGETS dbal ...) to name EXPORT dbalTargets.
#
# 1. The CMake package: find_package(dbal CONFIG) and the target dbal::dbal
#    (see cmake/dbalConfig.cmake.in), installed in ${libdir}/cmake/dbal with
#    the "dev" component. Relocatable: every path is relative to the files.
#    With it, the driver kit: the target dbal::driver_headers and
#    dbal_add_driver() (cmake/DbalDriver.cmake).
#
# 2. CPack (when dbal is the top-level project): `cpack -G DEB` in the build
#    directory makes one package per install component, so that a machine that only uses SQLite never
#    installs libpq:
#      libdbal0             runtime   libdbal.so.0 (links no client library)
#      libdbal-dev          dev       headers, dbal.pc, CMake files, libdbal.so
#      libdbal0-<driver>    driver_*  one per driver module: libdbal0-sqlite
#                                     (libsqlite3-0), libdbal0-postgresql (libpq5)
#      dbal-cli             cli       the dbal command
#      libdbal-testing-dev  testing   the testing kit: libdbal-testing, <dbal/testing.h>,
#                                     dbal-testing.pc, dbal::testing, the testing driver
#    Every package but libdbal0 depends on libdbal0 of the same version;
#    library dependencies come from dpkg-shlibdeps when it is installed
#    (dpkg-dev), else from a fixed list. Packages install under /usr; configure
#    with -DCMAKE_INSTALL_PREFIX=/usr to get Debian's multiarch libdir.

include(CMakePackageConfigHelpers)

if(NOT TARGET dbal::dbal)
  # The same name for projects that build dbal with add_subdirectory().
  add_library(dbal::dbal ALIAS dbal)
endif()

# ---- find_package(dbal CONFIG) ----------------------------------------------------

set(DBAL_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/dbal)

# The headers-only target of the driver kit: an include directory, no files.
install(TARGETS dbal_driver_headers EXPORT dbalTargets COMPONENT dev)

install(EXPORT dbalTargets
  NAMESPACE dbal::
  FILE dbalTargets.cmake
  DESTINATION ${DBAL_INSTALL_CMAKEDIR}
  COMPONENT dev)
# dbal::testing, with the testing kit's component: dbalConfig.cmake reads
# it when it is installed.
if(TARGET dbal_testkit)
  install(EXPORT dbalTestingTargets
    NAMESPACE dbal::
    FILE dbalTestingTargets.cmake
    DESTINATION ${DBAL_INSTALL_CMAKEDIR}
    COMPONENT testing)
endif()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/dbalConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/dbalConfig.cmake
  INSTALL_DESTINATION ${DBAL_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR DBAL_INSTALL_DRIVERDIR)
# The library's SONAME is libdbal.so.0: any 0.x satisfies a request for 0.y
# with y <= x.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/dbalConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/dbalConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/dbalConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/DbalDriver.cmake
  DESTINATION ${DBAL_INSTALL_CMAKEDIR}
  COMPONENT dev)

# ---- Debian packages --------------------------------------------------------------

# CPack packages the whole build tree: only dbal's own build, never a parent
# project's that builds dbal with add_subdirectory().
if(NOT DBAL_TOP_LEVEL)
  return()
endif()

set(CPACK_PACKAGE_NAME dbal)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Each package's description below starts with its own one-line summary.
# CPackDeb puts CPACK_PACKAGE_DESCRIPTION_SUMMARY before it unless that is
# CPack's default text, so it is set to exactly that.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
if(NOT CPACK_PACKAGE_CONTACT)
  set(CPACK_PACKAGE_CONTACT "dbal maintainers <dbal@localhost>")
endif()
if(NOT CPACK_GENERATOR)
  set(CPACK_GENERATOR TGZ)
endif()
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
if(NOT CPACK_DEBIAN_PACKAGE_RELEASE)
  set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
endif()
set(_dbal_deb_version "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")
set(_dbal_needs_core "libdbal0 (= ${_dbal_deb_version})")

find_program(DBAL_DPKG_SHLIBDEPS dpkg-shlibdeps)
mark_as_advanced(DBAL_DPKG_SHLIBDEPS)
if(DBAL_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  # Where dpkg-shlibdeps finds libdbal.so.0 for the packages that link it.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${DBAL_LIB_OUT})
endif()

# Which components exist: runtime, dev, cli, and driver_<name> per driver.
get_cmake_property(_dbal_components COMPONENTS)
set(CPACK_COMPONENTS_ALL "")

if(runtime IN_LIST _dbal_components)
  list(APPEND CPACK_COMPONENTS_ALL runtime)
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libdbal0)
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
  # DEBIAN/shlibs, so that packages built against libdbal.so.0 depend on
  # libdbal0. Written here rather than with CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS,
  # which applies to every package and warns about the driver modules, which
  # have no SONAME.
  file(WRITE ${PROJECT_BINARY_DIR}/cpack/runtime/shlibs "libdbal 0 libdbal0 (>= ${PROJECT_VERSION})\n")
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/cpack/runtime/shlibs)
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS "libdbal0-sqlite (= ${_dbal_deb_version})")
  set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "one session/transaction API over PostgreSQL and SQLite\nThe dbal C library. Programs open a database from a URL; the URL's scheme\npicks a driver module, loaded at run time from a libdbal0-<driver>\npackage. The library links no database client library.")
  if(NOT DBAL_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "libc6")
  endif()
endif()

if(dev IN_LIST _dbal_components)
  list(APPEND CPACK_COMPONENTS_ALL dev)
  set(CPACK_DEBIAN_DEV_PACKAGE_NAME libdbal-dev)
  set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
  set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${_dbal_needs_core}")
  set(CPACK_COMPONENT_DEV_DESCRIPTION
    "development files for dbal\nHeaders, the pkg-config file and the CMake package (find_package(dbal\nCONFIG), target dbal::dbal) for building programs with dbal, and the\ndriver kit (dbal::driver_headers, dbal_add_driver(), and dbal-conformance\nwith the in-tree drivers' capability files) for building drivers.")
  if(NOT DBAL_DPKG_SHLIBDEPS AND TARGET dbal_conformance)
    # dbal-conformance runs its cases with cmocka.
    set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${_dbal_needs_core}, libc6, libcmocka0")
  endif()
endif()

if(cli IN_LIST _dbal_components)
  list(APPEND CPACK_COMPONENTS_ALL cli)
  set(CPACK_DEBIAN_CLI_PACKAGE_NAME dbal-cli)
  set(CPACK_DEBIAN_CLI_PACKAGE_SECTION database)
  set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "${_dbal_needs_core}")
  set(CPACK_DEBIAN_CLI_PACKAGE_RECOMMENDS "libdbal0-sqlite (= ${_dbal_deb_version})")
  set(CPACK_COMPONENT_CLI_DESCRIPTION
    "command-line client for dbal databases\nThe dbal command: run queries and statements, a shell, and a listing of\nthe installed drivers, on any database dbal has a driver for.")
  if(NOT DBAL_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "${_dbal_needs_core}, libc6")
  endif()
endif()

if(testing IN_LIST _dbal_components)
  list(APPEND CPACK_COMPONENTS_ALL testing)
  set(CPACK_DEBIAN_TESTING_PACKAGE_NAME libdbal-testing-dev)
  set(CPACK_DEBIAN_TESTING_PACKAGE_SECTION libdevel)
  # The fixtures' default URL is sqlite::memory:; the header and .pc need cmocka's.
  set(CPACK_DEBIAN_TESTING_PACKAGE_DEPENDS
    "libdbal-dev (= ${_dbal_deb_version}), libdbal0-sqlite (= ${_dbal_deb_version}), libcmocka-dev")
  set(CPACK_COMPONENT_TESTING_DESCRIPTION
    "testing kit for programs that use dbal\nlibdbal-testing and <dbal/testing.h>: cmocka fixtures that roll each test\nback (also when the code under test commits), injected database faults\n(unique violations, serialization failures, lost connections, ...) through\nthe testing driver, and assertions on the database. dbal-testing.pc,\nCMake dbal::testing.")
  if(NOT DBAL_DPKG_SHLIBDEPS)
    string(APPEND CPACK_DEBIAN_TESTING_PACKAGE_DEPENDS ", libc6, libcmocka0")
  endif()
endif()

# Client libraries of the known drivers, for when dpkg-shlibdeps is missing.
set(_dbal_fallback_sqlite "libsqlite3-0")
set(_dbal_fallback_postgresql "libpq5")
foreach(_dbal_component IN LISTS _dbal_components)
  if(NOT _dbal_component MATCHES "^driver_(.+)$")
    continue()
  endif()
  set(_dbal_driver ${CMAKE_MATCH_1})
  string(TOUPPER ${_dbal_component} _dbal_upper)
  string(REPLACE "_" "-" _dbal_pkg "libdbal0-${_dbal_driver}")
  list(APPEND CPACK_COMPONENTS_ALL ${_dbal_component})
  set(CPACK_DEBIAN_${_dbal_upper}_PACKAGE_NAME ${_dbal_pkg})
  set(CPACK_DEBIAN_${_dbal_upper}_PACKAGE_SECTION libs)
  set(CPACK_DEBIAN_${_dbal_upper}_PACKAGE_DEPENDS "${_dbal_needs_core}")
  if(NOT DBAL_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_${_dbal_upper}_PACKAGE_DEPENDS "${_dbal_needs_core}, libc6")
    if(DEFINED _dbal_fallback_${_dbal_driver})
      string(APPEND CPACK_DEBIAN_${_dbal_upper}_PACKAGE_DEPENDS ", ${_dbal_fallback_${_dbal_driver}}")
    endif()
  endif()
  set(CPACK_COMPONENT_${_dbal_upper}_DESCRIPTION
    "${_dbal_driver} driver for dbal\nThe driver module libdbal0 loads for ${_dbal_driver} URLs.")
endforeach()

include(CPack)
