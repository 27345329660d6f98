#!/bin/bash
# The README's asynchronous API example compiles as it is written and
# prints what it should, on the embedded default (in-memory SQLite).
#   test_readme_async.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
dir=$(mktemp -d /tmp/dbal-readme-async-XXXXXX)
trap 'rm -rf "$dir"' EXIT
# The first C block after the "## Asynchronous API" heading.
awk '/^## Asynchronous API/ { section = 1 }
     section && /^```c$/ { code = 1; next }
     code && /^```$/ { exit }
     code { print }' "$src/README.md" > "$dir/example.c"
[ -s "$dir/example.c" ] || { echo "FAIL: no example found in README.md"; exit 1; }
${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Werror -I"$src/include" "$dir/example.c" \
    -L"$build/lib" -ldbal -Wl,-rpath,"$build/lib" -o "$dir/example"
out=$(env -u DATABASE_URL "$dir/example")
if [ "$out" != "item 2: 3.00" ]; then
    printf 'FAIL: the README example printed:\n%s\n' "$out"
    exit 1
fi
echo "ok: the README's asynchronous example"
