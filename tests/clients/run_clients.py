#!/usr/bin/python3
"""The real-client suite: real mail libraries against every emulator profile (and, inside
tests/integration/run.sh, against its Postfix + Dovecot and Exim), compared with what
smtpprobe's clients[] predicts for the same server.

    /usr/bin/python3 tests/clients/run_clients.py --smtpprobe BIN --targets BIN \
        --work DIR --output DIR [--real] [--clients go-plain,python,...]

For every target: smtpprobe --format json gives the predictions. Every client variant then
tries to authenticate (with the target's right credentials) and send one message; each client
is one process that iterates over all targets. What was sent is read on the wire, never taken
from the client: the emulator's own log of received lines (client_targets) and, for the real
servers, a recording proxy that terminates TLS with the servers' own test certificate. Each
attempt sends a unique EHLO name, which ties the wire lines to it.

Compared, per client and target: the outcome of AUTH (works / fails), the mechanism sent last,
and the error (the prediction's `error` must occur in the client's own error text). MAIL, RCPT
and DATA are recorded apart and not compared. Prints a table and "N agree, M disagree"; writes
results.json to --output. Exit 0 when everything agrees, 1 on a disagreement, 77 when a client
runtime is missing (outside CI), 2 when the harness fails.

--real reads the integration suite's environment (run.sh exports it): SUBMISSION_PORT,
SMTPS_PORT, EXIM_PORT, CA_FILE, INTEG_STATE (for the server certificate), TEST_USER,
TEST_PASSWORD, and OAUTH_USER and OAUTH_TOKEN_VALID (Dovecot's oauth2 passdb) when set.

The OAuth variants (TOKEN_VARIANTS) authenticate with a token instead of a password. They run
against the targets that hold a token account (an emulator profile's first "token" account,
the real Postfix + Dovecot with OAUTH_TOKEN_VALID), and, as the case without OAuth, against
the postfix-submission profile and the real Exim with a dummy token (the prediction then
says "fails" and names the library's own error). Their predictions come from a run of
smtpprobe with that user and token (--oauth-token-env) and no password.
"""
import argparse
import concurrent.futures
import glob
import hashlib
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"  # Debian's: its smtplib is the one checked
PHPMAILER = "/usr/share/php/libphp-phpmailer/autoload.php"
JAKARTA_JARS = ["/usr/share/java/jakarta-mail.jar", "/usr/share/java/jakarta-activation.jar"]
FROM = "sender@clients.test"
# For profiles without an account (their AUTH fails anyway): listed in tests/test-secrets.txt.
DUMMY_USER, DUMMY_PASSWORD = "clients-test-user", "clients-test-password-not-real"
# For the OAuth variants where a target holds no token account: listed there too.
DUMMY_TOKEN = "clients-test-token-not-real"
# The profiles without OAuth that the OAuth variants also run against, with DUMMY_TOKEN.
OAUTH_CONTRAST_PROFILES = {"postfix-submission"}
TO = "rcpt@clients.test"

# Client variants: the key, the clients[] name of the prediction it checks, the runtime.
VARIANTS = [
    ("go-plain", "Go net/smtp (PlainAuth)", "go"),
    ("go-login", "Go net/smtp (LOGIN smtp.Auth)", "go"),
    ("python", "Python smtplib (login())", "python"),
    ("node-default", "Nodemailer", "node"),
    ("node-plain", "Nodemailer (authMethod PLAIN)", "node"),
    ("php", "PHPMailer", "php"),
    ("ruby", "Ruby net-smtp (default :plain)", "ruby"),
    ("curl-default", "libcurl", "curl"),
    ("curl-plain", "libcurl (AUTH=PLAIN)", "curl"),
    ("curl-login", "libcurl (AUTH=LOGIN)", "curl"),
    ("jakarta", "Jakarta Mail", "java"),
    ("go-xoauth2", "Go net/smtp (XOAUTH2 smtp.Auth)", "go"),
    ("python-xoauth2", "Python smtplib (auth() XOAUTH2)", "python"),
    ("node-oauth2", "Nodemailer (OAuth2 accessToken)", "node"),
    ("php-xoauth2", "PHPMailer (AuthType XOAUTH2)", "php"),
    ("curl-bearer", "libcurl (--oauth2-bearer)", "curl"),
    ("jakarta-xoauth2", "Jakarta Mail (auth.mechanisms XOAUTH2)", "java"),
]
# The variants that authenticate with the target's token (run only where target["oauth"]).
TOKEN_VARIANTS = {"go-xoauth2", "python-xoauth2", "node-oauth2", "php-xoauth2", "curl-bearer",
                  "jakarta-xoauth2"}
