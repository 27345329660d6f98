#!/usr/bin/env bash
# A commit whose wait for the synchronous standby is cut short
# (tests/test_syncrep.c), on a cluster of its own: the shared test cluster's
# settings stay as they are.
#
#   tests/test_syncrep.sh path/to/test_syncrep
#
# Starts a cluster in a temporary directory with tests/pg_cluster.sh,
# names a synchronous standby that never connects ('ghost') with
# synchronous_commit on, so that every commit that writes waits until it is
# canceled, and stops it at exit. Without PostgreSQL's server programs it
# is skipped (77), or fails when DBAL_TEST_REQUIRE_PG=1.
set -euo pipefail

prog=${1:?usage: $0 path/to/test_syncrep}
here=$(cd "$(dirname "$0")" && pwd -P)
cluster="$here/pg_cluster.sh"
. "$here/pg_require.sh"
pg_require_programs test_syncrep initdb

dir=$(mktemp -d /tmp/dbal-syncrep-XXXXXX)
chmod 755 "$dir"
child=
cleanup() {
    [ -z "$child" ] || kill "$child" 2>/dev/null || true
    "$cluster" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
# ctest's timeout, or ^C: the cluster is stopped all the same.
trap 'exit 143' TERM INT HUP

# A port of its own: never the one a developer's PGPORT names.
env -u PGPORT "$cluster" start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/env"
psql=("$DBAL_TEST_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$DBAL_TEST_PG_URL")
"${psql[@]}" -c "ALTER SYSTEM SET synchronous_standby_names = 'ghost'" \
    -c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 100); do
    [ "$("${psql[@]}" -At -c 'SHOW synchronous_standby_names')" = ghost ] && break
    sleep 0.1
done

DBAL_TEST_SYNCREP_URL="$DBAL_TEST_PG_URL" "$prog" &
child=$!
wait "$child"
