#!/bin/bash
# The Debian packages: test_cpack_deb.sh BUILD_DIR
# Runs `cpack -G DEB` in the build directory (output in a temporary
# directory), then checks each package's contents and Depends with dpkg-deb,
# and that the packages a SQLite-only machine installs (libdbal0,
# libdbal0-sqlite, dbal-cli) work, unpacked, without libpq anywhere.
# Exit 77 (skipped) without dpkg-deb.
set -euo pipefail
build=$(cd "$1" && pwd)
command -v dpkg-deb >/dev/null || { echo "skipped: dpkg-deb not found"; exit 77; }
work=$(mktemp -d /tmp/dbal-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT
unset DBAL_DRIVER_PATH DATABASE_URL
fail() { echo "FAIL: $*"; exit 1; }
passed=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }

[ -f "$build/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $build: is cmake/DbalPackage.cmake included?"
(cd "$build" && cpack -G DEB -B "$work/out") >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack -G DEB failed"; }
grep -qi "warning" "$work/cpack.log" && { cat "$work/cpack.log"; fail "cpack warned"; }
pass "cpack -G DEB"

deb() { # package name -> its .deb file
    local f
    f=$(ls "$work/out/$1"_*.deb 2>/dev/null | head -1)
    [ -n "$f" ] || fail "no package $1 (made: $(cd "$work/out" && ls ./*.deb | tr '\n' ' '))"
    echo "$f"
}
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
files() { dpkg-deb -c "$(deb "$1")" | awk '{print $6}' | sed 's|^\./|/|'; }
# grep reads the whole list (no -q): quitting early would make dpkg-deb die
# of SIGPIPE, which pipefail reports as a missing file once the list is long.
has_file() { files "$1" | grep -E "$2" >/dev/null || fail "$1 lacks a file matching $2"; }
lacks_file() { files "$1" | grep -E "$2" >/dev/null && fail "$1 holds a file matching $2: $(files "$1" | grep -E "$2")"; true; }
depends_on() { field "$1" Depends | tr ',' '\n' | sed 's/^ *//' | grep -Eq "^$2( |\$)" || fail "$1 does not depend on $2: $(field "$1" Depends)"; }
no_depend() { field "$1" Depends | grep -Eq "$2" && fail "$1 depends on $2: $(field "$1" Depends)"; true; }

version=$(field libdbal0 Version)
core="libdbal0 \\(= $version\\)"

# libdbal0: the library only; no client library, no driver.
has_file libdbal0 '/libdbal\.so\.0$'
has_file libdbal0 '/libdbal\.so\.0\.[0-9]+\.[0-9]+$'
lacks_file libdbal0 '/libdbal\.so$|dbal/drivers/|include/'
no_depend libdbal0 'libpq|libsqlite'
dpkg-deb -I "$(deb libdbal0)" shlibs | grep -q '^libdbal 0 libdbal0' || fail "libdbal0 has no shlibs entry"
pass "libdbal0 $version: libdbal.so.0, shlibs, Depends: $(field libdbal0 Depends)"

# libdbal-dev: what a build needs.
for f in '/include/dbal\.h$' '/include/dbal/driver\.h$' '/pkgconfig/dbal\.pc$' '/cmake/dbal/dbalConfig\.cmake$' \
         '/cmake/dbal/dbalConfigVersion\.cmake$' '/cmake/dbal/dbalTargets\.cmake$' '/cmake/dbal/DbalDriver\.cmake$' \
         '/libdbal\.so$'; do
    has_file libdbal-dev "$f"
done
lacks_file libdbal-dev '/libdbal\.so\.0'
depends_on libdbal-dev "$core"
pass "libdbal-dev: headers, dbal.pc, CMake files (driver kit too), libdbal.so; Depends: $(field libdbal-dev Depends)"
if [ -x "$build/bin/dbal-conformance" ]; then
    for f in '/bin/dbal-conformance$' '/share/dbal/conformance/sqlite\.caps$' '/share/dbal/conformance/README\.md$'; do
        has_file libdbal-dev "$f"
    done
    depends_on libdbal-dev 'libcmocka0'
    pass "libdbal-dev: dbal-conformance and the capability files; Depends on libcmocka0"
fi
if [ -f "$build/man/man3/dbal.3" ]; then
    for f in '/share/man/man3/dbal\.3$' '/share/man/man3/dbal_exec\.3$' '/share/man/man3/dbal_version\.3$'; do
        has_file libdbal-dev "$f"
    done
    lacks_file libdbal0 '/man/'
    pass "libdbal-dev: the manual pages ($(files libdbal-dev | grep -c '/man3/.*\.3$') in man3)"
fi

# One package per driver, each with its own client library.
has_file libdbal0-sqlite '/dbal/drivers/dbal_sqlite\.so$'
depends_on libdbal0-sqlite "$core"
depends_on libdbal0-sqlite 'libsqlite3-0'
no_depend libdbal0-sqlite 'libpq'
pass "libdbal0-sqlite: Depends: $(field libdbal0-sqlite Depends)"
if [ -f "$build/lib/dbal/drivers/dbal_postgresql.so" ]; then
    has_file libdbal0-postgresql '/dbal/drivers/dbal_postgresql\.so$'
    depends_on libdbal0-postgresql "$core"
    depends_on libdbal0-postgresql 'libpq5'
    no_depend libdbal0-postgresql 'libsqlite'
    pass "libdbal0-postgresql: Depends: $(field libdbal0-postgresql Depends)"
fi

# The command.
has_file dbal-cli '/bin/dbal$'
depends_on dbal-cli "$core"
no_depend dbal-cli 'libpq|libsqlite'
pass "dbal-cli: Depends: $(field dbal-cli Depends)"

# The testing kit: its library, header, .pc, CMake target and driver.
if [ -f "$build/lib/libdbal-testing.so" ]; then
    for f in '/libdbal-testing\.so\.0' '/libdbal-testing\.so$' '/include/dbal/testing\.h$' '/pkgconfig/dbal-testing\.pc$' \
             '/cmake/dbal/dbalTestingTargets\.cmake$' '/dbal/drivers/dbal_testing\.so$'; do
        has_file libdbal-testing-dev "$f"
    done
    depends_on libdbal-testing-dev 'libdbal-dev'
    depends_on libdbal-testing-dev 'libcmocka-dev'
    depends_on libdbal-testing-dev 'libdbal0-sqlite'
    lacks_file libdbal-dev 'dbal_testing|dbal-testing|dbal/testing'
    pass "libdbal-testing-dev: the testing kit; Depends: $(field libdbal-testing-dev Depends)"
fi

# Nothing else: every file of the install is in exactly one package.
others=$(cd "$work/out" && ls ./*.deb | sed 's|^\./||; s|_.*||' | grep -Ev '^(libdbal0|libdbal-dev|libdbal-testing-dev|libdbal0-[a-z0-9-]+|dbal-cli)$' || true)
[ -z "$others" ] || fail "unexpected packages: $others"
dups=$(for f in "$work"/out/*.deb; do dpkg-deb -c "$f" | awk '$1 !~ /^d/ {print $6}'; done | sort | uniq -d)
[ -z "$dups" ] || fail "files in more than one package: $dups"
pass "no other package, no file in two packages"

# A machine with only SQLite: unpack libdbal0, libdbal0-sqlite and dbal-cli.
root=$work/root
for p in libdbal0 libdbal0-sqlite dbal-cli; do dpkg-deb -x "$(deb "$p")" "$root"; done
out=$("$root/usr/bin/dbal" query sqlite::memory: "SELECT 40 + ? AS n" int:2 --csv) || fail "unpacked dbal query: $out"
[ "$out" = "n
42" ] || fail "unpacked dbal query printed: $out"
out=$("$root/usr/bin/dbal" drivers --csv) || fail "unpacked dbal drivers: $out"
[ "$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f1)" = "sqlite" ] || fail "unpacked dbal drivers lists: $out"
if find "$root" -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec ldd {} \; 2>/dev/null | grep -q 'libpq'; then
    fail "something in the SQLite-only install needs libpq"
fi
pass "SQLite only (libdbal0, libdbal0-sqlite, dbal-cli unpacked): dbal runs, lists only sqlite, nothing needs libpq"
echo "$passed passed, 0 failed"
