#include "exporter/allow_list.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace smtpprobe::exporter {
namespace {

constexpr std::size_t max_target_length = 261; // 253 (RFC 1035 name) + ":" + port, or [v6]:port

bool parse_number(std::string_view text, unsigned long max, unsigned long& out) {
    if (text.empty() || text.size() > 5)
        return false;
    std::from_chars_result const r = std::from_chars(text.data(), text.data() + text.size(), out);
    return r.ec == std::errc() && r.ptr == text.data() + text.size() && out <= max;
}

bool parse_port(std::string_view text, unsigned short& port) {
    unsigned long value = 0;
    if (!parse_number(text, 65535, value) || value == 0)
        return false;
    port = static_cast<unsigned short>(value);
    return true;
}

/// RFC 1123 host name: labels of letters, digits and hyphens, 1..63 octets, no leading or
/// trailing hyphen; at most 253 octets. Underscores are refused too (not a host name).
bool valid_dns_name(std::string_view name) {
    if (name.empty() || name.size() > 253)
        return false;
    if (name.back() == '.')
        name.remove_suffix(1);
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find('.', start);
        if (end == std::string_view::npos)
            end = name.size();
        std::string_view const label = name.substr(start, end - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
                return false;
        start = end + 1;
    }
    return true;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

/// Binary form of an IP literal: 4 or 16 octets, and the family; 0 when not a literal.
int parse_ip(std::string const& text, std::uint8_t (&out)[16]) {
    if (::inet_pton(AF_INET, text.c_str(), out) == 1)
        return AF_INET;
    if (::inet_pton(AF_INET6, text.c_str(), out) == 1)
        return AF_INET6;
    return 0;
}

bool in_network(AllowRule const& rule, std::string const& host) {
    std::uint8_t address[16]{};
    if (parse_ip(host, address) != rule.family)
        return false;
    int const full = rule.prefix / 8, rest = rule.prefix % 8;
    if (std::memcmp(address, rule.address, static_cast<std::size_t>(full)) != 0)
        return false;
    if (rest == 0)
        return true;
    auto const mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (address[full] & mask) == (rule.address[full] & mask);
}

} // namespace

std::string TargetAddress::text() const {
    std::string const shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return port == 0 ? shown : shown + ":" + std::to_string(port);
}

std::optional<TargetAddress> parse_target(std::string_view text, std::string& why) {
    if (text.empty()) {
        why = "missing target (give ?target=HOST:PORT)";
        return std::nullopt;
    }
    if (text.size() > max_target_length) {
        why = "target longer than " + std::to_string(max_target_length) + " octets";
        return std::nullopt;
    }
    TargetAddress target;
    std::string_view host = text, port;
    if (text.front() == '[') {
        std::size_t const close = text.find(']');
        if (close == std::string_view::npos) {
            why = "unbalanced [ in the target";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        std::string_view const after = text.substr(close + 1);
        if (!after.empty() && after.front() != ':') {
            why = "expected :PORT after ] in the target";
            return std::nullopt;
        }
        if (!after.empty())
            port = after.substr(1);
        if (host.find(':') == std::string_view::npos) {
            why = "only IPv6 addresses go in brackets";
            return std::nullopt;
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        std::size_t const colon = text.find(':');
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (port.empty()) {
            why = "empty port in the target";
            return std::nullopt;
        }
    }
    if (!port.empty() && !parse_port(port, target.port)) {
        why = "the port must be a number from 1 to 65535";
        return std::nullopt;
    }
    std::uint8_t binary[16]{};
    target.host = lower(host);
    int const family = parse_ip(target.host, binary);
    if (family != 0) {
        target.is_ip = true;
        return target;
    }
    if (host.find(':') != std::string_view::npos) {
        why = "not an IPv6 address (give IPv6 targets as [ADDRESS]:PORT)";
        return std::nullopt;
    }
    if (!valid_dns_name(target.host)) {
        why = "the target host is neither a DNS name nor an IP address";
        return std::nullopt;
    }
    return target;
}

bool AllowList::add(std::string_view text, std::string& why) {
    AllowRule rule;
    rule.pattern = std::string(text);
    std::string_view host, ports;
    if (!text.empty() && text.front() == '[') {
        std::size_t const close = text.find("]:");
        if (close == std::string_view::npos) {
            why = "\"" + rule.pattern + "\": expected [ADDRESS]:PORTS";
            return false;
        }
        host = text.substr(1, close - 1);
        ports = text.substr(close + 2);
    } else {
        std::size_t const colon = text.rfind(':');
        if (colon == std::string_view::npos || colon == 0) {
            why = "\"" + rule.pattern + "\": expected HOST:PORTS (e.g. smtp.example.com:587)";
            return false;
        }
        host = text.substr(0, colon);
        ports = text.substr(colon + 1);
    }
    if (ports == "*") {
        rule.port_min = 1;
        rule.port_max = 65535;
    } else if (std::size_t const dash = ports.find('-'); dash != std::string_view::npos) {
        if (!parse_port(ports.substr(0, dash), rule.port_min) ||
            !parse_port(ports.substr(dash + 1), rule.port_max) || rule.port_min > rule.port_max) {
            why = "\"" + rule.pattern + "\": bad port range";
            return false;
        }
    } else if (!parse_port(ports, rule.port_min)) {
        why = "\"" + rule.pattern + "\": the port must be a number, a range A-B or *";
        return false;
    } else {
        rule.port_max = rule.port_min;
    }
    std::string const host_text = lower(host);
    std::size_t const slash = host_text.find('/');
    std::string const address = host_text.substr(0, slash);
    if (int const family = parse_ip(address, rule.address); family != 0) {
        rule.kind = AllowRule::Kind::network;
        rule.family = family;
        int const bits = family == AF_INET ? 32 : 128;
        rule.prefix = bits;
        if (slash != std::string::npos) {
            unsigned long prefix = 0;
            if (!parse_number(std::string_view(host_text).substr(slash + 1),
                              static_cast<unsigned long>(bits), prefix)) {
                why = "\"" + rule.pattern + "\": the network prefix must be 0 to " +
                      std::to_string(bits);
                return false;
            }
            rule.prefix = static_cast<int>(prefix);
        }
    } else if (host_text.starts_with("*.") && valid_dns_name(host_text.substr(2))) {
        rule.kind = AllowRule::Kind::suffix;
        rule.name = host_text.substr(1);
    } else if (valid_dns_name(host_text)) {
        rule.kind = AllowRule::Kind::name;
        rule.name = host_text;
    } else {
        why = "\"" + rule.pattern +
              "\": the host must be a name, *.domain, an address or a network (a.b.c.d/n)";
        return false;
    }
    rules_.push_back(std::move(rule));
    return true;
}

bool AllowList::allows(TargetAddress const& target) const {
    return std::any_of(rules_.begin(), rules_.end(), [&](AllowRule const& rule) {
        if (target.port < rule.port_min || target.port > rule.port_max)
            return false;
        switch (rule.kind) {
        case AllowRule::Kind::name:
            return !target.is_ip && target.host == rule.name;
        case AllowRule::Kind::suffix:
            return !target.is_ip && target.host.size() > rule.name.size() &&
                   target.host.ends_with(rule.name);
        case AllowRule::Kind::network:
            return target.is_ip && in_network(rule, target.host);
        }
        return false;
    });
}

} // namespace smtpprobe::exporter
