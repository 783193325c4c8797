# shellcheck shell=bash
# Sourced by the benchmarks in tests/bench/ (bench.sh, batch_bench.sh, fleet_exporter_bench.sh).
#
# A network namespace of their own and a kernel packet delay on its lo, netem when the kernel
# has it, else an iptables-legacy NFQUEUE rule and nfq_delay.c. The host's network is never
# touched. Every netns_ function sets NETNS_WHY to the reason when it returns non-zero.
#
#   netns_create NS               ip netns add NS, lo up (root only)
#   netns_netem NS ONE_WAY_MS     netem on NS's lo: every packet waits ONE_WAY_MS
#   netns_nfqueue NS ONE_WAY_MS DIR [PORTS]
#                                 builds nfq_delay into DIR, adds the NFQUEUE rule on NS's lo
#                                 (INPUT; only TCP to or from PORTS, e.g. 20000:20999, when
#                                 given) and starts nfq_delay there at real-time priority; sets
#                                 NETNS_NFQ_PID and leaves its log in DIR/nfq_delay-NS.log
#   netns_veth NS SERVER_NS ONE_WAY_MS DIR
#                                 a second namespace SERVER_NS joined to NS by a veth pair made
#                                 inside them (NS 10.250.0.2, SERVER_NS 10.250.0.1, never on
#                                 the host), with an NFQUEUE rule on INPUT of each end and an
#                                 nfq_delay in each namespace: every packet waits ONE_WAY_MS
#                                 once. Issue 21's method: on lo the same delay made one
#                                 s_client session 1.4 x slower (tests/bench/README.md)
#   netns_destroy NS              stops every process in NS (TERM, then KILL), deletes NS
#   inner_traps                   for the inner half: what it starts goes into PIDS, and the
#                                 EXIT trap (also on INT and TERM) stops them
#   bench_cleanup PID NETNS NS DIR  the outer half's EXIT trap: the inner half's process group
#                                 (PID, started with setsid), the namespace when NETNS is 1, DIR
#
# And what the fleet benchmarks share:
#   start_emulators BASE COUNT SERVERS CAP DIR
#                                 SERVERS `smtpprobe emulate` processes (azure-acs) serving
#                                 COUNT ports from BASE between them, --max-connections CAP;
#                                 waits until they listen; PIDs in EMULATOR_PIDS, all their CAs
#                                 in DIR/cas.pem
#   use_realistic_store DIR CA_PEM  exports SSL_CERT_FILE and SSL_CERT_DIR for the realistic store
#                                 and sets STORE_LABEL
#   proc_cpu_seconds PID          user + system CPU seconds so far, from /proc
#
# Why the hook is INPUT: a packet held on OUTPUT still counts against its sender's socket, and
# TCP small queues and autocorking then hold back that socket's next writes. Each packet on lo
# passes INPUT once, so each direction is delayed once and the round trip is 2 x ONE_WAY_MS.
# --queue-bypass lets packets through undelayed, not dropped, when nfq_delay is gone.

NETNS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NETNS_WHY=''
NETNS_NFQ_PID=''

netns_create() { # NS
    NETNS_WHY=''
    if [ "$(id -u)" != 0 ]; then
        NETNS_WHY="not root"
    elif ! command -v ip >/dev/null 2>&1; then
        NETNS_WHY="no 'ip' command (apt-get install iproute2)"
    elif ! NETNS_WHY=$(ip netns add "$1" 2>&1); then
        NETNS_WHY="ip netns add failed: $NETNS_WHY"
    elif ! NETNS_WHY=$(ip -n "$1" link set lo up 2>&1); then
        ip netns del "$1" 2>/dev/null || true
        NETNS_WHY="cannot bring up lo in namespace $1: $NETNS_WHY"
    else
        NETNS_WHY=''
        return 0
    fi
    return 1
}

netns_netem() { # NS ONE_WAY_MS
    NETNS_WHY=''
    if ! command -v tc >/dev/null 2>&1; then
        NETNS_WHY="no 'tc' command (apt-get install iproute2)"
        return 1
    fi
    command -v modprobe >/dev/null 2>&1 && { modprobe sch_netem 2>/dev/null || true; }
    if NETNS_WHY=$(ip netns exec "$1" tc qdisc add dev lo root netem delay "${2}ms" limit 100000 2>&1); then
        NETNS_WHY=''
        return 0
    fi
    NETNS_WHY="tc qdisc add ... netem failed: $NETNS_WHY"
    command -v modprobe >/dev/null 2>&1 || NETNS_WHY+=" (no modprobe; kernel $(uname -r)"`
        `"$([ -d "/lib/modules/$(uname -r)" ] || echo ', no /lib/modules'))"
    return 1
}

netns_nfqueue() { # NS ONE_WAY_MS DIR [PORTS]
    NETNS_WHY='' NETNS_NFQ_PID=''
    nfq_build "$3" && nfq_start "$1" "$2" "$3" lo "${4:-}"
}

nfq_build() { # DIR: nfq_delay.c built into DIR/nfq_delay
    local err
    if ! command -v iptables-legacy >/dev/null 2>&1; then
        NETNS_WHY="no iptables-legacy (apt-get install iptables)"
    elif ! command -v cc >/dev/null 2>&1; then
        NETNS_WHY="no C compiler (apt-get install gcc)"
    elif ! err=$(cc -O2 -o "$1/nfq_delay" "$NETNS_LIB_DIR/../nfq_delay.c" -lnetfilter_queue 2>&1); then
        NETNS_WHY="cannot build nfq_delay.c (apt-get install libnetfilter-queue-dev): ${err%%$'\n'*}"
    else
        return 0
    fi
    return 1
}

