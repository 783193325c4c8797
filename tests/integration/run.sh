#!/usr/bin/env bash
# smtpprobe integration suite: real Postfix + Dovecot SASL and Exim on loopback.
#
#   tests/integration/run.sh [--smtpprobe PATH] [--capture-transcripts]
#                            [--keep-state] [--hold SECONDS] [--with COMMAND]...
#
# Starts, from a `mktemp -d` state directory and the templates next to this
# script:
#   - Postfix submission, STARTTLS, AUTH only after TLS   127.0.0.1:$SUBMISSION_PORT (2587)
#   - Postfix smtps (implicit TLS)                        127.0.0.1:$SMTPS_PORT      (2465)
#     both with Dovecot SASL (auth socket only): PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1
#     SCRAM-SHA-256 GSSAPI ANONYMOUS (no NTLM: Debian 12's Dovecot does not start with it)
#     and OAUTHBEARER XOAUTH2 through Dovecot's oauth2 passdb, which asks
#   - the suite's OAuth token endpoint (introspection.py, RFC 7662, knows this
#     run's four test tokens: valid, expired, another user's, revoked)
#                                                          127.0.0.1:$INTROSPECTION_PORT (2089)
#   - a private MIT KDC (kdc.sh), realms SMTPPROBE.TEST and OTHER.TEST,
#     UDP and TCP                                          127.0.0.1:$KDC_PORT        (2088)
#     with the smtp/127.0.0.1 and smtp/localhost keytab Dovecot's GSSAPI uses
#   - Exim shaped like Azure ACS: STARTTLS, only AUTH LOGIN after TLS,
#     SIZE 31457280                                        127.0.0.1:$EXIM_PORT       (2526)
#   - the same Exim asking for a client certificate (test CA), AUTH EXTERNAL
#     only (client_certs.sh makes the certificates)       127.0.0.1:$EXIM_EXTERNAL_PORT (2527)
#   - the same Exim with a sender ACL: after AUTH, only OWNED_SENDER
#                                                          127.0.0.1:$EXIM_ENVELOPE_PORT (2532)
#   - Postfix envelope port (issue 20): STARTTLS, AUTH after TLS, smtpd_sender_login_maps +
#     reject_sender_login_mismatch, reject_unauth_destination, message_size_limit
#     ENVELOPE_SIZE_LIMIT, and LOCAL_DOMAIN delivered by virtual(8) into maildirs under
#     the state directory                                 127.0.0.1:$ENVELOPE_PORT   (2530)
#   - Postfix with smtpd_forbid_bare_newline = reject      127.0.0.1:$BARE_LF_PORT    (2531)
#   - Postfix with smtpd_tls_security_level = encrypt (MAIL before STARTTLS gets 530;
#     issue 20 "is TLS mandatory?")                       127.0.0.1:$ENCRYPT_PORT    (2533)
#   - Exim (exim4-daemon-heavy) with Cyrus SASL 2.1.28: STARTTLS, AUTH after TLS:
#     PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256 NTLM ANONYMOUS, from a
#     private sasldb (exim_sasl.sh)                       127.0.0.1:$EXIM_SASL_PORT  (2528)
# with a per-run test CA, then runs test_servers.py (smtpprobe's JSON checked
# against each server's configuration, and swaks as a second opinion) and
# second_opinion.py (smtpprobe and msmtp on every row of second_opinion/*.json) and
# envelope_checks.py (the envelope rows: smtpprobe and swaks, and one delivery), and
# stops every server on exit, even on failure, and checks that nothing is left
# listening. Each --with COMMAND (run by sh, from the source tree) is a further
# suite that runs while the servers are up, after test_servers.py, with the
# environment below exported (tests/clients/run_clients.py --real uses it); its
# failure fails the run.
#
# Exit status: 0 all checks passed; 1 a check failed; 77 skipped (not root,
# an MTA is not installed, or the smtpprobe binary does not exist: then only
# the swaks checks ran); 2 the harness itself failed (a server did not start).
#
# Environment: SMTPPROBE (binary; default build/smtpprobe), SUBMISSION_PORT,
# SMTPS_PORT, EXIM_PORT, EXIM_EXTERNAL_PORT, EXIM_SASL_PORT, KDC_PORT, INTROSPECTION_PORT,
# ENVELOPE_PORT, BARE_LF_PORT, EXIM_ENVELOPE_PORT, ENCRYPT_PORT,
# AUTH_FAILURE_DELAY (Dovecot; default "2 secs", its
# own default), DOVECOT_AUTH_PENALTY=on (Dovecot's per-IP brute-force
# penalty, 2..15 s per failure; off by default, see QUIRKS.md),
# SMTPPROBE_DEB_CACHE (where scripts/install-deps.sh put the
# exim4-daemon-light and exim4-daemon-heavy .debs), KEEP_STATE=1.
# shellcheck disable=SC2317  # cleanup and its helpers run from traps
set -euo pipefail

