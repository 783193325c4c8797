#!/bin/sh
# --all-addresses for real (issue 9): two emulators on 127.0.0.1 and 127.0.0.2, the second
# with an expired certificate, under one name (pool.example) that a private /etc/hosts gives
# both addresses. The /etc/hosts is bind-mounted in a mount namespace of its own (unshare
# --mount), so this machine's file is never touched. Needs root; skipped (77) otherwise.
#   tests/cli/all_addresses.sh SMTPPROBE_BINARY
# Everything listens on loopback and is stopped on exit; every wait is bounded.
set -eu
bin=${1:?usage: all_addresses.sh SMTPPROBE_BINARY}
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root (unshare --mount and mount --bind over /etc/hosts)"
    exit 77
fi
for tool in unshare mount python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is missing (util-linux, mount, python3)"; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/smtpprobe-pool.XXXXXX")
pids=""
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; for f in "$dir"/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

# A port free on both addresses; the profile is postfix-submission under the name pool.example,
# so that both certificates are issued for it.
port=$(python3 - <<'PY'
import socket
for _ in range(50):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); port = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.2", port))
    except OSError:
        continue
    finally:
        a.close(); b.close()
    print(port); break
PY
)
[ -n "$port" ] || fail "no port free on both 127.0.0.1 and 127.0.0.2"
src=$(cd "$(dirname "$0")/../.." && pwd)
python3 - "$src/samples/servers/postfix-submission.json" "$dir/pool.json" <<'PY'
import json, sys
profile = json.load(open(sys.argv[1]))
profile["hostname"] = "pool.example"
json.dump(profile, open(sys.argv[2], "w"))
PY

"$bin" emulate --profile "$dir/pool.json" --listen "127.0.0.1:$port" --ca-out "$dir/ca1.pem" >"$dir/good.log" 2>&1 &
pids="$pids $!"
"$bin" emulate --profile "$dir/pool.json" --listen "127.0.0.2:$port" --certificate expired \
    --ca-out "$dir/ca2.pem" >"$dir/expired.log" 2>&1 &
pids="$pids $!"
python3 - "$port" <<'PY' || fail "the emulators did not start listening within 10 s"
import socket, sys, time
port, end = int(sys.argv[1]), time.monotonic() + 10
for address in ("127.0.0.1", "127.0.0.2"):
    while True:
        try:
            socket.create_connection((address, port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > end:
                sys.exit(1)
            time.sleep(0.05)
PY
cat "$dir/ca1.pem" "$dir/ca2.pem" >"$dir/ca.pem"
printf '127.0.0.1\tlocalhost\n127.0.0.1\tpool.example\n127.0.0.2\tpool.example\n' >"$dir/hosts"

# In the namespace: the name has two addresses; smtpprobe probes both, as text and as JSON.
in_pool() {
    timeout 60 unshare --mount sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh \
        "$dir/hosts" "$bin" "pool.example:$port" --ca-file "$dir/ca.pem" --color never "$@"
}
set +e
in_pool --all-addresses >"$dir/text.out" 2>"$dir/text.err"
text_rc=$?
in_pool --all-addresses --format json >"$dir/report.json" 2>"$dir/json.err"
json_rc=$?
in_pool >"$dir/single.out" 2>"$dir/single.err"
single_rc=$?
set -e
[ "$text_rc" -eq 1 ] || fail "text run: exit $text_rc, expected 1 (an error finding); $(cat "$dir/text.err")"
[ "$json_rc" -eq 1 ] || fail "JSON run: exit $json_rc, expected 1"
grep -q "ERROR  127.0.0.1 presents a valid certificate; 127.0.0.2 presents an expired one" "$dir/text.out" ||
    fail "the text report does not name the expired node: $(cat "$dir/text.out")"
grep -q "^Addresses  2 of 2" "$dir/text.out" || fail "no per-address summary in the text report"
echo "ok   text: $(grep -m1 'presents an expired' "$dir/text.out" | sed 's/^ *//')"
python3 - "$dir/report.json" <<'PY' || fail "the JSON report is not what it should be"
import json, sys
r = json.load(open(sys.argv[1]))
t = r["target"]
assert t["addresses"] == ["127.0.0.1", "127.0.0.2"], t["addresses"]
probes = {p["address"]: p for p in t["address_probes"]}
assert probes["127.0.0.1"]["tls"]["verified"] is True
assert probes["127.0.0.2"]["tls"]["verified"] is False
assert probes["127.0.0.2"]["tls"]["certificate"]["days_left"] < 0
f = [f for f in r["findings"] if f["id"] == "addresses.certificate_differs"]
assert f and "127.0.0.2 presents an expired" in f[0]["title"], r["findings"]
assert r["exit_code"] == 1
print("ok   JSON: " + f[0]["title"])
PY
# Without the flag: one address is probed, and an info finding says how to probe the other.
[ "$single_rc" -eq 0 ] || fail "without --all-addresses: exit $single_rc, expected 0"
grep -q "pool.example has 2 addresses; only 127.0.0.1 was probed" "$dir/single.out" ||
    fail "without --all-addresses: no finding about the address not probed"
echo "ok   without --all-addresses: $(grep -m1 'has 2 addresses' "$dir/single.out" | sed 's/^ *//')"
# This machine's /etc/hosts was never changed.
if grep -q "pool.example" /etc/hosts; then fail "/etc/hosts outside the namespace names pool.example"; fi
echo "ok   /etc/hosts outside the namespace untouched"
