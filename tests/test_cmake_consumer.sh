#!/bin/bash
# An application's view of an installed dbal through CMake:
#   test_cmake_consumer.sh BUILD_DIR SOURCE_DIR
# Installs the build into a temporary prefix, moves the prefix (the package
# must be relocatable), then configures, builds and runs tests/consumer with
# -DCMAKE_PREFIX_PATH=<prefix>: find_package(dbal CONFIG REQUIRED COMPONENTS
# sqlite) and target_link_libraries(consumer dbal::dbal). Also checks the
# version and component rules, and the installed dbal command.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d /tmp/dbal-consumer-XXXXXX)
trap 'rm -rf "$work"' EXIT
unset DBAL_DRIVER_PATH DATABASE_URL
fail() { echo "FAIL: $*"; exit 1; }
passed=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }

cmake --install "$build" --prefix "$work/staged" >/dev/null
config=$(find "$work/staged" -name dbalConfig.cmake | head -1)
[ -n "$config" ] || fail "dbalConfig.cmake was not installed: is cmake/DbalPackage.cmake included at the end of the top-level CMakeLists.txt?"
for f in dbalConfigVersion.cmake dbalTargets.cmake; do
    [ -f "$(dirname "$config")/$f" ] || fail "$f was not installed next to dbalConfig.cmake"
done
pass "installed: $(dirname "${config#"$work/staged/"}")/{dbalConfig,dbalConfigVersion,dbalTargets}.cmake"
grep -rq "$work/staged" "$(dirname "$config")" && fail "the CMake files name the install prefix: not relocatable"

# Relocatable: the package works from wherever the tree ends up.
mv "$work/staged" "$work/prefix"
prefix=$work/prefix
config=$prefix/${config#"$work/staged/"}
version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' "$(dirname "$config")/dbalConfigVersion.cmake")
[ -n "$version" ] || fail "no PACKAGE_VERSION in dbalConfigVersion.cmake"
major=${version%%.*}

configure() { # build-dir extra-args...
    local dir=$1
    shift
    cmake -S "$src/tests/consumer" -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" "$@" >"$dir.log" 2>&1
}

mkdir -p "$work/b1"
configure "$work/b1" || { cat "$work/b1.log"; fail "the consumer does not configure against $prefix"; }
grep -q "dbal $version: headers in $prefix/include, drivers in $prefix/lib.*/dbal/drivers" "$work/b1.log" ||
    { cat "$work/b1.log"; fail "dbal_VERSION, dbal_INCLUDE_DIR or dbal_DRIVER_DIR are wrong"; }
pass "find_package(dbal CONFIG REQUIRED COMPONENTS sqlite) from a moved prefix"
cmake --build "$work/b1" >"$work/b1.build.log" 2>&1 || { cat "$work/b1.build.log"; fail "the consumer does not build"; }
pass "target_link_libraries(consumer dbal::dbal) builds with -Wall -Wextra -Werror"
out=$("$work/b1/consumer") || fail "the consumer failed: $out"
expected="consumer: 42 from cmake
package $version, header $version, library $version, driver sqlite"
[ "$out" = "$expected" ] || fail "the consumer printed:
$out
expected:
$expected"
pass "the consumer runs (library found through the build RPATH, driver found next to the library)"

mkdir -p "$work/b2"
configure "$work/b2" -DDBAL_CONSUMER_VERSION="$major.0" || { cat "$work/b2.log"; fail "find_package(dbal $major.0) failed"; }
pass "find_package(dbal $major.0) accepts $version"
mkdir -p "$work/b3"
configure "$work/b3" -DDBAL_CONSUMER_VERSION="$((major + 1)).0" && fail "find_package(dbal $((major + 1)).0) accepted $version"
grep -q "requested version" "$work/b3.log" || { cat "$work/b3.log"; fail "no version message"; }
pass "find_package(dbal $((major + 1)).0) refuses $version"
mkdir -p "$work/b4"
configure "$work/b4" "-DDBAL_CONSUMER_COMPONENTS=sqlite;nosuchdriver" && fail "a missing driver component was accepted"
grep -q 'nosuchdriver' "$work/b4.log" || { cat "$work/b4.log"; fail "the missing component is not named"; }
pass "COMPONENTS nosuchdriver: not found"
if [ -f "$prefix/lib/dbal/drivers/dbal_postgresql.so" ] || ls "$prefix"/lib/*/dbal/drivers/dbal_postgresql.so >/dev/null 2>&1; then
    mkdir -p "$work/b5"
    configure "$work/b5" "-DDBAL_CONSUMER_COMPONENTS=sqlite;postgresql" || { cat "$work/b5.log"; fail "COMPONENTS sqlite postgresql"; }
    pass "COMPONENTS sqlite postgresql: found"
fi

# The installed command finds its library and drivers from the moved prefix.
dbal=$prefix/bin/dbal
if [ -x "$dbal" ]; then
    out=$("$dbal" query sqlite::memory: "SELECT 40 + ? AS n" int:2 --csv) || fail "installed dbal query failed: $out"
    [ "$out" = "n
42" ] || fail "installed dbal query printed: $out"
    out=$("$dbal" drivers --csv) || fail "installed dbal drivers failed: $out"
    printf '%s\n' "$out" | grep -Eq "^sqlite,[^,]+,[1-9][0-9]*,ok,$prefix/lib(/[^/]+)?/dbal/drivers/dbal_sqlite.so\$" ||
        fail "installed dbal drivers does not list the installed sqlite driver:
$out"
    pass "the installed dbal command runs from the moved prefix and lists the installed drivers"
fi
echo "$passed passed, 0 failed"
