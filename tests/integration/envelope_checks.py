#!/usr/bin/env python3
"""The envelope rows of issue 20: swaks, smtpprobe and the real servers agree.

Invoked by run.sh after test_servers.py and second_opinion.py, with the servers up and
contract 4's variables exported:
  ENVELOPE_PORT        Postfix: smtpd_sender_login_maps + reject_sender_login_mismatch,
                       reject_unauth_destination, message_size_limit (ENVELOPE_SIZE_LIMIT),
                       smtpd_tls_auth_only, LOCAL_DOMAIN delivered into MAILDIR
  EXIM_ENVELOPE_PORT   Exim: after AUTH only OWNED_SENDER (a MAIL ACL)
  BARE_LF_PORT         Postfix with smtpd_forbid_bare_newline = reject
  SUBMISSION_PORT      Postfix without it (what Postfix 3.7 does by default)
  OWNED_SENDER (TEST_USER owns it), FOREIGN_SENDER (another user owns it), LOCAL_RCPT,
  RELAY_RCPT, MAILDIR (LOCAL_RCPT's maildir)

Checks:
  1. swaks --quit-after RCPT on every sender/recipient case of each server: the MAIL FROM and
     RCPT TO replies are the expected ones (the server configuration holds).
  2. smtpprobe --mail-from/--rcpt on the same cases: the same reply codes as swaks on every
     step, the acceptance's names ("sender not owned by this account" with the map to fix,
     relay refused), RSET and QUIT and no DATA after 250/250. Skipped, and said so, while
     the binary has no --mail-from (never counted as passed).
  3. SIZE: MAIL FROM with SIZE over message_size_limit gets 552 5.3.4 (smtplib, the
     reference; swaks cannot send MAIL parameters).
  4. One full send by swaks into MAILDIR, and one by smtpprobe --send (skipped while it has
     no --send): the delivered body equals the one sent, byte for byte, with lines that
     start with a dot (and a line that is a lone dot); smtpprobe's steps (no RSET after the
     message), Postfix's queue id as it read it, the transcript's "WAS SENT" and no body line.
     One smtpprobe --send of its built message to Exim (which blackholes it): Exim's
     "250 OK id=..." queue id.
  5. Bare LF / bare CR: the raw replies of the Postfix with and without
     smtpd_forbid_bare_newline, and smtpprobe --line-endings' classification (skipped while
     it has no --line-endings).
  6. No password (or its base64) in any smtpprobe output.

Prints one line per check and "N passed, M failed, K skipped". Exit status: 0 no check
failed (skips allowed), 1 a check failed. python3 standard library only.
"""

from __future__ import annotations

import concurrent.futures
import glob
import json
import os
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_servers as ts  # noqa: E402  (Run, run_process, check_no_secrets, C)

ENV = os.environ
C = ts.C
USER, PASSWORD = ts.USER, ts.PASSWORD
SMTPPROBE = ts.SMTPPROBE
SWAKS = ENV.get("SWAKS") or "swaks"
CA_FILE = ENV["CA_FILE"]
STATE = ENV["INTEG_STATE"]
OWNED = ENV["OWNED_SENDER"]
FOREIGN = ENV["FOREIGN_SENDER"]
LOCAL_RCPT = ENV["LOCAL_RCPT"]
RELAY_RCPT = ENV["RELAY_RCPT"]
MAILDIR = ENV["MAILDIR"]
SIZE_LIMIT = int(ENV["ENVELOPE_SIZE_LIMIT"])
LOCAL_DOMAIN = ENV["LOCAL_DOMAIN"]
# A sender nobody owns (in no sender_login entry): without AUTH, Postfix lets it through to
# the recipient rules.
NOBODY = "nobody@elsewhere.example"
SKIPPED: list[str] = []


def skip(name: str, why: str) -> None:
    SKIPPED.append(name)
    print(f"skip {name}: skipped: {why}")
    sys.stdout.flush()


@dataclass
class Server:
    name: str
    port: int
    mech: str  # the mechanism swaks and smtpprobe use (after STARTTLS)


POSTFIX = Server("postfix-envelope", int(ENV["ENVELOPE_PORT"]), "PLAIN")
EXIM = Server("exim-envelope", int(ENV["EXIM_ENVELOPE_PORT"]), "LOGIN")


