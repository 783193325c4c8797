#!/usr/bin/env python3
"""The SASL responses clients really sent, read from the servers' logs, as secrets.

A DIGEST-MD5 response, a CRAM-MD5 digest, a SCRAM proof and an NTLMv2 response depend on the
password and on nonces chosen during the exchange, so the secret scan cannot derive them from
the password alone. Dovecot logs every client response when auth_debug_passwords is on
(dovecot.conf.in sends its debug log to dovecot/auth-debug.log in the state directory; that
file is never printed). This module reads it and returns the password-dependent values in
every form smtpprobe's redactor registers them (sasl::Client::responses() and
derived_secrets(): the response itself, raw and base64; the digest or proof alone):

  DIGEST-MD5  the digest-response text, and its response=<32 hex digits>
  CRAM-MD5    "user <32 hex digits>", and the hex digest
  SCRAM-*     the client-final message, and its p= proof (base64)
  NTLM        the AUTHENTICATE message (base64), and its NTProofStr (hex), should a server
              log one

Responses are recognised by their shape, not by the AUTH line (the request ids of Dovecot's
auth protocol repeat across Postfix processes), so ANONYMOUS traces and the like, which are no
secret, are never taken.

    sasl_log.py STATE_DIR >>SECRETS_FILE    (run.sh, before it stops the servers)

python3 standard library only.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys

DOVECOT_DEBUG_LOG = os.path.join("dovecot", "auth-debug.log")
_CONT = re.compile(r"client in: (?:CONT\t\d+\t(\S+)|AUTH\t\d+\t[^\t]+\t.*?\tresp=(\S+))")


def _decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def secrets_of_response(raw: bytes) -> list[tuple[str, str]]:
    """(what, value) for one decoded client response; [] when it is not a known secret shape."""
    out: list[tuple[str, str]] = []
    b64 = base64.b64encode(raw).decode()
    if raw.startswith(b"NTLMSSP\0\x03\0\0\0"):
        out.append(("NTLM AUTHENTICATE message (base64)", b64))
        # NtChallengeResponseFields at offset 20: length (2), max length (2), offset (4).
        if len(raw) >= 28:
            length = int.from_bytes(raw[20:22], "little")
            offset = int.from_bytes(raw[24:28], "little")
            if length > 24 and offset + 16 <= len(raw):
                out.append(("NTLMv2 NTProofStr (hex)", raw[offset:offset + 16].hex()))
                out.append(("NTLMv2 response (base64)", base64.b64encode(raw[offset:offset + length]).decode()))
        return out
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return out
    if re.search(r"(^|,)\s*digest-uri=", text) and (m := re.search(r"(?:^|,)\s*response=([0-9a-fA-F]{32})", text)):
        out += [("DIGEST-MD5 response", text), ("DIGEST-MD5 response value (hex)", m.group(1))]
    elif m := re.fullmatch(r"\S+ ([0-9a-f]{32})", text):
        out += [("CRAM-MD5 response", text), ("CRAM-MD5 digest (hex)", m.group(1))]
    elif (m := re.search(r",p=([A-Za-z0-9+/=]{16,})$", text)) and text.startswith("c="):
        out += [("SCRAM client-final", text), ("SCRAM ClientProof (base64)", m.group(1))]
    return out


def dovecot_secrets(state_dir: str) -> list[tuple[str, str]]:
    """Every known secret shape among the client responses of Dovecot's debug log."""
    path = os.path.join(state_dir, DOVECOT_DEBUG_LOG)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return found
    for line in lines:
        m = _CONT.search(line)
        if not m:
            continue
        raw = _decode(m.group(1) or m.group(2))
        if not raw:
            continue
        for what, value in secrets_of_response(raw):
            if value not in seen:
                seen.add(value)
                found.append((what, value))
    return found


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: sasl_log.py STATE_DIR", file=sys.stderr)
        return 64
    for _, value in dovecot_secrets(sys.argv[1]):
        print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
