#!/usr/bin/env python3
"""CPU benchmark of the trust store (issue 21): how often one probe opens the system CA
bundle, and what a probe and a batch target cost in CPU with the system store against a
one-certificate --ca-file, beside one `openssl s_client -starttls smtp` session.

    tests/bench/truststore_bench.py [--binary build/smtpprobe] [--binary LABEL=PATH ...]
                                    [--runs 20] [--batch-targets 40] [--jobs 8] [--port 6150]

Every --binary is measured in the same run, its rows interleaved with the others' (so a
before/after comparison sees the same machine load): `--binary before=/tmp/old/smtpprobe
--binary after=build/smtpprobe`. Rows per binary:

  system store       no CA option: OpenSSL's default file and directory (Debian:
                     /etc/ssl/certs/ca-certificates.crt). The emulator's certificate does not
                     verify against it; the store is still read and searched, which is the
                     cost measured here.
  one-cert CA        --ca-file with the emulator's CA (one certificate); the chain verifies.
  system + test CA   no CA option, with SSL_CERT_FILE naming a private copy of the system
                     bundle plus the test CA and SSL_CERT_DIR an empty directory: the
                     realistic store, and a chain that verifies against it.

CPU is user + system time of each child from wait4() (microseconds, not /usr/bin/time's
10 ms steps), the mean over --runs runs. The openssl rows are one s_client session each
(EHLO, AUTH LOGIN, *, QUIT written at once; s_client sends them after the handshake), once
with -CAfile and once with its default store. `strace -f -e trace=openat` (if installed)
counts the bundle's opens per probe, per probe with --tls-versions, per batch target and
over an exporter's scrapes. The exporter rows scrape `smtpprobe exporter` (on PORT+1) with
--scrapes requests to /probe and read its CPU from /proc.
Asserts nothing; not part of ctest. No root, no added latency: one emulator
(`smtpprobe emulate --profile azure-acs`) on 127.0.0.1:PORT, stopped on exit.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from exporter_bench import proc_stat, wait_port  # same directory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MESSAGE = b"EHLO bench\r\nAUTH LOGIN\r\n*\r\nQUIT\r\n"


def run_cpu(argv, env=None, stdin_bytes=None, timeout=120):
    """Runs argv; returns (CPU seconds user+sys of the child, exit status, stdout bytes)."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_bytes else subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.DEVNULL, env=env)
        if stdin_bytes:
            proc.stdin.write(stdin_bytes)
            proc.stdin.close()
        end = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.monotonic() > end:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return usage.ru_utime + usage.ru_stime, proc.returncode, out.read()


def default_bundle():
    """The file OpenSSL reads for the system store, and its real path."""
    out = subprocess.run(["openssl", "version", "-d"], capture_output=True, text=True).stdout
    directory = out.split('"')[1] if '"' in out else "/usr/lib/ssl"
    path = os.environ.get("SSL_CERT_FILE") or os.path.join(directory, "cert.pem")
    return path, os.path.realpath(path)


def count_opens(argv, names, env=None):
    """openat() calls of any path whose base name is in `names`, over the whole process tree."""
    with tempfile.NamedTemporaryFile(mode="r") as trace:
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat", "-o", trace.name] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=120)
        return sum(1 for line in trace if any(f'/{n}"' in line or f'"{n}"' in line for n in names))