VERBS = {"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "QUIT", "RSET", "NOOP", "BDAT"}


def say(text):
    print(text, flush=True)


class HarnessError(Exception):
    pass


# ------------------------------------------------------------------ runtimes and builds
def runtime_problems():
    need = {
        "go": ["go"], "python": [PYTHON], "node": ["node", "npm"], "php": ["php"],
        "ruby": ["ruby"], "curl": ["curl"], "java": ["java", "javac"],
    }
    missing = {}
    for runtime, tools in need.items():
        for tool in tools:
            if shutil.which(tool) is None:
                missing[runtime] = tool
    if not os.path.exists(PHPMAILER):
        missing["php"] = "libphp-phpmailer"
    for jar in JAKARTA_JARS:
        if not os.path.exists(jar):
            missing["java"] = "libjakarta-mail-java"
    return missing


def newer(target, *sources):
    return os.path.exists(target) and all(os.path.getmtime(target) >= os.path.getmtime(s) for s in sources)


def build(work):
    """Builds the Go client, installs Nodemailer (npm ci) and compiles the Java client, each
    only when its inputs changed. Returns the commands to run each runtime's client."""
    t0 = time.monotonic()
    env = dict(os.environ, GOPROXY="off", GOFLAGS="", GOCACHE=os.path.join(work, "go-cache"),
               GOPATH=os.path.join(work, "go-path"), CGO_ENABLED="0")
    go_src = os.path.join(HERE, "go", "main.go")
    go_bin = os.path.join(work, "go-client")
    if not newer(go_bin, go_src):
        subprocess.run(["go", "build", "-o", go_bin, go_src], check=True, env=env, cwd=work,
                       timeout=240)
    node_dir = os.path.join(work, "node")
    os.makedirs(node_dir, exist_ok=True)
    lock = os.path.join(HERE, "node", "package-lock.json")
    stamp = os.path.join(node_dir, "node_modules", ".smtpprobe-lock-sha256")
    digest = hashlib.sha256(open(lock, "rb").read()).hexdigest()
    if not os.path.exists(stamp) or open(stamp).read() != digest:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(HERE, "node", name), node_dir)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], check=True,
                       cwd=node_dir, timeout=240, stdout=subprocess.DEVNULL)
        with open(stamp, "w") as f:
            f.write(digest)
    shutil.copy(os.path.join(HERE, "node", "client.js"), node_dir)
    java_dir = os.path.join(work, "java")
    java_src = os.path.join(HERE, "JakartaClient.java")
    classpath = ":".join(JAKARTA_JARS + [java_dir])
    if not newer(os.path.join(java_dir, "JakartaClient.class"), java_src):
        os.makedirs(java_dir, exist_ok=True)
        subprocess.run(["javac", "-nowarn", "-d", java_dir, "-cp", ":".join(JAKARTA_JARS), java_src],
                       check=True, timeout=240)
    hosts = os.path.join(work, "java-hosts")
    say("== clients built in %.1f s" % (time.monotonic() - t0))
    return {
        "go": [go_bin],
        "python": [PYTHON, os.path.join(HERE, "python_client.py")],
        "node": ["node", os.path.join(node_dir, "client.js")],
        "php": ["php", os.path.join(HERE, "php_client.php")],
        "ruby": ["ruby", os.path.join(HERE, "ruby_client.rb")],
        "java": ["java", "-Djdk.net.hosts.file=" + hosts, "-XX:TieredStopAtLevel=1",
                 "-Xshare:auto", "-cp", classpath, "JakartaClient"],
    }, hosts


