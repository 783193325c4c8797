#!/bin/sh
# The exporter end to end, with the built binary and real components on 127.0.0.1 only:
#   - promtool check config on samples/prometheus/prometheus.yml, promtool test rules on
#     samples/prometheus/smtpprobe-alerts.yml (tests/exporter/alerts_test.yml);
#   - a bad configuration at start: exit 64;
#   - `smtpprobe emulate` for every profile in samples/servers/, the exporter probing each one,
#     and `promtool check metrics` on every exposition and on /metrics;
#   - a real Prometheus (Debian's 2.42) scraping the exporter in the multi-target relabelling
#     form, queried through its HTTP API: smtpprobe_auth_recognised{mechanism="PLAIN"} is 0 for
#     azure-acs and 1 for postfix-submission;
#   - SIGHUP and POST /-/reload with a bad file (old config stays, failures counted), then a
#     good one; SIGTERM ends the exporter with exit 0.
# Every wait is bounded; a trap stops everything it started, also on failure. Outputs go to
# $SMTPPROBE_TEST_OUTPUT_DIR/exporter-run for the secret scan.
#
#   SMTPPROBE=build/smtpprobe EXPORTER_PORT_BASE=7500 tests/exporter/run.sh
# Ports: BASE (exporter), BASE+1 (Prometheus), BASE+2 (exporter with a bad config),
# BASE+10.. (one emulator per profile). Exit 77 when prometheus, promtool or curl is missing.
set -eu
cd "$(dirname "$0")/../.."
SMTPPROBE=${SMTPPROBE:-build/smtpprobe}
BASE=${EXPORTER_PORT_BASE:-7500}
OUT=${SMTPPROBE_TEST_OUTPUT_DIR:-build/test-outputs}/exporter-run
for tool in prometheus promtool curl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "exporter/run.sh: SKIP: $tool is not installed (scripts/install-deps.sh installs it)"
        exit 77
    fi
done
[ -x "$SMTPPROBE" ] || { echo "exporter/run.sh: no binary at $SMTPPROBE" >&2; exit 1; }

tmp=$(mktemp -d /tmp/smtpprobe-exporter-run.XXXXXX)
rm -rf "$OUT"
mkdir -p "$OUT"
pids=""
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failures=0
step() { printf 'exporter/run.sh: %s\n' "$*"; }
fail() { printf 'exporter/run.sh: FAIL: %s\n' "$*"; failures=$((failures + 1)); }
# wait_for SECONDS COMMAND...: retries the command every 0.2 s.
wait_for() {
    limit=$(( $1 * 5 )); shift
    i=0
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge $limit ] && return 1
        sleep 0.2
    done
}
port_open() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1"; }
http() { curl -sS --max-time 30 "$@"; }
value_of() { # value_of FILE SERIES
    awk -v s="$2" 'index($0, s " ") == 1 { print $2; found = 1 } END { exit !found }' "$1"
}

step "promtool check config samples/prometheus/prometheus.yml"
promtool check config samples/prometheus/prometheus.yml >"$OUT/promtool-check-config.txt" 2>&1 ||
    fail "promtool check config: $(cat "$OUT/promtool-check-config.txt")"
step "promtool test rules tests/exporter/alerts_test.yml (samples/prometheus/smtpprobe-alerts.yml)"
promtool test rules tests/exporter/alerts_test.yml >"$OUT/promtool-test-rules.txt" 2>&1 ||
    fail "promtool test rules: $(cat "$OUT/promtool-test-rules.txt")"

if command -v systemd-analyze >/dev/null 2>&1; then
    # The unit as shipped names /usr/bin/smtpprobe and its man page; verify a copy that points
    # at the binary under test (the rest is unchanged).
    step "systemd-analyze verify samples/systemd/smtpprobe-exporter.service"
    sed -e "s|/usr/bin/smtpprobe|$(realpath "$SMTPPROBE")|" -e '/^Documentation=/d' \
        samples/systemd/smtpprobe-exporter.service >"$tmp/smtpprobe-exporter.service"
    timeout 60 systemd-analyze verify "$tmp/smtpprobe-exporter.service" >"$OUT/systemd-verify.txt" 2>&1 &&
        [ ! -s "$OUT/systemd-verify.txt" ] || fail "systemd-analyze verify: $(cat "$OUT/systemd-verify.txt")"
    if timeout 60 systemd-analyze security --offline=yes "$tmp/smtpprobe-exporter.service" \
        >"$OUT/systemd-security.txt" 2>&1; then
        tail -n 1 "$OUT/systemd-security.txt"
    fi
