#!/usr/bin/env python3
"""Record sanitised transcripts of the real servers into samples/transcripts/.

Run through `tests/integration/run.sh --capture-transcripts` (it starts the
servers and sets the environment: CA_FILE, SUBMISSION_PORT, SMTPS_PORT,
EXIM_PORT, TEST_USER, TEST_PASSWORD, WRONG_PASSWORD, SWAKS).

Two clients, both against the real servers:
  - smtpclient.py (this directory) for the credential-free exchanges: EHLO and
    STARTTLS, AUTH before TLS, recognition (AUTH <MECH>, 334, "*"), unknown
    mechanisms, and what a server does to a client that probes the whole
    catalogue on one connection;
  - swaks for real authentication (PLAIN, LOGIN, CRAM-MD5; right and wrong
    password).
Every file is in swaks' notation ('<-  ' / ' -> ' plaintext, '<~  ' / ' ~> '
under TLS, '=== ' info, '*** ' error, '# ' comment).

Layout, because tests/engine/replay_test.cpp replays EVERY samples/transcripts/*.txt
through smtpprobe's own baseline + recognition code and compares it with the
<name>.expected.json beside it:
  samples/transcripts/<server>-*.txt       credential-free sessions shaped exactly
      like smtpprobe's (EHLO smtpprobe.invalid, AUTH LOGIN before TLS when
      "# auth-before-tls: yes", "*" after every 334), with "# mode:" and
      "# auth-before-tls:" headers; their goldens are made with
      SMTPPROBE_UPDATE_GOLDEN=1 (see tests/integration/README.md);
  samples/transcripts/auth/<server>-auth-*.txt   swaks' real authentication
      exchanges (not replayable by the recognition-only harness yet).
Credentials are replaced
by the fixed test credentials (user "tim", password "tanstaaftanstaaf", the
RFC 2195 example; wrong password "wrong-password") and every base64 form and
CRAM-MD5 response is recomputed with them, so replays stay deterministic.
The machine's host name in Dovecot's CRAM-MD5 challenge is replaced too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtpclient import Dropped, Session  # noqa: E402

FIXED_USER = "tim"
FIXED_PASSWORD = "tanstaaftanstaaf"
FIXED_WRONG = "wrong-password"
CRAM_HOST = "dovecot.integration.test"

ENV = os.environ
CA_FILE = ENV["CA_FILE"]
USER = ENV["TEST_USER"]
PASSWORD = ENV["TEST_PASSWORD"]
WRONG = ENV["WRONG_PASSWORD"]
SWAKS = ENV.get("SWAKS", "swaks")
HOSTNAME = socket.gethostname()
CATALOGUE = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
             "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "XOAUTH2", "OAUTHBEARER", "NTLM",
             "GSSAPI", "ANONYMOUS", "EXTERNAL"]


def version(cmd: list[str], pattern: str) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
        m = re.search(pattern, out)
        return m.group(1) if m else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


POSTFIX_V = version(["postconf", "-d", "-h", "mail_version"], r"(\S+)")
DOVECOT_V = version(["dovecot", "--version"], r"(\S+)")
EXIM_V = ENV.get("EXIM_VERSION", "4.96")
SWAKS_V = version([SWAKS, "--version"], r"(\d{8}\.\d+)")

SERVERS = {
    "postfix-submission": dict(
        port=int(ENV.get("SUBMISSION_PORT", "2587")), tls="starttls",
        offered=["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"],
        recognise=["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"],
        unsupported=["DIGEST-MD5", "XOAUTH2"], swaks=["PLAIN", "LOGIN", "CRAM-MD5"],
        describe=f"Postfix {POSTFIX_V} + Dovecot {DOVECOT_V} SASL (Debian 12), submission: STARTTLS, "
                 f"smtpd_tls_auth_only = yes, AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256",
        config="tests/integration/postfix/{main,master}.cf.in, tests/integration/dovecot/dovecot.conf.in"),
    "postfix-smtps": dict(
        port=int(ENV.get("SMTPS_PORT", "2465")), tls="implicit",
        offered=["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"],
        recognise=["PLAIN", "CRAM-MD5"], unsupported=["DIGEST-MD5"], swaks=["PLAIN"],
        describe=f"Postfix {POSTFIX_V} + Dovecot {DOVECOT_V} SASL (Debian 12), smtps (implicit TLS, "
                 f"smtpd_tls_wrappermode = yes), AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256",
        config="tests/integration/postfix/{main,master}.cf.in, tests/integration/dovecot/dovecot.conf.in"),
    "exim-acs": dict(
        port=int(ENV.get("EXIM_PORT", "2526")), tls="starttls", offered=["LOGIN"],
        recognise=["LOGIN"], unsupported=["PLAIN", "CRAM-MD5"], swaks=["LOGIN"],
        describe=f"Exim {EXIM_V} (Debian 12 exim4-daemon-light) configured like Azure Communication "
                 f"Services: STARTTLS, only AUTH LOGIN and only after TLS, SIZE 31457280",
        config="tests/integration/exim/exim.conf.in"),
}


# ---------------------------------------------------------------------- sanitising
def b64e(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def b64d(text: str) -> str | None:
    try:
        return base64.b64decode(text.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def fixed_secret(secret: str) -> str:
    return {PASSWORD: FIXED_PASSWORD, WRONG: FIXED_WRONG}.get(secret, secret)


def sanitise(lines: list[str]) -> list[str]:
    """Replace the run's credentials with the fixed ones in every form."""
    out = []
    state = None       # what the next client line carries: "login-user", "login-pass", "cram"
    challenge = b""    # the (sanitised) CRAM-MD5 challenge
    raw_challenge = b""
    for line in lines:
        m = re.match(r"^(<[-~])[* ] (.*)$", line)
        if m:  # server line; swaks marks unexpected replies with '*': normalise
            prefix, text = m.group(1), m.group(2)
            rm = re.match(r"^334 (\S*)$", text)
            if rm and state == "cram-wait":
                raw_challenge = base64.b64decode(rm.group(1))
                challenge = re.sub(rb"@[^>]*>$", f"@{CRAM_HOST}>".encode(), raw_challenge)
                text = "334 " + base64.b64encode(challenge).decode()
                state = "cram"
            elif rm and state == "login-wait":
                prompt = b64d(rm.group(1)) or ""
                state = "login-user" if prompt.lower().startswith("user") else \
                        "login-pass" if prompt.lower().startswith("pass") else "login-wait"
            out.append(f"{prefix}  {text}")
            continue
        m = re.match(r"^( [-~]> )(.*)$", line)
        if not m:
            out.append(line)
            continue
        prefix, text = m.group(1), m.group(2)
        if text == "*":  # a cancel carries nothing to sanitise
            state = None
            out.append(prefix + text)
            continue
        am = re.match(r"^AUTH (\S+)(?: (\S+))?$", text, re.I)
        if am:
            mech, ir = am.group(1).upper(), am.group(2)
            state = {"LOGIN": "login-wait", "CRAM-MD5": "cram-wait"}.get(mech)
            if mech == "PLAIN" and ir:
                parts = (b64d(ir) or "").split("\0")
                if len(parts) == 3:
                    ir = b64e("\0".join([FIXED_USER if parts[0] else "", FIXED_USER, fixed_secret(parts[2])]))
                text = f"AUTH PLAIN {ir}"
            elif mech == "LOGIN" and ir:
                text = f"AUTH LOGIN {b64e(FIXED_USER)}"
                state = "login-wait"
        elif state == "login-user":
            text, state = b64e(FIXED_USER), "login-wait"
        elif state == "login-pass":
            text, state = b64e(fixed_secret(b64d(text) or "")), None
        elif state == "cram":
            user_digest = (b64d(text) or "").rsplit(" ", 1)
            secret = PASSWORD
            if len(user_digest) == 2:
                for candidate in (PASSWORD, WRONG):
                    if hmac.new(candidate.encode(), raw_challenge, hashlib.md5).hexdigest() == user_digest[1]:
                        secret = candidate
            digest = hmac.new(fixed_secret(secret).encode(), challenge, hashlib.md5).hexdigest()
            text, state = b64e(f"{FIXED_USER} {digest}"), None
        elif text.upper().startswith(("EHLO", "HELO", "STARTTLS", "QUIT")):
            state = None
        out.append(prefix + text)
    return [l.replace(USER, FIXED_USER) for l in out]


