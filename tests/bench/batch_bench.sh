#!/usr/bin/env bash
# Batch benchmark: BATCH_TARGETS targets (default 200) at a 50 ms round trip with --jobs
# BATCH_JOBS (default 32; a list such as "32 64 128" measures each in turn) and otherwise
# default settings, against BATCH_SERVERS emulator processes (default 4) serving BATCH_PORTS
# ports between them (default one each; the targets are spread over the ports). Prints targets
# per second, CPU per target against one probe, peak RSS, and the CPU of what shares the cores
# (emulators, the delay). Asserts nothing; not part of ctest.
#
# Connections per target (BATCH_PARALLEL): empty (default) keeps smtpprobe's default
# --parallel 4; a number passes --parallel N to every run. A target's CPU is per connection.
#
# Trust store (BATCH_STORE): ca-file (default: --ca-file with the emulators' CAs) or realistic
# (no CA option; SSL_CERT_FILE = a private copy of the system bundle plus the emulators' CAs,
# SSL_CERT_DIR = an empty directory, as truststore_bench.py does).
#
# Latency (BENCH_LATENCY, default auto): as root, everything runs in a network namespace of
# its own whose lo delays every packet 25 ms (the host's network is untouched): netem if the
# kernel has it, else the iptables NFQUEUE rule and nfq_delay.c (lib/bench_common.sh, as in
# bench.sh). Without root (or with neither) it falls back to the userspace delay proxy
# (delay_proxy.py), which costs CPU on the same two cores and is labelled so. Everything
# listens on 127.0.0.1; traps stop it all, and delete the namespace, also on Ctrl-C.
#
# 1,000 targets on 1,000 ports (README "Batch at fleet scale"):
#   sudo BATCH_TARGETS=1000 BATCH_PORTS=1000 BATCH_JOBS="32 64 128" BATCH_STORE=realistic \
#        BATCH_PORT=20000 tests/bench/batch_bench.sh
# shellcheck disable=SC2317  # functions called indirectly (traps)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
# shellcheck source=tests/bench/lib/bench_common.sh
. "$here/lib/bench_common.sh"
SMTPPROBE=${SMTPPROBE:-$REPO/build/smtpprobe}
case $SMTPPROBE in /*) ;; *) SMTPPROBE=$PWD/$SMTPPROBE ;; esac
TARGETS=${BATCH_TARGETS:-200}
JOBS=${BATCH_JOBS:-32}
SERVERS=${BATCH_SERVERS:-4}
PORTS=${BATCH_PORTS:-$SERVERS}
BASE=${BATCH_PORT:-4570} # emulators on BASE..BASE+PORTS-1, proxy ports (if any) on BASE+PORTS..
STORE=${BATCH_STORE:-ca-file}
PARALLEL=${BATCH_PARALLEL:-}
RTT=${BENCH_RTT_MS:-50}
LATENCY=${BENCH_LATENCY:-auto}
export SMTPPROBE TARGETS JOBS SERVERS PORTS BASE STORE RTT PARALLEL

say() { printf 'batch_bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

# ---------------------------------------------------------------------------------------------
# Inner half: emulators, optional proxy, the measurements. MODE is netem, nfqueue or proxy.
# ---------------------------------------------------------------------------------------------
inner() {
    local tmp=$BATCH_TMP k
    inner_traps

    # Each emulator serves its share of the ports (--count), consecutive ones, and the targets
    # are probed in order, so at times every running job talks to the same emulator: its
    # connection cap is set above what the largest --jobs can open (each target opens up to 4
    # connections, at most a fifth, and a closing one still counts for a while), so that no
    # target meets the profile's "too many connections" reply.
    local max_jobs=0 j
    for j in $JOBS; do [ "$j" -gt "$max_jobs" ] && max_jobs=$j; done
    local cap=$((max_jobs * 8 + 64)) proxy_args=() first_port=$BASE
    [ "$cap" -le 10000 ] || cap=10000
    [ "$MODE" = proxy ] && first_port=$((BASE + PORTS))
    start_emulators "$BASE" "$PORTS" "$SERVERS" "$cap" "$tmp" || die "the emulators did not start"
    PIDS+=("${EMULATOR_PIDS[@]}")
    for ((k = 0; k < PORTS; k++)); do
        proxy_args+=(--listen "127.0.0.1:$((BASE + PORTS + k))" --upstream "127.0.0.1:$((BASE + k))")
    done
    if [ "$MODE" = proxy ]; then
        python3 "$here/delay_proxy.py" "${proxy_args[@]}" \
            --one-way-ms "$(awk -v r="$RTT" 'BEGIN { print r / 2 }')" >"$tmp/proxy.log" 2>&1 &
        PIDS+=($!)
        wait_listen "$first_port" proxy || die "the delay proxy did not start"
        wait_listen $((first_port + PORTS - 1)) proxy || die "the delay proxy did not start"
    fi
    local ca_args=() store_label
    if [ "$STORE" = realistic ]; then
        use_realistic_store "$tmp" "$tmp/cas.pem"
        store_label="$STORE_LABEL, no --ca-file"
    else
        ca_args=(--ca-file "$tmp/cas.pem")
        store_label="--ca-file with the $SERVERS emulators' CAs"
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
        echo "127.0.0.1:$((first_port + i % PORTS))"
    done >"$tmp/targets.txt"

    measure() { # label, args...: wall s, CPU s (user+sys), max RSS KiB
        local label=$1
        shift
        timeout 600 /usr/bin/time -f "%e %U %S %M" -o "$tmp/$label.time" \
            "$SMTPPROBE" "$@" "${ca_args[@]}" ${PARALLEL:+--parallel "$PARALLEL"} \
            >"$tmp/$label.out" 2>"$tmp/$label.err" || true
        read -r wall user sys rss < <(tail -n 1 "$tmp/$label.time") # after any "exited with" line
        echo "$wall $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') $rss"
    }
    # CPU seconds so far of the emulators, of the delay (proxy or nfq_delay), and of the
    # whole machine from /proc/stat (busy and total CPU seconds of all CPUs, so other builds
    # count too; total rather than wall time as the denominator, since a VM's ticks drift).
    side_cpu() {
        local e=0 d=0 c
        for ((k = 0; k < ${#PIDS[@]}; k++)); do
            c=$(proc_cpu_seconds "${PIDS[k]}")
            if [ "$k" -lt "$SERVERS" ]; then e=$(awk -v a="$e" -v b="$c" 'BEGIN { print a + b }'); else d=$c; fi
        done
        [ -n "${NFQ_PID:-}" ] && d=$(proc_cpu_seconds "$NFQ_PID")
        echo "$e $d $(awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {
            t = 0; for (i = 2; i <= NF; i++) t += $i
            print ($2 + $3 + $4 + $7 + $8) / hz, t / hz }' /proc/stat)"
    }

    local one_wall one_rss wall cpu rss lines ok
    # One probe, 5 times: /usr/bin/time counts CPU in 10 ms steps, so one run would round.
    local w c r one_cpu=0
    for k in 1 2 3 4 5; do
        read -r w c r < <(measure one "127.0.0.1:$first_port" -f json)
        one_cpu=$(awk -v a="$one_cpu" -v b="$c" 'BEGIN { print a + b / 5 }')
        [ "$k" = 1 ] && one_wall=$w one_rss=$r
    done
    local rows=() e0 d0 m0 t0 e1 d1 m1 t1 load
    for j in $JOBS; do
        read -r e0 d0 m0 t0 < <(side_cpu)
        read -r wall cpu rss < <(measure "batch$j" --targets-file "$tmp/targets.txt" --jobs "$j" -f ndjson)
        read -r e1 d1 m1 t1 < <(side_cpu)
        load=$(cut -d' ' -f1 /proc/loadavg)
        lines=$(grep -c . "$tmp/batch$j.out" || true)
        ok=$(grep -c '"session_established":true' "$tmp/batch$j.out" || true)
        [ "$lines" = "$TARGETS" ] || say "--jobs $j: $lines reports of $TARGETS; stderr: $(head -c 300 "$tmp/batch$j.err")"
        if [ "$ok" != "$lines" ] && command -v python3 >/dev/null 2>&1; then
            python3 - "$tmp/batch$j.out" "$j" >>"$tmp/failures.txt" <<'PY' || true
import collections, json, sys
seen = collections.Counter()
example = {}
for line in open(sys.argv[1]):
    report = json.loads(line)
    error = report.get("fatal_error") or {}
    if not report.get("session_established"):
        key = f"{error.get('phase')}/{error.get('kind')}"
        seen[key] += 1
        example.setdefault(key, error.get("detail"))
for key, n in seen.most_common():
    print(f"--jobs {sys.argv[2]}: {n} without a session: {key}, e.g. {example[key]}")
PY
        fi
        rows+=("$j $wall $cpu $rss $lines $ok $(awk -v a="$e0" -v b="$e1" 'BEGIN { print b - a }') $(awk -v a="$d0" -v b="$d1" 'BEGIN { print b - a }') $(awk -v a="$m0" -v b="$m1" 'BEGIN { print b - a }') $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $load")
    done

    echo "smtpprobe batch benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) CPUs  load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "binary:   $SMTPPROBE"
    case $MODE in
    netem) echo "latency:  kernel netem on a private namespace's lo, $((RTT / 2)) ms each way (RTT $RTT ms)" ;;
    nfqueue) echo "latency:  kernel packet delay: iptables NFQUEUE + nfq_delay holding every packet $((RTT / 2)) ms on a private namespace's lo (RTT $RTT ms; netem unavailable)" ;;
    *) echo "latency:  userspace delay proxy, $((RTT / 2)) ms each way per chunk (RTT $RTT ms; NOT kernel netem; the proxy's CPU shares the cores)" ;;
    esac
    echo "check:    banner $banner_ms ms after connect (2 RTT = $((2 * RTT)) ms expected)"
    echo "servers:  $SERVERS emulator processes (azure-acs profile) on $PORTS ports, $TARGETS targets spread over the ports, --max-connections $cap each"
    echo "store:    $store_label"
    echo "parallel: ${PARALLEL:-4 (the default)} connections per target"
    echo "one probe: wall ${one_wall} s, CPU ${one_cpu} s (mean of 5), peak RSS $((one_rss / 1024)) MiB"
    local delay_name=delay
    case $MODE in proxy) delay_name=proxy ;; nfqueue) delay_name=nfq_delay ;; esac
    printf '%-6s %7s %9s %5s %8s %10s %8s %9s %9s %9s %9s %5s\n' jobs 'wall s' targets/s ok 'RSS MiB' \
        'ms/target' 'x 1 probe' 'emu ms/t' "${delay_name:0:6} ms/t" 'machine' 'rest' load
    for row in "${rows[@]}"; do
        # shellcheck disable=SC2086  # the fields of a row
        set -- $row
        awk -v j="$1" -v w="$2" -v c="$3" -v r="$4" -v n="$TARGETS" -v ok="$6" -v e="$7" -v d="$8" \
            -v m="$9" -v t="${10}" -v l="${11}" -v oc="$one_cpu" -v cpus="$(nproc)" 'BEGIN {
            rest = m - c - e - d; if (rest < 0) rest = 0
            printf "%-6s %7.2f %9.1f %5d %8.1f %10.1f %8.2f %9.1f %9.1f %8.2fc %8.2fc %5s\n",
                j, w, n / w, ok, r / 1024, 1000 * c / n, (oc > 0 ? c / n / oc : 0), 1000 * e / n,
                1000 * d / n, cpus * m / t, cpus * rest / t, l }'
    done
    [ ! -s "$tmp/failures.txt" ] || cat "$tmp/failures.txt"
    echo "(ok: reports with a session, of $TARGETS; ms/target: smtpprobe's user+sys CPU over the batch / targets;"
    echo " emu, ${delay_name}: their CPU over the same run / targets; machine: CPUs busy over the run from"
    echo " /proc/stat ($(nproc)c = all); rest: machine minus smtpprobe, emulators and ${delay_name}, in CPUs: kernel"
    echo " softirq work and everything else running, such as other developers' builds)"
    echo "goals:    issue 9: >= 40 targets/s, RSS <= 64 MiB (200 targets, --jobs 32); issue 21: >= 100 targets/s at"
    echo "          --jobs 128 and RSS <= 128 MiB (1,000 targets), <= 8 ms CPU per target with the realistic store"
}

if [ "${1:-}" = --inner ]; then
    inner
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Outer half: checks, then the namespace with netem or NFQUEUE, or the proxy on the host.
# ---------------------------------------------------------------------------------------------
[ -x "$SMTPPROBE" ] || die "no binary $SMTPPROBE"
[ -x /usr/bin/time ] || die "needs /usr/bin/time (Debian package time)"
{ [ "$TARGETS" -ge 1 ] && [ "$TARGETS" -le 10000 ]; } || die "1 <= BATCH_TARGETS <= 10000"
{ [ "$SERVERS" -ge 1 ] && [ "$PORTS" -ge "$SERVERS" ] && [ "$PORTS" -le $((SERVERS * 1024)) ]; } ||
    die "BATCH_SERVERS <= BATCH_PORTS <= 1024 x BATCH_SERVERS"
for j in $JOBS; do case $j in '' | *[!0-9]* | 0) die "BATCH_JOBS: positive integers" ;; esac; done
case $PARALLEL in '' | [1-9] | 1[0-6]) ;; *) die "BATCH_PARALLEL: 1 to 16, or empty for the default" ;; esac
case $LATENCY in auto | netem | nfqueue | proxy) ;; *) die "BENCH_LATENCY: auto | netem | nfqueue | proxy" ;; esac
case $STORE in ca-file | realistic) ;; *) die "BATCH_STORE: ca-file | realistic" ;; esac

BATCH_TMP=$(mktemp -d /tmp/smtpprobe-batch-bench.XXXXXX)
export BATCH_TMP
NS=smtpprobe-batch-$$
NETNS=0
INNER_PID=''
cleanup() {
    trap - EXIT INT TERM
    bench_cleanup "$INNER_PID" "$NETNS" "$NS" "$BATCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

MODE=proxy
NFQ_PID=''
if [ "$LATENCY" != proxy ]; then
    if netns_create "$NS"; then
        NETNS=1
        if [ "$LATENCY" != nfqueue ] && netns_netem "$NS" "$((RTT / 2))"; then
            MODE=netem
        else
            [ "$LATENCY" = netem ] && die "netem unavailable: $NETNS_WHY"
            [ "$LATENCY" = nfqueue ] || say "netem unavailable ($NETNS_WHY): trying the NFQUEUE delay"
            if netns_nfqueue "$NS" "$((RTT / 2))" "$BATCH_TMP"; then
                MODE=nfqueue NFQ_PID=$NETNS_NFQ_PID
            else
                [ "$LATENCY" = nfqueue ] && die "NFQUEUE delay unavailable: $NETNS_WHY"
                say "NFQUEUE delay unavailable ($NETNS_WHY)"
            fi
        fi
    else
        [ "$LATENCY" = auto ] || die "no network namespace: $NETNS_WHY"
    fi
    [ "$MODE" = proxy ] && say "no kernel delay (${NETNS_WHY}): using the userspace delay proxy on 127.0.0.1"
fi
export MODE NFQ_PID
if [ "$MODE" = proxy ]; then
    setsid "$0" --inner &
else
    setsid ip netns exec "$NS" "$0" --inner &
fi
INNER_PID=$!
wait "$INNER_PID"
