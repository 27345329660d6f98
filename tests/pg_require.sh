# Sourced by the test scripts that need PostgreSQL: one rule for what its
# absence means. DBAL_TEST_REQUIRE_PG=1 (CI) turns a skip into a failure,
# so that a suite that silently ran without PostgreSQL cannot pass.
#
#   pg_skip_or_fail NAME REASON   exits 77 (skipped) or 1
#   pg_require_programs NAME PROG skips or fails unless PostgreSQL's server
#                                 program PROG is installed
pg_skip_or_fail() {
    if [ "${DBAL_TEST_REQUIRE_PG:-0}" = 1 ]; then
        echo "$1: $2 (DBAL_TEST_REQUIRE_PG=1)" >&2
        exit 1
    fi
    echo "$1: $2, skipped"
    exit 77
}

pg_require_programs() {
    ls /usr/lib/postgresql/*/bin/"$2" >/dev/null 2>&1 ||
        pg_skip_or_fail "$1" "no PostgreSQL server programs"
}