def leaks(text: str) -> list[str]:
    forms = {"user": USER, "password": PASSWORD, "wrong password": WRONG,
             "base64(password)": b64e(PASSWORD), "base64(wrong)": b64e(WRONG),
             "base64(user)": b64e(USER), "host name in a challenge": f"@{HOSTNAME}>"}
    found = [k for k, v in forms.items() if v and v in text]
    for token in re.findall(r"[A-Za-z0-9+/]{12,}={0,2}", text):
        decoded = b64d(token) or ""
        if USER in decoded or PASSWORD in decoded or WRONG in decoded:
            found.append(f"base64 {token[:12]}...")
    return found


# ---------------------------------------------------------------------- sessions
class Timed(Session):
    """Session that notes slow replies as comments (the transcript has no clock)."""

    def reply(self):  # type: ignore[override]
        t0 = time.monotonic()
        r = super().reply()
        took = time.monotonic() - t0
        if took >= 0.5:
            self.transcript.insert(len(self.transcript) - len(r.lines),
                                   f"# the server took {took:.1f} s to send the next reply")
        return r


def open_session(spec: dict) -> Timed:
    s = Timed("127.0.0.1", spec["port"], ca_file=CA_FILE, implicit_tls=spec["tls"] == "implicit")
    s.reply()
    s.ehlo(EHLO_NAME)
    if spec["tls"] == "starttls":
        s.starttls()
        s.ehlo(EHLO_NAME)
    return s


