#!/bin/sh
# Install everything smtpprobe needs on a fresh Debian 12 (bookworm): the build
# toolchain and libraries, and the real mail servers of the integration suite
# (tests/integration/run.sh).
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
# - The real-client suite (tests/clients) needs the client libraries it runs: Go
#   (net/smtp), Debian's python3 (smtplib), PHPMailer with php-cli, Ruby
#   (net-smtp), curl, Jakarta Mail with a JDK, and Node.js with npm (Nodemailer
#   itself comes from the npm registry, pinned by tests/clients/node/
#   package-lock.json, installed by the suite into the build tree). nodejs and
#   npm are installed only when npm is missing: a Node.js from elsewhere (e.g.
#   NodeSource, which bundles npm) conflicts with Debian's npm package.
#
# Environment:
#   SMTPPROBE_DEB_CACHE   where to keep the downloaded exim4-daemon-light .deb
#   SMTPPROBE_NO_INTEGRATION=1   install only the build dependencies
#   SMTPPROBE_NO_CLIENTS=1       do not install the real-client suite's libraries
set -eu

export DEBIAN_FRONTEND=noninteractive
DEB_CACHE=${SMTPPROBE_DEB_CACHE:-/var/cache/smtpprobe/debs}

step() { printf 'install-deps: %s\n' "$*"; }
# apt's own output goes to a log, shown only when a step fails.
APT_LOG=$(mktemp /tmp/smtpprobe-install-deps.XXXXXX)
quietly() {
    if ! "$@" >>"$APT_LOG" 2>&1; then
        echo "install-deps: FAILED: $*" >&2
        tail -n 40 "$APT_LOG" >&2
        return 1
    fi
}

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        step "not root, re-running through sudo"
        exec sudo -E sh "$0" "$@"
    fi
    echo "install-deps: must run as root" >&2
    exit 1
fi

BUILD_PKGS="g++ cmake make pkg-config libssl-dev libboost-program-options-dev nlohmann-json3-dev catch2 ca-certificates openssl python3"
# The exporter (`smtpprobe exporter`, src/exporter): cpp-httplib serves HTTP, prometheus-cpp
# serialises the exposition, yaml-cpp reads the config (README "Dependencies").
EXPORTER_PKGS="libcpp-httplib-dev prometheus-cpp-dev libyaml-cpp-dev"
# Its tests (tests/exporter/run.sh): a real Prometheus 2.42 and promtool, curl as the client.
EXPORTER_TEST_PKGS="prometheus curl"
# Postfix with Dovecot SASL; swaks is the second opinion; iproute2 gives `ss`
# (run.sh uses it, when present, to prove nothing is left listening);
# libnss-wrapper lets the unpacked Exim find its compiled-in user
# "Debian-exim" without adding it to /etc/passwd.
INTEG_PKGS="postfix dovecot-core swaks iproute2 libnss-wrapper"
# The proxies of tests/proxy/run.sh: microsocks (SOCKS5) and tinyproxy (HTTP
# CONNECT). The suite runs its own instances; tinyproxy's service is not started
# (policy below) and its boot-time start is switched off again.
PROXY_PKGS="microsocks tinyproxy"
# The run-time libraries of exim4-daemon-light 4.96 (bookworm), so the binary
# unpacked by run.sh finds them.
EXIM_LIBS="libdb5.3 libgnutls-dane0 libgnutls30 libidn12 libidn2-0 libnsl2 libpcre2-8-0 libcrypt1"

# The real-client suite (tests/clients/run_clients.py).
CLIENT_PKGS="golang-go python3 php-cli libphp-phpmailer ruby curl libjakarta-mail-java default-jdk-headless"
if ! command -v npm >/dev/null 2>&1; then
    CLIENT_PKGS="$CLIENT_PKGS nodejs npm"
fi

PKGS="$BUILD_PKGS $EXPORTER_PKGS"
if [ "${SMTPPROBE_NO_INTEGRATION:-0}" != 1 ]; then
    PKGS="$PKGS $INTEG_PKGS $PROXY_PKGS $EXIM_LIBS $EXPORTER_TEST_PKGS"
fi
if [ "${SMTPPROBE_NO_CLIENTS:-0}" != 1 ]; then
    PKGS="$PKGS $CLIENT_PKGS"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done

need_exim_deb=0
if [ "${SMTPPROBE_NO_INTEGRATION:-0}" != 1 ]; then
    ls "$DEB_CACHE"/exim4-daemon-light_*.deb >/dev/null 2>&1 || need_exim_deb=1
fi

trap 'rm -f "$APT_LOG"' EXIT
if [ -z "$missing" ] && [ "$need_exim_deb" = 0 ]; then
    step "all packages already installed, exim .deb cached in $DEB_CACHE; nothing to do"
    exit 0
fi

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
    for pkg_svc in postfix:postfix dovecot-core:dovecot prometheus:prometheus tinyproxy:tinyproxy; do
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
    step "downloading exim4-daemon-light (not installed: it conflicts with postfix) into $DEB_CACHE"
    mkdir -p "$DEB_CACHE"
    # apt-get download writes into the current directory and, as root, wants
    # the _apt user to be able to write there; download in a scratch dir.
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    if getent passwd _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
    (cd "$tmp" && quietly apt-get download exim4-daemon-light)
    mv "$tmp"/exim4-daemon-light_*.deb "$DEB_CACHE"/
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
step "done: $(ls "$DEB_CACHE"/exim4-daemon-light_*.deb 2>/dev/null | head -n1)"
