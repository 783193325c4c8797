#!/bin/sh
# smtpprobe through real proxies from Debian, all on 127.0.0.1 (issue 12):
#   microsocks (SOCKS5, without and with -u/-P), tinyproxy (HTTP CONNECT, allowing only the
#   emulator's port; a second one with BasicAuth), a silent proxy, and socks5h with a name
#   only the proxy's mount namespace resolves (root only; skipped with a message otherwise).
# Every run's text, JSON and transcript go to $OUT; at the end the secret scan runs over them
# with this run's random proxy password.
#
#   tests/proxy/run.sh              (SMTPPROBE=path/to/smtpprobe, PROXY_PORT_BASE=6540)
#
# Exit status: 0 all checks passed; 1 a check failed; 77 skipped (microsocks or tinyproxy
# missing: scripts/install-deps.sh installs them).
set -eu
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${SMTPPROBE:-$ROOT/build/smtpprobe}
BASE=${PROXY_PORT_BASE:-6540}
OUT=${SMTPPROBE_TEST_OUTPUT_DIR:-$ROOT/build/test-outputs}/proxy
EMU=$BASE                      # the emulator
OTHER=$((BASE + 1))            # a second emulator, on a port tinyproxy does not allow
SOCKS=$((BASE + 2))            # microsocks, no auth
SOCKS_AUTH=$((BASE + 3))       # microsocks -u/-P
HTTP=$((BASE + 4))             # tinyproxy
HTTP_AUTH=$((BASE + 5))        # tinyproxy with BasicAuth
SILENT=$((BASE + 6))           # accepts, never answers
DEAD=$((BASE + 7))             # nothing listens
SOCKS_NS=$((BASE + 8))         # microsocks in a private mount namespace
for tool in microsocks tinyproxy python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "proxy suite: SKIPPED: $tool is not installed (scripts/install-deps.sh)"
        exit 77
    fi
done
[ -x "$BIN" ] || { echo "proxy suite: $BIN not built"; exit 1; }

STATE=$(mktemp -d /tmp/smtpprobe-proxy.XXXXXX)
PIDS=""
cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    for pid in $PIDS; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'exit 129' HUP PIPE
rm -rf "$OUT"
mkdir -p "$OUT"
# A fresh random proxy password each run, known to the secret scan below.
PROXY_USER=probe-user
PROXY_PASSWORD="px-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
echo "$PROXY_PASSWORD" >"$STATE/secrets.txt"
export PROXY_PASSWORD