def auth_probe(s: Session, mech: str) -> int:
    r = s.cmd(f"AUTH {mech}")
    if r.code == 334:
        r = s.cmd("*")
    return r.code


EHLO_NAME = "smtpprobe.invalid"  # what smtpprobe (and so the replay harness) sends


def header(name: str, spec: dict, what: str, client: str, auth_before_tls: bool = False) -> list[str]:
    return [
        f"# {name}: {what}",
        f"# mode: {spec['tls']}",
        f"# auth-before-tls: {'yes' if auth_before_tls else 'no'}",
        f"# server: {spec['describe']}",
        f"# config: {spec['config']}",
        f"# client: {client}",
        f"# credentials: replaced by the fixed test credentials (user \"{FIXED_USER}\", password "
        f"\"{FIXED_PASSWORD}\", wrong password \"{FIXED_WRONG}\"); base64 and CRAM-MD5 recomputed",
        "# captured by tests/integration/capture_transcripts.py (run.sh --capture-transcripts); "
        "see tests/integration/QUIRKS.md",
    ]


def python_sessions(name: str, spec: dict) -> dict[str, tuple[str, list[str], bool]]:
    files: dict[str, tuple[str, list[str], bool]] = {}
    client = "tests/integration/smtpclient.py (python3 ssl)"

    if spec["tls"] == "starttls":
        # smtpprobe's first connection: AUTH LOGIN before STARTTLS (AUTH is not offered
        # yet), then STARTTLS and EHLO again.
        s = Timed("127.0.0.1", spec["port"], ca_file=CA_FILE)
        s.reply()
        s.ehlo(EHLO_NAME)
        s.cmd("AUTH LOGIN")
        s.starttls()
        s.ehlo(EHLO_NAME)
        s.quit()
        files["auth-before-tls"] = ("banner, EHLO, AUTH LOGIN before STARTTLS, STARTTLS, EHLO again",
                                    s.transcript, True)
    else:
        s = open_session(spec)
        s.quit()
        files["ehlo"] = ("implicit TLS: TLS handshake, banner, EHLO", s.transcript, False)

    for mech in spec["recognise"]:
        s = open_session(spec)
        auth_probe(s, mech)
        s.quit()
        files[f"recognise-{mech.lower()}"] = (f"AUTH {mech} without credentials, then cancelled with '*'",
                                              s.transcript, False)

    for mech in spec["unsupported"]:
        s = open_session(spec)
        s.cmd(f"AUTH {mech}")
        s.quit()
        files[f"unsupported-{mech.lower()}"] = (f"AUTH {mech}, a mechanism the server does not offer",
                                                s.transcript, False)

    s = open_session(spec)
    s.comment("the whole catalogue, in smtpprobe's order, on ONE connection (what smtpprobe --parallel 1 "
              "would do without reconnecting)")
    try:
        for mech in CATALOGUE:
            if auth_probe(s, mech) == 421:
                break
        s.quit()
    except Dropped as e:
        s.error(f"{e}" + (f"; bytes received outside TLS: {e.raw!r}" if e.raw else ""))
    files["catalogue-one-connection"] = ("the whole AUTH catalogue on one connection", s.transcript, False)

    if name == "postfix-submission":
        s = open_session(spec)
        s.comment("AUTH DIGEST-MD5 repeated until the server gives up (smtpd_soft_error_limit 10: "
                  "1 s sleep per error; smtpd_hard_error_limit 20: 421 and close)")
        try:
            for _ in range(25):
                if s.cmd("AUTH DIGEST-MD5").code == 421:
                    break
        except Dropped as e:
            s.error(str(e))
        files["too-many-errors"] = ("unknown mechanism repeated until Postfix's error limit", s.transcript, False)
    if name == "exim-acs":
        s = open_session(spec)
        s.comment("AUTH LOGIN + '*' repeated until Exim gives up (smtp_accept_max_nonmail 10)")
        try:
            for _ in range(15):
                if auth_probe(s, "LOGIN") == 421:
                    break
        except Dropped as e:
            s.error(f"{e}" + (f"; bytes received outside TLS: {e.raw!r}" if e.raw else ""))
        files["too-many-nonmail"] = ("AUTH LOGIN cancelled repeatedly until Exim's non-mail command limit",
                                     s.transcript, False)
    return {k: (what, header(f"{name}-{k}", spec, what, client, abt) + lines)
            for k, (what, lines, abt) in files.items()}


