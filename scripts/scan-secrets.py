#!/usr/bin/env python3
"""Scans every output the tests produced for secrets.

    scripts/scan-secrets.py [--secrets-file FILE] OUTPUT_DIR [OUTPUT_DIR...]

Secrets: the passwords and tokens of every account in samples/servers/*.json and
samples/hostile/*.json, the lines of
tests/test-secrets.txt, and the lines of each --secrets-file (the integration suite writes its
per-run random passwords to one; a line "USER<tab>SECRET" names the user too, so that the
forms that need it are derived, and it adds the SASL responses the servers logged, which
depend on nonces: tests/integration/sasl_log.py). Forms looked for: the secret itself, its base64, the base64 core it keeps inside any
longer base64 blob (3 alignments), and the base64 of the PLAIN and XOAUTH2 responses that carry
it; and the password equivalents NTLM and DIGEST-MD5 derive from it: the NT hash (MD4 of the
UTF-16LE password) and NTOWFv2 (MS-NLMP 3.3), and DIGEST-MD5's H(user:realm:password)
(RFC 2831 §2.1.2.1) for the realms the tests use, each in hex and base64. Secrets no test
knows in advance are found by their shape: a Kerberos AP-REQ as GSSAPI sends it (a GSS-API
InitialContextToken with the Kerberos V5 OID, RFC 4121 §4.1) in base64. Exits 1 on any hit
(printing file and form, not the secret), 2 if nothing was scanned.
A self-check plants a secret first and fails if the scan misses it.
"""
import base64
import glob
import hashlib
import hmac
import json
import os
import re
import struct
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def md4(data: bytes) -> bytes:
    """RFC 1320 (hashlib has MD4 only with OpenSSL's legacy provider)."""
    def rotl(x, n):
        return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF
    msg = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for at in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[at:at + 64])
        a, b, c, d = h
        for i in range(16):
            a, b, c, d = d, rotl((a + ((b & c) | (~b & d)) + x[i]) & 0xFFFFFFFF, (3, 7, 11, 19)[i % 4]), b, c
        for i in range(16):
            k = (i % 4) * 4 + i // 4
            a, b, c, d = d, rotl((a + ((b & c) | (b & d) | (c & d)) + x[k] + 0x5A827999) & 0xFFFFFFFF,
                                 (3, 5, 9, 13)[i % 4]), b, c
        for i in range(16):
            k = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[i]
            a, b, c, d = d, rotl((a + (b ^ c ^ d) + x[k] + 0x6ED9EBA1) & 0xFFFFFFFF, (3, 9, 11, 15)[i % 4]), b, c
        h = [(v + w) & 0xFFFFFFFF for v, w in zip(h, (a, b, c, d))]
    return struct.pack("<4I", *h)


# DIGEST-MD5 realms the tests meet: none (Dovecot's realm=""), the emulator's host names.
REALMS = {"", "emulator.invalid", "mx.example.test", "mx.example.org", "localhost"}


def derived_forms(user: str, secret: str):
    """The password equivalents of NTLM and DIGEST-MD5, in hex and base64."""
    s = secret.encode()
    nt = md4(secret.encode("utf-16-le"))
    derived = [("NT hash", nt)]
    if user:
        domain, _, name = user.rpartition("\\")
        owf = hmac.new(nt, (name.upper() + domain).encode("utf-16-le"), hashlib.md5).digest()
        derived.append(("NTOWFv2", owf))
        for realm in sorted(REALMS):
            derived.append(("DIGEST-MD5 H(A1) realm %r" % realm,
                            hashlib.md5(user.encode() + b":" + realm.encode() + b":" + s).digest()))
    for kind, raw in derived:
        yield kind + " (hex)", raw.hex()
        yield kind + " (base64)", b64(raw)


