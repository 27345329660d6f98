#!/usr/bin/env bash
# End-to-end test of the items_api example service over HTTP.
#
#   tests/test_items_api.sh SERVICE CLIENT [sqlite|postgresql|all]
#
# SERVICE is the built examples/items_api/items_api, CLIENT the built
# tests/items_api_client (the concurrent clients). Each database run starts
# the service on a free port (PORT=0) and checks every route's status codes
# and JSON bodies, 200 simultaneous creations, the 413 limit, that no response
# or log line holds the database password, and a clean SIGTERM shutdown.
#
#   sqlite      a fresh SQLite file in a temporary directory (plus the
#               embedded default URL and startup failures)
#   postgresql  $DBAL_TEST_PG_URL; also a server restart under load (every
#               201 must be readable afterwards, every other answer a 503)
#               and a stop/start (503 while down, 200 after, the service never
#               restarted). Needs the DBAL_TEST_PG_* variables of
#               tests/pg_cluster.sh for the restart. Exit 77 (skipped) when
#               DBAL_TEST_PG_URL is unset, a failure if DBAL_TEST_REQUIRE_PG=1.
#   all         both (the default); PostgreSQL only when the URL is set.
#
# ITEMS_API_WRAPPER="valgrind --leak-check=full --error-exitcode=99" runs the
# service under a wrapper (its exit status is checked at shutdown).
# Needs curl and python3 (for JSON comparisons; jq is not used).
set -uo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 SERVICE CLIENT [sqlite|postgresql|all]" >&2
    exit 2
fi
SERVICE=$(realpath -- "$1")
CLIENT=$(realpath -- "$2")
WHICH=${3:-all}
for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/items_api_test.XXXXXX")
SERVICE_PID=""
PG_STOPPED=0
PASSED=0
FAILED=0

# ------------------------------------------------------------ PostgreSQL control

pg_ctl_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u "$DBAL_TEST_PG_CTL_USER" -- "$DBAL_TEST_PG_BINDIR/pg_ctl" "$@")
    else
        (cd / && "$DBAL_TEST_PG_BINDIR/pg_ctl" "$@")
    fi
}
pg_restart() { pg_ctl_as_owner restart -m fast -w -D "$DBAL_TEST_PG_DATADIR" -l "$DBAL_TEST_PG_LOGFILE" >/dev/null; }
pg_stop() { PG_STOPPED=1; pg_ctl_as_owner stop -m fast -w -D "$DBAL_TEST_PG_DATADIR" >/dev/null; }
pg_start() { pg_ctl_as_owner start -w -D "$DBAL_TEST_PG_DATADIR" -l "$DBAL_TEST_PG_LOGFILE" >/dev/null && PG_STOPPED=0; }
pg_controllable() {
    [ -n "${DBAL_TEST_PG_BINDIR:-}" ] && [ -n "${DBAL_TEST_PG_DATADIR:-}" ] &&
        [ -n "${DBAL_TEST_PG_LOGFILE:-}" ] && [ -x "$DBAL_TEST_PG_BINDIR/pg_ctl" ] &&
        { [ "$(id -u)" -ne 0 ] || [ -n "${DBAL_TEST_PG_CTL_USER:-}" ]; }
}

# ------------------------------------------------------------ cleanup

kill_service() {
    [ -n "$SERVICE_PID" ] || return 0
    if kill -0 "$SERVICE_PID" 2>/dev/null; then
        kill -TERM "$SERVICE_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SERVICE_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVICE_PID" 2>/dev/null
    fi
    wait "$SERVICE_PID" 2>/dev/null
    SERVICE_PID=""
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    kill_service
    if [ "$FAILED" -gt 0 ] && [ -n "${LOG_ERR:-}" ] && [ -f "$LOG_ERR" ]; then
        echo "--- the last lines of the service's log ($LOG_ERR):"
        tail -n 40 "$LOG_ERR"
    fi
    if [ "$PG_STOPPED" -eq 1 ]; then
        pg_start || echo "$0: could not start PostgreSQL again" >&2
    fi
    rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "$0: interrupted" >&2; exit 130' INT
trap 'echo "$0: terminated" >&2; exit 143' TERM

# ------------------------------------------------------------ checks

ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL - $*"
    echo "       got status $STATUS, body: $(head -c 600 "$WORK/body" 2>/dev/null)"
}

