#!/usr/bin/env python3
"""SCRAM-*-PLUS against an independent implementation: GNU SASL's command-line client.

No Debian-packaged SMTP server checks SCRAM channel binding (Dovecot 2.3 has no -PLUS,
Exim's cyrus_sasl driver passes no binding to Cyrus SASL, msmtp 1.8.23 has no -PLUS method),
so the check is two-sided against the emulator, on real TLS connections:
  - gsasl (GNU SASL 2.x over GnuTLS) logs in to the emulator's -PLUS server with
    tls-exporter (TLS 1.3) and with tls-unique (TLS 1.2 forced by a GnuTLS priority string),
    and fails with a wrong password: our server computes the binding as GnuTLS does;
  - smtpprobe logs in to the same server with the same bindings: our client does too.
Two implementations on two TLS libraries agree on both binding types.

  scram_plus_peers.py SMTPPROBE
Exit status: 0 all agreed; 1 a check failed; 77 gsasl is not installed (scripts/install-deps.sh
installs it; with CI=true that is a failure instead).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True

USER = "plus-user@example.test"
PASSWORD = "scram-plus-peers-password-not-real"
MECHANISMS = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"]


def profile(tls_max: str) -> dict:
    return {
        "name": "scram-plus-" + (tls_max or "default"),
        "hostname": "localhost",
        "tls": "starttls",
        **({"tls_max": tls_max} if tls_max else {}),
        "ehlo": {"before_tls": ["STARTTLS"],
                 "after_tls": ["AUTH " + " ".join(MECHANISMS) + " SCRAM-SHA-256"]},
        "auth": {"mechanisms": MECHANISMS + ["SCRAM-SHA-256"],
                 "accounts": [{"user": USER, "password": PASSWORD}]},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


failed = 0


def check(name: str, ok: bool, detail: str = "") -> None:
    global failed
    print(("ok   " if ok else "FAIL ") + name + ("" if ok or not detail else ": " + detail))
    if not ok:
        failed += 1


def decoded(line: str) -> str:
    """A base64 line gsasl sent, decoded; "" for anything else."""
    try:
        return base64.b64decode(line, validate=True).decode("latin-1")
    except ValueError:
        return ""


def gsasl(port: int, ca: str, mechanism: str, password: str, priority: str) -> subprocess.CompletedProcess:
    # --starttls: without it gsasl 2.2 sends EHLO twice and never STARTTLS on this server.
    argv = ["gsasl", "--smtp", "--starttls", f"--connect=127.0.0.1:{port}", "--hostname=localhost",
            f"--mechanism={mechanism}", f"--authentication-id={USER}", f"--password={password}",
            f"--x509-ca-file={ca}", "--no-client-first", "--verbose"]
    if priority:
        argv.append(f"--priority={priority}")
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)


def main() -> int:
    smtpprobe = sys.argv[1]
    if subprocess.run(["sh", "-c", "command -v gsasl"], capture_output=True).returncode != 0:
        print("gsasl is not installed (scripts/install-deps.sh installs it)")
        return 1 if os.environ.get("CI") == "true" else 77
    with tempfile.TemporaryDirectory(prefix="smtpprobe-scram-plus-") as tmp:
        # TLS 1.3 with tls-exporter, and TLS 1.2 with tls-unique.
        for tls_max, priority, binding in (("", "", "tls-exporter"),
                                           ("1.2", "NORMAL:-VERS-TLS1.3", "tls-unique")):
            path = os.path.join(tmp, f"profile{tls_max}.json")
            with open(path, "w") as f:
                json.dump(profile(tls_max), f)
            port = free_port()
            ca = os.path.join(tmp, f"ca{tls_max}.pem")
            log = open(os.path.join(tmp, f"emulate{tls_max}.log"), "w+")
            emulator = subprocess.Popen([smtpprobe, "emulate", "--profile", path, "--listen",
                                         f"127.0.0.1:{port}", "--ca-out", ca],
                                        stdout=subprocess.DEVNULL, stderr=log)
            try:
                for _ in range(100):
                    log.seek(0)
                    if "Ctrl-C" in log.read():
                        break
                    time.sleep(0.1)
                label = f"TLS {tls_max or '1.3'}, {binding}"
                for mechanism in MECHANISMS:
                    right = gsasl(port, ca, mechanism, PASSWORD, priority)
                    bound = f"p={binding},,"
                    check(f"gsasl {mechanism} ({label}) logs in to the emulator",
                          right.returncode == 0 and "\n235 " in right.stdout
                          and f"TLS session info: (TLS{tls_max or '1.3'})" in right.stderr
                          and any(bound in decoded(line) for line in right.stdout.splitlines()),
                          (right.stdout + right.stderr).strip()[-400:])
                    wrong = gsasl(port, ca, mechanism, "wrong-" + PASSWORD, priority)
                    check(f"gsasl {mechanism} ({label}) with a wrong password is refused",
                          wrong.returncode != 0 and "\n535 " in wrong.stdout,
                          wrong.stdout.strip()[-300:])
                env = dict(os.environ, SCRAM_PLUS_PASSWORD=PASSWORD)
                run = subprocess.run([smtpprobe, f"127.0.0.1:{port}", "--ca-file", ca, "--user", USER,
                                      "--password-env", "SCRAM_PLUS_PASSWORD", "--format", "json"],
                                     capture_output=True, text=True, timeout=60, env=env)
                try:
                    doc = json.loads(run.stdout)
                except ValueError:
                    check(f"smtpprobe ({label}) writes JSON", False, run.stderr.strip()[-300:])
                    continue
                rows = {m["name"]: m for m in doc.get("mechanisms", [])}
                for mechanism in MECHANISMS:
                    a = rows.get(mechanism, {}).get("authentication", {})
                    check(f"smtpprobe {mechanism} ({label}) logs in to the same server",
                          a.get("status") == "accepted" and a.get("channel_binding") == binding,
                          json.dumps(a)[:300])
                check(f"smtpprobe ({label}): no password in the output",
                      PASSWORD not in run.stdout and PASSWORD not in run.stderr)
            finally:
                emulator.terminate()
                try:
                    emulator.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    emulator.kill()
                log.close()
    print(f"{'FAILED' if failed else 'passed'}: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
