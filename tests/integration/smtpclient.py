"""A small SMTP client for the integration suite (python3 standard library only).

It is *not* a second implementation of smtpprobe: it exists to
  - record real-server exchanges in swaks' transcript notation
    (capture_transcripts.py), and
  - run reference SCRAM exchanges (swaks cannot do SCRAM), so that a SCRAM
    failure in smtpprobe can be told apart from a server misconfiguration.

Transcript notation (swaks, and smtpprobe's --transcript / samples/ fixtures):
    '=== ' info, '*** ' error, ' -> ' sent, '<-  ' received, ' ~> ' / '<~  '
    the same under TLS, '# ' comment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import time
from dataclasses import dataclass, field


@dataclass
class Reply:
    code: int
    lines: list[str]  # full lines as received, without CRLF

    @property
    def text(self) -> str:
        return "\n".join(line[4:] for line in self.lines)

    @property
    def last_text(self) -> str:
        return self.lines[-1][4:] if self.lines else ""


class Dropped(Exception):
    """The server closed the connection (or TLS broke) while we waited for a reply."""

    def __init__(self, message: str, raw: bytes = b""):
        super().__init__(message)
        self.raw = raw


@dataclass
class Session:
    host: str
    port: int
    ca_file: str | None = None
    implicit_tls: bool = False
    timeout: float = 30.0
    transcript: list[str] = field(default_factory=list)
    tls: bool = False

    def __post_init__(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.buf = b""
        self.info(f"Connected to {self.host}:{self.port}")
        if self.implicit_tls:
            self.start_tls()

    # -- transcript -------------------------------------------------------
    def info(self, text: str) -> None:
        self.transcript.append(f"=== {text}")

    def error(self, text: str) -> None:
        self.transcript.append(f"*** {text}")

    def comment(self, text: str) -> None:
        self.transcript.append(f"# {text}")

    def _sent(self, line: str, shown: str | None) -> None:
        self.transcript.append((" ~> " if self.tls else " -> ") + (line if shown is None else shown))

    def _received(self, line: str) -> None:
        self.transcript.append(("<~  " if self.tls else "<-  ") + line)

    # -- wire -------------------------------------------------------------
    # TLS runs over memory BIOs so that bytes the server writes *outside* TLS
    # on a TLS connection (Exim does, when it drops a session) can be shown.
    def start_tls(self) -> None:
        ctx = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl._create_unverified_context()
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._ssl = ctx.wrap_bio(self._in, self._out, server_hostname="localhost")
        self.buf = b""
        while True:
            try:
                self._ssl.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(65536)
                if not data:
                    raise Dropped("connection closed during the TLS handshake")
                self._in.write(data)
        self._flush()
        self.tls = True
        self.info(f"TLS started: {self._ssl.version()} {self._ssl.cipher()[0]}"
                  + (", certificate verified" if self.ca_file else ", certificate not verified"))

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self.sock.sendall(data)

    def _write(self, data: bytes) -> None:
        if self.tls:
            self._ssl.write(data)
            self._flush()
        else:
            self.sock.sendall(data)

    def _recv(self) -> bytes:
        if not self.tls:
            return self.sock.recv(4096)
        raw = b""
        while True:
            try:
                return self._ssl.read(65536)
            except ssl.SSLWantReadError:
                data = self.sock.recv(65536)
                if not data:
                    return b""
                raw += data
                self._in.write(data)
            except ssl.SSLZeroReturnError:
                return b""
            except ssl.SSLError as e:
                raise Dropped(f"TLS error ({e.reason or e})", raw) from e

    def send(self, line: str, shown: str | None = None) -> None:
        self._sent(line, shown)
        try:
            self._write(line.encode() + b"\r\n")
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Dropped(f"connection reset while sending: {e}") from e

    def _readline(self) -> bytes:
        while b"\n" not in self.buf:
            try:
                chunk = self._recv()
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Dropped(f"connection reset: {e}") from e
            if not chunk:
                raise Dropped("connection closed by server")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def reply(self) -> Reply:
        lines: list[str] = []
        while True:
            raw = self._readline().decode("utf-8", "replace")
            self._received(raw)
            lines.append(raw)
            if len(raw) < 4 or raw[3] != "-":
                return Reply(int(raw[:3]), lines)

    def cmd(self, line: str, shown: str | None = None) -> Reply:
        self.send(line, shown)
        return self.reply()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- SMTP steps -------------------------------------------------------
    def ehlo(self, name: str = "probe.integration.test") -> Reply:
        return self.cmd(f"EHLO {name}")

    def starttls(self) -> Reply:
        r = self.cmd("STARTTLS")
        if r.code == 220:
            self.start_tls()
        return r

    def quit(self) -> None:
        try:
            self.cmd("QUIT")
        except (Dropped, OSError):
            pass
        self.close()
        self.info("Connection closed")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def cram_md5_response(user: str, password: str, challenge_b64: str) -> str:
    challenge = base64.b64decode(challenge_b64)
    digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
    return b64(f"{user} {digest}".encode())


def scram(session: Session, mech: str, user: str, password: str) -> tuple[Reply, float]:
    """SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding.
    Returns the final reply and the time from sending the proof to the reply."""
    hname = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}[mech]
    nonce = b64(os.urandom(18))
    name = user.replace("=", "=3D").replace(",", "=2C")
    first_bare = f"n={name},r={nonce}"
    r = session.cmd(f"AUTH {mech}")
    if r.code != 334:
        return r, 0.0
    r = session.cmd(b64(f"n,,{first_bare}".encode()), shown="<client-first-message>")
    if r.code != 334:
        return r, 0.0
    server_first = base64.b64decode(r.last_text).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    salt = base64.b64decode(attrs["s"])
    iterations = int(attrs["i"])
    salted = hashlib.pbkdf2_hmac(hname, password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hname).digest()
    stored_key = hashlib.new(hname, client_key).digest()
    final_wo_proof = f"c=biws,r={attrs['r']}"
    auth_message = f"{first_bare},{server_first},{final_wo_proof}".encode()
    signature = hmac.new(stored_key, auth_message, hname).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    t0 = time.monotonic()
    r = session.cmd(b64(f"{final_wo_proof},p={b64(proof)}".encode()), shown="<client-final-message>")
    elapsed = time.monotonic() - t0
    if r.code == 334:  # server-final-message (v=...); RFC 5802: answer with an empty response
        r = session.cmd("")
    return r, elapsed
