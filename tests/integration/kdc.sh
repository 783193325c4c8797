# shellcheck shell=bash
# A private MIT Kerberos KDC for the integration suite (sourced by run.sh).
#
# Everything lives in $STATE/kdc: its own KRB5_CONFIG and KRB5_KDC_PROFILE, two realms
# (SMTPPROBE.TEST, where the test user and the smtp service live, and OTHER.TEST, for "a ticket
# for another realm"), one krb5kdc serving both on 127.0.0.1:$KDC_PORT (UDP and TCP). The
# machine's /etc/krb5.conf, its ticket caches and its replay caches are never used: run.sh
# exports KRB5_CONFIG, KRB5CCNAME (a cache that does not exist) and KRB5RCACHEDIR for every
# process of the run.
#
#   kdc_start       creates the realms, the principals and the smtp keytab, starts krb5kdc
#   kdc_stop        stops it (TERM, then KILL)
#
# Exports: KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5CCNAME, KRB5RCACHEDIR, KDC_PORT, KDC_REALM,
# KDC_OTHER_REALM, KDC_DIR, KRB5_KEYTAB_SMTP (Dovecot's keytab), KRB5_USER, KRB5_PASSWORD
# (a fresh random password; the secrets file gets it), KRB5_USER_CCACHE (KRB5_USER's ticket
# cache, made by kinit), KRB5_OTHER_CCACHE (a ticket cache of KRB5_USER@OTHER.TEST),
# KRB5_DOWN_CONFIG (a KRB5_CONFIG whose KDC port is closed).

KDC_PORT=${KDC_PORT:-2088}
KDC_REALM=SMTPPROBE.TEST
KDC_OTHER_REALM=OTHER.TEST
KDC_PID=""

kdc_write_config() { # file kdc_port
    cat >"$1" <<EOF
[libdefaults]
    default_realm = $KDC_REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    ignore_acceptor_hostname = true
    default_ccache_name = FILE:$KDC_DIR/no-default-ccache
    default_keytab_name = FILE:$KDC_DIR/no-default-keytab
    default_client_keytab_name = FILE:$KDC_DIR/no-default-client-keytab
    kdc_timeout = 2000
    max_retries = 1
[realms]
    $KDC_REALM = {
        kdc = 127.0.0.1:$2
    }
    $KDC_OTHER_REALM = {
        kdc = 127.0.0.1:$2
    }
EOF
}

