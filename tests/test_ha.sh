#!/usr/bin/env bash
# dbal against a Patroni-managed high-availability stack (tests/test_ha.c):
# a switchover, a crash and a hang of the leader under steady writes,
# through the multi-host URL and through HAProxy, blocking and async.
#
#   tests/test_ha.sh path/to/test_ha
#
# Starts etcd, three Patroni nodes and HAProxy once (tests/ha_cluster.sh) in
# a temporary directory, stops them all at exit (also on a signal, and when
# the test overruns its bound). Skipped (77) with the reason when a program
# is missing: CI installs patroni, python3-etcd, etcd-server and haproxy.
set -euo pipefail

prog=${1:?usage: $0 path/to/test_ha}
here=$(cd "$(dirname "$0")" && pwd -P)
ha="$here/ha_cluster.sh"
# The whole run, cluster start and stop included, fits in this.
readonly BOUND=240

if ! reason=$("$ha" check); then
    echo "test_ha: $reason, skipped"
    exit 77
fi

dir=$(mktemp -d /tmp/dbal-ha-XXXXXX)
chmod 755 "$dir"
cleanup() {
    "$ha" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS
if ! "$ha" start "$dir"; then
    echo "test_ha: the cluster did not start" >&2
    exit 1
fi
echo "# ha cluster: etcd, 3 Patroni nodes and HAProxy started in $((SECONDS - t0)) s"
# shellcheck disable=SC1091
source "$dir/env"
export DBAL_HA_SCRIPT="$ha"
rc=0
timeout -k 5 $((BOUND - (SECONDS - t0))) "$prog" || rc=$?
[ "$rc" -ne 124 ] || echo "test_ha: over its bound of $BOUND s, stopped" >&2
exit "$rc"
