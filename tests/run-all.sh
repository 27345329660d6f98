#!/usr/bin/env bash
# THE one command to build dbal and run its whole test suite, PostgreSQL
# included, on a fresh Debian 12 machine:
#
#   tests/run-all.sh          (as root: installs missing packages with apt-get)
#
# Every build is configured with -DDBAL_WERROR=ON: a compiler warning fails it.
# Passes:
#   build      build/       RelWithDebInfo, -DDBAL_POSTGRESQL=ON
#   build-asan build-asan/  Debug, -DDBAL_SANITIZE=address,undefined
#   build-tsan build-tsan/  Debug, -DDBAL_SANITIZE=thread, the tests labelled "threads"
#   fuzz       build-fuzz/  every libFuzzer target for DBAL_FUZZ_SECONDS (default 30) each (fuzz/run)
#   bare-debian             as root on Debian: tests/bare_debian.sh, the README's
#                           commands in a bare Debian 12 tree made with debootstrap
#                           (minbase) from the configured mirror: proves PACKAGES
# The build pass includes valgrind memcheck of the conformance suite and the
# single-threaded suites (label "valgrind"; any error or leak fails).
# Each pass gets its own throwaway PostgreSQL cluster (tests/pg_cluster.sh) in a
# mktemp -d directory, stopped and removed on exit whatever happens.
#
# Environment:
#   DBAL_SKIP_ASAN=1        skip the sanitizer passes
#   DBAL_SKIP_FUZZ=1        skip the fuzz pass
#   DBAL_SKIP_BARE=1        skip the bare-debian pass
#   DBAL_CTEST_ARGS="..."   more ctest arguments for the build pass (e.g. -LE valgrind)
#   DBAL_FUZZ_SECONDS=N     seconds per fuzz target (default 30)
#   DBAL_TEST_PG_URL=...    use that server instead of starting one
#
#   tests/run-all.sh --packages-only   installs what is missing and stops
#
# Ends with one summary line per pass and, as the very last line,
# "N passed, N failed" totalled over the passes (a pass that fails to
# configure/build, or whose ctest gives no summary, counts as 1 failed).
# Exits non-zero if anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

log() { printf '\n=== %s\n' "$*"; }

# ---------------------------------------------------------------- packages
PACKAGES=(build-essential cmake pkg-config file libsqlite3-dev libpq-dev libcmocka-dev postgresql valgrind
          libmicrohttpd-dev libjansson-dev curl python3 clang libclang-rt-dev clang-format groff-base man-db pgbouncer libuv1-dev patroni python3-etcd etcd-server haproxy)

# Only for the bare-debian pass, on this machine: not part of what dbal needs,
# so not in PACKAGES (which the pass proves on a bare Debian 12).
BARE_PACKAGES=(debootstrap)

pkg_installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

pg_server_present() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
    done
    return 1
}

# install_missing PACKAGE...: apt-get installs those not installed (as root;
# otherwise says what to install and exits).
install_missing() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0

    if [ "$(id -u)" -ne 0 ]; then
        echo "run-all.sh: missing packages: ${missing[*]}" >&2
        echo "install them with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # postgresql Depends on postgresql-NN, which holds the server binaries
    # (/usr/lib/postgresql/NN/bin), so --no-install-recommends is fine.
    apt-get install -y --no-install-recommends "${missing[@]}"
}

ensure_packages() {
    if ! command -v dpkg >/dev/null 2>&1; then
        echo "run-all.sh: dpkg not found; not a Debian system, assuming build dependencies are present" >&2
        return 0
    fi
    install_missing "${PACKAGES[@]}"
    if [ -z "${DBAL_TEST_PG_URL:-}" ] && ! pg_server_present; then
        echo "run-all.sh: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin;" >&2
        echo "  reinstall it: apt-get install --reinstall postgresql postgresql-15" >&2
        exit 1
    fi
}

if [ "${1:-}" = --packages-only ]; then
    ensure_packages
    exit 0
