# Replicas and failover on a real primary + streaming standby pair that
# tests/test_cluster.sh starts (tests/test_cluster.c). Included from
# tests/CMakeLists.txt.

add_executable(test_cluster ${CMAKE_CURRENT_LIST_DIR}/test_cluster.c)
target_include_directories(test_cluster PRIVATE ${CMOCKA_INCLUDE_DIR})
target_link_libraries(test_cluster PRIVATE dbal ${CMOCKA_LIBRARY} Threads::Threads)
target_compile_definitions(test_cluster PRIVATE _GNU_SOURCE)
set_target_properties(test_cluster PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
if(TARGET dbal_postgresql)
  add_dependencies(test_cluster dbal_postgresql)
endif()

add_test(NAME test_cluster COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_cluster.sh $<TARGET_FILE:test_cluster>)
set_tests_properties(test_cluster PROPERTIES
  ENVIRONMENT "DBAL_DRIVER_PATH=${DBAL_DRIVER_OUT}"
  LABELS "cluster;postgresql;threads"
  SKIP_RETURN_CODE 77
  TIMEOUT 300)
