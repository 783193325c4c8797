#pragma once
// Opening a connection the way the run asks: directly or through a proxy (SOCKS5, HTTP
// CONNECT), from a chosen local address. Every connection of a run goes through connect().

#include "net/proxy_handshake.hpp"
#include "net/proxy_spec.hpp"
#include "net/resolve.hpp"
#include "net/tcp_transport.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::net {

/// --source ADDR or ADDR:PORT ("[v6]:PORT").
struct SourceAddress {
    std::string address; ///< numeric
    unsigned short port = 0;
    int family = 0; ///< AF_INET / AF_INET6
    std::string display() const;
};

/// Parses --source. Throws std::invalid_argument naming what is wrong.
SourceAddress parse_source(std::string_view text);

/// Everything about how connections are made, passed through as one value.
struct ConnectOptions {
    Family family = Family::any;
    std::optional<SourceAddress> source;
    std::optional<ProxySpec> proxy;
    /// Why a configured proxy is not used for this target (NO_PROXY), for the report.
    std::string proxy_bypass_reason;
};

/// What connect() learnt, for the report and the transcript.
struct ConnectInfo {
    std::string peer;          ///< the server's address, if known (not when the proxy resolved it)
    std::string local;         ///< "127.0.0.2 port 41234": our end of the TCP connection
    std::string proxy_address; ///< the proxy's address we reached
    std::string proxy_bound;   ///< the proxy's outbound address, if it said
    double connect_ms = 0;     ///< TCP connect (to the server, or to the proxy)
    std::optional<double> proxy_ms; ///< the proxy handshake
    std::vector<ConnectAttempt> attempts;
};

/// Where to connect: the host and port, and the addresses resolved here (may be empty when
/// the proxy resolves the name: see ProxySpec::proxy_resolves()).
struct ConnectTarget {
    std::string host;
    unsigned short port = 0;
    std::vector<Endpoint> endpoints;
};

/// A line for the transcript's "===" notation.
using ConnectLog = std::function<void(std::string const& line)>;

/// Connects. The TCP connect gets `connect_timeout` per address; the proxy handshake its own
/// `connect_timeout` (both capped by `deadline`). Throws std::system_error: connect_failed /
/// timeout / interrupted as TcpTransport::connect, resolve_failed for the proxy's name, and
/// proxy_failed with "proxy socks5://h:p: <step>: <what>" in what().
std::unique_ptr<TcpTransport> connect(ConnectTarget const& target, ConnectOptions const& options,
                                      std::chrono::milliseconds connect_timeout, Deadline deadline,
                                      ConnectInfo& info, ConnectLog const& log = {});

/// Runs `handshake` over `transport` until done; throws proxy_failed (message without the
/// proxy's name) or interrupted. Exposed for the tests' scripted proxies.
void run_proxy_handshake(ProxyHandshake& handshake, TcpTransport& transport, Deadline deadline,
                         ConnectLog const& log);

} // namespace smtpprobe::net
