#include "net/proxy_handshake.hpp"

#include <cstdio>

namespace smtpprobe::net {

std::string_view to_string(ProxyStep step) noexcept {
    switch (step) {
    case ProxyStep::connect:
        return "connecting to the proxy";
    case ProxyStep::greeting:
        return "SOCKS greeting";
    case ProxyStep::authentication:
        return "proxy authentication";
    case ProxyStep::request:
        return "CONNECT request";
    }
    return "proxy handshake";
}

std::string hex_bytes(std::string_view bytes, std::size_t limit) {
    std::string out;
    for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
        char text[4];
        std::snprintf(text, sizeof text, "%02x", static_cast<unsigned char>(bytes[i]));
        if (!out.empty())
            out += ' ';
        out += text;
    }
    if (bytes.size() > limit)
        out += " ...";
    return out;
}

std::string printable(std::string_view line, std::size_t limit) {
    std::string out;
    for (char c : line) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        auto const u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            char text[5];
            std::snprintf(text, sizeof text, "\\x%02x", u);
            out += text;
        }
    }
    return out;
}

} // namespace smtpprobe::net
