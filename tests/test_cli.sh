#!/bin/bash
# The command-line client, run for real:
#   test_cli.sh sqlite     PATH/TO/dbal   (a temporary SQLite file)
#   test_cli.sh postgresql PATH/TO/dbal   (DBAL_TEST_PG_URL; exit 77 without it,
#                                          unless DBAL_TEST_REQUIRE_PG=1)
# Every case checks the exit code and the exact output; errors must be one
# line on stderr and no password may appear anywhere.
# DBAL_TEST_VALGRIND=1 runs every command under valgrind (leaks and memory
# errors make it exit 99).
set -uo pipefail
. "$(dirname "$0")/pg_require.sh"
mode=$1
dbal=$2
[ -x "$dbal" ] || { echo "usage: $0 sqlite|postgresql PATH/TO/dbal"; exit 2; }
tmp=$(mktemp -d /tmp/dbal-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unset DATABASE_URL
export LC_ALL=C.UTF-8

passed=0
failed=0
secrets=()   # passwords that must never be printed

# run [--stdin FILE] ARGS...: runs dbal; sets OUT, ERR, RC.
run() {
    local input=/dev/null
    if [ "${1:-}" = "--stdin" ]; then input=$2; shift 2; fi
    local cmd=("$dbal" "$@")
    if [ "${DBAL_TEST_VALGRIND:-0}" = 1 ]; then
        cmd=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
             --show-leak-kinds=definite,indirect "${cmd[@]}")
    fi
    "${cmd[@]}" <"$input" >"$tmp/out" 2>"$tmp/err"
    RC=$?
    OUT=$(cat "$tmp/out")
    ERR=$(cat "$tmp/err")
    local s
    for s in "${secrets[@]+"${secrets[@]}"}"; do
        if grep -qF -- "$s" "$tmp/out" "$tmp/err"; then
            echo "  a password was printed by: dbal $*"
            echo "  $OUT $ERR" | sed 's/^/  /'
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

# expect NAME CODE EXPECTED_STDOUT: exit code and exact stdout; stderr empty
# when CODE is 0.
expect() {
    if [ "$RC" = "$2" ] && [ "$OUT" = "$3" ] && { [ "$2" != 0 ] || [ -z "$ERR" ]; }; then
        ok "$1"
    else
        not_ok "$1" "$3"
    fi
}

# expect_error NAME CODE REGEX: exit code, empty stdout, stderr one line
# matching REGEX (extended).
expect_error() {
    if [ "$RC" = "$2" ] && [ -z "$OUT" ] && [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] &&
        printf '%s\n' "$ERR" | grep -Eq -- "$3"; then
        ok "$1"
    else
        not_ok "$1" "exit $2, one line on stderr matching: $3"
    fi
}

# expect_match NAME CODE REGEX: exit code and stdout matching REGEX.
expect_match() {
    if [ "$RC" = "$2" ] && printf '%s\n' "$OUT" | grep -Eq -- "$3"; then
        ok "$1"
    else
        not_ok "$1" "exit $2, stdout matching: $3"
    fi
}

valid_json() {
    if command -v python3 >/dev/null; then
        printf '%s\n' "$OUT" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null
    else
        return 0
    fi
}

# ---- cases that need no database ----------------------------------------------

common_cases() {
    run --help
    expect_match "--help names the exit codes" 0 '^  3  cannot reach the database'
    run
    if [ "$RC" = 2 ] && printf '%s\n' "$ERR" | grep -q '^usage: dbal'; then ok "no command: usage, exit 2"; else not_ok "no command: usage, exit 2"; fi
    run frobnicate
    expect_error "unknown command" 2 "^dbal: error: unknown command 'frobnicate'"
    run query --frob "SELECT 1"
    expect_error "unknown option" 2 "^dbal: error: unknown option '--frob'"
    run query "SELECT 1"
    expect_error "no URL and no DATABASE_URL" 2 '^dbal: error: no database URL: .*DATABASE_URL'
    run query sqlite::memory:
    expect_error "query without SQL" 2 '^dbal: error: query needs SQL'
    run ping sqlite::memory: extra
    expect_error "ping with extra arguments" 2 '^dbal: error: ping takes only a URL'
    run --version
    expect_match "--version" 0 '^dbal [0-9]+\.[0-9]+\.[0-9]+ \(libdbal [0-9.]+, line editing: (libedit|readline|none)\)$'

    # A password in a URL is never printed, whatever fails.
    secrets+=(hunter2 'hunter%32')
    run query "nosuch://u:hunter2@h/db" "SELECT 1"
    expect_error "unknown scheme: exit 3, no password" 3 "^dbal: error: DBAL_ENODRIVER: no driver for scheme 'nosuch'"
    run ping "postgresql://u:hunter2@h:99999/db"
    expect_error "bad port: exit 3, no password" 3 '^dbal: error: DBAL_EURL: '
    run ping "Bad://u:hunter2@h/db"
    expect_error "bad scheme: exit 3" 3 '^dbal: error: DBAL_EURL: '
    run exec "sqlite:///$tmp/x.db?nosuch_option=1&password=hunter2" "SELECT 1"
    expect_error "unknown SQLite option, password= option" 3 '^dbal: error: DBAL_EURL: '
    if [ -f "$DBAL_DRIVER_PATH/dbal_postgresql.so" ]; then
        # Nothing listens on port 1: the connection is refused.
        DATABASE_URL="postgresql://u:hunter%32@127.0.0.1:1/db?connect_timeout=2" run ping
        expect_error "connection refused (URL from DATABASE_URL)" 3 '^dbal: error: DBAL_ECONNECT \(08[0-9A-Z]{3}\): '
        DATABASE_URL="postgresql://u:hunter2@127.0.0.1:1/db" run --stdin /dev/null shell
        expect_error "shell: connection refused" 3 '^dbal: error: DBAL_ECONNECT'
    fi

    # dbal drivers: the build's modules, from DBAL_DRIVER_PATH.
    run drivers --csv
    expect_match "drivers: the sqlite module, from DBAL_DRIVER_PATH" 0 \
        "^sqlite,[^,]+,[1-9][0-9]*,ok,$DBAL_DRIVER_PATH/dbal_sqlite.so\$"
    if [ "$(printf '%s\n' "$OUT" | head -1)" = "name,version,abi,status,path" ]; then ok "drivers: CSV header"; else not_ok "drivers: CSV header"; fi
    run drivers
    expect_match "drivers: table" 0 '^ sqlite +\| [^ ]+ +\| +[1-9][0-9]* \| ok +\| /.*/dbal_sqlite\.so$'
    # An earlier directory: a copy shadows the build's module, a file that
    # is not a shared object and a bad name are reported, not fatal.
    mkdir -p "$tmp/drv"
    cp "$DBAL_DRIVER_PATH/dbal_sqlite.so" "$tmp/drv/"
    echo "not ELF" >"$tmp/drv/dbal_junk.so"
    cp "$DBAL_DRIVER_PATH/dbal_sqlite.so" "$tmp/drv/dbal_Bad.so"
    DBAL_DRIVER_PATH="$tmp/drv:$DBAL_DRIVER_PATH" run drivers --csv
    expect_match "drivers: the earlier directory wins" 0 "^sqlite,[^,]+,[1-9][0-9]*,ok,$tmp/drv/dbal_sqlite.so\$"
    expect_match "drivers: the later module is shadowed" 0 "^sqlite,,,shadowed by the sqlite driver listed above,$DBAL_DRIVER_PATH/dbal_sqlite.so\$"
    expect_match "drivers: a file that is not a module" 0 "^junk,,,cannot load: .*,$tmp/drv/dbal_junk.so\$"
    expect_match "drivers: a file name that is no driver name" 0 "^Bad,,,ignored: a driver name is made of a-z 0-9 and _,"
    DBAL_DRIVER_PATH="$tmp/drv" run drivers --json
    if [ "$RC" = 0 ] && valid_json && printf '%s\n' "$OUT" | grep -q '"name": "sqlite", "version": "[^"]*", "abi": [1-9][0-9]*, "status": "ok"'; then
        ok "drivers: JSON, and the installed directory is searched too"
    else
        not_ok "drivers: JSON, and the installed directory is searched too"
    fi
}

# ---- SQLite -------------------------------------------------------------------------

sqlite_cases() {
    local url="sqlite://$tmp/cli.db"
    types_cases "$url" typed sqlite
    run exec "$url" "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, price DOUBLE PRECISION, ok BOOLEAN, data BLOB)"
    expect "exec CREATE TABLE" 0 "0 rows affected"
    run exec "$url" "INSERT INTO items VALUES (?, ?, ?, ?, ?)" int:1 widget float:9.5 bool:true blob:00ff10
    expect "exec INSERT with int, text, float, bool, blob params" 0 "1 row affected"
    run exec "$url" "INSERT INTO items VALUES (?, ?, ?, ?, ?)" int:2 'say "hi", ok' float:24 bool:off null:
    expect "exec INSERT with a null param" 0 "1 row affected"
    run exec "$url" "INSERT INTO items VALUES (?, ?, ?, ?, ?)" int:3 "$(printf 'two\nlines')" null: null: null:
    expect "exec INSERT with a newline in text" 0 "1 row affected"
    run exec "$url" "INSERT INTO items(id, name) VALUES (?, ?)" int:4 '日本語'
    expect "exec INSERT of wide characters" 0 "1 row affected"

    run query "$url" "SELECT * FROM items ORDER BY id"
    expect "query: table" 0 ' id |     name     | price |  ok   |   data
----+--------------+-------+-------+----------
  1 | widget       |   9.5 | true  | \x00ff10
  2 | say "hi", ok |    24 | false |
  3 | two\nlines   |       |       |
  4 | 日本語       |       |       |
(4 rows)'
    run query "$url" "SELECT * FROM items ORDER BY id" --csv
    expect "query: CSV" 0 'id,name,price,ok,data
1,widget,9.5,true,\x00ff10
2,"say ""hi"", ok",24,false,
3,"two
lines",,,
4,日本語,,,'
    run query --json "$url" "SELECT * FROM items ORDER BY id"
    expect "query: JSON" 0 '[
  {"id": 1, "name": "widget", "price": 9.5, "ok": true, "data": "AP8Q"},
  {"id": 2, "name": "say \"hi\", ok", "price": 24, "ok": false, "data": null},
  {"id": 3, "name": "two\nlines", "price": null, "ok": null, "data": null},
  {"id": 4, "name": "日本語", "price": null, "ok": null, "data": null}
]'
    valid_json && ok "query: JSON parses" || not_ok "query: JSON parses"
    run query "$url" "SELECT id FROM items WHERE id > 100" --json
    expect "query: JSON, no rows" 0 '[]'
    run query "$url" "SELECT id FROM items WHERE id > 100"
    expect "query: table, no rows" 0 ' id
----
(0 rows)'
    run query "$url" "SELECT id FROM items WHERE id = 1"
    expect "query: table, one row" 0 ' id
----
  1
(1 row)'

    run query "$url" "SELECT char(1) || char(9) || '\\' || x'ff' AS s, x'' AS e, 1e300 * 1e300 AS inf, -0.5 AS f, 9223372036854775807 AS big" --json
    expect "query: JSON escapes, invalid UTF-8, empty blob, Infinity, int64" 0 '[
  {"s": "\u0001\t\\\ufffd", "e": "", "inf": "Infinity", "f": -0.5, "big": 9223372036854775807}
]'
    run query "$url" "SELECT 1 AS n, '' AS empty, NULL AS nul, 'NULL' AS word, 'a,b' AS comma" --csv
    expect "CSV: NULL empty, empty string quoted" 0 'n,empty,nul,word,comma
