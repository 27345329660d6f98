# The reference documentation, included from tests/CMakeLists.txt:
#   test_docs        every public declaration of include/dbal.h has a doc
#                    comment, and libdbal.so exports exactly its DBAL_API
#                    functions (the rule is at the top of doc/headerdoc.py);
#   test_docs_driver the same for include/dbal/driver.h and the driver modules;
#   test_man         the generated manual pages: one per function, each
#                    rendered by groff without a warning;
#   test_readme_options  README.md's table of engine options is the one
#                    doc/options_table.c prints from core/engine_options.h.
if(TARGET dbal_options_table)
  add_test(NAME test_readme_options COMMAND dbal_options_table --check ${PROJECT_SOURCE_DIR}/README.md)
endif()

find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  message(STATUS "python3 not found: no documentation tests")
  return()
endif()

add_test(NAME test_docs
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/doc/headerdoc.py check
          ${PROJECT_SOURCE_DIR}/include/dbal.h --lib $<TARGET_FILE:dbal>)

set(_dbal_driver_libs "")
foreach(_dbal_driver sqlite postgresql testing)
  if(TARGET dbal_${_dbal_driver})
    # In-tree drivers export their entry point as dbal_<name>_driver_entry.
    list(APPEND _dbal_driver_libs --lib $<TARGET_FILE:dbal_${_dbal_driver}>
         --alias dbal_${_dbal_driver}_driver_entry=dbal_driver_entry)
  endif()
endforeach()
add_test(NAME test_docs_driver
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/doc/headerdoc.py check
          ${PROJECT_SOURCE_DIR}/include/dbal/driver.h ${_dbal_driver_libs})

# The testing kit's header and library, and its pages.
if(TARGET dbal_testkit)
  add_test(NAME test_docs_testing
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/doc/headerdoc.py check
            ${PROJECT_SOURCE_DIR}/include/dbal/testing.h --lib $<TARGET_FILE:dbal_testkit>)
endif()
if(TARGET dbal_man_testing)
  add_test(NAME test_man_testing
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_man.sh ${PROJECT_BINARY_DIR}/man-testing
            ${PROJECT_SOURCE_DIR}/include/dbal/testing.h $<TARGET_FILE:dbal_testkit> dbal_testing 15)
endif()

if(TARGET dbal_man)
  add_test(NAME test_man
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_man.sh ${PROJECT_BINARY_DIR}/man
            ${PROJECT_SOURCE_DIR}/include/dbal.h $<TARGET_FILE:dbal>)
endif()