# The MTAs must start as root; without root, use sudo when it needs no password.
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    exec sudo -n -E "$0" "$@"
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

SMTPPROBE=${SMTPPROBE:-$ROOT/build/smtpprobe}
SUBMISSION_PORT=${SUBMISSION_PORT:-2587}
SMTPS_PORT=${SMTPS_PORT:-2465}
EXIM_PORT=${EXIM_PORT:-2526}
EXIM_EXTERNAL_PORT=${EXIM_EXTERNAL_PORT:-2527}
ENVELOPE_PORT=${ENVELOPE_PORT:-2530}
BARE_LF_PORT=${BARE_LF_PORT:-2531}
EXIM_ENVELOPE_PORT=${EXIM_ENVELOPE_PORT:-2532}
ENCRYPT_PORT=${ENCRYPT_PORT:-2533}
INTROSPECTION_PORT=${INTROSPECTION_PORT:-2089}
# shellcheck source=tests/integration/kdc.sh
. "$HERE/kdc.sh" # KDC_PORT (2088), kdc_start, kdc_stop
AUTH_FAILURE_DELAY=${AUTH_FAILURE_DELAY:-2 secs}
DOVECOT_AUTH_PENALTY=${DOVECOT_AUTH_PENALTY:-off}
DEB_CACHE=${SMTPPROBE_DEB_CACHE:-/var/cache/smtpprobe/debs}
KEEP_STATE=${KEEP_STATE:-0}
# shellcheck source=tests/integration/exim_sasl.sh
. "$HERE/exim_sasl.sh"
CAPTURE=0
HOLD=0
WITH=()

while [ $# -gt 0 ]; do
    case $1 in
        --smtpprobe) SMTPPROBE=$2; shift 2 ;;
        --smtpprobe=*) SMTPPROBE=${1#*=}; shift ;;
        --capture-transcripts) CAPTURE=1; shift ;;
        --keep-state) KEEP_STATE=1; shift ;;
        --hold) HOLD=$2; shift 2 ;;
        --with) WITH+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,/^# shellcheck/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument: $1" >&2; exit 64 ;;
    esac
done

say() { printf '=== %s\n' "$*"; }
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
die() { printf '*** %s\n' "$*" >&2; exit 2; }

