#!/bin/bash
# The quick-start example prints the same thing on every database: the
# embedded default (no DATABASE_URL), a SQLite file, and PostgreSQL when
# DBAL_TEST_PG_URL is set (skipped otherwise, unless DBAL_TEST_REQUIRE_PG=1).
set -euo pipefail
bin=$1
expected='added: widget
added: gadget
already there: widget (SQLSTATE 23505)
1 widget 9.50
2 gadget 24.00'
dir=$(mktemp -d /tmp/dbal-qs-XXXXXX)
trap 'rm -rf "$dir"' EXIT

check() { # NAME OUTPUT
    if [ "$2" != "$expected" ]; then
        printf 'FAIL: %s printed:\n%s\n' "$1" "$2"
        exit 1
    fi
    echo "ok: $1"
}
check "embedded default" "$(env -u DATABASE_URL "$bin")"
check "sqlite file" "$(DATABASE_URL="sqlite://$dir/q.db" "$bin")"
if [ -n "${DBAL_TEST_PG_URL:-}" ]; then
    check "postgresql" "$(DATABASE_URL="$DBAL_TEST_PG_URL" "$bin")"
elif [ "${DBAL_TEST_REQUIRE_PG:-}" = 1 ]; then
    echo "FAIL: DBAL_TEST_REQUIRE_PG=1 but DBAL_TEST_PG_URL is not set"
    exit 1
else
    echo "postgresql: skipped (DBAL_TEST_PG_URL not set)"
fi