# JSON checks on the last response body, in Python (no hand-written parsing).
cat > "$WORK/jcheck.py" <<'EOF'
import json, sys
path, mode, arg = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path, encoding="utf-8", errors="replace").read()
try:
    j = json.loads(text) if text else None
except ValueError:
    j = "<not JSON: %r>" % text[:200]
if mode == "eq":
    sys.exit(0 if j == json.loads(arg) else 1)
if mode == "py":
    sys.exit(0 if eval(arg, {"j": j, "json": json}) else 1)
if mode == "get":
    print(eval(arg, {"j": j}))
EOF
jcheck() { python3 "$WORK/jcheck.py" "$WORK/body" "$@"; }
jget() { python3 "$WORK/jcheck.py" "$WORK/body" get "$1"; }

# req METHOD PATH [curl args...]: sets STATUS, the body in $WORK/body.
req() {
    local method=$1 path=$2
    shift 2
    STATUS=$(curl -sS --max-time 60 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' \
                  -X "$method" -H 'Content-Type: application/json' "$@" "$BASE$path" 2>"$WORK/curl.err") ||
        STATUS="000 ($(cat "$WORK/curl.err"))"
    cat "$WORK/body" >> "$WORK/all_bodies" 2>/dev/null
}
post() { req POST "$1" --data-binary "$2"; }
put() { req PUT "$1" --data-binary "$2"; }

# expect STATUS 'exact JSON body' description
expect() {
    if [ "$STATUS" = "$1" ] && jcheck eq "$2"; then ok "$3"; else fail "$3 (want $1 $2)"; fi
}
# expect_py STATUS 'python expression over the body j' description
expect_py() {
    if [ "$STATUS" = "$1" ] && jcheck py "$2"; then ok "$3"; else fail "$3 (want $1 and $2)"; fi
}
# check 'condition' description: a shell condition, after a request or not
check() {
    if eval "$1"; then ok "$2"; else fail "$2 ($1)"; fi
}
# The error body of a request refused before the database: {"error": msg, "sqlstate": null}.
client_error() { printf '{"error": "%s", "sqlstate": null}' "$1"; }

# ------------------------------------------------------------ the service

# start_service NAME [env(1) arguments...]: runs the service with PORT=0 and
# the given environment, waits for its "listening on" line, sets BASE and PORT.
start_service() {
    local name=$1
    shift
    LOG_OUT="$WORK/$name.out"
    LOG_ERR="$WORK/$name.err"
    : >"$LOG_OUT"
    # shellcheck disable=SC2086
    env "$@" HOST=127.0.0.1 PORT=0 ${ITEMS_API_WRAPPER:-} "$SERVICE" >"$LOG_OUT" 2>"$LOG_ERR" &
    SERVICE_PID=$!
    for _ in $(seq 300); do
        PORT=$(sed -n 's|^items_api: listening on http://[^ ]*:\([0-9]*\) .*|\1|p' "$LOG_OUT")
        [ -n "$PORT" ] && break
        kill -0 "$SERVICE_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$PORT" ]; then
        echo "the service did not start; its log:" >&2
        cat "$LOG_ERR" >&2
        return 1
    fi
    BASE="http://127.0.0.1:$PORT"
}

# Stops the service with SIGTERM and checks that it exits cleanly.
stop_service_cleanly() {
    local rc=0
    kill -TERM "$SERVICE_PID"
    for _ in $(seq 300); do kill -0 "$SERVICE_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVICE_PID" 2>/dev/null; then
        fail "SIGTERM: still running after 30 s"
        kill_service
        return
    fi
    wait "$SERVICE_PID" || rc=$?
    SERVICE_PID=""
    check "[ $rc -eq 0 ] && grep -q 'items_api: stopped\$' '$LOG_ERR'" \
        "SIGTERM: daemon stopped, engine closed, exit status 0"
}

# ------------------------------------------------------------ route by route