def exporter_scrapes(argv, port, target, scrapes, counted=None):
    """Starts `smtpprobe exporter` (argv), scrapes /probe `scrapes` times after one warm-up
    scrape, stops it. Returns its CPU seconds over the timed scrapes (from /proc, 10 ms steps),
    or None when it runs under strace (`counted` = the trace file) and only opens count."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_port(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def scrape():
            conn.request("GET", f"/probe?target={target}")
            body = conn.getresponse().read()
            if b"smtpprobe_probe_success" not in body:
                raise RuntimeError("the exporter's /probe answered without smtpprobe_probe_success")

        scrape()
        before = None if counted else proc_stat(proc.pid)[0]
        for _ in range(scrapes):
            scrape()
        return None if counted else proc_stat(proc.pid)[0] - before
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", action="append", default=[],
                        help="LABEL=PATH or PATH (default build/smtpprobe); repeatable")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--batch-targets", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--batch-runs", type=int, default=3)
    parser.add_argument("--scrapes", type=int, default=20)
    parser.add_argument("--port", type=int, default=6150,
                        help="the emulator's port; the exporter listens on PORT+1")
    args = parser.parse_args()
    if not 1 <= args.runs <= 200:
        sys.exit("--runs: 1 to 200")
    binaries = []
    for spec in args.binary or [os.path.join(ROOT, "build", "smtpprobe")]:
        label, _, path = spec.rpartition("=")
        path = os.path.abspath(path)
        if not os.access(path, os.X_OK):
            sys.exit(f"no executable smtpprobe at {path}")
        binaries.append((label or os.path.relpath(path, ROOT), path))
    for tool in ("openssl",):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} missing (apt-get install {tool})")

    tmp = tempfile.mkdtemp(prefix="smtpprobe-truststore-bench.")
    emulator = None
    try:
        ca = os.path.join(tmp, "ca.pem")
        emulator = subprocess.Popen(
            [binaries[0][1], "emulate", "--profile",
             os.path.join(ROOT, "samples", "servers", "azure-acs.json"),
             "--listen", f"127.0.0.1:{args.port}", "--ca-out", ca],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(args.port)
        target = f"127.0.0.1:{args.port}"
        bundle, bundle_real = default_bundle()
        with open(bundle_real) as f:
            system_pem = f.read()
        system_certs = system_pem.count("BEGIN CERTIFICATE")
        # The realistic store: the system bundle with the test CA added, and an empty
        # directory so that nothing else is found.
        private = os.path.join(tmp, "bundle-plus-test-ca.pem")
        with open(private, "w") as f, open(ca) as c:
            f.write(system_pem + c.read())
        empty_dir = os.path.join(tmp, "empty-cert-dir")
        os.mkdir(empty_dir)
        realistic = dict(os.environ, SSL_CERT_FILE=private, SSL_CERT_DIR=empty_dir)

        print(f"smtpprobe trust store benchmark  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
              f"  {os.cpu_count()} CPUs  load {os.getloadavg()[0]:.2f}")
        print(f"server:   smtpprobe emulate --profile azure-acs on {target} (one-certificate test CA)")
        print(f"stores:   system = {bundle} -> {bundle_real} ({system_certs} certificates); "
              f"one-cert CA = --ca-file ca.pem; system + test CA = SSL_CERT_FILE copy "
              f"({system_certs + 1} certificates), empty SSL_CERT_DIR")
        print("note:     with the system store the emulator's certificate does NOT verify (its CA is "
              "not in it); the store is read and searched all the same")

        # 1. How often the bundle is opened.
        names = {os.path.basename(bundle), os.path.basename(bundle_real)}
        if shutil.which("strace") is None:
            print("opens:    strace missing (apt-get install strace): not counted")
        else:
            targets = os.path.join(tmp, "targets.txt")
            with open(targets, "w") as f:
                f.write("".join(f"{target}\n" for _ in range(args.batch_targets)))
            for label, path in binaries:
                one = count_opens([path, target, "-f", "json"], names)
                versions = count_opens([path, target, "--tls-versions", "-f", "json"], names)
                batch = count_opens([path, "--targets-file", targets, "--jobs", str(args.jobs),
                                     "-f", "ndjson"], names)
                print(f"opens:    {label}: {os.path.basename(bundle_real)} opened {one} time(s) per probe, "
                      f"{versions} with --tls-versions, {batch} for a batch of {args.batch_targets} "
                      f"targets ({batch / args.batch_targets:.3f} per target)")

        # 2. CPU per probe, the rows interleaved run by run.
        rows = []  # (label, argv, env, stdin)
        for label, path in binaries:
            rows.append((f"{label}: system store", [path, target, "-f", "json"], None, None))
            rows.append((f"{label}: one-cert CA", [path, target, "--ca-file", ca, "-f", "json"],
                         None, None))
            rows.append((f"{label}: system + test CA", [path, target, "-f", "json"], realistic,
                         None))
        s_client = ["openssl", "s_client", "-starttls", "smtp", "-connect", target, "-quiet"]
        rows.append(("openssl s_client, -CAfile ca.pem", s_client + ["-CAfile", ca], None, MESSAGE))
        rows.append(("openssl s_client, default store", s_client, None, MESSAGE))
        cpu = {r[0]: [] for r in rows}
        facts = {}
        for label, argv, env, stdin in rows:  # one untimed warm-up each
            run_cpu(argv, env, stdin)
        for _ in range(args.runs):
            for label, argv, env, stdin in rows:
                seconds, status, out = run_cpu(argv, env, stdin)
                cpu[label].append(seconds)
                if stdin is None:
                    try:
                        doc = json.loads(out)
                        tls = doc["server"]["tls"] or {}
                        facts.setdefault(label, []).append((doc["connections"], tls.get("verified")))
                    except (ValueError, KeyError, TypeError):
                        pass
        reference = statistics.mean(cpu["openssl s_client, -CAfile ca.pem"])
        print()
        print(f"CPU per probe (user+sys, mean of {args.runs} runs; ratio to one s_client session with -CAfile)")
        print(f"{'row':44} {'mean ms':>8} {'min ms':>8} {'conns':>5} {'ms/conn':>8} {'verified':>8} {'x s_client':>10}")
        for label, *_ in rows:
            mean = statistics.mean(cpu[label]) * 1000
            seen = facts.get(label, [])
            conns = statistics.mean(c for c, _ in seen) if seen else None
            verified = seen[0][1] if seen and all(v == seen[0][1] for _, v in seen) else None
            per_conn = f"{mean / conns:8.1f}" if conns else f"{'-':>8}"
            print(f"{label:44} {mean:8.1f} {min(cpu[label]) * 1000:8.1f} "
                  f"{'-' if conns is None else f'{conns:.1f}':>5} {per_conn} "
                  f"{'-' if verified is None else str(verified).lower():>8} {mean / 1000 / reference:10.2f}")
        for label, _ in binaries:
            system = statistics.mean(cpu[f"{label}: system store"])
            one = statistics.mean(cpu[f"{label}: one-cert CA"])
            real = statistics.mean(cpu[f"{label}: system + test CA"])
            print(f"headline: {label}: system store / one-cert CA = {system / one:.2f}x "
                  f"({system * 1000:.1f} ms vs {one * 1000:.1f} ms); system + test CA / one-cert CA = "
                  f"{real / one:.2f}x; system store / s_client = {system / reference:.2f}x")

        # 3. A batch of targets, CPU per target.
        targets = os.path.join(tmp, "targets.txt")
        with open(targets, "w") as f:
            f.write("".join(f"{target}\n" for _ in range(args.batch_targets)))
        print()
        print(f"batch: {args.batch_targets} targets, --jobs {args.jobs}, "
              f"CPU per target (mean of {args.batch_runs} runs)")
        batch_rows = []
        for label, path in binaries:
            base = [path, "--targets-file", targets, "--jobs", str(args.jobs), "-f", "ndjson"]
            batch_rows.append((f"{label}: system store", base, None))
            batch_rows.append((f"{label}: one-cert CA", base + ["--ca-file", ca], None))
            batch_rows.append((f"{label}: system + test CA", base, realistic))
        batch_cpu = {r[0]: [] for r in batch_rows}
        sessions = {}
        for _ in range(args.batch_runs):
            for label, argv, env in batch_rows:
                seconds, status, out = run_cpu(argv, env)
                batch_cpu[label].append(seconds)
                sessions[label] = out.count(b'"session_established":true')
        for label, *_ in batch_rows:
            mean = statistics.mean(batch_cpu[label])
            print(f"{label:44} {mean * 1000 / args.batch_targets:8.1f} ms per target "
                  f"({mean:.3f} s in all; {sessions[label]}/{args.batch_targets} with a session)")

        # 4. The exporter: every scrape is a probe in the same process.
        print()
        print(f"exporter: {args.scrapes} scrapes of /probe?target={target} after one warm-up; CPU of the "
              f"exporter process (/proc, 10 ms steps)")
        port = args.port + 1
        for label, path in binaries:
            base = [path, "exporter", "--listen", f"127.0.0.1:{port}", "--allow-target", target]
            for store, extra in (("system store", []), ("one-cert CA", ["--ca-file", ca])):
                seconds = exporter_scrapes(base + extra, port, target, args.scrapes)
                line = f"{label + ': ' + store:44} {seconds * 1000 / args.scrapes:8.1f} ms per scrape"
                if store == "system store" and shutil.which("strace"):
                    with tempfile.NamedTemporaryFile(mode="r") as trace:
                        exporter_scrapes(["strace", "-f", "-qq", "-e", "trace=openat", "-o", trace.name]
                                         + base, port, target, args.scrapes, counted=trace.name)
                        opens = sum(1 for row in trace if any(f'/{n}"' in row for n in names))
                    line += f"; {os.path.basename(bundle_real)} opened {opens} time(s) in {args.scrapes + 1} scrapes"
                print(line)
    finally:
        if emulator is not None:
            os.killpg(emulator.pid, signal.SIGTERM)
            try:
                emulator.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(emulator.pid, signal.SIGKILL)
                emulator.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
