#!/bin/bash
# Builds and runs the libFuzzer targets in tests/fuzz (see README.md there).
#
# NOT part of CI (.ci/run and scripts/test.sh do not call it) and not part of the CMake build:
# it is run by hand, on a machine with clang++ (14 or later, with libFuzzer) and libcrypto.
#
#   tests/fuzz/run.sh [BUILD_DIR]          BUILD_DIR defaults to /tmp/smtpprobe-fuzz
#
# Environment:
#   FUZZ_SECONDS   time per target, default 60 (libFuzzer -max_total_time)
#   FUZZ_TARGETS   which targets, default "reply_parser_fuzz sasl_fuzz"
#   FUZZ_KEEP_GOING=1  fork mode: keep fuzzing past crashes (see below)
#   CXX            compiler, default clang++
#
# Bounded in time: each target gets FUZZ_SECONDS, and is killed FUZZ_SECONDS + 120 s after it
# started if libFuzzer has not stopped by then. The corpus grown in BUILD_DIR/corpus/<target>
# is kept and reused by the next run; seeds (BUILD_DIR/seeds/<target>) are rewritten every run
# from samples/transcripts and the hand-written seeds below. Crash inputs go to
# BUILD_DIR/artifacts/. Exits 1 if any target found a crash, 2 on a build or usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-/tmp/smtpprobe-fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"reply_parser_fuzz sasl_fuzz"}
CXX=${CXX:-clang++}

case $SECONDS_PER_TARGET in
'' | *[!0-9]*)
    echo "FUZZ_SECONDS must be a whole number of seconds" >&2
    exit 2
    ;;
esac
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)

# ------------------------------------------------------------------------------------- build
# shellcheck disable=SC2054 # the commas belong to -fsanitize=
CXXFLAGS=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c++20 -g -O1
    -I"$ROOT/src")
