# shellcheck shell=bash
# The second Exim of the integration suite: exim4-daemon-heavy with Cyrus SASL 2.1.28 behind
# its cyrus_sasl authenticators. Sourced by run.sh, which calls, in this order:
#   exim_sasl_check_ports   before anything starts (the port must be free)
#   exim_sasl_start         after the test CA exists (uses render, find_deb, say, die, $STATE,
#                           $DEB_CACHE, $NSS_WRAPPER, $TEST_USER, $TEST_PASSWORD)
#   exim_sasl_wait          with the other servers' waits
#   exim_sasl_stop          from cleanup (idempotent)
# Listens on 127.0.0.1:$EXIM_SASL_PORT (2528): STARTTLS, AUTH only after TLS, one
# cyrus_sasl authenticator per mechanism of $EXIM_SASL_MECHS. The accounts are in a private
# sasldb made with `saslpasswd2 -f` and Cyrus reads a private configuration through
# SASL_CONF_PATH: nothing of the machine's (/etc/sasl2, /etc/sasldb2) is read or changed.
# The .deb comes from $DEB_CACHE like exim4-daemon-light's (it conflicts with postfix).
# GSSAPI (libsasl2-modules-gssapi-mit) is not offered: the suite has no KDC of its own yet.

EXIM_SASL_PORT=${EXIM_SASL_PORT:-2528}
# Every mechanism Cyrus SASL 2.1.28 has here with a password (libsasl2-modules), and ANONYMOUS.
EXIM_SASL_MECHS="PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256 NTLM ANONYMOUS"
EXIM_SASL_REALM=integration.test
EXIM_SASL_PERL_USER=perl-ntlm@integration.test
EXIM_SASL_PERL_PASSWORD=""
EXIM_SASL_PID=""
EXIM_SASL_DIR=""
EXIM_SASL_DEBUG_LOG=""

