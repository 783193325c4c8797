#!/bin/sh
# Install everything smtpprobe's scripts use on a fresh Debian 12 (bookworm): the build
# toolchain and libraries, the format check, the fuzzers, the man page and package tools,
# and the real mail servers of the integration suite (tests/integration/run.sh). The
# packages are listed in named groups below ("package groups").
#
# Idempotent and non-interactive. Run as root (or through sudo).
#
# - Postfix is installed with debconf "No configuration": no /etc/postfix/main.cf
#   is written and, through a temporary /usr/sbin/policy-rc.d that exits 101,
#   neither Postfix nor Dovecot is started by the package scripts. The
#   integration suite runs both from its own temporary directory.
# - Exim conflicts with Postfix as a Debian package (both provide
#   mail-transport-agent), so it is NOT installed: its .deb is downloaded into
#   $SMTPPROBE_DEB_CACHE (default /var/cache/smtpprobe/debs) and run.sh unpacks it
#   with `dpkg -x` into its temporary directory. Exim's shared libraries, which do
#   not conflict with anything, are installed normally.
#
# Environment:
#   SMTPPROBE_DEB_CACHE   where to keep the downloaded exim4-daemon-light and -heavy .debs
#   SMTPPROBE_DEPS_GROUPS "build docs ...": only these groups (default: every group)
#   SMTPPROBE_NO_INTEGRATION=1   install only the build group
#   SMTPPROBE_NO_CLIENTS=1       not the real-client suite's libraries (groups clients, node)
#
# Fast path: when every package is installed (one dpkg-query) and the exim .deb is
# cached, it exits at once without apt-get update.
set -eu

export DEBIAN_FRONTEND=noninteractive
DEB_CACHE=${SMTPPROBE_DEB_CACHE:-/var/cache/smtpprobe/debs}

step() { printf 'install-deps: %s\n' "$*"; }
# apt's own output goes to a log, shown only when a step fails.
APT_LOG=/dev/null  # a temporary file once apt-get runs
quietly() {
    if ! "$@" >>"$APT_LOG" 2>&1; then
        echo "install-deps: FAILED: $*" >&2
        tail -n 40 "$APT_LOG" >&2
        return 1
    fi
}

