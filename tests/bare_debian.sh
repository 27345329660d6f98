#!/usr/bin/env bash
# The README's two commands on a bare Debian 12, as a new user runs them:
#
#   tests/bare_debian.sh [--reference BUILD_DIR]      (as root)
#
# Makes a debootstrap --variant=minbase bookworm tree from the mirror of this
# machine's apt sources (or takes it from the cache, /var/cache/dbal-bare/),
# and runs the README's commands in two fresh copies of it, one after the
# other, each with the repository's tracked files (as they are in the working
# tree) in /root/dbal, in a chroot in its own PID, mount and IPC namespaces.
#
# The first copy: command 1, then command 2 in the same clone, as the README
# says to run them.
#   readme-command-1   the line after "# 1." of the README's first ```sh
#                      block, word for word; its last lines must be the ones
#                      the README says it prints
#   command-2-after-1  tests/run-all.sh (its build pass, only test_quickstart
#                      and test_install run) over the build/ command 1 left
# The second copy: command 2 alone, so that PACKAGES is proved by itself
# (command 1 installs some of them).
#   packages           tests/run-all.sh --packages-only
#   build-pass         tests/run-all.sh with DBAL_SKIP_ASAN=1 DBAL_SKIP_FUZZ=1
#                      DBAL_SKIP_BARE=1 DBAL_CTEST_ARGS="-LE valgrind": the
#                      build pass, its own PostgreSQL included, every test but
#                      valgrind's
#   system-install     cmake --install build into /usr/local, then the
#                      README's first program (with its build commands, word
#                      for word) and the DESIGN quick-start compiled with
#                      pkg-config alone (no rpath, no LD_LIBRARY_PATH) and run
# After each run-all.sh no test may have been skipped, and with --reference
# every test of BUILD_DIR (the host's build, same options) must be there too:
# a test that a package enables is not silently lost.
#
# Prints "bare-debian: PHASE: passed (Ns)" or "bare-debian: PHASE: FAILED
# (why)" for each and exits non-zero on any failure (a phase after a failed
# one is skipped). An unreachable mirror is a failure.
#
# Nothing is left behind: mounts live in the namespace and go with it, every
# process of the chroot is killed when its phase ends (or the script is
# interrupted or killed), and the tree is deleted once nothing is mounted in it.
#
# Environment:
#   DBAL_BARE_MIRROR=URL        mirror (default: the host's apt sources, else
#                               http://deb.debian.org/debian)
#   DBAL_BARE_CACHE=DIR         cache (default /var/cache/dbal-bare): the
#                               pristine tree as SUITE-VARIANT-ARCH.tar.gz, and
#                               the .debs apt downloads (bind-mounted onto the
#                               chroot's /var/cache/apt/archives)
#   DBAL_BARE_MAX_AGE_DAYS=N    a cached tree older than that is made anew (30)
#   DBAL_BARE_TIMEOUT=S         the whole job's limit in seconds (1200: a cold cache, test_ha and a busy host fit)
#   DBAL_BARE_KEEP_GOING=1      run every phase even after a failure
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SUITE=bookworm
VARIANT=minbase
CACHE=${DBAL_BARE_CACHE:-/var/cache/dbal-bare}
MAX_AGE_DAYS=${DBAL_BARE_MAX_AGE_DAYS:-30}
TIMEOUT=${DBAL_BARE_TIMEOUT:-1200}
WORKBASE=/var/tmp
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

REFERENCE=
while [ $# -gt 0 ]; do
    case "$1" in
        --reference) [ $# -ge 2 ] || { echo "usage: $0 [--reference BUILD_DIR]" >&2; exit 2; }
                     REFERENCE=$2; shift 2 ;;
        *) echo "usage: $0 [--reference BUILD_DIR]" >&2; exit 2 ;;
    esac
done