# Sets ID_W (widget) and ID_G (gadget).
test_create() {
    local p=$1
    post /items "{\"name\": \"${p}widget\", \"price\": 9.5, \"tags\": [\"a\", \"b\"]}"
    ID_W=$(jget 'j["id"] if isinstance(j, dict) and isinstance(j.get("id"), int) else 0')
    expect 201 "{\"id\": $ID_W, \"name\": \"${p}widget\", \"price\": 9.5, \"tags\": [\"a\", \"b\"]}" \
        "POST /items: 201 with the item and its id"
    check "[ '$ID_W' -gt 0 ]" "POST /items: the id is a positive integer"

    post /items "{\"name\": \"${p}gadget\", \"price\": 24}"
    ID_G=$(jget 'j["id"] if isinstance(j, dict) and isinstance(j.get("id"), int) else 0')
    expect 201 "{\"id\": $ID_G, \"name\": \"${p}gadget\", \"price\": 24.0, \"tags\": []}" \
        "POST /items without tags: tags []"
    check "[ '$ID_G' -gt '$ID_W' ]" "POST /items: ids increase"

    post /items "{\"name\": \"${p}widget\", \"price\": 1}"
    expect 409 "{\"error\": \"an item named '${p}widget' already exists\", \"sqlstate\": \"23505\", \"code\": \"DBAL_EUNIQUE\"}" \
        "POST /items with an existing name: 409 from DBAL_EUNIQUE"
}

test_create_invalid() {
    local p=$1
    local -a cases=(
        "{\"price\": 1}|field 'name' is required|missing name"
        "{\"name\": \"${p}x\"}|field 'price' is required|missing price"
        "{\"name\": 7, \"price\": 1}|field 'name' must be a string|name of the wrong type"
        "{\"name\": \"\", \"price\": 1}|field 'name' must not be empty|empty name"
        "{\"name\": \"${p}x\", \"price\": \"1\"}|field 'price' must be a number|price as a string"
        "{\"name\": \"${p}x\", \"price\": true}|field 'price' must be a number|price as a bool"
        "{\"name\": \"${p}x\", \"price\": -0.01}|field 'price' must be >= 0|negative price"
        "{\"name\": \"${p}x\", \"price\": 1, \"tags\": \"a\"}|field 'tags' must be an array of strings|tags not an array"
        "{\"name\": \"${p}x\", \"price\": 1, \"tags\": [\"a\", 2]}|field 'tags[1]' must be a string|a tag not a string"
        "[1, 2]|the body must be a JSON object|an array body"
    )
    local c body msg what
    for c in "${cases[@]}"; do
        IFS='|' read -r body msg what <<<"$c"
        post /items "$body"
        expect 422 "$(client_error "$msg")" "POST /items, $what: 422"
    done
    post /items '{"name": "x", "price": 1'
    expect_py 422 'j["error"].startswith("malformed JSON body: ") and j["sqlstate"] is None and len(j) == 2' \
        "POST /items, malformed JSON: 422 with the parser's message"
    post /items ''
    expect_py 422 'j["error"].startswith("malformed JSON body: ")' "POST /items, empty body: 422"
    post /items '{"name": "x", "name": "y", "price": 1}'
    expect_py 422 '"duplicate object key" in j["error"]' "POST /items, a key twice: 422"
    req GET /items --get --data-urlencode "q=${p}x"
    expect_py 200 'j["items"] == []' "no invalid item was stored"
}

test_get() {
    local p=$1
    req GET "/items/$ID_W"
    expect 200 "{\"id\": $ID_W, \"name\": \"${p}widget\", \"price\": 9.5, \"tags\": [\"a\", \"b\"]}" \
        "GET /items/{id}: 200 with the item"
    req GET /items/987654321
    expect 404 "$(client_error "item 987654321 not found")" "GET /items/{id} absent: 404"
    local bad
    for bad in abc 1.5 12abc 99999999999999999999 0x10; do
        req GET "/items/$bad"
        expect 422 "$(client_error "the item id must be a 64-bit integer")" "GET /items/$bad: 422"
    done
    req GET /items/
    expect 404 "$(client_error "no such route")" "GET /items/ (no id): 404"
}