# ---------------------------------------------------------------- prerequisites
[ "$(id -u)" -eq 0 ] || skip "must run as root or with password-less sudo (Postfix, Dovecot and Exim start as root and drop privileges)"
POSTFIX=$(command -v postfix || true)
DOVECOT=$(command -v dovecot || true)
SWAKS=$(command -v swaks || true)
MSMTP=$(command -v msmtp || true)
[ -n "$POSTFIX" ] || skip "postfix is not installed (scripts/install-deps.sh)"
[ -n "$DOVECOT" ] || skip "dovecot is not installed (scripts/install-deps.sh)"
[ -n "$SWAKS" ] || skip "swaks is not installed (scripts/install-deps.sh)"
command -v openssl >/dev/null || skip "openssl is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
NSS_WRAPPER=""
for f in /usr/lib/*-linux-gnu/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
    [ -e "$f" ] && NSS_WRAPPER=$f && break
done
[ -n "$NSS_WRAPPER" ] || skip "libnss-wrapper is not installed (scripts/install-deps.sh)"
getent passwd postfix >/dev/null || skip "no 'postfix' user (install the postfix package)"
getent passwd dovecot >/dev/null || skip "no 'dovecot' user (install dovecot-core)"
# swaks is the second opinion: it must do TLS and the mechanisms the suite compares
# (test_servers.py SWAKS_MECHS). Its Perl modules are only Recommends of the swaks package, so
# a --no-install-recommends install lacks them: fail here, with the package to install, rather
# than with one FAIL per swaks check.
SWAKS_SUPPORT=$("$SWAKS" --support 2>&1 || true)
for need in "TLS:libnet-ssleay-perl" "Basic AUTH:perl (MIME::Base64)" "AUTH CRAM-MD5:perl (Digest::MD5)" \
    "AUTH DIGEST-MD5:libauthen-sasl-perl"; do
    feature=${need%%:*} package=${need#*:}
    if ! grep -q "^=== $feature supported" <<<"$SWAKS_SUPPORT"; then
        why=$(grep -m1 "^\*\*\* $feature not available" <<<"$SWAKS_SUPPORT" | sed 's/^\*\*\* //')
        die "missing prerequisite: swaks cannot do $feature (${why:-not listed by swaks --support}): apt-get install $package (scripts/install-deps.sh installs it)"
    fi
done

port_open() { # port -> 0 when something accepts a connection on 127.0.0.1:port
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}
wait_port() { # port: wait at most 10 s
    for _ in $(seq 1 50); do
        port_open "$1" && return 0
        sleep 0.2
    done
    return 1
}

if command -v ss >/dev/null && ss -Hlun "sport = :$KDC_PORT" 2>/dev/null | grep -q .; then
    die "127.0.0.1:$KDC_PORT/udp is already in use; set KDC_PORT"
fi
for p in "$SUBMISSION_PORT" "$SMTPS_PORT" "$EXIM_PORT" "$EXIM_EXTERNAL_PORT" "$KDC_PORT" "$INTROSPECTION_PORT" \
    "$ENVELOPE_PORT" "$BARE_LF_PORT" "$EXIM_ENVELOPE_PORT" "$ENCRYPT_PORT"; do
    if port_open "$p"; then die "127.0.0.1:$p is already in use; set SUBMISSION_PORT/SMTPS_PORT/EXIM_PORT/EXIM_EXTERNAL_PORT/KDC_PORT/INTROSPECTION_PORT/ENVELOPE_PORT/BARE_LF_PORT/EXIM_ENVELOPE_PORT/ENCRYPT_PORT"; fi
done
# The "KDC is down" check points Kerberos at 127.0.0.1:1, which must be closed.
if port_open 1; then die "127.0.0.1:1 accepts connections; the KDC-down check needs it closed"; fi
exim_sasl_check_ports

T0=$(date +%s.%N)
STATE=$(mktemp -d /tmp/smtpprobe-integ.XXXXXX)
chmod 711 "$STATE"   # the postfix and exim users must traverse it
say "state directory $STATE"

# ---------------------------------------------------------------- cleanup
POSTFIX_CONF=$STATE/postfix/etc
DOVECOT_CONF=$STATE/dovecot/dovecot.conf
EXIM_CONF=$STATE/exim/exim.conf
EXIM_PID=""
DOVECOT_PID=""
INTROSPECTION_PID=""
HOLD_PID=""
TEST_PID=""

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
stop_pid() { # pid name: TERM, wait at most 5 s, then KILL
    local pid=$1
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 25); do pid_alive "$pid" || return 0; sleep 0.2; done
    say "$2 ($pid) did not stop on TERM; KILL"
    kill -KILL "$pid" 2>/dev/null || true
}
# Processes this run started: the server masters are found by their command
# line (dovecot -c, exim4 -C) or environment (Postfix's MAIL_CONFIG) naming
# $STATE, then every descendant of those. Found by scanning /proc, never by a
# process name.
our_pids() {
    local d pid seeds=""
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        if { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -qF "$STATE/" ||
           { tr '\0' '\n' <"$d/environ"; } 2>/dev/null | grep -qxF "MAIL_CONFIG=$POSTFIX_CONF"; then
            seeds="$seeds $pid"
        fi
    done
    [ -n "$seeds" ] || return 0
    # pid ppid for every process (comm may hold spaces: cut after the last ')').
    for d in /proc/[0-9]*/stat; do
        # A process may exit between the glob and the read: that is not a failure.
        { sed 's/^\([0-9]*\) .*) [A-Za-z] \([0-9]*\) .*/\1 \2/' "$d"; } 2>/dev/null || true
    done | awk -v seeds="$seeds" -v self="$$" '
        BEGIN { n = split(seeds, s, " "); for (i = 1; i <= n; i++) ours[s[i]] = 1 }
        { parent[$1] = $2 }
        END {
            for (round = 0; round < 10; round++)
                for (p in parent) if (!(p in ours) && (parent[p] in ours)) ours[p] = 1
            for (p in ours) if (p != self) print p
        }'
}

