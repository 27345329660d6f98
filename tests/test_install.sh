#!/bin/bash
# Installs the build into a temporary prefix and uses it the way an
# application does: pkg-config, the DESIGN.md quick-start compiled unchanged,
# no DBAL_DRIVER_PATH (the installed library must find its own drivers), a
# C++ program, and the shape of the shared object (exports, SONAME, links).
set -euo pipefail
build=$1
src=$2
prefix=$(mktemp -d /tmp/dbal-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
unset DBAL_DRIVER_PATH DATABASE_URL

cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name dbal.pc | head -1)")
export PKG_CONFIG_PATH=$pcdir
libdir=$(pkg-config --variable=libdir dbal)
fail() { echo "FAIL: $*"; exit 1; }

test -f "$libdir/dbal/drivers/dbal_sqlite.so" || fail "sqlite driver not installed in $libdir/dbal/drivers"
test -f "$prefix/include/dbal.h" -a -f "$prefix/include/dbal/driver.h" || fail "headers not installed"

# The manual pages, when the build made them (it needs python3): installed,
# and found by man through the installed tree, links included.
if [ -f "$build/man/man3/dbal.3" ]; then
    man3=$(dirname "$(find "$prefix" -name dbal.3 | head -1)")
    [ "$(basename "$man3")" = man3 ] || fail "dbal.3 not installed in a man3 directory"
    for page in dbal_exec.3 dbal_col_get_int64.3 dbal_version.3; do
        test -e "$man3/$page" || fail "$page not installed in $man3"
    done
    if command -v man >/dev/null; then
        man -M "$(dirname "$man3")" -w 3 dbal_version | grep -q "^$man3/" || fail "man does not find dbal_version(3) in $man3"
    fi
fi

# The quick-start of DESIGN.md, unchanged.
cc -std=c11 -Wall -Wextra -Werror -o "$prefix/quick" "$src/tests/design_quickstart.c" \
   $(pkg-config --cflags --libs dbal) -Wl,-rpath,"$libdir"
out=$("$prefix/quick") || fail "quick-start failed without DATABASE_URL"
grep -q '^1 widget$' <<<"$out" || fail "quick-start printed: $out"
DATABASE_URL="sqlite://$prefix/x.db" "$prefix/quick" >/dev/null || fail "quick-start failed on a file"
out=$(DATABASE_URL="sqlite://$prefix/x.db" "$prefix/quick") || fail "second run on the file failed"
grep -q '^already there: 23505$' <<<"$out" || fail "second run should hit the unique violation: $out"
test -f "$prefix/x.db" || fail "the file database was not created"

# The README's first program, as a user copies it: every call checked, a
# failure is exit 1 with the reason said once.
awk '/^## Using dbal in a program/{f=1} f&&/^```c/{g=1;next} g&&/^```/{exit} g' "$src/README.md" >"$prefix/app.c"
grep -q 'dbal_engine_open_env' "$prefix/app.c" || fail "the README's first program was not found"
cc -std=c11 -Wall -Wextra -Werror -o "$prefix/app" "$prefix/app.c" $(pkg-config --cflags --libs dbal) \
   -Wl,-rpath,"$libdir"
out=$("$prefix/app") || fail "the README program failed on sqlite::memory:"
grep -q '^1 widget$' <<<"$out" || fail "the README program printed: $out"
rc=0
out=$(DATABASE_URL="sqlite://$prefix/no/such/dir/app.db" "$prefix/app" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "the README program exited $rc on a missing directory: $out"
[ "$(grep -o 'cannot open SQLite database' <<<"$out" | wc -l)" = 1 ] || fail "the reason is not said once: $out"
grep -q 'No such file or directory' <<<"$out" || fail "the system's reason is lost: $out"

# Bad URLs: non-zero exit, one line naming the problem, no password.
for bad in "nosuch://u:hunter2@h/db" "postgresql://u:hunter2@h:99999/db" "Bad://x"; do
    if msg=$(DATABASE_URL=$bad "$prefix/quick" 2>&1); then fail "$bad was accepted"; fi
    [ "$(wc -l <<<"$msg")" -eq 1 ] || fail "$bad: more than one line: $msg"
    grep -q hunter2 <<<"$msg" && fail "$bad: password in message: $msg"
    echo "ok: $bad -> $msg"
done

# C++.
c++ -std=c++11 -Wall -Wextra -Werror -o "$prefix/cxx" "$src/tests/cxx_header.cpp" \
    $(pkg-config --cflags --libs dbal) -Wl,-rpath,"$libdir"
"$prefix/cxx" | grep -q '^c++: 42 from c++ 2$' || fail "C++ program"

# The shared object: SONAME, only dbal_ symbols exported, no client library.
so=$(readlink -f "$libdir/libdbal.so")
readelf -d "$so" | grep -q 'SONAME.*libdbal.so.0' || fail "SONAME is not libdbal.so.0"
bad_syms=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^dbal_' || true)
[ -z "$bad_syms" ] || fail "exported symbols outside the API: $bad_syms"
nm -D --defined-only "$so" | awk '{print $3}' | grep -q '^dbal__' && fail "internal dbal__ symbols exported"
readelf -d "$so" | grep NEEDED | grep -Eq 'libpq|libsqlite3' && fail "libdbal links a client library"
echo "install test passed"
