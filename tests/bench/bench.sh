#!/usr/bin/env bash
# tests/bench/bench.sh - how long does the whole AUTH matrix take at a 50 ms round
# trip, next to one manual `openssl s_client -starttls smtp` session and a swaks
# loop of one run per mechanism? Prints figures and ratios; asserts nothing.
#
#   sudo tests/bench/bench.sh                      (see tests/bench/README.md)
#
# Debian 12 packages it uses: iproute2 (ip netns, tc, ss), time (/usr/bin/time),
# openssl, swaks, libauthen-sasl-perl and libauthen-ntlm-perl (swaks' DIGEST-MD5
# and NTLM), iptables (iptables-legacy), libnetfilter-queue-dev and a C compiler
# (nfq_delay.c, the kernel packet delay when the kernel has no netem), python3
# (delay_proxy.py, the last fallback), kmod (modprobe, optional). `time` is installed
# here if it is missing.
#
# Environment:
#   SMTPPROBE=/path/to/smtpprobe   binary to measure (default build/smtpprobe under
#                                  the repository root); nothing is built here
#   BENCH_RUNS=5                   timed runs per row (after one untimed warm-up)
#   BENCH_RTT_MS=50                round trip to emulate
#   BENCH_LATENCY=auto             auto: netem, else NFQUEUE + nfq_delay on a veth pair
#                                  between two namespaces (veth), else NFQUEUE on one
#                                  namespace's lo (nfqueue), else the userspace delay
#                                  proxy | netem | veth | nfqueue | proxy | none (plain
#                                  loopback)
#   BENCH_PORT=2525                port the clients connect to (127.0.0.1 only)
#
# Everything runs in a network namespace of its own (smtpprobe-bench-PID) when
# `ip netns` works (root); the netem qdisc, or the NFQUEUE rule, is added to that
# namespace's lo only.
# An EXIT trap kills what was started and deletes the namespace.
# shellcheck disable=SC2317  # functions called indirectly (measure, traps)
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$here/../.." && pwd)
# shellcheck source=tests/bench/lib/bench_common.sh
. "$here/lib/bench_common.sh"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ----------------------------------------------------------------------------
# Inner half: runs inside the namespace (or on the host loopback as fallback).
# ----------------------------------------------------------------------------
EMU_PID='' PROXY_PID=''
inner() {
    local port=$BENCH_PORT emu_port=$BENCH_PORT
    [ "$BENCH_MODE" = proxy ] && emu_port=$((BENCH_PORT + 1))
    # veth: the emulator runs in the server's namespace, across the delayed veth pair.
    local host=${BENCH_HOST:-127.0.0.1}
    local target=$host:$port ca=$BENCH_TMP/ca.pem
    srv_exec() {
        if [ -n "${BENCH_SERVER_NS:-}" ]; then ip netns exec "$BENCH_SERVER_NS" "$@"; else "$@"; fi
    }
    local rtt_s
    rtt_s=$(awk -v r="$BENCH_RTT_MS" 'BEGIN { printf "%.3f", r / 1000 }')

    stop_children() {
        local p
        for p in $PROXY_PID $EMU_PID; do kill "$p" 2>/dev/null || true; done
        for p in $PROXY_PID $EMU_PID; do wait "$p" 2>/dev/null || true; done
    }
    trap stop_children EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    listening() { # PORT
        if command -v ss >/dev/null 2>&1; then
            [ -n "$(srv_exec ss -Hltn "sport = :$1" 2>/dev/null)" ]
        else
            (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
        fi
    }
    wait_port() { # PORT PID WHAT; at most 10 s
        local i
        for i in $(seq 1 100); do
            listening "$1" && return 0
            kill -0 "$2" 2>/dev/null || die "$3 exited early (log: $BENCH_TMP/$3.log)"
            sleep 0.1
        done
        die "$3 not listening on $host:$1 after 10 s (log: $BENCH_TMP/$3.log)"
    }

    if listening "$port" || listening "$emu_port"; then
        die "something already listens on $host:$port or :$emu_port; set BENCH_PORT"
    fi
    srv_exec "$SMTPPROBE" emulate --profile "$REPO/samples/servers/azure-acs.json" \
        --listen "$host:$emu_port" --ca-out "$ca" >"$BENCH_TMP/emulator.log" 2>&1 &
    EMU_PID=$!
    wait_port "$emu_port" "$EMU_PID" emulator
    if [ "$BENCH_MODE" = proxy ]; then
        python3 "$here/delay_proxy.py" --listen "$target" --upstream "127.0.0.1:$emu_port" \
            --one-way-ms "$(awk -v r="$BENCH_RTT_MS" 'BEGIN { print r / 2 }')" \
            >"$BENCH_TMP/proxy.log" 2>&1 &
        PROXY_PID=$!
        wait_port "$port" "$PROXY_PID" proxy
    fi
    [ -s "$ca" ] || die "emulator wrote no CA certificate to $ca"

    now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

    # Sanity check of the latency: connect and read the banner (2 RTT under netem).
    local t0 t1 banner
    t0=$(now_us)
    exec 3<>"/dev/tcp/$host/$port"
    IFS= read -r -t 10 banner <&3 || true
    t1=$(now_us)
    printf 'QUIT\r\n' >&3 || true
    exec 3<&- 3>&-
    local banner_ms=$(((t1 - t0) / 1000))
    case $banner in 220*) ;; *) banner_ms="? (no 220 banner: '$banner')" ;; esac

    # ---- the rows -----------------------------------------------------------
    # Each row function runs one sample; it sets ROW_RSS_KB (max over its
    # processes) and ROW_OK (1 if the session(s) went as expected).
    smtpprobe_row() { # PARALLEL
        local out=$BENCH_TMP/smtpprobe-p$1.json rss
        ROW_OK=1
        # Across the veth pair the address is 10.250.0.1, which the emulator's certificate does
        # not name: check it against "localhost", which it does.
        timeout 30 /usr/bin/time -f %M -o "$BENCH_TMP/rss" "$SMTPPROBE" "$target" --ca-file "$ca" \
            ${BENCH_SERVER_NS:+--sni localhost} --format json --parallel "$1" >"$out" 2>"$BENCH_TMP/smtpprobe-p$1.err" || ROW_OK=0
        rss=$(tail -n 1 "$BENCH_TMP/rss")
        ROW_RSS_KB=$rss
    }
    smtpprobe_covers() { # PARALLEL
        local out=$BENCH_TMP/smtpprobe-p$1.json
        if command -v python3 >/dev/null 2>&1; then
            python3 - "$out" <<'PY' 2>/dev/null || echo "? (unreadable JSON)"
import json, sys
d = json.load(open(sys.argv[1]))
ms = d.get("mechanisms", [])
probed = sum(1 for m in ms if (m.get("recognition") or {}).get("reply"))
print(f"{probed}/{len(ms)} mechs + pre-TLS AUTH, {d.get('connections')} conn")
PY
        else
            echo "matrix (python3 missing: not counted)"
        fi
    }

    # One manual session. openssl s_client runs as a coprocess; each command is
    # written as soon as the final line of the previous reply ("NNN text") has
    # been read, i.e. a typist with zero think time: a lower bound for a human.
    # s_client itself reads the banner, sends EHLO and STARTTLS and does the
    # handshake (-starttls smtp); we then send EHLO, AUTH LOGIN, "*", QUIT.
    openssl_row() {
        ROW_OK=1
        coproc OSSL { exec timeout 30 /usr/bin/time -f %M -o "$BENCH_TMP/rss" openssl s_client \
            -starttls smtp -connect "$target" -CAfile "$ca" -verify_return_error \
            -quiet 2>"$BENCH_TMP/openssl.err"; }
        local in=${OSSL[0]} out=${OSSL[1]} pid=$OSSL_PID
        expect() { # CODE: read reply lines until a final line; true if it is CODE
            local line n=0
            while [ $((n += 1)) -le 100 ] && IFS= read -r -t 10 line <&"$in"; do
                line=${line%$'\r'}
                printf '%s\n' "$line" >>"$BENCH_TMP/openssl.log"
                case $line in
                [0-9][0-9][0-9]-*) ;;
                "$1"*) return 0 ;;
                [0-9][0-9][0-9]*) return 1 ;;
                esac
            done
            return 1
        }
        : >"$BENCH_TMP/openssl.log"
        { printf 'EHLO bench.invalid\r\n' >&"$out" && expect 250 &&
            printf 'AUTH LOGIN\r\n' >&"$out" && expect 334 &&
            printf '*\r\n' >&"$out" && expect 501 &&
            printf 'QUIT\r\n' >&"$out" && expect 221; } || ROW_OK=0
        exec {out}>&-
        wait "$pid" 2>/dev/null || true
        ROW_RSS_KB=$(tail -n 1 "$BENCH_TMP/rss" 2>/dev/null || echo 0)
    }

    # swaks as a user would script it: one run per catalogue mechanism it knows
    # (PLAIN LOGIN CRAM-MD5 DIGEST-MD5 NTLM; its CRAM-SHA1 is not in the
    # catalogue), back to back. swaks only sends AUTH for mechanisms the server
    # advertises; for the others it says "requested type not available" after
    # EHLO and QUITs. DIGEST-MD5 and NTLM need Authen::SASL / Authen::NTLM: a
    # mechanism this swaks install cannot do is left out of the loop.
    local swaks_mechs='' swaks_missing='' m support
    SWAKS_TESTED=0
    if command -v swaks >/dev/null 2>&1; then
        support=$(swaks --support 2>&1 || true)
        for m in PLAIN LOGIN CRAM-MD5 DIGEST-MD5 NTLM; do
            case $m in PLAIN | LOGIN) grep -q '=== Basic AUTH supported' <<<"$support" ;;
            *) grep -q "=== AUTH $m supported" <<<"$support" ;; esac &&
                swaks_mechs+="$m " || swaks_missing+="$m "
        done
        [ -z "$swaks_missing" ] ||
            say "this swaks cannot do: $swaks_missing(apt-get install libauthen-sasl-perl libauthen-ntlm-perl)"
    fi
    swaks_row() {
        local m rss
        ROW_OK=1 ROW_RSS_KB=0 SWAKS_TESTED=0
        for m in $swaks_mechs; do
            timeout 30 /usr/bin/time -f %M -o "$BENCH_TMP/rss" swaks --server "$target" \
                --tls --tls-verify --tls-ca-path "$ca" --auth "$m" --auth-user u \
                --auth-password p --quit-after AUTH >"$BENCH_TMP/swaks-$m.log" 2>&1 || true
            rss=$(tail -n 1 "$BENCH_TMP/rss")
            [ "$rss" -gt "$ROW_RSS_KB" ] && ROW_RSS_KB=$rss
            if grep -q '^ ~> AUTH ' "$BENCH_TMP/swaks-$m.log"; then
                SWAKS_TESTED=$((SWAKS_TESTED + 1))
            elif ! grep -q 'requested type not available' "$BENCH_TMP/swaks-$m.log"; then
                ROW_OK=0
            fi
        done
    }

    # measure KEY FUNCTION ARGS...: one warm-up, then BENCH_RUNS timed samples.
    # Leaves "KEY median min rss_kb ok" in $BENCH_TMP/results.
    measure() {
        local key=$1 i t0 t1 times=() rss=0 ok=1
        shift
        say "measuring $key ($BENCH_RUNS runs + 1 warm-up)"
        "$@"
        for i in $(seq 1 "$BENCH_RUNS"); do
            t0=$(now_us)
            "$@"
            t1=$(now_us)
            times+=("$((t1 - t0))")
            [ "$ROW_RSS_KB" -gt "$rss" ] && rss=$ROW_RSS_KB
            [ "$ROW_OK" = 1 ] || ok=0
        done
        printf '%s\n' "${times[@]}" | sort -n | awk -v key="$key" -v rss="$rss" -v ok="$ok" '
            { t[NR] = $1 / 1e6 }
            END {
                med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
                printf "%s %.4f %.4f %d %d\n", key, med, t[1], rss, ok
            }' >>"$BENCH_TMP/results"
    }

    : >"$BENCH_TMP/results"
    local have_swaks=1
    command -v swaks >/dev/null 2>&1 || { have_swaks=0; say "swaks not installed: its row is skipped"; }
    [ -n "$swaks_mechs" ] || have_swaks=0

    measure p4 smtpprobe_row 4
    measure p1 smtpprobe_row 1
    measure p8 smtpprobe_row 8
    measure ossl openssl_row
    if [ "$have_swaks" = 1 ]; then measure swaks swaks_row; fi

    # ---- report -------------------------------------------------------------
    local n_swaks
    n_swaks=$(wc -w <<<"$swaks_mechs")
    local cov_p4 cov_p1 cov_p8
    cov_p4=$(smtpprobe_covers 4)
    cov_p1=$(smtpprobe_covers 1)
    cov_p8=$(smtpprobe_covers 8)

    echo
    echo "smtpprobe benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) CPUs  kernel $(uname -r)"
    echo "binary:   $SMTPPROBE ($("$SMTPPROBE" --version 2>/dev/null | head -n 1))"
    echo "peers:    $(openssl version | cut -d' ' -f1-2), swaks $(swaks --version 2>/dev/null | awk '{print $3; exit}' || echo -)"
    echo "server:   smtpprobe emulate, profile azure-acs (LOGIN only, after STARTTLS), $host:$port"
    echo "latency:  $BENCH_LATENCY_LABEL"
    echo "check:    banner after ${banner_ms} ms from connect (expect ~2 RTT = $((2 * BENCH_RTT_MS)) ms with added latency)"
    echo "runs:     $BENCH_RUNS timed per row after 1 warm-up; median and min wall time"
    echo

    # Rows: key | tool | covers
    {
        printf 'p4\tsmtpprobe --parallel 4 (default)\t%s\n' "$cov_p4"
        printf 'p1\tsmtpprobe --parallel 1\t%s\n' "$cov_p1"
        printf 'p8\tsmtpprobe --parallel 8\t%s\n' "$cov_p8"
        printf 'ossl\topenssl s_client, 1 session\tLOGIN only (EHLO, AUTH LOGIN, *, QUIT)\n'
        if [ "$have_swaks" = 1 ]; then
            printf 'swaks\tswaks loop, %d runs\t%s\n' "$n_swaks" \
                "$SWAKS_TESTED/$n_swaks sent AUTH; rest refused client-side"
        fi
    } >"$BENCH_TMP/rows"

    awk -F'\t' -v rtt="$rtt_s" -v latency="$BENCH_MODE" -v nsw="$n_swaks" -v swm="${swaks_mechs% }" '
        FNR == NR { split($0, f, " "); med[f[1]] = f[2]; mn[f[1]] = f[3]; rss[f[1]] = f[4]; ok[f[1]] = f[5]; next }
        { key[++n] = $1; tool[n] = $2; cov[n] = $3 }
        END {
            fmt = "%-32s %-44s %8s %8s %6s %7s %10s %9s\n"
            printf fmt, "tool", "covers", "median s", "min s", "RTTs", "RSS MiB", "x s_client", "x swaks"
            for (i = 1; i <= n; i++) {
                k = key[i]
                rtts = (latency == "none") ? "-" : sprintf("%.1f", med[k] / rtt)
                xo = ("ossl" in med && med["ossl"] > 0) ? sprintf("%.2f", med[k] / med["ossl"]) : "-"
                xs = ("swaks" in med && med["swaks"] > 0) ? sprintf("%.2f", med[k] / med["swaks"]) : "-"
                printf fmt, tool[i] (ok[k] ? "" : " (!)"), cov[i], sprintf("%.3f", med[k]),
                    sprintf("%.3f", mn[k]), rtts, sprintf("%.1f", rss[k] / 1024), xo, xs
            }
            print ""
            if ("ossl" in med)
                printf "headline: full matrix (smtpprobe, default --parallel 4) = %.2f x one openssl s_client session (%.3f s vs %.3f s)\n", med["p4"] / med["ossl"], med["p4"], med["ossl"]
            if ("swaks" in med)
                printf "headline: full matrix (smtpprobe, default --parallel 4) = %.2f x the swaks loop (%.3f s vs %.3f s; the loop takes %.1f x as long)\n", med["p4"] / med["swaks"], med["p4"], med["swaks"], med["swaks"] / med["p4"]
            if ("ossl" in med)
                printf "headline: --parallel 1 (one connection, all 14 in a row) = %.2f x one openssl s_client session\n", med["p1"] / med["ossl"]
            printf "headline: --parallel 8 / --parallel 4 = %.2f\n", med["p8"] / med["p4"]
            if ("swaks" in med)
                printf "swaks loop: %.3f s per run (%d runs: %s)\n", med["swaks"] / nsw, nsw, swm
            for (k in ok) if (!ok[k]) bad = 1
            if (bad) print "(!) = some run did not end as expected; see the logs kept in the temporary directory"
        }' "$BENCH_TMP/results" "$BENCH_TMP/rows"
    # The critical path: the last --parallel 4 run's connection_timings (JSON), one line per
    # connection, each step as start+ms (milliseconds from the run's start).
    if command -v python3 >/dev/null 2>&1 && [ -s "$BENCH_TMP/smtpprobe-p4.json" ]; then
        echo
        echo "timeline of the last --parallel 4 run (ms from its start; step@start+duration):"
        python3 - "$BENCH_TMP/smtpprobe-p4.json" <<'PY' || echo "  (no connection_timings in the JSON)"