1,"",,NULL,"a,b"'
    run query "$url" "SELECT 1 AS n, '' AS empty, NULL AS nul, 'NULL' AS word" --csv --null=NULL
    expect "CSV --null: text equal to it is quoted" 0 'n,empty,nul,word
1,"",NULL,"NULL"'
    run query "$url" "SELECT NULL AS a, 'x' AS b" --null '(null)'
    expect "table --null" 0 '   a    | b
--------+---
 (null) | x
(1 row)'

    # Parameters bind with their types.
    run query "$url" "SELECT typeof(?) a, typeof(?) b, typeof(?) c, typeof(?) d, typeof(?) e, typeof(?) f, typeof(?) g" \
        int:-5 float:1.5 bool:yes null: text:int:7 blob:\\xDEAD plain --csv
    expect "params: int, float, bool, null, text, blob, untyped" 0 'a,b,c,d,e,f,g
integer,real,integer,null,text,blob,text'
    run query "$url" "SELECT ? AS i, ? AS f, ? AS t, ? AS u, ? AS n" int:-9223372036854775808 float:-2.5e-3 text:int:7 -5 "" --json
    expect "params: values" 0 '[
  {"i": -9223372036854775808, "f": -0.0025, "t": "int:7", "u": "-5", "n": ""}
]'
    run query "$url" "SELECT ? AS a, ? AS b" -- --json --csv
    expect "params after --" 0 '   a    |   b