else
    step "systemd-analyze not installed: the unit is not verified here"
fi

step "a bad configuration at start: exit 64 with the key named"
printf 'modules:\n  m:\n    tls: sometimes\n' >"$tmp/bad.yml"
rc=0
timeout 10 "$SMTPPROBE" exporter --listen "127.0.0.1:$((BASE + 2))" --config "$tmp/bad.yml" \
    >"$OUT/bad-config.out" 2>"$OUT/bad-config.err" || rc=$?
[ "$rc" = 64 ] || fail "bad config: exit $rc, expected 64"
grep -q 'modules.m.tls' "$OUT/bad-config.err" || fail "bad config: message does not name modules.m.tls"

step "bad options: exit 64"
L="--listen 127.0.0.1:$((BASE + 2))"
for bad in "$L --allow-target smtp.example.com" "$L --ca-file /nonexistent/ca.pem" \
    "--listen 127.0.0.1" "--listen 127.0.0.1:99999" "--listen bad_host:1" "$L --no-such-option"; do
    rc=0
    # shellcheck disable=SC2086
    timeout 10 "$SMTPPROBE" exporter $bad >>"$OUT/bad-options.out" 2>>"$OUT/bad-options.err" || rc=$?
    [ "$rc" = 64 ] || fail "exporter $bad: exit $rc, expected 64"
done
grep -q 'allow-target "smtp.example.com": expected HOST:PORTS' "$OUT/bad-options.err" ||
    fail "a bad --allow-target is not named: $(cat "$OUT/bad-options.err")"

if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    step "listening on [::1]:$((BASE + 3))"
    "$SMTPPROBE" exporter --listen "[::1]:$((BASE + 3))" >/dev/null 2>"$OUT/ipv6.err" &
    v6_pid=$!
    pids="$pids $v6_pid"
    wait_for 20 http -f "http://[::1]:$((BASE + 3))/-/healthy" || fail "no answer on [::1]"
    grep -q 'allow_targets is empty' "$OUT/ipv6.err" || fail "no warning about an empty allow-list"
    ! grep -q 'which other hosts may reach' "$OUT/ipv6.err" || fail "::1 taken for a public address"
    kill "$v6_pid"
fi

