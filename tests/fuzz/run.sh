#!/bin/bash
# Builds and runs the libFuzzer targets in tests/fuzz (see README.md there). scripts/test.sh
# runs it in CI (15 s per target there; 60 s by default); it also runs by hand.
#
#   tests/fuzz/run.sh [BUILD_DIR]          BUILD_DIR defaults to /tmp/smtpprobe-fuzz
#
# Environment:
#   FUZZ_SECONDS   time per target, default 60 (libFuzzer -max_total_time)
#   FUZZ_TARGETS   which targets, default "reply_parser_fuzz sasl_fuzz profile_fuzz explain_fuzz ntlm_fuzz
#                  digest_md5_fuzz gssapi_fuzz"
#   FUZZ_PARALLEL  how many targets run at once, default 1
#   FUZZ_BUILD_ONLY=1  build the targets and stop (scripts/test.sh builds them in the background)
#   FUZZ_KEEP_GOING=1  fork mode: keep fuzzing past crashes (see below)
#   FUZZ_MERGE=1   afterwards, replace the checked-in corpus tests/fuzz/corpus/<target> by the
#                  minimised merge (-merge=1) of it and the corpus grown in BUILD_DIR
#   CXX            compiler, default clang++ (Debian 12: clang 14, with libFuzzer)
#
# Bounded in time: each target gets FUZZ_SECONDS, and is killed FUZZ_SECONDS + 120 s after it
# started if libFuzzer has not stopped by then. Inputs: the checked-in minimised corpus
# tests/fuzz/corpus/<target> (read only), the corpus grown in BUILD_DIR/corpus/<target> (kept
# and reused by the next run) and the seeds in BUILD_DIR/seeds/<target>, rewritten every run
# from samples/ and the hand-written seeds below. A target is rebuilt only when a source is
# newer than it. Crash inputs go to BUILD_DIR/artifacts/<target>/ and are printed
# base64-encoded. Exits 1 if any target found a crash, 2 on a build or usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-/tmp/smtpprobe-fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"reply_parser_fuzz sasl_fuzz profile_fuzz explain_fuzz ntlm_fuzz digest_md5_fuzz gssapi_fuzz bearer_token_fuzz oauth_error_fuzz"}
PARALLEL=${FUZZ_PARALLEL:-1}
CXX=${CXX:-clang++}

for n in "$SECONDS_PER_TARGET" "$PARALLEL"; do
    case $n in
    '' | *[!0-9]* | 0)
        echo "FUZZ_SECONDS and FUZZ_PARALLEL must be whole numbers above 0" >&2
        exit 2
        ;;
    esac
done
command -v "$CXX" >/dev/null 2>&1 || {
    echo "$CXX is missing: apt-get install clang libclang-rt-14-dev (scripts/install-deps.sh)" >&2
    exit 2
}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)

# ------------------------------------------------------------------------------------- build
# shellcheck disable=SC2054 # the commas belong to -fsanitize=
CXXFLAGS=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c++20 -g -O1
    -I"$ROOT/src")
