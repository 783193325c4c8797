#include "net/opener.hpp"

#include <cstdio>

namespace smtpprobe::net {

std::vector<Endpoint> resolve_system(std::string const& host, unsigned short port, Family family,
                                     Deadline deadline) {
    return resolve(host, port, family, deadline);
}

Opened open_tcp(OpenRequest const& request, std::vector<ConnectAttempt>& attempts) {
    std::unique_ptr<TcpTransport> tcp = TcpTransport::connect(
        *request.endpoints, request.per_address_timeout, request.deadline, &attempts);
    Endpoint const peer = tcp->peer();
    Opened out;
    out.transport = std::move(tcp);
    out.peer = peer;
    return out;
}

namespace {

std::string one_decimal(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", value);
    return text;
}

} // namespace

Opened open_connection(ConnectOptions const& options, OpenRequest const& request,
                       std::vector<ConnectAttempt>& attempts) {
    static std::vector<Endpoint> const none;
    ConnectTarget const where{request.host, request.port,
                              request.endpoints != nullptr ? *request.endpoints : none};
    Opened out;
    try {
        out.transport = connect(where, options, request.per_address_timeout, request.deadline,
                                out.info, request.log);
    } catch (std::system_error const&) {
        attempts.insert(attempts.end(), out.info.attempts.begin(), out.info.attempts.end());
        throw;
    }
    attempts.insert(attempts.end(), out.info.attempts.begin(), out.info.attempts.end());
    ConnectInfo const& info = out.info;
    out.peer = {info.peer, request.port, 0};
    std::string line = "Connected to " + (info.peer.empty() ? request.host : info.peer) + " port " +
                       std::to_string(request.port);
    if (options.proxy)
        line += " through the proxy" +
                (info.peer.empty() ? std::string(" (which resolved the name)") : std::string()) +
                (info.proxy_ms ? ", its handshake took " + one_decimal(*info.proxy_ms) + " ms"
                               : std::string());
    else if (options.source)
        line += " from " + info.local;
    out.description = std::move(line);
    return out;
}

std::string describe(Opened const& opened, unsigned short port) {
    if (!opened.description.empty())
        return opened.description;
    return "Connected to " + opened.peer.address + " port " + std::to_string(port);
}

} // namespace smtpprobe::net