--------+-------
 --json | --csv
(1 row)'
    run query "$url" "SELECT ?" int:12x
    expect_error "bad int param" 2 "^dbal: error: parameter 'int:12x' needs an integer"
    run query "$url" "SELECT ?" int:9223372036854775808
    expect_error "int param out of range" 2 "^dbal: error: parameter 'int:9223372036854775808' needs an integer"
    run query "$url" "SELECT ?" float:abc
    expect_error "bad float param" 2 "needs a number"
    run query "$url" "SELECT ?" bool:maybe
    expect_error "bad bool param" 2 "needs true or false"
    run query "$url" "SELECT ?" null:x
    expect_error "bad null param" 2 "needs nothing after it"
    run query "$url" "SELECT ?" blob:abc
    expect_error "bad blob param" 2 "needs an even number of hex digits"
    run query "$url" "SELECT ?, ?" int:1
    expect_error "too few params: DBAL_EMISUSE, exit 2" 2 '^dbal: error: DBAL_EMISUSE: '

    # exec counts.
    run exec "$url" "UPDATE items SET price = ? WHERE id <= ?" float:1 int:2
    expect "exec: rows affected" 0 "2 rows affected"
    run exec "$url" "DELETE FROM items WHERE id > ?" int:100
    expect "exec: nothing affected" 0 "0 rows affected"
    run exec "$url" "UPDATE items SET price = 2 WHERE id <= 2" --json
    expect "exec --json" 0 '{"rows_affected": 2}'
    run exec "$url" "UPDATE items SET price = 2 WHERE id = 1" --csv
    expect "exec --csv" 0 'rows_affected
