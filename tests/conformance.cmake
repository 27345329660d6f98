# The conformance suite: one program, dbal-conformance, the same cases on
# every database URL, what each driver can do read from its capability file
# (tests/conformance/README.md). Included from tests/CMakeLists.txt.
#
#   conformance_sqlite_memory   sqlite::memory:
#   conformance_sqlite_file     a fresh mkstemp() file under /tmp (deleted after)
#   conformance_postgresql      $DBAL_TEST_PG_URL; skipped (exit 77) when unset,
#                               failed when unset and DBAL_TEST_REQUIRE_PG=1
#   conformance_tz_<zone>_{sqlite,postgresql}   the types_* cases under TZ
#                               and PGTZ = America/St_Johns, Pacific/Kiritimati,
#                               Asia/Kolkata
#   conformance_types_text_postgresql   the types_* cases with
#                               statement_cache_size=0 (rows as text)
#
# The program is installed with the "dev" component (bin/dbal-conformance,
# exported as dbal::conformance) with the capability files of the in-tree
# drivers and their README (<datadir>/dbal/conformance), so that a driver
# built elsewhere is tested with the same suite. It finds a driver's file
# at the same place relative to itself in the build tree (bin/ and
# share/dbal/conformance/) as in the installed one.

# cmocka: use the target tests/CMakeLists.txt made if there is one, else find it.
if(TARGET cmocka::cmocka)
  set(_dbal_conf_cmocka cmocka::cmocka)
elseif(TARGET cmocka)
  set(_dbal_conf_cmocka cmocka)
elseif(TARGET PkgConfig::CMOCKA)
  set(_dbal_conf_cmocka PkgConfig::CMOCKA)
else()
  # tests/CMakeLists.txt finds CMOCKA_INCLUDE_DIR and CMOCKA_LIBRARY; reuse them.
  if(CMOCKA_INCLUDE_DIR AND CMOCKA_LIBRARY)
    set(DBAL_CONF_CMOCKA_INCLUDE_DIR ${CMOCKA_INCLUDE_DIR})
    set(DBAL_CONF_CMOCKA_LIBRARY ${CMOCKA_LIBRARY})
  else()
    find_path(DBAL_CONF_CMOCKA_INCLUDE_DIR cmocka.h)
    find_library(DBAL_CONF_CMOCKA_LIBRARY cmocka)
  endif()
  if(NOT DBAL_CONF_CMOCKA_INCLUDE_DIR OR NOT DBAL_CONF_CMOCKA_LIBRARY)
    message(FATAL_ERROR "cmocka not found (apt-get install libcmocka-dev)")
  endif()
  add_library(dbal_conf_cmocka INTERFACE)
  target_include_directories(dbal_conf_cmocka INTERFACE ${DBAL_CONF_CMOCKA_INCLUDE_DIR})
  target_link_libraries(dbal_conf_cmocka INTERFACE ${DBAL_CONF_CMOCKA_LIBRARY})
  set(_dbal_conf_cmocka dbal_conf_cmocka)
endif()

# One file per area of the suite (tests/conformance/), one list of cases
# (tests/conformance/cases.h).
file(GLOB _dbal_conf_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/conformance/*.c)
add_executable(dbal_conformance ${_dbal_conf_sources})
target_link_libraries(dbal_conformance PRIVATE dbal ${_dbal_conf_cmocka} m Threads::Threads dbal_build)
file(RELATIVE_PATH _dbal_conf_caps_rel "${CMAKE_INSTALL_FULL_BINDIR}" "${CMAKE_INSTALL_FULL_DATADIR}/dbal/conformance")
target_compile_definitions(dbal_conformance PRIVATE _GNU_SOURCE DBAL_CONF_CAPS_DIR="${_dbal_conf_caps_rel}")
set_target_properties(dbal_conformance PROPERTIES
  OUTPUT_NAME dbal-conformance
  EXPORT_NAME conformance
  RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin
  # Finds libdbal relative to itself, so an installed tree can be moved.
  INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")

file(GLOB _dbal_conf_caps CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/conformance/caps/*.caps)
foreach(_dbal_caps IN LISTS _dbal_conf_caps)
  get_filename_component(_dbal_caps_name ${_dbal_caps} NAME)
  configure_file(${_dbal_caps} ${PROJECT_BINARY_DIR}/bin/${_dbal_conf_caps_rel}/${_dbal_caps_name} COPYONLY)
endforeach()

install(TARGETS dbal_conformance EXPORT dbalTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT dev)
install(FILES ${_dbal_conf_caps} ${CMAKE_CURRENT_LIST_DIR}/conformance/README.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/dbal/conformance COMPONENT dev)

add_test(NAME conformance_sqlite_memory COMMAND dbal_conformance sqlite::memory:)
add_test(NAME conformance_sqlite_file COMMAND dbal_conformance sqlite-file)
add_test(NAME conformance_postgresql COMMAND dbal_conformance pg)
set_tests_properties(conformance_sqlite_memory conformance_sqlite_file conformance_postgresql
  PROPERTIES
    ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
    LABELS "conformance"
    TIMEOUT 300)
# Without DBAL_TEST_PG_URL every case is skipped and the program exits 77.
# Every run of the suite on PostgreSQL makes the same tables in the same
# database: one at a time (valgrind.cmake and pgbouncer.cmake take the lock
# too).
set_tests_properties(conformance_postgresql PROPERTIES SKIP_RETURN_CODE 77 RESOURCE_LOCK dbal_conformance_pg)

# The date and time cases again under time zones far from UTC and from one
# another (a half-hour offset west, +14, +5:30): the process's TZ, and
# PGTZ, which libpq sends as the server session's TimeZone. Values must not
# move: dbal never reads the C library's clock, and PostgreSQL's own text
# carries its offset.
foreach(_dbal_tz America/St_Johns Pacific/Kiritimati Asia/Kolkata)
  string(REGEX REPLACE "[^A-Za-z]" "_" _dbal_tz_name ${_dbal_tz})
  add_test(NAME conformance_tz_${_dbal_tz_name}_sqlite COMMAND dbal_conformance sqlite-file)
  add_test(NAME conformance_tz_${_dbal_tz_name}_postgresql COMMAND dbal_conformance pg)
  set_tests_properties(conformance_tz_${_dbal_tz_name}_sqlite conformance_tz_${_dbal_tz_name}_postgresql
    PROPERTIES
      ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT};TZ=${_dbal_tz};PGTZ=${_dbal_tz};DBAL_CONF_FILTER=types_*"
      LABELS "conformance"
      TIMEOUT 300)
  set_tests_properties(conformance_tz_${_dbal_tz_name}_postgresql PROPERTIES SKIP_RETURN_CODE 77 RESOURCE_LOCK dbal_conformance_pg)
endforeach()

# The types_* cases on PostgreSQL with statement_cache_size=0: unnamed
# statements, whose rows come as text, which the driver reads back into the
# same values (BC dates, offsets, numerics).
add_test(NAME conformance_types_text_postgresql
  COMMAND sh -c "[ -n \"$DBAL_TEST_PG_URL\" ] || exit 77; case \"$DBAL_TEST_PG_URL\" in *\\?*) s='&' ;; *) s='?' ;; esac; exec \"$0\" \"$DBAL_TEST_PG_URL\${s}statement_cache_size=0\"" $<TARGET_FILE:dbal_conformance>)
set_tests_properties(conformance_types_text_postgresql PROPERTIES
  ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT};DBAL_CONF_FILTER=types_*"
  LABELS "conformance" TIMEOUT 300 SKIP_RETURN_CODE 77 RESOURCE_LOCK dbal_conformance_pg)
