#include "emulator/listener.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace smtpprobe::emulator {
namespace {

constexpr int listen_backlog = 64;

std::string numeric_host(sockaddr_storage const& address, socklen_t length) {
    char host[NI_MAXHOST] = {};
    if (::getnameinfo(reinterpret_cast<sockaddr const*>(&address), length, host, sizeof host,
                      nullptr, 0, NI_NUMERICHOST) != 0) {
        return "unknown";
    }
    return host;
}

} // namespace

Listener::Listener(std::string const& host, unsigned short port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string const service = std::to_string(port);
    std::string const where = host + ":" + service;
    if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        throw std::runtime_error("emulator: bad listen address " + where + ": " +
                                 ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> list{found, ::freeaddrinfo};
    fd_.reset(::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       found->ai_protocol));
    if (fd_.get() < 0) {
        throw std::system_error(errno, std::system_category(), "emulator: socket " + where);
    }
    int const on = 1;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd_.get(), found->ai_addr, found->ai_addrlen) != 0) {
        throw std::system_error(errno, std::system_category(), "emulator: bind " + where);
    }
    if (::listen(fd_.get(), listen_backlog) != 0) {
        throw std::system_error(errno, std::system_category(), "emulator: listen " + where);
    }
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::system_error(errno, std::system_category(), "emulator: getsockname " + where);
    }
    char service_text[NI_MAXSERV] = {};
    if (::getnameinfo(reinterpret_cast<sockaddr*>(&address), length, nullptr, 0, service_text,
                      sizeof service_text, NI_NUMERICSERV) != 0) {
        throw std::runtime_error("emulator: cannot read the bound port of " + where);
    }
    port_ = static_cast<unsigned short>(std::stoul(service_text));
}

UniqueFd Listener::accept(std::string& client_ip) const {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    UniqueFd client{::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length,
                              SOCK_NONBLOCK | SOCK_CLOEXEC)};
    if (client.get() < 0) {
        return client;
    }
    // Replies go out in several writes (session tickets, then EHLO lines); without
    // TCP_NODELAY, Nagle holds the next one until the client's delayed ACK (~40 ms).
    int const one = 1;
    ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    client_ip = numeric_host(address, length);
    return client;
}

} // namespace smtpprobe::emulator