def swaks_sessions(name: str, spec: dict) -> dict[str, tuple[str, list[str]]]:
    files = {}
    for mech in spec["swaks"]:
        for label, pw in (("accepted", PASSWORD), ("rejected", WRONG)):
            argv = [SWAKS, "--server", f"127.0.0.1:{spec['port']}",
                    "--tls-on-connect" if spec["tls"] == "implicit" else "--tls",
                    "--tls-verify", "--tls-ca-path", CA_FILE, "--ehlo", EHLO_NAME,
                    "--auth", mech, "--auth-user", USER, "--auth-password", pw, "--quit-after", "AUTH",
                    "--timeout", "30"]
            t0 = time.monotonic()
            p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            took = time.monotonic() - t0
            lines = (p.stdout + p.stderr).splitlines()
            what = f"AUTH {mech} with the {'right' if label == 'accepted' else 'wrong'} password"
            client = (f"swaks {SWAKS_V} --auth {mech} --quit-after AUTH "
                      f"(exit {p.returncode}, {took:.1f} s)")
            files[f"auth/{name}-auth-{mech.lower()}-{label}"] = (what, header(f"{name}-auth-{mech.lower()}-{label}", spec,
                                                                  what, client) + lines)
    return files


def main() -> int:
    outdir = sys.argv[1]
    os.makedirs(os.path.join(outdir, "auth"), exist_ok=True)
    written, bad = [], []
    for name, spec in SERVERS.items():
        sessions = {f"{name}-{k}": v for k, v in python_sessions(name, spec).items()}
        sessions.update(swaks_sessions(name, spec))
        for key, (what, lines) in sessions.items():
            text = "\n".join(sanitise(lines)) + "\n"
            found = leaks(text)
            path = os.path.join(outdir, f"{key}.txt")
            if found:
                bad.append(f"{path}: {', '.join(found)}")
                continue
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            written.append((os.path.relpath(path, outdir), what))
    for fname, what in written:
        print(f"wrote {fname}: {what}")
    for b in bad:
        print(f"NOT WRITTEN (credentials left after sanitising): {b}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
