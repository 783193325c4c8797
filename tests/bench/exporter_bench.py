#!/usr/bin/env python3
"""Benchmark of `smtpprobe exporter` (issue 11): 20 emulator targets at a 50 ms round trip,
scraped by 4 concurrent clients for 30 s, against direct CLI probes of the same targets.

    tests/bench/exporter_bench.py [--binary build/smtpprobe] [--seconds 30] [--scrapers 4]
                                  [--targets 20] [--rtt-ms 50] [--port-base 7500]

Prints probes/s, p50/p99 scrape latency, the CLI's p50/p99 (alone, and 4 at once like the
scrapers), the exporter's overhead at p50, its peak RSS (VmHWM) and CPU per probe. Asserts
nothing (a benchmark, not a test). Everything runs on 127.0.0.1; the latency comes from
tests/bench/delay_proxy.py (this kernel has no netem; see tests/bench/README.md). Every
process it starts is stopped on exit, also on Ctrl-C. Ports: BASE+5 exporter, BASE+20..
delay proxies (the targets), BASE+60.. emulators.
"""

import argparse
import http.client
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILES = ["azure-acs", "postfix-submission"]


def wait_port(port, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[k]


def proc_stat(pid):
    """(cpu seconds, VmHWM KiB) of a live process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return cpu, hwm


def cli_probe(binary, ca, port):
    t0 = time.monotonic()
    subprocess.run([binary, "--ca-file", ca, "--format", "json", f"127.0.0.1:{port}"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return time.monotonic() - t0


def cli_concurrent(binary, ca, ports, workers, seconds):
    latencies, lock = [], threading.Lock()
    end = time.monotonic() + seconds

    def work(i):
        n = i
        while time.monotonic() < end:
            took = cli_probe(binary, ca, ports[n % len(ports)])
            with lock:
                latencies.append(took)
            n += workers

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def scrape_loop(port, targets, start, seconds, results, lock, failures):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    end = time.monotonic() + seconds
    n = start
    while time.monotonic() < end:
        target = targets[n % len(targets)]
        n += 1
        t0 = time.monotonic()
        try:
            conn.request("GET", f"/probe?target=127.0.0.1:{target}",
                         headers={"X-Prometheus-Scrape-Timeout-Seconds": "10"})
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                failures.append("connection")
            continue
        took = time.monotonic() - t0
        with lock:
            results.append(took)
            if response.status != 200 or b"smtpprobe_probe_success 1" not in body:
                failures.append(f"HTTP {response.status}")
    conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "smtpprobe"))
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--scrapers", type=int, default=4)
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--rtt-ms", type=float, default=50)
    parser.add_argument("--port-base", type=int, default=7500)
    parser.add_argument("--cli-seconds", type=float, default=20,
                        help="how long the concurrent CLI comparison runs")
    args = parser.parse_args()

    procs = []
    tmp = tempfile.mkdtemp(prefix="smtpprobe-exporter-bench.")

    def stop_all(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["rm", "-rf", tmp])

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        base = args.port_base
        exporter_port = base + 5
        targets = [base + 20 + i for i in range(args.targets)]
        upstreams = [base + 60 + i for i in range(args.targets)]
        ca_bundle = os.path.join(tmp, "ca.pem")
        for i, port in enumerate(upstreams):
            profile = os.path.join(ROOT, "samples", "servers", PROFILES[i % len(PROFILES)] + ".json")
            procs.append(subprocess.Popen(
                [args.binary, "emulate", "--profile", profile, "--listen", f"127.0.0.1:{port}",
                 "--ca-out", os.path.join(tmp, f"ca-{i}.pem")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in upstreams:
            wait_port(port)
        with open(ca_bundle, "w") as out:
            for i in range(args.targets):
                with open(os.path.join(tmp, f"ca-{i}.pem")) as f:
                    out.write(f.read())
        proxy = [sys.executable, os.path.join(ROOT, "tests", "bench", "delay_proxy.py"),
                 "--one-way-ms", str(args.rtt_ms / 2)]
        for t, u in zip(targets, upstreams):
            proxy += ["--listen", f"127.0.0.1:{t}", "--upstream", f"127.0.0.1:{u}"]
        procs.append(subprocess.Popen(proxy, stderr=subprocess.DEVNULL))
        for port in targets:
            wait_port(port)

        config = os.path.join(tmp, "exporter.yml")
        with open(config, "w") as f:
            f.write(f"allow_targets: [\"127.0.0.1:{targets[0]}-{targets[-1]}\"]\n"
                    "max_concurrent_probes: 8\n"
                    f"modules:\n  default:\n    ca_file: {ca_bundle}\n    timeout: 20s\n")
        exporter = subprocess.Popen(
            [args.binary, "exporter", "--listen", f"127.0.0.1:{exporter_port}", "--config", config],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(exporter)
        wait_port(exporter_port)

        print(f"exporter benchmark: {args.targets} emulator targets ({', '.join(PROFILES)}) "
              f"behind the userspace delay proxy at {args.rtt_ms:g} ms RTT (NOT kernel netem), "
              f"{args.scrapers} scrapers for {args.seconds:g} s; binary {args.binary}")

        # Warm-up: one probe per target through each front end.
        for port in targets:
            cli_probe(args.binary, ca_bundle, port)
        conn = http.client.HTTPConnection("127.0.0.1", exporter_port, timeout=30)
        for port in targets:
            conn.request("GET", f"/probe?target=127.0.0.1:{port}")
            conn.getresponse().read()
        conn.close()

        # The CLI, one probe at a time, each target once; then as many at once as scrapers.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        alone = [cli_probe(args.binary, ca_bundle, port) for port in targets]
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)) / len(alone)
        cli_rss = after.ru_maxrss  # KiB, the largest child so far
        together = cli_concurrent(args.binary, ca_bundle, targets, args.scrapers, args.cli_seconds)

        # The exporter under 4 scrapers.
        cpu0, _ = proc_stat(exporter.pid)
        results, failures, lock = [], [], threading.Lock()
        t0 = time.monotonic()
        threads = [threading.Thread(target=scrape_loop,
                                    args=(exporter_port, targets, i * 5, args.seconds, results,
                                          lock, failures))
                   for i in range(args.scrapers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        cpu1, hwm = proc_stat(exporter.pid)
        probes = len(results)

        def row(label, values):
            print(f"  {label:<44} n={len(values):<4} p50 {percentile(values, 50) * 1000:7.1f} ms"
                  f"   p99 {percentile(values, 99) * 1000:7.1f} ms")

        print("latency (wall time of one whole probe: the AUTH matrix of one target)")
        row("CLI `smtpprobe HOST:PORT`, one at a time", alone)
        row(f"CLI, {args.scrapers} at once (the scrapers' load)", together)
        row(f"exporter GET /probe, {args.scrapers} scrapers", results)
        p50 = percentile(results, 50)
        print(f"exporter overhead at p50: {100 * (p50 / percentile(alone, 50) - 1):+.1f}% vs the CLI "
              f"alone, {100 * (p50 / percentile(together, 50) - 1):+.1f}% vs {args.scrapers} CLIs "
              "at once (goal: at most +10%)")
        print(f"throughput: {probes / wall:.2f} probes/s ({probes} probes in {wall:.1f} s, "
              f"{len(failures)} failed{': ' + ', '.join(sorted(set(failures))) if failures else ''})")
        print(f"exporter peak RSS (VmHWM): {hwm / 1024:.1f} MiB (goal: at most 64 MiB); "
              f"one CLI probe's peak RSS: {cli_rss / 1024:.1f} MiB")
        print(f"CPU per probe: exporter {(cpu1 - cpu0) / max(probes, 1) * 1000:.1f} ms, "
              f"CLI {cli_cpu * 1000:.1f} ms (process start, TLS context and CA load included)")
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    finally:
        stop_all()


if __name__ == "__main__":
    main()
