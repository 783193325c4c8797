#!/bin/sh
# The system trust store read lazily (issue 21): where the default bundle lives in the default
# hashed directory (Debian's /etc/ssl/certs), the store is that directory alone, and a probe
# opens only the certificates its chain needs. A private /etc/ssl/certs is bind-mounted in a
# mount namespace of its own (unshare --mount), so this machine's store is never touched.
# Needs root; skipped (77) otherwise.
#   tests/cli/system_store.sh SMTPPROBE_BINARY
# The emulator listens on loopback and is stopped on exit; every wait is bounded.
set -eu
bin=${1:?usage: system_store.sh SMTPPROBE_BINARY}
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root (unshare --mount and mount --bind over /etc/ssl/certs)"
    exit 77
fi
for tool in unshare mount python3 openssl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is missing"; exit 1; }
done
default_dir=$(openssl version -d | sed 's/^OPENSSLDIR: "\(.*\)"$/\1/')/certs
certs=$(readlink -f "$default_dir")
[ -f "$certs/ca-certificates.crt" ] || { echo "SKIP: $certs/ca-certificates.crt is not the layout this test knows (Debian's)"; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/smtpprobe-store.XXXXXX")
pid=""
cleanup() {
    [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; for f in "$dir"/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$bin" emulate --profile azure-acs --listen "127.0.0.1:$port" --ca-out "$dir/ca.pem" >"$dir/emulator.log" 2>&1 &
pid=$!
python3 - "$port" <<'PY' || fail "the emulator did not start listening within 10 s"
import socket, sys, time
port, end = int(sys.argv[1]), time.monotonic() + 10
while time.monotonic() < end:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
[ -s "$dir/ca.pem" ] || fail "the emulator wrote no CA certificate"

# Two private copies of the store, each the real bundle plus the emulator's CA:
#  mirror/  the CA also as a hash link, as update-ca-certificates would leave it;
#  bundle/  the CA in the bundle only (no hash link): only a reader of the bundle trusts it.
for d in mirror bundle; do
    mkdir "$dir/$d"
    cat "$certs/ca-certificates.crt" "$dir/ca.pem" >"$dir/$d/ca-certificates.crt"
    cp "$dir/ca.pem" "$dir/$d/smtpprobe-test.pem"
done
openssl rehash "$dir/mirror" 2>/dev/null || true
rm -f "$dir/bundle/smtpprobe-test.pem"
# Some other certificate's hash link, so that bundle/ is a hashed directory too.
for f in "$certs"/*.0; do cp -L "$f" "$dir/bundle/"; break; done

# verified STORE_DIR [ENV...]: prints true/false, the chain check of one probe with the system
# store when STORE_DIR is mounted over the default directory.
verified() {
    store=$1
    shift
    unshare --mount sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
        "$dir/$store" "$certs" env -u SSL_CERT_FILE -u SSL_CERT_DIR "$@" \
        "$bin" "127.0.0.1:$port" --format json --mechanisms PLAIN >"$dir/out.json" 2>"$dir/probe.log" || true
    python3 -c 'import json,sys; print(str(json.load(open(sys.argv[1]))["server"]["tls"]["chain_verified"]).lower())' "$dir/out.json" ||
        fail "no JSON report from the probe with $store/"
}

[ "$(verified mirror)" = true ] || fail "mirror/: the CA behind a hash link is not trusted"
[ "$(verified mirror SSL_CERT_FILE="$certs/ca-certificates.crt" SSL_CERT_DIR="$certs")" = true ] ||
    fail "mirror/ with SSL_CERT_FILE and SSL_CERT_DIR naming the defaults: not trusted"
# The store is the directory, not the bundle: a CA only in the bundle is not found.
[ "$(verified bundle)" = false ] || fail "bundle/: the bundle was read although the directory is hashed"
# A bundle the user names elsewhere is read as OpenSSL reads it.
cp "$dir/bundle/ca-certificates.crt" "$dir/private.crt"
[ "$(verified bundle SSL_CERT_FILE="$dir/private.crt")" = true ] ||
    fail "SSL_CERT_FILE naming a private bundle: its CA is not trusted"

if command -v strace >/dev/null 2>&1; then
    unshare --mount sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
        "$dir/mirror" "$certs" env -u SSL_CERT_FILE -u SSL_CERT_DIR \
        strace -f -e trace=openat -o "$dir/strace.txt" \
        "$bin" "127.0.0.1:$port" --format json --mechanisms PLAIN >/dev/null 2>&1 || true
    opens=$(grep -c 'ca-certificates\.crt' "$dir/strace.txt" || true)
    [ "$opens" -eq 0 ] || fail "the bundle was opened $opens time(s) for one probe"
    echo "strace: the bundle opened 0 times in one probe"
else
    echo "strace missing: the count of bundle opens is not checked"
fi
echo "PASS: the system store is the hashed directory, read lazily; a named bundle is read whole"