import json, sys
doc = json.load(open(sys.argv[1]))
short = {"connect": "tcp", "banner": "banner", "ehlo": "ehlo", "starttls": "starttls",
         "tls_handshake": "tls", "ehlo_after_tls": "ehlo2", "proxy_handshake": "proxy"}
for conn in doc["connection_timings"]:
    steps, end = [], 0.0
    for t in conn["timings_ms"]:
        name = t["mechanism"] if t["step"] == "auth" else short.get(t["step"], t["step"])
        steps.append(f"{name}@{t['start']:.0f}+{t['ms']:.0f}")
        end = max(end, t["start"] + t["ms"])
    print(f"  c{conn['connection']}  ends {end:5.0f}  " + " ".join(steps))
PY
    fi
    if [ "$BENCH_MODE" = none ]; then
        echo "NOTE: no added latency (plain loopback): round-trip counts are meaningless and the"
        echo "      figures mostly measure process start-up and CPU, not the 50 ms claim."
    fi
    if grep -q ' 0$' "$BENCH_TMP/results"; then
        cp -r "$BENCH_TMP" "/tmp/smtpprobe-bench-logs.$$"
        echo "logs kept in /tmp/smtpprobe-bench-logs.$$"
    fi
}

# ----------------------------------------------------------------------------
# Outer half: checks, namespace, latency, then the inner half.
# ----------------------------------------------------------------------------
if [ "${1:-}" = --inner ]; then
    inner
    exit 0
