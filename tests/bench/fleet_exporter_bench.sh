#!/usr/bin/env bash
# Fleet benchmark of the exporter (issue 21 item 5): FLEET_TARGETS emulated SMTP servers
# (default 1,000, each on a port of its own) at a 50 ms round trip on a kernel packet delay,
# probed by FLEET_EXPORTERS `smtpprobe exporter` instances (default 2) behind one real
# Prometheus that shards the targets between them with `hashmod` relabelling, scraping every
# FLEET_INTERVAL seconds (30) for FLEET_DURATION seconds (330). Then it queries Prometheus' HTTP
# API and prints the scrape duration p50 and p99, the `up` and probe success ratios, each
# exporter's CPU per probe and RSS, and scrape_samples_scraped. Last, the one-shard failure
# test: it kills the last exporter, waits for the alert rule (`up{job="smtpprobe"} == 0` for
# 1m) to fire, and compares the targets that went down and the firing alerts with that
# exporter's shard, computed from Prometheus' target list and, independently, the way hashmod
# does (MD5 of the address, the low 8 bytes big-endian, modulo the number of shards).
# Prints figures; asserts nothing; not part of ctest or CI.
#
#   sudo tests/bench/fleet_exporter_bench.sh                      # about 9 minutes
#   sudo FLEET_DURATION=60 FLEET_TARGETS=200 tests/bench/fleet_exporter_bench.sh
#
# Environment: SMTPPROBE (default build/smtpprobe), FLEET_TARGETS (1000), FLEET_EXPORTERS (2),
# FLEET_SERVERS (4 emulator processes sharing the ports), FLEET_DURATION (330 s),
# FLEET_INTERVAL (30 s), FLEET_RTT_MS (50), FLEET_STORE (realistic | ca-file),
# FLEET_MAX_PROBES (32 per exporter), BENCH_LATENCY (auto | netem | nfqueue).
#
# Needs root: everything runs in a network namespace of its own (lib/bench_common.sh), so its
# ports (SMTP 20000.., exporters 9125.., Prometheus 9090, all on 127.0.0.1) collide with
# nothing on the host. With netem every packet on the namespace's lo is delayed (the scrapes
# too); with the NFQUEUE delay only the SMTP ports are, as if Prometheus sat beside its
# exporters and the mail servers were 50 ms away. Debian packages: prometheus (2.42, with
# promtool), curl, python3, iproute2, iptables, libnetfilter-queue-dev and a C compiler.
# The EXIT trap stops everything and deletes the namespace and the temporary directory
# (Prometheus' data directory is in it).
# shellcheck disable=SC2317  # functions called indirectly (traps)
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$here/../.." && pwd)
# shellcheck source=tests/bench/lib/bench_common.sh
. "$here/lib/bench_common.sh"

