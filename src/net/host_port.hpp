#pragma once
// HOST[:PORT] as users write it, the one parser: targets, the targets file, the exporter's
// ?target= and allow-list, proxy URLs, --listen and --source all go through it. Callers add
// what their place needs (a DNS-name check, a numeric address, a default port).

#include <stdexcept>
#include <string>
#include <string_view>

namespace smtpprobe::net {

/// What parse_host_port() throws. what() quotes the text ("\"h:0\": ..."); reason() does not,
/// for places that must not echo what they were given (the exporter's HTTP answers).
class HostPortError : public std::invalid_argument {
public:
    HostPortError(std::string_view text, std::string reason);
    std::string const& reason() const noexcept { return reason_; }

private:
    std::string reason_;
};

struct HostPort {
    std::string host;        ///< IPv6 without brackets
    unsigned short port = 0; ///< 0: not given
    bool bracketed = false;  ///< written as [HOST]: only IPv6 literals are (RFC 3986 §3.2.2)

    bool operator==(HostPort const&) const = default;
};

/// The two parts before the port is read, for places whose "port" is something else (the
/// exporter's allow-list takes "HOST:PORTS", a range). `port` is empty when there is no ':'.
struct HostPortText {
    std::string host;
    std::string port;
    bool has_port = false;
    bool bracketed = false;
};

/// Splits as parse_host_port() does, without reading the port. Throws std::invalid_argument.
HostPortText split_host_port(std::string_view text);

/// Parses "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address ("2001:db8::1",
/// more than one ':', no port). The port is 1 to 65535. Throws HostPortError (a
/// std::invalid_argument) with a message that quotes the text and says what is wrong; the caller
/// prefixes where it came from
/// ("--source: ...").
HostPort parse_host_port(std::string_view text);

/// "host:port", IPv6 in brackets; the port left out when 0.
std::string join_host_port(std::string_view host, unsigned short port);

/// A port number, 1 to 65535, digits only. Throws std::invalid_argument.
unsigned short parse_port(std::string_view text);

} // namespace smtpprobe::net
