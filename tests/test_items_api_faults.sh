#!/usr/bin/env bash
# The items_api binary, unchanged, started with faults in its URL (the
# testing driver, README "Testing your application"): a program started by
# a shell test meets the database's errors on the statements the URL names.
#
#   tests/test_items_api_faults.sh SERVICE
#
# DATABASE_URL=sqlite+testing:///<tmp>/items.db?fault=...: the migrations
# run through the testing driver at startup (the .sql files of SQLite,
# picked by the URL's scheme); then a POST meets an injected unique
# violation (409), a DELETE a lost connection (503, the service stays up,
# the next request is served), a GET /items a timeout (503).
set -uo pipefail
SERVICE=$(realpath -- "$1")
command -v curl >/dev/null || { echo "curl is required"; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/items_api_faults.XXXXXX")
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
passed=0
failed=0
check() { # check NAME WANT GOT
    if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok - $1"; else failed=$((failed + 1)); echo "not ok - $1: expected $2, got $3"; fi
}

faults="fault=unique:items_name_key@statement~INSERT%20INTO%20items"
faults+="&fault=lost@statement~DELETE%20FROM%20items"
faults+="&fault=timeout@statement*always~LIMIT"
DATABASE_URL="sqlite+testing://$WORK/items.db?$faults" PORT=0 "$SERVICE" >"$WORK/out" 2>"$WORK/log" &
PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/out")
[ -n "$port" ] || { cat "$WORK/out" "$WORK/log"; echo "the service did not start"; exit 1; }
grep -q "database: testing" "$WORK/out"; check "the service runs on the testing driver" 0 $?
grep -q "migrated: applied 1 create_items" "$WORK/log"; check "the migrations ran through it" 0 $?

url="http://127.0.0.1:$port"
status() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
check "POST meets the injected unique violation: 409" 409 "$(status -X POST "$url/items" -d '{"name": "widget", "price": 1}')"
grep -q "an item named 'widget' already exists" "$WORK/body"; check "... naming the item" 0 $?
check "the fault fired once: the next POST is 201" 201 "$(status -X POST "$url/items" -d '{"name": "widget", "price": 1}')"
check "DELETE meets a lost connection: 503" 503 "$(status -X DELETE "$url/items/1")"
grep -q DBAL_ECONNLOST "$WORK/body"; check "... DBAL_ECONNLOST" 0 $?
check "the item is still there" 200 "$(status "$url/items/1")"
check "the next DELETE is served: 204" 204 "$(status -X DELETE "$url/items/1")"
check "every list times out: 503" 503 "$(status "$url/items")"
check "... every time" 503 "$(status "$url/items")"
check "health is 200" 200 "$(status "$url/health")"
kill -TERM "$PID"; wait "$PID"; rc=$?; PID=""
check "a clean stop" 0 "$rc"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
