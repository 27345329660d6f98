# test_format: every C file of the tree is laid out as .clang-format says
# (tools/check_format.sh). Skipped (77) where clang-format is not installed;
# tests/run-all.sh, which CI runs, installs it.
add_test(NAME test_format
  COMMAND bash -c "command -v clang-format >/dev/null || { echo 'clang-format not installed'; exit 77; }; cd '${PROJECT_SOURCE_DIR}' && files=$(git ls-files '*.c' '*.h' '*.cpp' 2>/dev/null || find core util drivers include tests tools bench examples fuzz -name '*.[ch]' -o -name '*.cpp') && tools/check_format.sh $files")
set_tests_properties(test_format PROPERTIES SKIP_RETURN_CODE 77 LABELS "docs")