@dataclass
class Case:
    server: Server
    name: str
    auth: bool
    sender: str
    rcpt: str
    mail: int  # the expected MAIL FROM reply code
    rcpt_code: int | None  # the expected RCPT TO reply code (None: not sent, MAIL refused)
    text: str = ""  # a regular expression the refusal's text must match
    # What smtpprobe's envelope section must say about the refusal (regular expressions,
    # case-insensitive, searched in the step's meaning and the findings).
    names: list[str] = field(default_factory=list)


CASES = [
    # Postfix: smtpd_delay_reject = yes (its default) answers MAIL FROM with 250 and gives the
    # sender's refusal at RCPT TO.
    Case(POSTFIX, "owned sender, local recipient, AUTH", True, OWNED, LOCAL_RCPT, 250, 250),
    Case(POSTFIX, "foreign sender, AUTH", True, FOREIGN, LOCAL_RCPT, 250, 553,
         r"^5\.7\.1 <" + re.escape(FOREIGN) + r">: Sender address rejected: not owned by user "
         + re.escape(USER) + "$",
         # The acceptance's "sender not owned by this account": the finding
         # (envelope.sender_not_owned) or the words, and the map to fix.
         [r"sender[ _]not[ _]owned", r"smtpd_sender_login_maps"]),
    Case(POSTFIX, "unlisted sender, AUTH", True, NOBODY, LOCAL_RCPT, 250, 553,
         r"^5\.7\.1 <" + re.escape(NOBODY) + r">: Sender address rejected: not owned by user "
         + re.escape(USER) + "$",
         [r"sender[ _]not[ _]owned"]),
    Case(POSTFIX, "owned sender without AUTH", False, OWNED, LOCAL_RCPT, 250, 553,
         r"^5\.7\.1 <" + re.escape(OWNED) + r">: Sender address rejected: not logged in$"),
    Case(POSTFIX, "relay recipient without AUTH", False, NOBODY, RELAY_RCPT, 250, 554,
         r"^5\.7\.1 <" + re.escape(RELAY_RCPT) + r">: Relay access denied$",
         [r"relay[ _](access[ _])?denied"]),
    Case(POSTFIX, "relay recipient, AUTH", True, OWNED, RELAY_RCPT, 250, 250),
    Case(POSTFIX, "local recipient without AUTH", False, NOBODY, LOCAL_RCPT, 250, 250),
    Case(POSTFIX, "unknown local recipient, AUTH", True, OWNED, "nobody@" + LOCAL_DOMAIN, 250, 550,
         r"^5\.1\.1 <nobody@" + re.escape(LOCAL_DOMAIN)
         + r">: Recipient address rejected: User unknown in virtual mailbox table$"),
    # Exim: the MAIL ACL refuses at MAIL FROM.
    Case(EXIM, "owned sender, AUTH", True, OWNED, LOCAL_RCPT, 250, 250),
    Case(EXIM, "foreign sender, AUTH", True, FOREIGN, LOCAL_RCPT, 550, None,
         r"^5\.7\.1 <" + re.escape(FOREIGN) + r">: sender not allowed for this login$",
         [r"sender"]),
    Case(EXIM, "relay recipient without AUTH", False, NOBODY, RELAY_RCPT, 250, 550,
         r"^5\.7\.1 Relaying denied: authentication required$", [r"relay|authenticat"]),
]


# ---------------------------------------------------------------------- swaks
SENT_RE = re.compile(r"^ ?[~-]> (MAIL FROM|RCPT TO|DATA|RSET|QUIT)\b", re.I)
# swaks: "<-  " / "<~  " a reply, "<** " / "<~* " an error reply (plain / under TLS).
REPLY_RE = re.compile(r"^<[~*-][* ]?\s*(\d{3})([ -])(.*)$")


def swaks_steps(out: str) -> dict[str, tuple[int, str]]:
    """MAIL FROM / RCPT TO / DATA / ... -> (code, text of the last line) from swaks' output."""
    steps: dict[str, tuple[int, str]] = {}
    current = None
    texts: list[str] = []
    for line in out.splitlines():
        m = SENT_RE.match(line)
        if m:
            current, texts = m.group(1).upper(), []
            continue
        r = REPLY_RE.match(line)
        if r and current:
            texts.append(r.group(3))
            if r.group(2) == " ":
                steps[current] = (int(r.group(1)), " ".join(texts))
                current = None
    return steps


