#!/bin/sh
# What a proxy adds to the whole AUTH matrix at a 50 ms round trip (issue 12, "Cost").
# Not a test (asserts nothing, not in ctest): prints figures.
#
#   tests/proxy/bench.sh        (SMTPPROBE=..., BENCH_RUNS=3, BENCH_RTT_MS=50, PROXY_PORT_BASE=6560)
#
# The round trip is on the link between smtpprobe and its first hop, by tests/bench/delay_proxy.py
# (which also emulates the TCP handshake): directly, that hop is the emulator; through a proxy,
# it is the proxy, which sits next to the server (a bastion, a corporate proxy). Each
# configuration runs the matrix BENCH_RUNS times with --parallel 1 (so the added cost per
# connection is total difference / connections) and with the default --parallel 4.
set -eu
cd "$(dirname "$0")/../.."
BIN=${SMTPPROBE:-$PWD/build/smtpprobe}
RUNS=${BENCH_RUNS:-3}
RTT=${BENCH_RTT_MS:-50}
BASE=${PROXY_PORT_BASE:-6560}
EMU=$BASE SOCKS=$((BASE + 1)) SOCKS_AUTH=$((BASE + 2)) HTTP=$((BASE + 3))
STATE=$(mktemp -d /tmp/smtpprobe-proxy-bench.XXXXXX)
PIDS=""
cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    for pid in $PIDS; do wait "$pid" 2>/dev/null || true; done
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'exit 129' HUP PIPE
start() { "$@" >>"$STATE/log" 2>&1 & PIDS="$PIDS $!"; }
PASS="bench-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export PASS
start "$BIN" emulate --profile samples/servers/azure-acs.json --listen "127.0.0.1:$EMU" --ca-out "$STATE/ca.pem"
start microsocks -i 127.0.0.1 -p "$SOCKS"
start microsocks -i 127.0.0.1 -p "$SOCKS_AUTH" -u bench -P "$PASS"
printf 'Port %s\nListen 127.0.0.1\nTimeout 20\nMaxClients 32\nAllow 127.0.0.1\nConnectPort %s\nUser nobody\nGroup nogroup\nLogLevel Warning\n' \
    "$HTTP" "$EMU" >"$STATE/tinyproxy.conf"
chmod 755 "$STATE"; chmod 644 "$STATE/tinyproxy.conf"
start tinyproxy -d -c "$STATE/tinyproxy.conf"
half=$(python3 -c "print($RTT / 2)")
# A delayed door in front of each first hop.
start python3 tests/bench/delay_proxy.py --listen "127.0.0.1:$((BASE + 10))" --upstream "127.0.0.1:$EMU" --one-way-ms "$half"
start python3 tests/bench/delay_proxy.py --listen "127.0.0.1:$((BASE + 11))" --upstream "127.0.0.1:$SOCKS" --one-way-ms "$half"
start python3 tests/bench/delay_proxy.py --listen "127.0.0.1:$((BASE + 12))" --upstream "127.0.0.1:$SOCKS_AUTH" --one-way-ms "$half"
start python3 tests/bench/delay_proxy.py --listen "127.0.0.1:$((BASE + 13))" --upstream "127.0.0.1:$HTTP" --one-way-ms "$half"
i=0
while [ ! -s "$STATE/ca.pem" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
for port in $EMU $SOCKS $SOCKS_AUTH $HTTP $((BASE + 10)) $((BASE + 11)) $((BASE + 12)) $((BASE + 13)); do
    i=0
    until python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1', $port)))" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 50 ] || { echo "bench: nothing listens on 127.0.0.1:$port"; cat "$STATE/log"; exit 1; }
        sleep 0.1
    done
done

run() { # run LABEL PARALLEL ARGS...: prints one line of medians
    label=$1 parallel=$2
    shift 2
    for r in $(seq 0 "$RUNS"); do # run 0 is a warm-up, not counted
        "$BIN" --ca-file "$STATE/ca.pem" --format json --parallel "$parallel" --timeout 60 "$@" \
            >"$STATE/$label-$parallel-$r.json" 2>/dev/null || true
    done
    python3 - "$label" "$parallel" "$RUNS" "$STATE" <<'PY'
import json, statistics, sys
label, parallel, runs, state = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
docs = [json.load(open(f"{state}/{label}-{parallel}-{r}.json")) for r in range(1, runs + 1)]
ok = all(d["session_established"] for d in docs)
med = lambda key: statistics.median(d["timings_ms"][key] or 0 for d in docs)
print(f"{label:<22} parallel {parallel}  total {med('total'):7.0f} ms  connections {docs[0]['connections']:2d}"
      f"  connect {med('connect'):5.1f} ms  proxy handshake {med('proxy_handshake'):6.1f} ms"
      f"  banner {med('banner'):6.1f} ms{'' if ok else '  (NO SESSION)'}")
with open(f"{state}/summary", "a") as f:
    f.write(f"{label} {parallel} {med('total')} {docs[0]['connections']}\n")
PY
}
echo "smtpprobe through proxies at ${RTT} ms RTT (client <-> first hop), median of $RUNS runs"
echo "microsocks $(dpkg-query -W -f='${Version}' microsocks), $(tinyproxy -v 2>&1 | head -n1)"
for parallel in 1 4; do
    run direct "$parallel" "127.0.0.1:$((BASE + 10))"
    run socks5 "$parallel" --proxy "socks5://127.0.0.1:$((BASE + 11))" "127.0.0.1:$EMU"
    run socks5-user-password "$parallel" --proxy "socks5://bench@127.0.0.1:$((BASE + 12))" --proxy-password-env PASS "127.0.0.1:$EMU"
    run http-connect "$parallel" --proxy "http://127.0.0.1:$((BASE + 13))" "127.0.0.1:$EMU"
done
python3 - "$STATE/summary" "$RTT" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
rtt = float(sys.argv[2])
direct = {p: float(t) for label, p, t, n in rows if label == "direct"}
print("added by the proxy, against the direct run:")
for label, p, t, n in rows:
    if label == "direct":
        continue
    extra = float(t) - direct[p]
    line = f"  {label:<22} parallel {p}: {extra:+7.0f} ms for the matrix"
    if p == "1":
        per = extra / int(n)
        line += f", {per:+6.1f} ms per connection ({per / rtt:+.2f} RTT) over {n} connections"
    print(line)
PY
