# Sourced by run.sh after the test CA exists ($STATE/tls/ca.pem, ca.key): the client
# certificates for Exim's EXTERNAL port ($EXIM_EXTERNAL_PORT, exim/exim.conf.in).
#   client.pem, client.key            CN=smtpprobe integration client, from the test CA
#   client-encrypted.key              the same key, PKCS#8 encrypted (AES-256) with
#                                     $CLIENT_KEY_PASSPHRASE (random per run)
#   other-client.pem, other-client.key  from another CA, which Exim does not trust
# Exports their paths, the passphrase and a wrong one for test_servers.py and
# second_opinion/external.json, and adds both passphrases to the secret scan's list.
# shellcheck shell=bash

CLIENT_KEY_PASSPHRASE=$(openssl rand -hex 12)
WRONG_KEY_PASSPHRASE=wrong-$(openssl rand -hex 6)
say "generating the client certificates (test CA, and another CA) for EXTERNAL on 127.0.0.1:$EXIM_EXTERNAL_PORT"
(
    cd "$STATE/tls" || exit
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=clientAuth" >client.ext
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout client.key -out client.csr -subj "/O=smtpprobe/CN=smtpprobe integration client" 2>/dev/null
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out client.pem -days 30 -extfile client.ext 2>/dev/null
    openssl verify -CAfile ca.pem -purpose sslclient client.pem >/dev/null
    CLIENT_KEY_PASSPHRASE=$CLIENT_KEY_PASSPHRASE openssl pkcs8 -topk8 -v2 aes-256-cbc \
        -in client.key -out client-encrypted.key -passout env:CLIENT_KEY_PASSPHRASE
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout other-ca.key -out other-ca.pem -days 30 -subj "/O=smtpprobe/CN=another CA, not trusted by Exim" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout other-client.key -out other-client.csr -subj "/O=smtpprobe/CN=smtpprobe integration client" 2>/dev/null
    openssl x509 -req -in other-client.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial \
        -out other-client.pem -days 30 -extfile client.ext 2>/dev/null
    chmod 644 client.pem other-client.pem
    chmod 600 client.key client-encrypted.key other-ca.key other-client.key
)
CLIENT_CERT=$STATE/tls/client.pem
CLIENT_KEY=$STATE/tls/client.key
CLIENT_KEY_ENCRYPTED=$STATE/tls/client-encrypted.key
OTHER_CLIENT_CERT=$STATE/tls/other-client.pem
OTHER_CLIENT_KEY=$STATE/tls/other-client.key
export CLIENT_CERT CLIENT_KEY CLIENT_KEY_ENCRYPTED OTHER_CLIENT_CERT OTHER_CLIENT_KEY
export CLIENT_KEY_PASSPHRASE WRONG_KEY_PASSPHRASE EXIM_EXTERNAL_PORT
if [ -n "${SMTPPROBE_SECRETS_FILE:-}" ]; then
    printf '%s\n%s\n' "$CLIENT_KEY_PASSPHRASE" "$WRONG_KEY_PASSPHRASE" >>"$SMTPPROBE_SECRETS_FILE"
fi