say() { printf '\n=== bare-debian: %s\n' "$*"; }
die() { echo "bare-debian: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, mounts)"
for tool in debootstrap unshare setpriv timeout flock findmnt chroot wget; do
    command -v "$tool" >/dev/null || die "$tool not found (tests/run-all.sh installs debootstrap; the rest is util-linux, coreutils, wget)"
done
ARCH=$(dpkg --print-architecture)
KEY=$SUITE-$VARIANT-$ARCH
T0=$SECONDS
DEADLINE=$((SECONDS + TIMEOUT))

# ------------------------------------------------------------------ mirror
# The first "deb" URI for $SUITE in the host's deb822 sources, else in its
# one-line sources, else deb.debian.org.
host_mirror() {
    local f uri=
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        uri=$(awk -v suite="$SUITE" '
            BEGIN { RS = ""; FS = "\n" }
            {
                types = ""; uris = ""; suites = ""
                for (i = 1; i <= NF; i++) {
                    line = $i
                    if (line ~ /^[ \t]*#/) continue
                    key = tolower(line); sub(/:.*/, "", key)
                    val = line; sub(/^[^:]*:[ \t]*/, "", val)
                    if (key == "types") types = val
                    else if (key == "uris") uris = val
                    else if (key == "suites") suites = val
                }
                if ((" " types " ") ~ / deb / && (" " suites " ") ~ (" " suite " ")) {
                    split(uris, u, /[ \t]+/); print u[1]; exit
                }
            }' "$f")
        [ -z "$uri" ] || break
    done
    if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
        uri=$(awk -v suite="$SUITE" '$1 == "deb" {
                  i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[|\]$/) i++
                  if ($(i + 1) == suite) { print $i; exit } }' /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR=${DBAL_BARE_MIRROR:-$(host_mirror)}
MIRROR=${MIRROR%/}

# ------------------------------------------------- work dir, cleanup, traps
mkdir -p "$CACHE" "$WORKBASE"

mounted_under() { # DIR: mount points at or under DIR, deepest first (host's view)
    findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1 || $0 == d' | sort -r
}
# processes whose root or working directory is in DIR
procs_in() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case "$r/" in "$1"/*) echo "${p#/proc/}"; continue ;; esac
        r=$(readlink "$p/cwd" 2>/dev/null) || continue
        case "$r/" in "$1"/*) echo "${p#/proc/}" ;; esac
    done
}
# Deletes DIR once no process runs in it and nothing is mounted in it.
remove_tree() { # DIR
    local d=$1 m pids
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(procs_in "$d")
        [ -n "$pids" ] || break
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.5
    done
    for m in $(mounted_under "$d"); do
        umount -l "$m" 2>/dev/null || true
    done
    if [ -n "$(mounted_under "$d")" ] || [ -n "$(procs_in "$d")" ]; then
        echo "bare-debian: NOT removing $d: still in use:" >&2
        mounted_under "$d" >&2
        procs_in "$d" >&2
        return 1
    fi
    rm -rf --one-file-system -- "$d"
}

# Trees of runs that were killed (SIGKILL leaves no trap to run).
for old in "$WORKBASE"/dbal-bare.*; do
    [ -d "$old" ] || continue
    pid=$(cat "$old/owner.pid" 2>/dev/null || echo)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q bare_debian "/proc/$pid/cmdline" 2>/dev/null; then
        continue
    fi
    echo "bare-debian: removing $old, left by a run that was killed"
    remove_tree "$old" || true
done

WORK=$(mktemp -d "$WORKBASE/dbal-bare.XXXXXX")
echo $$ > "$WORK/owner.pid"
R=
CHILD=

# shellcheck disable=SC2317  # (a trap)
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    trap '' PIPE      # a reader gone (tee killed with us) must not stop the cleanup
    if [ -n "$CHILD" ]; then
        kill -KILL "$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    remove_tree "$WORK" || rc=1
    exit "$rc"
}
trap cleanup EXIT
trap 'trap "" PIPE; echo "bare-debian: interrupted" >&2; exit 130' INT
trap 'trap "" PIPE; echo "bare-debian: terminated" >&2; exit 143' TERM
trap 'exit 129' HUP

left() { # seconds left before DEADLINE (at least 1)
    local l=$((DEADLINE - SECONDS))
    [ "$l" -gt 0 ] || l=1
    echo "$l"
}

# run_ns CMD...: runs CMD in its own PID, mount and IPC namespaces, killed
# with all it started when it ends, when the time is up, or when this script
# dies however it dies: timeout and unshare each die with their parent
# (setpriv --pdeathsig), and unshare --kill-child takes the namespace's init,
# and so every process in it, with it. Waits in the background so that a trap
# runs at once.
run_ns() {
    local rc=0
    setpriv --pdeathsig KILL -- timeout -s KILL "$(left)" \
        setpriv --pdeathsig KILL -- \
        unshare --pid --mount --ipc --fork --kill-child --propagation private -- "$@" </dev/null 8>&- 9>&- &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=
    [ "$rc" -ne 137 ] || [ "$SECONDS" -lt "$DEADLINE" ] ||
        echo "bare-debian: time is up (DBAL_BARE_TIMEOUT=$TIMEOUT s)" >&2
    return "$rc"
}

# ------------------------------------------------------------ phase results
PASSED=0
FAILED=0
STOPPED=0
phase_passed() { # NAME T_START
    printf 'bare-debian: %s: passed (%ds)\n' "$1" $((SECONDS - $2))
    PASSED=$((PASSED + 1))
}
phase_failed() { # NAME WHY
    printf 'bare-debian: %s: FAILED (%s)\n' "$1" "$2"
    FAILED=$((FAILED + 1))
    [ "${DBAL_BARE_KEEP_GOING:-0}" = 1 ] || STOPPED=1
}
# should_run NAME: false (and says so) after a failure
should_run() {
    if [ "$STOPPED" -eq 1 ]; then
        printf 'bare-debian: %s: skipped (an earlier phase failed)\n' "$1"
        return 1
    fi
    say "$1"
}
finish() {
    printf 'bare-debian: %d passed, %d failed, %ds in all\n' "$PASSED" "$FAILED" $((SECONDS - T0))
    [ "$FAILED" -eq 0 ] || exit 1
    exit 0
}

# ------------------------------------------------------------------- tree
say "tree: $SUITE $VARIANT $ARCH from $MIRROR"
t=$SECONDS
# The mirror answers? (A cached tree still needs it: apt-get update.)
if ! wget -q -T 20 -t 2 -O /dev/null "$MIRROR/dists/$SUITE/InRelease"; then
    phase_failed tree "mirror $MIRROR unreachable: no $MIRROR/dists/$SUITE/InRelease"
    finish
fi

TARBALL=$CACHE/$KEY.tar.gz
FRESH=    # a tree debootstrap just made, used as the first copy
exec 9>"$CACHE/$KEY.lock"
flock -w "$(left)" 9 || { phase_failed tree "timed out waiting for $CACHE/$KEY.lock"; finish; }
if [ -f "$TARBALL" ] && [ -z "$(find "$TARBALL" -mtime +"$MAX_AGE_DAYS")" ]; then
    echo "cache hit: $TARBALL"
else
    echo "cache miss: debootstrap (log: $WORK/debootstrap.log)"
    [ -r "$KEYRING" ] || { phase_failed tree "$KEYRING missing (apt-get install debian-archive-keyring)"; finish; }
    FRESH=$WORK/debootstrap
    # In a namespace of its own too: whatever it mounts goes with it.
    if ! run_ns debootstrap --variant="$VARIANT" --arch="$ARCH" --keyring="$KEYRING" \
            "$SUITE" "$FRESH" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
        tail -n 30 "$WORK/debootstrap.log"
        phase_failed tree "debootstrap $SUITE from $MIRROR failed (last lines above)"
        finish
    fi
    # What debootstrap downloaded is no part of a bare machine.
    rm -f "$FRESH"/var/cache/apt/archives/*.deb
    if ! { tar -C "$FRESH" --numeric-owner -czf "$TARBALL.tmp" . && mv -f "$TARBALL.tmp" "$TARBALL"; }; then
        rm -f "$TARBALL.tmp"
        phase_failed tree "could not write $TARBALL"
        finish
    fi
    echo "cached: $TARBALL"
fi
exec 9>&-
printf 'bare-debian: tree ready (%ds)\n' $((SECONDS - t))

# The .debs apt downloads, kept between runs (the trees stay bare: nothing
# is installed). Only one run at a time uses them; another goes without.
DEBS=$CACHE/debs-$SUITE-$ARCH
mkdir -p "$DEBS/partial"
exec 8>"$DEBS.lock"
if ! flock -n 8; then
    echo "bare-debian: $DEBS in use by another run: downloading without it"
    DEBS=
fi

# new_copy NAME: R=$WORK/NAME, a fresh copy of the pristine tree, set up as a
# new machine is, with the repository in /root/dbal.
new_copy() {
    local t=$SECONDS
    R=$WORK/$1
    if [ -n "$FRESH" ]; then
        mv "$FRESH" "$R"
        FRESH=
    else
        mkdir "$R"
        tar -C "$R" --numeric-owner -xzf "$TARBALL" || return 1
    fi
    # What a machine's installer writes and a debootstrap tree lacks: how to
    # resolve names, and the apt sources this machine was given.
    cp -L /etc/resolv.conf "$R/etc/resolv.conf"
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$R/etc/hosts"
    if [ -z "${DBAL_BARE_MIRROR:-}" ] && [ -r /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$R/etc/apt/sources.list.d/debian.sources"
        : > "$R/etc/apt/sources.list"
    fi
    # /dev/ptmx of the chroot's own devpts instance.
    rm -f "$R/dev/ptmx" && ln -s pts/ptmx "$R/dev/ptmx"

    # The repository as it is in the working tree: its tracked files
    # (outside a git checkout: everything but .git and build*/).
    mkdir -p "$R/root/dbal" "$R/root/.bare"
    if command -v git >/dev/null && git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$ROOT" && git ls-files -z | while IFS= read -r -d '' f; do
             if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
         done | tar --null -T - -cf -)
    else
        tar -C "$ROOT" --exclude=./.git --exclude='./build*' -cf - .
    fi | tar -C "$R/root/dbal" -xf - || return 1
    printf 'bare-debian: a fresh copy of the tree in %s (%ds)\n' "$R" $((SECONDS - t))
}