cleanup() {
    local rc=$? p left
    trap - EXIT INT TERM
    set +e
    [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
    [ -n "$TEST_PID" ] && kill "$TEST_PID" 2>/dev/null
    say "stopping servers"
    if [ -f "$POSTFIX_CONF/main.cf" ]; then
        timeout 15 "$POSTFIX" -c "$POSTFIX_CONF" stop >/dev/null 2>&1
        stop_pid "$(cat "$STATE/postfix/queue/pid/master.pid" 2>/dev/null | tr -d ' ')" postfix
    fi
    stop_pid "$EXIM_PID" exim
    exim_sasl_stop
    stop_pid "$DOVECOT_PID" dovecot
    stop_pid "$INTROSPECTION_PID" introspection
    kdc_stop
    for p in $(our_pids); do
        pid_alive "$p" || continue
        say "left-over process $p ($({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | cut -c1-80)); KILL"
        kill -KILL "$p" 2>/dev/null
    done
    left=""
    for p in "$SUBMISSION_PORT" "$SMTPS_PORT" "$EXIM_PORT" "$EXIM_EXTERNAL_PORT" "$EXIM_SASL_PORT" "$KDC_PORT" "$INTROSPECTION_PORT" "$ENVELOPE_PORT" "$BARE_LF_PORT" "$EXIM_ENVELOPE_PORT" "$ENCRYPT_PORT"; do
        port_open "$p" && left="$left $p"
    done
    if command -v ss >/dev/null; then
        for p in "$SUBMISSION_PORT" "$SMTPS_PORT" "$EXIM_PORT" "$EXIM_EXTERNAL_PORT" "$EXIM_SASL_PORT" "$KDC_PORT" "$INTROSPECTION_PORT" "$ENVELOPE_PORT" "$BARE_LF_PORT" "$EXIM_ENVELOPE_PORT" "$ENCRYPT_PORT"; do
            ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && case " $left " in *" $p "*) ;; *) left="$left $p" ;; esac
        done
        # The KDC also answers on UDP.
        ss -Hlun "sport = :$KDC_PORT" 2>/dev/null | grep -q . && left="$left $KDC_PORT/udp"
    fi
    if [ -n "$left" ]; then
        echo "*** still listening after stop on port(s):$left" >&2
        [ "$rc" -eq 0 ] && rc=1
    else
        say "all servers stopped; nothing listening on $SUBMISSION_PORT $SMTPS_PORT $EXIM_PORT $EXIM_EXTERNAL_PORT $EXIM_SASL_PORT $KDC_PORT $INTROSPECTION_PORT $ENVELOPE_PORT $BARE_LF_PORT $EXIM_ENVELOPE_PORT $ENCRYPT_PORT"
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
        for f in "$STATE/postfix/maillog" "$STATE/dovecot/dovecot.log" "$STATE/oauth/introspection.log" "$STATE/kdc/kdc.log" "$STATE/exim/log/mainlog" "$STATE/exim/log/paniclog" \
        "$STATE/exim-sasl/log/mainlog" "$STATE/exim-sasl/log/paniclog"; do
            [ -s "$f" ] || continue
            echo "--- last lines of $f"
            tail -n 25 "$f"
        done
    fi
    if [ "$KEEP_STATE" = 1 ]; then
        say "state kept in $STATE"
    else
        rm -rf "$STATE"
    fi
    say "integration run took $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s, exit $rc"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- credentials
# A fresh random password per run (letters and digits only: it is substituted
# into the Exim configuration); test_servers.py checks it never shows up in any
# output. Transcripts in samples/ replace it with the fixed test credentials.
TEST_USER=probe@integration.test
TEST_PASSWORD=$(openssl rand -hex 16)
WRONG_PASSWORD=wrong-$(openssl rand -hex 8)
export TEST_USER TEST_PASSWORD WRONG_PASSWORD
# The envelope (issue 20, contract 4): TEST_USER owns OWNED_SENDER (Postfix's sender_login map,
# Exim's sender ACL); OAUTH_OTHER_USER owns FOREIGN_SENDER. LOCAL_RCPT is the one mailbox of
# LOCAL_DOMAIN (delivered into MAILDIR); RELAY_RCPT is in a domain the suite does not serve (with
# AUTH, accepted and discarded: nothing leaves the machine).
LOCAL_DOMAIN=local.integration.test
OWNED_SENDER=owned@integration.test
FOREIGN_SENDER=foreign@integration.test
LOCAL_RCPT=rcpt@$LOCAL_DOMAIN
RELAY_RCPT=somebody@relay.example
ENVELOPE_SIZE_LIMIT=1048576
# OAuth (contract 6 of issue 19): four JWT-shaped bearer tokens, fresh per run
# (introspection.py tokens), that only this run's introspection server knows. Dovecot's oauth2
# passdb asks it about every XOAUTH2 / OAUTHBEARER token.
OAUTH_USER=$TEST_USER
OAUTH_OTHER_USER=other@integration.test
mkdir -p "$STATE/oauth"
eval "$(python3 "$HERE/introspection.py" tokens --out "$STATE/oauth/tokens.json" --user "$OAUTH_USER" \
    --other-user "$OAUTH_OTHER_USER" --issuer "http://127.0.0.1:$INTROSPECTION_PORT/")"