elif [ $# -gt 0 ]; then
    echo "usage: tests/run-all.sh [--packages-only]" >&2
    exit 2
fi

# ------------------------------------------------------- cluster + cleanup
CLUSTER_DIRS=()
cleanup() {
    local rc=$? d
    trap - EXIT INT TERM
    for d in "${CLUSTER_DIRS[@]+"${CLUSTER_DIRS[@]}"}"; do
        "$ROOT/tests/pg_cluster.sh" stop "$d" >/dev/null 2>&1 || true
        rm -rf -- "$d"
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "run-all.sh: interrupted" >&2; exit 130' INT
trap 'echo "run-all.sh: terminated" >&2; exit 143' TERM

EXTERNAL_PG=0
[ -n "${DBAL_TEST_PG_URL:-}" ] && EXTERNAL_PG=1

# Start a fresh cluster and export its env (unless an external server is used).
start_cluster() {
    if [ "$EXTERNAL_PG" -eq 1 ]; then
        echo "using the external server from DBAL_TEST_PG_URL"
        return 0
    fi
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/dbal-pg.XXXXXXXX")
    CLUSTER_DIRS+=("$d")
    "$ROOT/tests/pg_cluster.sh" start "$d" || return 1
    # shellcheck disable=SC1091
    source "$d/env"
}

stop_cluster() {
    [ "$EXTERNAL_PG" -eq 1 ] && return 0
    [ ${#CLUSTER_DIRS[@]} -gt 0 ] || return 0
    local d=${CLUSTER_DIRS[${#CLUSTER_DIRS[@]}-1]}
    "$ROOT/tests/pg_cluster.sh" stop "$d" || true
}

# ------------------------------------------------------------------ passes
INTERRUPTED=0
TOTAL_PASSED=0
TOTAL_FAILED=0
SUMMARY=()

# A pass that could not run its tests counts as 1 failed.
pass_failed() { # NAME REASON
    SUMMARY+=("$1: 0 passed, 1 failed ($2)")
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
}

# run_pass NAME BUILDDIR [cmake args...]
run_pass() {
    local name=$1 dir=$2
    shift 2
    local out line total passed failed rc=0

    log "$name: configure"
    # DBAL_BUILD_TESTS=ON: the README's command 1 configures build/ with it
    # OFF, and a cached OFF would stay.
    if ! cmake -S . -B "$dir" -DDBAL_BUILD_TESTS=ON -DDBAL_POSTGRESQL=ON -DDBAL_WERROR=ON "$@"; then
        pass_failed "$name" "configure failed"; return 0
    fi
    log "$name: build"
    if ! cmake --build "$dir" -j2; then
        pass_failed "$name" "build failed"; return 0
    fi

    log "$name: PostgreSQL"
    if ! start_cluster; then
        pass_failed "$name" "PostgreSQL cluster failed to start"; return 0
    fi

    log "$name: ctest"
    # --output-log rather than a pipe to tee: nothing of ours waits on a pipe
    # that a (re)started server might have inherited.
    out="$dir/run-all-ctest.log"
    rm -f "$out"
    ctest --test-dir "$dir" --output-on-failure --output-log "$out" ${PASS_CTEST_ARGS:-} || rc=$?
    stop_cluster
    # What ran inside each test program: cases per URL, the fault tests' figures.
    echo "--- $name: cases per test program"
    grep -hE '^[0-9]+/[0-9]+ Testing:|^conformance on|^# |\[  (PASSED|FAILED|SKIPPED) *\] [0-9]+ test' \
        "$dir/Testing/Temporary/LastTest.log" 2>/dev/null || true
    # ctest catches SIGINT itself (so bash never sees it): stop after this pass.
    if grep -q '(INTERRUPT)' "$out" 2>/dev/null; then
        INTERRUPTED=1
    fi

    # "100% tests passed, 0 tests failed out of 23"
    # "91% tests passed, 2 tests failed out of 23"
    line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$out" 2>/dev/null | tail -n 1 || true)
    if [ -z "$line" ]; then
        if grep -q 'No tests were found' "$out" 2>/dev/null; then
            pass_failed "$name" "no tests found"
        else
            pass_failed "$name" "ctest exited $rc without a summary"
        fi
        return 0
    fi
    failed=$(sed -E 's/.*[^0-9]([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<" $line")
    total=$(sed -E 's/.*[^0-9]([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<" $line")
    passed=$((total - failed))
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        # ctest failed without counting a failed test: count one.
        SUMMARY+=("$name: $passed passed, 1 failed (ctest exited $rc)")
        TOTAL_PASSED=$((TOTAL_PASSED + passed))
        TOTAL_FAILED=$((TOTAL_FAILED + 1))
        return 0
    fi
    SUMMARY+=("$name: $passed passed, $failed failed")
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
}

ensure_packages

export DBAL_TEST_REQUIRE_PG=1

PASS_CTEST_ARGS=${DBAL_CTEST_ARGS:-} run_pass build build -DCMAKE_BUILD_TYPE=RelWithDebInfo

if [ "$INTERRUPTED" -eq 1 ]; then
    SUMMARY+=("build-asan: skipped (interrupted)")
elif [ "${DBAL_SKIP_ASAN:-0}" = 1 ]; then
    SUMMARY+=("build-asan: skipped (DBAL_SKIP_ASAN=1)")
else
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_pass build-asan build-asan -DCMAKE_BUILD_TYPE=Debug -DDBAL_SANITIZE=address,undefined
    if [ "$INTERRUPTED" -eq 0 ]; then
        export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
        PASS_CTEST_ARGS="-L threads" run_pass build-tsan build-tsan -DCMAKE_BUILD_TYPE=Debug -DDBAL_SANITIZE=thread
    fi
fi

# fuzz/run prints one line per target and exits non-zero on any crash, leak
# or failure to build.
if [ "$INTERRUPTED" -eq 1 ]; then
    SUMMARY+=("fuzz: skipped (interrupted)")
elif [ "${DBAL_SKIP_FUZZ:-0}" = 1 ]; then
    SUMMARY+=("fuzz: skipped (DBAL_SKIP_FUZZ=1)")
else
    log "fuzz: ${DBAL_FUZZ_SECONDS:-30}s per target"
    flog=$(mktemp "${TMPDIR:-/tmp}/dbal-fuzz-log.XXXXXX")
    frc=0
    DBAL_WERROR=ON "$ROOT/fuzz/run" "${DBAL_FUZZ_SECONDS:-30}" >"$flog" 2>&1 || frc=$?
    cat "$flog"
    fpassed=$(grep -c '^fuzz_[a-z]*: [0-9?]* executions' "$flog" || true)
    ffailed=$(grep -c '^fuzz_[a-z]*: FAILED' "$flog" || true)
    rm -f "$flog"
    if [ "$frc" -ne 0 ] && [ "$ffailed" -eq 0 ]; then
        pass_failed fuzz "fuzz/run exited $frc"
    else
        SUMMARY+=("fuzz: $fpassed passed, $ffailed failed")
        TOTAL_PASSED=$((TOTAL_PASSED + fpassed))
        TOTAL_FAILED=$((TOTAL_FAILED + ffailed))
    fi
fi

# tests/bare_debian.sh prints "bare-debian: PHASE: passed|FAILED" for each
# of its phases and exits non-zero on any failure. As root on Debian only.
if [ "$INTERRUPTED" -eq 1 ]; then
    SUMMARY+=("bare-debian: skipped (interrupted)")
elif [ "${DBAL_SKIP_BARE:-0}" = 1 ]; then
    SUMMARY+=("bare-debian: skipped (DBAL_SKIP_BARE=1)")
elif [ "$(id -u)" -ne 0 ] || [ ! -r /etc/debian_version ] || ! command -v dpkg >/dev/null 2>&1; then
    SUMMARY+=("bare-debian: skipped (needs root on Debian)")
else
    log "bare-debian: the README's commands on a bare Debian 12 (tests/bare_debian.sh)"
    if ! (install_missing "${BARE_PACKAGES[@]}"); then
        pass_failed bare-debian "could not install ${BARE_PACKAGES[*]}"
    else
        blog=$(mktemp "${TMPDIR:-/tmp}/dbal-bare-log.XXXXXX")
        bref=()
        [ -f build/CTestTestfile.cmake ] && bref=(--reference "$ROOT/build")
        brc=0
        # tee -i: a Ctrl-C leaves the reader to bare_debian.sh's cleanup.
        "$ROOT/tests/bare_debian.sh" "${bref[@]+"${bref[@]}"}" 2>&1 | tee -i "$blog" || brc=$?
        bpassed=$(grep -cE '^bare-debian: [a-z0-9-]+: passed' "$blog" || true)
        bfailed=$(grep -cE '^bare-debian: [a-z0-9-]+: FAILED' "$blog" || true)
        rm -f "$blog"
        if [ "$brc" -ne 0 ] && [ "$bfailed" -eq 0 ]; then
            pass_failed bare-debian "tests/bare_debian.sh exited $brc"
        else
            SUMMARY+=("bare-debian: $bpassed passed, $bfailed failed")
            TOTAL_PASSED=$((TOTAL_PASSED + bpassed))
            TOTAL_FAILED=$((TOTAL_FAILED + bfailed))
        fi
    fi
fi

echo
echo "=== summary"
printf '%s\n' "${SUMMARY[@]}"
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$INTERRUPTED" -eq 0 ] || exit 130
[ "$TOTAL_FAILED" -eq 0 ]