def swaks_argv(s: Server, auth: bool, sender: str, rcpt: str) -> list[str]:
    argv = [SWAKS, "--server", f"127.0.0.1:{s.port}", "--ehlo", "probe.integration.test",
            "--from", sender, "--to", rcpt, "--timeout", "30"]
    if auth:
        argv += ["--tls", "--tls-verify", "--tls-ca-path", CA_FILE, "--auth", s.mech,
                 "--auth-user", USER, "--auth-password", PASSWORD]
    return argv


def swaks_case(case: Case) -> ts.Run:
    argv = swaks_argv(case.server, case.auth, case.sender, case.rcpt) + ["--quit-after", "RCPT"]
    return ts.run_process(ts.Run(f"{case.server.name}/swaks {case.name}", argv))


def check_swaks(case: Case, run: ts.Run) -> dict[str, tuple[int, str]]:
    steps = swaks_steps(run.stdout + run.stderr)
    label = f"{case.server.name}: swaks, {case.name}"
    mail = steps.get("MAIL FROM")
    C.check(f"{label}: MAIL FROM gets {case.mail}", bool(mail) and mail[0] == case.mail,
            f"got {mail}; {run.error or run.stderr.strip()[-200:]}")
    refusal = mail
    if case.rcpt_code is None:
        C.check(f"{label}: no RCPT TO after the refused MAIL FROM", "RCPT TO" not in steps,
                f"got {steps.get('RCPT TO')}")
    else:
        rcpt = steps.get("RCPT TO")
        C.check(f"{label}: RCPT TO gets {case.rcpt_code}", bool(rcpt) and rcpt[0] == case.rcpt_code,
                f"got {rcpt}")
        refusal = rcpt
    if case.text:
        C.check(f"{label}: the refusal reads /{case.text}/", bool(refusal) and re.search(case.text, refusal[1]) is not None,
                f"got {refusal}")
    C.check(f"{label}: no DATA", "DATA" not in steps, "swaks sent DATA")
    return steps


# ---------------------------------------------------------------------- smtpprobe
_help_cache: list[str] = []


def smtpprobe_knows(option: str) -> bool:
    if not _help_cache:
        try:
            p = subprocess.run([SMTPPROBE, "--help"], capture_output=True, text=True, timeout=30)
            _help_cache.append(p.stdout + p.stderr)
        except (OSError, subprocess.SubprocessError):
            _help_cache.append("")
    return re.search(r"(^|\s)" + re.escape(option) + r"\b", _help_cache[0]) is not None


def have_binary() -> bool:
    return bool(SMTPPROBE) and os.access(SMTPPROBE, os.X_OK)


def smtpprobe_run(s: Server, label: str, auth: bool, extra: list[str], fmt: str = "json") -> ts.Run:
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    transcript = os.path.join(STATE, f"smtpprobe-{s.name}-envelope-{slug}.transcript.txt")
    argv = [SMTPPROBE, f"127.0.0.1:{s.port}", "--format", fmt, "--tls", "starttls",
            "--ca-file", CA_FILE, "--timeout", "60", "--transcript-file", transcript]
    env_extra = {}
    if auth:
        argv += ["--user", USER, "--password-env", "SMTPPROBE_TEST_SECRET", "--mechanisms", s.mech]
        env_extra["SMTPPROBE_TEST_SECRET"] = PASSWORD
    argv += extra
    run = ts.run_process(ts.Run(f"{s.name}/smtpprobe {label}", argv), env_extra, [transcript])
    return ts.read_json(run) if fmt == "json" else run


def envelope_steps(doc: dict | None) -> list[dict]:
    env = (doc or {}).get("envelope")
    if not isinstance(env, dict):
        return []
    return [st for st in env.get("steps", []) if isinstance(st, dict)]


def step_code(step: dict) -> int | None:
    reply = step.get("reply")
    if isinstance(reply, dict):
        code = reply.get("code")
        return int(code) if isinstance(code, (int, str)) and str(code).isdigit() else None
    return None


def step_kind(step: dict) -> str:
    """JSON envelope.steps[].step: "mail", "rcpt", "rset", "data", "message", "quit"."""
    return str(step.get("step", "")).lower()


def step_named(steps: list[dict], kind: str) -> dict | None:
    return next((st for st in steps if step_kind(st) == kind), None)


def sent(transcript: str, verb: str) -> bool:
    """Whether smtpprobe's transcript ("[  12 ms]  ~> RSET") shows the command sent."""
    return re.search(r"^(\[[^\]]*\])?\s*[~-]> " + verb + r"\b", transcript, re.M) is not None