if [ -z "${OAUTH_TOKEN_VALID:-}" ] || [ -z "${OAUTH_TOKEN_REVOKED:-}" ]; then die "introspection.py tokens made no tokens"; fi
export OAUTH_USER OAUTH_OTHER_USER OAUTH_TOKEN_VALID OAUTH_TOKEN_EXPIRED OAUTH_TOKEN_OTHER_USER OAUTH_TOKEN_REVOKED
export INTROSPECTION_PORT INTROSPECTION_LOG=$STATE/oauth/introspection.log
# For the secret scan after the suite (scripts/scan-secrets.py --secrets-file).
# The scan derives the NT hash of each line itself (and NTOWFv2 of each "user<tab>password"
# line); the responses exchanged (DIGEST-MD5, CRAM-MD5, SCRAM) are added at the end, from
# Dovecot's log (sasl_log.py); the DIGEST-MD5 password equivalents
# H(user:realm:password) need the user and Dovecot's realms ("" and its host name), so they are
# written here in hex (test_servers.py checks the same forms in every output it sees).
if [ -n "${SMTPPROBE_SECRETS_FILE:-}" ]; then
    {
        printf '%s\n%s\n' "$TEST_PASSWORD" "$WRONG_PASSWORD"
        # With the user: NTLM's NTOWFv2 and the PLAIN response need it (the scan derives them).
        printf '%s\t%s\n' "$TEST_USER" "$TEST_PASSWORD" "$TEST_USER" "$WRONG_PASSWORD"
        python3 -c 'import hashlib, sys
for p in sys.argv[2:]:
    for realm in ("", "dovecot.integration.test", "integration.test"):
        print(hashlib.md5(("%s:%s:%s" % (sys.argv[1], realm, p)).encode()).hexdigest())' \
            "$TEST_USER" "$TEST_PASSWORD" "$WRONG_PASSWORD"
        # The bearer tokens, alone and with their user (the scan derives the XOAUTH2 response).
        printf '%s\n' "$OAUTH_TOKEN_VALID" "$OAUTH_TOKEN_EXPIRED" "$OAUTH_TOKEN_OTHER_USER" "$OAUTH_TOKEN_REVOKED"
        printf '%s\t%s\n' "$OAUTH_USER" "$OAUTH_TOKEN_VALID" "$OAUTH_USER" "$OAUTH_TOKEN_EXPIRED" \
            "$OAUTH_USER" "$OAUTH_TOKEN_OTHER_USER" "$OAUTH_USER" "$OAUTH_TOKEN_REVOKED"
    } >"$SMTPPROBE_SECRETS_FILE"
fi

# ---------------------------------------------------------------- test CA and certificate
say "generating the test CA and server certificate (CN=localhost, SAN DNS:localhost IP:127.0.0.1)"
mkdir -p "$STATE/tls"
(
    cd "$STATE/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout ca.key -out ca.pem -days 30 -subj "/O=smtpprobe/CN=smtpprobe integration test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout server.key -out server.csr -subj "/O=smtpprobe/CN=localhost" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out server.pem -days 30 -extfile server.ext 2>/dev/null
    openssl verify -CAfile ca.pem server.pem >/dev/null
    chmod 600 ca.key server.key
)
CA_FILE=$STATE/tls/ca.pem
# Client certificates for Exim's EXTERNAL port.
# shellcheck source=tests/integration/client_certs.sh
. "$HERE/client_certs.sh"

# ---------------------------------------------------------------- templates
render() { # template output
    sed -e "s|@STATE@|$STATE|g" \
        -e "s|@CERT@|$STATE/tls/server.pem|g" \
        -e "s|@KEY@|$STATE/tls/server.key|g" \
        -e "s|@EXIM_CERT@|$STATE/exim/tls/server.pem|g" \
        -e "s|@EXIM_KEY@|$STATE/exim/tls/server.key|g" \
        -e "s|@EXIM_BIN@|${EXIM_BIN:-}|g" \
        -e "s|@SUBMISSION_PORT@|$SUBMISSION_PORT|g" \
        -e "s|@SMTPS_PORT@|$SMTPS_PORT|g" \
        -e "s|@EXIM_PORT@|$EXIM_PORT|g" \
        -e "s|@EXIM_EXTERNAL_PORT@|$EXIM_EXTERNAL_PORT|g" \
        -e "s|@EXIM_ENVELOPE_PORT@|$EXIM_ENVELOPE_PORT|g" \
        -e "s|@ENVELOPE_PORT@|$ENVELOPE_PORT|g" \
        -e "s|@BARE_LF_PORT@|$BARE_LF_PORT|g" \
        -e "s|@ENCRYPT_PORT@|$ENCRYPT_PORT|g" \
        -e "s|@ENVELOPE_SIZE_LIMIT@|$ENVELOPE_SIZE_LIMIT|g" \
        -e "s|@LOCAL_DOMAIN@|$LOCAL_DOMAIN|g" \
        -e "s|@OWNED_SENDER@|$OWNED_SENDER|g" \
        -e "s|@POSTFIX_UID@|$(id -u postfix)|g" \
        -e "s|@POSTFIX_GID@|$(id -g postfix)|g" \
        -e "s|@INTROSPECTION_PORT@|$INTROSPECTION_PORT|g" \
        -e "s|@EXIM_CLIENT_CA@|$STATE/exim/tls/ca.pem|g" \
        -e "s|@AUTH_FAILURE_DELAY@|$AUTH_FAILURE_DELAY|g" \
        -e "s|@AUTH_PENALTY_MODE@|$([ "$DOVECOT_AUTH_PENALTY" = on ] && echo 0600 || echo 0)|g" \
        -e "s|@USER@|$TEST_USER|g" \
        -e "s|@PASSWORD@|$TEST_PASSWORD|g" \
        -e "s|@KRB5_KEYTAB@|${KRB5_KEYTAB_SMTP:-}|g" \
        -e "s|@KRB5_CONFIG@|${KRB5_CONFIG:-}|g" \
        -e "s|@KRB5RCACHEDIR@|${KRB5RCACHEDIR:-}|g" \
        "$1" >"$2"
}

