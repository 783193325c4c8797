#include "net/connect.hpp"

#include "net/errc.hpp"
#include "net/host_port.hpp"
#include "net/http_connect.hpp"
#include "net/interrupt.hpp"
#include "net/socks5.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>

namespace smtpprobe::net {
namespace {

/// what() without the ": <category message>" std::system_error appends.
std::string detail(std::system_error const& e) {
    std::string text = e.what();
    std::string const suffix = ": " + e.code().message();
    if (text.size() > suffix.size() && text.ends_with(suffix))
        text.resize(text.size() - suffix.size());
    return text;
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::unique_ptr<ProxyHandshake> make_handshake(ProxySpec const& proxy, std::string const& host,
                                               unsigned short port) {
    if (proxy.scheme == ProxyScheme::http) {
        HttpConnectRequest request;
        request.host = host;
        request.port = port;
        request.user = proxy.user;
        request.password = proxy.password;
        request.user_agent = std::string("smtpprobe/") + SMTPPROBE_VERSION;
        return std::make_unique<HttpConnectHandshake>(std::move(request));
    }
    return std::make_unique<Socks5Handshake>(Socks5Request{host, port, proxy.user, proxy.password});
}

} // namespace

std::string SourceAddress::display() const {
    return port == 0 ? address : join_host_port(address, port);
}

SourceAddress parse_source(std::string_view text) {
    HostPort address;
    try {
        address = parse_host_port(text);
    } catch (std::invalid_argument const& e) {
        throw std::invalid_argument(std::string("--source: ") + e.what());
    }
    SourceAddress out{address.host, address.port, 0};
    unsigned char buffer[sizeof(in6_addr)];
    if (!address.bracketed && ::inet_pton(AF_INET, out.address.c_str(), buffer) == 1)
        out.family = AF_INET;
    else if (::inet_pton(AF_INET6, out.address.c_str(), buffer) == 1)
        out.family = AF_INET6;
    else
        throw std::invalid_argument("--source takes a local IP address (optionally :PORT), not \"" +
                                    std::string(text) + "\"");
    return out;
}

void run_proxy_handshake(ProxyHandshake& handshake, TcpTransport& transport, Deadline deadline,
                         ConnectLog const& log) {
    auto flush_notes = [&] {
        for (std::string const& line : handshake.take_notes())
            if (log)
                log(line);
    };
    auto failed = [&] {
        flush_notes();
        throw std::system_error(errc::proxy_failed, std::string(to_string(handshake.step())) +
                                                        ": " + handshake.error());
    };
    ProxyProgress progress = handshake.start();
    char buffer[4096];
    // Every round sends or receives; the handshakes are a few messages long, the HTTP header
    // at most max_header bytes, so this bound is never reached by a proxy that makes progress.
    for (int round = 0; round < 10'000; ++round) {
        flush_notes();
        if (progress.state == ProxyProgress::State::failed)
            failed();
        if (!progress.send.empty()) {
            try {
                transport.send_all(progress.send, deadline);
            } catch (std::system_error const& e) {
                if (e.code() == errc::interrupted)
                    throw;
                progress = handshake.stop(e.code() == errc::closed_by_peer);
                failed();
            }
        }
        if (progress.state == ProxyProgress::State::done) {
            if (!handshake.leftover().empty())
                transport.unread(handshake.leftover());
            return;
        }
        std::size_t got = 0;
        try {
            got = transport.receive_some(buffer, sizeof buffer, deadline);
        } catch (std::system_error const& e) {
            if (e.code() == errc::interrupted)
                throw;
            progress = handshake.stop(e.code() != errc::timeout);
            failed();
        }
        if (got == 0) {
            progress = handshake.stop(true);
            failed();
        }
        progress = handshake.feed(std::string_view(buffer, got));
    }
    progress = handshake.stop(false);
    failed();
}

std::unique_ptr<TcpTransport> connect(ConnectTarget const& target, ConnectOptions const& options,
                                      std::chrono::milliseconds connect_timeout, Deadline deadline,
                                      ConnectInfo& info, ConnectLog const& log) {
    SourceAddress const* source = options.source ? &*options.source : nullptr;
    if (!options.proxy) {
        Clock::time_point const start = Clock::now();
        std::unique_ptr<TcpTransport> transport = TcpTransport::connect(
            target.endpoints, connect_timeout, deadline, &info.attempts, source);
        info.connect_ms = ms_since(start);
        info.peer = transport->peer().address;
        info.local = transport->local_address();
        return transport;
    }
    ProxySpec const& proxy = *options.proxy;
    std::string const name = "proxy " + proxy.display();
    // The names to ask the proxy for: the addresses resolved here (socks5://), or the name.
    std::vector<std::string> hosts;
    if (proxy.proxy_resolves() || target.endpoints.empty())
        hosts.push_back(target.host);
    else
        for (Endpoint const& e : target.endpoints)
            hosts.push_back(e.address);
    std::vector<Endpoint> proxy_endpoints;
    try {
        // The family (-4/-6) is the server's, not the proxy's.
        proxy_endpoints = resolve(proxy.host, proxy.port, Family::any,
                                  earliest(Clock::now() + connect_timeout, deadline));
    } catch (std::system_error const& e) {
        if (e.code() == errc::interrupted)
            throw;
        throw std::system_error(errc::proxy_failed,
                                name + ": resolving the proxy's name: " + detail(e));
    }
    std::string summary;
    for (std::string const& host : hosts) {
        Clock::time_point const start = Clock::now();
        std::unique_ptr<TcpTransport> transport;
        std::vector<ConnectAttempt> attempts;
        try {
            transport = TcpTransport::connect(proxy_endpoints, connect_timeout, deadline, &attempts,
                                              source);
        } catch (std::system_error const& e) {
            if (e.code() == errc::interrupted)
                throw;
            throw std::system_error(errc::proxy_failed,
                                    name + ": " + std::string(to_string(ProxyStep::connect)) +
                                        ": " + detail(e));
        }
        info.connect_ms = ms_since(start);
        info.proxy_address =
            transport->peer().address + " port " + std::to_string(transport->peer().port);
        info.local = transport->local_address();
        if (log)
            log("Connected to the " + name + " at " + info.proxy_address + " from " + info.local +
                (proxy.from_environment ? " (from " + proxy.environment_variable + ")" : ""));
        std::unique_ptr<ProxyHandshake> handshake;
        try {
            handshake = make_handshake(proxy, host, target.port);
        } catch (std::invalid_argument const& e) {
            throw std::system_error(errc::proxy_failed, name + ": " + e.what());
        }
        Clock::time_point const handshake_start = Clock::now();
        try {
            run_proxy_handshake(*handshake, *transport,
                                earliest(Clock::now() + connect_timeout, deadline), log);
        } catch (std::system_error const& e) {
            info.proxy_ms = ms_since(handshake_start);
            if (e.code() == errc::interrupted)
                throw;
            std::string const message = name + ": " + detail(e);
            // A SOCKS refusal of one address of several: the next may do.
            bool const next = handshake->step() == ProxyStep::request && &host != &hosts.back() &&
                              proxy.scheme == ProxyScheme::socks5 && Clock::now() < deadline;
            if (!next)
                throw std::system_error(errc::proxy_failed,
                                        summary.empty() ? message : summary + "; " + message);
            summary += (summary.empty() ? "" : "; ") + message;
            continue;
        }
        info.proxy_ms = ms_since(handshake_start);
        info.proxy_bound = handshake->bound_address();
        info.peer = proxy.proxy_resolves() ? std::string() : host;
        info.attempts.push_back({host, ""});
        return transport;
    }
    throw std::system_error(errc::proxy_failed,
                            summary.empty() ? name + ": nothing to connect to" : summary);
}

} // namespace smtpprobe::net