say() { printf 'fleet_exporter_bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

SMTPPROBE=${SMTPPROBE:-$REPO/build/smtpprobe}
case $SMTPPROBE in /*) ;; *) SMTPPROBE=$PWD/$SMTPPROBE ;; esac
TARGETS=${FLEET_TARGETS:-1000}
EXPORTERS=${FLEET_EXPORTERS:-2}
SERVERS=${FLEET_SERVERS:-4}
DURATION=${FLEET_DURATION:-330}
INTERVAL=${FLEET_INTERVAL:-30}
RTT=${FLEET_RTT_MS:-50}
STORE=${FLEET_STORE:-realistic}
MAX_PROBES=${FLEET_MAX_PROBES:-32}
LATENCY=${BENCH_LATENCY:-auto}
SMTP_BASE=20000 EXPORTER_BASE=9125 PROM_PORT=9090
export SMTPPROBE TARGETS EXPORTERS SERVERS DURATION INTERVAL RTT STORE MAX_PROBES SMTP_BASE \
    EXPORTER_BASE PROM_PORT

# ---------------------------------------------------------------------------------------------
# Inner half, inside the namespace: emulators, exporters, Prometheus, the measurements.
# ---------------------------------------------------------------------------------------------
inner() {
    local tmp=$FLEET_TMP k
    inner_traps
    wait_port() { wait_listen "$@" || die "$2 did not start"; }
    prom() { curl -sS --max-time 30 -G "http://127.0.0.1:$PROM_PORT/api/v1/$1" "${@:2}"; }

    # Emulators: SERVERS processes, the TARGETS ports split between them.
    start_emulators "$SMTP_BASE" "$TARGETS" "$SERVERS" 2000 "$tmp" || die "the emulators did not start"
    PIDS+=("${EMULATOR_PIDS[@]}")
    local emulator_pids=("${EMULATOR_PIDS[@]}")

    # Exporters: the realistic store (system bundle + test CAs) or --ca-file in the module.
    local ca_line='' store_label
    if [ "$STORE" = realistic ]; then
        use_realistic_store "$tmp" "$tmp/cas.pem"
        store_label=$STORE_LABEL
    else
        ca_line="    ca_file: $tmp/cas.pem"
        store_label="ca_file: the $SERVERS emulators' CAs"
    fi
    cat >"$tmp/exporter.yml" <<YAML
allow_targets: ["127.0.0.1:$SMTP_BASE-$((SMTP_BASE + TARGETS - 1))"]
max_concurrent_probes: $MAX_PROBES
max_queued_probes: $((48 - MAX_PROBES < MAX_PROBES ? 48 - MAX_PROBES : MAX_PROBES))
modules:
  default:
    timeout: 15s
$ca_line
YAML
    local exporter_pids=() exporter_urls=()
    for ((k = 0; k < EXPORTERS; k++)); do
        "$SMTPPROBE" exporter --listen "127.0.0.1:$((EXPORTER_BASE + k))" --config "$tmp/exporter.yml" \
            >"$tmp/exporter$k.log" 2>&1 &
        PIDS+=($!)
        exporter_pids+=($!)
        exporter_urls+=("http://127.0.0.1:$((EXPORTER_BASE + k))")
    done
    for ((k = 0; k < EXPORTERS; k++)); do wait_port $((EXPORTER_BASE + k)) exporter; done

    # Prometheus: one job for all the targets; hashmod of the address picks the shard, and the
    # shard picks the exporter (the multi-target form: the target becomes ?target=).
    {
        cat <<YAML
global:
  scrape_interval: ${INTERVAL}s
  scrape_timeout: 10s
  evaluation_interval: 15s
rule_files: [fleet-alerts.yml]
scrape_configs:
  - job_name: smtpprobe
    metrics_path: /probe
    params:
      module: [default]
    file_sd_configs:
      - files: [$tmp/targets.json]
    relabel_configs:
      - source_labels: [__address__]
        modulus: $EXPORTERS
        target_label: __tmp_shard
        action: hashmod
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
YAML
        for ((k = 0; k < EXPORTERS; k++)); do
            cat <<YAML
      - source_labels: [__tmp_shard]
        regex: "$k"
        target_label: __address__
        replacement: 127.0.0.1:$((EXPORTER_BASE + k))
YAML
        done
        cat <<YAML
  - job_name: smtpprobe_exporter
    static_configs:
      - targets: [$(for ((k = 0; k < EXPORTERS; k++)); do printf '%s127.0.0.1:%d' "$([ $k = 0 ] || echo ', ')" $((EXPORTER_BASE + k)); done)]
YAML
    } >"$tmp/prometheus.yml"
    cat >"$tmp/fleet-alerts.yml" <<'YAML'
groups:
  - name: smtpprobe-fleet
    rules:
      - alert: SmtpProbeScrapeDown
        # The exporter that probes this target does not answer (or the scrape timed out).
        expr: up{job="smtpprobe"} == 0
        for: 1m
        labels:
          severity: critical
        annotations:
          summary: "No probe result for {{ $labels.instance }}: its exporter does not answer"
      - alert: SmtpProbeFailed
        expr: smtpprobe_probe_success{job="smtpprobe"} == 0
        for: 1m
        labels:
          severity: critical
        annotations:
          summary: "SMTP probe of {{ $labels.instance }} fails"
YAML
    python3 -c 'import json, sys
base, n = int(sys.argv[1]), int(sys.argv[2])
json.dump([{"targets": ["127.0.0.1:%d" % (base + i) for i in range(n)]}], sys.stdout)' \
        "$SMTP_BASE" "$TARGETS" >"$tmp/targets.json"
    promtool check rules "$tmp/fleet-alerts.yml" >"$tmp/promtool-rules.txt" 2>&1 ||
        die "promtool check rules: $(cat "$tmp/promtool-rules.txt")"
    promtool check config "$tmp/prometheus.yml" >"$tmp/promtool-config.txt" 2>&1 ||
        die "promtool check config: $(cat "$tmp/promtool-config.txt")"
    prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
        --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
    PIDS+=($!)
    local prom_pid=$!
    wait_port "$PROM_PORT" prometheus
    say "promtool check rules / check config: $(head -c 200 "$tmp/promtool-rules.txt" | tr '\n' ' ')"

    # The measured window starts once Prometheus has every target.
    local n=0
    for _ in $(seq 60); do
        n=$(prom targets --data-urlencode state=active |
            python3 -c 'import json,sys; print(sum(t["labels"]["job"] == "smtpprobe" for t in json.load(sys.stdin)["data"]["activeTargets"]))' ||
            echo 0)
        [ "$n" = "$TARGETS" ] && break
        sleep 1
    done
    [ "$n" = "$TARGETS" ] || die "Prometheus has $n of $TARGETS targets after 60 s"
    exporter_probes() { # URL: probes answered so far (every result)
        curl -sS --max-time 10 "$1/metrics" | awk '/^smtpprobe_exporter_probes_total[{ ]/ { s += $NF } END { print s + 0 }'
    }
    local start cpu0=() probes0=() cpu1=() probes1=() end
    start=$(date +%s)
    for ((k = 0; k < EXPORTERS; k++)); do
        cpu0+=("$(proc_cpu_seconds "${exporter_pids[k]}")")
        probes0+=("$(exporter_probes "${exporter_urls[k]}")")
    done
    local emu0=0 prom_cpu0 nfq0=0 c
    for p in "${emulator_pids[@]}"; do c=$(proc_cpu_seconds "$p"); emu0=$(awk -v a="$emu0" -v b="$c" 'BEGIN { print a + b }'); done
    prom_cpu0=$(proc_cpu_seconds "$prom_pid")
    [ -n "${NFQ_PID:-}" ] && nfq0=$(proc_cpu_seconds "$NFQ_PID")
    say "scraping $TARGETS targets every ${INTERVAL}s for ${DURATION}s (from $(date -u +%H:%M:%S) UTC)"
    sleep "$DURATION"
    end=$(date +%s)
    for ((k = 0; k < EXPORTERS; k++)); do
        cpu1+=("$(proc_cpu_seconds "${exporter_pids[k]}")")
        probes1+=("$(exporter_probes "${exporter_urls[k]}")")
    done
    local emu1=0 prom_cpu1 nfq1=0
    for p in "${emulator_pids[@]}"; do c=$(proc_cpu_seconds "$p"); emu1=$(awk -v a="$emu1" -v b="$c" 'BEGIN { print a + b }'); done
    prom_cpu1=$(proc_cpu_seconds "$prom_pid")
    [ -n "${NFQ_PID:-}" ] && nfq1=$(proc_cpu_seconds "$NFQ_PID")
    local window=$((end - start))

    echo
    echo "smtpprobe fleet exporter benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) CPUs  load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "binary:   $SMTPPROBE"
    echo "latency:  $FLEET_LATENCY_LABEL"
    echo "targets:  $TARGETS emulated servers (azure-acs profile) on 127.0.0.1:$SMTP_BASE-$((SMTP_BASE + TARGETS - 1)), $SERVERS emulator processes"
    echo "store:    $store_label"
    echo "exporters: $EXPORTERS on 127.0.0.1:$EXPORTER_BASE.., max_concurrent_probes $MAX_PROBES; Prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }'), hashmod modulus $EXPORTERS"
    echo "window:   ${window} s, scrape_interval ${INTERVAL}s, scrape_timeout 10s"
    prom query --data-urlencode "query=up{job=\"smtpprobe\"}[${window}s]" >"$tmp/up.json"
    prom query --data-urlencode "query=smtpprobe_probe_success{job=\"smtpprobe\"}[${window}s]" >"$tmp/success.json"
    prom query --data-urlencode "query=scrape_duration_seconds{job=\"smtpprobe\"}[${window}s]" >"$tmp/duration.json"
    prom query --data-urlencode "query=scrape_samples_scraped{job=\"smtpprobe\"}[${window}s]" >"$tmp/samples.json"
    prom query --data-urlencode "query=sum(scrape_samples_scraped{job=\"smtpprobe\"})" >"$tmp/samples-now.json"
    python3 - "$tmp" "$TARGETS" "$window" "$INTERVAL" <<'PY'
import json, statistics, sys
tmp, targets, window, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def values(name):
    series = json.load(open(f"{tmp}/{name}.json"))["data"]["result"]
    return series, [float(v) for s in series for _, v in s["values"]]
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")
up_series, up = values("up")
_, success = values("success")
_, duration = values("duration")
samples_series, samples = values("samples")
now = json.load(open(f"{tmp}/samples-now.json"))["data"]["result"]
print(f"scrapes:  {len(up)} in the window ({len(up) / window:.1f}/s) of {len(up_series)} targets; "
      f"expected about {targets * window / interval:.0f}")
print(f"scrape_duration_seconds: p50 {pct(duration, 0.5):.3f} s, p99 {pct(duration, 0.99):.3f} s, "
      f"max {max(duration):.3f} s (n={len(duration)})")
print(f"up ratio: {sum(up) / len(up):.4f} ({int(len(up) - sum(up))} of {len(up)} scrapes down)")
print(f"probe success ratio: {sum(success) / len(success):.4f} ({int(len(success) - sum(success))} "
      f"of {len(success)} probes failed)")
print(f"scrape_samples_scraped: {statistics.mean(samples):.1f} per scrape (min {min(samples):.0f}, "
      f"max {max(samples):.0f}); sum over targets now {float(now[0]['value'][1]):.0f}" if now else "")
PY
    for ((k = 0; k < EXPORTERS; k++)); do
        awk -v k="$k" -v c0="${cpu0[k]}" -v c1="${cpu1[k]}" -v p0="${probes0[k]}" -v p1="${probes1[k]}" \
            -v w="$window" -v rss="$(awk '/^VmRSS/ { print $2 }' "/proc/${exporter_pids[k]}/status")" \
            -v hwm="$(awk '/^VmHWM/ { print $2 }' "/proc/${exporter_pids[k]}/status")" 'BEGIN {
            n = p1 - p0
            printf "exporter %d: %d probes (%.1f/s), CPU %.1f s = %.1f ms per probe (%.2f CPUs), RSS %.1f MiB, peak %.1f MiB\n",
                k, n, n / w, c1 - c0, (n > 0 ? 1000 * (c1 - c0) / n : 0), (c1 - c0) / w, rss / 1024, hwm / 1024 }'
    done
    awk -v e="$(awk -v a="$emu0" -v b="$emu1" 'BEGIN { print b - a }')" -v p="$(awk -v a="$prom_cpu0" -v b="$prom_cpu1" 'BEGIN { print b - a }')" \
        -v d="$(awk -v a="$nfq0" -v b="$nfq1" 'BEGIN { print b - a }')" -v w="$window" \
        -v prss="$(awk '/^VmHWM/ { print $2 }' "/proc/$prom_pid/status")" 'BEGIN {
        printf "beside:   emulators %.1f s CPU (%.2f CPUs), nfq_delay %.1f s (%.2f CPUs), Prometheus %.1f s (%.2f CPUs, peak RSS %.0f MiB)\n",
            e, e / w, d, d / w, p, p / w, prss / 1024 }'

    # ---- one shard lost --------------------------------------------------------------------
    local victim=$((EXPORTERS - 1)) killed_at
    echo
    echo "failure:  killing exporter $victim (pid ${exporter_pids[victim]}, 127.0.0.1:$((EXPORTER_BASE + victim))) with SIGKILL at $(date -u +%H:%M:%S) UTC"
    kill -KILL "${exporter_pids[victim]}"
    wait "${exporter_pids[victim]}" 2>/dev/null || true
    killed_at=$(date +%s)
    # Wait for the alert: a scrape of every target of the shard (one interval), the rule's for:
    # 1m, one evaluation (15 s), with a margin; then until the firing count stops changing.
    local firing=0 last=-1 stable=0 waited
    for _ in $(seq 1 60); do
        sleep 5
        firing=$(prom alerts | python3 -c 'import json,sys
print(sum(a["labels"]["alertname"] == "SmtpProbeScrapeDown" and a["state"] == "firing" for a in json.load(sys.stdin)["data"]["alerts"]))')
        waited=$(($(date +%s) - killed_at))
        if [ "$firing" -gt 0 ] && [ "$firing" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
        last=$firing
        [ "$waited" -ge $((INTERVAL + 75)) ] && [ "$stable" -ge 3 ] && break
    done
    echo "          waited $waited s; SmtpProbeScrapeDown firing for $firing targets"
    prom targets --data-urlencode state=active >"$tmp/targets-api.json"
    prom alerts >"$tmp/alerts.json"
    prom query --data-urlencode 'query=up{job="smtpprobe"}' >"$tmp/up-now.json"
    prom query --data-urlencode "query=smtpprobe_probe_success{job=\"smtpprobe\"}" >"$tmp/success-now.json"
    python3 - "$tmp" "$EXPORTERS" "$victim" "$((EXPORTER_BASE + victim))" <<'PY'
import hashlib, json, sys
tmp, modulus, victim, victim_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def load(name):
    return json.load(open(f"{tmp}/{name}.json"))["data"]
def hashmod(value):  # Prometheus' relabel.HashMod: MD5, the low 8 bytes big-endian, modulo
    return int.from_bytes(hashlib.md5(value.encode()).digest()[8:], "big") % modulus
targets = [t for t in load("targets-api")["activeTargets"] if t["labels"]["job"] == "smtpprobe"]
by_prometheus = {t["labels"]["instance"] for t in targets if f"127.0.0.1:{victim_port}/" in t["scrapeUrl"]}
by_hash = {t["discoveredLabels"]["__address__"] for t in targets
           if hashmod(t["discoveredLabels"]["__address__"]) == victim}
sizes = [sum(hashmod(t["discoveredLabels"]["__address__"]) == k for t in targets) for k in range(modulus)]
down = {r["metric"]["instance"] for r in load("up-now")["result"] if r["value"][1] == "0"}
up = {r["metric"]["instance"] for r in load("up-now")["result"] if r["value"][1] == "1"}
success = {r["metric"]["instance"]: r["value"][1] for r in load("success-now")["result"]}
failed = {i for i, v in success.items() if v == "0"}
alerts = [a for a in load("alerts")["alerts"] if a["state"] == "firing"]
scrape_down = {a["labels"]["instance"] for a in alerts if a["labels"]["alertname"] == "SmtpProbeScrapeDown"}
others = sorted({a["labels"]["alertname"] for a in alerts} - {"SmtpProbeScrapeDown"})
print(f"shards:   sizes by hashmod {sizes}; exporter {victim}'s shard: {len(by_prometheus)} targets by "
      f"Prometheus' scrape URLs, {len(by_hash)} by MD5 hashmod computed here, "
      f"{'the same set' if by_prometheus == by_hash else 'DIFFERENT sets'}")
print(f"up == 0:  {len(down)} targets; in the shard {len(down & by_hash)}, outside it {len(down - by_hash)}; "
      f"up == 1: {len(up)} (in the shard {len(up & by_hash)})")
print(f"alerts:   SmtpProbeScrapeDown firing for {len(scrape_down)} targets; in the shard "
      f"{len(scrape_down & by_hash)}, outside it {len(scrape_down - by_hash)}, shard targets without one "
      f"{len(by_hash - scrape_down)}; other alerts firing: {', '.join(others) or 'none'}")
print(f"probes:   smtpprobe_probe_success has {len(success)} current series (the surviving shard's; "
      f"the lost shard's went stale), {len(failed)} of them == 0")
verdict = (by_prometheus == by_hash and down == by_hash and scrape_down == by_hash)
print(f"result:   {'only the lost shard went down and alerted' if verdict else 'MISMATCH: see above'}")
PY
}

if [ "${1:-}" = --inner ]; then
    inner
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Outer half: checks, the namespace and the kernel delay, then the inner half inside it.
# ---------------------------------------------------------------------------------------------
[ -x "$SMTPPROBE" ] || die "no executable smtpprobe at $SMTPPROBE (build it, or set SMTPPROBE=)"
for tool in prometheus promtool curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
for v in TARGETS EXPORTERS SERVERS DURATION INTERVAL RTT MAX_PROBES; do
    case ${!v} in '' | *[!0-9]* | 0) die "FLEET_$v must be a positive integer" ;; esac
done
{ [ "$TARGETS" -le $((SERVERS * 1024)) ] && [ "$TARGETS" -le 10000 ]; } || die "FLEET_TARGETS: at most 1024 per emulator and 10000"
[ "$EXPORTERS" -ge 2 ] || die "FLEET_EXPORTERS: at least 2 (the failure test kills one)"
[ "$MAX_PROBES" -le 47 ] || die "FLEET_MAX_PROBES: at most 47"
case $STORE in realistic | ca-file) ;; *) die "FLEET_STORE: realistic | ca-file" ;; esac
case $LATENCY in auto | netem | nfqueue) ;; *) die "BENCH_LATENCY: auto | netem | nfqueue" ;; esac

FLEET_TMP=$(mktemp -d /tmp/smtpprobe-fleet-bench.XXXXXX)
NS=smtpprobe-fleet-$$
NETNS=0
INNER_PID=''
cleanup() {
    trap - EXIT INT TERM
    bench_cleanup "$INNER_PID" "$NETNS" "$NS" "$FLEET_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

netns_create "$NS" || die "needs a network namespace of its own: $NETNS_WHY"
NETNS=1
one_way=$((RTT / 2))
NFQ_PID=''
if [ "$LATENCY" != nfqueue ] && netns_netem "$NS" "$one_way"; then
    FLEET_LATENCY_LABEL="netem delay ${one_way}ms on lo of namespace $NS (RTT $RTT ms; the scrapes are delayed too)"
else
    [ "$LATENCY" = netem ] && die "netem unavailable: $NETNS_WHY"
    [ "$LATENCY" = nfqueue ] || say "netem unavailable ($NETNS_WHY): the NFQUEUE delay"
    netns_nfqueue "$NS" "$one_way" "$FLEET_TMP" "$SMTP_BASE:$((SMTP_BASE + TARGETS - 1))" ||
        die "no kernel packet delay: $NETNS_WHY"
    NFQ_PID=$NETNS_NFQ_PID
    FLEET_LATENCY_LABEL="kernel packet delay: iptables NFQUEUE + nfq_delay holding every packet to or from the SMTP ports $one_way ms on lo of namespace $NS (RTT $RTT ms; netem unavailable; scrapes undelayed)"
fi
export FLEET_TMP FLEET_LATENCY_LABEL NFQ_PID
setsid ip netns exec "$NS" "$0" --inner &
INNER_PID=$!
wait "$INNER_PID"
