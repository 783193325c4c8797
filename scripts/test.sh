#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: installs every dependency
# (apt-get, non-interactive), builds with warnings on, runs the unit, engine and replay
# tests, then starts Postfix + Dovecot and Exim on 127.0.0.1 and runs the integration suite
# against them (they are stopped at the end, also on failure), and with them up the real-client
# suite (tests/clients: real mail libraries against every emulator profile and those servers),
# then the exporter with a real Prometheus (tests/exporter/run.sh), then the secret scan over
# every output.
#   scripts/test.sh
set -eu
cd "$(dirname "$0")/.."
start=$(date +%s)

echo "== install dependencies"
scripts/install-deps.sh

echo "== build"
scripts/build.sh

echo "== format check (clang-format, if installed)"
if command -v clang-format >/dev/null 2>&1; then
    files=$(git ls-files 'src/*.cpp' 'src/*.hpp' 'probes/*.cpp' 'probes/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 2>/dev/null || true)
    if [ -n "$files" ]; then
        # shellcheck disable=SC2086
        clang-format --dry-run --Werror $files
    fi
fi
python3 scripts/gen-status-registry.py --check

echo "== unit, engine and replay tests"
rm -rf build/test-outputs
(cd build && ctest --output-on-failure -j2 -LE 'integration|clients')

echo "== the same tests again under AddressSanitizer + UndefinedBehaviorSanitizer"
if [ "${SMTPPROBE_SKIP_SANITIZE:-0}" != 1 ]; then
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON -DSMTPPROBE_SANITIZE=ON >/dev/null
    cmake --build build-asan -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
    (cd build-asan && ctest --output-on-failure -j2 -LE 'integration|clients')
fi

echo "== integration tests and the real-client suite against real servers on 127.0.0.1"
status=0
rm -rf build/integration-outputs
clients="/usr/bin/python3 tests/clients/run_clients.py --real --smtpprobe build/smtpprobe"
clients="$clients --targets build/tests/clients/client_targets --work build/clients"
clients="$clients --output build/integration-outputs/clients"
SMTPPROBE="$PWD/build/smtpprobe" SMTPPROBE_TEST_OUTPUT_DIR="$PWD/build/integration-outputs" \
    SMTPPROBE_SECRETS_FILE="$PWD/build/integration-secrets.txt" \
    tests/integration/run.sh --with "$clients" || status=$?
if [ "$status" -eq 77 ]; then
    if [ "${CI:-}" = true ]; then
        echo "integration suite skipped, which CI does not allow (see its output above)"
        exit 1
    fi
    echo "integration suite skipped (see above); not a failure outside CI"
    echo "== the real-client suite against the emulator profiles only"
    status=0
    (cd build && ctest --output-on-failure -L clients) || status=$?
fi
echo "== exporter end to end: real Prometheus, promtool, systemd-analyze (tests/exporter/run.sh)"
exporter_status=0
SMTPPROBE="$PWD/build/smtpprobe" SMTPPROBE_TEST_OUTPUT_DIR="$PWD/build/test-outputs" \
    EXPORTER_PORT_BASE="${EXPORTER_PORT_BASE:-7500}" tests/exporter/run.sh || exporter_status=$?
if [ "$exporter_status" -eq 77 ] && [ "${CI:-}" = true ]; then
    echo "exporter suite skipped, which CI does not allow"
    status=1
elif [ "$exporter_status" -ne 0 ] && [ "$exporter_status" -ne 77 ]; then
    status=1
fi
echo "== proxies: microsocks and tinyproxy on 127.0.0.1 (tests/proxy/run.sh)"
proxy_status=0
SMTPPROBE="$PWD/build/smtpprobe" SMTPPROBE_TEST_OUTPUT_DIR="$PWD/build/test-outputs" \
    tests/proxy/run.sh || proxy_status=$?
if [ "$proxy_status" -eq 77 ] && [ "${CI:-}" != true ]; then
    echo "proxy suite skipped (see above); not a failure outside CI"
elif [ "$proxy_status" -ne 0 ]; then
    status=1
fi
echo "== secret scan over every output the tests produced"
python3 scripts/scan-secrets.py --secrets-file build/integration-secrets.txt \
    build/test-outputs build/integration-outputs || status=1

echo "== done in $(( $(date +%s) - start )) s"
exit "$status"