# in_chroot NAME: runs /root/.bare/NAME.sh with bash in the chroot $R, as
# root logged in on a new machine (a clean environment), with proc, sys,
# devpts and a /dev/shm tmpfs mounted (and the .deb cache).
# shellcheck disable=SC2016  # (expanded by the namespace's shell)
SETUP='set -eu
R=$1 DEBS=$2 SCRIPT=$3
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
[ -z "$DEBS" ] || mount --bind "$DEBS" "$R/var/cache/apt/archives"
exec chroot "$R" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash "$SCRIPT"'
in_chroot() { # NAME
    run_ns bash -c "$SETUP" bare-setup "$R" "$DEBS" "/root/.bare/$1.sh"
}

# run_all PHASE CTEST_ARGS: tests/run-all.sh's build pass in $R's clone,
# then the tests it configured: none skipped, none of --reference missing.
run_all() {
    local phase=$1 log missing
    cat > "$R/root/.bare/$phase.sh" <<EOF
cd /root/dbal
rc=0
DBAL_SKIP_ASAN=1 DBAL_SKIP_FUZZ=1 DBAL_SKIP_BARE=1 DBAL_CTEST_ARGS='$2' tests/run-all.sh || rc=\$?
ctest --test-dir build -N | sed -n 's/^ *Test *#[0-9]*: //p' | sort > /root/.bare/tests
exit "\$rc"
EOF
    if ! in_chroot "$phase"; then
        phase_failed "$phase" "tests/run-all.sh failed (output above)"
        return
    fi
    log=$R/root/dbal/build/run-all-ctest.log
    if [ ! -s "$R/root/.bare/tests" ]; then
        phase_failed "$phase" "no tests in the chroot's build/"
        return
    fi
    if grep -qE '\*\*\*(Skipped|Not Run)|tests did not run' "$log"; then
        sed -n '/tests did not run/,$p' "$log" | head -n 40
        phase_failed "$phase" "tests were skipped (a package missing?)"
        return
    fi
    if [ -n "$REFERENCE" ]; then
        missing=$(comm -23 "$WORK/reference-tests" "$R/root/.bare/tests")
        if [ -n "$missing" ]; then
            echo "--- tests of $REFERENCE that the bare machine's build/ does not have:"
            echo "$missing"
            phase_failed "$phase" "$(wc -l <<<"$missing") tests missing (their packages are not in PACKAGES?)"
            return
        fi
        echo "all $(wc -l < "$WORK/reference-tests") tests of $REFERENCE are there"
    fi
    phase_passed "$phase" "$t"
}