1'

    # Errors: one line, code name and SQLSTATE, exit 1.
    run exec "$url" "INSERT INTO items(id, name) VALUES (?, ?)" int:1 again
    expect_error "unique violation" 1 '^dbal: error: DBAL_EUNIQUE \(23505\): UNIQUE constraint failed: items.id$'
    run exec "$url" "INSERT INTO items(id) VALUES (9)"
    expect_error "not-null violation" 1 '^dbal: error: DBAL_ENOTNULL \(23502\): '
    run query "$url" "SELEC 1"
    expect_error "syntax error" 1 '^dbal: error: DBAL_ESYNTAX \(42601\): near "SELEC": syntax error$'
    run query "$url" "SELECT * FROM nosuch"
    expect_error "undefined table" 1 '^dbal: error: DBAL_EUNDEFINED \(42P01\): '

    # The URL: from DATABASE_URL, or an argument that looks like one.
    DATABASE_URL=$url run query "SELECT count(*) AS n FROM items"
    expect "URL from DATABASE_URL" 0 ' n
---
 4
(1 row)'
    DATABASE_URL=nosuch://x run query "$url" "VALUES(1)"
    expect "an argument URL wins over DATABASE_URL; VALUES(1) is SQL" 0 ' column1
---------
       1
(1 row)'
    run query sqlite::memory: "SELECT 'x:y' AS v"
    expect "sqlite::memory: is a URL" 0 '  v
-----
 x:y
