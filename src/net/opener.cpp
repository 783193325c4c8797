#include "net/opener.hpp"

namespace smtpprobe::net {

std::vector<Endpoint> resolve_system(std::string const& host, unsigned short port, Family family,
                                     Deadline deadline) {
    return resolve(host, port, family, deadline);
}

Opened open_tcp(OpenRequest const& request, std::vector<ConnectAttempt>& attempts) {
    std::unique_ptr<TcpTransport> tcp = TcpTransport::connect(
        *request.endpoints, request.per_address_timeout, request.deadline, &attempts);
    Endpoint const peer = tcp->peer();
    return {std::move(tcp), peer};
}

} // namespace smtpprobe::net
