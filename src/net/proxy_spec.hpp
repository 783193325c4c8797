#pragma once
// A proxy to reach the server through (issue 12): parsed from a URL as curl spells them, and
// chosen from --proxy / --noproxy or the environment (ALL_PROXY, NO_PROXY) as curl chooses.
// No I/O here: the environment is read through a function the caller passes.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace smtpprobe::net {

enum class ProxyScheme {
    socks5,  ///< SOCKS5, the target's name resolved here and sent as an address
    socks5h, ///< SOCKS5, the name sent to the proxy, which resolves it
    http,    ///< HTTP CONNECT (the proxy resolves the name)
};

std::string_view to_string(ProxyScheme scheme) noexcept;

struct ProxySpec {
    ProxyScheme scheme = ProxyScheme::socks5;
    std::string host; ///< name or address, IPv6 without brackets
    unsigned short port = 1080;
    std::string user;     ///< empty: no authentication
    std::string password; ///< never shown; from --proxy-password-env/-file or the environment
    bool from_environment = false;
    std::string environment_variable; ///< "ALL_PROXY" or "all_proxy" when from_environment

    /// True when the proxy, not smtpprobe, resolves the target's name.
    bool proxy_resolves() const noexcept { return scheme != ProxyScheme::socks5; }
    /// "socks5://host:port" (IPv6 in brackets): what the report shows, never the password.
    std::string display() const;
};

/// Parses "scheme://[user[:password]@]host[:port][/]" (a missing scheme means http://, the
/// port defaults to 1080, as curl's). Schemes: socks5, socks5h, http. A password in the URL is
/// accepted only when `allow_password` (the environment); on the command line it would be in
/// argv for every user of the machine to read. Throws std::invalid_argument with a message
/// that names what is wrong.
ProxySpec parse_proxy_url(std::string_view url, bool allow_password);

/// curl's NO_PROXY rule: a comma (or space) separated list; "*" matches every host; an entry
/// matches the host itself and, for a name, every name under it (a leading '.' is ignored);
/// an IP entry matches that address, or with "/bits" that network. Case-insensitive.
bool no_proxy_matches(std::string_view list, std::string_view host);

/// Where the proxy setting comes from. `proxy`: --proxy (empty string = explicitly none),
/// `noproxy`: --noproxy. `getenv` returns a variable's value or nullopt.
struct ProxySources {
    std::optional<std::string> proxy;
    std::optional<std::string> noproxy;
    std::function<std::optional<std::string>(char const*)> getenv;
};

struct ProxyChoice {
    std::optional<ProxySpec> proxy; ///< nullopt: connect directly
    /// Why there is no proxy although one was set ("NO_PROXY matches mail.example.com"), for
    /// the report; empty otherwise.
    std::string bypass_reason;
};

/// The proxy and the NO_PROXY list once read from their sources, before any target is known:
/// --proxy wins over ALL_PROXY/all_proxy; --noproxy over NO_PROXY/no_proxy; either list applies
/// to the proxy from either source (as in curl). Read once per run, then chosen per target.
struct ProxySetting {
    std::optional<ProxySpec> proxy; ///< nullopt: no proxy at all
    std::optional<std::string> noproxy;
    std::string noproxy_source; ///< "--noproxy", "NO_PROXY" or "no_proxy"
};

/// Reads the sources. Throws std::invalid_argument for a bad URL, naming where it came from.
ProxySetting read_proxy_setting(ProxySources const& sources);

/// The proxy for one target host (NO_PROXY may bypass it). No I/O, no throw.
ProxyChoice choose_proxy(ProxySetting const& setting, std::string_view target_host);

/// read_proxy_setting() then choose_proxy(): for one target.
ProxyChoice choose_proxy(ProxySources const& sources, std::string_view target_host);

} // namespace smtpprobe::net
