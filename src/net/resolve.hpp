#pragma once

#include "net/deadline.hpp"

#include <string>
#include <vector>

namespace smtpprobe::net {

enum class Family { any, ipv4, ipv6 };

struct Endpoint {
    std::string address; ///< numeric form, "192.0.2.1" or "2001:db8::1"
    unsigned short port = 0;
    int family = 0; ///< AF_INET / AF_INET6
};

/// Every A/AAAA address of host, in getaddrinfo order, deduplicated. Throws std::system_error
/// (net::errc::resolve_failed) with gai_strerror's text in what().
std::vector<Endpoint> resolve(std::string const& host, unsigned short port, Family family);

/// resolve() under a deadline. getaddrinfo() cannot be cancelled, so it runs on a detached
/// thread; past the deadline (or on SIGINT) this throws net::errc::timeout / interrupted and
/// the lookup finishes unobserved.
std::vector<Endpoint> resolve(std::string const& host, unsigned short port, Family family,
                              Deadline deadline);

/// True for "localhost", 127.0.0.0/8 and ::1.
bool is_loopback(std::string const& host) noexcept;

/// True for an IPv4 or IPv6 literal (no brackets).
bool is_ip_literal(std::string const& host) noexcept;

} // namespace smtpprobe::net
