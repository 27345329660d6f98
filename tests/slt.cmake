# The sqllogictest differential runner (tests/slt/README.md): SQLite's own
# sqllogictest scripts through dbal and through raw sqlite3 / libpq on the
# same kinds of database; any record answered differently fails.
#
#   test_slt   the corpus subset in tests/slt/corpus (under a minute), on
#              sqlite::memory:, a SQLite file and, with DBAL_TEST_PG_URL,
#              PostgreSQL. The whole corpus: tests/slt/run-full.
if(PostgreSQL_FOUND)
  find_package(SQLite3 REQUIRED)
  dbal_add_test(slt_runner NO_CTEST
                SOURCES slt/slt_main.c slt/slt_script.c slt/slt_outcome.c slt/slt_md5.c slt/slt_setup.c slt/slt_dbal.c
                        slt/slt_sqlite.c slt/slt_libpq.c
                LIBS SQLite::SQLite3 PostgreSQL::PostgreSQL)
  file(GLOB_RECURSE _slt_corpus ${CMAKE_CURRENT_SOURCE_DIR}/slt/corpus/*.test ${CMAKE_CURRENT_SOURCE_DIR}/slt/extra/*.test)
  list(SORT _slt_corpus)
  add_test(NAME test_slt COMMAND slt_runner --dir ${CMAKE_CURRENT_BINARY_DIR} ${_slt_corpus})
  dbal_test_properties(test_slt LABELS postgresql PROPERTIES TIMEOUT 300)
endif()