# Items whose names hold LIKE's wildcards, for the q filter.
test_list() {
    local p=$1 id
    local -a names=("${p}50% off" "${p}500 off" "${p}under_score" "${p}underXscore" "${p}bang!x")
    local n
    for n in "${names[@]}"; do
        post /items "{\"name\": \"$n\", \"price\": 1.25}"
        [ "$STATUS" = 201 ] || fail "setup: POST $n"
    done

    req GET /items --get --data-urlencode "q=${p}"
    expect_py 200 "[i['name'] for i in j['items']] == ['${p}widget', '${p}gadget', '${p}50% off', '${p}500 off', '${p}under_score', '${p}underXscore', '${p}bang!x'] and j['limit'] == 50 and j['offset'] == 0" \
        "GET /items?q=prefix: every match, ordered by id, default limit 50"
    req GET /items --get --data-urlencode "q=${p}" --data-urlencode limit=2 --data-urlencode offset=1
    expect_py 200 "[i['name'] for i in j['items']] == ['${p}gadget', '${p}50% off'] and j['limit'] == 2 and j['offset'] == 1" \
        "GET /items?limit=2&offset=1: the second page"
    req GET /items --get --data-urlencode "q=${p}" --data-urlencode offset=100
    expect_py 200 "j['items'] == []" "GET /items past the end: []"
    req GET /items --get --data-urlencode "q=${p}gadget"
    expect 200 "{\"items\": [{\"id\": $ID_G, \"name\": \"${p}gadget\", \"price\": 24.0, \"tags\": []}], \"limit\": 50, \"offset\": 0}" \
        "GET /items?q=: the exact page body"
    req GET /items --get --data-urlencode "q=${p}50%"
    expect_py 200 "[i['name'] for i in j['items']] == ['${p}50% off']" "q with % matches a literal % (escaped)"
    req GET /items --get --data-urlencode "q=${p}under_score"
    expect_py 200 "[i['name'] for i in j['items']] == ['${p}under_score']" "q with _ matches a literal _ (escaped)"
    req GET /items --get --data-urlencode "q=${p}bang!x"
    expect_py 200 "[i['name'] for i in j['items']] == ['${p}bang!x']" "q with the escape character itself"
    req GET /items --get --data-urlencode "q=${p^^}WIDGET"
    expect_py 200 "[i['name'] for i in j['items']] == ['${p}widget']" "q is case-insensitive (ASCII) on every database"
    req GET /items --get --data-urlencode "q=' OR 1=1 --"
    expect_py 200 "j['items'] == []" "q is a bound parameter (no SQL injection)"
    req GET "/items?q=%FF"
    expect 422 "$(client_error "query argument 'q' must be UTF-8 text")" "GET /items?q=(not UTF-8): 422 on every database"
    req GET "/items?limit=3"
    expect_py 200 "len(j['items']) <= 3 and j['limit'] == 3" "GET /items without q: a page of everything"
    local bad
    for bad in "limit=0" "limit=1001" "limit=abc" "limit=" "offset=-1" "offset=x"; do
        req GET "/items?$bad"
        expect_py 422 "j['sqlstate'] is None and j['error'].startswith(\"query argument '${bad%%=*}' must be an integer\")" \
            "GET /items?$bad: 422"
    done
}

test_update() {
    local p=$1
    put "/items/$ID_G" "{\"name\": \"${p}gizmo\", \"price\": 0.1, \"tags\": [\"new\"]}"
    expect 200 "{\"id\": $ID_G, \"name\": \"${p}gizmo\", \"price\": 0.1, \"tags\": [\"new\"]}" \
        "PUT /items/{id}: 200 with the new item"
    req GET "/items/$ID_G"
    expect 200 "{\"id\": $ID_G, \"name\": \"${p}gizmo\", \"price\": 0.1, \"tags\": [\"new\"]}" "PUT was stored"
    put "/items/$ID_G" "{\"name\": \"${p}widget\", \"price\": 3}"
    expect 409 "{\"error\": \"an item named '${p}widget' already exists\", \"sqlstate\": \"23505\", \"code\": \"DBAL_EUNIQUE\"}" \
        "PUT /items/{id} to an existing name: 409"
    req GET "/items/$ID_G"
    expect_py 200 "j['name'] == '${p}gizmo' and j['price'] == 0.1" "the 409 changed nothing (rolled back)"
    put /items/987654321 "{\"name\": \"${p}nobody\", \"price\": 3}"
    expect 404 "$(client_error "item 987654321 not found")" "PUT /items/{id} absent: 404"
    put "/items/$ID_G" "{\"name\": \"${p}gizmo\", \"price\": -3}"
    expect 422 "$(client_error "field 'price' must be >= 0")" "PUT /items/{id} with a negative price: 422"
    put "/items/$ID_G" '{"name": '
    expect_py 422 'j["error"].startswith("malformed JSON body: ")' "PUT /items/{id} malformed JSON: 422"
    put /items/abc "{\"name\": \"${p}x\", \"price\": 3}"
    expect 422 "$(client_error "the item id must be a 64-bit integer")" "PUT /items/abc: 422"
}