build() {
    local target=$1 newer
    shift
    # Up to date unless the target's source, a linked source or any header is newer.
    if [ -x "$BUILD/$target" ]; then
        newer=$(find "$ROOT/tests/fuzz/$target.cpp" "$ROOT/tests/fuzz/fuzz_check.hpp" "$@" "$ROOT/src" -newer "$BUILD/$target" \
            \( -name '*.cpp' -o -name '*.hpp' -o -name '*.inc' \) -print -quit)
        if [ -z "$newer" ]; then
            echo "== $target is up to date"
            return 0
        fi
    fi
    echo "== build $target"
    if ! "$CXX" "${CXXFLAGS[@]}" "$ROOT/tests/fuzz/$target.cpp" "$@" -lssl -lcrypto -o "$BUILD/$target.tmp"; then
        echo "build of $target failed" >&2
        exit 2
    fi
    mv -f "$BUILD/$target.tmp" "$BUILD/$target"
}
# The sans-I/O core (src/smtp/*.cpp and src/sasl/*.cpp), compiled once into an archive that
# every target but explain_fuzz links (reply_parser_fuzz and profile_fuzz used to compile it
# again each), FUZZ_PARALLEL sources at a time; a source is recompiled when it or a header
# under src/ is newer.
CORE_LIB=$BUILD/obj/libcore.a
build_core_lib() {
    local src obj pids=() failed=0 changed=0
    mkdir -p "$BUILD/obj"
    rm -f "$BUILD/obj/libsasl.a" # the SASL-only archive of earlier versions
    for src in "$ROOT"/src/sasl/*.cpp "$ROOT"/src/smtp/*.cpp; do
        obj="$BUILD/obj/$(basename "${src%.cpp}").o"
        if [ -f "$obj" ] && [ -z "$(find "$src" "$ROOT/src" -newer "$obj" \( -name "$(basename "$src")" -o -name '*.hpp' -o -name '*.inc' \) -print -quit)" ]; then
            continue
        fi
        changed=1
        ("$CXX" "${CXXFLAGS[@]}" -c "$src" -o "$obj.tmp" && mv -f "$obj.tmp" "$obj") &
        pids+=($!)
        if [ "${#pids[@]}" -ge "$PARALLEL" ]; then
            wait "${pids[0]}" || failed=1
            pids=("${pids[@]:1}")
        fi
    done
    for pid in ${pids[@]+"${pids[@]}"}; do wait "$pid" || failed=1; done
    if [ "$failed" != 0 ]; then
        echo "build of the core objects failed" >&2
        exit 2
    fi
    if [ "$changed" = 1 ] || [ ! -f "$CORE_LIB" ]; then
        echo "== built $CORE_LIB"
        rm -f "$CORE_LIB"
        ar rcs "$CORE_LIB" "$BUILD"/obj/*.o
    fi
}
build_target() {
    case $1 in
    profile_fuzz) build "$1" "$ROOT"/src/emulator/{profile,object_reader,reply_text,auth_profile,behaviour,cert}.cpp \
        "$ROOT"/src/net/{tls,tls_trust_store,errc,resolve,interrupt}.cpp "$CORE_LIB" ;;
    explain_fuzz) build "$1" "$ROOT"/src/diagnose/status_codes.cpp ;;
    reply_parser_fuzz | sasl_fuzz | ntlm_fuzz | digest_md5_fuzz | gssapi_fuzz | bearer_token_fuzz | oauth_error_fuzz)
        build "$1" "$CORE_LIB"
        ;;
    esac
}
for target in $TARGETS; do
    case $target in
    reply_parser_fuzz | sasl_fuzz | profile_fuzz | explain_fuzz | ntlm_fuzz | digest_md5_fuzz | gssapi_fuzz | bearer_token_fuzz | oauth_error_fuzz) ;;
    *)
        echo "unknown target $target" >&2
        exit 2
        ;;
    esac
done
[ "$TARGETS" = explain_fuzz ] || build_core_lib
# FUZZ_PARALLEL builds at once (one clang++ per target).
building=()
build_failed=0
for target in $TARGETS; do
    build_target "$target" &
    building+=($!)
    if [ "${#building[@]}" -ge "$PARALLEL" ]; then
        wait "${building[0]}" || build_failed=1
        building=("${building[@]:1}")
    fi
done
for pid in ${building[@]+"${building[@]}"}; do wait "$pid" || build_failed=1; done
[ "$build_failed" = 0 ] || exit 2
if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ]; then
    echo "== built (FUZZ_BUILD_ONLY=1: no fuzzing)"
    exit 0
fi

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

# --- profile loader: the shipped profiles, and small hand-written ones for each field kind
d = os.path.join(build, "seeds/profile_fuzz")
reset(d)
for path in sorted(glob.glob(os.path.join(root, "samples/servers/*.json"))):
    write(d, open(path, "rb").read())
for text in [
    b'{"name": "x"}',
    b'// comment\n{"name": "x", /* c */ "tls": "none", "_note": 1}',
    b'{"name": "x", "banner": ["220-a", "220 b"], "helo": "250 {hostname}\\nsecond"}',
    b'{"name": "x", "tls_min": "1.3", "tls_max": "1.0"}',
    b'{"name": "x", "auth": {"mechanisms": ["plain", "LOGIN"], "accounts": [{"user": "u", "password": "p"}, {"user": "t", "token": "k"}], "drop_after_failures": 3, "failure_delay_ms": 5}}',
    b'{"name": "x", "auth": {"first_replies": {"NTLM": "334 TlRMTVNTUAACAAAA"}, "failure_replies": {"LOGIN": ["535 5.7.8 a", "b"]}}}',
    b'{"name": "x", "replies": {"MAIL": "250 ok", "unknown": "500 no"}, "delays_ms": {"banner": 10, "EHLO": 600001}, "close_after": ["QUIT", "banner"]}',
    b'{"name": "x", "ehlo": {"supported": false, "before_tls": ["STARTTLS"], "after_tls": ["AUTH=LOGIN"]}}',
    b'{"name": "x", "hostname": "bad host\\r\\n", "starttls_inject": "250 x\\r\\n"}',
    b'{"name": "x", "replies": {"DATA": "354\\n250"}, "timeout_reply": "421"}',
]:
    write(d, text)