def check_smtpprobe_case(case: Case, run: ts.Run, swaks: dict[str, tuple[int, str]]) -> None:
    label = f"{case.server.name}: smtpprobe, {case.name}"
    ok = C.check(f"{label}: ran and printed JSON with an envelope section ({run.seconds:.1f} s)",
                 run.doc is not None and bool(envelope_steps(run.doc)),
                 run.error or f"exit {run.rc}; no envelope steps; stderr {run.stderr.strip()[-300:]}")
    ts.check_no_secrets(run, include_user=False)
    if not ok:
        return
    steps = envelope_steps(run.doc)
    mail, rcpt = step_named(steps, "mail"), step_named(steps, "rcpt")
    C.check(f"{label}: MAIL FROM {step_code(mail) if mail else None} = swaks' "
            f"{swaks.get('MAIL FROM', (None,))[0]} = {case.mail}",
            mail is not None and step_code(mail) == case.mail == swaks.get("MAIL FROM", (None,))[0])
    if case.rcpt_code is not None:
        C.check(f"{label}: RCPT TO {step_code(rcpt) if rcpt else None} = swaks' "
                f"{swaks.get('RCPT TO', (None,))[0]} = {case.rcpt_code}",
                rcpt is not None and step_code(rcpt) == case.rcpt_code == swaks.get("RCPT TO", (None,))[0])
    else:
        C.check(f"{label}: no RCPT TO after the refused MAIL FROM (or a step with no reply)",
                rcpt is None or step_code(rcpt) is None, f"got {rcpt}")
    kinds = [step_kind(st) for st in steps]
    C.check(f"{label}: no DATA step without --send", "data" not in kinds and "message" not in kinds,
            f"steps {kinds}")
    transcript = next(iter(run.extra_files.values()), "")
    C.check(f"{label}: the transcript has no DATA command",
            bool(transcript) and not sent(transcript, "DATA"))
    if case.mail == 250 and case.rcpt_code == 250:
        C.check(f"{label}: the envelope ends with RSET and QUIT",
                "rset" in kinds and sent(transcript, "RSET") and sent(transcript, "QUIT")
                and sent(transcript, "MAIL FROM"), f"steps {kinds}")
        C.check(f"{label}: exit 0 (everything accepted)", run.rc == 0, f"exit {run.rc}")
    else:
        C.check(f"{label}: exit 1 (a refused sender or recipient is an error finding)", run.rc == 1,
                f"exit {run.rc}")
    if case.names:
        refused = mail if case.mail != 250 else rcpt
        said = json.dumps(refused or {}) + json.dumps(run.doc.get("findings", []))
        for pattern in case.names:
            C.check(f"{label}: names it /{pattern}/", re.search(pattern, said, re.I) is not None,
                    f"step {refused}")


# ---------------------------------------------------------------------- SIZE (reference)
def check_size() -> None:
    label = f"{POSTFIX.name}: MAIL FROM SIZE={SIZE_LIMIT + 1} (smtplib)"
    try:
        with smtplib.SMTP("127.0.0.1", POSTFIX.port, timeout=30) as smtp:
            smtp.ehlo("probe.integration.test")
            smtp.starttls(context=ssl.create_default_context(cafile=CA_FILE))
            smtp.ehlo("probe.integration.test")
            advertised = smtp.esmtp_features.get("size", "")
            smtp.login(USER, PASSWORD)
            code, text = smtp.mail(OWNED, options=[f"SIZE={SIZE_LIMIT + 1}"])
            ok_code, _ = smtp.rset()
            smtp.mail(OWNED, options=[f"SIZE={SIZE_LIMIT}"])
            at_limit = smtp.rcpt(LOCAL_RCPT)[0]
            smtp.rset()
    except (OSError, smtplib.SMTPException) as e:
        C.check(label, False, repr(e))
        return
    C.check(f"{POSTFIX.name}: SIZE {SIZE_LIMIT} advertised", advertised == str(SIZE_LIMIT), advertised)
    text = text.decode(errors="replace")
    C.check(f"{label}: 552 5.3.4 Message size exceeds fixed limit",
            code == 552 and text == "5.3.4 Message size exceeds fixed limit", f"{code} {text}")
    C.check(f"{POSTFIX.name}: MAIL FROM SIZE={SIZE_LIMIT} and RCPT TO accepted", at_limit == 250, str(at_limit))


