#!/usr/bin/env bash
# A throwaway high-availability PostgreSQL stack on loopback, as production
# runs one: etcd (one member), NODES PostgreSQL servers managed by Patroni
# (synchronous_mode), and HAProxy routing to the leader through Patroni's
# REST health checks.
#
#   tests/ha_cluster.sh check                 # exit 77 (with a reason) when a program is missing
#   tests/ha_cluster.sh start DIR             # DIR: a fresh directory; writes DIR/env
#   tests/ha_cluster.sh stop DIR              # everything down; safe to repeat
#   tests/ha_cluster.sh wait DIR [SECONDS]    # until healthy (below); prints the leader
#   tests/ha_cluster.sh leader DIR            # the leader's name (node1..)
#   tests/ha_cluster.sh switchover DIR        # patronictl switchover --force
#   tests/ha_cluster.sh kill DIR NODE         # SIGKILL the node's Patroni and PostgreSQL
#   tests/ha_cluster.sh freeze DIR NODE       # SIGSTOP them (a hung host: no RST, no answer)
#   tests/ha_cluster.sh thaw DIR NODE         # SIGCONT what freeze stopped
#   tests/ha_cluster.sh revive DIR NODE       # start a killed node's Patroni again
#
# Healthy: a leader that is running, every other node running and streaming
# from it, one of them the synchronous standby (pg_stat_replication on the
# leader agrees with Patroni's sync key).
#
# Ports (environment, defaults): DBAL_HA_PG_PORT (25821: nodes on 25821..),
# DBAL_HA_REST_PORT (8008..), DBAL_HA_PROXY_PORT (25831: the leader; +1:
# the replicas), DBAL_HA_ETCD_PORT (23791; peer 23801). DBAL_HA_NODES (3).
# All below Linux's ephemeral range (32768 up), which the kernel also hands
# to outgoing connections: with 55832 a client's long-lived socket on the
# same host once held the port through every retry. A program that could
# not bind at start is still started again, up to 3 times.
#
# Patroni's timing (DCS settings): ttl 10 s, loop_wait 1 s, retry_timeout
# 4 s (Patroni wants loop_wait + 2 * retry_timeout <= ttl): a leader that
# stops renewing its key is replaced about 10 s later.
#
# PostgreSQL and Patroni refuse to run as root: as root everything runs as
# the `postgres` system user (setpriv, so that the pid recorded is the
# program's own) and DIR is chowned to it. Every wait is bounded; `stop`
# resumes frozen processes, then stops each program by its recorded pid,
# then SIGKILLs what is left.
set -euo pipefail

readonly PW='dbal-test-pw'
readonly ROLE='dbal'
readonly DB='dbal_test'
readonly SCOPE='dbal-ha'
NODES=${DBAL_HA_NODES:-3}
PG_PORT=${DBAL_HA_PG_PORT:-25821}
REST_PORT=${DBAL_HA_REST_PORT:-8008}
PROXY_PORT=${DBAL_HA_PROXY_PORT:-25831}
ETCD_PORT=${DBAL_HA_ETCD_PORT:-23791}
ETCD_PEER_PORT=$((ETCD_PORT + 10))
PY=/usr/bin/python3

die() { echo "ha_cluster.sh: $*" >&2; exit 1; }
usage() { sed -n '8,19p' "$0" >&2; exit 2; }

if [ "$(id -u)" -eq 0 ]; then
    OWNER=postgres
    as_owner() { (cd / && setpriv --reuid="$OWNER" --regid="$OWNER" --init-groups -- "$@"); }
else
    OWNER=$(id -un)
    as_owner() { (cd / && "$@"); }
fi

