#!/bin/sh
# Regenerates samples/reports/: real outputs of the tool against the built-in emulator, for
# readers of the README and for support staff who want to see a report before running one.
# tests/cli/cli_test.cpp checks that they are still what the tool prints (after masking
# ports, times, dates and fingerprints, which change from run to run).
#   scripts/regen-samples.sh [path/to/smtpprobe]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-build/smtpprobe}
out=samples/reports
mkdir -p "$out"
# --parallel 1 keeps connection order, and so the transcript, the same from run to run.
"$bin" --demo --parallel 1 --color never >"$out/azure-acs.txt" 2>/dev/null
"$bin" --demo --parallel 1 --format json >"$out/azure-acs.json" 2>/dev/null
"$bin" --demo --parallel 1 --format nagios --expect-auth PLAIN >"$out/azure-acs-nagios.txt" 2>/dev/null || true
SMTP_PASSWORD=demo-secret-never-printed "$bin" --demo --parallel 1 \
    --user acs-demo.00000000-0000-0000-0000-000000000001.00000000-0000-0000-0000-000000000002 \
    --password-env SMTP_PASSWORD --transcript-file "$out/azure-acs-login-transcript.txt" \
    --color never >"$out/azure-acs-login.txt" 2>/dev/null
"$bin" --demo --parallel 1 --color never \
    --profile samples/servers/postfix-submission.json >"$out/postfix-submission.txt" 2>/dev/null
echo "regenerated $(ls "$out" | wc -l) files in $out"
