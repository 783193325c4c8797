#!/usr/bin/env python3
"""Compares the AUTH matrix of two smtpprobe JSON reports (proxied vs direct).

    compare.py DIRECT.json PROXIED.json

Exits 0 when both established a session and every mechanism row has the same
advertisement, recognition and authentication outcome; prints the differences
and exits 1 otherwise. Timings, ports and addresses are not compared.
"""
import json
import sys


def matrix(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    rows = {}
    for row in doc["mechanisms"]:
        rows[row["name"]] = json.dumps(
            {k: v for k, v in row.items() if k not in ("timings_ms", "ms", "connection")}, sort_keys=True)
    return doc, rows


def main():
    direct_doc, direct = matrix(sys.argv[1])
    proxied_doc, proxied = matrix(sys.argv[2])
    problems = []
    for doc, name in ((direct_doc, sys.argv[1]), (proxied_doc, sys.argv[2])):
        if not doc["session_established"]:
            problems.append(f"{name}: no session: {doc['fatal_error']}")
    if sorted(direct) != sorted(proxied):
        problems.append(f"rows differ: {sorted(direct)} vs {sorted(proxied)}")
    for name in sorted(set(direct) & set(proxied)):
        if direct[name] != proxied[name]:
            problems.append(f"{name}: {direct[name]} vs {proxied[name]}")
    for p in problems:
        print("  " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