# ------------------------------------------------------------------- package groups
# One line per group: `group NAME [--unless-command CMD] PACKAGE...`. To add the packages of
# a new suite or tool, add one line here. A group with --unless-command is skipped when CMD
# is already on PATH (for packages another repository may have provided on this machine).
# SMTPPROBE_DEPS_GROUPS="build docs" installs only the groups named (default: all).
ALL_GROUPS=""
group() {
    name=$1
    shift
    unless=""
    if [ "${1:-}" = --unless-command ]; then
        unless=$2
        shift 2
    fi
    ALL_GROUPS="$ALL_GROUPS $name"
    eval "GROUP_PKGS_$name=\$*"
    eval "GROUP_UNLESS_$name=\$unless"
}
# The build: compiler, CMake, libraries, git (version and format check), python3 (Debian's:
# gen-status-registry.py, the integration assertions, the secret scan), and the exporter's
# libraries (`smtpprobe exporter`, src/exporter: cpp-httplib serves HTTP, prometheus-cpp
# serialises the exposition, yaml-cpp reads the config; README "Dependencies").
group build g++ cmake make pkg-config libssl-dev libkrb5-dev libboost-program-options-dev nlohmann-json3-dev catch2 ca-certificates openssl python3 git libcpp-httplib-dev prometheus-cpp-dev libyaml-cpp-dev
# The format check of scripts/test.sh (mandatory in CI).
group format clang-format
# The libFuzzer targets (tests/fuzz): Debian's clang 14 and its fuzzer runtime (a Recommends).
group fuzz clang libclang-rt-14-dev
# The man page test (groff -man -ww, man -l).
group docs groff-base man-db
# cpack -G DEB (dpkg-shlibdeps, fakeroot, file) and lintian.
group package dpkg-dev fakeroot file lintian
# The integration suite: Postfix with Dovecot SASL; swaks (second opinion) with its TLS and
# SASL modules (swaks --support; they are only Recommends, so --no-install-recommends
# drops them); iproute2 gives `ss` (run.sh proves nothing is left listening);
# libnss-wrapper lets the unpacked Exim find its compiled-in user "Debian-exim" without
# adding it to /etc/passwd.
group integration postfix dovecot-core dovecot-gssapi krb5-kdc krb5-admin-server krb5-user msmtp swaks gsasl libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl libauthen-ntlm-perl iproute2 libnss-wrapper
# The run-time libraries of exim4-daemon-light and -heavy 4.96 (bookworm), so the binaries unpacked by
# tests/integration/run.sh finds them.
# The proxies of tests/proxy/run.sh: microsocks (SOCKS5) and tinyproxy (HTTP CONNECT). The
# suite runs its own instances; tinyproxy's boot-time start is switched off again below.
group proxies microsocks tinyproxy
group exim_libs libdb5.3 libgnutls-dane0 libgnutls30 libidn12 libidn2-0 libnsl2 libpcre2-8-0 libcrypt1 libsasl2-2 libldap-2.5-0 libmariadb3 libperl5.36 libpq5 libspf2-2 libsqlite3-0 libpam0g
# The exporter's tests (tests/exporter/run.sh): a real Prometheus 2.42 and promtool, curl,
# and systemd for `systemd-analyze verify` of the shipped unit (nothing is started).
group exporter_tests prometheus curl systemd
# The real-client suite (tests/clients/run_clients.py): Go (net/smtp), Debian's python3
# (smtplib), PHPMailer with php-cli, Ruby (net-smtp), curl, Jakarta Mail with a JDK.
group clients golang-go python3 php-cli libphp-phpmailer ruby curl libjakarta-mail-java default-jdk-headless
# Node.js with npm for the client suite (Nodemailer itself comes from the npm registry, pinned
# by tests/clients/node/package-lock.json, installed by the suite into the build tree). Only
# when npm is missing: a Node.js from elsewhere (e.g. NodeSource, which bundles npm)
# conflicts with Debian's npm package.
group node --unless-command npm nodejs npm
# The benchmarks (tests/bench/): /usr/bin/time, strace (truststore_bench.py counts the CA
# bundle's opens), and the kernel packet delay of bench.sh where the kernel has no netem:
# iptables-legacy's NFQUEUE target and libnetfilter-queue for nfq_delay.c (built with the
# build group's compiler).
# Cyrus SASL behind the second (heavy) Exim of tests/integration: saslpasswd2 and the mechanism
# plugins (PLAIN ... SCRAM, NTLM, ANONYMOUS).
group cyrus sasl2-bin libsasl2-modules
group bench time strace iptables libnetfilter-queue-dev
# The HTML report in a real browser (tests/html/run.sh): Debian's Chromium, headless, and HTML
# Tidy to validate the markup.
group html chromium tidy

SELECTED=${SMTPPROBE_DEPS_GROUPS:-$ALL_GROUPS}
if [ "${SMTPPROBE_NO_INTEGRATION:-0}" = 1 ]; then
    SELECTED=build
fi
if [ "${SMTPPROBE_NO_CLIENTS:-0}" = 1 ]; then
    SELECTED=$(for g in $SELECTED; do case $g in clients | node) ;; *) printf '%s ' "$g" ;; esac; done)
fi
PKGS=""
for g in $SELECTED; do
    case " $ALL_GROUPS " in *" $g "*) ;; *) echo "install-deps: unknown group $g (groups:$ALL_GROUPS)" >&2; exit 2 ;; esac
    eval "unless=\$GROUP_UNLESS_$g"
    if [ -n "$unless" ] && command -v "$unless" >/dev/null 2>&1; then
        continue
    fi
    eval "PKGS=\"\$PKGS \$GROUP_PKGS_$g\""
done

# One dpkg-query for all: a package is missing unless its status is "install ok installed".
# shellcheck disable=SC2086
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null | awk -v want="$PKGS" '
    $NF == "installed" { ok[$1] = 1 }
    END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) printf " %s", w[i] }')

need_exim_deb=0
if case " $SELECTED " in *" exim_libs "*) true ;; *) false ;; esac; then
    for p in exim4-daemon-light exim4-daemon-heavy; do
        ls "$DEB_CACHE/$p"_*.deb >/dev/null 2>&1 || need_exim_deb=1
    done
