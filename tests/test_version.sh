#!/bin/bash
# The version has one owner, include/dbal.h (cmake/DbalVersion.cmake):
#   test_version.sh VERSION DBAL_CLI
# VERSION is the project's, read from the header at configure time. The
# library (dbal --version) and every driver module built here (dbal drivers,
# from DBAL_DRIVER_PATH) must report it.
set -euo pipefail
want=$1
cli=$2
fail() { echo "FAIL: $*"; exit 1; }

out=$("$cli" --version) || fail "dbal --version failed: $out"
[[ "$out" == *"(libdbal $want,"* ]] || fail "libdbal is not $want: $out"
echo "ok - libdbal $want"

n=0
while IFS=, read -r name version abi status path; do
    [ "$name" = name ] && continue
    case "$path" in "$DBAL_DRIVER_PATH"/*) ;; *) continue ;; esac
    [ "$status" = ok ] || fail "driver $name: $status"
    [ "$version" = "$want" ] || fail "driver $name ($path) reports version $version, not $want (use DBAL_VERSION)"
    echo "ok - driver $name $version"
    n=$((n + 1))
done < <("$cli" drivers --csv)
[ "$n" -gt 0 ] || fail "no driver module in $DBAL_DRIVER_PATH"
echo "$((n + 1)) passed, 0 failed"
