#!/usr/bin/env bash
# Batch benchmark: BATCH_TARGETS targets (default 200) at a 50 ms round trip with --jobs
# BATCH_JOBS (default 32) and otherwise default settings, against BATCH_SERVERS emulators
# (default 4, so that 32 jobs x 4 connections stay under each emulator's 64-connection cap).
# Prints targets per second, CPU per target against one probe, and peak RSS. Asserts nothing;
# not part of ctest.
#
# Latency (BENCH_LATENCY, default auto): as root, everything runs in a network namespace of
# its own whose lo has a netem qdisc (25 ms each way; the host's network is untouched), as in
# bench.sh. Without root or netem it falls back to the userspace delay proxy (delay_proxy.py),
# which costs CPU on the same two cores and is labelled so. Everything listens on 127.0.0.1;
# traps stop it all, and delete the namespace, also on Ctrl-C.
# shellcheck disable=SC2317  # functions called indirectly (traps)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
SMTPPROBE=${SMTPPROBE:-$REPO/build/smtpprobe}
case $SMTPPROBE in /*) ;; *) SMTPPROBE=$PWD/$SMTPPROBE ;; esac
TARGETS=${BATCH_TARGETS:-200}
JOBS=${BATCH_JOBS:-32}
SERVERS=${BATCH_SERVERS:-4}
BASE=${BATCH_PORT:-4570} # emulators on BASE.., proxy ports (if any) on BASE+SERVERS..
RTT=${BENCH_RTT_MS:-50}
LATENCY=${BENCH_LATENCY:-auto}
export SMTPPROBE TARGETS JOBS SERVERS BASE RTT

say() { printf 'batch_bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

# ---------------------------------------------------------------------------------------------
# Inner half: emulators, optional proxy, the two measurements. MODE is netem or proxy.
# ---------------------------------------------------------------------------------------------
inner() {
    local tmp=$BATCH_TMP k
    PIDS=() # global: the EXIT trap runs after inner() has returned
    stop() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
    }
    trap stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    wait_port() { # port: bounded wait until something listens
        for _ in $(seq 100); do
            (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
            sleep 0.1
        done
        die "nothing listens on $1"
    }

    local proxy_args=() first_port=$BASE
    [ "$MODE" = proxy ] && first_port=$((BASE + SERVERS))
    for ((k = 0; k < SERVERS; k++)); do
        "$SMTPPROBE" emulate --profile "$REPO/samples/servers/azure-acs.json" \
            --listen "127.0.0.1:$((BASE + k))" --ca-out "$tmp/ca$k.pem" >"$tmp/emu$k.log" 2>&1 &
        PIDS+=($!)
        proxy_args+=(--listen "127.0.0.1:$((BASE + SERVERS + k))" --upstream "127.0.0.1:$((BASE + k))")
    done
    for ((k = 0; k < SERVERS; k++)); do wait_port $((BASE + k)); done
    cat "$tmp"/ca*.pem >"$tmp/cas.pem"
    if [ "$MODE" = proxy ]; then
        python3 "$here/delay_proxy.py" "${proxy_args[@]}" \
            --one-way-ms "$(awk -v r="$RTT" 'BEGIN { print r / 2 }')" >"$tmp/proxy.log" 2>&1 &
        PIDS+=($!)
        for ((k = 0; k < SERVERS; k++)); do wait_port $((BASE + SERVERS + k)); done
    fi

    # Connect and read the banner: about 2 RTT when the latency is in place.
    local t0 t1 banner
    t0=${EPOCHREALTIME/./}
    exec 3<>"/dev/tcp/127.0.0.1/$first_port"
    IFS= read -r -t 10 banner <&3 || true
    t1=${EPOCHREALTIME/./}
    printf 'QUIT\r\n' >&3 || true
    exec 3<&- 3>&-
    local banner_ms=$(((t1 - t0) / 1000))
    case $banner in 220*) ;; *) banner_ms="? (no 220 banner)" ;; esac

    for ((i = 0; i < TARGETS; i++)); do
        echo "localhost:$((first_port + i % SERVERS))"
    done >"$tmp/targets.txt"

    measure() { # label, args...: wall s, CPU s (user+sys), max RSS KiB
        local label=$1
        shift
        timeout 600 /usr/bin/time -f "%e %U %S %M" -o "$tmp/$label.time" \
            "$SMTPPROBE" "$@" --ca-file "$tmp/cas.pem" >"$tmp/$label.out" 2>"$tmp/$label.err" || true
        read -r wall user sys rss <"$tmp/$label.time"
        echo "$wall $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') $rss"
    }

    local one_wall one_cpu one_rss wall cpu rss lines ok
    # One probe, 5 times: /usr/bin/time counts CPU in 10 ms steps, so one run would round.
    local w c r one_cpu=0
    for k in 1 2 3 4 5; do
        read -r w c r < <(measure one "localhost:$first_port" -f json)
        one_cpu=$(awk -v a="$one_cpu" -v b="$c" 'BEGIN { print a + b / 5 }')
        [ "$k" = 1 ] && one_wall=$w one_rss=$r
    done
    read -r wall cpu rss < <(measure batch --targets-file "$tmp/targets.txt" --jobs "$JOBS" -f ndjson)
    # CPU of the servers over all runs (utime + stime), to show what shares the cores.
    local hz emu_ticks=0 proxy_ticks=0 n
    hz=$(getconf CLK_TCK)
    for ((k = 0; k < ${#PIDS[@]}; k++)); do
        n=$(awk '{ print $14 + $15 }' "/proc/${PIDS[k]}/stat" 2>/dev/null || echo 0)
        if [ "$k" -lt "$SERVERS" ]; then emu_ticks=$((emu_ticks + n)); else proxy_ticks=$((proxy_ticks + n)); fi
    done
    lines=$(grep -c . "$tmp/batch.out" || true)
    ok=$(grep -c '"session_established":true' "$tmp/batch.out" || true)

    echo "smtpprobe batch benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) CPUs  load $(cut -d' ' -f1 /proc/loadavg)"
    if [ "$MODE" = netem ]; then
        echo "latency:  kernel netem on a private namespace's lo, $((RTT / 2)) ms each way (RTT $RTT ms)"
    else
        echo "latency:  userspace delay proxy, $((RTT / 2)) ms each way per chunk (RTT $RTT ms; NOT kernel netem; the proxy's CPU shares the cores)"
    fi
    echo "check:    banner $banner_ms ms after connect (2 RTT = $((2 * RTT)) ms expected)"
    echo "servers:  $SERVERS emulators (azure-acs profile), targets spread over them"
    awk -v e="$emu_ticks" -v p="$proxy_ticks" -v hz="$hz" -v n="$((TARGETS + 5))" -v mode="$MODE" 'BEGIN {
        printf "server CPU over all runs: emulators %.1f s (%.1f ms per target)", e / hz, 1000 * e / hz / n
        if (mode == "proxy") printf ", delay proxy %.1f s (%.1f ms per target)", p / hz, 1000 * p / hz / n
        printf "\n" }'
    echo "one probe: wall ${one_wall} s, CPU ${one_cpu} s (mean of 5), peak RSS $((one_rss / 1024)) MiB"
    echo "batch:    $TARGETS targets, --jobs $JOBS: wall ${wall} s, $lines reports, $ok with a session"
    awk -v n="$TARGETS" -v w="$wall" -v c="$cpu" -v oc="$one_cpu" -v r="$rss" 'BEGIN {
        printf "figures:  %.1f targets/s (goal >= 40); CPU %.1f ms per target vs %.1f ms for one probe; peak RSS %.1f MiB (goal <= 64)\n",
            n / w, 1000 * c / n, 1000 * oc, r / 1024 }'
}

if [ "${1:-}" = --inner ]; then
    inner
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Outer half: checks, then the namespace with netem, or the proxy on the host's loopback.
# ---------------------------------------------------------------------------------------------
[ -x "$SMTPPROBE" ] || die "no binary $SMTPPROBE"
[ -x /usr/bin/time ] || die "needs /usr/bin/time (Debian package time)"
[ "$TARGETS" -ge 1 ] && [ "$TARGETS" -le 10000 ] || die "1 <= BATCH_TARGETS <= 10000"
case $LATENCY in auto | netem | proxy) ;; *) die "BENCH_LATENCY: auto | netem | proxy" ;; esac

BATCH_TMP=$(mktemp -d /tmp/smtpprobe-batch-bench.XXXXXX)
export BATCH_TMP
NS=smtpprobe-batch-$$
NETNS=0
INNER_PID=''
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$INNER_PID" ]; then
        kill -TERM -- "-$INNER_PID" 2>/dev/null || true
        wait "$INNER_PID" 2>/dev/null || true
    fi
    if [ "$NETNS" = 1 ]; then
        for p in $(ip netns pids "$NS" 2>/dev/null || true); do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$NS" 2>/dev/null || true
    fi
    rm -rf "$BATCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

MODE=proxy
why=''
if [ "$LATENCY" != proxy ]; then
    if [ "$(id -u)" != 0 ]; then
        why="not root"
    elif ! command -v ip >/dev/null 2>&1 || ! command -v tc >/dev/null 2>&1; then
        why="no ip/tc (apt-get install iproute2)"
    elif ! err=$(ip netns add "$NS" 2>&1); then
        why="ip netns add failed: $err"
    else
        NETNS=1
        ip netns exec "$NS" ip link set lo up
        command -v modprobe >/dev/null 2>&1 && { modprobe sch_netem 2>/dev/null || true; }
        if err=$(ip netns exec "$NS" tc qdisc add dev lo root netem delay "$((RTT / 2))ms" limit 100000 2>&1); then
            MODE=netem
        else
            why="tc qdisc add ... netem failed: $err"
        fi
    fi
    if [ "$MODE" != netem ]; then
        [ "$LATENCY" = netem ] && die "netem unavailable: $why"
        say "netem unavailable ($why): using the userspace delay proxy on the host's 127.0.0.1"
    fi
fi
export MODE
if [ "$MODE" = netem ]; then
    setsid ip netns exec "$NS" "$0" --inner &
else
    setsid "$0" --inner &
fi
INNER_PID=$!
wait "$INNER_PID"
