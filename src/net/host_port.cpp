#include "net/host_port.hpp"

#include <charconv>
#include <stdexcept>

namespace smtpprobe::net {
namespace {

[[noreturn]] void bad(std::string_view text, std::string const& what) {
    throw HostPortError(text, what);
}

} // namespace

HostPortError::HostPortError(std::string_view text, std::string reason)
    : std::invalid_argument("\"" + std::string(text) + "\": " + reason),
      reason_(std::move(reason)) {}

unsigned short parse_port(std::string_view text) {
    unsigned value = 0;
    std::from_chars_result const r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || text.size() > 5 || r.ec != std::errc() ||
        r.ptr != text.data() + text.size() || value == 0 || value > 65535)
        bad(text, "not a port (1 to 65535)");
    return static_cast<unsigned short>(value);
}

HostPortText split_host_port(std::string_view text) {
    HostPortText out;
    if (text.empty())
        bad(text, "empty host");
    if (text.front() == '[') {
        std::size_t const close = text.find(']');
        if (close == std::string_view::npos)
            bad(text, "unbalanced [");
        out.host = std::string(text.substr(1, close - 1));
        out.bracketed = true;
        std::string_view const after = text.substr(close + 1);
        if (!after.empty() && after.front() != ':')
            bad(text, "expected :PORT after ]");
        out.has_port = !after.empty();
        if (out.has_port)
            out.port = std::string(after.substr(1));
    } else if (std::size_t const colon = text.find(':'); colon == std::string_view::npos) {
        out.host = std::string(text);
    } else if (text.find(':', colon + 1) != std::string_view::npos) {
        out.host = std::string(text); // a bare IPv6 address: no port
    } else {
        out.host = std::string(text.substr(0, colon));
        out.port = std::string(text.substr(colon + 1));
        out.has_port = true;
    }
    if (out.host.empty())
        bad(text, "missing host");
    if (out.has_port && out.port.empty())
        bad(text, "':' without a port");
    return out;
}

HostPort parse_host_port(std::string_view text) {
    HostPortText const parts = split_host_port(text);
    HostPort out{parts.host, 0, parts.bracketed};
    if (parts.has_port) {
        try {
            out.port = parse_port(parts.port);
        } catch (HostPortError const&) {
            bad(text, "the port must be a number from 1 to 65535");
        }
    }
    return out;
}

std::string join_host_port(std::string_view host, unsigned short port) {
    std::string shown = host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]"
                                                                 : std::string(host);
    return port == 0 ? shown : shown + ":" + std::to_string(port);
}

} // namespace smtpprobe::net
