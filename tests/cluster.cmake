# Replicas and failover on a real primary + streaming standby pair that
# tests/test_cluster.sh starts (tests/test_cluster.c). Included from
# tests/CMakeLists.txt.

dbal_add_test(test_cluster SOURCES test_cluster.c NO_CTEST)
add_test(NAME test_cluster COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_cluster.sh $<TARGET_FILE:test_cluster>)
dbal_test_properties(test_cluster LABELS cluster postgresql threads PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
