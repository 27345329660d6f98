#!/bin/bash
# The generated manual pages: test_man.sh MANDIR HEADER LIBRARY [OVERVIEW MIN]
# (OVERVIEW, default dbal, is the overview page; MIN, default 50, the
# fewest functions; the result codes and man -l are dbal(3)'s only.)
# Every function libdbal exports and every inline function of the header has
# a page in MANDIR/man3 (its own, or a symbolic link to its group's); each
# page has the sections a manual page needs; dbal(3) lists every result code
# of DBAL_CODE_MAP. With groff, every page renders with `groff -ww` and
# without a single warning, and `man -l` shows dbal_exec(3); without groff
# only the structure is checked, and the test says so.
set -euo pipefail
mandir=$1
header=$2
lib=$3
overview=${4:-dbal}
min=${5:-50}
fail() { echo "FAIL: $*"; exit 1; }
passed=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }

[ -f "$mandir/man3/$overview.3" ] || fail "no $mandir/man3/$overview.3: are the manual pages built?"
dir=$(cd "$mandir/man3" && pwd)

names=$( (nm -D --defined-only "$lib" | awk '{print $3}'
          sed -n 's/^static inline [^(]*[ *]\(dbal_[a-z0-9_]*\)(.*/\1/p' "$header") | sort -u)
count=0
for n in $names; do
    f=$dir/$n.3
    [ -e "$f" ] || fail "no manual page for $n"
    if [ -L "$f" ]; then
        target=$(readlink "$f")
        [ "${target#*/}" = "$target" ] || fail "$n.3 links outside man3: $target"
        [ -f "$dir/$target" ] && [ ! -L "$dir/$target" ] || fail "$n.3 links to a missing page: $target"
        grep -q "^$n," "$dir/$target" || grep -q "[ ,]$n[ ,]" <(sed -n '/^\.SH NAME/{n;p}' "$dir/$target") ||
            fail "$target does not name $n"
    fi
    count=$((count + 1))
done
[ "$count" -ge "$min" ] || fail "only $count functions found"
pass "$count functions, each with a page or a link to its group's page"

pages=0
for f in "$dir"/*.3; do
    [ -L "$f" ] && continue
    for s in '^\.TH ' '^\.SH NAME$' '^\.SH SYNOPSIS$' '^\.SH DESCRIPTION$' '^\.SH SEE ALSO$'; do
        grep -q "$s" "$f" || fail "$(basename "$f") lacks $s"
    done
    # whatis reads "name, name \- text" on the line after .SH NAME.
    sed -n '/^\.SH NAME$/{n;p}' "$f" | grep -Eq '^[a-z0-9_, ]+ \\- [^\\]' || fail "$(basename "$f"): bad NAME line"
    pages=$((pages + 1))
done
pass "$pages pages with .TH, NAME, SYNOPSIS, DESCRIPTION and SEE ALSO"

ncodes=0
[ "$overview" = dbal ] && for c in $(sed -n 's/^ *X(\([A-Z]*\), *[0-9]*,.*/\1/p' "$header"); do
    grep -q "^\.BR DBAL_$c " "$dir/dbal.3" || fail "dbal.3 does not list DBAL_$c"
    ncodes=$((ncodes + 1))
done
if [ "$overview" = dbal ]; then
    [ "$ncodes" -ge 30 ] || fail "only $ncodes codes read from $header"
    pass "dbal(3) lists the $ncodes codes of DBAL_CODE_MAP"
fi

if ! command -v groff >/dev/null; then
    echo "groff not found: structure checked only, pages not rendered"
    echo "$passed passed, 0 failed"
    exit 0
fi
for f in "$dir"/*.3; do
    warnings=$(groff -ww -man -Tutf8 "$f" 2>&1 >/dev/null) || fail "groff failed on $(basename "$f"): $warnings"
    [ -z "$warnings" ] || fail "groff warns on $(basename "$f"): $warnings"
done
pass "every page renders with groff -ww -man -Tutf8, no warning"

if [ "$overview" = dbal ] && command -v man >/dev/null; then
    out=$(cd / && MANWIDTH=80 man -l "$dir/dbal_exec.3" 2>&1) || fail "man -l dbal_exec.3: $out"
    grep -q 'int dbal_exec(dbal_session \*s, const char \*sql' <<<"$out" || fail "man -l dbal_exec.3 shows: $out"
    out=$(cd / && MANWIDTH=80 man -l "$dir/dbal_version.3" 2>&1) || fail "man -l dbal_version.3: $out"
    grep -q 'const char \*dbal_version(void)' <<<"$out" || fail "man -l through a link shows: $out"
    pass "man -l shows dbal_exec(3), and dbal_version(3) through its link"
fi
echo "$passed passed, 0 failed"