# ---------------------------------------------------------------- MIT KDC (kdc.sh)
# Before Dovecot: its GSSAPI needs the keytab and the suite's KRB5_CONFIG.
say "starting a private MIT KDC (realms $KDC_REALM and $KDC_OTHER_REALM, 127.0.0.1:$KDC_PORT)"
KDC_T0=$(date +%s.%N)
kdc_start
say "KDC ready (principals, keytab, two kinit) in $(awk -v a="$KDC_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
if [ -n "${SMTPPROBE_SECRETS_FILE:-}" ]; then
    printf '%s\n' "$KRB5_PASSWORD" >>"$SMTPPROBE_SECRETS_FILE"
fi

# ---------------------------------------------------------------- OAuth introspection (introspection.py)
# Before Dovecot, whose oauth2 passdb asks it about every XOAUTH2 / OAUTHBEARER token.
say "starting the OAuth introspection server (RFC 7662, 127.0.0.1:$INTROSPECTION_PORT, 4 test tokens)"
python3 "$HERE/introspection.py" serve --port "$INTROSPECTION_PORT" --tokens "$STATE/oauth/tokens.json" \
    --log "$INTROSPECTION_LOG" --max-seconds 3600 >"$STATE/oauth/stdout.log" 2>&1 &
INTROSPECTION_PID=$!
wait_port "$INTROSPECTION_PORT" || { cat "$STATE/oauth/stdout.log" >&2; die "the introspection server is not listening on 127.0.0.1:$INTROSPECTION_PORT after 10 s"; }

# ---------------------------------------------------------------- Dovecot (auth socket only)
say "starting Dovecot $($DOVECOT --version | cut -d' ' -f1) (auth only, passwd-file, auth_failure_delay = $AUTH_FAILURE_DELAY, auth penalty $DOVECOT_AUTH_PENALTY)"
mkdir -p "$STATE/dovecot/run" "$STATE/dovecot/state"
render "$HERE/dovecot/dovecot.conf.in" "$DOVECOT_CONF"
render "$HERE/dovecot/dovecot-oauth2.conf.ext.in" "$STATE/dovecot/dovecot-oauth2.conf.ext"
printf '%s:{PLAIN}%s\n' "$TEST_USER" "$TEST_PASSWORD" >"$STATE/dovecot/users"
# The Kerberos test user (kdc.sh) with the same password, so that one --user alice run
# authenticates with every mechanism.
printf '%s:{PLAIN}%s\n' "$KRB5_USER" "$KRB5_PASSWORD" >>"$STATE/dovecot/users"
chown root:dovecot "$STATE/dovecot/users"
chmod 640 "$STATE/dovecot/users"
"$DOVECOT" -c "$DOVECOT_CONF" -F >"$STATE/dovecot/stdout.log" 2>&1 &
DOVECOT_PID=$!
for _ in $(seq 1 50); do
    [ -S "$STATE/dovecot/run/auth-postfix" ] && break
    pid_alive "$DOVECOT_PID" || break
    sleep 0.2
done
[ -S "$STATE/dovecot/run/auth-postfix" ] || { cat "$STATE/dovecot/stdout.log" "$STATE/dovecot/dovecot.log" 2>/dev/null || true; die "Dovecot did not create its auth socket within 10 s"; }

# ---------------------------------------------------------------- Postfix
mkdir -p "$POSTFIX_CONF" "$STATE/postfix/queue" "$STATE/postfix/data"
render "$HERE/postfix/main.cf.in" "$POSTFIX_CONF/main.cf"
render "$HERE/postfix/master.cf.in" "$POSTFIX_CONF/master.cf"
# texthash: tables need no postmap. The test user owns OWNED_SENDER, another user FOREIGN_SENDER.
printf '%s %s\n' "$OWNED_SENDER" "$TEST_USER" "$FOREIGN_SENDER" "$OAUTH_OTHER_USER" >"$POSTFIX_CONF/sender_login"
printf '%s %s\n' "$LOCAL_RCPT" "$LOCAL_DOMAIN/${LOCAL_RCPT%@*}/" >"$POSTFIX_CONF/virtual_mailboxes"
MAILDIR=$STATE/mail/$LOCAL_DOMAIN/${LOCAL_RCPT%@*}
mkdir -p "$STATE/mail"
chown postfix:postfix "$STATE/mail"
chmod 755 "$STATE/mail"
say "starting Postfix $(postconf -c "$POSTFIX_CONF" -h mail_version) (submission 127.0.0.1:$SUBMISSION_PORT, smtps 127.0.0.1:$SMTPS_PORT, envelope 127.0.0.1:$ENVELOPE_PORT, bare LF 127.0.0.1:$BARE_LF_PORT, encrypt 127.0.0.1:$ENCRYPT_PORT)"
chown postfix "$STATE/postfix/data"
if ! timeout 30 "$POSTFIX" -c "$POSTFIX_CONF" start >"$STATE/postfix/start.log" 2>&1; then
    cat "$STATE/postfix/start.log" >&2
    die "postfix -c $POSTFIX_CONF start failed"