def versions(node_dir):
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    nodemailer = json.load(open(os.path.join(node_dir, "node_modules", "nodemailer", "package.json")))["version"]
    deb = lambda pkg: out(["dpkg-query", "-W", "-f=${Version}", pkg]) or "?"
    return {
        "go": out(["go", "version"]).split()[2] if out(["go", "version"]) else "?",
        "python": out([PYTHON, "-c", "import platform; print(platform.python_version())"]),
        "node": out(["node", "--version"]),
        "nodemailer": nodemailer,
        "php": out(["php", "-r", "echo PHP_VERSION;"]),
        "phpmailer": out(["php", "-r", "require '%s'; echo PHPMailer\\PHPMailer\\PHPMailer::VERSION;" % PHPMAILER]),
        "ruby": out(["ruby", "-e", "print RUBY_VERSION"]),
        "net-smtp": out(["ruby", "-rnet/smtp", "-e", "print Net::SMTP::VERSION"]),
        "curl": out(["curl", "--version"]).split("\n")[0],
        "java": subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.split("\n")[0],
        "jakarta-mail": deb("libjakarta-mail-java"),
        "libphp-phpmailer": deb("libphp-phpmailer"),
    }


# ------------------------------------------------------------------ wire observation
def parse_wire(lines):
    """'cN: LINE' lines -> {N: [(verb, argument)]}; AUTH keeps only its mechanism, SASL
    responses and message bodies are dropped (they are not commands)."""
    connections = {}
    for entry in lines:
        m = re.match(r"c(\d+): (.*)$", entry, re.S)
        if not m:
            continue
        n, line = int(m.group(1)), m.group(2)
        conn = connections.setdefault(n, [])
        if line.startswith("[discarded after STARTTLS] "):
            conn.append(("DISCARDED", ""))
            continue
        if line.startswith("[TLS handshake failed"):
            conn.append(("TLSFAIL", ""))
            continue
        words = line.split(" ", 2)
        verb = words[0].upper()
        if verb not in VERBS:
            continue
        if verb in ("MAIL", "RCPT") and (len(words) < 2 or ":" not in words[1]):
            continue
        if verb in ("DATA", "QUIT", "RSET", "STARTTLS") and len(words) > 1:
            continue
        arg = words[1] if len(words) > 1 else ""
        if verb == "AUTH":
            arg = arg.upper()
        elif verb not in ("EHLO", "HELO"):
            arg = ""
        conn.append((verb, arg))
    return connections


def observe(connections, tag):
    """What one attempt (its EHLO name) sent over every connection it opened."""
    mine = [cmds for cmds in connections.values() if any(v in ("EHLO", "HELO") and a == tag for v, a in cmds)]
    sent = [c for cmds in mine for c in cmds]
    auth = [a for v, a in sent if v == "AUTH"]
    return {
        "connections": len(mine),
        "commands": [v if not a or v in ("EHLO", "HELO") else v + " " + a for v, a in sent
                     if v not in ("EHLO", "HELO")],
        "starttls": any(v == "STARTTLS" for v, _ in sent),
        "auth_mechanisms": auth,
        "mail": any(v == "MAIL" for v, _ in sent),
        "rcpt": any(v == "RCPT" for v, _ in sent),
        "data": any(v == "DATA" for v, _ in sent),
        "mail_after_auth": any(v == "MAIL" for v, _ in sent[next((i for i, (v, _) in enumerate(sent) if v == "AUTH"), len(sent)):]),
    }