fi

SMTPPROBE=${SMTPPROBE:-$REPO/build/smtpprobe}
case $SMTPPROBE in /*) ;; *) SMTPPROBE=$PWD/$SMTPPROBE ;; esac
[ -x "$SMTPPROBE" ] || die "no executable smtpprobe at $SMTPPROBE (build it, or set SMTPPROBE=)"
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_RTT_MS=${BENCH_RTT_MS:-50}
BENCH_LATENCY=${BENCH_LATENCY:-auto}
BENCH_PORT=${BENCH_PORT:-2525}
case $BENCH_RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer" ;; esac
case $BENCH_RTT_MS in '' | *[!0-9]*) die "BENCH_RTT_MS must be an integer (ms)" ;; esac
case $BENCH_LATENCY in auto | netem | veth | nfqueue | proxy | none) ;; *) die "BENCH_LATENCY: auto | netem | veth | nfqueue | proxy | none" ;; esac
[ "${BENCH_RUNS}" -le 50 ] || die "BENCH_RUNS at most 50"

command -v openssl >/dev/null 2>&1 || die "openssl not installed (apt-get install openssl)"
if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "/usr/bin/time missing: installing Debian package 'time'"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null ||
            die "apt-get install time failed"
    else
        die "/usr/bin/time missing (apt-get install time)"
    fi
fi

BENCH_TMP=$(mktemp -d /tmp/smtpprobe-bench.XXXXXX)
NS=smtpprobe-bench-$$
SERVER_NS=$NS-server
NETNS=0
INNER_PID=''
cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    if [ -n "$INNER_PID" ]; then
        # The inner half runs in a session (and process group) of its own, so
        # this reaches it and everything it started, and nothing else.
        for i in 1 2 3 4 5 6 7 8 9 10; do
            kill -TERM -- "-$INNER_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL -- "-$INNER_PID" 2>/dev/null || true
    fi
    [ "$NETNS" = 1 ] && netns_destroy "$NS"
    [ "${BENCH_MODE:-}" = veth ] && netns_destroy "$SERVER_NS"
    rm -rf "$BENCH_TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

why_no_netns=''
if netns_create "$NS"; then
    NETNS=1
else
    why_no_netns=$NETNS_WHY
fi
[ "$NETNS" = 1 ] || say "no network namespace ($why_no_netns): using the host's 127.0.0.1"

BENCH_MODE=none
BENCH_HOST=127.0.0.1 BENCH_SERVER_NS=''
one_way=$((BENCH_RTT_MS / 2))
if [ "$BENCH_LATENCY" = auto ] || [ "$BENCH_LATENCY" = netem ]; then
    why_no_netem=''
    if [ "$NETNS" != 1 ]; then
        why_no_netem="needs the private namespace ($why_no_netns); netem is never put on the host's lo"
    elif netns_netem "$NS" "$one_way"; then
        BENCH_MODE=netem
    else
        why_no_netem=$NETNS_WHY
    fi
    if [ "$BENCH_MODE" != netem ]; then
        say "netem unavailable: $why_no_netem"
        [ "$BENCH_LATENCY" = netem ] && die "BENCH_LATENCY=netem was asked for"
    fi
fi
# Without netem, a kernel packet delay all the same, first as issue 21 measured it: the
# emulator in a second namespace behind a veth pair, an NFQUEUE rule on INPUT of each end and
# nfq_delay holding every packet one_way ms (lib/bench_common.sh).
if [ "$BENCH_MODE" = none ] && { [ "$BENCH_LATENCY" = auto ] || [ "$BENCH_LATENCY" = veth ]; }; then
    why_no_veth=''
    BENCH_MODE=veth # so that the EXIT trap deletes a half-made server namespace
    if [ "$NETNS" != 1 ]; then
        why_no_veth="needs the private namespace ($why_no_netns)"
    elif netns_veth "$NS" "$SERVER_NS" "$one_way" "$BENCH_TMP"; then
        BENCH_HOST=10.250.0.1 BENCH_SERVER_NS=$SERVER_NS
    else
        why_no_veth=$NETNS_WHY
    fi
    if [ -n "$why_no_veth" ]; then
        [ "$NETNS" = 1 ] && netns_destroy "$SERVER_NS"
        BENCH_MODE=none
        say "veth delay unavailable: $why_no_veth"
        [ "$BENCH_LATENCY" = veth ] && die "BENCH_LATENCY=veth was asked for"
    fi
fi
# Else an iptables NFQUEUE rule on the
# namespace's lo hands every TCP packet to nfq_delay, which holds it one_way ms and accepts it
# (lib/bench_common.sh). It runs in the namespace, so the EXIT trap stops it with the rest.
if [ "$BENCH_MODE" = none ] && { [ "$BENCH_LATENCY" = auto ] || [ "$BENCH_LATENCY" = nfqueue ]; }; then
    why_no_nfqueue=''
    if [ "$NETNS" != 1 ]; then
        why_no_nfqueue="needs the private namespace ($why_no_netns)"
    elif netns_nfqueue "$NS" "$one_way" "$BENCH_TMP"; then
        BENCH_MODE=nfqueue
    else
        why_no_nfqueue=$NETNS_WHY
    fi
    if [ "$BENCH_MODE" != nfqueue ]; then
        say "NFQUEUE delay unavailable: $why_no_nfqueue"
        [ "$BENCH_LATENCY" = nfqueue ] && die "BENCH_LATENCY=nfqueue was asked for"
    fi
fi
if [ "$BENCH_MODE" = none ] && { [ "$BENCH_LATENCY" = auto ] || [ "$BENCH_LATENCY" = proxy ]; }; then
    if command -v python3 >/dev/null 2>&1; then
        BENCH_MODE=proxy
        say "falling back to the userspace delay proxy (tests/bench/delay_proxy.py)"
    else
        say "python3 missing: no delay proxy either"
        [ "$BENCH_LATENCY" = proxy ] && die "BENCH_LATENCY=proxy was asked for"
    fi
fi
case $BENCH_MODE in
netem) BENCH_LATENCY_LABEL="netem delay ${one_way}ms on lo of namespace $NS (RTT ${BENCH_RTT_MS} ms)" ;;
veth) BENCH_LATENCY_LABEL="kernel packet delay: a veth pair to namespace $SERVER_NS, iptables NFQUEUE on INPUT of each end + nfq_delay holding every packet ${one_way} ms (RTT ${BENCH_RTT_MS} ms; netem unavailable)" ;;
nfqueue) BENCH_LATENCY_LABEL="kernel packet delay: iptables NFQUEUE + nfq_delay holding every packet ${one_way} ms on lo (RTT ${BENCH_RTT_MS} ms; netem unavailable)" ;;
proxy) BENCH_LATENCY_LABEL="userspace delay proxy, ${one_way} ms each way per chunk + TCP handshake emulated (RTT ${BENCH_RTT_MS} ms; NOT kernel netem)" ;;
none)
    BENCH_LATENCY_LABEL="NO ADDED LATENCY (plain loopback)"
    say "no added latency: plain loopback"
    ;;
esac
[ "$NETNS" = 1 ] && BENCH_LATENCY_LABEL+=", namespace $NS" || BENCH_LATENCY_LABEL+=", host loopback"

export SMTPPROBE BENCH_RUNS BENCH_RTT_MS BENCH_PORT BENCH_TMP BENCH_MODE BENCH_LATENCY_LABEL \
    BENCH_HOST BENCH_SERVER_NS
# In the background and waited for, so that INT/TERM reach our trap at once.
if [ "$NETNS" = 1 ]; then
    setsid ip netns exec "$NS" bash "$here/bench.sh" --inner &
else
    setsid bash "$here/bench.sh" --inner &
fi
INNER_PID=$!
rc=0
wait "$INNER_PID" || rc=$?
INNER_PID=''
exit "$rc"