build() {
    local target=$1
    shift
    echo "== build $target"
    if ! "$CXX" "${CXXFLAGS[@]}" "$ROOT/tests/fuzz/$target.cpp" "$@" -lcrypto -o "$BUILD/$target"; then
        echo "build of $target failed" >&2
        exit 2
    fi
}
for target in $TARGETS; do
    case $target in
    reply_parser_fuzz) build "$target" "$ROOT"/src/smtp/*.cpp "$ROOT"/src/sasl/*.cpp ;;
    sasl_fuzz) build "$target" "$ROOT"/src/sasl/*.cpp ;;
    *)
        echo "unknown target $target" >&2
        exit 2
        ;;
    esac
done

# ------------------------------------------------------------------------------------- seeds
echo "== seeds"
python3 - "$ROOT" "$BUILD" <<'PY'
import base64, glob, hashlib, os, shutil, sys

root, build = sys.argv[1], sys.argv[2]

def reset(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)

def write(directory, data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)

transcripts = sorted(glob.glob(os.path.join(root, "samples/transcripts/*.txt")) +
                     glob.glob(os.path.join(root, "samples/transcripts/auth/*.txt")))
server_streams, challenges, responses = [], [], []
for path in transcripts:
    lines = open(path, encoding="utf-8", errors="surrogateescape").read().splitlines()
    stream, after_auth = [], False
    for line in lines:
        if line[:4] in ("<-  ", "<~  "):           # server lines (swaks notation)
            text = line[4:]
            stream.append(text)
            if text.startswith("334 "):
                challenges.append(text[4:])
        elif line[:4] in (" -> ", " ~> "):          # client lines
            text = line[4:]
            if text.upper().startswith("AUTH "):
                words = text.split()
                after_auth = True
                if len(words) == 3:                # initial response
                    responses.append(words[2])
            elif after_auth and text not in ("*", "QUIT"):
                responses.append(text)
            else:
                after_auth = False
    if stream:
        server_streams.append("".join(l + "\r\n" for l in stream).encode("utf-8", "surrogateescape"))

def b64decode(text):
    try:
        return base64.b64decode(text, validate=True)
    except Exception:
        return None

# --- reply parser: 4 header bytes (cuts, seed, max_line, max_lines), then the server's bytes
d = os.path.join(build, "seeds/reply_parser_fuzz")
reset(d)
headers = [b"\x00\x00\x00\x00", b"\x03\x2a\x00\x00", b"\x0f\x07\x00\x00", b"\x05\x11\x20\x03"]
for stream in server_streams:
    for header in headers:
        write(d, header + stream)
hand = [
    b"220 mail.example.test ESMTP\r\n",
    b"250-mail.example.test\r\n250-AUTH PLAIN LOGIN cram-md5\r\n250-AUTH=LOGIN PLAIN\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n",
    b"250-x\r\n250-SIZE\r\n250-SIZE 18446744073709551616\r\n250 AUTH\r\n",
    b"504 5.7.4 Unrecognized authentication type\r\n",
    b"250-2.1.5 first\r\n250-2.1.5 second\r\n250 2.1.50 third\r\n",
    b"535-5.7.8 Error: authentication failed:\r\n535 5.7.8 another line\r\n",
    b"334 \r\n334\r\n334 VXNlcm5hbWU6\r\n",
    b"250 bare lf\n250-mixed\n250 end\r\n",
    b"250-odd.example.test\r\n251 AUTH PLAIN\r\n",
    b"220 ok\r\n250-half",
    b"999 bad code\r\n",
    b"250" + b"-" + b"x" * 600 + b"\r\n250 long\r\n",
    b"250 " + b"y" * 5000 + b"\r\n",
    b"250-a\r\n" * 20 + b"250 b\r\n",
    b"220 \x00\xff\x7f binary\r\r\n",
]
for data in hand:
    for header in headers:
        write(d, header + data)

# --- sasl: byte 0 picks the mode; FuzzedDataProvider strings from the front, choices from
# the back (the last byte is the first choice)
def fdp(strings, choices):
    body = b"".join(s.replace(b"\\", b"\\\\") + b"\\;" for s in strings)
    return body + bytes(reversed(choices))

d = os.path.join(build, "seeds/sasl_fuzz")
reset(d)
MECHS = ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER"]
m = {name: i for i, name in enumerate(MECHS)}
# mode 0: base64
for text in challenges + responses + ["", "QQ==", "QUI=", "QUJD", "QR==", "Q===", "=QQ=", "AA=A"]:
    write(d, b"\x00" + text.encode())
# mode 1: client; choices: mechanism, credential set, authzid, host, nonce
decoded = [x for x in (b64decode(c) for c in challenges) if x is not None]
rfc5802 = [b"", b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
           b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="]
rfc7677 = [b"", b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
           b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="]
client_seeds = [
    ("SCRAM-SHA-1", rfc5802), ("SCRAM-SHA-256", rfc7677),
    ("SCRAM-SHA-1", rfc5802[:2] + [b"e=invalid-proof"]),
    ("SCRAM-SHA-256", [b"", b"e=unknown-user"]),
    # a server that echoes a credential: the client must withhold the text
    ("SCRAM-SHA-1", [b"", b"e=pencil"]), ("SCRAM-SHA-256", [b"", b"e=Wh0?Kn0ws!"]),
    ("SCRAM-SHA-256", [b"", b"e=p\xc3\xa4sswort-\xc3\xbc"]), ("SCRAM-SHA-1", [b"", b"e=p=w,d"]),
    ("SCRAM-SHA-1", [b"", b"r=fyko+d2lbbFgONRv9qkxdawLx,s=QQ==,i=ya29.fuzz-token-0"]),
    ("SCRAM-SHA-256", [b"", b"m=ext,r=rOprNGfwEbeRWgbNEkqO%hv,s=QQ==,i=1"]),
    ("SCRAM-SHA-256", [b"", b"r=rOprNGfwEbeRWgbNEkqO%hv,s=QQ==,i=99999999999"]),
    ("PLAIN", [b""]), ("LOGIN", [b"Username:", b"Password:"]),
    ("XOAUTH2", [b"", b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}', b""]),
    ("OAUTHBEARER", [b"", b'{"status":"invalid_token"}']),
] + [(mech, [c]) for c in decoded for mech in ("CRAM-MD5", "LOGIN")]
for mech, chs in client_seeds:
    for cred in range(6):
        write(d, b"\x01" + fdp(chs, [m[mech], cred, 0, 0, 0]))
# mode 2: server; choices: mechanism, configuration, respond-before-start
server_seeds = [
    ("SCRAM-SHA-1", 0, [b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
                        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", b""]),
    ("SCRAM-SHA-256", 1, [b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
                          b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", b""]),
    ("SCRAM-SHA-256", 1, [b"y,a=user,n=user,r=x", b"c=eSxhPXVzZXIs,r=x,p=QQ=="]),
    ("SCRAM-SHA-1", 0, [b"n,,m=ext,n=user,r=x"]),
    ("PLAIN", 2, [b"\x00user\x00pencil"]), ("PLAIN", 2, [b"user\x00user\x00wrong"]),
    ("LOGIN", 2, [b"user", b"pencil"]),
    ("XOAUTH2", 2, [b"user=bob@example.org\x01auth=Bearer ya29.good-token\x01\x01"]),
    ("XOAUTH2", 2, [b"user=bob@example.org\x01auth=Bearer bad\x01\x01", b""]),
    ("OAUTHBEARER", 2, [b"n,a=bob@example.org,\x01host=x\x01auth=Bearer ya29.good-token\x01\x01"]),
    ("OAUTHBEARER", 2, [b"n,,\x01auth=bearer   bad\x01\x01", b"\x01"]),
]
for mech, config, rs in server_seeds:
    write(d, b"\x02" + fdp(rs, [m[mech], config, 0]))
# server mode with the responses recorded in samples/transcripts/auth
for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
    rs = [x for x in (b64decode(r) for r in responses) if x is not None]
    for r in rs:
        write(d, b"\x02" + fdp([r], [m[mech], 2, 0]))
    write(d, b"\x02" + fdp(rs[:2], [m[mech], 2, 0]))
# mode 3: round trip; choices: mechanism, authzid is the user, host, iterations;
# strings: user, password, token, client nonce, server nonce
for mech in MECHS:
    write(d, b"\x03" + fdp([b"tim", b"tanstaaftanstaaf", b"ya29.tok", b"cnonce", b"snonce"],
                           [m[mech], 0, 1, 3]))
    write(d, b"\x03" + fdp([b"a,b=c d", b"p=w,d ?", b"t=k,n", b"r", b"s"], [m[mech], 1, 0, 1]))
# mode 4: SCRAM helpers
for text in [b"n,,n=user,r=abc", b"n,a=a=3Db=2Cc,n=x,r=y", b"p=tls-unique,,", b"a=1,b=2,c=",
             b"=3D=2C=3d", b"y,,"]:
    write(d, b"\x04" + text)
PY

# Dictionaries: tokens of the two formats, and the fixed test credentials of sasl_fuzz.cpp
# (its leak check needs a server that echoes them).
cat >"$BUILD/reply_parser_fuzz.dict" <<'EOF'
"\x0d\x0a"
"\x0a"
"250-"
"250 "
"334 "
"220 "
"535 5.7.8 "
"2.0.0"
"5.7.4"
"AUTH "
"AUTH="
"SIZE "
"PLAIN"
"STARTTLS"
EOF
cat >"$BUILD/sasl_fuzz.dict" <<'EOF'
"r="
"s="
"i="
"v="
"e="
"m="
",p="
"n,,"
"n,a="
"c=biws"
"=3D"
"=2C"
"\x00"
"\x01"
"user="
"auth=Bearer "
"pencil"
"Wh0?Kn0ws!"
"p\xc3\xa4sswort-\xc3\xbc"
"p=w,d"
"ya29.fuzz-token-0"
"ya29.a0Af-fuzz_token~1"
"fyko+d2lbbFgONRv9qkxdawL"
"rOprNGfwEbeRWgbNEkqO"
"fuzz-client-nonce"
EOF

# --------------------------------------------------------------------------------------- run
# Normally libFuzzer stops at the first crash. With FUZZ_KEEP_GOING=1 it runs in fork mode
# (-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1) and keeps fuzzing past known
# crashes, writing each crash input to the artifacts directory; its cov/ft counters are
# fork mode's own and not comparable with a normal run's.
mode=()
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
    mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
field() { # field NAME LINE: the value after "NAME: " (or "NAME ") in a libFuzzer status line
    echo "$2" | sed -n "s|.*[[:space:]]$1:* \([0-9][0-9/A-Za-z]*\).*|\1|p"
}
status=0
summary=()
for target in $TARGETS; do
    corpus="$BUILD/corpus/$target"
    artifacts="$BUILD/artifacts/$target"
    log="$BUILD/$target.log"
    marker="$BUILD/.started-$target"
    mkdir -p "$corpus" "$artifacts"
    touch "$marker"
    echo "== run $target for ${SECONDS_PER_TARGET}s (log: $log)"
    rc=0
    timeout --kill-after=10 $((SECONDS_PER_TARGET + 120)) \
        "$BUILD/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -rss_limit_mb=2048 \
        -timeout=30 -print_final_stats=1 -dict="$BUILD/$target.dict" ${mode[@]+"${mode[@]}"} \
        -artifact_prefix="$artifacts/" "$corpus" "$BUILD/seeds/$target" >"$log" 2>&1 || rc=$?
    # The final stats: "#N DONE cov: C ft: F corp: U/S lim: L exec/s: E rss: R" and the
    # stat:: lines of -print_final_stats; after a crash the last "#N ..." status line stands in.
    # Fork mode: "#N: cov: C ft: F corp: U exec/s E oom/timeout/crash: O/T/C time: Ts ...".
    last=$(grep -E '^#[0-9]+:?[[:space:]]' "$log" | tail -n 1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log" | tail -n 1)
    [ -n "$runs" ] || runs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    rate=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log" | tail -n 1)
    if [ -z "$rate" ]; then
        elapsed=$(echo "$last" | sed -n 's/.* time: \([0-9]*\)s.*/\1/p')
        if [ -n "$elapsed" ] && [ "$elapsed" -gt 0 ] && [ -n "$runs" ]; then
            rate=$((runs / elapsed)) # fork mode: the average over the whole run
        else
            rate=$(field exec/s "$last")
        fi
    fi
    cov=$(field cov "$last")
    ft=$(field ft "$last")
    corp=$(field corp "$last")
    crashes=$(find "$artifacts" -type f -newer "$marker" 2>/dev/null | wc -l)
    crash=no
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        crash="YES: killed after $((SECONDS_PER_TARGET + 120))s (a hang?)"
        status=1
    elif [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ] ||
        grep -qE '^==[0-9]+==ERROR|^SUMMARY: |Test unit written to' "$log"; then
        crash="YES (exit $rc, $crashes input(s) in $artifacts)"
        status=1
    fi
    line=$(printf '%-18s executions %-10s exec/s %-7s cov %-6s ft %-6s corpus %-10s crash %s' \
        "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crash")
    summary+=("$line")
    echo "$line"
done

echo "== summary (${SECONDS_PER_TARGET}s per target, build dir $BUILD)"
printf '%s\n' "${summary[@]}"
exit $status
