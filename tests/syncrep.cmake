# A commit whose wait for the synchronous standby is canceled or ended
# (tests/test_syncrep.c), on a cluster that tests/test_syncrep.sh starts
# with a synchronous standby that never connects. Included from
# tests/CMakeLists.txt.

dbal_add_test(test_syncrep SOURCES test_syncrep.c NO_CTEST)
add_test(NAME test_syncrep COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_syncrep.sh $<TARGET_FILE:test_syncrep>)
dbal_test_properties(test_syncrep LABELS postgresql threads async PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
