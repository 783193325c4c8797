#!/usr/bin/env python3
"""A second opinion per row: smtpprobe and msmtp (GNU SASL) against the same real servers.

Invoked by run.sh after test_servers.py, with the servers up. Reads every
tests/integration/second_opinion/*.json (one file per area: dovecot.json, exim.json,
gssapi.json, external.json, cyrus.json, ...). Each file is a JSON list of rows:

  {
    "server": "Dovecot (Postfix submission)",   shown in the table
    "port_env": "SUBMISSION_PORT",              environment variable holding the port
    "tls": "starttls",                          or "implicit"
    "mechanisms": ["PLAIN", "LOGIN"],           what this server offers (after TLS)
    "credentials": "password",                  "password" (TEST_USER / TEST_PASSWORD; the
                                                 wrong one is WRONG_PASSWORD), "token"
                                                 (XOAUTH2, OAUTHBEARER: OAUTH_USER and run.sh's
                                                 OAUTH_TOKEN_*; smtpprobe --oauth-token-env,
                                                 msmtp the token as its password), "ticket"
                                                 (GSSAPI, a cache made by kinit),
                                                 "certificate" (EXTERNAL), "none"
    "env": {"KRB5_CONFIG": "${KRB5_CONFIG}"},   optional; values through os.path.expandvars
    "smtpprobe_args": ["--cert", "${CLIENT_CERT}"],    optional, expanded the same way
    "msmtp_args": ["--tls-cert-file=${CLIENT_CERT}"],  optional, expanded the same way
    "msmtp": true,                              or a string: why msmtp cannot do this row,
                                                 or {"MECH": "why", ...} for some mechanisms
    -- optional refinements (wt-opinion) --
    "unoffered": "NTLM",                        the mechanism tried that the server does not
                                                 offer (default: the first of UNOFFERED_CHOICES
                                                 msmtp can do and the row does not list)
    "cases": [                                  further cases, run for every mechanism:
      {"name": "no ticket", "expect": "refused",   accepted | refused | not_supported |
                                                   cannot_try
       "env": {...}, "smtpprobe_args": [...], "msmtp_args": [...],
       "mechanisms": ["GSSAPI"],                   (optional: only these)
       "replace_args": true}                       (optional: the case's smtpprobe_args and
                                                   msmtp_args replace the row's instead of
                                                   following them: another certificate)
    ]
  }

Cases per row and mechanism: "right" (the right credentials -> 235 accepted); for
"password" rows also "wrong password" and "unknown user" (-> 535 refused; a mechanism that
carries no secret, ANONYMOUS, is accepted whatever the password); "token" rows have instead
"valid token" (-> 235 accepted) and "expired token", "revoked token", "other user's token"
(-> 535 refused after the error challenge; smtpprobe's verdict token_refused, its text row
"token refused"); per row once, "unoffered"
(-> mechanism not supported); then the row's "cases". Each case runs smtpprobe
(`--format json --mechanisms MECH`) and msmtp (`--auth=MECH`); the check is that both verdicts
are the expected one, hence agree. smtpprobe's row must also read as a verdict (accepted,
credentials refused, mechanism not supported, or skipped with a reason), never a bare error.

msmtp has no "authenticate only" mode. It is given a recipient with an invalid address
literal (RCPT_REFUSED) that the servers refuse at RCPT TO, after AUTH, so no message is sent.
Its verdict is read from its --debug session (the reply that ends the AUTH exchange; only
reply codes are kept) and checked against its exit code (sysexits.h): EX_NOPERM (77)
authentication failed, EX_UNAVAILABLE (69) the server does not offer the mechanism, EX_DATAERR
(65) / EX_UNAVAILABLE the recipient refused after a successful AUTH. The password reaches
msmtp through --passwordeval reading an environment variable, never argv.

Prints one line per check, the table mechanism x server x {smtpprobe, msmtp}, and
"N passed, M failed". Exit status: 0 all passed, 1 a check failed, 77 msmtp or smtpprobe is
missing. python3 standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sasl_log  # noqa: E402
import test_servers as ts  # noqa: E402  (Run, run_process, check_no_secrets, the checks)

HERE = os.path.dirname(os.path.abspath(__file__))
C = ts.C
USER, PASSWORD, WRONG = ts.USER, ts.PASSWORD, ts.WRONG
UNKNOWN_USER = "nobody-" + os.urandom(4).hex() + "@integration.test"
MSMTP = os.environ.get("MSMTP") or shutil.which("msmtp") or ""
# Refused by every server of the suite at RCPT TO (an address literal that is no IPv4 address),
# so that msmtp, which always sends mail, stops after AUTH with nothing sent.
RCPT_REFUSED = "second-opinion@[999.0.0.1]"
FROM = "second-opinion@integration.test"
# Mechanisms that carry no secret: the password (and the user, a trace) do not matter.
NO_SECRET_MECHS = {"ANONYMOUS"}
# The mechanism tried that the server does not offer: the first of these the row does not list.
UNOFFERED_CHOICES = ["NTLM", "CRAM-MD5", "SCRAM-SHA-256", "PLAIN", "LOGIN", "DIGEST-MD5"]
# Cases at once: the run is made of Dovecot's auth_failure_delay (2 s per failure), so more
# workers than cores pay; 16 stays under Exim's smtp_accept_max (20). 8 took 15 s, 16 take 10 s.
WORKERS = int(os.environ.get("SECOND_OPINION_WORKERS", "16"))
VERDICT_WORDS = {"accepted": "235 accepted", "refused": "refused", "not_supported": "not supported",
                 "cannot_try": "cannot try", "error": "ERROR"}
EX_DATAERR, EX_UNAVAILABLE, EX_NOPERM = 65, 69, 77


def msmtp_mechanisms() -> set[str]:
    """What this msmtp can do ("Supported authentication methods:" of --version)."""
    try:
        out = subprocess.run([MSMTP, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    m = re.search(r"^Supported authentication methods:\s*(.*)$", out, re.M)
    return {w.upper() for w in m.group(1).split()} if m else set()


def msmtp_version() -> str:
    try:
        out = subprocess.run([MSMTP, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "msmtp"
    first = out.splitlines()[0] if out else "msmtp"
    lib = re.search(r"^Authentication library: ([^;\n]*)", out, re.M)
    return first.replace(" version", "") + (f" ({lib.group(1)})" if lib else "")


# ---------------------------------------------------------------------- rows
@dataclass
class Case:
    name: str                 # "right", "wrong password", "unknown user", "unoffered", or a row's own
    mechanism: str
    expect: str               # accepted | refused | not_supported | cannot_try
    user: str | None = None   # password rows: --user / --password-env
    password: str | None = None
    env: dict = field(default_factory=dict)
    smtpprobe_args: list = field(default_factory=list)
    msmtp_args: list = field(default_factory=list)
    replace_args: bool = False  # the case's arguments replace the row's (another certificate)
    token: str | None = None  # token rows: --oauth-token-env (smtpprobe), the password (msmtp)


@dataclass
class Row:
    source: str               # file name
    server: str
    port: int
    tls: str
    mechanisms: list
    credentials: str
    env: dict
    smtpprobe_args: list
    msmtp_args: list
    msmtp_cannot: dict        # mechanism -> why msmtp cannot run it ("*": the whole row)
    unoffered: str | None
    cases: list


def expand(value):
    if isinstance(value, str):
        return os.path.expandvars(value)
    if isinstance(value, list):
        return [expand(v) for v in value]
    if isinstance(value, dict):
        return {k: expand(v) for k, v in value.items()}
    return value


def load_rows(msmtp_can: set[str]) -> tuple[list[Row], list[str]]:
    """Every row of every file; problems (a file that does not load) as a list of words."""
    rows, problems = [], []
    files = sorted(glob.glob(os.path.join(HERE, "second_opinion", "*.json")))
    if not files:
        problems.append("no file in tests/integration/second_opinion/")
    for path in files:
        name = os.path.basename(path)
        try:
            with open(path, encoding="utf-8") as f:
                entries = json.load(f)
            if not isinstance(entries, list):
                raise ValueError("not a JSON list")
            for i, e in enumerate(entries):
                rows.append(parse_row(name, i, e, msmtp_can))
        except (OSError, ValueError, KeyError, TypeError) as e:
            problems.append(f"{name}: {e}")
    return rows, problems


def parse_row(name: str, i: int, e: dict, msmtp_can: set[str]) -> Row:
    where = f"row {i}"
    for key in ("server", "port_env", "tls", "mechanisms", "credentials"):
        if key not in e:
            raise KeyError(f"{where}: missing {key!r}")
    if e["tls"] not in ("starttls", "implicit"):
        raise ValueError(f"{where}: tls must be starttls or implicit, not {e['tls']!r}")
    if e["credentials"] not in ("password", "token", "ticket", "certificate", "none"):
        raise ValueError(f"{where}: unknown credentials {e['credentials']!r}")
    port_text = os.environ.get(e["port_env"], "")
    if not port_text.isdigit():
        raise ValueError(f"{where}: ${e['port_env']} is not set to a port (run.sh must export it)")
    mechs = [m.upper() for m in e["mechanisms"]]
    cannot: dict[str, str] = {}
    m = e.get("msmtp", True)
    if isinstance(m, str):
        cannot["*"] = m
    elif isinstance(m, dict):
        cannot.update({k.upper(): str(v) for k, v in m.items()})
    elif m is not True:
        raise ValueError(f"{where}: msmtp must be true, a string or an object")
    for mech in mechs:
        if mech not in msmtp_can and mech not in cannot:
            cannot[mech] = f"{MSMTP_NAME} has no {mech}"
    unoffered = e.get("unoffered")
    if unoffered is None:
        unoffered = next((c for c in UNOFFERED_CHOICES if c not in mechs and c in msmtp_can), None)
    cases = e.get("cases", [])
    for c in cases:
        if c.get("expect") not in ("accepted", "refused", "not_supported", "cannot_try") or not c.get("name"):
            raise ValueError(f"{where}: a case needs a name and an expect of accepted, refused, "
                             f"not_supported or cannot_try: {c!r}")
    return Row(name, e["server"], int(port_text), e["tls"], mechs, e["credentials"],
               expand(e.get("env", {})), expand(e.get("smtpprobe_args", [])),
               expand(e.get("msmtp_args", [])), cannot, unoffered.upper() if unoffered else None, cases)


# Token rows: case name -> (the token's variable from run.sh, the expected verdict).
TOKEN_CASES = [("valid token", "OAUTH_TOKEN_VALID", "accepted"),
               ("expired token", "OAUTH_TOKEN_EXPIRED", "refused"),
               ("revoked token", "OAUTH_TOKEN_REVOKED", "refused"),
               ("other user's token", "OAUTH_TOKEN_OTHER_USER", "refused")]


def cases_of(row: Row) -> list[Case]:
    out = []
    pw = row.credentials == "password"
    token_user = os.environ.get("OAUTH_USER", USER)
    for mech in row.mechanisms:
        if row.credentials == "token":
            out += [Case(name, mech, expect, token_user, token=os.environ.get(var, ""))
                    for name, var, expect in TOKEN_CASES]
        elif pw:
            refused = "accepted" if mech in NO_SECRET_MECHS else "refused"
            out.append(Case("right", mech, "accepted", USER, PASSWORD))
            out.append(Case("wrong password", mech, refused, USER, WRONG))
            out.append(Case("unknown user", mech, refused, UNKNOWN_USER, PASSWORD))
        else:
            out.append(Case("right", mech, "accepted"))
        for c in row.cases:
            if c.get("mechanisms") and mech not in [m.upper() for m in c["mechanisms"]]:
                continue
            out.append(Case(c["name"], mech, c["expect"], USER if pw else None, PASSWORD if pw else None,
                            expand(c.get("env", {})), expand(c.get("smtpprobe_args", [])),
                            expand(c.get("msmtp_args", [])), bool(c.get("replace_args", False))))
    if row.unoffered and row.credentials == "token":
        out.append(Case("unoffered", row.unoffered, "not_supported", token_user,
                        token=os.environ.get("OAUTH_TOKEN_VALID", "")))
    elif row.unoffered:
        out.append(Case("unoffered", row.unoffered, "not_supported", USER if pw else None,
                        PASSWORD if pw else None))
    return out


# ---------------------------------------------------------------------- smtpprobe
@dataclass
class Verdict:
    verdict: str        # accepted | refused | not_supported | cannot_try | error
    code: str = ""      # the reply code that says it ("235"), or ""
    detail: str = ""


def run_smtpprobe(row: Row, case: Case, fmt: str = "json") -> ts.Run:
    label = re.sub(r"[^A-Za-z0-9]+", "-", f"{row.server}-{case.mechanism}-{case.name}-{fmt}").strip("-")
    transcript = os.path.join(ts.STATE, f"second-opinion-{label}.transcript.txt")
    argv = [ts.SMTPPROBE, f"127.0.0.1:{row.port}", "--format", fmt, "--tls", row.tls,
            "--ca-file", ts.CA_FILE, "--mechanisms", case.mechanism, "--timeout", "30",
            "--transcript-file", transcript]
    env = dict(row.env)
    env.update(case.env)
    if case.token is not None:
        argv += ["--user", case.user or "", "--oauth-token-env", "SMTPPROBE_TEST_TOKEN"]
        env["SMTPPROBE_TEST_TOKEN"] = case.token
    elif case.user is not None:
        argv += ["--user", case.user, "--password-env", "SMTPPROBE_TEST_SECRET"]
        env["SMTPPROBE_TEST_SECRET"] = case.password or ""
    argv += case.smtpprobe_args if case.replace_args else row.smtpprobe_args + case.smtpprobe_args
    return ts.run_report(ts.Run(f"{row.server} {case.mechanism} {case.name} smtpprobe {fmt}", argv),
                         env, [transcript], fmt)


def smtpprobe_verdict(run: ts.Run, mech: str) -> Verdict:
    if run.error or run.doc is None:
        return Verdict("error", detail=run.error or f"rc={run.rc}")
    row = ts.rows_by_name(run.doc).get(mech)
    if row is None:
        return Verdict("error", detail=f"no {mech} row (rc={run.rc}, fatal_error={run.doc.get('fatal_error')!r})")
    auth = row.get("authentication") or {}
    rec = row.get("recognition") or {}
    st = auth.get("status")
    code = str(((auth.get("reply") or {}).get("code")) or ((rec.get("reply") or {}).get("code")) or "")
    detail = f"authentication {st}" + (f" ({auth.get('reason')})" if auth.get("reason") else "") \
        + f", recognition {rec.get('status')}"
    if st == "accepted":
        return Verdict("accepted", code, detail)
    if st in ("rejected", "refused"):
        return Verdict("refused", code, detail)
    if st == "not_supported" or (st == "skipped" and rec.get("status") == "not_supported"):
        return Verdict("not_supported", code, detail)
    if st == "skipped" and auth.get("reason"):
        return Verdict("cannot_try", code, detail)
    return Verdict("error", code, detail)


# ---------------------------------------------------------------------- msmtp
def run_msmtp(row: Row, case: Case) -> ts.Run:
    conf = os.path.join(ts.STATE, "second-opinion-msmtprc")
    argv = [MSMTP, f"--file={conf}", "--debug", "--host=127.0.0.1", f"--port={row.port}",
            "--tls=on", f"--tls-starttls={'on' if row.tls == 'starttls' else 'off'}",
            f"--tls-trust-file={ts.CA_FILE}", "--domain=second-opinion.integration.test",
            f"--auth={case.mechanism.lower()}", "--timeout=30", f"--from={FROM}"]
    env = dict(row.env)
    env.update(case.env)
    if case.user is not None:
        # --passwordeval runs a shell command: the password comes from the environment.
        argv += [f"--user={case.user}", "--passwordeval=printenv MSMTP_TEST_SECRET"]
        # A token row: msmtp takes the token as the password (auth oauthbearer / xoauth2).
        env["MSMTP_TEST_SECRET"] = case.token if case.token is not None else (case.password or "")
    argv += (case.msmtp_args if case.replace_args else row.msmtp_args + case.msmtp_args) + \
        ["--", RCPT_REFUSED]
    env_full = dict(os.environ)
    for k in ("TEST_PASSWORD", "WRONG_PASSWORD"):
        env_full.pop(k, None)
    env_full.update(env)
    run = ts.Run(f"{row.server} {case.mechanism} {case.name} msmtp", argv)
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, input="Subject: second opinion\n\nnever sent\n", capture_output=True,
                           text=True, errors="replace", timeout=ts.PROC_TIMEOUT, env=env_full)
        run.rc, run.stdout, run.stderr = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        run.error = f"timed out after {ts.PROC_TIMEOUT} s"
    run.seconds = time.monotonic() - t0
    return run


def msmtp_verdict(run: ts.Run, mech: str) -> Verdict:
    """From msmtp's --debug session: the reply that ends the AUTH exchange; cross-checked with
    its exit code and message. Only reply codes and msmtp's own messages are quoted."""
    if run.error:
        return Verdict("error", detail=run.error)
    out = run.stdout + "\n" + run.stderr
    lines = out.splitlines()
    msgs = " | ".join(line for line in run.stderr.splitlines() if line.startswith("msmtp:"))[:300]
    auth_at = next((i for i, line in enumerate(lines) if re.match(r"^--> AUTH ", line)), None)
    if auth_at is None:
        if re.search(r"does not support authentication method", out):
            return Verdict("not_supported", detail=f"exit {run.rc}: {msgs}")
        if re.search(r"authentication method \S+ not supported|support for authentication method", out):
            return Verdict("cannot_try", detail=f"exit {run.rc}: {msgs}")
        return Verdict("error", detail=f"no AUTH sent; exit {run.rc}: {msgs}")
    final = None
    for line in lines[auth_at + 1:]:
        m = re.match(r"^<-- (\d{3})[ ]", line)
        if m and m.group(1) != "334":
            final = m.group(1)
            break
    if final is None:
        return Verdict("error", detail=f"no reply ended AUTH; exit {run.rc}: {msgs}")
    detail = f"AUTH ended with {final}; exit {run.rc}: {msgs}"
    if final == "235":
        # Then RCPT TO is refused (no mail is sent): never EX_NOPERM.
        ok = run.rc != EX_NOPERM and re.search(r"recipient address .* not accepted", run.stderr)
        return Verdict("accepted" if ok else "error", final, detail)
    if final == "504":
        return Verdict("not_supported", final, detail)
    if final.startswith("5"):
        ok = run.rc == EX_NOPERM and "authentication failed" in run.stderr
        return Verdict("refused" if ok else "error", final, detail)
    return Verdict("error", final, detail)


