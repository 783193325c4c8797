#!/bin/sh
# The main job: build if needed, then run smtpprobe. With no arguments it runs the offline
# demo (the built-in Azure ACS emulator on loopback):
#   scripts/run.sh                         # == smtpprobe --demo
#   scripts/run.sh smtp.example.com:587    # any smtpprobe arguments
set -eu
cd "$(dirname "$0")/.."
if [ ! -x build/smtpprobe ] || [ -n "$(find src probes samples/servers CMakeLists.txt -newer build/smtpprobe -print -quit 2>/dev/null)" ]; then
    scripts/build.sh >&2
fi
if [ $# -eq 0 ]; then
    set -- --demo
fi
exec build/smtpprobe "$@"
