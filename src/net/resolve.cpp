#include "net/resolve.hpp"

#include "net/errc.hpp"
#include "net/interrupt.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <future>
#include <memory>
#include <system_error>
#include <thread>

namespace smtpprobe::net {

bool is_loopback(std::string const& host) noexcept {
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    return host == "localhost" || host == "::1";
}

bool is_ip_literal(std::string const& host) noexcept {
    unsigned char buffer[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::vector<Endpoint> resolve(std::string const& host, unsigned short port, Family family) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = family == Family::ipv4   ? AF_INET
                      : family == Family::ipv6 ? AF_INET6
                                               : AF_UNSPEC;
    hints.ai_flags = AI_ADDRCONFIG;
    if (is_ip_literal(host))
        hints.ai_flags = AI_NUMERICHOST;
    addrinfo* list = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
    if (rc == EAI_BADFLAGS || (rc != 0 && hints.ai_flags == AI_ADDRCONFIG)) {
        hints.ai_flags = 0; // AI_ADDRCONFIG hides ::1/127.0.0.1 on hosts with no other address
        rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
    }
    if (rc != 0)
        throw std::system_error(errc::resolve_failed, host + ": " + ::gai_strerror(rc));
    std::vector<Endpoint> out;
    for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        void const* addr =
            ai->ai_family == AF_INET
                ? static_cast<void const*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                : static_cast<void const*>(
                      &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        ::inet_ntop(ai->ai_family, addr, text, sizeof text);
        Endpoint e{text, port, ai->ai_family};
        if (std::none_of(out.begin(), out.end(),
                         [&](Endpoint const& o) { return o.address == e.address; }))
            out.push_back(e);
    }
    ::freeaddrinfo(list);
    if (out.empty())
        throw std::system_error(errc::resolve_failed, host + ": no IPv4 or IPv6 address");
    return out;
}

std::vector<Endpoint> resolve(std::string const& host, unsigned short port, Family family,
                              Deadline deadline) {
    auto task = std::make_shared<std::packaged_task<std::vector<Endpoint>()>>(
        [host, port, family] { return resolve(host, port, family); });
    std::future<std::vector<Endpoint>> result = task->get_future();
    std::thread([task] { (*task)(); }).detach();
    // Wake up now and then to notice SIGINT; bounded by the deadline.
    for (int round = 0; round < 1'000'000; ++round) {
        if (interrupted())
            throw std::system_error(errc::interrupted);
        int const left = remaining_ms(deadline);
        if (result.wait_for(std::chrono::milliseconds(std::min(left, 100))) ==
            std::future_status::ready)
            return result.get();
        if (left == 0)
            break;
    }
    throw std::system_error(errc::timeout, host + ": the name did not resolve in time");
}

} // namespace smtpprobe::net
