#!/bin/sh
# The main job, from a fresh Debian 12 machine: installs the build dependencies that are
# missing (scripts/install-deps.sh, apt-get, non-interactive; nothing when all are there),
# builds if needed, then runs smtpprobe. With no arguments it runs the offline demo (the
# built-in Azure ACS emulator on loopback):
#   scripts/run.sh                         # == smtpprobe --demo
#   scripts/run.sh smtp.example.com:587    # any smtpprobe arguments
# Setup output goes to stderr, so stdout is smtpprobe's alone (e.g. with --format json).
set -eu
cd "$(dirname "$0")/.."
SMTPPROBE_DEPS_GROUPS=build scripts/install-deps.sh >&2
if [ ! -x build/smtpprobe ] || [ -n "$(find src probes samples/servers CMakeLists.txt cmake -newer build/smtpprobe -print -quit 2>/dev/null)" ]; then
    SMTPPROBE_BUILD_TARGET=smtpprobe scripts/build.sh >&2
fi
if [ $# -eq 0 ]; then
    set -- --demo
fi
exec build/smtpprobe "$@"
