#!/bin/sh
# Builds the Debian package from a configured build directory (cpack -G DEB), shows its
# control fields, runs lintian on it (an error fails), unpacks it with dpkg-deb -x into a
# temporary root and runs that binary: --version, --demo, and --demo with a profile by name.
#   scripts/check-package.sh [BUILD_DIR]      (default build; the .deb goes to BUILD_DIR/package)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
out=$build/package
root=$(mktemp -d /tmp/smtpprobe-deb-root.XXXXXX)
trap 'rm -rf "$root"' EXIT
fail=0

rm -rf "$out"
# What the package holds, and only that (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: cpack builds nothing).
cmake --build "$build" --target smtpprobe smtpprobe_docs >/dev/null
if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" >"$root.cpack.log" 2>&1; then
    cat "$root.cpack.log"
    rm -f "$root.cpack.log"
    exit 1
fi
rm -f "$root.cpack.log"
deb=$(ls "$out"/smtpprobe_*.deb)
echo "package: $deb ($(du -k "$deb" | cut -f1) KiB)"
dpkg-deb --field "$deb" Package Version Architecture Section Maintainer Installed-Size Depends | sed 's/^/  /'
echo "  files: $(dpkg-deb --contents "$deb" | grep -vc '/$')"

echo "lintian $(lintian --version | awk '{print $2}') (an error fails; warnings are listed):"
if lintian --fail-on error --display-info "$deb" >"$root.lintian" 2>&1; then
    lint_rc=0
else
    lint_rc=$?
fi
grep -v 'running with root privileges' "$root.lintian" | sed 's/^/  /' || true
[ -s "$root.lintian" ] || echo "  (no tags)"
rm -f "$root.lintian"
[ "$lint_rc" -eq 0 ] || { echo "lintian found errors (exit $lint_rc)"; fail=1; }

dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/smtpprobe
echo "unpacked into $root:"
"$bin" --version | sed 's/^/  /' || { echo "--version of the unpacked binary failed"; fail=1; }
rc=0
(cd / && "$bin" --demo --color never >"$root.demo" 2>&1) || rc=$?
if [ "$rc" -le 1 ] && grep -q 'AUTH mechanisms' "$root.demo"; then
    echo "  --demo: exit $rc, $(wc -l <"$root.demo") lines, matrix printed"
else
    echo "the unpacked binary's --demo failed (exit $rc):"
    cat "$root.demo"
    fail=1
fi
rc=0
(cd / && "$bin" --demo --profile postfix-submission --color never >"$root.demo" 2>&1) || rc=$?
if [ "$rc" -le 1 ] && grep -q 'AUTH mechanisms' "$root.demo"; then
    echo "  --demo --profile postfix-submission: exit $rc (profile found in the unpacked share/smtpprobe/profiles)"
else
    echo "the unpacked binary's --demo --profile postfix-submission failed (exit $rc):"
    cat "$root.demo"
    fail=1
fi
rm -f "$root.demo"
exit "$fail"