kdc_start() {
    KDC_DIR=$STATE/kdc
    mkdir -p "$KDC_DIR/rcache"
    chmod 755 "$KDC_DIR"
    # The replay cache of every acceptor of the run (Dovecot's auth process runs as its own
    # user): writable by all, sticky, like /var/tmp where MIT would put it otherwise.
    chmod 1777 "$KDC_DIR/rcache"
    KRB5_CONFIG=$KDC_DIR/krb5.conf
    KRB5_KDC_PROFILE=$KDC_DIR/kdc.conf
    KRB5CCNAME=FILE:$KDC_DIR/no-ticket-cache
    KRB5RCACHEDIR=$KDC_DIR/rcache
    KRB5_DOWN_CONFIG=$KDC_DIR/krb5-down.conf
    KRB5_KEYTAB_SMTP=$KDC_DIR/smtp.keytab
    KRB5_USER=alice
    KRB5_PASSWORD=$(openssl rand -hex 16)
    KRB5_OTHER_CCACHE=FILE:$KDC_DIR/other-realm.ccache
    KRB5_USER_CCACHE=FILE:$KDC_DIR/user.ccache
    export KRB5_CONFIG KRB5_KDC_PROFILE KRB5CCNAME KRB5RCACHEDIR KDC_PORT KDC_REALM \
        KDC_OTHER_REALM KDC_DIR KRB5_KEYTAB_SMTP KRB5_USER KRB5_PASSWORD KRB5_OTHER_CCACHE \
        KRB5_USER_CCACHE KRB5_DOWN_CONFIG
    kdc_write_config "$KRB5_CONFIG" "$KDC_PORT"
    # Port 1 (tcpmux) is closed on any machine this runs on; run.sh checks it.
    kdc_write_config "$KRB5_DOWN_CONFIG" 1
    local realm
    {
        printf '[kdcdefaults]\n    kdc_listen = 127.0.0.1:%s\n    kdc_tcp_listen = 127.0.0.1:%s\n[realms]\n' \
            "$KDC_PORT" "$KDC_PORT"
        for realm in "$KDC_REALM" "$KDC_OTHER_REALM"; do
            printf '    %s = {\n' "$realm"
            printf '        database_name = %s/%s.db\n' "$KDC_DIR" "$realm"
            printf '        key_stash_file = %s/%s.stash\n' "$KDC_DIR" "$realm"
            printf '        acl_file = %s/kadm5.acl\n' "$KDC_DIR"
            printf '        max_life = 1h\n'
            printf '        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n'
            printf '    }\n'
        done
        printf '[logging]\n    kdc = FILE:%s/kdc.log\n    default = FILE:%s/kdc.log\n' "$KDC_DIR" "$KDC_DIR"
    } >"$KRB5_KDC_PROFILE"
    : >"$KDC_DIR/kadm5.acl"
    for realm in "$KDC_REALM" "$KDC_OTHER_REALM"; do
        kdb5_util -r "$realm" create -s -P "$(openssl rand -hex 16)" >"$KDC_DIR/kdb5_util.log" 2>&1 ||
            { cat "$KDC_DIR/kdb5_util.log" >&2; die "kdb5_util create -r $realm failed"; }
        # Pre-authentication required, as Active Directory does: a wrong password is then
        # "Preauthentication failed" from the KDC itself.
        kadmin.local -r "$realm" -q "addprinc +requires_preauth -pw $KRB5_PASSWORD $KRB5_USER" \
            >>"$KDC_DIR/kadmin.log" 2>&1 ||
            die "kadmin.local addprinc $KRB5_USER@$realm failed"
    done
    # The service principals Dovecot accepts (auth_gssapi_hostname = "$ALL": any in its keytab).
    local host
    for host in 127.0.0.1 localhost; do
        kadmin.local -r "$KDC_REALM" -q "addprinc -randkey smtp/$host" >>"$KDC_DIR/kadmin.log" 2>&1 &&
            kadmin.local -r "$KDC_REALM" -q "ktadd -k $KRB5_KEYTAB_SMTP smtp/$host" >>"$KDC_DIR/kadmin.log" 2>&1 ||
            die "kadmin.local: smtp/$host@$KDC_REALM or its keytab failed"
    done
    chown root:dovecot "$KRB5_KEYTAB_SMTP"
    chmod 640 "$KRB5_KEYTAB_SMTP"
    krb5kdc -n -P "$KDC_DIR/krb5kdc.pid" -r "$KDC_REALM" -r "$KDC_OTHER_REALM" \
        >"$KDC_DIR/stdout.log" 2>&1 &
    KDC_PID=$!
    wait_port "$KDC_PORT" || { cat "$KDC_DIR/stdout.log" "$KDC_DIR/kdc.log" >&2 2>/dev/null; die "krb5kdc is not listening on 127.0.0.1:$KDC_PORT after 10 s"; }
    # The user's ticket cache (kinit, as a user would), and a ticket for the other realm, for
    # the check that a foreign ticket gives a clear row.
    kinit -c "$KRB5_USER_CCACHE" "$KRB5_USER" <<<"$KRB5_PASSWORD" >/dev/null ||
        die "kinit $KRB5_USER@$KDC_REALM failed"
    kinit -c "$KRB5_OTHER_CCACHE" "$KRB5_USER@$KDC_OTHER_REALM" <<<"$KRB5_PASSWORD" >/dev/null ||
        die "kinit $KRB5_USER@$KDC_OTHER_REALM failed"
}

kdc_stop() {
    stop_pid "$KDC_PID" krb5kdc
}
