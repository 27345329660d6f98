# DbalVersion.cmake - the version has one owner, include/dbal.h: its
# DBAL_VERSION_MAJOR, _MINOR and _PATCH. Included before project(), which
# takes DBAL_PROJECT_VERSION from here, and with it the library's VERSION,
# dbal.pc, the CMake package and the Debian packages. The header's own
# DBAL_VERSION text and DBAL_VERSION_NUMBER must agree with the three
# numbers, or the configure stops; core/version.c checks the number again
# at compile time, and ctest test_version that every driver module built
# here reports this version.
file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/../include/dbal.h _dbal_version_lines
     REGEX "^#define DBAL_VERSION(_MAJOR|_MINOR|_PATCH|_NUMBER)? ")
foreach(_dbal_part MAJOR MINOR PATCH NUMBER)
  set(_dbal_${_dbal_part} "")
  foreach(_dbal_line IN LISTS _dbal_version_lines)
    if(_dbal_line MATCHES "^#define DBAL_VERSION_${_dbal_part} ([0-9]+)$")
      set(_dbal_${_dbal_part} ${CMAKE_MATCH_1})
    endif()
  endforeach()
  if(_dbal_${_dbal_part} STREQUAL "")
    message(FATAL_ERROR "include/dbal.h has no line \"#define DBAL_VERSION_${_dbal_part} <number>\"")
  endif()
endforeach()
set(DBAL_PROJECT_VERSION ${_dbal_MAJOR}.${_dbal_MINOR}.${_dbal_PATCH})
math(EXPR _dbal_want_number "${_dbal_MAJOR} * 10000 + ${_dbal_MINOR} * 100 + ${_dbal_PATCH}")
if(NOT ";${_dbal_version_lines};" MATCHES ";#define DBAL_VERSION \"${DBAL_PROJECT_VERSION}\";")
  message(FATAL_ERROR "include/dbal.h: DBAL_VERSION must be \"${DBAL_PROJECT_VERSION}\" (DBAL_VERSION_MAJOR/MINOR/PATCH)")
endif()
if(NOT _dbal_NUMBER EQUAL _dbal_want_number)
  message(FATAL_ERROR "include/dbal.h: DBAL_VERSION_NUMBER must be ${_dbal_want_number} (major * 10000 + minor * 100 + patch)")
endif()
unset(_dbal_version_lines)
unset(_dbal_want_number)
