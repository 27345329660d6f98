#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the dbal test suite.
#
#   tests/pg_cluster.sh start DIR   # DIR: a fresh (empty) directory, e.g. $(mktemp -d)
#   tests/pg_cluster.sh stop  DIR   # safe to call repeatedly
#   tests/pg_cluster.sh standby DIR PRIMARY_DIR  # a streaming standby of a started cluster
#   tests/pg_cluster.sh promote DIR  # makes a standby the primary (pg_ctl promote)
#
# `start` runs initdb in DIR/data, starts the server on 127.0.0.1 (port from
# $PGPORT, or the first free port from 54329 upward) with its Unix socket in
# DIR/sock and its log in DIR/log, creates the LOGIN SUPERUSER role `dbal`
# (password `dbal-test-pw`) and the database `dbal_test`, and writes DIR/env
# (for `source`), which exports DBAL_TEST_PG_URL, DBAL_TEST_PG_SOCKET_DIR,
# DBAL_TEST_PG_PORT, DBAL_TEST_PG_BINDIR, DBAL_TEST_PG_DATADIR,
# DBAL_TEST_PG_CTL_USER and DBAL_TEST_PG_LOGFILE.
#
# PostgreSQL refuses to run as root: as root the server runs as the `postgres`
# system user (created by Debian's postgresql package) and DIR is chowned to
# it; otherwise it runs as the current user.
#
# `standby` copies the running cluster of PRIMARY_DIR with `pg_basebackup -R`
# (streaming replication over its Unix socket) into DIR/data and starts it
# like `start` (own port, socket and log), read-only until promoted; DIR/env
# has the same variables.
#
# To restart the server from a test (as DBAL_TEST_PG_CTL_USER; as root wrap it
# in `runuser -u "$DBAL_TEST_PG_CTL_USER" --`):
#   "$DBAL_TEST_PG_BINDIR/pg_ctl" restart -m fast -w -D "$DBAL_TEST_PG_DATADIR" \
#       -l "$DBAL_TEST_PG_LOGFILE"
# (Pass -l: without it the server inherits the caller's stdout/stderr, and ctest
# waits for those pipes to close.)
set -euo pipefail

readonly PW='dbal-test-pw'
readonly DB='dbal_test'
readonly ROLE='dbal'
readonly FIRST_PORT=54329
readonly PORT_TRIES=100
readonly WAIT_SECS=30