# ---------------------------------------------------------------------- main
@dataclass
class Result:
    row: Row
    case: Case
    probe: Verdict
    msmtp: Verdict | None        # None: msmtp cannot do it (row.msmtp_cannot says why)
    probe_run: ts.Run
    msmtp_run: ts.Run | None
    text_run: ts.Run | None = None  # --format text, for some cases


def msmtp_cannot(row: Row, mech: str) -> str | None:
    return row.msmtp_cannot.get("*") or row.msmtp_cannot.get(mech)


# The text report's AUTHENTICATED column for each verdict (src/render/text_matrix.cpp).
TEXT_WORDS = {"accepted": "yes", "refused": "credentials refused", "not_supported": "not supported",
              "cannot_try": "cannot try"}


def wants_text(row: Row, case: Case) -> bool:
    """The text report is checked too for one refusal per row and the unoffered mechanism."""
    return case.name == "unoffered" or (case.name in ("wrong password", "expired token")
                                        and case.mechanism == row.mechanisms[0])


def text_cell(run: ts.Run, mech: str) -> str:
    """The matrix line of `mech` in a text report ("  MECH  ...  WORD  REPLY"), or ""."""
    m = re.search(rf"^  {re.escape(mech)} .*$", run.stdout, re.M)
    return m.group(0) if m else ""