test_delete() {
    local p=$1
    post /items "{\"name\": \"${p}doomed\", \"price\": 2}"
    local id
    id=$(jget 'j.get("id", 0)')
    req DELETE "/items/$id"
    check "[ '$STATUS' = 204 ] && [ ! -s '$WORK/body' ]" "DELETE /items/{id}: 204 with no body"
    req DELETE "/items/$id"
    expect 404 "$(client_error "item $id not found")" "DELETE again: 404"
    req GET "/items/$id"
    expect 404 "$(client_error "item $id not found")" "GET after DELETE: 404"
    req DELETE /items/abc
    expect 422 "$(client_error "the item id must be a 64-bit integer")" "DELETE /items/abc: 422"
}

test_bulk() {
    local p=$1
    post /items/bulk "[{\"name\": \"${p}b1\", \"price\": 1}, {\"name\": \"${p}b2\", \"price\": 2, \"tags\": [\"x\"]}, {\"name\": \"${p}b3\", \"price\": 3}]"
    expect_py 201 'list(j) == ["ids"] and len(j["ids"]) == 3 and all(isinstance(i, int) for i in j["ids"]) and j["ids"] == sorted(set(j["ids"]))' \
        "POST /items/bulk: 201 with all ids, in order"
    local -a ids
    read -r -a ids <<<"$(jget '" ".join(str(i) for i in j["ids"]) if isinstance(j, dict) else ""')"
    req GET "/items/${ids[1]:-0}"
    expect 200 "{\"id\": ${ids[1]:-0}, \"name\": \"${p}b2\", \"price\": 2.0, \"tags\": [\"x\"]}" "bulk: the second item is stored under its id"

    post /items/bulk "[{\"name\": \"${p}c1\", \"price\": 1}, {\"name\": \"${p}c2\", \"price\": 2}, {\"name\": \"${p}b2\", \"price\": 2}, {\"name\": \"${p}c4\", \"price\": 4}]"
    expect 409 "{\"error\": \"item 2: an item named '${p}b2' already exists; nothing was inserted\", \"sqlstate\": \"23505\", \"code\": \"DBAL_EUNIQUE\", \"index\": 2, \"name\": \"${p}b2\"}" \
        "POST /items/bulk with a stored name at index 2: 409 naming it"
    req GET /items --get --data-urlencode "q=${p}c"
    expect_py 200 'j["items"] == []' "bulk 409: nothing was inserted (all or nothing)"

    post /items/bulk "[{\"name\": \"${p}d1\", \"price\": 1}, {\"name\": \"${p}d2\", \"price\": 2}, {\"name\": \"${p}d1\", \"price\": 3}]"
    expect_py 409 "j['index'] == 2 and j['name'] == '${p}d1' and j['sqlstate'] == '23505'" \
        "POST /items/bulk with a name twice in the batch: 409, index 2"
    req GET /items --get --data-urlencode "q=${p}d"
    expect_py 200 'j["items"] == []' "bulk with an inner duplicate: nothing was inserted"

    post /items/bulk "[{\"name\": \"${p}e1\", \"price\": 1}, {\"name\": \"${p}e2\", \"price\": -1}]"
    expect 422 "{\"error\": \"item 1: field 'price' must be >= 0\", \"sqlstate\": null, \"index\": 1}" \
        "POST /items/bulk with an invalid item: 422 naming it"
    post /items/bulk "{\"name\": \"${p}e1\", \"price\": 1}"
    expect 422 "$(client_error "the body must be a JSON array of items")" "POST /items/bulk with an object: 422"
    post /items/bulk '[{"name": "x", "price": 1},'
    expect_py 422 'j["error"].startswith("malformed JSON body: ")' "POST /items/bulk malformed JSON: 422"
    post /items/bulk '[]'
    expect 201 '{"ids": []}' "POST /items/bulk with []: 201, no ids"

    # 120 items: the ids come back through several lookups of 50 names.
    python3 -c 'import json, sys; print(json.dumps([{"name": "%sm%03d" % (sys.argv[1], k), "price": k} for k in range(120)]))' \
        "$p" >"$WORK/bulk120.json"
    req POST /items/bulk --data-binary "@$WORK/bulk120.json"
    cp "$WORK/body" "$WORK/bulk120.ids"
    req GET /items --get --data-urlencode "q=${p}m" --data-urlencode limit=1000
    expect_py 200 "[(i['id'], i['name']) for i in j['items']] == list(zip(json.load(open('$WORK/bulk120.ids'))['ids'], ['${p}m%03d' % k for k in range(120)]))" \
        "POST /items/bulk with 120 items: 201, each id is its item's"
}

