#pragma once
// The two seams below a probe, as function values (ARCHITECTURE §11): how a name becomes
// addresses, and how a byte stream to one of them is opened. The CLI and the exporter use
// the real ones (getaddrinfo, TCP); tests give a fake resolver or a replay transport; a proxy
// is another opener.

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
    std::vector<Endpoint> const* endpoints = nullptr; ///< in the order to try
    std::chrono::milliseconds per_address_timeout{10'000};
    Deadline deadline = Deadline::max();
};

struct Opened {
    std::unique_ptr<Transport> transport;
    Endpoint peer;
};

/// Opens a stream to one of request.endpoints. Throws std::system_error (errc::connect_failed,
/// interrupted); `attempts` gets one entry per address tried either way.
using Opener =
    std::function<Opened(OpenRequest const& request, std::vector<ConnectAttempt>& attempts)>;

/// The real ones: getaddrinfo (resolve() under the deadline) and TcpTransport::connect.
std::vector<Endpoint> resolve_system(std::string const& host, unsigned short port, Family family,
                                     Deadline deadline);
Opened open_tcp(OpenRequest const& request, std::vector<ConnectAttempt>& attempts);

} // namespace smtpprobe::net