# ---------------------------------------------------------------------- one delivery
def maildir_files() -> set[str]:
    return set(glob.glob(os.path.join(MAILDIR, "new", "*")) + glob.glob(os.path.join(MAILDIR, "cur", "*")))


BODY_LINES = [
    "A test message of the smtpprobe integration suite (envelope_checks.py).",
    ".A line that starts with a dot.",
    "..Two dots.",
    ".",
    "The line above is a lone dot; the next one is empty.",
    "",
    "Last line.",
]


def message(token: str, sender: str, final_crlf: bool = True) -> bytes:
    """The message as a file. swaks --data ends what it reads with CRLF "." CRLF, even when
    it ends in CRLF already (an empty last line then arrives): its file has no final CRLF."""
    head = [f"From: <{sender}>", f"To: <{LOCAL_RCPT}>", f"Subject: envelope_checks {token}",
            f"Message-ID: <{token}@integration.test>", "Date: Sun, 06 Dec 2026 00:00:00 +0000"]
    return ("\r\n".join(head + [""] + BODY_LINES) + ("\r\n" if final_crlf else "")).encode()


def delivered(token: str, before: set[str], timeout: float = 20.0) -> bytes | None:
    """The one new maildir message whose Message-ID is token's (virtual(8) writes LF)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(maildir_files() - before):
            with open(path, "rb") as fh:
                data = fh.read()
            if f"<{token}@integration.test>".encode() in data:
                return data
        time.sleep(0.2)
    return None


def check_delivery(who: str, token: str, data: bytes | None) -> None:
    label = f"{POSTFIX.name}: {who} full send into MAILDIR"
    if not C.check(f"{label}: one message with Message-ID <{token}@integration.test> delivered",
                   data is not None, f"nothing new in {MAILDIR}/new within 20 s"):
        return
    body = data.split(b"\n\n", 1)[1] if b"\n\n" in data else b""
    want = ("\n".join(BODY_LINES) + "\n").encode()
    C.check(f"{label}: the body is the one sent, byte for byte (dot lines included)", body == want,
            f"got {body!r}, want {want!r}")


def swaks_send() -> None:
    token = "swaks-" + os.urandom(6).hex()
    path = os.path.join(STATE, f"envelope-{token}.eml")
    with open(path, "wb") as fh:
        fh.write(message(token, OWNED, final_crlf=False))
    before = maildir_files()
    argv = swaks_argv(POSTFIX, True, OWNED, LOCAL_RCPT) + ["--data", "@" + path]
    run = ts.run_process(ts.Run(f"{POSTFIX.name}/swaks full send", argv))
    steps = swaks_steps(run.stdout + run.stderr)
    final = steps.get("DATA")
    C.check(f"{POSTFIX.name}: swaks full send: MAIL, RCPT 250, DATA 354",
            steps.get("MAIL FROM", (0,))[0] == 250 and steps.get("RCPT TO", (0,))[0] == 250
            and bool(final) and final[0] == 354, f"{steps}; {run.stderr.strip()[-200:]}")
    # The reply after the message: swaks prints it after " ~> ." (the end of data).
    m = re.search(r"^ ?[~-]> \.\s*\n<[~-][* ]{0,2}\s*(\d{3}) (.*)$", run.stdout + run.stderr, re.M)
    C.check(f"{POSTFIX.name}: swaks full send: 250 with a queue id after the message",
            bool(m) and m.group(1) == "250" and "queued as" in m.group(2), m.group(0) if m else "no final reply")
    check_delivery("swaks", token, delivered(token, before))


def smtpprobe_send() -> None:
    name = f"{POSTFIX.name}: smtpprobe --send"
    if not have_binary():
        skip(name, "no smtpprobe binary")
        return
    for option in ("--send", "--data-file", "--mail-from"):
        if not smtpprobe_knows(option):
            skip(name, f"smtpprobe has no {option} yet")
            return
    token = "smtpprobe-" + os.urandom(6).hex()
    path = os.path.join(STATE, f"envelope-{token}.eml")
    with open(path, "wb") as fh:
        fh.write(message(token, OWNED))
    before = maildir_files()
    run = smtpprobe_run(POSTFIX, "send", True, ["--mail-from", OWNED, "--rcpt", LOCAL_RCPT, "--send",
                                                "--data-file", path])
    ts.check_no_secrets(run, include_user=False)
    env = (run.doc or {}).get("envelope") or {}
    C.check(f"{name}: the report says a message was sent, with the queue id",
            env.get("message_sent") is True and bool(env.get("queue_id")), f"envelope {env}")
    check_sent_steps(name, env, run, r"^Ok: queued as (?P<id>[0-9A-Za-z]{6,})$")
    C.check(f"{name}: the message went to {LOCAL_RCPT}", env.get("recipients") == [LOCAL_RCPT],
            f"recipients {env.get('recipients')}")
    check_delivery("smtpprobe --send", token, delivered(token, before))


def check_sent_steps(name: str, env: dict, run: ts.Run, final: str) -> None:
    """MAIL, RCPT, DATA 354, the message 250 with the server's queue id as smtpprobe read it,
    then QUIT without RSET; the transcript marks the sending and holds no line of the body."""
    steps = [st for st in env.get("steps", []) if isinstance(st, dict)]
    kinds = [step_kind(st) for st in steps]
    C.check(f"{name}: MAIL, RCPT, DATA, message, QUIT (no RSET after a sent message)",
            kinds == ["mail", "rcpt", "data", "message", "quit"], f"steps {kinds}")
    message = step_named(steps, "message") or {}
    reply = message.get("reply") or {}
    text = " ".join(reply.get("lines") or []) if isinstance(reply, dict) else ""
    text = re.sub(r"^\d\.\d{1,3}\.\d{1,3} ", "", text)
    m = re.match(final, text)
    C.check(f"{name}: 250 after the message, its queue id read as the server words it",
            step_code(message) == 250 and bool(m) and m.group("id") == env.get("queue_id"),
            f"reply {reply}, queue_id {env.get('queue_id')!r}")
    C.check(f"{name}: exit 0", run.rc == 0, f"exit {run.rc}")
    transcript = "".join(run.extra_files.values())
    C.check(f"{name}: the transcript says a message WAS SENT, and not what it said",
            "--send: a test message WAS SENT to" in transcript
            and "A line that starts with a dot" not in transcript
            and "This is a test message from smtpprobe" not in transcript,
            transcript[-300:])


def smtpprobe_send_exim() -> None:
    """A message smtpprobe builds, to Exim's envelope port (its router blackholes what it
    accepts): Exim's queue id read from "250 OK id=..."."""
    name = f"{EXIM.name}: smtpprobe --send (built message)"
    if not have_binary() or not smtpprobe_knows("--send"):
        skip(name, "smtpprobe has no --send yet" if have_binary() else "no smtpprobe binary")
        return
    run = smtpprobe_run(EXIM, "send", True, ["--mail-from", OWNED, "--rcpt", LOCAL_RCPT, "--send"])
    ts.check_no_secrets(run, include_user=False)
    env = (run.doc or {}).get("envelope") or {}
    C.check(f"{name}: the report says a message was sent, built by smtpprobe",
            env.get("message_sent") is True and env.get("message_built") is True, f"envelope {env}")
    # Exim 4.96's message id: base-62 time, pid, fraction (6-6-2; 4.97 made it 6-11-4).
    check_sent_steps(name, env, run, r"^OK id=(?P<id>[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})$")


