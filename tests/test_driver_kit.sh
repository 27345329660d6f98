#!/bin/bash
# The driver kit as the author of a driver outside dbal's tree uses it:
#   test_driver_kit.sh BUILD_DIR SOURCE_DIR
# Installs the build into a temporary prefix; copies tests/kit_driver (the
# minisqlite driver: SQLite through the required slots only) into a
# temporary directory outside the source tree and builds it there with
# find_package(dbal) and dbal_add_driver(), nothing else of dbal's; checks
# the module (only its entry point exported, libsqlite3 linked, never
# libdbal); then runs the INSTALLED dbal-conformance on it with its
# capability file, minisqlite.caps: the run must pass, and the cases
# skipped must be exactly those the file rules out. Last, the installed
# program finds the file by the driver's name in the installed data
# directory.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d /tmp/dbal-kit-XXXXXX)
trap 'rm -rf "$work"' EXIT
unset DBAL_DRIVER_PATH DATABASE_URL DBAL_CONF_FILTER
fail() { echo "FAIL: $*"; exit 1; }
passed=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
conformance=$prefix/bin/dbal-conformance
[ -x "$conformance" ] || fail "dbal-conformance was not installed in $prefix/bin"
caps=$(find "$prefix" -name sqlite.caps | head -1)
[ -n "$caps" ] || fail "sqlite.caps was not installed"
caps_dir=$(cd "$(dirname "$caps")" && pwd -P)
[ -f "$caps_dir/README.md" ] || fail "the README of the capability keys was not installed in $caps_dir"
pass "installed: bin/dbal-conformance, ${caps_dir#"$(cd "$prefix" && pwd -P)/"}/ (sqlite.caps, README.md)"

# Built away from the source tree, with only the installed package.
kit=$work/minisqlite
cp -r "$src/tests/kit_driver" "$kit"
cmake -S "$kit" -B "$kit/build" -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; fail "the kit driver does not configure against $prefix"; }
cmake --build "$kit/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the kit driver does not build"; }
module=$kit/build/dbal_minisqlite.so
[ -f "$module" ] || fail "dbal_add_driver(minisqlite) did not make dbal_minisqlite.so: $(ls "$kit/build")"
pass "find_package(dbal) and dbal_add_driver(minisqlite ...) build dbal_minisqlite.so outside the tree (-Wall -Wextra -Werror)"

exports=$(nm -D --defined-only "$module" | awk '{print $3}')
[ "$exports" = "dbal_minisqlite_driver_entry" ] || fail "the module exports more than its entry point: $exports"
needed=$(readelf -d "$module" | grep NEEDED || true)
grep -q libdbal <<<"$needed" && fail "the module links libdbal: $needed"
grep -q libsqlite3 <<<"$needed" || fail "the module does not link libsqlite3: $needed"
pass "the module exports only dbal_minisqlite_driver_entry and links libsqlite3, not libdbal"

# The installed suite on the driver.
url="sqlite+minisqlite://$work/mini.db"
rc=0
out=$(DBAL_DRIVER_PATH=$kit/build "$conformance" --caps "$kit/minisqlite.caps" "$url" 2>&1) || rc=$?
printf '%s\n' "$out" | grep -E '^capabilities:|^conformance on|skipped:|^\[  (PASSED|FAILED|SKIPPED) *\] [0-9]+ test' || true
[ "$rc" -eq 0 ] || { printf '%s\n' "$out"; fail "dbal-conformance failed on minisqlite (exit $rc)"; }
skipped=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([a-z0-9_]*\)$/\1/p' | sort -u | tr '\n' ' ')
expected="cancel_from_another_thread error_same_mistake last_insert_id session_read_only statement_timeout tx_read_only types_async types_batch types_date_time_roundtrip types_datetime_range types_json types_numeric types_numeric_digits types_order_and_compare types_time_zone_offsets types_timestamp_roundtrip types_undeclared types_uuid "
[ "$skipped" = "$expected" ] || fail "skipped: ${skipped:-none}; minisqlite.caps rules out: $expected"
npassed=$(printf '%s\n' "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p')
total=$(printf '%s\n' "$out" | sed -n 's/^conformance on .*: \([0-9]*\) cases$/\1/p')
nskipped=$(wc -w <<<"$expected")
[ -n "$npassed" ] && [ -n "$total" ] && [ "$((npassed + nskipped))" -eq "$total" ] ||
    fail "passed ${npassed:-?} of ${total:-?} cases with $nskipped skipped"
pass "the installed dbal-conformance on minisqlite: $npassed passed, $nskipped skipped as minisqlite.caps says"

# Found by the driver's name, in the installed data directory.
cp "$kit/minisqlite.caps" "$caps_dir/"
out=$(DBAL_DRIVER_PATH=$kit/build DBAL_CONF_FILTER=roundtrip_blob "$conformance" "$url" 2>&1) ||
    { printf '%s\n' "$out"; fail "dbal-conformance without --caps failed"; }
grep -q "^capabilities: $caps_dir/minisqlite.caps\$" <<<"$out" ||
    { printf '%s\n' "$out"; fail "the capability file was not found by the driver's name in $caps_dir"; }
pass "without --caps, the installed program reads $(basename "$caps_dir")/minisqlite.caps"
echo "$passed passed, 0 failed"