nfq_start() { # NS ONE_WAY_MS DIR INTERFACE [PORTS]: the NFQUEUE rule on NS's INPUT, and nfq_delay
    local ns=$1 one_way=$2 dir=$3 dev=$4 ports=${5:-} match=() err log=$3/nfq_delay-$1.log
    [ -z "$ports" ] || match=(-m multiport --ports "$ports")
    if ! err=$(ip netns exec "$ns" iptables-legacy -A INPUT -i "$dev" -p tcp "${match[@]}" \
        -j NFQUEUE --queue-num 0 --queue-bypass 2>&1); then
        NETNS_WHY="iptables-legacy -j NFQUEUE failed in $ns: $err"
        return 1
    fi
    # Real-time priority: on a loaded machine a late wake-up would add to every packet.
    ip netns exec "$ns" chrt -f 10 "$dir/nfq_delay" 0 "$one_way" >"$log" 2>&1 &
    NETNS_NFQ_PID=$!
    for _ in $(seq 1 50); do # at most 5 s for its start line
        grep -q '^nfq_delay: queue' "$log" && return 0
        kill -0 "$NETNS_NFQ_PID" 2>/dev/null || break
        sleep 0.1
    done
    NETNS_WHY="nfq_delay did not start in $ns: $(head -c 300 "$log")"
    return 1
}

netns_veth() { # NS SERVER_NS ONE_WAY_MS DIR
    local ns=$1 srv=$2 one_way=$3 dir=$4 err
    NETNS_WHY=''
    nfq_build "$dir" || return 1
    netns_create "$srv" || return 1
    # Made inside NS with its peer placed straight into SERVER_NS: the host never sees it.
    if ! err=$({ ip -n "$ns" link add bench0 type veth peer name bench0 netns "$srv" &&
        ip -n "$ns" addr add 10.250.0.2/24 dev bench0 &&
        ip -n "$srv" addr add 10.250.0.1/24 dev bench0 &&
        ip -n "$ns" link set bench0 up && ip -n "$srv" link set bench0 up; } 2>&1); then
        NETNS_WHY="veth pair: $err"
        return 1
    fi
    nfq_start "$ns" "$one_way" "$dir" bench0 && nfq_start "$srv" "$one_way" "$dir" bench0
}

netns_destroy() { # NS: only processes in our own namespace, all of them started by the caller
    local i p
    for i in 1 2 3; do
        p=$(ip netns pids "$1" 2>/dev/null || true)
        [ -n "$p" ] || break
        # shellcheck disable=SC2086  # a list of pids
        if [ "$i" = 3 ]; then kill -9 $p; else kill $p; fi 2>/dev/null || true
        sleep 0.2
    done
    ip netns del "$1" 2>/dev/null || true
}

inner_traps() {
    PIDS=() # global: the EXIT trap runs after the inner function has returned
    trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_cleanup() { # INNER_PID NETNS NS DIR
    if [ -n "$1" ]; then
        kill -TERM -- "-$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
    [ "$2" != 1 ] || netns_destroy "$3"
    rm -rf "$4"
}

wait_listen() { # PORT WHAT: at most 20 s until something accepts on 127.0.0.1:PORT
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    printf '%s does not listen on 127.0.0.1:%s\n' "$2" "$1" >&2
    return 1
}

EMULATOR_PIDS=()
start_emulators() { # BASE COUNT SERVERS CAP DIR (SMTPPROBE and REPO from the caller)
    local base=$1 total=$2 servers=$3 cap=$4 dir=$5 k count port=$1
    for ((k = 0; k < servers; k++)); do
        count=$((total / servers + (k < total % servers ? 1 : 0)))
        "$SMTPPROBE" emulate --profile "$REPO/samples/servers/azure-acs.json" \
            --listen "127.0.0.1:$port" --count "$count" --max-connections "$cap" \
            --ca-out "$dir/ca$k.pem" >"$dir/emulator$k.log" 2>&1 &
        EMULATOR_PIDS+=($!)
        port=$((port + count))
    done
    for ((k = 0; k < total; k += (total > 16 ? total / 16 : 1))); do
        wait_listen $((base + k)) emulator || return 1
    done
    wait_listen $((base + total - 1)) emulator || return 1
    cat "$dir"/ca*.pem >"$dir/cas.pem"
}

use_realistic_store() { # DIR CA_PEM
    local file dir certs
    read -r file dir certs < <(realistic_store "$1" "$2")
    export SSL_CERT_FILE=$file SSL_CERT_DIR=$dir
    # shellcheck disable=SC2034  # read by the caller
    STORE_LABEL="realistic: SSL_CERT_FILE = the system bundle + the test CAs ($certs certificates), empty SSL_CERT_DIR"
}

# CPU seconds (utime + stime) of a process so far, from /proc (0 once it is gone).
proc_cpu_seconds() { # PID
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# The realistic trust store (as truststore_bench.py builds it): a private copy of the system
# bundle (OpenSSL's default file) with the test CAs appended, and an empty directory, for
# SSL_CERT_FILE and SSL_CERT_DIR. Prints "FILE DIR CERTS" (CERTS: certificates in FILE).
realistic_store() { # DIR CA_PEM...
    local dir=$1 bundle
    shift
    bundle=$(openssl version -d | sed -n 's/^OPENSSLDIR: "\(.*\)"$/\1/p')/cert.pem
    bundle=$(realpath "${SSL_CERT_FILE:-$bundle}")
    cat "$bundle" "$@" >"$dir/bundle-plus-test-ca.pem"
    mkdir -p "$dir/empty-cert-dir"
    echo "$dir/bundle-plus-test-ca.pem $dir/empty-cert-dir $(grep -c 'BEGIN CERTIFICATE' "$dir/bundle-plus-test-ca.pem")"
}
