#!/bin/bash
# dbal built inside another project, the way a program vendors it:
#   test_cmake_subproject.sh SOURCE_DIR
# Configures a parent project that does add_subdirectory(<dbal> third_party/dbal)
# and links tests/consumer/main.c to dbal::dbal, builds it and runs it on
# sqlite::memory: (the driver found next to libdbal.so, no DBAL_DRIVER_PATH).
# Checks that dbal's tests, tools, benchmarks, fuzz targets, examples and
# packages stay out of the parent's build, that dbal's warning flags do not
# reach the parent's targets (the parent's program has a VLA and builds with
# -Werror) while the parent's -Werror does reach dbal's, and that the parent's
# build type is left alone.
set -euo pipefail
src=$(cd "$1" && pwd -P)
work=$(mktemp -d /tmp/dbal-subproject-XXXXXX)
trap 'rm -rf "$work"' EXIT
unset DBAL_DRIVER_PATH DATABASE_URL
fail() { echo "FAIL: $*"; exit 1; }
passed=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }

# Inside a parent, CMAKE_SOURCE_DIR and CMAKE_BINARY_DIR are the parent's:
# dbal's CMake files name only PROJECT_* and CMAKE_CURRENT_* directories (the
# top level compares the two to know whether it is the top level).
# drivers/postgresql is being reworked elsewhere and is not checked yet.
bad=$(cd "$src" && grep -n 'CMAKE_SOURCE_DIR\|CMAKE_BINARY_DIR' CMakeLists.txt cmake/*.cmake cmake/*.in \
        $(find doc drivers examples tools bench fuzz tests -name CMakeLists.txt -o -name '*.cmake') 2>/dev/null |
      grep -v '^CMakeLists.txt:[0-9]*:if(CMAKE_SOURCE_DIR STREQUAL PROJECT_SOURCE_DIR)$' |
      grep -v '^drivers/postgresql/' | grep -v '^tests/consumer/' || true)
[ -z "$bad" ] || fail "CMake files that name the top project's directories:
$bad"
pass "no CMAKE_SOURCE_DIR/CMAKE_BINARY_DIR in dbal's CMake files"

mkdir -p "$work/parent"
cat >"$work/parent/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(parent LANGUAGES C)
add_compile_options(-Werror)
add_subdirectory("$src" third_party/dbal)
# What the parent sees of dbal: the target, its version property.
get_target_property(dbal_version dbal VERSION)
message(STATUS "parent: dbal \${dbal_version}, DBAL_BUILD_TESTS=\${DBAL_BUILD_TESTS}, build type '\${CMAKE_BUILD_TYPE}'")
add_executable(consumer "$src/tests/consumer/main.c" vla.c)
target_compile_definitions(consumer PRIVATE CONSUMER_PACKAGE_VERSION="\${dbal_version}")
target_link_libraries(consumer PRIVATE dbal::dbal)
CMAKE
# A VLA: -Wvla is dbal's own rule, not its users'.
printf 'int parent_vla(int n);\nint parent_vla(int n)\n{\n    char a[n + 1];\n    a[n] = 1;\n    return a[n];\n}\n' \
    >"$work/parent/vla.c"

# Both drivers when libpq is there (AUTO), as a parent project would get.
cmake -S "$work/parent" -B "$work/build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "the parent project does not configure"; }
grep -q "parent: dbal [0-9]*\.[0-9]*\.[0-9]*, DBAL_BUILD_TESTS=OFF, build type ''" "$work/configure.log" ||
    { cat "$work/configure.log"; fail "dbal's version, DBAL_BUILD_TESTS or the parent's build type are wrong"; }
pass "add_subdirectory(dbal): configures; tests off, the parent's build type left alone"

targets=$(cmake --build "$work/build" --target help)
for t in test_url test_conformance dbal_cli dbal_bench quickstart fuzz_replay_url fuzz_url dbal_man dbal_options_table; do
    if grep -qw "$t" <<<"$targets"; then fail "the parent's build has dbal's target $t"; fi
done
[ ! -e "$work/build/CPackConfig.cmake" ] || fail "dbal set up CPack for the parent's build"
pass "no tests, tools, benchmarks, fuzz targets, examples, manual pages or CPack in the parent's build"

cmake --build "$work/build" -j2 >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the parent does not build"; }
pass "builds (the parent's -Werror on dbal's sources too)"

cc_json=$work/build/compile_commands.json
python3 - "$cc_json" <<'PY' || fail "compile flags leak"
import json, sys
cmds = json.load(open(sys.argv[1]))
def flags(name):
    return [c["command"] for c in cmds if c["file"].endswith(name)]
for cmd in flags("vla.c") + flags("consumer/main.c"):
    for f in ("-Wvla", "-Wmissing-prototypes", "-std=c11", "-fvisibility=hidden", "-Wshadow"):
        if f in cmd.split():
            sys.exit("the parent's program is compiled with dbal's %s: %s" % (f, cmd))
core = flags("core/url.c")
if not core or "-Wshadow" not in core[0].split():
    sys.exit("dbal's own sources lack its warnings: %s" % core)
if len(core) != 1:
    sys.exit("core/url.c is compiled %d times" % len(core))
PY
pass "dbal's flags stay on dbal's targets; the core is compiled once"

# The program exits non-zero unless the library it loaded is the version
# the parent saw; it prints the row it stored and the driver it used.
out=$("$work/build/consumer") || fail "the program failed: $out"
grep -qx 'consumer: 42 from cmake' <<<"$out" && grep -q ', driver sqlite$' <<<"$out" ||
    fail "the program printed: $out"
pass "the program runs on sqlite::memory: (the driver found next to libdbal.so)"
echo "$passed passed, 0 failed"