fi

# ---------------------------------------------------------------- Exim (unpacked, not installed)
EXIM_ROOT=$STATE/exim/pkg
mkdir -p "$EXIM_ROOT" "$STATE/exim/spool" "$STATE/exim/log" "$STATE/exim/tls"
find_deb() { # package dir: the newest cached .deb of package, else apt-get download into dir
    local deb
    deb=$(ls "$DEB_CACHE/$1"_*.deb 2>/dev/null | sort -V | tail -n1 || true)
    if [ -z "$deb" ]; then
        say "no $1 .deb in $DEB_CACHE; trying apt-get download" >&2
        chmod 777 "$2"
        if (cd "$2" && timeout 60 apt-get download -qq "$1" >/dev/null 2>&1); then
            deb=$(ls "$2/$1"_*.deb | head -n1)
        else
            skip "$1 is not available (run scripts/install-deps.sh)" >&2 # exits the $(...) with 77, and set -e the run
        fi
        chmod 755 "$2"
    fi
    printf '%s\n' "$deb"
}
EXIM_DEB=$(find_deb exim4-daemon-light "$STATE/exim")
dpkg -x "$EXIM_DEB" "$EXIM_ROOT"
EXIM_BIN=$EXIM_ROOT/usr/sbin/exim4
chmod u-s "$EXIM_BIN"
# Exim resolves its compiled-in user "Debian-exim" at start-up, before reading
# any configuration; nss_wrapper supplies it without touching /etc/passwd.
EXIM_UID=64999
printf 'root:x:0:0:root:/root:/bin/sh\nDebian-exim:x:%s:%s:Exim:%s:/usr/sbin/nologin\n' \
    "$EXIM_UID" "$EXIM_UID" "$STATE/exim/spool" >"$STATE/exim/passwd"
printf 'root:x:0:\nDebian-exim:x:%s:\n' "$EXIM_UID" >"$STATE/exim/group"
cp "$STATE/tls/server.pem" "$STATE/tls/server.key" "$STATE/tls/ca.pem" "$STATE/exim/tls/"
chown -R "$EXIM_UID:$EXIM_UID" "$STATE/exim/spool" "$STATE/exim/log" "$STATE/exim/tls"
chmod 600 "$STATE/exim/tls/server.key"
render "$HERE/exim/exim.conf.in" "$EXIM_CONF"
chmod 600 "$EXIM_CONF"
exim_env=(env LD_PRELOAD="$NSS_WRAPPER" NSS_WRAPPER_PASSWD="$STATE/exim/passwd" NSS_WRAPPER_GROUP="$STATE/exim/group")
EXIM_VERSION=$("${exim_env[@]}" "$EXIM_BIN" -C "$EXIM_CONF" -bV 2>&1 | sed -n 's/^Exim version \([^ ]*\).*/\1/p')
say "starting Exim $EXIM_VERSION from $(basename "$EXIM_DEB") (127.0.0.1:$EXIM_PORT, ACS-like; 127.0.0.1:$EXIM_EXTERNAL_PORT, client certificates and EXTERNAL; 127.0.0.1:$EXIM_ENVELOPE_PORT, sender ACL)"
"${exim_env[@]}" "$EXIM_BIN" -C "$EXIM_CONF" -bdf >"$STATE/exim/stdout.log" 2>&1 &
EXIM_PID=$!

# ---------------------------------------------------------------- Exim with Cyrus SASL (exim_sasl.sh)
exim_sasl_start

# ---------------------------------------------------------------- wait
for spec in "Postfix submission:$SUBMISSION_PORT" "Postfix smtps:$SMTPS_PORT" "Exim:$EXIM_PORT" "Exim EXTERNAL:$EXIM_EXTERNAL_PORT" \
    "Postfix envelope:$ENVELOPE_PORT" "Postfix bare LF:$BARE_LF_PORT" "Exim envelope:$EXIM_ENVELOPE_PORT" "Postfix encrypt:$ENCRYPT_PORT"; do
    if ! wait_port "${spec##*:}"; then
        cat "$STATE/exim/stdout.log" "$STATE/exim/log/paniclog" 2>/dev/null >&2 || true
        die "${spec%:*} is not listening on 127.0.0.1:${spec##*:} after 10 s"
    fi
