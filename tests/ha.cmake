# dbal against a Patroni-managed cluster (etcd, three PostgreSQL nodes,
# HAProxy) that tests/test_ha.sh starts with tests/ha_cluster.sh: a
# switchover, a crash and a hang of the leader under steady writes
# (tests/test_ha.c). Included from tests/CMakeLists.txt.
#
# About 65-70 s (60 s before the 900 ms groups were added). Not in the sanitizer builds (run-all.sh's CI budget): the
# code paths it drives are the ones test_cluster, test_pg_faults and
# test_pg_hung run there.

dbal_add_test(test_ha SOURCES test_ha.c NO_CTEST)
if(NOT DBAL_SANITIZE)
  add_test(NAME test_ha COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_ha.sh $<TARGET_FILE:test_ha>)
  dbal_test_properties(test_ha LABELS cluster postgresql PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 RUN_SERIAL TRUE)
endif()