def forms(user: str, secret: str):
    yield from derived_forms(user, secret)
    s = secret.encode()
    yield "raw", secret
    yield "base64", b64(s)
    for phase in range(3):
        padded = b"\0" * phase + s
        enc = b64(padded)
        begin = 0 if phase == 0 else 4
        end = 4 * (len(padded) // 3)
        if end >= begin + 8:
            yield "base64 core (alignment %d)" % phase, enc[begin:end]
    if user:
        u = user.encode()
        yield "PLAIN response", b64(b"\0" + u + b"\0" + s)
        yield "XOAUTH2 response", b64(b"user=" + u + b"\x01auth=Bearer " + s + b"\x01\x01")


def secrets(extra_files):
    pairs = []
    for path in glob.glob(os.path.join(ROOT, "samples/servers/*.json")) + \
            glob.glob(os.path.join(ROOT, "samples/hostile/*.json")):
        with open(path) as f:
            profile = json.load(f)
        if profile.get("hostname"):
            REALMS.add(profile["hostname"])
        for account in profile.get("auth", {}).get("accounts", []):
            for key in ("password", "token"):
                if account.get(key):
                    pairs.append((account.get("user", ""), account[key]))
    listed = os.path.join(ROOT, "tests/test-secrets.txt")
    with open(listed) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                pairs.append(("", line))
    for path in extra_files:
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    line = line.strip("\r\n")
                    user, tab, secret = line.partition("\t")
                    if tab and secret.strip():
                        pairs.append((user.strip(), secret.strip()))
                    elif line.strip():
                        pairs.append(("", line.strip()))
    return [(u, s) for (u, s) in pairs if len(s) >= 3]


# 0x60 0x82 LEN LEN 0x06 0x09 2a864886f712010202 in base64 from the token's first byte: the
# AP-REQ of GSSAPI (a fresh one per exchange, so only its shape can be looked for).
SHAPES = [("Kerberos AP-REQ (GSSAPI initial token, base64)",
           re.compile(r"YII[A-Za-z0-9+/]{3}YJKoZIhvcSAQIC"))]


def scan(dirs, pairs):
    needles = [(kind, value) for (u, s) in pairs for (kind, value) in forms(u, s)]
    files = 0
    hits = []
    for d in dirs:
        for dirpath, _, names in os.walk(d):
            for name in names:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                files += 1
                for kind, value in needles:
                    if value in text:
                        hits.append((path, kind))
                for kind, shape in SHAPES:
                    if shape.search(text):
                        hits.append((path, kind))
    return files, hits


def main():
    args = sys.argv[1:]
    extra = []
    while len(args) >= 2 and args[0] == "--secrets-file":
        extra.append(args[1])
        args = args[2:]
    dirs = [d for d in args if os.path.isdir(d)]
    pairs = secrets(extra)
    # MS-NLMP 4.2.4's NT hash of "Password", to check the MD4 above.
    if md4("Password".encode("utf-16-le")).hex() != "a4f49c406510bdcab6824ee7c30fd852":
        print("scan-secrets: self-check failed: MD4 does not give MS-NLMP's NT hash")
        return 1
    ap_req = bytes([0x60, 0x82, 0x02, 0x6e, 0x06, 0x09]) + bytes.fromhex("2a864886f712010202") + \
        b"\x01\x00n\x82\x02]0\x82\x02Y"
    planted_texts = [b64(("\0u\0" + pairs[0][1]).encode()), md4(pairs[0][1].encode("utf-16-le")).hex(),
                     b64(ap_req)]
    with_user = [(u, s) for (u, s) in pairs if u]
    if with_user:  # NTOWFv2 needs the user: a "USER<tab>SECRET" line must give it
        planted_texts += [dict(derived_forms(*with_user[-1]))["NTOWFv2 (base64)"]]
    for planted_text in planted_texts:
        with tempfile.TemporaryDirectory() as planted:
            with open(os.path.join(planted, "planted.txt"), "w") as f:
                f.write("x " + planted_text + " y")
            _, hits = scan([planted], pairs)
            if not hits:
                print("scan-secrets: self-check failed: a planted secret was not found")
                return 1
    files, hits = scan(dirs, pairs)
    for path, kind in hits:
        print("scan-secrets: SECRET FOUND (%s) in %s" % (kind, path))
    print("scan-secrets: %d files scanned, %d secrets known, %d hits" % (files, len(pairs), len(hits)))
    if files == 0:
        return 2
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
