#!/usr/bin/env bash
# Checks C files against the top-level .clang-format, without changing them:
#
#   tools/check_format.sh FILE...      the files given
#   tools/check_format.sh              the C files changed against HEAD
#                                      (staged, unstaged and untracked)
#   tools/check_format.sh --fix FILE...  rewrites them instead
#
# Prints, for each file that differs, the diff that clang-format would
# apply, and exits 1 when any differs (2 on a usage error or no
# clang-format). Uses $CLANG_FORMAT, else clang-format-14, else
# clang-format; the configuration was chosen with version 14, and another
# version may lay out a few lines differently (said on stderr).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
fix=0
if [ "${1:-}" = "--fix" ]; then
    fix=1
    shift
fi

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
    for c in clang-format-14 clang-format; do
        command -v "$c" >/dev/null 2>&1 && { cf=$c; break; }
    done
fi
[ -n "$cf" ] || { echo "check_format.sh: clang-format not found (apt-get install clang-format)" >&2; exit 2; }
major=$("$cf" --version | sed -n 's/.*clang-format version \([0-9]*\).*/\1/p')
[ "$major" = 14 ] || echo "check_format.sh: $cf is version ${major:-unknown}; .clang-format was chosen with 14" >&2

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    mapfile -t files < <(cd "$root" && { git diff --name-only HEAD; git ls-files --others --exclude-standard; } |
                         grep -E '\.(c|h|cpp)$' | sort -u | sed "s|^|$root/|")
    [ ${#files[@]} -gt 0 ] || { echo "check_format.sh: no changed C files"; exit 0; }
fi

bad=0
for f in "${files[@]}"; do
    [ -f "$f" ] || { echo "check_format.sh: $f: no such file" >&2; exit 2; }
    if [ "$fix" = 1 ]; then
        "$cf" --style="file:$root/.clang-format" -i "$f" || exit 2
        continue
    fi
    if ! out=$("$cf" --style="file:$root/.clang-format" "$f" | diff -u --label "$f" --label "$f (clang-format)" "$f" -); then
        printf '%s\n' "$out"
        bad=$((bad + 1))
    fi
done
if [ "$fix" = 0 ]; then
    [ "$bad" -eq 0 ] && echo "check_format.sh: ${#files[@]} file(s) formatted" || echo "check_format.sh: $bad of ${#files[@]} file(s) differ" >&2
fi
[ "$bad" -eq 0 ]