done
exim_sasl_wait
say "servers up after $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"

# Nothing of ours may listen outside loopback.
if command -v ss >/dev/null; then
    ours=" $(our_pids | tr '\n' ' ') $DOVECOT_PID $EXIM_PID $EXIM_SASL_PID $KDC_PID $INTROSPECTION_PID "
    bad=$(ss -Hltnp 2>/dev/null | while read -r _ _ _ local _ users; do
        for pid in $(printf '%s\n' "$users" | grep -o 'pid=[0-9]*' | cut -d= -f2); do
            case $ours in *" $pid "*) case $local in 127.0.0.1:*) ;; *) echo "$local(pid $pid)" ;; esac ;; esac
        done
    done)
    [ -z "$bad" ] || die "a server listens outside 127.0.0.1: $bad"
    say "listening sockets of this run: $(ss -Hltnp 2>/dev/null | awk -v o="$ours" '{ if (match($0, /pid=[0-9]+/)) { p = substr($0, RSTART + 4, RLENGTH - 4); if (index(o, " " p " ")) print $4 } }' | sort -u | tr '\n' ' ')"
fi

export SMTPPROBE CA_FILE SUBMISSION_PORT SMTPS_PORT EXIM_PORT SWAKS MSMTP EXIM_VERSION
export EXIM_SASL_PORT EXIM_SASL_VERSION EXIM_SASL_REALM EXIM_SASL_DEBUG_LOG
export EXIM_SASL_PERL_USER EXIM_SASL_PERL_PASSWORD
export INTEG_STATE=$STATE INTEG_AUTH_FAILURE_DELAY=$AUTH_FAILURE_DELAY
export ENVELOPE_PORT BARE_LF_PORT EXIM_ENVELOPE_PORT ENCRYPT_PORT ENVELOPE_SIZE_LIMIT LOCAL_DOMAIN
export OWNED_SENDER FOREIGN_SENDER LOCAL_RCPT RELAY_RCPT MAILDIR

if [ "$HOLD" != 0 ]; then
    say "holding the servers for $HOLD s (CA: $CA_FILE, user $TEST_USER, password $TEST_PASSWORD, tokens in $STATE/oauth/tokens.json)"
    sleep "$HOLD" &
    HOLD_PID=$!
    wait "$HOLD_PID" || true
fi

# ---------------------------------------------------------------- tests
# Run in the background and `wait`, so that a TERM/INT reaches the trap at once
# (the cleanup then stops the test process too).
rc=0
run_python_suite() { # script: runs tests/integration/<script>; a failure (or 77, a skip) goes
    # into rc unless an earlier suite failed already
    local suite_rc=0
    python3 "$HERE/$1" &
    TEST_PID=$!
    wait "$TEST_PID" || suite_rc=$?
    TEST_PID=""
    if [ "$suite_rc" -ne 0 ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; }; then rc=$suite_rc; fi
}
run_python_suite test_servers.py

# The second opinion per row: smtpprobe and msmtp on every second_opinion/*.json row.
# 77: msmtp is missing, a skip like test_servers.py's.
say "second opinion (msmtp) on every row of tests/integration/second_opinion/*.json"
run_python_suite second_opinion.py

# The envelope rows (issue 20): swaks --quit-after RCPT and smtpprobe on each sender/recipient
# case, one delivery into MAILDIR, the bare LF / bare CR behaviour.
say "envelope checks (swaks and smtpprobe) on the envelope ports"
run_python_suite envelope_checks.py

for suite in ${WITH[@]+"${WITH[@]}"}; do
    say "running $suite"
    (cd "$ROOT" && exec sh -c "$suite") &
    TEST_PID=$!
    suite_rc=0
    wait "$TEST_PID" || suite_rc=$?
    TEST_PID=""
    say "$suite: exit $suite_rc"
    if [ "$suite_rc" -ne 0 ] && [ "$rc" -eq 0 ]; then rc=1; fi
done

if [ "$CAPTURE" = 1 ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; }; then
    say "capturing transcripts into $ROOT/samples/transcripts"
    python3 "$HERE/capture_transcripts.py" "$ROOT/samples/transcripts" &
    TEST_PID=$!
    wait "$TEST_PID" || rc=1
    TEST_PID=""
fi

# The responses clients sent that depend on nonces as well as the password (DIGEST-MD5,
# CRAM-MD5, SCRAM proofs), from Dovecot's debug log, for the secret scan.
if [ -n "${SMTPPROBE_SECRETS_FILE:-}" ]; then
    python3 "$HERE/sasl_log.py" "$STATE" >>"$SMTPPROBE_SECRETS_FILE" || rc=1
    say "secrets file: $(wc -l <"$SMTPPROBE_SECRETS_FILE") lines, with the exchanged SASL responses"
fi
exit "$rc"