class RecordingProxy:
    """A TLS-terminating SMTP proxy in front of a real server: records the client's command
    lines as 'cN: LINE' (like the emulator), relays everything, and on STARTTLS (220) or from
    the first byte (implicit TLS) speaks TLS on both legs, to the client with the server's own
    test certificate and to the server verifying it against the test CA."""

    def __init__(self, upstream_port, implicit, cert, key, ca):
        self.upstream = ("127.0.0.1", upstream_port)
        self.implicit = implicit
        self.server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_ctx.load_cert_chain(cert, key)
        self.client_ctx = ssl.create_default_context(cafile=ca)
        self.client_ctx.check_hostname = False  # the proxy's own leg; clients verify theirs
        self.lines = []
        self.lock = threading.Lock()
        self.count = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def received(self):
        with self.lock:
            return list(self.lines)

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.count += 1
                n = self.count
            threading.Thread(target=self._serve, args=(conn, n), daemon=True).start()

    def _record(self, n, line):
        with self.lock:
            self.lines.append("c%d: %s" % (n, line[:1000]))

    def _serve(self, client, n):
        deadline = time.monotonic() + 60
        server = None
        try:
            client.settimeout(20)
            server = socket.create_connection(self.upstream, timeout=20)
            if self.implicit:
                server = self.client_ctx.wrap_socket(server, server_hostname="localhost")
                client = self.server_ctx.wrap_socket(client, server_side=True)
            cbuf = b""
            starttls_pending = False
            sbuf = b""
            while time.monotonic() < deadline:
                ready = [s for s in (client, server) if isinstance(s, ssl.SSLSocket) and s.pending()]
                if not ready:
                    ready, _, _ = select.select([client, server], [], [], 1)
                for s in ready:
                    # Non-blocking: a TLS record without application data (a TLS 1.3 session
                    # ticket) must not block the relay until the timeout.
                    s.setblocking(False)
                    try:
                        data = s.recv(65536)
                    except (ssl.SSLWantReadError, BlockingIOError):
                        continue
                    finally:
                        s.settimeout(20)
                    if not data:
                        return
                    if s is client:
                        cbuf += data
                        while b"\n" in cbuf:
                            line, cbuf = cbuf.split(b"\n", 1)
                            text = line.rstrip(b"\r").decode("utf-8", "replace")
                            self._record(n, text)
                            if text.upper() == "STARTTLS":
                                starttls_pending = True
                        server.sendall(data)
                    else:
                        if not starttls_pending:
                            client.sendall(data)
                            continue
                        sbuf += data
                        if not re.search(rb"(^|\n)\d{3} [^\n]*\n", sbuf):
                            continue
                        client.sendall(sbuf)
                        starttls_pending = False
                        if sbuf.startswith(b"220"):
                            server = self.client_ctx.wrap_socket(server, server_hostname="localhost")
                            client = self.server_ctx.wrap_socket(client, server_side=True)
                        sbuf = b""
        except (OSError, ssl.SSLError) as e:
            self._record(n, "[TLS handshake failed: %s]" % type(e).__name__ if isinstance(e, ssl.SSLError) else "[closed]")
        finally:
            for s in (client, server):
                try:
                    if s is not None:
                        s.close()
                except OSError:
                    pass