test_health_and_routes() {
    local driver=$1
    req GET /health
    expect 200 "{\"status\": \"ok\", \"database\": \"$driver\"}" "GET /health: 200"
    req PATCH /items/1
    check "[ '$STATUS' = 405 ] && grep -qi '^Allow: GET, PUT, DELETE' '$WORK/headers'" \
        "PATCH /items/{id}: 405 with Allow"
    req DELETE /items
    check "[ '$STATUS' = 405 ] && grep -qi '^Allow: GET, POST' '$WORK/headers'" "DELETE /items: 405 with Allow"
    req GET /items/bulk
    check "[ '$STATUS' = 405 ] && grep -qi '^Allow: POST' '$WORK/headers'" "GET /items/bulk: 405 (not an id)"
    req GET /nothing/here
    expect 404 "$(client_error "no such route")" "unknown route: 404"
}

test_body_limit() {
    head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$WORK/big.json"
    req POST /items --data-binary "@$WORK/big.json"
    expect 413 "$(client_error "request body larger than 1048576 bytes")" "POST over 1 MiB (Content-Length): 413"
    req POST /items -H 'Transfer-Encoding: chunked' --data-binary "@$WORK/big.json"
    expect 413 "$(client_error "request body larger than 1048576 bytes")" "POST over 1 MiB (chunked): 413"
    req GET /health
    check "[ '$STATUS' = 200 ]" "the service still answers after 413s"
}

# 200 clients connect, then all POST at once.
test_concurrent_creates() {
    local p=$1 n=200
    "$CLIENT" burst "$PORT" "$n" "${p}burst" >"$WORK/burst.txt" 2>"$WORK/burst.err"
    local created
    created=$(grep -c '^201 [1-9][0-9]* ' "$WORK/burst.txt")
    check "[ '$created' -eq $n ]" "$n concurrent POST /items: all $n answered 201 ($(cat "$WORK/burst.err"))"
    check "[ \"\$(cut -d' ' -f2 '$WORK/burst.txt' | sort -u | wc -l)\" -eq $n ]" "$n concurrent creations: $n distinct ids"
    req GET /items --get --data-urlencode "q=${p}burst-" --data-urlencode limit=1000
    expect_py 200 "len(j['items']) == $n and sorted(i['name'] for i in j['items']) == sorted('${p}burst-%d' % k for k in range($n))" \
        "$n concurrent creations: exactly $n rows afterwards"
}

# The password of a URL ("" when none).
url_password() {
    python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).password or "")' "$1"
}

check_no_password() {
    local pw=$1
    [ -n "$pw" ] || return 0
    check "! grep -qF -- '$pw' '$WORK/all_bodies' '$LOG_OUT' '$LOG_ERR'" \
        "the database password appears in no response and no log line"
}

# Everything that needs no fault: on any database.
run_routes() {
    local driver=$1 url=$2 p=$3
    start_service "$driver" DATABASE_URL="$url" || { fail "start the service on $driver"; return 1; }
    echo "# $driver: service pid $SERVICE_PID on port $PORT"
    test_health_and_routes "$driver"
    test_create "$p"
    test_create_invalid "$p"
    test_get "$p"
    test_list "$p"
    test_update "$p"
    test_delete "$p"
    test_bulk "$p"
    test_body_limit
    test_concurrent_creates "$p"
}

# ------------------------------------------------------------ SQLite

