#!/bin/bash
# `dbal migrate`, run for real:
#   test_cli_migrate.sh sqlite     PATH/TO/dbal   (a temporary SQLite file)
#   test_cli_migrate.sh postgresql PATH/TO/dbal   (DBAL_TEST_PG_URL, in a schema
#                                  of its own; exit 77 without it, unless
#                                  DBAL_TEST_REQUIRE_PG=1)
# Output and exit codes of up, down, status and their errors; no password in
# any output; and 6 `dbal migrate up` processes started together on one
# database: all succeed, each version applied once.
set -uo pipefail
. "$(dirname "$0")/pg_require.sh"
mode=$1
dbal=$2
[ -x "$dbal" ] || { echo "usage: $0 sqlite|postgresql PATH/TO/dbal"; exit 2; }
tmp=$(mktemp -d /tmp/dbal-cli-migrate-XXXXXX)
schema=""
cleanup() {
    [ -n "$schema" ] && "$dbal" exec "$DBAL_TEST_PG_URL" "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
unset DATABASE_URL
export LC_ALL=C.UTF-8
cd "$tmp" || exit 1

passed=0
failed=0
secrets=()

# run ARGS...: runs dbal; sets OUT, ERR, RC.
run() {
    "$dbal" "$@" >"$tmp/out" 2>"$tmp/err"
    RC=$?
    OUT=$(cat "$tmp/out")
    ERR=$(cat "$tmp/err")
    local s
    for s in "${secrets[@]+"${secrets[@]}"}"; do
        if grep -qF -- "$s" "$tmp/out" "$tmp/err"; then
            echo "  a password was printed by: dbal $*"
            RC=98
        fi
    done
}

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() {
    failed=$((failed + 1))
    echo "not ok - $1"
    echo "  exit code: $RC"
    echo "  stdout:"; printf '%s\n' "$OUT" | sed 's/^/    |/'
    echo "  stderr:"; printf '%s\n' "$ERR" | sed 's/^/    |/'
    [ -n "${2:-}" ] && { echo "  expected:"; printf '%s\n' "$2" | sed 's/^/    |/'; }
}

# expect NAME CODE EXPECTED_STDOUT: exit code and exact stdout, stderr empty.
expect() {
    if [ "$RC" = "$2" ] && [ "$OUT" = "$3" ] && [ -z "$ERR" ]; then ok "$1"; else not_ok "$1" "$3"; fi
}

# expect_match NAME CODE REGEX: exit code and stdout matching REGEX.
expect_match() {
    if [ "$RC" = "$2" ] && printf '%s\n' "$OUT" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1" "exit $2, stdout matching: $3"; fi
}

# expect_error NAME CODE REGEX: exit code, stderr one line matching REGEX.
expect_error() {
    if [ "$RC" = "$2" ] && [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] && printf '%s\n' "$ERR" | grep -Eq -- "$3"; then
        ok "$1"
    else
        not_ok "$1" "exit $2, one line on stderr matching: $3"
    fi
}

write() { printf '%s' "$2" >"migrations/$1"; }

# ---- the cases -----------------------------------------------------------------

basic_cases() {
    local url=$1
    mkdir -p migrations
    write README.md "Migrations of the test; not SQL."
    write 0001_create_items.sql $'CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n'
    write 0001_create_items.down.sql $'DROP TABLE items;\n'
    write 0002_add_index.sql $'-- looked up by name\nCREATE INDEX items_name ON items(name);\n'
    write 0002_add_index.down.sql $'DROP INDEX items_name;\n'

    run migrate "$url" status
    expect "status before anything: every version pending" 0 \
" version |     name     |  state  | applied_at | duration_ms |               file
---------+--------------+---------+------------+-------------+----------------------------------
       1 | create_items | pending |            |             | migrations/0001_create_items.sql
       2 | add_index    | pending |            |             | migrations/0002_add_index.sql
(2 rows)"
    run migrate "$url" up --dry-run
    expect "up --dry-run prints the statements" 0 "-- migrations/0001_create_items.sql:1
CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
-- migrations/0002_add_index.sql:2
-- looked up by name
CREATE INDEX items_name ON items(name);
-- dry run: 2 statements, nothing was changed"
    run migrate "$url" status --csv
    expect_match "... and changes nothing" 0 '^1,create_items,pending,,,migrations/0001_create_items.sql$'
    run migrate "$url" up 1
    expect_match "up 1" 0 '^applied 1 create_items \(migrations/0001_create_items.sql, [0-9]+ ms\)$'
    expect_match "up 1: where it stands" 0 '^at version 1, 1 pending$'
    run migrate "$url" up
    expect_match "up" 0 '^applied 2 add_index \(migrations/0002_add_index.sql, [0-9]+ ms\)$'
    run migrate "$url" up
    expect "up again: nothing to do" 0 "nothing to do: at version 2, 0 pending"
    run migrate "$url" status --csv
    expect_match "status --csv" 0 '^2,add_index,applied,[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z,[0-9]+,migrations/0002_add_index.sql$'
    run migrate "$url" status --json
    expect_match "status --json" 0 '^  \{"version": 1, "name": "create_items", "state": "applied", "applied_at": "[^"]+", "duration_ms": [0-9]+, "file": "migrations/0001_create_items.sql"\},$'

    # An edited migration is refused, then repaired.
    write 0001_create_items.sql $'CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);\n'
    run migrate "$url" up
    expect_error "an edited migration: refused" 1 \
        '^dbal: error: DBAL_EMIGRATION: migrations/0001_create_items.sql has changed since version 1 was applied \(checksum [0-9a-f]{12}\.\.\., applied [0-9a-f]{12}\.\.\.\)'
    run migrate "$url" status
    expect_match "status: changed" 0 '^       1 \| create_items \| changed \|'
    run migrate "$url" up --repair
    expect_match "up --repair" 0 '^repaired 1 create_items: recorded checksum [0-9a-f]{12}\.\.\. of migrations/0001_create_items.sql$'

    # A failing migration: its file and line, the database's code; nothing kept.
    write 0003_bad.sql $'CREATE TABLE t3(x INTEGER);\nCREATE TABLEE t4(x INTEGER);\n'
    run migrate "$url" up
    expect_error "a failing statement: file:line, code, rolled back" 1 \
        '^dbal: error: DBAL_ESYNTAX \(42601\): migrations/0003_bad.sql:2: .*\(applying version 3 rolled back; the database stays at version 2\)$'
    run query "$url" "SELECT count(*) AS n FROM t3"
    if [ "$RC" = 1 ]; then ok "the failed migration left nothing"; else not_ok "the failed migration left nothing"; fi
    write 0003_bad.sql $'CREATE TABLE t3(x INTEGER);\n'
    run migrate "$url" up
    expect_match "fixed: applied" 0 '^applied 3 bad '
    run migrate "$url" down
    expect_error "down without a down file" 2 \
        '^dbal: error: DBAL_EINVAL: cannot revert version 3: migrations/0003_bad.sql has no down file for the [a-z]+ driver \(0003_bad.down.sql\); nothing was reverted$'
    write 0003_bad.down.sql $'DROP TABLE t3;\n'
    run migrate "$url" down --steps 2
    expect "down --steps 2" 0 "reverted 3 bad (migrations/0003_bad.down.sql)
reverted 2 add_index (migrations/0002_add_index.down.sql)
at version 1, 2 pending"
    run migrate "$url" down 0 --dry-run
    expect "down 0 --dry-run" 0 "-- migrations/0001_create_items.down.sql:1
DROP TABLE items;
-- dry run: 1 statement, nothing was changed"

    # A version applied whose file is gone.
    run migrate "$url" up
    rm migrations/0003_bad.sql migrations/0003_bad.down.sql
    run migrate "$url" up
    expect_error "a missing file: refused" 1 '^dbal: error: DBAL_EMIGRATION: version 3 \(bad\) is applied but has no file in migrations'
    run migrate "$url" status --csv
    expect_match "status: missing" 0 '^3,bad,missing,[^,]+,[0-9]+,$'
    run migrate "$url" up --ignore-missing
    expect "up --ignore-missing" 0 "nothing to do: at version 3, 0 pending"

    # Another directory and another history table.
    mkdir -p other
    printf 'CREATE TABLE other_t(x INTEGER);\n' >other/1_other.sql
    run migrate "$url" -d other --history-table other_history up
    expect_match "-d DIR --history-table NAME" 0 '^applied 1 other \(other/1_other.sql, [0-9]+ ms\)$'
}

usage_cases() {
    local url=$1
    run migrate "$url"
    expect_error "migrate without an action" 2 '^dbal: error: migrate needs up, down or status'
    run migrate "$url" sideways
    expect_error "an unknown action" 2 '^dbal: error: migrate needs up, down or status, not sideways'
    run migrate "$url" up 1 2
    expect_error "two versions" 2 "^dbal: error: migrate up: unexpected 2"
    run migrate "$url" up 0
    expect_error "up 0" 2 "^dbal: error: migrate up: unexpected 0"
    run migrate "$url" status --dry-run
    expect_error "status --dry-run" 2 "^dbal: error: migrate status: unexpected option"
    run migrate "$url" up --steps 0
    expect_error "--steps 0" 2 "^dbal: error: --steps takes a number from 1, not '0'"
    run migrate "$url" up --frob
    expect_error "an unknown option" 2 "^dbal: error: unknown option '--frob'"
    run migrate "$url" -d "$tmp/nowhere" up
    expect_error "no such directory" 2 "^dbal: error: DBAL_EINVAL: cannot read the migration directory $tmp/nowhere: No such file or directory$"
    run migrate "$url" -d other --history-table other_history up 7
    expect_error "up to a version that does not exist" 2 "^dbal: error: DBAL_EINVAL: no migration has version 7 in other$"
    run migrate up
    expect_error "no URL" 2 "^dbal: error: no database URL"
}

# Six processes wait for a file to appear, then all run `dbal migrate up`.
concurrent_case() {
    local url=$1 n=6
    mkdir -p conc
    printf 'CREATE TABLE conc_log(version INTEGER NOT NULL);\nINSERT INTO conc_log VALUES (1);\nCREATE TABLE conc1(x INTEGER);\n' >conc/0001_log.sql
    printf 'INSERT INTO conc_log VALUES (2);\nCREATE TABLE conc2(x INTEGER);\n' >conc/0002_more.sql
    printf 'INSERT INTO conc_log VALUES (3);\nCREATE TABLE conc3(x INTEGER);\n' >conc/0003_last.sql
    local pids=() i
    for i in $(seq $n); do
        (while [ ! -e go ]; do sleep 0.01; done
         exec "$dbal" migrate "$url" -d conc --history-table conc_history up >"conc.$i.out" 2>"conc.$i.err") &
        pids+=($!)
    done
    sleep 0.3
    touch go
    local okays=0 applied=0
    for i in $(seq $n); do
        wait "${pids[$((i - 1))]}" && okays=$((okays + 1))
        applied=$((applied + $(grep -c '^applied ' "conc.$i.out")))
    done
    run query --csv "$url" "SELECT count(*) AS n, count(DISTINCT version) AS v FROM conc_log"
    local log=$OUT
    run query --csv "$url" "SELECT count(*) AS n FROM conc_history"
    echo "# $mode: $n 'dbal migrate up' at once: $okays exited 0; 'applied' lines $applied; log rows: $(echo $log | tr '\n' ' '); history rows: $(echo $OUT | tr '\n' ' ')"
    if [ "$okays" = $n ] && [ "$applied" = 3 ] && [ "$log" = $'n,v\n3,3' ] && [ "$OUT" = $'n\n3' ]; then
        ok "$n processes migrating at once: all succeed, each version applied once"
    else
        not_ok "$n processes migrating at once" "6 exit 0, 3 applied, log 3,3, history 3"
        cat conc.*.err
    fi
}

case $mode in
    sqlite)
        url="sqlite:///$tmp/app.db"
        basic_cases "$url"
        usage_cases "$url"
        concurrent_case "$url"
        ;;
    postgresql)
        if [ -z "${DBAL_TEST_PG_URL:-}" ]; then
            pg_skip_or_fail "$(basename "$0" .sh)" "DBAL_TEST_PG_URL is not set"
        fi
        schema="cli_migrate_$$"
        "$dbal" exec "$DBAL_TEST_PG_URL" "CREATE SCHEMA $schema" >/dev/null || exit 1
        sep='?'
        case $DBAL_TEST_PG_URL in *\?*) sep='&' ;; esac
        url="$DBAL_TEST_PG_URL${sep}options=-csearch_path%3D$schema"
        pw=$(printf '%s' "$DBAL_TEST_PG_URL" | sed -n 's|^[a-z]*://[^:/@]*:\([^@]*\)@.*|\1|p')
        [ -n "$pw" ] && secrets+=("$pw")
        basic_cases "$url"
        usage_cases "$url"
        concurrent_case "$url"
        ;;
    *)
        echo "unknown mode $mode"
        exit 2
        ;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
