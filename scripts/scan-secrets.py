#!/usr/bin/env python3
"""Scans every output the tests produced for secrets.

    scripts/scan-secrets.py [--secrets-file FILE] OUTPUT_DIR [OUTPUT_DIR...]

Secrets: the passwords and tokens of every account in samples/servers/*.json, the lines of
tests/test-secrets.txt, and the lines of each --secrets-file (the integration suite writes its
per-run random passwords to one). Forms looked for: the secret itself, its base64, the base64 core it keeps inside any
longer base64 blob (3 alignments), and the base64 of the PLAIN and XOAUTH2 responses that carry
it. Exits 1 on any hit (printing file and form, not the secret), 2 if nothing was scanned.
A self-check plants a secret first and fails if the scan misses it.
"""
import base64
import glob
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def forms(user: str, secret: str):
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
    for path in glob.glob(os.path.join(ROOT, "samples/servers/*.json")):
        with open(path) as f:
            profile = json.load(f)
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
                    if line.strip():
                        pairs.append(("", line.strip()))
    return [(u, s) for (u, s) in pairs if len(s) >= 3]


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
    return files, hits


def main():
    args = sys.argv[1:]
    extra = []
    while len(args) >= 2 and args[0] == "--secrets-file":
        extra.append(args[1])
        args = args[2:]
    dirs = [d for d in args if os.path.isdir(d)]
    pairs = secrets(extra)
    with tempfile.TemporaryDirectory() as planted:
        with open(os.path.join(planted, "planted.txt"), "w") as f:
            f.write("x " + b64(("\0u\0" + pairs[0][1]).encode()) + " y")
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
