#include "net/proxy_spec.hpp"

#include "net/host_port.hpp"
#include "smtp/ascii.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace smtpprobe::net {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = smtp::ascii_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

// RFC 3986 §2.1 percent-decoding of the user and password parts.
std::string percent_decode(std::string_view s, char const* what) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        int const hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
        int const lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            throw std::invalid_argument(std::string("bad %-escape in the proxy ") + what);
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

bool valid_host_name(std::string_view host) {
    return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
    });
}

// An address with an optional prefix length, for NO_PROXY's "192.168.0.0/16".
struct Network {
    int family = 0;
    unsigned char bytes[16] = {};
    int bits = 0;
};

std::optional<Network> parse_network(std::string_view text) {
    std::string address(text);
    int bits = -1;
    if (std::size_t const slash = address.find('/'); slash != std::string::npos) {
        std::string const b = address.substr(slash + 1);
        if (b.empty() || b.size() > 3 ||
            !std::all_of(b.begin(), b.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        bits = std::stoi(b);
        address.resize(slash);
    }
    if (address.size() >= 2 && address.front() == '[' && address.back() == ']')
        address = address.substr(1, address.size() - 2);
    Network n;
    if (::inet_pton(AF_INET, address.c_str(), n.bytes) == 1)
        n.family = AF_INET;
    else if (::inet_pton(AF_INET6, address.c_str(), n.bytes) == 1)
        n.family = AF_INET6;
    else
        return std::nullopt;
    int const max_bits = n.family == AF_INET ? 32 : 128;
    n.bits = bits < 0 ? max_bits : bits;
    if (n.bits > max_bits)
        return std::nullopt;
    return n;
}

bool network_contains(Network const& net, Network const& host) {
    if (net.family != host.family)
        return false;
    int const whole = net.bits / 8;
    if (std::memcmp(net.bytes, host.bytes, static_cast<std::size_t>(whole)) != 0)
        return false;
    int const rest = net.bits % 8;
    if (rest == 0)
        return true;
    unsigned const mask = (0xFFu << (8 - rest)) & 0xFFu;
    return (net.bytes[whole] & mask) == (host.bytes[whole] & mask);
}

} // namespace

std::string_view to_string(ProxyScheme scheme) noexcept {
    switch (scheme) {
    case ProxyScheme::socks5:
        return "socks5";
    case ProxyScheme::socks5h:
        return "socks5h";
    case ProxyScheme::http:
        return "http";
    }
    return "?";
}

std::string ProxySpec::display() const {
    bool const v6 = host.find(':') != std::string::npos;
    return std::string(to_string(scheme)) + "://" + (v6 ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
}

ProxySpec parse_proxy_url(std::string_view url, bool allow_password) {
    ProxySpec spec;
    std::string_view rest = url;
    if (std::size_t const sep = rest.find("://"); sep != std::string_view::npos) {
        std::string const scheme = smtp::to_lower(rest.substr(0, sep));
        if (scheme == "socks5")
            spec.scheme = ProxyScheme::socks5;
        else if (scheme == "socks5h")
            spec.scheme = ProxyScheme::socks5h;
        else if (scheme == "http")
            spec.scheme = ProxyScheme::http;
        else if (scheme == "https" || scheme == "socks4" || scheme == "socks4a")
            throw std::invalid_argument("proxy scheme \"" + scheme +
                                        "\" is not supported (use socks5://, socks5h:// or "
                                        "http://)");
        else
            throw std::invalid_argument("unknown proxy scheme \"" + scheme +
                                        "\" (use socks5://, socks5h:// or http://)");
        rest.remove_prefix(sep + 3);
    } else {
        spec.scheme = ProxyScheme::http; // curl's default
    }
    // A path is allowed only as a lone "/" (curl ignores it); anything else is a mistake.
    if (std::size_t const slash = rest.find('/'); slash != std::string_view::npos) {
        if (slash + 1 != rest.size())
            throw std::invalid_argument("a proxy URL has no path: \"" +
                                        std::string(rest.substr(slash)) + "\"");
        rest = rest.substr(0, slash);
    }
    if (std::size_t const at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view const userinfo = rest.substr(0, at);
        rest.remove_prefix(at + 1);
        std::size_t const colon = userinfo.find(':');
        spec.user = percent_decode(userinfo.substr(0, colon), "user name");
        if (colon != std::string_view::npos) {
            if (!allow_password)
                throw std::invalid_argument(
                    "the proxy URL contains a password; command-line arguments are visible to "
                    "every user of the machine: give it with --proxy-password-env or "
                    "--proxy-password-file");
            spec.password = percent_decode(userinfo.substr(colon + 1), "password");
        }
        if (spec.user.empty())
            throw std::invalid_argument("the proxy URL has an empty user name before '@'");
    }
    if (rest.empty())
        throw std::invalid_argument("the proxy URL has no host");
    HostPort address;
    try {
        address = parse_host_port(rest);
    } catch (std::invalid_argument const& e) {
        throw std::invalid_argument(std::string("the proxy address ") + e.what());
    }
    spec.host = address.host;
    if (address.bracketed) {
        in6_addr v6{};
        if (::inet_pton(AF_INET6, spec.host.c_str(), &v6) != 1)
            throw std::invalid_argument("\"" + spec.host + "\" is not an IPv6 address");
    } else if (!valid_host_name(spec.host)) {
        throw std::invalid_argument("\"" + spec.host + "\" is not a valid proxy host name");
    }
    if (address.port != 0)
        spec.port = address.port;
    if (spec.user.size() > 255 || spec.password.size() > 255)
        throw std::invalid_argument("the proxy user name and password are limited to 255 bytes "
                                    "each (RFC 1929)");
    return spec;
}

bool no_proxy_matches(std::string_view list, std::string_view host_in) {
    std::string host = smtp::to_lower(host_in);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    while (!host.empty() && host.back() == '.')
        host.pop_back();
    std::optional<Network> const host_address = parse_network(host);
    std::size_t pos = 0;
    for (int entries = 0; entries < 10'000 && pos <= list.size(); ++entries) {
        std::size_t end = list.find_first_of(", \t", pos);
        if (end == std::string_view::npos)
            end = list.size();
        std::string entry = smtp::to_lower(list.substr(pos, end - pos));
        pos = end + 1;
        if (entry.empty())
            continue;
        if (entry == "*")
            return true;
        if (host_address) {
            std::optional<Network> const net = parse_network(entry);
            if (net && network_contains(*net, *host_address))
                return true;
            continue;
        }
        if (entry.front() == '.')
            entry.erase(0, 1);
        while (!entry.empty() && entry.back() == '.')
            entry.pop_back();
        if (entry.empty())
            continue;
        if (host == entry)
            return true;
        if (host.size() > entry.size() && host.ends_with(entry) &&
            host[host.size() - entry.size() - 1] == '.')
            return true;
    }
    return false;
}

ProxySetting read_proxy_setting(ProxySources const& sources) {
    ProxySetting setting;
    std::optional<std::string> url = sources.proxy;
    std::string variable;
    if (!url && sources.getenv) {
        for (char const* name : {"all_proxy", "ALL_PROXY"}) {
            std::optional<std::string> value = sources.getenv(name);
            if (value && !value->empty()) {
                url = value;
                variable = name;
                break;
            }
        }
    }
    if (!url || url->empty())
        return setting;
    setting.noproxy = sources.noproxy;
    setting.noproxy_source = "--noproxy";
    if (!setting.noproxy && sources.getenv) {
        for (char const* name : {"no_proxy", "NO_PROXY"}) {
            std::optional<std::string> value = sources.getenv(name);
            if (value && !value->empty()) {
                setting.noproxy = value;
                setting.noproxy_source = name;
                break;
            }
        }
    }
    try {
        setting.proxy = parse_proxy_url(*url, !variable.empty());
    } catch (std::invalid_argument const& e) {
        throw std::invalid_argument((variable.empty() ? "--proxy: " : variable + ": ") + e.what());
    }
    setting.proxy->from_environment = !variable.empty();
    setting.proxy->environment_variable = variable;
    return setting;
}

ProxyChoice choose_proxy(ProxySetting const& setting, std::string_view target_host) {
    ProxyChoice choice;
    if (!setting.proxy)
        return choice;
    if (setting.noproxy && no_proxy_matches(*setting.noproxy, target_host)) {
        choice.bypass_reason = setting.noproxy_source + " matches " + std::string(target_host) +
                               ": not using the proxy " + setting.proxy->display();
        return choice;
    }
    choice.proxy = setting.proxy;
    return choice;
}

ProxyChoice choose_proxy(ProxySources const& sources, std::string_view target_host) {
    return choose_proxy(read_proxy_setting(sources), target_host);
}

} // namespace smtpprobe::net