start() { # start NAME COMMAND...: in the background, remembered for cleanup
    name=$1
    shift
    "$@" >"$STATE/$name.log" 2>&1 &
    PIDS="$PIDS $!"
}
wait_port() { # wait_port PORT: until something listens there (bounded: 5 s)
    i=0
    while [ $i -lt 50 ]; do
        port_busy "$1" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "proxy suite: nothing listens on 127.0.0.1:$1"; cat "$STATE"/*.log; exit 1
}

port_busy() {
    python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(0 if s.connect_ex(('127.0.0.1', $1)) == 0 else 1)" 2>/dev/null
}
for p in $EMU $OTHER $SOCKS $SOCKS_AUTH $HTTP $HTTP_AUTH $SILENT $DEAD $SOCKS_NS; do
    if port_busy "$p"; then
        echo "proxy suite: 127.0.0.1:$p is already in use (PROXY_PORT_BASE=$BASE); not starting"
        exit 1
    fi
done
start emulator "$BIN" emulate --profile samples/servers/azure-acs.json --listen "127.0.0.1:$EMU" --ca-out "$STATE/ca.pem"
start emulator2 "$BIN" emulate --profile samples/servers/azure-acs.json --listen "127.0.0.1:$OTHER" --ca-out "$STATE/ca2.pem"
start microsocks microsocks -i 127.0.0.1 -p "$SOCKS"
start microsocks-auth microsocks -i 127.0.0.1 -p "$SOCKS_AUTH" -u "$PROXY_USER" -P "$PROXY_PASSWORD"
tinyproxy_conf() { # tinyproxy_conf PORT [BasicAuth line]
    cat <<CONF
Port $1
Listen 127.0.0.1
Timeout 20
MaxClients 32
Allow 127.0.0.1
Allow 127.0.0.2
ConnectPort $EMU
LogLevel Info
User nobody
Group nogroup
$2
CONF
}
tinyproxy_conf "$HTTP" "" >"$STATE/tinyproxy.conf"
tinyproxy_conf "$HTTP_AUTH" "BasicAuth $PROXY_USER $PROXY_PASSWORD" >"$STATE/tinyproxy-auth.conf"
chmod 644 "$STATE"/*.conf
chmod 755 "$STATE"
start tinyproxy tinyproxy -d -c "$STATE/tinyproxy.conf"
start tinyproxy-auth tinyproxy -d -c "$STATE/tinyproxy-auth.conf"
start silent python3 tests/proxy/silent_server.py "$SILENT" 120
# A microsocks with its own /etc/hosts (a private mount namespace; root only): the names it
# resolves for socks5h:// are 127.0.0.1 only, whatever this machine's "localhost" is (a
# Debian install also names ::1 localhost, and microsocks tries only the first address).
# smtp.azurecomm.net is in the emulator's certificate, so TLS verifies through it.
NS=0
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1; then
    NS=1
    printf '127.0.0.1 localhost\n127.0.0.1 only-the-proxy-knows.test\n127.0.0.1 smtp.azurecomm.net\n' >"$STATE/hosts"
    chmod 644 "$STATE/hosts"
    # The bind mount exists only in the new namespace: the host's /etc/hosts is untouched.
    start microsocks-ns unshare --mount --propagation private sh -c \
        "mount --bind '$STATE/hosts' /etc/hosts && exec microsocks -i 127.0.0.1 -p $SOCKS_NS"
fi
for p in $EMU $OTHER $SOCKS $SOCKS_AUTH $HTTP $HTTP_AUTH $SILENT; do wait_port "$p"; done
[ "$NS" = 0 ] || wait_port "$SOCKS_NS"
i=0
while [ ! -s "$STATE/ca.pem" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

failures=0
pass() { echo "  ok   $1"; }
fail() { echo "  FAIL $1"; failures=$((failures + 1)); }
# probe NAME ARGS...: runs smtpprobe (bounded by its own --timeout and by timeout(1)), keeping
# text, JSON and transcript in $OUT/NAME.*; sets $rc (of the text run) and $elapsed_ms.
probe() {
    name=$1
    shift
    t0=$(date +%s%N)
    rc=0
    timeout 60 "$BIN" --ca-file "$STATE/ca.pem" --color never --timeout 30 \
        --transcript-file "$OUT/$name.transcript" "$@" >"$OUT/$name.txt" 2>"$OUT/$name.err" || rc=$?
    elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    timeout 60 "$BIN" --ca-file "$STATE/ca.pem" --format json --timeout 30 "$@" \
        >"$OUT/$name.json" 2>>"$OUT/$name.err" || true
}
expect_rc() { # expect_rc WANT NAME WHAT
    if [ "$rc" -eq "$1" ]; then pass "$3 (exit $rc)"; else fail "$3: exit $rc, expected $1"; sed 's/^/       /' "$OUT/$2.txt" "$OUT/$2.err" | head -20; fi
}
expect_text() { # expect_text NAME FILE-SUFFIX TEXT WHAT
    if grep -qF -- "$3" "$OUT/$1.$2"; then pass "$4"; else fail "$4: \"$3\" not in $1.$2"; sed 's/^/       /' "$OUT/$1.$2" | head -30; fi
}
same_matrix() { # same_matrix NAME
    if python3 tests/proxy/compare.py "$OUT/direct.json" "$OUT/$1.json"; then pass "$1: the same matrix as the direct run"; else fail "$1: the matrix differs from the direct run"; fi
}

echo "== the seed matrix, directly and through each proxy"
target=127.0.0.1:$EMU
probe direct "$target"
expect_rc 0 direct "direct"
probe socks5 --proxy "socks5://127.0.0.1:$SOCKS" "$target"
expect_rc 0 socks5 "microsocks, socks5://"
same_matrix socks5
expect_text socks5 txt "through the proxy socks5://127.0.0.1:$SOCKS" "the report names the proxy"
expect_text socks5 transcript "=== SOCKS -> 05 01 00 (offering: no authentication)" "the transcript shows the SOCKS handshake"
if [ "$NS" = 1 ]; then
    probe socks5h --proxy "socks5h://127.0.0.1:$SOCKS_NS" "smtp.azurecomm.net:$EMU"
    expect_rc 0 socks5h "microsocks, socks5h:// (the proxy resolves smtp.azurecomm.net in its own /etc/hosts)"
else # without root: this machine's "localhost", which must then resolve to 127.0.0.1 first
    probe socks5h --proxy "socks5h://127.0.0.1:$SOCKS" "localhost:$EMU"
    expect_rc 0 socks5h "microsocks, socks5h:// (the proxy resolves localhost)"
fi
same_matrix socks5h
expect_text socks5h json '"resolved_the_name": true' "the report says the proxy resolved the name"
probe socks5-auth --proxy "socks5://$PROXY_USER@127.0.0.1:$SOCKS_AUTH" --proxy-password-env PROXY_PASSWORD "$target"
expect_rc 0 socks5-auth "microsocks -u/-P, with the right password"
same_matrix socks5-auth
expect_text socks5-auth transcript "the proxy accepted the user name and password" "RFC 1929 accepted"
probe http --proxy "http://127.0.0.1:$HTTP" "$target"
expect_rc 0 http "tinyproxy, http://"
same_matrix http
expect_text http transcript "=== HTTP <- HTTP/1.0 200 Connection established" "the transcript shows tinyproxy's status line"
probe http-auth --proxy "http://$PROXY_USER@127.0.0.1:$HTTP_AUTH" --proxy-password-env PROXY_PASSWORD "$target"
expect_rc 0 http-auth "tinyproxy BasicAuth, with the right password"
same_matrix http-auth
expect_text http-auth transcript "Proxy-Authorization: Basic <hidden>" "the Basic header is shown hidden"

# Every connection goes through the proxy, the --tls-versions handshakes and SNI check too.
probe tls-versions --tls-versions --proxy "socks5://127.0.0.1:$SOCKS" "$target"
expect_rc 0 tls-versions "--tls-versions through microsocks"
connections=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['connections'])" "$OUT/tls-versions.json")
through=$(grep -c "=== Connected to the proxy socks5://127.0.0.1:$SOCKS" "$OUT/tls-versions.transcript" || true)
# A direct connection would be a "Connected to" line that names neither the proxy nor "through".
direct=$(grep "=== Connected to " "$OUT/tls-versions.transcript" | grep -vc -e "to the proxy" -e "through the proxy" || true)
# `connections` is from the JSON run and the transcript from the text run (probe runs both),
# and a connection whose proxy handshake failed has no "Connected to the proxy" line, so the
# two counts need not be equal. What must hold: no direct connection, and the matrix, the
# TLS versions and the SNI check (at least 6) all through the proxy.
if [ "$through" -ge 6 ] && [ "$direct" -eq 0 ]; then
    pass "all $through connections (matrix, TLS versions, SNI check) went through the proxy, none direct ($connections connection numbers)"
else
    fail "$through connections through the proxy, $direct direct, for $connections connection numbers"
    grep -e "=== Connected to " -e "\*\*\*" "$OUT/tls-versions.transcript" | sed 's/^/       /' | head -30
fi

echo "== proxies that refuse, fail or say nothing: exit 2, the proxy and the step named"
echo "wrong-$PROXY_PASSWORD" >"$STATE/wrong-password"
probe socks5-wrong --proxy "socks5://$PROXY_USER@127.0.0.1:$SOCKS_AUTH" --proxy-password-file "$STATE/wrong-password" "$target"
expect_rc 2 socks5-wrong "microsocks, wrong password"
expect_text socks5-wrong json "proxy authentication: the proxy rejected the user name or password" "the message names the step"
probe http-wrong --proxy "http://$PROXY_USER@127.0.0.1:$HTTP_AUTH" --proxy-password-file "$STATE/wrong-password" "$target"
expect_rc 2 http-wrong "tinyproxy, wrong password"
expect_text http-wrong json "proxy authentication: the proxy rejected the user name or password (HTTP 40" "the refusal (tinyproxy: 401) is reported as the credentials"
probe http-noauth --proxy "http://127.0.0.1:$HTTP_AUTH" "$target"
expect_rc 2 http-noauth "tinyproxy BasicAuth, no credentials"
expect_text http-noauth json "the proxy requires authentication" "407 without credentials"
probe http-forbidden --proxy "http://127.0.0.1:$HTTP" "127.0.0.1:$OTHER"
expect_rc 2 http-forbidden "tinyproxy, a port it does not allow"
expect_text http-forbidden json "the proxy refused to connect to 127.0.0.1:$OTHER (HTTP 403" "the 403 is reported"
probe dead --proxy "socks5://127.0.0.1:$DEAD" "$target"
expect_rc 2 dead "a proxy that is not listening"
expect_text dead json "proxy socks5://127.0.0.1:$DEAD: connecting to the proxy" "the message names the proxy and the step"
probe silent --connect-timeout 1 --parallel 1 --proxy "socks5://127.0.0.1:$SILENT" "$target"
expect_rc 2 silent "a proxy that accepts and never answers"
expect_text silent json "SOCKS greeting: the proxy did not answer in time" "the message names the step"
if [ "$elapsed_ms" -lt 5000 ]; then pass "bounded by --connect-timeout ($elapsed_ms ms)"; else fail "the silent proxy took $elapsed_ms ms"; fi
probe silent-http --connect-timeout 1 --parallel 1 --proxy "http://127.0.0.1:$SILENT" "$target"
expect_rc 2 silent-http "an HTTP proxy that accepts and never answers"
probe not-socks --proxy "socks5://127.0.0.1:$HTTP" "$target"
expect_rc 2 not-socks "socks5:// pointed at tinyproxy"

echo "== ALL_PROXY, NO_PROXY, --noproxy"
rc=0
ALL_PROXY="socks5://127.0.0.1:$SOCKS" probe env-proxy "$target"
expect_rc 0 env-proxy "ALL_PROXY"
expect_text env-proxy txt "(from the environment: ALL_PROXY)" "the report says the proxy came from the environment"
all_proxy="socks5://127.0.0.1:$DEAD" NO_PROXY="localhost,127.0.0.0/8" probe env-noproxy "$target"
expect_rc 0 env-noproxy "NO_PROXY bypasses all_proxy"
expect_text env-noproxy txt "NO_PROXY matches 127.0.0.1: not using the proxy socks5://127.0.0.1:$DEAD" "the report says why"
ALL_PROXY="socks5://127.0.0.1:$DEAD" probe cli-noproxy --noproxy 127.0.0.1 "$target"
expect_rc 0 cli-noproxy "--noproxy"
ALL_PROXY="socks5://127.0.0.1:$DEAD" probe cli-proxy-none --proxy "" "$target"
expect_rc 0 cli-proxy-none "--proxy \"\" ignores ALL_PROXY"
ALL_PROXY="gopher://x" probe env-bad "$target"
expect_rc 64 env-bad "a bad ALL_PROXY is a usage error"
expect_text env-bad err "ALL_PROXY: unknown proxy scheme" "naming the variable"
probe cli-password --proxy "socks5://u:pw@127.0.0.1:$SOCKS" "$target"
expect_rc 64 cli-password "a password in --proxy is refused"

echo "== several targets: each one, and each connection, through the proxy"
cat "$STATE/ca.pem" "$STATE/ca2.pem" >"$STATE/ca-both.pem"
# batch NAME ARGS...: NDJSON of the two emulators, kept in $OUT/NAME.ndjson; sets $rc.
batch() {
    name=$1
    shift
    rc=0
    timeout 60 "$BIN" --ca-file "$STATE/ca-both.pem" --timeout 30 --format ndjson "$@" \
        "127.0.0.1:$EMU" "127.0.0.1:$OTHER" >"$OUT/$name.ndjson" 2>"$OUT/$name.err" || rc=$?
    cp "$OUT/$name.ndjson" "$OUT/$name.txt"
}
# every_report NAME PYTHON-EXPRESSION WHAT: the expression holds for each report `r` of NAME.
every_report() {
    if python3 -c "
import json, sys
reports = [json.loads(line) for line in open('$OUT/$1.ndjson')]
sys.exit(0 if len(reports) == 2 and all($2 for r in reports) else 1)"; then
        pass "$3"
    else
        fail "$3"
        sed 's/^/       /' "$OUT/$1.ndjson" | cut -c1-300 | head -4
    fi
}
connected() { grep -c "connected to 127.0.0.1:$OTHER" "$STATE/microsocks.log" || true; }
before=$(connected)
batch batch-socks --proxy "socks5://127.0.0.1:$SOCKS"
expect_rc 0 batch-socks "two targets through microsocks (NDJSON)"
every_report batch-socks "r['session_established'] and r['connection']['proxy']['url'] == 'socks5://127.0.0.1:$SOCKS'" "each report names the proxy it went through"
after=$(connected)
expected=$(python3 -c "import json; print(sum(r['connections'] for r in map(json.loads, open('$OUT/batch-socks.ndjson')) if r['target']['port'] == $OTHER))")
if [ $((after - before)) -ge "$expected" ]; then pass "microsocks logged $((after - before)) connections to the second target (its report has $expected)"; else fail "microsocks logged $((after - before)) connections to 127.0.0.1:$OTHER, expected $expected"; fi
batch batch-dead --proxy "socks5://127.0.0.1:$DEAD"
expect_rc 2 batch-dead "two targets, a dead --proxy"
every_report batch-dead "'proxy socks5://127.0.0.1:$DEAD' in r['fatal_error']['detail']" "each report names the dead proxy in its fatal error"
ALL_PROXY="socks5://127.0.0.1:$DEAD" batch batch-env-dead
expect_rc 2 batch-env-dead "two targets, a dead ALL_PROXY"
every_report batch-env-dead "'proxy socks5://127.0.0.1:$DEAD' in r['fatal_error']['detail']" "each report names the proxy from ALL_PROXY"
NO_PROXY="127.0.0.1" ALL_PROXY="socks5://127.0.0.1:$DEAD" batch batch-noproxy
expect_rc 0 batch-noproxy "two targets, NO_PROXY bypasses a dead ALL_PROXY for both"

echo "== --source"
probe source --source 127.0.0.2 "$target"
expect_rc 0 source "--source 127.0.0.2"
expect_text source txt "Hello [127.0.0.2]" "the emulator saw 127.0.0.2 and echoes it in EHLO"
expect_text source txt "local address: 127.0.0.2 port" "the report shows the local address"
probe source-proxy --source 127.0.0.2 --proxy "http://127.0.0.1:$HTTP" "$target"
expect_rc 0 source-proxy "--source with a proxy"
expect_text source-proxy txt "local address: 127.0.0.2 port" "the proxy connection is made from it"
probe source-port --source 127.0.0.2:6599 "$target"
expect_rc 64 source-port "--source ADDR:PORT without --parallel 1"
probe source-port1 --source 127.0.0.2:6599 --parallel 1 "$target"
expect_rc 0 source-port1 "--source ADDR:PORT with --parallel 1"
expect_text source-port1 txt "local address: 127.0.0.2 port 6599" "that port is used"

echo "== socks5h with a name only the proxy's side resolves"
if [ "$NS" = 0 ]; then
    echo "  skip: needs root and unshare(1) for a private mount namespace with its own /etc/hosts"
else
    probe ns-local --proxy "socks5://127.0.0.1:$SOCKS_NS" --tls none "only-the-proxy-knows.test:$EMU"
    expect_rc 2 ns-local "socks5:// resolves here, where the name does not exist"
    probe ns-proxy --proxy "socks5h://127.0.0.1:$SOCKS_NS" --tls none "only-the-proxy-knows.test:$EMU"
    if grep -q '"session_established": true' "$OUT/ns-proxy.json"; then pass "socks5h:// lets the proxy resolve it"; else fail "socks5h:// did not reach the emulator"; sed 's/^/       /' "$OUT/ns-proxy.txt" | head; fi
fi

echo "== the secret scan over every output of this suite"
if python3 scripts/scan-secrets.py --secrets-file "$STATE/secrets.txt" "$OUT"; then
    pass "no proxy password in any output"
else
    fail "a secret leaked"
fi

echo "proxy suite: microsocks $(dpkg-query -W -f='${Version}' microsocks 2>/dev/null || echo '?'), $(tinyproxy -v 2>&1 | head -n1)"
if [ "$failures" -ne 0 ]; then
    echo "proxy suite: $failures check(s) FAILED"
    exit 1
fi
echo "proxy suite: all checks passed"