(1 row)'

    run ping "$url"
    expect_match "ping" 0 '^ok \(sqlite\): connected in [0-9.e+-]+ ms, round trip [0-9.e+-]+ ms$'
    run ping "$url" --json
    if [ "$RC" = 0 ] && valid_json && printf '%s\n' "$OUT" | grep -q '^{"status": "ok", "driver": "sqlite", "connect_ms": [0-9.]*, "round_trip_ms": [0-9.]*}$'; then
        ok "ping --json"
    else
        not_ok "ping --json"
    fi
    run ping "sqlite:///$tmp/no/such/dir/x.db"
    expect_error "ping: cannot open the file" 3 '^dbal: error: DBAL_ECONNECT'

    # The shell, fed a script.
    cat >"$tmp/script.sql" <<'EOF'
-- comments; and blank statements are skipped
CREATE TABLE log(id INTEGER PRIMARY KEY, msg TEXT, note TEXT);;
;
INSERT INTO log(msg) VALUES ('a;b'), ('it''s'), ("semi;colon") /* ; */;
SELECT id, msg FROM log; SELECT count(*) AS n
  FROM log;
BEGIN;
DELETE FROM log;
BEGIN;
INSERT INTO log(msg) VALUES ('inner');
ROLLBACK;
ROLLBACK;
CREATE TRIGGER log_note AFTER INSERT ON log BEGIN
  UPDATE log SET note = CASE WHEN new.msg = 'x' THEN 'is x' ELSE 'other' END WHERE id = new.id;
END;
INSERT INTO log(msg) VALUES ('x') RETURNING id, msg;
\timing on
\timing off
\?
SELECT id, msg, note FROM log WHERE id > 3
EOF
    run --stdin "$tmp/script.sql" shell "$url"
    local help
    help=$(printf '\\?\n' | "$dbal" shell "$url")
    expect "shell: a script" 0 "OK
3 rows affected
 id |    msg
----+------------
  1 | a;b
  2 | it's
  3 | semi;colon
(3 rows)
 n
---
 3
(1 row)
BEGIN
3 rows affected
SAVEPOINT
1 row affected
ROLLBACK
ROLLBACK
OK
 id | msg
----+-----
  4 | x
(1 row)
Timing is on.
Timing is off.
$help
 id | msg | note
----+-----+------
  4 | x   | is x
(1 row)"
    printf 'SELECT 1 AS one;\n\\timing\nSELECT 2 AS two;\n' >"$tmp/timing.sql"
    run --stdin "$tmp/timing.sql" shell "$url"
    expect_match "shell: \\timing prints the time" 0 '^Time: [0-9.]+ ms$'
    printf "SELECT 1 AS one;\nINSERT INTO log(id, msg) VALUES (1, 'dup');\nSELECT 'not reached';\n" >"$tmp/err.sql"
    run --stdin "$tmp/err.sql" shell "$url"
    if [ "$RC" = 1 ] && [ "$ERR" = "dbal: error: DBAL_EUNIQUE (23505): UNIQUE constraint failed: log.id" ] &&
        [ "$OUT" = " one
-----
   1
(1 row)" ]; then ok "shell: stops at the first error, exit 1"; else not_ok "shell: stops at the first error, exit 1"; fi
    printf 'SELECT 1;\n\\frob\nSELECT 2;\n' >"$tmp/meta.sql"
    run --stdin "$tmp/meta.sql" shell "$url"
    if [ "$RC" = 2 ] && printf '%s\n' "$ERR" | grep -q "^dbal: error: unknown command '\\\\frob'" &&
        ! printf '%s\n' "$OUT" | grep -q '^ 2$'; then ok "shell: unknown backslash command, exit 2"; else not_ok "shell: unknown backslash command, exit 2"; fi
    printf 'BEGIN IMMEDIATE;\n' >"$tmp/tx.sql"
    run --stdin "$tmp/tx.sql" shell "$url"
    expect_error "shell: a BEGIN dbal cannot track is refused" 2 "^dbal: error: 'BEGIN IMMEDIATE' is not a transaction statement"
    printf 'SELECT 1 AS a;\n\\q\nSELECT 2 AS b;\n' >"$tmp/q.sql"
    run --stdin "$tmp/q.sql" shell "$url"
    expect "shell: \\q" 0 ' a
---
 1
(1 row)'
    printf 'SELECT id FROM log WHERE id = 4;\n' >"$tmp/json.sql"
    run --stdin "$tmp/json.sql" shell --json "$url"
    expect "shell --json" 0 '[
  {"id": 4}
]'
    DATABASE_URL=$url run --stdin "$tmp/json.sql" shell
    expect "shell: URL from DATABASE_URL" 0 ' id