bindir() {
    local d
    d=$(for d in /usr/lib/postgresql/*/bin; do
            [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
        done | sort -V | tail -n 1)
    echo "$d"
}

# What is missing to run the stack, or nothing.
missing() {
    [ -n "$(bindir)" ] || { echo "no PostgreSQL server programs (apt-get install postgresql)"; return; }
    command -v patroni >/dev/null || { echo "patroni is not installed (apt-get install patroni python3-etcd)"; return; }
    "$PY" -c 'import etcd, psycopg2' 2>/dev/null ||
        { echo "patroni's etcd client is missing (apt-get install python3-etcd)"; return; }
    command -v etcd >/dev/null || { echo "etcd is not installed (apt-get install etcd-server)"; return; }
    command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] ||
        { echo "haproxy is not installed (apt-get install haproxy)"; return; }
    command -v setpriv >/dev/null || { echo "setpriv is missing (util-linux)"; return; }
    if [ "$(id -u)" -eq 0 ] && ! getent passwd postgres >/dev/null; then
        echo "running as root but there is no 'postgres' user"; return
    fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

node_pg_port() { echo $((PG_PORT + $1 - 1)); }
node_rest_port() { echo $((REST_PORT + $1 - 1)); }
node_num() { [[ "$1" =~ ^node([0-9]+)$ ]] || die "not a node name: $1"; echo "${BASH_REMATCH[1]}"; }

# Starts a program in the background as the owner; its pid goes to $1.
spawn() { # PIDFILE LOGFILE PROGRAM ARGS...
    local pidfile=$1 logfile=$2
    shift 2
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && exec setsid setpriv --reuid="$OWNER" --regid="$OWNER" --init-groups -- "$@" \
            </dev/null >>"$logfile" 2>&1) &
    else
        (cd / && exec setsid "$@" </dev/null >>"$logfile" 2>&1) &
    fi
    echo $! > "$pidfile"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stops the process of PIDFILE: SIGCONT, then SIGTERM, up to SECS, then SIGKILL.
stop_pid() { # PIDFILE SECS
    local pid i
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    if kill -0 "$pid" 2>/dev/null; then
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < $2 * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

# JSON from a node's REST API (GET), or nothing.
rest() { # PORT PATH
    "$PY" - "$1" "$2" <<'EOF' 2>/dev/null || true
import sys, urllib.request
try:
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=1) as r:
        sys.stdout.write(r.read().decode())
except Exception as e:
    if hasattr(e, "read"):
        sys.stdout.write(e.read().decode())
EOF
}

# The cluster as any live node's REST API sees it: "leader NAME",
# "sync NAME" and "member NAME STATE" lines.
members() {
    local i out
    for ((i = 1; i <= NODES; i++)); do
        out=$(rest "$(node_rest_port "$i")" /cluster)
        [ -n "$out" ] || continue
        "$PY" -c '
import json, sys
c = json.loads(sys.argv[1])
for m in c.get("members", []):
    if m["role"] == "leader":
        print("leader", m["name"])
    elif m["role"] == "sync_standby":
        print("sync", m["name"])
    print("member", m["name"], m.get("state", "?"))
' "$out" 2>/dev/null && return 0
    done
}

psql_at() { # NODE SQL
    local n
    n=$(node_num "$1")
    as_owner "$(bindir)/psql" -X -q -A -t -h "$DIR/$1/sock" -p "$(node_pg_port "$n")" -U postgres -d postgres \
        -c "$2" 2>/dev/null
}

leader() { members | awk '$1 == "leader" { print $2 }'; }

# Healthy (see the top): prints the leader's name, exit 0; else exit 1.
healthy() {
    local m lead sync running rep
    m=$(members)
    lead=$(awk '$1 == "leader" { print $2 }' <<<"$m")
    sync=$(awk '$1 == "sync" { print $2 }' <<<"$m")
    running=$(awk '$1 == "member" && $3 == "running"' <<<"$m" | wc -l)
    [ -n "$lead" ] && [ -n "$sync" ] && [ "$running" -eq "$NODES" ] || return 1
    rep=$(psql_at "$lead" "SELECT count(*) FILTER (WHERE state = 'streaming') || ' ' ||
                            string_agg(application_name, ',') FILTER (WHERE sync_state = 'sync')
                            FROM pg_stat_replication") || return 1
    [ "$rep" = "$((NODES - 1)) $sync" ] || return 1
    [ "$(psql_at "$lead" "SELECT pg_is_in_recovery()")" = f ] || return 1
    echo "$lead"
}

# During start: a program that exited (most likely a port taken for a
# moment, see the top) is started again, up to 3 times each.
RESPAWN=0
respawn_dead() {
    local i n
    [ "$RESPAWN" = 1 ] || return 0
    for ((i = 1; i <= NODES; i++)); do
        # Not started yet, or running.
        [ -f "$DIR/node$i/patroni.pid" ] || continue
        alive "$DIR/node$i/patroni.pid" && continue
        n=$(cat "$DIR/node$i/respawned" 2>/dev/null || echo 0)
        [ "$n" -lt 3 ] || die "node$i's Patroni keeps exiting: $(tail -n 5 "$DIR/node$i/patroni.log")"
        echo $((n + 1)) > "$DIR/node$i/respawned"
        sleep 1
        start_node "node$i"
    done
}

# What a failed wait shows: each node's replication view and the end of
# its Patroni log, since the directory goes when the test stops.
explain_unhealthy() {
    local i
    for ((i = 1; i <= NODES; i++)); do
        echo "--- node$i: recovery $(psql_at "node$i" "SELECT pg_is_in_recovery()" || echo '?');" \
            "replication: $(psql_at "node$i" "SELECT string_agg(application_name || ' ' || state || ' ' ||
                                                 sync_state, '; ') FROM pg_stat_replication" || echo '?')"
        tail -n 8 "$DIR/node$i/patroni.log" 2>/dev/null || true
    done
}

wait_healthy() { # SECONDS
    local deadline=$((SECONDS + $1)) lead
    until lead=$(healthy); do
        respawn_dead
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "ha_cluster.sh: not healthy within $1 s; members:" >&2
            members >&2 || true
            explain_unhealthy >&2
            return 1
        fi
        sleep 0.2
    done
    echo "$lead"
}

write_patroni_conf() { # NODE NUMBER
    local node=$1 n=$2 nd="$DIR/$1"
    cat > "$nd/patroni.yml" <<EOF
# Written by tests/ha_cluster.sh (throwaway test cluster).
scope: $SCOPE
namespace: /dbal/
name: $node
log:
  level: INFO
restapi:
  listen: 127.0.0.1:$(node_rest_port "$n")
  connect_address: 127.0.0.1:$(node_rest_port "$n")
etcd:
  host: 127.0.0.1:$ETCD_PORT
watchdog:
  mode: off
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: 'on'
        wal_log_hints: 'on'
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
        max_connections: 100
        shared_buffers: 32MB
        synchronous_commit: 'on'
        fsync: 'off'
        wal_receiver_status_interval: 1s
        password_encryption: scram-sha-256
  initdb:
    - encoding: UTF8
    - no-locale
    - no-sync
  pg_hba:
    - local all all trust
    - local replication all trust
    - host replication replicator 127.0.0.1/32 trust
    - host all postgres 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 scram-sha-256
postgresql:
  listen: 127.0.0.1:$(node_pg_port "$n")
  connect_address: 127.0.0.1:$(node_pg_port "$n")
  data_dir: $nd/data
  bin_dir: $(bindir)
  pgpass: $nd/pgpass
  use_unix_socket: true
  authentication:
    superuser:
      username: postgres
      password: $PW
    replication:
      username: replicator
      password: $PW
  parameters:
    unix_socket_directories: $nd/sock
    logging_collector: 'on'
    log_directory: $nd/log
    log_filename: postgresql.log
    log_line_prefix: '%m [%p] %q%u@%d '
  basebackup:
    - checkpoint: fast
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
EOF
}

write_haproxy_conf() {
    local i servers=""
    for ((i = 1; i <= NODES; i++)); do
        servers+="    server node$i 127.0.0.1:$(node_pg_port "$i") check port $(node_rest_port "$i")"$'\n'
    done
    cat > "$DIR/haproxy.cfg" <<EOF
# Written by tests/ha_cluster.sh: Patroni's REST API says which node is the
# leader (200 on /primary) and which are replicas (200 on /replica).
global
    maxconn 400

defaults
    mode tcp
    retries 1
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s

listen primary
    bind 127.0.0.1:$PROXY_PORT
    option httpchk OPTIONS /primary
    http-check expect status 200
    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
$servers
listen replicas
    bind 127.0.0.1:$((PROXY_PORT + 1))
    balance roundrobin
    option httpchk OPTIONS /replica
    http-check expect status 200
    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
$servers
EOF
}

start_node() { # NODE
    spawn "$DIR/$1/patroni.pid" "$DIR/$1/patroni.log" env HOME="$DIR/$1" patroni "$DIR/$1/patroni.yml"
}

start() {
    local reason i p
    reason=$(missing)
    [ -z "$reason" ] || die "$reason"
    [ -z "$(ls -A "$DIR")" ] || die "$DIR is not empty; give start a fresh directory"
    [ ${#DIR} -le 70 ] || die "directory path too long for the sockets: $DIR"
    for p in "$ETCD_PORT" "$ETCD_PEER_PORT" "$PROXY_PORT" "$((PROXY_PORT + 1))"; do
        ! port_busy "$p" || die "port $p is taken"
    done
    for ((i = 1; i <= NODES; i++)); do
        for p in "$(node_pg_port "$i")" "$(node_rest_port "$i")"; do
            ! port_busy "$p" || die "port $p is taken"
        done
        mkdir -p "$DIR/node$i/sock" "$DIR/node$i/log"
        write_patroni_conf "node$i" "$i"
    done
    mkdir -p "$DIR/etcd"
    chmod 700 "$DIR/etcd"
    write_haproxy_conf
    [ "$(id -u)" -ne 0 ] || chown -R "$OWNER": "$DIR"
    chmod 755 "$DIR"

    spawn "$DIR/etcd.pid" "$DIR/etcd.log" etcd --name ha0 --data-dir "$DIR/etcd" \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "ha0=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
        --initial-cluster-token dbal-ha --enable-v2=true
    local deadline=$((SECONDS + 20))
    until [ -n "$(rest "$ETCD_PORT" /health)" ]; do
        alive "$DIR/etcd.pid" || { tail -n 30 "$DIR/etcd.log" >&2; die "etcd exited"; }
        [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$DIR/etcd.log" >&2; die "etcd did not start"; }
        sleep 0.1
    done

    # The first node bootstraps (initdb) and leads; the others clone it.
    RESPAWN=1
    start_node node1
    deadline=$((SECONDS + 60))
    until [ "$(leader)" = node1 ] && [ "$(psql_at node1 "SELECT pg_is_in_recovery()")" = f ]; do
        respawn_dead
        [ "$SECONDS" -lt "$deadline" ] || { tail -n 40 "$DIR/node1/patroni.log" >&2; die "node1 did not lead"; }
        sleep 0.2
    done
    if ! psql_at node1 "CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$PW'" >/dev/null ||
        ! psql_at node1 "CREATE DATABASE $DB OWNER $ROLE" >/dev/null; then
        die "could not create role/database"
    fi
    for ((i = 2; i <= NODES; i++)); do
        start_node "node$i"
    done
    if ! wait_healthy 90 >/dev/null; then
        for ((i = 1; i <= NODES; i++)); do tail -n 20 "$DIR/node$i/patroni.log" >&2 || true; done
        die "the cluster did not become healthy"
    fi
    RESPAWN=0
    local tries=0
    deadline=$((SECONDS + 20))
    until alive "$DIR/haproxy.pid" && "$(bindir)/pg_isready" -q -h 127.0.0.1 -p "$PROXY_PORT" -t 1; do
        if ! alive "$DIR/haproxy.pid"; then
            [ "$tries" -lt 3 ] || { cat "$DIR/haproxy.log" >&2; die "haproxy keeps exiting"; }
            tries=$((tries + 1))
            spawn "$DIR/haproxy.pid" "$DIR/haproxy.log" "$(command -v haproxy || echo /usr/sbin/haproxy)" -db \
                -f "$DIR/haproxy.cfg"
        fi
        [ "$SECONDS" -lt "$deadline" ] || { cat "$DIR/haproxy.log" >&2; die "haproxy routes nowhere"; }
        sleep 0.2
    done

    local hosts=""
    for ((i = 1; i <= NODES; i++)); do hosts+="${hosts:+,}127.0.0.1:$(node_pg_port "$i")"; done
    {
        echo "export DBAL_HA_DIR='$DIR'"
        echo "export DBAL_HA_NODES=$NODES"
        echo "export DBAL_HA_HOSTS='$hosts'"
        echo "export DBAL_HA_URL='postgresql://$ROLE:$PW@$hosts/$DB'"
        echo "export DBAL_HA_PROXY_URL='postgresql://$ROLE:$PW@127.0.0.1:$PROXY_PORT/$DB'"
        echo "export DBAL_HA_PROXY_REPLICAS='127.0.0.1:$((PROXY_PORT + 1))'"
        echo "export DBAL_HA_PG_PORT=$PG_PORT"
    } > "$DIR/env"
    chmod 644 "$DIR/env"
}

# The children of a process, from /proc (procps may not be installed).
# With read, not cat: a fork per process of the machine made a fault take
# seconds on a busy host, so the faults hit late and the times measured
# from the call were too long.
children() { # PID
    local f rest
    for f in /proc/[0-9]*/stat; do
        read -r rest 2>/dev/null < "$f" || continue
        rest=${rest##*) } # "state ppid ...", after "pid (comm) "
        rest=${rest#* }
        if [ "${rest%% *}" = "$1" ]; then
            f=${f#/proc/}
            echo "${f%/stat}"
        fi
    done
    return 0
}

node_pids() { # NODE: Patroni, the postmaster, its children
    local nd="$DIR/$1" pm
    [ -f "$nd/patroni.pid" ] && cat "$nd/patroni.pid"
    if [ -f "$nd/data/postmaster.pid" ]; then
        pm=$(head -n 1 "$nd/data/postmaster.pid")
        if kill -0 "$pm" 2>/dev/null; then
            echo "$pm"
            children "$pm"
        fi
    fi
}

# Stops the node's processes first (so that none sees another die), then
# kills them: a crash of the whole node, which the kernel answers with RSTs.
kill_node() {
    local pids
    pids=$(node_pids "$1" | tr '\n' ' ')
    [ -n "$pids" ] || die "$1 has no process"
    # shellcheck disable=SC2086
    kill -STOP $pids 2>/dev/null || true
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    rm -f "$DIR/$1/patroni.pid" "$DIR/$1/frozen"
}

freeze_node() {
    local pids
    pids=$(node_pids "$1" | tr '\n' ' ')
    [ -n "$pids" ] || die "$1 has no process"
    echo "$pids" > "$DIR/$1/frozen"
    # shellcheck disable=SC2086
    kill -STOP $pids
}

thaw_node() {
    [ -f "$DIR/$1/frozen" ] || return 0
    # shellcheck disable=SC2046
    kill -CONT $(cat "$DIR/$1/frozen") 2>/dev/null || true
    rm -f "$DIR/$1/frozen"
}

revive_node() {
    ! alive "$DIR/$1/patroni.pid" || die "$1 is running"
    # A killed postmaster's children die with it; wait for them, bounded.
    local deadline=$((SECONDS + 10)) pm
    if [ -f "$DIR/$1/data/postmaster.pid" ]; then
        pm=$(head -n 1 "$DIR/$1/data/postmaster.pid")
        while kill -0 "$pm" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    fi
    start_node "$1"
}

stop_all() {
    local i nd pm bin
    [ -d "$DIR" ] || return 0
    for ((i = 1; i <= NODES; i++)); do thaw_node "node$i"; done
    stop_pid "$DIR/haproxy.pid" 5
    # A throwaway cluster: Patroni is killed first (so that it restarts
    # nothing), then each PostgreSQL is stopped at once.
    for ((i = 1; i <= NODES; i++)); do stop_pid "$DIR/node$i/patroni.pid" 0; done
    bin=$(bindir)
    for ((i = 1; i <= NODES; i++)); do
        nd="$DIR/node$i"
        [ -f "$nd/data/postmaster.pid" ] || continue
        pm=$(head -n 1 "$nd/data/postmaster.pid")
        kill -0 "$pm" 2>/dev/null || continue
        as_owner "$bin/pg_ctl" stop -m immediate -w -t 10 -D "$nd/data" >/dev/null 2>&1 || true
        if kill -0 "$pm" 2>/dev/null; then
            # shellcheck disable=SC2046
            kill -KILL $(children "$pm") "$pm" 2>/dev/null || true
        fi
    done
    stop_pid "$DIR/etcd.pid" 5
    # A safety net: anything still running from this run's directory (its
    # path is in every command line we start).
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        [ "$pid" != $$ ] || continue
        if tr '\0' ' ' 2>/dev/null < "$f" | grep -qF "$DIR/"; then
            kill -CONT "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

cmd=${1:-}
case "$cmd" in
    check)
        reason=$(missing)
        [ -z "$reason" ] || { echo "$reason"; exit 77; }
        exit 0 ;;
    start | stop | wait | leader | switchover) [ $# -ge 2 ] || usage ;;
    kill | freeze | thaw | revive) [ $# -eq 3 ] || usage; node_num "$3" >/dev/null ;;
    *) usage ;;
esac
[ -d "$2" ] || die "$2: not a directory"
DIR=$(cd "$2" && pwd -P)
[ ! -f "$DIR/env" ] || NODES=$(sed -n "s/^export DBAL_HA_NODES=//p" "$DIR/env")

case "$cmd" in
    start) start ;;
    stop) stop_all ;;
    wait) wait_healthy "${3:-60}" ;;
    leader) leader ;;
    switchover)
        as_owner env HOME="$DIR" patronictl -c "$DIR/node1/patroni.yml" switchover --force "$SCOPE" \
            > "$DIR/switchover.log" 2>&1 || { cat "$DIR/switchover.log" >&2; die "switchover failed"; } ;;
    kill) kill_node "$3" ;;
    freeze) freeze_node "$3" ;;
    thaw) thaw_node "$3" ;;
    revive) revive_node "$3" ;;
esac