# ---------------------------------------------------------------------- bare LF / bare CR
def raw_line_ending(port: int, ending: bytes) -> str:
    """EHLO, then NOOP ending in `ending`: the reply line, "closed", or "no reply" (3 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rb")

        def reply() -> str:
            while True:
                line = f.readline()
                if not line:
                    return "closed"
                if line[3:4] != b"-":
                    return line.decode(errors="replace").rstrip("\r\n")
        reply()
        s.sendall(b"EHLO probe.integration.test\r\n")
        reply()
        s.sendall(b"NOOP" + ending)
        s.settimeout(3)
        try:
            return reply()
        except socket.timeout:
            return "no reply"


def check_line_endings() -> None:
    bare_lf, plain = int(ENV["BARE_LF_PORT"]), int(ENV["SUBMISSION_PORT"])
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        got = {(p, e): pool.submit(raw_line_ending, p, e) for p in (bare_lf, plain) for e in (b"\n", b"\r")}
        got = {k: f.result() for k, f in got.items()}
    C.check("postfix-barelf (smtpd_forbid_bare_newline = reject): NOOP<LF> gets 550 5.5.2 Error: bare <LF> received",
            re.fullmatch(r"550 5\.5\.2 \S+ Error: bare <LF> received", got[(bare_lf, b"\n")]) is not None,
            got[(bare_lf, b"\n")])
    C.check("postfix-submission (smtpd_forbid_bare_newline = no): NOOP<LF> is a command (250)",
            got[(plain, b"\n")].startswith("250 "), got[(plain, b"\n")])
    for p, name in ((bare_lf, "postfix-barelf"), (plain, "postfix-submission")):
        C.check(f"{name}: NOOP<CR> is no line end (no reply in 3 s)", got[(p, b"\r")] == "no reply",
                got[(p, b"\r")])
    name = "smtpprobe --line-endings"
    if not have_binary() or not smtpprobe_knows("--line-endings"):
        skip(name, "smtpprobe has no --line-endings yet")
        return
    for port, server, want in ((bare_lf, "postfix-barelf", r"reject"), (plain, "postfix-submission", r"line.?end")):
        run = smtpprobe_run(Server(server, port, "PLAIN"), "line-endings", False, ["--line-endings"])
        ts.check_no_secrets(run, include_user=False)
        doc = run.doc or {}
        found = (doc.get("server") or {}).get("line_endings") or doc.get("line_endings")
        said = json.dumps(found) if found else ""
        C.check(f"{server}: {name} classifies the bare LF as /{want}/ (JSON server.line_endings)",
                bool(said) and re.search(want, said, re.I) is not None,
                run.error or said[:400])


# ---------------------------------------------------------------------- is TLS mandatory?
@dataclass
class Gate:
    server: Server
    plain_mail: int  # MAIL FROM before STARTTLS (swaks without --tls)
    finding: str  # smtpprobe's finding for it
    text: str  # what the text report's "MAIL no TLS" line says (a regular expression)


GATES = [
    # Postfix with smtpd_tls_security_level = may: a submission port that takes mail in plaintext.
    Gate(Server("postfix-submission", int(ENV["SUBMISSION_PORT"]), "PLAIN"), 250, "mail.without_tls",
         r"takes mail without TLS"),
    # Postfix with smtpd_tls_security_level = encrypt: 530 5.7.0 before STARTTLS.
    Gate(Server("postfix-encrypt", int(ENV["ENCRYPT_PORT"]), "PLAIN"), 530, "mail.tls_required",
         r"TLS required"),
    # The ACS-shaped Exim (its MAIL ACL refuses plaintext) and the envelope Exim (takes it).
    Gate(Server("exim", int(ENV["EXIM_PORT"]), "LOGIN"), 530, "mail.tls_required", r"TLS required"),
    Gate(EXIM, 250, "mail.without_tls", r"takes mail without TLS"),
]


def swaks_mail(g: Gate, tls: bool) -> ts.Run:
    """swaks --quit-after MAIL, in plaintext (a client that skips STARTTLS) or under TLS."""
    argv = [SWAKS, "--server", f"127.0.0.1:{g.server.port}", "--ehlo", "probe.integration.test",
            "--from", NOBODY, "--to", LOCAL_RCPT, "--timeout", "30", "--quit-after", "MAIL"]
    if tls:
        argv += ["--tls", "--tls-verify", "--tls-ca-path", CA_FILE]
    return ts.run_process(ts.Run(f"{g.server.name}/swaks MAIL {'under TLS' if tls else 'before TLS'}", argv))


def gate_status(doc: dict | None, which: str) -> tuple[str | None, int | None]:
    probe = ((doc or {}).get("server") or {}).get("mail_probe") or {}
    entry = probe.get(which) or {}
    return entry.get("status"), step_code(entry)


def check_gate(g: Gate, plain: ts.Run, under_tls: ts.Run, doc: ts.Run, text: ts.Run,
               nagios: ts.Run) -> None:
    name = g.server.name
    swaks_plain = swaks_steps(plain.stdout + plain.stderr).get("MAIL FROM", (None, ""))
    swaks_tls = swaks_steps(under_tls.stdout + under_tls.stderr).get("MAIL FROM", (None, ""))
    print(f"observed {name}: swaks MAIL FROM before STARTTLS: {swaks_plain[0]} {swaks_plain[1]}; "
          f"under TLS before AUTH: {swaks_tls[0]} {swaks_tls[1]}")
    C.check(f"{name}: swaks MAIL FROM before STARTTLS gets {g.plain_mail}",
            swaks_plain[0] == g.plain_mail, f"{swaks_plain}")
    C.check(f"{name}: swaks MAIL FROM under TLS before AUTH gets 250", swaks_tls[0] == 250, f"{swaks_tls}")
    for run in (doc, text, nagios):
        ts.check_no_secrets(run, include_user=False)
    status, code = gate_status(doc.doc, "without_tls")
    want = "accepted" if g.plain_mail // 100 == 2 else "refused"
    C.check(f"{name}: smtpprobe mail_probe.without_tls {status} {code} = swaks' {swaks_plain[0]} ({want})",
            status == want and code == swaks_plain[0] == g.plain_mail, doc.error or f"{status} {code}")
    status, code = gate_status(doc.doc, "without_auth")
    C.check(f"{name}: smtpprobe mail_probe.without_auth {status} {code} = swaks' {swaks_tls[0]}",
            status == "accepted" and code == swaks_tls[0], doc.error or f"{status} {code}")
    ids = [f.get("id") for f in (doc.doc or {}).get("findings", []) if isinstance(f, dict)]
    C.check(f"{name}: finding {g.finding}", g.finding in ids, f"findings: {ids}")
    line = next((ln for ln in text.stdout.splitlines() if "MAIL no TLS" in ln), "")
    C.check(f"{name}: text report 'MAIL no TLS' says /{g.text}/", re.search(g.text, line) is not None,
            line or text.stdout[-400:])
    mail_tls = next((ln for ln in nagios.stdout.splitlines() if "] mail_tls:" in ln), "")
    want_state = "[OK]" if g.plain_mail // 100 != 2 else "[WARNING]"
    C.check(f"{name}: nagios check mail_tls is {want_state}", mail_tls.startswith(want_state),
            mail_tls or nagios.stdout[-400:])
    # The probe's MAIL FROM:<> went out before STARTTLS, on the first connection.
    transcript = next(iter(doc.extra_files.values()), "")
    before = re.split(r"[~-]> STARTTLS", transcript, maxsplit=1)[0]
    C.check(f"{name}: MAIL FROM:<> sent before STARTTLS (transcript)",
            sent(before, "MAIL FROM") and "MAIL FROM:<>" in before,
            transcript[:600])


def check_gates() -> None:
    if not have_binary():
        skip("is TLS mandatory (smtpprobe)", "no smtpprobe binary")
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [(g, pool.submit(swaks_mail, g, False), pool.submit(swaks_mail, g, True),
                 pool.submit(smtpprobe_run, g.server, "mail probe", False, []),
                 pool.submit(smtpprobe_run, g.server, "mail probe text", False, [], "text"),
                 pool.submit(smtpprobe_run, g.server, "mail probe nagios", False, [], "nagios"))
                for g in GATES]
        for g, *futures in jobs:
            check_gate(g, *(f.result() for f in futures))


# ---------------------------------------------------------------------- main
def main() -> int:
    t0 = time.monotonic()
    envelope = have_binary() and smtpprobe_knows("--mail-from") and smtpprobe_knows("--rcpt")
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        sw = {c.name + c.server.name: pool.submit(swaks_case, c) for c in CASES}
        sp = {}
        if envelope:
            sp = {c.name + c.server.name: pool.submit(smtpprobe_run, c.server, c.name, c.auth,
                                                      ["--mail-from", c.sender, "--rcpt", c.rcpt])
                  for c in CASES}
        size = pool.submit(check_size)
        lines = pool.submit(check_line_endings)
        swaks_results = {k: f.result() for k, f in sw.items()}
        sp_results = {k: f.result() for k, f in sp.items()}
        size.result()
        lines.result()
    for c in CASES:
        steps = check_swaks(c, swaks_results[c.name + c.server.name])
        if envelope:
            check_smtpprobe_case(c, sp_results[c.name + c.server.name], steps)
        else:
            skip(f"{c.server.name}: smtpprobe, {c.name}",
                 "no smtpprobe binary" if not have_binary() else "smtpprobe has no --mail-from yet")
    check_gates()
    swaks_send()
    smtpprobe_send()
    smtpprobe_send_exim()
    print(f"--- envelope checks took {time.monotonic() - t0:.1f} s")
    if C.failures:
        print("failed checks:\n  " + "\n  ".join(C.failures))
    print(f"{C.passed} passed, {C.failed} failed, {len(SKIPPED)} skipped")
    return 1 if C.failed else 0


if __name__ == "__main__":
    sys.exit(main())
