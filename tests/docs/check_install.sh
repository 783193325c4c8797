#!/bin/bash
# `DESTDIR=... cmake --install BUILD --prefix /usr` into a temporary root, then checks that
# everything is in place and works from there: the binary (--version, --demo with a profile
# by name, emulate with a profile by name), the man page (man -l without warnings), the bash
# completion (profile names and --format values), the zsh completion and the profiles.
#   check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
dest=$(mktemp -d /tmp/smtpprobe-install-test.XXXXXX)
emulator_pid=""
cleanup() {
    [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null
    rm -rf "$dest"
}
trap cleanup EXIT
fail=0
problem() { echo "FAIL: $*"; fail=1; }

DESTDIR=$dest cmake --install "$build" --prefix /usr >"$dest.log" 2>&1 || { cat "$dest.log"; exit 1; }
rm -f "$dest.log"
u=$dest/usr
for f in bin/smtpprobe share/man/man1/smtpprobe.1.gz share/bash-completion/completions/smtpprobe \
    share/zsh/vendor-completions/_smtpprobe share/doc/smtpprobe/README.md \
    share/doc/smtpprobe/copyright share/doc/smtpprobe/changelog.gz; do
    [ -f "$u/$f" ] || problem "not installed: /usr/$f"
done
for p in "$src"/samples/servers/*.json; do
    [ -f "$u/share/smtpprobe/profiles/${p##*/}" ] || problem "profile not installed: ${p##*/}"
done

bin=$u/bin/smtpprobe
version=$("$bin" --version) || problem "--version exited $?"
grep -q '^smtpprobe [0-9]' <<<"$version" || problem "--version: no version line: $version"
grep -q '^OpenSSL: OpenSSL 3' <<<"$version" || problem "--version: no OpenSSL line: $version"

# A profile by name, found relative to the installed binary (not in the source tree).
out=$(cd / && "$bin" --demo --profile postfix-submission --format json --parallel 1 2>&1) || true
grep -q '"name": "smtpprobe"' <<<"$out" || problem "--demo --profile postfix-submission: $(head -c 300 <<<"$out")"
out=$(cd / && "$bin" --demo --profile no-such-profile 2>&1) && problem "--demo --profile no-such-profile exited 0"
grep -q "no profile named \"no-such-profile\".*$u/share/smtpprobe/profiles" <<<"$out" ||
    problem "unknown profile: message does not name the directory searched: $out"

# emulate --profile azure-acs: it starts, says so, and stops on SIGINT with exit 0.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd / && exec "$bin" emulate --profile azure-acs --listen "127.0.0.1:$port") 2>"$dest/emulate.err" &
emulator_pid=$!
for _ in $(seq 1 50); do
    grep -q 'emulating' "$dest/emulate.err" && break
    sleep 0.1
done
grep -q 'emulating Azure' "$dest/emulate.err" || grep -q 'emulating' "$dest/emulate.err" ||
    problem "emulate --profile azure-acs did not start: $(cat "$dest/emulate.err")"
kill -INT "$emulator_pid" 2>/dev/null || true
rc=0
wait "$emulator_pid" || rc=$?
emulator_pid=""
[ "$rc" -eq 0 ] || problem "emulate exited $rc after SIGINT: $(cat "$dest/emulate.err")"

# The installed man page renders without a warning.
warnings=$(MANWIDTH=80 man --warnings -l "$u/share/man/man1/smtpprobe.1.gz" 2>&1 >/dev/null) ||
    problem "man -l on the installed page failed"
[ -z "$warnings" ] || problem "man -l warnings: $warnings"

# Bash completion, with the installed binary first on PATH: profile names, --format values.
complete_words() { # words... (the last one is being completed)
    PATH="$u/bin:$PATH" bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _smtpprobe smtpprobe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$u/share/bash-completion/completions/smtpprobe" "$@"
}
got=$(cd "$dest" && complete_words smtpprobe --demo --profile a | tr '\n' ' ')
grep -qw azure-acs <<<"$got" || problem "bash completion of --profile a: got '$got'"
got=$(complete_words smtpprobe emulate --profile post | tr '\n' ' ')
grep -qw postfix-submission <<<"$got" || problem "bash completion of emulate --profile post: got '$got'"
got=$(complete_words smtpprobe --format '' | tr '\n' ' ')
[ "$got" = "text json ndjson nagios html " ] || problem "bash completion of --format: got '$got'"
got=$(complete_words smtpprobe --tls s | tr '\n' ' ')
[ "$got" = "starttls " ] || problem "bash completion of --tls s: got '$got'"
got=$(complete_words smtpprobe --tls-v | tr '\n' ' ')
[ "$got" = "--tls-versions " ] || problem "bash completion of --tls-v: got '$got'"
if command -v zsh >/dev/null 2>&1; then
    zsh -n "$u/share/zsh/vendor-completions/_smtpprobe" || problem "zsh -n _smtpprobe failed"
fi

if [ "$fail" = 0 ]; then
    echo "installed into a temporary root and checked: binary, man page, completions, profiles"
fi
exit "$fail"