die() { echo "pg_cluster.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 {start|stop|promote} DIR | standby DIR PRIMARY_DIR" >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1
[ -n "$2" ] || usage
[ -d "$2" ] || die "$2: not a directory"
DIR=$(cd "$2" && pwd -P)
if [ "$cmd" = standby ]; then
    [ $# -eq 3 ] && [ -f "$3/env" ] || die "standby: $3 is not a started cluster (no $3/env)"
    PRIMARY_DIR=$(cd "$3" && pwd -P)
else
    [ $# -eq 2 ] || usage
fi

# Single-quote a string for the shell (env file).
shq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
# Quote a string for postgresql.conf.
confq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

# Run a command as the cluster owner. cd / first: PostgreSQL's tools fail when
# the current directory is not readable by them (e.g. /root).
if [ "$(id -u)" -eq 0 ]; then
    PGUSER_OS=postgres
    as_owner() { (cd / && runuser -u "$PGUSER_OS" -- "$@"); }
else
    PGUSER_OS=$(id -un)
    as_owner() { (cd / && "$@"); }
fi

highest_bindir() {
    local d best=""
    # sort -V so that e.g. 16 > 9.6.
    best=$(for d in /usr/lib/postgresql/*/bin; do
               [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
           done | sort -V | tail -n 1)
    [ -n "$best" ] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    echo "$best"
}

port_busy() {
    # Something accepts TCP connections on 127.0.0.1:$1?
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    # A PostgreSQL server answering there (pg_isready exit 0 = accepting,
    # 1 = rejecting/starting up, 2 = no response)?
    local rc=0
    "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$1" -t 2 >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]
}

show_logs() {
    local f
    for f in "$DIR"/log/*.log; do
        [ -f "$f" ] || continue
        echo "----- $f -----" >&2
        tail -n 200 "$f" >&2 || true
    done
}

write_conf() { # port
    cat > "$DATA/dbal_test.conf" <<EOF
# Written by tests/pg_cluster.sh (throwaway test cluster).
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = $(confq "$SOCK")
max_connections = 200
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = on
log_directory = $(confq "$DIR/log")
log_filename = 'postgresql.log'
log_rotation_age = 0
log_rotation_size = 0
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    chown "$PGUSER_OS" "$DATA/dbal_test.conf"
}

start() {
    BINDIR=$(highest_bindir)
    DATA="$DIR/data"
    SOCK="$DIR/sock"
    LOGFILE="$DIR/log/postgresql.log"
    STARTLOG="$DIR/log/startup.log"

    [ ! -e "$DATA" ] || die "$DATA already exists; give start a fresh directory"
    # sockaddr_un.sun_path is 108 bytes.
    [ ${#SOCK} -le 80 ] || die "socket directory path too long (${#SOCK} > 80): $SOCK"

    if [ "$(id -u)" -eq 0 ]; then
        getent passwd postgres >/dev/null ||
            die "running as root but there is no 'postgres' user (apt-get install postgresql)"
        command -v runuser >/dev/null || die "runuser not found (util-linux)"
    fi

    mkdir -p "$SOCK" "$DIR/log"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R "$PGUSER_OS": "$DIR"
        as_owner test -w "$DIR" -a -x "$DIR" ||
            die "user $PGUSER_OS cannot write $DIR (is a parent directory not traversable?)"
    fi
    chmod 755 "$DIR" "$SOCK" 2>/dev/null || true

    as_owner "$BINDIR/initdb" -D "$DATA" -U postgres -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 --no-sync \
        > "$DIR/log/initdb.log" 2>&1 || { cat "$DIR/log/initdb.log" >&2; die "initdb failed"; }

    cat > "$DATA/pg_hba.conf" <<'EOF'
# Written by tests/pg_cluster.sh (throwaway test cluster).
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
local   replication all                trust
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
EOF
    chown "$PGUSER_OS" "$DATA/pg_hba.conf"
    echo "include 'dbal_test.conf'" >> "$DATA/postgresql.conf"
    launch
    setup_role
    write_env
}

# Starts the server of $DATA on the first free port and waits for it.
launch() {
    local port fixed=0 tries=0 started=0
    if [ -n "${PGPORT:-}" ]; then
        [[ "$PGPORT" =~ ^[0-9]+$ ]] || die "PGPORT is not a number: $PGPORT"
        port=$PGPORT; fixed=1
    else
        port=$FIRST_PORT
    fi

    while [ "$tries" -lt "$PORT_TRIES" ]; do
        tries=$((tries + 1))
        if [ "$fixed" -eq 0 ] && port_busy "$port"; then
            port=$((port + 1)); continue
        fi
        write_conf "$port"
        if as_owner "$BINDIR/pg_ctl" start -w -t "$WAIT_SECS" -D "$DATA" -l "$STARTLOG" >/dev/null 2>&1; then
            started=1; break
        fi
        # Lost a race for the port? Try the next one; anything else is fatal.
        as_owner "$BINDIR/pg_ctl" stop -m immediate -D "$DATA" >/dev/null 2>&1 || true
        if [ "$fixed" -eq 0 ] && cat "$DIR"/log/*.log 2>/dev/null | grep -q 'could not bind\|Address already in use'; then
            : > "$STARTLOG"; [ -f "$LOGFILE" ] && : > "$LOGFILE"
            port=$((port + 1)); continue
        fi
        break
    done
    if [ "$started" -ne 1 ]; then
        show_logs
        die "could not start PostgreSQL (port $port)"
    fi

    # Accepting connections on both TCP and the socket?
    local deadline=$((SECONDS + WAIT_SECS))
    until "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 &&
          "$BINDIR/pg_isready" -q -h "$SOCK" -p "$port" -t 2; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            show_logs
            as_owner "$BINDIR/pg_ctl" stop -m immediate -D "$DATA" >/dev/null 2>&1 || true
            die "server did not accept connections within ${WAIT_SECS}s"
        fi
        sleep 0.2
    done
    PORT=$port
}

setup_role() {
    local port=$PORT
    if ! as_owner "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$port" -U postgres -d postgres \
            > "$DIR/log/setup.log" 2>&1 <<EOF
CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$PW';
CREATE DATABASE $DB OWNER $ROLE;
EOF
    then
        cat "$DIR/log/setup.log" >&2
        show_logs
        as_owner "$BINDIR/pg_ctl" stop -m immediate -D "$DATA" >/dev/null 2>&1 || true
        die "could not create role/database"
    fi
}

write_env() {
    local port=$PORT
    local url="postgresql://$ROLE:$PW@127.0.0.1:$port/$DB"
    {
        echo "export DBAL_TEST_PG_URL=$(shq "$url")"
        echo "export DBAL_TEST_PG_SOCKET_DIR=$(shq "$SOCK")"
        echo "export DBAL_TEST_PG_PORT=$port"
        echo "export DBAL_TEST_PG_BINDIR=$(shq "$BINDIR")"
        echo "export DBAL_TEST_PG_DATADIR=$(shq "$DATA")"
        echo "export DBAL_TEST_PG_CTL_USER=$(shq "$PGUSER_OS")"
        echo "export DBAL_TEST_PG_LOGFILE=$(shq "$LOGFILE")"
    } > "$DIR/env"
    chmod 644 "$DIR/env"

    echo "postgresql://$ROLE@127.0.0.1:$port/$DB"
}

standby() {
    BINDIR=$(highest_bindir)
    DATA="$DIR/data"
    SOCK="$DIR/sock"
    LOGFILE="$DIR/log/postgresql.log"
    STARTLOG="$DIR/log/startup.log"
    [ ! -e "$DATA" ] || die "$DATA already exists; give standby a fresh directory"
    [ ${#SOCK} -le 80 ] || die "socket directory path too long (${#SOCK} > 80): $SOCK"
    local psock pport
    psock=$(bash -c 'source "$1/env" && echo "$DBAL_TEST_PG_SOCKET_DIR"' _ "$PRIMARY_DIR")
    pport=$(bash -c 'source "$1/env" && echo "$DBAL_TEST_PG_PORT"' _ "$PRIMARY_DIR")
    mkdir -p "$SOCK" "$DIR/log"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R "$PGUSER_OS": "$DIR"
    fi
    chmod 755 "$DIR" "$SOCK" 2>/dev/null || true
    as_owner "$BINDIR/pg_basebackup" -h "$psock" -p "$pport" -U postgres -D "$DATA" -R -X stream \
        --no-sync --checkpoint=fast > "$DIR/log/basebackup.log" 2>&1 ||
        { cat "$DIR/log/basebackup.log" >&2; die "pg_basebackup failed"; }
    launch
    write_env
}

promote() {
    local DATA="$DIR/data" BINDIR
    BINDIR="/usr/lib/postgresql/$(cat "$DATA/PG_VERSION")/bin"
    [ -x "$BINDIR/pg_ctl" ] || BINDIR=$(highest_bindir)
    [ "$(id -u)" -ne 0 ] || PGUSER_OS=$(stat -c %U "$DATA")
    as_owner "$BINDIR/pg_ctl" promote -w -t "$WAIT_SECS" -D "$DATA" >/dev/null || die "could not promote $DATA"
}

stop() {
    local DATA="$DIR/data" BINDIR ver rc=0
    if [ ! -f "$DATA/PG_VERSION" ]; then
        echo "pg_cluster.sh: no cluster in $DIR (not running)" >&2
        return 0
    fi
    ver=$(cat "$DATA/PG_VERSION")
    if [ -x "/usr/lib/postgresql/$ver/bin/pg_ctl" ]; then
        BINDIR="/usr/lib/postgresql/$ver/bin"
    else
        BINDIR=$(highest_bindir)
    fi
    if [ "$(id -u)" -eq 0 ]; then
        # Use whoever owns the data directory.
        PGUSER_OS=$(stat -c %U "$DATA")
        [ "$PGUSER_OS" != root ] || PGUSER_OS=postgres
    fi

    as_owner "$BINDIR/pg_ctl" status -D "$DATA" >/dev/null 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        # 3 = not running, 4 = no accessible data directory.
        echo "pg_cluster.sh: server in $DATA not running" >&2
        return 0
    fi
    if ! as_owner "$BINDIR/pg_ctl" stop -m fast -w -t "$WAIT_SECS" -D "$DATA" >/dev/null 2>&1; then
        rc=0
        as_owner "$BINDIR/pg_ctl" status -D "$DATA" >/dev/null 2>&1 || rc=$?
        [ "$rc" -ne 0 ] && return 0
        echo "pg_cluster.sh: fast shutdown failed, trying immediate" >&2
        as_owner "$BINDIR/pg_ctl" stop -m immediate -w -t "$WAIT_SECS" -D "$DATA" >/dev/null 2>&1 ||
            die "could not stop the server in $DATA"
    fi
}

case "$cmd" in
    start) start ;;
    standby) standby ;;
    promote) promote ;;
    stop) stop ;;
    *) usage ;;
esac