fi

if [ -z "$missing" ] && [ "$need_exim_deb" = 0 ]; then
    step "all packages of the groups ($(echo $SELECTED)) already installed; nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        step "not root, re-running through sudo"
        exec sudo -E sh "$0" "$@"  # SMTPPROBE_* variables pass through -E
    fi
    echo "install-deps: must run as root to install:$missing" >&2
    exit 1
fi

APT_LOG=$(mktemp /tmp/smtpprobe-install-deps.XXXXXX)
trap 'rm -f "$APT_LOG"' EXIT

step "apt-get update"
quietly apt-get update

if [ -n "$missing" ]; then
    step "preseeding debconf: postfix/main_mailer_type = No configuration"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

    # A policy-rc.d that denies every service start, only for the duration of
    # the install. An existing one (e.g. Docker's) is kept aside and put back.
    POLICY=/usr/sbin/policy-rc.d
    POLICY_SAVED=""
    if [ -e "$POLICY" ]; then
        POLICY_SAVED=$(mktemp /usr/sbin/policy-rc.d.smtpprobe-saved.XXXXXX)
        cp -p "$POLICY" "$POLICY_SAVED"
    fi
    restore_policy() {
        if [ -n "$POLICY_SAVED" ]; then
            mv -f "$POLICY_SAVED" "$POLICY"
            step "restored the previous $POLICY"
        else
            rm -f "$POLICY"
            step "removed the temporary $POLICY"
        fi
    }
    trap 'restore_policy; rm -f "$APT_LOG"' EXIT
    trap 'exit 130' INT TERM
    step "installing a temporary $POLICY (exit 101: no service is started)"
    printf '#!/bin/sh\n# smtpprobe install-deps.sh: deny service starts during the install\nexit 101\n' > "$POLICY"
    chmod 755 "$POLICY"

    step "apt-get install -y --no-install-recommends$missing"
    # shellcheck disable=SC2086
    quietly apt-get install -y --no-install-recommends $missing

    restore_policy
    trap 'rm -f "$APT_LOG"' EXIT
    trap - INT TERM

    # The packages enable their services for the next boot; the suite runs its
    # own instances from a temporary directory, so switch that off again for
    # the services this run installed (never for ones that were already there).
    for pkg_svc in postfix:postfix dovecot-core:dovecot krb5-kdc:krb5-kdc krb5-admin-server:krb5-admin-server prometheus:prometheus tinyproxy:tinyproxy; do
        pkg=${pkg_svc%%:*} svc=${pkg_svc#*:}
        case " $missing " in *" $pkg "*) ;; *) continue ;; esac
        step "disabling boot-time start of $svc (installed for the integration suite only)"
        # Debian's update-rc.d also disables the systemd unit when systemctl exists.
        if command -v update-rc.d >/dev/null 2>&1 && [ -e "/etc/init.d/$svc" ]; then
            quietly update-rc.d "$svc" disable || true
        fi
        if command -v systemctl >/dev/null 2>&1; then
            quietly systemctl disable --quiet "$svc.service" || true
        fi
    done
else
    step "all packages already installed"
fi

if [ "$need_exim_deb" = 1 ]; then
    step "downloading exim4-daemon-light and -heavy (not installed: they conflict with postfix) into $DEB_CACHE"
    mkdir -p "$DEB_CACHE"
    # apt-get download writes into the current directory and, as root, wants
    # the _apt user to be able to write there; download in a scratch dir.
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    if getent passwd _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
    (cd "$tmp" && quietly apt-get download exim4-daemon-light exim4-daemon-heavy)
    mv "$tmp"/exim4-daemon-*_*.deb "$DEB_CACHE"/
    rmdir "$tmp"
fi

# With the policy above no package script started a daemon; check it, so a
# reader of the CI log can see it.
if command -v pgrep >/dev/null 2>&1; then
    for proc in master dovecot exim4 tinyproxy microsocks; do
        if pgrep -x "$proc" >/dev/null 2>&1; then
            step "WARNING: a '$proc' process is running (not started by this script)"
        fi
    done
fi
step "done$(ls "$DEB_CACHE"/exim4-daemon-light_*.deb 2>/dev/null | head -n1 | sed "s/^/: exim .deb /")"