test_startup_failures() {
    local rc=0
    env PORT=abc "$SERVICE" >/dev/null 2>"$WORK/bad.err" || rc=$?
    check "[ $rc -eq 2 ] && grep -q 'PORT must be a number' '$WORK/bad.err'" "PORT=abc: exit 2 with a message"
    rc=0
    env PORT=0 DATABASE_URL='postgresql://u:s3cr3t-pw@127.0.0.1:1/db?no_such_option=1' "$SERVICE" \
        >/dev/null 2>"$WORK/bad.err" || rc=$?
    check "[ $rc -eq 1 ] && grep -q 'cannot open the database' '$WORK/bad.err' && ! grep -q s3cr3t '$WORK/bad.err'" \
        "a bad DATABASE_URL: exit 1, message without the password"
    rc=0
    env PORT=0 DATABASE_URL="sqlite://$WORK/no/such/dir/x.db" "$SERVICE" >/dev/null 2>"$WORK/bad.err" || rc=$?
    check "[ $rc -eq 1 ] && grep -q 'cannot migrate the database' '$WORK/bad.err'" \
        "an unopenable database at startup: exit 1 with a message"
    rc=0
    env PORT=0 DATABASE_URL="sqlite://$WORK/nomig.db" MIGRATIONS_DIR="$WORK/no-migrations" "$SERVICE" \
        >/dev/null 2>"$WORK/bad.err" || rc=$?
    check "[ $rc -eq 1 ] && grep -q 'cannot migrate the database (sqlite): cannot read the migration directory $WORK/no-migrations' '$WORK/bad.err'" \
        "no migrations directory at startup: exit 1 with a message"
    # A table called items of another shape: refused at startup.
    python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("CREATE TABLE items(x INTEGER)")' "$WORK/other.db"
    rc=0
    env PORT=0 DATABASE_URL="sqlite://$WORK/other.db" "$SERVICE" >/dev/null 2>"$WORK/bad.err" || rc=$?
    check "[ $rc -eq 1 ] && grep -q 'the items table is not the service' '$WORK/bad.err'" \
        "a foreign items table at startup: exit 1 with a message"
}

# The migrations ran at startup, through dbal_migrate_up: logged, recorded
# once, and not again at the next start.
test_migrated() {
    local db=$1
    check "grep -q 'migrated: applied 1 create_items (.*/migrations/0001_create_items.sql, [0-9]* ms)' '$LOG_ERR'" \
        "startup: the migrations applied and logged"
    local rows
    rows=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT version, name FROM dbal_migrations").fetchall())' "$db")
    check "[ \"$rows\" = \"[(1, 'create_items')]\" ]" "startup: the history records version 1 ($rows)"
}

# No DATABASE_URL: sqlite://items.db in the working directory.
test_default_url() {
    mkdir -p "$WORK/default"
    start_service default -C "$WORK/default" -u DATABASE_URL || { fail "start without DATABASE_URL"; return; }
    req GET /health
    check "[ '$STATUS' = 200 ] && [ -f '$WORK/default/items.db' ]" \
        "no DATABASE_URL: sqlite://items.db in the working directory"
    kill_service
}

run_sqlite() {
    echo "# SQLite"
    test_startup_failures
    test_default_url
    run_routes sqlite "sqlite://$WORK/items.db" "s$$-" || return
    test_migrated "$WORK/items.db"
    stop_service_cleanly
    start_service sqlite-again DATABASE_URL="sqlite://$WORK/items.db" || { fail "start again"; return; }
    check "! grep -q 'migrated:' '$LOG_ERR'" "started again: nothing to migrate"
    stop_service_cleanly
}

# ------------------------------------------------------------ PostgreSQL faults

# A restart while 8 clients create items (10 ms pauses) for 6 seconds.
test_restart_under_load() {
    local p=$1
    "$CLIENT" load "$PORT" 8 6 10 "${p}load" >"$WORK/load.txt" 2>"$WORK/load.err" &
    local load_pid=$!
    sleep 1.5
    local t0=$SECONDS
    if pg_restart; then ok "pg_ctl restart -m fast under load ($((SECONDS - t0)) s)"; else fail "pg_ctl restart"; fi
    wait "$load_pid"
    echo "# $(tr '\n' ' ' <"$WORK/load.err")"
    # "STATUS ID PREFIX-thread-k" lines, in order per thread.
    python3 - "$WORK/load.txt" >"$WORK/load.check" <<'EOF'
import sys
lines = [l.split(" ", 2) for l in open(sys.argv[1]).read().splitlines()]
last = {name.rsplit("-", 2)[1]: status for status, _id, name in lines}
print(len(lines), sum(s == "503" for s, _, _ in lines), int(all(s in ("201", "503") for s, _, _ in lines)),
      int(len(last) == 8 and set(last.values()) == {"201"}))
EOF
    local total unavailable only_201_503 last_201
    read -r total unavailable only_201_503 last_201 <"$WORK/load.check"
    check "[ '$only_201_503' = 1 ] && [ '$total' -gt 100 ]" \
        "restart under load: $total requests, each 201 or 503 ($unavailable x 503), never another status"
    check "[ '$last_201' = 1 ]" "restart under load: every client's last request (after the restart) got 201"
    if "$CLIENT" verify "$PORT" 8 <"$WORK/load.txt" >"$WORK/verify.txt" 2>&1; then
        ok "restart under load: every item answered 201 is stored ($(head -n 1 "$WORK/verify.txt"))"
    else
        fail "restart under load: $(tail -n 5 "$WORK/verify.txt")"
    fi
    check "kill -0 $SERVICE_PID" "the service was not restarted"
}

