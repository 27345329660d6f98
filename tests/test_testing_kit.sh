#!/bin/bash
# The testing kit as an application's tests use it, from an installed dbal:
#   test_testing_kit.sh BUILD_DIR SOURCE_DIR
# Installs the build into a temporary prefix and checks what the kit
# installs (library, header, dbal-testing.pc, dbal::testing, the driver,
# the manual pages). Builds drivers/testing away from the source tree with
# find_package(dbal) and dbal_add_driver() only, as an outside driver is
# built, checks the module (its entry point exported, no libdbal), and runs
# the installed dbal-conformance through that module. Then compiles the
# README's example ("Testing your application") as a user copies it, with
# pkg-config and with CMake's dbal::testing, and runs it on sqlite::memory:
# and, when DBAL_TEST_PG_URL is set, on PostgreSQL.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d /tmp/dbal-testkit-XXXXXX)
trap 'rm -rf "$work"' EXIT
unset DBAL_DRIVER_PATH DATABASE_URL DBAL_TEST_URL
fail() { echo "FAIL: $*"; exit 1; }
passed=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libdbal-testing.so' | head -1)")
[ -d "$libdir" ] || fail "libdbal-testing.so was not installed"
for f in "$libdir/libdbal-testing.so.0" "$prefix/include/dbal/testing.h" "$libdir/pkgconfig/dbal-testing.pc" \
         "$libdir/cmake/dbal/dbalTestingTargets.cmake" "$libdir/dbal/drivers/dbal_testing.so"; do
    [ -e "$f" ] || fail "not installed: ${f#"$prefix"/}"
done
if [ -f "$build/man-testing/man3/dbal_testing.3" ]; then
    [ -f "$prefix/share/man/man3/dbal_testing.3" ] || fail "dbal_testing(3) was not installed"
fi
exports=$(nm -D --defined-only "$libdir/libdbal-testing.so" | awk '{print $3}' | grep -v '^dbal_testing_' || true)
[ -z "$exports" ] || fail "libdbal-testing exports more than dbal_testing_*: $exports"
pass "installed: libdbal-testing (dbal_testing_* only), dbal/testing.h, dbal-testing.pc, dbal::testing, dbal_testing.so"

# The driver, built outside with the installed driver kit alone.
kit=$work/testing-driver
cp -r "$src/drivers/testing" "$kit"
cmake -S "$kit" -B "$kit/build" -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; fail "drivers/testing does not configure against $prefix"; }
cmake --build "$kit/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "drivers/testing does not build"; }
module=$kit/build/dbal_testing.so
[ "$(nm -D --defined-only "$module" | awk '{print $3}')" = "dbal_testing_driver_entry" ] ||
    fail "the module exports more than its entry point"
readelf -d "$module" | grep NEEDED | grep -q libdbal && fail "the module links libdbal"
pass "drivers/testing built outside the tree with find_package(dbal) and dbal_add_driver(testing ...)"

out=$(DBAL_DRIVER_PATH=$kit/build "$prefix/bin/dbal" drivers --csv) || fail "dbal drivers: $out"
grep -q "^testing,.*,ok,$kit/build/dbal_testing.so\$" <<<"$out" || fail "dbal drivers does not list the outside module: $out"
caps=$(find "$prefix" -name sqlite.caps | head -1)
out=$(DBAL_DRIVER_PATH=$kit/build "$prefix/bin/dbal-conformance" --caps "$caps" "sqlite+testing::memory:" 2>&1) ||
    { printf '%s\n' "$out"; fail "dbal-conformance through the outside testing driver failed"; }
pass "the installed dbal-conformance passes through it: $(grep -E '^\[  PASSED  \]' <<<"$out")"

# The README's example, as a user copies it.
app=$work/app
mkdir -p "$app"
awk '/^## Testing your application/{f=1} f&&/^```c/{g=1;next} g&&/^```/{exit} g' "$src/README.md" >"$app/items_test.c"
grep -q 'dbal_testing_group_setup_with' "$app/items_test.c" || fail "the README's example was not found"
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror "$app/items_test.c" $(pkg-config --cflags --libs dbal-testing) \
    -Wl,-rpath,"$libdir" -o "$app/items_test_pc" || fail "the README's example does not compile with pkg-config"
run() { # NAME PROGRAM [ENV...]
    local name=$1 prog=$2
    shift 2
    out=$(env "$@" "$prog" 2>&1) || { printf '%s\n' "$out"; fail "the README's example failed: $name"; }
    grep -q 'PASSED  \] 5 test(s)' <<<"$out" || { printf '%s\n' "$out"; fail "$name: not 5 tests passed"; }
}
run "sqlite::memory:" "$app/items_test_pc" DBAL_TEST_URL=
pass "the README's example, built with pkg-config dbal-testing, passes on sqlite::memory: with nothing set"

cat >"$app/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(items_test C)
find_package(dbal CONFIG REQUIRED COMPONENTS testing)
add_executable(items_test items_test.c)
target_link_libraries(items_test PRIVATE dbal::testing)
CMAKE
cmake -S "$app" -B "$app/build" -DCMAKE_PREFIX_PATH="$prefix" >"$work/app-configure.log" 2>&1 ||
    { cat "$work/app-configure.log"; fail "find_package(dbal COMPONENTS testing) failed"; }
cmake --build "$app/build" >"$work/app-build.log" 2>&1 || { cat "$work/app-build.log"; fail "dbal::testing: no build"; }
run "CMake" "$app/build/items_test" LD_LIBRARY_PATH="$libdir"
pass "the same example with find_package(dbal COMPONENTS testing) and dbal::testing"

if [ -n "${DBAL_TEST_PG_URL:-}" ]; then
    run "PostgreSQL" "$app/items_test_pc" DBAL_TEST_URL="$DBAL_TEST_PG_URL"
    pass "the README's example on PostgreSQL, by setting DBAL_TEST_URL alone"
elif [ -n "${DBAL_TEST_REQUIRE_PG:-}" ]; then
    fail "DBAL_TEST_REQUIRE_PG is set but DBAL_TEST_PG_URL is not"
fi
echo "$passed passed, 0 failed"