# --- explain arguments: the codes of the transcripts' replies, and edge cases
d = os.path.join(build, "seeds/explain_fuzz")
reset(d)
codes = set()
for path in transcripts:
    for line in open(path, encoding="utf-8", errors="surrogateescape").read().splitlines():
        if line[:4] in ("<-  ", "<~  ") and len(line) > 8:
            codes.add(line[4:60].encode("utf-8", "surrogateescape"))
for text in sorted(codes):
    write(d, text)
for text in [b"504 5.7.4", b"5.7.139", b"535", b"504-5.7.4", b"X.7.4", b"x.7.4", b"2.0.0",
             b"  421 4.7.0 Too many", b"5.7.8\x00smtp.office365.com", b"550 5.7.1\x00smtp.gmail.com",
             b"5.7.57\x00Microsoft ESMTP MAIL Service", b"599 5.999.999", b"099", b"5.07.1",
             b"5.7.1000", b"4.4.2\tx", b"250\r\n", b"5..1", b"5.1."]:
    write(d, text)

# --- NTLM CHALLENGE messages: the checked-in corpus (MS-NLMP 4.2 examples, the emulator's
# exchange-legacy message) is the seed; a few hand-made edge cases beside it
d = os.path.join(build, "seeds/ntlm_fuzz")
reset(d)
for text in [b"", b"NTLMSSP\x00", b"NTLMSSP\x00\x02\x00\x00\x00", b"NTLMSSP\x00\x01\x00\x00\x00"]:
    write(d, text)

# --- GSSAPI security layer (RFC 4752 3.1): mode 0 raw layer offers; mode 1 exchanges (script
# byte, then challenges separated by "\n--\n", "W:" marks a wrapped message)
d = os.path.join(build, "seeds/gssapi_fuzz")
reset(d)
for offer in [b"\x01\x00\x10\x00", b"\x07\xff\xff\xff", b"\x02\x00\x10\x00", b"\x00\x00\x00\x00",
              b"\x01\x00\x00", b"\x01\x00\x00\x00\x00", b"\x09\x00\x00\x00"]:
    write(d, b"\x00" + offer)
    for script in range(8):
        rest = [b"W:" + offer] if script & 1 else [b"AP-REP", b"W:" + offer]
        write(d, b"\x01" + bytes([script]) + b"\n--\n".join([b""] + rest + [b"W:\x01\x00\x00\x00"]))
write(d, b"\x01\x00" + b"\n--\n".join([b"", b"bad"]))
write(d, b"\x01\x00" + b"\n--\n".join([b"not empty"]))
# --- DIGEST-MD5 challenges: the decoded 334 texts of the transcripts that look like one,
# RFC 2831 section 4's example, Dovecot's shape, and edge cases of the directive syntax
d = os.path.join(build, "seeds/digest_md5_fuzz")
reset(d)
for text in decoded:
    if b"nonce" in text:
        write(d, text)
for text in [
    b'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8',
    b'nonce="uVz1Yc5t0Zs4mkW3hX8mJg==",charset="utf-8",algorithm="md5-sess",qop="auth"',
    b'realm="a",realm="b",nonce="n",qop="auth,auth-int,auth-conf",cipher="rc4",maxbuf=65536,'
    b'charset=utf-8,algorithm=md5-sess',
    b'nonce="x\\"y\\\\z",algorithm=md5-sess,stale=true',
    b' , ,nonce = "n" ,\talgorithm\t=\tMD5-SESS,,',
    b'nonce="n",algorithm=md5-sess,qop=""',
    b'nonce="n",algorithm=md5',
    b'nonce="n",nonce="m",algorithm=md5-sess',
    b'nonce="n",algorithm=md5-sess,charset=iso-8859-1',
    b'realm="r\xc3\xa9alm",nonce="n",algorithm=md5-sess,charset=utf-8',
    b'realm="r\xe9alm",nonce="n",algorithm=md5-sess',
    b'nonce="unterminated,algorithm=md5-sess',
    b'nonce="n",algorithm=md5-sess,rspauth=ea40f60335c427b5527b84dbabcdfffd',
    b"nonce=" + b"a" * 2100 + b",algorithm=md5-sess",
    b",".join(b"x%d=y" % i for i in range(40)),
]:
    write(d, text)

