#!/usr/bin/env python3
"""The HTML report's size and cost (issue 22 item 8). Prints figures; asserts nothing.

    tests/bench/html_bench.py [--smtpprobe build/smtpprobe] [--runs 10] [--profile gmail]

1. The page of a full report with credentials: the 14-row matrix, every row tried with the
   profile's account (`--demo --profile P --user U --password-env`), with its transcript
   folded in. Prints its size against the 150 KB budget.
2. The render's CPU against the probe's own: the same run `--runs` times with `--format json`
   and with `--format html` (user + system CPU of the child, getrusage). The HTML run renders
   the page and the transcript besides what the JSON run does; the difference, over the JSON
   run's CPU (the probe with a cheap renderer), is the render's share. Budget: 5 %.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu_of(cmd, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smtpprobe", default=os.path.join(ROOT, "build/smtpprobe"))
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--profile", default="gmail")
    args = ap.parse_args()
    profile = os.path.join(ROOT, "samples/servers", args.profile + ".json")
    with open(profile) as f:
        account = json.load(f)["auth"]["accounts"][0]
    env = dict(os.environ, BENCH_PASSWORD=account.get("password", ""))
    base = [args.smtpprobe, "--demo", "--profile", profile, "--user", account["user"],
            "--password-env", "BENCH_PASSWORD"]
    with tempfile.TemporaryDirectory() as work:
        page = os.path.join(work, "report.html")
        subprocess.run(base + ["--format", "html", "-o", page], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        size = os.path.getsize(page)
        with open(page, encoding="utf-8", errors="replace") as f:
            text = f.read()
        rows = text.count("<tr class=\"")
        print("page: %d matrix rows, %d connections' lanes, %.1f KB (budget 150 KB: %s)"
              % (rows, text.count('<text x="0" y='), size / 1024,
                 "ok" if size <= 150 * 1024 else "OVER"))
        json_cpu = html_cpu = 0.0
        for _ in range(args.runs):  # interleaved, so that the machine's load hits both alike
            json_cpu += cpu_of(base + ["--format", "json", "-o", os.path.join(work, "r.json")], env)
            html_cpu += cpu_of(base + ["--format", "html", "-o", os.path.join(work, "r.html")], env)
    json_cpu /= args.runs
    html_cpu /= args.runs
    share = 100.0 * (html_cpu - json_cpu) / json_cpu if json_cpu > 0 else float("nan")
    print("CPU per run over %d runs: --format json %.1f ms, --format html %.1f ms; the HTML "
          "render costs %.1f ms = %.1f %% of the probe's own CPU (budget 5 %%)"
          % (args.runs, json_cpu * 1000, html_cpu * 1000, (html_cpu - json_cpu) * 1000, share))
    return 0


if __name__ == "__main__":
    sys.exit(main())