if [ -n "$REFERENCE" ]; then
    if [ -f "$REFERENCE/CTestTestfile.cmake" ]; then
        ctest --test-dir "$REFERENCE" -N | sed -n 's/^ *Test *#[0-9]*: //p' | sort > "$WORK/reference-tests"
    else
        echo "bare-debian: no ctest tree in $REFERENCE: the tests are not compared"
        REFERENCE=
    fi
fi

# ---------------------------------- first copy: command 1, then command 2
new_copy after-1 || { phase_failed tree "could not make a copy of the tree"; finish; }

if should_run readme-command-1; then
    t=$SECONDS
    cmd1=$(awk '/^```sh/ && !inb { inb = 1; next }
                inb && /^```/ { exit }
                inb && take { print; exit }
                inb && /^# 1\./ { take = 1 }' "$ROOT/README.md")
    awk '/^The first prints:/ { f = 1; next }
         f && /^```/ { if (g) exit; g = 1; next }
         g' "$ROOT/README.md" > "$WORK/promised"
    if [ -z "$cmd1" ] || [ ! -s "$WORK/promised" ]; then
        phase_failed readme-command-1 "README.md: no command after '# 1.' in the first sh block, or no block after 'The first prints:'"
    else
        echo "\$ $cmd1"
        printf '%s\n' "$cmd1" > "$R/root/.bare/command-1"
        cat > "$R/root/.bare/readme-command-1.sh" <<'EOF'
set -o pipefail
cd /root/dbal
bash /root/.bare/command-1 | tee /root/.bare/command-1.out
EOF
        if ! in_chroot readme-command-1; then
            phase_failed readme-command-1 "the command failed (output above)"
        elif ! tail -n "$(wc -l < "$WORK/promised")" "$R/root/.bare/command-1.out" | cmp -s - "$WORK/promised"; then
            echo "--- the README promises:"; cat "$WORK/promised"
            echo "--- it printed (last lines):"; tail -n "$(wc -l < "$WORK/promised")" "$R/root/.bare/command-1.out"
            phase_failed readme-command-1 "output differs from the README's"
        else
            phase_passed readme-command-1 "$t"
        fi
    fi
fi

if should_run command-2-after-1; then
    t=$SECONDS
    run_all command-2-after-1 '-R ^(test_quickstart|test_install)$'
fi
remove_tree "$R" || { phase_failed tree "could not remove $R"; finish; }

# ------------------------------------------- second copy: command 2 alone
if [ "$STOPPED" -eq 0 ]; then
    new_copy alone || { phase_failed tree "could not make a copy of the tree"; finish; }
fi

if should_run packages; then
    t=$SECONDS
    cat > "$R/root/.bare/packages.sh" <<'EOF'
cd /root/dbal
tests/run-all.sh --packages-only || exit
# The .deb cache: drop what the mirror no longer has.
apt-get -q autoclean >/dev/null || true
EOF
    if in_chroot packages; then
        phase_passed packages "$t"
    else
        phase_failed packages "tests/run-all.sh --packages-only failed (output above)"
    fi
fi

if should_run build-pass; then
    t=$SECONDS
    run_all build-pass '-LE valgrind'
fi

# ----------------------------------------- installed into /usr/local
if should_run system-install; then
    t=$SECONDS
    # The README's first program and its "Build it against an installed
    # dbal" block, copied as a user copies them.
    awk '/^## Using dbal in a program/ { f = 1 } f && /^```c/ { g = 1; next } g && /^```/ { exit } g' \
        "$ROOT/README.md" > "$R/root/.bare/app.c"
    awk '/^Build it against an installed dbal/ { f = 1; next } f && /^```/ { if (g) exit; g = 1; next } g' \
        "$ROOT/README.md" > "$R/root/.bare/build-app"
    cat > "$R/root/.bare/system-install.sh" <<'EOF'
set -euo pipefail
fail() { echo "system-install: $*" >&2; exit 1; }
unset LD_LIBRARY_PATH DBAL_DRIVER_PATH
cd /root/dbal
cmake --install build
grep -q dbal_engine_open_env /root/.bare/app.c || fail "the README's first program was not found"
grep -q 'pkg-config' /root/.bare/build-app || fail "the README's build command was not found"
mkdir /root/app && cd /root/app
cp /root/.bare/app.c app.c
sed 's/^/$ /' /root/.bare/build-app
out=$(bash /root/.bare/build-app) || fail "the README's build-and-run commands failed: $out"
echo "$out"
grep -qx '1 widget' <<<"$out" || fail "the README program did not print '1 widget'"
! readelf -d app | grep -Eq 'RPATH|RUNPATH' || fail "app has an rpath"
lib=$(ldd ./app | awk '$1 == "libdbal.so.0" { print $3 }')
echo "libdbal.so.0 => $lib"
case "$lib" in /usr/local/lib/*) ;; *) fail "libdbal.so.0 found at '$lib', not in /usr/local/lib";; esac
out=$(./app) || fail "the README program failed on sqlite::memory:"
grep -qx '1 widget' <<<"$out" || fail "the README program printed: $out"
# The DESIGN quick-start the same way.
cc -std=c11 -o quick /root/dbal/tests/design_quickstart.c $(pkg-config --cflags --libs dbal)
out=$(./quick) || fail "the quick-start failed"
grep -qx '1 widget' <<<"$out" || fail "the quick-start printed: $out"
echo "the README program and the quick-start run from /usr/local with no rpath and no LD_LIBRARY_PATH"
# The installed command-line client (its rpath is \$ORIGIN/../lib).
dbal --version || fail "the installed dbal command does not run"
EOF
    if in_chroot system-install; then
        phase_passed system-install "$t"
    else
        phase_failed system-install "see above"
    fi
fi

finish