# --- bearer tokens: mode 0 the tokens of samples/tokens as given; mode 1 their header and
# claims as raw JSON (HEADER NUL CLAIMS), plus hand-written claims of every type
d = os.path.join(build, "seeds/bearer_token_fuzz")
reset(d)
def unurl(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
for path in sorted(glob.glob(os.path.join(root, "samples/tokens/*.jwt")) +
                   glob.glob(os.path.join(root, "samples/tokens/*.txt"))):
    token = open(path, encoding="ascii").read().strip()
    write(d, b"\x00" + token.encode())
    parts = token.split(".")
    if len(parts) == 3:
        write(d, b"\x01" + unurl(parts[0]) + b"\x00" + unurl(parts[1]))
header = b'{"alg":"RS256","typ":"JWT","kid":"k"}'
for claims in [b'{}', b'{"aud":["a","b"],"scp":"x  y","roles":"r"}', b'{"exp":1.5e9,"nbf":-1,"iat":"x"}',
               b'{"aud":7,"upn":[1],"roles":[1,"a"]}', b'{"x":[[[[[[[[[]]]]]]]]]}', b'[1]', b'not json',
               b'{"idtyp":"app","roles":["SMTP.SendAsApp"],"aud":"00000002-0000-0ff1-ce00-000000000000"}']:
    write(d, b"\x01" + header + b"\x00" + claims)
for raw in [b"ya29.abc", b"a.b.c.d.e", b"eyJhbGciOiJub25lIn0..", b"...", b"a.b.c"]:
    write(d, b"\x00" + raw)

# --- error challenges: mode 0 the 334 text as sent; mode 1 decoded bytes the target encodes.
# The forms of data/smtp-facts-additions.md §2.7/§2.8 and the Dovecot ones the suite saw.
d = os.path.join(build, "seeds/oauth_error_fuzz")
reset(d)
for raw in [b'{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}',
            b'{"status":"401","schemes":"bearer","scope":"mail"}', b'{"status":"invalid_token"}',
            b'{"status":"invalid_token","scope":"s","openid-configuration":"https://x/.well-known"}',
            b'{"status":"\\u0000\\ud800","x":[[[{"y":1}]]],"scope":null}', b'not json', b'[]', b'{',
            b'{"status":"' + b"a" * 600 + b'"}', b'\x1b[31m{"status":"400"}']:
    write(d, b"\x01" + raw)
for raw in [b"", b"eyJzdGF0dXMiOiI0MDAifQ==", b"not base64!", b"====", b"A" * 20000]:
    write(d, b"\x00" + raw)
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

cat >"$BUILD/profile_fuzz.dict" <<'EOF'
"\"name\""
"\"description\""
"\"hostname\""
"\"tls\""
"\"tls_min\""
"\"tls_max\""
"\"require_sni\""
"\"banner\""
"\"ehlo\""
"\"supported\""
"\"greeting\""
"\"before_tls\""
"\"after_tls\""
"\"helo\""
"\"hello_first_reply\""
"\"syntax_reply\""
"\"auth\""
"\"mechanisms\""
"\"mechanisms_before_tls\""
"\"failure_replies\""
"\"first_replies\""
"\"accounts\""
"\"user\""
"\"password\""
"\"token\""
"\"challenge_nonce\""
"\"drop_after_failures\""
"\"failure_delay_ms\""
"\"login_prompts\""
"\"replies\""
"\"authenticated_replies\""
"\"delays_ms\""
"\"close_after\""
"\"starttls_inject\""
"\"starttls\""
"\"implicit\""
"\"none\""
"\"1.0\""
"\"1.3\""
"{hostname}"
"{client_ip}"
"\\n"
"250-"
"250 "
"//"
"/*"
"*/"
EOF
cat >"$BUILD/digest_md5_fuzz.dict" <<'EOF'
"realm="
"nonce="
"qop="
"\"auth\""
"auth-int"
"auth-conf"
"algorithm=md5-sess"
"charset=utf-8"
"stale=true"
"maxbuf="
"cipher="
"rspauth="
"\\\""
","
"\x09"
EOF
cat >"$BUILD/explain_fuzz.dict" <<'EOF'
"5.7."
"4.4."
"X."
"x."
"504"
"-"
" "
"\x00"
"Microsoft"
"office365"
"gmail"
"azurecomm"
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
# run_target TARGET: fuzzes it, then writes its summary line to BUILD/TARGET.summary and, for a
# crash, "crash" to BUILD/TARGET.crashed and the inputs base64-encoded to the log's end.
run_target() {
    local target=$1
    local corpus="$BUILD/corpus/$target" artifacts="$BUILD/artifacts/$target"
    local log="$BUILD/$target.log" marker="$BUILD/.started-$target"
    local dirs=("$corpus" "$BUILD/seeds/$target")
    [ -d "$ROOT/tests/fuzz/corpus/$target" ] && dirs+=("$ROOT/tests/fuzz/corpus/$target")
    local dict=()
    [ -f "$BUILD/$target.dict" ] && dict=(-dict="$BUILD/$target.dict")
    mkdir -p "$corpus" "$artifacts"
    rm -f "$BUILD/$target.crashed"
    touch "$marker"
    local rc=0
    timeout --kill-after=10 $((SECONDS_PER_TARGET + 120)) \
        "$BUILD/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -rss_limit_mb=2048 \
        -timeout=30 -print_final_stats=1 ${dict[@]+"${dict[@]}"} ${mode[@]+"${mode[@]}"} \
        -artifact_prefix="$artifacts/" "${dirs[@]}" >"$log" 2>&1 || rc=$?
    # The final stats: "#N DONE cov: C ft: F corp: U/S lim: L exec/s: E rss: R" and the
    # stat:: lines of -print_final_stats; after a crash the last "#N ..." status line stands in.
    # Fork mode: "#N: cov: C ft: F corp: U exec/s E oom/timeout/crash: O/T/C time: Ts ...".
    local last runs rate elapsed cov ft corp crashes crash=no
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
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        crash="YES: killed after $((SECONDS_PER_TARGET + 120))s (a hang?)"
    elif [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ] ||
        grep -qE '^==[0-9]+==ERROR|^SUMMARY: |Test unit written to' "$log"; then
        crash="YES (exit $rc, $crashes input(s) in $artifacts)"
    fi
    printf '%-18s executions %-10s exec/s %-7s cov %-6s ft %-6s corpus %-10s crash %s\n' \
        "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crash" \
        >"$BUILD/$target.summary"
    if [ "$crash" != no ]; then
        echo crash >"$BUILD/$target.crashed"
    fi
}

echo "== run $TARGETS for ${SECONDS_PER_TARGET}s each, $PARALLEL at a time (logs: $BUILD/<target>.log)"
running=()
for target in $TARGETS; do
    rm -f "$BUILD/$target.summary"
    run_target "$target" &
    running+=($!)
    if [ "${#running[@]}" -ge "$PARALLEL" ]; then
        wait "${running[0]}" || true
        running=("${running[@]:1}")
    fi
done
for pid in ${running[@]+"${running[@]}"}; do wait "$pid" || true; done

status=0
for target in $TARGETS; do
    [ -f "$BUILD/$target.crashed" ] || continue
    status=1
    echo "== $target crashed; the end of its log ($BUILD/$target.log):"
    grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED)' "$BUILD/$target.log" | tail -n 40
    find "$BUILD/artifacts/$target" -type f -newer "$BUILD/.started-$target" | while read -r f; do
        b64=$(head -c 65536 "$f" | base64 -w 0)
        echo "crashing input ${f##*/} ($(wc -c <"$f") bytes), base64:"
        echo "$b64"
        echo "reproduce: echo '$b64' | base64 -d >crash && $BUILD/$target crash"
    done
done

if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    for target in $TARGETS; do
        checked_in="$ROOT/tests/fuzz/corpus/$target"
        merged="$BUILD/merged/$target"
        rm -rf "$merged"
        mkdir -p "$merged" "$checked_in"
        # -use_counters=0: keep the inputs that reach new edges, not every new hit count, so the
        # checked-in corpus stays small.
        "$BUILD/$target" -merge=1 -use_counters=0 -max_len=4096 "$merged" "$checked_in" "$BUILD/corpus/$target" \
            "$BUILD/seeds/$target" >"$BUILD/$target.merge.log" 2>&1
        rm -rf "$checked_in"
        mv "$merged" "$checked_in"
        echo "== merged corpus of $target: $(find "$checked_in" -type f | wc -l) files, $(du -sk "$checked_in" | cut -f1) KiB in $checked_in"
    done
fi

echo "== summary (${SECONDS_PER_TARGET}s per target, build dir $BUILD)"
for target in $TARGETS; do
    cat "$BUILD/$target.summary" 2>/dev/null || echo "$target: no summary (see $BUILD/$target.log)"
done
exit $status
