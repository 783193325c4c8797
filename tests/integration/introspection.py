#!/usr/bin/env python3
"""The integration suite's OAuth 2.0 token endpoint: RFC 7662 introspection for Dovecot.

Dovecot's oauth2 passdb (dovecot/dovecot-oauth2.conf.ext.in) asks this server whether the
bearer token a client sent is active, and whose it is. Two commands:

  introspection.py tokens --out FILE --user U --other-user O --issuer URL
      Makes the run's four test tokens, fresh each run, and writes them (with what each one
      is) to FILE (mode 0600, JSON). Prints shell assignments for run.sh to eval:
      OAUTH_TOKEN_VALID, OAUTH_TOKEN_EXPIRED, OAUTH_TOKEN_OTHER_USER, OAUTH_TOKEN_REVOKED.
      The tokens are JWT-shaped (base64url header.claims.signature; the signature is random
      bytes, nobody checks it): header {"alg": "RS256", "typ": "JWT", "kid"}, claims
      preferred_username and upn (the token's user), sub, aud, iss, azp, scp, iat, nbf, exp
      and a random jti. "valid" is the user's and valid for two hours; "expired" is the
      user's and expired an hour ago; "other-user" is valid but belongs to O; "revoked" is the
      user's, within its validity, and revoked at this server.

  introspection.py serve --port P --tokens FILE --log FILE [--max-seconds N]
      Serves 127.0.0.1:P until SIGTERM/SIGINT or N seconds (default 1800). POST /introspect
      with the form field token=... (Dovecot's introspection_mode = post) and GET /introspect
      with "Authorization: Bearer ..." (introspection_mode = auth) answer RFC 7662 §2.2 JSON:
      {"active": true, "username", "sub", "scope", "client_id", "token_type", "exp", "iat",
      "nbf", "aud", "iss"} for a known token that is within nbf..exp (by the claims, against
      this server's clock) and not revoked, else {"active": false}. Anything else: 404/400.
      One JSON line per request goes to the log file, naming the token by its label
      ("valid", "expired", "other-user", "revoked", "unknown"), never by its value.

Bounded: a request body of at most 16 KiB, 5 s per connection, HTTP/1.0 (one request per
connection), the whole server at most --max-seconds. python3 standard library only.
"""

from __future__ import annotations

import argparse
import base64
import http.server
import json
import os
import secrets
import shlex
import signal
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True

LABELS = {"valid": "OAUTH_TOKEN_VALID", "expired": "OAUTH_TOKEN_EXPIRED",
          "other-user": "OAUTH_TOKEN_OTHER_USER", "revoked": "OAUTH_TOKEN_REVOKED"}
AUDIENCE = "https://mail.integration.test"
CLIENT_ID = "smtpprobe-integration"
SCOPE = "mail.send"
MAX_BODY = 16 * 1024


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: dict) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": "smtpprobe-integration"}
    parts = [b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)]
    # A junk signature of an RS256 signature's size: no one checks it (Dovecot asks this server).
    return ".".join(parts + [b64url(secrets.token_bytes(256))])


def make_tokens(user: str, other_user: str, issuer: str, now: int) -> dict:
    def claims(who: str, iat: int, exp: int) -> dict:
        return {"aud": AUDIENCE, "iss": issuer, "iat": iat, "nbf": iat, "exp": exp,
                "azp": CLIENT_ID, "scp": SCOPE, "sub": "sub-" + secrets.token_hex(8),
                "preferred_username": who, "upn": who, "jti": secrets.token_hex(16)}
    specs = {"valid": (user, now - 60, now + 7200, False),
             "expired": (user, now - 7200, now - 3600, False),
             "other-user": (other_user, now - 60, now + 7200, False),
             "revoked": (user, now - 60, now + 7200, True)}
    out = {}
    for label, (who, iat, exp, revoked) in specs.items():
        c = claims(who, iat, exp)
        out[label] = {"token": jwt(c), "claims": c, "revoked": revoked}
    return out


def cmd_tokens(args: argparse.Namespace) -> int:
    tokens = make_tokens(args.user, args.other_user, args.issuer, int(time.time()))
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(tokens, f)
    for label, var in LABELS.items():
        print(f"{var}={shlex.quote(tokens[label]['token'])}")
    return 0


# ---------------------------------------------------------------------- serve
class Registry:
    def __init__(self, path: str, log_path: str) -> None:
        with open(path, encoding="utf-8") as f:
            self.by_token = {v["token"]: (label, v) for label, v in json.load(f).items()}
        self.log = open(log_path, "a", encoding="utf-8", buffering=1)
        self.lock = threading.Lock()

    def answer(self, token: str) -> tuple[str, dict]:
        label, entry = self.by_token.get(token, ("unknown", None))
        if entry is None:
            return label, {"active": False}
        c = entry["claims"]
        now = time.time()
        if entry["revoked"] or not c["nbf"] <= now < c["exp"]:
            return label, {"active": False}
        return label, {"active": True, "username": c["preferred_username"], "sub": c["sub"],
                       "scope": c["scp"], "client_id": c["azp"], "token_type": "Bearer",
                       "exp": c["exp"], "iat": c["iat"], "nbf": c["nbf"], "aud": c["aud"],
                       "iss": c["iss"]}

    def record(self, **fields) -> None:
        with self.lock:
            self.log.write(json.dumps({"time": round(time.time(), 3), **fields}) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5  # seconds per connection (socket timeout)
    server_version = "smtpprobe-introspection/1"
    registry: Registry

    def log_message(self, format, *args):  # noqa: A002  (BaseHTTPRequestHandler's signature)
        pass  # our own log: record()

    def reply(self, status: int, body: dict, **log) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)
        self.registry.record(method=self.command, path=self.path.split("?")[0], status=status, **log)

    def introspect(self, token: str | None, mode: str) -> None:
        if not token:
            self.reply(400, {"error": "invalid_request"}, mode=mode, token=None)
            return
        label, body = self.registry.answer(token)
        self.reply(200, body, mode=mode, token=label, active=body["active"],
                   username=body.get("username"))

    def do_POST(self) -> None:  # noqa: N802
        if urllib.parse.urlsplit(self.path).path != "/introspect":
            self.reply(404, {"error": "not_found"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.reply(400, {"error": "invalid_request"}, why="body length")
            return
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        self.introspect((form.get("token") or [None])[0], "post")

    def do_GET(self) -> None:  # noqa: N802
        if urllib.parse.urlsplit(self.path).path != "/introspect":
            self.reply(404, {"error": "not_found"})
            return
        auth = self.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        self.introspect(token, "auth")


def cmd_serve(args: argparse.Namespace) -> int:
    Handler.registry = Registry(args.tokens, args.log)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    Handler.registry.record(event="listening", port=args.port)
    done.wait(args.max_seconds)
    server.shutdown()
    server.server_close()
    thread.join(5)
    Handler.registry.record(event="stopped", why="signal" if done.is_set() else "max-seconds")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tokens")
    t.add_argument("--out", required=True)
    t.add_argument("--user", required=True)
    t.add_argument("--other-user", required=True)
    t.add_argument("--issuer", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--tokens", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--max-seconds", type=float, default=1800)
    args = ap.parse_args()
    return cmd_tokens(args) if args.cmd == "tokens" else cmd_serve(args)


if __name__ == "__main__":
    sys.exit(main())