----
  4
(1 row)'
}

# ---- PostgreSQL ------------------------------------------------------------------------

# Dates, times, numerics, UUIDs and JSON through the typed prefixes, and
# their output in every format: the same on every driver ($1: the URL, $2:
# a table name, $3: a label).
types_cases() {
    local url=$1 tt=$2 l=$3
    run exec "$url" "CREATE TABLE $tt(id BIGINT PRIMARY KEY, ts TIMESTAMP, tz TIMESTAMP WITH TIME ZONE, d DATE, t TIME, n NUMERIC(10,2), u UUID, j JSON)"
    expect "$l: exec CREATE TABLE of dates, numerics, uuids, json" 0 "0 rows affected"
    run exec "$url" "INSERT INTO $tt VALUES (?, ?, ?, ?, ?, ?, ?, ?)" int:1 "ts:2024-02-29 12:00:00.5" \
        "tstz:2024-02-29T12:00:00-03:30" date:2024-02-29 time:23:59:59.999999 num:19.9 \
        uuid:A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11 'json:{"a": [1, 2]}'
    expect "$l: exec INSERT with ts:, tstz:, date:, time:, num:, uuid:, json:" 0 "1 row affected"
    run exec "$url" "INSERT INTO $tt VALUES (?, ?, ?, ?, ?, ?, ?, ?)" int:2 ts:infinity tstz:1970-01-01 \
        date:-infinity time:00:00 num:-0.5 null: json:42
    expect "$l: exec INSERT with infinities" 0 "1 row affected"
    run query "$url" "SELECT * FROM $tt ORDER BY id"
    expect "$l: query, table of dates, numerics, uuids, json" 0 ' id |             ts             |                tz                |     d      |        t        |   n   |                  u                   |       j
----+----------------------------+----------------------------------+------------+-----------------+-------+--------------------------------------+---------------
  1 | 2024-02-29 12:00:00.500000 | 2024-02-29 15:30:00.000000+00:00 | 2024-02-29 | 23:59:59.999999 | 19.90 | a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 | {"a": [1, 2]}
  2 | infinity                   | 1970-01-01 00:00:00.000000+00:00 | -infinity  | 00:00:00.000000 | -0.50 |                                      | 42
(2 rows)'
    run query "$url" "SELECT * FROM $tt ORDER BY id" --csv
    expect "$l: query, CSV of dates, numerics, uuids, json" 0 'id,ts,tz,d,t,n,u,j
1,2024-02-29 12:00:00.500000,2024-02-29 15:30:00.000000+00:00,2024-02-29,23:59:59.999999,19.90,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,"{""a"": [1, 2]}"
2,infinity,1970-01-01 00:00:00.000000+00:00,-infinity,00:00:00.000000,-0.50,,42'
    run query "$url" "SELECT * FROM $tt ORDER BY id" --json
    expect "$l: query, JSON of dates, numerics, uuids, json (embedded)" 0 '[
  {"id": 1, "ts": "2024-02-29 12:00:00.500000", "tz": "2024-02-29 15:30:00.000000+00:00", "d": "2024-02-29", "t": "23:59:59.999999", "n": "19.90", "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "j": {"a": [1, 2]}},
  {"id": 2, "ts": "infinity", "tz": "1970-01-01 00:00:00.000000+00:00", "d": "-infinity", "t": "00:00:00.000000", "n": "-0.50", "u": null, "j": 42}
]'
    valid_json && ok "$l: JSON of the types parses" || not_ok "$l: JSON of the types parses"
    run query "$url" "SELECT id FROM $tt WHERE tz > ? AND d < ?" "tstz:1970-01-01 01:00:00.000001+01:00" date:2024-03-01
    expect "$l: comparing with typed parameters" 0 ' id
----
  1
(1 row)'
    run query "$url" "SELECT ?" date:2024-02-30
    expect_error "$l: a date that does not exist" 2 "^dbal: error: parameter 'date:2024-02-30' needs a date"
    run query "$url" "SELECT ?" uuid:xyz
    expect_error "$l: a UUID that does not read" 2 "^dbal: error: parameter 'uuid:xyz' needs a UUID"
    run query "$url" "SELECT ?" num:1,5
    expect_error "$l: numeric text that is no number" 1 '^dbal: error: DBAL_EDATA \(22P02\): parameter 1 is not numeric text'
}

