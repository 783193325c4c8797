#!/usr/bin/env python3
"""The manual page and the shell completions against the binary's --help.

    check_man.py SMTPPROBE MAN_PAGE BASH_COMPLETION ZSH_COMPLETION

Checks that every long option of `smtpprobe --help`, `smtpprobe emulate --help` and
`smtpprobe exporter --help` is
described in the man page (as a .TP item) and offered by both completions, and that every
option the man page or a completion names is one of them; that `groff -man -ww -z` and
`man --warnings -l` print no warning; and that the page has the sections the issue asks for.
Exit 0 when all hold, 1 with one line per problem otherwise.
"""
import os
import re
import subprocess
import sys

binary, man_page, bash_completion, zsh_completion = sys.argv[1:5]
problems = []


def run(argv, env=None):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)


def help_options(args):
    """Long options of a --help text: the option column of Boost.Program_options' table."""
    out = run([binary, *args, "--help"])
    if out.returncode != 0:
        problems.append(f"{' '.join(args + ['--help'])} exited {out.returncode}")
    found = set()
    for line in out.stdout.splitlines():
        m = re.match(r"^  (?:-\w \[ )?--([a-z0-9][a-z0-9-]*)", line)
        if m:
            found.add(m.group(1))
    if not found:
        problems.append(f"no option found in {' '.join(args + ['--help'])}")
    return found


main_options = help_options([])
emulate_options = help_options(["emulate"])
exporter_options = help_options(["exporter"])
all_options = main_options | emulate_options | exporter_options

# roff writes a hyphen as \- ; the options are then plain --name words.
page = open(man_page, encoding="utf-8").read()
plain = page.replace("\\-", "-")
lines = plain.splitlines()
described = set()  # options that head a .TP item
for i, line in enumerate(lines[:-1]):
    if line.strip() == ".TP":
        described.update(re.findall(r"--([a-z0-9][a-z0-9-]*)", lines[i + 1]))
mentioned = set(re.findall(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)", plain))

for opt in sorted(all_options - described):
    problems.append(f"--{opt} is in --help but not described (.TP) in {man_page}")
for opt in sorted(mentioned - all_options):
    problems.append(f"--{opt} is in {man_page} but in no --help")
for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS",
                "ENVIRONMENT", "FILES", "EXAMPLES"):
    if not re.search(rf"^\.SH {section}$", page, re.M):
        problems.append(f"{man_page} has no section {section}")
for word in ("emulate", "explain", "exporter"):
    if not re.search(rf"^\.B {word}$", page, re.M):
        problems.append(f"{man_page} does not describe the subcommand {word}")
for status in ("0", "1", "2", "64", "70", "130"):
    if not re.search(rf"^\.SH EXIT STATUS$(?:.|\n)*^\.B {status}$", page, re.M):
        problems.append(f"{man_page}: exit status {status} is not described")

for path in (bash_completion, zsh_completion):
    text = open(path, encoding="utf-8").read()
    offered = set(re.findall(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)", text))
    for opt in sorted(all_options - offered):
        problems.append(f"--{opt} is in --help but not in {path}")
    for opt in sorted(offered - all_options):
        problems.append(f"--{opt} is in {path} but in no --help")

groff = run(["groff", "-man", "-ww", "-z", man_page])
if groff.returncode != 0 or groff.stderr.strip():
    problems.append(f"groff -man -ww -z {man_page}: exit {groff.returncode}: {groff.stderr.strip()}")
env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
man = run(["man", "--warnings", "-l", man_page], env=env)
if man.returncode != 0 or man.stderr.strip():
    problems.append(f"man --warnings -l {man_page}: exit {man.returncode}: {man.stderr.strip()}")
elif "SMTPPROBE(1)" not in man.stdout:
    problems.append(f"man -l {man_page} did not render the page")

for p in problems:
    print(p)
print(f"{len(all_options)} long options ({len(main_options)}, {len(emulate_options)} of emulate, "
      f"{len(exporter_options)} of exporter); "
      f"{len(problems)} problem(s)")
sys.exit(1 if problems else 0)
