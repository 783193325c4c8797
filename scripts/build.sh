#!/bin/sh
# Configure and build smtpprobe and its tests into build/ (warnings on, RelWithDebInfo).
#   scripts/build.sh [extra cmake -D options]
# SMTPPROBE_BUILD_TARGET="smtpprobe ..." builds only those targets (scripts/run.sh: the demo
# needs no test binaries).
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON "$@" >/dev/null
# shellcheck disable=SC2086 # the targets are words
cmake --build build -j"$jobs" ${SMTPPROBE_BUILD_TARGET:+--target $SMTPPROBE_BUILD_TARGET}
