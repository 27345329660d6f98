#!/usr/bin/env bash
# The conformance suite through PgBouncer in transaction pooling mode, with
# the statement cache off (statement_cache_size=0) and on.
#
#   tests/test_pgbouncer.sh path/to/dbal-conformance
#
# Starts a throwaway pgbouncer on 127.0.0.1 (config, userlist, log and pid
# file in a temporary directory, stopped at exit) in front of the server of
# DBAL_TEST_PG_URL (tests/pg_cluster.sh's cluster: role dbal, scram-sha-256).
# Without DBAL_TEST_PG_URL or the pgbouncer program it is skipped (77), or
# fails when DBAL_TEST_REQUIRE_PG=1. CI needs the Debian package pgbouncer.
set -euo pipefail

conformance=${1:?usage: $0 path/to/dbal-conformance}
. "$(dirname "$0")/pg_require.sh"
skip_or_fail() { pg_skip_or_fail test_pgbouncer "$1"; }

[ -n "${DBAL_TEST_PG_URL:-}" ] || skip_or_fail "DBAL_TEST_PG_URL is not set"
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$PGBOUNCER" ] || skip_or_fail "pgbouncer is not installed (apt-get install pgbouncer)"

# postgresql://user:password@host:port/db[?...] as tests/pg_cluster.sh writes it.
re='^postgresql://([^:@/]+):([^@/]+)@([^:/]+):([0-9]+)/([^?]+)'
[[ "$DBAL_TEST_PG_URL" =~ $re ]] || { echo "test_pgbouncer: cannot read DBAL_TEST_PG_URL" >&2; exit 1; }
user=${BASH_REMATCH[1]} password=${BASH_REMATCH[2]} host=${BASH_REMATCH[3]}
port=${BASH_REMATCH[4]} db=${BASH_REMATCH[5]}

dir=$(mktemp -d /tmp/dbal-pgbouncer-XXXXXX)
# PgBouncer refuses to run as root: as root it runs as the cluster's owner.
if [ "$(id -u)" -eq 0 ]; then
    owner=${DBAL_TEST_PG_CTL_USER:-postgres}
    chown "$owner" "$dir"
    as_owner() { runuser -u "$owner" -- "$@"; }
else
    as_owner() { "$@"; }
fi
cleanup() {
    if [ -f "$dir/pgbouncer.pid" ]; then
        pid=$(cat "$dir/pgbouncer.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
bport=6543
while port_busy "$bport"; do bport=$((bport + 1)); done

printf '"%s" "%s"\n' "$user" "$password" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
$db = host=$host port=$port dbname=$db

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
; The default, said out loud: an idle server connection is reused last in,
; first out. The suite runs one session at a time, so a case that reads
; session state right after an autocommit statement (lastval() in
; last_insert_id) meets the same server session; with clients interleaving
; it would not, which the README's PgBouncer section says.
server_round_robin = 0
max_client_conn = 500
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
chmod 600 "$dir/userlist.txt"
[ "$(id -u)" -ne 0 ] || chown "$owner" "$dir"/*

as_owner "$PGBOUNCER" -d "$dir/pgbouncer.ini" || { cat "$dir/pgbouncer.log" >&2 || true; echo "test_pgbouncer: pgbouncer did not start" >&2; exit 1; }
for _ in $(seq 100); do port_busy "$bport" && break; sleep 0.1; done
port_busy "$bport" || { cat "$dir/pgbouncer.log" >&2; echo "test_pgbouncer: pgbouncer does not listen on $bport" >&2; exit 1; }

url="postgresql://$user:$password@127.0.0.1:$bport/$db"
status=0
for opts in "statement_cache_size=0" "statement_cache_size=100"; do
    echo "== conformance through PgBouncer (pool_mode=transaction), $opts"
    "$conformance" "$url?$opts" || status=1
done
if [ "$status" -ne 0 ]; then
    echo "----- pgbouncer.log -----" >&2
    tail -n 50 "$dir/pgbouncer.log" >&2 || true
fi
exit "$status"
