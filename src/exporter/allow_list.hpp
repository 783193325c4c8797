#pragma once
// Which targets /probe may connect to. A /probe endpoint that accepts any target is a port
// scanner for whoever reaches it (the blackbox exporter's known concern), so nothing outside
// the allow-list is probed, and an empty list allows nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::exporter {

/// A validated probe target from the URL: a DNS name or an IP literal, and a port.
struct TargetAddress {
    std::string host;       ///< lower case name, or an IP literal without brackets
    unsigned short port{0}; ///< 0: not given (the module's TLS mode picks 587 or 465)
    bool is_ip = false;
    std::string text() const; ///< "host:port", IPv6 in brackets
};

/// Parses "host", "host:port", "[v6]:port" or "v4:port" from a URL parameter. Returns
/// nullopt and sets `why` for anything else: empty, too long (> 261 octets), characters
/// outside a DNS name, a bad port.
std::optional<TargetAddress> parse_target(std::string_view text, std::string& why);

/// One allow rule: a host pattern and a port range.
///   "smtp.example.com:587"   exactly that name
///   "*.example.com:25"       any name below example.com (not example.com itself)
///   "192.0.2.7:465"          that address; "10.0.0.0/8:587" any address in the network
///   "[2001:db8::/32]:587"    IPv6 networks in brackets
///   "host:*" any port, "host:25-587" a range
/// Name patterns match the target's name as given, not the addresses it resolves to; address
/// and network patterns match only IP-literal targets.
struct AllowRule {
    enum class Kind { name, suffix, network } kind = Kind::name;
    std::string pattern; ///< as written, for the status page
    std::string name;    ///< kind name: the name; suffix: ".example.com"
    std::uint8_t address[16]{};
    int family = 0; ///< AF_INET or AF_INET6 for kind network
    int prefix = 0;
    unsigned short port_min = 0, port_max = 0;
};

class AllowList {
public:
    /// Adds "PATTERN:PORTS"; returns false and sets `why` for a malformed pattern.
    bool add(std::string_view text, std::string& why);
    /// The port must be resolved (non-zero) before asking.
    bool allows(TargetAddress const& target) const;
    std::vector<AllowRule> const& rules() const noexcept { return rules_; }
    bool empty() const noexcept { return rules_.empty(); }

private:
    std::vector<AllowRule> rules_;
};

} // namespace smtpprobe::exporter
