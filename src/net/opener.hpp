#pragma once
// The two seams below a probe, as function values (ARCHITECTURE §11): how a name becomes
// addresses, and how a byte stream to one of them is opened. The CLI and the exporter use
// the real ones (getaddrinfo, TCP, or a proxy and a source address: open_connection); tests
// give a fake resolver or a replay transport.

#include "net/connect.hpp"
#include "net/resolve.hpp"
#include "net/tcp_transport.hpp"
#include "net/transport.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace smtpprobe::net {

/// Every address of `host` (deduplicated, in the order to try). Throws std::system_error
/// (errc::resolve_failed, timeout, interrupted).
using Resolver = std::function<std::vector<Endpoint>(std::string const& host, unsigned short port,
                                                     Family family, Deadline deadline)>;

/// What an opener is asked to reach.
struct OpenRequest {
    /// In the order to try; empty when a proxy resolves `host` (ProxySpec::proxy_resolves()).
    std::vector<Endpoint> const* endpoints = nullptr;
    std::chrono::milliseconds per_address_timeout{10'000};
    Deadline deadline = Deadline::max();
    std::string host; ///< the server's name, for a proxy
    unsigned short port = 0;
    ConnectLog log; ///< the transcript's "===" lines of this connection (proxy steps)
};

struct Opened {
    std::unique_ptr<Transport> transport;
    Endpoint peer; ///< address empty when the proxy resolved the name
    /// Local address, proxy address and timings, as far as the opener knows them.
    ConnectInfo info;
    /// "Connected to ADDR port N[ through the proxy...| from LOCAL]"; empty: say the peer.
    std::string description;
};

/// Opens a stream to one of request.endpoints. Throws std::system_error (errc::connect_failed,
/// interrupted); `attempts` gets one entry per address tried either way.
using Opener =
    std::function<Opened(OpenRequest const& request, std::vector<ConnectAttempt>& attempts)>;

/// The real ones: getaddrinfo (resolve() under the deadline) and TcpTransport::connect.
std::vector<Endpoint> resolve_system(std::string const& host, unsigned short port, Family family,
                                     Deadline deadline);
Opened open_tcp(OpenRequest const& request, std::vector<ConnectAttempt>& attempts);
/// net::connect() with `options` (source address, proxy): what probe() uses unless given an
/// opener. Throws as net::connect().
Opened open_connection(ConnectOptions const& options, OpenRequest const& request,
                       std::vector<ConnectAttempt>& attempts);
/// Opened::description, or "Connected to PEER port N" without one.
std::string describe(Opened const& opened, unsigned short port);

} // namespace smtpprobe::net
