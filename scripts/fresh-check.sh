#!/bin/bash
# Proves the README's two commands on a fresh Debian 12: builds a minimal bookworm root with
# mmdebstrap (this machine's apt sources), puts a clean clone of HEAD in it, and runs
# `scripts/run.sh` then `scripts/test.sh` there (CI=true, no stdin), in a chroot with its own
# /proc, /dev, /dev/pts, /sys and /run, inside its own mount and PID namespaces (unshare), so
# nothing it mounts or starts outlives it. Prints both exit codes and times.
#
# Run by hand, as root, not from CI (CI runs on a machine that already has the packages):
#   scripts/fresh-check.sh [--rebuild] [--keep] [--apt-cache]
#     --rebuild    build the root tarball again (it is cached, see below)
#     --keep       keep the unpacked root afterwards (its path is printed)
#     --apt-cache  keep downloaded .debs between runs in $CACHE/fresh-apt-archives (faster
#                  reruns; the times are then not those of a fresh machine)
#
# Environment:
#   SMTPPROBE_FRESH_CACHE    cache directory, default /var/cache/smtpprobe: the root tarball
#                            fresh-bookworm-minbase.tar, rebuilt when older than 7 days
#   SMTPPROBE_FRESH_SOURCES  apt sources file for the root, default the host's
#                            /etc/apt/sources.list.d/debian.sources (else /etc/apt/sources.list)
#   SMTPPROBE_FRESH_WORKDIR  where the root is unpacked, default /var/tmp
#   SUBMISSION_PORT SMTPS_PORT EXIM_PORT SMTPPROBE_FUZZ_SECONDS SMTPPROBE_SKIP_SANITIZE
#                            passed through to the commands inside (the root shares this
#                            machine's network, so the integration ports must be free here)
#   NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR
#                            passed through too, with this machine's local CA certificates
#                            (/usr/local/share/ca-certificates): what every machine here has
#
# The root is `--variant=minbase` plus git and ca-certificates: less than a Debian 12 server
# install has, so a package that only a bigger install brings shows up here.
# Exit status: 0 both commands exited 0; 1 one of them failed; 2 this script failed.
set -euo pipefail

die() { printf 'fresh-check: error: %s\n' "$*" >&2; exit 2; }
say() { printf 'fresh-check: %s\n' "$*"; }

REBUILD=0 KEEP=0 APT_CACHE=0
for arg in "$@"; do
    case $arg in
    --rebuild) REBUILD=1 ;;
    --keep) KEEP=1 ;;
    --apt-cache) APT_CACHE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $arg (see --help)" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, chroot and mount need it)"
for tool in mmdebstrap unshare chroot git tar; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install mmdebstrap util-linux git tar)"
done

SRC=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
HEAD_REV=$(git -C "$SRC" rev-parse HEAD)
HEAD_DESC="$(git -C "$SRC" rev-parse --short HEAD) ($(git -C "$SRC" rev-parse --abbrev-ref HEAD))"
if [ -n "$(git -C "$SRC" status --porcelain --untracked-files=no)" ]; then
    say "WARNING: the work tree has uncommitted changes; only the commit $HEAD_DESC is checked"
fi

CACHE=${SMTPPROBE_FRESH_CACHE:-/var/cache/smtpprobe}
TARBALL=$CACHE/fresh-bookworm-minbase.tar
SOURCES=${SMTPPROBE_FRESH_SOURCES:-}
if [ -z "$SOURCES" ]; then
    if [ -s /etc/apt/sources.list.d/debian.sources ]; then
        SOURCES=/etc/apt/sources.list.d/debian.sources
    else
        SOURCES=/etc/apt/sources.list
    fi
fi
[ -s "$SOURCES" ] || die "no apt sources file $SOURCES (set SMTPPROBE_FRESH_SOURCES)"

# ------------------------------------------------------------------------------ the root
mkdir -p "$CACHE"
if [ -f "$TARBALL" ] && [ "$REBUILD" = 0 ] && [ -n "$(find "$TARBALL" -mtime -7 -print 2>/dev/null)" ]; then
    say "root tarball $TARBALL (built $(date -r "$TARBALL" '+%F %T'); --rebuild to make it again)"
else
    say "building the root tarball with mmdebstrap (bookworm, minbase + git ca-certificates, sources $SOURCES)"
    t0=$(date +%s)
    rm -f "$TARBALL.tmp"
    if ! mmdebstrap --quiet --variant=minbase --include=git,ca-certificates --format=tar \
        bookworm "$TARBALL.tmp" "$SOURCES" >"$CACHE/fresh-mmdebstrap.log" 2>&1; then
        tail -n 30 "$CACHE/fresh-mmdebstrap.log" >&2
        rm -f "$TARBALL.tmp"
        die "mmdebstrap failed (log: $CACHE/fresh-mmdebstrap.log)"
    fi
    mv -f "$TARBALL.tmp" "$TARBALL"
    say "built $TARBALL ($(du -h "$TARBALL" | cut -f1)) in $(($(date +%s) - t0)) s"
fi

WORK=$(mktemp -d "${SMTPPROBE_FRESH_WORKDIR:-/var/tmp}/smtpprobe-fresh.XXXXXX")
R=$WORK/root
LOG=$WORK/run.log