step "one emulator per profile in samples/servers/"
n=0
: >"$tmp/ca.pem"
for profile in samples/servers/*.json; do
    name=$(basename "$profile" .json)
    port=$((BASE + 10 + n))
    "$SMTPPROBE" emulate --profile "$profile" --listen "127.0.0.1:$port" --ca-out "$tmp/ca-$name.pem" \
        >/dev/null 2>"$OUT/emulator-$name.err" &
    pids="$pids $!"
    tls=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("tls", "starttls"))' "$profile")
    echo "$name $port $tls" >>"$tmp/targets"
    n=$((n + 1))
done
while read -r name port tls; do
    wait_for 20 port_open "$port" || fail "emulator $name did not listen on $port"
    cat "$tmp/ca-$name.pem" >>"$tmp/ca.pem"
done <"$tmp/targets"

secret="postfix-test-password-not-real" # samples/servers/postfix-submission.json's account
cat >"$tmp/exporter.yml" <<YAML
allow_targets: ["127.0.0.1:$((BASE + 10))-$((BASE + 10 + n - 1))"]
max_concurrent_probes: 8
modules:
  default:
    ca_file: $tmp/ca.pem
    timeout: 20s
  implicit:
    tls: implicit
    ca_file: $tmp/ca.pem
  login:
    ca_file: $tmp/ca.pem
    mechanisms: [PLAIN, LOGIN]
    credentials:
      user: alice@example.test
      password_env: SMTPPROBE_RUN_PASSWORD
YAML
cp "$tmp/exporter.yml" "$tmp/exporter-good.yml"
step "exporter on 127.0.0.1:$BASE"
SMTPPROBE_RUN_PASSWORD=$secret "$SMTPPROBE" exporter --listen "127.0.0.1:$BASE" \
    --config "$tmp/exporter.yml" >"$OUT/exporter.out" 2>"$OUT/exporter.log" &
exporter_pid=$!
pids="$pids $exporter_pid"
wait_for 20 http -f "http://127.0.0.1:$BASE/-/healthy" || fail "the exporter did not answer /-/healthy"
URL="http://127.0.0.1:$BASE"

step "promtool check metrics on every profile's /probe exposition"
while read -r name port tls; do
    module=default
    [ "$tls" = implicit ] && module=implicit
    code=$(http -o "$OUT/probe-$name.prom" -w '%{http_code}' "$URL/probe?target=127.0.0.1:$port&module=$module")
    [ "$code" = 200 ] || fail "/probe $name: HTTP $code"
    if ! promtool check metrics <"$OUT/probe-$name.prom" >"$OUT/promtool-$name.txt" 2>&1 ||
        [ -s "$OUT/promtool-$name.txt" ]; then
        fail "promtool check metrics $name: $(cat "$OUT/promtool-$name.txt")"
    fi
    printf '  %-20s success=%s\n' "$name" "$(value_of "$OUT/probe-$name.prom" smtpprobe_probe_success)"
done <"$tmp/targets"
acs_port=$(awk '$1 == "azure-acs" { print $2 }' "$tmp/targets")
postfix_port=$(awk '$1 == "postfix-submission" { print $2 }' "$tmp/targets")
f="$OUT/probe-azure-acs.prom"
[ "$(value_of "$f" smtpprobe_probe_success)" = 1 ] || fail "azure-acs: success is not 1"
[ "$(value_of "$f" 'smtpprobe_auth_recognised{mechanism="PLAIN"}')" = 0 ] || fail "azure-acs: PLAIN recognised"
[ "$(value_of "$f" 'smtpprobe_auth_recognised{mechanism="LOGIN"}')" = 1 ] || fail "azure-acs: LOGIN not recognised"

step "credentials by reference, debug output, status page"
http -o "$OUT/probe-login.prom" "$URL/probe?target=127.0.0.1:$postfix_port&module=login"
[ "$(value_of "$OUT/probe-login.prom" 'smtpprobe_auth_authenticated{mechanism="PLAIN"}')" = 1 ] ||
    fail "login module: PLAIN did not authenticate"
promtool check metrics <"$OUT/probe-login.prom" >"$OUT/promtool-login.txt" 2>&1 &&
    [ ! -s "$OUT/promtool-login.txt" ] || fail "promtool check metrics login: $(cat "$OUT/promtool-login.txt")"
http -o "$OUT/debug-login.txt" "$URL/probe?target=127.0.0.1:$postfix_port&module=login&debug=true"
grep -q 'AUTH PLAIN' "$OUT/debug-login.txt" || fail "debug=true: no transcript"
http -o "$OUT/index.html" "$URL/"
grep -q '/logs?id=' "$OUT/index.html" || fail "/: no recent probes"
http -o "$OUT/logs-1.txt" "$URL/logs?id=1"

step "refusals: outside the allow-list 403, malformed 400"
code=$(http -o "$OUT/refused-403.txt" -w '%{http_code}' "$URL/probe?target=127.0.0.1:25")
[ "$code" = 403 ] || fail "target outside allow_targets: HTTP $code"
code=$(http -o "$OUT/refused-400.txt" -w '%{http_code}' "$URL/probe?target=no_such^host")
[ "$code" = 400 ] || fail "malformed target: HTTP $code"

step "a real Prometheus on 127.0.0.1:$((BASE + 1)), multi-target relabelling"
cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 3s
  scrape_timeout: 3s
scrape_configs:
  - job_name: smtp
    metrics_path: /probe
    params:
      module: [default]
    static_configs:
      - targets: ["127.0.0.1:$acs_port", "127.0.0.1:$postfix_port"]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: "127.0.0.1:$BASE"
  - job_name: smtpprobe_exporter
    static_configs:
      - targets: ["127.0.0.1:$BASE"]
YAML
promtool check config "$tmp/prometheus.yml" >/dev/null || fail "the test's prometheus.yml"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
    --web.listen-address="127.0.0.1:$((BASE + 1))" --log.level=warn \
    >"$OUT/prometheus.log" 2>&1 &
prom_pid=$!
pids="$pids $prom_pid"
PROM="http://127.0.0.1:$((BASE + 1))"
query='smtpprobe_auth_recognised{mechanism="PLAIN"}'
two_results() {
    http -G "$PROM/api/v1/query" --data-urlencode "query=$query" -o "$OUT/prometheus-query.json" &&
        python3 -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["data"]["result"]) != 2)' "$OUT/prometheus-query.json"
}
if wait_for 90 two_results; then
    python3 - "$OUT/prometheus-query.json" "127.0.0.1:$acs_port" "127.0.0.1:$postfix_port" >"$OUT/prometheus-result.txt" <<'PY' ||
import json, sys
result = json.load(open(sys.argv[1]))["data"]["result"]
values = {r["metric"]["instance"]: r["value"][1] for r in result}
for r in result:
    print("  %s{instance=%s, job=%s} = %s" % (r["metric"]["__name__"], r["metric"]["instance"], r["metric"]["job"], r["value"][1]))
sys.exit(0 if values.get(sys.argv[2]) == "0" and values.get(sys.argv[3]) == "1" else 1)
PY
        fail "Prometheus query: $(cat "$OUT/prometheus-query.json")"
    step "Prometheus API: $query"
    cat "$OUT/prometheus-result.txt"
    http -G "$PROM/api/v1/query" --data-urlencode 'query=up' -o "$OUT/prometheus-up.json"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["data"]["result"]; sys.exit(not r or any(x["value"][1] != "1" for x in r))' \
        "$OUT/prometheus-up.json" || fail "Prometheus: a scrape is not up: $(cat "$OUT/prometheus-up.json")"
else
    fail "Prometheus did not store both series within 90 s: $(cat "$OUT/prometheus-query.json" 2>/dev/null)"
fi
kill "$prom_pid" 2>/dev/null || true

step "promtool check metrics on /metrics"
http -o "$OUT/metrics.prom" "$URL/metrics"
promtool check metrics <"$OUT/metrics.prom" >"$OUT/promtool-metrics.txt" 2>&1 &&
    [ ! -s "$OUT/promtool-metrics.txt" ] || fail "promtool check metrics /metrics: $(cat "$OUT/promtool-metrics.txt")"

step "reload: a bad file by SIGHUP and POST keeps the old config; a good one takes over"
printf 'modules:\n  m:\n    timeout: never\n' >"$tmp/exporter.yml"
kill -HUP "$exporter_pid"
reload_failures() {
    http -o "$OUT/metrics-reload.prom" "$URL/metrics" &&
        [ "$(value_of "$OUT/metrics-reload.prom" smtpprobe_exporter_config_reload_failures_total)" = "$1" ]
}
wait_for 10 reload_failures 1 || fail "SIGHUP with a bad file: failure not counted"
code=$(http -o /dev/null -w '%{http_code}' -X POST "$URL/-/reload")
[ "$code" = 500 ] || fail "POST /-/reload with a bad file: HTTP $code"
reload_failures 2 || fail "POST /-/reload with a bad file: failure not counted"
http -o "$OUT/probe-after-bad-reload.prom" "$URL/probe?target=127.0.0.1:$acs_port"
[ "$(value_of "$OUT/probe-after-bad-reload.prom" smtpprobe_probe_success)" = 1 ] ||
    fail "after a bad reload the old config is not in force"
grep -q 'reload failed, the previous configuration stays in force' "$OUT/exporter.log" ||
    fail "the failed reload is not logged"
cp "$tmp/exporter-good.yml" "$tmp/exporter.yml"
code=$(http -o /dev/null -w '%{http_code}' -X POST "$URL/-/reload")
[ "$code" = 200 ] || fail "POST /-/reload with a good file: HTTP $code"

step "SIGTERM: the exporter stops with exit 0"
kill -TERM "$exporter_pid"
rc=0
i=0
while kill -0 "$exporter_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$exporter_pid" || rc=$?
[ "$rc" = 0 ] || fail "the exporter exited $rc after SIGTERM"

if [ "$failures" -ne 0 ]; then
    step "$failures failure(s); outputs in $OUT"
    exit 1
fi
step "all passed; outputs in $OUT"
