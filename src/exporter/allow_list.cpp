#include "exporter/allow_list.hpp"

#include "net/host_port.hpp"
#include "smtp/ascii.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

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
    try {
        port = net::parse_port(text);
        return true;
    } catch (std::invalid_argument const&) {
        return false;
    }
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
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-'))
                return false;
        start = end + 1;
    }
    return true;
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
    return net::join_host_port(host, port);
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
    net::HostPort address;
    try {
        address = net::parse_host_port(text);
    } catch (net::HostPortError const& e) {
        why = e.reason(); // not the text itself: the answer does not echo the URL
        return std::nullopt;
    }
    target.port = address.port;
    if (address.bracketed && address.host.find(':') == std::string::npos) {
        why = "only IPv6 addresses go in brackets";
        return std::nullopt;
    }
    std::uint8_t binary[16]{};
    target.host = smtp::to_lower(address.host);
    int const family = parse_ip(target.host, binary);
    if (family != 0) {
        target.is_ip = true;
        return target;
    }
    if (target.host.find(':') != std::string::npos) {
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
    net::HostPortText parts;
    try {
        parts = net::split_host_port(text);
    } catch (std::invalid_argument const& e) {
        why = e.what();
        return false;
    }
    if (!parts.has_port) {
        why = "\"" + rule.pattern + "\": expected HOST:PORTS (e.g. smtp.example.com:587)";
        return false;
    }
    std::string_view const ports = parts.port;
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
    std::string const host_text = smtp::to_lower(parts.host);
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