# Mounts are made inside a private mount namespace and vanish with it; this trap still looks
# for any mount under the root in this namespace (there should be none), unmounts it, and
# only then removes the root, never crossing into another file system.
mounts_under() { awk -v r="$R" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r; }
cleanup() {
    local rc=$? m
    trap - EXIT INT TERM
    set +e
    for m in $(mounts_under); do
        say "unmounting left-over $m"
        umount -l "$m"
    done
    if [ -n "$(mounts_under)" ]; then
        say "WARNING: mounts left under $R; not removing it"
    elif [ "$KEEP" = 1 ]; then
        say "root kept in $R (log $LOG)"
    else
        cp -f "$LOG" "$CACHE/fresh-check-last.log" 2>/dev/null
        rm -rf --one-file-system "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$R"
tar --numeric-owner -xpf "$TARBALL" -C "$R"
cp -L /etc/resolv.conf "$R/etc/resolv.conf"
# What every machine of this workplace has beside Debian's packages: its local CA certificates
# (an egress proxy's CA, under /usr/local/share/ca-certificates) and the variables that point
# TLS clients at the store (NODE_EXTRA_CA_CERTS, below). Without them npm cannot reach the
# registry from the root, although it can from any real machine here. The root has
# ca-certificates, whose update-ca-certificates adds them to /etc/ssl/certs.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    mkdir -p "$R/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$R/usr/local/share/ca-certificates/"
    chroot "$R" update-ca-certificates >/dev/null 2>&1 || true
    say "local CA certificates of this machine copied into the root: $(cd /usr/local/share/ca-certificates && echo *.crt)"
fi
grep -qw localhost "$R/etc/hosts" 2>/dev/null || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >>"$R/etc/hosts"

say "cloning $SRC at $HEAD_DESC into the root"
git clone --quiet --no-hardlinks "$SRC" "$R/root/smtpprobe"
git -C "$R/root/smtpprobe" checkout --quiet --detach "$HEAD_REV"

if [ "$APT_CACHE" = 1 ]; then
    mkdir -p "$CACHE/fresh-apt-archives/partial"
fi

# ---------------------------------------------------------------- inside the namespaces
# Environment of the commands: what CI gives (CI=true, no stdin), nothing else of this shell.
inner_env=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    LANG=C.UTF-8 TERM=dumb CI=true)
for v in SUBMISSION_PORT SMTPS_PORT EXIM_PORT SMTPPROBE_FUZZ_SECONDS SMTPPROBE_SKIP_SANITIZE \
    NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR; do
    if [ -n "${!v:-}" ]; then inner_env+=("$v=${!v}"); fi
done

cat >"$WORK/inner.sh" <<'EOF'
#!/bin/bash
# Runs as PID 1 of a new PID namespace, in a private mount namespace.
set -eu
R=$1 APT_ARCHIVES=$2
shift 2
mount --make-rprivate /
# The root becomes a mount point of its own, as / is on a real machine: otherwise
# `unshare --mount` inside it (the tests' private /etc/hosts) cannot make "/" private and fails.
mount --bind "$R" "$R"
umount_all() { # reverse order; everything goes with the namespace anyway
    for m in $(awk -v r="$R" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
}
trap umount_all EXIT
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o nosuid,mode=755,size=64m devtmp "$R/dev"
for spec in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<<"$spec"
    mknod -m 666 "$R/dev/$name" c "$major" "$minor"
done
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mkdir -m 755 "$R/dev/pts"
mkdir -m 1777 "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$R/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=755 run "$R/run"
if [ -n "$APT_ARCHIVES" ]; then
    mount --bind "$APT_ARCHIVES" "$R/var/cache/apt/archives"
fi
rc_run=0 rc_test=0
# bash's `time` also counts the CPU time of every process the command waited for: with the
# wall time it tells a slow machine (load from elsewhere) from a slow suite.
TIMEFORMAT='%R %U %S'
echo "fresh-check: ---- scripts/run.sh"
{ time chroot "$R" /usr/bin/env -i "$@" /bin/sh -c 'cd /root/smtpprobe && exec scripts/run.sh' </dev/null 2>&3 || rc_run=$?; } 3>&2 2>"$R/../time-run"
echo "fresh-check: ---- scripts/test.sh"
{ time chroot "$R" /usr/bin/env -i "$@" /bin/sh -c 'cd /root/smtpprobe && exec scripts/test.sh' </dev/null 2>&3 || rc_test=$?; } 3>&2 2>"$R/../time-test"
read -r real_run user_run sys_run <"$R/../time-run"
read -r real_test user_test sys_test <"$R/../time-test"
echo "fresh-check: result run $rc_run ${real_run%.*} $user_run $sys_run test $rc_test ${real_test%.*} $user_test $sys_test"
EOF

say "running scripts/run.sh, then scripts/test.sh, in $R (log $LOG)"
archives=""
[ "$APT_CACHE" = 1 ] && archives=$CACHE/fresh-apt-archives
rc=0
unshare --mount --pid --fork --kill-child bash "$WORK/inner.sh" "$R" "$archives" "${inner_env[@]}" 2>&1 |
    tee "$LOG" || rc=$?
result=$(grep '^fresh-check: result ' "$LOG" | tail -n 1 || true)
[ -n "$result" ] || die "the run inside the root did not finish (exit $rc; log $LOG)"
read -r _ _ _ rc_run t_run u_run s_run _ rc_test t_test u_test s_test <<<"$result"

echo
say "commit $HEAD_DESC, Debian $(cat "$R/etc/debian_version"), root $(basename "$TARBALL") of $(date -r "$TARBALL" '+%F')"
say "scripts/run.sh   exit $rc_run in ${t_run} s (CPU: user ${u_run} s, system ${s_run} s)"
say "scripts/test.sh  exit $rc_test in ${t_test} s (CPU: user ${u_test} s, system ${s_test} s)"
say "load average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
if [ "$rc_run" = 0 ] && [ "$rc_test" = 0 ]; then
    say "PASS: both commands exited 0 on a fresh Debian 12 root"
    exit 0
fi
say "FAIL"
exit 1