def run_case(row: Row, case: Case) -> Result:
    prun = run_smtpprobe(row, case)
    mrun = None if msmtp_cannot(row, case.mechanism) else run_msmtp(row, case)
    trun = run_smtpprobe(row, case, fmt="text") if wants_text(row, case) else None
    return Result(row, case, smtpprobe_verdict(prun, case.mechanism),
                  msmtp_verdict(mrun, case.mechanism) if mrun else None, prun, mrun, trun)


def cell(v: Verdict | None) -> str:
    if v is None:
        return "-"
    word = VERDICT_WORDS.get(v.verdict, v.verdict)
    if v.verdict in ("refused", "not_supported") and v.code:
        return f"{v.code} {word}"
    return word


def print_table(results: list[Result]) -> None:
    print("--- second opinion: mechanism x server x {smtpprobe, msmtp}")
    headers = ["mechanism", "server", "case", "smtpprobe", "msmtp"]
    body = [[r.case.mechanism, r.row.server, r.case.name, cell(r.probe), cell(r.msmtp)] for r in results]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for b in body:
        print("  ".join(x.ljust(w) for x, w in zip(b, widths)).rstrip())
    notes = sorted({(r.row.server, r.case.mechanism, msmtp_cannot(r.row, r.case.mechanism))
                    for r in results if r.msmtp is None})
    for server, mech, why in notes:
        print(f"msmtp cannot run {mech} on {server}: {why}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="file names (dovecot.json,...) to run")
    args = ap.parse_args()
    t0 = time.monotonic()
    have_probe = bool(ts.SMTPPROBE) and os.access(ts.SMTPPROBE, os.X_OK)
    if not have_probe or not MSMTP:
        print(f"SKIP: {'smtpprobe binary' if not have_probe else 'msmtp'} not found")
        return 77
    msmtp_can = msmtp_mechanisms()
    print(f"--- second opinion: {MSMTP_NAME}; mechanisms {' '.join(sorted(msmtp_can))}")
    with open(os.path.join(ts.STATE, "second-opinion-msmtprc"), "w") as f:
        f.write("# empty: everything on the command line\n")
    os.chmod(os.path.join(ts.STATE, "second-opinion-msmtprc"), 0o600)
    rows, problems = load_rows(msmtp_can)
    for p in problems:
        C.check(f"second-opinion file loads: {p}", False)
    only = set(filter(None, args.only.split(",")))
    rows = [r for r in rows if not only or r.source in only]
    jobs = [(row, case) for row in rows for case in cases_of(row)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(lambda rc: run_case(*rc), jobs))
    # The responses exchanged (DIGEST-MD5, CRAM-MD5, SCRAM proofs), as the servers logged them:
    # secrets too, looked for in every smtpprobe output below.
    exchanged = sasl_log.dovecot_secrets(ts.STATE)
    for what, value in exchanged:
        ts.SECRETS[f"{what} exchanged with Dovecot"] = value
    kinds = sorted({what for what, _ in exchanged})
    C.check(f"Dovecot's debug log gave the exchanged responses as secrets ({len(exchanged)}: "
            f"{', '.join(kinds)})", any(w.startswith("DIGEST-MD5") for w in kinds) or not any(
                "DIGEST-MD5" in r.mechanisms for r in rows if r.source == "dovecot.json"),
            "no DIGEST-MD5 response found in dovecot/auth-debug.log")
    for r in results:
        L = f"{r.row.server}: {r.case.mechanism} {r.case.name}"
        C.check(f"{L}: smtpprobe says {r.case.expect}", r.probe.verdict == r.case.expect,
                f"got {r.probe.verdict} {r.probe.code}: {r.probe.detail}")
        if r.msmtp is not None:
            C.check(f"{L}: msmtp says {r.case.expect} (agrees with smtpprobe)",
                    r.msmtp.verdict == r.case.expect == r.probe.verdict,
                    f"msmtp {r.msmtp.verdict} {r.msmtp.code}: {r.msmtp.detail}; smtpprobe {r.probe.verdict}")
        if r.probe_run.doc is not None:
            want = {"accepted": "accepted", "refused": "credentials_refused",
                    "not_supported": "mechanism_not_supported", "cannot_try": "cannot_try"}[r.case.expect]
            if want == "credentials_refused" and r.case.token is not None:
                want = "token_refused"  # a token refused after it was sent (contract 2, issue 19)
            auth = (ts.rows_by_name(r.probe_run.doc).get(r.case.mechanism) or {}).get("authentication") or {}
            C.check(f"{L}: smtpprobe's JSON row reads verdict {want}", auth.get("verdict") == want,
                    f"verdict={auth.get('verdict')!r} status={auth.get('status')!r} reason={auth.get('reason')!r}")
        ts.check_no_secrets(r.probe_run)
        if r.text_run is not None:
            line = text_cell(r.text_run, r.case.mechanism)
            word = TEXT_WORDS[r.case.expect]
            if r.case.expect == "refused" and r.case.token is not None:
                word = "token refused"
            ok = f" {word} " in line + " "
            if not ok and r.case.expect == "not_supported" and "AUTHENTICATED" not in r.text_run.stdout:
                # Without a password (a ticket row) the matrix has no AUTHENTICATED column: the
                # RECOGNISED column says it ("no").
                word = "no"
                ok = re.search(r"\s no\s", line + " ") is not None
            C.check(f"{L}: smtpprobe's text row reads \"{word}\"", ok,
                    f"rc={r.text_run.rc} line={line!r}")
            ts.check_no_secrets(r.text_run)
    print_table(results)
    agree = sum(1 for r in results if r.msmtp is not None and r.msmtp.verdict == r.probe.verdict)
    compared = sum(1 for r in results if r.msmtp is not None)
    print(f"--- second opinion: {len(results)} cases on {len(rows)} rows, msmtp agrees on "
          f"{agree} of {compared} compared; took {time.monotonic() - t0:.1f} s")
    if C.failures:
        print("failed checks:\n  " + "\n  ".join(C.failures))
    print(f"{C.passed} passed, {C.failed} failed")
    return 1 if C.failed else 0


MSMTP_NAME = msmtp_version() if MSMTP else "msmtp"

if __name__ == "__main__":
    sys.exit(main())
