#!/usr/bin/env bash
# Batch benchmark: BATCH_TARGETS targets (default 200) at a 50 ms round trip with --jobs
# BATCH_JOBS (default 32) and otherwise default settings, against BATCH_SERVERS emulators
# (default 4, so that 32 jobs x 4 connections stay under each emulator's 64-connection cap),
# each behind the userspace delay proxy (delay_proxy.py; this is NOT kernel netem). Prints
# targets per second, CPU per target against one probe, and peak RSS. Asserts nothing; not
# part of ctest. Everything listens on 127.0.0.1; a trap stops it all, also on Ctrl-C.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
SMTPPROBE=${SMTPPROBE:-$REPO/build/smtpprobe}
TARGETS=${BATCH_TARGETS:-200}
JOBS=${BATCH_JOBS:-32}
SERVERS=${BATCH_SERVERS:-4}
BASE=${BATCH_PORT:-4570} # emulators on BASE.., proxy ports on BASE+SERVERS..
RTT=${BENCH_RTT_MS:-50}

[ -x "$SMTPPROBE" ] || { echo "batch_bench: no binary $SMTPPROBE" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "batch_bench: needs /usr/bin/time (Debian package time)" >&2; exit 2; }
[ "$TARGETS" -ge 1 ] && [ "$TARGETS" -le 10000 ] || { echo "batch_bench: 1 <= BATCH_TARGETS <= 10000" >&2; exit 2; }

TMP=$(mktemp -d /tmp/smtpprobe-batch-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

wait_port() { # port: bounded wait until something listens
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "batch_bench: nothing listens on $1" >&2
    exit 2
}

proxy_args=()
for ((k = 0; k < SERVERS; k++)); do
    "$SMTPPROBE" emulate --profile "$REPO/samples/servers/azure-acs.json" \
        --listen "127.0.0.1:$((BASE + k))" --ca-out "$TMP/ca$k.pem" >"$TMP/emu$k.log" 2>&1 &
    PIDS+=($!)
    proxy_args+=(--listen "127.0.0.1:$((BASE + SERVERS + k))" --upstream "127.0.0.1:$((BASE + k))")
done
for ((k = 0; k < SERVERS; k++)); do wait_port $((BASE + k)); done
cat "$TMP"/ca*.pem >"$TMP/cas.pem"
python3 "$here/delay_proxy.py" "${proxy_args[@]}" \
    --one-way-ms "$(awk -v r="$RTT" 'BEGIN { print r / 2 }')" >"$TMP/proxy.log" 2>&1 &
PIDS+=($!)
for ((k = 0; k < SERVERS; k++)); do wait_port $((BASE + SERVERS + k)); done

for ((i = 0; i < TARGETS; i++)); do
    echo "localhost:$((BASE + SERVERS + i % SERVERS))"
done >"$TMP/targets.txt"

measure() { # label, args...: wall s, CPU s (user+sys), max RSS KiB
    local label=$1
    shift
    timeout 600 /usr/bin/time -f "%e %U %S %M" -o "$TMP/$label.time" \
        "$SMTPPROBE" "$@" --ca-file "$TMP/cas.pem" >"$TMP/$label.out" 2>"$TMP/$label.err" || true
    read -r wall user sys rss <"$TMP/$label.time"
    echo "$wall $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') $rss"
}

read -r one_wall one_cpu one_rss < <(measure one "localhost:$((BASE + SERVERS))" -f json)
read -r wall cpu rss < <(measure batch --targets-file "$TMP/targets.txt" --jobs "$JOBS" -f ndjson)
lines=$(grep -c . "$TMP/batch.out" || true)
ok=$(grep -c '"session_established":true' "$TMP/batch.out" || true)

echo "smtpprobe batch benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) CPUs  load $(cut -d' ' -f1 /proc/loadavg)"
echo "latency:  userspace delay proxy, $((RTT / 2)) ms each way per chunk (RTT $RTT ms; NOT kernel netem)"
echo "servers:  $SERVERS emulators (azure-acs profile), targets spread over them"
echo "one probe: wall ${one_wall} s, CPU ${one_cpu} s, peak RSS $((one_rss / 1024)) MiB"
echo "batch:    $TARGETS targets, --jobs $JOBS: wall ${wall} s, $lines reports, $ok with a session"
awk -v n="$TARGETS" -v w="$wall" -v c="$cpu" -v oc="$one_cpu" -v r="$rss" 'BEGIN {
    printf "figures:  %.1f targets/s (goal >= 40); CPU %.1f ms per target vs %.1f ms for one probe; peak RSS %.1f MiB (goal <= 64)\n",
        n / w, 1000 * c / n, 1000 * oc, r / 1024 }'
