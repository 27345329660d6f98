#!/usr/bin/env bash
# Tests on a real primary + streaming standby pair (tests/test_cluster.c):
# read replicas, then failover (the primary stopped, the standby promoted)
# under load.
#
#   tests/test_cluster.sh path/to/test_cluster
#
# Starts both clusters in a temporary directory with tests/pg_cluster.sh
# (loopback only) and stops them at exit. Without PostgreSQL's server
# programs it is skipped (77), or fails when DBAL_TEST_REQUIRE_PG=1; once
# they are there, a cluster that does not start fails the test.
set -euo pipefail

prog=${1:?usage: $0 path/to/test_cluster}
here=$(cd "$(dirname "$0")" && pwd -P)
cluster="$here/pg_cluster.sh"
. "$here/pg_require.sh"
pg_require_programs test_cluster pg_basebackup

dir=$(mktemp -d /tmp/dbal-cluster-XXXXXX)
chmod 755 "$dir"
mkdir "$dir/primary" "$dir/standby"
cleanup() {
    "$cluster" stop "$dir/standby" >/dev/null 2>&1 || true
    "$cluster" stop "$dir/primary" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

"$cluster" start "$dir/primary" >/dev/null
"$cluster" standby "$dir/standby" "$dir/primary" >/dev/null

primary_port=$(bash -c 'source "$1/env" && echo "$DBAL_TEST_PG_PORT"' _ "$dir/primary")
standby_port=$(bash -c 'source "$1/env" && echo "$DBAL_TEST_PG_PORT"' _ "$dir/standby")
export DBAL_TEST_CLUSTER_SCRIPT="$cluster"
export DBAL_TEST_PRIMARY_DIR="$dir/primary" DBAL_TEST_STANDBY_DIR="$dir/standby"
export DBAL_TEST_PRIMARY_PORT="$primary_port" DBAL_TEST_STANDBY_PORT="$standby_port"
"$prog"