# ------------------------------------------------------------------ targets and predictions
class Emulators:
    def __init__(self, binary, profiles, ca_dir):
        self.proc = subprocess.Popen([binary, ca_dir] + profiles, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.targets = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise HarnessError("client_targets exited before it was ready")
            if line.strip() == "ready":
                return
            self.targets.append(json.loads(line))
        raise HarnessError("client_targets not ready within 30 s")

    def received(self, name):
        self.proc.stdin.write("received %s\n" % name)
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stop(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def predict(smtpprobe, target, token=False):
    """smtpprobe's clients[] for the target, probed directly (not through a proxy).

    The clients authenticate with the target's account, and so does the prediction: what a
    client does can depend on whether the account works (curl stays with NTLM, which only an
    account NTLM accepts passes). Where smtpprobe keeps the account to itself (a STARTTLS
    injection stops a run with credentials before AUTH), the prediction is the run without."""
    cmd = [smtpprobe, "--format", "json", "--timeout", "40",
           "%s:%d" % (target["connect"], target["probe_port"]), "--ca-file", target["ca"]]
    if target["name"] != target["connect"]:
        cmd += ["--sni", target["name"]]
    if target["tls"] == "implicit":
        cmd += ["--tls", "implicit"]
    # The password and the token go through the environment, never argv.
    env = dict(os.environ, SMTPPROBE_CLIENTS_PASSWORD=target["password"],
               SMTPPROBE_CLIENTS_TOKEN=target.get("token", ""))
    if token:
        account = ["--user", target["token_user"], "--oauth-token-env", "SMTPPROBE_CLIENTS_TOKEN"]
    else:
        account = ["--user", target["user"], "--password-env", "SMTPPROBE_CLIENTS_PASSWORD"]
    report, proc = None, None
    for extra in (account, []):
        proc = subprocess.run(cmd + extra, capture_output=True, text=True, timeout=60, env=env)
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            raise HarnessError("smtpprobe gave no JSON for %s (exit %d): %s" % (target["label"], proc.returncode, proc.stderr[-400:]))
        if report.get("clients"):
            break
    return {c["client"]: c for c in report.get("clients", [])}, report.get("exit_code")


# ------------------------------------------------------------------ running the clients
def run_curl(attempts, variant, msg_file):
    results = []
    for a in attempts:
        scheme = "smtps" if a["tls"] == "implicit" else "smtp"
        cmd = ["curl", "-sS", "--max-time", "20", "-K", "-",
               "--connect-to", "%s:%d:%s:%d" % (a["name"], a["port"], a["connect"], a["port"]),
               "--cacert", a["ca"], "%s://%s:%d/%s" % (scheme, a["name"], a["port"], a["ehlo"]),
               "--mail-from", a["from"], "--mail-rcpt", a["to"], "--upload-file", msg_file]
        if a["tls"] == "starttls":
            cmd.append("--ssl-reqd")
        if variant == "curl-plain":
            cmd += ["--login-options", "AUTH=PLAIN"]
        elif variant == "curl-login":
            cmd += ["--login-options", "AUTH=LOGIN"]
        quote = lambda text: text.replace("\\", "\\\\").replace('"', '\\"')
        if variant == "curl-bearer":
            # --user without a password: with --oauth2-bearer curl asks for none.
            config = 'user = "%s"\noauth2-bearer = "%s"\n' % (quote(a["user"]), quote(a["token"]))
        else:
            config = 'user = "%s:%s"\n' % (quote(a["user"]), quote(a["password"]))
        proc = subprocess.run(cmd, input=config, capture_output=True, text=True, timeout=40)
        err = proc.stderr.strip().replace("curl: ", "", 1) if proc.returncode else ""
        results.append({"id": a["id"], "failed_step": None if proc.returncode == 0 else "?",
                        "error": err, "auth_ok": None, "exit": proc.returncode})
    return results


def run_client(commands, runtime, variant, attempts, work, msg_file):
    if runtime == "curl":
        return run_curl(attempts, variant, msg_file)
    path = os.path.join(work, "attempts-%s.json" % variant)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(attempts, f)
    try:
        proc = subprocess.run(commands[runtime] + [path], capture_output=True, text=True,
                              timeout=30 * len(attempts) + 30)
    finally:
        os.unlink(path)
    results = []
    for line in proc.stdout.splitlines():
        try:
            results.append(json.loads(line))
        except ValueError:
            pass
    if len(results) != len(attempts):
        raise HarnessError("%s: %d results for %d attempts (exit %d): %s" % (
            variant, len(results), len(attempts), proc.returncode, proc.stderr[-600:]))
    return results


# ------------------------------------------------------------------ comparison
# What a verified prediction's checked_against must name, from the versions installed here.
def expected_version(runtime, vers):
    return {
        "go": "Go %s net/smtp" % vers["go"].replace("go", "", 1),
        "python": "Python %s smtplib" % vers["python"],
        "node": "Nodemailer %s" % vers["nodemailer"],
        "php": "PHPMailer %s" % vers["phpmailer"],
        "ruby": "net-smtp %s (Ruby %s)" % (vers["net-smtp"], vers["ruby"]),
        "curl": "curl %s" % vers["curl"].split()[1],
        "java": "Jakarta Mail %s" % vers["jakarta-mail"].split("-")[0],
    }[runtime]


def compare(prediction, obs, version):
    """-> list of disagreements (empty: agrees)."""
    if prediction is None:
        return ["no prediction"]
    problems = []
    if not prediction.get("verified") or version not in prediction.get("checked_against", ""):
        problems.append("checked_against: %r does not name %r" % (prediction.get("checked_against"), version))
    outcome = obs["outcome"]
    if prediction["outcome"] != outcome:
        problems.append("outcome: predicted %s, observed %s" % (prediction["outcome"], outcome))
    mech = obs["auth_mechanisms"][-1] if obs["auth_mechanisms"] else ""
    if prediction.get("mechanism", "") != mech:
        problems.append("mechanism: predicted %r, sent %r" % (prediction.get("mechanism", ""), mech))
    reaches = bool(obs["auth_mechanisms"])
    if "reaches_auth" in prediction and prediction["reaches_auth"] != reaches:
        problems.append("AUTH reached: predicted %s, observed %s" % (prediction["reaches_auth"], reaches))
    error = prediction.get("error", "")
    if outcome == "works":
        if error:
            problems.append("error: predicted %r, but it works" % error)
    elif obs["error"] and not error:
        problems.append("error: none predicted, observed %r" % obs["error"])
    elif not obs["error"] and error:
        problems.append("error: predicted %r, but it reported none" % error)
    elif error not in obs["error"]:
        problems.append("error: predicted %r, observed %r" % (error, obs["error"]))
    return problems


def targets_of(key, targets):
    """The targets a variant runs against: for an OAuth variant those with "oauth", for the
    others all but the "oauth_only" ones (the same server with a refused token)."""
    if key in TOKEN_VARIANTS:
        return [t for t in targets if t["oauth"]]
    return [t for t in targets if not t.get("oauth_only")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smtpprobe", required=True)
    ap.add_argument("--targets", required=True, help="the client_targets binary")
    ap.add_argument("--work", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--clients", default="")
    ap.add_argument("--profiles", default=os.path.join(ROOT, "samples", "servers"))
    args = ap.parse_args()
    args.work = os.path.abspath(args.work)
    args.output = os.path.abspath(args.output)
    t_start = time.monotonic()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.output, exist_ok=True)

    missing = runtime_problems()
    if missing:
        say("SKIP: missing client runtimes: %s (scripts/install-deps.sh, group clients)" %
            ", ".join("%s (%s)" % kv for kv in sorted(missing.items())))
        return 1 if os.environ.get("CI") == "true" else 77
    for binary in (args.smtpprobe, args.targets):
        if not os.access(binary, os.X_OK):
            say("SKIP: %s is not built" % binary)
            return 77
    try:
        commands, hosts_file = build(args.work)
    except (subprocess.SubprocessError, OSError) as e:
        raise HarnessError("building the clients failed (go build, npm ci or javac): %s" % e)
    vers = versions(os.path.join(args.work, "node"))
    say("== versions: " + ", ".join("%s %s" % kv for kv in vers.items()))

    wanted = [v for v in VARIANTS if not args.clients or v[0] in args.clients.split(",")]
    wanted_token = any(v[0] in TOKEN_VARIANTS for v in wanted)
    emulators = None
    proxies = []
    try:
        profiles = sorted(glob.glob(os.path.join(args.profiles, "*.json")))
        emulators = Emulators(args.targets, profiles, os.path.join(args.work, "ca"))
        targets = []
        for t in emulators.targets:
            targets.append(dict(label=t["name"], source="emulator", profile=t["name"], connect="127.0.0.1",
                                port=t["port"], probe_port=t["port"], name=t["hostname"], tls=t["tls"],
                                ca=t["ca"], user=t["user"] or DUMMY_USER,
                                password=t["password"] or DUMMY_PASSWORD,
                                token_user=t["token_user"] or t["user"] or DUMMY_USER,
                                token=t["token"] or DUMMY_TOKEN,
                                oauth=bool(t["token"]) or t["name"] in OAUTH_CONTRAST_PROFILES))
            base = targets[-1]
            if t["tls"] == "none" and t["user"]:
                # The same server named by its address: Go's localhost exemption applies.
                targets.append(dict(base, label=t["name"] + "@127.0.0.1", name="127.0.0.1",
                                    oauth=False))
            if t["token"]:
                # The same server with a token it does not know: its refusal (an error
                # challenge, on the profiles that send one), for the OAuth variants only.
                targets.append(dict(base, label=t["name"] + " (refused token)", token=DUMMY_TOKEN,
                                    oauth_only=True))
        if args.real:
            env = os.environ
            cert = os.path.join(env["INTEG_STATE"], "tls", "server.pem")
            key = os.path.join(env["INTEG_STATE"], "tls", "server.key")
            oauth_token = env.get("OAUTH_TOKEN_VALID", "")
            for label, port, implicit in (("postfix-submission (real)", env["SUBMISSION_PORT"], False),
                                          ("postfix-smtps (real)", env["SMTPS_PORT"], True),
                                          ("exim-acs (real)", env["EXIM_PORT"], False)):
                dovecot = label.startswith("postfix")
                proxy = RecordingProxy(int(port), implicit, cert, key, env["CA_FILE"])
                proxies.append((label, proxy))
                targets.append(dict(label=label, source="proxy", proxy=proxy, connect="127.0.0.1",
                                    port=proxy.port, probe_port=int(port), name="localhost",
                                    tls="implicit" if implicit else "starttls", ca=env["CA_FILE"],
                                    user=env["TEST_USER"], password=env["TEST_PASSWORD"],
                                    token_user=env.get("OAUTH_USER", env["TEST_USER"]),
                                    token=oauth_token if dovecot else DUMMY_TOKEN,
                                    oauth=bool(oauth_token)))
                # Dovecot's refusals of a token (its error challenge, then Postfix's 535).
                refused = {"postfix-submission (real)": "OAUTH_TOKEN_EXPIRED",
                           "postfix-smtps (real)": "OAUTH_TOKEN_REVOKED"}.get(label)
                if oauth_token and refused and env.get(refused):
                    targets.append(dict(targets[-1], label="%s, %s token)" % (
                        label[:-1], refused.split("_")[-1].lower()), token=env[refused], oauth_only=True))
        with open(hosts_file, "w") as f:
            f.write("127.0.0.1 localhost\n")
            for t in targets:
                if t["name"] != t["connect"] and t["name"] != "localhost":
                    f.write("127.0.0.1 %s\n" % t["name"])

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            password_targets = [t for t in targets if not t.get("oauth_only")]
            predictions = dict(zip([t["label"] for t in password_targets],
                                   pool.map(lambda t: predict(args.smtpprobe, t), password_targets)))
            oauth_targets = [t for t in targets if t["oauth"]] if wanted_token else []
            token_predictions = dict(zip([t["label"] for t in oauth_targets],
                                         pool.map(lambda t: predict(args.smtpprobe, t, True), oauth_targets)))
        say("== predictions from smtpprobe for %d targets (%d with a token) in %.1f s" % (
            len(targets), len(token_predictions), time.monotonic() - t0))

        attempts = {}
        n = 0
        for key, _, runtime in wanted:
            attempts[key] = []
            token = key in TOKEN_VARIANTS
            for t in targets_of(key, targets):
                n += 1
                attempts[key].append({"id": "a%d" % n, "variant": key.split("-", 1)[-1], "target": t["label"],
                                      "connect": t["connect"], "port": t["port"], "name": t["name"],
                                      "tls": t["tls"], "ca": t["ca"],
                                      "user": t["token_user"] if token else t["user"],
                                      "password": "" if token else t["password"],
                                      "token": t["token"] if token else "",
                                      "ehlo": "a%d.clients.test" % n, "from": FROM, "to": TO})
        msg_file = os.path.join(args.work, "message.eml")
        with open(msg_file, "w") as f:
            f.write("Subject: smtpprobe client test\r\n\r\nTest.\r\n")
        t0 = time.monotonic()
        timings = {}

        def one(variant):
            key, _, runtime = variant
            start = time.monotonic()
            res = run_client(commands, runtime, key, attempts[key], args.work, msg_file)
            timings[key] = round(time.monotonic() - start, 1)
            return key, res

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = dict(pool.map(one, wanted))
        say("== %d attempts by %d client variants in %.1f s (%s)" % (
            n, len(wanted), time.monotonic() - t0, ", ".join("%s %.1f s" % kv for kv in timings.items())))

        wires = {}
        for t in targets:
            if t["source"] == "emulator":
                if t["profile"] not in wires:
                    wires[t["profile"]] = parse_wire(emulators.received(t["profile"]))
            else:
                wires[t["label"]] = parse_wire(t["proxy"].received())
    finally:
        if emulators:
            emulators.stop()
        for _, proxy in proxies:
            proxy.stop()

    rows = []
    for key, client_name, runtime in wanted:
        by_id = {r["id"]: r for r in results[key]}
        for a, t in zip(attempts[key], targets_of(key, targets)):
            r = by_id[a["id"]]
            wire = wires[t["profile"] if t["source"] == "emulator" else t["label"]]
            obs = observe(wire, a["ehlo"])
            if runtime == "curl":
                auth_ok = bool(obs["auth_mechanisms"]) and (obs["mail_after_auth"] or r.get("exit") == 0)
            else:
                auth_ok = bool(r["auth_ok"]) and bool(obs["auth_mechanisms"])
            # A client that sent no AUTH and still went on to MAIL skipped authentication without
            # an error: what failed later belongs to MAIL/RCPT/DATA, not to AUTH.
            skipped_auth = not obs["auth_mechanisms"] and obs["mail"]
            auth_error = "" if auth_ok or skipped_auth else r["error"]
            obs.update(outcome="works" if auth_ok else "fails", error=auth_error,
                       post_auth_error="" if auth_error else r["error"],
                       failed_step=r.get("failed_step"))
            preds, _ = (token_predictions if key in TOKEN_VARIANTS else predictions)[t["label"]]
            prediction = preds.get(client_name)
            problems = compare(prediction, obs, expected_version(runtime, vers))
            rows.append({"target": t["label"], "client": client_name, "variant": key,
                         "prediction": prediction and {k: prediction.get(k) for k in
                                                       ("outcome", "mechanism", "error", "reaches_auth",
                                                        "verified", "checked_against")},
                         "observed": obs, "agrees": not problems, "problems": problems})

    # The table: one line per target and client.
    say("")
    say("%-28s %-30s %-26s %-26s %s" % ("target", "client", "predicted", "observed (wire)", ""))
    for row in rows:
        p = row["prediction"] or {}
        o = row["observed"]
        mech = o["auth_mechanisms"][-1] if o["auth_mechanisms"] else "-"
        say("%-28s %-30s %-26s %-26s %s" % (
            row["target"][:28], row["client"][:30],
            "%s %s" % (p.get("outcome", "?"), p.get("mechanism") or "-"),
            "%s %s" % (o["outcome"], mech), "agree" if row["agrees"] else "DISAGREE"))
        if o["error"] or not row["agrees"]:
            say("    error: %s" % (o["error"] or "-"))
            say("    named: %s" % (p.get("error") or "-"))
        if o["post_auth_error"]:
            say("    MAIL/RCPT/DATA (not compared): %s" % o["post_auth_error"])
        for problem in row["problems"]:
            say("    !! %s" % problem)
    agree = sum(1 for r in rows if r["agrees"])
    disagree = len(rows) - agree
    no_prediction = sum(1 for r in rows if r["prediction"] is None)
    elapsed = time.monotonic() - t_start
    say("")
    say("%d agree, %d disagree (%d without a prediction); %d targets x %d client variants "
        "(the OAuth ones on %d); %.1f s" % (agree, disagree, no_prediction, len(targets), len(wanted),
                                            len([t for t in targets if t["oauth"]]), elapsed))
    unverified = sorted({c["client"] for preds, _ in list(predictions.values()) + list(token_predictions.values())
                         for c in preds.values() if not c.get("verified")})
    say("not run here, predictions from documentation (\"verified\": false): %s" % ", ".join(unverified))
    with open(os.path.join(args.output, "results%s.json" % ("-real" if args.real else "")), "w") as f:
        json.dump({"versions": vers, "agree": agree, "disagree": disagree, "seconds": round(elapsed, 1),
                   "timings": timings, "rows": rows}, f, indent=1)
    return 0 if disagree == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except HarnessError as e:
        print("run_clients: %s" % e, file=sys.stderr)
        sys.exit(2)