t=""
pg_cleanup() {
    "$dbal" exec "$DBAL_TEST_PG_URL" "DROP TABLE IF EXISTS $t" >/dev/null 2>&1
    "$dbal" exec "$DBAL_TEST_PG_URL" "DROP TABLE IF EXISTS ${t}_typed" >/dev/null 2>&1
    "$dbal" exec "$DBAL_TEST_PG_URL" "DROP FUNCTION IF EXISTS ${t}_f(int)" >/dev/null 2>&1
    rm -rf "$tmp"
}

pg_cases() {
    local url=$DBAL_TEST_PG_URL
    local pw
    pw=$(printf '%s' "$url" | sed -n 's|^[a-z]*://[^:/@]*:\([^@]*\)@.*|\1|p')
    [ -n "$pw" ] && secrets+=("$pw")
    t="cli_test_$$"
    trap pg_cleanup EXIT

    run ping "$url"
    expect_match "pg: ping" 0 '^ok \(postgresql\): connected in [0-9.e+-]+ ms, round trip [0-9.e+-]+ ms$'
    run exec "$url" "CREATE TABLE $t(id BIGINT PRIMARY KEY, name TEXT NOT NULL, price DOUBLE PRECISION, ok BOOLEAN, data BYTEA, amount NUMERIC(10,2))"
    expect "pg: exec CREATE TABLE" 0 "0 rows affected"
    run exec "$url" "INSERT INTO $t VALUES (?, ?, ?, ?, ?, ?)" int:1 widget float:9.5 bool:true blob:00ff10 12.50
    expect "pg: exec INSERT, typed params" 0 "1 row affected"
    run exec "$url" "INSERT INTO $t VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)" \
        int:2 'say "hi", ok' float:24 bool:false null: null: int:3 "$(printf 'two\nlines')" null: null: null: text:0.5
    expect "pg: exec INSERT of two rows" 0 "2 rows affected"
    run query "$url" "SELECT * FROM $t ORDER BY id"
    expect "pg: query, table" 0 ' id |     name     | price |  ok   |   data   | amount
----+--------------+-------+-------+----------+--------
  1 | widget       |   9.5 | true  | \x00ff10 |  12.50
  2 | say "hi", ok |    24 | false |          |
  3 | two\nlines   |       |       |          |   0.50
(3 rows)'
    run query "$url" "SELECT * FROM $t ORDER BY id" --csv
    expect "pg: query, CSV" 0 'id,name,price,ok,data,amount
1,widget,9.5,true,\x00ff10,12.50
2,"say ""hi"", ok",24,false,,
3,"two
lines",,,,0.50'
    run query "$url" "SELECT * FROM $t ORDER BY id" --json
    expect "pg: query, JSON (numeric stays a string)" 0 '[
  {"id": 1, "name": "widget", "price": 9.5, "ok": true, "data": "AP8Q", "amount": "12.50"},
  {"id": 2, "name": "say \"hi\", ok", "price": 24, "ok": false, "data": null, "amount": null},
  {"id": 3, "name": "two\nlines", "price": null, "ok": null, "data": null, "amount": "0.50"}
]'
    run query "$url" "SELECT ?::bigint + 1 AS n, ? AS t, ?::boolean AS b, ?::float8 AS f, ?::text IS NULL AS isnull, 'NaN'::float8 AS nan" \
        int:41 text:int:7 bool:no float:1e300 null: --json
    expect "pg: params and values" 0 '[
  {"n": 42, "t": "int:7", "b": false, "f": 1e+300, "isnull": true, "nan": "NaN"}
]'
    run exec "$url" "UPDATE $t SET price = ? WHERE id >= ?" float:1 int:2
    expect "pg: exec rows affected" 0 "2 rows affected"
    run exec "$url" "INSERT INTO $t(id, name) VALUES (?, ?)" int:1 dup
    expect_error "pg: unique violation" 1 "^dbal: error: DBAL_EUNIQUE \\(23505\\): duplicate key value violates unique constraint \"${t}_pkey\""
    run exec "$url" "INSERT INTO $t(id, name) VALUES (?, ?)" int:9 null:
    expect_error "pg: not-null violation" 1 '^dbal: error: DBAL_ENOTNULL \(23502\): '
    types_cases "$url" "${t}_typed" pg
    run query "$url" "SELEC 1"
    expect_error "pg: syntax error" 1 '^dbal: error: DBAL_ESYNTAX \(42601\): syntax error at or near "SELEC"'
    run query "$url" "SELECT ?::int" 'abc'
    expect_error "pg: bad input" 1 '^dbal: error: DBAL_EDATA \(22P02\): '
    run query "$url?statement_timeout=100" "SELECT pg_sleep(2)"
    expect_error "pg: statement timeout" 1 '^dbal: error: DBAL_ETIMEOUT \(57014\): '

    # The wrong password: refused, and neither password is printed.
    local bad
    bad=$(printf '%s' "$url" | sed "s|^\([a-z]*://[^:/@]*\):[^@]*@|\1:Wr0ng-s3cret@|")
    secrets+=("Wr0ng-s3cret")
    if [ "$bad" != "$url" ]; then
        run ping "$bad"
        expect_error "pg: wrong password, exit 3, not printed" 3 '^dbal: error: DBAL_ECONNECT \(28P01\): .*password authentication failed'
    fi

    cat >"$tmp/pg.sql" <<EOF