test_stop_start() {
    local p=$1
    if ! pg_stop; then fail "pg_ctl stop"; return; fi
    req GET /health
    expect_py 503 "j['error'] == 'database unavailable' and j['code'] in ('DBAL_ECONNECT', 'DBAL_ECONNLOST') and 'sqlstate' in j" \
        "database stopped: GET /health 503"
    post /items "{\"name\": \"${p}while-down\", \"price\": 1}"
    expect_py 503 "j['error'] == 'database unavailable, try again later' and j['code'] in ('DBAL_ECONNECT', 'DBAL_ECONNLOST') and 'sqlstate' in j" \
        "database stopped: POST /items 503 with a JSON error"
    req GET "/items/$ID_W"
    expect_py 503 "j['code'] in ('DBAL_ECONNECT', 'DBAL_ECONNLOST')" "database stopped: GET /items/{id} 503"
    req GET /items
    expect_py 503 "j['code'] in ('DBAL_ECONNECT', 'DBAL_ECONNLOST')" "database stopped: GET /items 503"
    sleep 1
    if ! pg_start; then fail "pg_ctl start"; return; fi
    req GET /health
    expect 200 '{"status": "ok", "database": "postgresql"}' "database started again: GET /health 200 at once"
    post /items "{\"name\": \"${p}after-start\", \"price\": 1}"
    expect_py 201 "j['name'] == '${p}after-start'" "database started again: POST /items 201"
    check "kill -0 $SERVICE_PID" "the service was not restarted"
}

run_postgresql() {
    echo "# PostgreSQL"
    local p="pg$$-$(date +%s)-"
    # Other programs of the suite (the quick-start) make a table called
    # items of their own shape: start from the service's migrations.
    psql -q "$DBAL_TEST_PG_URL" -c 'DROP TABLE IF EXISTS items CASCADE' -c 'DROP TABLE IF EXISTS dbal_migrations' \
        >/dev/null 2>&1 || true
    run_routes postgresql "$DBAL_TEST_PG_URL" "$p" || return
    check "grep -q 'migrated: applied 1 create_items (.*/migrations/0001_create_items.postgresql.sql, [0-9]* ms)' '$LOG_ERR'" \
        "startup: the PostgreSQL variant of the migration applied"
    if pg_controllable; then
        test_restart_under_load "$p"
        test_stop_start "$p"
    else
        echo "# DBAL_TEST_PG_BINDIR/DATADIR/LOGFILE not set: restart and stop/start not tested"
    fi
    check_no_password "$(url_password "$DBAL_TEST_PG_URL")"
    stop_service_cleanly
}

# ------------------------------------------------------------ main

pg_wanted() {
    if [ -n "${DBAL_TEST_PG_URL:-}" ]; then return 0; fi
    if [ "${DBAL_TEST_REQUIRE_PG:-0}" = 1 ]; then
        fail "DBAL_TEST_REQUIRE_PG=1 but DBAL_TEST_PG_URL is not set"
    else
        echo "# DBAL_TEST_PG_URL not set: PostgreSQL skipped"
    fi
    return 1
}

case "$WHICH" in
    sqlite) run_sqlite ;;
    postgresql)
        if ! pg_wanted; then
            [ "$FAILED" -gt 0 ] && exit 1
            exit 77
        fi
        run_postgresql ;;
    all)
        run_sqlite
        pg_wanted && run_postgresql ;;
    *) echo "$0: unknown database '$WHICH'" >&2; exit 2 ;;
esac

echo "# items_api ($WHICH): $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