exim_sasl_check_ports() {
    if port_open "$EXIM_SASL_PORT"; then die "127.0.0.1:$EXIM_SASL_PORT is already in use; set EXIM_SASL_PORT"; fi
    command -v saslpasswd2 >/dev/null || skip "saslpasswd2 is not installed (sasl2-bin, scripts/install-deps.sh)"
    local f plugins=""
    for f in /usr/lib/*-linux-gnu/sasl2/libntlm.so.2 /usr/lib/sasl2/libntlm.so.2; do
        [ -e "$f" ] && plugins=$f && break
    done
    [ -n "$plugins" ] || skip "the Cyrus SASL plugins are not installed (libsasl2-modules, scripts/install-deps.sh)"
}

exim_sasl_start() {
    EXIM_SASL_DIR=$STATE/exim-sasl
    local root=$EXIM_SASL_DIR/pkg uid=64999 deb m name
    mkdir -p "$root" "$EXIM_SASL_DIR/spool" "$EXIM_SASL_DIR/log" "$EXIM_SASL_DIR/tls" "$EXIM_SASL_DIR/sasl"
    deb=$(find_deb exim4-daemon-heavy "$EXIM_SASL_DIR")
    dpkg -x "$deb" "$root"
    EXIM_SASL_BIN=$root/usr/sbin/exim4
    chmod u-s "$EXIM_SASL_BIN"
    # The compiled-in user "Debian-exim", through nss_wrapper as for the first Exim.
    printf 'root:x:0:0:root:/root:/bin/sh\nDebian-exim:x:%s:%s:Exim:%s:/usr/sbin/nologin\n' \
        "$uid" "$uid" "$EXIM_SASL_DIR/spool" >"$EXIM_SASL_DIR/passwd"
    printf 'root:x:0:\nDebian-exim:x:%s:\n' "$uid" >"$EXIM_SASL_DIR/group"
    cp "$STATE/tls/server.pem" "$STATE/tls/server.key" "$EXIM_SASL_DIR/tls/"

    # The private sasldb: the test user (saslpasswd2 stores "probe@integration.test" as user
    # "probe" in realm "integration.test", which is the realm the authenticators name).
    printf '%s' "$TEST_PASSWORD" | saslpasswd2 -f "$EXIM_SASL_DIR/sasl/sasldb2" -p -c "$TEST_USER" ||
        die "saslpasswd2 could not create $EXIM_SASL_DIR/sasl/sasldb2"
    # The account of the independent NTLMv2 client, Perl's Authen::NTLM: its own MD4 is wrong
    # for inputs of 56 to 64 bytes, i.e. passwords of 28 to 32 characters, such as
    # $TEST_PASSWORD (QUIRKS.md), so this one has 24.
    EXIM_SASL_PERL_PASSWORD=$(openssl rand -hex 12)
    printf '%s' "$EXIM_SASL_PERL_PASSWORD" | saslpasswd2 -f "$EXIM_SASL_DIR/sasl/sasldb2" -p -c "$EXIM_SASL_PERL_USER" ||
        die "saslpasswd2 could not add $EXIM_SASL_PERL_USER"
    sed -e "s|@SASLDB@|$EXIM_SASL_DIR/sasl/sasldb2|g" -e "s|@MECHS@|$EXIM_SASL_MECHS|g" \
        "$HERE/exim-sasl/sasl.conf.in" >"$EXIM_SASL_DIR/sasl/exim.conf"

    render "$HERE/exim-sasl/exim.conf.in" "$EXIM_SASL_DIR/exim.conf"
    sed -i -e "s|@EXIM_SASL_BIN@|$EXIM_SASL_BIN|g" -e "s|@EXIM_SASL_PORT@|$EXIM_SASL_PORT|g" \
        "$EXIM_SASL_DIR/exim.conf"
    for m in $EXIM_SASL_MECHS; do
        name=cyrus_$(printf '%s' "$m" | tr -d -- -)
        # shellcheck disable=SC2016  # $auth1 is Exim's expansion, written as is
        printf '%s:\n  driver = cyrus_sasl\n  public_name = %s\n  server_mech = %s\n  server_realm = %s\n  server_set_id = $auth1\n\n' \
            "$name" "$m" "$m" "$EXIM_SASL_REALM" >>"$EXIM_SASL_DIR/exim.conf"
    done
    chown -R "$uid:$uid" "$EXIM_SASL_DIR/spool" "$EXIM_SASL_DIR/log" "$EXIM_SASL_DIR/tls" "$EXIM_SASL_DIR/sasl"
    chmod 600 "$EXIM_SASL_DIR/tls/server.key" "$EXIM_SASL_DIR/exim.conf" "$EXIM_SASL_DIR/sasl/sasldb2"

    exim_sasl_env=(env LD_PRELOAD="$NSS_WRAPPER" NSS_WRAPPER_PASSWD="$EXIM_SASL_DIR/passwd"
        NSS_WRAPPER_GROUP="$EXIM_SASL_DIR/group" SASL_CONF_PATH="$EXIM_SASL_DIR/sasl")
    EXIM_SASL_VERSION=$("${exim_sasl_env[@]}" "$EXIM_SASL_BIN" -C "$EXIM_SASL_DIR/exim.conf" -bV 2>&1 |
        sed -n 's/^Exim version \([^ ]*\).*/\1/p')
    grep -q cyrus_sasl <<<"$("${exim_sasl_env[@]}" "$EXIM_SASL_BIN" -C "$EXIM_SASL_DIR/exim.conf" -bV 2>&1)" ||
        die "$(basename "$deb") has no cyrus_sasl authenticator (exim4 -bV)"
    say "starting Exim $EXIM_SASL_VERSION from $(basename "$deb") with Cyrus SASL (127.0.0.1:$EXIM_SASL_PORT: $EXIM_SASL_MECHS)"
    # -d-all+receive+auth: Exim's debug output records every line a client sent (SMTP<<), so
    # test_servers.py can check that no output of smtpprobe holds the responses it sent (the
    # NTLMv2 and DIGEST-MD5 responses are secrets that depend on nonces). It goes to
    # $EXIM_SASL_DEBUG_LOG, in the state directory, deleted with it.
    EXIM_SASL_DEBUG_LOG=$EXIM_SASL_DIR/debug.log
    (umask 077 && : >"$EXIM_SASL_DEBUG_LOG") # it holds the clients' responses: root only
    "${exim_sasl_env[@]}" "$EXIM_SASL_BIN" -C "$EXIM_SASL_DIR/exim.conf" -bdf -d-all+receive+auth \
        >"$EXIM_SASL_DIR/stdout.log" 2>"$EXIM_SASL_DEBUG_LOG" &
    EXIM_SASL_PID=$!
}

exim_sasl_wait() {
    if ! wait_port "$EXIM_SASL_PORT"; then
        tail -n 20 "$EXIM_SASL_DIR/stdout.log" "$EXIM_SASL_DEBUG_LOG" "$EXIM_SASL_DIR/log/paniclog" 2>/dev/null >&2 || true
        die "Exim with Cyrus SASL is not listening on 127.0.0.1:$EXIM_SASL_PORT after 10 s"
    fi
}

exim_sasl_stop() {
    stop_pid "$EXIM_SASL_PID" "exim (Cyrus SASL)"
    EXIM_SASL_PID=""
}