CREATE FUNCTION ${t}_f(x int) RETURNS int LANGUAGE plpgsql AS \$body\$
BEGIN
  RETURN x + 1; -- a ; inside a dollar-quoted body
END;
\$body\$;
SELECT ${t}_f(1) AS f, E'it\\'s;' AS s, \$\$a;b\$\$ AS d;
BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY;
SELECT count(*) AS n FROM $t;
COMMIT;
BEGIN;
DELETE FROM $t WHERE id = 3 RETURNING id;
ROLLBACK;
INSERT INTO $t(id, name) VALUES (10, 'ten') RETURNING id, name;
DROP FUNCTION ${t}_f(int)
EOF
    run --stdin "$tmp/pg.sql" shell "$url"
    expect "pg: shell script" 0 'OK
 f |   s   |  d
---+-------+-----
 2 | it'"'"'s; | a;b
(1 row)
BEGIN
 n
---
 3
(1 row)
COMMIT
BEGIN
 id
----
  3
(1 row)
ROLLBACK
 id | name
----+------
 10 | ten
(1 row)
OK'
    printf "BEGIN;\nINSERT INTO $t(id, name) VALUES (11, 'eleven');\nINSERT INTO $t(id, name) VALUES (1, 'dup');\nCOMMIT;\n" >"$tmp/pgerr.sql"
    run --stdin "$tmp/pgerr.sql" shell "$url"
    if [ "$RC" = 1 ] && printf '%s\n' "$ERR" | grep -q '^dbal: error: DBAL_EUNIQUE (23505)'; then ok "pg: shell stops at the error"; else not_ok "pg: shell stops at the error"; fi
    run query "$url" "SELECT count(*) AS n FROM $t WHERE id = 11"
    expect "pg: the failed script's transaction was rolled back" 0 ' n
---
 0
(1 row)'
}

case "$mode" in
    sqlite)
        common_cases
        sqlite_cases
        ;;
    postgresql)
        if [ -z "${DBAL_TEST_PG_URL:-}" ]; then
            pg_skip_or_fail "$(basename "$0" .sh)" "DBAL_TEST_PG_URL is not set"
        fi
        pg_cases
        ;;
    *)
        echo "unknown mode $mode"
        exit 2
        ;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
